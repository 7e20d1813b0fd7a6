//! AWS's SigV4 signing test suite (`tests/vectors/`, see its README for source and licence),
//! run against the verifier: for every case and both forms (header and presigned query),
//! - the canonical request and the string to sign are byte for byte the suite's;
//! - the signed request is accepted at the case's timestamp with the case's credentials;
//! - the signed request is refused once any one byte of what it signs changes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a broken fixture must fail the test loudly"
)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Context, Req, parse_context, parse_http};
use rampart_core::Secret;
use rampart_sigv4::{
    Expectations, PresignedToken, SigV4Error, SigningKeyCache, canonical_request, parse, signature,
    signing_key, string_to_sign, verify, verify_cached,
};

/// The suite's S3-style cases (`"normalize": false`): they sign the path as sent, without
/// removing dot segments or merging slashes. Rampart serves no S3-style service (DynamoDB,
/// IAM, STS, KMS... all normalize), so there is deliberately no such mode to test; the
/// test below checks this list is exactly the set of `normalize: false` cases, so none is
/// skipped silently.
const S3_STYLE_CASES: &[&str] = &[
    "get-relative-relative-unnormalized",
    "get-relative-unnormalized",
    "get-slash-dot-slash-unnormalized",
    "get-slash-pointless-dot-unnormalized",
    "get-slash-unnormalized",
    "get-slashes-unnormalized",
    "get-space-unnormalized",
];

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/v4")
}

fn cases() -> Vec<(String, PathBuf)> {
    let mut cases: Vec<(String, PathBuf)> = fs::read_dir(vectors_dir())
        .expect("tests/vectors/v4 exists")
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    cases.sort();
    cases
}

fn read(dir: &Path, file: &str) -> String {
    fs::read_to_string(dir.join(file))
        .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
}

#[derive(Clone, Copy, Debug)]
enum Form {
    Header,
    Query,
}

impl Form {
    fn prefix(self) -> &'static str {
        match self {
            Form::Header => "header",
            Form::Query => "query",
        }
    }
}

struct Case {
    ctx: Context,
    form: Form,
    signed: Req,
}

impl Case {
    fn expectations(&self) -> Expectations<'_> {
        Expectations::new(&self.ctx.region, &self.ctx.service)
    }

    fn secret(&self) -> Secret<String> {
        Secret::new(self.ctx.secret_access_key.clone())
    }

    /// Parses and verifies `req` at the case's timestamp.
    fn check(&self, req: &Req) -> Result<(), SigV4Error> {
        let auth = parse(&req.view(), self.ctx.timestamp, &self.expectations())?;
        verify(&req.view(), &auth, &self.secret())
    }
}

fn load(name: &str, dir: &Path, form: Form) -> Case {
    let ctx = parse_context(&read(dir, "context.json"));
    let signed = parse_http(&read(dir, &format!("{}-signed-request.txt", form.prefix())));
    let _ = name;
    Case { ctx, form, signed }
}

fn normalized_cases() -> Vec<(String, PathBuf)> {
    cases()
        .into_iter()
        .filter(|(name, _)| !S3_STYLE_CASES.contains(&name.as_str()))
        .collect()
}

#[test]
fn the_suite_is_present_and_only_s3_style_cases_are_left_out() {
    let all = cases();
    assert_eq!(all.len(), 38, "the v4 suite has 38 cases");
    let unnormalized: Vec<String> = all
        .iter()
        .filter(|(_, dir)| !parse_context(&read(dir, "context.json")).normalize)
        .map(|(name, _)| name.clone())
        .collect();
    assert_eq!(unnormalized, S3_STYLE_CASES);
}

#[test]
fn canonical_request_and_string_to_sign_match_the_suite_byte_for_byte() {
    for (name, dir) in normalized_cases() {
        for form in [Form::Header, Form::Query] {
            let case = load(&name, &dir, form);
            let auth = parse(
                &case.signed.view(),
                case.ctx.timestamp,
                &case.expectations(),
            )
            .unwrap_or_else(|e| panic!("{name} {form:?}: {e}"));
            // post-sts-header-after presigns without its session token and appends it after.
            let token = match (form, case.ctx.omit_session_token) {
                (Form::Query, true) => PresignedToken::Appended,
                _ => PresignedToken::Signed,
            };
            let creq = canonical_request(&case.signed.view(), &auth, token);
            assert_eq!(
                creq,
                read(&dir, &format!("{}-canonical-request.txt", form.prefix())),
                "{name} {form:?}: canonical request"
            );
            let sts = string_to_sign(&auth, &creq);
            assert_eq!(
                sts,
                read(&dir, &format!("{}-string-to-sign.txt", form.prefix())),
                "{name} {form:?}: string to sign"
            );
            let key = signing_key(
                &case.secret(),
                auth.scope_date(),
                auth.region(),
                auth.service(),
            );
            assert_eq!(
                signature(&key, &sts),
                read(&dir, &format!("{}-signature.txt", form.prefix())).trim(),
                "{name} {form:?}: signature"
            );
        }
    }
}

