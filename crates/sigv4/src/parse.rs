//! Phase one: read the request's authentication parameters and check everything that needs no
//! secret, in the order DynamoDB checks them (recorded by dynalite, `index.js`):
//!
//! 1. both forms at once, then no authentication at all;
//! 2. header form: every component is `key=value`; `Credential`, `Signature`, `SignedHeaders`
//!    and a date header are all there. Query form: every `X-Amz-*` parameter is there;
//! 3. the date's format (and, presigned, `X-Amz-Expires`'s), then the clock;
//! 4. `host` is signed (and, ours, every signed header is present);
//! 5. the algorithm; the credential's shape; the credential's scope.
//!
//! Only then does the caller look the access key up (`UnrecognizedClientException` when it is
//! unknown) and call [`verify`](crate::verify). Checking the clock and the scope before the
//! lookup also spares the key store every stale, replayed or misdirected request.

use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::canonical::{decode_query_component, query_pairs};
use crate::error::{
    ExpiresProblem, MissingAuthorizationParts, MissingQueryParameters, ScopeMismatch, SigV4Error,
};
use crate::time::{epoch_seconds, parse_amz_date, system_time};

/// The only algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// How far a request's date may be from the server's clock, either way: 15 minutes, as
/// DynamoDB enforces ("... - 15 min." in its `Signature expired` message).
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(900);

/// The longest `X-Amz-Expires` AWS accepts: seven days, the life of a signing key.
pub const MAX_EXPIRES: Duration = Duration::from_secs(604_800);

const SKEW_SECS: u32 = 900;
const MAX_EXPIRES_SECS: u32 = 604_800;

/// One header of a request: its name (any case) and its value, as received.
///
/// Implemented for owned `(String, String)` pairs and for borrowed `(&str, &str)` and
/// `(&str, Cow<str>)` pairs, so a server can hand its HTTP library's headers over without
/// copying them.
pub trait Header {
    /// The name, in any case.
    fn name(&self) -> &str;
    /// The value, as received.
    fn value(&self) -> &str;
}

impl Header for (String, String) {
    fn name(&self) -> &str {
        &self.0
    }
    fn value(&self) -> &str {
        &self.1
    }
}

impl Header for (&str, &str) {
    fn name(&self) -> &str {
        self.0
    }
    fn value(&self) -> &str {
        self.1
    }
}

impl Header for (&str, std::borrow::Cow<'_, str>) {
    fn name(&self) -> &str {
        self.0
    }
    fn value(&self) -> &str {
        &self.1
    }
}

/// An HTTP request as far as SigV4 is concerned. The caller (the `front` crate) fills it from
/// whatever HTTP types it uses; nothing here is normalised beforehand.
#[derive(Debug)]
pub struct SignedRequest<'a, H: Header = (String, String)> {
    /// The method as received (`GET`, `POST`...).
    pub method: &'a str,
    /// The path as received on the wire: percent-encoded, without the query.
    pub path: &'a str,
    /// The raw query string, without the `?`; empty when there is none.
    pub query: &'a str,
    /// Every header as received, in order; names in any case, names may repeat.
    pub headers: &'a [H],
    /// The whole body.
    pub body: &'a [u8],
}

// Every field is a reference: copyable whatever `H` is (a derive would ask `H: Copy`).
impl<H: Header> Clone for SignedRequest<'_, H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<H: Header> Copy for SignedRequest<'_, H> {}

/// What the request must be scoped to, and the server's presigning policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expectations<'a> {
    /// The region the credential scope must name (`us-east-1` for IAM, which is global).
    pub region: &'a str,
    /// The signing name the credential scope must name: `dynamodb` (for DynamoDB Streams too),
    /// `iam`, `sts`, `kms`...
    pub service: &'a str,
    /// The longest a presigned request stays valid after its `X-Amz-Date`, whatever its
    /// `X-Amz-Expires` says. Defaults to [`MAX_CLOCK_SKEW`]: AWS's services other than S3 honour
    /// presigned requests only within the 15-minute clock skew and ignore a longer
    /// `X-Amz-Expires` (aws/aws-sdk-go#2167 for STS, #2304 for IoT). Raise it (up to
    /// [`MAX_EXPIRES`]) to get S3's rule, where `X-Amz-Expires` alone decides.
    pub max_presigned_lifetime: Duration,
}

