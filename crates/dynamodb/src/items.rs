//! Single-item operations (PutItem, GetItem, UpdateItem, DeleteItem) and the
//! write machinery they share with batches and transactions: key and item
//! checks with DynamoDB's texts, the optimistic read → decide → commit loop,
//! index maintenance in the same batch, capacity accounting.

use std::collections::HashMap;
use std::sync::Arc;

use rampart_storage::{Batch, CommitSeq};
use serde_json::{Map, Value, json};

use crate::catalog::{IndexMeta, KeyAttr, TableMeta};
use crate::error::{DynamoError, Result};
use crate::expr::{self, ConditionKind, Placeholders};
use crate::layout::{self, CATALOG_TREE};
use crate::model::*;
use crate::service::{DynamoDb, Table, to_json};
use crate::validate::Validator;
use crate::value::{AttributeValue, Item, item_size};

/// The largest item DynamoDB stores.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;
/// How often a write retries after losing an optimistic race.
const MAX_ATTEMPTS: usize = 64;

fn invalid(msg: impl Into<String>) -> DynamoError {
    DynamoError::Validation(msg.into())
}

/// Decodes a stored item.
pub fn decode_item(bytes: &[u8]) -> Result<Item> {
    serde_json::from_slice(bytes)
        .map_err(|e| DynamoError::Internal(format!("stored item does not decode: {e}")))
}

/// Encodes an item for storage.
///
/// INVARIANT: the stored form is the item's DynamoDB JSON, byte for byte what
/// a response carries: GetItem serves it without decoding.
pub fn encode_item(item: &Item) -> Result<Vec<u8>> {
    serde_json::to_vec(item)
        .map_err(|e| DynamoError::Internal(format!("item does not encode: {e}")))
}

/// The size of a stored item, read from its bytes (see
/// [`crate::stored_size`]), decoding it only if that reader does not
/// recognise them.
fn stored_item_size_or_decode(bytes: &[u8]) -> Result<usize> {
    match crate::stored_size::stored_item_size(bytes) {
        Some(n) => Ok(n),
        None => decode_item(bytes).map(|i| item_size(&i)),
    }
}

/// Renders an item as DynamoDB JSON.
pub fn item_json(item: &Item) -> Value {
    serde_json::to_value(item).unwrap_or(Value::Null)
}

fn key_value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        other => other.size(),
    }
}

fn empty_key_error(name: &str, v: &AttributeValue) -> Option<DynamoError> {
    let what = match v {
        AttributeValue::S(s) if s.is_empty() => "string",
        AttributeValue::B(b) if b.is_empty() => "binary",
        _ => return None,
    };
    Some(invalid(format!(
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {what} value. Key: {name}"
    )))
}

fn key_size_check(meta: &TableMeta, item: &Item) -> Result<()> {
    if let Some(h) = item.get(&meta.key.hash.name)
        && key_value_size(h) > 2048
    {
        return Err(invalid(
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of2048 bytes",
        ));
    }
    if let Some(r) = meta.key.range.as_ref().and_then(|r| item.get(&r.name))
        && key_value_size(r) > 1024
    {
        return Err(invalid(
            "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes",
        ));
    }
    Ok(())
}

/// Checks a `Key` parameter against the table's schema and returns it as an item.
pub fn check_key(meta: &TableMeta, key: &Option<AttrMap>, at: &str) -> Result<Item> {
    let Some(key) = key else {
        let mut v = Validator::new();
        v.fail(None, at, "Member must not be null");
        return v.finish().map(|()| Item::new());
    };
    let attrs: Vec<&KeyAttr> = std::iter::once(&meta.key.hash)
        .chain(meta.key.range.as_ref())
        .collect();
    if key.len() != attrs.len() {
        return Err(invalid(
            "The provided key element does not match the schema",
        ));
    }
    for a in &attrs {
        match key.get(&a.name) {
            Some(v) if a.ty.matches(v) => {
                if let Some(e) = empty_key_error(&a.name, v) {
                    return Err(e);
                }
            }
            _ => {
                return Err(invalid(
                    "The provided key element does not match the schema",
                ));
            }
        }
    }
    let item: Item = key.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    key_size_check(meta, &item)?;
    Ok(item)
}

/// An item's storage key (from its key attributes, which `item` may hold
/// among others), or DynamoDB's "does not match the schema" error.
pub fn storage_key(schema: &crate::catalog::KeySchema, item: &Item) -> Result<Vec<u8>> {
    layout::key_for(schema, item)
        .ok_or_else(|| invalid("The provided key element does not match the schema"))
}

