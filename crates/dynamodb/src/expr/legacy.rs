//! The legacy (pre-expression) request parameters, converted to the expression ASTs.
