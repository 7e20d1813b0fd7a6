//! Query and Scan: key ranges over the item or index tree, Limit and the
//! 1 MB page, filters, projections, Select, parallel-scan segments,
//! ExclusiveStartKey/LastEvaluatedKey.

use std::ops::Bound;
use std::sync::Arc;

use rampart_storage::{Direction, KeyRange, prefix_successor};
use serde_json::{Map, Value, json};

use crate::catalog::{IndexMeta, KeySchema, ProjectionKind};
use crate::error::{DynamoError, Result};
use crate::expr::{self, ConditionKind, KeyCondition, RangeCondition};
use crate::items::{
    Capacity, check_mix, check_return_modes, conditional_op, decode_item, expr_err, item_json,
    placeholders, read_units,
};
use crate::keys::{encode_key_value, encode_prefix};
use crate::layout;
use crate::model::*;
use crate::service::{DynamoDb, Table, to_json};
use crate::validate::Validator;
use crate::value::{AttributeValue, Item, item_size};

/// DynamoDB stops a Query or Scan page after 1 MB of items read.
const PAGE_BYTES: usize = 1024 * 1024;
/// Entries fetched from storage per round trip.
const CHUNK: usize = 256;

fn invalid(msg: impl Into<String>) -> DynamoError {
    DynamoError::Validation(msg.into())
}

/// What a Query or Scan reads: the table or one of its indexes.
struct Source<'a> {
    table: &'a Arc<Table>,
    index: Option<&'a IndexMeta>,
}

impl Source<'_> {
    fn tree(&self) -> String {
        match self.index {
            Some(i) => layout::index_tree(&self.table.meta, &i.name),
            None => layout::item_tree(&self.table.meta),
        }
    }

    fn key(&self) -> &KeySchema {
        match self.index {
            Some(i) => &i.key,
            None => &self.table.meta.key,
        }
    }

    /// The storage key of an entry of this source for `item`.
    fn entry_key(&self, item: &Item) -> Option<Vec<u8>> {
        match self.index {
            Some(i) => layout::index_key_for(&self.table.meta.key, i, item),
            None => layout::key_for(&self.table.meta.key, item),
        }
    }

    /// The attributes that make up LastEvaluatedKey.
    fn lek_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.table.meta.key.names().map(str::to_owned).collect();
        if let Some(i) = self.index {
            for n in i.key.names() {
                if !v.iter().any(|x| x == n) {
                    v.push(n.to_owned());
                }
            }
        }
        v
    }
}

/// Resolves `Select` against the projection, with DynamoDB's rules and texts
/// (as DynamoDB Local, AWS's own emulator, words them).
///
/// `query`: the request is a Query, whose "only the Count" refusal carries the constraint
/// prefix "1 validation error detected: " where Scan's does not (DynamoDB's texts, recorded by a
/// test suite run against us-east-1).
fn resolve_select(
    select: Option<&str>,
    attributes_to_get: bool,
    projection_expression: bool,
    index: Option<&IndexMeta>,
    query: bool,
) -> Result<&'static str> {
    let projected = attributes_to_get || projection_expression;
    let given = if attributes_to_get {
        "AttributesToGet"
    } else {
        "ProjectionExpression"
    };
    let select = match select {
        None if projected => "SPECIFIC_ATTRIBUTES",
        None if index.is_some() => "ALL_PROJECTED_ATTRIBUTES",
        None => "ALL_ATTRIBUTES",
        Some("ALL_ATTRIBUTES") => {
            if projected {
                return Err(invalid(format!(
                    "Cannot specify the {given} when choosing to get ALL_ATTRIBUTES"
                )));
            }
            "ALL_ATTRIBUTES"
        }
        Some("ALL_PROJECTED_ATTRIBUTES") => {
            if projected {
                return Err(invalid(format!(
                    "Cannot specify the {given} when choosing to get ALL_PROJECTED_ATTRIBUTES"
                )));
            }
            if index.is_none() {
                return Err(invalid(
                    "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
                ));
            }
            "ALL_PROJECTED_ATTRIBUTES"
        }
        Some("COUNT") => {
            if projected {
                let prefix = if query {
                    "1 validation error detected: "
                } else {
                    ""
                };
                return Err(invalid(format!(
                    "{prefix}Cannot specify the {given} when choosing to get only the Count"
                )));
            }
            "COUNT"
        }
        Some(_) => {
            if !projected {
                return Err(invalid(
                    "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES",
                ));
            }
            "SPECIFIC_ATTRIBUTES"
        }
    };
    if let Some(i) = index
        && select == "ALL_ATTRIBUTES"
        && i.global
        && i.projection != ProjectionKind::All
    {
        return Err(invalid(format!(
            "One or more parameter values were invalid: Select type ALL_ATTRIBUTES is not supported for global secondary index {} because its projection type is not ALL",
            i.name
        )));
    }
    Ok(select)
}

