//! The wire shapes of DynamoDB's JSON 1.0 requests and responses. DynamoDB's
//! JSON *is* its model, so these derive serde directly. Required members are
//! `Option` so that a missing one gets DynamoDB's validation text, not a
//! serde message. Unknown members are ignored, as DynamoDB does.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::expr::legacy::{AttributeValueUpdate, ExpectedAttributeValue, LegacyCondition};
use crate::value::{AttributeValue, Item};

/// `{name: value}` maps used for keys.
pub type AttrMap = HashMap<String, AttributeValue>;

/// `ExpressionAttributeValues`. A value of the wrong JSON shape fails the
/// whole request at parse time (`SerializationException`, as on AWS), but a
/// well-formed value that DynamoDB refuses (an empty AttributeValue, a bad
/// number, an empty set, ...) is kept aside: DynamoDB reports it later, after
/// the parameter checks, as `ExpressionAttributeValues contains invalid
/// value: <why> for key <key>` ([`ExpressionValues::check`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExpressionValues {
    /// Every key. An invalid value is stored as `NULL`; it is never used,
    /// because `check` refuses the request before any expression is parsed.
    pub all: HashMap<String, AttributeValue>,
    /// The first invalid value in request order: (key, AWS's reason).
    pub invalid: Option<(String, String)>,
}

impl ExpressionValues {
    /// Refuses the request if a value was invalid, with DynamoDB's text.
    pub fn check(&self) -> Result<(), crate::error::DynamoError> {
        match &self.invalid {
            Some((key, why)) => Err(crate::error::DynamoError::Validation(format!(
                "ExpressionAttributeValues contains invalid value: {why} for key {key}"
            ))),
            None => Ok(()),
        }
    }
}

impl<'de> Deserialize<'de> for ExpressionValues {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = ExpressionValues;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of attribute values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = ExpressionValues::default();
                while let Some(key) = map.next_key::<String>()? {
                    let raw: serde_json::Value = map.next_value()?;
                    match serde_json::from_value::<AttributeValue>(raw) {
                        Ok(v) => {
                            out.all.insert(key, v);
                        }
                        Err(e) => {
                            let msg = e.to_string();
                            if crate::value::wire_error_kind(&msg)
                                == crate::value::WireErrorKind::Serialization
                            {
                                return Err(serde::de::Error::custom(msg));
                            }
                            if out.invalid.is_none() {
                                out.invalid = Some((key.clone(), msg));
                            }
                            out.all.insert(key, AttributeValue::Null);
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

/// AttributeDefinition.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeDefinition {
    /// The attribute.
    pub attribute_name: Option<String>,
    /// `S`, `N` or `B`.
    pub attribute_type: Option<String>,
}

/// KeySchemaElement.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct KeySchemaElement {
    /// The attribute.
    pub attribute_name: Option<String>,
    /// `HASH` or `RANGE`.
    pub key_type: Option<String>,
}

/// ProvisionedThroughput.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct ProvisionedThroughput {
    /// Read capacity units.
    pub read_capacity_units: Option<i64>,
    /// Write capacity units.
    pub write_capacity_units: Option<i64>,
}

/// Projection of a secondary index.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "PascalCase")]
pub struct Projection {
    /// `ALL`, `KEYS_ONLY` or `INCLUDE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection_type: Option<String>,
    /// The projected non-key attributes for `INCLUDE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub non_key_attributes: Option<Vec<String>>,
}

/// A secondary index in CreateTable (GSI or LSI).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SecondaryIndexInput {
    /// The index name.
    pub index_name: Option<String>,
    /// Its key schema.
    pub key_schema: Option<Vec<KeySchemaElement>>,
    /// Its projection.
    pub projection: Option<Projection>,
    /// GSIs only: provisioned throughput.
    pub provisioned_throughput: Option<ProvisionedThroughput>,
}

/// StreamSpecification.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct StreamSpecification {
    /// Whether the stream is on.
    pub stream_enabled: Option<bool>,
    /// `KEYS_ONLY`, `NEW_IMAGE`, `OLD_IMAGE`, `NEW_AND_OLD_IMAGES`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_view_type: Option<String>,
}

