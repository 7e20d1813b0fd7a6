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
pub mod policy;
pub mod mfa;
pub mod orgs;
pub mod seal;
pub mod store;
pub mod sts;

pub use authz::{Decision, Outcome, authorize};
pub use keys::{AccessKeyRecord, Credential, KeyStore, KeyStoreError};
pub use seal::{SealError, Sealer};

/// Checks that a policy document is one IAM would accept for `use_`.
///
/// Until the policy kernel lands this checks the JSON and the required
/// top-level shape only.
pub fn validate_policy(doc: &str, use_: api::DocUse) -> Result<(), error::IamError> {
    let _ = use_;
    let v: serde_json::Value = serde_json::from_str(doc)
        .map_err(|_| error::IamError::MalformedPolicyDocument("Syntax errors in policy.".into()))?;
    if v.get("Statement").is_none() {
        return Err(error::IamError::MalformedPolicyDocument(
            "Syntax errors in policy.".into(),
        ));
    }
    Ok(())
}
