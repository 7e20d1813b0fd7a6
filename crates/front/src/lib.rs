//! front (placeholder).
