//! Drives a running Rampart with the official AWS SDK for Rust, as an application would:
//! `RAMPART_ENDPOINT`, `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_REGION` say where
//! and as whom. Each step checks what DynamoDB answers; the first difference is printed and the
//! process exits with status 1. `tests/e2e/test_sdk_rust.py` runs it.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, ConditionCheck, KeySchemaElement, KeyType,
    KeysAndAttributes, Put, PutRequest, ReturnValue, ReturnValuesOnConditionCheckFailure,
    ScalarAttributeType, TableStatus, TransactWriteItem, WriteRequest,
};

type Fallible<T = ()> = Result<T, String>;

fn env(name: &str) -> Fallible<String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

fn check(ok: bool, what: &str) -> Fallible {
    if ok {
        Ok(())
    } else {
        Err(format!("check failed: {what}"))
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: &str) -> AttributeValue {
    AttributeValue::N(v.to_owned())
}

fn book(author: &str, title: &str, year: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("Author".to_owned(), s(author)),
        ("BookTitle".to_owned(), s(title)),
        ("Year".to_owned(), n(year)),
    ])
}

fn key(author: &str, title: &str) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("Author".to_owned(), s(author)),
        ("BookTitle".to_owned(), s(title)),
    ])
}

fn built<T, E: std::fmt::Display>(r: Result<T, E>) -> Fallible<T> {
    r.map_err(|e| format!("builder: {e}"))
}

