//! Any request body, for any operation, gets an answer or an error and never a panic; and a
//! write that is refused changes nothing. Bodies are drawn from the fields DynamoDB's
//! operations take, each with plausible and implausible values (wrong JSON types, bad numbers
//! and base64, deep documents, expressions made of the language's own tokens in any order),
//! against two tables with items, a GSI and an LSI.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test helpers: a broken fixture must fail loudly"
)]

mod common;

use std::sync::Arc;

use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use rampart_dynamodb::{DynamoDb, Operation};
use serde_json::{Map, Value, json};

async fn call(db: &DynamoDb, op: Operation, body: &Value) -> Result<Value, String> {
    let call = db
        .parse(op, body.to_string().as_bytes())
        .map_err(|e| format!("{e:?}"))?;
    let out = db
        .execute(&common::ctx(), call)
        .await
        .map_err(|e| format!("{e:?}"))?;
    if out.is_empty() {
        // TagResource and UntagResource answer with an empty body, as DynamoDB does.
        return Ok(Value::Null);
    }
    Ok(serde_json::from_slice(&out).expect("a response is JSON"))
}

/// Every item of both tables (consistent scans, all pages).
async fn contents(db: &DynamoDb) -> Vec<Value> {
    let mut all = Vec::new();
    for table in ["tbl", "hsh"] {
        let mut start: Option<Value> = None;
        loop {
            let mut body = json!({"TableName": table, "ConsistentRead": true});
            if let Some(k) = start.take() {
                body["ExclusiveStartKey"] = k;
            }
            let page = call(db, Operation::Scan, &body).await.expect("scan");
            all.extend(page["Items"].as_array().cloned().unwrap_or_default());
            match page.get("LastEvaluatedKey") {
                Some(k) => start = Some(k.clone()),
                None => break,
            }
        }
    }
    all
}

async fn fixture() -> Arc<DynamoDb> {
    let db = common::memory_db().await;
    call(
        &db,
        Operation::CreateTable,
        &json!({"TableName": "tbl", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                         {"AttributeName": "sk", "AttributeType": "N"},
                                         {"AttributeName": "a", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                              {"AttributeName": "sk", "KeyType": "RANGE"}],
                "GlobalSecondaryIndexes": [{"IndexName": "gsi",
                    "KeySchema": [{"AttributeName": "a", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"}}],
                "LocalSecondaryIndexes": [{"IndexName": "lsi",
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                  {"AttributeName": "a", "KeyType": "RANGE"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"}}]}),
    )
    .await
    .unwrap();
    call(
        &db,
        Operation::CreateTable,
        &json!({"TableName": "hsh", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "B"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}]}),
    )
    .await
    .unwrap();
    for i in 0..6 {
        call(
            &db,
            Operation::PutItem,
            &json!({"TableName": "tbl", "Item": {
                "pk": {"S": format!("p{}", i % 2)}, "sk": {"N": i.to_string()},
                "a": {"S": format!("a{i}")}, "b": {"L": [{"N": "1"}, {"M": {"c": {"SS": ["x"]}}}]},
                "n": {"N": "5"}, "s": {"NS": ["1", "2"]}}}),
        )
        .await
        .unwrap();
    }
    call(
        &db,
        Operation::PutItem,
        &json!({"TableName": "hsh", "Item": {"pk": {"B": "AQI="}, "v": {"BOOL": true}}}),
    )
    .await
    .unwrap();
    db
}

const OPS: &[Operation] = &[
    Operation::CreateTable,
    Operation::DescribeTable,
    Operation::UpdateTable,
    Operation::ListTables,
    Operation::DescribeEndpoints,
    Operation::DescribeLimits,
    Operation::PutItem,
    Operation::GetItem,
    Operation::UpdateItem,
    Operation::DeleteItem,
    Operation::Query,
    Operation::Scan,
    Operation::BatchGetItem,
    Operation::BatchWriteItem,
    Operation::TransactGetItems,
    Operation::TransactWriteItems,
    Operation::UpdateTimeToLive,
    Operation::DescribeTimeToLive,
    Operation::TagResource,
    Operation::UntagResource,
    Operation::ListTagsOfResource,
    Operation::PutResourcePolicy,
    Operation::GetResourcePolicy,
];

/// Operations that write items: a refused one must leave both tables as they were.
fn writes_items(op: Operation) -> bool {
    matches!(
        op,
        Operation::PutItem
            | Operation::UpdateItem
            | Operation::DeleteItem
            | Operation::BatchWriteItem
            | Operation::TransactWriteItems
    )
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("x".to_owned()),
        Just("\u{0}".to_owned()),
        Just("💥".to_owned()),
        "\\PC{0,6}",
    ]
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (-1000i64..1000).prop_map(|n| n.to_string()),
        1 => prop::sample::select(vec![
            "-0", "1e126", "1e125", "1e-131", "1e-130", "NaN", " 1", "1.5E+3", ".5", "5.",
            "99999999999999999999999999999999999999", "999999999999999999999999999999999999999",
        ])
        .prop_map(str::to_owned),
        1 => "[-+0-9.eE]{0,8}",
    ]
}

fn base64ish() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("AQI=".to_owned()),
        Just("!".to_owned()),
        "[A-Za-z0-9+/=]{0,8}"
    ]
}

/// An attribute name: mostly the fixture's.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        20 => prop::sample::select(vec!["pk", "sk", "a", "b", "n", "s", "v"]).prop_map(str::to_owned),
        1 => text(),
    ]
}

/// An attribute value, mostly well-formed, nested up to four levels.
fn attribute_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        8 => text().prop_map(|s| json!({"S": s})),
        8 => number().prop_map(|s| json!({"N": s})),
        1 => base64ish().prop_map(|s| json!({"B": s})),
        1 => any::<bool>().prop_map(|b| json!({"BOOL": b})),
        1 => prop::bool::weighted(0.9).prop_map(|b| json!({"NULL": b})),
        1 => vec(text(), 0..3).prop_map(|v| json!({"SS": v})),
        1 => vec(number(), 1..3).prop_map(|v| json!({"NS": v})),
        1 => vec(base64ish(), 1..3).prop_map(|v| json!({"BS": v})),
        1 => prop::sample::select(vec![
            json!({}),
            json!({"S": 1}),
            json!({"S": "a", "N": "1"}),
            json!({"L": "x"}),
            json!(null),
            json!("plain"),
            json!({"Z": "x"}),
        ]),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(|v| json!({ "L": v })),
            btree_map(name(), inner, 0..4).prop_map(|m| json!({ "M": m })),
        ]
    })
}

