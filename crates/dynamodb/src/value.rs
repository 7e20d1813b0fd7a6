//! DynamoDB's attribute values: the in-memory type, its wire JSON (serde), its validation and
//! its size.
//!
//! This module owns [`AttributeValue`] and [`Item`]; everything else in the crate (items,
//! expressions, keys) is built on them. It depends only on [`crate::number`].
//!
//! Where each check happens (the texts are DynamoDB's; sources: dynalite's validation tests
//! `test/{query,putItem,batchWriteItem}.js`, which were recorded against DynamoDB, and captures
//! from real DynamoDB in public conformance suites):
//! - **Deserialization** refuses what the enum cannot represent or what can never be stored:
//!   JSON of the wrong shape (texts in DynamoDB's `SerializationException` style, e.g.
//!   `Start of structure or map found where not expected.`), an AttributeValue with no type or
//!   with several, `NULL: false`, malformed or out-of-range numbers (the [`NumberError`] texts),
//!   bad base64, and — so that no handler can forget them — empty sets and duplicates in sets.
//!   The message of the serde error is the bare AWS text; callers add their context (e.g.
//!   `ExpressionAttributeValues contains invalid value: {msg} for key :v`). Use
//!   [`wire_error_kind`] to tell `SerializationException` texts from `ValidationException` ones.
//! - [`AttributeValue::validate`] repeats the set checks for values built in code (update
//!   expressions, legacy conversions), and [`AttributeValue::check_nesting_depth`] is the
//!   separate 32-level document limit, which DynamoDB applies to stored items but not to every
//!   request parameter.
//!
//! Sets (`Ss`, `Ns`, `Bs`) keep the order in which they were received (DynamoDB's responses
//! do not promise an order) but compare as sets: `PartialEq` ignores member order.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::number::{Number, NumberError};

/// An item: attribute name → value. Ordered by name so that output is deterministic.
pub type Item = BTreeMap<String, AttributeValue>;

/// DynamoDB allows documents nested at most this deep, counting the attribute itself as level 1
/// (a scalar inside 31 maps is accepted, inside 32 it is refused).
pub const MAX_NESTING_DEPTH: usize = 32;

/// One DynamoDB attribute value.
#[derive(Clone, Debug)]
pub enum AttributeValue {
    /// `S`: a UTF-8 string.
    S(String),
    /// `N`: an exact decimal number.
    N(Number),
    /// `B`: raw bytes (base64 on the wire).
    B(Vec<u8>),
    /// `BOOL`.
    Bool(bool),
    /// `NULL` (always `true` on the wire).
    Null,
    /// `M`: a map of named values.
    M(BTreeMap<String, AttributeValue>),
    /// `L`: a list.
    L(Vec<AttributeValue>),
    /// `SS`: a string set, in received order.
    Ss(Vec<String>),
    /// `NS`: a number set, in received order.
    Ns(Vec<Number>),
    /// `BS`: a binary set, in received order.
    Bs(Vec<Vec<u8>>),
}

/// A value DynamoDB refuses. `Display` is the full AWS `ValidationException` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(String);

impl ValueError {
    /// The message, as AWS words it.
    pub fn message(&self) -> &str {
        &self.0
    }

    fn new(msg: impl Into<String>) -> Self {
        ValueError(msg.into())
    }
}

impl From<NumberError> for ValueError {
    fn from(e: NumberError) -> Self {
        ValueError(e.to_string())
    }
}

// Texts (see the module docs for the sources).
const EMPTY_AV: &str =
    "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes";
const MULTIPLE_AV: &str = "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes";
const NULL_FALSE: &str = "One or more parameter values were invalid: Null attribute value types must have the value of true";
const EMPTY_SS: &str = "One or more parameter values were invalid: An string set  may not be empty";
const EMPTY_NS: &str = "One or more parameter values were invalid: An number set  may not be empty";
const EMPTY_BS: &str = "One or more parameter values were invalid: Binary sets should not be empty";
const NS_DUPLICATES: &str = "Input collection contains duplicates";
const NESTING: &str = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit";

/// Whether a message produced while deserializing an [`AttributeValue`] is a
/// `ValidationException` text (semantic: empty/multiple types, `NULL: false`, numbers, sets) or
/// a `SerializationException` text (wrong JSON shape, bad base64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireErrorKind {
    /// The JSON had the wrong shape: AWS answers `SerializationException`.
    Serialization,
    /// The JSON was well-formed but the value is invalid: AWS answers `ValidationException`.
    Validation,
}

