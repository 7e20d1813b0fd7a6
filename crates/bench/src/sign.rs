//! A SigV4 *signer* for the requests this tool sends: the header form, as botocore writes it.
//!
//! The key derivation and the final HMAC are `rampart_sigv4`'s ([`signing_key`],
//! [`signature`]); the canonical request and the string to sign are built here, because the
//! verifier crate only hashes them. Requests are signed exactly as sent: the path and query
//! must already be in canonical form (this tool only ever sends `POST /` with no query), header
//! names are lower-cased and values trimmed, and every header given is signed.

use std::time::{SystemTime, UNIX_EPOCH};

use rampart_core::Secret;
use rampart_sigv4::{signature, signing_key};
use sha2::{Digest, Sha256};

/// The credentials a request is signed with.
#[derive(Clone)]
pub struct Credentials {
    /// The access key id (`AKIA…`).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: Secret<String>,
    /// A session token, sent as `x-amz-security-token` and signed (temporary credentials).
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Signs requests for one credential, region and service. Keeps the day's signing key, so a
/// request costs one SHA-256 of the body, one of the canonical request and one HMAC.
#[derive(Debug)]
pub struct Signer {
    credentials: Credentials,
    region: String,
    service: String,
    /// The signing key of the last scope date used, with that date (`YYYYMMDD`).
    cached: Option<(String, Secret<[u8; 32]>)>,
}

/// What signing adds to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The `x-amz-date` header value (`YYYYMMDD'T'HHMMSS'Z'`).
    pub amz_date: String,
    /// The `authorization` header value.
    pub authorization: String,
}

impl Signer {
    /// A signer for `service` (`dynamodb`) in `region`.
    pub fn new(credentials: Credentials, region: &str, service: &str) -> Self {
        Self {
            credentials,
            region: region.to_owned(),
            service: service.to_owned(),
            cached: None,
        }
    }

    /// The session token to send as `x-amz-security-token`, if any. The caller passes it in
    /// `headers` to [`Signer::sign`] so that it is signed.
    pub fn session_token(&self) -> Option<&str> {
        self.credentials.session_token.as_deref()
    }

    /// Signs a request made of `method`, `path` (canonical), `headers` (every one is signed;
    /// `host` must be among them; `x-amz-date` must not) and `body`, at `now`.
    pub fn sign(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        now: SystemTime,
    ) -> Signature {
        let amz_date = amz_date(now);
        let scope_date = amz_date.get(..8).unwrap_or_default().to_owned();
        let scope = format!("{scope_date}/{}/{}/aws4_request", self.region, self.service);
        let mut all: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), canonical_value(v)))
            .collect();
        all.push(("x-amz-date".to_owned(), amz_date.clone()));
        all.sort();
        let canonical = canonical_request(method, path, &all, body);
        let string_to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let key = self.key_for(&scope_date);
        let signed_headers = signed_header_list(&all);
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={}",
            self.credentials.access_key_id,
            signature(&key, &string_to_sign)
        );
        Signature {
            amz_date,
            authorization,
        }
    }

    fn key_for(&mut self, scope_date: &str) -> Secret<[u8; 32]> {
        if let Some((date, key)) = &self.cached
            && date == scope_date
        {
            return key.clone();
        }
        let key = signing_key(
            &self.credentials.secret_access_key,
            scope_date,
            &self.region,
            &self.service,
        );
        self.cached = Some((scope_date.to_owned(), key.clone()));
        key
    }
}

/// AWS's header value canonicalisation: trim, and fold runs of spaces into one.
fn canonical_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn signed_header_list(sorted: &[(String, String)]) -> String {
    sorted
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";")
}

/// The canonical request for already sorted, lower-cased headers (with no query string).
fn canonical_request(
    method: &str,
    path: &str,
    sorted_headers: &[(String, String)],
    body: &[u8],
) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(method);
    out.push('\n');
    out.push_str(path);
    out.push_str("\n\n");
    for (n, v) in sorted_headers {
        out.push_str(n);
        out.push(':');
        out.push_str(v);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_header_list(sorted_headers));
    out.push('\n');
    out.push_str(&hex::encode(Sha256::digest(body)));
    out
}