/// A key of table `tbl` (pk S, sk N), mostly well-typed; sometimes an extra attribute or a
/// missing one.
fn key() -> impl Strategy<Value = Value> {
    (
        prop_oneof![6 => "p[0-2]".prop_map(|s| json!({"S": s})), 1 => attribute_value()],
        prop_oneof![6 => (0..8i64).prop_map(|n| json!({"N": n.to_string()})), 1 => attribute_value()],
        0..24u8,
        attribute_value(),
    )
        .prop_map(|(pk, sk, shape, extra)| {
            let mut m = Map::new();
            if shape != 1 {
                m.insert("pk".into(), pk);
            }
            if shape != 2 {
                m.insert("sk".into(), sk);
            }
            if shape == 3 {
                m.insert("a".into(), extra);
            }
            Value::Object(m)
        })
}

fn item() -> impl Strategy<Value = Value> {
    (key(), btree_map(name(), attribute_value(), 0..4)).prop_map(|(k, rest)| {
        let mut m: Map<String, Value> = rest.into_iter().collect();
        if let Value::Object(k) = k {
            m.extend(k);
        }
        Value::Object(m)
    })
}

/// A document path: a name or a `#placeholder`, with member and index steps.
fn path() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            12 => prop::sample::select(vec!["pk", "sk", "a", "b", "n", "s", "#n", "#m"]),
            1 => prop::sample::select(vec!["size", "x y"]),
        ],
        vec(
            prop_oneof![
                4 => prop::sample::select(vec![".a", ".c", ".#n"]).prop_map(str::to_owned),
                4 => prop::sample::select(vec!["[0]", "[1]", "[7]"]).prop_map(str::to_owned),
                1 => prop::sample::select(vec!["[99999999999]", "[-1]"]).prop_map(str::to_owned),
            ],
            0..3,
        ),
    )
        .prop_map(|(head, steps)| format!("{head}{}", steps.concat()))
}

fn operand() -> impl Strategy<Value = String> {
    prop_oneof![
        path(),
        prop::sample::select(vec![":v", ":w", ":x"]).prop_map(str::to_owned),
        path().prop_map(|p| format!("size({p})")),
    ]
}

