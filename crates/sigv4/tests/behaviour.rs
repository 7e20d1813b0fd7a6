//! The verifier's behaviour, one test per rule: every error variant with AWS's exact text, the
//! clock-skew and expiry boundaries, canonicalization rules seen from the outside, the signing
//! key cache, and two requests signed by others (AWS's documentation example, and a DynamoDB
//! call shaped like an SDK's).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a broken fixture must fail the test loudly"
)]

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::{Req, Signer, amz};
use rampart_core::Secret;
use rampart_sigv4::{
    Expectations, ExpiresProblem, MissingAuthorizationParts, MissingQueryParameters,
    PresignedToken, ScopeMismatch, SigV4Error, SignedRequest, SigningKeyCache, canonical_request,
    parse, string_to_sign, verify, verify_cached,
};
use sha2::{Digest, Sha256};

const KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const DATE: &str = "20150830T123600Z";
const DDB: Expectations<'static> = Expectations::new("us-east-1", "dynamodb");

fn signer() -> Signer<'static> {
    Signer {
        access_key_id: KEY_ID,
        secret: SECRET,
        region: "us-east-1",
        service: "dynamodb",
    }
}

fn secret() -> Secret<String> {
    Secret::new(SECRET.to_string())
}

/// An unsigned DynamoDB call, as the AWS SDKs send it.
fn dynamodb_call() -> Req {
    Req {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: vec![
            ("Host".into(), "dynamodb.us-east-1.amazonaws.com".into()),
            ("Content-Type".into(), "application/x-amz-json-1.0".into()),
            ("X-Amz-Target".into(), "DynamoDB_20120810.ListTables".into()),
            ("Content-Length".into(), "2".into()),
        ],
        body: b"{}".to_vec(),
    }
}

const SIGNED: &[&str] = &["content-type", "host", "x-amz-date", "x-amz-target"];

fn signed_call() -> Req {
    let mut r = dynamodb_call();
    signer().sign_header(&mut r, DATE, SIGNED);
    r
}

fn presigned_call(expires: Option<u32>) -> Req {
    let mut r = dynamodb_call();
    r.body.clear();
    r.method = "GET".into();
    signer().sign_query(&mut r, DATE, expires, &["host"]);
    r
}

/// Parses at `now` then verifies with the right secret.
fn check_at(
    r: &Req,
    now: std::time::SystemTime,
    expected: &Expectations<'_>,
) -> Result<(), SigV4Error> {
    let auth = parse(&r.view(), now, expected)?;
    verify(&r.view(), &auth, &secret())
}

fn check(r: &Req) -> Result<(), SigV4Error> {
    check_at(r, amz(DATE), &DDB)
}

fn hashed(authorization: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(authorization.as_bytes()))
}

fn with_authorization(value: &str) -> Req {
    let mut r = dynamodb_call();
    r.headers.push(("X-Amz-Date".into(), DATE.into()));
    r.headers.push(("Authorization".into(), value.into()));
    r
}

const AUTH_PREFIX: &str =
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/dynamodb/aws4_request";
const SIG: &str = "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

// ---------------------------------------------------------------- accepted requests

#[test]
fn dynamodb_call_signed_like_an_sdk_is_accepted() {
    let r = signed_call();
    let auth = parse(&r.view(), amz(DATE), &DDB).unwrap();
    assert_eq!(auth.access_key_id(), KEY_ID);
    assert_eq!(
        auth.credential_scope(),
        "20150830/us-east-1/dynamodb/aws4_request"
    );
    assert_eq!(auth.scope_date(), "20150830");
    assert_eq!(auth.region(), "us-east-1");
    assert_eq!(auth.service(), "dynamodb");
    assert_eq!(auth.amz_date(), DATE);
    assert_eq!(auth.signed_at(), amz(DATE));
    assert_eq!(auth.signed_headers().collect::<Vec<_>>(), SIGNED);
    assert_eq!(auth.session_token(), None);
    assert!(!auth.is_presigned());
    assert_eq!(auth.expires(), None);
    assert_eq!(verify(&r.view(), &auth, &secret()), Ok(()));
}

