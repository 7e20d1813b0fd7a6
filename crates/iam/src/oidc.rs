//! OpenID Connect ID-token verification for STS `AssumeRoleWithWebIdentity`.
//!
//! Owns: reading an identity provider's JSON Web Key Set ([`Jwks::parse`]),
//! verifying a compact-JWS ID token against it and against the IAM OIDC
//! provider's registration ([`verify_id_token`]), and the condition keys and
//! policy variables a verified token contributes to the role session
//! ([`Claims::policy_keys`]), which is what makes the row-level-security
//! pattern (`dynamodb:LeadingKeys` equal to `${accounts.google.com:sub}` or
//! `${<provider>:sub}`) work per end user.
//!
//! Pure: no I/O, no clock (`now` is a parameter), no async. Must not depend on
//! `front`, HTTP crates or storage. Rampart has no internet: the provider's
//! keys are never fetched, the operator configures them and the caller passes
//! them in as a [`Jwks`].
//!
//! INVARIANT: a token is only accepted if its signature verifies with a key
//! from the provider's configured JWKS.
//! INVARIANT: the key decides the algorithm. The header's `alg` must be one of
//! RS256, RS384, RS512, ES256, ES384 and must fit the selected key's type (and
//! the JWK's own `alg` when it has one); `none`, `HS*`, `PS*` and anything
//! else are refused before any key is looked at, and symmetric (`oct`) JWKs are
//! never loaded, so the "HS256 with the public key as the secret" confusion
//! cannot happen.
//! INVARIANT: no claim reaches the caller before the signature has verified.
//! Before that only `iss` is read, to pick (and, on a mismatch, report) the
//! provider the way STS does.
//! INVARIANT: no input makes this module panic (the workspace lints forbid
//! `unwrap`, `expect`, `panic!` and indexing; a property test feeds it
//! arbitrary strings).
//!
//! # What is checked, in order
//! 1. Compact JWS: exactly three segments, each unpadded base64url (RFC 7515
//!    §7.1); header and payload are JSON objects; no `crit` header (we
//!    understand no extension).
//! 2. Header `alg` is supported (see above).
//! 3. `iss` equals `https://` + the provider URL as IAM stores it, byte for
//!    byte: IAM's provider URL "is case-sensitive" (IAM User Guide, "Creating
//!    OpenID Connect (OIDC) identity providers") and a trailing slash is part of
//!    it: an Auth0 issuer `https://tenant.auth0.com/` is registered as
//!    `tenant.auth0.com/` (gist gene1wood/54611c45a3298504f8e33d95e317ae5c:
//!    provider ARN `oidc-provider/auth-dev.mozilla.auth0.com/`, token `iss`
//!    `https://auth-dev.mozilla.auth0.com/`). So no trailing-slash leniency.
//! 4. A key: the JWK whose `kid` equals the header's `kid` and which fits
//!    `alg`; with no `kid` in the header, the JWKS's only key if it has exactly
//!    one. Keys with `use` other than `sig`, or `key_ops` without `verify`, are
//!    ignored when the JWKS is read.
//! 5. The signature over `ASCII(header "." payload)`.
//! 6. Required claims: `sub` (a non-empty string), `aud`, `exp`.
//! 7. Audience: with an `azp` claim, `azp` must be one of the provider's client
//!    ids; without one, some `aud` value must be. IAM documents that the `aud`
//!    condition key takes `azp` when the token sets it (IAM User Guide, "IAM
//!    and AWS STS condition context keys", `accounts.google.com:aud`), and STS
//!    answers "Incorrect token audience" to an Entra ID v2 token whose `aud` is
//!    registered but whose `azp` is not (aws/aws-sdk-net#3071, #3100). An empty
//!    client-id list accepts nothing (fail closed).
//! 8. Time: see below.
//!
//! # Time
//! `exp` is honoured with IAM's documented five-minute clock-skew window: "IAM
//! provides a five-minute window beyond the expiration time specified in the
//! JWT to account for clock skew" (IAM User Guide, "OIDC federation"). A token
//! is accepted while `now < exp + 300` and is expired from `exp + 300` on.
//! `nbf` and `iat`, when present, may be at most the same 300 seconds in the
//! future ([`CLOCK_SKEW_SECS`]); AWS documents nothing for them, and a
//! symmetric window is the natural reading of the OIDC Core 1.0 "small leeway".
//! NumericDates may be non-integers (RFC 7519 §2); they are floored.
//!
//! # Crypto and build cost
//! `ring` 0.17 (one crate plus `untrusted`; its C and assembly are built by
//! `cc`, already in the tree for `rusqlite`): RSA PKCS#1 v1.5 from raw `n`/`e`
//! (`RsaPublicKeyComponents`, 2048 to 8192 bits) and ECDSA P-256/P-384 from the
//! uncompressed point `0x04 || x || y` with the fixed-length `r || s`
//! signatures JWS uses. Measured on the 2-core machine (`cargo build -p
//! rampart-iam --timings`, dev profile, dependencies at `opt-level = 1`):
//! compiling it from scratch takes about 10 s once (build script 1.5 s, its
//! C/asm 3.6 s, the crate 5.1 s; 21 s while other builds shared the cores) and
//! nothing on incremental builds. The RustCrypto alternative (`rsa` + `p256` +
//! `p384`) pulls in about fifteen crates (bignum, `elliptic-curve`, `ecdsa`,
//! `der`, `pkcs1`, `pkcs8`, …) for the same job.
//!
//! # Error texts
//! [`OidcError`]'s `Display` is STS's message where one has been observed, and
//! otherwise the STS API reference's description of the error code; see each
//! variant for its source. [`OidcError::detail`] gives Rampart's precise reason
//! for the server log; it is never sent to the caller.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use ring::signature::{self, RsaPublicKeyComponents, UnparsedPublicKey};
use serde_json::{Map, Value};