/// SSESpecification.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct SseSpecification {
    /// Whether SSE with a KMS key is on.
    pub enabled: Option<bool>,
    /// `KMS` (or `AES256`).
    #[serde(rename = "SSEType")]
    pub sse_type: Option<String>,
    /// The KMS key id, ARN or alias.
    #[serde(rename = "KMSMasterKeyId")]
    pub kms_master_key_id: Option<String>,
}

/// Tag.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    /// The key.
    pub key: Option<String>,
    /// The value.
    pub value: Option<String>,
}

/// CreateTable.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateTableInput {
    /// The table name.
    pub table_name: Option<String>,
    /// Attribute definitions for key attributes.
    pub attribute_definitions: Option<Vec<AttributeDefinition>>,
    /// Primary key.
    pub key_schema: Option<Vec<KeySchemaElement>>,
    /// LSIs.
    pub local_secondary_indexes: Option<Vec<SecondaryIndexInput>>,
    /// GSIs.
    pub global_secondary_indexes: Option<Vec<SecondaryIndexInput>>,
    /// `PROVISIONED` or `PAY_PER_REQUEST`.
    pub billing_mode: Option<String>,
    /// The newer alias of `BillingMode` (same values); `BillingMode` wins when both are given.
    pub table_throughput_mode: Option<String>,
    /// Throughput for provisioned mode.
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    /// Stream settings.
    pub stream_specification: Option<StreamSpecification>,
    /// Encryption settings.
    #[serde(rename = "SSESpecification")]
    pub sse_specification: Option<SseSpecification>,
    /// Tags.
    pub tags: Option<Vec<Tag>>,
    /// `STANDARD` or `STANDARD_INFREQUENT_ACCESS`.
    pub table_class: Option<String>,
    /// Deletion protection.
    pub deletion_protection_enabled: Option<bool>,
    /// A resource-based policy (stored for the IAM capability).
    pub resource_policy: Option<String>,
}

/// `TableName` only (DescribeTable, DeleteTable, DescribeTimeToLive).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TableNameInput {
    /// The table name.
    pub table_name: Option<String>,
}

/// A GSI update in UpdateTable.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GsiUpdate {
    /// Create a new GSI.
    pub create: Option<SecondaryIndexInput>,
    /// Change a GSI's throughput.
    pub update: Option<GsiUpdateAction>,
    /// Delete a GSI.
    pub delete: Option<GsiDeleteAction>,
}

/// Update of a GSI's throughput.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GsiUpdateAction {
    /// The index.
    pub index_name: Option<String>,
    /// The new throughput.
    pub provisioned_throughput: Option<ProvisionedThroughput>,
}

/// Deletion of a GSI.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GsiDeleteAction {
    /// The index.
    pub index_name: Option<String>,
}

/// UpdateTable.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateTableInput {
    /// The table.
    pub table_name: Option<String>,
    /// New attribute definitions (for new GSIs).
    pub attribute_definitions: Option<Vec<AttributeDefinition>>,
    /// New billing mode.
    pub billing_mode: Option<String>,
    /// The newer alias of `BillingMode` (same values); `BillingMode` wins when both are given.
    pub table_throughput_mode: Option<String>,
    /// New throughput.
    pub provisioned_throughput: Option<ProvisionedThroughput>,
    /// GSI changes.
    pub global_secondary_index_updates: Option<Vec<GsiUpdate>>,
    /// Stream changes.
    pub stream_specification: Option<StreamSpecification>,
    /// Encryption changes.
    #[serde(rename = "SSESpecification")]
    pub sse_specification: Option<SseSpecification>,
    /// Table class change.
    pub table_class: Option<String>,
    /// Deletion protection change.
    pub deletion_protection_enabled: Option<bool>,
}

/// ListTables.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ListTablesInput {
    /// Start after this table name.
    pub exclusive_start_table_name: Option<String>,
    /// Page size (1..=100).
    pub limit: Option<i64>,
}