#[test]
fn aws_documentation_example_iam_list_users_is_accepted() {
    // The worked example of AWS's SigV4 documentation ("Create a canonical request", "Create a
    // string to sign", "Calculate the signature"; General Reference, reproduced in the IAM user
    // guide): IAM ListUsers signed on 2015-08-30 by AKIDEXAMPLE. Its published values: the
    // canonical request hash f536975d..., and the signature 5d672d79... (also quoted in
    // arnemolland/sigv4#15). Signed by AWS's own tooling, not by this crate.
    let r = Req {
        method: "GET".into(),
        path: "/".into(),
        query: "Action=ListUsers&Version=2010-05-08".into(),
        headers: vec![
            (
                "Authorization".into(),
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7".into(),
            ),
            (
                "content-type".into(),
                "application/x-www-form-urlencoded; charset=utf-8".into(),
            ),
            ("host".into(), "iam.amazonaws.com".into()),
            ("x-amz-date".into(), "20150830T123600Z".into()),
        ],
        body: Vec::new(),
    };
    let iam = Expectations::new("us-east-1", "iam");
    let auth = parse(&r.view(), amz(DATE), &iam).unwrap();
    let creq = canonical_request(&r.view(), &auth, PresignedToken::Signed);
    assert_eq!(
        creq,
        "GET\n/\nAction=ListUsers&Version=2010-05-08\n\
         content-type:application/x-www-form-urlencoded; charset=utf-8\n\
         host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
         content-type;host;x-amz-date\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        string_to_sign(&auth, &creq),
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n\
         f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
    );
    assert_eq!(verify(&r.view(), &auth, &secret()), Ok(()));
}

#[test]
fn date_header_stands_in_for_a_missing_x_amz_date() {
    let mut r = dynamodb_call();
    signer().sign_header_dated(&mut r, "Date", DATE, &["date", "host"]);
    assert_eq!(check(&r), Ok(()));
}

#[test]
fn percent_encoded_path_is_encoded_again_as_botocore_signs_it() {
    let mut r = dynamodb_call();
    r.path = "/a%20b/".into();
    signer().sign_header(&mut r, DATE, SIGNED);
    let auth = parse(&r.view(), amz(DATE), &DDB).unwrap();
    assert!(
        canonical_request(&r.view(), &auth, PresignedToken::Signed)
            .starts_with("POST\n/a%2520b/\n")
    );
    assert_eq!(check(&r), Ok(()));
    // The decoded path is another path.
    r.path = "/a b/".into();
    assert_eq!(check(&r), Err(SigV4Error::SignatureDoesNotMatch));
}

#[test]
fn dot_segments_and_double_slashes_in_the_path_are_normalized_before_signing() {
    let mut r = dynamodb_call();
    r.path = "/a/./b//c/../".into();
    signer().sign_header(&mut r, DATE, SIGNED);
    r.path = "/a/b/".into();
    assert_eq!(check(&r), Ok(()));
}

// ---------------------------------------------------------------- headers

#[test]
fn duplicate_headers_are_signed_joined_in_order() {
    let mut r = dynamodb_call();
    r.headers.push(("X-Custom".into(), "one".into()));
    r.headers.push(("x-custom".into(), "two".into()));
    signer().sign_header(&mut r, DATE, &["host", "x-amz-date", "x-custom"]);
    let auth = parse(&r.view(), amz(DATE), &DDB).unwrap();
    assert!(
        canonical_request(&r.view(), &auth, PresignedToken::Signed)
            .contains("\nx-custom:one,two\n")
    );
    assert_eq!(check(&r), Ok(()));
    // The same values in the other order are another request.
    let mut swapped = r.clone();
    let (a, b) = (
        swapped
            .headers
            .iter()
            .position(|(n, _)| n == "X-Custom")
            .unwrap(),
        swapped
            .headers
            .iter()
            .position(|(n, _)| n == "x-custom")
            .unwrap(),
    );
    swapped.headers.swap(a, b);
    assert_eq!(check(&swapped), Err(SigV4Error::SignatureDoesNotMatch));
}