use crate::error::IamError;

/// How far in the future `nbf` and `iat` may be, and how long after `exp` a
/// token is still accepted, in seconds (IAM's documented five minutes).
pub const CLOCK_SKEW_SECS: i64 = 300;

/// STS's text when no usable verification key exists. The double space is
/// STS's own. Observed verbatim in the STS XML response quoted in
/// awslabs/aws-sdk-rust#827, and in aws/aws-cli#7194, aws/aws-sdk-php#1725 and
/// gitlab-org/gitlab#342243 (there caused by a `kid` absent from the JWKS).
const NO_VERIFICATION_KEY: &str = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements";

/// The STS API reference's description of `InvalidIdentityToken`, used where
/// no more specific STS text has been observed.
const NOT_VALIDATED: &str = "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request.";

/// Decoder for operator-supplied JWKS values: base64url, padding tolerated
/// (some providers pad `n`/`e`). Tokens themselves are decoded strictly.
const JWKS_B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The STS error code an [`OidcError`] is answered with. Mapping to the wire
/// (`__type`/`Code` and HTTP status) is `front`'s job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsErrorCode {
    /// `InvalidIdentityToken` (400): the token could not be validated.
    InvalidIdentityToken,
    /// The expired-token error. For `AssumeRoleWithWebIdentity` STS's wire
    /// code is `ExpiredTokenException` (observed in STS XML responses:
    /// mozilla-iam/mozilla-aws-cli#146, parseablehq/parseable#604), not the
    /// `ExpiredToken` of signed requests.
    ExpiredToken,
    /// `IDPRejectedClaim` (403): the identity provider itself rejected the
    /// token. STS returns it when it asks the provider (the OAuth 2.0
    /// providers Login with Amazon and Facebook); Rampart verifies offline and
    /// never asks, so no [`OidcError`] maps here today.
    IdpRejectedClaim,
}

