//! The IAM policy simulator: SimulatePrincipalPolicy and SimulateCustomPolicy
//! run the same evaluation as the request path (the Authorizer, with the
//! same layers and condition keys) and return each decision with the
//! statements that produced it.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::SystemTime;

use rampart_core::{
    AccountId, NetworkOrigin, Principal, PrincipalKind, RequestContext, RequestId, SessionInfo,
};

use crate::api::{Node, Params};
use crate::authz::{Authorizer, AuthzDecision, AuthzInput};
use crate::error::{IamError, IamResult};
use crate::policy::{ContextValue, Outcome, PolicyKind};
use crate::store::{IamState, User};

fn leaf(name: &str, value: impl Into<String>) -> Node {
    Node::Leaf(name.to_owned(), value.into())
}

fn branch(name: &str, children: Vec<Node>) -> Node {
    Node::Branch(name.to_owned(), children)
}

fn members(p: &Params, prefix: &str) -> Vec<String> {
    let head = format!("{prefix}.member.");
    let mut v: Vec<(u32, String)> =
        p.0.iter()
            .filter_map(|(k, val)| {
                k.strip_prefix(&head)
                    .and_then(|n| n.parse::<u32>().ok())
                    .map(|n| (n, val.clone()))
            })
            .collect();
    v.sort_by_key(|(n, _)| *n);
    v.into_iter().map(|(_, s)| s).collect()
}

/// `ContextEntries.member.N.{ContextKeyName, ContextKeyType, ContextKeyValues.member.M}`.
fn context_entries(p: &Params) -> Vec<(String, ContextValue)> {
    let mut out = Vec::new();
    for n in 1.. {
        let Some(name) = p.get(&format!("ContextEntries.member.{n}.ContextKeyName")) else {
            break;
        };
        let ty = p
            .get(&format!("ContextEntries.member.{n}.ContextKeyType"))
            .unwrap_or("string");
        let values = members(p, &format!("ContextEntries.member.{n}.ContextKeyValues"));
        let value = if ty.ends_with("List") {
            ContextValue::Multi(values)
        } else {
            ContextValue::Single(values.into_iter().next().unwrap_or_default())
        };
        out.push((name.to_owned(), value));
    }
    out
}

fn decision_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Allow => "allowed",
        Outcome::ExplicitDeny => "explicitDeny",
        Outcome::ImplicitDeny => "implicitDeny",
    }
}

fn source_type(policy: &str, layer: &str) -> &'static str {
    if layer == "resource-based policy" {
        return "resource";
    }
    if let Some((entity, _)) = policy.split_once('#') {
        return if entity.contains(":user/") {
            "user"
        } else if entity.contains(":group/") {
            "group"
        } else if entity.contains(":role/") {
            "role"
        } else {
            "none"
        };
    }
    if policy.contains(":aws:policy/") {
        "aws-managed"
    } else if policy.starts_with("arn:aws:iam::") {
        "user-managed"
    } else {
        "none"
    }
}

fn result_nodes(action: &str, resource: &str, d: &AuthzDecision) -> Vec<Node> {
    let matched: Vec<Node> = d
        .matched
        .iter()
        .map(|m| {
            branch(
                "member",
                vec![
                    leaf("SourcePolicyId", m.policy.clone()),
                    leaf("SourcePolicyType", source_type(&m.policy, m.layer)),
                ],
            )
        })
        .collect();
    let allowed_by_boundary = d.decided_by != "permissions boundary";
    let allowed_by_orgs = d.decided_by != "service control policy";
    vec![
        leaf("EvalActionName", action),
        leaf("EvalResourceName", resource),
        leaf("EvalDecision", decision_name(d.outcome)),
        branch("MatchedStatements", matched),
        branch("MissingContextValues", Vec::new()),
        branch(
            "OrganizationsDecisionDetail",
            vec![leaf("AllowedByOrganizations", allowed_by_orgs.to_string())],
        ),
        branch(
            "PermissionsBoundaryDecisionDetail",
            vec![leaf(
                "AllowedByPermissionsBoundary",
                allowed_by_boundary.to_string(),
            )],
        ),
    ]
}

fn ctx_for(principal: Principal, now: SystemTime, region: &str) -> RequestContext {
    RequestContext {
        request_id: RequestId("simulation".into()),
        received_at: now,
        principal,
        network: NetworkOrigin {
            peer: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            local: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            listener_id: "simulator".into(),
            vpc_id: None,
            vpce_id: None,
        },
        tls: None,
        region: rampart_core::Region(region.to_owned()),
    }
}