#[test]
fn header_with_multiple_spaces_is_signed_with_them_collapsed() {
    let mut r = dynamodb_call();
    r.headers.push(("X-Custom".into(), "  a   b \t c  ".into()));
    signer().sign_header(&mut r, DATE, &["host", "x-amz-date", "x-custom"]);
    assert_eq!(check(&r), Ok(()));
    // Spacing is not signed...
    *r.header_mut("x-custom").unwrap() = "a b c".into();
    assert_eq!(check(&r), Ok(()));
    // ...but the words are.
    *r.header_mut("x-custom").unwrap() = "a bc".into();
    assert_eq!(check(&r), Err(SigV4Error::SignatureDoesNotMatch));
}

#[test]
fn header_names_match_in_any_case() {
    let mut r = signed_call();
    for (name, _) in &mut r.headers {
        *name = name.to_uppercase();
    }
    assert_eq!(check(&r), Ok(()));
}

#[test]
fn unsigned_headers_may_change() {
    let mut r = signed_call();
    r.headers.push(("User-Agent".into(), "anything".into()));
    *r.header_mut("content-length").unwrap() = "3".into();
    assert_eq!(check(&r), Ok(()));
}

// ---------------------------------------------------------------- MissingAuthenticationToken

#[test]
fn missing_authorization_is_missing_authentication_token() {
    let e = check(&dynamodb_call()).unwrap_err();
    assert_eq!(e, SigV4Error::MissingAuthenticationToken);
    assert_eq!(e.to_string(), "Request is missing Authentication Token");
}

#[test]
fn authorization_that_is_not_sigv4_is_missing_authentication_token() {
    for value in [
        "",
        "   ",
        "Bearer abc",
        "AWS AKIDEXAMPLE:c2lnbmF0dXJl",
        "aws4-hmac-sha256 x",
    ] {
        assert_eq!(
            check(&with_authorization(value)),
            Err(SigV4Error::MissingAuthenticationToken),
            "{value:?}"
        );
    }
}

// ---------------------------------------------------------------- InvalidSignatureException

#[test]
fn header_and_query_authentication_together_are_refused() {
    let mut r = signed_call();
    r.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256".into();
    let e = check(&r).unwrap_err();
    assert_eq!(e, SigV4Error::AmbiguousAuthentication);
    assert_eq!(
        e.to_string(),
        "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
    );
}

#[test]
fn wrong_signature_is_signature_mismatch() {
    let mut r = signed_call();
    let v = r.header_mut("authorization").unwrap();
    let last = v.pop().unwrap();
    v.push(if last == '0' { '1' } else { '0' });
    let e = check(&r).unwrap_err();
    assert_eq!(e, SigV4Error::SignatureDoesNotMatch);
    assert_eq!(
        e.to_string(),
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    );
}

#[test]
fn signature_in_upper_case_or_of_the_wrong_length_is_a_mismatch() {
    let good = signed_call();
    let sig = good
        .header("authorization")
        .unwrap()
        .rsplit('=')
        .next()
        .unwrap()
        .to_string();
    for bad in [
        sig.to_uppercase(),
        sig[..62].to_string(),
        format!("{sig}00"),
        String::from("zz"),
    ] {
        let mut r = good.clone();
        let v = r.header_mut("authorization").unwrap();
        *v = v.replace(&sig, &bad);
        assert_eq!(check(&r), Err(SigV4Error::SignatureDoesNotMatch), "{bad}");
    }
}

#[test]
fn wrong_secret_is_signature_mismatch() {
    let r = signed_call();
    let auth = parse(&r.view(), amz(DATE), &DDB).unwrap();
    let other = Secret::new(String::from("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ"));
    assert_eq!(
        verify(&r.view(), &auth, &other),
        Err(SigV4Error::SignatureDoesNotMatch)
    );
}

#[test]
fn changed_body_is_signature_mismatch() {
    let mut r = signed_call();
    r.body = b"{ }".to_vec();
    assert_eq!(check(&r), Err(SigV4Error::SignatureDoesNotMatch));
}