/// Checks an item against the table's key schema, index key types and size.
pub fn check_item(meta: &TableMeta, item: &Item) -> Result<()> {
    for a in std::iter::once(&meta.key.hash).chain(meta.key.range.as_ref()) {
        match item.get(&a.name) {
            None => {
                return Err(invalid(format!(
                    "One or more parameter values were invalid: Missing the key {} in the item",
                    a.name
                )));
            }
            Some(v) if !a.ty.matches(v) => {
                return Err(invalid(format!(
                    "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                    a.name,
                    a.ty.name(),
                    v.type_name()
                )));
            }
            Some(v) => {
                if let Some(e) = empty_key_error(&a.name, v) {
                    return Err(e);
                }
            }
        }
    }
    key_size_check(meta, item)?;
    for idx in &meta.indexes {
        check_index_keys(idx, item)?;
    }
    check_size(item)
}

pub(crate) fn check_index_keys(idx: &IndexMeta, item: &Item) -> Result<()> {
    for a in idx.key.names() {
        let Some(ty) = (if a == idx.key.hash.name {
            Some(idx.key.hash.ty)
        } else {
            idx.key.range.as_ref().map(|r| r.ty)
        }) else {
            continue;
        };
        if let Some(v) = item.get(a) {
            if !ty.matches(v) {
                return Err(invalid(format!(
                    "One or more parameter values were invalid: Type mismatch for Index Key {a} Expected: {} Actual: {} IndexName: {}",
                    ty.name(),
                    v.type_name(),
                    idx.name
                )));
            }
            let empty = matches!(v, AttributeValue::S(s) if s.is_empty())
                || matches!(v, AttributeValue::B(b) if b.is_empty());
            if empty {
                return Err(invalid(format!(
                    "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: {}, IndexKey: {a}",
                    idx.name
                )));
            }
        }
    }
    Ok(())
}

/// Checks the 400 KB limit and the nesting limit.
pub fn check_size(item: &Item) -> Result<()> {
    if item_size(item) > MAX_ITEM_SIZE {
        return Err(invalid("Item size has exceeded the maximum allowed size"));
    }
    for v in item.values() {
        v.check_nesting_depth()
            .map_err(|e| invalid(e.to_string()))?;
    }
    Ok(())
}

/// Expression placeholders after DynamoDB's up-front checks on the maps
/// themselves, in its order: non-empty maps with well-formed keys
/// ([`Placeholders::check_keys`]), then every value valid
/// ([`ExpressionValues::check`]). Call after [`check_mix`].
pub fn placeholders<'a>(
    names: &'a Option<HashMap<String, String>>,
    values: &'a Option<ExpressionValues>,
) -> Result<Placeholders<'a>> {
    let p = Placeholders::new(names.as_ref(), values.as_ref().map(|v| &v.all));
    p.check_keys().map_err(expr_err)?;
    if let Some(v) = values {
        v.check()?;
    }
    Ok(p)
}

/// DynamoDB's rules for mixing legacy and expression parameters
/// ([`expr::legacy::check_parameter_mix`]): each list names the operation's
/// parameters in DynamoDB's order with whether the request has them.
pub fn check_mix(
    non_expression: &[(&str, bool)],
    expression: &[(&str, bool)],
    has_names: bool,
    has_values: bool,
) -> Result<()> {
    expr::legacy::check_parameter_mix(non_expression, expression, has_names, has_values)
        .map_err(expr_err)
}

/// The limits on an item an update produced: DynamoDB words the size error
/// differently from PutItem's.
pub fn check_updated_item(item: &Item) -> Result<()> {
    if item_size(item) > MAX_ITEM_SIZE {
        return Err(invalid(
            "Item size to update has exceeded the maximum allowed size",
        ));
    }
    for v in item.values() {
        v.check_nesting_depth()
            .map_err(|e| invalid(e.to_string()))?;
    }
    Ok(())
}

pub(crate) fn expr_err(e: expr::ExprError) -> DynamoError {
    DynamoError::Validation(e.to_string())
}

/// `ConditionalOperator` joins the conditions of `Expected`, `QueryFilter` or `ScanFilter`
/// (`conditions`: how many that map holds, `None` when it is absent), so DynamoDB refuses it
/// without two or more of them (texts observed on DynamoDB by a test suite run against it).
pub(crate) fn check_conditional_operator(
    operator: &Option<String>,
    conditions: Option<usize>,
) -> Result<()> {
    if operator.is_none() {
        return Ok(());
    }
    match conditions.unwrap_or(0) {
        0 => Err(invalid(
            "ConditionalOperator cannot be used without Filter or Expected",
        )),
        1 => Err(invalid(
            "ConditionalOperator can only be used when Filter or Expected has two or more elements",
        )),
        _ => Ok(()),
    }
}

/// Capacity units of a write of an item of `size` bytes.
pub fn write_units(size: usize) -> f64 {
    (size.div_ceil(1024)).max(1) as f64
}

/// Capacity units of a read of `size` bytes.
pub fn read_units(size: usize, consistent: bool) -> f64 {
    let units = (size.div_ceil(4096)).max(1) as f64;
    if consistent { units } else { units / 2.0 }
}