/// Parameters shared by Query and Scan once parsed.
struct ReadPlan<'a> {
    source: Source<'a>,
    range: KeyRange,
    direction: Direction,
    limit: Option<usize>,
    filter: Option<expr::Condition>,
    projection: Option<expr::Projection>,
    select: &'static str,
    consistent: bool,
    /// For Query: entries must also satisfy the key condition (begins_with
    /// ranges are exact, so this is a guard only).
    key_condition: Option<KeyCondition>,
    /// The table as the request named it (a name or an ARN), which ConsumedCapacity echoes.
    named: &'a str,
}

impl DynamoDb {
    fn source_for<'a>(
        &self,
        table: &'a Arc<Table>,
        index_name: &Option<String>,
        consistent: bool,
    ) -> Result<Source<'a>> {
        let index = match index_name {
            Some(n) => {
                let i = table.meta.index(n).ok_or_else(|| {
                    invalid(format!("The table does not have the specified index: {n}"))
                })?;
                if !i.is_queryable() {
                    return Err(invalid(format!(
                        "Cannot read from backfilling global secondary index: {n}"
                    )));
                }
                if i.global && consistent {
                    return Err(invalid(
                        "Consistent reads are not supported on global secondary indexes",
                    ));
                }
                Some(i)
            }
            None => None,
        };
        Ok(Source { table, index })
    }

    /// Validates ExclusiveStartKey and turns it into a storage position.
    /// The texts and their order are DynamoDB's (recorded by dynalite):
    /// the source's own key first (for Query, and for Scan of an index),
    /// then the table's key with the "starting key is invalid" prefix, then,
    /// for Query, whether the key lies within the key condition.
    fn start_position(
        &self,
        source: &Source<'_>,
        esk: &Option<AttrMap>,
        query: Option<&KeyCondition>,
    ) -> Result<Option<Vec<u8>>> {
        let Some(esk) = esk else { return Ok(None) };
        const INVALID: &str = "The provided starting key is invalid";
        const MISMATCH: &str = "The provided key element does not match the schema";
        let names = source.lek_names();
        if esk.len() != names.len() {
            if query.is_none() && source.index.is_none() {
                return Err(invalid(format!("{INVALID}: {MISMATCH}")));
            }
            return Err(invalid(INVALID));
        }
        let piece = |attr: &crate::catalog::KeyAttr| -> std::result::Result<(), String> {
            let Some(v) = esk.get(&attr.name) else {
                return Err(MISMATCH.to_owned());
            };
            if !attr.ty.matches(v) {
                return Err(MISMATCH.to_owned());
            }
            let empty = match v {
                AttributeValue::S(s) if s.is_empty() => Some("string"),
                AttributeValue::B(b) if b.is_empty() => Some("binary"),
                _ => None,
            };
            if let Some(what) = empty {
                return Err(format!(
                    "One or more parameter values were invalid: The AttributeValue for a key attribute cannot contain an empty {what} value. Key: {}",
                    attr.name
                ));
            }
            Ok(())
        };
        if query.is_some() || source.index.is_some() {
            let key = source.key();
            for a in std::iter::once(&key.hash).chain(key.range.as_ref()) {
                if !esk.contains_key(&a.name) {
                    return Err(invalid(INVALID));
                }
                piece(a).map_err(invalid)?;
            }
        }
        let meta = &source.table.meta;
        for a in std::iter::once(&meta.key.hash).chain(meta.key.range.as_ref()) {
            piece(a).map_err(|m| invalid(format!("{INVALID}: {m}")))?;
        }
        if let Some(kc) = query {
            let key = source.key();
            let hash_matches = esk.get(&key.hash.name) == Some(&kc.hash);
            let range_cond = kc.range.as_ref().zip(key.range.as_ref());
            match range_cond {
                None if !hash_matches => {
                    return Err(invalid(
                        "The provided starting key is outside query boundaries based on provided conditions",
                    ));
                }
                Some((rc, r)) => {
                    let in_range = esk.get(&r.name).is_some_and(|v| rc.matches(v));
                    if !in_range {
                        return Err(invalid(
                            "The provided starting key does not match the range key predicate",
                        ));
                    }
                    if !hash_matches {
                        return Err(invalid(
                            "The query can return at most one row and cannot be restarted",
                        ));
                    }
                }
                None => {}
            }
        }
        let item: Item = esk.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        source
            .entry_key(&item)
            .map(Some)
            .ok_or_else(|| invalid(format!("{INVALID}: {MISMATCH}")))
    }

    pub(crate) async fn query(&self, account: &str, input: QueryInput) -> Result<Vec<u8>> {
        let mut v = Validator::new();
        crate::catalog::check_table_name(&mut v, &input.table_name);
        if let Some(n) = &input.index_name {
            v.name(Some(n), "indexName", 3);
        }
        if let Some(l) = input.limit {
            v.range(l, "limit", Some(1), None);
        }
        v.one_of(
            input.select.as_deref(),
            "select",
            &[
                "SPECIFIC_ATTRIBUTES",
                "COUNT",
                "ALL_ATTRIBUTES",
                "ALL_PROJECTED_ATTRIBUTES",
            ],
        );
        check_return_modes(&mut v, &input.return_consumed_capacity, None);
        v.finish()?;

        let table = self.table_for_items(account, &input.table_name)?;
        let consistent = input.consistent_read.unwrap_or(false);
        let source = self.source_for(&table, &input.index_name, consistent)?;
        let key_schema = source.key().clone();

        // Which parameters may be combined: DynamoDB's rules and texts.
        check_mix(
            &[
                ("AttributesToGet", input.attributes_to_get.is_some()),
                ("QueryFilter", input.query_filter.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
                ("KeyConditions", input.key_conditions.is_some()),
            ],
            &[
                (
                    "ProjectionExpression",
                    input.projection_expression.is_some(),
                ),
                ("FilterExpression", input.filter_expression.is_some()),
                (
                    "KeyConditionExpression",
                    input.key_condition_expression.is_some(),
                ),
            ],
            input.expression_attribute_names.is_some(),
            input.expression_attribute_values.is_some(),
        )?;
        crate::items::check_conditional_operator(
            &input.conditional_operator,
            input.query_filter.as_ref().map(|f| f.len()),
        )?;
        let legacy_filter = match &input.query_filter {
            Some(f) => expr::legacy::filter_to_condition(
                f,
                conditional_op(&input.conditional_operator)?,
                "queryFilter",
            )
            .map_err(expr_err)?,
            None => None,
        };
        let legacy_projection = match &input.attributes_to_get {
            Some(a) => Some(expr::legacy::attributes_to_get_to_projection(a).map_err(expr_err)?),
            None => None,
        };
        if input.key_conditions.is_none() && input.key_condition_expression.is_none() {
            return Err(invalid(
                "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
            ));
        }
        let mut p = placeholders(
            &input.expression_attribute_names,
            &input.expression_attribute_values,
        )?;
        let range_name = key_schema.range.as_ref().map(|r| r.name.as_str());
        let key_condition = match (&input.key_condition_expression, &input.key_conditions) {
            (Some(kce), _) => {
                expr::parse_key_condition(kce, &mut p, &key_schema.hash.name, range_name)
                    .map_err(expr_err)?
            }
            (None, Some(k)) => {
                expr::legacy::key_conditions_to_key_condition(k, &key_schema.hash.name, range_name)
                    .map_err(expr_err)?
            }
            (None, None) => {
                return Err(invalid(
                    "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
                ));
            }
        };
        let filter = match &input.filter_expression {
            Some(f) => {
                Some(expr::parse_condition(f, &mut p, ConditionKind::Filter).map_err(expr_err)?)
            }
            None => legacy_filter,
        };
        let projection = match &input.projection_expression {
            Some(s) => Some(expr::parse_projection(s, &mut p).map_err(expr_err)?),
            None => legacy_projection,
        };
        p.finish().map_err(expr_err)?;
        key_condition
            .check_types(
                (&key_schema.hash.name, key_schema.hash.ty.key_type()),
                key_schema
                    .range
                    .as_ref()
                    .map(|r| (r.name.as_str(), r.ty.key_type())),
            )
            .map_err(expr_err)?;
        let select = resolve_select(
            input.select.as_deref(),
            input.attributes_to_get.is_some(),
            input.projection_expression.is_some(),
            source.index,
            true,
        )?;
        if let Some(f) = &filter {
            let what = if input.query_filter.is_some() {
                "QueryFilter"
            } else {
                "Filter Expression"
            };
            for n in key_schema.names() {
                if f.top_level_attributes().contains(n) {
                    return Err(invalid(format!(
                        "{what} can only contain non-primary key attributes: Primary key attribute: {n}"
                    )));
                }
            }
        }
        let range = key_range(&key_schema, &key_condition)?;
        let start =
            self.start_position(&source, &input.exclusive_start_key, Some(&key_condition))?;
        let forward = input.scan_index_forward.unwrap_or(true);
        let range = match (start, forward) {
            (Some(s), true) => KeyRange {
                start: Bound::Excluded(s),
                end: range.end,
            },
            (Some(s), false) => KeyRange {
                start: range.start,
                end: Bound::Excluded(s),
            },
            (None, _) => range,
        };
        let plan = ReadPlan {
            named: input.table_name.as_deref().unwrap_or(&table.meta.name),
            source,
            range,
            direction: if forward {
                Direction::Forward
            } else {
                Direction::Reverse
            },
            limit: input.limit.and_then(|l| usize::try_from(l).ok()),
            filter,
            projection,
            select,
            consistent,
            key_condition: Some(key_condition),
        };
        self.run_read(
            plan,
            input.return_consumed_capacity.as_deref().unwrap_or("NONE"),
        )
        .await
    }

    pub(crate) async fn scan(&self, account: &str, input: ScanInput) -> Result<Vec<u8>> {
        let mut v = Validator::new();
        crate::catalog::check_table_name(&mut v, &input.table_name);
        if let Some(n) = &input.index_name {
            v.name(Some(n), "indexName", 3);
        }
        if let Some(l) = input.limit {
            v.range(l, "limit", Some(1), None);
        }
        if let Some(s) = input.segment {
            v.range(s, "segment", Some(0), Some(999_999));
        }
        if let Some(t) = input.total_segments {
            v.range(t, "totalSegments", Some(1), Some(1_000_000));
        }
        v.one_of(
            input.select.as_deref(),
            "select",
            &[
                "SPECIFIC_ATTRIBUTES",
                "COUNT",
                "ALL_ATTRIBUTES",
                "ALL_PROJECTED_ATTRIBUTES",
            ],
        );
        check_return_modes(&mut v, &input.return_consumed_capacity, None);
        v.finish()?;
        let (segment, total) = match (input.segment, input.total_segments) {
            (Some(s), Some(t)) => {
                if s >= t {
                    return Err(invalid(format!(
                        "The Segment parameter is zero-based and must be less than parameter TotalSegments: Segment: {s} is not less than TotalSegments: {t}"
                    )));
                }
                (u64::try_from(s).unwrap_or(0), u64::try_from(t).unwrap_or(1))
            }
            (Some(_), None) => {
                return Err(invalid(
                    "The TotalSegments parameter is required but was not present in the request when Segment parameter is present",
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "The Segment parameter is required but was not present in the request when parameter TotalSegments is present",
                ));
            }
            (None, None) => (0, 1),
        };

        // The expressions are checked before the table is looked up: a syntax error is a
        // ValidationException even on a missing table (recorded against DynamoDB).
        check_mix(
            &[
                ("AttributesToGet", input.attributes_to_get.is_some()),
                ("ScanFilter", input.scan_filter.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
            ],
            &[
                (
                    "ProjectionExpression",
                    input.projection_expression.is_some(),
                ),
                ("FilterExpression", input.filter_expression.is_some()),
            ],
            input.expression_attribute_names.is_some(),
            input.expression_attribute_values.is_some(),
        )?;
        let legacy_projection = match &input.attributes_to_get {
            Some(a) => Some(expr::legacy::attributes_to_get_to_projection(a).map_err(expr_err)?),
            None => None,
        };
        crate::items::check_conditional_operator(
            &input.conditional_operator,
            input.scan_filter.as_ref().map(|f| f.len()),
        )?;
        let legacy_filter = match &input.scan_filter {
            Some(f) => expr::legacy::filter_to_condition(
                f,
                conditional_op(&input.conditional_operator)?,
                "scanFilter",
            )
            .map_err(expr_err)?,
            None => None,
        };
        let mut p = placeholders(
            &input.expression_attribute_names,
            &input.expression_attribute_values,
        )?;
        let filter = match &input.filter_expression {
            Some(f) => {
                Some(expr::parse_condition(f, &mut p, ConditionKind::Filter).map_err(expr_err)?)
            }
            None => legacy_filter,
        };
        let projection = match &input.projection_expression {
            Some(s) => Some(expr::parse_projection(s, &mut p).map_err(expr_err)?),
            None => legacy_projection,
        };
        p.finish().map_err(expr_err)?;
        let table = self.table_for_items(account, &input.table_name)?;
        let consistent = input.consistent_read.unwrap_or(false);
        let source = self.source_for(&table, &input.index_name, consistent)?;
        let select = resolve_select(
            input.select.as_deref(),
            input.attributes_to_get.is_some(),
            input.projection_expression.is_some(),
            source.index,
            false,
        )?;
        let seg_start = layout::segment_start(segment, total).map(|s| s.to_vec());
        let seg_end = if segment + 1 >= total {
            None
        } else {
            layout::segment_start(segment + 1, total).map(|s| s.to_vec())
        };
        let start = self.start_position(&source, &input.exclusive_start_key, None)?;
        if let Some(s) = &start
            && total > 1
        {
            let before_start = seg_start.as_ref().is_some_and(|b| s < b);
            let after_end = seg_end.as_ref().is_some_and(|e| s >= e);
            if before_start || after_end {
                return Err(invalid(format!(
                    "The provided starting key is invalid: Invalid ExclusiveStartKey. Please use ExclusiveStartKey with correct Segment. TotalSegments: {total} Segment: {segment}"
                )));
            }
        }
        let range = KeyRange {
            start: match (start, seg_start) {
                (Some(s), _) => Bound::Excluded(s),
                (None, Some(s)) => Bound::Included(s),
                (None, None) => Bound::Unbounded,
            },
            end: match seg_end {
                Some(e) => Bound::Excluded(e),
                None => Bound::Unbounded,
            },
        };
        let plan = ReadPlan {
            named: input.table_name.as_deref().unwrap_or(&table.meta.name),
            source,
            range,
            direction: Direction::Forward,
            limit: input.limit.and_then(|l| usize::try_from(l).ok()),
            filter,
            projection,
            select,
            consistent,
            key_condition: None,
        };
        self.run_read(
            plan,
            input.return_consumed_capacity.as_deref().unwrap_or("NONE"),
        )
        .await
    }

    /// Reads entries in order until Limit or 1 MB, then filters, fetches
    /// table items for LSI queries that need them, projects and answers.
    async fn run_read(&self, plan: ReadPlan<'_>, rcc: &str) -> Result<Vec<u8>> {
        let tree = plan.source.tree();
        let mut range = plan.range.clone();
        // Each returned item as response JSON: the stored bytes as they are when nothing is
        // projected (stored form = DynamoDB JSON, as GetItem relies on), else re-encoded.
        let mut items: Vec<Vec<u8>> = Vec::new();
        let mut count = 0usize;
        let mut scanned = 0usize;
        let mut bytes = 0usize;
        let mut last: Option<Item> = None;
        let mut stopped_early = false;
        let need_table_item = match (plan.source.index, plan.select) {
            (Some(i), "ALL_ATTRIBUTES") => !i.global && i.projection != ProjectionKind::All,
            (Some(i), "SPECIFIC_ATTRIBUTES") => !i.global && i.projection != ProjectionKind::All,
            _ => false,
        };
        'outer: loop {
            let want = match plan.limit {
                Some(l) => (l - scanned).min(CHUNK),
                None => CHUNK,
            };
            let page = self
                .engine
                .scan(&tree, range.clone(), plan.direction, want)
                .await?;
            let n = page.len();
            for (k, v) in page {
                match plan.direction {
                    Direction::Forward => range.start = Bound::Excluded(k),
                    Direction::Reverse => range.end = Bound::Excluded(k),
                }
                let mut item = decode_item(&v.value)?;
                let mut stored = v.value;
                if let Some(kc) = &plan.key_condition
                    && !key_condition_matches(plan.source.key(), kc, &item)
                {
                    continue;
                }
                scanned += 1;
                bytes += item_size(&item);
                last = Some(item.clone());
                if need_table_item
                    && let Some(tk) = layout::key_for(&plan.source.table.meta.key, &item)
                    && let Some(full) = self
                        .engine
                        .get(&layout::item_tree(&plan.source.table.meta), &tk)
                        .await?
                {
                    item = decode_item(&full.value)?;
                    stored = full.value;
                }
                let keep = match &plan.filter {
                    Some(f) => f.eval(&item).map_err(expr_err)?,
                    None => true,
                };
                if keep {
                    count += 1;
                    if plan.select != "COUNT" {
                        items.push(match &plan.projection {
                            Some(p) => to_json(&item_json(&p.apply(&item)))?,
                            None => stored,
                        });
                    }
                }
                let at_limit = plan.limit.is_some_and(|l| scanned >= l);
                if at_limit || bytes >= PAGE_BYTES {
                    stopped_early = true;
                    break 'outer;
                }
            }
            if n < want {
                break;
            }
        }
        let mut out = Map::new();
        out.insert("Count".into(), json!(count));
        out.insert("ScannedCount".into(), json!(scanned));
        if stopped_early && let Some(l) = &last {
            let lek: Map<String, Value> = plan
                .source
                .lek_names()
                .into_iter()
                .filter_map(|n| {
                    l.get(&n)
                        .map(|v| (n, serde_json::to_value(v).unwrap_or(Value::Null)))
                })
                .collect();
            out.insert("LastEvaluatedKey".into(), Value::Object(lek));
        }
        let units = read_units(bytes, plan.consistent);
        let mut cap = Capacity {
            read: true,
            ..Capacity::default()
        };
        match plan.source.index {
            Some(i) if i.global => {
                cap.gsi.insert(i.name.clone(), units);
            }
            Some(i) => {
                cap.lsi.insert(i.name.clone(), units);
            }
            None => cap.table = units,
        }
        if let Some(c) = cap.render(plan.named, rcc) {
            out.insert("ConsumedCapacity".into(), c);
        }
        let rest = to_json(&Value::Object(out))?;
        if plan.select == "COUNT" {
            return Ok(rest);
        }
        Ok(splice_items(&items, &rest))
    }
}

