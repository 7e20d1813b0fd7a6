//! The DynamoDB size of a stored item, read from its stored bytes without
//! building the item (no strings, maps or vectors allocated): what a write
//! that replaced or deleted the item needs for its capacity and the table's
//! counters.
//!
//! INVARIANT: for bytes written by [`crate::items::encode_item`],
//! `stored_item_size(b) == Some(item_size(&decode_item(b)))` (property test
//! in tests/stored_size_props.rs). Anything unexpected gives `None`, and the
//! caller decodes instead.

use std::fmt;

use serde::Deserializer as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::number::Number;

/// The item's size (Σ name length + value size, as
/// [`crate::value::item_size`]), or `None` if the bytes are not a stored item.
pub fn stored_item_size(bytes: &[u8]) -> Option<usize> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let size = de.deserialize_map(Members { named: true }).ok()?;
    de.end().ok()?;
    Some(size)
}

/// A map of name → attribute value: Σ (name + value) for an item, and
/// Σ (1 + name + value) for an `M` (whose 3 bytes the caller adds).
struct Members {
    named: bool,
}

impl<'de> Visitor<'de> for Members {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of attribute values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let mut total = 0usize;
        while let Some(name) = map.next_key_seed(StrLen)? {
            let value = map.next_value_seed(Value)?;
            let per = if self.named { 0 } else { 1 };
            total = total.saturating_add(per + name + value);
        }
        Ok(total)
    }
}

/// A string's length in bytes (borrowed or unescaped, the same length).
#[derive(Clone, Copy)]
struct StrLen;

impl<'de> DeserializeSeed<'de> for StrLen {
    type Value = usize;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for StrLen {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        Ok(v.len())
    }
}

/// A number's size: ⌈significant digits / 2⌉ + 1.
#[derive(Clone, Copy)]
struct NumLen;

impl<'de> DeserializeSeed<'de> for NumLen {
    type Value = usize;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for NumLen {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        let n = Number::parse(v).map_err(|_| E::custom("bad number"))?;
        Ok(n.significant_digits().div_ceil(2) + 1)
    }
}

/// The decoded length of padded standard base64.
#[derive(Clone, Copy)]
struct BinLen;

impl<'de> DeserializeSeed<'de> for BinLen {
    type Value = usize;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for BinLen {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("base64")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        let b = v.as_bytes();
        if !b.len().is_multiple_of(4) {
            return Err(E::custom("unpadded base64"));
        }
        let pad = b.iter().rev().take(2).filter(|&&c| c == b'=').count();
        Ok(b.len() / 4 * 3 - pad)
    }
}

/// Σ over a list's elements of `1 + size` (`L`) or `size` (sets).
struct Elements<S> {
    seed: S,
    per: usize,
}

impl<'de, S: DeserializeSeed<'de, Value = usize> + Copy> Visitor<'de> for Elements<S> {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut total = 0usize;
        while let Some(n) = seq.next_element_seed(self.seed)? {
            total = total.saturating_add(self.per + n);
        }
        Ok(total)
    }
}

/// One attribute value, `{"<type>": payload}`: its size.
#[derive(Clone, Copy)]
struct Value;

impl<'de> DeserializeSeed<'de> for Value {
    type Value = usize;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_map(self)
    }
}

/// A type tag: the stored ones are short and never escaped.
struct Tag([u8; 4], usize);

impl<'de> de::Deserialize<'de> for Tag {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Tag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a type tag")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Tag, E> {
                let mut t = [0u8; 4];
                t.get_mut(..v.len())
                    .ok_or_else(|| E::custom("unknown type"))?
                    .copy_from_slice(v.as_bytes());
                Ok(Tag(t, v.len()))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Visitor<'de> for Value {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an attribute value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<usize, A::Error> {
        let Some(Tag(t, n)) = map.next_key::<Tag>()? else {
            return Err(de::Error::custom("empty attribute value"));
        };
        let size = match t.get(..n).unwrap_or_default() {
            b"S" => map.next_value_seed(StrLen)?,
            b"N" => map.next_value_seed(NumLen)?,
            b"B" => map.next_value_seed(BinLen)?,
            b"BOOL" | b"NULL" => {
                map.next_value::<IgnoredAny>()?;
                1
            }
            b"M" => 3 + map.next_value_seed(Nested(Members { named: false }))?,
            b"L" => {
                3 + map.next_value_seed(Nested(Elements {
                    seed: Value,
                    per: 1,
                }))?
            }
            b"SS" => map.next_value_seed(Nested(Elements {
                seed: StrLen,
                per: 0,
            }))?,
            b"NS" => map.next_value_seed(Nested(Elements {
                seed: NumLen,
                per: 0,
            }))?,
            b"BS" => map.next_value_seed(Nested(Elements {
                seed: BinLen,
                per: 0,
            }))?,
            _ => return Err(de::Error::custom("unknown type")),
        };
        if map.next_key::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom("more than one type"));
        }
        Ok(size)
    }
}

/// Runs a map or sequence visitor on the next value.
struct Nested<V>(V);

impl<'de, V: Visitor<'de, Value = usize>> DeserializeSeed<'de> for Nested<V> {
    type Value = usize;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_any(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::items::{decode_item, encode_item};
    use crate::value::item_size;

    #[test]
    fn every_type_has_its_decoded_size() {
        let json = br#"{"s":{"S":"h\u00e9llo \"q\""},"n":{"N":"-12.3400"},"z":{"N":"0"},
            "b":{"B":"AAECAw=="},"t":{"BOOL":true},"u":{"NULL":true},
            "m":{"M":{"k\u00e9":{"S":"v"},"e":{"M":{}}}},"l":{"L":[{"N":"1"},{"L":[]}]},
            "ss":{"SS":["a","bc"]},"ns":{"NS":["1e10","0.001"]},"bs":{"BS":["AQ==","AgM="]}}"#;
        let item = decode_item(json).unwrap();
        let stored = encode_item(&item).unwrap();
        assert_eq!(stored_item_size(&stored), Some(item_size(&item)));
        assert_eq!(stored_item_size(json), Some(item_size(&item)));
    }

    #[test]
    fn anything_else_is_none() {
        for bad in [
            &b""[..],
            b"[]",
            br#"{"a":{}}"#,
            br#"{"a":{"X":"1"}}"#,
            br#"{"a":{"S":"1","N":"1"}}"#,
            br#"{"a":{"N":"x"}}"#,
            br#"{"a":{"B":"AAE"}}"#,
            br#"{"a":{"S":"1"}} trailing"#,
        ] {
            assert_eq!(
                stored_item_size(bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