/// A condition in the expression grammar (mostly well-formed).
fn condition() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        (
            operand(),
            prop::sample::select(vec!["=", "<>", "<", "<=", ">", ">="]),
            operand()
        )
            .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        (operand(), operand(), operand()).prop_map(|(a, b, c)| format!("{a} BETWEEN {b} AND {c}")),
        (operand(), vec(operand(), 1..3)).prop_map(|(a, l)| format!("{a} IN ({})", l.join(", "))),
        path().prop_map(|p| format!("attribute_exists({p})")),
        path().prop_map(|p| format!("attribute_not_exists({p})")),
        (path(), operand()).prop_map(|(p, v)| format!("attribute_type({p}, {v})")),
        (path(), operand()).prop_map(|(p, v)| format!("begins_with({p}, {v})")),
        (path(), operand()).prop_map(|(p, v)| format!("contains({p}, {v})")),
    ];
    atom.prop_recursive(3, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) OR {b}")),
            inner.prop_map(|a| format!("NOT {a}")),
        ]
    })
}

fn update() -> impl Strategy<Value = String> {
    let plain = || {
        prop_oneof![
            path(),
            prop::sample::select(vec![":v", ":w", ":x"]).prop_map(str::to_owned),
        ]
    };
    let value = prop_oneof![
        plain(),
        (plain(), prop::sample::select(vec!["+", "-"]), plain())
            .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        (path(), plain()).prop_map(|(p, v)| format!("if_not_exists({p}, {v})")),
        (plain(), plain()).prop_map(|(a, b)| format!("list_append({a}, {b})")),
    ];
    let set = vec(
        (path(), value).prop_map(|(p, v)| format!("{p} = {v}")),
        1..3,
    )
    .prop_map(|l| format!("SET {}", l.join(", ")));
    let remove = vec(path(), 1..3).prop_map(|l| format!("REMOVE {}", l.join(", ")));
    let add = (path(), plain()).prop_map(|(p, v)| format!("ADD {p} {v}"));
    let delete = (path(), plain()).prop_map(|(p, v)| format!("DELETE {p} {v}"));
    vec(prop_oneof![set, remove, add, delete], 1..3).prop_map(|c| c.join(" "))
}

fn projection() -> impl Strategy<Value = String> {
    vec(path(), 1..4).prop_map(|l| l.join(", "))
}

/// An expression: from the grammar, or the grammar's tokens in any order, or any text.
fn expression(grammar: BoxedStrategy<String>) -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "a",
        "#n",
        ":v",
        "=",
        "<",
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "(",
        ")",
        ",",
        ".",
        "[0]",
        "size",
        "SET",
        "REMOVE",
        "ADD",
        "DELETE",
        "if_not_exists",
        "list_append",
        "+",
        "💥",
        "\u{0}",
        "'",
    ]);
    // Long chains and deep nesting: at and past the 300-operator limit and the nesting limit.
    let long = (0..700usize, 0..600usize, any::<bool>()).prop_map(|(n, depth, or)| {
        let link = if or { " OR a < b" } else { " AND a < b" };
        format!(
            "{}a < b{}{}",
            "(".repeat(depth),
            link.repeat(n),
            ")".repeat(depth)
        )
    });
    let nested = (
        0..420usize,
        prop::sample::select(vec![" OR (a < b", " AND (NOT a < b", " OR size(a", "(NOT "]),
    )
        .prop_map(|(depth, step)| format!("a < b{}{}", step.repeat(depth), ")".repeat(depth)));
    prop_oneof![
        8 => grammar,
        1 => (vec(token, 0..10), any::<bool>())
            .prop_map(|(t, spaced)| t.join(if spaced { " " } else { "" })),
        1 => text(),
        1 => long,
        1 => nested,
    ]
}

/// `ExpressionAttributeNames` and `ExpressionAttributeValues` for the placeholders the
/// expressions use, sometimes with one too many.
fn placeholders(exprs: &[&str], values: &[Value], extra: bool) -> (Value, Value) {
    let mut names = Map::new();
    let mut vals = Map::new();
    for e in exprs {
        for (i, tok) in e
            .split(|c: char| !(c.is_alphanumeric() || c == '#' || c == ':' || c == '_'))
            .enumerate()
        {
            if let Some(n) = tok.strip_prefix('#') {
                let target = if n == "n" { "a" } else { "b" };
                names.insert(tok.to_owned(), Value::from(target));
            } else if tok.starts_with(':') {
                let v = values
                    .get(i % values.len().max(1))
                    .cloned()
                    .unwrap_or(json!({"N": "1"}));
                vals.insert(tok.to_owned(), v);
            }
        }
    }
    if extra {
        names.insert("#unused".into(), Value::from("z"));
    }
    (Value::Object(names), Value::Object(vals))
}

