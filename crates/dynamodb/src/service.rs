//! The DynamoDB service: parses a request body into a typed [`Call`], says
//! which IAM actions on which resources it needs, and executes it against the
//! catalog and the storage engine.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use rampart_core::{Clock, IdSource, PrincipalKind, Region, RequestContext, epoch_seconds};
use rampart_storage::{Batch, Direction, Engine, KeyRange, Op};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::authz_keys::{self, KeyValue, Keys};
use crate::catalog::{TableMeta, TableStats, table_arn};
use crate::error::{DynamoError, Result};
use crate::layout::{self, CATALOG_TREE};
use crate::model::*;
use crate::ops::Operation;
use crate::value::{WireErrorKind, wire_error_kind};

/// A table as the catalog holds it: metadata and the storage version of its
/// catalog record (every item write is conditioned on it, so a write never
/// lands in a table that was deleted or whose indexes changed meanwhile).
#[derive(Debug, Clone)]
pub struct Table {
    /// The metadata.
    pub meta: TableMeta,
    /// The catalog record's version.
    pub version: u64,
}

/// The table cache: account → table name → table, so a lookup borrows its
/// key instead of building an owned `(account, name)` pair per request.
#[derive(Debug, Default)]
pub(crate) struct Tables(HashMap<String, HashMap<String, Arc<Table>>>);

impl Tables {
    /// The table `name` of `account`.
    pub(crate) fn get(&self, account: &str, name: &str) -> Option<&Arc<Table>> {
        self.0.get(account)?.get(name)
    }

    /// Adds or replaces a table under its own account and name.
    pub(crate) fn insert(&mut self, table: Arc<Table>) {
        let account = table.meta.account.clone();
        let name = table.meta.name.clone();
        self.0.entry(account).or_default().insert(name, table);
    }

    /// Forgets a table.
    pub(crate) fn remove(&mut self, account: &str, name: &str) {
        if let Some(names) = self.0.get_mut(account) {
            names.remove(name);
            if names.is_empty() {
                self.0.remove(account);
            }
        }
    }

    /// The names of `account`'s tables, in no order.
    pub(crate) fn names(&self, account: &str) -> impl Iterator<Item = &String> {
        self.0.get(account).into_iter().flat_map(HashMap::keys)
    }

    /// Every table.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Arc<Table>> {
        self.0.values().flat_map(HashMap::values)
    }
}

/// A parsed request.
#[derive(Debug, Clone)]
#[expect(
    missing_docs,
    reason = "each variant is the operation of the same name"
)]
pub enum Call {
    CreateTable(CreateTableInput),
    DescribeTable(TableNameInput),
    UpdateTable(UpdateTableInput),
    DeleteTable(TableNameInput),
    ListTables(ListTablesInput),
    DescribeEndpoints,
    DescribeLimits,
    PutItem(PutItemInput),
    GetItem(GetItemInput),
    UpdateItem(UpdateItemInput),
    DeleteItem(DeleteItemInput),
    Query(QueryInput),
    Scan(ScanInput),
    BatchGetItem(BatchGetItemInput),
    BatchWriteItem(BatchWriteItemInput),
    TransactGetItems(TransactGetItemsInput),
    TransactWriteItems(TransactWriteItemsInput),
    UpdateTimeToLive(UpdateTimeToLiveInput),
    DescribeTimeToLive(TableNameInput),
    TagResource(TagResourceInput),
    UntagResource(UntagResourceInput),
    ListTagsOfResource(ListTagsOfResourceInput),
    PutResourcePolicy(PutResourcePolicyInput),
    GetResourcePolicy(GetResourcePolicyInput),
    DeleteResourcePolicy(DeleteResourcePolicyInput),
}

/// One action on one resource that a call needs allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthzRequest {
    /// The IAM action.
    pub action: String,
    /// The resource ARN: the owning account's, also when the request named
    /// another account's table by its ARN.
    pub resource: String,
    /// DynamoDB's condition keys for this request (`dynamodb:LeadingKeys`,
    /// `dynamodb:Attributes`, …), computed by [`crate::authz_keys`].
    pub keys: Keys,
    /// The resource's own policy, `(name, document)`: the table's resource
    /// policy (an index is governed by its table's policy), or for a stream
    /// ARN the stream's own policy (never the table's).
    pub resource_policy: Option<(String, String)>,
}

