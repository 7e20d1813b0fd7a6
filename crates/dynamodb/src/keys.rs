//! Order-preserving, self-delimiting byte encodings of key attribute values (`S`, `N`, `B`).
//!
//! This module owns how a key value becomes storage-key bytes. It depends only on
//! [`crate::value`] and [`crate::number`].
//!
//! INVARIANTS (pinned by the property tests in `tests/value_keys_props.rs`):
//! - for two values `a`, `b` of the same key type, `a < b` in DynamoDB's order (S and B bytewise
//!   over UTF-8 / raw bytes, N numerically) iff `encode(a) < encode(b)` bytewise;
//! - no encoding is a proper prefix of another of the same type, so encodings concatenate into
//!   composite keys (hash ‖ range) that still sort by (hash, range);
//! - `decode(encode(v)) == (v, encode(v).len())`;
//! - for S and B, every `encode(x)` with `x` starting with `p` starts with `encode_prefix(p)`.
//!
//! Layouts:
//! - S, B: the bytes with each `0x00` escaped as `0x00 0xFF`, then the terminator `0x00 0x01`.
//!   The terminator sorts below every continuation (a byte ≥ 1, or the escape `0x00 0xFF`), so
//!   a prefix sorts first, as in bytewise order.
//! - N: one sign byte (`0x40` negative, `0x80` zero, `0xC0` positive); zero ends there.
//!   A positive number then has its scientific exponent + 130 (0..=255, one byte, since AWS's
//!   range is `-130..=125`), its significant digits packed in pairs as `1 + 10*hi + lo`
//!   (1..=100; an odd last digit is paired with 0), and the terminator `0x00`. A shorter digit
//!   string sorts first, as it is the smaller mantissa. A negative number stores every byte after
//!   the sign complemented (`255 - b`, terminator `0xFF`), which reverses the order.

use crate::number::Number;
use crate::value::AttributeValue;

/// The scalar type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl KeyType {
    /// The key type of a value, `None` for types that cannot be keys.
    pub fn of(v: &AttributeValue) -> Option<KeyType> {
        match v {
            AttributeValue::S(_) => Some(KeyType::S),
            AttributeValue::N(_) => Some(KeyType::N),
            AttributeValue::B(_) => Some(KeyType::B),
            _ => None,
        }
    }

    /// `"S"`, `"N"` or `"B"`.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }
}

const NEGATIVE: u8 = 0x40;
const ZERO: u8 = 0x80;
const POSITIVE: u8 = 0xC0;
/// Offset that maps AWS's scientific exponents `-130..=125` onto `0..=255`.
const EXPONENT_BIAS: i32 = 130;

/// Encodes a key value (S, N or B); `None` for other types.
pub fn encode_key_value(v: &AttributeValue) -> Option<Vec<u8>> {
    match v {
        AttributeValue::S(s) => Some(encode_bytes(s.as_bytes(), true)),
        AttributeValue::B(b) => Some(encode_bytes(b, true)),
        AttributeValue::N(n) => Some(encode_number(n)),
        _ => None,
    }
}

/// The encoding of a string or binary *prefix*, without terminator, for `begins_with` ranges;
/// `None` for other types.
pub fn encode_prefix(v: &AttributeValue) -> Option<Vec<u8>> {
    match v {
        AttributeValue::S(s) => Some(encode_bytes(s.as_bytes(), false)),
        AttributeValue::B(b) => Some(encode_bytes(b, false)),
        _ => None,
    }
}

/// The smallest byte string greater than every string that starts with `prefix` (the exclusive
/// upper bound of a prefix range); `None` if there is none (empty or all `0xFF`).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut out = prefix.to_vec();
    while let Some(last) = out.pop() {
        if last < 0xFF {
            out.push(last + 1);
            return Some(out);
        }
    }
    None
}

/// Decodes one value of type `ty` from the start of `bytes`: the value and the number of bytes
/// consumed. `None` if the bytes are not a valid encoding.
pub fn decode_key_value(bytes: &[u8], ty: KeyType) -> Option<(AttributeValue, usize)> {
    match ty {
        KeyType::S => {
            let (raw, used) = decode_bytes(bytes)?;
            Some((AttributeValue::S(String::from_utf8(raw).ok()?), used))
        }
        KeyType::B => {
            let (raw, used) = decode_bytes(bytes)?;
            Some((AttributeValue::B(raw), used))
        }
        KeyType::N => {
            let (n, used) = decode_number(bytes)?;
            Some((AttributeValue::N(n), used))
        }
    }
}

fn encode_bytes(raw: &[u8], terminate: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + 2);
    for &b in raw {
        out.push(b);
        if b == 0 {
            out.push(0xFF);
        }
    }
    if terminate {
        out.extend_from_slice(&[0x00, 0x01]);
    }
    out
}

