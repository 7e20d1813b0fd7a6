//! DynamoDB's own IAM condition keys, computed from a parsed request: the
//! keys AWS's fine-grained access control evaluates (Developer Guide, "Using
//! IAM policy conditions for fine-grained access control"; Service
//! Authorization Reference, "Actions, resources, and condition keys for
//! Amazon DynamoDB").
//!
//! Which action carries which key (the reference's table):
//!
//! | action | LeadingKeys | Attributes | Select | ReturnValues | ReturnConsumedCapacity | EnclosingOperation |
//! | --- | --- | --- | --- | --- | --- | --- |
//! | GetItem | yes | yes | yes | | yes | in TransactGetItems |
//! | PutItem, UpdateItem, DeleteItem | yes | yes | | yes | yes | in TransactWriteItems |
//! | ConditionCheckItem | yes | yes | | yes | yes | TransactWriteItems |
//! | Query | yes | yes | yes | | yes | |
//! | Scan | | yes | yes | | yes | |
//! | BatchGetItem (per table) | yes | yes | yes | | yes | |
//! | BatchWriteItem (per table) | yes | yes | | | yes | |
//!
//! Pure: data in, keys out; no catalog access (the caller passes the key
//! schema it looked up), no I/O.
//!
//! INVARIANTS:
//! - `dynamodb:Select` and `dynamodb:ReturnValues` are always present on the
//!   actions that carry them, with DynamoDB's default when the request omits
//!   the parameter ("the `Select` parameter always has a value
//!   (`ALL_ATTRIBUTES`, unless otherwise specified)", "the `ReturnValues`
//!   parameter always has a value (`NONE` unless otherwise specified)");
//! - `dynamodb:Attributes` holds every top-level attribute name any parameter
//!   of the request names (`Key`, `Item`, every expression with its `#names`
//!   resolved, every legacy parameter); a request naming none leaves it out;
//! - `dynamodb:LeadingKeys` is left out only when the partition key cannot be
//!   known (the table does not exist: the call then fails with
//!   `ResourceNotFoundException` before touching any item).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::Engine as _;

use crate::catalog::KeySchema;
use crate::expr::legacy::{ComparisonOperator, LegacyCondition};
use crate::expr::{
    ConditionKind, Placeholders, parse_condition, parse_key_condition, parse_projection,
    parse_update,
};
use crate::model::*;
use crate::value::{AttributeValue, Item};

/// `dynamodb:LeadingKeys`: the partition-key values of the items accessed.
pub const LEADING_KEYS: &str = "dynamodb:LeadingKeys";
/// `dynamodb:Attributes`: the top-level attribute names the request names.
pub const ATTRIBUTES: &str = "dynamodb:Attributes";
/// `dynamodb:Select`.
pub const SELECT: &str = "dynamodb:Select";
/// `dynamodb:ReturnValues`.
pub const RETURN_VALUES: &str = "dynamodb:ReturnValues";
/// `dynamodb:ReturnConsumedCapacity`.
pub const RETURN_CONSUMED_CAPACITY: &str = "dynamodb:ReturnConsumedCapacity";
/// `dynamodb:EnclosingOperation`: the transaction a member belongs to.
pub const ENCLOSING_OPERATION: &str = "dynamodb:EnclosingOperation";

/// The value of one condition key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyValue {
    /// A single-valued key (`dynamodb:Select`, `dynamodb:ReturnValues`, …).
    Single(String),
    /// A multivalued key (`dynamodb:LeadingKeys`, `dynamodb:Attributes`),
    /// sorted and without duplicates.
    Multi(Vec<String>),
}

/// The condition keys of one authorization, in a stable order.
pub type Keys = Vec<(String, KeyValue)>;

/// The enclosing transaction of a member action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enclosing {
    /// `TransactGetItems`.
    TransactGetItems,
    /// `TransactWriteItems`.
    TransactWriteItems,
}

impl Enclosing {
    fn name(self) -> &'static str {
        match self {
            Self::TransactGetItems => "TransactGetItems",
            Self::TransactWriteItems => "TransactWriteItems",
        }
    }
}

/// Accumulates the keys of one authorization.
#[derive(Debug, Default)]
struct Builder {
    /// Partition-key values; `None` when the action has none or they cannot
    /// be known.
    leading: Option<BTreeSet<String>>,
    /// Top-level attribute names.
    attributes: BTreeSet<String>,
    /// `Select`, defaults filled.
    select: Option<String>,
    /// `ReturnValues`, defaults filled.
    return_values: Option<String>,
    /// `ReturnConsumedCapacity`, as given.
    consumed_capacity: Option<String>,
    /// The enclosing transaction.
    enclosing: Option<Enclosing>,
}

