//! Property tests for the key encoding: order preservation, prefix-freeness, round trip,
//! composite keys and the `begins_with` prefix property.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

use proptest::prelude::*;
use rampart_dynamodb::keys::{
    KeyType, decode_key_value, encode_key_value, encode_prefix, prefix_successor,
};
use rampart_dynamodb::number::Number;
use rampart_dynamodb::value::AttributeValue;

fn number() -> impl Strategy<Value = Number> {
    (any::<bool>(), "[1-9][0-9]{0,37}", -168i32..126)
        .prop_filter_map("in range", |(neg, digits, exp)| {
            Number::parse(&format!("{}{digits}E{exp}", if neg { "-" } else { "" })).ok()
        })
        .boxed()
}

/// Bytes biased towards 0x00, 0x01 and 0xFF, the bytes the escaping cares about.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![Just(0u8), Just(1u8), Just(0xFFu8), any::<u8>()],
        0..8,
    )
}

fn key_value(ty: KeyType) -> BoxedStrategy<AttributeValue> {
    match ty {
        KeyType::S => "[\\x00-\\x02a-c\u{e9}\u{1F600}]{0,6}"
            .prop_map(AttributeValue::S)
            .boxed(),
        KeyType::B => bytes().prop_map(AttributeValue::B).boxed(),
        KeyType::N => prop_oneof![1 => Just(Number::ZERO), 9 => number()]
            .prop_map(AttributeValue::N)
            .boxed(),
    }
}

fn key_type() -> impl Strategy<Value = KeyType> {
    prop_oneof![Just(KeyType::S), Just(KeyType::N), Just(KeyType::B)]
}

/// DynamoDB's order for two values of the same key type.
fn dynamo_cmp(a: &AttributeValue, b: &AttributeValue) -> std::cmp::Ordering {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => x.as_bytes().cmp(y.as_bytes()),
        (AttributeValue::B(x), AttributeValue::B(y)) => x.cmp(y),
        (AttributeValue::N(x), AttributeValue::N(y)) => x.cmp(y),
        _ => unreachable!(),
    }
}

fn pair() -> impl Strategy<Value = (KeyType, AttributeValue, AttributeValue)> {
    key_type().prop_flat_map(|ty| (Just(ty), key_value(ty), key_value(ty)))
}

proptest! {
    #[test]
    fn encoding_preserves_dynamodb_order((_ty, a, b) in pair()) {
        let (ea, eb) = (encode_key_value(&a).unwrap(), encode_key_value(&b).unwrap());
        prop_assert_eq!(ea.cmp(&eb), dynamo_cmp(&a, &b));
    }

    #[test]
    fn no_encoding_is_a_proper_prefix_of_another((_ty, a, b) in pair()) {
        let (ea, eb) = (encode_key_value(&a).unwrap(), encode_key_value(&b).unwrap());
        if ea != eb {
            prop_assert!(!eb.starts_with(&ea) && !ea.starts_with(&eb));
        }
    }

    #[test]
    fn decoding_inverts_encoding_and_reports_length(
        (ty, a, b) in pair(),
        trailer in bytes(),
    ) {
        let mut buf = encode_key_value(&a).unwrap();
        let len = buf.len();
        buf.extend(trailer);
        let (decoded, used) = decode_key_value(&buf, ty).unwrap();
        prop_assert_eq!(used, len);
        prop_assert_eq!(&decoded, &a);
        // and the next value of a composite key decodes from where the first stopped
        let mut composite = encode_key_value(&a).unwrap();
        composite.extend(encode_key_value(&b).unwrap());
        let (second, _) = decode_key_value(&composite[len..], ty).unwrap();
        prop_assert_eq!(second, b);
    }

    #[test]
    fn composite_keys_sort_by_hash_then_range(
        (_t1, h1, h2) in pair(),
        (_t2, r1, r2) in pair(),
    ) {
        prop_assume!(std::mem::discriminant(&r1) == std::mem::discriminant(&r2));
        let k = |h: &AttributeValue, r: &AttributeValue| {
            let mut v = encode_key_value(h).unwrap();
            v.extend(encode_key_value(r).unwrap());
            v
        };
        let expected = dynamo_cmp(&h1, &h2).then_with(|| dynamo_cmp(&r1, &r2));
        prop_assert_eq!(k(&h1, &r1).cmp(&k(&h2, &r2)), expected);
    }

    #[test]
    fn values_beginning_with_a_prefix_fall_in_its_range(
        ty in prop_oneof![Just(KeyType::S), Just(KeyType::B)],
        p in bytes(),
        rest in bytes(),
        other in bytes(),
    ) {
        let mk = |b: Vec<u8>| match ty {
            KeyType::S => AttributeValue::S(String::from_utf8_lossy(&b).into_owned()),
            _ => AttributeValue::B(b),
        };
        let prefix = mk(p.clone());
        let raw_prefix = match &prefix { AttributeValue::S(s) => s.as_bytes().to_vec(), AttributeValue::B(b) => b.clone(), _ => unreachable!() };
        let mut full = raw_prefix.clone();
        full.extend(match mk(rest) { AttributeValue::S(s) => s.into_bytes(), AttributeValue::B(b) => b, _ => unreachable!() });
        let full = match ty { KeyType::S => AttributeValue::S(String::from_utf8(full).unwrap()), _ => AttributeValue::B(full) };
        let ep = encode_prefix(&prefix).unwrap();
        let ef = encode_key_value(&full).unwrap();
        prop_assert!(ef.starts_with(&ep));
        if let Some(upper) = prefix_successor(&ep) {
            prop_assert!(ef < upper);
        }
        // and a value that does not begin with the prefix is outside [prefix, successor)
        let o = mk(other);
        let o_raw = match &o { AttributeValue::S(s) => s.as_bytes().to_vec(), AttributeValue::B(b) => b.clone(), _ => unreachable!() };
        let eo = encode_key_value(&o).unwrap();
        let inside = eo >= ep && prefix_successor(&ep).is_none_or(|u| eo < u);
        prop_assert_eq!(inside, o_raw.starts_with(&raw_prefix));
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics_and_accepts_only_canonical_encodings(
        ty in key_type(),
        raw in proptest::collection::vec(any::<u8>(), 0..24),
    ) {
        if let Some((v, used)) = decode_key_value(&raw, ty) {
            prop_assert_eq!(encode_key_value(&v).unwrap(), raw[..used].to_vec());
        }
    }
}
