//! Identities, access keys and authorization.
//!
//! Owns: the account and its root user, access keys (secrets sealed under the
//! server's root key, never stored in plain text), and the authorization hook
//! every request passes through ([`authz::authorize`]).
//! Must not depend on `front`, HTTP crates or a storage backend; persistence goes
//! through `rampart_storage::Engine`.
//! INVARIANT: a secret access key is only ever stored sealed ([`seal::Sealer`])
//! and only ever leaves this crate inside a `Secret`.
//! INVARIANT: [`authz::authorize`] is pure: no I/O, no clock, no async.

pub mod api;
pub mod authz;
pub mod error;
pub mod keys;
pub mod mfa;
pub mod oidc;
pub mod orgs;
pub mod policy;
pub mod seal;
pub mod simulate;
pub mod store;
pub mod sts;

pub use authz::{Authorizer, AuthzDecision, AuthzInput, LazyKeys};
pub use keys::{AccessKeyRecord, Credential, KeyStore, KeyStoreError};
pub use policy::Outcome;
pub use seal::{SealError, Sealer};

/// Checks that a policy document is one IAM would accept for `use_`, with
/// IAM's `MalformedPolicyDocument` texts.
pub fn validate_policy(doc: &str, use_: api::DocUse) -> Result<(), error::IamError> {
    let kind = match use_ {
        api::DocUse::Trust => policy::PolicyKind::Trust,
        api::DocUse::Managed
        | api::DocUse::InlineUser
        | api::DocUse::InlineGroup
        | api::DocUse::InlineRole => policy::PolicyKind::Identity,
    };
    policy::Policy::parse(doc, kind)
        .map(|_| ())
        .map_err(|e| error::IamError::MalformedPolicyDocument(e.to_string()))
}
