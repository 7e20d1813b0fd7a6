//! Test support: an owned request, a reader for the `.txt` requests of AWS's signing test
//! suite, a reader for its `context.json`, and a signer built on the crate's public pieces
//! (for fixtures the suite does not cover; the suite itself pins those pieces byte for byte).

#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rampart_core::Secret;
use rampart_sigv4::{
    Expectations, PresignedToken, SignedRequest, canonical_request, parse, signature, signing_key,
    string_to_sign,
};

/// An owned HTTP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn view(&self) -> SignedRequest<'_> {
        SignedRequest {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }

    /// The value of the first header named `name` (any case), mutable.
    pub fn header_mut(&mut self, name: &str) -> Option<&mut String> {
        self.headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a request in the suite's format: request line, `Name:value` headers (a line starting
/// with whitespace continues the previous value, joined with "\n"), a blank line, the body.
pub fn parse_http(text: &str) -> Req {
    let (head, body) = match text.find("\n\n") {
        Some(i) => (&text[..i], &text[i + 2..]),
        None => (text.trim_end_matches('\n'), ""),
    };
    let mut lines = head.split('\n');
    let request_line = lines.next().unwrap();
    let (method, rest) = request_line.split_once(' ').unwrap();
    let target = rest.strip_suffix(" HTTP/1.1").unwrap();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.starts_with(' ') || line.starts_with('\t') {
            let last = headers.last_mut().unwrap();
            last.1.push('\n');
            last.1.push_str(line);
        } else {
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_string(), value.to_string()));
        }
    }
    Req {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

/// The fields of a case's `context.json` the tests use.
#[derive(Debug, Clone)]
pub struct Context {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub token: Option<String>,
    pub expiration_in_seconds: u64,
    pub normalize: bool,
    pub region: String,
    pub service: String,
    pub timestamp: SystemTime,
    pub omit_session_token: bool,
}

/// The raw JSON text of `"key": <value>` (a string's content, or a literal), for the flat
/// `context.json` files of the suite (no escapes in them).
fn json_field<'t>(json: &'t str, key: &str) -> Option<&'t str> {
    let at = json.find(&format!("\"{key}\""))?;
    let rest = json[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    if let Some(s) = rest.strip_prefix('"') {
        Some(&s[..s.find('"')?])
    } else {
        let end = rest.find([',', '}', '\n']).unwrap_or(rest.len());
        Some(rest[..end].trim())
    }
}

pub fn parse_context(json: &str) -> Context {
    let field = |k: &str| {
        json_field(json, k)
            .unwrap_or_else(|| panic!("no {k}"))
            .to_string()
    };
    Context {
        access_key_id: field("access_key_id"),
        secret_access_key: field("secret_access_key"),
        token: json_field(json, "token").map(str::to_string),
        expiration_in_seconds: field("expiration_in_seconds").parse().unwrap(),
        normalize: field("normalize") == "true",
        region: field("region"),
        service: field("service"),
        timestamp: iso_extended(&field("timestamp")),
        omit_session_token: json_field(json, "omit_session_token") == Some("true"),
    }
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// `YYYY-MM-DDTHH:MM:SSZ` to a time.
pub fn iso_extended(s: &str) -> SystemTime {
    let n = |a: usize, b: usize| s[a..b].parse::<i64>().unwrap();
    let secs = days_from_civil(n(0, 4), n(5, 7), n(8, 10)) * 86_400
        + n(11, 13) * 3_600
        + n(14, 16) * 60
        + n(17, 19);
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap())
}

/// `YYYYMMDDTHHMMSSZ` to a time.
pub fn amz(s: &str) -> SystemTime {
    iso_extended(&format!(
        "{}-{}-{}T{}:{}:{}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    ))
}

/// What a test signs with.
pub struct Signer<'a> {
    pub access_key_id: &'a str,
    pub secret: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

const PLACEHOLDER: &str = "0000000000000000000000000000000000000000000000000000000000000000";

impl Signer<'_> {
    /// Adds `X-Amz-Date: amz_date` and a valid `Authorization` header signing `signed` (which
    /// must include `host` and name headers present in `req`).
    pub fn sign_header(&self, req: &mut Req, amz_date: &str, signed: &[&str]) {
        self.sign_header_dated(req, "X-Amz-Date", amz_date, signed);
    }

    /// [`Signer::sign_header`] with the date in header `date_header` (`Date`, say).
    pub fn sign_header_dated(
        &self,
        req: &mut Req,
        date_header: &str,
        amz_date: &str,
        signed: &[&str],
    ) {
        req.headers
            .push((date_header.to_string(), amz_date.to_string()));
        let prefix = format!(
            "AWS4-HMAC-SHA256 Credential={}/{}/{}/{}/aws4_request, SignedHeaders={}, Signature=",
            self.access_key_id,
            &amz_date[..8],
            self.region,
            self.service,
            signed.join(";")
        );
        req.headers.push((
            "Authorization".to_string(),
            format!("{prefix}{PLACEHOLDER}"),
        ));
        let sig = self.compute(req, amz_date);
        *req.header_mut("authorization").unwrap() = format!("{prefix}{sig}");
    }

    /// Adds the presigned parameters (and `X-Amz-Signature`) to the query.
    pub fn sign_query(&self, req: &mut Req, amz_date: &str, expires: Option<u32>, signed: &[&str]) {
        let mut params = format!(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}%2F{}%2F{}%2F{}%2Faws4_request&X-Amz-Date={}&X-Amz-SignedHeaders={}",
            self.access_key_id,
            &amz_date[..8],
            self.region,
            self.service,
            amz_date,
            signed.join("%3B")
        );
        if let Some(e) = expires {
            params.push_str(&format!("&X-Amz-Expires={e}"));
        }
        req.query = if req.query.is_empty() {
            params
        } else {
            format!("{}&{params}", req.query)
        };
        let unsigned = req.query.clone();
        req.query = format!("{unsigned}&X-Amz-Signature={PLACEHOLDER}");
        let sig = self.compute(req, amz_date);
        req.query = format!("{unsigned}&X-Amz-Signature={sig}");
    }

    fn compute(&self, req: &Req, amz_date: &str) -> String {
        let expected = Expectations::new(self.region, self.service)
            .with_max_presigned_lifetime(rampart_sigv4::MAX_EXPIRES);
        let auth = parse(&req.view(), amz(amz_date), &expected).expect("fixture must parse");
        let sts = string_to_sign(
            &auth,
            &canonical_request(&req.view(), &auth, PresignedToken::Signed),
        );
        let key = signing_key(
            &Secret::new(self.secret.to_string()),
            &amz_date[..8],
            self.region,
            self.service,
        );
        signature(&key, &sts)
    }
}