/// A table or stream a request names (by name or by ARN), resolved for
/// authorization.
struct Target {
    /// The resource's ARN in its owner's account.
    arn: String,
    /// The table (for a stream ARN, the stream's table), if it exists.
    table: Option<Arc<Table>>,
    /// For a stream ARN, the stream's label.
    stream: Option<String>,
}

impl Target {
    /// The resource's policy: the table's, or for a stream ARN the policy of
    /// that stream if it is the table's latest one (an older stream has
    /// none).
    fn policy(&self) -> Option<(String, String)> {
        let t = self.table.as_ref()?;
        let doc = match &self.stream {
            None => t.meta.resource_policy.clone()?,
            Some(label) => {
                let s = t.meta.stream.as_ref().filter(|s| s.label == *label)?;
                s.resource_policy.clone()?
            }
        };
        Some((self.arn.clone(), doc))
    }

    fn schema(&self) -> Option<&crate::catalog::KeySchema> {
        self.table.as_ref().map(|t| &t.meta.key)
    }

    fn index_schema(&self, index: &str) -> Option<&crate::catalog::KeySchema> {
        self.table.as_ref()?.meta.index(index).map(|i| &i.key)
    }

    fn owner(&self) -> Option<&str> {
        self.table.as_ref().map(|t| t.meta.account.as_str())
    }

    fn request(&self, action: &str, keys: Keys) -> AuthzRequest {
        AuthzRequest {
            action: action.to_owned(),
            resource: self.arn.clone(),
            keys: self.with_resource_tags(keys),
            resource_policy: self.policy(),
        }
    }

    /// [`Target::request`] with its condition keys computed only if `with_keys`.
    fn request_if(
        &self,
        action: &str,
        with_keys: bool,
        keys: impl FnOnce() -> Keys,
    ) -> AuthzRequest {
        if with_keys {
            self.request(action, keys())
        } else {
            AuthzRequest {
                action: action.to_owned(),
                resource: self.arn.clone(),
                keys: Keys::new(),
                resource_policy: self.policy(),
            }
        }
    }

    /// Adds `aws:ResourceTag/<key>` for each of the table's tags (attribute-
    /// based access control on tables). A stream has tags of its own, not
    /// its table's; Rampart does not tag streams, so a stream has none.
    fn with_resource_tags(&self, mut keys: Keys) -> Keys {
        if let (Some(t), None) = (&self.table, &self.stream) {
            for (k, v) in &t.meta.tags {
                keys.push((format!("aws:ResourceTag/{k}"), KeyValue::Single(v.clone())));
            }
        }
        keys
    }
}

/// `aws:RequestTag/<key>` for each tag a request sets, and `aws:TagKeys`.
fn request_tag_keys(tags: &[crate::model::Tag]) -> Keys {
    let mut keys = Keys::new();
    let mut names = Vec::new();
    for t in tags {
        if let Some(k) = &t.key {
            keys.push((
                format!("aws:RequestTag/{k}"),
                KeyValue::Single(t.value.clone().unwrap_or_default()),
            ));
            names.push(k.clone());
        }
    }
    if !names.is_empty() {
        keys.push(("aws:TagKeys".into(), KeyValue::Multi(names)));
    }
    keys
}

/// The DynamoDB service.
pub struct DynamoDb {
    /// Where everything is stored.
    pub(crate) engine: Arc<dyn Engine>,
    /// Time (TTL, timestamps).
    pub(crate) clock: Arc<dyn Clock>,
    /// Table ids and the like.
    pub(crate) ids: Arc<dyn IdSource>,
    /// The region answered for.
    pub(crate) region: Region,
    /// account → table name → table. Authoritative in one process; a
    /// scale-out backend will need invalidation (future work).
    pub(crate) catalog: RwLock<Tables>,
    /// In-memory ItemCount/TableSizeBytes counters (see `stats.rs`).
    pub(crate) counters: crate::stats::Registry,
    /// A handle on itself, for background tasks started by requests.
    me: std::sync::Weak<DynamoDb>,
    /// Checks resource-policy documents (installed by the composition root;
    /// without one, documents are refused).
    pub(crate) policy_validator: RwLock<Option<crate::resource_policy::PolicyValidator>>,
}

