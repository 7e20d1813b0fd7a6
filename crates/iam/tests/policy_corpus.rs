//! The policy corpus: every `tests/corpus/*.json` file holds policy documents (each with the
//! kind it is parsed as), parse cases (a document and the `MalformedPolicyDocument` text IAM
//! answers, or none), and evaluation cases (layers of named policies, a request, and the
//! expected decision, deciding policy type, matched statements, evaluation errors and AWS's
//! `AccessDenied` reason). Cases come from AWS's documentation and from the project's seed
//! documents; each file says where from.
//!
//! A case's request gets the principal's global keys (`aws:PrincipalArn`, `aws:username`, ...)
//! unless it says `"principal_keys": false`; its `context` adds or overrides keys.
//!
//! All failures are collected and reported together, with the file and case names.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a broken fixture must fail the test loudly"
)]

use std::collections::BTreeMap;
use std::path::Path;

use rampart_iam::policy::{
    Context, DecidedBy, Decision, EvalErrorKind, Layers, Outcome, Policy, PolicyKind, PolicyRef,
    Principal, PrincipalKind, Request, evaluate,
};
use serde_json::Value;

fn kind(s: &str) -> PolicyKind {
    match s {
        "Identity" => PolicyKind::Identity,
        "Resource" => PolicyKind::Resource,
        "Trust" => PolicyKind::Trust,
        "ServiceControl" => PolicyKind::ServiceControl,
        "Session" => PolicyKind::Session,
        "PermissionsBoundary" => PolicyKind::PermissionsBoundary,
        "VpcEndpoint" => PolicyKind::VpcEndpoint,
        other => panic!("unknown policy kind {other}"),
    }
}

/// A document given as a JSON string (verbatim text) or as a JSON value.
fn document_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap(),
    }
}

fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn principal(v: &Value) -> Principal {
    let s = |k: &str| str_of(v, k).unwrap_or_default().to_owned();
    let kind = match str_of(v, "type").expect("principal.type") {
        "Root" => PrincipalKind::Root,
        "User" => PrincipalKind::User,
        "RoleSession" => PrincipalKind::RoleSession {
            role_arn: s("role_arn"),
        },
        "FederatedUser" => PrincipalKind::FederatedUser {
            user_arn: s("user_arn"),
        },
        "Service" => PrincipalKind::Service {
            service: s("service"),
        },
        "WebIdentity" => PrincipalKind::WebIdentity {
            provider: s("provider"),
        },
        "Anonymous" => PrincipalKind::Anonymous,
        other => panic!("unknown principal type {other}"),
    };
    let arn = match (&kind, str_of(v, "arn")) {
        (_, Some(a)) => a.to_owned(),
        (PrincipalKind::Root, None) => format!("arn:aws:iam::{}:root", s("account")),
        _ => String::new(),
    };
    Principal {
        arn,
        account: s("account"),
        kind,
    }
}

fn context(principal: &Principal, req: &Value) -> Context {
    let mut ctx = Context::new();
    if req
        .get("principal_keys")
        .and_then(Value::as_bool)
        .unwrap_or(true)
    {
        ctx.set_principal_keys(principal);
    }
    if let Some(map) = req.get("context").and_then(Value::as_object) {
        for (k, v) in map {
            match v {
                Value::Array(items) => {
                    ctx.set_multi(
                        k,
                        items
                            .iter()
                            .map(|i| i.as_str().expect("string values").to_owned()),
                    );
                }
                Value::String(s) => {
                    ctx.set(k, s.clone());
                }
                Value::Bool(b) => {
                    ctx.set_bool(k, *b);
                }
                Value::Number(n) => {
                    ctx.set(k, n.to_string());
                }
                Value::Null => {
                    ctx.remove(k);
                }
                Value::Object(_) => {
                    panic!("context values are strings, lists, booleans or numbers")
                }
            }
        }
    }
    ctx
}

fn statement_name(policy: &str, sid: Option<&str>, index: usize) -> String {
    match sid {
        Some(s) if !s.is_empty() => format!("{policy}#{s}"),
        _ => format!("{policy}#{index}"),
    }
}

fn decided_by(d: &Decision<'_>) -> String {
    match d.decided_by {
        DecidedBy::RootUser => "root user".to_owned(),
        DecidedBy::Policy(t) => t.name().to_owned(),
    }
}

fn error_name(kind: &EvalErrorKind) -> String {
    match kind {
        EvalErrorKind::UnresolvedVariable { variable } => format!("unresolved variable {variable}"),
        EvalErrorKind::InvalidPolicyValue { key, value, .. } => {
            format!("invalid policy value {key}={value}")
        }
        EvalErrorKind::InvalidContextValue { key, value, .. } => {
            format!("invalid request value {key}={value}")
        }
    }
}

struct Corpus {
    file: String,
    policies: BTreeMap<String, Policy>,
    failures: Vec<String>,
    cases: usize,
}