#[test]
fn unsigned_payload_is_refused_outside_s3() {
    for declared in [
        "UNSIGNED-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        // The SHA-256 of another body.
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ] {
        let mut r = dynamodb_call();
        r.headers
            .push(("X-Amz-Content-Sha256".into(), declared.into()));
        signer().sign_header(
            &mut r,
            DATE,
            &["host", "x-amz-content-sha256", "x-amz-date"],
        );
        let e = check(&r).unwrap_err();
        assert_eq!(e, SigV4Error::PayloadHashMismatch, "{declared}");
        assert_eq!(e.to_string(), SigV4Error::SignatureDoesNotMatch.to_string());
    }
    // Declared in a presigned query, too.
    let mut r = dynamodb_call();
    r.method = "GET".into();
    r.query = "X-Amz-Content-Sha256=UNSIGNED-PAYLOAD".into();
    signer().sign_query(&mut r, DATE, Some(60), &["host"]);
    assert_eq!(check(&r), Err(SigV4Error::PayloadHashMismatch));
}

#[test]
fn declared_payload_hash_equal_to_the_body_hash_is_accepted() {
    let mut r = dynamodb_call();
    let hash = hex::encode(Sha256::digest(&r.body));
    r.headers.push(("X-Amz-Content-Sha256".into(), hash));
    signer().sign_header(
        &mut r,
        DATE,
        &["host", "x-amz-content-sha256", "x-amz-date"],
    );
    assert_eq!(check(&r), Ok(()));
}

#[test]
fn host_must_be_signed() {
    let mut r = dynamodb_call();
    r.headers.push(("X-Amz-Date".into(), DATE.into()));
    for signed in ["x-amz-date", ""] {
        r.headers.retain(|(n, _)| n != "Authorization");
        r.headers.push((
            "Authorization".into(),
            format!("{AUTH_PREFIX}, SignedHeaders={signed}, {SIG}"),
        ));
        let e = check(&r).unwrap_err();
        assert_eq!(e, SigV4Error::HostNotSigned, "{signed:?}");
        assert_eq!(
            e.to_string(),
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
        );
    }
}

// ---------------------------------------------------------------- clock skew

#[test]
fn signature_dated_exactly_15_minutes_ago_is_accepted() {
    let r = signed_call();
    assert_eq!(
        check_at(&r, amz(DATE) + Duration::from_secs(900), &DDB),
        Ok(())
    );
    // Fractions of a second are ignored, as AWS's second-precision messages suggest.
    assert_eq!(
        check_at(&r, amz(DATE) + Duration::from_millis(900_999), &DDB),
        Ok(())
    );
}

#[test]
fn signature_dated_15_minutes_and_1_second_ago_is_rejected() {
    let r = signed_call();
    let e = check_at(&r, amz(DATE) + Duration::from_secs(901), &DDB).unwrap_err();
    assert!(matches!(
        e,
        SigV4Error::SignatureExpired {
            window_seconds: 900,
            ..
        }
    ));
    assert_eq!(
        e.to_string(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)"
    );
}

#[test]
fn signature_dated_exactly_15_minutes_in_the_future_is_accepted() {
    let r = signed_call();
    assert_eq!(
        check_at(&r, amz(DATE) - Duration::from_secs(900), &DDB),
        Ok(())
    );
}

#[test]
fn signature_dated_15_minutes_and_1_second_in_the_future_is_rejected() {
    let r = signed_call();
    let e = check_at(&r, amz(DATE) - Duration::from_secs(901), &DDB).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T122059Z + 15 min.)"
    );
}

#[test]
fn signature_dated_16_minutes_in_the_future_is_rejected() {
    let r = signed_call();
    let e = check_at(&r, amz(DATE) - Duration::from_secs(960), &DDB).unwrap_err();
    assert_eq!(
        e,
        SigV4Error::SignatureNotYetCurrent {
            signed_at: 1_440_938_160,
            now: 1_440_938_160 - 960,
            window_seconds: 900
        }
    );
    assert_eq!(
        e.to_string(),
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123500Z (20150830T122000Z + 15 min.)"
    );
}

#[test]
fn malformed_date_is_incomplete_signature() {
    for (header, value) in [
        ("X-Amz-Date", "201"),
        ("X-Amz-Date", "2015-08-30T12:36:00Z"),
        ("X-Amz-Date", "20150830T123600"),
        ("X-Amz-Date", "20150231T123600Z"),
        ("Date", "Sun, 30 Aug 2015 12:36:00 GMT"),
    ] {
        let mut r = dynamodb_call();
        r.headers.push((header.into(), value.into()));
        r.headers.push((
            "Authorization".into(),
            format!("{AUTH_PREFIX}, SignedHeaders=host, {SIG}"),
        ));
        let e = check(&r).unwrap_err();
        assert_eq!(e, SigV4Error::MalformedDate(value.into()));
        assert_eq!(
            e.to_string(),
            format!(
                "Date must be in ISO-8601 'basic format'. Got '{value}'. See http://en.wikipedia.org/wiki/ISO_8601"
            )
        );
    }
}

