//! AWS Organizations: one organization per Rampart, its accounts
//! (CreateAccount makes member accounts with OrganizationAccountAccessRole),
//! organizational units, and service control policies with their
//! attachments. Feeds the SCP layer of authorization: [`OrgStore::scp_path`].
//!
//! INVARIANT: the management account is never restricted by SCPs.
//! INVARIANT: while SCPs are enabled, every root, OU and account has at
//! least one SCP attached (FullAWSAccess by default).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock};

use rampart_core::{AccountId, IdSource, epoch_seconds};
use rampart_storage::{Batch, Engine};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::store::{IamStore, Kind, Role, record, unique_id};

/// Storage tree and key of the organization document.
const TREE: &str = "orgs/state";
const KEY: &[u8] = b"org";

/// The id of the AWS managed FullAWSAccess SCP.
pub const FULL_AWS_ACCESS: &str = "p-FullAWSAccess";
const FULL_AWS_ACCESS_DOC: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const SCP: &str = "SERVICE_CONTROL_POLICY";

/// An Organizations error: `(__type, message)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct OrgError {
    /// The `__type`, e.g. `AWSOrganizationsNotInUseException`.
    pub kind: &'static str,
    /// AWS's message.
    pub message: String,
}

fn e(kind: &'static str, message: impl Into<String>) -> OrgError {
    OrgError {
        kind,
        message: message.into(),
    }
}

fn not_in_use() -> OrgError {
    e(
        "AWSOrganizationsNotInUseException",
        "Your account is not a member of an organization.",
    )
}

fn denied() -> OrgError {
    e(
        "AccessDeniedException",
        "You don't have permissions to access this resource.",
    )
}

/// The organization.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Org {
    id: String,
    master: String,
    master_email: String,
    feature_set: String,
    root_id: String,
    scp_enabled: bool,
}

/// A member (or the management) account.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Account {
    id: String,
    email: String,
    name: String,
    method: String,
    joined: f64,
    parent: String,
}

/// An organizational unit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Ou {
    id: String,
    name: String,
    parent: String,
}

/// A policy (SCP).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct OrgPolicy {
    id: String,
    name: String,
    description: String,
    content: String,
    aws_managed: bool,
}

/// The whole organization document.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct OrgState {
    org: Option<Org>,
    accounts: BTreeMap<String, Account>,
    ous: BTreeMap<String, Ou>,
    policies: BTreeMap<String, OrgPolicy>,
    /// (policy id, target id).
    attachments: BTreeSet<(String, String)>,
    /// CreateAccount requests by id → (account name, account id).
    create_requests: BTreeMap<String, (String, String, f64)>,
}

/// The SCPs that apply to an account, level by level (root, OUs, account).
#[derive(Debug, Clone, PartialEq)]
pub struct ScpPath {
    /// Each level's SCPs as (policy id, document).
    pub levels: Vec<Vec<(String, String)>>,
}

/// The Organizations service and state.
pub struct OrgStore {
    /// Where the organization document persists.
    engine: Arc<dyn Engine>,
    /// Random ids.
    ids: Arc<dyn IdSource>,
    /// In memory for authorization.
    state: RwLock<Arc<OrgState>>,
    /// One mutation at a time.
    write: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for OrgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OrgStore")
    }
}

fn lower_id(ids: &dyn IdSource, n: usize) -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut buf = vec![0u8; n];
    ids.fill(&mut buf);
    buf.iter()
        .map(|b| char::from(ALPHABET.get(usize::from(b % 36)).copied().unwrap_or(b'a')))
        .collect()
}

fn s<'a>(input: &'a Value, key: &str) -> Option<&'a str> {
    input.get(key).and_then(Value::as_str)
}

fn req<'a>(input: &'a Value, key: &str) -> Result<&'a str, OrgError> {
    s(input, key).ok_or_else(|| {
        e(
            "InvalidInputException",
            format!(
                "You provided a value that does not match the required pattern: {key} is required."
            ),
        )
    })
}

impl OrgState {
    fn org(&self) -> Result<&Org, OrgError> {
        self.org.as_ref().ok_or_else(not_in_use)
    }

