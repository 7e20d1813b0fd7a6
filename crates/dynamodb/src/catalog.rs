//! The table catalog: what a table is (key schema, indexes, billing, streams,
//! encryption, TTL, tags), how CreateTable input is validated into it, and
//! how it is described back to clients.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{DynamoError, Result};
use crate::model::{
    AttributeDefinition, CreateTableInput, KeySchemaElement, Projection, ProvisionedThroughput,
    SecondaryIndexInput, SseSpecification, StreamSpecification, Tag,
};
use crate::validate::Validator;
use crate::value::AttributeValue;

/// The type of a key attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyType {
    /// String.
    S,
    /// Number.
    N,
    /// Binary.
    B,
}

impl KeyType {
    /// Parses `S`, `N` or `B`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "S" => Some(Self::S),
            "N" => Some(Self::N),
            "B" => Some(Self::B),
            _ => None,
        }
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::S => "S",
            Self::N => "N",
            Self::B => "B",
        }
    }

    /// The same type as the key encoding names it.
    pub fn key_type(self) -> crate::keys::KeyType {
        match self {
            Self::S => crate::keys::KeyType::S,
            Self::N => crate::keys::KeyType::N,
            Self::B => crate::keys::KeyType::B,
        }
    }

    /// Whether `v` is of this type.
    pub fn matches(self, v: &AttributeValue) -> bool {
        matches!(
            (self, v),
            (Self::S, AttributeValue::S(_))
                | (Self::N, AttributeValue::N(_))
                | (Self::B, AttributeValue::B(_))
        )
    }
}

/// One key attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyAttr {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: KeyType,
}

/// A primary or index key schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySchema {
    /// The partition (HASH) key.
    pub hash: KeyAttr,
    /// The sort (RANGE) key.
    pub range: Option<KeyAttr>,
}

impl KeySchema {
    /// The key attribute names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.hash.name.as_str()).chain(self.range.as_ref().map(|r| r.name.as_str()))
    }

    fn describe(&self) -> Value {
        let mut v = vec![json!({"AttributeName": self.hash.name, "KeyType": "HASH"})];
        if let Some(r) = &self.range {
            v.push(json!({"AttributeName": r.name, "KeyType": "RANGE"}));
        }
        Value::Array(v)
    }
}

/// Which attributes an index holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProjectionKind {
    /// Every attribute.
    All,
    /// Table and index keys only.
    KeysOnly,
    /// Keys plus these attributes.
    Include(Vec<String>),
}

/// Provisioned throughput settings and their history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Throughput {
    /// RCUs.
    pub read: i64,
    /// WCUs.
    pub write: i64,
    /// When it was last raised (epoch seconds).
    pub last_increase: Option<f64>,
    /// When it was last lowered.
    pub last_decrease: Option<f64>,
    /// Decreases in the current UTC day.
    pub decreases_today: i64,
}

impl Throughput {
    fn describe(&self) -> Value {
        let mut m = Map::new();
        if let Some(t) = self.last_increase {
            m.insert("LastIncreaseDateTime".into(), json!(t));
        }
        if let Some(t) = self.last_decrease {
            m.insert("LastDecreaseDateTime".into(), json!(t));
        }
        m.insert("NumberOfDecreasesToday".into(), json!(self.decreases_today));
        m.insert("ReadCapacityUnits".into(), json!(self.read));
        m.insert("WriteCapacityUnits".into(), json!(self.write));
        Value::Object(m)
    }
}

/// A secondary index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexMeta {
    /// Its name.
    pub name: String,
    /// Global (true) or local.
    pub global: bool,
    /// Its key schema.
    pub key: KeySchema,
    /// What it projects.
    pub projection: ProjectionKind,
    /// GSI throughput (provisioned tables).
    pub throughput: Option<Throughput>,
    /// `CREATING`, `ACTIVE`, `DELETING`, `UPDATING`.
    pub status: String,
    /// Whether a backfill is running (index not yet queryable).
    pub backfilling: bool,
}

impl IndexMeta {
    /// Whether the index holds attribute `name` of an item (keys always).
    pub fn projects(&self, table_key: &KeySchema, name: &str) -> bool {
        if self.key.names().any(|n| n == name) || table_key.names().any(|n| n == name) {
            return true;
        }
        match &self.projection {
            ProjectionKind::All => true,
            ProjectionKind::KeysOnly => false,
            ProjectionKind::Include(list) => list.iter().any(|n| n == name),
        }
    }

    /// Whether the index is ready for reads.
    pub fn is_queryable(&self) -> bool {
        self.status == "ACTIVE" && !self.backfilling
    }
}