async fn run(client: &Client, table: &str) -> Fallible {
    // CreateTable, then wait for ACTIVE as the SDK's users do.
    client
        .create_table()
        .table_name(table)
        .attribute_definitions(built(
            AttributeDefinition::builder()
                .attribute_name("Author")
                .attribute_type(ScalarAttributeType::S)
                .build(),
        )?)
        .attribute_definitions(built(
            AttributeDefinition::builder()
                .attribute_name("BookTitle")
                .attribute_type(ScalarAttributeType::S)
                .build(),
        )?)
        .key_schema(built(
            KeySchemaElement::builder()
                .attribute_name("Author")
                .key_type(KeyType::Hash)
                .build(),
        )?)
        .key_schema(built(
            KeySchemaElement::builder()
                .attribute_name("BookTitle")
                .key_type(KeyType::Range)
                .build(),
        )?)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .map_err(|e| format!("CreateTable: {e:?}"))?;
    let mut active = false;
    for _ in 0..100 {
        let d = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| format!("DescribeTable: {e:?}"))?;
        if d.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            active = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check(active, "the table becomes ACTIVE")?;
    let listed = client
        .list_tables()
        .send()
        .await
        .map_err(|e| format!("ListTables: {e:?}"))?;
    check(
        listed.table_names().iter().any(|t| t == table),
        "ListTables lists the table",
    )?;

    // PutItem, GetItem.
    for (a, t, y) in [
        ("Acme", "Alpha", "1999"),
        ("Acme", "Beta", "2005"),
        ("Acme", "Gamma", "2011"),
        ("Zed", "Omega", "1970"),
    ] {
        client
            .put_item()
            .table_name(table)
            .set_item(Some(book(a, t, y)))
            .send()
            .await
            .map_err(|e| format!("PutItem: {e:?}"))?;
    }
    let got = client
        .get_item()
        .table_name(table)
        .set_key(Some(key("Acme", "Beta")))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| format!("GetItem: {e:?}"))?;
    check(
        got.item().and_then(|i| i.get("Year")) == Some(&n("2005")),
        "GetItem returns the item",
    )?;

    // A number with 38 significant digits comes back exactly as stored.
    let precise = "0.1000000000000000000000000000000000001";
    client
        .update_item()
        .table_name(table)
        .set_key(Some(key("Acme", "Alpha")))
        .update_expression("SET Price = :p")
        .expression_attribute_values(":p", n(precise))
        .send()
        .await
        .map_err(|e| format!("UpdateItem: {e:?}"))?;
    let got = client
        .get_item()
        .table_name(table)
        .set_key(Some(key("Acme", "Alpha")))
        .projection_expression("Price")
        .send()
        .await
        .map_err(|e| format!("GetItem: {e:?}"))?;
    check(
        got.item().and_then(|i| i.get("Price")) == Some(&n(precise)),
        "a 38-digit number round-trips",
    )?;

    // Query, page by page through the SDK's paginator.
    let mut stream = client
        .query()
        .table_name(table)
        .key_condition_expression("Author = :a")
        .expression_attribute_values(":a", s("Acme"))
        .limit(1)
        .into_paginator()
        .items()
        .send();
    let mut titles = Vec::new();
    while let Some(item) = stream.next().await {
        let item = item.map_err(|e| format!("Query page: {e:?}"))?;
        if let Some(AttributeValue::S(t)) = item.get("BookTitle") {
            titles.push(t.clone());
        }
    }
    check(
        titles == ["Alpha", "Beta", "Gamma"],
        &format!("Query pages through the partition in order (got {titles:?})"),
    )?;
    let back = client
        .query()
        .table_name(table)
        .key_condition_expression("Author = :a AND BookTitle > :t")
        .expression_attribute_values(":a", s("Acme"))
        .expression_attribute_values(":t", s("Alpha"))
        .scan_index_forward(false)
        .send()
        .await
        .map_err(|e| format!("Query: {e:?}"))?;
    check(
        back.count() == 2
            && back.items().first().and_then(|i| i.get("BookTitle")) == Some(&s("Gamma")),
        "Query backwards with a sort-key condition",
    )?;

    // A failed condition: the SDK's typed error, with the old item.
    let err = client
        .update_item()
        .table_name(table)
        .set_key(Some(key("Acme", "Beta")))
        .update_expression("SET #y = :y")
        .condition_expression("#y = :old")
        .expression_attribute_names("#y", "Year")
        .expression_attribute_values(":y", n("2006"))
        .expression_attribute_values(":old", n("1900"))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await
        .err()
        .ok_or("UpdateItem with a false condition succeeded")?;
    match err.into_service_error() {
        UpdateItemError::ConditionalCheckFailedException(e) => check(
            e.item().and_then(|i| i.get("Year")) == Some(&n("2005")),
            "ConditionalCheckFailedException carries the old item",
        )?,
        other => {
            return Err(format!(
                "UpdateItem: expected ConditionalCheckFailed, got {other:?}"
            ));
        }
    }
    let updated = client
        .update_item()
        .table_name(table)
        .set_key(Some(key("Acme", "Beta")))
        .update_expression("ADD Copies :one")
        .expression_attribute_values(":one", n("1"))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await
        .map_err(|e| format!("UpdateItem: {e:?}"))?;
    check(
        updated.attributes().and_then(|a| a.get("Copies")) == Some(&n("1")),
        "UPDATED_NEW returns the added counter",
    )?;

    // A transaction cancelled by its condition: the reasons, in order, and nothing written.
    let err = client
        .transact_write_items()
        .transact_items(
            TransactWriteItem::builder()
                .put(built(
                    Put::builder()
                        .table_name(table)
                        .set_item(Some(book("Txn", "One", "2020")))
                        .build(),
                )?)
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(built(
                    ConditionCheck::builder()
                        .table_name(table)
                        .set_key(Some(key("Zed", "Omega")))
                        .condition_expression("attribute_not_exists(Author)")
                        .build(),
                )?)
                .build(),
        )
        .send()
        .await
        .err()
        .ok_or("a transaction with a false condition succeeded")?;
    match err.into_service_error() {
        TransactWriteItemsError::TransactionCanceledException(e) => {
            let codes: Vec<&str> = e
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or(""))
                .collect();
            check(
                codes == ["None", "ConditionalCheckFailed"],
                &format!("cancellation reasons (got {codes:?})"),
            )?;
        }
        other => {
            return Err(format!(
                "TransactWriteItems: expected cancellation, got {other:?}"
            ));
        }
    }
    let none = client
        .get_item()
        .table_name(table)
        .set_key(Some(key("Txn", "One")))
        .send()
        .await
        .map_err(|e| format!("GetItem: {e:?}"))?;
    check(
        none.item().is_none(),
        "a cancelled transaction writes nothing",
    )?;

    // BatchWriteItem of 25, BatchGetItem of them back.
    let puts: Vec<WriteRequest> = (0..25)
        .map(|i| {
            Ok(WriteRequest::builder()
                .put_request(built(
                    PutRequest::builder()
                        .set_item(Some(book("Batch", &format!("T{i:02}"), "2000")))
                        .build(),
                )?)
                .build())
        })
        .collect::<Fallible<_>>()?;
    let out = client
        .batch_write_item()
        .request_items(table, puts)
        .send()
        .await
        .map_err(|e| format!("BatchWriteItem: {e:?}"))?;
    check(
        out.unprocessed_items().is_none_or(HashMap::is_empty),
        "BatchWriteItem processes every request",
    )?;
    let keys = built(
        KeysAndAttributes::builder()
            .set_keys(Some(
                (0..25).map(|i| key("Batch", &format!("T{i:02}"))).collect(),
            ))
            .build(),
    )?;
    let got = client
        .batch_get_item()
        .request_items(table, keys)
        .send()
        .await
        .map_err(|e| format!("BatchGetItem: {e:?}"))?;
    let count = got
        .responses()
        .and_then(|r| r.get(table))
        .map_or(0, Vec::len);
    check(
        count == 25,
        &format!("BatchGetItem returns 25 items (got {count})"),
    )?;

    // Scan with a filter counts what it read and what it kept.
    let scanned = client
        .scan()
        .table_name(table)
        .filter_expression("#y < :y")
        .expression_attribute_names("#y", "Year")
        .expression_attribute_values(":y", n("2000"))
        .send()
        .await
        .map_err(|e| format!("Scan: {e:?}"))?;
    check(
        scanned.count() == 2 && scanned.scanned_count() == 29,
        &format!(
            "Scan with a filter (count {}, scanned {})",
            scanned.count(),
            scanned.scanned_count()
        ),
    )?;

    // An unknown table is the SDK's typed ResourceNotFoundException.
    let err = client
        .get_item()
        .table_name("no-such-table")
        .set_key(Some(key("a", "b")))
        .send()
        .await
        .err()
        .ok_or("GetItem on a missing table succeeded")?;
    check(
        matches!(
            err.into_service_error(),
            GetItemError::ResourceNotFoundException(_)
        ),
        "a missing table is ResourceNotFoundException",
    )?;

    client
        .delete_table()
        .table_name(table)
        .send()
        .await
        .map_err(|e| format!("DeleteTable: {e:?}"))?;
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let outcome = async {
        let conf = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(env("AWS_REGION")?))
            .endpoint_url(env("RAMPART_ENDPOINT")?)
            .credentials_provider(Credentials::new(
                env("AWS_ACCESS_KEY_ID")?,
                env("AWS_SECRET_ACCESS_KEY")?,
                None,
                None,
                "rampart-sdk-rust-check",
            ))
            .build();
        run(&Client::from_conf(conf), "SdkRustBooks").await
    }
    .await;
    match outcome {
        Ok(()) => println!("ok"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