// ---------------------------------------------------------------- IncompleteSignatureException

#[test]
fn authorization_component_without_equal_sign_is_incomplete_signature() {
    // An access key pasted with a space in it (awslabs/fhir-works-on-aws-deployment#379).
    let value = "AWS4-HMAC-SHA256 Credential=AKID /20150830/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=abc";
    let e = check(&with_authorization(value)).unwrap_err();
    assert_eq!(
        e,
        SigV4Error::MalformedAuthorization {
            authorization_sha256: hashed(value)
        }
    );
    assert_eq!(
        e.to_string(),
        format!(
            "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '{}'.",
            hashed(value)
        )
    );
    assert!(!e.to_string().contains("abc"));
}

#[test]
fn authorization_components_may_be_separated_by_commas_or_spaces() {
    let r = signed_call();
    let mut compact = r.clone();
    let v = compact.header_mut("authorization").unwrap();
    *v = v.replace(", ", ",");
    assert_eq!(check(&compact), Ok(()));
    let mut spaced = r;
    let v = spaced.header_mut("authorization").unwrap();
    *v = format!("  {}  ", v.replace(", ", "   "));
    assert_eq!(check(&spaced), Ok(()));
}

#[test]
fn authorization_missing_signature_and_date_names_both() {
    let value = format!("{AUTH_PREFIX}, SignedHeaders=host");
    let mut r = dynamodb_call();
    r.headers.push(("Authorization".into(), value.clone()));
    let e = check(&r).unwrap_err();
    assert_eq!(
        e,
        SigV4Error::IncompleteAuthorization {
            missing: MissingAuthorizationParts {
                signature: true,
                date: true,
                ..Default::default()
            },
            authorization_sha256: hashed(&value),
        }
    );
    assert_eq!(
        e.to_string(),
        format!(
            "Authorization header requires 'Signature' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. (Hashed with SHA-256 and encoded with Base64) Authorization={}",
            hashed(&value)
        )
    );
}

#[test]
fn authorization_with_only_the_algorithm_names_every_missing_part() {
    let mut r = dynamodb_call();
    r.headers
        .push(("Authorization".into(), "AWS4-HMAC-SHA256".into()));
    assert_eq!(
        check(&r).unwrap_err().to_string(),
        format!(
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. (Hashed with SHA-256 and encoded with Base64) Authorization={}",
            hashed("AWS4-HMAC-SHA256")
        )
    );
}

#[test]
fn empty_credential_or_signature_counts_as_missing() {
    let value = "AWS4-HMAC-SHA256 Credential=, SignedHeaders=host, Signature=";
    let e = check(&with_authorization(value)).unwrap_err();
    assert!(matches!(
        e,
        SigV4Error::IncompleteAuthorization {
            missing: MissingAuthorizationParts {
                credential: true,
                signature: true,
                signed_headers: false,
                date: false
            },
            ..
        }
    ));
}

#[test]
fn presigned_request_missing_parameters_names_each() {
    let mut r = dynamodb_call();
    r.query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=&X-Amz-SignedHeaders=host".into();
    let e = check(&r).unwrap_err();
    assert_eq!(
        e,
        SigV4Error::IncompleteQueryParameters(MissingQueryParameters {
            credential: true,
            signature: true,
            date: true,
            ..Default::default()
        })
    );
    assert_eq!(
        e.to_string(),
        "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."
    );
    r.query = "X-Amz-Algorithm=".into();
    assert!(check(&r).unwrap_err().to_string().starts_with(
        "AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string parameters must include 'X-Amz-Credential'."
    ));
}

#[test]
fn signed_header_absent_from_the_request_is_incomplete_signature() {
    let mut r = signed_call();
    r.headers.retain(|(n, _)| n != "X-Amz-Target");
    let e = check(&r).unwrap_err();
    assert_eq!(e, SigV4Error::SignedHeaderMissing("x-amz-target".into()));
    assert_eq!(
        e.to_string(),
        "'x-amz-target' is named as a SignedHeader, but it does not exist in the HTTP request."
    );
}