impl Builder {
    fn finish(self) -> Keys {
        let mut out = Keys::new();
        if let Some(l) = self.leading.filter(|l| !l.is_empty()) {
            out.push((
                LEADING_KEYS.into(),
                KeyValue::Multi(l.into_iter().collect()),
            ));
        }
        if !self.attributes.is_empty() {
            out.push((
                ATTRIBUTES.into(),
                KeyValue::Multi(self.attributes.into_iter().collect()),
            ));
        }
        if let Some(s) = self.select {
            out.push((SELECT.into(), KeyValue::Single(s)));
        }
        if let Some(r) = self.return_values {
            out.push((RETURN_VALUES.into(), KeyValue::Single(r)));
        }
        if let Some(c) = self.consumed_capacity {
            out.push((RETURN_CONSUMED_CAPACITY.into(), KeyValue::Single(c)));
        }
        if let Some(e) = self.enclosing {
            out.push((
                ENCLOSING_OPERATION.into(),
                KeyValue::Single(e.name().into()),
            ));
        }
        out
    }

    /// Records the partition-key value of `key` (an item or a primary key).
    fn leading_from(
        &mut self,
        schema: Option<&KeySchema>,
        key: Option<&BTreeMap<String, AttributeValue>>,
    ) {
        let Some(schema) = schema else { return };
        let set = self.leading.get_or_insert_with(BTreeSet::new);
        if let Some(v) = key
            .and_then(|k| k.get(&schema.hash.name))
            .and_then(key_string)
        {
            set.insert(v);
        }
    }

    fn leading_from_map(&mut self, schema: Option<&KeySchema>, key: Option<&AttrMap>) {
        let Some(schema) = schema else { return };
        let set = self.leading.get_or_insert_with(BTreeSet::new);
        if let Some(v) = key
            .and_then(|k| k.get(&schema.hash.name))
            .and_then(key_string)
        {
            set.insert(v);
        }
    }

    fn names<'a>(&mut self, names: impl IntoIterator<Item = &'a String>) {
        self.attributes.extend(names.into_iter().cloned());
    }
}

/// A partition-key value as IAM sees it: the string itself, a number's
/// canonical text, a binary's base64 (AWS does not document the last two;
/// see docs/compatibility.md).
fn key_string(v: &AttributeValue) -> Option<String> {
    match v {
        AttributeValue::S(s) => Some(s.clone()),
        AttributeValue::N(n) => Some(n.to_string()),
        AttributeValue::B(b) => Some(base64::engine::general_purpose::STANDARD.encode(b)),
        _ => None,
    }
}

/// The expression parameters of one request (or transaction member).
#[derive(Debug, Clone, Copy, Default)]
struct Exprs<'a> {
    names: Option<&'a HashMap<String, String>>,
    values: Option<&'a HashMap<String, AttributeValue>>,
}

impl<'a> Exprs<'a> {
    fn new(
        names: &'a Option<HashMap<String, String>>,
        values: &'a Option<ExpressionValues>,
    ) -> Self {
        Self {
            names: names.as_ref(),
            values: values.as_ref().map(|v| &v.all),
        }
    }

    fn placeholders(&self) -> Placeholders<'a> {
        Placeholders::new(self.names, self.values)
    }

    /// The top-level names of a condition, filter or key condition. An
    /// expression that does not parse names nothing here: the operation
    /// refuses it with the parser's `ValidationException` before reading or
    /// writing any item.
    fn condition(&self, s: &Option<String>, kind: ConditionKind) -> BTreeSet<String> {
        s.as_deref()
            .and_then(|s| parse_condition(s, &mut self.placeholders(), kind).ok())
            .map(|c| c.top_level_attributes())
            .unwrap_or_default()
    }

    fn projection(&self, s: &Option<String>) -> BTreeSet<String> {
        s.as_deref()
            .and_then(|s| parse_projection(s, &mut self.placeholders()).ok())
            .map(|p| p.top_level_attributes())
            .unwrap_or_default()
    }

    fn update(&self, s: &Option<String>) -> BTreeSet<String> {
        s.as_deref()
            .and_then(|s| parse_update(s, &mut self.placeholders()).ok())
            .map(|u| u.top_level_attributes())
            .unwrap_or_default()
    }
}