/// Consumed capacity of one call on one table, by table and index.
#[derive(Debug, Clone, Default)]
pub struct Capacity {
    /// Units on the table itself.
    pub table: f64,
    /// Units per global secondary index.
    pub gsi: HashMap<String, f64>,
    /// Units per local secondary index.
    pub lsi: HashMap<String, f64>,
    /// Whether these are read units.
    pub read: bool,
}

impl Capacity {
    /// Adds another call's capacity.
    pub fn add(&mut self, other: &Capacity) {
        self.table += other.table;
        for (k, v) in &other.gsi {
            *self.gsi.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.lsi {
            *self.lsi.entry(k.clone()).or_default() += v;
        }
    }

    fn total(&self) -> f64 {
        self.table + self.gsi.values().sum::<f64>() + self.lsi.values().sum::<f64>()
    }

    /// The `ConsumedCapacity` object for `ReturnConsumedCapacity` = `mode`.
    pub fn render(&self, table: &str, mode: &str) -> Option<Value> {
        self.render_as(table, mode, false)
    }

    /// [`Capacity::render`] for transactions, which also split the units into
    /// `ReadCapacityUnits` or `WriteCapacityUnits`. The other operations return
    /// `CapacityUnits` alone, as DynamoDB's examples show and a test suite run against
    /// DynamoDB recorded.
    pub fn render_split(&self, table: &str, mode: &str) -> Option<Value> {
        self.render_as(table, mode, true)
    }

    fn render_as(&self, table: &str, mode: &str, split: bool) -> Option<Value> {
        let unit_key = if self.read {
            "ReadCapacityUnits"
        } else {
            "WriteCapacityUnits"
        };
        let units = |u: f64| {
            if split {
                json!({"CapacityUnits": u, unit_key: u})
            } else {
                json!({ "CapacityUnits": u })
            }
        };
        let mut m = Map::new();
        m.insert("TableName".into(), json!(table));
        m.insert("CapacityUnits".into(), json!(self.total()));
        if split {
            m.insert(unit_key.into(), json!(self.total()));
        }
        match mode {
            "TOTAL" => {}
            "INDEXES" => {
                m.insert("Table".into(), units(self.table));
                if !self.gsi.is_empty() {
                    m.insert(
                        "GlobalSecondaryIndexes".into(),
                        Value::Object(
                            self.gsi
                                .iter()
                                .map(|(k, v)| (k.clone(), units(*v)))
                                .collect(),
                        ),
                    );
                }
                if !self.lsi.is_empty() {
                    m.insert(
                        "LocalSecondaryIndexes".into(),
                        Value::Object(
                            self.lsi
                                .iter()
                                .map(|(k, v)| (k.clone(), units(*v)))
                                .collect(),
                        ),
                    );
                }
            }
            _ => return None,
        }
        Some(Value::Object(m))
    }
}

/// Checks `ReturnConsumedCapacity` and `ReturnItemCollectionMetrics`.
pub fn check_return_modes(v: &mut Validator, rcc: &Option<String>, ricm: Option<&Option<String>>) {
    v.one_of(
        rcc.as_deref(),
        "returnConsumedCapacity",
        &["INDEXES", "TOTAL", "NONE"],
    );
    if let Some(r) = ricm {
        v.one_of(
            r.as_deref(),
            "returnItemCollectionMetrics",
            &["SIZE", "NONE"],
        );
    }
}

/// A write to stage: the table, the item's storage key and what it becomes.
#[derive(Debug, Clone)]
pub struct StagedWrite {
    /// The table.
    pub table: Arc<Table>,
    /// The item's storage key.
    pub key: Vec<u8>,
    /// The version read (`None` = item absent).
    pub version: Option<CommitSeq>,
    /// The item before.
    pub old: Option<Item>,
    /// The item after (`None` = delete).
    pub new: Option<Item>,
}

/// Adds a write, its index maintenance and its preconditions (item version,
/// catalog version) to `batch`; returns its capacity.
pub fn stage(batch: &mut Batch, w: &StagedWrite) -> Result<Capacity> {
    let meta = &w.table.meta;
    let tree = layout::item_tree(meta);
    batch.expect(tree.clone(), w.key.clone(), w.version);
    batch.expect(
        CATALOG_TREE,
        layout::catalog_key(&meta.account, &meta.name),
        Some(w.table.version),
    );
    let mut cap = Capacity::default();
    let old_size = w.old.as_ref().map(item_size).unwrap_or(0);
    let new_size = w.new.as_ref().map(item_size).unwrap_or(0);
    cap.table = write_units(old_size.max(new_size));
    for idx in &meta.indexes {
        let itree = layout::index_tree(meta, &idx.name);
        let old_k = w
            .old
            .as_ref()
            .and_then(|o| layout::index_key_for(&meta.key, idx, o));
        let new_entry = w.new.as_ref().and_then(|n| {
            layout::index_key_for(&meta.key, idx, n)
                .map(|k| (k, layout::project_for_index(&meta.key, idx, n)))
        });
        let mut units = 0.0;
        if let Some(ok) = &old_k
            && new_entry.as_ref().map(|(k, _)| k) != Some(ok)
        {
            batch.delete(itree.clone(), ok.clone());
            // Removing an index entry costs by the size of that entry.
            let old_entry = w
                .old
                .as_ref()
                .map(|o| item_size(&layout::project_for_index(&meta.key, idx, o)))
                .unwrap_or(0);
            units += write_units(old_entry);
        }
        if let Some((k, projected)) = new_entry {
            let unchanged = w.old.as_ref().is_some_and(|o| {
                old_k.as_ref() == Some(&k)
                    && layout::project_for_index(&meta.key, idx, o) == projected
            });
            if !unchanged {
                units += write_units(item_size(&projected));
                batch.put(itree, k, encode_item(&projected)?);
            }
        }
        if units > 0.0 {
            if idx.global {
                cap.gsi.insert(idx.name.clone(), units);
            } else {
                cap.lsi.insert(idx.name.clone(), units);
            }
        }
    }
    match &w.new {
        Some(item) => {
            batch.put(tree, w.key.clone(), encode_item(item)?);
        }
        None => {
            if w.old.is_some() {
                batch.delete(tree, w.key.clone());
            }
        }
    }
    Ok(cap)
}

/// What a decide callback returns: the new item (or `None` to delete) and,
/// for UpdateItem, the paths it changed.
pub type Decision<R> = (Option<Item>, R);

/// `ItemCollectionMetrics` for a write to a table with local secondary indexes.
pub fn collection_metrics(meta: &TableMeta, key: &Item) -> Option<Value> {
    if !meta.has_lsi() {
        return None;
    }
    let pk = key.get(&meta.key.hash.name)?;
    Some(json!({
        "ItemCollectionKey": { meta.key.hash.name.clone(): pk },
        "SizeEstimateRangeGB": [0.0, 1.0]
    }))
}

/// The response of a single-item write: the returned attributes, the
/// consumed capacity and the item collection metrics, each when asked for.
fn write_response(
    meta: &TableMeta,
    named: &Option<String>,
    attributes: Option<&Item>,
    cap: &Capacity,
    rcc: &Option<String>,
    ricm: &Option<String>,
    collection_of: Option<&Item>,
) -> Result<Vec<u8>> {
    let mut out = Map::new();
    if let Some(a) = attributes {
        out.insert("Attributes".into(), item_json(a));
    }
    // ConsumedCapacity names the table as the request did (a name or an ARN).
    let shown = named.as_deref().unwrap_or(&meta.name);
    if let Some(c) = cap.render(shown, rcc.as_deref().unwrap_or("NONE")) {
        out.insert("ConsumedCapacity".into(), c);
    }
    if ricm.as_deref() == Some("SIZE")
        && let Some(m) = collection_of.and_then(|i| collection_metrics(meta, i))
    {
        out.insert("ItemCollectionMetrics".into(), m);
    }
    to_json(&Value::Object(out))
}

/// Adds the `ConsumedCapacity` list (one entry per table) and, when asked,
/// the `ItemCollectionMetrics` map of a multi-table write (BatchWriteItem,
/// TransactWriteItems) to `out`.
pub(crate) fn add_multi_table_reports(
    out: &mut Map<String, Value>,
    caps: &std::collections::BTreeMap<String, Capacity>,
    rcc: &Option<String>,
    ricm: &Option<String>,
    metrics: std::collections::BTreeMap<String, Vec<Value>>,
    transaction: bool,
) {
    let mode = rcc.as_deref().unwrap_or("NONE");
    let rendered: Vec<Value> = caps
        .iter()
        .filter_map(|(name, c)| {
            if transaction {
                c.render_split(name, mode)
            } else {
                c.render(name, mode)
            }
        })
        .collect();
    if !rendered.is_empty() {
        out.insert("ConsumedCapacity".into(), Value::Array(rendered));
    }
    if ricm.as_deref() == Some("SIZE") {
        out.insert(
            "ItemCollectionMetrics".into(),
            Value::Object(
                metrics
                    .into_iter()
                    .map(|(k, v)| (k, Value::Array(v)))
                    .collect(),
            ),
        );
    }
}

/// The constraints every single-item write checks on its return modes.
fn check_write_modes(
    v: &mut Validator,
    return_values: &Option<String>,
    on_failure: &Option<String>,
    rcc: &Option<String>,
    ricm: &Option<String>,
) {
    v.one_of(
        return_values.as_deref(),
        "returnValues",
        // DynamoDB's order in its constraint message.
        &["ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW"],
    );
    v.one_of(
        on_failure.as_deref(),
        "returnValuesOnConditionCheckFailure",
        &["ALL_OLD", "NONE"],
    );
    check_return_modes(v, rcc, Some(ricm));
}

impl DynamoDb {
    /// The optimistic write loop: read the item, let `decide` evaluate
    /// conditions and compute the new item, commit with the item's and the
    /// catalog's versions as preconditions, retry when someone else won.
    /// `decide` is called with no item-changing side effects, so it may run
    /// several times.
    pub(crate) async fn write_one<R>(
        &self,
        account: &str,
        table_name: &Option<String>,
        key_of: impl Fn(&TableMeta) -> Result<Item>,
        mut decide: impl FnMut(&TableMeta, Option<&Item>) -> Result<Decision<R>>,
    ) -> Result<(Arc<Table>, Option<Item>, Option<Item>, R, Capacity)> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let table = self.table_for_items(account, table_name)?;
            let meta = &table.meta;
            let key_item = key_of(meta)?;
            let key = storage_key(&meta.key, &key_item)?;
            let cur = self.engine.get(&layout::item_tree(meta), &key).await?;
            let (version, old) = match cur {
                Some(v) => (Some(v.version), Some(decode_item(&v.value)?)),
                None => (None, None),
            };
            let (new, r) = decide(meta, old.as_ref())?;
            if old.is_none() && new.is_none() {
                return Ok((
                    table.clone(),
                    None,
                    None,
                    r,
                    Capacity {
                        table: 1.0,
                        ..Capacity::default()
                    },
                ));
            }
            let w = StagedWrite {
                table: table.clone(),
                key,
                version,
                old,
                new,
            };
            let mut batch = Batch::new();
            let cap = stage(&mut batch, &w)?;
            match self.commit_writes(batch, &[&w]).await {
                Ok(_) => return Ok((table, w.old, w.new, r, cap)),
                Err(rampart_storage::Error::Conflict { index }) => {
                    self.before_retry(account, table_name, index == 1, attempt)
                        .await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// After a commit lost to a failed precondition: refresh the table if
    /// it was the table's version that failed (it changed or was deleted),
    /// give up after `MAX_ATTEMPTS`, else yield before the caller retries.
    async fn before_retry(
        &self,
        account: &str,
        table_name: &Option<String>,
        table_changed: bool,
        attempt: usize,
    ) -> Result<()> {
        if table_changed {
            let name = table_name.as_deref().unwrap_or_default();
            self.reload_table(account, name).await?;
        }
        if attempt >= MAX_ATTEMPTS {
            return Err(DynamoError::TransactionConflict(
                "Transaction is ongoing for the item".into(),
            ));
        }
        tokio::task::yield_now().await;
        Ok(())
    }

    /// A PutItem or DeleteItem with no condition and no `ReturnValues` on a
    /// table without indexes: nothing to decide from the old item, so
    /// instead of reading it first (a read transaction and a decode), one
    /// commit puts `new` (or deletes the item when `None`) and fetches what
    /// the key held, for the capacity and the table's counters. The only
    /// retry is a table change (the catalog-version precondition). `None`
    /// when the table has indexes: their entries depend on the old item, so
    /// the caller takes the general read → decide → commit path.
    async fn write_blind(
        &self,
        account: &str,
        table_name: &Option<String>,
        key_of: impl Fn(&TableMeta) -> Result<Vec<u8>>,
        new: Option<&Item>,
    ) -> Result<Option<(Arc<Table>, Capacity)>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let table = self.table_for_items(account, table_name)?;
            let meta = &table.meta;
            if !meta.indexes.is_empty() {
                return Ok(None);
            }
            let key = key_of(meta)?;
            let tree = layout::item_tree(meta);
            let new_size = new.map(item_size);
            let mut batch = Batch::new();
            batch
                .expect(
                    CATALOG_TREE,
                    layout::catalog_key(&meta.account, &meta.name),
                    Some(table.version),
                )
                .fetch(tree.clone(), key.clone());
            match new {
                Some(item) => batch.put(tree, key, encode_item(item)?),
                None => batch.delete(tree, key),
            };
            let gates = self
                .counters
                .enter_write(std::iter::once(meta.id.as_str()))
                .await;
            match self.engine.commit_fetching(batch).await {
                Ok(done) => {
                    let old = done.fetched.into_iter().next().flatten();
                    // The old item's size from its bytes, without building
                    // it. The write is committed: an old value that no
                    // longer decodes must not fail it; the counters are
                    // recounted instead.
                    let old_size = old.map(|v| stored_item_size_or_decode(&v.value));
                    let old_size = match old_size.transpose() {
                        Ok(old_size) => {
                            self.counters
                                .apply(&meta.id, &crate::stats::blind_delta(old_size, new_size));
                            old_size
                        }
                        Err(_) => {
                            self.counters.invalidate(&meta.id);
                            None
                        }
                    };
                    drop(gates);
                    let size = old_size.unwrap_or(0).max(new_size.unwrap_or(0));
                    // Deleting an absent item still costs one unit.
                    let cap = Capacity {
                        table: write_units(size).max(1.0),
                        ..Capacity::default()
                    };
                    return Ok(Some((table, cap)));
                }
                Err(rampart_storage::Error::Conflict { .. }) => {
                    drop(gates);
                    // The only precondition is the table's version.
                    self.before_retry(account, table_name, true, attempt)
                        .await?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    pub(crate) async fn put_item(&self, account: &str, mut input: PutItemInput) -> Result<Vec<u8>> {
        let mut v = Validator::new();
        crate::catalog::check_table_name(&mut v, &input.table_name);
        v.not_null(&input.item, "item");
        check_write_modes(
            &mut v,
            &input.return_values,
            &input.return_values_on_condition_check_failure,
            &input.return_consumed_capacity,
            &input.return_item_collection_metrics,
        );
        v.finish()?;
        let rv = input.return_values.as_deref().unwrap_or("NONE");
        if !matches!(rv, "NONE" | "ALL_OLD") {
            return Err(invalid("ReturnValues can only be ALL_OLD or NONE"));
        }
        let condition = self.parse_write_condition(
            &input.condition_expression,
            &input.expected,
            &input.conditional_operator,
            &input.expression_attribute_names,
            &input.expression_attribute_values,
        )?;
        let item = input.item.take().unwrap_or_default();
        if condition.is_none()
            && rv == "NONE"
            && let Some((table, cap)) = self
                .write_blind(
                    account,
                    &input.table_name,
                    |meta| {
                        check_item(meta, &item)?;
                        storage_key(&meta.key, &item)
                    },
                    Some(&item),
                )
                .await?
        {
            return write_response(
                &table.meta,
                &input.table_name,
                None,
                &cap,
                &input.return_consumed_capacity,
                &input.return_item_collection_metrics,
                Some(&item),
            );
        }
        let on_fail_old =
            input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
        let (table, old, _new, (), cap) = self
            .write_one(
                account,
                &input.table_name,
                |meta| {
                    check_item(meta, &item)?;
                    Ok(meta
                        .key
                        .names()
                        .filter_map(|n| item.get(n).map(|v| (n.to_owned(), v.clone())))
                        .collect())
                },
                |_, old| {
                    check_condition(&condition, old, on_fail_old)?;
                    Ok((Some(item.clone()), ()))
                },
            )
            .await?;
        write_response(
            &table.meta,
            &input.table_name,
            old.as_ref().filter(|_| rv == "ALL_OLD"),
            &cap,
            &input.return_consumed_capacity,
            &input.return_item_collection_metrics,
            Some(&item),
        )
    }

    pub(crate) async fn delete_item(
        &self,
        account: &str,
        input: DeleteItemInput,
    ) -> Result<Vec<u8>> {
        let mut v = Validator::new();
        crate::catalog::check_table_name(&mut v, &input.table_name);
        v.not_null(&input.key, "key");
        check_write_modes(
            &mut v,
            &input.return_values,
            &input.return_values_on_condition_check_failure,
            &input.return_consumed_capacity,
            &input.return_item_collection_metrics,
        );
        v.finish()?;
        let rv = input.return_values.as_deref().unwrap_or("NONE");
        if !matches!(rv, "NONE" | "ALL_OLD") {
            return Err(invalid("ReturnValues can only be ALL_OLD or NONE"));
        }
        let condition = self.parse_write_condition(
            &input.condition_expression,
            &input.expected,
            &input.conditional_operator,
            &input.expression_attribute_names,
            &input.expression_attribute_values,
        )?;
        if condition.is_none()
            && rv == "NONE"
            && let Some((table, cap)) = self
                .write_blind(
                    account,
                    &input.table_name,
                    |meta| {
                        let key = check_key(meta, &input.key, "key")?;
                        storage_key(&meta.key, &key)
                    },
                    None,
                )
                .await?
        {
            return write_response(
                &table.meta,
                &input.table_name,
                None,
                &cap,
                &input.return_consumed_capacity,
                &input.return_item_collection_metrics,
                None,
            );
        }
        let on_fail_old =
            input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
        let (table, old, _new, key, cap) = self
            .write_one(
                account,
                &input.table_name,
                |meta| check_key(meta, &input.key, "key"),
                |meta, old| {
                    check_condition(&condition, old, on_fail_old)?;
                    let key = check_key(meta, &input.key, "key")?;
                    Ok((None, key))
                },
            )
            .await?;
        write_response(
            &table.meta,
            &input.table_name,
            old.as_ref().filter(|_| rv == "ALL_OLD"),
            &cap,
            &input.return_consumed_capacity,
            &input.return_item_collection_metrics,
            Some(&key),
        )
    }

    pub(crate) async fn get_item(&self, account: &str, input: GetItemInput) -> Result<Vec<u8>> {
        let mut v = Validator::new();
        crate::catalog::check_table_name(&mut v, &input.table_name);
        v.not_null(&input.key, "key");
        check_return_modes(&mut v, &input.return_consumed_capacity, None);
        v.finish()?;
        let projection = self.parse_read_projection(
            &input.projection_expression,
            &input.attributes_to_get,
            &input.expression_attribute_names,
        )?;
        let table = self.table_for_items(account, &input.table_name)?;
        let key_item = check_key(&table.meta, &input.key, "key")?;
        let key = storage_key(&table.meta.key, &key_item)?;
        let found = self
            .engine
            .get(&layout::item_tree(&table.meta), &key)
            .await?;
        let rcc = input.return_consumed_capacity.as_deref().unwrap_or("NONE");
        // Items are stored in DynamoDB's own JSON, so without a projection or
        // a capacity report the stored bytes are the response's Item as is:
        // no decode, no re-encode. (Expired items stay readable until the
        // sweeper deletes them, as on AWS.)
        if projection.is_none() && rcc == "NONE" {
            return Ok(match found {
                Some(v) => {
                    let mut out = Vec::with_capacity(v.value.len() + 10);
                    out.extend_from_slice(b"{\"Item\":");
                    out.extend_from_slice(&v.value);
                    out.push(b'}');
                    out
                }
                None => b"{}".to_vec(),
            });
        }
        let mut out = Map::new();
        let mut size = 0;
        if let Some(v) = found {
            let item = decode_item(&v.value)?;
            size = item_size(&item);
            let shown = match &projection {
                Some(p) => p.apply(&item),
                None => item,
            };
            out.insert("Item".into(), item_json(&shown));
        }
        let consistent = input.consistent_read.unwrap_or(false);
        let cap = Capacity {
            table: read_units(size, consistent),
            read: true,
            ..Capacity::default()
        };
        let shown = input.table_name.as_deref().unwrap_or(&table.meta.name);
        if let Some(c) = cap.render(shown, rcc) {
            out.insert("ConsumedCapacity".into(), c);
        }
        to_json(&Value::Object(out))
    }

    pub(crate) async fn update_item(
        &self,
        account: &str,
        input: UpdateItemInput,
    ) -> Result<Vec<u8>> {
        let mut v = Validator::new();
        crate::catalog::check_table_name(&mut v, &input.table_name);
        v.not_null(&input.key, "key");
        check_write_modes(
            &mut v,
            &input.return_values,
            &input.return_values_on_condition_check_failure,
            &input.return_consumed_capacity,
            &input.return_item_collection_metrics,
        );
        v.finish()?;
        let rv = input.return_values.clone().unwrap_or_else(|| "NONE".into());
        let (update, condition) = self.parse_update_and_condition(&input)?;
        let on_fail_old =
            input.return_values_on_condition_check_failure.as_deref() == Some("ALL_OLD");
        let (table, old, new, paths, cap) = self
            .write_one(
                account,
                &input.table_name,
                |meta| check_key(meta, &input.key, "key"),
                |meta, old| {
                    check_condition(&condition, old, on_fail_old)?;
                    let key = check_key(meta, &input.key, "key")?;
                    let mut item = old.cloned().unwrap_or_else(|| key.clone());
                    let paths = match &update {
                        Some(u) => {
                            for name in meta.key.names() {
                                if u.touches(name) {
                                    return Err(invalid(format!(
                                        "One or more parameter values were invalid: Cannot update attribute {name}. This attribute is part of the key"
                                    )));
                                }
                            }
                            if old.is_none() && u.only_removes() {
                                // Nothing to take away from an item that does not exist:
                                // it is not created (`UpdateExpr::only_removes`).
                                return Ok((None, Vec::new()));
                            }
                            u.apply(&mut item).map_err(expr_err)?
                        }
                        None => Vec::new(),
                    };
                    for idx in &meta.indexes {
                        check_index_keys(idx, &item)?;
                    }
                    check_updated_item(&item)?;
                    Ok((Some(item), paths))
                },
            )
            .await?;
        let attrs = match rv.as_str() {
            "ALL_OLD" => old.clone(),
            "ALL_NEW" => new.clone(),
            "UPDATED_OLD" => old
                .as_ref()
                .map(|o| expr::Projection::from_paths(paths.clone()).apply(o))
                .filter(|m| !m.is_empty()),
            "UPDATED_NEW" => {
                // Every path the update named, read in the new item. AWS quirk: a REMOVEd
                // attribute is simply absent there, but a REMOVEd list element's index now
                // names its successor, which DynamoDB returns (observed, recorded by
                // ScyllaDB's Alternator tests); a SET past a list's end names nothing.
                new.as_ref()
                    .map(|n| expr::Projection::from_paths(paths.clone()).apply(n))
                    .filter(|m| !m.is_empty())
            }
            _ => None,
        };
        write_response(
            &table.meta,
            &input.table_name,
            attrs.as_ref(),
            &cap,
            &input.return_consumed_capacity,
            &input.return_item_collection_metrics,
            new.as_ref(),
        )
    }

    /// Parses ConditionExpression or the legacy Expected into one condition.
    pub(crate) fn parse_write_condition(
        &self,
        expression: &Option<String>,
        expected: &Option<std::collections::BTreeMap<String, expr::legacy::ExpectedAttributeValue>>,
        conditional_operator: &Option<String>,
        names: &Option<HashMap<String, String>>,
        values: &Option<ExpressionValues>,
    ) -> Result<Option<expr::Condition>> {
        check_mix(
            &[
                ("Expected", expected.is_some()),
                ("ConditionalOperator", conditional_operator.is_some()),
            ],
            &[("ConditionExpression", expression.is_some())],
            names.is_some(),
            values.is_some(),
        )?;
        check_conditional_operator(conditional_operator, expected.as_ref().map(|e| e.len()))?;
        if let Some(e) = expected {
            return expr::legacy::expected_to_condition(e, conditional_op(conditional_operator)?)
                .map_err(expr_err);
        }
        let mut p = placeholders(names, values)?;
        let c = match expression {
            Some(s) => {
                Some(expr::parse_condition(s, &mut p, ConditionKind::Condition).map_err(expr_err)?)
            }
            None => None,
        };
        p.finish().map_err(expr_err)?;
        Ok(c)
    }

    fn parse_update_and_condition(
        &self,
        input: &UpdateItemInput,
    ) -> Result<(Option<expr::UpdateExpr>, Option<expr::Condition>)> {
        check_mix(
            &[
                ("AttributeUpdates", input.attribute_updates.is_some()),
                ("Expected", input.expected.is_some()),
                ("ConditionalOperator", input.conditional_operator.is_some()),
            ],
            &[
                ("UpdateExpression", input.update_expression.is_some()),
                ("ConditionExpression", input.condition_expression.is_some()),
            ],
            input.expression_attribute_names.is_some(),
            input.expression_attribute_values.is_some(),
        )?;
        check_conditional_operator(
            &input.conditional_operator,
            input.expected.as_ref().map(|e| e.len()),
        )?;
        if input.attribute_updates.is_some() || input.expected.is_some() {
            let update = match &input.attribute_updates {
                Some(u) => Some(expr::legacy::attribute_updates_to_update(u).map_err(expr_err)?),
                None => None,
            };
            let cond = match &input.expected {
                Some(e) => expr::legacy::expected_to_condition(
                    e,
                    conditional_op(&input.conditional_operator)?,
                )
                .map_err(expr_err)?,
                None => None,
            };
            return Ok((update, cond));
        }
        let mut p = placeholders(
            &input.expression_attribute_names,
            &input.expression_attribute_values,
        )?;
        let update = match &input.update_expression {
            Some(s) => Some(expr::parse_update(s, &mut p).map_err(expr_err)?),
            None => None,
        };
        let cond = match &input.condition_expression {
            Some(s) => {
                Some(expr::parse_condition(s, &mut p, ConditionKind::Condition).map_err(expr_err)?)
            }
            None => None,
        };
        p.finish().map_err(expr_err)?;
        Ok((update, cond))
    }

    /// Parses ProjectionExpression or the legacy AttributesToGet.
    pub(crate) fn parse_read_projection(
        &self,
        expression: &Option<String>,
        attributes_to_get: &Option<Vec<String>>,
        names: &Option<HashMap<String, String>>,
    ) -> Result<Option<expr::Projection>> {
        check_mix(
            &[("AttributesToGet", attributes_to_get.is_some())],
            &[("ProjectionExpression", expression.is_some())],
            names.is_some(),
            false,
        )?;
        if let Some(a) = attributes_to_get {
            return expr::legacy::attributes_to_get_to_projection(a)
                .map(Some)
                .map_err(expr_err);
        }
        let none = None;
        let mut p = placeholders(names, &none)?;
        let proj = match expression {
            Some(s) => Some(expr::parse_projection(s, &mut p).map_err(expr_err)?),
            None => None,
        };
        p.finish().map_err(expr_err)?;
        Ok(proj)
    }
}

/// Parses `ConditionalOperator` (`AND` or `OR`).
pub fn conditional_op(op: &Option<String>) -> Result<Option<expr::legacy::ConditionalOperator>> {
    match op.as_deref() {
        None => Ok(None),
        Some("AND") => Ok(Some(expr::legacy::ConditionalOperator::And)),
        Some("OR") => Ok(Some(expr::legacy::ConditionalOperator::Or)),
        Some(other) => Err(invalid(format!(
            "1 validation error detected: Value '{other}' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]"
        ))),
    }
}

/// Evaluates a write condition against the current item.
pub fn check_condition(
    condition: &Option<expr::Condition>,
    old: Option<&Item>,
    return_old: bool,
) -> Result<()> {
    let Some(c) = condition else { return Ok(()) };
    let empty = Item::new();
    let ok = c.eval(old.unwrap_or(&empty)).map_err(expr_err)?;
    if ok {
        Ok(())
    } else {
        Err(DynamoError::ConditionalCheckFailed {
            item: if return_old { old.map(item_json) } else { None },
        })
    }
}
