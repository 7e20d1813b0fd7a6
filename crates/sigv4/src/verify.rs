//! Phase two: with the secret in hand, recompute the signature and compare it in constant time.
//! Also the signing-key derivation and its cache.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use hmac::digest::{Key, KeyInit};
use hmac::{Hmac, Mac as _};
use rampart_core::Secret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroize as _;

use crate::canonical::{
    Buffered, CanonicalParts, Unsigned, decode_query_component, hex32, query_pairs,
    write_canonical_request, write_string_to_sign,
};
use crate::error::SigV4Error;
use crate::parse::{ParsedAuth, SignedRequest};

type HmacSha256 = Hmac<Sha256>;

/// Checks the request's signature with `secret`, the secret access key of
/// [`ParsedAuth::access_key_id`]. `auth` must come from [`parse`](crate::parse) of the same
/// request.
///
/// Errors: [`SigV4Error::PayloadHashMismatch`] when the request declares an
/// `x-amz-content-sha256` other than its body's hash, otherwise
/// [`SigV4Error::SignatureDoesNotMatch`] for any difference.
pub fn verify<H: crate::Header>(
    req: &SignedRequest<'_, H>,
    auth: &ParsedAuth<'_>,
    secret: &Secret<String>,
) -> Result<(), SigV4Error> {
    check_signature(req, auth, |auth| {
        signing_key(secret, auth.scope_date(), auth.region(), auth.service())
    })
}

/// [`verify`], taking the signing key from `cache` (and filling it), which spares the four
/// HMACs of the key derivation on every request but the first of the day per key and scope.
pub fn verify_cached<H: crate::Header>(
    req: &SignedRequest<'_, H>,
    auth: &ParsedAuth<'_>,
    secret: &Secret<String>,
    cache: &SigningKeyCache,
) -> Result<(), SigV4Error> {
    check_signature(req, auth, |auth| cache.signing_key(auth, secret))
}

fn check_signature<H: crate::Header>(
    req: &SignedRequest<'_, H>,
    auth: &ParsedAuth<'_>,
    key: impl FnOnce(&ParsedAuth<'_>) -> Secret<[u8; 32]>,
) -> Result<(), SigV4Error> {
    let payload_hash = hex32(&Sha256::digest(req.body).into());
    check_declared_payload_hash(req, payload_hash.as_str())?;
    let provided = decode_signature(auth.signature()).ok_or(SigV4Error::SignatureDoesNotMatch)?;
    let key = key(auth);
    let matches = |token: PresignedToken| {
        let mut canonical = Buffered::new(Sha256::new());
        write_canonical_request(
            req,
            &parts(auth, token, payload_hash.as_str()),
            &mut canonical,
        );
        let canonical_hash = hex32(&canonical.into_inner().finalize().into());
        let mut mac = Buffered::new(keyed_mac(key.expose()));
        write_string_to_sign(
            auth.amz_date(),
            auth.credential_scope(),
            canonical_hash.as_str(),
            &mut mac,
        );
        // Constant time: `verify_slice` compares with `subtle`.
        mac.into_inner().verify_slice(&provided).is_ok()
    };
    // AWS quirk: "For some services, you must include the X-Amz-Security-Token query parameter
    // in the canonical (signed) query string. For other services, you add the
    // X-Amz-Security-Token parameter at the end, after you calculate the signature." (SigV4
    // docs, "Create a canonical request"). botocore signs it; AWS's suite has both
    // (`post-sts-header-before`/`-after`). An unsigned token is no weaker than an unsigned
    // token header: the caller checks it belongs to the access key either way.
    let token_in_query = auth.is_presigned() && auth.session_token().is_some();
    if matches(PresignedToken::Signed) || (token_in_query && matches(PresignedToken::Appended)) {
        Ok(())
    } else {
        Err(SigV4Error::SignatureDoesNotMatch)
    }
}

fn parts<'a>(
    auth: &'a ParsedAuth<'_>,
    token: PresignedToken,
    payload_hash: &'a str,
) -> CanonicalParts<'a> {
    CanonicalParts {
        unsigned: match (auth.is_presigned(), token) {
            (false, _) => Unsigned::Nothing,
            (true, PresignedToken::Signed) => Unsigned::Signature,
            (true, PresignedToken::Appended) => Unsigned::SignatureAndToken,
        },
        signed_headers: auth.signed_headers_line(),
        payload_hash,
    }
}

/// Whether a presigned request's `X-Amz-Security-Token` is among the query parameters it
/// signs (as botocore does) or was appended after signing (as AWS IoT clients do).
/// [`verify`] accepts either; [`canonical_request`] needs to be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresignedToken {
    /// The token is part of the canonical query string. Also the choice for header-signed
    /// requests, where it makes no difference.
    Signed,
    /// The token was added after signing and is left out of the canonical query string.
    Appended,
}