/// Runs SimulatePrincipalPolicy or SimulateCustomPolicy.
pub fn simulate(
    authorizer: &Authorizer,
    caller: &RequestContext,
    action: &str,
    p: &Params,
    now: SystemTime,
) -> IamResult<Vec<Node>> {
    let account = caller.principal.account.to_string();
    let actions = members(p, "ActionNames");
    if actions.is_empty() {
        return Err(IamError::Validation(
            "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null".into(),
        ));
    }
    let mut resources = members(p, "ResourceArns");
    if resources.is_empty() {
        resources.push("*".into());
    }
    let extra_docs = members(p, "PolicyInputList");
    for d in &extra_docs {
        crate::validate_policy(d, crate::api::DocUse::Managed)?;
    }
    let mut state: IamState = (*authorizer.iam_state()).clone();
    let region = caller.region.as_str().to_owned();
    let principal = match action {
        "SimulatePrincipalPolicy" => {
            let arn = p.get("PolicySourceArn").ok_or_else(|| {
                IamError::Validation("1 validation error detected: Value null at 'policySourceArn' failed to satisfy constraint: Member must not be null".into())
            })?;
            let (kind, name) = arn
                .split_once(':')
                .and_then(|_| arn.rsplit_once(':'))
                .and_then(|(_, res)| res.split_once('/'))
                .map(|(k, rest)| {
                    (
                        k.to_owned(),
                        rest.rsplit('/').next().unwrap_or(rest).to_owned(),
                    )
                })
                .ok_or_else(|| IamError::InvalidInput(format!("Invalid ARN: {arn}")))?;
            let acct =
                AccountId::parse(&account).map_err(|e| IamError::ServiceFailure(e.to_string()))?;
            match kind.as_str() {
                "user" => {
                    let u = state
                        .users
                        .get_mut(&(account.clone(), name.clone()))
                        .ok_or_else(|| {
                            IamError::NoSuchEntity(format!(
                                "The user with name {name} cannot be found."
                            ))
                        })?;
                    for (i, d) in extra_docs.iter().enumerate() {
                        u.inline
                            .insert(format!("PolicyInputList.{}", i + 1), d.clone());
                    }
                    Principal {
                        account: acct,
                        arn: u.arn.clone(),
                        user_id: u.id.clone(),
                        access_key_id: String::new(),
                        kind: PrincipalKind::User,
                        session: None,
                    }
                }
                "role" => {
                    let r = state
                        .roles
                        .get_mut(&(account.clone(), name.clone()))
                        .ok_or_else(|| {
                            IamError::NoSuchEntity(format!(
                                "The role with name {name} cannot be found."
                            ))
                        })?;
                    for (i, d) in extra_docs.iter().enumerate() {
                        r.inline
                            .insert(format!("PolicyInputList.{}", i + 1), d.clone());
                    }
                    Principal {
                        account: acct,
                        arn: format!("arn:aws:sts::{account}:assumed-role/{name}/simulation"),
                        user_id: format!("{}:simulation", r.id),
                        access_key_id: String::new(),
                        kind: PrincipalKind::AssumedRole,
                        session: Some(Arc::new(SessionInfo {
                            role_arn: Some(r.arn.clone()),
                            role_name: Some(name.clone()),
                            session_name: Some("simulation".into()),
                            source_arn: caller.principal.arn.clone(),
                            ..SessionInfo::default()
                        })),
                    }
                }
                "group" => {
                    if !state.groups.contains_key(&(account.clone(), name.clone())) {
                        return Err(IamError::NoSuchEntity(format!(
                            "The group with name {name} cannot be found."
                        )));
                    }
                    synthetic_user(&mut state, &account, vec![name.clone()], &extra_docs)?
                }
                _ => {
                    return Err(IamError::InvalidInput(format!(
                        "Invalid PolicySourceArn: {arn}"
                    )));
                }
            }
        }
        _ => {
            if extra_docs.is_empty() {
                return Err(IamError::Validation("1 validation error detected: Value null at 'policyInputList' failed to satisfy constraint: Member must not be null".into()));
            }
            synthetic_user(&mut state, &account, Vec::new(), &extra_docs)?
        }
    };
    let resource_policy = p.get("ResourcePolicy");
    let keys = context_entries(p);
    let ctx = ctx_for(principal, now, &region);
    let mut results = Vec::new();
    for a in &actions {
        for r in &resources {
            let input = AuthzInput {
                action: a,
                resource: r,
                resource_policy: resource_policy
                    .map(|d| ("ResourcePolicy", d, PolicyKind::Resource)),
                keys: keys.clone(),
                lazy_keys: None,
                explain: true,
            };
            let d = authorizer.authorize_with(&ctx, &input, &state);
            results.push(branch("member", result_nodes(a, r, &d)));
        }
    }
    Ok(vec![
        branch("EvaluationResults", results),
        leaf("IsTruncated", "false"),
    ])
}

