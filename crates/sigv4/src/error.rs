//! [`SigV4Error`]: every way a SigV4 check fails, each with AWS's own message text.
//!
//! Where the texts come from. AWS documents the error *codes* but few of the messages, so each
//! message below cites where it was seen coming back from AWS:
//! - `dynalite` (mhart/dynalite, `index.js`): comments that record DynamoDB's actual responses, in
//!   the order DynamoDB checks them (cited below as "dynalite").
//! - GitHub issues quoting AWS responses verbatim (cited by repository and number).
//! - Current AWS front ends no longer echo the `Authorization` header in messages: they print its
//!   SHA-256 in Base64 instead (seen in 2025/2026 responses quoted in
//!   awslabs/time-addressable-media-store#8 and reproduced in versity/versitygw's IAM error table).
//!   We follow the current form: it also keeps the client's signature out of our messages and logs.
//!
//! INVARIANT: no message contains a secret, a signing key, the signature we computed, or the
//! signature the client sent (the `Authorization` header appears only as a SHA-256 digest).
//! Access key ids appear only where AWS echoes the client's own credential back to it.

use std::fmt;

use crate::time::Iso;

/// Why a request failed SigV4 authentication.
///
/// The `front` crate maps each variant to an AWS error type and HTTP status; each variant's doc
/// names the type DynamoDB uses (query-protocol services such as IAM and STS use the same codes
/// without the `Exception` suffix, and `SignatureDoesNotMatch` for `InvalidSignatureException`).
/// `Display` is AWS's message text, byte for byte where a source shows it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// `MissingAuthenticationTokenException`: neither an `Authorization` header nor the
    /// `X-Amz-Algorithm` query parameter, or an `Authorization` header that does not start with
    /// `AWS4-` (SigV2, bearer tokens...). Text: dynalite.
    #[error("Request is missing Authentication Token")]
    MissingAuthenticationToken,

    /// `InvalidSignatureException`: both an `Authorization` header and presigned query
    /// parameters. Text: dynalite.
    #[error(
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
    )]
    AmbiguousAuthentication,

    /// `IncompleteSignatureException`: a component of the `Authorization` header has no `=`.
    /// Text: the current hashed form, awslabs/time-addressable-media-store#8 (older services
    /// echoed the header: "'x' not a valid key=value pair (missing equal-sign) in Authorization
    /// header: '...'.", awslabs/fhir-works-on-aws-deployment#379 for DynamoDB).
    #[error(
        "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '{authorization_sha256}'."
    )]
    MalformedAuthorization {
        /// Base64 of the SHA-256 of the `Authorization` header value, as AWS prints it.
        authorization_sha256: String,
    },

    /// `IncompleteSignatureException`: the `Authorization` header lacks `Credential`,
    /// `Signature` or `SignedHeaders`, or the request has neither `X-Amz-Date` nor `Date`.
    /// Text: one sentence per missing part as recorded by dynalite (SDK users quote the same in
    /// bKash-developer/webhook-endpoint-php#3), then the hashed header as versity/versitygw prints it.
    #[error(
        "{missing} (Hashed with SHA-256 and encoded with Base64) Authorization={authorization_sha256}"
    )]
    IncompleteAuthorization {
        /// Which parts are missing.
        missing: MissingAuthorizationParts,
        /// Base64 of the SHA-256 of the `Authorization` header value.
        authorization_sha256: String,
    },

    /// `IncompleteSignatureException`: a presigned request lacks one of its `X-Amz-*` query
    /// parameters (or has it empty). Text: dynalite.
    #[error("{0}Re-examine the query-string parameters.")]
    IncompleteQueryParameters(MissingQueryParameters),

    /// `IncompleteSignatureException`: `X-Amz-Date` (or `Date`) is not `YYYYMMDD'T'HHMMSS'Z'`.
    /// Text: dynalite.
    #[error(
        "Date must be in ISO-8601 'basic format'. Got '{0}'. See http://en.wikipedia.org/wiki/ISO_8601"
    )]
    MalformedDate(String),

    /// `IncompleteSignatureException` (S3 calls it `AuthorizationQueryParametersError`):
    /// `X-Amz-Expires` is not an integer in `0..=604800`. AWS's non-S3 services ignore the
    /// parameter, so the texts are S3's (as reproduced by MinIO and OpenStack Swift's s3api;
    /// the week one is quoted from S3 in bryanjos/aws_auth#31).
    #[error("{0}")]
    MalformedExpires(ExpiresProblem),

    /// `InvalidSignatureException`: the request is dated before the validity window:
    /// more than 15 minutes ago, or (presigned) older than its `X-Amz-Expires`.
    /// Text: "Signature expired: 20140325T143453Z is now earlier than 20140325T143751Z
    /// (20140325T145251Z - 15 min.)" from DynamoDB in aws/aws-sdk-js#254; dynalite too.
    #[error(
        "Signature expired: {} is now earlier than {} ({} - {}.)",
        Iso(*.signed_at), Iso(.now.saturating_sub(i64::from(*.window_seconds))), Iso(*.now),
        Window(*.window_seconds)
    )]
    SignatureExpired {
        /// The request's date, in seconds since the Unix epoch.
        signed_at: i64,
        /// The server's time, in seconds since the Unix epoch.
        now: i64,
        /// How far back a request may be dated, in seconds (900 for the 15-minute rule).
        window_seconds: u32,
    },

    /// `InvalidSignatureException`: the request is dated more than 15 minutes in the future.
    /// Text: "Signature not yet current: 20181120T211543Z is still later than 20181120T211529Z
    /// (20181120T211029Z + 5 min.)" in serverless/enterprise#11 (a 5-minute service; DynamoDB
    /// uses 15, as recorded in scratchstack-aws-signature's `SignatureError` docs).
    #[error(
        "Signature not yet current: {} is still later than {} ({} + {}.)",
        Iso(*.signed_at), Iso(.now.saturating_add(i64::from(*.window_seconds))), Iso(*.now),
        Window(*.window_seconds)
    )]
    SignatureNotYetCurrent {
        /// The request's date, in seconds since the Unix epoch.
        signed_at: i64,
        /// The server's time, in seconds since the Unix epoch.
        now: i64,
        /// How far ahead a request may be dated, in seconds (900).
        window_seconds: u32,
    },

    /// `InvalidSignatureException`: `host` is not among the signed headers (AWS requires it).
    /// Text: scratchstack-aws-signature and versity/versitygw (dynalite's 2013 text was
    /// "'Host' must be a 'SignedHeader' in the AWS Authorization.").
    #[error("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")]
    HostNotSigned,

    /// `IncompleteSignatureException`: a header named in `SignedHeaders` is not in the request.
    /// Text: awslabs/aws-mobile-appsync-sdk-js#702.
    #[error("'{0}' is named as a SignedHeader, but it does not exist in the HTTP request.")]
    SignedHeaderMissing(String),

    /// `IncompleteSignatureException`: an algorithm other than `AWS4-HMAC-SHA256` (for example
    /// SigV4a's `AWS4-ECDSA-P256-SHA256`). Text (trailing space included): dynalite.
    #[error("Unsupported AWS 'algorithm': '{0}' (only AWS4-HMAC-SHA256 for now). ")]
    UnsupportedAlgorithm(String),

    /// `IncompleteSignatureException`: the credential is not `keyid/date/region/service/term`.
    /// Trailing slashes are ignored, as AWS does. Text: dynalite; mhart/aws4#97.
    #[error(
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{0}'"
    )]
    MalformedCredential(String),

    /// `InvalidSignatureException`: the credential scope names another region or service, a
    /// terminator other than `aws4_request`, or a date other than the request's. AWS reports
    /// every wrong part at once. Text: dynalite; single forms with their trailing space in
    /// cognitect-labs/aws-api#27 (region) and arnemolland/sigv4#15 (service, DynamoDB).
    #[error("{0}")]
    CredentialScopeMismatch(Box<ScopeMismatch>),

    /// `UnrecognizedClientException` (`InvalidClientTokenId` for query services): the access
    /// key id is unknown. Raised by the caller between [`parse`](crate::parse) and
    /// [`verify`](crate::verify); this crate never returns it. Text: dynalite.
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,

    /// `UnrecognizedClientException`: the session token (`X-Amz-Security-Token`) is not valid
    /// for the access key. Raised by the caller; this crate never returns it. Text (no final
    /// period): dynalite.
    #[error("The security token included in the request is invalid")]
    InvalidSecurityToken,

    /// `InvalidSignatureException`: the signature is not the one computed from the request and
    /// the secret. Text: dynalite; com.amazon.coral.service#InvalidSignatureException in
    /// ttsuruoka/php-simple-amazon-dynamodb#1. (AWS once appended the expected canonical request
    /// and string-to-sign; current DynamoDB does not, and we never do.)
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    SignatureDoesNotMatch,

    /// `InvalidSignatureException`, same text as [`SigV4Error::SignatureDoesNotMatch`]: the
    /// request declares an `x-amz-content-sha256` that is not the SHA-256 of its body, including
    /// `UNSIGNED-PAYLOAD` and the `STREAMING-*` forms, which only S3 accepts. AWS's other services
    /// hash the body themselves, so such a request simply fails its signature there; the separate
    /// variant only tells the audit trail why.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    PayloadHashMismatch,
}

