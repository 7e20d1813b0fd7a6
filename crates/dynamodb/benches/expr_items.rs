//! The pure parts of a DynamoDB write: parsing a condition and an update expression with
//! their placeholders, evaluating the condition and applying the update on a ~1 KB item, and
//! encoding/decoding that item for storage.
//!
//! `cargo bench -p rampart-dynamodb --bench expr_items`. Measurements, not tests.

#![expect(
    clippy::expect_used,
    reason = "a benchmark fixture: failing loudly is the right behaviour"
)]
#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rampart_dynamodb::expr::{ConditionKind, Placeholders, parse_condition, parse_update};
use rampart_dynamodb::items::{decode_item, encode_item};
use rampart_dynamodb::value::{AttributeValue, Item};

/// A ~1 KB item of every common type, in DynamoDB JSON.
fn item_json() -> String {
    let description = "A durable, self-hosted database that speaks DynamoDB. ".repeat(6);
    format!(
        r#"{{
        "pk": {{"S": "user#0000012345"}},
        "sk": {{"S": "order#2026-05-28T20:33:20Z#000042"}},
        "status": {{"S": "SHIPPED"}},
        "count": {{"N": "41"}},
        "total": {{"N": "1234.56"}},
        "paid": {{"BOOL": true}},
        "note": {{"NULL": true}},
        "tags": {{"SS": ["gift", "express", "fragile", "priority"]}},
        "scores": {{"NS": ["1", "2.5", "-3", "1e10"]}},
        "description": {{"S": "{description}"}},
        "address": {{"M": {{
            "street": {{"S": "1 Infinite Loop"}}, "city": {{"S": "Cupertino"}},
            "zip": {{"S": "95014"}}, "geo": {{"L": [{{"N": "37.3318"}}, {{"N": "-122.0312"}}]}}
        }}}},
        "lines": {{"L": [
            {{"M": {{"sku": {{"S": "SKU-0001"}}, "qty": {{"N": "2"}}, "price": {{"N": "19.99"}}}}}},
            {{"M": {{"sku": {{"S": "SKU-0002"}}, "qty": {{"N": "1"}}, "price": {{"N": "250"}}}}}},
            {{"M": {{"sku": {{"S": "SKU-0003"}}, "qty": {{"N": "5"}}, "price": {{"N": "3.5"}}}}}}
        ]}}
    }}"#
    )
}

fn names() -> HashMap<String, String> {
    [
        ("#s", "status"),
        ("#c", "count"),
        ("#d", "description"),
        ("#a", "address"),
        ("#l", "lines"),
        ("#n", "note"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

fn values() -> HashMap<String, AttributeValue> {
    let json = r#"{":shipped":{"S":"SHIPPED"},":max":{"N":"100"},":one":{"N":"1"},":zip":{"S":"95"},":pending":{"S":"PENDING"},":line":{"L":[{"M":{"sku":{"S":"SKU-9"}}}]}}"#;
    let item: Item = serde_json::from_str(json).expect("values parse");
    item.into_iter().collect()
}

const CONDITION: &str = "attribute_exists(#c) AND #s = :shipped AND #c < :max AND begins_with(#a.zip, :zip) AND size(#d) > :one";
const UPDATE: &str = "SET #s = :pending, #c = #c + :one, #l = list_append(#l, :line) REMOVE #n";

fn bench(c: &mut Criterion) {
    let json = item_json();
    let item: Item = serde_json::from_str(&json).expect("item parses");
    let stored = encode_item(&item).expect("encodes");
    let names = names();
    let values = values();

    let mut g = c.benchmark_group("expr");
    g.bench_function("parse_condition", |b| {
        b.iter(|| {
            let mut p = Placeholders::new(Some(&names), Some(&values));
            parse_condition(black_box(CONDITION), &mut p, ConditionKind::Condition).is_ok()
        })
    });
    g.bench_function("parse_update", |b| {
        b.iter(|| {
            let mut p = Placeholders::new(Some(&names), Some(&values));
            parse_update(black_box(UPDATE), &mut p).is_ok()
        })
    });
    let mut p = Placeholders::new(Some(&names), Some(&values));
    let cond = parse_condition(CONDITION, &mut p, ConditionKind::Condition).expect("parses");
    let update = parse_update(UPDATE, &mut p).expect("parses");
    assert!(
        cond.eval(&item).expect("evaluates"),
        "the fixture's condition holds"
    );
    g.bench_function("eval_condition_1kb_item", |b| {
        b.iter(|| cond.eval(black_box(&item)).is_ok())
    });
    g.bench_function("apply_update_1kb_item", |b| {
        b.iter_batched(
            || item.clone(),
            |mut it| update.apply(&mut it).is_ok(),
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("items");
    g.throughput(Throughput::Bytes(stored.len() as u64));
    g.bench_function("encode_item_1kb", |b| {
        b.iter(|| encode_item(black_box(&item)).is_ok())
    });
    g.bench_function("decode_item_1kb", |b| {
        b.iter(|| decode_item(black_box(&stored)).is_ok())
    });
    g.finish();
    eprintln!("stored item size: {} bytes", stored.len());
}

criterion_group!(benches, bench);
criterion_main!(benches);