/// Stream settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamMeta {
    /// Whether the stream is on.
    pub enabled: bool,
    /// The view type.
    pub view_type: String,
    /// The label (a timestamp) of the latest stream.
    pub label: String,
    /// The stream's own resource-based policy, exactly as put. It belongs to
    /// this stream (this label): a stream enabled later is a new stream with
    /// a new ARN and starts without one.
    #[serde(default)]
    pub resource_policy: Option<String>,
    /// The revision id of `resource_policy`.
    #[serde(default)]
    pub resource_policy_revision: Option<String>,
}

/// Encryption settings as requested (the KMS capability enforces them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SseMeta {
    /// `KMS` when a KMS key protects the table; absent = AWS owned key.
    pub sse_type: String,
    /// The key ARN or id.
    pub kms_key: Option<String>,
}

/// TTL settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TtlMeta {
    /// The attribute holding the expiry time in epoch seconds.
    pub attribute: String,
    /// Whether expiry is on.
    pub enabled: bool,
}

/// Everything the catalog knows about a table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    /// The name.
    pub name: String,
    /// A UUID, fresh for every incarnation of the name; names the storage trees.
    pub id: String,
    /// The owning account.
    pub account: String,
    /// The region.
    pub region: String,
    /// `CREATING`, `ACTIVE`, `UPDATING`, `DELETING`.
    pub status: String,
    /// Epoch seconds.
    pub created: f64,
    /// The attribute definitions (key attributes of the table and its indexes).
    pub attributes: Vec<KeyAttr>,
    /// The primary key.
    pub key: KeySchema,
    /// `PROVISIONED` or `PAY_PER_REQUEST`.
    pub billing_mode: String,
    /// Whether BillingMode was ever given. Kept in stored tables; DescribeTable no longer uses
    /// it (the summaries follow the mode, see `describe`).
    pub billing_mode_explicit: bool,
    /// When the table last switched to on-demand.
    pub last_pay_per_request: Option<f64>,
    /// Table throughput (zeros for on-demand).
    pub throughput: Throughput,
    /// Secondary indexes.
    pub indexes: Vec<IndexMeta>,
    /// Stream settings.
    pub stream: Option<StreamMeta>,
    /// Encryption settings.
    pub sse: Option<SseMeta>,
    /// `STANDARD` or `STANDARD_INFREQUENT_ACCESS`.
    pub table_class: String,
    /// Whether the table class was given explicitly.
    pub table_class_explicit: bool,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// TTL.
    pub ttl: Option<TtlMeta>,
    /// Tags, in insertion order.
    pub tags: Vec<(String, String)>,
    /// The table's resource-based policy document, exactly as put.
    pub resource_policy: Option<String>,
    /// The revision id of `resource_policy` (PutResourcePolicy answers it
    /// and ExpectedRevisionId is compared with it); absent in records
    /// written before resource policies had revisions.
    #[serde(default)]
    pub resource_policy_revision: Option<String>,
}

/// Maximum throughput value DynamoDB accepts.
const MAX_THROUGHPUT: i64 = 1_000_000_000_000;

impl TableMeta {
    /// The table's ARN.
    pub fn arn(&self) -> String {
        table_arn(&self.region, &self.account, &self.name)
    }

    /// The ARN of the table's latest stream, if it ever had one.
    pub fn stream_arn(&self) -> Option<String> {
        self.stream
            .as_ref()
            .map(|s| format!("{}/stream/{}", self.arn(), s.label))
    }

    /// An index by name.
    pub fn index(&self, name: &str) -> Option<&IndexMeta> {
        self.indexes.iter().find(|i| i.name == name)
    }

    /// Whether the table has local secondary indexes.
    pub fn has_lsi(&self) -> bool {
        self.indexes.iter().any(|i| !i.global)
    }