/// Classifies the message of a serde error raised by `AttributeValue`'s `Deserialize`.
/// serde_json's ` at line L column C` suffix, if present, is ignored.
pub fn wire_error_kind(message: &str) -> WireErrorKind {
    let validation_prefixes = [
        "Supplied AttributeValue",
        "One or more parameter values were invalid",
        "Input collection",
        "The parameter cannot be converted to a numeric value",
        "Attempting to store more than",
        "Number overflow",
        "Number underflow",
        "Nesting Levels",
    ];
    if validation_prefixes.iter().any(|p| message.starts_with(p)) {
        WireErrorKind::Validation
    } else {
        WireErrorKind::Serialization
    }
}

impl AttributeValue {
    /// The wire type key: `"S"`, `"N"`, `"B"`, `"BOOL"`, `"NULL"`, `"M"`, `"L"`, `"SS"`, `"NS"`,
    /// `"BS"`. Also the operand type named in expression errors.
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null => "NULL",
            AttributeValue::M(_) => "M",
            AttributeValue::L(_) => "L",
            AttributeValue::Ss(_) => "SS",
            AttributeValue::Ns(_) => "NS",
            AttributeValue::Bs(_) => "BS",
        }
    }

    /// DynamoDB's semantic checks on a value built in code (deserialized values already passed
    /// them): sets are non-empty and duplicate-free, recursively through `M` and `L`.
    /// Does not check nesting depth: see [`AttributeValue::check_nesting_depth`].
    pub fn validate(&self) -> Result<(), ValueError> {
        match self {
            AttributeValue::Ss(v) => check_string_set(v),
            AttributeValue::Ns(v) => check_number_set(v),
            AttributeValue::Bs(v) => check_binary_set(v),
            AttributeValue::M(m) => m.values().try_for_each(AttributeValue::validate),
            AttributeValue::L(l) => l.iter().try_for_each(AttributeValue::validate),
            _ => Ok(()),
        }
    }

    /// The nesting depth: 1 for a scalar or set, 1 + the deepest member for `M` and `L`
    /// (an empty `M`/`L` is 1).
    pub fn nesting_depth(&self) -> usize {
        match self {
            AttributeValue::M(m) => 1 + m.values().map(Self::nesting_depth).max().unwrap_or(0),
            AttributeValue::L(l) => 1 + l.iter().map(Self::nesting_depth).max().unwrap_or(0),
            _ => 1,
        }
    }

    /// Refuses values nested deeper than [`MAX_NESTING_DEPTH`], with DynamoDB's text.
    pub fn check_nesting_depth(&self) -> Result<(), ValueError> {
        if self.nesting_depth() > MAX_NESTING_DEPTH {
            Err(ValueError::new(NESTING))
        } else {
            Ok(())
        }
    }

    /// The value's size by AWS's rules ("Item sizes and formats" in the developer guide),
    /// excluding the attribute name: S = UTF-8 bytes; N = 1 byte per two significant digits
    /// (rounded up) + 1; B = raw bytes; BOOL/NULL = 1; M/L = 3 + Σ(1 + member) (+ key names for
    /// M); sets = Σ member sizes.
    pub fn size(&self) -> usize {
        match self {
            AttributeValue::S(s) => s.len(),
            AttributeValue::N(n) => number_size(n),
            AttributeValue::B(b) => b.len(),
            AttributeValue::Bool(_) | AttributeValue::Null => 1,
            AttributeValue::M(m) => {
                3 + m.iter().map(|(k, v)| 1 + k.len() + v.size()).sum::<usize>()
            }
            AttributeValue::L(l) => 3 + l.iter().map(|v| 1 + v.size()).sum::<usize>(),
            AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
            AttributeValue::Ns(v) => v.iter().map(number_size).sum(),
            AttributeValue::Bs(v) => v.iter().map(Vec::len).sum(),
        }
    }

    /// Whether this is one of the set types.
    pub fn is_set(&self) -> bool {
        matches!(
            self,
            AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)
        )
    }
}

fn number_size(n: &Number) -> usize {
    n.significant_digits().div_ceil(2) + 1
}

/// The item's size: Σ over attributes of name length + value size.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + v.size()).sum()
}