/// `Select` with DynamoDB's defaults: `SPECIFIC_ATTRIBUTES` when attributes
/// are projected, else `ALL_PROJECTED_ATTRIBUTES` on an index and
/// `ALL_ATTRIBUTES` on a table (API Reference, Query and Scan, `Select`).
fn select(given: &Option<String>, projects: bool, on_index: bool) -> String {
    match given {
        Some(s) => s.clone(),
        None if projects => "SPECIFIC_ATTRIBUTES".into(),
        None if on_index => "ALL_PROJECTED_ATTRIBUTES".into(),
        None => "ALL_ATTRIBUTES".into(),
    }
}

/// `ReturnValues` with its default `NONE`. A write that asks for the old
/// item on a failed condition (`ReturnValuesOnConditionCheckFailure=ALL_OLD`)
/// reads every attribute of it: AWS documents no key for that parameter, so
/// Rampart reports it as `ALL_OLD` (fail closed: a policy that only allows
/// `NONE`/`UPDATED_*` keeps its promise that no other attribute is read).
fn return_values(given: &Option<String>, on_failure: &Option<String>) -> String {
    let rv = given.clone().unwrap_or_else(|| "NONE".into());
    let reads_all = rv == "ALL_OLD" || rv == "ALL_NEW";
    if !reads_all && on_failure.as_deref() == Some("ALL_OLD") {
        return "ALL_OLD".into();
    }
    rv
}

fn legacy_keys<V>(m: &Option<BTreeMap<String, V>>) -> impl Iterator<Item = &String> {
    m.iter().flat_map(|m| m.keys())
}

/// GetItem.
pub fn get_item(i: &GetItemInput, schema: Option<&KeySchema>) -> Keys {
    let mut b = Builder::default();
    b.leading_from_map(schema, i.key.as_ref());
    b.names(i.key.iter().flat_map(|k| k.keys()));
    let e = Exprs::new(&i.expression_attribute_names, &None);
    b.attributes.extend(e.projection(&i.projection_expression));
    b.names(i.attributes_to_get.iter().flatten());
    let projects = i.projection_expression.is_some() || i.attributes_to_get.is_some();
    b.select = Some(select(&None, projects, false));
    b.consumed_capacity = i.return_consumed_capacity.clone();
    b.finish()
}

/// PutItem.
pub fn put_item(i: &PutItemInput, schema: Option<&KeySchema>) -> Keys {
    let mut b = Builder::default();
    b.leading_from(schema, i.item.as_ref());
    b.names(i.item.iter().flat_map(|it| it.keys()));
    let e = Exprs::new(
        &i.expression_attribute_names,
        &i.expression_attribute_values,
    );
    b.attributes
        .extend(e.condition(&i.condition_expression, ConditionKind::Condition));
    b.names(legacy_keys(&i.expected));
    b.return_values = Some(return_values(
        &i.return_values,
        &i.return_values_on_condition_check_failure,
    ));
    b.consumed_capacity = i.return_consumed_capacity.clone();
    b.finish()
}

/// UpdateItem.
pub fn update_item(i: &UpdateItemInput, schema: Option<&KeySchema>) -> Keys {
    let mut b = Builder::default();
    b.leading_from_map(schema, i.key.as_ref());
    b.names(i.key.iter().flat_map(|k| k.keys()));
    let e = Exprs::new(
        &i.expression_attribute_names,
        &i.expression_attribute_values,
    );
    b.attributes.extend(e.update(&i.update_expression));
    b.attributes
        .extend(e.condition(&i.condition_expression, ConditionKind::Condition));
    b.names(legacy_keys(&i.attribute_updates));
    b.names(legacy_keys(&i.expected));
    b.return_values = Some(return_values(
        &i.return_values,
        &i.return_values_on_condition_check_failure,
    ));
    b.consumed_capacity = i.return_consumed_capacity.clone();
    b.finish()
}

/// DeleteItem.
pub fn delete_item(i: &DeleteItemInput, schema: Option<&KeySchema>) -> Keys {
    let mut b = Builder::default();
    b.leading_from_map(schema, i.key.as_ref());
    b.names(i.key.iter().flat_map(|k| k.keys()));
    let e = Exprs::new(
        &i.expression_attribute_names,
        &i.expression_attribute_values,
    );
    b.attributes
        .extend(e.condition(&i.condition_expression, ConditionKind::Condition));
    b.names(legacy_keys(&i.expected));
    b.return_values = Some(return_values(
        &i.return_values,
        &i.return_values_on_condition_check_failure,
    ));
    b.consumed_capacity = i.return_consumed_capacity.clone();
    b.finish()
}