fn table() -> impl Strategy<Value = Value> {
    prop_oneof![
        40 => Just(Value::from("tbl")),
        1 => Just(Value::from("hsh")),
        1 => Just(Value::from("arn:aws:dynamodb:us-east-1:111122223333:table/tbl")),
        1 => text().prop_map(Value::from),
        1 => Just(json!(7)),
    ]
}

fn choice(options: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop_oneof![
        30 => prop::sample::select(options).prop_map(Value::from),
        1 => text().prop_map(Value::from),
        1 => Just(json!(3)),
    ]
}

const RETURN_VALUES: &[&str] = &["NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"];
const RETURN_OLD: &[&str] = &["NONE", "ALL_OLD"];
const CAPACITY: &[&str] = &["NONE", "TOTAL", "INDEXES"];
const SELECT: &[&str] = &[
    "ALL_ATTRIBUTES",
    "COUNT",
    "SPECIFIC_ATTRIBUTES",
    "ALL_PROJECTED_ATTRIBUTES",
];

/// One request's expressions and the maps for them.
#[derive(Debug, Clone)]
struct Exprs {
    condition: Option<String>,
    update: String,
    key_condition: String,
    filter: Option<String>,
    projection: Option<String>,
    names: Value,
    values: Value,
}

fn exprs() -> impl Strategy<Value = Exprs> {
    (
        prop::option::weighted(0.5, expression(condition().boxed())),
        expression(update().boxed()),
        expression(
            prop_oneof![
                Just("pk = :v".to_owned()),
                (
                    operand(),
                    prop::sample::select(vec!["=", "<", ">=", "BETWEEN :w AND"]),
                    operand()
                )
                    .prop_map(|(_, op, b)| format!("pk = :v AND sk {op} {b}")),
                path().prop_map(|p| format!("pk = :v AND begins_with(sk, :w) AND {p} = :x")),
                condition(),
            ]
            .boxed(),
        ),
        prop::option::weighted(0.4, expression(condition().boxed())),
        prop::option::weighted(0.4, expression(projection().boxed())),
        vec(
            prop_oneof![3 => "p[0-2]".prop_map(|s| json!({"S": s})), 2 => attribute_value()],
            1..4,
        ),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(condition, update, key_condition, filter, projection, values, extra)| {
                let used: Vec<&str> = [
                    condition.as_deref(),
                    Some(update.as_str()),
                    Some(key_condition.as_str()),
                    filter.as_deref(),
                    projection.as_deref(),
                ]
                .into_iter()
                .flatten()
                .collect();
                let (names, values) = placeholders(&used, &values, extra);
                Exprs {
                    condition,
                    update,
                    key_condition,
                    filter,
                    projection,
                    names,
                    values,
                }
            },
        )
}

/// Puts `value` under `field` unless it is `None`.
fn put(body: &mut Map<String, Value>, field: &str, value: Option<Value>) {
    if let Some(v) = value {
        body.insert(field.to_owned(), v);
    }
}