/// AWS prints a collection as `[a, b]`.
fn collection_text<T: AsRef<str>>(v: &[T]) -> String {
    let parts: Vec<&str> = v.iter().map(AsRef::as_ref).collect();
    format!("[{}]", parts.join(", "))
}

fn check_string_set(v: &[String]) -> Result<(), ValueError> {
    if v.is_empty() {
        return Err(ValueError::new(EMPTY_SS));
    }
    let mut seen = HashSet::with_capacity(v.len());
    if v.iter().any(|s| !seen.insert(s)) {
        return Err(ValueError::new(format!(
            "One or more parameter values were invalid: Input collection {} contains duplicates.",
            collection_text(v)
        )));
    }
    Ok(())
}

fn check_number_set(v: &[Number]) -> Result<(), ValueError> {
    if v.is_empty() {
        return Err(ValueError::new(EMPTY_NS));
    }
    let mut seen = HashSet::with_capacity(v.len());
    if v.iter().any(|n| !seen.insert(n)) {
        return Err(ValueError::new(NS_DUPLICATES));
    }
    Ok(())
}

fn check_binary_set(v: &[Vec<u8>]) -> Result<(), ValueError> {
    if v.is_empty() {
        return Err(ValueError::new(EMPTY_BS));
    }
    let mut seen = HashSet::with_capacity(v.len());
    if v.iter().any(|b| !seen.insert(b)) {
        let encoded: Vec<String> = v.iter().map(|b| BASE64.encode(b)).collect();
        // Sic: no space before "of" in AWS's text.
        return Err(ValueError::new(format!(
            "One or more parameter values were invalid: Input collection {}of type BS contains duplicates.",
            collection_text(&encoded)
        )));
    }
    Ok(())
}

/// Sets compare as sets; everything else structurally. Numbers compare numerically.
impl PartialEq for AttributeValue {
    fn eq(&self, other: &Self) -> bool {
        use AttributeValue as V;
        match (self, other) {
            (V::S(a), V::S(b)) => a == b,
            (V::N(a), V::N(b)) => a == b,
            (V::B(a), V::B(b)) => a == b,
            (V::Bool(a), V::Bool(b)) => a == b,
            (V::Null, V::Null) => true,
            (V::M(a), V::M(b)) => a == b,
            (V::L(a), V::L(b)) => a == b,
            (V::Ss(a), V::Ss(b)) => same_members(a, b),
            (V::Ns(a), V::Ns(b)) => same_members(a, b),
            (V::Bs(a), V::Bs(b)) => same_members(a, b),
            _ => false,
        }
    }
}

impl Eq for AttributeValue {}

fn same_members<T: Eq + std::hash::Hash>(a: &[T], b: &[T]) -> bool {
    let a: HashSet<&T> = a.iter().collect();
    let b: HashSet<&T> = b.iter().collect();
    a == b
}

// ---------------------------------------------------------------------------------------------
// Serialization
// ---------------------------------------------------------------------------------------------

struct Base64Ref<'a>(&'a [u8]);

impl Serialize for Base64Ref<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(self.0))
    }
}

struct DisplayAsStr<'a, T>(&'a T);

impl<T: fmt::Display> Serialize for DisplayAsStr<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self.0)
    }
}

struct SeqOf<'a, T, W>(&'a [T], fn(&'a T) -> W);

impl<'a, T, W: Serialize> Serialize for SeqOf<'a, T, W> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for x in self.0 {
            seq.serialize_element(&(self.1)(x))?;
        }
        seq.end()
    }
}

/// DynamoDB JSON: `{"S":"x"}`, `{"N":"1.5"}`, `{"B":"<base64>"}`, `{"BOOL":true}`,
/// `{"NULL":true}`, `{"M":{…}}`, `{"L":[…]}`, `{"SS":[…]}`, `{"NS":["1"]}`, `{"BS":["<b64>"]}`.
impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        match self {
            AttributeValue::S(v) => map.serialize_entry("S", v)?,
            AttributeValue::N(n) => map.serialize_entry("N", &DisplayAsStr(n))?,
            AttributeValue::B(b) => map.serialize_entry("B", &Base64Ref(b))?,
            AttributeValue::Bool(b) => map.serialize_entry("BOOL", b)?,
            AttributeValue::Null => map.serialize_entry("NULL", &true)?,
            AttributeValue::M(m) => map.serialize_entry("M", m)?,
            AttributeValue::L(l) => map.serialize_entry("L", l)?,
            AttributeValue::Ss(v) => map.serialize_entry("SS", v)?,
            AttributeValue::Ns(v) => map.serialize_entry("NS", &SeqOf(v, DisplayAsStr))?,
            AttributeValue::Bs(v) => {
                map.serialize_entry("BS", &SeqOf(v, |b: &Vec<u8>| Base64Ref(b)))?
            }
        }
        map.end()
    }
}

