//! Identifiers: accounts, regions, request ids, and the [`IdSource`] that makes
//! randomness an input.

use std::fmt;
use std::sync::Mutex;

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AccountId(String);

/// The account id was not 12 ASCII digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidAccountId(pub String);

impl fmt::Display for InvalidAccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "account id must be 12 digits, got {:?}", self.0)
    }
}

impl std::error::Error for InvalidAccountId {}

impl AccountId {
    /// Parses a 12-digit account id.
    pub fn parse(s: &str) -> Result<Self, InvalidAccountId> {
        if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidAccountId(s.to_owned()))
        }
    }

    /// A fresh random account id (never starting with 0, as AWS's do not).
    pub fn generate(ids: &dyn IdSource) -> Self {
        let mut buf = [0u8; 12];
        ids.fill(&mut buf);
        let mut s = String::with_capacity(12);
        for (i, b) in buf.iter().enumerate() {
            let digit = if i == 0 { 1 + b % 9 } else { b % 10 };
            s.push(char::from(b'0' + digit));
        }
        Self(s)
    }

    /// The id as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An AWS region name such as `us-east-1`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Region(pub String);

impl Region {
    /// The region as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of one request, returned in `x-amzn-RequestId`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(pub String);

impl RequestId {
    /// A fresh request id in DynamoDB's style: 52 upper-case alphanumerics.
    pub fn generate(ids: &dyn IdSource) -> Self {
        const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        let mut buf = [0u8; 52];
        ids.fill(&mut buf);
        let s: String = buf
            .iter()
            .map(|b| char::from(ALPHABET.get(usize::from(b % 32)).copied().unwrap_or(b'A')))
            .collect();
        Self(s)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A source of random bytes. Production uses [`OsRandom`]; tests a [`SeededIds`].
pub trait IdSource: Send + Sync + 'static {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);

    /// A random lowercase hex string of `len` characters.
    fn hex(&self, len: usize) -> String {
        let mut buf = vec![0u8; len.div_ceil(2)];
        self.fill(&mut buf);
        let mut s = String::with_capacity(len + 1);
        for b in buf {
            push_hex(&mut s, b);
        }
        s.truncate(len);
        s
    }

    /// A random UUID (version 4) in its canonical text form.
    fn uuid(&self) -> String {
        let mut b = [0u8; 16];
        self.fill(&mut b);
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let mut s = String::with_capacity(36);
        for (i, x) in b.into_iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                s.push('-');
            }
            push_hex(&mut s, x);
        }
        s
    }
}

/// Appends `b` as two lowercase hex digits.
fn push_hex(s: &mut String, b: u8) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for nibble in [b >> 4, b & 0x0f] {
        s.push(char::from(
            DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
        ));
    }
}

/// The operating system's random source.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

/// How many bytes of the OS's randomness a thread draws at once: one `getrandom` call
/// per ~78 request ids (52 bytes each) instead of one per request id.
const POOL: usize = 4096;

/// Requests longer than this (keys and other secrets) go to the OS directly.
const POOLED_MAX: usize = 64;

std::thread_local! {
    /// Random bytes drawn from the OS and not handed out yet: `(bytes, next unused)`.
    /// INVARIANT: every byte is handed out at most once.
    static POOLED: std::cell::RefCell<([u8; POOL], usize)> =
        const { std::cell::RefCell::new(([0; POOL], POOL)) };
}

fn os_fill(buf: &mut [u8]) {
    // getrandom only fails where the OS has no random source at all; a
    // server that cannot draw random bytes must not hand out weak ids.
    if getrandom::fill(buf).is_err() {
        std::process::abort();
    }
}

impl IdSource for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // Small requests (ids, request ids) come from a per-thread pool refilled from the
        // OS in one call; large ones (keys) go to the OS directly. The bytes are the OS's
        // either way, each used once.
        if buf.len() > POOLED_MAX {
            os_fill(buf);
            return;
        }
        let pooled = POOLED.try_with(|cell| {
            let Ok(mut pool) = cell.try_borrow_mut() else {
                return false;
            };
            let (bytes, next) = &mut *pool;
            if POOL - *next < buf.len() {
                os_fill(bytes);
                *next = 0;
            }
            match bytes.get_mut(*next..*next + buf.len()) {
                Some(src) => {
                    buf.copy_from_slice(src);
                    // Wipe what was handed out, so it cannot be read twice.
                    src.fill(0);
                    *next += buf.len();
                    true
                }
                None => false,
            }
        });
        if pooled != Ok(true) {
            os_fill(buf);
        }
    }
}

/// A deterministic pseudo-random source (xorshift) for tests.
#[derive(Debug)]
pub struct SeededIds {
    /// The generator state.
    state: Mutex<u64>,
}

impl SeededIds {
    /// A generator seeded with `seed` (0 is replaced by a fixed non-zero seed).
    pub fn new(seed: u64) -> Self {
        Self {
            state: Mutex::new(if seed == 0 {
                0x9E37_79B9_7F4A_7C15
            } else {
                seed
            }),
        }
    }
}

impl IdSource for SeededIds {
    fn fill(&self, buf: &mut [u8]) {
        let mut guard = match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        for b in buf.iter_mut() {
            let mut x = *guard;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *guard = x;
            *b = (x >> 24) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_id_rejects_non_digits_and_wrong_length() {
        assert!(AccountId::parse("123456789012").is_ok());
        assert!(AccountId::parse("12345678901").is_err());
        assert!(AccountId::parse("12345678901a").is_err());
    }

    #[test]
    fn generated_account_id_is_twelve_digits_without_leading_zero() {
        let ids = SeededIds::new(7);
        for _ in 0..100 {
            let a = AccountId::generate(&ids);
            assert!(AccountId::parse(a.as_str()).is_ok());
            assert!(!a.as_str().starts_with('0'));
        }
    }

    #[test]
    fn uuid_has_canonical_shape() {
        let u = SeededIds::new(1).uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        let groups: Vec<usize> = u.split('-').map(str::len).collect();
        assert_eq!(groups, vec![8, 4, 4, 4, 12]);
        assert!(u.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
        assert!(matches!(u.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
    }

    #[test]
    fn hex_has_the_asked_length() {
        let ids = SeededIds::new(3);
        for len in [0, 1, 7, 16, 33] {
            let h = ids.hex(len);
            assert_eq!(h.len(), len);
            assert!(
                h.bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
        }
    }

    #[test]
    fn pooled_os_randomness_never_repeats_a_draw() {
        // Ids drawn from the pool, across refills and with sizes that straddle its end,
        // are all distinct (16 random bytes colliding would mean reuse).
        let mut seen = std::collections::HashSet::new();
        for i in 0..2000 {
            let mut b = [0u8; 16];
            OsRandom.fill(&mut b[..8 + i % 9]);
            assert!(seen.insert(b), "a draw repeated at {i}");
        }
        // Large requests bypass the pool.
        let mut big = [0u8; 200];
        OsRandom.fill(&mut big);
        assert!(big.iter().any(|&x| x != 0));
    }
}