/// Why a JWKS could not be read or a token was refused. `Display` is the text
/// STS sends; [`OidcError::detail`] is the reason for the server log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    /// The JWKS document is unusable (not JSON, no `keys`, a malformed key, no
    /// usable signature key). STS gives the same text when it cannot get keys.
    #[error("{}", NO_VERIFICATION_KEY)]
    InvalidJwks(String),
    /// Not a compact JWS: segment count, base64url, JSON, header fields.
    #[error("{}", NOT_VALIDATED)]
    Malformed(&'static str),
    /// The header's `alg` is not one Rampart verifies (`none`, `HS256`, …).
    #[error("{}", NOT_VALIDATED)]
    UnsupportedAlgorithm(String),
    /// No key in the JWKS has the token's `kid` and fits its `alg` (or the
    /// token has no `kid` and the JWKS has more than one key).
    #[error("{}", NO_VERIFICATION_KEY)]
    UnknownKey,
    /// The signature does not verify with the selected key.
    #[error("{}", NOT_VALIDATED)]
    BadSignature,
    /// `iss` is not `https://` + this provider's URL. Text observed in
    /// treeverse/dvc.org#5273 ("No OpenIDConnect provider found in your account
    /// for `https://studio.dvc.ai/api`") and aws-actions/configure-aws-credentials#721.
    #[error("No OpenIDConnect provider found in your account for {issuer}")]
    ProviderNotFound {
        /// The token's `iss`, echoed as STS echoes it.
        issuer: String,
    },
    /// A required claim is absent. Text observed for `aud` in
    /// aws/aws-sdk-ruby#2698 and gitlab-org/gitlab#342243, for `sub` in
    /// aws-actions/configure-aws-credentials#502.
    #[error("Missing a required claim: {0}")]
    MissingClaim(&'static str),
    /// A claim has the wrong JSON type (`sub` a number, `exp` a string, …).
    #[error("{}", NOT_VALIDATED)]
    InvalidClaim(&'static str),
    /// Neither `azp` nor `aud` names one of the provider's client ids. Text
    /// observed in awslabs/amazon-eks-irsa-cfn#18 and
    /// aws-actions/configure-aws-credentials#775.
    #[error("Incorrect token audience")]
    IncorrectAudience,
    /// `now >= exp + 300`. Text observed in aws/aws-sdk-java-v2#5709 and
    /// parseablehq/parseable#604 (2024); STS in 2021 had no space before the
    /// second number (awslabs/aws-orbit-workbench#771).
    #[error("Token expired: current date/time {now} must be before the expiration date/time {exp}")]
    Expired {
        /// `now`, seconds since the epoch.
        now: i64,
        /// The token's `exp`, seconds since the epoch.
        exp: i64,
    },
    /// `nbf` or `iat` is more than [`CLOCK_SKEW_SECS`] in the future.
    #[error("{}", NOT_VALIDATED)]
    NotYetValid {
        /// `"nbf"` or `"iat"`.
        claim: &'static str,
        /// The claim's value, seconds since the epoch.
        value: i64,
        /// `now`, seconds since the epoch.
        now: i64,
    },
}

impl OidcError {
    /// The STS error code this failure is answered with.
    pub fn code(&self) -> StsErrorCode {
        match self {
            Self::InvalidJwks(_)
            | Self::Malformed(_)
            | Self::UnsupportedAlgorithm(_)
            | Self::UnknownKey
            | Self::BadSignature
            | Self::ProviderNotFound { .. }
            | Self::MissingClaim(_)
            | Self::InvalidClaim(_)
            | Self::IncorrectAudience
            | Self::NotYetValid { .. } => StsErrorCode::InvalidIdentityToken,
            Self::Expired { .. } => StsErrorCode::ExpiredToken,
        }
    }

    /// Rampart's precise reason, for the server log and the audit trail. Never
    /// send it to the caller: STS's texts are deliberately vague.
    pub fn detail(&self) -> String {
        match self {
            Self::InvalidJwks(why) => format!("unusable JWKS: {why}"),
            Self::Malformed(why) => format!("malformed token: {why}"),
            Self::UnsupportedAlgorithm(alg) => format!("refused algorithm {alg:?}"),
            Self::UnknownKey => "no JWKS key matches the token's kid and alg".to_owned(),
            Self::BadSignature => "signature does not verify".to_owned(),
            Self::ProviderNotFound { issuer } => {
                format!("iss {issuer:?} is not this provider's issuer")
            }
            Self::MissingClaim(c) => format!("missing claim {c}"),
            Self::InvalidClaim(c) => format!("claim {c} has the wrong type"),
            Self::IncorrectAudience => "no azp/aud value is a registered client id".to_owned(),
            Self::Expired { now, exp } => {
                format!("expired: now {now}, exp {exp}, skew {CLOCK_SKEW_SECS}s")
            }
            Self::NotYetValid { claim, value, now } => {
                format!("{claim} {value} is in the future (now {now}, skew {CLOCK_SKEW_SECS}s)")
            }
        }
    }
}

impl From<OidcError> for IamError {
    fn from(e: OidcError) -> Self {
        let text = e.to_string();
        match e.code() {
            StsErrorCode::InvalidIdentityToken => Self::InvalidIdentityToken(text),
            StsErrorCode::ExpiredToken => Self::ExpiredToken(text),
            StsErrorCode::IdpRejectedClaim => Self::IdpRejectedClaim(text),
        }
    }
}

/// An IAM OpenID Connect provider as `CreateOpenIDConnectProvider` registers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderConfig {
    /// The issuer without `https://`, as IAM stores it and as it appears in the
    /// provider's ARN and in condition keys: `accounts.example.com/path`.
    pub url: String,
    /// The registered client ids (audiences); the token's `azp`, or one of its
    /// `aud` values, must be among them.
    pub client_ids: Vec<String>,
    /// TLS certificate thumbprints. Kept for the IAM API; unused here because
    /// Rampart never connects to the provider: trust comes from the locally
    /// configured JWKS instead.
    pub thumbprints: Vec<String>,
}

/// A verification key's algorithm family and material.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyMaterial {
    /// RSA, big-endian without leading zeros (as `ring` requires).
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// ECDSA over P-256, uncompressed point `0x04 || x || y`.
    P256(Vec<u8>),
    /// ECDSA over P-384, uncompressed point `0x04 || x || y`.
    P384(Vec<u8>),
}

