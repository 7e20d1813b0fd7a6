//! embedded (placeholder).