/// The principal an ARN names, as the request path would see it: the root
/// user (`arn:aws:iam::ACCOUNT:root`), an IAM user, or a session of a role
/// (`arn:aws:iam::ACCOUNT:role/NAME` or an assumed-role ARN).
pub fn principal_for_arn(state: &IamState, arn: &str) -> IamResult<Principal> {
    let bad = || IamError::InvalidInput(format!("Invalid principal ARN: {arn}"));
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some(service), Some(_), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad());
    };
    let acct = AccountId::parse(account).map_err(|_| bad())?;
    if resource == "root" {
        return Ok(Principal {
            account: acct,
            arn: arn.to_owned(),
            user_id: account.to_owned(),
            access_key_id: String::new(),
            kind: PrincipalKind::Root,
            session: None,
        });
    }
    let (kind, rest) = resource.split_once('/').ok_or_else(bad)?;
    match (service, kind) {
        ("iam", "user") => {
            let name = rest.rsplit('/').next().unwrap_or(rest);
            let u = state
                .users
                .get(&(account.to_owned(), name.to_owned()))
                .ok_or_else(|| {
                    IamError::NoSuchEntity(format!("The user with name {name} cannot be found."))
                })?;
            Ok(Principal {
                account: acct,
                arn: u.arn.clone(),
                user_id: u.id.clone(),
                access_key_id: String::new(),
                kind: PrincipalKind::User,
                session: None,
            })
        }
        ("iam", "role") | ("sts", "assumed-role") => {
            let (name, session) = if kind == "role" {
                (rest.rsplit('/').next().unwrap_or(rest), "explain")
            } else {
                rest.split_once('/').ok_or_else(bad)?
            };
            let r = state
                .roles
                .get(&(account.to_owned(), name.to_owned()))
                .ok_or_else(|| {
                    IamError::NoSuchEntity(format!("The role with name {name} cannot be found."))
                })?;
            Ok(Principal {
                account: acct,
                arn: format!("arn:aws:sts::{account}:assumed-role/{name}/{session}"),
                user_id: format!("{}:{session}", r.id),
                access_key_id: String::new(),
                kind: PrincipalKind::AssumedRole,
                session: Some(Arc::new(SessionInfo {
                    role_arn: Some(r.arn.clone()),
                    role_name: Some(name.to_owned()),
                    session_name: Some(session.to_owned()),
                    ..SessionInfo::default()
                })),
            })
        }
        _ => Err(bad()),
    }
}

/// A request context for evaluating `principal` outside a live request
/// (the simulator, `rampart policy explain`).
pub fn offline_context(
    principal: Principal,
    now: SystemTime,
    region: &str,
    source_ip: std::net::IpAddr,
) -> RequestContext {
    let mut ctx = ctx_for(principal, now, region);
    ctx.network.peer = SocketAddr::new(source_ip, 0);
    ctx
}

/// A user that exists only for the simulation, holding the input policies.
fn synthetic_user(
    state: &mut IamState,
    account: &str,
    groups: Vec<String>,
    docs: &[String],
) -> IamResult<Principal> {
    let name = "rampart-simulated-user".to_owned();
    let arn = format!("arn:aws:iam::{account}:user/{name}");
    let inline: BTreeMap<String, String> = docs
        .iter()
        .enumerate()
        .map(|(i, d)| (format!("PolicyInputList.{}", i + 1), d.clone()))
        .collect();
    state.users.insert(
        (account.to_owned(), name.clone()),
        User {
            name,
            id: "AIDASIMULATED0000000".into(),
            arn: arn.clone(),
            path: "/".into(),
            created: 0,
            tags: Vec::new(),
            boundary: None,
            inline,
            attached: Vec::new(),
            groups,
        },
    );
    Ok(Principal {
        account: AccountId::parse(account).map_err(|e| IamError::ServiceFailure(e.to_string()))?,
        arn,
        user_id: "AIDASIMULATED0000000".into(),
        access_key_id: String::new(),
        kind: PrincipalKind::User,
        session: None,
    })
}