impl<'a> Expectations<'a> {
    /// Expect `region` and `service`, with AWS's presigning rule.
    pub const fn new(region: &'a str, service: &'a str) -> Self {
        Self {
            region,
            service,
            max_presigned_lifetime: MAX_CLOCK_SKEW,
        }
    }

    /// The same expectations with another presigned-lifetime cap (see
    /// [`Expectations::max_presigned_lifetime`]).
    pub const fn with_max_presigned_lifetime(self, lifetime: Duration) -> Self {
        Self {
            max_presigned_lifetime: lifetime,
            ..self
        }
    }
}

/// The authentication parameters of a request that passed every check needing no secret.
///
/// Only [`parse`] makes one, so holding one proves the date, the clock and the credential
/// scope were checked against the [`Expectations`]. The signature and session token are kept
/// out of `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedAuth {
    /// `AKID/YYYYMMDD/region/service/aws4_request`, trailing slashes removed.
    credential: String,
    access_key_id: String,
    /// `YYYYMMDD/region/service/aws4_request`.
    scope: String,
    region: String,
    service: String,
    /// The request's date exactly as sent, `YYYYMMDD'T'HHMMSS'Z'`.
    amz_date: String,
    /// The same, in seconds since the Unix epoch.
    signed_at: i64,
    signed_headers: Vec<String>,
    /// The signature as sent (checked to be 64 lower-case hex digits only by `verify`).
    signature: String,
    session_token: Option<String>,
    presigned: bool,
    expires: Option<u32>,
}

impl ParsedAuth {
    /// The access key id the caller looks the secret up by.
    pub fn access_key_id(&self) -> &str {
        &self.access_key_id
    }

    /// The credential scope, `YYYYMMDD/region/service/aws4_request`.
    pub fn credential_scope(&self) -> &str {
        &self.scope
    }

    /// The scope's date, `YYYYMMDD` (always the request's date).
    pub fn scope_date(&self) -> &str {
        self.amz_date.get(..8).unwrap_or_default()
    }

    /// The scope's region (always the expected one).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The scope's service (always the expected one).
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The request's `X-Amz-Date` (or `Date`), `YYYYMMDD'T'HHMMSS'Z'`.
    pub fn amz_date(&self) -> &str {
        &self.amz_date
    }

    /// The request's date as a time.
    pub fn signed_at(&self) -> SystemTime {
        system_time(self.signed_at)
    }

    /// The signed header names, as the client listed them.
    pub fn signed_headers(&self) -> &[String] {
        &self.signed_headers
    }

    /// The session token (`X-Amz-Security-Token` header, or query parameter when presigned).
    /// The caller must check it belongs to the access key: it need not be signed (AWS's
    /// `post-sts-header-after` vector adds it after signing).
    pub fn session_token(&self) -> Option<&str> {
        self.session_token.as_deref()
    }

    /// Whether the request was presigned (authentication in the query string).
    pub fn is_presigned(&self) -> bool {
        self.presigned
    }

    /// `X-Amz-Expires` in seconds, when presigned and present.
    pub fn expires(&self) -> Option<u32> {
        self.expires
    }

    pub(crate) fn credential(&self) -> &str {
        &self.credential
    }

    pub(crate) fn signature(&self) -> &str {
        &self.signature
    }
}

impl fmt::Debug for ParsedAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedAuth")
            .field("access_key_id", &self.access_key_id)
            .field("scope", &self.scope)
            .field("amz_date", &self.amz_date)
            .field("signed_headers", &self.signed_headers)
            .field("signature", &"[redacted]")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "[redacted]"),
            )
            .field("presigned", &self.presigned)
            .field("expires", &self.expires)
            .finish()
    }
}

