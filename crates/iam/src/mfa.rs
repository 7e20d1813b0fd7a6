//! Virtual MFA devices (TOTP, RFC 6238): creation with a sealed seed (shown
//! once, as base32 text and as a QR code, [`qr`]), enabling with two
//! consecutive codes, and verification of a code for STS.
//!
//! INVARIANT: a device seed is stored only sealed under the root key.

pub mod qr;

use std::sync::Arc;
use std::time::SystemTime;

use hmac::{Hmac, Mac};
use rampart_core::{IdSource, Secret};
use rampart_storage::{Batch, Direction, Engine, KeyRange};
use serde::{Deserialize, Serialize};
use sha1::Sha1;

use crate::error::{IamError, IamResult};
use crate::seal::Sealer;

/// Tree of MFA devices, keyed `account/name`.
const TREE: &str = "iam/mfa";
/// TOTP time step.
const STEP: u64 = 30;
/// Steps of clock drift tolerated either way.
const DRIFT: u64 = 1;

/// A stored virtual MFA device.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MfaDevice {
    /// `arn:aws:iam::ACCOUNT:mfa/path/name`.
    pub serial: String,
    /// The account.
    pub account: String,
    /// The device name.
    pub name: String,
    /// The seed, sealed (bound to the serial).
    #[serde(with = "b64")]
    pub sealed_seed: Vec<u8>,
    /// The user it is enabled for.
    pub user: Option<String>,
    /// When it was enabled (epoch seconds).
    pub enabled_at: Option<u64>,
    /// Creation time.
    pub created: u64,
}

mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

/// RFC 4648 base32 without padding (the form authenticator apps take).
pub fn base32(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            let idx = ((buffer >> bits) & 31) as usize;
            out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'A')));
        }
    }
    if bits > 0 {
        let idx = ((buffer << (5 - bits)) & 31) as usize;
        out.push(char::from(ALPHABET.get(idx).copied().unwrap_or(b'A')));
    }
    out
}

/// The 6-digit TOTP code of `seed` for time step `step` (RFC 4226 truncation).
pub fn totp(seed: &[u8], step: u64) -> String {
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(seed) else {
        return String::new();
    };
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last().copied().unwrap_or(0) & 0x0f);
    let word = digest
        .get(offset..offset + 4)
        .map(|b| b.iter().fold(0u32, |acc, x| (acc << 8) | u32::from(*x)))
        .unwrap_or(0)
        & 0x7fff_ffff;
    format!("{:06}", word % 1_000_000)
}

fn step_of(now: SystemTime) -> u64 {
    now.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() / STEP)
        .unwrap_or(0)
}

/// Virtual MFA devices.
pub struct MfaStore {
    /// Where devices persist.
    engine: Arc<dyn Engine>,
    /// Seals seeds.
    sealer: Arc<Sealer>,
    /// Seeds and nonces.
    ids: Arc<dyn IdSource>,
}

impl std::fmt::Debug for MfaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaStore")
    }
}

fn key(account: &str, name: &str) -> Vec<u8> {
    format!("{account}/{name}").into_bytes()
}

fn decode(v: &[u8]) -> IamResult<MfaDevice> {
    serde_json::from_slice(v).map_err(|e| IamError::ServiceFailure(format!("MFA record: {e}")))
}

impl MfaStore {
    /// A store over `engine`.
    pub fn new(engine: Arc<dyn Engine>, sealer: Arc<Sealer>, ids: Arc<dyn IdSource>) -> Self {
        Self {
            engine,
            sealer,
            ids,
        }
    }

    /// Creates a device; returns it and its seed in base32 (shown once).
    pub async fn create(
        &self,
        account: &str,
        path: &str,
        name: &str,
        now: u64,
    ) -> IamResult<(MfaDevice, Secret<String>)> {
        let k = key(account, name);
        if self.engine.get(TREE, &k).await?.is_some() {
            return Err(IamError::EntityAlreadyExists(
                "MFADevice entity at the same path and name already exists.".to_string(),
            ));
        }
        let mut seed = [0u8; 20];
        self.ids.fill(&mut seed);
        let serial = format!("arn:aws:iam::{account}:mfa{path}{name}");
        let sealed = self
            .sealer
            .seal(&seed, serial.as_bytes(), &*self.ids)
            .map_err(|e| IamError::ServiceFailure(e.to_string()))?;
        let dev = MfaDevice {
            serial,
            account: account.to_owned(),
            name: name.to_owned(),
            sealed_seed: sealed,
            user: None,
            enabled_at: None,
            created: now,
        };
        self.put(&dev, None).await?;
        Ok((dev, Secret::new(base32(&seed))))
    }

