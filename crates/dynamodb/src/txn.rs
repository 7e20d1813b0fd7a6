//! TransactGetItems and TransactWriteItems. A transaction reads every item
//! it touches from one snapshot, evaluates every condition, and commits all
//! writes (with their index entries and the idempotency record) in one
//! storage batch whose preconditions are the versions it read: atomic, also
//! across tables and across a crash.

use std::collections::HashSet;
use std::sync::Arc;

use rampart_storage::Batch;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::{DynamoError, Result};
use crate::expr::{self, ConditionKind};
use crate::items::{
    Capacity, StagedWrite, check_index_keys, check_item, check_key, check_mix, check_return_modes,
    check_updated_item, decode_item, expr_err, item_json, placeholders, read_units, stage,
};
use crate::layout::{self, TOKENS_TREE};
use crate::model::*;
use crate::service::{DynamoDb, Table, to_json};
use crate::validate::Validator;
use crate::value::{Item, item_size};

fn invalid(msg: impl Into<String>) -> DynamoError {
    DynamoError::Validation(msg.into())
}

/// How long a ClientRequestToken is remembered.
const TOKEN_TTL_SECS: f64 = 600.0;
/// The aggregate size limit of a transaction.
const MAX_TXN_BYTES: usize = 4 * 1024 * 1024;
/// Retries after losing an optimistic race before reporting a conflict.
const MAX_ATTEMPTS: usize = 32;

/// What a remembered token stores.
#[derive(Debug, Serialize, Deserialize)]
struct TokenRecord {
    /// SHA-256 of the request's parameters (hex).
    request_hash: String,
    /// When the transaction committed (epoch seconds).
    at: f64,
}

/// One parsed write action.
struct Action {
    kind: &'static str,
    table: Arc<Table>,
    key_item: Item,
    storage_key: Vec<u8>,
    condition: Option<expr::Condition>,
    update: Option<expr::UpdateExpr>,
    put: Option<Item>,
    return_old_on_failure: bool,
}

fn reason(code: &str, message: Option<&str>, item: Option<&Item>) -> Value {
    let mut m = Map::new();
    m.insert("Code".into(), json!(code));
    if let Some(msg) = message {
        m.insert("Message".into(), json!(msg));
    }
    if let Some(i) = item {
        m.insert("Item".into(), item_json(i));
    }
    Value::Object(m)
}

/// Whether a validation error is about an item's key against the table's key schema (a key
/// of the wrong type, a missing or extra key attribute, a key too large): inside a transaction
/// DynamoDB reports those as the action's `ValidationError` cancellation reason, while
/// malformed values (an empty key string, nesting past 32 levels) fail the request (both
/// recorded by test suites run against DynamoDB).
fn key_mismatch(msg: &str) -> bool {
    msg.contains("does not match the schema")
        || msg.contains("Type mismatch for key")
        || msg.contains("Missing the key")
        || msg.contains("has exceeded the maximum size limit")
}

/// The text of a key-schema error (see [`key_mismatch`]), which cancels a transaction, or
/// the error itself, which fails the request.
fn key_schema_error(e: DynamoError) -> Result<String> {
    match e {
        DynamoError::Validation(msg) if key_mismatch(&msg) => Ok(msg),
        other => Err(other),
    }
}

/// A transaction cancelled by a validation error in action `failed` of `n`: that action's
/// reason `ValidationError` with the text, every other action's `None`.
fn canceled_by_validation(n: usize, failed: usize, msg: &str) -> DynamoError {
    let reasons = (0..n)
        .map(|j| {
            if j == failed {
                reason("ValidationError", Some(msg), None)
            } else {
                reason("None", None, None)
            }
        })
        .collect();
    canceled(reasons)
}

fn canceled(reasons: Vec<Value>) -> DynamoError {
    let codes: Vec<String> = reasons
        .iter()
        .map(|r| {
            r.get("Code")
                .and_then(Value::as_str)
                .unwrap_or("None")
                .to_owned()
        })
        .collect();
    DynamoError::TransactionCanceled {
        message: format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        ),
        reasons: Value::Array(reasons),
    }
}