/// Reads and checks the request's SigV4 parameters (header form `Authorization:
/// AWS4-HMAC-SHA256 ...` or presigned form `?X-Amz-Algorithm=...`), everything but the
/// signature itself: see the module doc for the order. `now` is the server's clock.
pub fn parse<H: crate::Header>(
    req: &SignedRequest<'_, H>,
    now: SystemTime,
    expected: &Expectations<'_>,
) -> Result<ParsedAuth, SigV4Error> {
    let authorization = first_header(req.headers, "authorization");
    let query = QueryAuth::read(req.query);
    match (authorization, query.algorithm.is_some()) {
        (Some(_), true) => Err(SigV4Error::AmbiguousAuthentication),
        (None, false) => Err(SigV4Error::MissingAuthenticationToken),
        (Some(header), false) => parse_header_form(req, header, now, expected),
        (None, true) => parse_query_form(req, query, now, expected),
    }
}

/// The first value of header `name` (any case).
pub(crate) fn first_header<'r, H: Header>(headers: &'r [H], name: &str) -> Option<&'r str> {
    headers
        .iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))
        .map(Header::value)
}

fn hashed(header: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(header.as_bytes()))
}

fn parse_header_form<H: crate::Header>(
    req: &SignedRequest<'_, H>,
    raw: &str,
    now: SystemTime,
    expected: &Expectations<'_>,
) -> Result<ParsedAuth, SigV4Error> {
    let header = raw.trim_matches(|c: char| c.is_ascii_whitespace());
    // DynamoDB answers anything that is not SigV4 (SigV2's "AWS key:sig", bearer tokens) as
    // if there were no authentication at all (dynalite).
    if !header.starts_with("AWS4-") {
        return Err(SigV4Error::MissingAuthenticationToken);
    }
    // AWS splits the components on commas *and* spaces: "Credential=AKID /2021..." fails with
    // "'/2021...' not a valid key=value pair" (awslabs/fhir-works-on-aws-deployment#379).
    let mut tokens = header
        .split(|c: char| c == ',' || c.is_ascii_whitespace())
        .filter(|t| !t.is_empty());
    let algorithm = tokens.next().unwrap_or_default();
    let (mut credential, mut signature, mut signed_headers) = (None, None, None);
    for token in tokens {
        let Some((key, value)) = token.split_once('=') else {
            return Err(SigV4Error::MalformedAuthorization {
                authorization_sha256: hashed(raw),
            });
        };
        // A repeated component: the last one wins (scratchstack-aws-signature, rule 6c).
        match key {
            "Credential" => credential = Some(value),
            "Signature" => signature = Some(value),
            "SignedHeaders" => signed_headers = Some(value),
            _ => {}
        }
    }
    // The date is X-Amz-Date, else Date; either way in ISO 8601 basic format (SigV4 docs), so
    // an HTTP-style `Date: Sun, 30 Aug 2015 12:36:00 GMT` is refused as malformed.
    let date =
        first_header(req.headers, "x-amz-date").or_else(|| first_header(req.headers, "date"));
    let missing = MissingAuthorizationParts {
        credential: credential.is_none_or(str::is_empty),
        signature: signature.is_none_or(str::is_empty),
        // An empty SignedHeaders is accepted here and fails the `host` check (dynalite).
        signed_headers: signed_headers.is_none(),
        date: date.is_none(),
    };
    if missing.any() {
        return Err(SigV4Error::IncompleteAuthorization {
            missing,
            authorization_sha256: hashed(raw),
        });
    }
    let fields = Fields {
        algorithm,
        credential: credential.unwrap_or_default(),
        signature: signature.unwrap_or_default(),
        signed_headers: signed_headers.unwrap_or_default(),
        date: date.unwrap_or_default().trim(),
        session_token: first_header(req.headers, "x-amz-security-token")
            .map(|t| t.trim().to_owned()),
    };
    let signed_at = check_date(fields.date)?;
    check_clock(signed_at, epoch_seconds(now), SKEW_SECS)?;
    finish(req, fields, signed_at, Form::Header, expected)
}