/// A body for `op`: its own fields, mostly well-formed, with the maps its expressions need.
/// Only the placeholders of the expressions the body carries are kept in the maps.
fn body_for(op: Operation) -> BoxedStrategy<Value> {
    (
        table(),
        key(),
        item(),
        exprs(),
        if matches!(op, Operation::UpdateItem) {
            choice(RETURN_VALUES).boxed()
        } else {
            choice(RETURN_OLD).boxed()
        },
        choice(CAPACITY),
        prop::option::weighted(0.3, choice(SELECT)),
        (
            prop::option::weighted(0.3, prop_oneof![8 => (1..5i64).prop_map(Value::from), 1 => Just(json!(0)), 1 => Just(json!(-1))]),
            prop::option::weighted(0.2, any::<bool>().prop_map(Value::from)),
            prop::option::weighted(0.2, prop::sample::select(vec!["gsi", "lsi", "nope"]).prop_map(Value::from)),
            prop::option::weighted(0.2, item()),
            prop::option::weighted(0.2, (0..3i64, 1..4i64)),
        ),
        vec((0..4usize, key(), item(), exprs()), 0..4),
    )
        .prop_map(move |(table, key, item, e, rv, capacity, select, rest, members)| {
            let (limit, flag, index, start, segments) = rest;
            let mut b = Map::new();
            let strip = |e: &Exprs, texts: &[Option<&String>]| -> (Value, Value) {
                let used: Vec<&str> = texts.iter().flatten().map(|s| s.as_str()).collect();
                let mut names = Map::new();
                let mut values = Map::new();
                for (k, v) in e.names.as_object().into_iter().flatten() {
                    if k == "#unused" || used.iter().any(|t| t.contains(k.as_str())) {
                        names.insert(k.clone(), v.clone());
                    }
                }
                for (k, v) in e.values.as_object().into_iter().flatten() {
                    if used.iter().any(|t| t.contains(k.as_str())) {
                        values.insert(k.clone(), v.clone());
                    }
                }
                (Value::Object(names), Value::Object(values))
            };
            let with_maps = |b: &mut Map<String, Value>, e: &Exprs, texts: &[Option<&String>]| {
                let (names, values) = strip(e, texts);
                if !names.as_object().is_none_or(Map::is_empty) {
                    b.insert("ExpressionAttributeNames".into(), names);
                }
                if !values.as_object().is_none_or(Map::is_empty) {
                    b.insert("ExpressionAttributeValues".into(), values);
                }
            };
            b.insert("TableName".into(), table.clone());
            match op {
                Operation::PutItem => {
                    b.insert("Item".into(), item);
                    put(&mut b, "ConditionExpression", e.condition.clone().map(Value::from));
                    b.insert("ReturnValues".into(), rv);
                    with_maps(&mut b, &e, &[e.condition.as_ref()]);
                }
                Operation::UpdateItem => {
                    b.insert("Key".into(), key);
                    b.insert("UpdateExpression".into(), e.update.clone().into());
                    put(&mut b, "ConditionExpression", e.condition.clone().map(Value::from));
                    b.insert("ReturnValues".into(), rv);
                    with_maps(&mut b, &e, &[Some(&e.update), e.condition.as_ref()]);
                }
                Operation::DeleteItem | Operation::GetItem => {
                    b.insert("Key".into(), key);
                    if op == Operation::DeleteItem {
                        put(&mut b, "ConditionExpression", e.condition.clone().map(Value::from));
                        b.insert("ReturnValues".into(), rv);
                        with_maps(&mut b, &e, &[e.condition.as_ref()]);
                    } else {
                        put(&mut b, "ProjectionExpression", e.projection.clone().map(Value::from));
                        put(&mut b, "ConsistentRead", flag);
                        with_maps(&mut b, &e, &[e.projection.as_ref()]);
                    }
                }
                Operation::Query | Operation::Scan => {
                    if op == Operation::Query {
                        b.insert("KeyConditionExpression".into(), e.key_condition.clone().into());
                        put(&mut b, "ScanIndexForward", flag);
                    } else if let Some((seg, total)) = segments {
                        b.insert("Segment".into(), seg.into());
                        b.insert("TotalSegments".into(), total.into());
                    } else if let Some(Value::Number(n)) = &limit {
                        // A legacy filter of thousands of conditions (one node, never a
                        // chain as deep as the map is long).
                        let count = n.as_u64().unwrap_or(0) * 1000;
                        let filter: Map<String, Value> = (0..count)
                            .map(|i| (format!("a{i}"), json!({"ComparisonOperator": "NULL"})))
                            .collect();
                        b.insert("ScanFilter".into(), Value::Object(filter));
                    }
                    put(&mut b, "FilterExpression", e.filter.clone().map(Value::from));
                    put(&mut b, "ProjectionExpression", e.projection.clone().map(Value::from));
                    put(&mut b, "IndexName", index);
                    put(&mut b, "Limit", limit);
                    put(&mut b, "Select", select);
                    put(&mut b, "ExclusiveStartKey", start);
                    let kc = (op == Operation::Query).then_some(&e.key_condition);
                    with_maps(&mut b, &e, &[kc, e.filter.as_ref(), e.projection.as_ref()]);
                }
                Operation::BatchWriteItem => {
                    let reqs: Vec<Value> = members
                        .iter()
                        .map(|(kind, k, it, _)| match kind {
                            0 | 1 => json!({"PutRequest": {"Item": it}}),
                            2 => json!({"DeleteRequest": {"Key": k}}),
                            _ => json!({"PutRequest": {"Item": it}, "DeleteRequest": {"Key": k}}),
                        })
                        .collect();
                    b.clear();
                    b.insert("RequestItems".into(), json!({ table.as_str().unwrap_or("tbl"): reqs }));
                }
                Operation::BatchGetItem => {
                    let keys: Vec<Value> = members.iter().map(|(_, k, _, _)| k.clone()).collect();
                    let mut spec = json!({"Keys": keys});
                    if let Some(p) = &e.projection {
                        spec["ProjectionExpression"] = p.clone().into();
                        let (names, _) = strip(&e, &[Some(p)]);
                        spec["ExpressionAttributeNames"] = names;
                    }
                    b.clear();
                    b.insert("RequestItems".into(), json!({ table.as_str().unwrap_or("tbl"): spec }));
                }
                Operation::TransactWriteItems | Operation::TransactGetItems => {
                    let items: Vec<Value> = members
                        .iter()
                        .map(|(kind, k, it, m)| {
                            let mut inner = Map::new();
                            inner.insert("TableName".into(), table.clone());
                            let (name, texts): (&str, Vec<Option<&String>>) =
                                match (op, kind) {
                                    (Operation::TransactGetItems, _) => {
                                        inner.insert("Key".into(), k.clone());
                                        put(&mut inner, "ProjectionExpression", m.projection.clone().map(Value::from));
                                        ("Get", vec![m.projection.as_ref()])
                                    }
                                    (_, 0) => {
                                        inner.insert("Item".into(), it.clone());
                                        put(&mut inner, "ConditionExpression", m.condition.clone().map(Value::from));
                                        ("Put", vec![m.condition.as_ref()])
                                    }
                                    (_, 1) => {
                                        inner.insert("Key".into(), k.clone());
                                        inner.insert("UpdateExpression".into(), m.update.clone().into());
                                        put(&mut inner, "ConditionExpression", m.condition.clone().map(Value::from));
                                        ("Update", vec![Some(&m.update), m.condition.as_ref()])
                                    }
                                    (_, 2) => {
                                        inner.insert("Key".into(), k.clone());
                                        put(&mut inner, "ConditionExpression", m.condition.clone().map(Value::from));
                                        ("Delete", vec![m.condition.as_ref()])
                                    }
                                    _ => {
                                        inner.insert("Key".into(), k.clone());
                                        let c = m.condition.clone().unwrap_or_else(|| "attribute_exists(pk)".into());
                                        inner.insert("ConditionExpression".into(), c.into());
                                        ("ConditionCheck", vec![m.condition.as_ref()])
                                    }
                                };
                            with_maps(&mut inner, m, &texts);
                            json!({ name: Value::Object(inner) })
                        })
                        .collect();
                    b.clear();
                    b.insert("TransactItems".into(), json!(items));
                }
                _ => {
                    // Table-level operations: the table and whatever else the mask adds.
                    put(&mut b, "Limit", limit);
                    b.insert("ResourceArn".into(), table);
                }
            }
            b.insert("ReturnConsumedCapacity".into(), capacity);
            Value::Object(b)
        })
        .boxed()
}

