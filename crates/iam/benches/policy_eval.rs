//! Policy evaluation cost: the kernel alone (`policy::evaluate`) for identity
//! policies of 1, 10 and 100 statements, each with conditions (string,
//! IP address, date and a policy variable), in three shapes:
//! - `matching_few`: 10% of the statements name the requested action;
//! - `matching_all`: every statement names it (the worst case for conditions);
//! - `distinct_all`: as `matching_all`, but no two statements have the same
//!   condition values (nothing a kernel could share between statements);
//! - `resource_policy`: a table's resource-based policy of N statements, each
//!   naming two users (the caller among them), with `distinct_all`'s conditions;
//! - `full_path`: the request path's `authz::decide` (gathering layers, filling
//!   the context, memoized compiled policies) for a user with one inline
//!   policy of N statements.
//! - `fgac`: `authz::decide` for a GetItem-like request (an IAM user with two tags, DynamoDB's
//!   keys computed lazily as the request path does) under one policy whose condition is
//!   `leading_keys` (`ForAllValues:StringLike` on `dynamodb:LeadingKeys`, fine-grained access
//!   control as DynamoDB's guide shows it), `username_var` (the same with
//!   `${aws:username}`), `source_ip` (`IpAddress` on `aws:SourceIp`) or `globals` (a
//!   `Null` test on ten global keys, which reads them all); `none` is the same policy without
//!   a condition (no context built), for comparison.
//!
//! `cargo bench -p rampart-iam --bench policy_eval`. Measurements, not tests.

#![expect(
    clippy::expect_used,
    reason = "a benchmark fixture: failing loudly is the right behaviour"
)]
#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rampart_core::{
    AccountId, NetworkOrigin, Principal as CorePrincipal, PrincipalKind as CoreKind, Region,
    RequestContext, RequestId,
};
use rampart_iam::authz::{AuthzInput, decide};
use rampart_iam::policy::{
    Context, Layers, Policy, PolicyKind, PolicyRef, Principal, Request, evaluate,
};
use rampart_iam::store::{IamState, User};

const ACCOUNT: &str = "111122223333";

fn statement(i: usize, matching: bool, distinct: bool) -> String {
    let action = if matching {
        "dynamodb:GetItem".to_owned()
    } else {
        format!("dynamodb:Other{i}")
    };
    let condition = if distinct {
        // Each statement its own values; every condition still holds.
        format!(
            r#"{{
              "StringEquals":{{"aws:PrincipalTag/team":["db","ops{i}"]}},
              "IpAddress":{{"aws:SourceIp":["10.0.0.0/8","192.168.{}.0/24"]}},
              "DateLessThan":{{"aws:CurrentTime":"2030-01-{:02}T00:00:00Z"}},
              "ForAllValues:StringLike":{{"dynamodb:LeadingKeys":["${{aws:username}}-*","s{i}-*"]}}
            }}"#,
            i % 256,
            i % 28 + 1
        )
    } else {
        r#"{
              "StringEquals":{"aws:PrincipalTag/team":["db","ops"]},
              "IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]},
              "DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},
              "ForAllValues:StringLike":{"dynamodb:LeadingKeys":["${aws:username}-*"]}
            }"#
        .to_owned()
    };
    format!(
        r#"{{"Sid":"S{i}","Effect":"Allow","Action":["{action}","dynamodb:Query"],
            "Resource":"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/T*",
            "Condition":{condition}}}"#
    )
}

fn document(n: usize, every: usize) -> String {
    document_with(n, every, false)
}

fn document_with(n: usize, every: usize, distinct: bool) -> String {
    let stmts: Vec<String> = (0..n)
        .map(|i| statement(i, i % every == 0, distinct))
        .collect();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        stmts.join(",")
    )
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_764_547_200)
}

fn request() -> Request {
    let principal = Principal::user(ACCOUNT, &format!("arn:aws:iam::{ACCOUNT}:user/alice"));
    let mut c = Context::new();
    c.set_principal_keys(&principal);
    c.set_request_time(now());
    c.set_ip("aws:SourceIp", IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)));
    c.set("aws:PrincipalTag/team", "db");
    c.set_multi("dynamodb:LeadingKeys", ["alice-1".to_owned()]);
    Request {
        principal,
        action: "dynamodb:GetItem".into(),
        resource: format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/T0"),
        context: c,
    }
}