/// Appends `[i1,i2,…]`: the items' JSON, each already serialized.
pub(crate) fn json_array(items: &[Vec<u8>], out: &mut Vec<u8>) {
    out.push(b'[');
    for (n, item) in items.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(item);
    }
    out.push(b']');
}

/// `{"Items":[i1,i2,…],…rest}`: the items' JSON spliced in front of the other members
/// (`rest`, a serialized object that always has `Count`).
fn splice_items(items: &[Vec<u8>], rest: &[u8]) -> Vec<u8> {
    let len = items.iter().map(|i| i.len() + 1).sum::<usize>() + rest.len() + 12;
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(b"{\"Items\":");
    json_array(items, &mut out);
    close_with_members(&mut out, rest);
    out
}

/// Ends the object being written in `out` (its last member just written) with the members
/// of `rest`, a serialized object `{…}`; an empty `rest` adds nothing.
pub(crate) fn close_with_members(out: &mut Vec<u8>, rest: &[u8]) {
    match rest.get(1..) {
        Some(tail) if tail != b"}" => {
            out.push(b',');
            out.extend_from_slice(tail);
        }
        _ => out.push(b'}'),
    }
}

/// Whether an entry read from a key range satisfies the key condition
/// (guards the range computation; cheap).
fn key_condition_matches(schema: &KeySchema, kc: &KeyCondition, item: &Item) -> bool {
    if item.get(&schema.hash.name) != Some(&kc.hash) {
        return false;
    }
    let Some(rc) = &kc.range else { return true };
    let Some(r) = schema.range.as_ref().and_then(|r| item.get(&r.name)) else {
        return false;
    };
    let cmp =
        |a: &AttributeValue, b: &AttributeValue| match (encode_key_value(a), encode_key_value(b)) {
            (Some(x), Some(y)) if std::mem::discriminant(a) == std::mem::discriminant(b) => {
                Some(x.cmp(&y))
            }
            _ => None,
        };
    use std::cmp::Ordering::*;
    match rc {
        RangeCondition::Eq(v) => cmp(r, v) == Some(Equal),
        RangeCondition::Lt(v) => cmp(r, v) == Some(Less),
        RangeCondition::Le(v) => matches!(cmp(r, v), Some(Less | Equal)),
        RangeCondition::Gt(v) => cmp(r, v) == Some(Greater),
        RangeCondition::Ge(v) => matches!(cmp(r, v), Some(Greater | Equal)),
        RangeCondition::Between(a, b) => {
            matches!(cmp(r, a), Some(Greater | Equal)) && matches!(cmp(r, b), Some(Less | Equal))
        }
        RangeCondition::BeginsWith(p) => match (r, p) {
            (AttributeValue::S(s), AttributeValue::S(p)) => s.starts_with(p.as_str()),
            (AttributeValue::B(s), AttributeValue::B(p)) => s.starts_with(p),
            _ => false,
        },
    }
}

