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

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::canonical::{ByteRuns, decode_query_component, query_pairs, split_byte};
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
///
/// It borrows from the request (`'a`): a header-signed request's parameters are slices of its
/// `Authorization`, `X-Amz-Date` and `X-Amz-Security-Token` headers, so parsing copies nothing.
/// Only a presigned request's percent-encoded query parameters are decoded into owned strings.
#[derive(Clone, PartialEq, Eq)]
pub struct ParsedAuth<'a> {
    /// `AKID/YYYYMMDD/region/service/aws4_request`, trailing slashes removed.
    credential: Cow<'a, str>,
    /// Byte offsets in `credential` of its four `/`.
    /// INVARIANT: strictly increasing and each at a `/` of `credential` (set by `finish`), so
    /// every accessor's range lies on character boundaries.
    slashes: [usize; 4],
    /// The request's date exactly as sent, `YYYYMMDD'T'HHMMSS'Z'`.
    amz_date: Cow<'a, str>,
    /// The same, in seconds since the Unix epoch.
    signed_at: i64,
    /// The signed header names as the client listed them, `;`-separated.
    signed_headers: Cow<'a, str>,
    /// The signature as sent (checked to be 64 lower-case hex digits only by `verify`).
    signature: Cow<'a, str>,
    session_token: Option<Cow<'a, str>>,
    presigned: bool,
    expires: Option<u32>,
}

impl<'a> ParsedAuth<'a> {
    /// The part of the credential between two of its slashes (`None`: its start or end).
    fn credential_part(&self, after: Option<usize>, before: Option<usize>) -> &str {
        let start = after.map_or(0, |i| i.saturating_add(1));
        let end = before.unwrap_or(self.credential.len());
        self.credential.get(start..end).unwrap_or_default()
    }

    /// The access key id the caller looks the secret up by.
    pub fn access_key_id(&self) -> &str {
        let [key_end, ..] = self.slashes;
        self.credential_part(None, Some(key_end))
    }

    /// The credential scope, `YYYYMMDD/region/service/aws4_request`.
    pub fn credential_scope(&self) -> &str {
        let [key_end, ..] = self.slashes;
        self.credential_part(Some(key_end), None)
    }

    /// The scope's date, `YYYYMMDD` (always the request's date).
    pub fn scope_date(&self) -> &str {
        self.amz_date.get(..8).unwrap_or_default()
    }

    /// The scope's region (always the expected one).
    pub fn region(&self) -> &str {
        let [_, date_end, region_end, _] = self.slashes;
        self.credential_part(Some(date_end), Some(region_end))
    }

    /// The scope's service (always the expected one).
    pub fn service(&self) -> &str {
        let [_, _, region_end, service_end] = self.slashes;
        self.credential_part(Some(region_end), Some(service_end))
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
    pub fn signed_headers(&self) -> impl Iterator<Item = &str> + Clone {
        split_byte(&self.signed_headers, b';')
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

    /// The signed header names as sent, `;`-separated: the canonical request's last line but one.
    pub(crate) fn signed_headers_line(&self) -> &str {
        &self.signed_headers
    }

    pub(crate) fn signature(&self) -> &str {
        &self.signature
    }
}

impl fmt::Debug for ParsedAuth<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParsedAuth")
            .field("access_key_id", &self.access_key_id())
            .field("scope", &self.credential_scope())
            .field("amz_date", &self.amz_date)
            .field("signed_headers", &self.signed_headers().collect::<Vec<_>>())
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
///
/// The result borrows from the request's headers and query (see [`ParsedAuth`]).
pub fn parse<'a, H: crate::Header>(
    req: &SignedRequest<'a, H>,
    now: SystemTime,
    expected: &Expectations<'_>,
) -> Result<ParsedAuth<'a>, SigV4Error> {
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

/// Whether `b` separates the components of an `Authorization` header: a comma or ASCII
/// whitespace (the same bytes as `char::is_ascii_whitespace`).
fn is_component_separator(b: u8) -> bool {
    COMPONENT_SEPARATORS
        .get(usize::from(b))
        .copied()
        .unwrap_or_default()
}

/// `is_component_separator` as a table: one load per byte.
static COMPONENT_SEPARATORS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b: u8 = 0;
    loop {
        // Indexing a 256-entry table with a byte cannot go out of bounds.
        #[expect(clippy::indexing_slicing, reason = "a u8 index into a 256-entry table")]
        {
            table[b as usize] = b == b',' || b.is_ascii_whitespace();
        }
        if b == u8::MAX {
            break table;
        }
        b += 1;
    }
};