#[test]
fn unsupported_algorithm_is_incomplete_signature() {
    let mut r = signed_call();
    let v = r.header_mut("authorization").unwrap();
    *v = v.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256");
    let e = check(&r).unwrap_err();
    assert_eq!(
        e,
        SigV4Error::UnsupportedAlgorithm("AWS4-ECDSA-P256-SHA256".into())
    );
    assert_eq!(
        e.to_string(),
        "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256' (only AWS4-HMAC-SHA256 for now). "
    );
    let mut q = presigned_call(Some(60));
    q.query = q.query.replace(
        "X-Amz-Algorithm=AWS4-HMAC-SHA256",
        "X-Amz-Algorithm=AWS4-HMAC-SHA512",
    );
    assert_eq!(
        check(&q),
        Err(SigV4Error::UnsupportedAlgorithm("AWS4-HMAC-SHA512".into()))
    );
}

#[test]
fn credential_without_five_elements_is_incomplete_signature() {
    let mut r = signed_call();
    let v = r.header_mut("authorization").unwrap();
    *v = v.replace("/aws4_request", "");
    let e = check(&r).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/dynamodb'"
    );
    let v = r.header_mut("authorization").unwrap();
    *v = v.replace("/dynamodb", "/dynamodb/aws4_request/extra");
    assert!(matches!(check(&r), Err(SigV4Error::MalformedCredential(_))));
}

#[test]
fn trailing_slashes_of_the_credential_are_ignored() {
    let mut r = signed_call();
    let v = r.header_mut("authorization").unwrap();
    *v = v.replace("/aws4_request,", "/aws4_request//,");
    assert_eq!(check(&r), Ok(()));
}

#[test]
fn malformed_x_amz_expires_is_refused_with_s3s_texts() {
    for (value, problem, text) in [
        (
            "soon",
            ExpiresProblem::NotANumber,
            "X-Amz-Expires should be a number",
        ),
        (
            "",
            ExpiresProblem::NotANumber,
            "X-Amz-Expires should be a number",
        ),
        (
            "-1",
            ExpiresProblem::Negative,
            "X-Amz-Expires must be non-negative",
        ),
        (
            "604801",
            ExpiresProblem::MoreThanAWeek,
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds",
        ),
    ] {
        let mut r = presigned_call(Some(60));
        r.query = r
            .query
            .replace("X-Amz-Expires=60", &format!("X-Amz-Expires={value}"));
        let e = check(&r).unwrap_err();
        assert_eq!(e, SigV4Error::MalformedExpires(problem), "{value}");
        assert_eq!(e.to_string(), text);
    }
}

// ---------------------------------------------------------------- credential scope

#[test]
fn credential_scoped_to_another_region_is_rejected() {
    let mut r = dynamodb_call();
    Signer {
        region: "xx-west-9",
        ..signer()
    }
    .sign_header(&mut r, DATE, SIGNED);
    let e = check(&r).unwrap_err();
    assert_eq!(
        e,
        SigV4Error::CredentialScopeMismatch(Box::new(ScopeMismatch {
            region: Some("xx-west-9".into()),
            ..Default::default()
        }))
    );
    assert_eq!(
        e.to_string(),
        "Credential should be scoped to a valid region. "
    );
}

#[test]
fn credential_scoped_to_another_service_is_rejected() {
    let mut r = dynamodb_call();
    Signer {
        service: "execute-api",
        ..signer()
    }
    .sign_header(&mut r, DATE, SIGNED);
    assert_eq!(
        check(&r).unwrap_err().to_string(),
        "Credential should be scoped to correct service: 'dynamodb'. "
    );
}

#[test]
fn every_wrong_part_of_the_scope_is_reported_at_once() {
    let value = "AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=x";
    assert_eq!(
        check(&with_authorization(value)).unwrap_err().to_string(),
        "Credential should be scoped to a valid region. \
         Credential should be scoped to correct service: 'dynamodb'. \
         Credential should be scoped with a valid terminator: 'aws4_request', not 'e'. \
         Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: 'b' != '20150830', from '20150830T123600Z'. "
    );
}