    /// The type of a defined attribute.
    pub fn attribute_type(&self, name: &str) -> Option<KeyType> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.ty)
    }

    /// The TableDescription DynamoDB returns. `item_count`/`size` are the
    /// latest computed statistics (DynamoDB refreshes them about every six hours).
    pub fn describe(&self, stats: &TableStats) -> Value {
        let mut m = Map::new();
        m.insert(
            "AttributeDefinitions".into(),
            Value::Array(
                self.attributes
                    .iter()
                    .map(|a| json!({"AttributeName": a.name, "AttributeType": a.ty.name()}))
                    .collect(),
            ),
        );
        m.insert("TableName".into(), json!(self.name));
        m.insert("KeySchema".into(), self.key.describe());
        m.insert("TableStatus".into(), json!(self.status));
        m.insert("CreationDateTime".into(), json!(self.created));
        m.insert("ProvisionedThroughput".into(), self.throughput.describe());
        m.insert("TableSizeBytes".into(), json!(stats.table_bytes));
        m.insert("ItemCount".into(), json!(stats.table_items));
        m.insert("TableArn".into(), json!(self.arn()));
        m.insert("TableId".into(), json!(self.id));
        // DynamoDB shows the summaries for a table that is or was on demand, not for one that
        // was always provisioned, even when BillingMode PROVISIONED was given (measured on
        // DynamoDB in 2026 by a test suite); TableThroughputModeSummary is BillingModeSummary's
        // newer twin, always identical.
        if self.billing_mode == "PAY_PER_REQUEST" || self.last_pay_per_request.is_some() {
            let summary = |mode_key: &str| {
                let mut b = Map::new();
                b.insert(mode_key.into(), json!(self.billing_mode));
                if let Some(t) = self.last_pay_per_request {
                    b.insert("LastUpdateToPayPerRequestDateTime".into(), json!(t));
                }
                Value::Object(b)
            };
            m.insert("BillingModeSummary".into(), summary("BillingMode"));
            m.insert(
                "TableThroughputModeSummary".into(),
                summary("TableThroughputMode"),
            );
        }
        let describe_index = |i: &IndexMeta| {
            let mut x = Map::new();
            x.insert("IndexName".into(), json!(i.name));
            x.insert("KeySchema".into(), i.key.describe());
            x.insert("Projection".into(), describe_projection(&i.projection));
            if i.global {
                x.insert("IndexStatus".into(), json!(i.status));
                if i.status == "CREATING" {
                    x.insert("Backfilling".into(), json!(i.backfilling));
                }
                x.insert(
                    "ProvisionedThroughput".into(),
                    i.throughput.clone().unwrap_or_default().describe(),
                );
            }
            let (bytes, items) = stats.index.get(&i.name).copied().unwrap_or((0, 0));
            x.insert("IndexSizeBytes".into(), json!(bytes));
            x.insert("ItemCount".into(), json!(items));
            x.insert(
                "IndexArn".into(),
                json!(format!("{}/index/{}", self.arn(), i.name)),
            );
            Value::Object(x)
        };
        let lsis: Vec<Value> = self
            .indexes
            .iter()
            .filter(|i| !i.global)
            .map(describe_index)
            .collect();
        let gsis: Vec<Value> = self
            .indexes
            .iter()
            .filter(|i| i.global)
            .map(describe_index)
            .collect();
        if !lsis.is_empty() {
            m.insert("LocalSecondaryIndexes".into(), Value::Array(lsis));
        }
        if !gsis.is_empty() {
            m.insert("GlobalSecondaryIndexes".into(), Value::Array(gsis));
        }
        if let Some(s) = &self.stream {
            if s.enabled {
                m.insert(
                    "StreamSpecification".into(),
                    json!({"StreamEnabled": true, "StreamViewType": s.view_type}),
                );
            }
            m.insert("LatestStreamLabel".into(), json!(s.label));
            m.insert("LatestStreamArn".into(), json!(self.stream_arn()));
        }
        if let Some(sse) = &self.sse {
            let mut x = Map::new();
            x.insert("Status".into(), json!("ENABLED"));
            x.insert("SSEType".into(), json!(sse.sse_type));
            if let Some(k) = &sse.kms_key {
                x.insert("KMSMasterKeyArn".into(), json!(k));
            }
            m.insert("SSEDescription".into(), Value::Object(x));
        }
        if self.table_class_explicit {
            m.insert(
                "TableClassSummary".into(),
                json!({"TableClass": self.table_class}),
            );
        }
        m.insert(
            "DeletionProtectionEnabled".into(),
            json!(self.deletion_protection),
        );
        Value::Object(m)
    }
}

/// Item counts and sizes of a table and its indexes.
#[derive(Debug, Clone, Default)]
pub struct TableStats {
    /// Items in the table.
    pub table_items: u64,
    /// Bytes in the table.
    pub table_bytes: u64,
    /// Index name → (bytes, items).
    pub index: std::collections::HashMap<String, (u64, u64)>,
}

fn describe_projection(p: &ProjectionKind) -> Value {
    match p {
        ProjectionKind::All => json!({"ProjectionType": "ALL"}),
        ProjectionKind::KeysOnly => json!({"ProjectionType": "KEYS_ONLY"}),
        ProjectionKind::Include(a) => json!({"ProjectionType": "INCLUDE", "NonKeyAttributes": a}),
    }
}

/// The ARN of a table.
pub fn table_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:dynamodb:{region}:{account}:table/{name}")
}

/// The parts of a table ARN, `arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME`:
/// (region, account, name). `None` for anything else (an index or stream
/// ARN, another service, a malformed string).
pub fn parse_table_arn(s: &str) -> Option<(&str, &str, &str)> {
    let (region, account, res) = split_dynamodb_arn(s)?;
    let name = res.strip_prefix("table/")?;
    (!name.is_empty() && !name.contains('/')).then_some((region, account, name))
}

/// The parts of a stream ARN,
/// `arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL`:
/// (region, account, table name, label). `None` for anything else.
pub fn parse_stream_arn(s: &str) -> Option<(&str, &str, &str, &str)> {
    let (region, account, res) = split_dynamodb_arn(s)?;
    let (name, label) = res.strip_prefix("table/")?.split_once("/stream/")?;
    let well_formed =
        !name.is_empty() && !name.contains('/') && !label.is_empty() && !label.contains('/');
    well_formed.then_some((region, account, name, label))
}