// ---------------------------------------------------------------------------------------------
// Deserialization
// ---------------------------------------------------------------------------------------------

/// The Java class name DynamoDB's parser reports for a JSON number in the wrong place.
fn java_number_class_i64(v: i64) -> &'static str {
    if (-32768..=32767).contains(&v) {
        "java.lang.Short"
    } else if i32::try_from(v).is_ok() {
        "java.lang.Integer"
    } else {
        "java.lang.Long"
    }
}

/// What a field expects, for the texts of shape errors.
#[derive(Clone, Copy)]
enum Expect {
    String,
    Boolean,
    Blob,
    List,
    Map,
    Structure,
}

impl Expect {
    /// DynamoDB's text when a JSON scalar of class `class` arrives here.
    fn scalar_error<E: de::Error>(self, class: &str) -> E {
        match self {
            Expect::String => E::custom(format!("class {class} can not be converted to an String")),
            Expect::Boolean => {
                E::custom(format!("class {class} can not be converted to an Boolean"))
            }
            Expect::Blob => E::custom(format!("class {class} can not be converted to a Blob")),
            Expect::List => E::custom("Expected list or null"),
            Expect::Map => E::custom("Expected map or null"),
            Expect::Structure => E::custom("Expected null"),
        }
    }

    fn string_error<E: de::Error>(self, v: &str) -> E {
        match self {
            Expect::Boolean => E::custom(format!(
                "'{}' can not be converted to an Boolean",
                v.to_uppercase()
            )),
            other => other.scalar_error("java.lang.String"),
        }
    }

    fn list_error<E: de::Error>(self) -> E {
        E::custom("Start of list found where not expected")
    }

    fn map_error<E: de::Error>(self) -> E {
        E::custom("Start of structure or map found where not expected.")
    }
}

/// Implements the visitor methods that reject every JSON kind except the ones a visitor handles.
macro_rules! reject_numbers_and_bools {
    ($expect:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Err($expect.scalar_error("java.lang.Boolean"))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Err($expect.scalar_error(java_number_class_i64(v)))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            let class = i64::try_from(v).map_or("java.lang.Long", java_number_class_i64);
            Err($expect.scalar_error(class))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Err($expect.scalar_error("java.lang.Double"))
        }
    };
}

/// A JSON string (or null → `None`).
#[derive(Clone, Copy)]
struct StringField;

impl<'de> Visitor<'de> for StringField {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(Expect::String.list_error())
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(Expect::String.map_error())
    }
    reject_numbers_and_bools!(Expect::String);
}

/// A base64 JSON string, decoded (or null → `None`).
#[derive(Clone, Copy)]
struct BlobField;

impl<'de> Visitor<'de> for BlobField {
    type Value = Option<Vec<u8>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        decode_base64(v).map(Some)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(Expect::Blob.list_error())
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(Expect::Blob.map_error())
    }
    reject_numbers_and_bools!(Expect::Blob);
}

/// Decodes standard, padded base64 as DynamoDB does, with its texts.
fn decode_base64<E: de::Error>(v: &str) -> Result<Vec<u8>, E> {
    if !v.len().is_multiple_of(4) {
        return Err(E::custom(format!(
            "'{v}' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: {}",
            v.len()
        )));
    }
    if let Some(bad) = v
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '+' || *c == '/' || *c == '='))
    {
        return Err(E::custom(format!(
            "'{v}' can not be converted to a Blob: Invalid Base64 character: '{bad}'"
        )));
    }
    BASE64.decode(v).map_err(|_| {
        E::custom(format!(
            "'{v}' can not be converted to a Blob: Invalid last non-pad Base64 character dectected"
        ))
    })
}

/// A JSON boolean (or null → `None`).
struct BoolField;

