//! What a call asks the authorizer: the IAM action of every member, the
//! resource (the owner's ARN, the index ARN for index reads), DynamoDB's
//! condition keys and the table's resource policy.
#![allow(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

mod common;

use std::sync::Arc;

use rampart_core::{PrincipalKind, RequestContext};
use rampart_dynamodb::{AuthzRequest, DynamoDb, KeyValue, Operation};
use serde_json::{Value, json};

const OWNER: &str = "111122223333";
const OTHER: &str = "444455556666";

async fn db() -> Arc<DynamoDb> {
    let db = common::memory_db().await;
    db.set_policy_validator(Arc::new(|_doc: &str| Ok(())));
    let root = common::ctx_for(OWNER, PrincipalKind::Root);
    let create = json!({
        "TableName": "Games", "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": "UserId", "AttributeType": "S"},
            {"AttributeName": "Title", "AttributeType": "S"}],
        "KeySchema": [
            {"AttributeName": "UserId", "KeyType": "HASH"},
            {"AttributeName": "Title", "KeyType": "RANGE"}],
        "GlobalSecondaryIndexes": [{
            "IndexName": "ByTitle",
            "KeySchema": [{"AttributeName": "Title", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        "ResourcePolicy": policy(),
    });
    let call = db
        .parse(Operation::CreateTable, create.to_string().as_bytes())
        .unwrap();
    db.execute(&root, call).await.unwrap();
    db
}

fn policy() -> String {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"AWS": OTHER}, "Action": "dynamodb:GetItem",
        "Resource": format!("arn:aws:dynamodb:us-east-1:{OWNER}:table/Games")}]})
    .to_string()
}

fn requests(db: &DynamoDb, who: &RequestContext, op: Operation, body: Value) -> Vec<AuthzRequest> {
    let call = db.parse(op, body.to_string().as_bytes()).unwrap();
    db.authz_requests(who, &call)
}

fn key<'a>(r: &'a AuthzRequest, name: &str) -> Option<&'a KeyValue> {
    r.keys.iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn table_arn() -> String {
    format!("arn:aws:dynamodb:us-east-1:{OWNER}:table/Games")
}

#[tokio::test]
async fn get_item_carries_its_keys_and_the_tables_policy() {
    let db = db().await;
    let r = requests(
        &db,
        &common::ctx_for(OWNER, PrincipalKind::Root),
        Operation::GetItem,
        json!({"TableName": "Games", "Key": {"UserId": {"S": "u"}, "Title": {"S": "t"}}}),
    );
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].action, "dynamodb:GetItem");
    assert_eq!(r[0].resource, table_arn());
    assert_eq!(r[0].resource_policy, Some((table_arn(), policy())));
    assert_eq!(
        key(&r[0], "dynamodb:LeadingKeys"),
        Some(&KeyValue::Multi(vec!["u".into()]))
    );
}

#[tokio::test]
async fn a_table_arn_names_the_owners_table_for_another_account() {
    let db = db().await;
    let other = common::ctx_for(OTHER, PrincipalKind::User);
    let r = requests(
        &db,
        &other,
        Operation::GetItem,
        json!({"TableName": table_arn(), "Key": {"UserId": {"S": "u"}, "Title": {"S": "t"}}}),
    );
    assert_eq!(r[0].resource, table_arn());
    assert_eq!(r[0].resource_policy, Some((table_arn(), policy())));
    // By name, the caller's own account: no such table, no policy, no leading keys.
    let r = requests(
        &db,
        &other,
        Operation::GetItem,
        json!({"TableName": "Games", "Key": {"UserId": {"S": "u"}, "Title": {"S": "t"}}}),
    );
    assert_eq!(
        r[0].resource,
        format!("arn:aws:dynamodb:us-east-1:{OTHER}:table/Games")
    );
    assert_eq!(r[0].resource_policy, None);
    assert_eq!(key(&r[0], "dynamodb:LeadingKeys"), None);
}

#[tokio::test]
async fn index_queries_authorize_the_index_with_its_partition_key() {
    let db = db().await;
    let r = requests(
        &db,
        &common::ctx_for(OWNER, PrincipalKind::Root),
        Operation::Query,
        json!({"TableName": "Games", "IndexName": "ByTitle", "KeyConditionExpression": "Title = :t",
               "ExpressionAttributeValues": {":t": {"S": "Meteor"}}}),
    );
    assert_eq!(r[0].resource, format!("{}/index/ByTitle", table_arn()));
    assert_eq!(r[0].resource_policy, Some((table_arn(), policy())));
    assert_eq!(
        key(&r[0], "dynamodb:LeadingKeys"),
        Some(&KeyValue::Multi(vec!["Meteor".into()]))
    );
    assert_eq!(
        key(&r[0], "dynamodb:Select"),
        Some(&KeyValue::Single("ALL_PROJECTED_ATTRIBUTES".into()))
    );
}