impl DynamoDb {
    pub(crate) async fn transact_get_items(
        &self,
        account: &str,
        input: TransactGetItemsInput,
    ) -> Result<Vec<u8>> {
        let mut v = Validator::new();
        check_return_modes(&mut v, &input.return_consumed_capacity, None);
        if v.not_null(&input.transact_items, "transactItems") {
            let n = input.transact_items.as_ref().map(Vec::len).unwrap_or(0);
            v.count(
                n,
                if n == 0 { "[]" } else { "[...]" },
                "transactItems",
                1,
                100,
            );
        }
        for (i, t) in input.transact_items.iter().flatten().enumerate() {
            let at = format!("transactItems.{}.member.get", i + 1);
            if v.not_null(&t.get, &at)
                && let Some(g) = &t.get
            {
                v.not_null(&g.key, &format!("{at}.key"));
                crate::catalog::check_table_name_at(
                    &mut v,
                    g.table_name.as_deref(),
                    &format!("{at}.tableName"),
                );
            }
        }
        v.finish()?;
        let mut plans = Vec::new();
        let mut seen = HashSet::new();
        let n = input.transact_items.as_ref().map(Vec::len).unwrap_or(0);
        for (i, t) in input.transact_items.iter().flatten().enumerate() {
            let Some(g) = &t.get else {
                return Err(invalid(format!(
                    "1 validation error detected: Value null at 'transactItems.{}.member.get' failed to satisfy constraint: Member must not be null",
                    i + 1
                )));
            };
            let table = self.table_for_items(account, &g.table_name)?;
            let keyed = check_key(&table.meta, &g.key, "key")
                .and_then(|key_item| crate::items::storage_key(&table.meta.key, &key_item));
            let storage_key = match keyed {
                Ok(k) => k,
                Err(e) => return Err(canceled_by_validation(n, i, &key_schema_error(e)?)),
            };
            if !seen.insert((table.meta.id.clone(), storage_key.clone())) {
                return Err(invalid(
                    "Transaction request cannot include multiple operations on one item",
                ));
            }
            // AWS quirk: a Get without ProjectionExpression ignores ExpressionAttributeNames
            // (recorded by a test suite run against DynamoDB); with one, unused names are
            // refused as usual.
            let names = if g.projection_expression.is_some() {
                &g.expression_attribute_names
            } else {
                &None
            };
            let projection = self.parse_read_projection(&g.projection_expression, &None, names)?;
            plans.push((table, storage_key, projection));
        }
        let lookups: Vec<(String, Vec<u8>)> = plans
            .iter()
            .map(|(t, k, _)| (layout::item_tree(&t.meta), k.clone()))
            .collect();
        let found = self.engine.get_many(&lookups).await?;
        let mut responses = Vec::new();
        let mut caps: std::collections::BTreeMap<String, Capacity> = Default::default();
        for ((table, _, projection), got) in plans.iter().zip(found) {
            let mut size = 0;
            match got {
                Some(v) => {
                    let item = decode_item(&v.value)?;
                    size = item_size(&item);
                    let shown = match projection {
                        Some(p) => p.apply(&item),
                        None => item,
                    };
                    // A projection that matches nothing leaves no Item, as GetItem does.
                    if shown.is_empty() {
                        responses.push(json!({}));
                    } else {
                        responses.push(json!({ "Item": item_json(&shown) }));
                    }
                }
                None => responses.push(json!({})),
            }
            let c = caps
                .entry(table.meta.name.clone())
                .or_insert_with(|| Capacity {
                    read: true,
                    ..Capacity::default()
                });
            c.table += 2.0 * read_units(size, true);
        }
        let mut out = Map::new();
        out.insert("Responses".into(), Value::Array(responses));
        let rendered: Vec<Value> = caps
            .iter()
            .filter_map(|(n, c)| {
                c.render_split(
                    n,
                    input.return_consumed_capacity.as_deref().unwrap_or("NONE"),
                )
            })
            .collect();
        if !rendered.is_empty() {
            out.insert("ConsumedCapacity".into(), Value::Array(rendered));
        }
        to_json(&Value::Object(out))
    }

