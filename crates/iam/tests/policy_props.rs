//! Property tests of the policy kernel, over random policies in every layer and random
//! requests:
//! - an explicit `Deny` that matches the request, added to any layer, always wins;
//! - adding a `Deny` statement anywhere never turns a denial into an allow;
//! - the order of statements, and of policies within a layer, changes neither the outcome nor
//!   the statements reported as matched;
//! - parsing never panics, whatever the text;
//! - the wildcard matcher agrees with a naive recursive model.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a broken fixture must fail the test loudly"
)]

use proptest::prelude::*;
use rampart_iam::policy::{
    Context, Decision, Layers, Outcome, Policy, PolicyKind, PolicyRef, Principal, Request, evaluate,
};
use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";
const OTHER: &str = "444455556666";

const ACTIONS: &[&str] = &[
    "dynamodb:GetItem",
    "dynamodb:Get*",
    "dynamodb:*",
    "*",
    "dynamodb:PutItem",
    "s3:*",
    "dynamodb:?etItem",
    "DynamoDB:getitem",
];

const RESOURCES: &[&str] = &[
    "*",
    "arn:aws:dynamodb:us-east-1:111122223333:table/Books",
    "arn:aws:dynamodb:*:*:table/*",
    "arn:aws:dynamodb:us-east-1:111122223333:table/Books/index/*",
    "arn:aws:s3:::bucket/*",
    "arn:aws:dynamodb:us-east-1:111122223333:table/${aws:username}",
];

/// (operator, key, values)
const CONDITIONS: &[(&str, &str, &[&str])] = &[
    ("StringEquals", "aws:SourceVpce", &["vpce-1"]),
    ("StringNotEquals", "aws:SourceVpce", &["vpce-1", "vpce-3"]),
    (
        "ForAllValues:StringEquals",
        "dynamodb:Attributes",
        &["a", "b"],
    ),
    ("ForAnyValue:StringLike", "dynamodb:Attributes", &["a*"]),
    ("ForAllValues:StringNotLike", "dynamodb:Attributes", &["b"]),
    ("Bool", "aws:SecureTransport", &["true"]),
    ("IpAddress", "aws:SourceIp", &["10.0.0.0/8"]),
    ("NotIpAddress", "aws:SourceIp", &["10.1.0.0/16"]),
    ("NumericLessThan", "n:x", &["5"]),
    ("Null", "aws:SourceVpce", &["true"]),
    (
        "StringEqualsIfExists",
        "dynamodb:Select",
        &["SPECIFIC_ATTRIBUTES"],
    ),
    ("DateLessThan", "aws:CurrentTime", &["2025-01-01T00:00:00Z"]),
    ("ArnLike", "aws:PrincipalArn", &["arn:aws:iam::*:role/*"]),
    ("StringLike", "aws:username", &["${aws:PrincipalTag/nick}"]),
];

const PRINCIPALS: &[&str] = &[
    "*",
    "111122223333",
    "444455556666",
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:role/app",
    "arn:aws:sts::111122223333:assumed-role/app/s1",
];

#[derive(Debug, Clone)]
struct GenStatement {
    allow: bool,
    not_action: bool,
    actions: Vec<usize>,
    not_resource: bool,
    resources: Vec<usize>,
    principal: usize,
    not_principal: bool,
    conditions: Vec<usize>,
}

fn statement() -> impl Strategy<Value = GenStatement> {
    (
        prop::bool::weighted(0.8),
        prop::bool::weighted(0.15),
        prop::collection::vec(0..ACTIONS.len(), 1..3),
        prop::bool::weighted(0.15),
        prop::collection::vec(0..RESOURCES.len(), 1..3),
        0..PRINCIPALS.len(),
        prop::bool::weighted(0.1),
        prop::collection::vec(0..CONDITIONS.len(), 0..2),
    )
        .prop_map(
            |(
                allow,
                not_action,
                actions,
                not_resource,
                resources,
                principal,
                not_principal,
                conditions,
            )| {
                GenStatement {
                    allow,
                    not_action,
                    actions,
                    not_resource,
                    resources,
                    principal,
                    not_principal,
                    conditions,
                }
            },
        )
}

