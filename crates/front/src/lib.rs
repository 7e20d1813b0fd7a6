//! Rampart's HTTP front: the listener, routing of AWS service calls, the one
//! request pipeline (origin → route → SigV4 → context → authorization →
//! handler → response), and the only table of AWS error codes.
//!
//! The only crate that depends on HTTP crates. Domain crates see a
//! `&RequestContext` and typed input, never headers.
//! INVARIANT: every response to a service call carries `x-amzn-RequestId`.
//! INVARIANT: no request reaches a handler without a verified signature and an
//! `Allow` decision for every action it needs.

mod error;
mod listener;
mod pipeline;
mod query;
mod route;
mod wire;

pub use error::ApiError;
pub use listener::{BoundListener, ServeError, serve};
pub use pipeline::App;
pub use route::Service;