/// AWS quirk: only S3 honours `x-amz-content-sha256` (and its `UNSIGNED-PAYLOAD` and
/// `STREAMING-*` values); every other service hashes the body itself. A declared hash, in the
/// header or the presigned query, must therefore be the body's, or the request is refused.
fn check_declared_payload_hash<H: crate::Header>(
    req: &SignedRequest<'_, H>,
    payload_hash: &str,
) -> Result<(), SigV4Error> {
    let honest = |declared: &str| declared.trim().eq_ignore_ascii_case(payload_hash);
    let header_ok = req
        .headers
        .iter()
        .filter(|h| h.name().eq_ignore_ascii_case("x-amz-content-sha256"))
        .all(|h| honest(h.value()));
    let query_ok = req.query.is_empty()
        || query_pairs(req.query)
            .filter(|(k, _)| {
                decode_query_component(k).eq_ignore_ascii_case(b"x-amz-content-sha256")
            })
            .all(|(_, v)| honest(&String::from_utf8_lossy(&decode_query_component(v))));
    if header_ok && query_ok {
        Ok(())
    } else {
        Err(SigV4Error::PayloadHashMismatch)
    }
}

/// A signature is 64 lower-case hex digits, as every SDK writes it. Checked and decoded in one
/// pass over the bytes.
fn decode_signature(signature: &str) -> Option<[u8; 32]> {
    let digits = signature.as_bytes();
    if digits.len() != 64 {
        return None;
    }
    let nibble = |d: u8| match d {
        b'0'..=b'9' => Some(d - b'0'),
        b'a'..=b'f' => Some(d - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let &[high, low] = pair else { return None };
        *byte = nibble(high)? << 4 | nibble(low)?;
    }
    Some(out)
}

/// HMAC-SHA256 keyed with `key`, built from the padded key block so that it cannot fail.
/// RFC 2104 section 2: a key shorter than the 64-byte block is padded with zeros, a longer one
/// is first hashed; `Hmac::new_from_slice` does the same but returns a `Result`.
fn keyed_mac(key: &[u8]) -> HmacSha256 {
    let mut block = Key::<HmacSha256>::default();
    let digest;
    let material: &[u8] = if key.len() > block.len() {
        digest = Sha256::digest(key);
        &digest
    } else {
        key
    };
    for (slot, byte) in block.iter_mut().zip(material) {
        *slot = *byte;
    }
    let mac = <HmacSha256 as KeyInit>::new(&block);
    block.as_mut_slice().zeroize();
    mac
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = keyed_mac(key);
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Derives the SigV4 signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region),
/// service), "aws4_request")`.
pub fn signing_key(
    secret: &Secret<String>,
    scope_date: &str,
    region: &str,
    service: &str,
) -> Secret<[u8; 32]> {
    let mut seed = Vec::with_capacity(4 + secret.expose().len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.expose().as_bytes());
    let seed = Secret::new(seed);
    let k_date = Secret::new(hmac(seed.expose(), scope_date.as_bytes()));
    let k_region = Secret::new(hmac(k_date.expose(), region.as_bytes()));
    let k_service = Secret::new(hmac(k_region.expose(), service.as_bytes()));
    Secret::new(hmac(k_service.expose(), b"aws4_request"))
}

/// The hex signature of `string_to_sign` under `key` (what a client puts in `Signature=`).
/// Public for tests and for signing test fixtures; verification never builds it.
pub fn signature(key: &Secret<[u8; 32]>, string_to_sign: &str) -> String {
    hex::encode(hmac(key.expose(), string_to_sign.as_bytes()))
}

/// The canonical request of `req` as AWS defines it, for tests and diagnostics (verification
/// hashes the same bytes without building the string). `token` matters only for a presigned
/// request carrying `X-Amz-Security-Token`.
pub fn canonical_request<H: crate::Header>(
    req: &SignedRequest<'_, H>,
    auth: &ParsedAuth<'_>,
    token: PresignedToken,
) -> String {
    let payload_hash = hex32(&Sha256::digest(req.body).into());
    let mut out = String::with_capacity(256);
    write_canonical_request(req, &parts(auth, token, payload_hash.as_str()), &mut out);
    out
}

/// The string to sign for `canonical_request` (from [`canonical_request`]).
pub fn string_to_sign(auth: &ParsedAuth<'_>, canonical_request: &str) -> String {
    let hash = hex32(&Sha256::digest(canonical_request.as_bytes()).into());
    let mut out = String::with_capacity(128);
    write_string_to_sign(
        auth.amz_date(),
        auth.credential_scope(),
        hash.as_str(),
        &mut out,
    );
    out
}

/// Derived signing keys, keyed by credential (access key id, date, region, service), so that
/// verification skips the four-HMAC derivation. Bounded: when full, an arbitrary entry makes
/// room. Thread-safe; one per server, made at the composition root (no global state).
///
/// INVARIANT: an entry is used only with the secret it was derived from. Each entry keeps a
/// SHA-256 fingerprint of its secret, compared in constant time, so a key re-issued with a new
/// secret (or a stale entry) is derived again, never reused. Keys are wiped when evicted.
pub struct SigningKeyCache {
    capacity: usize,
    entries: Mutex<HashMap<Box<str>, CachedKey>>,
}

struct CachedKey {
    secret_fingerprint: [u8; 32],
    key: Secret<[u8; 32]>,
}

impl Default for SigningKeyCache {
    /// A cache of [`SigningKeyCache::DEFAULT_CAPACITY`] keys.
    fn default() -> Self {
        Self::new(Self::DEFAULT_CAPACITY)
    }
}

impl SigningKeyCache {
    /// 1024 keys: one per active (access key, region, service) of a day, about 200 KiB at most.
    pub const DEFAULT_CAPACITY: usize = 1024;

    /// A cache holding at most `capacity` keys (0 disables it).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            entries: Mutex::new(HashMap::with_capacity(capacity.min(1024))),
        }
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    /// Whether it holds no key.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every key (for example after a secret is rotated, though entries are checked
    /// against their secret anyway).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }

    fn signing_key(&self, auth: &ParsedAuth<'_>, secret: &Secret<String>) -> Secret<[u8; 32]> {
        let fingerprint = fingerprint(secret);
        // INVARIANT: the credential is "AKID/date/region/service/aws4_request", checked by
        // `parse`, so it identifies the derivation inputs other than the secret.
        let id = auth.credential();
        if let Ok(entries) = self.entries.lock()
            && let Some(hit) = entries.get(id)
            && bool::from(hit.secret_fingerprint.ct_eq(&fingerprint))
        {
            return hit.key.clone();
        }
        let key = signing_key(secret, auth.scope_date(), auth.region(), auth.service());
        if self.capacity > 0 {
            // A poisoned lock only means another thread panicked mid-insert; skip caching.
            if let Ok(mut entries) = self.entries.lock() {
                if entries.len() >= self.capacity && !entries.contains_key(id) {
                    let victim = entries.keys().next().cloned();
                    if let Some(victim) = victim {
                        entries.remove(&victim);
                    }
                }
                entries.insert(
                    id.into(),
                    CachedKey {
                        secret_fingerprint: fingerprint,
                        key: key.clone(),
                    },
                );
            }
        }
        key
    }
}