/// The storage key range of a key condition on `schema`.
fn key_range(schema: &KeySchema, kc: &KeyCondition) -> Result<KeyRange> {
    let prefix = layout::partition_prefix(&kc.hash)
        .ok_or_else(|| invalid("One or more parameter values were invalid: Condition parameter type does not match schema type"))?;
    let whole = KeyRange::prefix(&prefix);
    let Some(rc) = &kc.range else {
        return Ok(whole);
    };
    let Some(r) = &schema.range else {
        return Err(invalid("Query key condition not supported"));
    };
    let operand_ok = |v: &AttributeValue| r.ty.matches(v);
    let enc = |v: &AttributeValue| -> Result<Vec<u8>> {
        if !operand_ok(v) {
            return Err(invalid(
                "One or more parameter values were invalid: Condition parameter type does not match schema type",
            ));
        }
        let mut k = prefix.clone();
        k.extend_from_slice(
            &encode_key_value(v).ok_or_else(|| invalid("Query key condition not supported"))?,
        );
        Ok(k)
    };
    // An encoded key value is self-delimiting, so `prefix ‖ enc(v)` is itself
    // the full entry key for a table; index entries continue with the table
    // key, hence "everything that starts with prefix ‖ enc(v)" for equality.
    let after = |k: Vec<u8>| match prefix_successor(&k) {
        Some(s) => Bound::Excluded(s),
        None => whole.end.clone(),
    };
    // The first key after every key that starts with `k`, as a start bound.
    let from_after = |k: Vec<u8>| match prefix_successor(&k) {
        Some(s) => Bound::Included(s),
        None => Bound::Excluded(k),
    };
    Ok(match rc {
        RangeCondition::Eq(v) => {
            let k = enc(v)?;
            KeyRange {
                start: Bound::Included(k.clone()),
                end: after(k),
            }
        }
        RangeCondition::Lt(v) => KeyRange {
            start: whole.start,
            end: Bound::Excluded(enc(v)?),
        },
        RangeCondition::Le(v) => KeyRange {
            start: whole.start,
            end: after(enc(v)?),
        },
        RangeCondition::Gt(v) => KeyRange {
            start: from_after(enc(v)?),
            end: whole.end,
        },
        RangeCondition::Ge(v) => KeyRange {
            start: Bound::Included(enc(v)?),
            end: whole.end,
        },
        RangeCondition::Between(a, b) => {
            let (ka, kb) = (enc(a)?, enc(b)?);
            if ka > kb {
                return Err(invalid(format!(
                    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {{{}}}, upper bound operand: AttributeValue: {{{}}}",
                    short(a),
                    short(b)
                )));
            }
            KeyRange {
                start: Bound::Included(ka),
                end: after(kb),
            }
        }
        RangeCondition::BeginsWith(p) => {
            if !operand_ok(p) {
                return Err(invalid(
                    "One or more parameter values were invalid: Condition parameter type does not match schema type",
                ));
            }
            let mut k = prefix.clone();
            k.extend_from_slice(
                &encode_prefix(p).ok_or_else(|| invalid("Query key condition not supported"))?,
            );
            KeyRange::prefix(&k)
        }
    })
}

/// DynamoDB's short rendering of a value in BETWEEN errors, e.g. `S:b`.
fn short(v: &AttributeValue) -> String {
    match v {
        AttributeValue::S(s) => format!("S:{s}"),
        AttributeValue::N(n) => format!("N:{n}"),
        AttributeValue::B(_) => "B:...".into(),
        other => other.type_name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::splice_items;

    #[test]
    fn spliced_items_make_one_json_object() {
        let items = vec![
            br#"{"pk":{"S":"a"}}"#.to_vec(),
            br#"{"pk":{"S":"b"},"n":{"N":"1"}}"#.to_vec(),
        ];
        let out = splice_items(&items, br#"{"Count":2,"ScannedCount":2}"#);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "Items": [{"pk": {"S": "a"}}, {"pk": {"S": "b"}, "n": {"N": "1"}}],
                "Count": 2,
                "ScannedCount": 2
            })
        );
        let none = splice_items(&[], br#"{"Count":0}"#);
        assert_eq!(none, br#"{"Items":[],"Count":0}"#.to_vec());
        assert_eq!(splice_items(&[], b"{}"), br#"{"Items":[]}"#.to_vec());
    }
}