#[test]
fn credential_dated_another_day_is_rejected() {
    let mut r = signed_call();
    let v = r.header_mut("authorization").unwrap();
    *v = v.replace("/20150830/", "/20150829/");
    assert_eq!(
        check(&r).unwrap_err().to_string(),
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150829' != '20150830', from '20150830T123600Z'. "
    );
}

// ---------------------------------------------------------------- presigned expiry

#[test]
fn presigned_request_within_its_expiry_is_accepted() {
    let r = presigned_call(Some(300));
    assert_eq!(
        check_at(&r, amz(DATE) + Duration::from_secs(300), &DDB),
        Ok(())
    );
    let auth = parse(&r.view(), amz(DATE), &DDB).unwrap();
    assert!(auth.is_presigned());
    assert_eq!(auth.expires(), Some(300));
}

#[test]
fn presigned_request_past_its_x_amz_expires_is_rejected() {
    let r = presigned_call(Some(60));
    let e = check_at(&r, amz(DATE) + Duration::from_secs(61), &DDB).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T123701Z - 1 min.)"
    );
    let r = presigned_call(Some(90));
    assert_eq!(
        check_at(&r, amz(DATE) + Duration::from_secs(91), &DDB)
            .unwrap_err()
            .to_string(),
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T123731Z - 90 sec.)"
    );
}

#[test]
fn presigned_request_lives_at_most_15_minutes_unless_the_server_allows_longer() {
    let r = presigned_call(Some(3600));
    let at = |s| amz(DATE) + Duration::from_secs(s);
    assert_eq!(check_at(&r, at(900), &DDB), Ok(()));
    assert!(matches!(
        check_at(&r, at(901), &DDB),
        Err(SigV4Error::SignatureExpired {
            window_seconds: 900,
            ..
        })
    ));
    let s3_rule = DDB.with_max_presigned_lifetime(Duration::from_secs(604_800));
    assert_eq!(check_at(&r, at(3600), &s3_rule), Ok(()));
    assert!(check_at(&r, at(3601), &s3_rule).is_err());
    // Without X-Amz-Expires: the header rule.
    let r = presigned_call(None);
    assert_eq!(check_at(&r, at(900), &s3_rule), Ok(()));
    assert!(check_at(&r, at(901), &s3_rule).is_err());
}

#[test]
fn presigned_request_for_a_week_is_accepted_a_week_later_under_s3s_rule() {
    let r = presigned_call(Some(604_800));
    let s3_rule = DDB.with_max_presigned_lifetime(Duration::from_secs(604_800));
    assert_eq!(
        check_at(&r, amz(DATE) + Duration::from_secs(604_800), &s3_rule),
        Ok(())
    );
    assert!(check_at(&r, amz(DATE) + Duration::from_secs(604_801), &s3_rule).is_err());
}

#[test]
fn presigned_request_dated_16_minutes_in_the_future_is_rejected() {
    let r = presigned_call(Some(3600));
    let e = check_at(&r, amz(DATE) - Duration::from_secs(960), &DDB).unwrap_err();
    assert!(matches!(e, SigV4Error::SignatureNotYetCurrent { .. }));
    assert_eq!(
        check_at(&r, amz(DATE) - Duration::from_secs(900), &DDB),
        Ok(())
    );
}

#[test]
fn presigned_request_signature_covers_every_other_parameter() {
    let r = presigned_call(Some(60));
    let mut changed = r.clone();
    changed.query = changed
        .query
        .replace("X-Amz-Expires=60", "X-Amz-Expires=61");
    assert_eq!(check(&changed), Err(SigV4Error::SignatureDoesNotMatch));
    let mut extra = r.clone();
    extra.query.push_str("&Action=DeleteTable");
    assert_eq!(check(&extra), Err(SigV4Error::SignatureDoesNotMatch));
}

// ---------------------------------------------------------------- caller-raised errors

#[test]
fn caller_raised_errors_have_aws_texts() {
    assert_eq!(
        SigV4Error::UnrecognizedClient.to_string(),
        "The security token included in the request is invalid."
    );
    assert_eq!(
        SigV4Error::InvalidSecurityToken.to_string(),
        "The security token included in the request is invalid"
    );
}

// ---------------------------------------------------------------- secrets stay secret