fn parse_header_form<'a, H: crate::Header>(
    req: &SignedRequest<'a, H>,
    raw: &'a str,
    now: SystemTime,
    expected: &Expectations<'_>,
) -> Result<ParsedAuth<'a>, SigV4Error> {
    let header = raw.trim_ascii();
    // DynamoDB answers anything that is not SigV4 (SigV2's "AWS key:sig", bearer tokens) as
    // if there were no authentication at all (dynalite).
    if !header.starts_with("AWS4-") {
        return Err(SigV4Error::MissingAuthenticationToken);
    }
    // AWS splits the components on commas *and* spaces: "Credential=AKID /2021..." fails with
    // "'/2021...' not a valid key=value pair" (awslabs/fhir-works-on-aws-deployment#379).
    let mut tokens = ByteRuns::new(header, is_component_separator);
    let algorithm = tokens.next().unwrap_or_default();
    let (mut credential, mut signature, mut signed_headers) = (None, None, None);
    for token in tokens {
        let Some((key, value)) = token
            .bytes()
            .position(|b| b == b'=')
            .and_then(|i| Some((token.get(..i)?, token.get(i.saturating_add(1)..)?)))
        else {
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
        algorithm: Cow::Borrowed(algorithm),
        credential: Cow::Borrowed(credential.unwrap_or_default()),
        signature: Cow::Borrowed(signature.unwrap_or_default()),
        signed_headers: Cow::Borrowed(signed_headers.unwrap_or_default()),
        date: Cow::Borrowed(date.unwrap_or_default().trim()),
        session_token: first_header(req.headers, "x-amz-security-token")
            .map(|t| Cow::Borrowed(t.trim())),
    };
    let signed_at = check_date(&fields.date)?;
    check_clock(signed_at, epoch_seconds(now), SKEW_SECS)?;
    finish(req, fields, signed_at, Form::Header, expected)
}

/// The presigned parameters of a query string, decoded; the first occurrence of each wins
/// (scratchstack-aws-signature, rule 7c).
#[derive(Default)]
struct QueryAuth<'q> {
    algorithm: Option<Cow<'q, str>>,
    credential: Option<Cow<'q, str>>,
    signature: Option<Cow<'q, str>>,
    signed_headers: Option<Cow<'q, str>>,
    date: Option<Cow<'q, str>>,
    expires: Option<Cow<'q, str>>,
    security_token: Option<Cow<'q, str>>,
}

impl<'q> QueryAuth<'q> {
    fn read(query: &'q str) -> Self {
        let mut found = Self::default();
        if !query.contains("X-Amz-") && !query.contains('%') {
            return found;
        }
        for (k, v) in query_pairs(query) {
            let key = decode_query_component(k);
            let slot = match key.as_ref() {
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
                *slot = Some(match decode_query_component(v) {
                    // Nothing to decode: the raw text itself.
                    Cow::Borrowed(_) => Cow::Borrowed(v),
                    Cow::Owned(bytes) => Cow::Owned(
                        String::from_utf8(bytes)
                            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                    ),
                });
            }
        }
        found
    }
}

fn parse_query_form<'a, H: crate::Header>(
    req: &SignedRequest<'a, H>,
    q: QueryAuth<'a>,
    now: SystemTime,
    expected: &Expectations<'_>,
) -> Result<ParsedAuth<'a>, SigV4Error> {
    let empty = |v: &Option<Cow<'_, str>>| v.as_deref().is_none_or(str::is_empty);
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
        algorithm: algorithm.unwrap_or_default(),
        credential: credential.unwrap_or_default(),
        signature: signature.unwrap_or_default(),
        signed_headers: signed_headers.unwrap_or_default(),
        date: date.unwrap_or_default(),
        session_token: security_token,
    };
    let signed_at = check_date(&fields.date)?;
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

/// The raw parameters common to both forms: slices of the `Authorization` header, or query
/// parameters (decoded, so owned only when they were percent-encoded).
struct Fields<'a> {
    algorithm: Cow<'a, str>,
    credential: Cow<'a, str>,
    signature: Cow<'a, str>,
    signed_headers: Cow<'a, str>,
    date: Cow<'a, str>,
    session_token: Option<Cow<'a, str>>,
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