impl<'de> Visitor<'de> for BoolField {
    type Value = Option<bool>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Err(Expect::Boolean.scalar_error(java_number_class_i64(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let class = i64::try_from(v).map_or("java.lang.Long", java_number_class_i64);
        Err(Expect::Boolean.scalar_error(class))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Err(Expect::Boolean.scalar_error("java.lang.Double"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Err(Expect::Boolean.string_error(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(Expect::Boolean.list_error())
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(Expect::Boolean.map_error())
    }
}

/// Deserializes one field with a visitor, as a `DeserializeSeed`.
struct Field<V>(V);

impl<'de, V: Visitor<'de>> DeserializeSeed<'de> for Field<V> {
    type Value = V::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self.0)
    }
}

/// A JSON array of scalars read by `F`, or null → `None`. Null members are kept as `None`.
struct ListOf<F>(F);

impl<'de, T, F> Visitor<'de> for ListOf<F>
where
    F: Visitor<'de, Value = Option<T>> + Copy,
{
    type Value = Option<Vec<Option<T>>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(x) = seq.next_element_seed(Field(self.0))? {
            out.push(x);
        }
        Ok(Some(out))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(Expect::List.scalar_error("java.lang.String"))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(Expect::List.map_error())
    }
    reject_numbers_and_bools!(Expect::List);
}

/// A JSON array of AttributeValues, or null.
struct ValueList;

impl<'de> Visitor<'de> for ValueList {
    type Value = Option<Vec<AttributeValue>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of attribute values")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(x) = seq.next_element_seed(Field(ValueVisitor))? {
            out.push(x.ok_or_else(|| de::Error::custom(EMPTY_AV))?);
        }
        Ok(Some(out))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(Expect::List.scalar_error("java.lang.String"))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(Expect::List.map_error())
    }
    reject_numbers_and_bools!(Expect::List);
}

/// A JSON object of AttributeValues, or null.
struct ValueMap;

impl<'de> Visitor<'de> for ValueMap {
    type Value = Option<BTreeMap<String, AttributeValue>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of attribute values")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = BTreeMap::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map
                .next_value_seed(Field(ValueVisitor))?
                .ok_or_else(|| de::Error::custom(EMPTY_AV))?;
            out.insert(k, v);
        }
        Ok(Some(out))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(Expect::Map.scalar_error("java.lang.String"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(Expect::Map.list_error())
    }
    reject_numbers_and_bools!(Expect::Map);
}

/// The AttributeValue structure itself; JSON null → `None` (callers decide whether that is
/// "empty").
struct ValueVisitor;

/// The members of an AttributeValue structure as they arrived (absent or null → `None`).
#[derive(Default)]
struct RawValue {
    s: Option<String>,
    n: Option<String>,
    b: Option<Vec<u8>>,
    bool_: Option<bool>,
    null: Option<bool>,
    m: Option<BTreeMap<String, AttributeValue>>,
    l: Option<Vec<AttributeValue>>,
    ss: Option<Vec<Option<String>>>,
    ns: Option<Vec<Option<String>>>,
    bs: Option<Vec<Option<Vec<u8>>>>,
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Option<AttributeValue>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an AttributeValue object")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Err(Expect::Structure.scalar_error("java.lang.String"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(Expect::Structure.list_error())
    }
    reject_numbers_and_bools!(Expect::Structure);

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut raw = RawValue::default();
        while let Some(key) = map.next_key::<String>()? {
            // Unknown members are ignored, as DynamoDB's parser does (so `{"a": ""}` is an
            // empty AttributeValue); a repeated member keeps the last value.
            match key.as_str() {
                "S" => raw.s = map.next_value_seed(Field(StringField))?,
                "N" => raw.n = map.next_value_seed(Field(StringField))?,
                "B" => raw.b = map.next_value_seed(Field(BlobField))?,
                "BOOL" => raw.bool_ = map.next_value_seed(Field(BoolField))?,
                "NULL" => raw.null = map.next_value_seed(Field(BoolField))?,
                "M" => raw.m = map.next_value_seed(Field(ValueMap))?,
                "L" => raw.l = map.next_value_seed(Field(ValueList))?,
                "SS" => raw.ss = map.next_value_seed(Field(ListOf(StringField)))?,
                "NS" => raw.ns = map.next_value_seed(Field(ListOf(StringField)))?,
                "BS" => raw.bs = map.next_value_seed(Field(ListOf(BlobField)))?,
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        raw.into_value().map(Some).map_err(de::Error::custom)
    }
}

