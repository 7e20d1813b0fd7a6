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

pub mod authz;
pub mod keys;
pub mod seal;

pub use authz::{Decision, Outcome, authorize};
pub use keys::{AccessKeyRecord, Credential, KeyStore, KeyStoreError};
pub use seal::{SealError, Sealer};