    /// The action, or (inner `Err`) the text of an error in its item or key (a key of the
    /// wrong type, an item without its key), which cancels the transaction with a
    /// `ValidationError` reason for this action rather than failing the request (observed
    /// on DynamoDB, recorded by ScyllaDB's Alternator tests). The outer `Err` is a request
    /// error (expressions, parameters, a missing table).
    fn parse_action(
        &self,
        account: &str,
        kind: &'static str,
        a: &TransactAction,
    ) -> Result<std::result::Result<Action, String>> {
        let table = self.table_for_items(account, &a.table_name)?;
        let meta = &table.meta;
        let mut exprs = Vec::new();
        if kind == "Update" {
            exprs.push(("UpdateExpression", a.update_expression.is_some()));
        }
        exprs.push(("ConditionExpression", a.condition_expression.is_some()));
        // AWS quirk: a transaction action with no expression at all ignores
        // ExpressionAttributeNames/Values (recorded by a test suite run against DynamoDB);
        // with an expression, unused ones are refused as usual.
        let any_expression = exprs.iter().any(|(_, present)| *present);
        let (names, values) = if any_expression {
            (
                &a.expression_attribute_names,
                &a.expression_attribute_values,
            )
        } else {
            (&None, &None)
        };
        check_mix(&[], &exprs, names.is_some(), values.is_some())?;
        let mut p = placeholders(names, values)?;
        let update = match (kind, &a.update_expression) {
            ("Update", Some(u)) => Some(expr::parse_update(u, &mut p).map_err(expr_err)?),
            ("Update", None) => {
                return Err(invalid(
                    "1 validation error detected: Value null at 'transactItems.member.update.updateExpression' failed to satisfy constraint: Member must not be null",
                ));
            }
            _ => None,
        };
        let condition = match &a.condition_expression {
            Some(c) => {
                Some(expr::parse_condition(c, &mut p, ConditionKind::Condition).map_err(expr_err)?)
            }
            None if kind == "ConditionCheck" => {
                return Err(invalid(
                    "1 validation error detected: Value null at 'transactItems.member.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null",
                ));
            }
            None => None,
        };
        p.finish().map_err(expr_err)?;
        let (key_item, put) = if kind == "Put" {
            let item = a.item.clone().ok_or_else(|| {
                invalid("1 validation error detected: Value null at 'transactItems.member.put.item' failed to satisfy constraint: Member must not be null")
            })?;
            if let Err(e) = check_item(meta, &item) {
                return key_schema_error(e).map(Err);
            }
            let key: Item = meta
                .key
                .names()
                .filter_map(|n| item.get(n).map(|v| (n.to_owned(), v.clone())))
                .collect();
            (key, Some(item))
        } else {
            match check_key(meta, &a.key, "key") {
                Ok(k) => (k, None),
                Err(e) => return key_schema_error(e).map(Err),
            }
        };
        if let Some(u) = &update {
            for name in meta.key.names() {
                if u.touches(name) {
                    return Err(invalid(format!(
                        "One or more parameter values were invalid: Cannot update attribute {name}. This attribute is part of the key"
                    )));
                }
            }
        }
        let storage_key = match crate::items::storage_key(&meta.key, &key_item) {
            Ok(k) => k,
            Err(e) => return key_schema_error(e).map(Err),
        };
        Ok(Ok(Action {
            kind,
            table: table.clone(),
            key_item,
            storage_key,
            condition,
            update,
            put,
            return_old_on_failure: a.return_values_on_condition_check_failure.as_deref()
                == Some("ALL_OLD"),
        }))
    }