/// PutItem.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutItemInput {
    /// The table.
    pub table_name: Option<String>,
    /// The item.
    pub item: Option<Item>,
    /// Condition.
    pub condition_expression: Option<String>,
    /// `#name` placeholders.
    pub expression_attribute_names: Option<HashMap<String, String>>,
    /// `:value` placeholders.
    pub expression_attribute_values: Option<ExpressionValues>,
    /// `NONE` or `ALL_OLD`.
    pub return_values: Option<String>,
    /// `NONE`, `TOTAL`, `INDEXES`.
    pub return_consumed_capacity: Option<String>,
    /// `NONE` or `SIZE`.
    pub return_item_collection_metrics: Option<String>,
    /// `NONE` or `ALL_OLD`.
    pub return_values_on_condition_check_failure: Option<String>,
    /// Legacy condition.
    pub expected: Option<BTreeMap<String, ExpectedAttributeValue>>,
    /// Legacy `AND`/`OR`.
    pub conditional_operator: Option<String>,
}

/// GetItem.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetItemInput {
    /// The table.
    pub table_name: Option<String>,
    /// The primary key.
    pub key: Option<AttrMap>,
    /// Strong consistency.
    pub consistent_read: Option<bool>,
    /// Projection.
    pub projection_expression: Option<String>,
    /// `#name` placeholders.
    pub expression_attribute_names: Option<HashMap<String, String>>,
    /// Legacy projection.
    pub attributes_to_get: Option<Vec<String>>,
    /// `NONE`, `TOTAL`, `INDEXES`.
    pub return_consumed_capacity: Option<String>,
}

/// DeleteItem.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteItemInput {
    /// The table.
    pub table_name: Option<String>,
    /// The primary key.
    pub key: Option<AttrMap>,
    /// Condition.
    pub condition_expression: Option<String>,
    /// `#name` placeholders.
    pub expression_attribute_names: Option<HashMap<String, String>>,
    /// `:value` placeholders.
    pub expression_attribute_values: Option<ExpressionValues>,
    /// `NONE` or `ALL_OLD`.
    pub return_values: Option<String>,
    /// `NONE`, `TOTAL`, `INDEXES`.
    pub return_consumed_capacity: Option<String>,
    /// `NONE` or `SIZE`.
    pub return_item_collection_metrics: Option<String>,
    /// `NONE` or `ALL_OLD`.
    pub return_values_on_condition_check_failure: Option<String>,
    /// Legacy condition.
    pub expected: Option<BTreeMap<String, ExpectedAttributeValue>>,
    /// Legacy `AND`/`OR`.
    pub conditional_operator: Option<String>,
}

/// UpdateItem.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateItemInput {
    /// The table.
    pub table_name: Option<String>,
    /// The primary key.
    pub key: Option<AttrMap>,
    /// The update.
    pub update_expression: Option<String>,
    /// Condition.
    pub condition_expression: Option<String>,
    /// `#name` placeholders.
    pub expression_attribute_names: Option<HashMap<String, String>>,
    /// `:value` placeholders.
    pub expression_attribute_values: Option<ExpressionValues>,
    /// `NONE`, `ALL_OLD`, `UPDATED_OLD`, `ALL_NEW`, `UPDATED_NEW`.
    pub return_values: Option<String>,
    /// `NONE`, `TOTAL`, `INDEXES`.
    pub return_consumed_capacity: Option<String>,
    /// `NONE` or `SIZE`.
    pub return_item_collection_metrics: Option<String>,
    /// `NONE` or `ALL_OLD`.
    pub return_values_on_condition_check_failure: Option<String>,
    /// Legacy update.
    pub attribute_updates: Option<BTreeMap<String, AttributeValueUpdate>>,
    /// Legacy condition.
    pub expected: Option<BTreeMap<String, ExpectedAttributeValue>>,
    /// Legacy `AND`/`OR`.
    pub conditional_operator: Option<String>,
}