/// The parts missing from an `Authorization` header (see [`SigV4Error::IncompleteAuthorization`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MissingAuthorizationParts {
    /// No (or an empty) `Credential=` component.
    pub credential: bool,
    /// No (or an empty) `Signature=` component.
    pub signature: bool,
    /// No `SignedHeaders=` component (an empty one is present, and fails later).
    pub signed_headers: bool,
    /// Neither an `X-Amz-Date` nor a `Date` header.
    pub date: bool,
}

impl MissingAuthorizationParts {
    /// Whether anything is missing.
    pub fn any(&self) -> bool {
        self.credential || self.signature || self.signed_headers || self.date
    }
}

impl fmt::Display for MissingAuthorizationParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sentences = Vec::with_capacity(4);
        for (missing, name) in [
            (self.credential, "Credential"),
            (self.signature, "Signature"),
            (self.signed_headers, "SignedHeaders"),
        ] {
            if missing {
                sentences.push(format!("Authorization header requires '{name}' parameter."));
            }
        }
        if self.date {
            sentences.push(String::from(
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
            ));
        }
        f.write_str(&sentences.join(" "))
    }
}

/// The presigned query parameters missing or empty (see [`SigV4Error::IncompleteQueryParameters`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MissingQueryParameters {
    /// `X-Amz-Algorithm` is empty.
    pub algorithm: bool,
    /// `X-Amz-Credential` is missing or empty.
    pub credential: bool,
    /// `X-Amz-Signature` is missing or empty.
    pub signature: bool,
    /// `X-Amz-SignedHeaders` is missing or empty.
    pub signed_headers: bool,
    /// `X-Amz-Date` is missing or empty.
    pub date: bool,
}