fn fingerprint(secret: &Secret<String>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"rampart-sigv4 signing-key cache\0");
    h.update(secret.expose().as_bytes());
    h.finalize().into()
}

impl fmt::Debug for SigningKeyCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKeyCache")
            .field("capacity", &self.capacity)
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_mac_matches_rfc_4231_for_short_and_long_keys() {
        // RFC 4231 test case 2 (short key) and test case 6 (131-byte key, hashed first).
        assert_eq!(
            hex::encode(hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        // Exactly one block.
        let key = [0x0b; 64];
        let mut reference = <HmacSha256 as KeyInit>::new_from_slice(&key).unwrap();
        reference.update(b"x");
        assert_eq!(
            hmac(&key, b"x").to_vec(),
            reference.finalize().into_bytes().to_vec()
        );
    }

    #[test]
    fn signing_key_matches_the_aws_documentation_example() {
        // "Calculate the signature" example of the SigV4 documentation (IAM, 2015-08-30).
        let secret = Secret::new(String::from("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"));
        let key = signing_key(&secret, "20150830", "us-east-1", "iam");
        assert_eq!(
            hex::encode(key.expose()),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
    }

    #[test]
    fn signatures_must_be_lower_case_hex_of_the_right_length() {
        assert!(decode_signature(&"ab".repeat(32)).is_some());
        assert!(decode_signature(&"AB".repeat(32)).is_none());
        assert!(decode_signature(&"ab".repeat(31)).is_none());
        assert!(decode_signature(&"zz".repeat(32)).is_none());
        assert!(decode_signature("").is_none());
        let mut one_upper = "ab".repeat(32);
        one_upper.replace_range(63.., "F");
        assert!(decode_signature(&one_upper).is_none());
        let digits = "0123456789abcdef".repeat(4);
        assert_eq!(
            decode_signature(&digits).map(|b| b.to_vec()),
            hex::decode(&digits).ok()
        );
    }
}