/// The partition-key value a Query's key condition fixes, if it parses.
fn query_hash_value(i: &QueryInput, e: &Exprs<'_>, schema: &KeySchema) -> Option<String> {
    let hash = schema.hash.name.as_str();
    if let Some(kce) = &i.key_condition_expression {
        let range = schema.range.as_ref().map(|r| r.name.as_str());
        let kc = parse_key_condition(kce, &mut e.placeholders(), hash, range).ok()?;
        return key_string(&kc.hash);
    }
    let cond: &LegacyCondition = i.key_conditions.as_ref()?.get(hash)?;
    if cond.comparison_operator.known() != Some(ComparisonOperator::Eq) {
        return None;
    }
    key_string(cond.attribute_value_list.as_ref()?.first()?)
}

/// Query; `schema` is the key schema of the table or of the queried index.
pub fn query(i: &QueryInput, schema: Option<&KeySchema>) -> Keys {
    let mut b = Builder::default();
    let e = Exprs::new(
        &i.expression_attribute_names,
        &i.expression_attribute_values,
    );
    if let Some(schema) = schema {
        let set = b.leading.get_or_insert_with(BTreeSet::new);
        set.extend(query_hash_value(i, &e, schema));
    }
    b.attributes
        .extend(e.condition(&i.key_condition_expression, ConditionKind::KeyCondition));
    b.attributes
        .extend(e.condition(&i.filter_expression, ConditionKind::Filter));
    b.attributes.extend(e.projection(&i.projection_expression));
    b.names(legacy_keys(&i.key_conditions));
    b.names(legacy_keys(&i.query_filter));
    b.names(i.attributes_to_get.iter().flatten());
    let projects = i.projection_expression.is_some() || i.attributes_to_get.is_some();
    b.select = Some(select(&i.select, projects, i.index_name.is_some()));
    b.consumed_capacity = i.return_consumed_capacity.clone();
    b.finish()
}

/// Scan (no `dynamodb:LeadingKeys`: a scan reads every partition).
pub fn scan(i: &ScanInput) -> Keys {
    let mut b = Builder::default();
    let e = Exprs::new(
        &i.expression_attribute_names,
        &i.expression_attribute_values,
    );
    b.attributes
        .extend(e.condition(&i.filter_expression, ConditionKind::Filter));
    b.attributes.extend(e.projection(&i.projection_expression));
    b.names(legacy_keys(&i.scan_filter));
    b.names(i.attributes_to_get.iter().flatten());
    let projects = i.projection_expression.is_some() || i.attributes_to_get.is_some();
    b.select = Some(select(&i.select, projects, i.index_name.is_some()));
    b.consumed_capacity = i.return_consumed_capacity.clone();
    b.finish()
}

/// BatchGetItem, for one table's `KeysAndAttributes`.
pub fn batch_get_table(
    ka: &KeysAndAttributes,
    schema: Option<&KeySchema>,
    rcc: &Option<String>,
) -> Keys {
    let mut b = Builder::default();
    for k in ka.keys.iter().flatten() {
        b.leading_from_map(schema, Some(k));
        b.names(k.keys());
    }
    let e = Exprs::new(&ka.expression_attribute_names, &None);
    b.attributes.extend(e.projection(&ka.projection_expression));
    b.names(ka.attributes_to_get.iter().flatten());
    let projects = ka.projection_expression.is_some() || ka.attributes_to_get.is_some();
    b.select = Some(select(&None, projects, false));
    b.consumed_capacity = rcc.clone();
    b.finish()
}

/// BatchWriteItem, for one table's write requests.
pub fn batch_write_table(
    writes: &[WriteRequest],
    schema: Option<&KeySchema>,
    rcc: &Option<String>,
) -> Keys {
    let mut b = Builder::default();
    if schema.is_some() {
        b.leading.get_or_insert_with(BTreeSet::new);
    }
    for w in writes {
        if let Some(item) = w.put_request.as_ref().and_then(|p| p.item.as_ref()) {
            b.leading_from(schema, Some(item));
            b.names(item.keys());
        }
        if let Some(key) = w.delete_request.as_ref().and_then(|d| d.key.as_ref()) {
            b.leading_from_map(schema, Some(key));
            b.names(key.keys());
        }
    }
    b.consumed_capacity = rcc.clone();
    b.finish()
}

/// A TransactGetItems member (authorized as `dynamodb:GetItem`).
pub fn transact_get(g: &TransactGet, schema: Option<&KeySchema>, rcc: &Option<String>) -> Keys {
    let mut b = Builder::default();
    b.leading_from_map(schema, g.key.as_ref());
    b.names(g.key.iter().flat_map(|k| k.keys()));
    let e = Exprs::new(&g.expression_attribute_names, &None);
    b.attributes.extend(e.projection(&g.projection_expression));
    b.select = Some(select(&None, g.projection_expression.is_some(), false));
    b.consumed_capacity = rcc.clone();
    b.enclosing = Some(Enclosing::TransactGetItems);
    b.finish()
}