impl RawValue {
    /// Semantic checks in DynamoDB's order: per member (number syntax and range, NULL true,
    /// empty sets, set members, duplicates), then "empty" / "more than one datatype".
    fn into_value(self) -> Result<AttributeValue, ValueError> {
        let mut found: Vec<AttributeValue> = Vec::with_capacity(1);
        if let Some(s) = self.s {
            found.push(AttributeValue::S(s));
        }
        if let Some(n) = self.n {
            found.push(AttributeValue::N(Number::parse(&n)?));
        }
        if let Some(b) = self.b {
            found.push(AttributeValue::B(b));
        }
        if let Some(b) = self.bool_ {
            found.push(AttributeValue::Bool(b));
        }
        if let Some(n) = self.null {
            if !n {
                return Err(ValueError::new(NULL_FALSE));
            }
            found.push(AttributeValue::Null);
        }
        if let Some(m) = self.m {
            found.push(AttributeValue::M(m));
        }
        if let Some(l) = self.l {
            found.push(AttributeValue::L(l));
        }
        if let Some(ss) = self.ss {
            if ss.is_empty() {
                return Err(ValueError::new(EMPTY_SS));
            }
            // A null member: DynamoDB's text for a null string in a set.
            let ss: Vec<String> = ss.into_iter().collect::<Option<_>>().ok_or_else(|| {
                ValueError::new(
                    "One or more parameter values were invalid: An string set may not have a null string as a member",
                )
            })?;
            check_string_set(&ss)?;
            found.push(AttributeValue::Ss(ss));
        }
        if let Some(ns) = self.ns {
            if ns.is_empty() {
                return Err(ValueError::new(EMPTY_NS));
            }
            // A null member: the request's AttributeValue is incomplete, as DynamoDB reports
            // it (observed, recorded by a test suite run against DynamoDB), not a bad number.
            let ns = ns
                .into_iter()
                .map(|n| match n {
                    Some(n) => Number::parse(&n).map_err(ValueError::from),
                    None => Err(ValueError::new(EMPTY_AV)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            check_number_set(&ns)?;
            found.push(AttributeValue::Ns(ns));
        }
        if let Some(bs) = self.bs {
            if bs.is_empty() {
                return Err(ValueError::new(EMPTY_BS));
            }
            let bs: Vec<Vec<u8>> = bs
                .into_iter()
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    ValueError::new(
                        "One or more parameter values were invalid: Binary sets may not contain null or empty values",
                    )
                })?;
            check_binary_set(&bs)?;
            found.push(AttributeValue::Bs(bs));
        }
        if found.len() > 1 {
            return Err(ValueError::new(MULTIPLE_AV));
        }
        found.pop().ok_or_else(|| ValueError::new(EMPTY_AV))
    }
}

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)?
            .ok_or_else(|| de::Error::custom(EMPTY_AV))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<AttributeValue, String> {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn every_type_round_trips_through_dynamodb_json() {
        for json in [
            r#"{"S":"x"}"#,
            r#"{"N":"1.5"}"#,
            r#"{"B":"AAEC"}"#,
            r#"{"BOOL":true}"#,
            r#"{"NULL":true}"#,
            r#"{"M":{"a":{"S":"b"},"c":{"L":[{"N":"1"},{"NULL":true}]}}}"#,
            r#"{"L":[]}"#,
            r#"{"SS":["b","a"]}"#,
            r#"{"NS":["2","1"]}"#,
            r#"{"BS":["AQ==","Ag=="]}"#,
        ] {
            let v = parse(json).unwrap();
            assert_eq!(serde_json::to_string(&v).unwrap(), json);
        }
    }

    #[test]
    fn numbers_are_printed_canonically() {
        let v = parse(r#"{"N":"001.500"}"#).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"N":"1.5"}"#);
    }

    #[test]
    fn invalid_values_are_refused_with_dynamodb_texts() {
        for (json, msg) in [
            (r#"{}"#, EMPTY_AV),
            (r#"{"a":""}"#, EMPTY_AV),
            (r#"{"S":null}"#, EMPTY_AV),
            (r#"{"S":"a","N":"1"}"#, MULTIPLE_AV),
            (
                r#"{"S":"a","N":"b"}"#,
                "The parameter cannot be converted to a numeric value: b",
            ),
            (
                r#"{"S":"a","N":""}"#,
                "The parameter cannot be converted to a numeric value",
            ),
            (r#"{"NULL":false}"#, NULL_FALSE),
            (r#"{"SS":[]}"#, EMPTY_SS),
            (r#"{"NS":[]}"#, EMPTY_NS),
            (r#"{"BS":[]}"#, EMPTY_BS),
            (
                r#"{"SS":["a","a"]}"#,
                "One or more parameter values were invalid: Input collection [a, a] contains duplicates.",
            ),
            (
                r#"{"BS":["Yg==","Yg=="]}"#,
                "One or more parameter values were invalid: Input collection [Yg==, Yg==]of type BS contains duplicates.",
            ),
            (r#"{"NS":["1","1.0"]}"#, NS_DUPLICATES),
            (
                r#"{"NS":["1","b"]}"#,
                "The parameter cannot be converted to a numeric value: b",
            ),
            (r#"{"M":{"a":{}}}"#, EMPTY_AV),
            (r#"{"L":[{}]}"#, EMPTY_AV),
            (
                r#"{"S":1}"#,
                "class java.lang.Short can not be converted to an String",
            ),
            (
                r#"{"S":true}"#,
                "class java.lang.Boolean can not be converted to an String",
            ),
            (
                r#"{"S":{}}"#,
                "Start of structure or map found where not expected.",
            ),
            (r#"{"L":"x"}"#, "Expected list or null"),
            (r#"{"M":[]}"#, "Start of list found where not expected"),
            (
                r#"{"BOOL":"yes"}"#,
                "'YES' can not be converted to an Boolean",
            ),
            (
                r#"{"B":"abc"}"#,
                "'abc' can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3",
            ),
            (r#""x""#, "Expected null"),
        ] {
            assert_eq!(parse(json).unwrap_err(), msg, "{json}");
        }
    }

    #[test]
    fn wire_errors_are_classified_by_text() {
        assert_eq!(wire_error_kind(EMPTY_AV), WireErrorKind::Validation);
        assert_eq!(
            wire_error_kind("Start of list found where not expected at line 1 column 7"),
            WireErrorKind::Serialization
        );
    }

    #[test]
    fn empty_strings_and_binaries_are_values() {
        assert_eq!(
            parse(r#"{"S":""}"#).unwrap(),
            AttributeValue::S(String::new())
        );
        assert_eq!(parse(r#"{"B":""}"#).unwrap(), AttributeValue::B(Vec::new()));
    }

    #[test]
    fn sets_compare_regardless_of_order() {
        assert_eq!(
            parse(r#"{"SS":["a","b"]}"#).unwrap(),
            parse(r#"{"SS":["b","a"]}"#).unwrap()
        );
        assert_ne!(
            parse(r#"{"SS":["a"]}"#).unwrap(),
            parse(r#"{"SS":["a","b"]}"#).unwrap()
        );
        assert_ne!(
            parse(r#"{"L":[{"S":"a"},{"S":"b"}]}"#).unwrap(),
            parse(r#"{"L":[{"S":"b"},{"S":"a"}]}"#).unwrap()
        );
    }

    #[test]
    fn sizes_follow_the_developer_guide() {
        let mut item = Item::new();
        item.insert("id".into(), AttributeValue::S("abc".into())); // 2 + 3
        item.insert(
            "n".into(),
            AttributeValue::N(Number::parse("12345").unwrap()),
        ); // 1 + 3 + 1
        item.insert("b".into(), AttributeValue::Bool(true)); // 1 + 1
        item.insert(
            "m".into(),
            AttributeValue::M(BTreeMap::from([("k".to_owned(), AttributeValue::Null)])),
        ); // 1 + 3 + (1 + 1 + 1)
        item.insert("l".into(), AttributeValue::L(vec![])); // 1 + 3
        assert_eq!(item_size(&item), 5 + 5 + 2 + 7 + 4);
    }

    #[test]
    fn nesting_beyond_32_levels_is_refused() {
        let mut v = AttributeValue::S("leaf".into());
        for _ in 0..31 {
            v = AttributeValue::M(BTreeMap::from([("n".to_owned(), v)]));
        }
        assert!(v.check_nesting_depth().is_ok());
        let v = AttributeValue::M(BTreeMap::from([("n".to_owned(), v)]));
        assert_eq!(v.check_nesting_depth().unwrap_err().to_string(), NESTING);
    }
}
