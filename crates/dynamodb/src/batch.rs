//! BatchGetItem and BatchWriteItem. Every write of a BatchWriteItem is
//! staged into one storage batch (one fsync for the lot); the writes are
//! unconditional, so a lost optimistic race only means reading again.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use rampart_storage::Batch;
use serde_json::{Map, Value, json};

use crate::error::{DynamoError, Result};
use crate::items::{
    Capacity, StagedWrite, check_item, check_key, check_return_modes, collection_metrics,
    decode_item, item_json, read_units, stage,
};
use crate::layout;
use crate::model::*;
use crate::service::{DynamoDb, Table, to_json};
use crate::validate::Validator;
use crate::value::{Item, item_size};

fn invalid(msg: impl Into<String>) -> DynamoError {
    DynamoError::Validation(msg.into())
}

/// BatchGetItem answers at most this many bytes; the rest is unprocessed.
const MAX_BATCH_GET_BYTES: usize = 16 * 1024 * 1024;
/// How often a batch write retries after losing an optimistic race.
const MAX_ATTEMPTS: usize = 64;

/// The reads of one table in a BatchGetItem.
struct GetPlan {
    table: Arc<Table>,
    name: String,
    /// (key attributes, storage key) per requested key.
    keys: Vec<(Item, Vec<u8>)>,
    projection: Option<crate::expr::Projection>,
    consistent: bool,
}

/// One write of a BatchWriteItem: table, storage key, key attributes, new item (None = delete).
type PlannedWrite = (Arc<Table>, Vec<u8>, Item, Option<Item>);