/// The presigned parameters of a query string, decoded; the first occurrence of each wins
/// (scratchstack-aws-signature, rule 7c).
#[derive(Default)]
struct QueryAuth {
    algorithm: Option<String>,
    credential: Option<String>,
    signature: Option<String>,
    signed_headers: Option<String>,
    date: Option<String>,
    expires: Option<String>,
    security_token: Option<String>,
}

impl QueryAuth {
    fn read(query: &str) -> Self {
        let mut found = Self::default();
        if !query.contains("X-Amz-") && !query.contains('%') {
            return found;
        }
        for (k, v) in query_pairs(query) {
            let key = decode_query_component(k);
            let slot = match key.as_slice() {
                b"X-Amz-Algorithm" => &mut found.algorithm,
                b"X-Amz-Credential" => &mut found.credential,
                b"X-Amz-Signature" => &mut found.signature,
                b"X-Amz-SignedHeaders" => &mut found.signed_headers,
                b"X-Amz-Date" => &mut found.date,
                b"X-Amz-Expires" => &mut found.expires,
                b"X-Amz-Security-Token" => &mut found.security_token,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(String::from_utf8_lossy(&decode_query_component(v)).into_owned());
            }
        }
        found
    }
}

fn parse_query_form<H: crate::Header>(
    req: &SignedRequest<'_, H>,
    q: QueryAuth,
    now: SystemTime,
    expected: &Expectations<'_>,
) -> Result<ParsedAuth, SigV4Error> {
    let empty = |v: &Option<String>| v.as_deref().is_none_or(str::is_empty);
    let missing = MissingQueryParameters {
        algorithm: empty(&q.algorithm),
        credential: empty(&q.credential),
        signature: empty(&q.signature),
        signed_headers: empty(&q.signed_headers),
        date: empty(&q.date),
    };
    if missing.any() {
        return Err(SigV4Error::IncompleteQueryParameters(missing));
    }
    let QueryAuth {
        algorithm,
        credential,
        signature,
        signed_headers,
        date,
        expires,
        security_token,
    } = q;
    let fields = Fields {
        algorithm: algorithm.as_deref().unwrap_or_default(),
        credential: credential.as_deref().unwrap_or_default(),
        signature: signature.as_deref().unwrap_or_default(),
        signed_headers: signed_headers.as_deref().unwrap_or_default(),
        date: date.as_deref().unwrap_or_default(),
        session_token: security_token,
    };
    let signed_at = check_date(fields.date)?;
    let expires = expires.as_deref().map(check_expires).transpose()?;
    let now = epoch_seconds(now);
    // A presigned request dated in the future is refused like a header-signed one.
    if signed_at > now.saturating_add(i64::from(SKEW_SECS)) {
        return Err(SigV4Error::SignatureNotYetCurrent {
            signed_at,
            now,
            window_seconds: SKEW_SECS,
        });
    }
    // How long after its date it stays valid: X-Amz-Expires, capped by the server's policy;
    // without X-Amz-Expires, the 15-minute rule of header-signed requests.
    let cap = u32::try_from(expected.max_presigned_lifetime.as_secs())
        .unwrap_or(MAX_EXPIRES_SECS)
        .min(MAX_EXPIRES_SECS);
    let lifetime = expires.map_or(SKEW_SECS, |e| e.min(cap));
    if signed_at < now.saturating_sub(i64::from(lifetime)) {
        return Err(SigV4Error::SignatureExpired {
            signed_at,
            now,
            window_seconds: lifetime,
        });
    }
    finish(
        req,
        fields,
        signed_at,
        Form::Presigned { expires },
        expected,
    )
}

/// The raw parameters common to both forms.
struct Fields<'r> {
    algorithm: &'r str,
    credential: &'r str,
    signature: &'r str,
    signed_headers: &'r str,
    date: &'r str,
    session_token: Option<String>,
}