/// Query.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct QueryInput {
    /// The table.
    pub table_name: Option<String>,
    /// An index to query instead of the table.
    pub index_name: Option<String>,
    /// Key condition.
    pub key_condition_expression: Option<String>,
    /// Filter.
    pub filter_expression: Option<String>,
    /// Projection.
    pub projection_expression: Option<String>,
    /// `#name` placeholders.
    pub expression_attribute_names: Option<HashMap<String, String>>,
    /// `:value` placeholders.
    pub expression_attribute_values: Option<ExpressionValues>,
    /// `ALL_ATTRIBUTES`, `ALL_PROJECTED_ATTRIBUTES`, `SPECIFIC_ATTRIBUTES`, `COUNT`.
    pub select: Option<String>,
    /// Max items evaluated.
    pub limit: Option<i64>,
    /// Resume point.
    pub exclusive_start_key: Option<AttrMap>,
    /// Ascending (default) or descending.
    pub scan_index_forward: Option<bool>,
    /// Strong consistency.
    pub consistent_read: Option<bool>,
    /// `NONE`, `TOTAL`, `INDEXES`.
    pub return_consumed_capacity: Option<String>,
    /// Legacy key conditions.
    pub key_conditions: Option<BTreeMap<String, LegacyCondition>>,
    /// Legacy filter.
    pub query_filter: Option<BTreeMap<String, LegacyCondition>>,
    /// Legacy `AND`/`OR`.
    pub conditional_operator: Option<String>,
    /// Legacy projection.
    pub attributes_to_get: Option<Vec<String>>,
}

/// Scan.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ScanInput {
    /// The table.
    pub table_name: Option<String>,
    /// An index to scan instead of the table.
    pub index_name: Option<String>,
    /// Filter.
    pub filter_expression: Option<String>,
    /// Projection.
    pub projection_expression: Option<String>,
    /// `#name` placeholders.
    pub expression_attribute_names: Option<HashMap<String, String>>,
    /// `:value` placeholders.
    pub expression_attribute_values: Option<ExpressionValues>,
    /// Select.
    pub select: Option<String>,
    /// Max items evaluated.
    pub limit: Option<i64>,
    /// Resume point.
    pub exclusive_start_key: Option<AttrMap>,
    /// Parallel scan segment.
    pub segment: Option<i64>,
    /// Parallel scan segment count.
    pub total_segments: Option<i64>,
    /// Strong consistency.
    pub consistent_read: Option<bool>,
    /// `NONE`, `TOTAL`, `INDEXES`.
    pub return_consumed_capacity: Option<String>,
    /// Legacy filter.
    pub scan_filter: Option<BTreeMap<String, LegacyCondition>>,
    /// Legacy `AND`/`OR`.
    pub conditional_operator: Option<String>,
    /// Legacy projection.
    pub attributes_to_get: Option<Vec<String>>,
}

/// The keys and projection for one table in BatchGetItem.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeysAndAttributes {
    /// The keys.
    pub keys: Option<Vec<AttrMap>>,
    /// Strong consistency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistent_read: Option<bool>,
    /// Projection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub projection_expression: Option<String>,
    /// `#name` placeholders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expression_attribute_names: Option<HashMap<String, String>>,
    /// Legacy projection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes_to_get: Option<Vec<String>>,
}

/// BatchGetItem.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchGetItemInput {
    /// Table → keys.
    pub request_items: Option<HashMap<String, KeysAndAttributes>>,
    /// `NONE`, `TOTAL`, `INDEXES`.
    pub return_consumed_capacity: Option<String>,
}

/// One write in BatchWriteItem.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WriteRequest {
    /// A put.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub put_request: Option<PutRequest>,
    /// A delete.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_request: Option<DeleteRequest>,
}

/// PutRequest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutRequest {
    /// The item.
    pub item: Option<Item>,
}

/// DeleteRequest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteRequest {
    /// The key.
    pub key: Option<AttrMap>,
}

/// BatchWriteItem.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct BatchWriteItemInput {
    /// Table → writes.
    pub request_items: Option<HashMap<String, Vec<WriteRequest>>>,
    /// `NONE`, `TOTAL`, `INDEXES`.
    pub return_consumed_capacity: Option<String>,
    /// `NONE` or `SIZE`.
    pub return_item_collection_metrics: Option<String>,
}

