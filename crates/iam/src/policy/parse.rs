//! Policy documents to [`Policy`], validated as AWS validates them.
//!
//! IAM reports only the first problem it finds, checking in stages; each stage has a fixed
//! message (`MalformedPolicyDocument`). The stages and texts below follow what IAM answers, as
//! recorded by moto's validator (`moto/iam/policy_validation.py`, written against real IAM
//! responses) and by the errors users quote in issue trackers:
//!
//! 1. grammar: JSON, known elements, value shapes: "Syntax errors in policy.";
//! 2. version (identity policies, boundaries, trust policies): "Policy document must be version
//!    2012-10-17 or greater.";
//! 3. the legacy parser (`Effect` spelled exactly, date condition values, ARN shapes): "The
//!    policy failed legacy parsing";
//! 4. unique `Sid`s: "Statement IDs (SID) in a single policy must be unique.";
//! 5. actions present: "Policy statement must contain actions.";
//! 6. resource ARN format (`Resource x must be in ARN format or "*".`, partition, region);
//! 7. action vendor prefixes ("Actions/Conditions must be prefaced by a vendor, ...");
//! 8. resources present: "Policy statement must contain resources.";
//! 9. what the policy kind allows: "Policy document should not specify a principal.",
//!    "Missing required field Principal", "Has prohibited field Resource", the trust-policy
//!    action rule, and the SCP element rule.
//!
//! Size limits are the caller's (they depend on where the policy is stored); [`policy_size`]
//! counts characters the way each service does.
//!
//! INVARIANT: parsing never panics and never accepts a document that says two things (duplicate
//! JSON keys are a syntax error, see `json.rs`).

use std::collections::HashMap;

use super::ast::{
    ActionClause, AwsPrincipal, Effect, Policy, PolicyKind, PrincipalClause, PrincipalSet,
    ResourceClause, ResourcePat, Statement, Version,
};
use super::condition::{Condition, Operator};
use super::context::Key;
use super::json::{self, Json, member};
use super::pattern::{ArnPat, Matcher, Template, compile_glob};
use super::time;

/// Why a policy document was refused. The `Display` text is AWS's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Not JSON, an unknown element, or an element of the wrong shape.
    #[error("Syntax errors in policy.")]
    Syntax,
    /// The kind requires `"Version": "2012-10-17"`.
    #[error("Policy document must be version 2012-10-17 or greater.")]
    VersionRequired,
    /// IAM's legacy parser refused it (an `Effect` not spelled `Allow`/`Deny`, a date
    /// condition value that is not a date, an ARN it cannot split).
    #[error("The policy failed legacy parsing")]
    LegacyParsing,
    /// Two statements share a `Sid`.
    #[error("Statement IDs (SID) in a single policy must be unique.")]
    DuplicateSid,
    /// A statement has no `Action`/`NotAction`, or an empty one.
    #[error("Policy statement must contain actions.")]
    NoActions,
    /// A statement has no `Resource`/`NotResource`, or an empty one.
    #[error("Policy statement must contain resources.")]
    NoResources,
    /// A `Resource` that is not an ARN IAM accepts; the message names it.
    #[error("{message}")]
    InvalidResource {
        /// AWS's message, naming the resource.
        message: String,
    },
    /// An action without `vendor:`.
    #[error("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")]
    ActionWithoutVendor,
    /// An action with more than one colon.
    #[error("Actions/Condition can contain only one colon.")]
    ActionColons,
    /// A vendor (service prefix) with characters other than letters, digits, `-` and `.`.
    #[error("Vendor {0} is not valid")]
    InvalidVendor(String),
    /// A `Principal`/`NotPrincipal` in a policy kind that has none (identity, session,
    /// boundary).
    #[error("Policy document should not specify a principal.")]
    PrincipalNotAllowed,
    /// A required element is missing (`Principal` in resource, trust and endpoint policies;
    /// `Effect` in resource and endpoint policies).
    #[error("Missing required field {0}")]
    MissingField(&'static str),
    /// An element the kind forbids (`Resource` in a trust policy).
    #[error("Has prohibited field {0}")]
    ProhibitedField(&'static str),
    /// A principal that is not an account, an IAM/STS ARN, a service or a provider.
    #[error("Invalid principal in policy: {0}")]
    InvalidPrincipal(String),
    /// An unknown condition operator (resource, endpoint and service control policies; IAM
    /// answers "Syntax errors in policy." for its own kinds).
    #[error("Invalid Condition type : {0}")]
    InvalidConditionType(String),
    /// A trust policy statement with an action other than STS's.
    #[error(
        "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity"
    )]
    TrustPolicyActions,
    /// A service control policy using what SCPs do not support (`Principal`, `NotPrincipal`,
    /// a version other than 2012-10-17): AWS Organizations' message.
    #[error(
        "The provided policy document does not meet the requirements of the specified policy type."
    )]
    NotForPolicyType,
}

