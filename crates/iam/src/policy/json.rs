//! A strict JSON reader for policy documents: a duplicate key in any object is an error.
//!
//! `serde_json::Value` keeps the last of two equal keys, so `{"Effect": "Deny", "Effect":
//! "Allow"}` would silently become an Allow. A document that says two things is refused
//! instead (fail closed). Object members keep their order; numbers keep their text.
//!
//! INVARIANT: nesting is bounded by `serde_json`'s recursion limit (128), so hostile input
//! cannot overflow the stack.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A JSON value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// The number as written by `serde_json` (integers exactly).
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Members in document order; keys unique.
    Object(Vec<(String, Json)>),
}

impl Json {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    pub(crate) fn as_object(&self) -> Option<&[(String, Json)]> {
        match self {
            Self::Object(m) => Some(m),
            _ => None,
        }
    }
}

/// Parses `text` as one JSON value (trailing characters are an error).
pub(crate) fn parse(text: &str) -> Option<Json> {
    serde_json::from_str(text).ok()
}

/// The member named `key`, if any.
pub(crate) fn member<'j>(obj: &'j [(String, Json)], key: &str) -> Option<&'j Json> {
    obj.iter().find(|(k, _)| k == key).map(|(_, v)| v)
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        if v.is_finite() {
            Ok(Json::Number(v.to_string()))
        } else {
            Err(E::custom("number out of range"))
        }
    }

    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Json>()? {
            out.push(v);
        }
        Ok(Json::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut out: Vec<(String, Json)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        while let Some(k) = map.next_key::<String>()? {
            if !seen.insert(k.clone()) {
                return Err(de::Error::custom("duplicate key"));
            }
            let v = map.next_value::<Json>()?;
            out.push((k, v));
        }
        Ok(Json::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        assert!(parse(r#"{"a":1,"a":2}"#).is_none());
        assert!(parse(r#"{"a":{"b":1,"b":1}}"#).is_none());
        assert!(parse(r#"{"a":{"b":1,"c":1}}"#).is_some());
    }

    #[test]
    fn values_keep_order_and_number_text() {
        let j = parse(r#"{"z":10,"a":[true,null,"s",1.5]}"#).unwrap();
        assert_eq!(
            j,
            Json::Object(vec![
                ("z".into(), Json::Number("10".into())),
                (
                    "a".into(),
                    Json::Array(vec![
                        Json::Bool(true),
                        Json::Null,
                        Json::String("s".into()),
                        Json::Number("1.5".into())
                    ])
                ),
            ])
        );
        assert!(parse("{} x").is_none());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = "[".repeat(100_000) + &"]".repeat(100_000);
        assert!(parse(&deep).is_none());
    }
}