/// The kind of a TransactWriteItems member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// `ConditionCheck` (`dynamodb:ConditionCheckItem`).
    ConditionCheck,
    /// `Put` (`dynamodb:PutItem`).
    Put,
    /// `Delete` (`dynamodb:DeleteItem`).
    Delete,
    /// `Update` (`dynamodb:UpdateItem`).
    Update,
}

impl WriteKind {
    /// The IAM action the member is authorized as.
    pub fn action(self) -> &'static str {
        match self {
            Self::ConditionCheck => "dynamodb:ConditionCheckItem",
            Self::Put => "dynamodb:PutItem",
            Self::Delete => "dynamodb:DeleteItem",
            Self::Update => "dynamodb:UpdateItem",
        }
    }
}

/// A TransactWriteItems member.
pub fn transact_write(
    kind: WriteKind,
    a: &TransactAction,
    schema: Option<&KeySchema>,
    rcc: &Option<String>,
) -> Keys {
    let mut b = Builder::default();
    match kind {
        WriteKind::Put => {
            b.leading_from(schema, a.item.as_ref());
            b.names(a.item.iter().flat_map(|it: &Item| it.keys()));
        }
        WriteKind::ConditionCheck | WriteKind::Delete | WriteKind::Update => {
            b.leading_from_map(schema, a.key.as_ref());
            b.names(a.key.iter().flat_map(|k| k.keys()));
        }
    }
    let e = Exprs::new(
        &a.expression_attribute_names,
        &a.expression_attribute_values,
    );
    if kind == WriteKind::Update {
        b.attributes.extend(e.update(&a.update_expression));
    }
    b.attributes
        .extend(e.condition(&a.condition_expression, ConditionKind::Condition));
    b.return_values = Some(return_values(
        &None,
        &a.return_values_on_condition_check_failure,
    ));
    b.consumed_capacity = rcc.clone();
    b.enclosing = Some(Enclosing::TransactWriteItems);
    b.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{KeyAttr, KeyType};
    use serde_json::json;

    fn schema(hash: &str, range: Option<&str>) -> KeySchema {
        KeySchema {
            hash: KeyAttr {
                name: hash.into(),
                ty: KeyType::S,
            },
            range: range.map(|r| KeyAttr {
                name: r.into(),
                ty: KeyType::S,
            }),
        }
    }

    fn game_scores() -> KeySchema {
        schema("UserId", Some("GameTitle"))
    }

    fn input<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    fn get<'k>(keys: &'k Keys, name: &str) -> Option<&'k KeyValue> {
        keys.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    fn multi(v: &[&str]) -> KeyValue {
        KeyValue::Multi(v.iter().map(|s| (*s).to_owned()).collect())
    }

    fn single(v: &str) -> KeyValue {
        KeyValue::Single(v.into())
    }

    #[test]
    fn get_item_without_projection_names_the_key_and_selects_all_attributes() {
        let i: GetItemInput = input(json!({
            "TableName": "GameScores",
            "Key": {"UserId": {"S": "u1"}, "GameTitle": {"S": "Meteor"}}
        }));
        let keys = get_item(&i, Some(&game_scores()));
        assert_eq!(get(&keys, LEADING_KEYS), Some(&multi(&["u1"])));
        assert_eq!(
            get(&keys, ATTRIBUTES),
            Some(&multi(&["GameTitle", "UserId"]))
        );
        assert_eq!(get(&keys, SELECT), Some(&single("ALL_ATTRIBUTES")));
        assert_eq!(get(&keys, RETURN_VALUES), None);
        assert_eq!(get(&keys, RETURN_CONSUMED_CAPACITY), None);
        assert_eq!(get(&keys, ENCLOSING_OPERATION), None);
    }

    #[test]
    fn get_item_projection_resolves_names_and_selects_specific_attributes() {
        let i: GetItemInput = input(json!({
            "TableName": "GameScores",
            "Key": {"UserId": {"S": "u1"}, "GameTitle": {"S": "Meteor"}},
            "ProjectionExpression": "#t, Wins.daily[0]",
            "ExpressionAttributeNames": {"#t": "TopScore"},
            "ReturnConsumedCapacity": "TOTAL"
        }));
        let keys = get_item(&i, Some(&game_scores()));
        assert_eq!(
            get(&keys, ATTRIBUTES),
            Some(&multi(&["GameTitle", "TopScore", "UserId", "Wins"]))
        );
        assert_eq!(get(&keys, SELECT), Some(&single("SPECIFIC_ATTRIBUTES")));
        assert_eq!(get(&keys, RETURN_CONSUMED_CAPACITY), Some(&single("TOTAL")));
    }

    #[test]
    fn get_item_attributes_to_get_selects_specific_attributes() {
        let i: GetItemInput = input(json!({
            "TableName": "T", "Key": {"pk": {"S": "a"}}, "AttributesToGet": ["x"]
        }));
        let keys = get_item(&i, Some(&schema("pk", None)));
        assert_eq!(get(&keys, ATTRIBUTES), Some(&multi(&["pk", "x"])));
        assert_eq!(get(&keys, SELECT), Some(&single("SPECIFIC_ATTRIBUTES")));
    }

    #[test]
    fn put_item_leading_key_is_the_items_partition_value_and_return_values_defaults_to_none() {
        let i: PutItemInput = input(json!({
            "TableName": "GameScores",
            "Item": {"UserId": {"S": "u1"}, "GameTitle": {"S": "g"}, "Wins": {"N": "3"}},
            "ConditionExpression": "attribute_not_exists(#l)",
            "ExpressionAttributeNames": {"#l": "Losses"}
        }));
        let keys = put_item(&i, Some(&game_scores()));
        assert_eq!(get(&keys, LEADING_KEYS), Some(&multi(&["u1"])));
        assert_eq!(
            get(&keys, ATTRIBUTES),
            Some(&multi(&["GameTitle", "Losses", "UserId", "Wins"]))
        );
        assert_eq!(get(&keys, RETURN_VALUES), Some(&single("NONE")));
        assert_eq!(get(&keys, SELECT), None);
    }

    #[test]
    fn put_item_legacy_expected_names_its_attributes() {
        let i: PutItemInput = input(json!({
            "TableName": "T", "Item": {"pk": {"S": "a"}},
            "Expected": {"Secret": {"Exists": false}}, "ReturnValues": "ALL_OLD"
        }));
        let keys = put_item(&i, Some(&schema("pk", None)));
        assert_eq!(get(&keys, ATTRIBUTES), Some(&multi(&["Secret", "pk"])));
        assert_eq!(get(&keys, RETURN_VALUES), Some(&single("ALL_OLD")));
    }

    #[test]
    fn update_item_names_update_and_condition_attributes_with_placeholders_resolved() {
        let i: UpdateItemInput = input(json!({
            "TableName": "GameScores",
            "Key": {"UserId": {"S": "u1"}, "GameTitle": {"S": "g"}},
            "UpdateExpression": "SET #s = :v, Tally.best = :v REMOVE Stale",
            "ConditionExpression": "#s < :v",
            "ExpressionAttributeNames": {"#s": "TopScore"},
            "ExpressionAttributeValues": {":v": {"N": "10"}},
            "ReturnValues": "UPDATED_NEW"
        }));
        let keys = update_item(&i, Some(&game_scores()));
        assert_eq!(get(&keys, LEADING_KEYS), Some(&multi(&["u1"])));
        assert_eq!(
            get(&keys, ATTRIBUTES),
            Some(&multi(&[
                "GameTitle",
                "Stale",
                "Tally",
                "TopScore",
                "UserId"
            ]))
        );
        assert_eq!(get(&keys, RETURN_VALUES), Some(&single("UPDATED_NEW")));
    }

    #[test]
    fn update_item_legacy_attribute_updates_are_named() {
        let i: UpdateItemInput = input(json!({
            "TableName": "T", "Key": {"pk": {"S": "a"}},
            "AttributeUpdates": {"Count": {"Action": "ADD", "Value": {"N": "1"}}}
        }));
        let keys = update_item(&i, Some(&schema("pk", None)));
        assert_eq!(get(&keys, ATTRIBUTES), Some(&multi(&["Count", "pk"])));
        assert_eq!(get(&keys, RETURN_VALUES), Some(&single("NONE")));
    }

    #[test]
    fn old_item_on_condition_failure_counts_as_all_old() {
        let i: UpdateItemInput = input(json!({
            "TableName": "T", "Key": {"pk": {"S": "a"}}, "UpdateExpression": "SET x = :v",
            "ExpressionAttributeValues": {":v": {"N": "1"}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"
        }));
        let keys = update_item(&i, Some(&schema("pk", None)));
        assert_eq!(get(&keys, RETURN_VALUES), Some(&single("ALL_OLD")));
    }

    #[test]
    fn delete_item_names_key_and_condition() {
        let i: DeleteItemInput = input(json!({
            "TableName": "T", "Key": {"pk": {"N": "42"}},
            "ConditionExpression": "Holder = :me",
            "ExpressionAttributeValues": {":me": {"S": "bob"}}
        }));
        let keys = delete_item(&i, Some(&schema("pk", None)));
        assert_eq!(get(&keys, LEADING_KEYS), Some(&multi(&["42"])));
        assert_eq!(get(&keys, ATTRIBUTES), Some(&multi(&["Holder", "pk"])));
        assert_eq!(get(&keys, RETURN_VALUES), Some(&single("NONE")));
    }

    #[test]
    fn unknown_table_leaves_leading_keys_out() {
        let i: DeleteItemInput = input(json!({"TableName": "T", "Key": {"pk": {"S": "a"}}}));
        let keys = delete_item(&i, None);
        assert_eq!(get(&keys, LEADING_KEYS), None);
        assert_eq!(get(&keys, ATTRIBUTES), Some(&multi(&["pk"])));
    }

    #[test]
    fn query_leading_key_is_the_key_condition_partition_value() {
        let i: QueryInput = input(json!({
            "TableName": "GameScores",
            "KeyConditionExpression": "#u = :u AND begins_with(GameTitle, :g)",
            "FilterExpression": "Wins > :w",
            "ProjectionExpression": "TopScore",
            "ExpressionAttributeNames": {"#u": "UserId"},
            "ExpressionAttributeValues": {":u": {"S": "u1"}, ":g": {"S": "M"}, ":w": {"N": "1"}}
        }));
        let keys = query(&i, Some(&game_scores()));
        assert_eq!(get(&keys, LEADING_KEYS), Some(&multi(&["u1"])));
        assert_eq!(
            get(&keys, ATTRIBUTES),
            Some(&multi(&["GameTitle", "TopScore", "UserId", "Wins"]))
        );
        assert_eq!(get(&keys, SELECT), Some(&single("SPECIFIC_ATTRIBUTES")));
        assert_eq!(get(&keys, RETURN_VALUES), None);
    }

    #[test]
    fn query_on_an_index_defaults_to_all_projected_attributes() {
        let i: QueryInput = input(json!({
            "TableName": "GameScores", "IndexName": "TopScoreDateTimeIndex",
            "KeyConditionExpression": "GameTitle = :g",
            "ExpressionAttributeValues": {":g": {"S": "Meteor"}}
        }));
        let keys = query(&i, Some(&schema("GameTitle", Some("TopScoreDateTime"))));
        assert_eq!(get(&keys, LEADING_KEYS), Some(&multi(&["Meteor"])));
        assert_eq!(get(&keys, ATTRIBUTES), Some(&multi(&["GameTitle"])));
        assert_eq!(
            get(&keys, SELECT),
            Some(&single("ALL_PROJECTED_ATTRIBUTES"))
        );
    }

    #[test]
    fn query_on_a_table_defaults_to_all_attributes_and_keeps_an_explicit_select() {
        let base = json!({
            "TableName": "T", "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "a"}}
        });
        let keys = query(&input(base.clone()), Some(&schema("pk", None)));
        assert_eq!(get(&keys, SELECT), Some(&single("ALL_ATTRIBUTES")));
        let mut counted = base;
        counted["Select"] = json!("COUNT");
        let keys = query(&input(counted), Some(&schema("pk", None)));
        assert_eq!(get(&keys, SELECT), Some(&single("COUNT")));
    }

    #[test]
    fn query_legacy_key_conditions_give_the_partition_value() {
        let i: QueryInput = input(json!({
            "TableName": "T",
            "KeyConditions": {"pk": {"ComparisonOperator": "EQ", "AttributeValueList": [{"S": "a"}]}},
            "QueryFilter": {"x": {"ComparisonOperator": "NOT_NULL"}}
        }));
        let keys = query(&i, Some(&schema("pk", None)));
        assert_eq!(get(&keys, LEADING_KEYS), Some(&multi(&["a"])));
        assert_eq!(get(&keys, ATTRIBUTES), Some(&multi(&["pk", "x"])));
    }

    #[test]
    fn scan_has_no_leading_keys_and_names_its_filter() {
        let i: ScanInput = input(json!({
            "TableName": "T", "FilterExpression": "#a = :v",
            "ExpressionAttributeNames": {"#a": "Wins"},
            "ExpressionAttributeValues": {":v": {"N": "1"}}, "ReturnConsumedCapacity": "INDEXES"
        }));
        let keys = scan(&i);
        assert_eq!(get(&keys, LEADING_KEYS), None);
        assert_eq!(get(&keys, ATTRIBUTES), Some(&multi(&["Wins"])));
        assert_eq!(get(&keys, SELECT), Some(&single("ALL_ATTRIBUTES")));
        assert_eq!(
            get(&keys, RETURN_CONSUMED_CAPACITY),
            Some(&single("INDEXES"))
        );
    }

    #[test]
    fn scan_without_attributes_leaves_attributes_out() {
        let keys = scan(&input(json!({"TableName": "T", "IndexName": "i"})));
        assert_eq!(get(&keys, ATTRIBUTES), None);
        assert_eq!(
            get(&keys, SELECT),
            Some(&single("ALL_PROJECTED_ATTRIBUTES"))
        );
    }

    #[test]
    fn batch_get_lists_every_partition_value_of_the_table_once() {
        let ka: KeysAndAttributes = input(json!({
            "Keys": [{"pk": {"S": "b"}}, {"pk": {"S": "a"}}, {"pk": {"S": "b"}}],
            "ProjectionExpression": "x"
        }));
        let keys = batch_get_table(&ka, Some(&schema("pk", None)), &Some("TOTAL".into()));
        assert_eq!(get(&keys, LEADING_KEYS), Some(&multi(&["a", "b"])));
        assert_eq!(get(&keys, ATTRIBUTES), Some(&multi(&["pk", "x"])));
        assert_eq!(get(&keys, SELECT), Some(&single("SPECIFIC_ATTRIBUTES")));
        assert_eq!(get(&keys, RETURN_CONSUMED_CAPACITY), Some(&single("TOTAL")));
        assert_eq!(get(&keys, ENCLOSING_OPERATION), None);
    }

    #[test]
    fn batch_write_lists_puts_and_deletes() {
        let writes: Vec<WriteRequest> = input(json!([
            {"PutRequest": {"Item": {"pk": {"S": "a"}, "v": {"N": "1"}}}},
            {"DeleteRequest": {"Key": {"pk": {"S": "z"}}}}
        ]));
        let keys = batch_write_table(&writes, Some(&schema("pk", None)), &None);
        assert_eq!(get(&keys, LEADING_KEYS), Some(&multi(&["a", "z"])));
        assert_eq!(get(&keys, ATTRIBUTES), Some(&multi(&["pk", "v"])));
        assert_eq!(get(&keys, RETURN_VALUES), None);
        assert_eq!(get(&keys, SELECT), None);
    }

    #[test]
    fn transaction_members_carry_their_enclosing_operation() {
        let g: TransactGet = input(json!({"TableName": "T", "Key": {"pk": {"S": "a"}}}));
        let keys = transact_get(&g, Some(&schema("pk", None)), &None);
        assert_eq!(
            get(&keys, ENCLOSING_OPERATION),
            Some(&single("TransactGetItems"))
        );
        assert_eq!(get(&keys, SELECT), Some(&single("ALL_ATTRIBUTES")));
        let a: TransactAction = input(json!({
            "TableName": "T", "Key": {"pk": {"S": "a"}},
            "ConditionExpression": "attribute_exists(Flag)"
        }));
        let keys = transact_write(
            WriteKind::ConditionCheck,
            &a,
            Some(&schema("pk", None)),
            &None,
        );
        assert_eq!(
            get(&keys, ENCLOSING_OPERATION),
            Some(&single("TransactWriteItems"))
        );
        assert_eq!(get(&keys, LEADING_KEYS), Some(&multi(&["a"])));
        assert_eq!(get(&keys, ATTRIBUTES), Some(&multi(&["Flag", "pk"])));
        assert_eq!(get(&keys, RETURN_VALUES), Some(&single("NONE")));
        assert_eq!(
            WriteKind::ConditionCheck.action(),
            "dynamodb:ConditionCheckItem"
        );
    }

    #[test]
    fn transact_put_takes_its_partition_value_from_the_item() {
        let a: TransactAction = input(json!({
            "TableName": "T", "Item": {"pk": {"S": "p"}, "v": {"S": "x"}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD"
        }));
        let keys = transact_write(WriteKind::Put, &a, Some(&schema("pk", None)), &None);
        assert_eq!(get(&keys, LEADING_KEYS), Some(&multi(&["p"])));
        assert_eq!(get(&keys, ATTRIBUTES), Some(&multi(&["pk", "v"])));
        assert_eq!(get(&keys, RETURN_VALUES), Some(&single("ALL_OLD")));
    }

    #[test]
    fn an_unparseable_expression_adds_no_names() {
        let i: GetItemInput = input(json!({
            "TableName": "T", "Key": {"pk": {"S": "a"}}, "ProjectionExpression": "a,,"
        }));
        let keys = get_item(&i, Some(&schema("pk", None)));
        assert_eq!(get(&keys, ATTRIBUTES), Some(&multi(&["pk"])));
    }
}