/// `arn:PARTITION:dynamodb:REGION:ACCOUNT:RESOURCE` → (region, account,
/// resource), with a non-empty region and a 12-digit account.
fn split_dynamodb_arn(s: &str) -> Option<(&str, &str, &str)> {
    let mut parts = s.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some("dynamodb"), Some(region), Some(account), Some(res)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let well_formed =
        !region.is_empty() && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
    well_formed.then_some((region, account, res))
}

/// Validates a table name the way every operation does. DynamoDB also takes
/// a table ARN in `TableName` ("You can also provide the Amazon Resource
/// Name (ARN) of the table in this parameter", API Reference): up to 1024
/// characters, whose table name part follows the name rules.
pub fn check_table_name(v: &mut Validator, name: &Option<String>) {
    check_table_name_at(v, name.as_deref(), "tableName");
}

/// [`check_table_name`] for a member at `at` (e.g. `transactItems.1.member.put.tableName`):
/// a table name, or a table ARN whose name part is one.
pub fn check_table_name_at(v: &mut Validator, name: Option<&str>, at: &str) {
    if let Some(s) = name
        && let Some((_, _, table)) = parse_table_arn(s)
    {
        v.length(s, at, 1, 1024);
        v.name(Some(table), at, 3);
        return;
    }
    v.name(name, at, 3);
}

/// Whether `name` is a valid table name, or a table ARN whose name part is one (what
/// [`check_table_name`] accepts), for the keys of BatchGetItem/BatchWriteItem's maps.
pub fn table_name_ok(name: &str) -> bool {
    let mut v = Validator::new();
    check_table_name_at(&mut v, Some(name), "tableName");
    v.ok()
}

/// A resource policy's revision id: DynamoDB's are decimal strings (epoch
/// milliseconds); a new one is always different from `previous`.
pub fn policy_revision(now: f64, previous: Option<&str>) -> String {
    let mut ms = (now * 1000.0) as u64;
    if let Some(p) = previous.and_then(|p| p.parse::<u64>().ok())
        && ms <= p
    {
        ms = p.saturating_add(1);
    }
    ms.to_string()
}

fn invalid(msg: impl Into<String>) -> DynamoError {
    DynamoError::Validation(msg.into())
}

pub(crate) fn throughput_constraints(v: &mut Validator, pt: &ProvisionedThroughput, at: &str) {
    if v.not_null(&pt.read_capacity_units, &format!("{at}.readCapacityUnits")) {
        v.range(
            pt.read_capacity_units.unwrap_or(1),
            &format!("{at}.readCapacityUnits"),
            Some(1),
            None,
        );
    }
    if v.not_null(
        &pt.write_capacity_units,
        &format!("{at}.writeCapacityUnits"),
    ) {
        v.range(
            pt.write_capacity_units.unwrap_or(1),
            &format!("{at}.writeCapacityUnits"),
            Some(1),
            None,
        );
    }
}

/// Checks DynamoDB's upper bound on throughput values.
pub fn check_throughput_bounds(pt: &ProvisionedThroughput) -> Result<Throughput> {
    let read = pt.read_capacity_units.unwrap_or(0);
    let write = pt.write_capacity_units.unwrap_or(0);
    if read > MAX_THROUGHPUT {
        return Err(invalid(format!(
            "Given value {read} for ReadCapacityUnits is out of bounds"
        )));
    }
    if write > MAX_THROUGHPUT {
        return Err(invalid(format!(
            "Given value {write} for WriteCapacityUnits is out of bounds"
        )));
    }
    Ok(Throughput {
        read,
        write,
        ..Throughput::default()
    })
}

fn key_schema_constraints(v: &mut Validator, ks: &Option<Vec<KeySchemaElement>>, at: &str) {
    let Some(ks) = ks else {
        v.fail(None, at, "Member must not be null");
        return;
    };
    v.count(ks.len(), &format!("{ks:?}"), at, 1, 2);
    for (i, k) in ks.iter().enumerate() {
        let at_i = format!("{at}.{}.member", i + 1);
        v.not_null(&k.attribute_name, &format!("{at_i}.attributeName"));
        if v.not_null(&k.key_type, &format!("{at_i}.keyType")) {
            v.one_of(
                k.key_type.as_deref(),
                &format!("{at_i}.keyType"),
                &["HASH", "RANGE"],
            );
        }
        if let Some(n) = &k.attribute_name {
            v.length(n, &format!("{at_i}.attributeName"), 1, 255);
        }
    }
}