/// One usable signature key of a JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Jwk {
    /// Matched against the token header's `kid`.
    kid: Option<String>,
    /// The JWK's own `alg`, when it pins one: the token's must then be equal.
    alg: Option<Alg>,
    material: KeyMaterial,
}

impl Jwk {
    fn fits(&self, alg: Alg) -> bool {
        let family = matches!(
            (&self.material, alg),
            (
                KeyMaterial::Rsa { .. },
                Alg::Rs256 | Alg::Rs384 | Alg::Rs512
            ) | (KeyMaterial::P256(_), Alg::Es256)
                | (KeyMaterial::P384(_), Alg::Es384)
        );
        family && self.alg.is_none_or(|pinned| pinned == alg)
    }

    fn verify(&self, alg: Alg, message: &[u8], sig: &[u8]) -> bool {
        let result = match (&self.material, alg) {
            (KeyMaterial::Rsa { n, e }, Alg::Rs256) => RsaPublicKeyComponents { n, e }.verify(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                message,
                sig,
            ),
            (KeyMaterial::Rsa { n, e }, Alg::Rs384) => RsaPublicKeyComponents { n, e }.verify(
                &signature::RSA_PKCS1_2048_8192_SHA384,
                message,
                sig,
            ),
            (KeyMaterial::Rsa { n, e }, Alg::Rs512) => RsaPublicKeyComponents { n, e }.verify(
                &signature::RSA_PKCS1_2048_8192_SHA512,
                message,
                sig,
            ),
            (KeyMaterial::P256(point), Alg::Es256) => {
                UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
                    .verify(message, sig)
            }
            (KeyMaterial::P384(point), Alg::Es384) => {
                UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_FIXED, point)
                    .verify(message, sig)
            }
            // INVARIANT: `fits` was checked; a mismatch never verifies.
            _ => return false,
        };
        result.is_ok()
    }
}

