//! SigV4 verification of a realistic DynamoDB PutItem request (the headers botocore sends,
//! a ~300-byte body): `parse` alone, `parse` + `verify_cached` with a warm key cache (what
//! the server pays per request), and `parse` + `verify` (key derivation every time).
//!
//! `cargo bench -p rampart-sigv4 --bench verify`. Measurements, not tests: nothing asserted
//! beyond the fixture verifying once.

#![expect(
    clippy::expect_used,
    reason = "a benchmark fixture: failing loudly is the right behaviour"
)]
#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, criterion_group, criterion_main};
use rampart_core::Secret;
use rampart_sigv4::{
    Expectations, PresignedToken, SignedRequest, SigningKeyCache, canonical_request, parse,
    signature, signing_key, string_to_sign, verify, verify_cached,
};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const BODY: &str = r#"{"TableName":"BookCollection","Item":{"Author":{"S":"Acme Press"},"BookTitle":{"S":"The Rampart Handbook, second edition"},"Year":{"N":"2026"},"Pages":{"N":"412"},"Tags":{"SS":["security","databases","aws"]},"InPrint":{"BOOL":true}},"ConditionExpression":"attribute_not_exists(Author)","ReturnConsumedCapacity":"TOTAL"}"#;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_780_000_000)
}

/// Headers as botocore sends them for PutItem, with `signature` in `Authorization`.
fn headers(amz_date: &str, sig: &str) -> Vec<(String, String)> {
    let scope = format!(
        "{}/us-east-1/dynamodb/aws4_request",
        amz_date.get(..8).unwrap_or_default()
    );
    [
        ("Host", "127.0.0.1:8000"),
        ("Accept-Encoding", "identity"),
        ("X-Amz-Target", "DynamoDB_20120810.PutItem"),
        ("Content-Type", "application/x-amz-json-1.0"),
        ("User-Agent", "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.0"),
        ("X-Amz-Date", amz_date),
        ("Content-Length", "318"),
    ]
    .iter()
    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
    .chain(std::iter::once((
        "Authorization".to_owned(),
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/{scope}, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature={sig}"
        ),
    )))
    .collect()
}

fn request(headers: &[(String, String)]) -> SignedRequest<'_> {
    SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body: BODY.as_bytes(),
    }
}

/// The request signed for real, using the crate's own public pieces.
fn signed_headers() -> Vec<(String, String)> {
    let amz_date = "20260528T203320Z";
    let expect = Expectations::new("us-east-1", "dynamodb");
    let placeholder = headers(amz_date, &"0".repeat(64));
    let auth = parse(&request(&placeholder), now(), &expect).expect("fixture parses");
    let cr = canonical_request(&request(&placeholder), &auth, PresignedToken::Signed);
    let sts = string_to_sign(&auth, &cr);
    let key = signing_key(
        &Secret::new(SECRET.to_owned()),
        auth.scope_date(),
        "us-east-1",
        "dynamodb",
    );
    headers(amz_date, &signature(&key, &sts))
}

fn bench(c: &mut Criterion) {
    let hs = signed_headers();
    let req = request(&hs);
    let expect = Expectations::new("us-east-1", "dynamodb");
    let secret = Secret::new(SECRET.to_owned());
    let auth = parse(&req, now(), &expect).expect("fixture parses");
    verify(&req, &auth, &secret).expect("fixture verifies");
    let cache = SigningKeyCache::default();

    let mut g = c.benchmark_group("sigv4");
    g.bench_function("parse", |b| {
        b.iter(|| parse(black_box(&req), now(), &expect).is_ok())
    });
    g.bench_function("parse_verify_cached", |b| {
        b.iter(|| {
            let auth = parse(black_box(&req), now(), &expect).expect("parses");
            verify_cached(&req, &auth, &secret, &cache).is_ok()
        })
    });
    g.bench_function("parse_verify_uncached", |b| {
        b.iter(|| {
            let auth = parse(black_box(&req), now(), &expect).expect("parses");
            verify(&req, &auth, &secret).is_ok()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