impl MissingQueryParameters {
    /// Whether anything is missing.
    pub fn any(&self) -> bool {
        self.algorithm || self.credential || self.signature || self.signed_headers || self.date
    }
}

impl fmt::Display for MissingQueryParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Each sentence ends with ". ", so the Display of the variant appends the last one.
        for (missing, name) in [
            (self.algorithm, "X-Amz-Algorithm"),
            (self.credential, "X-Amz-Credential"),
            (self.signature, "X-Amz-Signature"),
            (self.signed_headers, "X-Amz-SignedHeaders"),
            (self.date, "X-Amz-Date"),
        ] {
            if missing {
                write!(f, "AWS query-string parameters must include '{name}'. ")?;
            }
        }
        Ok(())
    }
}

/// What is wrong with `X-Amz-Expires` (see [`SigV4Error::MalformedExpires`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiresProblem {
    /// Not an integer.
    NotANumber,
    /// Below zero.
    Negative,
    /// Above 604800 seconds (seven days): a signing key is only valid that long.
    MoreThanAWeek,
}

impl fmt::Display for ExpiresProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotANumber => "X-Amz-Expires should be a number",
            Self::Negative => "X-Amz-Expires must be non-negative",
            Self::MoreThanAWeek => {
                "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds"
            }
        })
    }
}

/// The wrong parts of a credential scope (see [`SigV4Error::CredentialScopeMismatch`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeMismatch {
    /// The region the credential named, when it is not the expected one.
    pub region: Option<String>,
    /// The service the credential should have named (AWS prints the expected one, not the
    /// one sent), when the credential named another.
    pub service: Option<String>,
    /// The terminator the credential ended with, when it is not `aws4_request`.
    pub terminator: Option<String>,
    /// When the credential's date is not the request's: (credential date, request date
    /// `YYYYMMDD`, request timestamp `YYYYMMDD'T'HHMMSS'Z'`).
    pub date: Option<(String, String, String)>,
}

impl ScopeMismatch {
    /// Whether any part is wrong.
    pub fn any(&self) -> bool {
        self.region.is_some()
            || self.service.is_some()
            || self.terminator.is_some()
            || self.date.is_some()
    }
}

impl fmt::Display for ScopeMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // AWS ends every sentence with ". " (the trailing space shows when one part is wrong).
        // DynamoDB does not name the region it got: "Credential should be scoped to a valid
        // region. " (measured on DynamoDB in 2026 by a dual-target test suite; other services
        // add ", not 'ap-southeast-2'").
        if self.region.is_some() {
            f.write_str("Credential should be scoped to a valid region. ")?;
        }
        if let Some(service) = &self.service {
            write!(
                f,
                "Credential should be scoped to correct service: '{service}'. "
            )?;
        }
        if let Some(terminator) = &self.terminator {
            write!(
                f,
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
            )?;
        }
        if let Some((scope_date, request_date, request_time)) = &self.date {
            write!(
                f,
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{request_date}', from '{request_time}'. "
            )?;
        }
        Ok(())
    }
}

/// A validity window as AWS prints it: "15 min" (our windows that are not whole minutes, which
/// only a short `X-Amz-Expires` produces, print as seconds: AWS has no text for those).
struct Window(u32);

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(60) {
            write!(f, "{} min", self.0 / 60)
        } else {
            write!(f, "{} sec", self.0)
        }
    }
}