/// `now` as SigV4's basic ISO 8601 form, `YYYYMMDD'T'HHMMSS'Z'` (UTC).
pub fn amz_date(now: SystemTime) -> String {
    let secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rampart_sigv4::{Expectations, SignedRequest, parse, verify};

    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn creds(secret: &str) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new(secret.into()),
            session_token: None,
        }
    }

    const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    #[test]
    fn amz_date_formats_utc_calendar_dates() {
        // 2015-08-30T12:36:00Z, the timestamp of AWS's signing suite.
        assert_eq!(amz_date(at(1_440_938_160)), "20150830T123600Z");
        assert_eq!(amz_date(at(0)), "19700101T000000Z");
        // A leap day and the last second of a year.
        assert_eq!(amz_date(at(951_782_400)), "20000229T000000Z");
        assert_eq!(amz_date(at(1_704_067_199)), "20231231T235959Z");
    }

    #[test]
    fn signer_reproduces_aws_post_vanilla_example() {
        // aws-c-auth's `post-vanilla` case of the v4 signing suite.
        let mut signer = Signer::new(creds(EXAMPLE_SECRET), "us-east-1", "service");
        let sig = signer.sign(
            "POST",
            "/",
            &[("Host", "example.amazonaws.com")],
            b"",
            at(1_440_938_160),
        );
        assert_eq!(sig.amz_date, "20150830T123600Z");
        assert_eq!(
            sig.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    fn dynamodb_request(
        signer: &mut Signer,
        now: SystemTime,
        body: &[u8],
    ) -> Vec<(String, String)> {
        let base = [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("Host", "127.0.0.1:8000"),
            ("X-Amz-Target", "DynamoDB_20120810.PutItem"),
        ];
        let sig = signer.sign("POST", "/", &base, body, now);
        let mut headers: Vec<(String, String)> = base
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        headers.push(("X-Amz-Date".into(), sig.amz_date));
        headers.push(("Authorization".into(), sig.authorization));
        headers
    }

    #[test]
    fn dynamodb_request_passes_rampart_verifier() {
        let now = at(1_700_000_000);
        let body = br#"{"TableName":"t","Item":{"pk":{"S":"a"}}}"#;
        let mut signer = Signer::new(creds(EXAMPLE_SECRET), "us-east-1", "dynamodb");
        let headers = dynamodb_request(&mut signer, now, body);
        let req = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body,
        };
        let auth = parse(&req, now, &Expectations::new("us-east-1", "dynamodb")).unwrap();
        assert_eq!(auth.access_key_id(), "AKIDEXAMPLE");
        verify(&req, &auth, &Secret::new(EXAMPLE_SECRET.to_owned())).unwrap();
    }

    #[test]
    fn request_signed_with_other_secret_fails_verification() {
        let now = at(1_700_000_000);
        let body = b"{}";
        let mut signer = Signer::new(creds("not-the-secret"), "us-east-1", "dynamodb");
        let headers = dynamodb_request(&mut signer, now, body);
        let req = SignedRequest {
            method: "POST",
            path: "/",
            query: "",
            headers: &headers,
            body,
        };
        let auth = parse(&req, now, &Expectations::new("us-east-1", "dynamodb")).unwrap();
        assert!(verify(&req, &auth, &Secret::new(EXAMPLE_SECRET.to_owned())).is_err());
    }

    #[test]
    fn signing_key_is_rederived_when_the_day_changes() {
        let mut signer = Signer::new(creds(EXAMPLE_SECRET), "us-east-1", "dynamodb");
        let day1 = signer.sign("POST", "/", &[("host", "h")], b"", at(1_700_000_000));
        let day2 = signer.sign("POST", "/", &[("host", "h")], b"", at(1_700_086_400));
        assert!(day1.authorization.contains("/20231114/"));
        assert!(day2.authorization.contains("/20231115/"));
        // The same request a day later must be re-signed with the next day's key.
        let mut fresh = Signer::new(creds(EXAMPLE_SECRET), "us-east-1", "dynamodb");
        let day2_fresh = fresh.sign("POST", "/", &[("host", "h")], b"", at(1_700_086_400));
        assert_eq!(day2, day2_fresh);
    }

    #[test]
    fn header_values_are_trimmed_and_spaces_folded() {
        assert_eq!(canonical_value("  a   b c  "), "a b c");
    }
}