    fn arn(&self, kind: &str, id: &str) -> String {
        let Some(o) = &self.org else {
            return String::new();
        };
        match kind {
            "root" => format!("arn:aws:organizations::{}:root/{}/{id}", o.master, o.id),
            "ou" => format!("arn:aws:organizations::{}:ou/{}/{id}", o.master, o.id),
            "account" => format!("arn:aws:organizations::{}:account/{}/{id}", o.master, o.id),
            _ => {
                if id == FULL_AWS_ACCESS {
                    "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess"
                        .into()
                } else {
                    format!(
                        "arn:aws:organizations::{}:policy/{}/service_control_policy/{id}",
                        o.master, o.id
                    )
                }
            }
        }
    }

    fn target_exists(&self, id: &str) -> bool {
        self.org.as_ref().is_some_and(|o| o.root_id == id)
            || self.ous.contains_key(id)
            || self.accounts.contains_key(id)
    }

    fn parent_exists(&self, id: &str) -> bool {
        self.org.as_ref().is_some_and(|o| o.root_id == id) || self.ous.contains_key(id)
    }

    fn account_json(&self, a: &Account) -> Value {
        json!({
            "Id": a.id, "Arn": self.arn("account", &a.id), "Email": a.email, "Name": a.name,
            "Status": "ACTIVE", "State": "ACTIVE", "JoinedMethod": a.method, "JoinedTimestamp": a.joined
        })
    }

    fn policy_summary(&self, p: &OrgPolicy) -> Value {
        json!({
            "Id": p.id, "Arn": self.arn("policy", &p.id), "Name": p.name,
            "Description": p.description, "Type": SCP, "AwsManaged": p.aws_managed
        })
    }

    fn root_json(&self) -> Value {
        let Some(o) = &self.org else {
            return Value::Null;
        };
        let types = if o.scp_enabled {
            json!([{"Type": SCP, "Status": "ENABLED"}])
        } else {
            json!([])
        };
        json!({"Id": o.root_id, "Arn": self.arn("root", &o.root_id), "Name": "Root", "PolicyTypes": types})
    }

    fn org_json(&self) -> Value {
        let Some(o) = &self.org else {
            return Value::Null;
        };
        json!({
            "Id": o.id,
            "Arn": format!("arn:aws:organizations::{}:organization/{}", o.master, o.id),
            "FeatureSet": o.feature_set,
            "MasterAccountArn": self.arn("account", &o.master),
            "MasterAccountId": o.master,
            "MasterAccountEmail": o.master_email,
            "AvailablePolicyTypes": [{"Type": SCP, "Status": if o.scp_enabled { "ENABLED" } else { "DISABLED" }}]
        })
    }

    /// The parent chain from the root down to `target` (inclusive).
    fn path_to(&self, target: &str) -> Vec<String> {
        let mut chain = vec![target.to_owned()];
        let mut cur = target.to_owned();
        for _ in 0..10 {
            let parent = self
                .accounts
                .get(&cur)
                .map(|a| a.parent.clone())
                .or_else(|| self.ous.get(&cur).map(|o| o.parent.clone()));
            match parent {
                Some(p) => {
                    chain.push(p.clone());
                    cur = p;
                }
                None => break,
            }
        }
        chain.reverse();
        chain
    }
}

impl OrgStore {
    /// Loads the organization document.
    pub async fn open(engine: Arc<dyn Engine>, ids: Arc<dyn IdSource>) -> Result<Self, OrgError> {
        let state = match engine
            .get(TREE, KEY)
            .await
            .map_err(|err| e("ServiceException", err.to_string()))?
        {
            Some(v) => serde_json::from_slice(&v.value)
                .map_err(|err| e("ServiceException", format!("organization record: {err}")))?,
            None => OrgState::default(),
        };
        Ok(Self {
            engine,
            ids,
            state: RwLock::new(Arc::new(state)),
            write: tokio::sync::Mutex::new(()),
        })
    }

