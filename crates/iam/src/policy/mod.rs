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
//! (`condition.rs`), ISO 8601 dates (`time.rs`), the request context (`context.rs`), the
//! per-evaluation memo of request values (`slot.rs`) and the combining rule of AWS's "Policy
//! evaluation logic" (`eval.rs`).
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
//!
//! The choices made where AWS's documentation is silent or ambiguous (each is commented where
//! it is implemented):
//! - a JSON object with a duplicate key is a syntax error (`json.rs`);
//! - an empty list of condition values is a syntax error (`parse.rs`);
//! - a condition value (policy or request) its operator cannot read is an evaluation error:
//!   the statement applies if it is a `Deny`, not if it is an `Allow` (`eval.rs`);
//! - an unresolved policy variable makes the statement invalid whatever its effect, as AWS
//!   documents, when its value is needed: always in `Resource`, in a condition only when a
//!   value is compared (an absent key under `...IfExists` decides without it, which is how AWS
//!   advises avoiding invalid statements); it is reported in [`Decision::errors`];
//! - an operator without qualifier on a multivalued key: positive operators need one matching
//!   request value, negated ones are their exact negation (`condition.rs`);
//! - `NotPrincipal`: a `Deny` exempts a caller only if its whole chain (session, role,
//!   account) is listed; an `Allow` applies only if none is, and grants no more than a
//!   role-level grant (`eval.rs`);
//! - a `Resource` or `Arn*` pattern with fewer than six parts matches its last part against the
//!   rest of the ARN (`pattern.rs`);
//! - the VPC endpoint policy is checked right after the SCPs; a deny found in several layers is
//!   reported for the first of: SCP, endpoint, resource-based, identity-based, boundary,
//!   session.
//!
//! Cost: policies are compiled once (actions lowercased into literal/prefix/glob matchers,
//! ARN patterns split into parts with their literal head joined, condition values typed, each
//! policy's condition keys and variables numbered, conditions repeated across statements
//! numbered too); an evaluation splits the resource ARN once, looks each key up once per
//! policy, parses a request value (IP, date, number, binary) at most once per policy
//! (`slot.rs`), decides a repeated condition once per policy, and resolves variables in
//! place: patterns with variables are compared piece by piece or globbed from a stack
//! buffer, not built. It allocates the lowercased action, one table of keys per policy (and
//! one of repeated conditions' answers, if any), the principal's identities when a
//! `Principal` is matched, and its explanation. `benches/policy_eval.rs` measures it.

mod ast;
mod condition;
mod context;
mod eval;
mod json;
mod parse;
mod pattern;
mod slot;
mod time;

pub use ast::{Effect, Policy, PolicyKind, Statement, Version};
pub use context::{Context, ContextValue, Principal, PrincipalKind, Request};
pub(crate) use context::{Key, Wanted, epoch_time, global, iso_time, principal_keys};
pub use eval::{
    DecidedBy, Decision, EvalError, EvalErrorKind, Layers, Outcome, PolicyRef, PolicyType,
    StatementRef, evaluate,
};
pub use parse::{PolicyError, SizeRule, policy_size};