/// A Get in TransactGetItems.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGet {
    /// The table.
    pub table_name: Option<String>,
    /// The key.
    pub key: Option<AttrMap>,
    /// Projection.
    pub projection_expression: Option<String>,
    /// `#name` placeholders.
    pub expression_attribute_names: Option<HashMap<String, String>>,
}

/// One TransactGetItem.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGetItem {
    /// The get.
    pub get: Option<TransactGet>,
}

/// TransactGetItems.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactGetItemsInput {
    /// The gets.
    pub transact_items: Option<Vec<TransactGetItem>>,
    /// `NONE`, `TOTAL`, `INDEXES`.
    pub return_consumed_capacity: Option<String>,
}

/// A write action in TransactWriteItems (the shape shared by all four kinds).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactAction {
    /// The table.
    pub table_name: Option<String>,
    /// Key (ConditionCheck, Update, Delete).
    pub key: Option<AttrMap>,
    /// Item (Put).
    pub item: Option<Item>,
    /// Update (Update).
    pub update_expression: Option<String>,
    /// Condition.
    pub condition_expression: Option<String>,
    /// `#name` placeholders.
    pub expression_attribute_names: Option<HashMap<String, String>>,
    /// `:value` placeholders.
    pub expression_attribute_values: Option<ExpressionValues>,
    /// `NONE` or `ALL_OLD`.
    pub return_values_on_condition_check_failure: Option<String>,
}

/// One TransactWriteItem: exactly one member set.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactWriteItem {
    /// ConditionCheck.
    pub condition_check: Option<TransactAction>,
    /// Put.
    pub put: Option<TransactAction>,
    /// Delete.
    pub delete: Option<TransactAction>,
    /// Update.
    pub update: Option<TransactAction>,
}

/// TransactWriteItems.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TransactWriteItemsInput {
    /// The actions.
    pub transact_items: Option<Vec<TransactWriteItem>>,
    /// Idempotency token.
    pub client_request_token: Option<String>,
    /// `NONE`, `TOTAL`, `INDEXES`.
    pub return_consumed_capacity: Option<String>,
    /// `NONE` or `SIZE`.
    pub return_item_collection_metrics: Option<String>,
}

/// TimeToLiveSpecification.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct TimeToLiveSpecification {
    /// On or off.
    pub enabled: Option<bool>,
    /// The attribute holding the expiry (epoch seconds).
    pub attribute_name: Option<String>,
}

/// UpdateTimeToLive.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateTimeToLiveInput {
    /// The table.
    pub table_name: Option<String>,
    /// The specification.
    pub time_to_live_specification: Option<TimeToLiveSpecification>,
}

/// TagResource.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    /// The table ARN.
    pub resource_arn: Option<String>,
    /// Tags to set.
    pub tags: Option<Vec<Tag>>,
}

/// UntagResource.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    /// The table ARN.
    pub resource_arn: Option<String>,
    /// Keys to remove.
    pub tag_keys: Option<Vec<String>>,
}

/// ListTagsOfResource.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsOfResourceInput {
    /// The table ARN.
    pub resource_arn: Option<String>,
    /// Pagination token.
    pub next_token: Option<String>,
}

/// An empty input (DescribeEndpoints, DescribeLimits).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct EmptyInput {}

/// PutResourcePolicy.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutResourcePolicyInput {
    /// The table (or stream) ARN.
    pub resource_arn: Option<String>,
    /// The policy document.
    pub policy: Option<String>,
    /// The revision the caller expects (`NO_POLICY`: none must exist).
    pub expected_revision_id: Option<String>,
    /// Confirms that the caller may lock itself out of the policy.
    pub confirm_remove_self_resource_access: Option<bool>,
}

/// GetResourcePolicy.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetResourcePolicyInput {
    /// The table (or stream) ARN.
    pub resource_arn: Option<String>,
}

/// DeleteResourcePolicy.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteResourcePolicyInput {
    /// The table (or stream) ARN.
    pub resource_arn: Option<String>,
    /// The revision the caller expects.
    pub expected_revision_id: Option<String>,
}