/// The first `len` bytes of `s` (a character boundary), borrowed or owned as it came.
fn truncated(s: Cow<'_, str>, len: usize) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(s) => Cow::Borrowed(s.get(..len).unwrap_or(s)),
        Cow::Owned(mut s) => {
            if s.is_char_boundary(len) {
                s.truncate(len);
            }
            Cow::Owned(s)
        }
    }
}

/// The byte offsets of the four `/` of a credential, or `None` unless it has exactly four.
fn four_slashes(credential: &str) -> Option<[usize; 4]> {
    let mut found = [0usize; 4];
    let mut count = 0usize;
    for (i, b) in credential.bytes().enumerate() {
        if b == b'/' {
            *found.get_mut(count)? = i;
            count = count.saturating_add(1);
        }
    }
    (count == 4).then_some(found)
}

/// Steps 4 and 5, common to both forms.
fn finish<'a, H: crate::Header>(
    req: &SignedRequest<'a, H>,
    f: Fields<'a>,
    signed_at: i64,
    form: Form,
    expected: &Expectations<'_>,
) -> Result<ParsedAuth<'a>, SigV4Error> {
    let signed_headers = split_byte(&f.signed_headers, b';');
    if !signed_headers
        .clone()
        .any(|h| h.eq_ignore_ascii_case("host") || h == ":authority")
    {
        return Err(SigV4Error::HostNotSigned);
    }
    if let Some(absent) = signed_headers
        .clone()
        .find(|h| first_header(req.headers, h).is_none())
    {
        return Err(SigV4Error::SignedHeaderMissing(absent.to_owned()));
    }
    if f.algorithm != ALGORITHM {
        return Err(SigV4Error::UnsupportedAlgorithm(f.algorithm.into_owned()));
    }
    // AWS ignores trailing slashes when counting (dynalite: Java's `split` drops trailing
    // empty strings), so "AKID/d/r/s/aws4_request/" is well formed.
    let trimmed_len = f.credential.trim_end_matches('/').len();
    let Some(slashes) = f.credential.get(..trimmed_len).and_then(four_slashes) else {
        return Err(SigV4Error::MalformedCredential(f.credential.into_owned()));
    };
    let credential = truncated(f.credential, trimmed_len);
    let part = |from: usize, to: usize| credential.get(from..to).unwrap_or_default();
    let [key_end, date_end, region_end, service_end] = slashes;
    let scope_date = part(key_end.saturating_add(1), date_end);
    let region = part(date_end.saturating_add(1), region_end);
    let service = part(region_end.saturating_add(1), service_end);
    let terminator = part(service_end.saturating_add(1), credential.len());
    let request_date = f.date.get(..8).unwrap_or_default();
    let mismatch = ScopeMismatch {
        region: (region != expected.region).then(|| region.to_owned()),
        service: (service != expected.service).then(|| expected.service.to_owned()),
        terminator: (terminator != "aws4_request").then(|| terminator.to_owned()),
        date: (scope_date != request_date).then(|| {
            (
                scope_date.to_owned(),
                request_date.to_owned(),
                f.date.as_ref().to_owned(),
            )
        }),
    };
    if mismatch.any() {
        return Err(SigV4Error::CredentialScopeMismatch(Box::new(mismatch)));
    }
    Ok(ParsedAuth {
        credential,
        slashes,
        amz_date: f.date,
        signed_at,
        signed_headers: f.signed_headers,
        signature: f.signature,
        session_token: f.session_token,
        presigned: matches!(form, Form::Presigned { .. }),
        expires: match form {
            Form::Header => None,
            Form::Presigned { expires } => expires,
        },
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Text with separators, multi-byte characters and Unicode (not ASCII) whitespace mixed in.
    fn header_text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[a-zA-Z0-9=/;,. \t\r\n\u{b}\u{c}\u{a0}\u{85}\u{3000}éሴ-]{0,40}",
        ]
    }

    proptest! {
        #[test]
        fn components_split_like_the_char_predicate_did(text in header_text()) {
            // The splitting `parse_header_form` did before it went byte-wise.
            let reference: Vec<&str> = text
                .split(|c: char| c == ',' || c.is_ascii_whitespace())
                .filter(|t| !t.is_empty())
                .collect();
            let runs: Vec<&str> = ByteRuns::new(&text, is_component_separator).collect();
            prop_assert_eq!(runs, reference);
            prop_assert_eq!(
                text.trim_ascii(),
                text.trim_matches(|c: char| c.is_ascii_whitespace())
            );
        }
    }

    #[test]
    fn component_separators_are_the_comma_and_ascii_whitespace() {
        for b in 0..=u8::MAX {
            assert_eq!(
                is_component_separator(b),
                b == b',' || b.is_ascii_whitespace(),
                "{b}"
            );
        }
    }

    fn request<'a>(
        headers: &'a [(&'a str, &'a str)],
        query: &'a str,
    ) -> SignedRequest<'a, (&'a str, &'a str)> {
        SignedRequest {
            method: "GET",
            path: "/",
            query,
            headers,
            body: b"",
        }
    }

    const NOW: u64 = 1_440_938_160; // 20150830T123600Z

    fn now() -> SystemTime {
        std::time::UNIX_EPOCH + Duration::from_secs(NOW)
    }

    #[test]
    fn a_header_signed_request_is_read_without_copying() {
        let headers = [
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", " 20150830T123600Z "),
            ("X-Amz-Security-Token", " token "),
            (
                "Authorization",
                "\tAWS4-HMAC-SHA256  Credential=AKID/20150830/us-east-1/dynamodb/aws4_request//,,SignedHeaders=host;x-amz-date ,Signature=abc\r\n",
            ),
        ];
        let expected = Expectations::new("us-east-1", "dynamodb");
        let auth = parse(&request(&headers, ""), now(), &expected).unwrap();
        assert!(matches!(auth.credential, Cow::Borrowed(_)));
        assert_eq!(auth.access_key_id(), "AKID");
        assert_eq!(
            auth.credential(),
            "AKID/20150830/us-east-1/dynamodb/aws4_request"
        );
        assert_eq!(
            auth.credential_scope(),
            "20150830/us-east-1/dynamodb/aws4_request"
        );
        assert_eq!(auth.region(), "us-east-1");
        assert_eq!(auth.service(), "dynamodb");
        assert_eq!(auth.amz_date(), "20150830T123600Z");
        assert_eq!(
            auth.signed_headers().collect::<Vec<_>>(),
            ["host", "x-amz-date"]
        );
        assert_eq!(auth.signature(), "abc");
        assert_eq!(auth.session_token(), Some("token"));
    }

    #[test]
    fn a_presigned_requests_encoded_credential_is_decoded_and_its_parts_found() {
        let headers = [("Host", "example.amazonaws.com")];
        let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256\
            &X-Amz-Credential=AKID%2F20150830%2Feu-west-1%2Fdynamodb%2Faws4_request%2F%2F\
            &X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders=host&X-Amz-Signature=abc\
            &X-Amz-Security-Token=a+b";
        let expected = Expectations::new("eu-west-1", "dynamodb");
        let auth = parse(&request(&headers, query), now(), &expected).unwrap();
        assert!(matches!(auth.credential, Cow::Owned(_)));
        assert!(matches!(auth.amz_date, Cow::Borrowed(_)));
        assert_eq!(auth.access_key_id(), "AKID");
        assert_eq!(
            auth.credential(),
            "AKID/20150830/eu-west-1/dynamodb/aws4_request"
        );
        assert_eq!(
            auth.credential_scope(),
            "20150830/eu-west-1/dynamodb/aws4_request"
        );
        assert_eq!(auth.region(), "eu-west-1");
        assert_eq!(auth.service(), "dynamodb");
        assert_eq!(auth.session_token(), Some("a b"));
        assert!(auth.is_presigned());
    }

    #[test]
    fn a_malformed_credential_is_quoted_as_sent() {
        let headers = [
            ("Host", "h"),
            ("X-Amz-Date", "20150830T123600Z"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1//, SignedHeaders=host, Signature=abc",
            ),
        ];
        let expected = Expectations::new("us-east-1", "dynamodb");
        assert_eq!(
            parse(&request(&headers, ""), now(), &expected),
            Err(SigV4Error::MalformedCredential(
                "AKID/20150830/us-east-1//".to_owned()
            ))
        );
    }
}