#[test]
fn every_signed_request_of_the_suite_is_accepted_at_its_timestamp() {
    let cache = SigningKeyCache::new(16);
    for (name, dir) in normalized_cases() {
        for form in [Form::Header, Form::Query] {
            let case = load(&name, &dir, form);
            let req = case.signed.view();
            let auth = parse(&req, case.ctx.timestamp, &case.expectations())
                .unwrap_or_else(|e| panic!("{name} {form:?}: {e}"));
            assert_eq!(auth.access_key_id(), case.ctx.access_key_id, "{name}");
            assert_eq!(auth.is_presigned(), matches!(form, Form::Query), "{name}");
            if matches!(form, Form::Query) {
                assert_eq!(
                    auth.expires().map(u64::from),
                    Some(case.ctx.expiration_in_seconds),
                    "{name}"
                );
            }
            // A session token travels as X-Amz-Security-Token (header or query), signed or
            // not (post-sts-header-after adds it after signing), and is handed to the caller.
            assert_eq!(
                auth.session_token(),
                case.ctx.token.as_deref(),
                "{name} {form:?}"
            );
            verify(&req, &auth, &case.secret()).unwrap_or_else(|e| panic!("{name} {form:?}: {e}"));
            // Twice through the cache: a miss, then a hit.
            for _ in 0..2 {
                verify_cached(&req, &auth, &case.secret(), &cache)
                    .unwrap_or_else(|e| panic!("{name} {form:?} cached: {e}"));
            }
        }
    }
}

#[test]
fn every_signed_request_of_the_suite_is_refused_with_another_secret() {
    for (name, dir) in normalized_cases() {
        for form in [Form::Header, Form::Query] {
            let case = load(&name, &dir, form);
            let auth = parse(
                &case.signed.view(),
                case.ctx.timestamp,
                &case.expectations(),
            )
            .unwrap();
            let mut wrong = case.ctx.secret_access_key.clone();
            wrong.replace_range(0..1, "X");
            assert_eq!(
                verify(&case.signed.view(), &auth, &Secret::new(wrong)),
                Err(SigV4Error::SignatureDoesNotMatch),
                "{name} {form:?}"
            );
        }
    }
}

/// Changes one character of `s` at char index `i` to another that no canonicalization step
/// maps back (digits +1, letters swap case, anything else becomes `x` or `y`).
fn flip_char(s: &str, i: usize) -> String {
    s.chars()
        .enumerate()
        .map(|(j, c)| {
            if j != i {
                c
            } else if let Some(d) = c.to_digit(10) {
                char::from_digit((d + 1) % 10, 10).unwrap()
            } else if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else if c == 'x' {
                'y'
            } else {
                'x'
            }
        })
        .collect()
}

/// The index of the last alphanumeric char of `s`, outside `%XY` escapes (whose hex digits
/// decode the same in either case).
fn last_alnum(s: &str) -> Option<usize> {
    let chars: Vec<char> = s.chars().collect();
    (0..chars.len()).rev().find(|&i| {
        chars[i].is_ascii_alphanumeric()
            && !(i >= 1 && chars[i - 1] == '%')
            && !(i >= 2 && chars[i - 2] == '%')
    })
}

/// Every one-character change to what the request signs, each with a description.
fn mutations(case: &Case) -> Vec<(String, Req)> {
    let base = &case.signed;
    let mut out = Vec::new();
    let mut push = |what: String, f: &dyn Fn(&mut Req)| {
        let mut r = base.clone();
        f(&mut r);
        assert_ne!(&r, base, "mutation '{what}' changed nothing");
        out.push((what, r));
    };
    push("method".into(), &|r| r.method = flip_char(&r.method, 0));
    let last = base.path.chars().count() - 1;
    push("path".into(), &|r| r.path = flip_char(&r.path, last));
    // The body, when there is one.
    if !base.body.is_empty() {
        push("body".into(), &|r| {
            let b = r.body.last_mut().unwrap();
            *b ^= 0x01;
        });
    }
    // Every signed header's value (x-amz-date and x-amz-content-sha256 included).
    let auth = parse(&base.view(), case.ctx.timestamp, &case.expectations()).unwrap();
    for name in auth.signed_headers() {
        let value = base.header(name).unwrap().to_string();
        if let Some(i) = last_alnum(&value) {
            let name = name.to_owned();
            push(format!("header {name}"), &move |r| {
                let v = r.header_mut(&name).unwrap();
                *v = flip_char(v, i);
            });
        }
    }
    // Every query parameter's value (in the presigned form: every X-Amz-* one too).
    let pairs: Vec<String> = base.query.split('&').map(str::to_string).collect();
    for (k, pair) in pairs.iter().enumerate() {
        if let Some((key, value)) = pair.split_once('=') {
            if key == "X-Amz-Security-Token" && case.ctx.omit_session_token {
                // Appended after signing, so not signed: the caller checks it belongs to the
                // key (see `an_appended_session_token_is_not_signed_but_reaches_the_caller`).
                continue;
            }
            if let Some(i) = last_alnum(value) {
                let pairs = pairs.clone();
                let key = key.to_string();
                push(format!("query {key}"), &move |r| {
                    let mut p = pairs.clone();
                    let (key, value) = p[k].split_once('=').unwrap();
                    p[k] = format!("{key}={}", flip_char(value, i));
                    r.query = p.join("&");
                });
            }
        }
    }
    // The signature itself, in the header form.
    if matches!(case.form, Form::Header) {
        push("signature".into(), &|r| {
            let v = r.header_mut("authorization").unwrap();
            let i = v.chars().count() - 1;
            *v = flip_char(v, i);
        });
    }
    out
}

