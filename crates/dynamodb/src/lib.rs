//! DynamoDB (placeholder).