fn decode_bytes(bytes: &[u8]) -> Option<(Vec<u8>, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let b = *bytes.get(i)?;
        if b == 0 {
            match *bytes.get(i + 1)? {
                0x01 => return Some((out, i + 2)),
                0xFF => {
                    out.push(0);
                    i += 2;
                }
                _ => return None,
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
}

fn encode_number(n: &Number) -> Vec<u8> {
    if n.is_zero() {
        return vec![ZERO];
    }
    let digits = n.digits();
    let mut body = Vec::with_capacity(2 + digits.len().div_ceil(2));
    // In range by Number's invariant: 0..=255.
    body.push(u8::try_from(n.scientific_exponent() + EXPONENT_BIAS).unwrap_or(0));
    for pair in digits.chunks(2) {
        let hi = pair.first().copied().unwrap_or(0);
        let lo = pair.get(1).copied().unwrap_or(0);
        body.push(1 + 10 * hi + lo);
    }
    body.push(0x00);
    let mut out = Vec::with_capacity(body.len() + 1);
    if n.is_negative() {
        out.push(NEGATIVE);
        out.extend(body.iter().map(|b| 0xFF - b));
    } else {
        out.push(POSITIVE);
        out.extend(body);
    }
    out
}

fn decode_number(bytes: &[u8]) -> Option<(Number, usize)> {
    let (&sign, rest) = bytes.split_first()?;
    let negative = match sign {
        ZERO => return Some((Number::ZERO, 1)),
        NEGATIVE => true,
        POSITIVE => false,
        _ => return None,
    };
    let un = |b: u8| if negative { 0xFF - b } else { b };
    let (&exp_byte, rest) = rest.split_first()?;
    let sci = i32::from(un(exp_byte)) - EXPONENT_BIAS;
    let mut digits = String::new();
    let mut used = 2;
    for &b in rest {
        used += 1;
        let b = un(b);
        if b == 0 {
            // digits "d1d2d3…" with scientific exponent `sci` is d1.d2d3… E sci
            let mut text = String::with_capacity(digits.len() + 8);
            if negative {
                text.push('-');
            }
            let (first, others) = digits.split_at(1.min(digits.len()));
            let others = others.trim_end_matches('0');
            text.push_str(first);
            if !others.is_empty() {
                text.push('.');
                text.push_str(others);
            }
            text.push_str(&format!("E{sci}"));
            let n = Number::parse(&text).ok()?;
            // Refuse non-canonical encodings, so that decode is the inverse of encode.
            return (bytes.get(..used)? == encode_number(&n).as_slice()).then_some((n, used));
        }
        if !(1..=100).contains(&b) {
            return None;
        }
        let v = b - 1;
        digits.push(char::from(b'0' + v / 10));
        digits.push(char::from(b'0' + v % 10));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> AttributeValue {
        AttributeValue::N(Number::parse(s).unwrap())
    }

    #[test]
    fn numbers_encode_in_numeric_order() {
        let ordered = [
            "-9.9999999999999999999999999999999999999E125",
            "-100",
            "-99",
            "-1.5",
            "-1",
            "-1E-130",
            "0",
            "1E-130",
            "0.001",
            "1",
            "1.05",
            "1.5",
            "10",
            "99",
            "100",
            "9.9999999999999999999999999999999999999E125",
        ];
        let encoded: Vec<Vec<u8>> = ordered
            .iter()
            .map(|s| encode_key_value(&n(s)).unwrap())
            .collect();
        for w in encoded.windows(2) {
            assert!(w[0] < w[1], "{w:?}");
        }
    }

    #[test]
    fn strings_with_nul_bytes_keep_bytewise_order() {
        let a = encode_key_value(&AttributeValue::S("a".into())).unwrap();
        let a0 = encode_key_value(&AttributeValue::S("a\0".into())).unwrap();
        let a1 = encode_key_value(&AttributeValue::S("a\u{1}".into())).unwrap();
        assert!(a < a0 && a0 < a1);
    }

    #[test]
    fn decoding_reports_bytes_consumed() {
        let mut buf = encode_key_value(&n("-12.5")).unwrap();
        let len = buf.len();
        buf.extend(encode_key_value(&AttributeValue::S("x".into())).unwrap());
        assert_eq!(decode_key_value(&buf, KeyType::N), Some((n("-12.5"), len)));
        assert_eq!(
            decode_key_value(&buf[len..], KeyType::S),
            Some((AttributeValue::S("x".into()), 3))
        );
    }

    #[test]
    fn non_key_types_have_no_encoding() {
        assert_eq!(encode_key_value(&AttributeValue::Bool(true)), None);
        assert_eq!(encode_prefix(&n("1")), None);
    }

    #[test]
    fn prefix_successor_bounds_the_prefix_range() {
        assert_eq!(prefix_successor(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_successor(&[0x61, 0xFF]), Some(vec![0x62]));
        assert_eq!(prefix_successor(&[0xFF]), None);
    }
}
