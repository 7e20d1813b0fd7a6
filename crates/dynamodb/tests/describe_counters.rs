//! DescribeTable's in-memory counters stay exact while writes of every kind
//! run concurrently with the first (lazy) count.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod common;

use rampart_dynamodb::{DynamoDb, Operation};
use serde_json::{Value, json};

async fn call(db: &DynamoDb, op: Operation, body: Value) -> Value {
    let call = db.parse(op, body.to_string().as_bytes()).unwrap();
    let out = db.execute(&common::ctx(), call).await.unwrap();
    serde_json::from_slice(&out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counts_are_exact_under_concurrent_writes_and_describes() {
    let db = common::memory_db().await;
    call(
        &db,
        Operation::CreateTable,
        json!({"TableName": "counted", "BillingMode": "PAY_PER_REQUEST",
               "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}),
    )
    .await;
    // Some items before the first count.
    for i in 0..50 {
        call(
            &db,
            Operation::PutItem,
            json!({"TableName": "counted", "Item": {"pk": {"S": format!("pre{i:03}")}}}),
        )
        .await;
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..40 {
                let key = format!("w{w}-{i:03}");
                call(
                    &db,
                    Operation::PutItem,
                    json!({"TableName": "counted", "Item": {"pk": {"S": key}, "v": {"S": "xx"}}}),
                )
                .await;
                // Overwrites of shared keys, with sizes that differ by
                // writer: each replaces an item another writer may have
                // just put, so its delta depends on exactly which one.
                let shared = format!("shared{}", i % 5);
                let v = "y".repeat(w + 1);
                call(
                    &db,
                    Operation::PutItem,
                    json!({"TableName": "counted", "Item": {"pk": {"S": shared}, "v": {"S": v}}}),
                )
                .await;
                if i % 4 == 0 {
                    call(
                        &db,
                        Operation::DeleteItem,
                        json!({"TableName": "counted", "Key": {"pk": {"S": key}}}),
                    )
                    .await;
                }
            }
        }));
    }
    for _ in 0..2 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..20 {
                call(
                    &db,
                    Operation::DescribeTable,
                    json!({"TableName": "counted"}),
                )
                .await;
                tokio::task::yield_now().await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let described = call(
        &db,
        Operation::DescribeTable,
        json!({"TableName": "counted"}),
    )
    .await;
    let scanned = call(&db, Operation::Scan, json!({"TableName": "counted"})).await;
    let expected_items = 50 + 4 * 30 + 5;
    assert_eq!(scanned["Count"], json!(expected_items));
    assert_eq!(described["Table"]["ItemCount"], json!(expected_items));
    // Every attribute is a string: an item's size is Σ name + value bytes.
    let size: usize = scanned["Items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|item| item.as_object().unwrap())
        .map(|(name, v)| name.len() + v["S"].as_str().unwrap().len())
        .sum();
    // "pk" + "preNNN" = 8 bytes; "pk" + "wW-NNN" + "v" + "xx" = 11 bytes;
    // "pk" + "sharedN" + "v" + 1..=4 bytes for the shared ones.
    let shared = size - (50 * 8 + 4 * 30 * 11);
    assert!((5 * 11..=5 * 14).contains(&shared), "{shared}");
    assert_eq!(described["Table"]["TableSizeBytes"], json!(size));
}