/// A provider's signature keys, read from a standard JWKS document
/// (RFC 7517 §5), e.g. a copy of its `jwks_uri`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwks {
    keys: Vec<Jwk>,
}

impl Jwks {
    /// Reads a JWKS document: `{"keys":[{"kty":"RSA","kid":…,"n":…,"e":…},
    /// {"kty":"EC","crv":"P-256","x":…,"y":…}]}`.
    ///
    /// Keys Rampart cannot use for ID-token signatures are skipped: `use`
    /// other than `sig`, `key_ops` without `verify`, symmetric `oct` keys,
    /// other key types and curves (P-521, Ed25519), and keys pinned to another
    /// algorithm (`PS256`, `RSA-OAEP`, …). A key of a supported type that is
    /// malformed (bad base64url, wrong coordinate length, RSA modulus outside
    /// 2048..=8192 bits, an RSA key given only as `x5c`) is an error, as is a
    /// document with no usable key: better refused when the operator loads it
    /// than at a user's sign-in.
    pub fn parse(document: &str) -> Result<Self, OidcError> {
        let bad = |why: &str| OidcError::InvalidJwks(why.to_owned());
        let doc: Value = serde_json::from_str(document)
            .map_err(|e| OidcError::InvalidJwks(format!("not JSON: {e}")))?;
        let Some(Value::Array(entries)) = doc.get("keys") else {
            return Err(bad("no \"keys\" array"));
        };
        let mut keys = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let Value::Object(jwk) = entry else {
                return Err(OidcError::InvalidJwks(format!("key {i} is not an object")));
            };
            if let Some(key) =
                read_jwk(jwk).map_err(|why| OidcError::InvalidJwks(format!("key {i}: {why}")))?
            {
                keys.push(key);
            }
        }
        if keys.is_empty() {
            return Err(bad("no usable signature key (RSA, EC P-256 or EC P-384)"));
        }
        Ok(Self { keys })
    }

    /// How many usable keys were read.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key was read (never true for a parsed JWKS).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key for a token: by `kid`, or the only key when the token has none.
    fn select(&self, kid: Option<&str>, alg: Alg) -> Option<&Jwk> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid) && k.fits(alg)),
            None => match self.keys.as_slice() {
                [only] if only.fits(alg) => Some(only),
                _ => None,
            },
        }
    }
}

/// Reads one JWK: `Ok(None)` for a key to skip, `Err` for a malformed one.
fn read_jwk(jwk: &Map<String, Value>) -> Result<Option<Jwk>, String> {
    let field = |name: &str| -> Result<Option<&str>, String> {
        match jwk.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(format!("\"{name}\" is not a string")),
        }
    };
    let kty = field("kty")?.ok_or("no \"kty\"")?;
    if field("use")?.is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    if let Some(ops) = jwk.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Ok(None);
        }
    }
    let pinned = match field("alg")? {
        None => None,
        Some(name) => match Alg::from_name(name) {
            Some(alg) => Some(alg),
            // Pinned to an algorithm Rampart does not verify ID tokens with.
            None => return Ok(None),
        },
    };
    let kid = field("kid")?.map(str::to_owned);
    let bytes = |name: &str| -> Result<Vec<u8>, String> {
        let text = field(name)?.ok_or_else(|| format!("no \"{name}\""))?;
        JWKS_B64
            .decode(text)
            .map_err(|_| format!("\"{name}\" is not base64url"))
    };
    let material = match kty {
        "RSA" => {
            if jwk.get("n").is_none() && jwk.get("x5c").is_some() {
                return Err("RSA key given only as x5c; give \"n\" and \"e\"".to_owned());
            }
            let n = strip_leading_zeros(bytes("n")?);
            let e = strip_leading_zeros(bytes("e")?);
            let bits = bit_length(&n);
            if !(2048..=8192).contains(&bits) {
                return Err(format!("RSA modulus of {bits} bits, not 2048..=8192"));
            }
            if e.is_empty() || e.len() > 5 {
                return Err("RSA exponent out of range".to_owned());
            }
            KeyMaterial::Rsa { n, e }
        }
        "EC" => {
            let (len, p256) = match field("crv")?.ok_or("no \"crv\"")? {
                "P-256" => (32, true),
                "P-384" => (48, false),
                _ => return Ok(None),
            };
            let x = bytes("x")?;
            let y = bytes("y")?;
            if x.len() != len || y.len() != len {
                return Err(format!("EC coordinates must be {len} bytes"));
            }
            let mut point = Vec::with_capacity(1 + 2 * len);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            if p256 {
                KeyMaterial::P256(point)
            } else {
                KeyMaterial::P384(point)
            }
        }
        // INVARIANT: symmetric keys are never loaded (no HMAC confusion).
        _ => return Ok(None),
    };
    let key = Jwk {
        kid,
        alg: pinned,
        material,
    };
    // A key pinned to an algorithm of another family (an RSA key with
    // "alg":"ES256") could never verify anything: refuse it loudly.
    if let Some(alg) = pinned
        && !key.fits(alg)
    {
        return Err(format!("\"alg\" {} does not fit kty {kty}", alg.name()));
    }
    Ok(Some(key))
}