#[test]
fn no_error_or_debug_output_shows_the_signature_secret_or_session_token() {
    let mut r = dynamodb_call();
    r.headers
        .push(("X-Amz-Security-Token".into(), "TOKEN-SECRET-VALUE".into()));
    signer().sign_header(&mut r, DATE, SIGNED);
    let sig = r
        .header("authorization")
        .unwrap()
        .rsplit('=')
        .next()
        .unwrap()
        .to_string();
    let auth = parse(&r.view(), amz(DATE), &DDB).unwrap();
    assert_eq!(auth.session_token(), Some("TOKEN-SECRET-VALUE"));
    let debug = format!("{auth:?}");
    assert!(
        !debug.contains(&sig) && !debug.contains("TOKEN-SECRET-VALUE"),
        "{debug}"
    );

    let mut messages = Vec::new();
    let mut broken = r.clone();
    let v = broken.header_mut("authorization").unwrap();
    *v = v.replace("SignedHeaders", "SignedHeaders ");
    messages.push(check(&broken).unwrap_err().to_string());
    let mut broken = r.clone();
    broken.headers.retain(|(n, _)| n != "X-Amz-Date");
    messages.push(check(&broken).unwrap_err().to_string());
    let mut broken = r.clone();
    broken.body.push(b' ');
    messages.push(check(&broken).unwrap_err().to_string());
    messages.push(
        check_at(&r, amz(DATE) + Duration::from_secs(3600), &DDB)
            .unwrap_err()
            .to_string(),
    );
    let cache = SigningKeyCache::new(4);
    messages.push(format!("{cache:?}"));
    for m in messages {
        assert!(!m.contains(&sig), "{m}");
        assert!(!m.contains(SECRET), "{m}");
        assert!(!m.contains("TOKEN-SECRET-VALUE"), "{m}");
    }
}

// ---------------------------------------------------------------- signing-key cache

#[test]
fn cached_signing_key_is_never_used_with_another_secret() {
    let r = signed_call();
    let auth = parse(&r.view(), amz(DATE), &DDB).unwrap();
    let cache = SigningKeyCache::new(8);
    let other = Secret::new(String::from("another secret"));
    assert_eq!(verify_cached(&r.view(), &auth, &secret(), &cache), Ok(()));
    assert_eq!(cache.len(), 1);
    assert_eq!(
        verify_cached(&r.view(), &auth, &other, &cache),
        Err(SigV4Error::SignatureDoesNotMatch)
    );
    assert_eq!(verify_cached(&r.view(), &auth, &secret(), &cache), Ok(()));
    cache.clear();
    assert!(cache.is_empty());
}

#[test]
fn signing_key_cache_is_bounded() {
    let cache = SigningKeyCache::new(2);
    for key_id in ["AKID1", "AKID2", "AKID3", "AKID4"] {
        let mut r = dynamodb_call();
        Signer {
            access_key_id: key_id,
            ..signer()
        }
        .sign_header(&mut r, DATE, SIGNED);
        let auth = parse(&r.view(), amz(DATE), &DDB).unwrap();
        assert_eq!(verify_cached(&r.view(), &auth, &secret(), &cache), Ok(()));
        assert!(cache.len() <= 2);
    }
    assert_eq!(cache.len(), 2);
    assert!(SigningKeyCache::default().is_empty());
    let off = SigningKeyCache::new(0);
    let r = signed_call();
    let auth = parse(&r.view(), amz(DATE), &DDB).unwrap();
    assert_eq!(verify_cached(&r.view(), &auth, &secret(), &off), Ok(()));
    assert!(off.is_empty());
}

#[test]
fn signing_key_cache_is_shared_across_threads() {
    let cache = SigningKeyCache::new(16);
    let r = signed_call();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let auth = parse(&r.view(), amz(DATE), &DDB).unwrap();
                for _ in 0..50 {
                    assert_eq!(verify_cached(&r.view(), &auth, &secret(), &cache), Ok(()));
                }
            });
        }
    });
    assert_eq!(cache.len(), 1);
}

#[test]
fn signed_request_view_is_cheap_to_copy() {
    let r = signed_call();
    let view: SignedRequest<'_> = r.view();
    let copy = view;
    assert_eq!(copy.method, view.method);
}