/// The JSON of one statement, with a fixed `Sid` so that it can be recognised when shuffled.
fn statement_json(s: &GenStatement, sid: &str, kind: PolicyKind) -> Value {
    let mut st = serde_json::Map::new();
    st.insert("Sid".into(), json!(sid));
    st.insert(
        "Effect".into(),
        json!(if s.allow { "Allow" } else { "Deny" }),
    );
    let actions: Vec<&str> = s.actions.iter().map(|i| ACTIONS[*i]).collect();
    st.insert(
        if s.not_action { "NotAction" } else { "Action" }.into(),
        json!(actions),
    );
    let resources: Vec<&str> = s.resources.iter().map(|i| RESOURCES[*i]).collect();
    st.insert(
        if s.not_resource {
            "NotResource"
        } else {
            "Resource"
        }
        .into(),
        json!(resources),
    );
    if kind.requires_principal() {
        let p = PRINCIPALS[s.principal];
        let value = if p == "*" {
            json!("*")
        } else {
            json!({ "AWS": p })
        };
        st.insert(
            if s.not_principal {
                "NotPrincipal"
            } else {
                "Principal"
            }
            .into(),
            value,
        );
    }
    if !s.conditions.is_empty() {
        let mut cond = serde_json::Map::new();
        for i in &s.conditions {
            let (op, key, values) = CONDITIONS[*i];
            let block = cond.entry(op).or_insert_with(|| json!({}));
            block
                .as_object_mut()
                .unwrap()
                .insert(key.into(), json!(values));
        }
        st.insert("Condition".into(), Value::Object(cond));
    }
    Value::Object(st)
}

#[derive(Debug, Clone)]
struct GenPolicy {
    statements: Vec<GenStatement>,
}

fn policy_strategy() -> impl Strategy<Value = GenPolicy> {
    prop::collection::vec(statement(), 1..4).prop_map(|statements| GenPolicy { statements })
}

impl GenPolicy {
    /// The document, statements in `order` (a permutation of their indices).
    fn document(&self, name: &str, kind: PolicyKind, order: &[usize]) -> String {
        let statements: Vec<Value> = order
            .iter()
            .map(|i| statement_json(&self.statements[*i], &format!("{name}S{i}"), kind))
            .collect();
        json!({"Version": "2012-10-17", "Statement": statements}).to_string()
    }
}

#[derive(Debug, Clone)]
struct GenLayers {
    identity: Vec<GenPolicy>,
    boundary: Option<GenPolicy>,
    session: Vec<GenPolicy>,
    scps: Vec<Vec<GenPolicy>>,
    resource: Option<GenPolicy>,
    endpoint: Option<GenPolicy>,
    resource_policy_required: bool,
}

fn layers_strategy() -> impl Strategy<Value = GenLayers> {
    (
        prop::collection::vec(policy_strategy(), 0..3),
        prop::option::weighted(0.3, policy_strategy()),
        prop::collection::vec(policy_strategy(), 0..2),
        prop::collection::vec(prop::collection::vec(policy_strategy(), 1..3), 0..2),
        prop::option::weighted(0.5, policy_strategy()),
        prop::option::weighted(0.2, policy_strategy()),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(identity, boundary, session, scps, resource, endpoint, resource_policy_required)| {
                GenLayers {
                    identity,
                    boundary,
                    session,
                    scps,
                    resource,
                    endpoint,
                    resource_policy_required,
                }
            },
        )
}

#[derive(Debug, Clone)]
struct GenRequest {
    principal: usize,
    action: usize,
    resource: usize,
    vpce: Option<&'static str>,
    attributes: Option<Vec<&'static str>>,
    secure: Option<bool>,
    ip: Option<&'static str>,
    x: Option<&'static str>,
    nick: Option<&'static str>,
    time: &'static str,
}

const REQ_ACTIONS: &[&str] = &["dynamodb:GetItem", "dynamodb:PutItem", "s3:GetObject"];
const REQ_RESOURCES: &[&str] = &[
    "arn:aws:dynamodb:us-east-1:111122223333:table/Books",
    "arn:aws:dynamodb:us-east-1:111122223333:table/Books/index/ByAuthor",
    "arn:aws:dynamodb:eu-west-1:444455556666:table/Shared",
    "arn:aws:s3:::bucket/key",
    "arn:aws:dynamodb:us-east-1:111122223333:table/alice",
];