fn request() -> impl Strategy<Value = (Operation, Value)> {
    prop::sample::select(OPS).prop_flat_map(|op| body_for(op).prop_map(move |b| (op, b)))
}

/// Runs the property on a thread of its own with a large stack: the request strategy is a deep
/// composition, and its value trees (in an unoptimized build) need more than a test thread's
/// default 2 MiB. Each request then runs on a thread with a server worker's stack.
#[test]
fn any_body_gets_an_answer_and_a_refused_write_changes_nothing() {
    let worker = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let config = ProptestConfig {
                cases: 3000,
                ..ProptestConfig::default()
            };
            let mut runner = proptest::test_runner::TestRunner::new(config);
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let result = runner.run(&request(), |(op, body)| {
                // The request itself runs on a thread with the stack a server worker thread
                // has: a stack overflow there aborts the test.
                std::thread::scope(|scope| {
                    std::thread::Builder::new()
                        .stack_size(rampart_dynamodb::expr::WORKER_STACK)
                        .spawn_scoped(scope, || {
                            rt.block_on(async {
                                let db = fixture().await;
                                let before = contents(&db).await;
                                let outcome = call(&db, op, &body).await;
                                if outcome.is_err() && writes_items(op) {
                                    prop_assert_eq!(
                                        contents(&db).await,
                                        before,
                                        "{:?} refused ({:?}) but changed the tables",
                                        op,
                                        outcome
                                    );
                                }
                                Ok(())
                            })
                        })
                        .unwrap()
                        .join()
                        .unwrap()
                })
            });
            if let Err(e) = result {
                panic!("{e}");
            }
        })
        .unwrap();
    if let Err(panic) = worker.join() {
        std::panic::resume_unwind(panic);
    }
}