fn strip_leading_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros);
    bytes
}

fn bit_length(be: &[u8]) -> usize {
    match be.first() {
        None => 0,
        Some(first) => be.len() * 8 - first.leading_zeros() as usize,
    }
}

/// The JWS algorithms Rampart verifies ID tokens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alg {
    Rs256,
    Rs384,
    Rs512,
    Es256,
    Es384,
}

impl Alg {
    /// Exact, case-sensitive names (RFC 7518 §3.1).
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "RS256" => Some(Self::Rs256),
            "RS384" => Some(Self::Rs384),
            "RS512" => Some(Self::Rs512),
            "ES256" => Some(Self::Es256),
            "ES384" => Some(Self::Es384),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Rs384 => "RS384",
            Self::Rs512 => "RS512",
            Self::Es256 => "ES256",
            Self::Es384 => "ES384",
        }
    }
}

/// The claims of a verified ID token.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// The issuer, `https://` + the provider URL.
    pub iss: String,
    /// The end user's id at the provider: what row-level security keys on.
    pub sub: String,
    /// Every `aud` value (a string claim becomes one element).
    pub aud: Vec<String>,
    /// The authorized party, when the token names one; it then stands for the
    /// audience in the `:aud` condition key.
    pub azp: Option<String>,
    /// Authentication methods (`amr`, string or array); Amazon Cognito puts
    /// `authenticated`/`unauthenticated` and the login provider here.
    pub amr: Vec<String>,
    /// The registered client id the token was accepted for: `azp`, or the
    /// first `aud` value that is a client id. STS returns it as `Audience`.
    pub audience: String,
    /// Expiry, seconds since the epoch (floored).
    pub exp: i64,
    /// The whole payload, for claims this struct does not name.
    pub raw: Map<String, Value>,
}