fn request_strategy() -> impl Strategy<Value = GenRequest> {
    (
        0..5usize,
        0..REQ_ACTIONS.len(),
        0..REQ_RESOURCES.len(),
        prop::option::of(prop::sample::select(vec!["vpce-1", "vpce-2", "vpce-3"])),
        prop::option::of(prop::sample::subsequence(vec!["a", "b", "ab", "c"], 0..4)),
        prop::option::of(any::<bool>()),
        prop::option::of(prop::sample::select(vec![
            "10.1.2.3",
            "10.2.0.1",
            "192.0.2.1",
            "::1",
            "garbage",
        ])),
        prop::option::of(prop::sample::select(vec!["1", "5", "9.5", "x"])),
        prop::option::of(prop::sample::select(vec!["alice", "bob"])),
        prop::sample::select(vec!["2024-06-01T00:00:00Z", "1767225600"]),
    )
        .prop_map(
            |(principal, action, resource, vpce, attributes, secure, ip, x, nick, time)| {
                GenRequest {
                    principal,
                    action,
                    resource,
                    vpce,
                    attributes,
                    secure,
                    ip,
                    x,
                    nick,
                    time,
                }
            },
        )
}

fn build_request(g: &GenRequest) -> Request {
    let principal = match g.principal {
        0 => Principal::user(ACCOUNT, "arn:aws:iam::111122223333:user/alice"),
        1 => Principal::role_session(
            ACCOUNT,
            "arn:aws:sts::111122223333:assumed-role/app/s1",
            "arn:aws:iam::111122223333:role/app",
        ),
        2 => Principal::root(ACCOUNT),
        3 => Principal::user(OTHER, "arn:aws:iam::444455556666:user/bob"),
        _ => Principal::role_session(
            OTHER,
            "arn:aws:sts::444455556666:assumed-role/app/s2",
            "arn:aws:iam::444455556666:role/app",
        ),
    };
    let mut context = Context::new();
    context.set_principal_keys(&principal);
    if let Some(v) = g.vpce {
        context.set("aws:SourceVpce", v);
    }
    if let Some(a) = &g.attributes {
        context.set_multi("dynamodb:Attributes", a.iter().copied());
    }
    if let Some(s) = g.secure {
        context.set_bool("aws:SecureTransport", s);
    }
    if let Some(ip) = g.ip {
        context.set("aws:SourceIp", ip);
    }
    if let Some(x) = g.x {
        context.set("n:x", x);
    }
    if let Some(n) = g.nick {
        context.set("aws:PrincipalTag/nick", n);
    }
    context.set("aws:CurrentTime", g.time);
    Request {
        principal,
        action: REQ_ACTIONS[g.action].to_owned(),
        resource: REQ_RESOURCES[g.resource].to_owned(),
        context,
    }
}

/// Compiled layers, owned, with a name per policy.
struct Built {
    identity: Vec<(String, Policy)>,
    boundary: Option<(String, Policy)>,
    session: Vec<(String, Policy)>,
    scps: Vec<Vec<(String, Policy)>>,
    resource: Option<(String, Policy)>,
    endpoint: Option<(String, Policy)>,
    resource_policy_required: bool,
}

fn identity_order(n: usize) -> Vec<usize> {
    (0..n).collect()
}

/// A deterministic shuffle (xorshift), so that a failing case can be replayed.
fn shuffled(n: usize, seed: &mut u64) -> Vec<usize> {
    let mut v: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let j = (*seed % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

fn build(g: &GenLayers, shuffle: Option<u64>) -> Built {
    let mut seed = shuffle.unwrap_or(0) | 1;
    let mut one = |p: &GenPolicy, name: &str, kind: PolicyKind| -> (String, Policy) {
        let order = match shuffle {
            Some(_) => shuffled(p.statements.len(), &mut seed),
            None => identity_order(p.statements.len()),
        };
        let doc = p.document(name, kind, &order);
        let policy = Policy::parse(&doc, kind).unwrap_or_else(|e| panic!("{e}: {doc}"));
        (name.to_owned(), policy)
    };
    let mut list = |ps: &[GenPolicy], prefix: &str, kind: PolicyKind| -> Vec<(String, Policy)> {
        ps.iter()
            .enumerate()
            .map(|(i, p)| one(p, &format!("{prefix}{i}"), kind))
            .collect()
    };
    let mut identity = list(&g.identity, "id", PolicyKind::Identity);
    let mut session = list(&g.session, "sess", PolicyKind::Session);
    let mut scps: Vec<Vec<(String, Policy)>> = g
        .scps
        .iter()
        .enumerate()
        .map(|(l, level)| list(level, &format!("scp{l}."), PolicyKind::ServiceControl))
        .collect();
    let boundary = g
        .boundary
        .as_ref()
        .map(|p| one(p, "boundary", PolicyKind::PermissionsBoundary));
    let resource = g
        .resource
        .as_ref()
        .map(|p| one(p, "resource", PolicyKind::Resource));
    let endpoint = g
        .endpoint
        .as_ref()
        .map(|p| one(p, "endpoint", PolicyKind::VpcEndpoint));
    if let Some(s) = shuffle {
        let mut seed = s | 1;
        identity.reverse();
        session.reverse();
        for level in &mut scps {
            let order = shuffled(level.len(), &mut seed);
            let mut taken: Vec<Option<(String, Policy)>> = level.drain(..).map(Some).collect();
            *level = order.iter().map(|i| taken[*i].take().unwrap()).collect();
        }
    }
    Built {
        identity,
        boundary,
        session,
        scps,
        resource,
        endpoint,
        resource_policy_required: g.resource_policy_required,
    }
}

fn r(p: &(String, Policy)) -> PolicyRef<'_> {
    PolicyRef {
        id: &p.0,
        policy: &p.1,
    }
}

fn layers<'a>(b: &'a Built, request: &Request) -> Layers<'a> {
    let resource_account = request.resource.split(':').nth(4).filter(|a| !a.is_empty());
    Layers {
        scp_applies: !b.scps.is_empty(),
        scps: b.scps.iter().map(|l| l.iter().map(r).collect()).collect(),
        resource: b.resource.as_ref().map(r),
        resource_account: resource_account.map(str::to_owned),
        resource_policy_required: b.resource_policy_required,
        identity: b.identity.iter().map(r).collect(),
        boundary: b.boundary.as_ref().map(r),
        session: b.session.iter().map(r).collect(),
        endpoint: b.endpoint.as_ref().map(r),
    }
}