fn kernel(c: &mut Criterion, name: &str, every: usize, distinct: bool) {
    let mut g = c.benchmark_group(name);
    let req = request();
    for n in [1usize, 10, 100] {
        let policy = Policy::parse(&document_with(n, every, distinct), PolicyKind::Identity)
            .expect("policy parses");
        let layers = Layers {
            identity: vec![PolicyRef {
                id: "bench",
                policy: &policy,
            }],
            ..Layers::default()
        };
        // The fixture does what it says: every statement naming the action applies.
        let d = evaluate(&req, &layers);
        assert!(d.is_allowed() && d.matched.len() == n.div_ceil(every) && d.errors.is_empty());
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| black_box(evaluate(black_box(&req), black_box(&layers)).outcome));
        });
    }
    g.finish();
}

fn matching_few(c: &mut Criterion) {
    kernel(c, "policy_eval/matching_few", 10, false);
}

fn matching_all(c: &mut Criterion) {
    kernel(c, "policy_eval/matching_all", 1, false);
}

fn distinct_all(c: &mut Criterion) {
    kernel(c, "policy_eval/distinct_all", 1, true);
}

fn resource_policy(c: &mut Criterion) {
    let mut g = c.benchmark_group("policy_eval/resource_policy");
    let req = request();
    for n in [1usize, 10, 100] {
        let stmts: Vec<String> = (0..n)
            .map(|i| {
                // `distinct_all`'s statement, with a Principal.
                statement(i, true, true).replacen(
                    r#""Effect":"Allow","#,
                    &format!(
                        r#""Effect":"Allow","Principal":{{"AWS":["arn:aws:iam::{ACCOUNT}:user/u{i}","arn:aws:iam::{ACCOUNT}:user/alice"]}},"#
                    ),
                    1,
                )
            })
            .collect();
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            stmts.join(",")
        );
        let policy = Policy::parse(&doc, PolicyKind::Resource).expect("policy parses");
        let layers = Layers {
            resource: Some(PolicyRef {
                id: "table",
                policy: &policy,
            }),
            resource_account: Some(ACCOUNT.to_owned()),
            ..Layers::default()
        };
        let d = evaluate(&req, &layers);
        assert!(d.is_allowed() && d.matched.len() == n && d.errors.is_empty());
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| black_box(evaluate(black_box(&req), black_box(&layers)).outcome));
        });
    }
    g.finish();
}

fn full_path(c: &mut Criterion) {
    let mut g = c.benchmark_group("policy_eval/full_path");
    let ctx = RequestContext {
        request_id: RequestId("bench".into()),
        received_at: now(),
        principal: CorePrincipal {
            account: AccountId::parse(ACCOUNT).expect("account"),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
            user_id: "AIDABENCH".into(),
            access_key_id: "AKIABENCH".into(),
            kind: CoreKind::User,
            session: None,
        },
        network: NetworkOrigin {
            peer: SocketAddr::from((Ipv4Addr::new(10, 1, 2, 3), 40_000)),
            local: SocketAddr::from((Ipv4Addr::LOCALHOST, 8000)),
            listener_id: "bench".into(),
            vpc_id: None,
            vpce_id: None,
        },
        tls: None,
        region: Region("us-east-1".into()),
    };
    for n in [1usize, 10, 100] {
        let mut state = IamState::default();
        let mut inline = BTreeMap::new();
        inline.insert("p".to_owned(), document(n, 1));
        state.users.insert(
            (ACCOUNT.to_owned(), "alice".to_owned()),
            User {
                name: "alice".into(),
                id: "AIDABENCH".into(),
                arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
                path: "/".into(),
                created: 0,
                tags: vec![("team".into(), "db".into())],
                boundary: None,
                inline,
                attached: Vec::new(),
                groups: Vec::new(),
            },
        );
        // As the Authorizer does for documents of the IAM snapshot: memoized
        // by address and length, no hashing of the document.
        let memo: Mutex<HashMap<(usize, usize), Arc<Policy>>> = Mutex::new(HashMap::new());
        let compile = |doc: &str, kind: PolicyKind, _stable: bool| -> Option<Arc<Policy>> {
            let key = (doc.as_ptr() as usize, doc.len());
            let mut m = memo.lock().ok()?;
            if let Some(p) = m.get(&key) {
                return Some(p.clone());
            }
            let p = Arc::new(Policy::parse(doc, kind).ok()?);
            m.insert(key, p.clone());
            Some(p)
        };
        let resource = format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/T0");
        let mut input = AuthzInput::new("dynamodb:GetItem", &resource);
        input.keys.push((
            "dynamodb:LeadingKeys".into(),
            rampart_iam::policy::ContextValue::Multi(vec!["alice-1".into()]),
        ));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| black_box(decide(&ctx, &input, &state, None, None, &compile).outcome));
        });
    }
    g.finish();
}