impl Corpus {
    fn policy_ref(&self, name: &Value) -> PolicyRef<'_> {
        let name = name.as_str().expect("policy names are strings");
        let (id, policy) = self
            .policies
            .get_key_value(name)
            .unwrap_or_else(|| panic!("{}: no policy named {name}", self.file));
        PolicyRef { id, policy }
    }

    fn refs(&self, v: Option<&Value>) -> Vec<PolicyRef<'_>> {
        v.and_then(Value::as_array)
            .map(|a| a.iter().map(|n| self.policy_ref(n)).collect())
            .unwrap_or_default()
    }

    fn run_parse_case(&mut self, case: &Value) {
        self.cases += 1;
        let name = str_of(case, "name").expect("parse case name");
        let doc = document_text(case.get("document").expect("document"));
        let got = Policy::parse(&doc, kind(str_of(case, "kind").expect("kind")));
        let want = str_of(case, "error");
        let got_text = got.as_ref().err().map(ToString::to_string);
        if got_text.as_deref() != want {
            self.failures.push(format!(
                "{} / {name}: expected {:?}, got {:?}",
                self.file, want, got_text
            ));
        }
    }

    fn run_case(&mut self, case: &Value) {
        self.cases += 1;
        let name = str_of(case, "name").expect("case name").to_owned();
        let l = case.get("layers").cloned().unwrap_or(Value::Null);
        let scps: Vec<Vec<PolicyRef<'_>>> = l
            .get("scps")
            .and_then(Value::as_array)
            .map(|levels| levels.iter().map(|level| self.refs(Some(level))).collect())
            .unwrap_or_default();
        let layers = Layers {
            scp_applies: l
                .get("scp_applies")
                .and_then(Value::as_bool)
                .unwrap_or(!scps.is_empty()),
            scps,
            resource: l.get("resource").map(|n| self.policy_ref(n)),
            resource_account: str_of(&l, "resource_account").map(str::to_owned),
            resource_policy_required: l
                .get("resource_policy_required")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            identity: self.refs(l.get("identity")),
            boundary: l.get("boundary").map(|n| self.policy_ref(n)),
            session: self.refs(l.get("session")),
            endpoint: l.get("endpoint").map(|n| self.policy_ref(n)),
        };
        let r = case.get("request").expect("request");
        let p = principal(r.get("principal").expect("request.principal"));
        let request = Request {
            context: context(&p, r),
            principal: p,
            action: str_of(r, "action").expect("request.action").to_owned(),
            resource: str_of(r, "resource").unwrap_or("*").to_owned(),
        };
        let d = evaluate(&request, &layers);
        let e = case.get("expect").expect("expect");
        let mut problems = Vec::new();
        let outcome = match d.outcome {
            Outcome::Allow => "Allow",
            Outcome::ExplicitDeny => "ExplicitDeny",
            Outcome::ImplicitDeny => "ImplicitDeny",
        };
        if Some(outcome) != str_of(e, "decision") {
            problems.push(format!(
                "decision {outcome}, expected {:?}",
                str_of(e, "decision")
            ));
        }
        if let Some(by) = str_of(e, "decided_by")
            && by != decided_by(&d)
        {
            problems.push(format!("decided by {:?}, expected {by:?}", decided_by(&d)));
        }
        if let Some(want) = e.get("matched").and_then(Value::as_array) {
            let mut want: Vec<String> = want
                .iter()
                .map(|s| s.as_str().unwrap().to_owned())
                .collect();
            let mut got: Vec<String> = d
                .matched
                .iter()
                .map(|m| statement_name(m.policy, m.sid, m.index))
                .collect();
            want.sort();
            got.sort();
            if want != got {
                problems.push(format!("matched {got:?}, expected {want:?}"));
            }
        }
        let want_errors: Vec<String> = e
            .get("errors")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
            .unwrap_or_default();
        let got_errors: Vec<String> = d.errors.iter().map(|x| error_name(&x.kind)).collect();
        if want_errors != got_errors {
            problems.push(format!("errors {got_errors:?}, expected {want_errors:?}"));
        }
        if let Some(want) = e.get("reason") {
            let got = d.reason(&request.action);
            if want.as_str() != got.as_deref() {
                problems.push(format!("reason {got:?}, expected {want}"));
            }
        }
        if let Some(want) = str_of(e, "message") {
            let got =
                d.access_denied_message(&request.principal.arn, &request.action, &request.resource);
            if Some(want) != got.as_deref() {
                problems.push(format!("message {got:?}, expected {want:?}"));
            }
        }
        if !problems.is_empty() {
            self.failures
                .push(format!("{} / {name}: {}", self.file, problems.join("; ")));
        }
    }
}

fn run_file(path: &Path) -> (usize, Vec<String>) {
    let file = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let mut corpus = Corpus {
        file: file.clone(),
        policies: BTreeMap::new(),
        failures: Vec::new(),
        cases: 0,
    };
    if let Some(policies) = doc.get("policies").and_then(Value::as_object) {
        for (name, p) in policies {
            let text = document_text(p.get("document").expect("policy document"));
            match Policy::parse(&text, kind(str_of(p, "kind").expect("policy kind"))) {
                Ok(policy) => {
                    corpus.policies.insert(name.clone(), policy);
                }
                Err(e) => corpus
                    .failures
                    .push(format!("{file}: policy {name} does not parse: {e}")),
            }
        }
    }
    if !corpus.failures.is_empty() {
        return (0, corpus.failures);
    }
    for case in doc
        .get("parse_cases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        corpus.run_parse_case(case);
    }
    for case in doc
        .get("cases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        corpus.run_case(case);
    }
    (corpus.cases, corpus.failures)
}

#[test]
fn corpus_cases_decide_as_aws_documents() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());
    let mut total = 0;
    let mut failures = Vec::new();
    for f in &files {
        let (n, fails) = run_file(f);
        total += n;
        failures.extend(fails);
    }
    assert!(
        failures.is_empty(),
        "{} of {total} corpus cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total > 0);
}