fn summary(d: &Decision<'_>) -> (Outcome, String, Vec<String>, Vec<String>) {
    let mut matched: Vec<String> = d
        .matched
        .iter()
        .map(|m| format!("{}/{:?}", m.policy, m.sid))
        .collect();
    matched.sort();
    let mut errors: Vec<String> = d
        .errors
        .iter()
        .map(|e| format!("{}/{:?}/{:?}", e.statement.policy, e.statement.sid, e.kind))
        .collect();
    errors.sort();
    (d.outcome, format!("{:?}", d.decided_by), matched, errors)
}

/// A Deny of everything, in the shape the layer needs.
fn deny_all(kind: PolicyKind) -> Policy {
    let principal = if kind.requires_principal() {
        r#","Principal":"*""#
    } else {
        ""
    };
    let doc = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Sid":"DenyAll","Effect":"Deny"{principal},"Action":"*","Resource":"*"}}}}"#
    );
    Policy::parse(&doc, kind).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

    #[test]
    fn explicit_deny_in_any_layer_always_wins(g in layers_strategy(), q in request_strategy(), layer in 0..6usize) {
        let b = build(&g, None);
        let request = build_request(&q);
        let mut l = layers(&b, &request);
        let deny_identity = deny_all(PolicyKind::Identity);
        let deny_boundary = deny_all(PolicyKind::PermissionsBoundary);
        let deny_session = deny_all(PolicyKind::Session);
        let deny_scp = deny_all(PolicyKind::ServiceControl);
        let deny_resource = deny_all(PolicyKind::Resource);
        let deny_endpoint = deny_all(PolicyKind::VpcEndpoint);
        match layer {
            0 => l.identity.push(PolicyRef { id: "deny", policy: &deny_identity }),
            // A principal has one boundary: this one denies everything.
            1 => l.boundary = Some(PolicyRef { id: "deny", policy: &deny_boundary }),
            2 => l.session.push(PolicyRef { id: "deny", policy: &deny_session }),
            3 => {
                l.scp_applies = true;
                l.scps.push(vec![PolicyRef { id: "deny", policy: &deny_scp }]);
            }
            4 => l.resource = Some(PolicyRef { id: "deny", policy: &deny_resource }),
            _ => l.endpoint = Some(PolicyRef { id: "deny", policy: &deny_endpoint }),
        }
        let d = evaluate(&request, &l);
        prop_assert_eq!(d.outcome, Outcome::ExplicitDeny, "{:?}", d);
        prop_assert!(d.reason(&request.action).unwrap().starts_with("with an explicit deny in"));
    }

    #[test]
    fn adding_a_deny_statement_never_grants(g in layers_strategy(), q in request_strategy(), extra in statement(), layer in 0..4usize) {
        let request = build_request(&q);
        let b = build(&g, None);
        let before = evaluate(&request, &layers(&b, &request)).outcome;
        let mut g2 = g.clone();
        let mut deny = extra;
        deny.allow = false;
        let target = match layer {
            0 => g2.identity.first_mut(),
            1 => g2.resource.as_mut(),
            2 => g2.scps.first_mut().and_then(|l| l.first_mut()),
            _ => g2.endpoint.as_mut(),
        };
        if let Some(p) = target {
            p.statements.push(deny);
        }
        let b2 = build(&g2, None);
        let after = evaluate(&request, &layers(&b2, &request)).outcome;
        if before != Outcome::Allow {
            prop_assert_ne!(after, Outcome::Allow);
        }
        if before == Outcome::ExplicitDeny {
            prop_assert_eq!(after, Outcome::ExplicitDeny);
        }
    }

    #[test]
    fn statement_and_policy_order_do_not_change_the_decision(g in layers_strategy(), q in request_strategy(), seed in any::<u64>()) {
        let request = build_request(&q);
        let b = build(&g, None);
        let shuffled = build(&g, Some(seed));
        let d1 = evaluate(&request, &layers(&b, &request));
        let d2 = evaluate(&request, &layers(&shuffled, &request));
        prop_assert_eq!(summary(&d1), summary(&d2));
    }

    #[test]
    fn parsing_never_panics_on_arbitrary_text(s in ".{0,200}") {
        for kind in [PolicyKind::Identity, PolicyKind::Resource, PolicyKind::Trust, PolicyKind::ServiceControl] {
            let _ = Policy::parse(&s, kind);
        }
    }

    #[test]
    fn parsing_never_panics_on_near_policies(
        effect in prop::sample::select(vec!["Allow", "Deny", "allow", "", "x"]),
        action in "[a-z*?:]{0,12}",
        resource in "(arn:aws:[a-z0-9*?:/${}]{0,30}|\\*|[a-z:]{0,10})",
        op in "(ForAllValues:|ForAnyValue:)?(String|Numeric|Date|Arn|Bool|Null|Ip|Binary)[A-Za-z]{0,12}(IfExists)?",
        value in ".{0,20}",
    ) {
        let doc = json!({"Version":"2012-10-17","Statement":{"Effect":effect,"Action":action,"Resource":resource,"Principal":"*","Condition":{op:{"k:x":value}}}}).to_string();
        for kind in [PolicyKind::Identity, PolicyKind::Resource] {
            if let Ok(p) = Policy::parse(&doc, kind) {
                // And evaluating what parsed never panics either.
                let mut ctx = Context::new();
                ctx.set("k:x", "1");
                let req = Request { principal: Principal::user(ACCOUNT, "arn:aws:iam::111122223333:user/u"), action: "s3:GetObject".into(), resource: "arn:aws:s3:::b/k".into(), context: ctx };
                let refs = vec![PolicyRef { id: "p", policy: &p }];
                let l = if kind == PolicyKind::Identity { Layers { identity: refs, ..Layers::default() } } else { Layers { resource: refs.first().copied(), ..Layers::default() } };
                let _ = evaluate(&req, &l);
            }
        }
    }

    #[test]
    fn wildcard_matching_agrees_with_a_naive_model(pat in "[ab*?é]{0,8}", text in "[abé]{0,8}") {
        // `Resource` patterns without colons are matched as one ARN part: a plain glob.
        let doc = json!({"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":format!("arn:aws:s3:::{pat}")}}).to_string();
        let p = Policy::parse(&doc, PolicyKind::Identity).unwrap();
        let req = Request { principal: Principal::user(ACCOUNT, "arn:aws:iam::111122223333:user/u"), action: "s3:GetObject".into(), resource: format!("arn:aws:s3:::{text}"), context: Context::new() };
        let d = evaluate(&req, &Layers { identity: vec![PolicyRef { id: "p", policy: &p }], ..Layers::default() });
        let p_chars: Vec<char> = pat.chars().collect();
        let t_chars: Vec<char> = text.chars().collect();
        prop_assert_eq!(d.outcome == Outcome::Allow, naive(&p_chars, &t_chars));
    }
}

fn naive(p: &[char], t: &[char]) -> bool {
    match (p.first(), t.first()) {
        (None, None) => true,
        (None, Some(_)) => false,
        (Some('*'), _) => naive(&p[1..], t) || (!t.is_empty() && naive(p, &t[1..])),
        (Some('?'), Some(_)) => naive(&p[1..], &t[1..]),
        (Some(c), Some(d)) if c == d => naive(&p[1..], &t[1..]),
        _ => false,
    }
}
