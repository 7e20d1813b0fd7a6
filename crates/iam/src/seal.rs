//! Sealing of stored secrets with AES-256-GCM under the server's root key.
//!
//! The root key never lives in the data directory: the composition root reads
//! it from a key file outside the data directory or from the environment
//! (see docs/keys.md). When the KMS capability arrives, KMS key material is
//! sealed the same way.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rampart_core::{IdSource, Secret};

/// Format version byte written before the nonce.
const VERSION: u8 = 1;
/// AES-GCM nonce length.
const NONCE_LEN: usize = 12;

/// Sealing failed or a sealed blob did not open (wrong key, tampering, corruption).
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The blob is not in the sealed format.
    #[error("sealed value is malformed")]
    Malformed,
    /// Authentication failed: wrong root key or modified data.
    #[error("sealed value does not open with this root key")]
    WrongKeyOrTampered,
}

/// Seals and opens small secrets under a 256-bit root key.
pub struct Sealer {
    /// The cipher keyed with the root key.
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    /// A sealer for `root_key` (32 bytes).
    pub fn new(root_key: &Secret<[u8; 32]>) -> Self {
        Self {
            cipher: Aes256Gcm::new(root_key.expose().into()),
        }
    }

    /// Encrypts `plain`, binding it to `context` (authenticated, not stored):
    /// a blob sealed for one record cannot be replayed into another.
    pub fn seal(
        &self,
        plain: &[u8],
        context: &[u8],
        ids: &dyn IdSource,
    ) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        ids.fill(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: context,
                },
            )
            .map_err(|_| SealError::Malformed)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts a blob made by [`Sealer::seal`] with the same `context`.
    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Secret<Vec<u8>>, SealError> {
        let (&version, rest) = sealed.split_first().ok_or(SealError::Malformed)?;
        if version != VERSION || rest.len() < NONCE_LEN {
            return Err(SealError::Malformed);
        }
        let (nonce, ct) = rest.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: context,
                },
            )
            .map(Secret::new)
            .map_err(|_| SealError::WrongKeyOrTampered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::SeededIds;

    #[test]
    fn sealed_secret_opens_only_with_same_key_and_context() {
        let ids = SeededIds::new(3);
        let s = Sealer::new(&Secret::new([7u8; 32]));
        let blob = s
            .seal(b"wJalrXUtnFEMI/K7MDENG", b"AKIDEXAMPLE", &ids)
            .unwrap();
        assert!(!blob.windows(5).any(|w| w == b"wJalr"));
        assert_eq!(
            s.open(&blob, b"AKIDEXAMPLE").unwrap().expose(),
            b"wJalrXUtnFEMI/K7MDENG"
        );
        assert!(matches!(
            s.open(&blob, b"AKIDOTHER"),
            Err(SealError::WrongKeyOrTampered)
        ));
        let other = Sealer::new(&Secret::new([8u8; 32]));
        assert!(matches!(
            other.open(&blob, b"AKIDEXAMPLE"),
            Err(SealError::WrongKeyOrTampered)
        ));
        let mut bad = blob.clone();
        if let Some(last) = bad.last_mut() {
            *last ^= 1;
        }
        assert!(s.open(&bad, b"AKIDEXAMPLE").is_err());
        assert!(matches!(s.open(&[], b""), Err(SealError::Malformed)));
    }
}
