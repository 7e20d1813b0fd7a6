//! Resource-based policies on tables: PutResourcePolicy, GetResourcePolicy,
//! DeleteResourcePolicy and CreateTable's `ResourcePolicy`, with revision
//! ids, the 20 KB limit and AWS's block-public-access rule.
//!
//! The policy language itself belongs to IAM, which this crate must not
//! depend on: documents are checked by the [`PolicyValidator`] the
//! composition root hands in. Without one every document is refused (fail
//! closed). Streams have no resource policies yet (Rampart has no streams
//! API): a stream ARN is answered like an unknown resource.
//!
//! INVARIANT: a document is stored only after the validator accepted it and
//! the block-public-access check found it non-public.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::catalog::policy_revision;
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
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(a)) => a.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return true,
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

impl DynamoDb {
    /// Installs the validator of resource-policy documents (composition root).
    pub fn set_policy_validator(&self, validator: PolicyValidator) {
        if let Ok(mut v) = self.policy_validator.write() {
            *v = Some(validator);
        }
    }

    /// The checks every resource-policy document passes before it is stored:
    /// size, the policy language, block public access.
    pub(crate) fn check_resource_policy(&self, document: &str) -> Result<()> {
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
        validator(document).map_err(|why| {
            DynamoError::validation(format!(
                "One or more parameter values were invalid: Invalid policy document: {why}"
            ))
        })?;
        if grants_public_access(document) {
            return Err(DynamoError::validation(
                "One or more parameter values were invalid: The resource-based policy grants public access to the resource; block public access refuses policies whose Principal is \"*\" unless a condition on a trusted key such as aws:PrincipalAccount or aws:PrincipalOrgID restricts it",
            ));
        }
        Ok(())
    }

    fn policy_target(&self, caller: &str, arn: &Option<String>) -> Result<Arc<Table>> {
        self.table_by_arn(caller, arn)
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
        let t = self.policy_target(caller, &input.resource_arn)?;
        let arn = t.meta.arn();
        let document = input.policy.unwrap_or_default();
        self.check_resource_policy(&document)?;
        let current = t.meta.resource_policy.as_ref();
        let current_rev = t.meta.resource_policy_revision.clone();
        match (input.expected_revision_id.as_deref(), current) {
            (None, _) => {}
            (Some(NO_POLICY), None) => {}
            (Some(NO_POLICY), Some(_)) | (Some(_), None) => return Err(policy_not_found(&arn)),
            (Some(expected), Some(_)) => {
                if current_rev.as_deref() != Some(expected) {
                    return Err(policy_not_found(&arn));
                }
            }
        }
        // Idempotent: the same document keeps its revision.
        if current == Some(&document)
            && let Some(rev) = &current_rev
        {
            return to_json(&json!({ "RevisionId": rev }));
        }
        let mut meta = t.meta.clone();
        let rev = policy_revision(self.now(), current_rev.as_deref());
        meta.resource_policy = Some(document);
        meta.resource_policy_revision = Some(rev.clone());
        self.save_table(Some(t.version), meta, Vec::new()).await?;
        to_json(&json!({ "RevisionId": rev }))
    }

    pub(crate) fn get_resource_policy(
        &self,
        caller: &str,
        input: GetResourcePolicyInput,
    ) -> Result<Vec<u8>> {
        let t = self.policy_target(caller, &input.resource_arn)?;
        match (&t.meta.resource_policy, &t.meta.resource_policy_revision) {
            (Some(p), rev) => to_json(&json!({
                "Policy": p,
                "RevisionId": rev.clone().unwrap_or_else(|| policy_revision(t.meta.created, None)),
            })),
            (None, _) => Err(policy_not_found(&t.meta.arn())),
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
        let t = self.policy_target(caller, &input.resource_arn)?;
        let arn = t.meta.arn();
        let rev = t.meta.resource_policy_revision.clone();
        match (
            &t.meta.resource_policy,
            input.expected_revision_id.as_deref(),
        ) {
            // Idempotent without an expected revision.
            (None, None) => return to_json(&json!({})),
            (None, Some(_)) => return Err(policy_not_found(&arn)),
            (Some(_), Some(expected)) if rev.as_deref() != Some(expected) => {
                return Err(policy_not_found(&arn));
            }
            (Some(_), _) => {}
        }
        let mut meta = t.meta.clone();
        meta.resource_policy = None;
        meta.resource_policy_revision = None;
        self.save_table(Some(t.version), meta, Vec::new()).await?;
        let mut out = serde_json::Map::new();
        if let Some(r) = rev {
            out.insert("RevisionId".into(), Value::String(r));
        }
        to_json(&Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(statement: Value) -> String {
        json!({"Version": "2012-10-17", "Statement": [statement]}).to_string()
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