/// How a service counts a policy document against its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeRule {
    /// IAM (managed and inline policies, boundaries): "IAM does not count white space when
    /// calculating the size of a policy" (IAM User Guide, "IAM and AWS STS quotas").
    IamWithoutWhitespace,
    /// Every character counts (SCPs: "All characters in your SCP count against its maximum
    /// size"; resource policies).
    AllCharacters,
}

/// The size of `document` in characters, as `rule` counts it. Callers compare it with the
/// limit of the place the policy goes (6,144 for a managed policy, 2,048/5,120/10,240 for the
/// inline policies of a user/group/role, 5,120 for an SCP, 20 KB for a DynamoDB resource
/// policy).
pub fn policy_size(document: &str, rule: SizeRule) -> usize {
    match rule {
        SizeRule::IamWithoutWhitespace => document.chars().filter(|c| !c.is_whitespace()).count(),
        SizeRule::AllCharacters => document.chars().count(),
    }
}

const STATEMENT_ELEMENTS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Partitions accepted in resource ARNs.
const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// IAM resource types a path may start with ("IAM resource path must either be "*" or start
/// with ...").
const IAM_PATHS: [&str; 13] = [
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

/// A statement after the grammar stage: still raw values, shapes checked.
struct RawStatement<'j> {
    sid: Option<&'j str>,
    effect: &'j str,
    principal: Option<(bool, &'j Json)>,
    action: Option<(bool, Vec<&'j str>)>,
    resource: Option<(bool, Vec<&'j str>)>,
    /// (operator name, key, values as text).
    conditions: Vec<(&'j str, Operator, &'j str, Vec<String>)>,
}

impl Policy {
    /// Parses and validates `document` as a policy of `kind`, and compiles it for evaluation.
    pub fn parse(document: &str, kind: PolicyKind) -> Result<Self, PolicyError> {
        // IAM policy documents "can contain only the following Unicode characters: horizontal
        // tab (U+0009), linefeed (U+000A), carriage return (U+000D), and characters in the
        // range U+0020 to U+00FF" (DynamoDB Developer Guide, "Using IAM policy conditions for
        // fine-grained access control").
        if kind.is_iam()
            && !document
                .chars()
                .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{ff}'))
        {
            return Err(PolicyError::Syntax);
        }
        let root = json::parse(document).ok_or(PolicyError::Syntax)?;
        let top = root.as_object().ok_or(PolicyError::Syntax)?;

        // Stage 1: grammar.
        for (k, _) in top {
            if !matches!(k.as_str(), "Version" | "Id" | "Statement") {
                return Err(PolicyError::Syntax);
            }
        }
        let version = match member(top, "Version") {
            None => None,
            Some(v) => match v.as_str() {
                Some("2012-10-17") => Some(Version::V2012_10_17),
                Some("2008-10-17") => Some(Version::V2008_10_17),
                _ => return Err(PolicyError::Syntax),
            },
        };
        let id = match member(top, "Id") {
            None => None,
            Some(v) => Some(v.as_str().ok_or(PolicyError::Syntax)?.to_owned()),
        };
        let statement_values: Vec<&Json> = match member(top, "Statement") {
            Some(Json::Array(items)) if !items.is_empty() => items.iter().collect(),
            Some(obj @ Json::Object(_)) => vec![obj],
            _ => return Err(PolicyError::Syntax),
        };
        let raw: Vec<RawStatement<'_>> = statement_values
            .into_iter()
            .map(|s| grammar(s, kind))
            .collect::<Result<_, _>>()?;

        // Stage 2: version.
        if version != Some(Version::V2012_10_17) {
            match kind {
                PolicyKind::Identity | PolicyKind::PermissionsBoundary | PolicyKind::Trust => {
                    return Err(PolicyError::VersionRequired);
                }
                // "Every SCP must have a Version element with the value 2012-10-17" (AWS
                // Organizations User Guide, "SCP syntax").
                PolicyKind::ServiceControl => return Err(PolicyError::NotForPolicyType),
                PolicyKind::Resource | PolicyKind::Session | PolicyKind::VpcEndpoint => {}
            }
        }

        // Stage 3: the legacy parser; resource format errors are kept for stage 6.
        let mut resource_error: Option<String> = None;
        for st in &raw {
            if !matches!(st.effect, "Allow" | "Deny") {
                return Err(PolicyError::LegacyParsing);
            }
            for (_, op, _, values) in &st.conditions {
                if op.is_date() && values.iter().any(|v| time::parse(v).is_none()) {
                    return Err(PolicyError::LegacyParsing);
                }
            }
            if let Some((_, resources)) = &st.resource {
                for r in resources {
                    match resource_format_error(r) {
                        Some(msg) => {
                            resource_error.get_or_insert(msg);
                        }
                        None => {
                            if !legacy_resource_ok(r) {
                                return Err(PolicyError::LegacyParsing);
                            }
                        }
                    }
                }
            }
        }

        // Stage 4: unique statement ids (empty ones are not ids).
        let mut sids = std::collections::HashSet::new();
        for sid in raw.iter().filter_map(|s| s.sid).filter(|s| !s.is_empty()) {
            if !sids.insert(sid) {
                return Err(PolicyError::DuplicateSid);
            }
        }

        // Stage 5: actions present.
        if raw
            .iter()
            .any(|s| s.action.as_ref().is_none_or(|(_, a)| a.is_empty()))
        {
            return Err(PolicyError::NoActions);
        }

        // Stage 6: resource formats.
        if let Some(message) = resource_error {
            return Err(PolicyError::InvalidResource { message });
        }

        // Stage 7: action vendors.
        for st in &raw {
            for a in st.action.iter().flat_map(|(_, a)| a) {
                check_action(a)?;
            }
        }

        // Stage 8: resources present (trust policies have none).
        if kind != PolicyKind::Trust
            && raw
                .iter()
                .any(|s| s.resource.as_ref().is_none_or(|(_, r)| r.is_empty()))
        {
            return Err(PolicyError::NoResources);
        }

        // Stage 9: what the kind allows.
        for st in &raw {
            check_kind(st, kind)?;
        }

        let substitute = version == Some(Version::V2012_10_17);
        let mut keys: Vec<Key> = Vec::new();
        let mut statements: Vec<Statement> = raw
            .into_iter()
            .enumerate()
            .map(|(index, st)| compile_statement(index, st, substitute, &mut keys))
            .collect::<Result<_, _>>()?;
        let shared_conditions = share_conditions(&mut statements);
        // Conservative on purpose: any `${` in the text (in any element, whatever the
        // version) counts as a variable, so a policy is never wrongly judged context-free.
        let reads_context = !keys.is_empty()
            || document.contains("${")
            || statements
                .iter()
                .any(|s| !s.conditions.is_empty() || !s.required_vars.is_empty());
        let mut sorted_keys = keys.clone();
        sorted_keys.sort_unstable();
        Ok(Self {
            kind,
            version,
            id,
            statements,
            keys,
            sorted_keys,
            shared_conditions,
            reads_context,
        })
    }
}

/// Stage 1 for one statement.
fn grammar(value: &Json, kind: PolicyKind) -> Result<RawStatement<'_>, PolicyError> {
    let obj = value.as_object().ok_or(PolicyError::Syntax)?;
    for (k, _) in obj {
        if !STATEMENT_ELEMENTS.contains(&k.as_str()) {
            return Err(PolicyError::Syntax);
        }
    }
    let both = |a: &str, b: &str| member(obj, a).is_some() && member(obj, b).is_some();
    if both("Action", "NotAction")
        || both("Resource", "NotResource")
        || both("Principal", "NotPrincipal")
    {
        return Err(PolicyError::Syntax);
    }
    let sid = match member(obj, "Sid") {
        None => None,
        Some(v) => Some(v.as_str().ok_or(PolicyError::Syntax)?),
    };
    let effect = match member(obj, "Effect") {
        Some(v) => v.as_str().ok_or(PolicyError::Syntax)?,
        None if kind.is_iam() => return Err(PolicyError::Syntax),
        None => return Err(PolicyError::MissingField("Effect")),
    };
    if !effect.eq_ignore_ascii_case("Allow") && !effect.eq_ignore_ascii_case("Deny") {
        return Err(PolicyError::Syntax);
    }
    let principal = match (member(obj, "Principal"), member(obj, "NotPrincipal")) {
        (Some(p), _) => Some((false, principal_shape(p)?)),
        (None, Some(p)) => Some((true, principal_shape(p)?)),
        (None, None) => None,
    };
    let action = string_list(obj, "Action", "NotAction")?;
    let resource = string_list(obj, "Resource", "NotResource")?;
    let mut conditions = Vec::new();
    if let Some(c) = member(obj, "Condition") {
        let blocks = c.as_object().ok_or(PolicyError::Syntax)?;
        for (name, block) in blocks {
            let keys = block.as_object().ok_or(PolicyError::Syntax)?;
            let mut parsed = Vec::with_capacity(keys.len());
            for (key, v) in keys {
                parsed.push((key.as_str(), condition_values(v)?));
            }
            let Some(operator) = Operator::parse(name) else {
                if parsed.is_empty() {
                    // An unknown operator with nothing under it constrains nothing.
                    continue;
                }
                return Err(if kind.is_iam() {
                    PolicyError::Syntax
                } else {
                    PolicyError::InvalidConditionType(name.clone())
                });
            };
            for (key, values) in parsed {
                conditions.push((name.as_str(), operator, key, values));
            }
        }
    }
    Ok(RawStatement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

/// `"*"`, or an object of principal types to a string or a non-empty list of strings.
fn principal_shape(p: &Json) -> Result<&Json, PolicyError> {
    match p {
        Json::String(s) if s == "*" => Ok(p),
        Json::Object(types) if !types.is_empty() => {
            for (ty, v) in types {
                if !matches!(
                    ty.as_str(),
                    "AWS" | "Service" | "Federated" | "CanonicalUser"
                ) {
                    return Err(PolicyError::Syntax);
                }
                match v {
                    Json::String(_) => {}
                    Json::Array(items)
                        if !items.is_empty() && items.iter().all(|i| i.as_str().is_some()) => {}
                    _ => return Err(PolicyError::Syntax),
                }
            }
            Ok(p)
        }
        _ => Err(PolicyError::Syntax),
    }
}

/// `key` or `not_key`: a string or a list of strings. `Some((negated, values))`.
fn string_list<'j>(
    obj: &'j [(String, Json)],
    key: &str,
    not_key: &str,
) -> Result<Option<(bool, Vec<&'j str>)>, PolicyError> {
    let (negated, v) = match (member(obj, key), member(obj, not_key)) {
        (Some(v), _) => (false, v),
        (None, Some(v)) => (true, v),
        (None, None) => return Ok(None),
    };
    let values = match v {
        Json::String(s) => vec![s.as_str()],
        Json::Array(items) => items
            .iter()
            .map(|i| i.as_str().ok_or(PolicyError::Syntax))
            .collect::<Result<_, _>>()?,
        _ => return Err(PolicyError::Syntax),
    };
    Ok(Some((negated, values)))
}

/// A condition value: a string, number or boolean, or a non-empty list of them. An empty
/// list is refused: AWS's handling of it is undocumented and a negated operator would turn it
/// into "always true".
fn condition_values(v: &Json) -> Result<Vec<String>, PolicyError> {
    let scalar = |j: &Json| match j {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) => Ok(n.clone()),
        Json::Bool(b) => Ok(b.to_string()),
        _ => Err(PolicyError::Syntax),
    };
    match v {
        Json::Array(items) if !items.is_empty() => items.iter().map(scalar).collect(),
        Json::Array(_) => Err(PolicyError::Syntax),
        other => Ok(vec![scalar(other)?]),
    }
}

/// The format error IAM reports for a resource, if any.
fn resource_format_error(r: &str) -> Option<String> {
    if r == "*" {
        return None;
    }
    let Some((_, rest)) = r.split_once(':') else {
        return Some(format!("Resource {r} must be in ARN format or \"*\"."));
    };
    let (partition, after_partition) = match rest.split_once(':') {
        Some((p, a)) => (p, Some(a)),
        None => (rest, None),
    };
    if !PARTITIONS.contains(&partition) {
        // IAM echoes the ARN with missing parts shown as "*".
        let parts: Vec<&str> = after_partition
            .map(|a| a.split(':').collect())
            .unwrap_or_default();
        let part = |i: usize| match parts.get(i) {
            Some(p) if !(i == 0 && p.is_empty() && parts.len() == 1) => (*p).to_owned(),
            _ => "*".to_owned(),
        };
        let last = if parts.len() > 3 {
            parts.get(3..).map(|p| p.join(":")).unwrap_or_default()
        } else {
            "*".to_owned()
        };
        return Some(format!(
            "Partition \"{partition}\" is not valid for resource \"arn:{partition}:{}:{}:{}:{last}\".",
            part(0),
            part(1),
            part(2)
        ));
    }
    let Some(after_partition) = after_partition else {
        return Some(
            "Resource vendor must be fully qualified and cannot contain regexes.".to_owned(),
        );
    };
    let (service, after_service) = after_partition
        .split_once(':')
        .unwrap_or((after_partition, ""));
    let resource_id = after_service.splitn(3, ':').nth(2).unwrap_or("");
    let has_region = !after_service.starts_with(':');
    if service == "iam" && has_region {
        return Some(format!(
            "IAM resource {r} cannot contain region information."
        ));
    }
    if service == "s3" && has_region && !resource_id.starts_with("accesspoint/") {
        return Some(format!("Resource {r} can not contain region information."));
    }
    if service == "iam" && !IAM_PATHS.iter().any(|p| resource_id.starts_with(p)) {
        return Some(format!(
            "IAM resource path must either be \"*\" or start with {}.",
            IAM_PATHS.join(", ")
        ));
    }
    None
}

/// The legacy parser's check of an ARN's shape.
fn legacy_resource_ok(r: &str) -> bool {
    if r == "*" {
        return true;
    }
    if r.matches(':').count() < 5 && r.contains("::") {
        return false;
    }
    r.split(':')
        .nth(2)
        .is_some_and(|service| !service.is_empty())
}

fn check_action(a: &str) -> Result<(), PolicyError> {
    let mut parts = a.split(':');
    let vendor = parts.next().unwrap_or("");
    match (parts.next(), parts.next()) {
        (None, _) if a != "*" => return Err(PolicyError::ActionWithoutVendor),
        (Some(_), Some(_)) => return Err(PolicyError::ActionColons),
        _ => {}
    }
    let valid = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
    if vendor != "*" && !vendor.bytes().all(valid) {
        return Err(PolicyError::InvalidVendor(vendor.to_owned()));
    }
    Ok(())
}

/// Stage 9: the elements the kind requires or forbids.
fn check_kind(st: &RawStatement<'_>, kind: PolicyKind) -> Result<(), PolicyError> {
    match kind {
        PolicyKind::Identity | PolicyKind::Session | PolicyKind::PermissionsBoundary => {
            if st.principal.is_some() {
                return Err(PolicyError::PrincipalNotAllowed);
            }
        }
        // SCP elements: Version, Statement, Sid, Effect, Action, NotAction, Resource,
        // NotResource, Condition (AWS Organizations User Guide, "SCP syntax"). No principal:
        // an SCP applies to the principals of the accounts it is attached to.
        PolicyKind::ServiceControl => {
            if st.principal.is_some() {
                return Err(PolicyError::NotForPolicyType);
            }
        }
        PolicyKind::Resource | PolicyKind::VpcEndpoint => {
            if st.principal.is_none() {
                return Err(PolicyError::MissingField("Principal"));
            }
        }
        PolicyKind::Trust => {
            if st.principal.is_none() {
                return Err(PolicyError::MissingField("Principal"));
            }
            if st.resource.is_some() {
                return Err(PolicyError::ProhibitedField("Resource"));
            }
            for a in st.action.iter().flat_map(|(_, a)| a) {
                if !a.to_ascii_lowercase().starts_with("sts:") {
                    return Err(PolicyError::TrustPolicyActions);
                }
            }
        }
    }
    Ok(())
}

/// Numbers the conditions written identically in several statements (a policy often repeats
/// its network or tag conditions in each statement), so that an evaluation decides each once;
/// returns how many there are.
fn share_conditions(statements: &mut [Statement]) -> usize {
    let mut counts: HashMap<(String, String, Vec<String>), usize> = HashMap::new();
    let owned = |c: &Condition| {
        let (op, key, values) = c.identity();
        (op.to_owned(), key.to_owned(), values.to_vec())
    };
    for c in statements.iter().flat_map(|st| &st.conditions) {
        *counts.entry(owned(c)).or_default() += 1;
    }
    let mut shared: HashMap<(String, String, Vec<String>), usize> = HashMap::new();
    for c in statements.iter_mut().flat_map(|st| &mut st.conditions) {
        let id = owned(c);
        if counts.get(&id).is_some_and(|n| *n > 1) {
            let next = shared.len();
            c.shared = *shared.entry(id).or_insert(next);
        }
    }
    shared.len()
}

/// The slot of `key` in the policy's key table, added if new.
fn slot(keys: &mut Vec<Key>, key: &Key) -> usize {
    match keys.iter().position(|k| k == key) {
        Some(i) => i,
        None => {
            keys.push(key.clone());
            keys.len() - 1
        }
    }
}

fn compile_statement(
    index: usize,
    st: RawStatement<'_>,
    substitute: bool,
    keys: &mut Vec<Key>,
) -> Result<Statement, PolicyError> {
    let effect = if st.effect == "Allow" {
        Effect::Allow
    } else {
        Effect::Deny
    };
    let principal = match st.principal {
        None => PrincipalClause::Absent,
        Some((false, p)) => PrincipalClause::Principal(compile_principals(p)?),
        Some((true, p)) => PrincipalClause::NotPrincipal(compile_principals(p)?),
    };
    let action = match st.action {
        Some((negated, patterns)) => ActionClause {
            negated,
            patterns: patterns
                .iter()
                .map(|a| Matcher::new(&compile_glob(&a.to_lowercase())))
                .collect(),
        },
        None => return Err(PolicyError::NoActions),
    };
    let mut required_vars = Vec::new();
    let compile_resources = |list: &[&str], vars: &mut Vec<Key>| -> Vec<ResourcePat> {
        list.iter()
            .map(|r| {
                if *r == "*" {
                    return ResourcePat::Any;
                }
                let g = ArnPat::new(Template::parse_resource(r, substitute));
                vars.extend(
                    g.template_vars()
                        .into_iter()
                        .filter(|(_, d)| !d)
                        .map(|(k, _)| k),
                );
                ResourcePat::Arn(g)
            })
            .collect()
    };
    let resource = match st.resource {
        None => ResourceClause::Absent,
        Some((false, r)) => ResourceClause::Resource(compile_resources(&r, &mut required_vars)),
        Some((true, r)) => ResourceClause::NotResource(compile_resources(&r, &mut required_vars)),
    };
    let mut conditions: Vec<Condition> = st
        .conditions
        .into_iter()
        .map(|(name, op, key, values)| Condition::compile(op, name, key, values, substitute))
        .collect();
    // Variables in condition values are resolved only when a value is compared: an absent key
    // under `...IfExists` or `ForAllValues` decides without them ("To prevent variables from
    // causing invalid statements, use the ...IfExists condition operator", IAM User Guide,
    // "Variables and tags"). Variables in `Resource` are always needed.
    for c in &mut conditions {
        c.slot = slot(keys, &c.key);
    }
    required_vars.sort();
    required_vars.dedup();
    let required_vars = required_vars
        .into_iter()
        .map(|k| (slot(keys, &k), k))
        .collect();
    let mut resource = resource;
    // Every variable reads its value from its key's slot.
    let resource_templates = match &mut resource {
        ResourceClause::Absent => None,
        ResourceClause::Resource(list) | ResourceClause::NotResource(list) => Some(list),
    }
    .into_iter()
    .flatten()
    .filter_map(|r| match r {
        ResourcePat::Any => None,
        ResourcePat::Arn(p) => p.template_mut(),
    });
    let templates =
        resource_templates.chain(conditions.iter_mut().flat_map(Condition::templates_mut));
    for t in templates {
        for (key, var_slot) in t.var_slots_mut() {
            *var_slot = slot(keys, key);
        }
    }
    Ok(Statement {
        index,
        sid: st.sid.map(str::to_owned),
        effect,
        principal,
        action,
        resource,
        conditions,
        required_vars,
    })
}

fn compile_principals(p: &Json) -> Result<PrincipalSet, PolicyError> {
    let mut set = PrincipalSet::default();
    let Some(types) = p.as_object() else {
        // The grammar stage let only "*" through as a string.
        set.any = true;
        return Ok(set);
    };
    for (ty, v) in types {
        let values: Vec<&str> = match v {
            Json::String(s) => vec![s.as_str()],
            Json::Array(items) => items.iter().filter_map(Json::as_str).collect(),
            _ => return Err(PolicyError::Syntax),
        };
        for value in values {
            let invalid = || PolicyError::InvalidPrincipal(format!("\"{ty}\":\"{value}\""));
            let plain = !value.is_empty() && !value.contains(['*', '?']);
            match ty.as_str() {
                "AWS" => {
                    if value == "*" {
                        set.any = true;
                    } else {
                        set.aws.push(aws_principal(value).ok_or_else(invalid)?);
                    }
                }
                "Service" if plain => set.services.push(value.to_owned()),
                "Federated" if plain => set.federated.push(value.to_owned()),
                "CanonicalUser" if plain => set.canonical.push(value.to_owned()),
                _ => return Err(invalid()),
            }
        }
    }
    Ok(set)
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An `{"AWS": ...}` value: an account id, an IAM/STS ARN in some account, or a unique id.
/// Wildcards are refused: "You cannot use a wildcard to match part of a principal name or
/// ARN" (IAM User Guide, "AWS JSON policy elements: Principal").
fn aws_principal(value: &str) -> Option<AwsPrincipal> {
    if is_account_id(value) {
        return Some(AwsPrincipal::Account(value.to_owned()));
    }
    if value.contains(['*', '?']) {
        return None;
    }
    let parts: Vec<&str> = value.splitn(6, ':').collect();
    if let ["arn", partition, service, "", account, resource] = parts.as_slice() {
        if !PARTITIONS.contains(partition) || !is_account_id(account) || resource.is_empty() {
            return None;
        }
        return match (*service, *resource) {
            ("iam", "root") => Some(AwsPrincipal::Account((*account).to_owned())),
            ("iam", _) | ("sts", _) => Some(AwsPrincipal::Arn(value.to_owned())),
            _ => None,
        };
    }
    let unique = value.len() >= 16
        && value.starts_with('A')
        && value
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    unique.then(|| AwsPrincipal::UniqueId(value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(doc: &str, kind: PolicyKind) -> String {
        Policy::parse(doc, kind).unwrap_err().to_string()
    }

    const OK: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}}"#;

    #[test]
    fn reads_context_only_with_conditions_or_variables() {
        let reads = |doc: &str| {
            Policy::parse(doc, PolicyKind::Identity)
                .unwrap()
                .reads_context()
        };
        assert!(!reads(OK));
        assert!(!reads(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:*:table/T"},{"Effect":"Deny","NotAction":"s3:*","NotResource":"*"}]}"#
        ));
        assert!(reads(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}"#
        ));
        assert!(reads(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:*:*:table/${aws:username}"}}"#
        ));
        assert!(reads(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","NotResource":"arn:aws:dynamodb:*:*:table/${aws:username, 'x'}"}}"#
        ));
    }

    #[test]
    fn a_minimal_identity_policy_parses() {
        let p = Policy::parse(OK, PolicyKind::Identity).unwrap();
        assert_eq!(p.statements().len(), 1);
        assert_eq!(p.version(), Some(Version::V2012_10_17));
    }

    #[test]
    fn grammar_errors_are_syntax_errors() {
        for doc in [
            "not json",
            "[]",
            r#"{"Version":"2012-10-17"}"#,
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            r#"{"Version":"2013-10-17","Statement":{"Effect":"Allow","Action":"s3:x","Resource":"*"}}"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:x","Resource":"*","Foo":1}}"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Permit","Action":"s3:x","Resource":"*"}}"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:x","NotAction":"s3:y","Resource":"*"}}"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Effect":"Deny","Action":"s3:x","Resource":"*"}}"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:x","Resource":"*","Condition":{"StringEqualsX":{"a:b":"c"}}}}"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:x","Resource":"*","Condition":{"StringEquals":{"a:b":[]}}}}"#,
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:x",1],"Resource":"*"}}"#,
            "{\"Version\":\"2012-10-17\",\"Statement\":{\"Sid\":\"\u{2019}\",\"Effect\":\"Allow\",\"Action\":\"s3:x\",\"Resource\":\"*\"}}",
        ] {
            assert_eq!(
                err(doc, PolicyKind::Identity),
                "Syntax errors in policy.",
                "{doc}"
            );
        }
    }

    #[test]
    fn staged_messages_match_iam() {
        let no_version = r#"{"Statement":{"Effect":"Allow","Action":"s3:x","Resource":"*"}}"#;
        assert_eq!(
            err(no_version, PolicyKind::Identity),
            "Policy document must be version 2012-10-17 or greater."
        );
        // Session policies keep the 2008 default.
        assert!(Policy::parse(no_version, PolicyKind::Session).is_ok());
        let lower = r#"{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"s3:x","Resource":"*"}}"#;
        assert_eq!(
            err(lower, PolicyKind::Identity),
            "The policy failed legacy parsing"
        );
        let date = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:x","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"soon"}}}}"#;
        assert_eq!(
            err(date, PolicyKind::Identity),
            "The policy failed legacy parsing"
        );
        let dup = r#"{"Version":"2012-10-17","Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:x","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:x","Resource":"*"}]}"#;
        assert_eq!(
            err(dup, PolicyKind::Identity),
            "Statement IDs (SID) in a single policy must be unique."
        );
        let no_action = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}"#;
        assert_eq!(
            err(no_action, PolicyKind::Identity),
            "Policy statement must contain actions."
        );
        let no_resource =
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:x"}}"#;
        assert_eq!(
            err(no_resource, PolicyKind::Identity),
            "Policy statement must contain resources."
        );
        let bad_arn = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:x","Resource":"table"}}"#;
        assert_eq!(
            err(bad_arn, PolicyKind::Identity),
            "Resource table must be in ARN format or \"*\"."
        );
        let vendor = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"GetItem","Resource":"*"}}"#;
        assert_eq!(
            err(vendor, PolicyKind::Identity),
            "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
        );
        let colons = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a:b:c","Resource":"*"}}"#;
        assert_eq!(
            err(colons, PolicyKind::Identity),
            "Actions/Condition can contain only one colon."
        );
        let bad_vendor = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dyn amo:x","Resource":"*"}}"#;
        assert_eq!(
            err(bad_vendor, PolicyKind::Identity),
            "Vendor dyn amo is not valid"
        );
        let partition = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:x","Resource":"arn:aws1:s3:::b"}}"#;
        assert_eq!(
            err(partition, PolicyKind::Identity),
            "Partition \"aws1\" is not valid for resource \"arn:aws1:s3:::b\"."
        );
        let iam_region = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:x","Resource":"arn:aws:iam:us-east-1:123456789012:user/x"}}"#;
        assert_eq!(
            err(iam_region, PolicyKind::Identity),
            "IAM resource arn:aws:iam:us-east-1:123456789012:user/x cannot contain region information."
        );
    }

    #[test]
    fn principals_follow_the_policy_kind() {
        let with_principal = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:x","Resource":"*"}}"#;
        assert_eq!(
            err(with_principal, PolicyKind::Identity),
            "Policy document should not specify a principal."
        );
        assert_eq!(
            err(with_principal, PolicyKind::PermissionsBoundary),
            "Policy document should not specify a principal."
        );
        assert_eq!(
            err(with_principal, PolicyKind::ServiceControl),
            "The provided policy document does not meet the requirements of the specified policy type."
        );
        assert!(Policy::parse(with_principal, PolicyKind::Resource).is_ok());
        assert_eq!(
            err(OK, PolicyKind::Resource),
            "Missing required field Principal"
        );
        assert_eq!(
            err(OK, PolicyKind::VpcEndpoint),
            "Missing required field Principal"
        );
        let trust_resource = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}}"#;
        assert_eq!(
            err(trust_resource, PolicyKind::Trust),
            "Has prohibited field Resource"
        );
        let trust_action = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"s3:GetObject"}}"#;
        assert!(
            err(trust_action, PolicyKind::Trust)
                .starts_with("Trust Policy statement actions can only be")
        );
        let bad = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/*"},"Action":"s3:x","Resource":"*"}}"#;
        assert_eq!(
            err(bad, PolicyKind::Resource),
            "Invalid principal in policy: \"AWS\":\"arn:aws:iam::123456789012:user/*\""
        );
        let unknown_op = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:x","Resource":"*","Condition":{"StringEqualsX":{"a:b":"c"}}}}"#;
        assert_eq!(
            err(unknown_op, PolicyKind::Resource),
            "Invalid Condition type : StringEqualsX"
        );
        let no_effect = r#"{"Version":"2012-10-17","Statement":{"Principal":"*","Action":"s3:x","Resource":"*"}}"#;
        assert_eq!(
            err(no_effect, PolicyKind::Resource),
            "Missing required field Effect"
        );
    }

    #[test]
    fn condition_values_may_be_numbers_booleans_and_lists() {
        let doc = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":false},"NumericLessThan":{"s3:max-keys":[10, 2.5]}}}}"#;
        let p = Policy::parse(doc, PolicyKind::Identity).unwrap();
        let st = p.statements().first().unwrap();
        assert_eq!(st.conditions.len(), 2);
        assert_eq!(
            st.conditions.first().unwrap().raw_values,
            vec!["false".to_owned()]
        );
    }

    #[test]
    fn size_counts_characters_the_way_each_service_does() {
        let doc = "{ \"a\" :\n\t\"b c\" }";
        assert_eq!(policy_size(doc, SizeRule::AllCharacters), 16);
        assert_eq!(policy_size(doc, SizeRule::IamWithoutWhitespace), 10);
    }
}