impl std::fmt::Debug for DynamoDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoDb")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// Strips serde_json's " at line L column C" suffix.
fn strip_position(msg: &str) -> &str {
    match msg.rfind(" at line ") {
        Some(i) => msg.get(..i).unwrap_or(msg),
        None => msg,
    }
}

fn decode<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        let full = e.to_string();
        let msg = strip_position(&full).to_owned();
        match wire_error_kind(&msg) {
            WireErrorKind::Validation => DynamoError::Validation(msg),
            WireErrorKind::Serialization => DynamoError::Serialization(msg),
        }
    })
}

pub(crate) fn to_json(v: &impl serde::Serialize) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| DynamoError::Internal(format!("response encoding: {e}")))
}

impl DynamoDb {
    /// Opens the service over `engine`, loading the catalog.
    pub async fn open(
        engine: Arc<dyn Engine>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
        region: Region,
    ) -> Result<Arc<Self>> {
        let rows = engine
            .scan(
                CATALOG_TREE,
                KeyRange::all(),
                Direction::Forward,
                usize::MAX,
            )
            .await?;
        let mut map = Tables::default();
        for (_, v) in rows {
            let meta: TableMeta = serde_json::from_slice(&v.value)
                .map_err(|e| DynamoError::Internal(format!("catalog record: {e}")))?;
            map.insert(Arc::new(Table {
                meta,
                version: v.version,
            }));
        }
        Ok(Arc::new_cyclic(|me| Self {
            engine,
            clock,
            ids,
            region,
            catalog: RwLock::new(map),
            counters: crate::stats::Registry::default(),
            me: me.clone(),
            policy_validator: RwLock::new(None),
        }))
    }

    /// A strong handle on this service, for spawning background work.
    pub(crate) fn self_ref(&self) -> Option<Arc<Self>> {
        self.me.upgrade()
    }

