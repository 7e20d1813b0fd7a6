//! AWS Signature Version 4 *verification*: the header form (`Authorization: AWS4-HMAC-SHA256
//! Credential=..., SignedHeaders=..., Signature=...`) and the presigned query form
//! (`?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=...`), for the services Rampart serves
//! (DynamoDB, DynamoDB Streams, IAM, STS, KMS...: every AWS service but S3).
//!
//! What it owns: the canonical request, the string to sign, the signing key (and a cache of
//! them), the clock-skew and expiry rules, the constant-time comparison, and the error for each
//! way this fails, with AWS's message text ([`SigV4Error`]).
//!
//! Pure: no I/O, no clock (the caller passes `now`), no async, no global state, no HTTP types.
//! The `front` crate turns its HTTP request into a [`SignedRequest`], then:
//!
//! ```text
//! let auth = sigv4::parse(&req, clock.now(), &Expectations::new(region, "dynamodb"))?;
//! let secret = keys.secret_for(auth.access_key_id())   // else SigV4Error::UnrecognizedClient
//! sigv4::verify_cached(&req, &auth, &secret, &cache)?;
//! // then check auth.session_token() against the key, build the RequestContext...
//! ```
//!
//! Must not depend on any Rampart crate but `core`, on storage, on HTTP crates, on async
//! runtimes, or on AWS SDK crates.
//!
//! INVARIANT: a request is accepted only if [`parse`] found its date within the window, its
//! credential scoped to the expected region and service, `host` signed, and [`verify`] found its
//! signature equal (in constant time) to the one computed from the request and the secret.
//! INVARIANT: nothing here panics, whatever the input (the workspace lints deny `unwrap`,
//! indexing and `panic!`, and a property test feeds arbitrary requests).
//! INVARIANT: no error message or `Debug` output contains a secret, a signing key, a session
//! token or a signature.
//!
//! S3's rules (no path normalization, single encoding, `UNSIGNED-PAYLOAD`, chunked payloads)
//! are deliberately not implemented: no service Rampart serves uses them.

mod canonical;
mod error;
mod parse;
mod time;
mod verify;

pub use error::{
    ExpiresProblem, MissingAuthorizationParts, MissingQueryParameters, ScopeMismatch, SigV4Error,
};
pub use parse::{
    ALGORITHM, Expectations, Header, MAX_CLOCK_SKEW, MAX_EXPIRES, ParsedAuth, SignedRequest, parse,
};
pub use verify::{
    PresignedToken, SigningKeyCache, canonical_request, signature, signing_key, string_to_sign,
    verify, verify_cached,
};
