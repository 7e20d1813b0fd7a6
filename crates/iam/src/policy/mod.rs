//! The IAM policy language and its evaluation kernel: policy documents to a compiled
//! [`Policy`] (validated as AWS validates them, with AWS's `MalformedPolicyDocument` texts),
//! and a [`Request`] against the [`Layers`] of policies that apply to it to a [`Decision`]
//! that explains itself (which policy type decided, which statements applied, what could not be
//! evaluated), with AWS's `AccessDenied` wording.
//!
//! ```text
//! let table_policy = Policy::parse(doc, PolicyKind::Resource)?;      // once, when stored
//! let decision = evaluate(&request, &Layers { identity, resource: Some(..), .. });
//! if !decision.is_allowed() {
//!     let msg = decision.access_denied_message(&principal.arn, &action, &resource);
//! }
//! ```
//!
//! What it owns: the grammar and validation of policy documents per [`PolicyKind`]
//! (`parse.rs`), wildcard and variable matching (`pattern.rs`), the condition operators
//! (`condition.rs`), ISO 8601 dates (`time.rs`), the request context (`context.rs`) and the
//! combining rule of AWS's "Policy evaluation logic" (`eval.rs`).
//!
//! Must not depend on storage, on the front end, on HTTP crates, or on anything async. The
//! caller fetches the policies and fills the condition keys; the kernel decides.
//!
//! INVARIANT: pure: no I/O, no clock (`aws:CurrentTime` and `aws:EpochTime` arrive in the
//! [`Context`]), no global state, no `async`.
//! INVARIANT: an explicit `Deny` that applies, in any layer, gives [`Outcome::ExplicitDeny`];
//! adding a `Deny` statement never turns a denial into an allow; the order of statements does
//! not change the outcome (property tests in `tests/policy_props.rs`).
//! INVARIANT: nothing here panics, whatever the document or the request (workspace lints deny
//! `unwrap`, `expect`, `panic!` and indexing outside tests).
//! INVARIANT: where AWS's behaviour is undocumented, the choice made fails closed and says so
//! where it is made.

mod ast;
mod condition;
mod context;
mod eval;
mod json;
mod parse;
mod pattern;
mod time;

pub use ast::{Effect, Policy, PolicyKind, Statement, Version};
pub use context::{Context, ContextValue, Principal, PrincipalKind, Request};
pub use eval::{
    DecidedBy, Decision, EvalError, EvalErrorKind, Layers, Outcome, PolicyRef, PolicyType,
    StatementRef, evaluate,
};
pub use parse::{PolicyError, SizeRule, policy_size};
