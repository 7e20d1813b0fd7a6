//! Property tests: `parse`, `verify` and the diagnostics never panic, whatever the request,
//! and whatever the clock says. Requests are drawn from a mix of noise and near-valid SigV4
//! (right shape, random parts) so that every stage is reached, not just the first check.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a broken fixture must fail the test loudly"
)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use rampart_core::Secret;
use rampart_sigv4::{
    Expectations, PresignedToken, SignedRequest, SigningKeyCache, canonical_request, parse,
    string_to_sign, verify, verify_cached,
};

/// 2015-08-30T12:36:00Z, the date most near-valid requests carry.
const DATE_SECS: u64 = 1_440_938_160;

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9/%=;,. +&_~-]{0,24}",
        Just(String::new()),
        Just("AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request".to_string()),
        Just("20150830T123600Z".to_string()),
        Just("host;x-amz-date".to_string()),
        Just("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31".to_string()),
        Just("%".to_string()),
        Just("%E1%88".to_string()),
        Just("/../..//./".to_string()),
    ]
}

fn authorization() -> impl Strategy<Value = String> {
    prop_oneof![
        fragment(),
        (fragment(), fragment(), fragment(), fragment()).prop_map(|(alg, cred, signed, sig)| {
            format!("{alg} Credential={cred}, SignedHeaders={signed}, Signature={sig}")
        }),
        (fragment(), fragment(), fragment()).prop_map(|(cred, signed, sig)| {
            format!("AWS4-HMAC-SHA256 Credential={cred},SignedHeaders={signed} Signature={sig}")
        }),
    ]
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        Just("Authorization".to_string()),
        Just("host".to_string()),
        Just("X-Amz-Date".to_string()),
        Just("Date".to_string()),
        Just("x-amz-content-sha256".to_string()),
        Just("X-Amz-Security-Token".to_string()),
        Just(":authority".to_string()),
    ]
}

fn header() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        (header_name(), fragment()),
        (Just("Authorization".to_string()), authorization()),
        (
            Just("X-Amz-Date".to_string()),
            Just("20150830T123600Z".to_string())
        ),
        (
            Just("Host".to_string()),
            Just("example.amazonaws.com".to_string())
        ),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let param = prop_oneof![
        (fragment(), fragment()).prop_map(|(k, v)| format!("{k}={v}")),
        fragment().prop_map(|v| format!("X-Amz-Algorithm={v}")),
        fragment().prop_map(|v| format!("X-Amz-Credential={v}")),
        fragment().prop_map(|v| format!("X-Amz-Signature={v}")),
        fragment().prop_map(|v| format!("X-Amz-SignedHeaders={v}")),
        fragment().prop_map(|v| format!("X-Amz-Date={v}")),
        fragment().prop_map(|v| format!("X-Amz-Expires={v}")),
        fragment().prop_map(|v| format!("X-Amz-Security-Token={v}")),
        fragment().prop_map(|v| format!("X-Amz-Content-Sha256={v}")),
        Just("X-Amz-Algorithm=AWS4-HMAC-SHA256".to_string()),
        Just(
            "X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fdynamodb%2Faws4_request"
                .to_string()
        ),
        Just("X-Amz-Date=20150830T123600Z".to_string()),
        Just("X-Amz-SignedHeaders=host".to_string()),
    ];
    prop_oneof![
        fragment(),
        prop::collection::vec(param, 0..8).prop_map(|p| p.join("&")),
    ]
}

fn now() -> impl Strategy<Value = SystemTime> {
    prop_oneof![
        (0u64..4_000).prop_map(|d| UNIX_EPOCH + Duration::from_secs(DATE_SECS - 2_000 + d)),
        any::<u64>().prop_map(|s| UNIX_EPOCH + Duration::from_secs(s % (1 << 45))),
        any::<u32>().prop_map(|s| UNIX_EPOCH - Duration::from_millis(u64::from(s))),
        Just(UNIX_EPOCH),
    ]
}

#[derive(Debug, Clone)]
struct Input {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    now: SystemTime,
    region: String,
    service: String,
    lifetime: u64,
}

fn input() -> impl Strategy<Value = Input> {
    (
        prop_oneof![fragment(), Just("POST".to_string())],
        prop_oneof![fragment(), Just("/".to_string())],
        query(),
        prop::collection::vec(header(), 0..8),
        prop::collection::vec(any::<u8>(), 0..64),
        now(),
        prop_oneof![fragment(), Just("us-east-1".to_string())],
        prop_oneof![fragment(), Just("dynamodb".to_string())],
        any::<u64>(),
    )
        .prop_map(
            |(method, path, query, headers, body, now, region, service, lifetime)| Input {
                method,
                path,
                query,
                headers,
                body,
                now,
                region,
                service,
                lifetime,
            },
        )
}

