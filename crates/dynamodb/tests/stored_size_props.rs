//! Property test: the size read from an item's stored bytes without decoding
//! it (`stored_item_size`) is the size of the decoded item, for items of
//! every attribute type, nested, with escapes and multi-byte text.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

use proptest::prelude::*;
use rampart_dynamodb::items::encode_item;
use rampart_dynamodb::number::Number;
use rampart_dynamodb::stored_size::stored_item_size;
use rampart_dynamodb::value::{AttributeValue, Item, item_size};

fn text() -> impl Strategy<Value = String> {
    "[a-c\"\\\\\u{0}\u{1f}\u{e9}\u{1F600} ]{0,6}"
}

fn number() -> impl Strategy<Value = Number> {
    (any::<bool>(), "[0-9]{1,38}", -130i32..100).prop_filter_map(
        "in range",
        |(neg, digits, exp)| {
            Number::parse(&format!("{}{digits}E{exp}", if neg { "-" } else { "" })).ok()
        },
    )
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..7)
}

fn value() -> impl Strategy<Value = AttributeValue> {
    let leaf = prop_oneof![
        text().prop_map(AttributeValue::S),
        number().prop_map(AttributeValue::N),
        bytes().prop_map(AttributeValue::B),
        any::<bool>().prop_map(AttributeValue::Bool),
        Just(AttributeValue::Null),
        proptest::collection::btree_set(text(), 1..4)
            .prop_map(|s| AttributeValue::Ss(s.into_iter().collect())),
        proptest::collection::btree_set(number().prop_map(|n| n.to_string()), 1..4).prop_map(|s| {
            AttributeValue::Ns(s.iter().map(|n| Number::parse(n).unwrap()).collect())
        }),
        proptest::collection::btree_set(bytes(), 1..4)
            .prop_map(|s| AttributeValue::Bs(s.into_iter().collect())),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(AttributeValue::L),
            proptest::collection::btree_map(text(), inner, 0..4).prop_map(AttributeValue::M),
        ]
    })
}

fn item() -> impl Strategy<Value = Item> {
    proptest::collection::btree_map(text(), value(), 0..6)
}

proptest! {
    #[test]
    fn stored_size_is_the_decoded_items_size(item in item()) {
        let stored = encode_item(&item).unwrap();
        prop_assert_eq!(stored_item_size(&stored), Some(item_size(&item)));
    }
}