impl Claims {
    /// The condition keys (and so policy variables, `${key}`) this token gives
    /// the role session, as IAM documents them ("IAM and AWS STS condition
    /// context keys", "Available keys for AWS web identity federation").
    /// `provider_url` is the IAM form, without `https://`. A multivalued key
    /// (`:amr`, or `:aud` for several audiences) appears once per value.
    ///
    /// - any OIDC provider: `<url>:sub`; `<url>:aud` (`azp` when set, else each
    ///   `aud`); `<url>:amr` per value when the token has `amr` (documented for
    ///   `cognito-identity.amazonaws.com:amr`).
    /// - `accounts.google.com` also gets `accounts.google.com:oaud` (each `aud`),
    ///   the only provider IAM documents `oaud` for.
    /// - `www.amazon.com` gets `www.amazon.com:user_id` (`sub`) and
    ///   `www.amazon.com:app_id`; `graph.facebook.com` gets
    ///   `graph.facebook.com:id` (`sub`) and `graph.facebook.com:app_id`.
    pub fn policy_keys(&self, provider_url: &str) -> Vec<(String, String)> {
        let url = provider_url
            .strip_prefix("https://")
            .unwrap_or(provider_url);
        let key = |name: &str| format!("{url}:{name}");
        let audiences: Vec<&String> = match &self.azp {
            Some(azp) => vec![azp],
            None => self.aud.iter().collect(),
        };
        let mut keys = Vec::new();
        match url {
            "www.amazon.com" | "graph.facebook.com" => {
                let user = if url == "www.amazon.com" {
                    "user_id"
                } else {
                    "id"
                };
                keys.push((key(user), self.sub.clone()));
                keys.extend(audiences.iter().map(|a| (key("app_id"), (*a).clone())));
            }
            _ => {
                keys.push((key("sub"), self.sub.clone()));
                keys.extend(audiences.iter().map(|a| (key("aud"), (*a).clone())));
                keys.extend(self.amr.iter().map(|m| (key("amr"), m.clone())));
                if url == "accounts.google.com" {
                    keys.extend(self.aud.iter().map(|a| (key("oaud"), a.clone())));
                }
            }
        }
        keys
    }

    /// Whether a key of [`Self::policy_keys`] is multivalued even when the token gives it one
    /// value: `<url>:amr` (AWS's examples test it with `ForAnyValue:`), so that a bare operator
    /// on it never matches. The others are multivalued only when they appear more than once.
    pub fn always_multivalued(key: &str) -> bool {
        key.ends_with(":amr")
    }
}

/// Verifies an OpenID Connect ID token for `AssumeRoleWithWebIdentity`
/// against `provider`'s registration and its configured `jwks`, at `now`.
/// See the module documentation for the checks and their order.
pub fn verify_id_token(
    token: &str,
    provider: &ProviderConfig,
    jwks: &Jwks,
    now: SystemTime,
) -> Result<Claims, OidcError> {
    // 1. Compact serialization: header.payload.signature.
    let mut segments = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(sig_b64), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(OidcError::Malformed("not three dot-separated segments"));
    };
    let header = json_object(
        header_b64,
        "header is not unpadded base64url",
        "header is not a JSON object",
    )?;
    if header.contains_key("crit") {
        return Err(OidcError::Malformed("\"crit\" header parameters"));
    }

    // 2. Algorithm, before anything else is trusted.
    let alg = match header.get("alg") {
        Some(Value::String(name)) => {
            Alg::from_name(name).ok_or_else(|| OidcError::UnsupportedAlgorithm(name.clone()))?
        }
        Some(_) => return Err(OidcError::Malformed("\"alg\" is not a string")),
        None => return Err(OidcError::Malformed("no \"alg\"")),
    };
    let kid = match header.get("kid") {
        None => None,
        Some(Value::String(kid)) => Some(kid.as_str()),
        Some(_) => return Err(OidcError::Malformed("\"kid\" is not a string")),
    };
    let payload = json_object(
        payload_b64,
        "payload is not unpadded base64url",
        "payload is not a JSON object",
    )?;
    let sig = URL_SAFE_NO_PAD
        .decode(sig_b64)
        .map_err(|_| OidcError::Malformed("signature is not unpadded base64url"))?;

    // 3. Issuer: picks the provider (read before the signature, as STS must).
    let iss = match payload.get("iss") {
        Some(Value::String(iss)) => iss,
        Some(_) => return Err(OidcError::InvalidClaim("iss")),
        None => return Err(OidcError::MissingClaim("iss")),
    };
    let expected = format!("https://{}", provider.url);
    if *iss != expected {
        return Err(OidcError::ProviderNotFound {
            issuer: iss.clone(),
        });
    }

    // 4-5. Key and signature.
    let key = jwks.select(kid, alg).ok_or(OidcError::UnknownKey)?;
    let signed_len = header_b64.len() + 1 + payload_b64.len();
    let signing_input = token
        .as_bytes()
        .get(..signed_len)
        .ok_or(OidcError::Malformed("not three dot-separated segments"))?;
    if !key.verify(alg, signing_input, &sig) {
        return Err(OidcError::BadSignature);
    }

    // 6. Required claims (the payload is now authentic).
    let sub = match payload.get("sub") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::String(_)) | None => return Err(OidcError::MissingClaim("sub")),
        Some(_) => return Err(OidcError::InvalidClaim("sub")),
    };
    let aud = match payload.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(OidcError::InvalidClaim("aud"))?,
        Some(_) => return Err(OidcError::InvalidClaim("aud")),
        None => Vec::new(),
    };
    if aud.is_empty() {
        return Err(OidcError::MissingClaim("aud"));
    }
    let exp = time_claim(&payload, "exp")?.ok_or(OidcError::MissingClaim("exp"))?;
    let azp = match payload.get("azp") {
        None => None,
        Some(Value::String(a)) => Some(a.clone()),
        Some(_) => return Err(OidcError::InvalidClaim("azp")),
    };

    // 7. Audience.
    let registered = |id: &str| provider.client_ids.iter().any(|c| c == id);
    let audience = match &azp {
        Some(azp) => registered(azp).then(|| azp.clone()),
        None => aud.iter().find(|a| registered(a)).cloned(),
    }
    .ok_or(OidcError::IncorrectAudience)?;

    // 8. Time.
    let now = epoch_secs(now);
    if now >= exp.saturating_add(CLOCK_SKEW_SECS) {
        return Err(OidcError::Expired { now, exp });
    }
    for claim in ["nbf", "iat"] {
        if let Some(value) = time_claim(&payload, claim)?
            && value > now.saturating_add(CLOCK_SKEW_SECS)
        {
            return Err(OidcError::NotYetValid { claim, value, now });
        }
    }

    let amr = match payload.get("amr") {
        Some(Value::String(m)) => vec![m.clone()],
        Some(Value::Array(values)) => values
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    Ok(Claims {
        iss: iss.clone(),
        sub,
        aud,
        azp,
        amr,
        audience,
        exp,
        raw: payload,
    })
}

