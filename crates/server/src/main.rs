//! rampart binary (placeholder).
fn main() {}
