//! Resource-based policies on tables and streams: PutResourcePolicy,
//! GetResourcePolicy, DeleteResourcePolicy and CreateTable's
//! `ResourcePolicy`, with revision ids, the 20 KB limit, AWS's
//! block-public-access rule and the actions each kind of policy may name.
//!
//! A stream's policy is attached to the stream ARN
//! (`…:table/NAME/stream/LABEL`) and kept in the table's catalog record,
//! next to that stream's settings: only the table's latest stream (its
//! `LatestStreamArn`, enabled or disabled) can hold one, a stream enabled
//! later is a new stream with a new ARN and no policy, and DeleteTable
//! removes both policies with the record. Tables and streams share one code
//! path (`PolicyHolder`); only the rules of [`PolicyResource`] differ.
//!
//! The policy language itself belongs to IAM, which this crate must not
//! depend on: documents are checked by the [`PolicyValidator`] the
//! composition root hands in. Without one every document is refused (fail
//! closed).
//!
//! INVARIANT: a document is stored only after the validator accepted it, its
//! action names are valid for its resource and the block-public-access
//! check found it non-public.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::catalog::{TableMeta, parse_stream_arn, policy_revision};
use crate::error::{DynamoError, Result};
use crate::model::*;
use crate::service::{DynamoDb, Table, to_json};
use crate::validate::Validator;

/// Checks a resource-policy document; `Err` carries IAM's reason.
pub type PolicyValidator = Arc<dyn Fn(&str) -> std::result::Result<(), String> + Send + Sync>;

/// "The maximum size supported for a resource-based policy document is 20
/// KB. DynamoDB counts whitespaces when calculating the size of a policy
/// against this limit." (API Reference, PutResourcePolicy.)
pub const MAX_POLICY_BYTES: usize = 20 * 1024;

/// `ExpectedRevisionId` meaning "no policy may exist yet".
const NO_POLICY: &str = "NO_POLICY";

/// The resource a policy is attached to; the actions it may name differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyResource {
    /// A table (its policy also governs its indexes).
    Table,
    /// A table's stream.
    Stream,
}

/// The only actions a stream's policy may name, lower-cased: the stream
/// reads that act on a stream ARN, those of AWS's stream examples
/// ("Resource-based policy examples", "Attach a resource-based policy to a
/// DynamoDB stream"). AWS refuses `dynamodb:ListStreams` (which acts on no
/// stream) in a stream's policy with "The following action names are
/// invalid" (seen in aws-controllers-k8s/dynamodb-controller#176).
const STREAM_ACTIONS: [&str; 3] = [
    "dynamodb:describestream",
    "dynamodb:getrecords",
    "dynamodb:getsharditerator",
];

/// Actions AWS refuses in a table's policy, lower-cased: the stream actions
/// act on a stream ARN, never on the table ("Invalid policy document: The
/// following action names are invalid: "dynamodb:GetRecords", …", seen in
/// aws/aws-cdk#32230 and #36194).
const NOT_TABLE_ACTIONS: [&str; 4] = [
    "dynamodb:describestream",
    "dynamodb:getrecords",
    "dynamodb:getsharditerator",
    "dynamodb:liststreams",
];

/// The statements of a parsed document (one object or an array); `None`
/// when `Statement` is missing or neither.
fn statements(doc: &Value) -> Option<Vec<&Value>> {
    match doc.get("Statement") {
        Some(Value::Array(a)) => Some(a.iter().collect()),
        Some(s @ Value::Object(_)) => Some(vec![s]),
        _ => None,
    }
}