    /// Starts the background work (TTL sweeper, index backfills left
    /// unfinished by a restart). Returns the task's handle.
    pub fn spawn_background(self: Arc<Self>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            self.resume_backfills().await;
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                if let Err(e) = self.sweep_expired().await {
                    tracing::warn!(error = %e, "TTL sweep failed");
                }
            }
        })
    }

    /// The current time in epoch seconds.
    pub(crate) fn now(&self) -> f64 {
        epoch_seconds(self.clock.now())
    }

    /// Parses a request body for `op`.
    pub fn parse(&self, op: Operation, body: &[u8]) -> Result<Call> {
        Ok(match op {
            Operation::CreateTable => Call::CreateTable(decode(body)?),
            Operation::DescribeTable => Call::DescribeTable(decode(body)?),
            Operation::UpdateTable => Call::UpdateTable(decode(body)?),
            Operation::DeleteTable => Call::DeleteTable(decode(body)?),
            Operation::ListTables => Call::ListTables(decode(body)?),
            Operation::DescribeEndpoints => {
                decode::<EmptyInput>(body)?;
                Call::DescribeEndpoints
            }
            Operation::DescribeLimits => {
                decode::<EmptyInput>(body)?;
                Call::DescribeLimits
            }
            Operation::PutItem => Call::PutItem(decode(body)?),
            Operation::GetItem => Call::GetItem(decode(body)?),
            Operation::UpdateItem => Call::UpdateItem(decode(body)?),
            Operation::DeleteItem => Call::DeleteItem(decode(body)?),
            Operation::Query => Call::Query(decode(body)?),
            Operation::Scan => Call::Scan(decode(body)?),
            Operation::BatchGetItem => Call::BatchGetItem(decode(body)?),
            Operation::BatchWriteItem => Call::BatchWriteItem(decode(body)?),
            Operation::TransactGetItems => Call::TransactGetItems(decode(body)?),
            Operation::TransactWriteItems => Call::TransactWriteItems(decode(body)?),
            Operation::UpdateTimeToLive => Call::UpdateTimeToLive(decode(body)?),
            Operation::DescribeTimeToLive => Call::DescribeTimeToLive(decode(body)?),
            Operation::TagResource => Call::TagResource(decode(body)?),
            Operation::UntagResource => Call::UntagResource(decode(body)?),
            Operation::ListTagsOfResource => Call::ListTagsOfResource(decode(body)?),
            Operation::PutResourcePolicy => Call::PutResourcePolicy(decode(body)?),
            Operation::GetResourcePolicy => Call::GetResourcePolicy(decode(body)?),
            Operation::DeleteResourcePolicy => Call::DeleteResourcePolicy(decode(body)?),
        })
    }

    /// Resolves a `TableName`: a table ARN of this region names its owner's
    /// table (cross-account access); anything else is a name in `caller`'s
    /// account.
    pub(crate) fn resolve_table_name<'a>(
        &self,
        caller: &'a str,
        name: &'a str,
    ) -> (&'a str, &'a str) {
        match crate::catalog::parse_table_arn(name) {
            Some((region, owner, table)) if region == self.region.as_str() => (owner, table),
            _ => (caller, name),
        }
    }

    /// The table a request names, resolved for authorization.
    fn target(&self, caller: &str, name: Option<&str>) -> Target {
        let (owner, table) = self.resolve_table_name(caller, name.unwrap_or_default());
        Target {
            arn: table_arn(self.region.as_str(), owner, table),
            table: self
                .catalog
                .read()
                .ok()
                .and_then(|c| c.get(owner, table).cloned()),
            stream: None,
        }
    }

    /// The table or stream a `ResourceArn` names; the ARN itself stays the
    /// resource.
    fn arn_target(&self, arn: &Option<String>) -> Target {
        let arn = arn.clone().unwrap_or_default();
        let lookup = |owner: &str, name: &str| {
            self.catalog
                .read()
                .ok()
                .and_then(|c| c.get(owner, name).cloned())
        };
        let here = |region: &str| region == self.region.as_str();
        if let Some((region, owner, name, label)) = crate::catalog::parse_stream_arn(&arn) {
            let table = here(region).then(|| lookup(owner, name)).flatten();
            let stream = Some(label.to_owned());
            return Target { arn, table, stream };
        }
        let table = crate::catalog::parse_table_arn(&arn)
            .filter(|(region, _, _)| here(region))
            .and_then(|(_, owner, name)| lookup(owner, name));
        Target {
            arn,
            table,
            stream: None,
        }
    }

    /// What an action on a resource named by its ARN (a table or a stream)
    /// asks the authorizer, with the resource's own policy. The DynamoDB
    /// Streams operations (DescribeStream, GetShardIterator, GetRecords on a
    /// stream ARN) authorize through this, so a stream's resource policy
    /// takes part in their decision.
    pub fn resource_authz_request(&self, action: &str, arn: &str) -> AuthzRequest {
        self.arn_target(&Some(arn.to_owned()))
            .request(action, Keys::new())
    }

    /// The IAM actions and resources a call needs, each with its condition
    /// keys and the resource's policy. Batch and transaction calls list every
    /// member (BatchGetItem/BatchWriteItem as their own action per table,
    /// transaction members as GetItem, PutItem, UpdateItem, DeleteItem or
    /// ConditionCheckItem); Query/Scan on an index name the index ARN.
    pub fn authz_requests(&self, ctx: &RequestContext, call: &Call) -> Vec<AuthzRequest> {
        self.authz_requests_with(ctx, call, true)
    }

    /// [`DynamoDb::authz_requests`], where `with_keys: false` leaves out the condition keys
    /// of the item operations (GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan): the
    /// same requests, in the same order, with empty `keys`. The request path asks for them
    /// only when a policy that applies may read a condition key (see
    /// `rampart_iam::LazyKeys`). Other operations always carry their keys.
    pub fn authz_requests_with(
        &self,
        ctx: &RequestContext,
        call: &Call,
        with_keys: bool,
    ) -> Vec<AuthzRequest> {
        let caller = ctx.principal.account.as_str();
        let target = |name: &Option<String>| self.target(caller, name.as_deref());
        let plain = |action: &str, name: &Option<String>| target(name).request(action, Keys::new());
        let on_arn =
            |action: &str, arn: &Option<String>| self.arn_target(arn).request(action, Keys::new());
        let on_index =
            |t: &Target, action: &str, index: &Option<String>, keys: &dyn Fn() -> Keys| {
                // An index is governed by its table's tags and policy; only the ARN differs.
                let mut r = t.request_if(action, with_keys, keys);
                if let Some(i) = index {
                    r.resource = format!("{}/index/{i}", t.arn);
                }
                r
            };
        match call {
            Call::CreateTable(i) => {
                let t = target(&i.table_name);
                let tags = request_tag_keys(i.tags.as_deref().unwrap_or_default());
                let mut out = vec![t.request("dynamodb:CreateTable", tags)];
                // "You need to specify the CreateTable and PutResourcePolicy
                // IAM actions for authorizing a user to create a table with a
                // resource-based policy." (API Reference, CreateTable.)
                if i.resource_policy.is_some() {
                    out.push(t.request("dynamodb:PutResourcePolicy", Keys::new()));
                }
                out
            }
            Call::DescribeTable(i) => vec![plain("dynamodb:DescribeTable", &i.table_name)],
            Call::UpdateTable(i) => vec![plain("dynamodb:UpdateTable", &i.table_name)],
            Call::DeleteTable(i) => vec![plain("dynamodb:DeleteTable", &i.table_name)],
            Call::ListTables(_) => vec![AuthzRequest {
                action: "dynamodb:ListTables".into(),
                resource: format!("arn:aws:dynamodb:{}:{caller}:table/*", self.region),
                keys: Keys::new(),
                resource_policy: None,
            }],
            Call::DescribeEndpoints | Call::DescribeLimits => {
                let action = if matches!(call, Call::DescribeEndpoints) {
                    "dynamodb:DescribeEndpoints"
                } else {
                    "dynamodb:DescribeLimits"
                };
                vec![AuthzRequest {
                    action: action.into(),
                    resource: "*".into(),
                    keys: Keys::new(),
                    resource_policy: None,
                }]
            }
            Call::PutItem(i) => {
                let t = target(&i.table_name);
                vec![t.request_if("dynamodb:PutItem", with_keys, || {
                    authz_keys::put_item(i, t.schema())
                })]
            }
            Call::GetItem(i) => {
                let t = target(&i.table_name);
                vec![t.request_if("dynamodb:GetItem", with_keys, || {
                    authz_keys::get_item(i, t.schema())
                })]
            }
            Call::UpdateItem(i) => {
                let t = target(&i.table_name);
                vec![t.request_if("dynamodb:UpdateItem", with_keys, || {
                    authz_keys::update_item(i, t.schema())
                })]
            }
            Call::DeleteItem(i) => {
                let t = target(&i.table_name);
                vec![t.request_if("dynamodb:DeleteItem", with_keys, || {
                    authz_keys::delete_item(i, t.schema())
                })]
            }
            Call::Query(i) => {
                let t = target(&i.table_name);
                let schema = match &i.index_name {
                    Some(ix) => t.index_schema(ix),
                    None => t.schema(),
                };
                vec![on_index(&t, "dynamodb:Query", &i.index_name, &|| {
                    authz_keys::query(i, schema)
                })]
            }
            Call::Scan(i) => {
                let t = target(&i.table_name);
                vec![on_index(&t, "dynamodb:Scan", &i.index_name, &|| {
                    authz_keys::scan(i)
                })]
            }
            Call::BatchGetItem(i) => {
                let mut tables: Vec<(&String, &KeysAndAttributes)> =
                    i.request_items.iter().flatten().collect();
                tables.sort_by(|a, b| a.0.cmp(b.0));
                tables
                    .into_iter()
                    .map(|(name, ka)| {
                        let t = self.target(caller, Some(name));
                        let keys = authz_keys::batch_get_table(
                            ka,
                            t.schema(),
                            &i.return_consumed_capacity,
                        );
                        t.request("dynamodb:BatchGetItem", keys)
                    })
                    .collect()
            }
            Call::BatchWriteItem(i) => {
                let mut tables: Vec<(&String, &Vec<WriteRequest>)> =
                    i.request_items.iter().flatten().collect();
                tables.sort_by(|a, b| a.0.cmp(b.0));
                tables
                    .into_iter()
                    .map(|(name, writes)| {
                        let t = self.target(caller, Some(name));
                        let keys = authz_keys::batch_write_table(
                            writes,
                            t.schema(),
                            &i.return_consumed_capacity,
                        );
                        t.request("dynamodb:BatchWriteItem", keys)
                    })
                    .collect()
            }
            Call::TransactGetItems(i) => i
                .transact_items
                .iter()
                .flatten()
                .filter_map(|t| t.get.as_ref())
                .map(|g| {
                    let t = target(&g.table_name);
                    let keys = authz_keys::transact_get(g, t.schema(), &i.return_consumed_capacity);
                    t.request("dynamodb:GetItem", keys)
                })
                .collect(),
            Call::TransactWriteItems(i) => {
                use authz_keys::WriteKind as K;
                i.transact_items
                    .iter()
                    .flatten()
                    .flat_map(|t| {
                        [
                            t.condition_check.as_ref().map(|a| (K::ConditionCheck, a)),
                            t.put.as_ref().map(|a| (K::Put, a)),
                            t.delete.as_ref().map(|a| (K::Delete, a)),
                            t.update.as_ref().map(|a| (K::Update, a)),
                        ]
                    })
                    .flatten()
                    .map(|(kind, a)| {
                        let t = target(&a.table_name);
                        let keys = authz_keys::transact_write(
                            kind,
                            a,
                            t.schema(),
                            &i.return_consumed_capacity,
                        );
                        t.request(kind.action(), keys)
                    })
                    .collect()
            }
            Call::UpdateTimeToLive(i) => vec![plain("dynamodb:UpdateTimeToLive", &i.table_name)],
            Call::DescribeTimeToLive(i) => {
                vec![plain("dynamodb:DescribeTimeToLive", &i.table_name)]
            }
            Call::TagResource(i) => vec![self.arn_target(&i.resource_arn).request(
                "dynamodb:TagResource",
                request_tag_keys(i.tags.as_deref().unwrap_or_default()),
            )],
            Call::UntagResource(i) => {
                let names: Vec<String> = i.tag_keys.clone().unwrap_or_default();
                let keys = if names.is_empty() {
                    Keys::new()
                } else {
                    vec![("aws:TagKeys".into(), KeyValue::Multi(names))]
                };
                vec![
                    self.arn_target(&i.resource_arn)
                        .request("dynamodb:UntagResource", keys),
                ]
            }
            Call::ListTagsOfResource(i) => {
                vec![on_arn("dynamodb:ListTagsOfResource", &i.resource_arn)]
            }
            Call::PutResourcePolicy(i) => {
                vec![on_arn("dynamodb:PutResourcePolicy", &i.resource_arn)]
            }
            Call::GetResourcePolicy(i) => {
                vec![on_arn("dynamodb:GetResourcePolicy", &i.resource_arn)]
            }
            Call::DeleteResourcePolicy(i) => {
                let t = self.arn_target(&i.resource_arn);
                let mut r = t.request("dynamodb:DeleteResourcePolicy", Keys::new());
                // "The root principal in your Amazon Web Services account can
                // perform DeleteResourcePolicy requests, even if your
                // resource-based policy explicitly denies the root
                // principal's access." (API Reference, DeleteResourcePolicy.)
                if ctx.principal.kind == PrincipalKind::Root && t.owner() == Some(caller) {
                    r.resource_policy = None;
                }
                vec![r]
            }
        }
    }

    /// Executes a call; returns the JSON response body.
    pub async fn execute(&self, ctx: &RequestContext, call: Call) -> Result<Vec<u8>> {
        let account = ctx.principal.account.as_str();
        match call {
            Call::CreateTable(i) => self.create_table(account, i).await,
            Call::DescribeTable(i) => self.describe_table(account, i).await,
            Call::UpdateTable(i) => self.update_table(account, i).await,
            Call::DeleteTable(i) => self.delete_table(account, i).await,
            Call::ListTables(i) => self.list_tables(account, i),
            Call::DescribeEndpoints => to_json(&json!({
                "Endpoints": [{"Address": format!("dynamodb.{}.amazonaws.com", self.region), "CachePeriodInMinutes": 1440}]
            })),
            Call::DescribeLimits => to_json(&json!({
                "AccountMaxReadCapacityUnits": 80000,
                "AccountMaxWriteCapacityUnits": 80000,
                "TableMaxReadCapacityUnits": 40000,
                "TableMaxWriteCapacityUnits": 40000
            })),
            Call::PutItem(i) => self.put_item(account, i).await,
            Call::GetItem(i) => self.get_item(account, i).await,
            Call::UpdateItem(i) => self.update_item(account, i).await,
            Call::DeleteItem(i) => self.delete_item(account, i).await,
            Call::Query(i) => self.query(account, i).await,
            Call::Scan(i) => self.scan(account, i).await,
            Call::BatchGetItem(i) => self.batch_get_item(account, i).await,
            Call::BatchWriteItem(i) => self.batch_write_item(account, i).await,
            Call::TransactGetItems(i) => self.transact_get_items(account, i).await,
            Call::TransactWriteItems(i) => self.transact_write_items(account, i).await,
            Call::UpdateTimeToLive(i) => self.update_ttl(account, i).await,
            Call::DescribeTimeToLive(i) => self.describe_ttl(account, i),
            Call::TagResource(i) => self.tag_resource(account, i).await,
            Call::UntagResource(i) => self.untag_resource(account, i).await,
            Call::ListTagsOfResource(i) => self.list_tags(account, i),
            Call::PutResourcePolicy(i) => self.put_resource_policy(account, i).await,
            Call::GetResourcePolicy(i) => self.get_resource_policy(account, i),
            Call::DeleteResourcePolicy(i) => self.delete_resource_policy(account, i).await,
        }
    }

    /// The table `name` of `account`, if it exists; `name` may be a table
    /// ARN, which names its owner's table.
    pub(crate) fn table(&self, account: &str, name: &str) -> Option<Arc<Table>> {
        let (account, name) = self.resolve_table_name(account, name);
        self.catalog.read().ok()?.get(account, name).cloned()
    }

    /// Like [`Self::table`] but with the item operations' not-found error.
    pub(crate) fn table_for_items(
        &self,
        account: &str,
        name: &Option<String>,
    ) -> Result<Arc<Table>> {
        let name = name.as_deref().unwrap_or_default();
        self.table(account, name)
            .ok_or_else(DynamoError::resource_not_found)
    }

    /// Writes a new version of a table's metadata, conditioned on the version
    /// the caller read; updates the cache on success.
    pub(crate) async fn save_table(
        &self,
        expected: Option<u64>,
        meta: TableMeta,
        extra: Vec<Op>,
    ) -> Result<Arc<Table>> {
        let key = layout::catalog_key(&meta.account, &meta.name);
        let mut batch = Batch::new();
        batch.expect(CATALOG_TREE, key.clone(), expected);
        batch.put(
            CATALOG_TREE,
            key,
            serde_json::to_vec(&meta).map_err(|e| DynamoError::Internal(e.to_string()))?,
        );
        batch.ops.extend(extra);
        let version = match self.engine.commit(batch).await {
            Ok(v) => v,
            Err(rampart_storage::Error::Conflict { .. }) => {
                return Err(DynamoError::ResourceInUse(format!(
                    "Attempt to change a resource which is still in use: Table is being updated: {}",
                    meta.name
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let table = Arc::new(Table { meta, version });
        if let Ok(mut c) = self.catalog.write() {
            c.insert(table.clone());
        }
        Ok(table)
    }

    /// Reloads one table's catalog record from storage into the cache.
    pub(crate) async fn reload_table(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<Arc<Table>>> {
        let (account, name) = self.resolve_table_name(account, name);
        let key = layout::catalog_key(account, name);
        let found = self.engine.get(CATALOG_TREE, &key).await?;
        let mut cache = self
            .catalog
            .write()
            .map_err(|_| DynamoError::Internal("catalog lock".into()))?;
        match found {
            Some(v) => {
                let meta: TableMeta = serde_json::from_slice(&v.value)
                    .map_err(|e| DynamoError::Internal(format!("catalog record: {e}")))?;
                let t = Arc::new(Table {
                    meta,
                    version: v.version,
                });
                cache.insert(t.clone());
                Ok(Some(t))
            }
            None => {
                cache.remove(account, name);
                Ok(None)
            }
        }
    }

    /// Item counts and sizes of a table and its indexes, from the in-memory
    /// counters (computed by one scan the first time after start; see
    /// `stats.rs`). DynamoDB refreshes these about every six hours; Rampart's
    /// are exact.
    pub(crate) async fn stats(&self, meta: &TableMeta) -> Result<TableStats> {
        let counted = self
            .counters
            .get_or_compute(meta, || self.count_table(meta))
            .await?;
        Ok(counted.to_stats())
    }

    /// Counts a table and its indexes by scanning their trees.
    async fn count_table(&self, meta: &TableMeta) -> Result<crate::stats::Counters> {
        let mut c = crate::stats::Counters::default();
        let (items, bytes) = self.count_tree(&layout::item_tree(meta)).await?;
        c.items = items;
        c.bytes = bytes;
        for i in &meta.indexes {
            let counted = self.count_tree(&layout::index_tree(meta, &i.name)).await?;
            c.index.insert(i.name.clone(), counted);
        }
        Ok(c)
    }

    async fn count_tree(&self, tree: &str) -> Result<(i64, i64)> {
        let mut items = 0i64;
        let mut bytes = 0i64;
        let mut start = std::ops::Bound::Unbounded;
        loop {
            let page = self
                .engine
                .scan(
                    tree,
                    KeyRange {
                        start,
                        end: std::ops::Bound::Unbounded,
                    },
                    Direction::Forward,
                    1000,
                )
                .await?;
            let Some((last, _)) = page.last() else { break };
            let last = last.clone();
            for (_, v) in &page {
                items += 1;
                if let Ok(item) = crate::items::decode_item(&v.value) {
                    bytes += i64::try_from(crate::value::item_size(&item)).unwrap_or(0);
                }
            }
            if page.len() < 1000 {
                break;
            }
            start = std::ops::Bound::Excluded(last);
        }
        Ok((items, bytes))
    }

    /// Commits a batch holding staged item writes: takes the tables' stats
    /// gates, commits, and on success applies each write's exact delta to
    /// the in-memory counters.
    pub(crate) async fn commit_writes(
        &self,
        batch: Batch,
        writes: &[&crate::items::StagedWrite],
    ) -> std::result::Result<rampart_storage::CommitSeq, rampart_storage::Error> {
        let _gates = self
            .counters
            .enter_write(writes.iter().map(|w| w.table.meta.id.as_str()))
            .await;
        let seq = self.engine.commit(batch).await?;
        for w in writes {
            self.counters
                .apply(&w.table.meta.id, &crate::stats::delta(w));
        }
        Ok(seq)
    }
}

/// Wraps a table description as `{"TableDescription": …}` with a status override.
pub(crate) fn table_description(desc: Value, status: Option<&str>) -> Value {
    let mut d = desc;
    if let (Some(s), Some(obj)) = (status, d.as_object_mut()) {
        obj.insert("TableStatus".into(), json!(s));
    }
    json!({ "TableDescription": d })
}