    async fn put(&self, dev: &MfaDevice, expected: Option<u64>) -> IamResult<()> {
        let k = key(&dev.account, &dev.name);
        let mut b = Batch::new();
        b.expect(TREE, k.clone(), expected);
        b.put(
            TREE,
            k,
            serde_json::to_vec(dev).map_err(|e| IamError::ServiceFailure(e.to_string()))?,
        );
        match self.engine.commit(b).await {
            Ok(_) => Ok(()),
            Err(rampart_storage::Error::Conflict { .. }) => Err(IamError::EntityAlreadyExists(
                "MFADevice entity at the same path and name already exists.".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Every device of `account`.
    pub async fn list(&self, account: &str) -> IamResult<Vec<(MfaDevice, u64)>> {
        let rows = self
            .engine
            .scan(
                TREE,
                KeyRange::prefix(format!("{account}/").as_bytes()),
                Direction::Forward,
                usize::MAX,
            )
            .await?;
        rows.into_iter()
            .map(|(_, v)| Ok((decode(&v.value)?, v.version)))
            .collect()
    }

    /// The device with serial number `serial`.
    pub async fn by_serial(
        &self,
        account: &str,
        serial: &str,
    ) -> IamResult<Option<(MfaDevice, u64)>> {
        Ok(self
            .list(account)
            .await?
            .into_iter()
            .find(|(d, _)| d.serial == serial))
    }

    fn seed(&self, dev: &MfaDevice) -> IamResult<Secret<Vec<u8>>> {
        self.sealer
            .open(&dev.sealed_seed, dev.serial.as_bytes())
            .map_err(|e| IamError::ServiceFailure(e.to_string()))
    }

    /// Enables a device for `user` after two consecutive valid codes.
    pub async fn enable(
        &self,
        account: &str,
        user: &str,
        serial: &str,
        code1: &str,
        code2: &str,
        now: SystemTime,
    ) -> IamResult<()> {
        let (mut dev, version) = self.by_serial(account, serial).await?.ok_or_else(|| {
            IamError::NoSuchEntity(format!(
                "VirtualMFADevice with serial number {serial} doesn't exist."
            ))
        })?;
        if dev.user.is_some() {
            return Err(IamError::EntityAlreadyExists(
                "MFA Device is already in use.".to_string(),
            ));
        }
        let seed = self.seed(&dev)?;
        let cur = step_of(now);
        let ok = (cur.saturating_sub(DRIFT + 1)..=cur + DRIFT)
            .any(|s| totp(seed.expose(), s) == code1 && totp(seed.expose(), s + 1) == code2);
        if !ok {
            return Err(IamError::InvalidAuthenticationCode(
                "Authentication code for device is not valid.".into(),
            ));
        }
        dev.user = Some(user.to_owned());
        dev.enabled_at = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .map(|d| d.as_secs());
        self.put(&dev, Some(version)).await
    }

    /// Deactivates a device of `user`.
    pub async fn deactivate(&self, account: &str, user: &str, serial: &str) -> IamResult<()> {
        let (mut dev, version) = self
            .by_serial(account, serial)
            .await?
            .filter(|(d, _)| d.user.as_deref() == Some(user))
            .ok_or_else(|| {
                IamError::NoSuchEntity(format!(
                    "MFA Device with serial number {serial} does not exist."
                ))
            })?;
        dev.user = None;
        dev.enabled_at = None;
        self.put(&dev, Some(version)).await
    }

    /// Deletes an unassigned device.
    pub async fn delete(&self, account: &str, serial: &str) -> IamResult<()> {
        let (dev, _) = self.by_serial(account, serial).await?.ok_or_else(|| {
            IamError::NoSuchEntity(format!(
                "VirtualMFADevice with serial number {serial} doesn't exist."
            ))
        })?;
        if dev.user.is_some() {
            return Err(IamError::DeleteConflict(
                "MFA Device is in use by user.".into(),
            ));
        }
        let mut b = Batch::new();
        b.delete(TREE, key(&dev.account, &dev.name));
        self.engine.commit(b).await?;
        Ok(())
    }

    /// Whether `code` is the current code of device `serial` assigned to `user_arn`'s user.
    pub async fn verify(
        &self,
        account: &str,
        user: Option<&str>,
        serial: &str,
        code: &str,
        now: SystemTime,
    ) -> IamResult<bool> {
        let Some((dev, _)) = self.by_serial(account, serial).await? else {
            return Ok(false);
        };
        let owned = match (user, dev.user.as_deref()) {
            (Some(u), Some(d)) => u == d,
            // The root user's device is assigned to the pseudo-user "root".
            (None, Some("root")) => true,
            _ => false,
        };
        if !owned {
            return Ok(false);
        }
        let seed = self.seed(&dev)?;
        let cur = step_of(now);
        Ok((cur.saturating_sub(DRIFT)..=cur + DRIFT).any(|s| totp(seed.expose(), s) == code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totp_matches_rfc_6238_sha1_vectors() {
        // RFC 6238 Appendix B, SHA-1, seed "12345678901234567890"; 8 digits
        // there, the low 6 digits here.
        let seed = b"12345678901234567890";
        assert_eq!(totp(seed, 59 / 30), "287082");
        assert_eq!(totp(seed, 1_111_111_109 / 30), "081804");
        assert_eq!(totp(seed, 1_234_567_890 / 30), "005924");
        assert_eq!(totp(seed, 2_000_000_000 / 30), "279037");
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b""), "");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
    }
}