#[tokio::test]
async fn transaction_members_are_authorized_as_their_own_actions() {
    let db = db().await;
    let k = json!({"UserId": {"S": "u"}, "Title": {"S": "t"}});
    let r = requests(
        &db,
        &common::ctx_for(OWNER, PrincipalKind::Root),
        Operation::TransactWriteItems,
        json!({"TransactItems": [
            {"ConditionCheck": {"TableName": "Games", "Key": k, "ConditionExpression": "attribute_exists(UserId)"}},
            {"Put": {"TableName": "Games", "Item": k}},
            {"Delete": {"TableName": "Games", "Key": k}},
            {"Update": {"TableName": "Games", "Key": k, "UpdateExpression": "SET Wins = :w",
                        "ExpressionAttributeValues": {":w": {"N": "1"}}}}]}),
    );
    let actions: Vec<&str> = r.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "dynamodb:ConditionCheckItem",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
            "dynamodb:UpdateItem"
        ]
    );
    for m in &r {
        assert_eq!(
            key(m, "dynamodb:EnclosingOperation"),
            Some(&KeyValue::Single("TransactWriteItems".into()))
        );
    }
    let r = requests(
        &db,
        &common::ctx_for(OWNER, PrincipalKind::Root),
        Operation::TransactGetItems,
        json!({"TransactItems": [{"Get": {"TableName": "Games", "Key": k}}]}),
    );
    assert_eq!(r[0].action, "dynamodb:GetItem");
}

#[tokio::test]
async fn batches_are_authorized_per_table_as_the_batch_action() {
    let db = db().await;
    let r = requests(
        &db,
        &common::ctx_for(OWNER, PrincipalKind::Root),
        Operation::BatchWriteItem,
        json!({"RequestItems": {
            "Games": [{"PutRequest": {"Item": {"UserId": {"S": "a"}, "Title": {"S": "t"}}}}],
            "Other": [{"DeleteRequest": {"Key": {"pk": {"S": "x"}}}}]}}),
    );
    let got: Vec<(&str, &str)> = r
        .iter()
        .map(|r| (r.action.as_str(), r.resource.as_str()))
        .collect();
    let other = format!("arn:aws:dynamodb:us-east-1:{OWNER}:table/Other");
    assert_eq!(
        got,
        [
            ("dynamodb:BatchWriteItem", table_arn().as_str()),
            ("dynamodb:BatchWriteItem", other.as_str())
        ]
    );
}

#[tokio::test]
async fn create_table_with_a_policy_also_needs_put_resource_policy() {
    let db = db().await;
    let r = requests(
        &db,
        &common::ctx_for(OWNER, PrincipalKind::User),
        Operation::CreateTable,
        json!({"TableName": "New", "ResourcePolicy": policy()}),
    );
    let actions: Vec<&str> = r.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(
        actions,
        ["dynamodb:CreateTable", "dynamodb:PutResourcePolicy"]
    );
}

#[tokio::test]
async fn the_owners_root_deletes_a_policy_regardless_of_it() {
    let db = db().await;
    let body = json!({"ResourceArn": table_arn()});
    let r = requests(
        &db,
        &common::ctx_for(OWNER, PrincipalKind::Root),
        Operation::DeleteResourcePolicy,
        body.clone(),
    );
    assert_eq!(r[0].resource_policy, None);
    let r = requests(
        &db,
        &common::ctx_for(OWNER, PrincipalKind::User),
        Operation::DeleteResourcePolicy,
        body,
    );
    assert_eq!(r[0].resource_policy, Some((table_arn(), policy())));
}

/// The first pass of the request path (`with_keys: false`) asks for the same actions on the
/// same resources with the same policies, in the same order, as the full list; only the item
/// operations leave their condition keys out.
#[tokio::test]
async fn requests_without_keys_match_the_full_list() {
    let db = db().await;
    let who = common::ctx_for(OWNER, PrincipalKind::Root);
    let key = json!({"UserId": {"S": "u"}, "Title": {"S": "t"}});
    let cases = [
        (
            Operation::GetItem,
            json!({"TableName": "Games", "Key": key}),
            true,
        ),
        (
            Operation::PutItem,
            json!({"TableName": "Games", "Item": key, "ReturnValues": "ALL_OLD"}),
            true,
        ),
        (
            Operation::UpdateItem,
            json!({"TableName": "Games", "Key": key, "UpdateExpression": "SET a = :a",
                   "ExpressionAttributeValues": {":a": {"N": "1"}}}),
            true,
        ),
        (
            Operation::DeleteItem,
            json!({"TableName": "Games", "Key": key}),
            true,
        ),
        (
            Operation::Query,
            json!({"TableName": "Games", "IndexName": "ByTitle",
                   "KeyConditionExpression": "Title = :t",
                   "ExpressionAttributeValues": {":t": {"S": "t"}}}),
            true,
        ),
        (
            Operation::Scan,
            json!({"TableName": "Games", "Select": "COUNT"}),
            true,
        ),
        (
            Operation::BatchGetItem,
            json!({"RequestItems": {"Games": {"Keys": [key]}}}),
            false,
        ),
        (
            Operation::TransactWriteItems,
            json!({"TransactItems": [{"Put": {"TableName": "Games", "Item": key}},
                                     {"Delete": {"TableName": "Games", "Key": key}}]}),
            false,
        ),
    ];
    for (op, body, lazy) in cases {
        let call = db.parse(op, body.to_string().as_bytes()).unwrap();
        let full = db.authz_requests(&who, &call);
        let first = db.authz_requests_with(&who, &call, false);
        assert_eq!(full.len(), first.len(), "{op:?}");
        for (f, r) in full.iter().zip(&first) {
            assert_eq!(
                (&f.action, &f.resource, &f.resource_policy),
                (&r.action, &r.resource, &r.resource_policy),
                "{op:?}"
            );
            assert!(!f.keys.is_empty(), "{op:?} has condition keys");
            if lazy {
                assert!(
                    r.keys.is_empty(),
                    "{op:?} leaves its keys to the second pass"
                );
            } else {
                assert_eq!(f.keys, r.keys, "{op:?} always carries its keys");
            }
        }
    }
}