/// The token's `iss`, read without verifying anything, so the caller can find
/// which registered provider (and which JWKS) to verify it with: STS looks the
/// provider up by issuer in the role's account, and answers
/// [`OidcError::ProviderNotFound`] when there is none. The value is untrusted
/// until [`verify_id_token`] accepts the token.
pub fn unverified_issuer(token: &str) -> Result<String, OidcError> {
    let mut segments = token.split('.');
    let (Some(_), Some(payload_b64), Some(_), None) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return Err(OidcError::Malformed("not three dot-separated segments"));
    };
    let payload = json_object(
        payload_b64,
        "payload is not unpadded base64url",
        "payload is not a JSON object",
    )?;
    match payload.get("iss") {
        Some(Value::String(iss)) => Ok(iss.clone()),
        Some(_) => Err(OidcError::InvalidClaim("iss")),
        None => Err(OidcError::MissingClaim("iss")),
    }
}

/// Decodes one strict base64url segment holding a JSON object.
fn json_object(
    segment: &str,
    not_b64: &'static str,
    not_object: &'static str,
) -> Result<Map<String, Value>, OidcError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| OidcError::Malformed(not_b64))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(OidcError::Malformed(not_object)),
    }
}

/// A NumericDate claim (RFC 7519 §2), floored to whole seconds.
fn time_claim(payload: &Map<String, Value>, claim: &'static str) -> Result<Option<i64>, OidcError> {
    let Some(value) = payload.get(claim) else {
        return Ok(None);
    };
    if let Some(i) = value.as_i64() {
        return Ok(Some(i));
    }
    if value.as_u64().is_some() {
        return Ok(Some(i64::MAX));
    }
    match value.as_f64() {
        // `as` saturates; NaN cannot come out of JSON.
        Some(f) if f.is_finite() => Ok(Some(f.floor() as i64)),
        _ => Err(OidcError::InvalidClaim(claim)),
    }
}

fn epoch_secs(now: SystemTime) -> i64 {
    now.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
