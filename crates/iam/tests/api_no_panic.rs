//! Any IAM action with any parameters, and any Organizations operation with any JSON input,
//! gets an answer or an error and never a panic. Parameters are drawn from the names IAM's
//! actions read, with mostly plausible values (existing entities, valid and broken policy
//! documents, numbers out of range, odd text) against an account that already holds a user, a
//! group, a role and a managed policy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test helpers: a broken fixture must fail loudly"
)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use proptest::collection::vec;
use proptest::prelude::*;
use rampart_core::{PrincipalKind, RequestContext, Secret, SeededIds};
use rampart_iam::api::{Iam, Params};
use rampart_iam::keys::KeyStore;
use rampart_iam::mfa::MfaStore;
use rampart_iam::orgs::OrgStore;
use rampart_iam::seal::Sealer;
use rampart_iam::store::IamStore;
use rampart_storage::{Engine, MemoryEngine};
use serde_json::{Value, json};

const ACCOUNT: &str = "111122223333";

fn ctx() -> RequestContext {
    RequestContext::for_tests(ACCOUNT, PrincipalKind::Root).unwrap()
}

const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"dynamodb:*","Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}"#;

fn params(pairs: &[(&str, &str)]) -> Params {
    Params(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

async fn fixture() -> Iam {
    let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
    let ids = Arc::new(SeededIds::new(3));
    let sealer = Sealer::new(&Secret::new([7u8; 32]));
    let iam = Iam {
        store: Arc::new(IamStore::open(engine.clone(), ids.clone()).await.unwrap()),
        keys: Arc::new(KeyStore::new(engine.clone(), sealer, ids.clone())),
        mfa: Arc::new(MfaStore::new(
            engine.clone(),
            Arc::new(Sealer::new(&Secret::new([7u8; 32]))),
            ids.clone(),
        )),
        orgs: Arc::new(OrgStore::open(engine, ids).await.unwrap()),
        oidc_keys_dir: None,
    };
    let now = SystemTime::now();
    for (action, p) in [
        ("CreateUser", params(&[("UserName", "alice")])),
        ("CreateGroup", params(&[("GroupName", "devs")])),
        (
            "CreateRole",
            params(&[("RoleName", "ops"), ("AssumeRolePolicyDocument", TRUST)]),
        ),
        (
            "CreatePolicy",
            params(&[("PolicyName", "db"), ("PolicyDocument", POLICY)]),
        ),
        (
            "PutUserPolicy",
            params(&[
                ("UserName", "alice"),
                ("PolicyName", "inline"),
                ("PolicyDocument", POLICY),
            ]),
        ),
    ] {
        iam.call(&ctx(), action, &p, now).await.unwrap();
    }
    iam
}

const ACTIONS: &[&str] = &[
    "AddUserToGroup",
    "AttachGroupPolicy",
    "AttachRolePolicy",
    "AttachUserPolicy",
    "CreateAccessKey",
    "CreateGroup",
    "CreateOpenIDConnectProvider",
    "CreatePolicy",
    "CreatePolicyVersion",
    "CreateRole",
    "CreateUser",
    "CreateVirtualMFADevice",
    "DeactivateMFADevice",
    "DeleteAccessKey",
    "DeleteGroup",
    "DeleteGroupPolicy",
    "DeletePolicy",
    "DeletePolicyVersion",
    "DeleteRole",
    "DeleteRolePolicy",
    "DeleteUser",
    "DeleteUserPolicy",
    "DeleteVirtualMFADevice",
    "DeleteUserPermissionsBoundary",
    "DeleteRolePermissionsBoundary",
    "DetachGroupPolicy",
    "DetachRolePolicy",
    "DetachUserPolicy",
    "EnableMFADevice",
    "GetAccessKeyLastUsed",
    "GetAccountAuthorizationDetails",
    "GetGroup",
    "GetGroupPolicy",
    "GetOpenIDConnectProvider",
    "GetPolicy",
    "GetPolicyVersion",
    "GetRole",
    "GetRolePolicy",
    "GetUser",
    "GetUserPolicy",
    "ListAccessKeys",
    "ListAttachedGroupPolicies",
    "ListAttachedRolePolicies",
    "ListAttachedUserPolicies",
    "ListEntitiesForPolicy",
    "ListGroupPolicies",
    "ListGroups",
    "ListGroupsForUser",
    "ListMFADevices",
    "ListOpenIDConnectProviders",
    "ListPolicies",
    "ListPolicyVersions",
    "ListRolePolicies",
    "ListRoleTags",
    "ListRoles",
    "ListUserPolicies",
    "ListUserTags",
    "ListUsers",
    "ListVirtualMFADevices",
    "PutGroupPolicy",
    "PutRolePolicy",
    "PutUserPolicy",
    "PutUserPermissionsBoundary",
    "PutRolePermissionsBoundary",
    "RemoveUserFromGroup",
    "SetDefaultPolicyVersion",
    "TagRole",
    "TagUser",
    "UntagRole",
    "UntagUser",
    "UpdateAccessKey",
    "UpdateAssumeRolePolicy",
    "UpdateUser",
    "UpdateRole",
    "NoSuchAction",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("\u{0}".to_owned()),
        Just("💥".to_owned()),
        Just("x".repeat(200)),
        "\\PC{0,8}",
    ]
}

/// A value for parameter `name`: mostly one IAM would accept or an entity that exists.
fn value(name: &'static str) -> BoxedStrategy<String> {
    let policy_arn = format!("arn:aws:iam::{ACCOUNT}:policy/db");
    let plausible: Vec<String> = match name {
        "UserName" => vec!["alice".into(), "bob".into()],
        "GroupName" => vec!["devs".into(), "ops".into()],
        "RoleName" => vec!["ops".into(), "nobody".into()],
        "PolicyName" => vec!["inline".into(), "db".into(), "other".into()],
        "PolicyArn" | "PermissionsBoundary" => vec![
            policy_arn,
            "arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess".into(),
            "arn:aws:iam::aws:policy/Nope".into(),
            "not-an-arn".into(),
        ],
        "PolicyDocument" | "AssumeRolePolicyDocument" => vec![
            POLICY.into(),
            TRUST.into(),
            "{".into(),
            r#"{"Version":"2012-10-17","Statement":[]}"#.into(),
            format!("{}{}", "[".repeat(3000), "]".repeat(3000)),
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:username":"*a*a*a*a*b"}}}}"#.into(),
        ],
        "Path" | "PathPrefix" => vec!["/".into(), "/a/b/".into(), "a".into(), "//".into()],
        "MaxItems" | "MaxSessionDuration" => vec![
            "1".into(),
            "0".into(),
            "-1".into(),
            "1000".into(),
            "99999999999999999999".into(),
            "3600".into(),
        ],
        "VersionId" => vec!["v1".into(), "v2".into(), "v0".into(), "x".into()],
        "SetAsDefault" => vec!["true".into(), "false".into(), "maybe".into()],
        "Status" => vec!["Active".into(), "Inactive".into(), "Gone".into()],
        "Url" => vec!["https://idp.example.com".into(), "http://x".into(), "".into()],
        _ => vec!["alice".into(), "1".into()],
    };
    prop_oneof![
        6 => prop::sample::select(plausible),
        1 => text(),
    ]
    .boxed()
}

const NAMES: &[&str] = &[
    "UserName",
    "GroupName",
    "RoleName",
    "PolicyName",
    "PolicyArn",
    "PolicyDocument",
    "AssumeRolePolicyDocument",
    "Path",
    "PathPrefix",
    "MaxItems",
    "Marker",
    "VersionId",
    "SetAsDefault",
    "AccessKeyId",
    "Status",
    "PermissionsBoundary",
    "Description",
    "MaxSessionDuration",
    "NewUserName",
    "NewPath",
    "SerialNumber",
    "AuthenticationCode1",
    "AuthenticationCode2",
    "VirtualMFADeviceName",
    "Url",
    "OpenIDConnectProviderArn",
    "Scope",
    "AssignmentStatus",
    "OnlyAttached",
    "Filter.member.1",
];

fn request() -> impl Strategy<Value = (&'static str, Params)> {
    // Each name with some probability: the entity names and documents most actions need
    // often, the rest now and then.
    let pairs: Vec<BoxedStrategy<Option<(String, String)>>> = NAMES
        .iter()
        .map(|&n| {
            let weight =
                if n.ends_with("Name") || n.starts_with("Policy") || n.ends_with("Document") {
                    0.7
                } else {
                    0.15
                };
            prop::option::weighted(weight, value(n).prop_map(move |v| (n.to_owned(), v))).boxed()
        })
        .collect();
    let members = vec(
        (
            prop::sample::select(vec![
                "Tags.member.{}.Key",
                "Tags.member.{}.Value",
                "TagKeys.member.{}",
                "ClientIDList.member.{}",
                "ThumbprintList.member.{}",
            ]),
            prop_oneof![1..4u32, Just(0u32), Just(99_999_999u32)],
            prop_oneof![3 => Just("team".to_owned()), 1 => text()],
        ),
        0..6,
    );
    (prop::sample::select(ACTIONS), pairs, members).prop_map(|(action, pairs, members)| {
        let mut map: BTreeMap<String, String> = pairs.into_iter().flatten().collect();
        for (pattern, n, v) in members {
            map.insert(pattern.replace("{}", &n.to_string()), v);
        }
        (action, Params(map))
    })
}

/// An Organizations operation's JSON input: the fields its operations read, any values.
fn orgs_request() -> impl Strategy<Value = (&'static str, Value)> {
    let ops = prop::sample::select(vec![
        "CreateOrganization",
        "DescribeOrganization",
        "DeleteOrganization",
        "ListRoots",
        "CreateAccount",
        "DescribeCreateAccountStatus",
        "ListAccounts",
        "DescribeAccount",
        "CreateOrganizationalUnit",
        "DeleteOrganizationalUnit",
        "ListOrganizationalUnitsForParent",
        "MoveAccount",
        "ListParents",
        "ListChildren",
        "CreatePolicy",
        "UpdatePolicy",
        "DeletePolicy",
        "DescribePolicy",
        "ListPolicies",
        "AttachPolicy",
        "DetachPolicy",
        "ListPoliciesForTarget",
        "ListTargetsForPolicy",
        "EnablePolicyType",
        "DisablePolicyType",
        "RemoveAccountFromOrganization",
        "NoSuchOperation",
    ]);
    let scalar = prop_oneof![
        Just(json!(null)),
        Just(json!(1)),
        Just(json!(true)),
        Just(json!("ALL")),
        Just(json!("SERVICE_CONTROL_POLICY")),
        Just(json!("r-0000")),
        Just(json!("p-FullAWSAccess")),
        Just(json!(POLICY)),
        Just(json!("{")),
        Just(json!(ACCOUNT)),
        Just(json!("a@example.com")),
        text().prop_map(Value::from),
    ];
    let fields = prop::collection::btree_map(
        prop::sample::select(vec![
            "FeatureSet",
            "Email",
            "AccountName",
            "AccountId",
            "ParentId",
            "Name",
            "Id",
            "OrganizationalUnitId",
            "SourceParentId",
            "DestinationParentId",
            "ChildId",
            "ChildType",
            "Content",
            "Description",
            "Type",
            "PolicyId",
            "TargetId",
            "RootId",
            "PolicyType",
            "Filter",
            "MaxResults",
            "NextToken",
            "CreateAccountRequestId",
        ]),
        scalar,
        0..6,
    );
    (ops, fields).prop_map(|(op, f)| (op, json!(f)))
}

fn new_runner() -> proptest::test_runner::TestRunner {
    proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 1500,
        ..ProptestConfig::default()
    })
}