/// The strings of a policy element that is one string or a list of them.
fn names(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Why a document's actions are not allowed on `on`, in AWS's words where
/// AWS has them; `None` when they are. Action names compare without regard
/// to case, as IAM compares them.
fn invalid_actions(document: &str, on: PolicyResource) -> Option<String> {
    let doc = serde_json::from_str::<Value>(document).ok()?;
    let statements = statements(&doc).unwrap_or_default();
    let mut invalid: Vec<&str> = Vec::new();
    for s in &statements {
        for name in names(s.get("Action")) {
            let lower = name.to_ascii_lowercase();
            let bad = match on {
                // Only the literal stream reads: a wildcard could reach
                // actions a stream's policy may not name (fail closed; not
                // confirmed against AWS).
                PolicyResource::Stream => !STREAM_ACTIONS.contains(&lower.as_str()),
                PolicyResource::Table => NOT_TABLE_ACTIONS.contains(&lower.as_str()),
            };
            if bad && !invalid.contains(&name) {
                invalid.push(name);
            }
        }
    }
    if !invalid.is_empty() {
        let list: Vec<String> = invalid.iter().map(|n| format!("\"{n}\"")).collect();
        return Some(format!(
            "The following action names are invalid: {}",
            list.join(", ")
        ));
    }
    // `NotAction` in an Allow grants everything else, which a stream's
    // policy may not do (Rampart's rule and text; not confirmed).
    if on == PolicyResource::Stream && statements.iter().any(|s| s.get("NotAction").is_some()) {
        return Some(
            "NotAction is not supported in a stream's resource-based policy; list the stream actions (dynamodb:DescribeStream, dynamodb:GetRecords, dynamodb:GetShardIterator) in Action".into(),
        );
    }
    None
}

/// The condition keys block-public-access trusts to restrict who a `*`
/// principal is ("Blocking public access with resource-based policies in
/// DynamoDB"), lower-cased.
const TRUSTED_KEYS: [&str; 16] = [
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:userid",
    "aws:principalservicename",
    "aws:principalservicenameslist",
    "aws:principalisawsservice",
    "aws:ec2instancesourcevpc",
    "aws:sourceorgid",
    "aws:sourceorgpaths",
    "aws:sourceowner",
];

/// Operators under which a trusted key narrows the principal (positive
/// matches only: a negated, `IfExists` or `ForAllValues` condition can be
/// satisfied by anyone).
const NARROWING_OPERATORS: [&str; 7] = [
    "stringequals",
    "stringequalsignorecase",
    "stringlike",
    "arnequals",
    "arnlike",
    "bool",
    "foranyvalue:stringequals",
];

fn is_public_principal(p: &Value) -> bool {
    match p {
        Value::String(s) => s == "*",
        Value::Object(m) => m.get("AWS").is_some_and(|aws| match aws {
            Value::String(s) => s == "*",
            Value::Array(a) => a.iter().any(|v| v.as_str() == Some("*")),
            _ => false,
        }),
        _ => false,
    }
}

/// Whether a value pins something down: no wildcard, no variable.
fn is_fixed(v: &Value) -> bool {
    let fixed = |s: &str| !s.contains('*') && !s.contains('?') && !s.contains("${");
    match v {
        Value::String(s) => fixed(s),
        Value::Bool(_) | Value::Number(_) => true,
        Value::Array(a) => !a.is_empty() && a.iter().all(|x| x.as_str().is_none_or(fixed)),
        _ => false,
    }
}

fn narrows_principal(condition: Option<&Value>) -> bool {
    let Some(Value::Object(ops)) = condition else {
        return false;
    };
    ops.iter().any(|(op, keys)| {
        NARROWING_OPERATORS.contains(&op.to_ascii_lowercase().as_str())
            && keys.as_object().is_some_and(|keys| {
                keys.iter().any(|(k, v)| {
                    let k = k.to_ascii_lowercase();
                    TRUSTED_KEYS.contains(&k.as_str())
                        && is_fixed(v)
                        && (k != "aws:principalisawsservice"
                            || matches!(v, Value::Bool(true))
                            || v.as_str() == Some("true"))
                })
            })
    })
}

/// AWS's block-public-access rule: a document whose `Allow` statements let
/// anyone in (a `*` principal, or `NotPrincipal`) without a trusted
/// condition key pinning the caller down is public.
pub fn grants_public_access(document: &str) -> bool {
    let Ok(doc) = serde_json::from_str::<Value>(document) else {
        return true;
    };
    let Some(statements) = statements(&doc) else {
        return true;
    };
    statements.into_iter().any(|s| {
        let allow = s.get("Effect").and_then(Value::as_str) == Some("Allow");
        let anyone =
            s.get("NotPrincipal").is_some() || s.get("Principal").is_some_and(is_public_principal);
        allow && anyone && !narrows_principal(s.get("Condition"))
    })
}

fn policy_not_found(arn: &str) -> DynamoError {
    DynamoError::PolicyNotFound(format!(
        "Resource-based policy not found for the provided ResourceArn: {arn}"
    ))
}

/// What a `ResourceArn` names for the policy operations: a table, or the
/// table's latest stream. Both keep their policy in the table's catalog
/// record, so every write is one conditioned save of that record.
pub(crate) struct PolicyHolder {
    /// The table (for a stream, the table whose latest stream it is).
    table: Arc<Table>,
    /// The resource's canonical ARN.
    arn: String,
    /// Which of the two it is.
    on: PolicyResource,
}

impl PolicyHolder {
    /// The attached document and its revision id.
    fn policy(&self) -> (Option<&String>, Option<&String>) {
        let meta = &self.table.meta;
        match self.on {
            PolicyResource::Table => (
                meta.resource_policy.as_ref(),
                meta.resource_policy_revision.as_ref(),
            ),
            PolicyResource::Stream => meta.stream.as_ref().map_or((None, None), |s| {
                (
                    s.resource_policy.as_ref(),
                    s.resource_policy_revision.as_ref(),
                )
            }),
        }
    }

    /// The table's metadata with this resource's policy replaced.
    fn with_policy(&self, document: Option<String>, revision: Option<String>) -> TableMeta {
        let mut meta = self.table.meta.clone();
        match self.on {
            PolicyResource::Table => {
                meta.resource_policy = document;
                meta.resource_policy_revision = revision;
            }
            PolicyResource::Stream => {
                if let Some(s) = meta.stream.as_mut() {
                    s.resource_policy = document;
                    s.resource_policy_revision = revision;
                }
            }
        }
        meta
    }
}

impl DynamoDb {
    /// Installs the validator of resource-policy documents (composition root).
    pub fn set_policy_validator(&self, validator: PolicyValidator) {
        if let Ok(mut v) = self.policy_validator.write() {
            *v = Some(validator);
        }
    }

    /// The checks every resource-policy document passes before it is stored
    /// on `on`: size, the policy language, the actions `on` allows, block
    /// public access.
    pub(crate) fn check_resource_policy(&self, document: &str, on: PolicyResource) -> Result<()> {
        if document.len() > MAX_POLICY_BYTES {
            // The limit is AWS's; the text is Rampart's (not confirmed).
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Resource-based policy document size {} exceeds the maximum allowed size of {MAX_POLICY_BYTES} bytes",
                document.len()
            )));
        }
        let validator = self.policy_validator.read().ok().and_then(|v| v.clone());
        let Some(validator) = validator else {
            return Err(DynamoError::Internal(
                "no resource-policy validator is installed".into(),
            ));
        };
        let invalid = |why: &str| {
            DynamoError::validation(format!(
                "One or more parameter values were invalid: Invalid policy document: {why}"
            ))
        };
        validator(document).map_err(|why| invalid(&why))?;
        if let Some(why) = invalid_actions(document, on) {
            return Err(invalid(&why));
        }
        if grants_public_access(document) {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: The resource-based policy grants public access to the resource; block public access refuses policies whose Principal is \"*\" unless a condition on a trusted key such as aws:PrincipalAccount or aws:PrincipalOrgID restricts it",
            ));
        }
        Ok(())
    }

    /// The table or stream a `ResourceArn` names. A stream must be its
    /// table's latest one (`LatestStreamArn`, also while disabled): "You can
    /// also modify or delete the policy of a disabled stream." (Developer
    /// Guide, "Attach a resource-based policy to a DynamoDB stream".) An
    /// older stream, or one of a deleted table, is not found (Rampart keeps
    /// no retired streams).
    fn policy_target(&self, caller: &str, arn: &Option<String>) -> Result<PolicyHolder> {
        let mut v = Validator::new();
        if v.not_null(arn, "resourceArn") {
            v.length(arn.as_deref().unwrap_or_default(), "resourceArn", 1, 1283);
        }
        v.finish()?;
        let given = arn.as_deref().unwrap_or_default();
        let Some((region, owner, name, label)) = parse_stream_arn(given) else {
            let table = self.table_by_arn(caller, arn)?;
            return Ok(PolicyHolder {
                arn: table.meta.arn(),
                table,
                on: PolicyResource::Table,
            });
        };
        // The table operations' text for an unknown ResourceArn (not
        // confirmed for streams).
        let not_found = || {
            DynamoError::ResourceNotFound(format!(
                "Requested resource not found: ResourcArn: {given} not found"
            ))
        };
        let table = (region == self.region.as_str())
            .then(|| self.table(owner, name))
            .flatten()
            .filter(|t| t.meta.stream.as_ref().is_some_and(|s| s.label == label))
            .ok_or_else(not_found)?;
        Ok(PolicyHolder {
            arn: table.meta.stream_arn().ok_or_else(not_found)?,
            table,
            on: PolicyResource::Stream,
        })
    }

    pub(crate) async fn put_resource_policy(
        &self,
        caller: &str,
        input: PutResourcePolicyInput,
    ) -> Result<Vec<u8>> {
        let mut v = Validator::new();
        if v.not_null(&input.resource_arn, "resourceArn") {
            v.length(
                input.resource_arn.as_deref().unwrap_or_default(),
                "resourceArn",
                1,
                1283,
            );
        }
        v.not_null(&input.policy, "policy");
        if let Some(r) = &input.expected_revision_id {
            v.length(r, "expectedRevisionId", 1, 255);
        }
        v.finish()?;
        let h = self.policy_target(caller, &input.resource_arn)?;
        let document = input.policy.unwrap_or_default();
        self.check_resource_policy(&document, h.on)?;
        let (current, current_rev) = h.policy();
        match (input.expected_revision_id.as_deref(), current) {
            (None, _) => {}
            (Some(NO_POLICY), None) => {}
            (Some(NO_POLICY), Some(_)) | (Some(_), None) => return Err(policy_not_found(&h.arn)),
            (Some(expected), Some(_)) => {
                if current_rev.map(String::as_str) != Some(expected) {
                    return Err(policy_not_found(&h.arn));
                }
            }
        }
        // Idempotent: the same document keeps its revision.
        if current == Some(&document)
            && let Some(rev) = current_rev
        {
            return to_json(&json!({ "RevisionId": rev }));
        }
        let rev = policy_revision(self.now(), current_rev.map(String::as_str));
        let meta = h.with_policy(Some(document), Some(rev.clone()));
        self.save_table(Some(h.table.version), meta, Vec::new())
            .await?;
        to_json(&json!({ "RevisionId": rev }))
    }

    pub(crate) fn get_resource_policy(
        &self,
        caller: &str,
        input: GetResourcePolicyInput,
    ) -> Result<Vec<u8>> {
        let h = self.policy_target(caller, &input.resource_arn)?;
        match h.policy() {
            (Some(p), rev) => to_json(&json!({
                "Policy": p,
                "RevisionId": rev.cloned().unwrap_or_else(|| policy_revision(h.table.meta.created, None)),
            })),
            (None, _) => Err(policy_not_found(&h.arn)),
        }
    }

    pub(crate) async fn delete_resource_policy(
        &self,
        caller: &str,
        input: DeleteResourcePolicyInput,
    ) -> Result<Vec<u8>> {
        let mut v = Validator::new();
        if let Some(r) = &input.expected_revision_id {
            v.length(r, "expectedRevisionId", 1, 255);
        }
        v.finish()?;
        let h = self.policy_target(caller, &input.resource_arn)?;
        let (current, rev) = h.policy();
        let rev = rev.cloned();
        match (current, input.expected_revision_id.as_deref()) {
            // Idempotent without an expected revision.
            (None, None) => return to_json(&json!({})),
            (None, Some(_)) => return Err(policy_not_found(&h.arn)),
            (Some(_), Some(expected)) if rev.as_deref() != Some(expected) => {
                return Err(policy_not_found(&h.arn));
            }
            (Some(_), _) => {}
        }
        let meta = h.with_policy(None, None);
        self.save_table(Some(h.table.version), meta, Vec::new())
            .await?;
        let mut out = serde_json::Map::new();
        if let Some(r) = rev {
            out.insert("RevisionId".into(), Value::String(r));
        }
        to_json(&Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use rampart_core::{PrincipalKind, Region, RequestContext, SeededIds, SystemClock};
    use rampart_storage::MemoryEngine;

    use super::*;
    use crate::ops::Operation;
    use crate::service::AuthzRequest;

    const OWNER: &str = "111122223333";
    const READER: &str = "arn:aws:iam::444455556666:role/reader";

    fn doc(statement: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": [statement]}).to_string()
    }

    fn grant(actions: &[&str], resource: &str) -> String {
        doc(json!({"Effect": "Allow", "Principal": {"AWS": READER},
            "Action": actions, "Resource": resource}))
    }

    fn table_arn() -> String {
        format!("arn:aws:dynamodb:us-east-1:{OWNER}:table/Music")
    }

    fn root() -> RequestContext {
        RequestContext::for_tests(OWNER, PrincipalKind::Root).unwrap()
    }

    async fn call(db: &DynamoDb, op: Operation, body: Value) -> Result<Value> {
        let call = db.parse(op, body.to_string().as_bytes())?;
        let out = db.execute(&root(), call).await?;
        Ok(serde_json::from_slice(&out).unwrap())
    }

    fn requests(db: &DynamoDb, op: Operation, body: Value) -> Vec<AuthzRequest> {
        let call = db.parse(op, body.to_string().as_bytes()).unwrap();
        db.authz_requests(&root(), &call)
    }

    /// A table "Music" with a stream, a tag and a policy of its own; returns
    /// the service and the stream's ARN.
    async fn music() -> (Arc<DynamoDb>, String) {
        let db = DynamoDb::open(
            Arc::new(MemoryEngine::new()),
            Arc::new(SystemClock),
            Arc::new(SeededIds::new(7)),
            Region("us-east-1".into()),
        )
        .await
        .unwrap();
        db.set_policy_validator(Arc::new(|_doc: &str| Ok(())));
        let created = call(
            &db,
            Operation::CreateTable,
            json!({
                "TableName": "Music", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"},
                "Tags": [{"Key": "team", "Value": "audio"}],
                "ResourcePolicy": grant(&["dynamodb:GetItem"], &table_arn()),
            }),
        )
        .await
        .unwrap();
        let stream = created["TableDescription"]["LatestStreamArn"]
            .as_str()
            .unwrap()
            .to_owned();
        (db, stream)
    }

    fn stream_policy(stream: &str) -> String {
        grant(
            &[
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
            ],
            stream,
        )
    }

    #[test]
    fn a_stream_policy_names_only_the_stream_reads() {
        let s = "arn:aws:dynamodb:us-east-1:111122223333:table/T/stream/2024-01-01T00:00:00.000";
        assert_eq!(
            invalid_actions(&stream_policy(s), PolicyResource::Stream),
            None
        );
        // Case does not matter, as in IAM.
        assert_eq!(
            invalid_actions(&grant(&["DynamoDB:getrecords"], s), PolicyResource::Stream),
            None
        );
        assert_eq!(
            invalid_actions(
                &grant(&["dynamodb:GetRecords", "dynamodb:ListStreams"], s),
                PolicyResource::Stream
            )
            .as_deref(),
            Some("The following action names are invalid: \"dynamodb:ListStreams\"")
        );
        assert_eq!(
            invalid_actions(
                &grant(&["dynamodb:GetItem", "dynamodb:*", "dynamodb:GetItem"], s),
                PolicyResource::Stream
            )
            .as_deref(),
            Some("The following action names are invalid: \"dynamodb:GetItem\", \"dynamodb:*\"")
        );
        let not_action = doc(json!({"Effect": "Allow", "Principal": {"AWS": READER},
            "NotAction": "dynamodb:GetRecords", "Resource": s}));
        assert!(
            invalid_actions(&not_action, PolicyResource::Stream)
                .is_some_and(|why| why.starts_with("NotAction"))
        );
    }

    #[test]
    fn a_table_policy_may_not_name_the_stream_actions() {
        let t = table_arn();
        assert_eq!(
            invalid_actions(
                &grant(&["dynamodb:*", "dynamodb:GetItem"], &t),
                PolicyResource::Table
            ),
            None
        );
        assert_eq!(
            invalid_actions(
                &grant(
                    &[
                        "dynamodb:Query",
                        "dynamodb:GetRecords",
                        "dynamodb:ListStreams"
                    ],
                    &t
                ),
                PolicyResource::Table
            )
            .as_deref(),
            Some(
                "The following action names are invalid: \"dynamodb:GetRecords\", \"dynamodb:ListStreams\""
            )
        );
    }

    #[tokio::test]
    async fn a_request_on_the_stream_arn_carries_the_streams_policy_not_the_tables() {
        let (db, stream) = music().await;
        let table = table_arn();
        let table_policy = grant(&["dynamodb:GetItem"], &table);
        // No stream policy yet: a stream request carries none, never the table's.
        let r = db.resource_authz_request("dynamodb:GetRecords", &stream);
        assert_eq!(
            (r.resource.as_str(), r.resource_policy),
            (stream.as_str(), None)
        );
        let put = json!({"ResourceArn": stream, "Policy": stream_policy(&stream)});
        call(&db, Operation::PutResourcePolicy, put).await.unwrap();
        let r = db.resource_authz_request("dynamodb:GetRecords", &stream);
        assert_eq!(
            r.resource_policy,
            Some((stream.clone(), stream_policy(&stream)))
        );
        // A stream has no tags of its table.
        assert!(
            r.keys
                .iter()
                .all(|(k, _)| !k.starts_with("aws:ResourceTag/"))
        );
        // The policy operations on the stream ARN are evaluated against the
        // stream's policy, those on the table ARN against the table's.
        let on_stream = requests(
            &db,
            Operation::GetResourcePolicy,
            json!({"ResourceArn": stream}),
        );
        assert_eq!(on_stream[0].resource, stream);
        assert_eq!(
            on_stream[0].resource_policy,
            Some((stream.clone(), stream_policy(&stream)))
        );
        let on_table = requests(
            &db,
            Operation::GetResourcePolicy,
            json!({"ResourceArn": table}),
        );
        assert_eq!(
            on_table[0].resource_policy,
            Some((table.clone(), table_policy.clone()))
        );
        // Item reads keep the table's policy and tags.
        let get = requests(
            &db,
            Operation::GetItem,
            json!({"TableName": "Music", "Key": {"pk": {"S": "a"}}}),
        );
        assert_eq!(get[0].resource_policy, Some((table.clone(), table_policy)));
        assert!(get[0].keys.iter().any(|(k, _)| k == "aws:ResourceTag/team"));
        // Another label of the same table is another (unknown) stream: no policy.
        let stale = format!("{table}/stream/2000-01-01T00:00:00.000");
        assert_eq!(
            db.resource_authz_request("dynamodb:GetRecords", &stale)
                .resource_policy,
            None
        );
    }

    #[tokio::test]
    async fn stream_policies_follow_the_table_revision_rules() {
        let (db, stream) = music().await;
        let get = || {
            call(
                &db,
                Operation::GetResourcePolicy,
                json!({"ResourceArn": stream}),
            )
        };
        let not_found = |r: Result<Value>| {
            matches!(r, Err(DynamoError::PolicyNotFound(m))
            if m == format!("Resource-based policy not found for the provided ResourceArn: {stream}"))
        };
        assert!(not_found(get().await));
        let first = stream_policy(&stream);
        let rev = call(
            &db,
            Operation::PutResourcePolicy,
            json!({"ResourceArn": stream, "Policy": first, "ExpectedRevisionId": "NO_POLICY"}),
        )
        .await
        .unwrap()["RevisionId"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_eq!(
            get().await.unwrap(),
            json!({"Policy": first, "RevisionId": rev})
        );
        // The table's own policy is untouched, and its revision differs.
        let table = call(
            &db,
            Operation::GetResourcePolicy,
            json!({"ResourceArn": table_arn()}),
        )
        .await
        .unwrap();
        assert_eq!(
            table["Policy"],
            json!(grant(&["dynamodb:GetItem"], &table_arn()))
        );
        // Idempotent put; NO_POLICY or a wrong revision refused.
        let same = call(
            &db,
            Operation::PutResourcePolicy,
            json!({"ResourceArn": stream, "Policy": first}),
        )
        .await
        .unwrap();
        assert_eq!(same["RevisionId"], json!(rev));
        let second = grant(&["dynamodb:GetRecords"], &stream);
        for expected in ["NO_POLICY", "1"] {
            let r = call(
                &db,
                Operation::PutResourcePolicy,
                json!({"ResourceArn": stream, "Policy": second, "ExpectedRevisionId": expected}),
            )
            .await;
            assert!(not_found(r), "{expected}");
        }
        let rev2 = call(
            &db,
            Operation::PutResourcePolicy,
            json!({"ResourceArn": stream, "Policy": second, "ExpectedRevisionId": rev}),
        )
        .await
        .unwrap()["RevisionId"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(rev2, rev);
        let r = call(
            &db,
            Operation::DeleteResourcePolicy,
            json!({"ResourceArn": stream, "ExpectedRevisionId": rev}),
        )
        .await;
        assert!(not_found(r));
        let deleted = call(
            &db,
            Operation::DeleteResourcePolicy,
            json!({"ResourceArn": stream, "ExpectedRevisionId": rev2}),
        )
        .await
        .unwrap();
        assert_eq!(deleted, json!({"RevisionId": rev2}));
        assert!(not_found(get().await));
        assert!(
            call(
                &db,
                Operation::GetResourcePolicy,
                json!({"ResourceArn": table_arn()})
            )
            .await
            .is_ok()
        );
    }

    #[tokio::test]
    async fn a_stream_policy_lives_as_long_as_its_stream() {
        let (db, stream) = music().await;
        let policy = stream_policy(&stream);
        call(
            &db,
            Operation::PutResourcePolicy,
            json!({"ResourceArn": stream, "Policy": policy}),
        )
        .await
        .unwrap();
        let unknown = |r: Result<Value>, arn: &str| {
            matches!(r, Err(DynamoError::ResourceNotFound(m))
            if m == format!("Requested resource not found: ResourcArn: {arn} not found"))
        };
        // Another label, another region or another table: not the table's stream.
        for arn in [
            format!("{}/stream/2000-01-01T00:00:00.000", table_arn()),
            stream.replace("us-east-1", "eu-west-1"),
            stream.replace("table/Music", "table/Nope"),
        ] {
            let r = call(
                &db,
                Operation::PutResourcePolicy,
                json!({"ResourceArn": arn, "Policy": policy}),
            )
            .await;
            assert!(unknown(r, &arn), "{arn}");
        }
        // A disabled stream keeps its policy, which can still be changed.
        call(
            &db,
            Operation::UpdateTable,
            json!({"TableName": "Music",
            "StreamSpecification": {"StreamEnabled": false}}),
        )
        .await
        .unwrap();
        let got = call(
            &db,
            Operation::GetResourcePolicy,
            json!({"ResourceArn": stream}),
        )
        .await
        .unwrap();
        assert_eq!(got["Policy"], json!(policy));
        // A new stream has a new ARN and no policy; the old ARN is gone.
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let enabled = call(
            &db,
            Operation::UpdateTable,
            json!({"TableName": "Music",
            "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "KEYS_ONLY"}}),
        )
        .await
        .unwrap();
        let new = enabled["TableDescription"]["LatestStreamArn"]
            .as_str()
            .unwrap()
            .to_owned();
        assert_ne!(new, stream);
        let r = call(
            &db,
            Operation::GetResourcePolicy,
            json!({"ResourceArn": new}),
        )
        .await;
        assert!(matches!(r, Err(DynamoError::PolicyNotFound(_))));
        assert_eq!(
            db.resource_authz_request("dynamodb:GetRecords", &new)
                .resource_policy,
            None
        );
        assert_eq!(
            db.resource_authz_request("dynamodb:GetRecords", &stream)
                .resource_policy,
            None
        );
        let r = call(
            &db,
            Operation::GetResourcePolicy,
            json!({"ResourceArn": stream}),
        )
        .await;
        assert!(unknown(r, &stream));
        // DeleteTable removes the stream's policy with the table.
        call(
            &db,
            Operation::PutResourcePolicy,
            json!({"ResourceArn": new, "Policy": stream_policy(&new)}),
        )
        .await
        .unwrap();
        call(&db, Operation::DeleteTable, json!({"TableName": "Music"}))
            .await
            .unwrap();
        let r = call(
            &db,
            Operation::GetResourcePolicy,
            json!({"ResourceArn": new}),
        )
        .await;
        assert!(unknown(r, &new));
        assert_eq!(
            db.resource_authz_request("dynamodb:GetRecords", &new)
                .resource_policy,
            None
        );
    }

    #[tokio::test]
    async fn stream_documents_are_checked_like_table_documents() {
        let (db, stream) = music().await;
        let refused = |r: Result<Value>| match r {
            Err(DynamoError::Validation(m)) => m,
            other => panic!("not refused: {other:?}"),
        };
        let put = |policy: String| {
            call(
                &db,
                Operation::PutResourcePolicy,
                json!({"ResourceArn": stream, "Policy": policy}),
            )
        };
        assert_eq!(
            refused(
                put(grant(
                    &["dynamodb:GetRecords", "dynamodb:ListStreams"],
                    &stream
                ))
                .await
            ),
            "One or more parameter values were invalid: Invalid policy document: The following action names are invalid: \"dynamodb:ListStreams\""
        );
        let public = doc(json!({"Effect": "Allow", "Principal": "*",
            "Action": "dynamodb:GetRecords", "Resource": stream}));
        assert!(refused(put(public).await).contains("public access"));
        let big = stream_policy(&stream) + &" ".repeat(MAX_POLICY_BYTES);
        assert!(refused(put(big).await).contains("exceeds the maximum allowed size"));
        // CreateTable's policy is the table's: stream actions are refused there.
        let r = call(
            &db,
            Operation::CreateTable,
            json!({
                "TableName": "Other", "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "StreamSpecification": {"StreamEnabled": true, "StreamViewType": "NEW_IMAGE"},
                "ResourcePolicy": grant(&["dynamodb:GetRecords"], &stream),
            }),
        )
        .await;
        assert!(refused(r).contains("\"dynamodb:GetRecords\""));
        let r = call(
            &db,
            Operation::GetResourcePolicy,
            json!({"ResourceArn": stream}),
        )
        .await;
        assert!(matches!(r, Err(DynamoError::PolicyNotFound(_))));
    }

    #[test]
    fn star_principal_without_condition_is_public() {
        assert!(grants_public_access(&doc(json!({
            "Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*"
        }))));
        assert!(grants_public_access(&doc(json!({
            "Effect": "Allow", "Principal": {"AWS": ["111122223333", "*"]}, "Action": "dynamodb:*", "Resource": "*"
        }))));
    }

    #[test]
    fn named_accounts_are_not_public() {
        assert!(!grants_public_access(&doc(json!({
            "Effect": "Allow", "Principal": {"AWS": ["123456789012", "111122223333"]},
            "Action": "dynamodb:*", "Resource": "*"
        }))));
    }

    #[test]
    fn trusted_key_with_a_fixed_value_makes_star_non_public() {
        assert!(!grants_public_access(&doc(json!({
            "Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*",
            "Condition": {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}
        }))));
    }

    #[test]
    fn trusted_key_with_a_wildcard_or_negation_stays_public() {
        assert!(grants_public_access(&doc(json!({
            "Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*",
            "Condition": {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}}
        }))));
        assert!(grants_public_access(&doc(json!({
            "Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*",
            "Condition": {"StringNotEquals": {"aws:PrincipalAccount": "111122223333"}}
        }))));
        assert!(grants_public_access(&doc(json!({
            "Effect": "Allow", "Principal": "*", "Action": "dynamodb:GetItem", "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceIp": "10.0.0.1"}}
        }))));
    }

    #[test]
    fn deny_with_star_is_not_public() {
        assert!(!grants_public_access(&doc(json!({
            "Effect": "Deny", "Principal": "*", "Action": "dynamodb:*", "Resource": "*"
        }))));
    }

    #[test]
    fn not_principal_allow_is_public() {
        assert!(grants_public_access(&doc(json!({
            "Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"}, "Action": "dynamodb:*", "Resource": "*"
        }))));
    }

    #[test]
    fn unreadable_document_counts_as_public() {
        assert!(grants_public_access("{"));
        assert!(grants_public_access("{}"));
    }
}