fn check_date(date: &str) -> Result<i64, SigV4Error> {
    parse_amz_date(date).ok_or_else(|| SigV4Error::MalformedDate(date.to_owned()))
}

fn check_expires(raw: &str) -> Result<u32, SigV4Error> {
    let n: i64 = raw
        .parse()
        .map_err(|_| SigV4Error::MalformedExpires(ExpiresProblem::NotANumber))?;
    if n < 0 {
        return Err(SigV4Error::MalformedExpires(ExpiresProblem::Negative));
    }
    u32::try_from(n)
        .ok()
        .filter(|&n| n <= MAX_EXPIRES_SECS)
        .ok_or(SigV4Error::MalformedExpires(ExpiresProblem::MoreThanAWeek))
}

/// The 15-minute rule: exactly 15 minutes either way is accepted, one second more is not.
/// `now` is whole seconds (rounded down), as AWS's messages show it.
fn check_clock(signed_at: i64, now: i64, window: u32) -> Result<(), SigV4Error> {
    if signed_at < now.saturating_sub(i64::from(window)) {
        return Err(SigV4Error::SignatureExpired {
            signed_at,
            now,
            window_seconds: window,
        });
    }
    if signed_at > now.saturating_add(i64::from(window)) {
        return Err(SigV4Error::SignatureNotYetCurrent {
            signed_at,
            now,
            window_seconds: window,
        });
    }
    Ok(())
}

/// Where the authentication parameters came from.
#[derive(Clone, Copy)]
enum Form {
    Header,
    Presigned { expires: Option<u32> },
}

/// Steps 4 and 5, common to both forms.
fn finish<H: crate::Header>(
    req: &SignedRequest<'_, H>,
    f: Fields<'_>,
    signed_at: i64,
    form: Form,
    expected: &Expectations<'_>,
) -> Result<ParsedAuth, SigV4Error> {
    let signed_headers: Vec<String> = f.signed_headers.split(';').map(str::to_owned).collect();
    if !signed_headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("host") || h == ":authority")
    {
        return Err(SigV4Error::HostNotSigned);
    }
    if let Some(absent) = signed_headers
        .iter()
        .find(|h| first_header(req.headers, h).is_none())
    {
        return Err(SigV4Error::SignedHeaderMissing(absent.clone()));
    }
    if f.algorithm != ALGORITHM {
        return Err(SigV4Error::UnsupportedAlgorithm(f.algorithm.to_owned()));
    }
    // AWS ignores trailing slashes when counting (dynalite: Java's `split` drops trailing
    // empty strings), so "AKID/d/r/s/aws4_request/" is well formed.
    let credential = f.credential.trim_end_matches('/');
    let mut parts = credential.split('/');
    let (Some(key), Some(scope_date), Some(region), Some(service), Some(terminator), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(SigV4Error::MalformedCredential(f.credential.to_owned()));
    };
    let request_date = f.date.get(..8).unwrap_or_default();
    let mismatch = ScopeMismatch {
        region: (region != expected.region).then(|| region.to_owned()),
        service: (service != expected.service).then(|| expected.service.to_owned()),
        terminator: (terminator != "aws4_request").then(|| terminator.to_owned()),
        date: (scope_date != request_date).then(|| {
            (
                scope_date.to_owned(),
                request_date.to_owned(),
                f.date.to_owned(),
            )
        }),
    };
    if mismatch.any() {
        return Err(SigV4Error::CredentialScopeMismatch(Box::new(mismatch)));
    }
    Ok(ParsedAuth {
        access_key_id: key.to_owned(),
        scope: format!("{scope_date}/{region}/{service}/{terminator}"),
        region: region.to_owned(),
        service: service.to_owned(),
        credential: credential.to_owned(),
        amz_date: f.date.to_owned(),
        signed_at,
        signed_headers,
        signature: f.signature.to_owned(),
        session_token: f.session_token,
        presigned: matches!(form, Form::Presigned { .. }),
        expires: match form {
            Form::Header => None,
            Form::Presigned { expires } => expires,
        },
    })
}