fn fgac(c: &mut Criterion) {
    let mut g = c.benchmark_group("policy_eval/fgac");
    let ctx = RequestContext {
        request_id: RequestId("bench".into()),
        received_at: now(),
        principal: CorePrincipal {
            account: AccountId::parse(ACCOUNT).expect("account"),
            arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
            user_id: "AIDABENCH".into(),
            access_key_id: "AKIABENCH".into(),
            kind: CoreKind::User,
            session: None,
        },
        network: NetworkOrigin {
            peer: SocketAddr::from((Ipv4Addr::new(10, 1, 2, 3), 40_000)),
            local: SocketAddr::from((Ipv4Addr::LOCALHOST, 8000)),
            listener_id: "bench".into(),
            vpc_id: None,
            vpce_id: None,
        },
        tls: None,
        region: Region("us-east-1".into()),
    };
    let actions = r#"["dynamodb:GetItem","dynamodb:BatchGetItem","dynamodb:Query",
        "dynamodb:PutItem","dynamodb:UpdateItem","dynamodb:DeleteItem","dynamodb:BatchWriteItem"]"#;
    let cases: [(&str, String); 5] = [
        ("none", String::new()),
        (
            "leading_keys",
            r#"{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["user*"]}}"#.to_owned(),
        ),
        (
            "username_var",
            r#"{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["user-${aws:username}-*"]}}"#
                .to_owned(),
        ),
        (
            "source_ip",
            r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}"#.to_owned(),
        ),
        (
            "globals",
            r#"{"Null":{"aws:CurrentTime":"false","aws:EpochTime":"false",
                "aws:SourceIp":"false","aws:SecureTransport":"false",
                "aws:PrincipalArn":"false","aws:PrincipalAccount":"false",
                "aws:PrincipalTag/team":"false","aws:RequestedRegion":"false",
                "aws:userid":"false","aws:username":"false"}}"#
                .to_owned(),
        ),
    ];
    let resource = format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/GameScores");
    for (name, condition) in cases {
        let condition = if condition.is_empty() {
            condition
        } else {
            format!(r#","Condition":{condition}"#)
        };
        let doc = format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":{actions},"Resource":"{resource}"{condition}}},
                {{"Effect":"Deny","Action":"dynamodb:DeleteTable","Resource":"*"}}]}}"#
        );
        let mut state = IamState::default();
        let mut inline = BTreeMap::new();
        inline.insert("p".to_owned(), doc);
        state.users.insert(
            (ACCOUNT.to_owned(), "alice".to_owned()),
            User {
                name: "alice".into(),
                id: "AIDABENCH".into(),
                arn: format!("arn:aws:iam::{ACCOUNT}:user/alice"),
                path: "/".into(),
                created: 0,
                tags: vec![
                    ("team".into(), "db".into()),
                    ("cost-center".into(), "1234".into()),
                ],
                boundary: None,
                inline,
                attached: Vec::new(),
                groups: Vec::new(),
            },
        );
        let memo: Mutex<HashMap<(usize, usize), Arc<Policy>>> = Mutex::new(HashMap::new());
        let compile = |doc: &str, kind: PolicyKind, _stable: bool| -> Option<Arc<Policy>> {
            let key = (doc.as_ptr() as usize, doc.len());
            let mut m = memo.lock().ok()?;
            if let Some(p) = m.get(&key) {
                return Some(p.clone());
            }
            let p = Arc::new(Policy::parse(doc, kind).ok()?);
            m.insert(key, p.clone());
            Some(p)
        };
        // What DynamoDB computes for a GetItem on a table keyed by `pk`.
        let lazy = || {
            use rampart_iam::policy::ContextValue;
            vec![
                (
                    "dynamodb:LeadingKeys".to_owned(),
                    ContextValue::Multi(vec!["user-alice-1".to_owned()]),
                ),
                (
                    "dynamodb:Attributes".to_owned(),
                    ContextValue::Multi(vec!["pk".to_owned()]),
                ),
                (
                    "dynamodb:Select".to_owned(),
                    ContextValue::Single("ALL_ATTRIBUTES".to_owned()),
                ),
            ]
        };
        let mut input = AuthzInput::new("dynamodb:GetItem", &resource);
        input.lazy_keys = Some(rampart_iam::LazyKeys(&lazy));
        let d = decide(&ctx, &input, &state, None, None, &compile);
        assert!(d.is_allowed(), "{name}: {d:?}");
        g.bench_function(name, |b| {
            b.iter(|| {
                black_box(decide(&ctx, black_box(&input), &state, None, None, &compile).outcome)
            });
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    matching_few,
    matching_all,
    distinct_all,
    resource_policy,
    full_path,
    fgac
);
criterion_main!(benches);