impl DynamoDb {
    pub(crate) async fn batch_get_item(
        &self,
        account: &str,
        input: BatchGetItemInput,
    ) -> Result<Vec<u8>> {
        let mut v = Validator::new();
        check_return_modes(&mut v, &input.return_consumed_capacity, None);
        if v.not_null(&input.request_items, "requestItems") {
            let items = input.request_items.as_ref();
            request_items_constraints(&mut v, items.map(|m| m.keys()), None);
            let mut names: Vec<&String> = items.into_iter().flat_map(|m| m.keys()).collect();
            names.sort();
            for name in names {
                let Some(ka) = items.and_then(|m| m.get(name)) else {
                    continue;
                };
                let at = format!("requestItems.{name}.member.keys");
                if v.not_null(&ka.keys, &at) {
                    let n = ka.keys.as_ref().map(Vec::len).unwrap_or(0);
                    v.count(n, if n == 0 { "[]" } else { "[...]" }, &at, 1, 100);
                }
            }
        }
        v.finish()?;
        let requests = input.request_items.clone().unwrap_or_default();
        let total: usize = requests
            .values()
            .map(|k| k.keys.as_ref().map(Vec::len).unwrap_or(0))
            .sum();
        if total > 100 {
            return Err(invalid(
                "Too many items requested for the BatchGetItem call",
            ));
        }
        // Validate everything before reading anything, and what needs no table before any
        // table is looked up (a duplicate key or a bad projection is a ValidationException
        // even for a missing table; recorded against DynamoDB by a test suite).
        let mut names: Vec<&String> = requests.keys().collect();
        names.sort();
        // Expression and non-expression parameters do not mix across the tables either.
        crate::items::check_mix(
            &[(
                "AttributesToGet",
                requests.values().any(|ka| ka.attributes_to_get.is_some()),
            )],
            &[(
                "ProjectionExpression",
                requests
                    .values()
                    .any(|ka| ka.projection_expression.is_some()),
            )],
            false,
            false,
        )?;
        let mut projections = Vec::with_capacity(names.len());
        for name in &names {
            let Some(ka) = requests.get(*name) else {
                continue;
            };
            let keys: Vec<_> = ka.keys.iter().flatten().collect();
            if keys
                .iter()
                .enumerate()
                .any(|(i, k)| keys.iter().skip(i + 1).any(|other| other == k))
            {
                return Err(invalid("Provided list of item keys contains duplicates"));
            }
            projections.push(self.parse_read_projection(
                &ka.projection_expression,
                &ka.attributes_to_get,
                &ka.expression_attribute_names,
            )?);
        }
        let mut plans: Vec<GetPlan> = Vec::new();
        for (name, projection) in names.into_iter().zip(projections) {
            let Some(ka) = requests.get(name) else {
                continue;
            };
            let table = self.table_for_items(account, &Some(name.clone()))?;
            let mut seen = HashSet::new();
            let mut keys = Vec::new();
            for k in ka.keys.iter().flatten() {
                let key_item = check_key(&table.meta, &Some(k.clone()), "keys")?;
                let storage_key = crate::items::storage_key(&table.meta.key, &key_item)?;
                if !seen.insert(storage_key.clone()) {
                    return Err(invalid("Provided list of item keys contains duplicates"));
                }
                keys.push((key_item, storage_key));
            }
            plans.push(GetPlan {
                table,
                name: name.clone(),
                keys,
                projection,
                consistent: ka.consistent_read.unwrap_or(false),
            });
        }
        // Per table, each returned item as response JSON: stored bytes as they are when
        // nothing is projected (stored form = DynamoDB JSON), else re-encoded.
        let mut responses: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
        let mut unprocessed = Map::new();
        let mut capacities = Vec::new();
        let mut bytes = 0usize;
        for GetPlan {
            table,
            name,
            keys,
            projection,
            consistent,
        } in plans
        {
            let tree = layout::item_tree(&table.meta);
            let lookups: Vec<(String, Vec<u8>)> = keys
                .iter()
                .map(|(_, k)| (tree.clone(), k.clone()))
                .collect();
            let found = self.engine.get_many(&lookups).await?;
            let mut items = Vec::new();
            let mut left = Vec::new();
            let mut units = 0.0;
            for ((key_item, _), got) in keys.iter().zip(found) {
                if bytes >= MAX_BATCH_GET_BYTES {
                    left.push(item_json(key_item));
                    continue;
                }
                match got {
                    Some(v) => {
                        let item = decode_item(&v.value)?;
                        let size = item_size(&item);
                        bytes += size;
                        units += read_units(size, consistent);
                        items.push(match &projection {
                            Some(p) => to_json(&item_json(&p.apply(&item)))?,
                            None => v.value,
                        });
                    }
                    None => units += read_units(0, consistent),
                }
            }
            responses.push((name.clone(), items));
            if !left.is_empty() {
                let mut ka = requests.get(&name).cloned().unwrap_or(KeysAndAttributes {
                    keys: None,
                    consistent_read: None,
                    projection_expression: None,
                    expression_attribute_names: None,
                    attributes_to_get: None,
                });
                ka.keys = None;
                let mut v = serde_json::to_value(&ka).unwrap_or(Value::Null);
                if let Some(o) = v.as_object_mut() {
                    o.insert("Keys".into(), Value::Array(left));
                }
                unprocessed.insert(name.clone(), v);
            }
            let cap = Capacity {
                table: units,
                read: true,
                ..Capacity::default()
            };
            if let Some(c) = cap.render(
                &name,
                input.return_consumed_capacity.as_deref().unwrap_or("NONE"),
            ) {
                capacities.push(c);
            }
        }
        let mut rest = Map::new();
        rest.insert("UnprocessedKeys".into(), Value::Object(unprocessed));
        if !capacities.is_empty() {
            rest.insert("ConsumedCapacity".into(), Value::Array(capacities));
        }
        let rest = to_json(&Value::Object(rest))?;
        // {"Responses":{"T":[…],…},"UnprocessedKeys":…}: `rest` always has UnprocessedKeys.
        let mut out = Vec::with_capacity(
            rest.len()
                + 16
                + responses
                    .iter()
                    .map(|(n, items)| {
                        n.len() + 8 + items.iter().map(|i| i.len() + 1).sum::<usize>()
                    })
                    .sum::<usize>(),
        );
        out.extend_from_slice(b"{\"Responses\":{");
        for (n, (name, items)) in responses.iter().enumerate() {
            if n > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&to_json(name)?);
            out.push(b':');
            crate::read::json_array(items, &mut out);
        }
        out.push(b'}');
        crate::read::close_with_members(&mut out, &rest);
        Ok(out)
    }

    pub(crate) async fn batch_write_item(
        &self,
        account: &str,
        input: BatchWriteItemInput,
    ) -> Result<Vec<u8>> {
        let mut v = Validator::new();
        check_return_modes(
            &mut v,
            &input.return_consumed_capacity,
            Some(&input.return_item_collection_metrics),
        );
        if v.not_null(&input.request_items, "requestItems") {
            let items = input.request_items.as_ref();
            let bad_count = items
                .into_iter()
                .flat_map(|m| m.values())
                .any(|w| w.is_empty() || w.len() > 25);
            request_items_constraints(&mut v, items.map(|m| m.keys()), Some(bad_count));
            let mut names: Vec<&String> = items.into_iter().flat_map(|m| m.keys()).collect();
            names.sort();
            for name in names {
                for (i, w) in items
                    .and_then(|m| m.get(name))
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let at = format!("requestItems.{name}.member.{}.member", i + 1);
                    if let Some(p) = &w.put_request {
                        v.not_null(&p.item, &format!("{at}.putRequest.item"));
                    }
                    if let Some(d) = &w.delete_request {
                        v.not_null(&d.key, &format!("{at}.deleteRequest.key"));
                    }
                }
            }
        }
        v.finish()?;
        let requests = input.request_items.clone().unwrap_or_default();
        let total: usize = requests.values().map(Vec::len).sum();
        if total > 25 {
            return Err(invalid(
                "Too many items requested for the BatchWriteItem call",
            ));
        }
        let mut names: Vec<String> = requests.keys().cloned().collect();
        names.sort();
        let mut attempt = 0;
        loop {
            attempt += 1;
            // (table, storage key, key item, new item or None)
            let mut planned: Vec<PlannedWrite> = Vec::new();
            for name in &names {
                let table = self.table_for_items(account, &Some(name.clone()))?;
                let mut seen = HashSet::new();
                for w in requests.get(name).into_iter().flatten() {
                    let (key_item, new) = match (&w.put_request, &w.delete_request) {
                        (Some(p), None) => {
                            let item = p.item.clone().unwrap_or_default();
                            check_item(&table.meta, &item)?;
                            let key: Item = table
                                .meta
                                .key
                                .names()
                                .filter_map(|n| item.get(n).map(|v| (n.to_owned(), v.clone())))
                                .collect();
                            (key, Some(item))
                        }
                        (None, Some(d)) => (check_key(&table.meta, &d.key, "key")?, None),
                        _ => {
                            // A WriteRequest holds exactly one of PutRequest
                            // and DeleteRequest (dynalite records this text).
                            return Err(invalid(
                                "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                            ));
                        }
                    };
                    let storage_key = crate::items::storage_key(&table.meta.key, &key_item)?;
                    if !seen.insert(storage_key.clone()) {
                        return Err(invalid("Provided list of item keys contains duplicates"));
                    }
                    planned.push((table.clone(), storage_key, key_item, new));
                }
            }
            let lookups: Vec<(String, Vec<u8>)> = planned
                .iter()
                .map(|(t, k, _, _)| (layout::item_tree(&t.meta), k.clone()))
                .collect();
            let current = self.engine.get_many(&lookups).await?;
            let mut batch = Batch::new();
            let mut caps: BTreeMap<String, Capacity> = BTreeMap::new();
            let mut metrics: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            let mut staged = Vec::new();
            for ((table, key, key_item, new), cur) in planned.into_iter().zip(current) {
                let (version, old) = match cur {
                    Some(v) => (Some(v.version), Some(decode_item(&v.value)?)),
                    None => (None, None),
                };
                let w = StagedWrite {
                    table: table.clone(),
                    key,
                    version,
                    old,
                    new,
                };
                let cap = stage(&mut batch, &w)?;
                caps.entry(table.meta.name.clone()).or_default().add(&cap);
                if input.return_item_collection_metrics.as_deref() == Some("SIZE")
                    && let Some(m) = collection_metrics(&table.meta, &key_item)
                {
                    metrics.entry(table.meta.name.clone()).or_default().push(m);
                }
                staged.push(w);
            }
            let writes: Vec<&StagedWrite> = staged.iter().collect();
            match self.commit_writes(batch, &writes).await {
                Ok(_) => {
                    let mut out = Map::new();
                    out.insert("UnprocessedItems".into(), json!({}));
                    crate::items::add_multi_table_reports(
                        &mut out,
                        &caps,
                        &input.return_consumed_capacity,
                        &input.return_item_collection_metrics,
                        metrics,
                        false,
                    );
                    return to_json(&Value::Object(out));
                }
                Err(rampart_storage::Error::Conflict { .. }) if attempt < MAX_ATTEMPTS => {
                    for name in &names {
                        self.reload_table(account, name).await?;
                    }
                    tokio::task::yield_now().await;
                }
                Err(rampart_storage::Error::Conflict { .. }) => {
                    return Err(DynamoError::Internal("batch write kept conflicting".into()));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// The constraints on `RequestItems` itself: at least one table, table names
/// of 3..=255 characters of `[a-zA-Z0-9_.-]`, and (BatchWriteItem) 1..=25
/// requests per table; DynamoDB reports each as one constraint on the map.
fn request_items_constraints<'a>(
    v: &mut Validator,
    names: Option<impl Iterator<Item = &'a String>>,
    bad_value_count: Option<bool>,
) {
    let names: Vec<&String> = names.into_iter().flatten().collect();
    if names.is_empty() {
        v.fail(
            Some("{}"),
            "requestItems",
            "Member must have length greater than or equal to 1",
        );
        return;
    }
    // A table ARN is accepted as a key too, as everywhere else a table is named.
    let bad_name = names.iter().any(|n| !crate::catalog::table_name_ok(n));
    let mut sorted = names.clone();
    sorted.sort();
    let shown = format!(
        "{{{}}}",
        sorted
            .iter()
            .map(|n| format!("{n}=[...]"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if bad_name {
        v.fail(
            Some(&shown),
            "requestItems",
            "Map keys must satisfy constraint: [Member must have length less than or equal to 255, Member must have length greater than or equal to 3, Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+]",
        );
    }
    if bad_value_count == Some(true) {
        v.fail(
            Some(&shown),
            "requestItems",
            "Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]",
        );
    }
}