    pub(crate) async fn transact_write_items(
        &self,
        account: &str,
        input: TransactWriteItemsInput,
    ) -> Result<Vec<u8>> {
        let mut v = Validator::new();
        check_return_modes(
            &mut v,
            &input.return_consumed_capacity,
            Some(&input.return_item_collection_metrics),
        );
        if v.not_null(&input.transact_items, "transactItems") {
            let n = input.transact_items.as_ref().map(Vec::len).unwrap_or(0);
            v.count(
                n,
                if n == 0 { "[]" } else { "[...]" },
                "transactItems",
                1,
                100,
            );
        }
        if let Some(t) = &input.client_request_token {
            v.length(t, "clientRequestToken", 1, 36);
        }
        for (i, t) in input.transact_items.iter().flatten().enumerate() {
            check_write_member(&mut v, i, t);
        }
        v.finish()?;
        let items = input.transact_items.clone().unwrap_or_default();
        for t in &items {
            let n = [
                t.condition_check.is_some(),
                t.put.is_some(),
                t.delete.is_some(),
                t.update.is_some(),
            ]
            .into_iter()
            .filter(|p| *p)
            .count();
            if n == 0 {
                return Err(invalid(
                    "Invalid Request: TransactWriteRequest should contain Delete or Put or Update request",
                ));
            }
            if n > 1 {
                return Err(invalid(
                    "TransactItems can only contain one of Check, Put, Update or Delete",
                ));
            }
        }
        let request_hash = hex_sha256(&canonical_request(&items));
        let now = self.now();
        let token_key = input
            .client_request_token
            .as_ref()
            .map(|t| format!("{account}\0{t}").into_bytes());
        if let Some(tk) = &token_key
            && let Some(found) = self.engine.get(TOKENS_TREE, tk).await?
            && let Ok(rec) = serde_json::from_slice::<TokenRecord>(&found.value)
            && now - rec.at < TOKEN_TTL_SECS
        {
            if rec.request_hash != request_hash {
                return Err(DynamoError::IdempotentParameterMismatch(
                    "Client request token is already used with different parameters".into(),
                ));
            }
            // Same request within the window: already applied.
            return to_json(&json!({}));
        }

        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut actions = Vec::new();
            let mut seen = HashSet::new();
            for (i, t) in items.iter().enumerate() {
                let members = [
                    t.condition_check.as_ref().map(|a| ("ConditionCheck", a)),
                    t.put.as_ref().map(|a| ("Put", a)),
                    t.delete.as_ref().map(|a| ("Delete", a)),
                    t.update.as_ref().map(|a| ("Update", a)),
                ];
                let mut present = members.into_iter().flatten();
                let (Some((kind, a)), None) = (present.next(), present.next()) else {
                    return Err(invalid(format!(
                        "TransactItems can only contain one of Check, Put, Update or Delete (item {})",
                        i + 1
                    )));
                };

                let action = match self.parse_action(account, kind, a)? {
                    Ok(action) => action,
                    // Nothing else is checked: every other action's reason is None.
                    Err(msg) => return Err(canceled_by_validation(items.len(), i, &msg)),
                };
                if !seen.insert((action.table.meta.id.clone(), action.storage_key.clone())) {
                    return Err(invalid(
                        "Transaction request cannot include multiple operations on one item",
                    ));
                }
                actions.push(action);
            }
            let lookups: Vec<(String, Vec<u8>)> = actions
                .iter()
                .map(|a| (layout::item_tree(&a.table.meta), a.storage_key.clone()))
                .collect();
            let current = self.engine.get_many(&lookups).await?;
            let mut reasons = Vec::new();
            let mut failed = false;
            let mut staged = Vec::new();
            let mut pins = Vec::new();
            let mut check_caps: Vec<(String, f64)> = Vec::new();
            for ((a, cur), (tree, key)) in actions.iter().zip(current).zip(lookups.iter()) {
                let (version, old) = match cur {
                    Some(v) => (Some(v.version), Some(decode_item(&v.value)?)),
                    None => (None, None),
                };
                let empty = Item::new();
                let ok = match &a.condition {
                    Some(c) => c.eval(old.as_ref().unwrap_or(&empty)).map_err(expr_err)?,
                    None => true,
                };
                if !ok {
                    failed = true;
                    reasons.push(reason(
                        "ConditionalCheckFailed",
                        Some("The conditional request failed"),
                        if a.return_old_on_failure {
                            old.as_ref()
                        } else {
                            None
                        },
                    ));
                    continue;
                }
                let new = match a.kind {
                    "ConditionCheck" => {
                        // The check holds only if the item is unchanged at commit.
                        // It costs as a transactional write of the item read.
                        let size = old.as_ref().map(item_size).unwrap_or(0);
                        check_caps.push((
                            a.table.meta.name.clone(),
                            2.0 * crate::items::write_units(size),
                        ));
                        pins.push((tree.clone(), key.clone(), version));
                        reasons.push(reason("None", None, None));
                        continue;
                    }
                    "Put" => a.put.clone(),
                    "Delete" => None,
                    // An update that only removes attributes does not create an item
                    // (`UpdateExpr::only_removes`).
                    _ if old.is_none() && a.update.as_ref().is_some_and(|u| u.only_removes()) => {
                        None
                    }
                    _ => {
                        let mut item = old.clone().unwrap_or_else(|| a.key_item.clone());
                        let applied = a
                            .update
                            .as_ref()
                            .map(|u| u.apply(&mut item))
                            .transpose()
                            .map_err(|e| e.to_string())
                            .and_then(|_| {
                                for idx in &a.table.meta.indexes {
                                    check_index_keys(idx, &item).map_err(|e| e.to_string())?;
                                }
                                check_updated_item(&item).map_err(|e| e.to_string())
                            });
                        if let Err(msg) = applied {
                            failed = true;
                            reasons.push(reason("ValidationError", Some(&msg), None));
                            continue;
                        }
                        Some(item)
                    }
                };
                reasons.push(reason("None", None, None));
                staged.push(StagedWrite {
                    table: a.table.clone(),
                    key: a.storage_key.clone(),
                    version,
                    old,
                    new,
                });
            }
            if failed {
                return Err(canceled(reasons));
            }
            // The aggregate size of the items written (Put items and the
            // results of Updates) is limited to 4 MB.
            let total_bytes: usize = staged
                .iter()
                .filter_map(|w| w.new.as_ref())
                .map(item_size)
                .sum();
            if total_bytes > MAX_TXN_BYTES {
                return Err(invalid("Transaction request cannot be larger than 4 MB"));
            }
            let mut batch = Batch::new();
            for (tree, key, version) in pins {
                batch.expect(tree, key, version);
            }
            let mut caps: std::collections::BTreeMap<String, Capacity> = Default::default();
            let mut metrics: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
            for w in &staged {
                // Transactional writes cost twice, on the table and its indexes.
                let mut cap = stage(&mut batch, w)?;
                cap.table *= 2.0;
                cap.gsi.values_mut().for_each(|u| *u *= 2.0);
                cap.lsi.values_mut().for_each(|u| *u *= 2.0);
                caps.entry(w.table.meta.name.clone()).or_default().add(&cap);
                let key = w.new.as_ref().or(w.old.as_ref());
                if let Some(m) =
                    key.and_then(|k| crate::items::collection_metrics(&w.table.meta, k))
                {
                    metrics
                        .entry(w.table.meta.name.clone())
                        .or_default()
                        .push(m);
                }
            }
            for (name, units) in check_caps {
                caps.entry(name).or_default().table += units;
            }
            if let Some(tk) = &token_key {
                let rec = TokenRecord {
                    request_hash: request_hash.clone(),
                    at: now,
                };
                batch.put(
                    TOKENS_TREE,
                    tk.clone(),
                    serde_json::to_vec(&rec).map_err(|e| DynamoError::Internal(e.to_string()))?,
                );
            }
            let writes: Vec<&StagedWrite> = staged.iter().collect();
            match self.commit_writes(batch, &writes).await {
                Ok(_) => {
                    let mut out = Map::new();
                    crate::items::add_multi_table_reports(
                        &mut out,
                        &caps,
                        &input.return_consumed_capacity,
                        &input.return_item_collection_metrics,
                        metrics,
                        true,
                    );
                    return to_json(&Value::Object(out));
                }
                Err(rampart_storage::Error::Conflict { .. }) if attempt < MAX_ATTEMPTS => {
                    for a in &actions {
                        self.reload_table(&a.table.meta.account, &a.table.meta.name)
                            .await?;
                    }
                    tokio::task::yield_now().await;
                }
                Err(rampart_storage::Error::Conflict { .. }) => {
                    let reasons = actions
                        .iter()
                        .map(|_| {
                            reason(
                                "TransactionConflict",
                                Some("Transaction is ongoing for the item"),
                                None,
                            )
                        })
                        .collect();
                    return Err(canceled(reasons));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

fn hex_sha256(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The request-constraint checks of one TransactWriteItem member, with
/// DynamoDB's paths (`transactItems.1.member.put.item`).
fn check_write_member(v: &mut Validator, i: usize, t: &TransactWriteItem) {
    let at = format!("transactItems.{}.member", i + 1);
    let members = [
        ("conditionCheck", &t.condition_check),
        ("put", &t.put),
        ("delete", &t.delete),
        ("update", &t.update),
    ];
    for (kind, a) in members {
        let Some(a) = a else { continue };
        let at = format!("{at}.{kind}");
        match kind {
            "put" => {
                v.not_null(&a.item, &format!("{at}.item"));
            }
            _ => {
                v.not_null(&a.key, &format!("{at}.key"));
            }
        }
        if kind == "update" {
            v.not_null(&a.update_expression, &format!("{at}.updateExpression"));
        }
        if kind == "conditionCheck" {
            v.not_null(
                &a.condition_expression,
                &format!("{at}.conditionExpression"),
            );
        }
        crate::catalog::check_table_name_at(v, a.table_name.as_deref(), &format!("{at}.tableName"));
        v.one_of(
            a.return_values_on_condition_check_failure.as_deref(),
            &format!("{at}.returnValuesOnConditionCheckFailure"),
            &["ALL_OLD", "NONE"],
        );
    }
}

/// A deterministic rendering of a transaction's actions, for the
/// ClientRequestToken idempotency check (maps sorted by key).
fn canonical_request(items: &[TransactWriteItem]) -> String {
    use std::collections::BTreeMap;
    let action = |kind: &str, a: &TransactAction| {
        let key: Option<BTreeMap<&String, &crate::value::AttributeValue>> =
            a.key.as_ref().map(|k| k.iter().collect());
        let names: Option<BTreeMap<&String, &String>> = a
            .expression_attribute_names
            .as_ref()
            .map(|n| n.iter().collect());
        let values: Option<BTreeMap<&String, &crate::value::AttributeValue>> = a
            .expression_attribute_values
            .as_ref()
            .map(|v| v.all.iter().collect());
        format!(
            "{kind}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            a.table_name,
            key,
            a.item,
            a.update_expression,
            a.condition_expression,
            names,
            values,
            a.return_values_on_condition_check_failure
        )
    };
    let mut out = String::new();
    for t in items {
        for (kind, a) in [
            ("ConditionCheck", &t.condition_check),
            ("Put", &t.put),
            ("Delete", &t.delete),
            ("Update", &t.update),
        ] {
            if let Some(a) = a {
                out.push_str(&action(kind, a));
                out.push('\n');
            }
        }
    }
    out
}
