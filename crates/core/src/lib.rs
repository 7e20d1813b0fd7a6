//! Shared vocabulary of Rampart: account ids, regions, request ids, the one
//! [`RequestContext`] every layer reads, the [`Clock`] and [`IdSource`] that make
//! time and randomness inputs, and [`Secret`] for key material.
//!
//! Must not depend on any other Rampart crate, on storage, or on HTTP crates.
//! INVARIANT: nothing here reads the wall clock or the OS random source except
//! [`SystemClock`] and [`OsRandom`], which only the composition root constructs.

mod clock;
mod context;
mod ids;
mod secret;

pub use clock::{Clock, FixedClock, SystemClock, civil, epoch_seconds, iso8601};
pub use context::{NetworkOrigin, Principal, PrincipalKind, RequestContext, SessionInfo, TlsInfo};
pub use ids::{AccountId, IdSource, InvalidAccountId, OsRandom, Region, RequestId, SeededIds};
pub use secret::Secret;