/// Resolves a key schema against the attribute definitions, with DynamoDB's texts.
fn resolve_key_schema(
    ks: &[KeySchemaElement],
    defs: &[KeyAttr],
    index: Option<&str>,
) -> Result<KeySchema> {
    let names: Vec<&str> = ks
        .iter()
        .filter_map(|k| k.attribute_name.as_deref())
        .collect();
    let def_names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
    let missing = names.iter().any(|n| !def_names.contains(n));
    if missing {
        if ks.len() == 2 && index.is_none() {
            return Err(invalid(
                "Invalid KeySchema: Some index key attribute have no definition",
            ));
        }
        return Err(invalid(format!(
            "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{}], AttributeDefinitions: [{}]",
            names.join(", "),
            def_names.join(", ")
        )));
    }
    if let [a, b] = names.as_slice()
        && a == b
    {
        return Err(invalid(
            "Both the Hash Key and the Range Key element in the KeySchema have the same name",
        ));
    }
    let first = ks.first().ok_or_else(|| {
        invalid("Invalid KeySchema: The first KeySchemaElement is not a HASH key type")
    })?;
    if first.key_type.as_deref() != Some("HASH") {
        return Err(invalid(
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type",
        ));
    }
    if let Some(second) = ks.get(1)
        && second.key_type.as_deref() != Some("RANGE")
    {
        return Err(invalid(
            "Invalid KeySchema: The second KeySchemaElement is not a RANGE key type",
        ));
    }
    let attr = |name: &str| -> Result<KeyAttr> {
        defs.iter()
            .find(|d| d.name == name)
            .cloned()
            .ok_or_else(|| {
                invalid("Invalid KeySchema: Some index key attribute have no definition")
            })
    };
    Ok(KeySchema {
        hash: attr(names.first().copied().unwrap_or_default())?,
        range: match names.get(1) {
            Some(n) => Some(attr(n)?),
            None => None,
        },
    })
}

/// Validates and resolves attribute definitions.
pub fn resolve_definitions(
    v: &mut Validator,
    defs: &Option<Vec<AttributeDefinition>>,
) -> Vec<KeyAttr> {
    let Some(defs) = defs else {
        v.fail(None, "attributeDefinitions", "Member must not be null");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, d) in defs.iter().enumerate() {
        let at = format!("attributeDefinitions.{}.member", i + 1);
        v.not_null(&d.attribute_name, &format!("{at}.attributeName"));
        if v.not_null(&d.attribute_type, &format!("{at}.attributeType")) {
            v.one_of(
                d.attribute_type.as_deref(),
                &format!("{at}.attributeType"),
                &["B", "N", "S"],
            );
        }
        if let (Some(n), Some(t)) = (
            &d.attribute_name,
            d.attribute_type.as_deref().and_then(KeyType::parse),
        ) {
            out.push(KeyAttr {
                name: n.clone(),
                ty: t,
            });
        }
    }
    out
}

fn resolve_projection(p: &Option<Projection>) -> Result<ProjectionKind> {
    let p = p.clone().unwrap_or_default();
    let ty = p.projection_type.as_deref();
    if p.non_key_attributes.is_some() && ty != Some("INCLUDE") {
        return Err(invalid(format!(
            "One or more parameter values were invalid: ProjectionType is {}, but NonKeyAttributes is specified",
            ty.unwrap_or("null")
        )));
    }
    match ty {
        Some("ALL") => Ok(ProjectionKind::All),
        Some("KEYS_ONLY") => Ok(ProjectionKind::KeysOnly),
        Some("INCLUDE") => Ok(ProjectionKind::Include(
            p.non_key_attributes.unwrap_or_default(),
        )),
        None => Err(invalid(
            "One or more parameter values were invalid: Unknown ProjectionType: null",
        )),
        Some(other) => Err(invalid(format!(
            "One or more parameter values were invalid: Unknown ProjectionType: {other}"
        ))),
    }
}

fn index_constraints(v: &mut Validator, list: &[SecondaryIndexInput], at: &str, global: bool) {
    for (i, idx) in list.iter().enumerate() {
        let at_i = format!("{at}.{}.member", i + 1);
        v.name(idx.index_name.as_deref(), &format!("{at_i}.indexName"), 3);
        key_schema_constraints(v, &idx.key_schema, &format!("{at_i}.keySchema"));
        if idx.projection.is_none() {
            v.fail(
                None,
                &format!("{at_i}.projection"),
                "Member must not be null",
            );
        }
        if let Some(p) = &idx.projection {
            v.one_of(
                p.projection_type.as_deref(),
                &format!("{at_i}.projection.projectionType"),
                &["ALL", "KEYS_ONLY", "INCLUDE"],
            );
        }
        if global && let Some(pt) = &idx.provisioned_throughput {
            throughput_constraints(v, pt, &format!("{at_i}.provisionedThroughput"));
        }
    }
}