#[test]
fn any_iam_action_and_any_organizations_input_get_an_answer() {
    let worker = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let mut runner = new_runner();
            let iam_cases = runner.run(&request(), |(action, p)| {
                rt.block_on(async {
                    let iam = fixture().await;
                    let _answer = iam.call(&ctx(), action, &p, SystemTime::now()).await;
                });
                Ok(())
            });
            if let Err(e) = iam_cases {
                panic!("{e}");
            }
            let mut runner = new_runner();
            let orgs_cases = runner.run(&orgs_request(), |(op, input)| {
                rt.block_on(async {
                    let iam = fixture().await;
                    let validate = |doc: &str| {
                        rampart_iam::policy::Policy::parse(
                            doc,
                            rampart_iam::policy::PolicyKind::ServiceControl,
                        )
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                    };
                    // The organization exists for half the cases.
                    if input.as_object().is_some_and(|m| m.len() % 2 == 0) {
                        let _created = iam
                            .orgs
                            .call(
                                ACCOUNT,
                                "CreateOrganization",
                                &json!({"FeatureSet": "ALL"}),
                                &iam.store,
                                SystemTime::now(),
                                &validate,
                            )
                            .await;
                    }
                    let _answer = iam
                        .orgs
                        .call(
                            ACCOUNT,
                            op,
                            &input,
                            &iam.store,
                            SystemTime::now(),
                            &validate,
                        )
                        .await;
                });
                Ok(())
            });
            if let Err(e) = orgs_cases {
                panic!("{e}");
            }
        })
        .unwrap();
    if let Err(panic) = worker.join() {
        std::panic::resume_unwind(panic);
    }
}