#[test]
fn every_signed_request_of_the_suite_is_refused_after_a_one_byte_change() {
    let mut checked = 0;
    for (name, dir) in normalized_cases() {
        for form in [Form::Header, Form::Query] {
            let case = load(&name, &dir, form);
            case.check(&case.signed).unwrap();
            for (what, mutated) in mutations(&case) {
                let outcome = case.check(&mutated);
                assert!(
                    outcome.is_err(),
                    "{name} {form:?}: accepted after changing the {what}: {mutated:?}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 300, "only {checked} mutations");
}

#[test]
fn a_changed_signed_value_is_a_signature_mismatch_not_some_other_error() {
    // The specific error for the mutations that keep the request well formed.
    let dir = vectors_dir().join("get-header-value-trim");
    let case = load("get-header-value-trim", &dir, Form::Header);
    let mut r = case.signed.clone();
    *r.header_mut("my-header2").unwrap() = "\"a   b   d\"".into();
    assert_eq!(case.check(&r), Err(SigV4Error::SignatureDoesNotMatch));
    let mut r = case.signed.clone();
    *r.header_mut("x-amz-date").unwrap() = "20150830T123601Z".into();
    assert_eq!(case.check(&r), Err(SigV4Error::SignatureDoesNotMatch));

    let dir = vectors_dir().join("post-x-www-form-urlencoded");
    for form in [Form::Header, Form::Query] {
        let case = load("post-x-www-form-urlencoded", &dir, form);
        let mut r = case.signed.clone();
        r.body = b"Param1=value2".to_vec();
        let expected = match form {
            // The header form declares x-amz-content-sha256, which no longer matches.
            Form::Header => SigV4Error::PayloadHashMismatch,
            Form::Query => SigV4Error::SignatureDoesNotMatch,
        };
        assert_eq!(case.check(&r), Err(expected), "{form:?}");
    }
}

#[test]
fn presigned_suite_requests_expire_after_their_x_amz_expires_when_the_server_allows_it() {
    // The suite presigns for 3600 s. With S3's rule (lifetime up to X-Amz-Expires) the request
    // is good for exactly an hour; with AWS's rule for other services, for 15 minutes.
    let dir = vectors_dir().join("get-vanilla");
    let case = load("get-vanilla", &dir, Form::Query);
    let req = case.signed.view();
    let s3_rule = case
        .expectations()
        .with_max_presigned_lifetime(Duration::from_secs(604_800));
    let at = |secs| case.ctx.timestamp + Duration::from_secs(secs);
    assert!(parse(&req, at(3600), &s3_rule).is_ok());
    assert!(matches!(
        parse(&req, at(3601), &s3_rule),
        Err(SigV4Error::SignatureExpired {
            window_seconds: 3600,
            ..
        })
    ));
    assert!(parse(&req, at(900), &case.expectations()).is_ok());
    assert_eq!(
        parse(&req, at(901), &case.expectations())
            .unwrap_err()
            .to_string(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
    );
}

#[test]
fn an_appended_session_token_is_not_signed_but_reaches_the_caller() {
    // Header and query forms alike: a token added after signing is not covered by the
    // signature, so what vouches for it is the caller's check that it belongs to the key.
    let dir = vectors_dir().join("post-sts-header-after");
    for form in [Form::Header, Form::Query] {
        let case = load("post-sts-header-after", &dir, form);
        let mut r = case.signed.clone();
        match form {
            Form::Header => *r.header_mut("x-amz-security-token").unwrap() = "other".into(),
            Form::Query => {
                let start = r.query.find("X-Amz-Security-Token=").unwrap();
                let end = start + r.query[start..].find('&').unwrap();
                r.query
                    .replace_range(start..end, "X-Amz-Security-Token=other");
            }
        }
        let auth = parse(&r.view(), case.ctx.timestamp, &case.expectations()).unwrap();
        assert_eq!(auth.session_token(), Some("other"), "{form:?}");
        assert_eq!(verify(&r.view(), &auth, &case.secret()), Ok(()), "{form:?}");
    }
}