/// Builds one secondary index from CreateTable/UpdateTable input.
pub fn resolve_index(
    idx: &SecondaryIndexInput,
    defs: &[KeyAttr],
    table_key: &KeySchema,
    global: bool,
    provisioned: bool,
) -> Result<IndexMeta> {
    let name = idx.index_name.clone().unwrap_or_default();
    let ks = idx.key_schema.clone().unwrap_or_default();
    let key = resolve_key_schema(&ks, defs, Some(&name))?;
    if !global {
        if key.range.is_none() {
            return Err(invalid(format!(
                "One or more parameter values were invalid: Index KeySchema does not have a range key for index: {name}"
            )));
        }
        if key.hash.name != table_key.hash.name {
            return Err(invalid(format!(
                "One or more parameter values were invalid: Index KeySchema does not have the same leading hash key as table KeySchema for index: {name}. index hash key: {}, table hash key: {}",
                key.hash.name, table_key.hash.name
            )));
        }
    }
    let projection = resolve_projection(&idx.projection)?;
    let throughput = if global {
        match (&idx.provisioned_throughput, provisioned) {
            (Some(pt), true) => Some(check_throughput_bounds(pt)?),
            (None, true) => {
                return Err(invalid(format!(
                    "One or more parameter values were invalid: ProvisionedThroughput is not specified for index: {name}"
                )));
            }
            (Some(_), false) => {
                return Err(invalid(
                    "One or more parameter values were invalid: ProvisionedThroughput should not be specified for index: "
                        .to_owned()
                        + &name
                        + " when BillingMode is PAY_PER_REQUEST",
                ));
            }
            (None, false) => Some(Throughput::default()),
        }
    } else {
        None
    };
    Ok(IndexMeta {
        name,
        global,
        key,
        projection,
        throughput,
        status: "ACTIVE".into(),
        backfilling: false,
    })
}

/// Most tags on one table (DynamoDB's tagging restrictions).
pub const MAX_TAGS: usize = 50;

/// Whether a tag key or value keeps to DynamoDB's tagging restrictions: "letters, numbers,
/// and spaces representable in UTF-8, and the following characters: + - = . _ : / @".
fn tag_text_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c == ' ' || "+-=._:/@".contains(c))
}

/// The rules on a table's whole tag set, after the request's constraints passed: the
/// characters of every key and value, and at most [`MAX_TAGS`] tags. Both are
/// ValidationExceptions on DynamoDB (observed, recorded by ScyllaDB's Alternator tests; the
/// texts are Rampart's).
pub fn check_tag_set(tags: &[(String, String)]) -> Result<()> {
    if let Some((k, val)) = tags
        .iter()
        .find(|(k, val)| !tag_text_ok(k) || !tag_text_ok(val))
    {
        let (what, text) = if tag_text_ok(k) {
            ("value", val)
        } else {
            ("key", k)
        };
        return Err(invalid(format!(
            "One or more parameter values were invalid: Invalid tag {what} '{text}': tags may contain letters, numbers, spaces and + - = . _ : / @"
        )));
    }
    if tags.len() > MAX_TAGS {
        return Err(invalid(format!(
            "One or more parameter values were invalid: The number of tags exceeds the limit of {MAX_TAGS}"
        )));
    }
    Ok(())
}

/// Checks tags as TagResource and CreateTable do.
pub fn resolve_tags(v: &mut Validator, tags: &Option<Vec<Tag>>, at: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, t) in tags.iter().flatten().enumerate() {
        let at_i = format!("{at}.{}.member", i + 1);
        let key_ok = v.not_null(&t.key, &format!("{at_i}.key"));
        let val_ok = v.not_null(&t.value, &format!("{at_i}.value"));
        if let Some(k) = &t.key {
            v.length(k, &format!("{at_i}.key"), 1, 128);
        }
        if let Some(val) = &t.value {
            v.length(val, &format!("{at_i}.value"), 0, 256);
        }
        if key_ok && val_ok {
            out.push((
                t.key.clone().unwrap_or_default(),
                t.value.clone().unwrap_or_default(),
            ));
        }
    }
    out
}