/// Requests that pass `parse` (right scope, date and clock, signed headers present) with
/// arbitrary paths, queries, extra headers, bodies and signatures, so that canonicalization and
/// verification see noise too.
fn near_valid() -> impl Strategy<Value = Input> {
    (
        prop_oneof![any::<String>(), Just("POST".to_string())],
        prop_oneof![any::<String>(), fragment(), "[/a-z.%0-9A-F ]{0,24}"],
        prop_oneof![query(), Just(String::new())],
        prop::collection::vec((header_name(), fragment()), 0..4),
        prop::collection::vec(any::<u8>(), 0..64),
        0u64..1_800,
        any::<bool>(),
        prop_oneof![fragment(), "[0-9a-f]{64}"],
        any::<bool>(),
    )
        .prop_map(
            |(method, path, extra_query, extra, body, offset, sign_extra, signature, presign)| {
                let mut headers = vec![
                    ("Host".to_string(), "example.amazonaws.com".to_string()),
                    ("X-Amz-Date".to_string(), "20150830T123600Z".to_string()),
                ];
                let mut signed = vec!["host".to_string(), "x-amz-date".to_string()];
                for (name, value) in extra {
                    if sign_extra && !name.contains([';', ',', ' ', '=']) && !name.is_empty() {
                        signed.push(name.to_ascii_lowercase());
                    }
                    headers.push((name, value));
                }
                let credential = "AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request";
                let query = if presign {
                    headers.retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
                    let auth = format!(
                        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={}&X-Amz-Date=20150830T123600Z&X-Amz-SignedHeaders={}&X-Amz-Signature={signature}",
                        credential.replace('/', "%2F"),
                        signed.join("%3B")
                    );
                    if extra_query.contains("X-Amz-") { auth } else { format!("{extra_query}&{auth}") }
                } else {
                    headers.push((
                        "Authorization".to_string(),
                        format!(
                            "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={}, Signature={signature}",
                            signed.join(";")
                        ),
                    ));
                    if extra_query.contains("X-Amz-Algorithm") { String::new() } else { extra_query }
                };
                Input {
                    method,
                    path,
                    query,
                    headers,
                    body,
                    now: UNIX_EPOCH + Duration::from_secs(DATE_SECS - 900 + offset),
                    region: "us-east-1".to_string(),
                    service: "dynamodb".to_string(),
                    lifetime: 900,
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn near_valid_requests_never_panic(i in near_valid()) {
        let _ = exercise(&i);
    }

    #[test]
    fn parse_and_verify_never_panic(i in input()) {
        let _ = exercise(&i);
    }
}

/// Parses, then (when parsing succeeds) verifies, with and without the cache, and renders
/// every diagnostic; any panic fails the property.
fn exercise(i: &Input) -> Option<()> {
    let req = SignedRequest {
        method: &i.method,
        path: &i.path,
        query: &i.query,
        headers: &i.headers,
        body: &i.body,
    };
    let expected = Expectations::new(&i.region, &i.service)
        .with_max_presigned_lifetime(Duration::from_secs(i.lifetime));
    let cache = SigningKeyCache::new(2);
    match parse(&req, i.now, &expected) {
        Ok(auth) => {
            let secret = Secret::new(String::from("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"));
            let _ = verify(&req, &auth, &secret);
            let _ = verify_cached(&req, &auth, &secret, &cache);
            for token in [PresignedToken::Signed, PresignedToken::Appended] {
                let creq = canonical_request(&req, &auth, token);
                let _ = string_to_sign(&auth, &creq);
            }
            let _ = format!("{auth:?}");
            Some(())
        }
        Err(e) => {
            let _ = e.to_string();
            None
        }
    }
}

#[test]
fn near_valid_requests_mostly_reach_verification() {
    // Guards the generator: without it the properties above could test only the first check.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = near_valid();
    let mut parsed = 0;
    for _ in 0..500 {
        let i = strategy.new_tree(&mut runner).unwrap().current();
        if exercise(&i).is_some() {
            parsed += 1;
        }
    }
    assert!(
        parsed > 150,
        "only {parsed} of 500 near-valid requests parsed"
    );
}
