//! OpenID Connect ID-token verification (`rampart_iam::oidc`): tokens signed
//! here with static RSA test keys (`tests/data/oidc/*.pk8.pem`, generated once
//! with `openssl genpkey`, test-only) and ECDSA keys generated per run, checked
//! for acceptance, for each refusal with STS's error code and text, and for
//! never panicking on arbitrary input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] fns: a broken fixture must fail loudly"
)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use proptest::prelude::*;
use rampart_iam::error::IamError;
use rampart_iam::oidc::{
    CLOCK_SKEW_SECS, Jwks, OidcError, ProviderConfig, StsErrorCode, unverified_issuer,
    verify_id_token,
};
use ring::rand::SystemRandom;
use ring::rsa::PublicKeyComponents;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};

const NOW: i64 = 1_700_000_000;
const URL: &str = "idp.example.com/tenant-1";
const ISS: &str = "https://idp.example.com/tenant-1";
const CLIENT: &str = "rampart-app";

const NO_KEY_TEXT: &str = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";
const NOT_VALIDATED_TEXT: &str = "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.";

fn at(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap())
}

fn now() -> SystemTime {
    at(NOW)
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn pem_der(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/oidc/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

fn rsa_key(name: &str) -> RsaKeyPair {
    RsaKeyPair::from_pkcs8(&pem_der(name)).unwrap()
}

fn rsa_jwk(key: &RsaKeyPair, kid: &str) -> Value {
    let c = PublicKeyComponents::<Vec<u8>>::from(key.public());
    json!({"kty": "RSA", "kid": kid, "use": "sig", "n": b64(&c.n), "e": b64(&c.e)})
}

fn ec_key(alg: &'static signature::EcdsaSigningAlgorithm) -> EcdsaKeyPair {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap()
}

fn ec_jwk(key: &EcdsaKeyPair, crv: &str, kid: &str) -> Value {
    let point = key.public_key().as_ref();
    let len = (point.len() - 1) / 2;
    json!({
        "kty": "EC", "crv": crv, "kid": kid,
        "x": b64(&point[1..=len]), "y": b64(&point[1 + len..]),
    })
}

enum Signer<'a> {
    Rsa(&'a RsaKeyPair, &'static dyn signature::RsaEncoding),
    Ec(&'a EcdsaKeyPair),
    Hmac(&'a [u8]),
    Unsigned,
}

fn sign(header: &Value, claims: &Value, signer: &Signer<'_>) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let rng = SystemRandom::new();
    let sig = match signer {
        Signer::Rsa(key, encoding) => {
            let mut sig = vec![0; key.public().modulus_len()];
            key.sign(*encoding, &rng, input.as_bytes(), &mut sig)
                .unwrap();
            sig
        }
        Signer::Ec(key) => key.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec(),
        Signer::Hmac(secret) => {
            let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
            ring::hmac::sign(&key, input.as_bytes()).as_ref().to_vec()
        }
        Signer::Unsigned => Vec::new(),
    };
    format!("{input}.{}", b64(&sig))
}

fn claims() -> Value {
    json!({
        "iss": ISS,
        "sub": "user-4711",
        "aud": CLIENT,
        "iat": NOW - 60,
        "exp": NOW + 3600,
        "amr": ["pwd", "mfa"],
        "email": "ana@example.com",
    })
}

fn provider() -> ProviderConfig {
    ProviderConfig {
        url: URL.to_owned(),
        client_ids: vec!["other-app".to_owned(), CLIENT.to_owned()],
        thumbprints: vec!["9999999999999999999999999999999999999999".to_owned()],
    }
}

/// A test identity provider: RSA key `a` (kid `rsa-a`), a P-256 key (kid
/// `ec-256`) and a P-384 key (kid `ec-384`).
struct Idp {
    rsa: RsaKeyPair,
    p256: EcdsaKeyPair,
    p384: EcdsaKeyPair,
    jwks: Jwks,
    jwks_text: String,
}

fn idp() -> Idp {
    let rsa = rsa_key("rsa-2048-a.pk8.pem");
    let p256 = ec_key(&signature::ECDSA_P256_SHA256_FIXED_SIGNING);
    let p384 = ec_key(&signature::ECDSA_P384_SHA384_FIXED_SIGNING);
    let jwks_text = json!({"keys": [
        rsa_jwk(&rsa, "rsa-a"),
        ec_jwk(&p256, "P-256", "ec-256"),
        ec_jwk(&p384, "P-384", "ec-384"),
    ]})
    .to_string();
    let jwks = Jwks::parse(&jwks_text).unwrap();
    Idp {
        rsa,
        p256,
        p384,
        jwks,
        jwks_text,
    }
}

impl Idp {
    fn rs256(&self, claims: &Value) -> String {
        sign(
            &json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-a"}),
            claims,
            &Signer::Rsa(&self.rsa, &signature::RSA_PKCS1_SHA256),
        )
    }

    fn verify(&self, token: &str) -> Result<rampart_iam::oidc::Claims, OidcError> {
        verify_id_token(token, &provider(), &self.jwks, now())
    }
}

fn assert_refused(result: Result<rampart_iam::oidc::Claims, OidcError>, expected: &OidcError) {
    let err = result.expect_err("token should be refused");
    assert_eq!(&err, expected, "{}", err.detail());
}

// ---------------------------------------------------------------- acceptance

#[test]
fn valid_rs256_token_is_accepted_with_its_claims() {
    let idp = idp();
    let claims = idp.verify(&idp.rs256(&claims())).unwrap();
    assert_eq!(claims.iss, ISS);
    assert_eq!(claims.sub, "user-4711");
    assert_eq!(claims.aud, vec![CLIENT.to_owned()]);
    assert_eq!(claims.azp, None);
    assert_eq!(claims.audience, CLIENT);
    assert_eq!(claims.amr, vec!["pwd".to_owned(), "mfa".to_owned()]);
    assert_eq!(claims.exp, NOW + 3600);
    assert_eq!(claims.raw.get("email"), Some(&json!("ana@example.com")));
}

#[test]
fn valid_es256_token_is_accepted_with_its_claims() {
    let idp = idp();
    let token = sign(
        &json!({"alg": "ES256", "kid": "ec-256"}),
        &claims(),
        &Signer::Ec(&idp.p256),
    );
    let claims = idp.verify(&token).unwrap();
    assert_eq!(claims.sub, "user-4711");
    assert_eq!(claims.audience, CLIENT);
}

#[test]
fn rs384_rs512_and_es384_tokens_are_accepted() {
    let idp = idp();
    for (alg, encoding) in [
        (
            "RS384",
            &signature::RSA_PKCS1_SHA384 as &'static dyn signature::RsaEncoding,
        ),
        ("RS512", &signature::RSA_PKCS1_SHA512),
    ] {
        let token = sign(
            &json!({"alg": alg, "kid": "rsa-a"}),
            &claims(),
            &Signer::Rsa(&idp.rsa, encoding),
        );
        assert!(idp.verify(&token).is_ok(), "{alg}");
    }
    let token = sign(
        &json!({"alg": "ES384", "kid": "ec-384"}),
        &claims(),
        &Signer::Ec(&idp.p384),
    );
    assert!(idp.verify(&token).is_ok());
}

#[test]
fn token_without_kid_uses_the_only_key_of_a_one_key_jwks() {
    let rsa = rsa_key("rsa-2048-a.pk8.pem");
    let jwks = Jwks::parse(&json!({"keys": [rsa_jwk(&rsa, "only")]}).to_string()).unwrap();
    let token = sign(
        &json!({"alg": "RS256"}),
        &claims(),
        &Signer::Rsa(&rsa, &signature::RSA_PKCS1_SHA256),
    );
    assert!(verify_id_token(&token, &provider(), &jwks, now()).is_ok());
}

#[test]
fn token_without_kid_is_refused_when_the_jwks_has_several_keys() {
    let idp = idp();
    let token = sign(
        &json!({"alg": "RS256"}),
        &claims(),
        &Signer::Rsa(&idp.rsa, &signature::RSA_PKCS1_SHA256),
    );
    assert_refused(idp.verify(&token), &OidcError::UnknownKey);
}

#[test]
fn aud_array_containing_a_client_id_is_accepted() {
    let idp = idp();
    let mut c = claims();
    c["aud"] = json!(["some-api", CLIENT]);
    let claims = idp.verify(&idp.rs256(&c)).unwrap();
    assert_eq!(claims.aud, vec!["some-api".to_owned(), CLIENT.to_owned()]);
    assert_eq!(claims.audience, CLIENT);
}

#[test]
fn registered_azp_is_accepted_even_when_aud_is_not_a_client_id() {
    let idp = idp();
    let mut c = claims();
    c["aud"] = json!("backend-api");
    c["azp"] = json!(CLIENT);
    let claims = idp.verify(&idp.rs256(&c)).unwrap();
    assert_eq!(claims.azp.as_deref(), Some(CLIENT));
    assert_eq!(claims.audience, CLIENT);
}

#[test]
fn fractional_numeric_dates_are_accepted() {
    let idp = idp();
    let mut c = claims();
    c["exp"] = json!(1_700_003_600.75);
    c["iat"] = json!(1_699_999_999.5);
    assert_eq!(idp.verify(&idp.rs256(&c)).unwrap().exp, NOW + 3600);
}

// ---------------------------------------------------------------- signature

#[test]
fn tampered_payload_is_refused() {
    let idp = idp();
    let token = idp.rs256(&claims());
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut forged = claims();
    forged["sub"] = json!("admin");
    let forged_payload = b64(forged.to_string().as_bytes());
    parts[1] = &forged_payload;
    let err = idp.verify(&parts.join(".")).unwrap_err();
    assert_eq!(err, OidcError::BadSignature);
    assert_eq!(err.code(), StsErrorCode::InvalidIdentityToken);
    assert_eq!(err.to_string(), NOT_VALIDATED_TEXT);
}

#[test]
fn tampered_signature_is_refused() {
    let idp = idp();
    let token = idp.rs256(&claims());
    let (input, sig) = token.rsplit_once('.').unwrap();
    let mut sig = URL_SAFE_NO_PAD.decode(sig).unwrap();
    sig[10] ^= 0x01;
    assert_refused(
        idp.verify(&format!("{input}.{}", b64(&sig))),
        &OidcError::BadSignature,
    );
}

#[test]
fn token_signed_by_another_key_under_a_known_kid_is_refused() {
    let idp = idp();
    let other = rsa_key("rsa-2048-b.pk8.pem");
    let token = sign(
        &json!({"alg": "RS256", "kid": "rsa-a"}),
        &claims(),
        &Signer::Rsa(&other, &signature::RSA_PKCS1_SHA256),
    );
    assert_refused(idp.verify(&token), &OidcError::BadSignature);
}

#[test]
fn unknown_kid_gets_stss_verification_key_text() {
    let idp = idp();
    let token = sign(
        &json!({"alg": "RS256", "kid": "rotated-away"}),
        &claims(),
        &Signer::Rsa(&idp.rsa, &signature::RSA_PKCS1_SHA256),
    );
    let err = idp.verify(&token).unwrap_err();
    assert_eq!(err, OidcError::UnknownKey);
    assert_eq!(err.code(), StsErrorCode::InvalidIdentityToken);
    assert_eq!(err.to_string(), NO_KEY_TEXT);
}

#[test]
fn alg_none_is_refused() {
    let idp = idp();
    for alg in ["none", "None", "NONE"] {
        let token = sign(
            &json!({"alg": alg, "kid": "rsa-a"}),
            &claims(),
            &Signer::Unsigned,
        );
        let err = idp.verify(&token).unwrap_err();
        assert_eq!(err, OidcError::UnsupportedAlgorithm(alg.to_owned()));
        assert_eq!(err.code(), StsErrorCode::InvalidIdentityToken);
    }
}

#[test]
fn hs256_signed_with_the_public_key_as_secret_is_refused() {
    // The classic confusion: an HMAC keyed with bytes the attacker knows.
    let idp = idp();
    let c = PublicKeyComponents::<Vec<u8>>::from(idp.rsa.public());
    let jwk_text = rsa_jwk(&idp.rsa, "rsa-a").to_string();
    for secret in [
        c.n.as_slice(),
        jwk_text.as_bytes(),
        idp.jwks_text.as_bytes(),
    ] {
        for alg in ["HS256", "HS384", "HS512"] {
            let token = sign(
                &json!({"alg": alg, "kid": "rsa-a"}),
                &claims(),
                &Signer::Hmac(secret),
            );
            assert_refused(
                idp.verify(&token),
                &OidcError::UnsupportedAlgorithm(alg.to_owned()),
            );
        }
    }
}

#[test]
fn other_algorithms_are_refused() {
    let idp = idp();
    for alg in ["PS256", "ES512", "EdDSA", "rs256", "RSA-OAEP", ""] {
        let token = sign(
            &json!({"alg": alg, "kid": "rsa-a"}),
            &claims(),
            &Signer::Unsigned,
        );
        assert_refused(
            idp.verify(&token),
            &OidcError::UnsupportedAlgorithm(alg.to_owned()),
        );
    }
}

#[test]
fn alg_that_does_not_fit_the_keys_type_finds_no_key() {
    let idp = idp();
    // An ES256 header naming the RSA key, and an RS256 header naming the EC key.
    let es_on_rsa = sign(
        &json!({"alg": "ES256", "kid": "rsa-a"}),
        &claims(),
        &Signer::Ec(&idp.p256),
    );
    assert_refused(idp.verify(&es_on_rsa), &OidcError::UnknownKey);
    let rs_on_ec = sign(
        &json!({"alg": "RS256", "kid": "ec-256"}),
        &claims(),
        &Signer::Rsa(&idp.rsa, &signature::RSA_PKCS1_SHA256),
    );
    assert_refused(idp.verify(&rs_on_ec), &OidcError::UnknownKey);
    let es384_on_p256 = sign(
        &json!({"alg": "ES384", "kid": "ec-256"}),
        &claims(),
        &Signer::Ec(&idp.p384),
    );
    assert_refused(idp.verify(&es384_on_p256), &OidcError::UnknownKey);
}

#[test]
fn jwk_pinned_to_rs256_refuses_an_rs512_token() {
    let rsa = rsa_key("rsa-2048-a.pk8.pem");
    let mut jwk = rsa_jwk(&rsa, "k");
    jwk["alg"] = json!("RS256");
    let jwks = Jwks::parse(&json!({"keys": [jwk]}).to_string()).unwrap();
    let token = sign(
        &json!({"alg": "RS512", "kid": "k"}),
        &claims(),
        &Signer::Rsa(&rsa, &signature::RSA_PKCS1_SHA512),
    );
    assert_refused(
        verify_id_token(&token, &provider(), &jwks, now()),
        &OidcError::UnknownKey,
    );
}

#[test]
fn crit_header_is_refused() {
    let idp = idp();
    let token = sign(
        &json!({"alg": "RS256", "kid": "rsa-a", "crit": ["b64"], "b64": false}),
        &claims(),
        &Signer::Rsa(&idp.rsa, &signature::RSA_PKCS1_SHA256),
    );
    assert!(matches!(idp.verify(&token), Err(OidcError::Malformed(_))));
}

// ---------------------------------------------------------------- issuer and audience

#[test]
fn wrong_issuer_gets_stss_no_provider_text() {
    let idp = idp();
    let mut c = claims();
    c["iss"] = json!("https://evil.example.com");
    let err = idp.verify(&idp.rs256(&c)).unwrap_err();
    assert_eq!(err.code(), StsErrorCode::InvalidIdentityToken);
    assert_eq!(
        err.to_string(),
        "No OpenIDConnect provider found in your account for https://evil.example.com"
    );
}

#[test]
fn issuer_must_match_exactly() {
    let idp = idp();
    for iss in [
        "https://idp.example.com/tenant-1/",
        "http://idp.example.com/tenant-1",
        "https://IDP.example.com/tenant-1",
        "idp.example.com/tenant-1",
    ] {
        let mut c = claims();
        c["iss"] = json!(iss);
        assert_refused(
            idp.verify(&idp.rs256(&c)),
            &OidcError::ProviderNotFound {
                issuer: iss.to_owned(),
            },
        );
    }
}

#[test]
fn issuer_with_a_trailing_slash_matches_a_provider_registered_with_one() {
    let idp = idp();
    let mut c = claims();
    c["iss"] = json!("https://tenant.auth0.example.com/");
    let provider = ProviderConfig {
        url: "tenant.auth0.example.com/".to_owned(),
        ..provider()
    };
    assert!(verify_id_token(&idp.rs256(&c), &provider, &idp.jwks, now()).is_ok());
}

#[test]
fn unverified_issuer_reads_iss_for_the_provider_lookup() {
    let idp = idp();
    assert_eq!(unverified_issuer(&idp.rs256(&claims())).unwrap(), ISS);
    assert!(matches!(
        unverified_issuer("a.b"),
        Err(OidcError::Malformed(_))
    ));
}

#[test]
fn wrong_audience_gets_stss_incorrect_audience_text() {
    let idp = idp();
    let mut c = claims();
    c["aud"] = json!(["sts.amazon.com", "another"]);
    let err = idp.verify(&idp.rs256(&c)).unwrap_err();
    assert_eq!(err, OidcError::IncorrectAudience);
    assert_eq!(err.code(), StsErrorCode::InvalidIdentityToken);
    assert_eq!(err.to_string(), "Incorrect token audience");
}

#[test]
fn unregistered_azp_is_refused_even_when_aud_is_a_client_id() {
    let idp = idp();
    let mut c = claims();
    c["azp"] = json!("some-other-client");
    assert_refused(idp.verify(&idp.rs256(&c)), &OidcError::IncorrectAudience);
}

#[test]
fn provider_without_client_ids_accepts_no_audience() {
    let idp = idp();
    let provider = ProviderConfig {
        client_ids: Vec::new(),
        ..provider()
    };
    assert_refused(
        verify_id_token(&idp.rs256(&claims()), &provider, &idp.jwks, now()),
        &OidcError::IncorrectAudience,
    );
}

// ---------------------------------------------------------------- time

#[test]
fn expiry_allows_iams_five_minutes_of_skew_and_no_more() {
    let idp = idp();
    let exp = NOW + 3600;
    let token = idp.rs256(&claims());
    let p = provider();
    // Exactly at exp and up to 299 s after: still inside IAM's window.
    for t in [exp - 1, exp, exp + CLOCK_SKEW_SECS - 1] {
        assert!(verify_id_token(&token, &p, &idp.jwks, at(t)).is_ok(), "{t}");
    }
    // From exp + 300 on: expired.
    for t in [exp + CLOCK_SKEW_SECS, exp + 86_400] {
        let err = verify_id_token(&token, &p, &idp.jwks, at(t)).unwrap_err();
        assert_eq!(err, OidcError::Expired { now: t, exp });
        assert_eq!(err.code(), StsErrorCode::ExpiredToken);
        assert_eq!(
            err.to_string(),
            format!(
                "Token expired: current date/time {t} must be before the expiration date/time {exp}"
            )
        );
    }
}

#[test]
fn nbf_and_iat_in_the_future_beyond_the_skew_are_refused() {
    let idp = idp();
    for claim in ["nbf", "iat"] {
        let mut ok = claims();
        ok[claim] = json!(NOW + CLOCK_SKEW_SECS);
        assert!(idp.verify(&idp.rs256(&ok)).is_ok(), "{claim}");
        let mut early = claims();
        early[claim] = json!(NOW + CLOCK_SKEW_SECS + 1);
        let err = idp.verify(&idp.rs256(&early)).unwrap_err();
        assert_eq!(
            err,
            OidcError::NotYetValid {
                claim,
                value: NOW + CLOCK_SKEW_SECS + 1,
                now: NOW
            }
        );
        assert_eq!(err.code(), StsErrorCode::InvalidIdentityToken);
    }
}

// ---------------------------------------------------------------- claims

#[test]
fn missing_required_claims_get_stss_text() {
    let idp = idp();
    for claim in ["sub", "aud", "exp", "iss"] {
        let mut c = claims();
        c.as_object_mut().unwrap().remove(claim);
        let err = idp.verify(&idp.rs256(&c)).unwrap_err();
        assert_eq!(err.code(), StsErrorCode::InvalidIdentityToken);
        assert_eq!(
            err.to_string(),
            format!("Missing a required claim: {claim}")
        );
    }
    for (claim, empty) in [("sub", json!("")), ("aud", json!([]))] {
        let mut c = claims();
        c[claim] = empty;
        assert_refused(idp.verify(&idp.rs256(&c)), &OidcError::MissingClaim(claim));
    }
}

#[test]
fn claims_of_the_wrong_type_are_refused() {
    let idp = idp();
    for (claim, value) in [
        ("sub", json!(4711)),
        ("aud", json!(7)),
        ("aud", json!([CLIENT, 7])),
        ("exp", json!("tomorrow")),
        ("nbf", json!(null)),
        ("azp", json!(["x"])),
    ] {
        let mut c = claims();
        c[claim] = value;
        assert_refused(idp.verify(&idp.rs256(&c)), &OidcError::InvalidClaim(claim));
    }
}

// ---------------------------------------------------------------- malformed

#[test]
fn malformed_tokens_are_invalid_identity_tokens() {
    let idp = idp();
    let good = idp.rs256(&claims());
    let (h, rest) = good.split_once('.').unwrap();
    let (p, s) = rest.split_once('.').unwrap();
    let cases = [
        String::new(),
        "not-a-jwt".to_owned(),
        format!("{h}.{p}"),             // too few segments
        format!("{h}.{p}.{s}.{s}"),     // too many
        format!("{h}.{p}.{s}.{s}.{s}"), // a JWE's five
        format!("{h}=.{p}.{s}"),        // padding
        format!("{h}.{p}.{s}="),        // padding on the signature
        format!("{h}.{p}.{s}$"),        // not base64url
        format!("+{h}.{p}.{s}"),        // standard alphabet
        format!("a$b.{p}.{s}"),
        format!("{}.{p}.{s}", b64(b"[1,2]")), // header not an object
        format!("{}.{p}.{s}", b64(b"{\"alg\":")), // header not JSON
        format!("{}.{p}.{s}", b64(b"{}")),    // no alg
        format!("{}.{p}.{s}", b64(b"{\"alg\":256}")),
        format!("{}.{p}.{s}", b64(b"{\"alg\":\"RS256\",\"kid\":1}")),
        format!("{h}.{}.{s}", b64(b"\"payload\"")),
        format!(" {good}"),
    ];
    for token in &cases {
        let err = idp.verify(token).unwrap_err();
        assert!(matches!(err, OidcError::Malformed(_)), "{token}: {err:?}");
        assert_eq!(err.code(), StsErrorCode::InvalidIdentityToken);
        assert_eq!(err.to_string(), NOT_VALIDATED_TEXT);
    }
}

// ---------------------------------------------------------------- JWKS

#[test]
fn jwks_skips_keys_it_cannot_use_for_signatures() {
    let rsa = rsa_key("rsa-2048-a.pk8.pem");
    let mut enc = rsa_jwk(&rsa, "enc");
    enc["use"] = json!("enc");
    let mut oaep = rsa_jwk(&rsa, "oaep");
    oaep.as_object_mut().unwrap().remove("use");
    oaep["alg"] = json!("RSA-OAEP");
    let mut wrap_only = rsa_jwk(&rsa, "wrap");
    wrap_only.as_object_mut().unwrap().remove("use");
    wrap_only["key_ops"] = json!(["wrapKey"]);
    let doc = json!({"keys": [
        {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {"kty": "EC", "crv": "P-521", "x": "AA", "y": "AA"},
        enc, oaep, wrap_only,
        rsa_jwk(&rsa, "sig"),
    ]});
    let jwks = Jwks::parse(&doc.to_string()).unwrap();
    assert_eq!(jwks.len(), 1);
    // Only the usable key is left, so a token without kid uses it.
    let token = sign(
        &json!({"alg": "RS256"}),
        &claims(),
        &Signer::Rsa(&rsa, &signature::RSA_PKCS1_SHA256),
    );
    assert!(verify_id_token(&token, &provider(), &jwks, now()).is_ok());
    // And the HMAC key is not there to be confused with.
    let hs = sign(
        &json!({"alg": "HS256", "kid": "hmac"}),
        &claims(),
        &Signer::Hmac(b"secret"),
    );
    assert!(verify_id_token(&hs, &provider(), &jwks, now()).is_err());
}

#[test]
fn jwks_tolerates_padding_leading_zeros_and_extra_members() {
    let rsa = rsa_key("rsa-2048-a.pk8.pem");
    let c = PublicKeyComponents::<Vec<u8>>::from(rsa.public());
    let mut n = vec![0u8];
    n.extend_from_slice(&c.n);
    let doc = json!({"keys": [{
        "kty": "RSA", "kid": "k", "alg": "RS256", "use": "sig",
        "n": base64::engine::general_purpose::URL_SAFE.encode(&n),
        "e": base64::engine::general_purpose::URL_SAFE.encode(&c.e),
        "x5t": "ignored", "x5c": ["ignored"],
    }]});
    let jwks = Jwks::parse(&doc.to_string()).unwrap();
    let token = sign(
        &json!({"alg": "RS256", "kid": "k"}),
        &claims(),
        &Signer::Rsa(&rsa, &signature::RSA_PKCS1_SHA256),
    );
    assert!(verify_id_token(&token, &provider(), &jwks, now()).is_ok());
}

#[test]
fn unusable_jwks_documents_are_refused() {
    let p256 = ec_key(&signature::ECDSA_P256_SHA256_FIXED_SIGNING);
    let mut short_x = ec_jwk(&p256, "P-256", "k");
    short_x["x"] = json!(b64(&[1; 31]));
    let mut rsa_as_es = rsa_jwk(&rsa_key("rsa-2048-a.pk8.pem"), "k");
    rsa_as_es["alg"] = json!("ES256");
    let cases = [
        "".to_owned(),
        "[]".to_owned(),
        json!({"keys": {}}).to_string(),
        json!({"keys": []}).to_string(),
        json!({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}).to_string(),
        // A 1024-bit modulus (the bit length is all that is checked).
        json!({"keys": [{"kty": "RSA", "n": b64(&[0xC5; 128]), "e": "AQAB"}]}).to_string(),
        json!({"keys": [{"kty": "RSA", "n": b64(&[0xC5; 1025]), "e": "AQAB"}]}).to_string(),
        json!({"keys": [{"kty": "RSA", "n": b64(&[0xC5; 256]), "e": b64(&[1; 6])}]}).to_string(),
        json!({"keys": [short_x]}).to_string(),
        json!({"keys": [rsa_as_es]}).to_string(),
        json!({"keys": [{"kty": "RSA", "n": "***", "e": "AQAB"}]}).to_string(),
        json!({"keys": [{"kty": "RSA", "x5c": ["MIIB"]}]}).to_string(),
        json!({"keys": [{"kid": "no-kty"}]}).to_string(),
        json!({"keys": [7]}).to_string(),
    ];
    for doc in &cases {
        let err = Jwks::parse(doc).unwrap_err();
        assert!(matches!(err, OidcError::InvalidJwks(_)), "{doc}");
        assert_eq!(err.code(), StsErrorCode::InvalidIdentityToken);
        assert_eq!(err.to_string(), NO_KEY_TEXT);
    }
}

// ---------------------------------------------------------------- policy keys

fn keys(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn policy_keys_of_a_generic_provider() {
    let idp = idp();
    let claims = idp.verify(&idp.rs256(&claims())).unwrap();
    assert_eq!(
        claims.policy_keys(URL),
        keys(&[
            ("idp.example.com/tenant-1:sub", "user-4711"),
            ("idp.example.com/tenant-1:aud", CLIENT),
            ("idp.example.com/tenant-1:amr", "pwd"),
            ("idp.example.com/tenant-1:amr", "mfa"),
        ])
    );
    // The scheme is tolerated.
    assert_eq!(claims.policy_keys(ISS), claims.policy_keys(URL));
}

fn verified_for(url: &str, extra: Value) -> rampart_iam::oidc::Claims {
    let idp = idp();
    let mut c = claims();
    c["iss"] = json!(format!("https://{url}"));
    c.as_object_mut().unwrap().remove("amr");
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    let provider = ProviderConfig {
        url: url.to_owned(),
        ..provider()
    };
    verify_id_token(&idp.rs256(&c), &provider, &idp.jwks, now()).unwrap()
}

#[test]
fn policy_keys_of_google_separate_azp_and_oaud() {
    let hybrid = verified_for(
        "accounts.google.com",
        json!({"aud": "web-client", "azp": CLIENT, "sub": "1170"}),
    );
    assert_eq!(
        hybrid.policy_keys("accounts.google.com"),
        keys(&[
            ("accounts.google.com:sub", "1170"),
            ("accounts.google.com:aud", CLIENT),
            ("accounts.google.com:oaud", "web-client"),
        ])
    );
    let plain = verified_for("accounts.google.com", json!({"sub": "1170"}));
    assert_eq!(
        plain.policy_keys("accounts.google.com"),
        keys(&[
            ("accounts.google.com:sub", "1170"),
            ("accounts.google.com:aud", CLIENT),
            ("accounts.google.com:oaud", CLIENT),
        ])
    );
}

#[test]
fn policy_keys_of_cognito_include_amr() {
    let claims = verified_for(
        "cognito-identity.amazonaws.com",
        json!({"sub": "us-east-1:1234", "amr": ["authenticated", "accounts.google.com"]}),
    );
    assert_eq!(
        claims.policy_keys("cognito-identity.amazonaws.com"),
        keys(&[
            ("cognito-identity.amazonaws.com:sub", "us-east-1:1234"),
            ("cognito-identity.amazonaws.com:aud", CLIENT),
            ("cognito-identity.amazonaws.com:amr", "authenticated"),
            ("cognito-identity.amazonaws.com:amr", "accounts.google.com"),
        ])
    );
}

#[test]
fn policy_keys_of_login_with_amazon_and_facebook_use_their_names() {
    let amazon = verified_for("www.amazon.com", json!({"sub": "amzn1.account.X"}));
    assert_eq!(
        amazon.policy_keys("www.amazon.com"),
        keys(&[
            ("www.amazon.com:user_id", "amzn1.account.X"),
            ("www.amazon.com:app_id", CLIENT),
        ])
    );
    let facebook = verified_for("graph.facebook.com", json!({"sub": "10001"}));
    assert_eq!(
        facebook.policy_keys("graph.facebook.com"),
        keys(&[
            ("graph.facebook.com:id", "10001"),
            ("graph.facebook.com:app_id", CLIENT),
        ])
    );
}

// ---------------------------------------------------------------- mapping

#[test]
fn errors_map_to_the_iam_error_of_their_sts_code() {
    assert_eq!(
        IamError::from(OidcError::IncorrectAudience),
        IamError::InvalidIdentityToken("Incorrect token audience".to_owned())
    );
    let expired = OidcError::Expired { now: 20, exp: 10 };
    assert_eq!(
        IamError::from(expired),
        IamError::ExpiredToken(
            "Token expired: current date/time 20 must be before the expiration date/time 10"
                .to_owned()
        )
    );
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(token in ".{0,300}") {
        let idp = idp();
        let _ = verify_id_token(&token, &provider(), &idp.jwks, now());
        let _ = unverified_issuer(&token);
        let _ = Jwks::parse(&token);
    }

    #[test]
    fn arbitrary_token_shaped_strings_never_panic_and_never_verify(
        token in "[A-Za-z0-9_=$-]{0,120}\\.[A-Za-z0-9_=-]{0,200}\\.[A-Za-z0-9_-]{0,400}"
    ) {
        let idp = idp();
        prop_assert!(verify_id_token(&token, &provider(), &idp.jwks, now()).is_err());
    }

    #[test]
    fn any_one_character_change_to_a_valid_token_is_refused(
        pos in any::<prop::sample::Index>(),
        replacement in prop::sample::select(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=".chars().collect::<Vec<_>>()
        ),
    ) {
        let idp = idp();
        let token = idp.rs256(&claims());
        let i = pos.index(token.len());
        let original = token.as_bytes()[i] as char;
        prop_assume!(original != replacement);
        let mut changed = token.clone();
        changed.replace_range(i..=i, &replacement.to_string());
        prop_assert!(verify_id_token(&changed, &provider(), &idp.jwks, now()).is_err());
    }
}