/// Turns CreateTable input into a table, with DynamoDB's validation.
pub fn table_from_create(
    input: &CreateTableInput,
    account: &str,
    region: &str,
    id: String,
    now: f64,
) -> Result<TableMeta> {
    let mut v = Validator::new();
    check_table_name(&mut v, &input.table_name);
    let defs = resolve_definitions(&mut v, &input.attribute_definitions);
    key_schema_constraints(&mut v, &input.key_schema, "keySchema");
    if let Some(pt) = &input.provisioned_throughput {
        throughput_constraints(&mut v, pt, "provisionedThroughput");
    }
    v.one_of(
        input.billing_mode.as_deref(),
        "billingMode",
        &["PROVISIONED", "PAY_PER_REQUEST"],
    );
    v.one_of(
        input.table_throughput_mode.as_deref(),
        "tableThroughputMode",
        &["PROVISIONED", "PAY_PER_REQUEST"],
    );
    v.one_of(
        input.table_class.as_deref(),
        "tableClass",
        &["STANDARD", "STANDARD_INFREQUENT_ACCESS"],
    );
    if let Some(l) = &input.local_secondary_indexes {
        index_constraints(&mut v, l, "localSecondaryIndexes", false);
    }
    if let Some(g) = &input.global_secondary_indexes {
        index_constraints(&mut v, g, "globalSecondaryIndexes", true);
    }
    if let Some(s) = &input.stream_specification
        && v.not_null(&s.stream_enabled, "streamSpecification.streamEnabled")
    {
        v.one_of(
            s.stream_view_type.as_deref(),
            "streamSpecification.streamViewType",
            &["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"],
        );
    }
    let tags = resolve_tags(&mut v, &input.tags, "tags");
    v.finish()?;
    check_tag_set(&tags)?;

    let name = input.table_name.clone().unwrap_or_default();
    // `TableThroughputMode` is `BillingMode`'s alias, which wins when both are given (measured
    // on DynamoDB in 2026 by a test suite); the texts below still say BillingMode.
    let requested_mode = input
        .billing_mode
        .clone()
        .or_else(|| input.table_throughput_mode.clone());
    let billing = requested_mode
        .clone()
        .unwrap_or_else(|| "PROVISIONED".into());
    let provisioned = billing == "PROVISIONED";
    let throughput = match (&input.provisioned_throughput, provisioned) {
        (Some(pt), true) => check_throughput_bounds(pt)?,
        (None, true) => {
            return Err(invalid(
                "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
            ));
        }
        (Some(_), false) => {
            return Err(invalid(
                "One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is PAY_PER_REQUEST",
            ));
        }
        (None, false) => Throughput::default(),
    };
    let ks = input.key_schema.clone().unwrap_or_default();
    let key = resolve_key_schema(&ks, &defs, None)?;

    let mut names = BTreeSet::new();
    let mut indexes = Vec::new();
    if let Some(l) = &input.local_secondary_indexes {
        if l.is_empty() {
            return Err(invalid(
                "One or more parameter values were invalid: List of LocalSecondaryIndexes is empty",
            ));
        }
        if key.range.is_none() {
            return Err(invalid(
                "One or more parameter values were invalid: Table KeySchema does not have a range key, which is required when specifying a LocalSecondaryIndex",
            ));
        }
        for idx in l {
            let meta = resolve_index(idx, &defs, &key, false, provisioned)?;
            if !names.insert(meta.name.clone()) {
                return Err(invalid(format!(
                    "One or more parameter values were invalid: Duplicate index name: {}",
                    meta.name
                )));
            }
            indexes.push(meta);
        }
        if l.len() > 5 {
            return Err(invalid(
                "One or more parameter values were invalid: Number of LocalSecondaryIndexes exceeds per-table limit of 5",
            ));
        }
    }
    if let Some(g) = &input.global_secondary_indexes {
        if g.is_empty() {
            return Err(invalid(
                "One or more parameter values were invalid: List of GlobalSecondaryIndexes is empty",
            ));
        }
        for idx in g {
            let meta = resolve_index(idx, &defs, &key, true, provisioned)?;
            if !names.insert(meta.name.clone()) {
                return Err(invalid(format!(
                    "One or more parameter values were invalid: Duplicate index name: {}",
                    meta.name
                )));
            }
            indexes.push(meta);
        }
        if g.len() > 20 {
            return Err(invalid(
                "One or more parameter values were invalid: GlobalSecondaryIndex count exceeds the per-table limit of 20",
            ));
        }
    }
    // Every definition must be used by a key schema.
    let used: BTreeSet<&str> = key
        .names()
        .chain(indexes.iter().flat_map(|i| i.key.names()))
        .collect();
    if defs.iter().any(|d| !used.contains(d.name.as_str())) || defs.len() != used.len() {
        if input.local_secondary_indexes.is_none() && input.global_secondary_indexes.is_none() {
            return Err(invalid(
                "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
            ));
        }
        return Err(invalid(
            "One or more parameter values were invalid: Some AttributeDefinitions are not used. AttributeDefinitions: [".to_owned()
                + &defs.iter().map(|d| d.name.as_str()).collect::<Vec<_>>().join(", ")
                + "], keys used: ["
                + &used.iter().copied().collect::<Vec<_>>().join(", ")
                + "]",
        ));
    }
    let mut seen = BTreeSet::new();
    for d in &defs {
        if !seen.insert(d.name.as_str()) {
            return Err(invalid(format!(
                "Cannot have two attributes with the same name. Duplicate attribute: {}",
                d.name
            )));
        }
    }
    let stream = stream_from_spec(input.stream_specification.as_ref(), now)?;
    let sse = sse_from_spec(input.sse_specification.as_ref())?;
    Ok(TableMeta {
        name,
        id,
        account: account.to_owned(),
        region: region.to_owned(),
        status: "ACTIVE".into(),
        created: now,
        attributes: defs,
        key,
        billing_mode: billing.clone(),
        billing_mode_explicit: requested_mode.is_some(),
        last_pay_per_request: if provisioned { None } else { Some(now) },
        throughput,
        indexes,
        stream,
        sse,
        table_class: input
            .table_class
            .clone()
            .unwrap_or_else(|| "STANDARD".into()),
        table_class_explicit: input.table_class.is_some(),
        deletion_protection: input.deletion_protection_enabled.unwrap_or(false),
        ttl: None,
        tags,
        resource_policy: input.resource_policy.clone(),
        resource_policy_revision: input
            .resource_policy
            .as_ref()
            .map(|_| policy_revision(now, None)),
    })
}