    fn snapshot(&self) -> Arc<OrgState> {
        match self.state.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    async fn save(&self, next: OrgState) -> Result<(), OrgError> {
        let mut b = Batch::new();
        b.put(
            TREE,
            KEY.to_vec(),
            serde_json::to_vec(&next).map_err(|err| e("ServiceException", err.to_string()))?,
        );
        self.engine
            .commit(b)
            .await
            .map_err(|err| e("ServiceException", err.to_string()))?;
        match self.state.write() {
            Ok(mut s) => *s = Arc::new(next),
            Err(p) => *p.into_inner() = Arc::new(next),
        }
        Ok(())
    }

    /// The organization id and whether `account` is its management account,
    /// if `account` belongs to the organization.
    pub fn membership(&self, account: &str) -> Option<(String, bool)> {
        let st = self.snapshot();
        let o = st.org.as_ref()?;
        st.accounts
            .contains_key(account)
            .then(|| (o.id.clone(), o.master == account))
    }

    /// The SCPs that restrict `account`, or `None` when none apply (not in
    /// an organization, SCPs not enabled, or the management account).
    pub fn scp_path(&self, account: &str) -> Option<ScpPath> {
        let st = self.snapshot();
        let o = st.org.as_ref()?;
        if !o.scp_enabled || o.master == account || !st.accounts.contains_key(account) {
            return None;
        }
        let levels = st
            .path_to(account)
            .iter()
            .map(|target| {
                st.attachments
                    .iter()
                    .filter(|(_, t)| t == target)
                    .filter_map(|(p, _)| {
                        st.policies
                            .get(p)
                            .map(|pol| (pol.arn_id(), pol.content.clone()))
                    })
                    .collect()
            })
            .collect();
        Some(ScpPath { levels })
    }

    /// Runs one Organizations operation for `caller_account`.
    pub async fn call(
        &self,
        caller_account: &str,
        op: &str,
        input: &Value,
        iam: &IamStore,
        now: std::time::SystemTime,
        validate_scp: &(dyn Fn(&str) -> Result<(), String> + Send + Sync),
    ) -> Result<Value, OrgError> {
        let now_f = epoch_seconds(now);
        let _guard = self.write.lock().await;
        let mut st = (*self.snapshot()).clone();
        let is_master = st.org.as_ref().is_some_and(|o| o.master == caller_account);
        let member = st.accounts.contains_key(caller_account);
        let read_only = matches!(op, "DescribeOrganization");
        if op != "CreateOrganization" {
            st.org()?;
            if !member {
                return Err(not_in_use());
            }
            if !is_master && !read_only {
                return Err(denied());
            }
        }
        let out = match op {
            "CreateOrganization" => {
                if st.org.is_some() {
                    return Err(e(
                        "AlreadyInOrganizationException",
                        "The provided account is already a member of an organization.",
                    ));
                }
                let feature_set = s(input, "FeatureSet").unwrap_or("ALL").to_owned();
                if feature_set != "ALL" && feature_set != "CONSOLIDATED_BILLING" {
                    return Err(e(
                        "InvalidInputException",
                        "You provided a value that does not match the required pattern.",
                    ));
                }
                let org = Org {
                    id: format!("o-{}", lower_id(&*self.ids, 10)),
                    master: caller_account.to_owned(),
                    master_email: format!("root@{caller_account}.rampart.local"),
                    feature_set,
                    root_id: format!("r-{}", lower_id(&*self.ids, 4)),
                    scp_enabled: false,
                };
                st.accounts.insert(
                    caller_account.to_owned(),
                    Account {
                        id: caller_account.to_owned(),
                        email: org.master_email.clone(),
                        name: "management".into(),
                        method: "CREATED".into(),
                        joined: now_f,
                        parent: org.root_id.clone(),
                    },
                );
                st.policies.insert(
                    FULL_AWS_ACCESS.into(),
                    OrgPolicy {
                        id: FULL_AWS_ACCESS.into(),
                        name: "FullAWSAccess".into(),
                        description: "Allows access to every operation".into(),
                        content: FULL_AWS_ACCESS_DOC.into(),
                        aws_managed: true,
                    },
                );
                st.org = Some(org);
                json!({ "Organization": st.org_json() })
            }
            "DescribeOrganization" => json!({ "Organization": st.org_json() }),
            "ListRoots" => json!({ "Roots": [st.root_json()] }),
            "EnablePolicyType" | "DisablePolicyType" => {
                let root = req(input, "RootId")?;
                let ty = req(input, "PolicyType")?;
                let o = st.org.as_mut().ok_or_else(not_in_use)?;
                if o.root_id != root {
                    return Err(e(
                        "RootNotFoundException",
                        "We can't find a root with the RootId that you specified.",
                    ));
                }
                if ty != SCP {
                    return Err(e(
                        "InvalidInputException",
                        format!("Rampart supports only {SCP} policies."),
                    ));
                }
                if o.feature_set != "ALL" {
                    return Err(e(
                        "ConstraintViolationException",
                        "This operation requires all features to be enabled for the organization.",
                    ));
                }
                if op == "EnablePolicyType" {
                    if o.scp_enabled {
                        return Err(e(
                            "PolicyTypeAlreadyEnabledException",
                            "The specified policy type is already enabled.",
                        ));
                    }
                    o.scp_enabled = true;
                    // FullAWSAccess is attached to every root, OU and account.
                    let targets: Vec<String> = std::iter::once(root.to_owned())
                        .chain(st.ous.keys().cloned())
                        .chain(st.accounts.keys().cloned())
                        .collect();
                    for t in targets {
                        st.attachments.insert((FULL_AWS_ACCESS.into(), t));
                    }
                } else {
                    if !o.scp_enabled {
                        return Err(e(
                            "PolicyTypeNotEnabledException",
                            "This operation can be performed only for enabled policy types.",
                        ));
                    }
                    o.scp_enabled = false;
                    st.attachments.clear();
                }
                json!({ "Root": st.root_json() })
            }
            "CreateAccount" => {
                let email = req(input, "Email")?.to_owned();
                let name = req(input, "AccountName")?.to_owned();
                if st.accounts.values().any(|a| a.email == email) {
                    return Err(e(
                        "DuplicateAccountException",
                        "That account already exists.",
                    ));
                }
                let mut id = AccountId::generate(&*self.ids).to_string();
                while st.accounts.contains_key(&id) {
                    id = AccountId::generate(&*self.ids).to_string();
                }
                let root = st.org()?.root_id.clone();
                let master = st.org()?.master.clone();
                let scp_on = st.org()?.scp_enabled;
                st.accounts.insert(
                    id.clone(),
                    Account {
                        id: id.clone(),
                        email,
                        name: name.clone(),
                        method: "CREATED".into(),
                        joined: now_f,
                        parent: root,
                    },
                );
                if scp_on {
                    st.attachments.insert((FULL_AWS_ACCESS.into(), id.clone()));
                }
                let role_name = s(input, "RoleName")
                    .unwrap_or("OrganizationAccountAccessRole")
                    .to_owned();
                create_access_role(iam, &id, &master, &role_name, now).await?;
                let req_id = format!("car-{}", lower_id(&*self.ids, 32));
                st.create_requests
                    .insert(req_id.clone(), (name.clone(), id.clone(), now_f));
                json!({ "CreateAccountStatus": {
                    "Id": req_id, "AccountName": name, "State": "SUCCEEDED",
                    "RequestedTimestamp": now_f, "CompletedTimestamp": now_f, "AccountId": id
                }})
            }
            "DescribeCreateAccountStatus" => {
                let rid = req(input, "CreateAccountRequestId")?;
                let (name, id, at) = st.create_requests.get(rid).cloned().ok_or_else(|| {
                    e("CreateAccountStatusNotFoundException", "We can't find an create account request with the CreateAccountRequestId that you specified.")
                })?;
                json!({ "CreateAccountStatus": {
                    "Id": rid, "AccountName": name, "State": "SUCCEEDED",
                    "RequestedTimestamp": at, "CompletedTimestamp": at, "AccountId": id
                }})
            }
            "ListAccounts" => {
                let accounts: Vec<Value> =
                    st.accounts.values().map(|a| st.account_json(a)).collect();
                json!({ "Accounts": accounts })
            }
            "DescribeAccount" => {
                let id = req(input, "AccountId")?;
                let a = st.accounts.get(id).ok_or_else(account_not_found)?;
                json!({ "Account": st.account_json(a) })
            }
            "CreateOrganizationalUnit" => {
                let parent = req(input, "ParentId")?.to_owned();
                let name = req(input, "Name")?.to_owned();
                if !st.parent_exists(&parent) {
                    return Err(e(
                        "ParentNotFoundException",
                        "We can't find a root or OU with the ParentId that you specified.",
                    ));
                }
                if st
                    .ous
                    .values()
                    .any(|o| o.parent == parent && o.name == name)
                {
                    return Err(e(
                        "DuplicateOrganizationalUnitException",
                        "An OU with the same name already exists.",
                    ));
                }
                let root4 = st.org()?.root_id.trim_start_matches("r-").to_owned();
                let id = format!("ou-{root4}-{}", lower_id(&*self.ids, 8));
                st.ous.insert(
                    id.clone(),
                    Ou {
                        id: id.clone(),
                        name: name.clone(),
                        parent,
                    },
                );
                if st.org()?.scp_enabled {
                    st.attachments.insert((FULL_AWS_ACCESS.into(), id.clone()));
                }
                json!({ "OrganizationalUnit": {"Id": id, "Arn": st.arn("ou", &id), "Name": name} })
            }
            "DeleteOrganizationalUnit" => {
                let id = req(input, "OrganizationalUnitId")?.to_owned();
                if !st.ous.contains_key(&id) {
                    return Err(ou_not_found());
                }
                if st.ous.values().any(|o| o.parent == id)
                    || st.accounts.values().any(|a| a.parent == id)
                {
                    return Err(e(
                        "OrganizationalUnitNotEmptyException",
                        "The specified OU is not empty. Move all accounts to another root or OU and delete all child OUs, and then try the operation again.",
                    ));
                }
                st.ous.remove(&id);
                st.attachments.retain(|(_, t)| *t != id);
                json!({})
            }
            "DescribeOrganizationalUnit" => {
                let id = req(input, "OrganizationalUnitId")?;
                let o = st.ous.get(id).ok_or_else(ou_not_found)?;
                json!({ "OrganizationalUnit": {"Id": o.id, "Arn": st.arn("ou", &o.id), "Name": o.name} })
            }
            "ListOrganizationalUnitsForParent" => {
                let parent = req(input, "ParentId")?;
                if !st.parent_exists(parent) {
                    return Err(e(
                        "ParentNotFoundException",
                        "We can't find a root or OU with the ParentId that you specified.",
                    ));
                }
                let ous: Vec<Value> = st
                    .ous
                    .values()
                    .filter(|o| o.parent == parent)
                    .map(|o| json!({"Id": o.id, "Arn": st.arn("ou", &o.id), "Name": o.name}))
                    .collect();
                json!({ "OrganizationalUnits": ous })
            }
            "ListAccountsForParent" => {
                let parent = req(input, "ParentId")?;
                let accounts: Vec<Value> = st
                    .accounts
                    .values()
                    .filter(|a| a.parent == parent)
                    .map(|a| st.account_json(a))
                    .collect();
                json!({ "Accounts": accounts })
            }
            "ListChildren" => {
                let parent = req(input, "ParentId")?;
                let ty = req(input, "ChildType")?;
                let children: Vec<Value> = match ty {
                    "ACCOUNT" => st
                        .accounts
                        .values()
                        .filter(|a| a.parent == parent)
                        .map(|a| json!({"Id": a.id, "Type": "ACCOUNT"}))
                        .collect(),
                    "ORGANIZATIONAL_UNIT" => st
                        .ous
                        .values()
                        .filter(|o| o.parent == parent)
                        .map(|o| json!({"Id": o.id, "Type": "ORGANIZATIONAL_UNIT"}))
                        .collect(),
                    _ => {
                        return Err(e(
                            "InvalidInputException",
                            "ChildType must be ACCOUNT or ORGANIZATIONAL_UNIT.",
                        ));
                    }
                };
                json!({ "Children": children })
            }
            "ListParents" => {
                let child = req(input, "ChildId")?;
                let parent = st
                    .accounts
                    .get(child)
                    .map(|a| a.parent.clone())
                    .or_else(|| st.ous.get(child).map(|o| o.parent.clone()))
                    .ok_or_else(|| e("ChildNotFoundException", "We can't find an organizational unit (OU) or AWS account with the ChildId that you specified."))?;
                let ty = if parent.starts_with("r-") {
                    "ROOT"
                } else {
                    "ORGANIZATIONAL_UNIT"
                };
                json!({ "Parents": [{"Id": parent, "Type": ty}] })
            }
            "MoveAccount" => {
                let id = req(input, "AccountId")?.to_owned();
                let src = req(input, "SourceParentId")?.to_owned();
                let dst = req(input, "DestinationParentId")?.to_owned();
                if !st.parent_exists(&src) {
                    return Err(e(
                        "SourceParentNotFoundException",
                        "We can't find a source root or OU with the ParentId that you specified.",
                    ));
                }
                if !st.parent_exists(&dst) {
                    return Err(e(
                        "DestinationParentNotFoundException",
                        "We can't find a destination root or OU with the ParentId that you specified.",
                    ));
                }
                let a = st.accounts.get_mut(&id).ok_or_else(account_not_found)?;
                if a.parent != src {
                    return Err(e(
                        "AccountNotFoundException",
                        "We can't find an AWS account with the AccountId that you specified, or the account whose credentials you used to make this request isn't a member of an organization.",
                    ));
                }
                a.parent = dst;
                json!({})
            }
            "CreatePolicy" => {
                let name = req(input, "Name")?.to_owned();
                let content = req(input, "Content")?.to_owned();
                let ty = req(input, "Type")?;
                if ty != SCP {
                    return Err(e(
                        "InvalidInputException",
                        format!("Rampart supports only {SCP} policies."),
                    ));
                }
                if content.chars().filter(|c| !c.is_whitespace()).count() > 5120 {
                    return Err(e(
                        "ConstraintViolationException",
                        "The provided policy document exceeds the maximum size of 5120 characters.",
                    ));
                }
                validate_scp(&content).map_err(|m| e("MalformedPolicyDocumentException", m))?;
                if st.policies.values().any(|p| p.name == name) {
                    return Err(e(
                        "DuplicatePolicyException",
                        "A policy with the same name already exists.",
                    ));
                }
                let id = format!("p-{}", lower_id(&*self.ids, 8));
                let p = OrgPolicy {
                    id: id.clone(),
                    name,
                    description: s(input, "Description").unwrap_or("").to_owned(),
                    content,
                    aws_managed: false,
                };
                let out = json!({ "Policy": {"PolicySummary": st.policy_summary(&p), "Content": p.content} });
                st.policies.insert(id, p);
                out
            }
            "UpdatePolicy" => {
                let id = req(input, "PolicyId")?.to_owned();
                if id == FULL_AWS_ACCESS {
                    return Err(e(
                        "PolicyChangesInProgressException",
                        "You can't change an AWS managed policy.",
                    ));
                }
                if let Some(c) = s(input, "Content") {
                    validate_scp(c).map_err(|m| e("MalformedPolicyDocumentException", m))?;
                }
                let p = st.policies.get_mut(&id).ok_or_else(policy_not_found)?;
                if let Some(n) = s(input, "Name") {
                    p.name = n.to_owned();
                }
                if let Some(d) = s(input, "Description") {
                    p.description = d.to_owned();
                }
                if let Some(c) = s(input, "Content") {
                    p.content = c.to_owned();
                }
                let p = p.clone();
                json!({ "Policy": {"PolicySummary": st.policy_summary(&p), "Content": p.content} })
            }
            "DescribePolicy" => {
                let id = req(input, "PolicyId")?;
                let p = st.policies.get(id).ok_or_else(policy_not_found)?;
                json!({ "Policy": {"PolicySummary": st.policy_summary(p), "Content": p.content} })
            }
            "DeletePolicy" => {
                let id = req(input, "PolicyId")?.to_owned();
                if !st.policies.contains_key(&id) {
                    return Err(policy_not_found());
                }
                if st.attachments.iter().any(|(p, _)| *p == id) {
                    return Err(e(
                        "PolicyInUseException",
                        "The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.",
                    ));
                }
                st.policies.remove(&id);
                json!({})
            }
            "ListPolicies" => {
                let policies: Vec<Value> =
                    st.policies.values().map(|p| st.policy_summary(p)).collect();
                json!({ "Policies": policies })
            }
            "AttachPolicy" | "DetachPolicy" => {
                let id = req(input, "PolicyId")?.to_owned();
                let target = req(input, "TargetId")?.to_owned();
                if !st.policies.contains_key(&id) {
                    return Err(policy_not_found());
                }
                if !st.target_exists(&target) {
                    return Err(e(
                        "TargetNotFoundException",
                        "We can't find a root, OU, account, or email that matches the target ID or email that you specified.",
                    ));
                }
                if !st.org()?.scp_enabled {
                    return Err(e(
                        "PolicyTypeNotEnabledException",
                        "This operation can be performed only for enabled policy types.",
                    ));
                }
                let pair = (id.clone(), target.clone());
                if op == "AttachPolicy" {
                    if !st.attachments.insert(pair) {
                        return Err(e(
                            "DuplicatePolicyAttachmentException",
                            "A similar policy is already attached to the target.",
                        ));
                    }
                } else {
                    if !st.attachments.contains(&pair) {
                        return Err(e(
                            "PolicyNotAttachedException",
                            "The policy isn't attached to the specified target in the specified root.",
                        ));
                    }
                    if st.attachments.iter().filter(|(_, t)| *t == target).count() == 1 {
                        return Err(e(
                            "ConstraintViolationException",
                            "You cannot remove the last service control policy from a target: every root, OU and account must have at least one SCP attached.",
                        ));
                    }
                    st.attachments.remove(&pair);
                }
                json!({})
            }
            "ListTargetsForPolicy" => {
                let id = req(input, "PolicyId")?;
                if !st.policies.contains_key(id) {
                    return Err(policy_not_found());
                }
                let targets: Vec<Value> = st
                    .attachments
                    .iter()
                    .filter(|(p, _)| p == id)
                    .map(|(_, t)| {
                        let (ty, name, arn) = if t.starts_with("r-") {
                            ("ROOT", "Root".to_owned(), st.arn("root", t))
                        } else if let Some(o) = st.ous.get(t) {
                            ("ORGANIZATIONAL_UNIT", o.name.clone(), st.arn("ou", t))
                        } else {
                            let n = st
                                .accounts
                                .get(t)
                                .map(|a| a.name.clone())
                                .unwrap_or_default();
                            ("ACCOUNT", n, st.arn("account", t))
                        };
                        json!({"TargetId": t, "Arn": arn, "Name": name, "Type": ty})
                    })
                    .collect();
                json!({ "Targets": targets })
            }
            "ListPoliciesForTarget" => {
                let target = req(input, "TargetId")?;
                if !st.target_exists(target) {
                    return Err(e(
                        "TargetNotFoundException",
                        "We can't find a root, OU, account, or email that matches the target ID or email that you specified.",
                    ));
                }
                let policies: Vec<Value> = st
                    .attachments
                    .iter()
                    .filter(|(_, t)| t == target)
                    .filter_map(|(p, _)| st.policies.get(p).map(|p| st.policy_summary(p)))
                    .collect();
                json!({ "Policies": policies })
            }
            other => {
                return Err(e(
                    "UnknownOperationException",
                    format!("Operation {other} is not supported."),
                ));
            }
        };
        if op != "DescribeOrganization" && !op.starts_with("List") && !op.starts_with("Describe") {
            self.save(st).await?;
        }
        Ok(out)
    }
}

impl OrgPolicy {
    fn arn_id(&self) -> String {
        self.id.clone()
    }
}

fn account_not_found() -> OrgError {
    e(
        "AccountNotFoundException",
        "We can't find an AWS account with the AccountId that you specified, or the account whose credentials you used to make this request isn't a member of an organization.",
    )
}

fn ou_not_found() -> OrgError {
    e(
        "OrganizationalUnitNotFoundException",
        "We can't find an OU with the OrganizationalUnitId that you specified.",
    )
}

fn policy_not_found() -> OrgError {
    e(
        "PolicyNotFoundException",
        "We can't find a policy with the PolicyId that you specified.",
    )
}

/// Creates the member account's access role, trusted by the management account.
async fn create_access_role(
    iam: &IamStore,
    account: &str,
    master: &str,
    role_name: &str,
    now: std::time::SystemTime,
) -> Result<(), OrgError> {
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{master}:root"}},"Action":"sts:AssumeRole"}}]}}"#
    );
    let id = unique_id("AROA", iam.ids());
    let role = Role {
        name: role_name.to_owned(),
        id,
        arn: format!("arn:aws:iam::{account}:role/{role_name}"),
        path: "/".into(),
        created: crate::store::secs(now),
        trust,
        description: None,
        max_session: 3600,
        tags: Vec::new(),
        boundary: None,
        inline: BTreeMap::new(),
        attached: vec!["arn:aws:iam::aws:policy/AdministratorAccess".into()],
    };
    iam.mutate(|st| {
        let w = record(Kind::Role, account, role_name, &role)?;
        st.roles
            .insert((account.to_owned(), role_name.to_owned()), role.clone());
        Ok((vec![w], ()))
    })
    .await
    .map_err(|err| e("ServiceException", err.to_string()))
}