/// A stream label in DynamoDB's form: an ISO-8601 timestamp with milliseconds.
pub fn stream_label(now: f64) -> String {
    let millis = (now * 1000.0) as i64;
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let (y, mo, d, h, mi, s) = rampart_core::civil(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}")
}

/// Stream settings from a StreamSpecification.
pub fn stream_from_spec(
    spec: Option<&StreamSpecification>,
    now: f64,
) -> Result<Option<StreamMeta>> {
    let Some(spec) = spec else { return Ok(None) };
    match (spec.stream_enabled, spec.stream_view_type.as_deref()) {
        (Some(true), Some(view)) => Ok(Some(StreamMeta {
            enabled: true,
            view_type: view.to_owned(),
            label: stream_label(now),
            // "You can't attach a policy to a stream while creating it using
            // the CreateTable or UpdateTable APIs." (Developer Guide, "Attach
            // a resource-based policy to a DynamoDB stream".)
            resource_policy: None,
            resource_policy_revision: None,
        })),
        (Some(true), None) => Err(invalid(
            "One or more parameter values were invalid: StreamViewType is required when StreamEnabled is true",
        )),
        (Some(false), Some(_)) => Err(invalid(
            "One or more parameter values were invalid: StreamViewType cannot be specified when StreamEnabled is false",
        )),
        _ => Ok(None),
    }
}

/// Encryption settings from an SSESpecification. Without a KMS capability yet,
/// any named key is recorded as given.
pub fn sse_from_spec(spec: Option<&SseSpecification>) -> Result<Option<SseMeta>> {
    let Some(spec) = spec else { return Ok(None) };
    if spec.enabled == Some(false) {
        if spec.kms_master_key_id.is_some() || spec.sse_type.is_some() {
            return Err(invalid(
                "One or more parameter values were invalid: SSEType or KMSMasterKeyId cannot be specified when SSE is disabled",
            ));
        }
        return Ok(None);
    }
    if spec.enabled.is_none() && spec.kms_master_key_id.is_none() && spec.sse_type.is_none() {
        return Ok(None);
    }
    match spec.sse_type.as_deref() {
        None | Some("KMS") => Ok(Some(SseMeta {
            sse_type: "KMS".into(),
            kms_key: spec.kms_master_key_id.clone(),
        })),
        Some("AES256") => Err(invalid(
            "One or more parameter values were invalid: Server-Side Encryption type AES256 is not supported",
        )),
        Some(other) => Err(invalid(format!(
            "1 validation error detected: Value '{other}' at 'sSESpecification.sSEType' failed to satisfy constraint: Member must satisfy enum value set: [AES256, KMS]"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_arns_parse_into_table_and_label() {
        let arn =
            "arn:aws:dynamodb:us-east-1:111122223333:table/Books/stream/2024-02-12T18:57:26.492";
        assert_eq!(
            parse_stream_arn(arn),
            Some((
                "us-east-1",
                "111122223333",
                "Books",
                "2024-02-12T18:57:26.492"
            ))
        );
        assert_eq!(parse_table_arn(arn), None);
        for bad in [
            "arn:aws:dynamodb:us-east-1:111122223333:table/Books",
            "arn:aws:dynamodb:us-east-1:111122223333:table/Books/stream/",
            "arn:aws:dynamodb:us-east-1:111122223333:table/Books/index/ByTitle",
            "arn:aws:dynamodb:us-east-1:111122223333:table//stream/x",
            "arn:aws:dynamodb:us-east-1:111122223333:table/Books/stream/x/y",
            "arn:aws:dynamodb:us-east-1:1111:table/Books/stream/x",
            "arn:aws:s3:us-east-1:111122223333:table/Books/stream/x",
        ] {
            assert_eq!(parse_stream_arn(bad), None, "{bad}");
        }
    }

    #[test]
    fn stream_label_is_iso8601_with_millis() {
        assert_eq!(stream_label(0.0), "1970-01-01T00:00:00.000");
        assert_eq!(stream_label(1_709_942_971.124), "2024-03-09T00:09:31.124");
    }
}
