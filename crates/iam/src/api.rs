//! The IAM API (Query protocol): users, groups, roles, managed policies with
//! versions, inline policies, attachments, access keys, permissions
//! boundaries and tags. Input is the flat parameter map of the Query
//! protocol; output is a neutral element tree that `front` renders as IAM's
//! XML. IAM's own model is this shape, so it lives here, not in `front`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use rampart_core::{PrincipalKind, RequestContext, iso8601};

use crate::error::{IamError, IamResult};
use crate::keys::KeyStore;
use crate::policy::ContextValue;
use crate::store::{
    Group, IamState, IamStore, Kind, ManagedPolicy, PolicyVersion, Role, User, record, removal,
    secs, unique_id,
};

/// The Query protocol's parameters (`Action`, `UserName`, `Tags.member.1.Key`, …).
#[derive(Debug, Clone, Default)]
pub struct Params(pub BTreeMap<String, String>);

/// A response element: a text leaf or a branch of elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// `<name>text</name>`.
    Leaf(String, String),
    /// `<name>children</name>`.
    Branch(String, Vec<Node>),
}

fn leaf(name: &str, value: impl Into<String>) -> Node {
    Node::Leaf(name.to_owned(), value.into())
}

fn branch(name: &str, children: Vec<Node>) -> Node {
    Node::Branch(name.to_owned(), children)
}

fn member_list(name: &str, items: Vec<Vec<Node>>) -> Node {
    Node::Branch(
        name.to_owned(),
        items
            .into_iter()
            .map(|c| Node::Branch("member".into(), c))
            .collect(),
    )
}

fn validation(value: Option<&str>, at: &str, constraint: &str) -> IamError {
    let v = match value {
        Some(v) => format!("'{v}'"),
        None => "null".into(),
    };
    IamError::Validation(format!(
        "1 validation error detected: Value {v} at '{at}' failed to satisfy constraint: {constraint}"
    ))
}

impl Params {
    /// A parameter.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }

    /// A required parameter; `at` is its name in validation messages.
    fn req(&self, k: &str, at: &str) -> IamResult<&str> {
        self.get(k)
            .ok_or_else(|| validation(None, at, "Member must not be null"))
    }

    /// `prefix.member.N.<field>` structures, in N order.
    fn structs(&self, prefix: &str) -> Vec<BTreeMap<String, String>> {
        let mut by_n: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
        let head = format!("{prefix}.member.");
        for (k, v) in &self.0 {
            if let Some(rest) = k.strip_prefix(&head)
                && let Some((n, field)) = rest.split_once('.')
                && let Ok(n) = n.parse::<u32>()
            {
                by_n.entry(n)
                    .or_default()
                    .insert(field.to_owned(), v.clone());
            }
        }
        by_n.into_values().collect()
    }

    /// `prefix.member.N` scalars, in N order.
    fn list(&self, prefix: &str) -> Vec<String> {
        let head = format!("{prefix}.member.");
        let mut v: Vec<(u32, String)> = self
            .0
            .iter()
            .filter_map(|(k, val)| {
                k.strip_prefix(&head)
                    .and_then(|n| n.parse::<u32>().ok())
                    .map(|n| (n, val.clone()))
            })
            .collect();
        v.sort_by_key(|(n, _)| *n);
        v.into_iter().map(|(_, s)| s).collect()
    }
}

/// IAM's name rule: `[\w+=,.@-]+` within length bounds.
fn check_name(v: &str, at: &str, max: usize) -> IamResult<()> {
    let ok_chars = v
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || "+=,.@-".contains(c));
    if !ok_chars {
        return Err(validation(
            Some(v),
            at,
            "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
        ));
    }
    let n = v.chars().count();
    if n < 1 {
        return Err(validation(
            Some(v),
            at,
            "Member must have length greater than or equal to 1",
        ));
    }
    if n > max {
        return Err(validation(
            Some(v),
            at,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// IAM paths: `/` or `/a/b/`.
fn check_path(p: &Params) -> IamResult<String> {
    let path = p.get("Path").unwrap_or("/");
    let ok = path.starts_with('/') && path.ends_with('/') && path.len() <= 512;
    if !ok {
        return Err(validation(
            Some(path),
            "path",
            "Member must satisfy regular expression pattern: (\\u002F)|(\\u002F[\\u0021-\\u007F]+\\u002F)",
        ));
    }
    Ok(path.to_owned())
}

/// Where a policy document is used (limits and rules differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocUse {
    /// Managed policy (6,144 characters, whitespace excluded).
    Managed,
    /// Inline user policy (2,048).
    InlineUser,
    /// Inline group policy (5,120).
    InlineGroup,
    /// Inline role policy (10,240).
    InlineRole,
    /// Role trust policy (2,048 by default).
    Trust,
}

/// Validates a policy document as IAM does for `use_`.
pub fn check_document(doc: &str, use_: DocUse) -> IamResult<()> {
    let limit = match use_ {
        DocUse::Managed => 6144,
        DocUse::InlineUser => 2048,
        DocUse::InlineGroup => 5120,
        DocUse::InlineRole => 10240,
        DocUse::Trust => 2048,
    };
    let size = doc.chars().filter(|c| !c.is_whitespace()).count();
    if size > limit {
        return Err(IamError::LimitExceeded(format!(
            "Cannot exceed quota for PolicySize: {limit}"
        )));
    }
    crate::validate_policy(doc, use_)
}

fn user_nodes(u: &User) -> Vec<Node> {
    let mut v = vec![
        leaf("Path", &u.path),
        leaf("UserName", &u.name),
        leaf("UserId", &u.id),
        leaf("Arn", &u.arn),
        leaf("CreateDate", iso8601(u.created as i64)),
    ];
    if let Some(b) = &u.boundary {
        v.push(branch(
            "PermissionsBoundary",
            vec![
                leaf("PermissionsBoundaryType", "Policy"),
                leaf("PermissionsBoundaryArn", b),
            ],
        ));
    }
    if !u.tags.is_empty() {
        v.push(tag_list(&u.tags));
    }
    v
}

fn group_nodes(g: &Group) -> Vec<Node> {
    vec![
        leaf("Path", &g.path),
        leaf("GroupName", &g.name),
        leaf("GroupId", &g.id),
        leaf("Arn", &g.arn),
        leaf("CreateDate", iso8601(g.created as i64)),
    ]
}

/// IAM returns policy documents URL-encoded (botocore decodes them).
fn url_encode(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len() * 3 / 2);
    for b in doc.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn role_nodes(r: &Role) -> Vec<Node> {
    let mut v = vec![
        leaf("Path", &r.path),
        leaf("RoleName", &r.name),
        leaf("RoleId", &r.id),
        leaf("Arn", &r.arn),
        leaf("CreateDate", iso8601(r.created as i64)),
        leaf("AssumeRolePolicyDocument", url_encode(&r.trust)),
    ];
    if let Some(d) = &r.description {
        v.push(leaf("Description", d));
    }
    v.push(leaf("MaxSessionDuration", r.max_session.to_string()));
    if let Some(b) = &r.boundary {
        v.push(branch(
            "PermissionsBoundary",
            vec![
                leaf("PermissionsBoundaryType", "Policy"),
                leaf("PermissionsBoundaryArn", b),
            ],
        ));
    }
    if !r.tags.is_empty() {
        v.push(tag_list(&r.tags));
    }
    v
}

fn policy_nodes(p: &ManagedPolicy, st: &IamState) -> Vec<Node> {
    let mut v = vec![
        leaf("PolicyName", &p.name),
        leaf("PolicyId", &p.id),
        leaf("Arn", &p.arn),
        leaf("Path", &p.path),
        leaf("DefaultVersionId", &p.default_version),
        leaf("AttachmentCount", st.attachment_count(&p.arn).to_string()),
        leaf(
            "PermissionsBoundaryUsageCount",
            st.boundary_count(&p.arn).to_string(),
        ),
        leaf("IsAttachable", "true"),
    ];
    if let Some(d) = &p.description {
        v.push(leaf("Description", d));
    }
    v.push(leaf("CreateDate", iso8601(p.created as i64)));
    v.push(leaf("UpdateDate", iso8601(p.updated as i64)));
    if !p.tags.is_empty() {
        v.push(tag_list(&p.tags));
    }
    v
}

fn version_nodes(p: &ManagedPolicy, v: &PolicyVersion, with_doc: bool) -> Vec<Node> {
    let mut out = Vec::new();
    if with_doc {
        out.push(leaf("Document", url_encode(&v.document)));
    }
    out.push(leaf("VersionId", &v.id));
    out.push(leaf(
        "IsDefaultVersion",
        (v.id == p.default_version).to_string(),
    ));
    out.push(leaf("CreateDate", iso8601(v.created as i64)));
    out
}

fn tag_list(tags: &[(String, String)]) -> Node {
    member_list(
        "Tags",
        tags.iter()
            .map(|(k, v)| vec![leaf("Key", k), leaf("Value", v)])
            .collect(),
    )
}

fn parse_tags(p: &Params) -> IamResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in p.structs("Tags") {
        let k = t
            .get("Key")
            .cloned()
            .ok_or_else(|| validation(None, "tags.member.key", "Member must not be null"))?;
        let v = t.get("Value").cloned().unwrap_or_default();
        if k.is_empty() || k.chars().count() > 128 {
            return Err(validation(
                Some(&k),
                "tags.member.key",
                "Member must have length less than or equal to 128",
            ));
        }
        if v.chars().count() > 256 {
            return Err(validation(
                Some(&v),
                "tags.member.value",
                "Member must have length less than or equal to 256",
            ));
        }
        match out.iter_mut().find(|(ok, _)| *ok == k) {
            Some(slot) => slot.1 = v,
            None => out.push((k, v)),
        }
    }
    if out.len() > 50 {
        return Err(IamError::LimitExceeded(
            "Cannot exceed quota for TagsPerUser: 50".into(),
        ));
    }
    Ok(out)
}

fn merge_tags(into: &mut Vec<(String, String)>, new: Vec<(String, String)>) -> IamResult<()> {
    for (k, v) in new {
        match into.iter_mut().find(|(ok, _)| *ok == k) {
            Some(slot) => slot.1 = v,
            None => into.push((k, v)),
        }
    }
    if into.len() > 50 {
        return Err(IamError::LimitExceeded(
            "Cannot exceed quota for TagsPerUser: 50".into(),
        ));
    }
    Ok(())
}

/// Pages a sorted list by `Marker`/`MaxItems` (the marker is the index).
fn paginate<T>(items: Vec<T>, p: &Params) -> IamResult<(Vec<T>, Option<String>)> {
    let max = match p.get("MaxItems") {
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                validation(
                    Some(m),
                    "maxItems",
                    "Member must have value between 1 and 1000",
                )
            })?,
        None => 100,
    };
    let start = match p.get("Marker") {
        Some(m) => m
            .parse::<usize>()
            .map_err(|_| IamError::InvalidInput("Invalid Marker".into()))?,
        None => 0,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let next = (start + page.len() < total).then(|| (start + page.len()).to_string());
    Ok((page, next))
}

fn truncation(next: Option<String>) -> Vec<Node> {
    match next {
        Some(m) => vec![leaf("IsTruncated", "true"), leaf("Marker", m)],
        None => vec![leaf("IsTruncated", "false")],
    }
}

fn no_user(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The user with name {name} cannot be found."))
}

fn no_group(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The group with name {name} cannot be found."))
}

fn no_role(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

fn no_policy(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
}

/// The IAM service.
pub struct Iam {
    /// Entities.
    pub store: Arc<IamStore>,
    /// Access keys.
    pub keys: Arc<KeyStore>,
    /// Virtual MFA devices.
    pub mfa: Arc<crate::mfa::MfaStore>,
    /// The organization.
    pub orgs: Arc<crate::orgs::OrgStore>,
    /// Where OpenID Connect providers' signing keys are kept
    /// (`<dir>/<provider url>/jwks.json`); Rampart never fetches them.
    pub oidc_keys_dir: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for Iam {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Iam")
    }
}

/// Which of user, group or role an inline/attach operation is about.
#[derive(Debug, Clone, Copy)]
enum Holder {
    User,
    Group,
    Role,
}

impl Holder {
    fn param(self) -> &'static str {
        match self {
            Self::User => "UserName",
            Self::Group => "GroupName",
            Self::Role => "RoleName",
        }
    }

    fn at(self) -> &'static str {
        match self {
            Self::User => "userName",
            Self::Group => "groupName",
            Self::Role => "roleName",
        }
    }

    fn word(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Role => "role",
        }
    }

    fn doc_use(self) -> DocUse {
        match self {
            Self::User => DocUse::InlineUser,
            Self::Group => DocUse::InlineGroup,
            Self::Role => DocUse::InlineRole,
        }
    }
}

/// The built-in AWS managed policies Rampart knows, by name.
pub fn aws_managed_policies() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "AdministratorAccess",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#,
        ),
        (
            "AmazonDynamoDBFullAccess",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:*"],"Resource":"*"}]}"#,
        ),
        (
            "AmazonDynamoDBReadOnlyAccess",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:BatchGetItem","dynamodb:Describe*","dynamodb:List*","dynamodb:GetItem","dynamodb:Query","dynamodb:Scan","dynamodb:PartiQLSelect"],"Resource":"*"}]}"#,
        ),
        (
            "IAMFullAccess",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*"],"Resource":"*"}]}"#,
        ),
        (
            "ReadOnlyAccess",
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:Describe*","dynamodb:List*","dynamodb:Get*","dynamodb:Query","dynamodb:Scan","dynamodb:BatchGetItem","iam:Get*","iam:List*"],"Resource":"*"}]}"#,
        ),
    ]
}

/// The document of an AWS managed policy ARN, if Rampart has it.
pub fn aws_managed_document(arn: &str) -> Option<&'static str> {
    let name = arn.strip_prefix("arn:aws:iam::aws:policy/")?;
    let name = name.rsplit('/').next().unwrap_or(name);
    aws_managed_policies()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, d)| d)
}

impl Iam {
    /// Runs one IAM action for the caller's account.
    pub async fn call(
        &self,
        ctx: &RequestContext,
        action: &str,
        p: &Params,
        now: SystemTime,
    ) -> IamResult<Vec<Node>> {
        let account = ctx.principal.account.to_string();
        let acct = account.as_str();
        let now_s = secs(now);
        match action {
            "CreateUser" => {
                let name = p.req("UserName", "userName")?.to_owned();
                check_name(&name, "userName", 64)?;
                let path = check_path(p)?;
                let tags = parse_tags(p)?;
                let boundary = p.get("PermissionsBoundary").map(str::to_owned);
                let id = unique_id("AIDA", self.store.ids());
                let u = self
                    .store
                    .mutate(|st| {
                        if st
                            .users
                            .keys()
                            .any(|(a, n)| a == acct && n.eq_ignore_ascii_case(&name))
                        {
                            return Err(IamError::EntityAlreadyExists(format!(
                                "User with name {name} already exists."
                            )));
                        }
                        if let Some(b) = &boundary {
                            check_policy_exists(st, b)?;
                        }
                        let u = User {
                            arn: format!("arn:aws:iam::{acct}:user{path}{name}"),
                            name: name.clone(),
                            id,
                            path,
                            created: now_s,
                            tags,
                            boundary,
                            inline: BTreeMap::new(),
                            attached: Vec::new(),
                            groups: Vec::new(),
                        };
                        let w = record(Kind::User, acct, &name, &u)?;
                        st.users.insert((acct.to_owned(), name.clone()), u.clone());
                        Ok((vec![w], u))
                    })
                    .await?;
                Ok(vec![branch("User", user_nodes(&u))])
            }
            "GetUser" => {
                let st = self.store.snapshot();
                let u = match p.get("UserName") {
                    Some(n) => st
                        .users
                        .get(&(account.clone(), n.to_owned()))
                        .ok_or_else(|| no_user(n))?,
                    None => match ctx.principal.kind {
                        PrincipalKind::User => st
                            .users
                            .values()
                            .find(|u| u.arn == ctx.principal.arn)
                            .ok_or_else(|| no_user(&ctx.principal.arn))?,
                        PrincipalKind::Root => {
                            return Ok(vec![branch(
                                "User",
                                vec![
                                    leaf("UserId", acct),
                                    leaf("Arn", &ctx.principal.arn),
                                    leaf("CreateDate", iso8601(0)),
                                ],
                            )]);
                        }
                        PrincipalKind::AssumedRole => {
                            return Err(IamError::Validation(
                                "Must specify userName when calling with non-User credentials"
                                    .into(),
                            ));
                        }
                    },
                };
                Ok(vec![branch("User", user_nodes(u))])
            }
            "ListUsers" => {
                let st = self.store.snapshot();
                let prefix = p.get("PathPrefix").unwrap_or("/");
                let mut users: Vec<&User> = st
                    .users
                    .iter()
                    .filter(|((a, _), u)| a == acct && u.path.starts_with(prefix))
                    .map(|(_, u)| u)
                    .collect();
                users.sort_by(|a, b| a.name.cmp(&b.name));
                let (page, next) = paginate(users, p)?;
                let mut out = vec![member_list(
                    "Users",
                    page.into_iter().map(user_nodes).collect(),
                )];
                out.extend(truncation(next));
                Ok(out)
            }
            "DeleteUser" => {
                let name = p.req("UserName", "userName")?.to_owned();
                let keys = self.keys.list_for_user(acct, &name).await?;
                self.store
                    .mutate(|st| {
                        let u = st
                            .users
                            .get(&(acct.to_owned(), name.clone()))
                            .ok_or_else(|| no_user(&name))?;
                        if !u.inline.is_empty() || !u.attached.is_empty() {
                            return Err(IamError::DeleteConflict(
                                "Cannot delete entity, must delete policies first.".into(),
                            ));
                        }
                        if !keys.is_empty() {
                            return Err(IamError::DeleteConflict(
                                "Cannot delete entity, must delete access keys first.".into(),
                            ));
                        }
                        if !u.groups.is_empty() {
                            return Err(IamError::DeleteConflict(
                                "Cannot delete entity, must remove users from group first.".into(),
                            ));
                        }
                        st.users.remove(&(acct.to_owned(), name.clone()));
                        Ok((vec![removal(Kind::User, acct, &name)], ()))
                    })
                    .await?;
                Ok(Vec::new())
            }
            "TagUser" | "UntagUser" => {
                let name = p.req("UserName", "userName")?.to_owned();
                let tags = parse_tags(p)?;
                let remove = p.list("TagKeys");
                self.store
                    .mutate(|st| {
                        let u = st
                            .users
                            .get_mut(&(acct.to_owned(), name.clone()))
                            .ok_or_else(|| no_user(&name))?;
                        if action == "TagUser" {
                            merge_tags(&mut u.tags, tags)?;
                        } else {
                            u.tags.retain(|(k, _)| !remove.contains(k));
                        }
                        let w = record(Kind::User, acct, &name, u)?;
                        Ok((vec![w], ()))
                    })
                    .await?;
                Ok(Vec::new())
            }
            "ListUserTags" => {
                let name = p.req("UserName", "userName")?;
                let st = self.store.snapshot();
                let u = st
                    .users
                    .get(&(account.clone(), name.to_owned()))
                    .ok_or_else(|| no_user(name))?;
                let mut out = vec![tag_list(&u.tags)];
                out.extend(truncation(None));
                Ok(out)
            }
            "CreateGroup" => {
                let name = p.req("GroupName", "groupName")?.to_owned();
                check_name(&name, "groupName", 128)?;
                let path = check_path(p)?;
                let id = unique_id("AGPA", self.store.ids());
                let g = self
                    .store
                    .mutate(|st| {
                        if st
                            .groups
                            .keys()
                            .any(|(a, n)| a == acct && n.eq_ignore_ascii_case(&name))
                        {
                            return Err(IamError::EntityAlreadyExists(format!(
                                "Group with name {name} already exists."
                            )));
                        }
                        let g = Group {
                            arn: format!("arn:aws:iam::{acct}:group{path}{name}"),
                            name: name.clone(),
                            id,
                            path,
                            created: now_s,
                            inline: BTreeMap::new(),
                            attached: Vec::new(),
                        };
                        let w = record(Kind::Group, acct, &name, &g)?;
                        st.groups.insert((acct.to_owned(), name.clone()), g.clone());
                        Ok((vec![w], g))
                    })
                    .await?;
                Ok(vec![branch("Group", group_nodes(&g))])
            }
            "GetGroup" => {
                let name = p.req("GroupName", "groupName")?;
                let st = self.store.snapshot();
                let g = st
                    .groups
                    .get(&(account.clone(), name.to_owned()))
                    .ok_or_else(|| no_group(name))?;
                let members = st.group_members(acct, name);
                let (page, next) = paginate(members, p)?;
                let mut out = vec![
                    branch("Group", group_nodes(g)),
                    member_list("Users", page.into_iter().map(user_nodes).collect()),
                ];
                out.extend(truncation(next));
                Ok(out)
            }
            "ListGroups" => {
                let st = self.store.snapshot();
                let prefix = p.get("PathPrefix").unwrap_or("/");
                let mut gs: Vec<&Group> = st
                    .groups
                    .iter()
                    .filter(|((a, _), g)| a == acct && g.path.starts_with(prefix))
                    .map(|(_, g)| g)
                    .collect();
                gs.sort_by(|a, b| a.name.cmp(&b.name));
                let (page, next) = paginate(gs, p)?;
                let mut out = vec![member_list(
                    "Groups",
                    page.into_iter().map(group_nodes).collect(),
                )];
                out.extend(truncation(next));
                Ok(out)
            }
            "ListGroupsForUser" => {
                let name = p.req("UserName", "userName")?;
                let st = self.store.snapshot();
                let u = st
                    .users
                    .get(&(account.clone(), name.to_owned()))
                    .ok_or_else(|| no_user(name))?;
                let gs: Vec<&Group> = u
                    .groups
                    .iter()
                    .filter_map(|g| st.groups.get(&(account.clone(), g.clone())))
                    .collect();
                let (page, next) = paginate(gs, p)?;
                let mut out = vec![member_list(
                    "Groups",
                    page.into_iter().map(group_nodes).collect(),
                )];
                out.extend(truncation(next));
                Ok(out)
            }
            "AddUserToGroup" | "RemoveUserFromGroup" => {
                let group = p.req("GroupName", "groupName")?.to_owned();
                let user = p.req("UserName", "userName")?.to_owned();
                self.store
                    .mutate(|st| {
                        if !st.groups.contains_key(&(acct.to_owned(), group.clone())) {
                            return Err(no_group(&group));
                        }
                        let u = st
                            .users
                            .get_mut(&(acct.to_owned(), user.clone()))
                            .ok_or_else(|| no_user(&user))?;
                        if action == "AddUserToGroup" {
                            if !u.groups.contains(&group) {
                                u.groups.push(group.clone());
                            }
                        } else if u.groups.contains(&group) {
                            u.groups.retain(|g| *g != group);
                        } else {
                            return Err(IamError::NoSuchEntity(format!(
                                "User {user} is not in group {group}."
                            )));
                        }
                        let w = record(Kind::User, acct, &user, u)?;
                        Ok((vec![w], ()))
                    })
                    .await?;
                Ok(Vec::new())
            }
            "DeleteGroup" => {
                let name = p.req("GroupName", "groupName")?.to_owned();
                self.store
                    .mutate(|st| {
                        let g = st
                            .groups
                            .get(&(acct.to_owned(), name.clone()))
                            .ok_or_else(|| no_group(&name))?;
                        if !g.inline.is_empty() || !g.attached.is_empty() {
                            return Err(IamError::DeleteConflict(
                                "Cannot delete entity, must delete policies first.".into(),
                            ));
                        }
                        if !st.group_members(acct, &name).is_empty() {
                            return Err(IamError::DeleteConflict(
                                "Cannot delete entity, must remove users from group first.".into(),
                            ));
                        }
                        st.groups.remove(&(acct.to_owned(), name.clone()));
                        Ok((vec![removal(Kind::Group, acct, &name)], ()))
                    })
                    .await?;
                Ok(Vec::new())
            }
            "CreateRole" => {
                let name = p.req("RoleName", "roleName")?.to_owned();
                check_name(&name, "roleName", 64)?;
                let path = check_path(p)?;
                let trust = p
                    .req("AssumeRolePolicyDocument", "assumeRolePolicyDocument")?
                    .to_owned();
                check_document(&trust, DocUse::Trust)?;
                let max_session = match p.get("MaxSessionDuration") {
                    Some(m) => m
                        .parse::<u32>()
                        .ok()
                        .filter(|v| (3600..=43200).contains(v))
                        .ok_or_else(|| {
                            validation(
                                Some(m),
                                "maxSessionDuration",
                                "Member must have value less than or equal to 43200",
                            )
                        })?,
                    None => 3600,
                };
                let tags = parse_tags(p)?;
                let boundary = p.get("PermissionsBoundary").map(str::to_owned);
                let description = p.get("Description").map(str::to_owned);
                let id = unique_id("AROA", self.store.ids());
                let r = self
                    .store
                    .mutate(|st| {
                        if st
                            .roles
                            .keys()
                            .any(|(a, n)| a == acct && n.eq_ignore_ascii_case(&name))
                        {
                            return Err(IamError::EntityAlreadyExists(format!(
                                "Role with name {name} already exists."
                            )));
                        }
                        if let Some(b) = &boundary {
                            check_policy_exists(st, b)?;
                        }
                        let r = Role {
                            arn: format!("arn:aws:iam::{acct}:role{path}{name}"),
                            name: name.clone(),
                            id,
                            path,
                            created: now_s,
                            trust,
                            description,
                            max_session,
                            tags,
                            boundary,
                            inline: BTreeMap::new(),
                            attached: Vec::new(),
                        };
                        let w = record(Kind::Role, acct, &name, &r)?;
                        st.roles.insert((acct.to_owned(), name.clone()), r.clone());
                        Ok((vec![w], r))
                    })
                    .await?;
                Ok(vec![branch("Role", role_nodes(&r))])
            }
            "GetRole" => {
                let name = p.req("RoleName", "roleName")?;
                let st = self.store.snapshot();
                let r = st
                    .roles
                    .get(&(account.clone(), name.to_owned()))
                    .ok_or_else(|| no_role(name))?;
                Ok(vec![branch("Role", role_nodes(r))])
            }
            "ListRoles" => {
                let st = self.store.snapshot();
                let prefix = p.get("PathPrefix").unwrap_or("/");
                let mut rs: Vec<&Role> = st
                    .roles
                    .iter()
                    .filter(|((a, _), r)| a == acct && r.path.starts_with(prefix))
                    .map(|(_, r)| r)
                    .collect();
                rs.sort_by(|a, b| a.name.cmp(&b.name));
                let (page, next) = paginate(rs, p)?;
                let mut out = vec![member_list(
                    "Roles",
                    page.into_iter().map(role_nodes).collect(),
                )];
                out.extend(truncation(next));
                Ok(out)
            }
            "UpdateAssumeRolePolicy" => {
                let name = p.req("RoleName", "roleName")?.to_owned();
                let doc = p.req("PolicyDocument", "policyDocument")?.to_owned();
                check_document(&doc, DocUse::Trust)?;
                self.store
                    .mutate(|st| {
                        let r = st
                            .roles
                            .get_mut(&(acct.to_owned(), name.clone()))
                            .ok_or_else(|| no_role(&name))?;
                        r.trust = doc;
                        let w = record(Kind::Role, acct, &name, r)?;
                        Ok((vec![w], ()))
                    })
                    .await?;
                Ok(Vec::new())
            }
            "TagRole" | "UntagRole" => {
                let name = p.req("RoleName", "roleName")?.to_owned();
                let tags = parse_tags(p)?;
                let remove = p.list("TagKeys");
                self.store
                    .mutate(|st| {
                        let r = st
                            .roles
                            .get_mut(&(acct.to_owned(), name.clone()))
                            .ok_or_else(|| no_role(&name))?;
                        if action == "TagRole" {
                            merge_tags(&mut r.tags, tags)?;
                        } else {
                            r.tags.retain(|(k, _)| !remove.contains(k));
                        }
                        let w = record(Kind::Role, acct, &name, r)?;
                        Ok((vec![w], ()))
                    })
                    .await?;
                Ok(Vec::new())
            }
            "ListRoleTags" => {
                let name = p.req("RoleName", "roleName")?;
                let st = self.store.snapshot();
                let r = st
                    .roles
                    .get(&(account.clone(), name.to_owned()))
                    .ok_or_else(|| no_role(name))?;
                let mut out = vec![tag_list(&r.tags)];
                out.extend(truncation(None));
                Ok(out)
            }
            "DeleteRole" => {
                let name = p.req("RoleName", "roleName")?.to_owned();
                self.store
                    .mutate(|st| {
                        let r = st
                            .roles
                            .get(&(acct.to_owned(), name.clone()))
                            .ok_or_else(|| no_role(&name))?;
                        if !r.inline.is_empty() || !r.attached.is_empty() {
                            return Err(IamError::DeleteConflict(
                                "Cannot delete entity, must delete policies first.".into(),
                            ));
                        }
                        st.roles.remove(&(acct.to_owned(), name.clone()));
                        Ok((vec![removal(Kind::Role, acct, &name)], ()))
                    })
                    .await?;
                Ok(Vec::new())
            }
            "CreatePolicy" => {
                let name = p.req("PolicyName", "policyName")?.to_owned();
                check_name(&name, "policyName", 128)?;
                let path = check_path(p)?;
                let doc = p.req("PolicyDocument", "policyDocument")?.to_owned();
                check_document(&doc, DocUse::Managed)?;
                let tags = parse_tags(p)?;
                let description = p.get("Description").map(str::to_owned);
                let id = unique_id("ANPA", self.store.ids());
                let arn = format!("arn:aws:iam::{acct}:policy{path}{name}");
                let (pol, st) = self
                    .store
                    .mutate(|st| {
                        if st.policies.values().any(|x| x.arn.starts_with(&format!("arn:aws:iam::{acct}:")) && x.name == name) {
                            return Err(IamError::EntityAlreadyExists(format!(
                                "A policy called {name} already exists. Duplicate names are not allowed."
                            )));
                        }
                        let pol = ManagedPolicy {
                            name: name.clone(),
                            id,
                            arn: arn.clone(),
                            path,
                            description,
                            created: now_s,
                            updated: now_s,
                            default_version: "v1".into(),
                            versions: vec![PolicyVersion { id: "v1".into(), document: doc, created: now_s }],
                            next_version: 2,
                            tags,
                        };
                        let w = record(Kind::Policy, acct, &name, &pol)?;
                        st.policies.insert(arn.clone(), pol.clone());
                        Ok((vec![w], (pol, st.clone())))
                    })
                    .await?;
                Ok(vec![branch("Policy", policy_nodes(&pol, &st))])
            }
            "GetPolicy" => {
                let arn = p.req("PolicyArn", "policyArn")?;
                let st = self.store.snapshot();
                if aws_managed_document(arn).is_some() {
                    return Ok(vec![branch("Policy", aws_policy_nodes(arn, &st))]);
                }
                let pol = st.policies.get(arn).ok_or_else(|| no_policy(arn))?;
                Ok(vec![branch("Policy", policy_nodes(pol, &st))])
            }
            "ListPolicies" => {
                let st = self.store.snapshot();
                let scope = p.get("Scope").unwrap_or("All");
                let only_attached = p.get("OnlyAttached") == Some("true");
                let mut out_nodes: Vec<(String, Vec<Node>)> = Vec::new();
                if scope != "Local" {
                    for (name, _) in aws_managed_policies() {
                        let arn = format!("arn:aws:iam::aws:policy/{name}");
                        if !only_attached || st.attachment_count(&arn) > 0 {
                            out_nodes.push((name.to_owned(), aws_policy_nodes(&arn, &st)));
                        }
                    }
                }
                if scope != "AWS" {
                    for pol in st
                        .policies
                        .values()
                        .filter(|x| x.arn.starts_with(&format!("arn:aws:iam::{acct}:")))
                    {
                        if !only_attached || st.attachment_count(&pol.arn) > 0 {
                            out_nodes.push((pol.name.clone(), policy_nodes(pol, &st)));
                        }
                    }
                }
                out_nodes.sort_by(|a, b| a.0.cmp(&b.0));
                let (page, next) = paginate(out_nodes, p)?;
                let mut out = vec![member_list(
                    "Policies",
                    page.into_iter().map(|(_, n)| n).collect(),
                )];
                out.extend(truncation(next));
                Ok(out)
            }
            "DeletePolicy" => {
                let arn = p.req("PolicyArn", "policyArn")?.to_owned();
                self.store
                    .mutate(|st| {
                        let pol = st.policies.get(&arn).ok_or_else(|| no_policy(&arn))?.clone();
                        if st.attachment_count(&arn) > 0 || st.boundary_count(&arn) > 0 {
                            return Err(IamError::DeleteConflict("Cannot delete a policy attached to entities.".into()));
                        }
                        if pol.versions.len() > 1 {
                            return Err(IamError::DeleteConflict("Cannot delete a policy with multiple versions. Delete all non-default versions first.".into()));
                        }
                        st.policies.remove(&arn);
                        Ok((vec![removal(Kind::Policy, acct, &pol.name)], ()))
                    })
                    .await?;
                Ok(Vec::new())
            }
            "CreatePolicyVersion" => {
                let arn = p.req("PolicyArn", "policyArn")?.to_owned();
                let doc = p.req("PolicyDocument", "policyDocument")?.to_owned();
                check_document(&doc, DocUse::Managed)?;
                let set_default = p.get("SetAsDefault") == Some("true");
                let (pol, v) = self
                    .store
                    .mutate(|st| {
                        let pol = st.policies.get_mut(&arn).ok_or_else(|| no_policy(&arn))?;
                        if pol.versions.len() >= 5 {
                            return Err(IamError::LimitExceeded(
                                "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.".into(),
                            ));
                        }
                        let v = PolicyVersion {
                            id: format!("v{}", pol.next_version),
                            document: doc,
                            created: now_s,
                        };
                        pol.next_version += 1;
                        pol.versions.push(v.clone());
                        if set_default {
                            pol.default_version = v.id.clone();
                        }
                        pol.updated = now_s;
                        let w = record(Kind::Policy, acct, &pol.name, pol)?;
                        Ok((vec![w], (pol.clone(), v)))
                    })
                    .await?;
                Ok(vec![branch(
                    "PolicyVersion",
                    version_nodes(&pol, &v, false),
                )])
            }
            "GetPolicyVersion" => {
                let arn = p.req("PolicyArn", "policyArn")?;
                let vid = p.req("VersionId", "versionId")?;
                if let Some(doc) = aws_managed_document(arn) {
                    if vid != "v1" {
                        return Err(IamError::NoSuchEntity(format!(
                            "Policy {arn} version {vid} does not exist or is not attachable."
                        )));
                    }
                    let pol = aws_policy(arn, doc);
                    let v = PolicyVersion {
                        id: "v1".into(),
                        document: doc.to_owned(),
                        created: 0,
                    };
                    return Ok(vec![branch("PolicyVersion", version_nodes(&pol, &v, true))]);
                }
                let st = self.store.snapshot();
                let pol = st.policies.get(arn).ok_or_else(|| no_policy(arn))?;
                let v = pol.versions.iter().find(|v| v.id == vid).ok_or_else(|| {
                    IamError::NoSuchEntity(format!(
                        "Policy {arn} version {vid} does not exist or is not attachable."
                    ))
                })?;
                Ok(vec![branch("PolicyVersion", version_nodes(pol, v, true))])
            }
            "ListPolicyVersions" => {
                let arn = p.req("PolicyArn", "policyArn")?;
                let st = self.store.snapshot();
                let pol = st.policies.get(arn).ok_or_else(|| no_policy(arn))?;
                let mut vs: Vec<&PolicyVersion> = pol.versions.iter().collect();
                vs.reverse();
                let (page, next) = paginate(vs, p)?;
                let mut out = vec![member_list(
                    "Versions",
                    page.into_iter()
                        .map(|v| version_nodes(pol, v, false))
                        .collect(),
                )];
                out.extend(truncation(next));
                Ok(out)
            }
            "DeletePolicyVersion" | "SetDefaultPolicyVersion" => {
                let arn = p.req("PolicyArn", "policyArn")?.to_owned();
                let vid = p.req("VersionId", "versionId")?.to_owned();
                self.store
                    .mutate(|st| {
                        let pol = st.policies.get_mut(&arn).ok_or_else(|| no_policy(&arn))?;
                        if !pol.versions.iter().any(|v| v.id == vid) {
                            return Err(IamError::NoSuchEntity(format!(
                                "Policy {arn} version {vid} does not exist or is not attachable."
                            )));
                        }
                        if action == "DeletePolicyVersion" {
                            if pol.default_version == vid {
                                return Err(IamError::DeleteConflict(
                                    "Cannot delete the default version of a policy.".into(),
                                ));
                            }
                            pol.versions.retain(|v| v.id != vid);
                        } else {
                            pol.default_version = vid.clone();
                        }
                        pol.updated = now_s;
                        let w = record(Kind::Policy, acct, &pol.name, pol)?;
                        Ok((vec![w], ()))
                    })
                    .await?;
                Ok(Vec::new())
            }
            "PutUserPolicy" => self.put_inline(Holder::User, acct, p).await,
            "PutGroupPolicy" => self.put_inline(Holder::Group, acct, p).await,
            "PutRolePolicy" => self.put_inline(Holder::Role, acct, p).await,
            "GetUserPolicy" => self.get_inline(Holder::User, acct, p),
            "GetGroupPolicy" => self.get_inline(Holder::Group, acct, p),
            "GetRolePolicy" => self.get_inline(Holder::Role, acct, p),
            "DeleteUserPolicy" => self.delete_inline(Holder::User, acct, p).await,
            "DeleteGroupPolicy" => self.delete_inline(Holder::Group, acct, p).await,
            "DeleteRolePolicy" => self.delete_inline(Holder::Role, acct, p).await,
            "ListUserPolicies" => self.list_inline(Holder::User, acct, p),
            "ListGroupPolicies" => self.list_inline(Holder::Group, acct, p),
            "ListRolePolicies" => self.list_inline(Holder::Role, acct, p),
            "AttachUserPolicy" => self.attach(Holder::User, acct, p, true).await,
            "AttachGroupPolicy" => self.attach(Holder::Group, acct, p, true).await,
            "AttachRolePolicy" => self.attach(Holder::Role, acct, p, true).await,
            "DetachUserPolicy" => self.attach(Holder::User, acct, p, false).await,
            "DetachGroupPolicy" => self.attach(Holder::Group, acct, p, false).await,
            "DetachRolePolicy" => self.attach(Holder::Role, acct, p, false).await,
            "ListAttachedUserPolicies" => self.list_attached(Holder::User, acct, p),
            "ListAttachedGroupPolicies" => self.list_attached(Holder::Group, acct, p),
            "ListAttachedRolePolicies" => self.list_attached(Holder::Role, acct, p),
            "PutUserPermissionsBoundary"
            | "PutRolePermissionsBoundary"
            | "DeleteUserPermissionsBoundary"
            | "DeleteRolePermissionsBoundary" => {
                let holder = if action.contains("User") {
                    Holder::User
                } else {
                    Holder::Role
                };
                let name = p.req(holder.param(), holder.at())?.to_owned();
                let boundary = if action.starts_with("Put") {
                    Some(
                        p.req("PermissionsBoundary", "permissionsBoundary")?
                            .to_owned(),
                    )
                } else {
                    None
                };
                self.store
                    .mutate(|st| {
                        if let Some(b) = &boundary {
                            check_policy_exists(st, b)?;
                        }
                        let w = match holder {
                            Holder::User => {
                                let u = st
                                    .users
                                    .get_mut(&(acct.to_owned(), name.clone()))
                                    .ok_or_else(|| no_user(&name))?;
                                u.boundary = boundary.clone();
                                record(Kind::User, acct, &name, u)?
                            }
                            _ => {
                                let r = st
                                    .roles
                                    .get_mut(&(acct.to_owned(), name.clone()))
                                    .ok_or_else(|| no_role(&name))?;
                                r.boundary = boundary.clone();
                                record(Kind::Role, acct, &name, r)?
                            }
                        };
                        Ok((vec![w], ()))
                    })
                    .await?;
                Ok(Vec::new())
            }
            "ListEntitiesForPolicy" => {
                let arn = p.req("PolicyArn", "policyArn")?;
                let st = self.store.snapshot();
                if aws_managed_document(arn).is_none() && !st.policies.contains_key(arn) {
                    return Err(no_policy(arn));
                }
                let mut users: Vec<&User> = st
                    .users
                    .values()
                    .filter(|u| u.attached.iter().any(|a| a == arn))
                    .collect();
                let mut groups: Vec<&Group> = st
                    .groups
                    .values()
                    .filter(|g| g.attached.iter().any(|a| a == arn))
                    .collect();
                let mut roles: Vec<&Role> = st
                    .roles
                    .values()
                    .filter(|r| r.attached.iter().any(|a| a == arn))
                    .collect();
                users.sort_by(|a, b| a.name.cmp(&b.name));
                groups.sort_by(|a, b| a.name.cmp(&b.name));
                roles.sort_by(|a, b| a.name.cmp(&b.name));
                let mut out = vec![
                    member_list(
                        "PolicyGroups",
                        groups
                            .iter()
                            .map(|g| vec![leaf("GroupName", &g.name), leaf("GroupId", &g.id)])
                            .collect(),
                    ),
                    member_list(
                        "PolicyUsers",
                        users
                            .iter()
                            .map(|u| vec![leaf("UserName", &u.name), leaf("UserId", &u.id)])
                            .collect(),
                    ),
                    member_list(
                        "PolicyRoles",
                        roles
                            .iter()
                            .map(|r| vec![leaf("RoleName", &r.name), leaf("RoleId", &r.id)])
                            .collect(),
                    ),
                ];
                out.extend(truncation(None));
                Ok(out)
            }
            "CreateAccessKey" => {
                let user = self.user_for_keys(ctx, p)?;
                let existing = self.keys.list_for_user(acct, &user.name).await?;
                if existing.len() >= 2 {
                    return Err(IamError::LimitExceeded(
                        "Cannot exceed quota for AccessKeysPerUser: 2".into(),
                    ));
                }
                let (id, secret) = self.keys.create_for_user(&user, &account, now).await?;
                Ok(vec![branch(
                    "AccessKey",
                    vec![
                        leaf("UserName", &user.name),
                        leaf("AccessKeyId", &id),
                        leaf("Status", "Active"),
                        leaf("SecretAccessKey", secret.expose().as_str()),
                        leaf("CreateDate", iso8601(now_s as i64)),
                    ],
                )])
            }
            "ListAccessKeys" => {
                let user = self.user_for_keys(ctx, p)?;
                let keys = self.keys.list_for_user(acct, &user.name).await?;
                let (page, next) = paginate(keys, p)?;
                let mut out = vec![member_list(
                    "AccessKeyMetadata",
                    page.into_iter()
                        .map(|k| {
                            vec![
                                leaf("UserName", &user.name),
                                leaf("AccessKeyId", &k.access_key_id),
                                leaf("Status", &k.status),
                                leaf("CreateDate", iso8601(k.created as i64)),
                            ]
                        })
                        .collect(),
                )];
                out.extend(truncation(next));
                Ok(out)
            }
            "UpdateAccessKey" | "DeleteAccessKey" => {
                let user = self.user_for_keys(ctx, p)?;
                let id = p.req("AccessKeyId", "accessKeyId")?;
                let status = if action == "UpdateAccessKey" {
                    let s = p.req("Status", "status")?;
                    if s != "Active" && s != "Inactive" {
                        return Err(validation(
                            Some(s),
                            "status",
                            "Member must satisfy enum value set: [Active, Inactive, Expired]",
                        ));
                    }
                    Some(s)
                } else {
                    None
                };
                let keys = self.keys.list_for_user(acct, &user.name).await?;
                if !keys.iter().any(|k| k.access_key_id == id) {
                    return Err(IamError::NoSuchEntity(format!(
                        "The Access Key with id {id} cannot be found"
                    )));
                }
                self.keys.update_or_delete(id, status).await?;
                Ok(Vec::new())
            }
            "GetAccessKeyLastUsed" => {
                let id = p.req("AccessKeyId", "accessKeyId")?;
                let rec = self.keys.record(id).await?.ok_or_else(|| {
                    IamError::AccessDenied(format!("The Access Key with id {id} cannot be found"))
                })?;
                let user_name = rec
                    .principal_arn
                    .rsplit('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let mut last = Vec::new();
                match (rec.last_used, &rec.last_used_service) {
                    (Some(t), Some(svc)) => {
                        last.push(leaf("LastUsedDate", iso8601(t as i64)));
                        last.push(leaf("ServiceName", svc));
                        last.push(leaf(
                            "Region",
                            rec.last_used_region.clone().unwrap_or_default(),
                        ));
                    }
                    _ => {
                        last.push(leaf("ServiceName", "N/A"));
                        last.push(leaf("Region", "N/A"));
                    }
                }
                Ok(vec![
                    leaf("UserName", user_name),
                    branch("AccessKeyLastUsed", last),
                ])
            }
            "GetAccountAuthorizationDetails" => {
                let st = self.store.snapshot();
                let filters = p.list("Filter");
                let want = |f: &str| filters.is_empty() || filters.iter().any(|x| x == f);
                let inline_list = |name: &str, m: &BTreeMap<String, String>| {
                    member_list(
                        name,
                        m.iter()
                            .map(|(n, d)| {
                                vec![leaf("PolicyName", n), leaf("PolicyDocument", url_encode(d))]
                            })
                            .collect(),
                    )
                };
                let attached_list = |arns: &[String]| {
                    member_list(
                        "AttachedManagedPolicies",
                        arns.iter()
                            .map(|a| {
                                vec![
                                    leaf("PolicyName", a.rsplit('/').next().unwrap_or_default()),
                                    leaf("PolicyArn", a),
                                ]
                            })
                            .collect(),
                    )
                };
                let mut out = Vec::new();
                if want("User") {
                    let mut users: Vec<&User> = st
                        .users
                        .iter()
                        .filter(|((a, _), _)| a == acct)
                        .map(|(_, u)| u)
                        .collect();
                    users.sort_by(|a, b| a.name.cmp(&b.name));
                    out.push(member_list(
                        "UserDetailList",
                        users
                            .into_iter()
                            .map(|u| {
                                let mut v = user_nodes(u);
                                v.push(inline_list("UserPolicyList", &u.inline));
                                v.push(Node::Branch(
                                    "GroupList".into(),
                                    u.groups.iter().map(|g| leaf("member", g)).collect(),
                                ));
                                v.push(attached_list(&u.attached));
                                v
                            })
                            .collect(),
                    ));
                }
                if want("Group") {
                    let mut groups: Vec<&Group> = st
                        .groups
                        .iter()
                        .filter(|((a, _), _)| a == acct)
                        .map(|(_, g)| g)
                        .collect();
                    groups.sort_by(|a, b| a.name.cmp(&b.name));
                    out.push(member_list(
                        "GroupDetailList",
                        groups
                            .into_iter()
                            .map(|g| {
                                let mut v = group_nodes(g);
                                v.push(inline_list("GroupPolicyList", &g.inline));
                                v.push(attached_list(&g.attached));
                                v
                            })
                            .collect(),
                    ));
                }
                if want("Role") {
                    let mut roles: Vec<&Role> = st
                        .roles
                        .iter()
                        .filter(|((a, _), _)| a == acct)
                        .map(|(_, r)| r)
                        .collect();
                    roles.sort_by(|a, b| a.name.cmp(&b.name));
                    out.push(member_list(
                        "RoleDetailList",
                        roles
                            .into_iter()
                            .map(|r| {
                                let mut v = role_nodes(r);
                                v.push(inline_list("RolePolicyList", &r.inline));
                                v.push(attached_list(&r.attached));
                                v.push(member_list("InstanceProfileList", Vec::new()));
                                v
                            })
                            .collect(),
                    ));
                }
                let mut policies: Vec<ManagedPolicy> = Vec::new();
                if want("LocalManagedPolicy") {
                    policies.extend(
                        st.policies
                            .values()
                            .filter(|x| x.arn.starts_with(&format!("arn:aws:iam::{acct}:")))
                            .cloned(),
                    );
                }
                if want("AWSManagedPolicy") {
                    for (name, doc) in aws_managed_policies() {
                        let arn = format!("arn:aws:iam::aws:policy/{name}");
                        if filters.is_empty() && st.attachment_count(&arn) == 0 {
                            continue;
                        }
                        policies.push(aws_policy(&arn, doc));
                    }
                }
                policies.sort_by(|a, b| a.name.cmp(&b.name));
                out.push(member_list(
                    "Policies",
                    policies
                        .iter()
                        .map(|pol| {
                            let mut v = policy_nodes(pol, &st);
                            v.push(member_list(
                                "PolicyVersionList",
                                pol.versions
                                    .iter()
                                    .map(|ver| version_nodes(pol, ver, true))
                                    .collect(),
                            ));
                            v
                        })
                        .collect(),
                ));
                out.extend(truncation(None));
                Ok(out)
            }
            "CreateOpenIDConnectProvider" => {
                let url_in = p.req("Url", "url")?;
                let url = url_in
                    .strip_prefix("https://")
                    .ok_or_else(|| {
                        IamError::InvalidInput(format!(
                            "Invalid Url: {url_in}. The URL must begin with https://"
                        ))
                    })?
                    .to_owned();
                if url.is_empty() || url.len() > 255 {
                    return Err(validation(
                        Some(url_in),
                        "url",
                        "Member must have length less than or equal to 255",
                    ));
                }
                let client_ids = p.list("ClientIDList");
                let thumbprints = p.list("ThumbprintList");
                if thumbprints
                    .iter()
                    .any(|t| t.len() != 40 || !t.bytes().all(|b| b.is_ascii_hexdigit()))
                {
                    return Err(validation(
                        None,
                        "thumbprintList",
                        "Member must satisfy constraint: [Member must have length less than or equal to 40, Member must have length greater than or equal to 40]",
                    ));
                }
                let tags = parse_tags(p)?;
                let arn = format!("arn:aws:iam::{acct}:oidc-provider/{url}");
                self.store
                    .mutate(|st| {
                        let key = (acct.to_owned(), url.clone());
                        if st.oidc.contains_key(&key) {
                            return Err(IamError::EntityAlreadyExists(format!(
                                "Provider with url https://{url} already exists."
                            )));
                        }
                        let prov = crate::store::OidcProvider {
                            arn: arn.clone(),
                            url: url.clone(),
                            client_ids,
                            thumbprints,
                            created: now_s,
                            tags,
                        };
                        let w = record(Kind::Oidc, acct, &url, &prov)?;
                        st.oidc.insert(key, prov);
                        Ok((vec![w], ()))
                    })
                    .await?;
                Ok(vec![leaf("OpenIDConnectProviderArn", arn)])
            }
            "GetOpenIDConnectProvider" => {
                let arn = p.req("OpenIDConnectProviderArn", "openIDConnectProviderArn")?;
                let st = self.store.snapshot();
                let prov = st.oidc.values().find(|o| o.arn == arn).ok_or_else(|| {
                    IamError::NoSuchEntity(format!(
                        "OpenIDConnect Provider not found for arn {arn}"
                    ))
                })?;
                let mut out = vec![
                    leaf("Url", &prov.url),
                    Node::Branch(
                        "ClientIDList".into(),
                        prov.client_ids.iter().map(|c| leaf("member", c)).collect(),
                    ),
                    Node::Branch(
                        "ThumbprintList".into(),
                        prov.thumbprints.iter().map(|c| leaf("member", c)).collect(),
                    ),
                    leaf("CreateDate", iso8601(prov.created as i64)),
                ];
                if !prov.tags.is_empty() {
                    out.push(tag_list(&prov.tags));
                }
                Ok(out)
            }
            "ListOpenIDConnectProviders" => {
                let st = self.store.snapshot();
                let mut arns: Vec<&String> = st
                    .oidc
                    .iter()
                    .filter(|((a, _), _)| a == acct)
                    .map(|(_, o)| &o.arn)
                    .collect();
                arns.sort();
                Ok(vec![member_list(
                    "OpenIDConnectProviderList",
                    arns.into_iter().map(|a| vec![leaf("Arn", a)]).collect(),
                )])
            }
            "DeleteOpenIDConnectProvider"
            | "AddClientIDToOpenIDConnectProvider"
            | "RemoveClientIDFromOpenIDConnectProvider"
            | "UpdateOpenIDConnectProviderThumbprint" => {
                let arn = p
                    .req("OpenIDConnectProviderArn", "openIDConnectProviderArn")?
                    .to_owned();
                let client = p.get("ClientID").map(str::to_owned);
                let thumbprints = p.list("ThumbprintList");
                self.store
                    .mutate(|st| {
                        let key = st
                            .oidc
                            .iter()
                            .find(|((a, _), o)| a == acct && o.arn == arn)
                            .map(|(k, _)| k.clone())
                            .ok_or_else(|| {
                                IamError::NoSuchEntity(format!(
                                    "OpenIDConnect Provider not found for arn {arn}"
                                ))
                            })?;
                        if action == "DeleteOpenIDConnectProvider" {
                            st.oidc.remove(&key);
                            return Ok((vec![removal(Kind::Oidc, acct, &key.1)], ()));
                        }
                        let prov = st
                            .oidc
                            .get_mut(&key)
                            .ok_or_else(|| IamError::ServiceFailure("provider vanished".into()))?;
                        match action {
                            "AddClientIDToOpenIDConnectProvider" => {
                                let c = client.clone().ok_or_else(|| {
                                    validation(None, "clientID", "Member must not be null")
                                })?;
                                if !prov.client_ids.contains(&c) {
                                    prov.client_ids.push(c);
                                }
                            }
                            "RemoveClientIDFromOpenIDConnectProvider" => {
                                let c = client.clone().ok_or_else(|| {
                                    validation(None, "clientID", "Member must not be null")
                                })?;
                                prov.client_ids.retain(|x| *x != c);
                            }
                            _ => prov.thumbprints = thumbprints.clone(),
                        }
                        let w = record(Kind::Oidc, acct, &key.1, prov)?;
                        Ok((vec![w], ()))
                    })
                    .await?;
                Ok(Vec::new())
            }
            "CreateVirtualMFADevice" => {
                let name = p
                    .req("VirtualMFADeviceName", "virtualMFADeviceName")?
                    .to_owned();
                check_name(&name, "virtualMFADeviceName", 226)?;
                let path = check_path(p)?;
                let (dev, seed) = self.mfa.create(acct, &path, &name, now_s).await?;
                // AWS: "AccountName is the user name if set (otherwise, the
                // account ID)": the calling IAM user's name, else the account.
                let account_name = match ctx.principal.kind {
                    PrincipalKind::User => ctx.principal.arn.rsplit('/').next().unwrap_or(acct),
                    PrincipalKind::Root | PrincipalKind::AssumedRole => acct,
                };
                let uri = crate::mfa::qr::key_uri(&name, account_name, seed.expose());
                let png = crate::mfa::qr::png(&uri)
                    .map_err(|e| IamError::ServiceFailure(e.to_string()))?;
                use base64::Engine as _;
                let b64 = &base64::engine::general_purpose::STANDARD;
                Ok(vec![branch(
                    "VirtualMFADevice",
                    vec![
                        leaf("SerialNumber", &dev.serial),
                        leaf("Base32StringSeed", b64.encode(seed.expose().as_bytes())),
                        leaf("QRCodePNG", b64.encode(png)),
                    ],
                )])
            }
            "EnableMFADevice" => {
                let user = p.req("UserName", "userName")?.to_owned();
                let serial = p.req("SerialNumber", "serialNumber")?;
                let c1 = p.req("AuthenticationCode1", "authenticationCode1")?;
                let c2 = p.req("AuthenticationCode2", "authenticationCode2")?;
                if !self
                    .store
                    .snapshot()
                    .users
                    .contains_key(&(account.clone(), user.clone()))
                {
                    return Err(no_user(&user));
                }
                self.mfa.enable(acct, &user, serial, c1, c2, now).await?;
                Ok(Vec::new())
            }
            "DeactivateMFADevice" => {
                let user = p.req("UserName", "userName")?;
                let serial = p.req("SerialNumber", "serialNumber")?;
                self.mfa.deactivate(acct, user, serial).await?;
                Ok(Vec::new())
            }
            "DeleteVirtualMFADevice" => {
                let serial = p.req("SerialNumber", "serialNumber")?;
                self.mfa.delete(acct, serial).await?;
                Ok(Vec::new())
            }
            "ListMFADevices" => {
                let user = self.user_for_keys(ctx, p)?;
                let devices: Vec<Vec<Node>> = self
                    .mfa
                    .list(acct)
                    .await?
                    .into_iter()
                    .filter(|(d, _)| d.user.as_deref() == Some(user.name.as_str()))
                    .map(|(d, _)| {
                        vec![
                            leaf("UserName", &user.name),
                            leaf("SerialNumber", &d.serial),
                            leaf("EnableDate", iso8601(d.enabled_at.unwrap_or(0) as i64)),
                        ]
                    })
                    .collect();
                let mut out = vec![member_list("MFADevices", devices)];
                out.extend(truncation(None));
                Ok(out)
            }
            "ListVirtualMFADevices" => {
                let status = p.get("AssignmentStatus").unwrap_or("Any");
                let st = self.store.snapshot();
                let devices: Vec<Vec<Node>> = self
                    .mfa
                    .list(acct)
                    .await?
                    .into_iter()
                    .filter(|(d, _)| match status {
                        "Assigned" => d.user.is_some(),
                        "Unassigned" => d.user.is_none(),
                        _ => true,
                    })
                    .map(|(d, _)| {
                        let mut v = vec![leaf("SerialNumber", &d.serial)];
                        if let Some(u) = d
                            .user
                            .as_ref()
                            .and_then(|u| st.users.get(&(account.clone(), u.clone())))
                        {
                            v.push(branch("User", user_nodes(u)));
                            v.push(leaf(
                                "EnableDate",
                                iso8601(d.enabled_at.unwrap_or(0) as i64),
                            ));
                        }
                        v
                    })
                    .collect();
                let mut out = vec![member_list("VirtualMFADevices", devices)];
                out.extend(truncation(None));
                Ok(out)
            }
            other => Err(IamError::InvalidAction(format!(
                "Could not find operation {other} for version 2010-05-08"
            ))),
        }
    }

    /// The user whose keys an access-key call manages: `UserName`, or the
    /// calling user when omitted.
    fn user_for_keys(&self, ctx: &RequestContext, p: &Params) -> IamResult<User> {
        let st = self.store.snapshot();
        let account = ctx.principal.account.to_string();
        match p.get("UserName") {
            Some(n) => st
                .users
                .get(&(account, n.to_owned()))
                .cloned()
                .ok_or_else(|| no_user(n)),
            None => st
                .users
                .values()
                .find(|u| u.arn == ctx.principal.arn)
                .cloned()
                .ok_or_else(|| {
                    IamError::Validation(
                        "Must specify userName when calling with non-User credentials".into(),
                    )
                }),
        }
    }

    async fn put_inline(&self, h: Holder, acct: &str, p: &Params) -> IamResult<Vec<Node>> {
        let name = p.req(h.param(), h.at())?.to_owned();
        let pname = p.req("PolicyName", "policyName")?.to_owned();
        check_name(&pname, "policyName", 128)?;
        let doc = p.req("PolicyDocument", "policyDocument")?.to_owned();
        check_document(&doc, h.doc_use())?;
        self.store
            .mutate(|st| {
                let key = (acct.to_owned(), name.clone());
                let w = match h {
                    Holder::User => {
                        let u = st.users.get_mut(&key).ok_or_else(|| no_user(&name))?;
                        u.inline.insert(pname.clone(), doc);
                        record(Kind::User, acct, &name, u)?
                    }
                    Holder::Group => {
                        let g = st.groups.get_mut(&key).ok_or_else(|| no_group(&name))?;
                        g.inline.insert(pname.clone(), doc);
                        record(Kind::Group, acct, &name, g)?
                    }
                    Holder::Role => {
                        let r = st.roles.get_mut(&key).ok_or_else(|| no_role(&name))?;
                        r.inline.insert(pname.clone(), doc);
                        record(Kind::Role, acct, &name, r)?
                    }
                };
                Ok((vec![w], ()))
            })
            .await?;
        Ok(Vec::new())
    }

    fn inline_of<'a>(
        &self,
        h: Holder,
        st: &'a IamState,
        acct: &str,
        name: &str,
    ) -> IamResult<&'a BTreeMap<String, String>> {
        let key = (acct.to_owned(), name.to_owned());
        match h {
            Holder::User => st
                .users
                .get(&key)
                .map(|u| &u.inline)
                .ok_or_else(|| no_user(name)),
            Holder::Group => st
                .groups
                .get(&key)
                .map(|g| &g.inline)
                .ok_or_else(|| no_group(name)),
            Holder::Role => st
                .roles
                .get(&key)
                .map(|r| &r.inline)
                .ok_or_else(|| no_role(name)),
        }
    }

    fn get_inline(&self, h: Holder, acct: &str, p: &Params) -> IamResult<Vec<Node>> {
        let name = p.req(h.param(), h.at())?;
        let pname = p.req("PolicyName", "policyName")?;
        let st = self.store.snapshot();
        let doc = self
            .inline_of(h, &st, acct, name)?
            .get(pname)
            .ok_or_else(|| {
                IamError::NoSuchEntity(format!(
                    "The {} policy with name {pname} cannot be found.",
                    h.word()
                ))
            })?;
        Ok(vec![
            leaf(h.param(), name),
            leaf("PolicyName", pname),
            leaf("PolicyDocument", url_encode(doc)),
        ])
    }

    async fn delete_inline(&self, h: Holder, acct: &str, p: &Params) -> IamResult<Vec<Node>> {
        let name = p.req(h.param(), h.at())?.to_owned();
        let pname = p.req("PolicyName", "policyName")?.to_owned();
        self.store
            .mutate(|st| {
                let key = (acct.to_owned(), name.clone());
                let missing = || {
                    IamError::NoSuchEntity(format!(
                        "The {} policy with name {pname} cannot be found.",
                        h.word()
                    ))
                };
                let w = match h {
                    Holder::User => {
                        let u = st.users.get_mut(&key).ok_or_else(|| no_user(&name))?;
                        u.inline.remove(&pname).ok_or_else(missing)?;
                        record(Kind::User, acct, &name, u)?
                    }
                    Holder::Group => {
                        let g = st.groups.get_mut(&key).ok_or_else(|| no_group(&name))?;
                        g.inline.remove(&pname).ok_or_else(missing)?;
                        record(Kind::Group, acct, &name, g)?
                    }
                    Holder::Role => {
                        let r = st.roles.get_mut(&key).ok_or_else(|| no_role(&name))?;
                        r.inline.remove(&pname).ok_or_else(missing)?;
                        record(Kind::Role, acct, &name, r)?
                    }
                };
                Ok((vec![w], ()))
            })
            .await?;
        Ok(Vec::new())
    }

    fn list_inline(&self, h: Holder, acct: &str, p: &Params) -> IamResult<Vec<Node>> {
        let name = p.req(h.param(), h.at())?;
        let st = self.store.snapshot();
        let names: Vec<String> = self
            .inline_of(h, &st, acct, name)?
            .keys()
            .cloned()
            .collect();
        let (page, next) = paginate(names, p)?;
        let mut out = vec![Node::Branch(
            "PolicyNames".into(),
            page.into_iter().map(|n| leaf("member", n)).collect(),
        )];
        out.extend(truncation(next));
        Ok(out)
    }

    async fn attach(
        &self,
        h: Holder,
        acct: &str,
        p: &Params,
        attach: bool,
    ) -> IamResult<Vec<Node>> {
        let name = p.req(h.param(), h.at())?.to_owned();
        let arn = p.req("PolicyArn", "policyArn")?.to_owned();
        self.store
            .mutate(|st| {
                if attach {
                    check_policy_exists(st, &arn)?;
                }
                let key = (acct.to_owned(), name.clone());
                let not_attached =
                    || IamError::NoSuchEntity(format!("Policy {arn} was not found."));
                let apply = |list: &mut Vec<String>| -> IamResult<()> {
                    if attach {
                        if !list.contains(&arn) {
                            if list.len() >= 10 {
                                return Err(IamError::LimitExceeded(format!(
                                    "Cannot exceed quota for PoliciesPer{}: 10",
                                    match h {
                                        Holder::User => "User",
                                        Holder::Group => "Group",
                                        Holder::Role => "Role",
                                    }
                                )));
                            }
                            list.push(arn.clone());
                        }
                        Ok(())
                    } else if list.contains(&arn) {
                        list.retain(|a| *a != arn);
                        Ok(())
                    } else {
                        Err(not_attached())
                    }
                };
                let w = match h {
                    Holder::User => {
                        let u = st.users.get_mut(&key).ok_or_else(|| no_user(&name))?;
                        apply(&mut u.attached)?;
                        record(Kind::User, acct, &name, u)?
                    }
                    Holder::Group => {
                        let g = st.groups.get_mut(&key).ok_or_else(|| no_group(&name))?;
                        apply(&mut g.attached)?;
                        record(Kind::Group, acct, &name, g)?
                    }
                    Holder::Role => {
                        let r = st.roles.get_mut(&key).ok_or_else(|| no_role(&name))?;
                        apply(&mut r.attached)?;
                        record(Kind::Role, acct, &name, r)?
                    }
                };
                Ok((vec![w], ()))
            })
            .await?;
        Ok(Vec::new())
    }

    fn list_attached(&self, h: Holder, acct: &str, p: &Params) -> IamResult<Vec<Node>> {
        let name = p.req(h.param(), h.at())?;
        let st = self.store.snapshot();
        let key = (acct.to_owned(), name.to_owned());
        let arns: Vec<String> = match h {
            Holder::User => st
                .users
                .get(&key)
                .map(|u| u.attached.clone())
                .ok_or_else(|| no_user(name))?,
            Holder::Group => st
                .groups
                .get(&key)
                .map(|g| g.attached.clone())
                .ok_or_else(|| no_group(name))?,
            Holder::Role => st
                .roles
                .get(&key)
                .map(|r| r.attached.clone())
                .ok_or_else(|| no_role(name))?,
        };
        let (page, next) = paginate(arns, p)?;
        let mut out = vec![member_list(
            "AttachedPolicies",
            page.into_iter()
                .map(|arn| {
                    let pname = arn.rsplit('/').next().unwrap_or_default().to_owned();
                    vec![leaf("PolicyName", pname), leaf("PolicyArn", arn)]
                })
                .collect(),
        )];
        out.extend(truncation(next));
        Ok(out)
    }
}

fn check_policy_exists(st: &IamState, arn: &str) -> IamResult<()> {
    if aws_managed_document(arn).is_some() || st.policies.contains_key(arn) {
        Ok(())
    } else {
        Err(no_policy(arn))
    }
}

fn aws_policy(arn: &str, doc: &str) -> ManagedPolicy {
    let name = arn.rsplit('/').next().unwrap_or_default().to_owned();
    ManagedPolicy {
        name,
        id: "ANPAAWSMANAGED000000".into(),
        arn: arn.to_owned(),
        path: "/".into(),
        description: None,
        created: 0,
        updated: 0,
        default_version: "v1".into(),
        versions: vec![PolicyVersion {
            id: "v1".into(),
            document: doc.to_owned(),
            created: 0,
        }],
        next_version: 2,
        tags: Vec::new(),
    }
}

fn aws_policy_nodes(arn: &str, st: &IamState) -> Vec<Node> {
    let doc = aws_managed_document(arn).unwrap_or_default();
    policy_nodes(&aws_policy(arn, doc), st)
}

impl Iam {
    /// The condition keys IAM's own actions carry (the Service Authorization Reference's
    /// table for IAM): `aws:RequestTag/<key>` and `aws:TagKeys` for the tags a request sets
    /// (`Create*` with `Tags`, `Tag*`) and `aws:TagKeys` for the keys `Untag*` removes;
    /// `aws:ResourceTag/<key>` and `iam:ResourceTag/<key>` of the user or role the action is
    /// authorized against (the one [`Self::resource_arn`] names); `iam:PolicyARN` for attaching or detaching a managed
    /// policy; `iam:PermissionsBoundary` for the boundary a request sets (`CreateUser`,
    /// `CreateRole`, `Put*PermissionsBoundary`) or, for the actions that change an entity's
    /// permissions, the boundary it has.
    pub fn request_keys(
        &self,
        ctx: &RequestContext,
        action: &str,
        p: &Params,
    ) -> Vec<(String, ContextValue)> {
        let mut keys = Vec::new();
        let tags = p.structs("Tags");
        if !tags.is_empty() {
            let mut names = Vec::with_capacity(tags.len());
            for t in &tags {
                if let Some(k) = t.get("Key") {
                    let v = t.get("Value").cloned().unwrap_or_default();
                    keys.push((format!("aws:RequestTag/{k}"), ContextValue::Single(v)));
                    names.push(k.clone());
                }
            }
            keys.push(("aws:TagKeys".into(), ContextValue::Multi(names)));
        } else if action.starts_with("Untag") {
            keys.push(("aws:TagKeys".into(), ContextValue::Multi(p.list("TagKeys"))));
        }
        let acct = ctx.principal.account.as_str();
        let st = self.store.snapshot();
        let user = |name: &str| {
            st.users
                .get(&(acct.to_owned(), name.to_owned()))
                .map(|u| (u.tags.clone(), u.boundary.clone()))
        };
        // The user or role the action is authorized against (groups carry no tags or
        // boundary; policies' tags are not keys of these actions).
        let (entity_tags, boundary) = match target(ctx, action, p) {
            Target::Role(name) => st
                .roles
                .get(&(acct.to_owned(), name.to_owned()))
                .map(|r| (r.tags.clone(), r.boundary.clone())),
            Target::User(name) => user(name),
            Target::Caller => ctx.principal.arn.rsplit('/').next().and_then(user),
            Target::Any | Target::Group(_) | Target::Policy(_) => None,
        }
        .unwrap_or_default();
        for (k, v) in entity_tags {
            keys.push((
                format!("aws:ResourceTag/{k}"),
                ContextValue::Single(v.clone()),
            ));
            keys.push((format!("iam:ResourceTag/{k}"), ContextValue::Single(v)));
        }
        if matches!(
            action,
            "AttachUserPolicy"
                | "DetachUserPolicy"
                | "AttachRolePolicy"
                | "DetachRolePolicy"
                | "AttachGroupPolicy"
                | "DetachGroupPolicy"
        ) && let Some(arn) = p.get("PolicyArn")
        {
            keys.push(("iam:PolicyARN".into(), ContextValue::Single(arn.to_owned())));
        }
        let boundary = match action {
            "CreateUser"
            | "CreateRole"
            | "PutUserPermissionsBoundary"
            | "PutRolePermissionsBoundary" => p.get("PermissionsBoundary").map(str::to_owned),
            "AttachUserPolicy"
            | "DetachUserPolicy"
            | "PutUserPolicy"
            | "DeleteUserPolicy"
            | "DeleteUserPermissionsBoundary"
            | "AttachRolePolicy"
            | "DetachRolePolicy"
            | "PutRolePolicy"
            | "DeleteRolePolicy"
            | "DeleteRolePermissionsBoundary" => boundary,
            _ => None,
        };
        if let Some(b) = boundary {
            keys.push(("iam:PermissionsBoundary".into(), ContextValue::Single(b)));
        }
        keys
    }

    /// The resource ARN an IAM action is authorized against.
    pub fn resource_arn(&self, ctx: &RequestContext, action: &str, p: &Params) -> String {
        let acct = ctx.principal.account.as_str();
        let st = self.store.snapshot();
        let path_of = |kind: &str, name: &str| -> String {
            let key = (acct.to_owned(), name.to_owned());
            let existing = match kind {
                "user" => st.users.get(&key).map(|u| u.path.clone()),
                "group" => st.groups.get(&key).map(|g| g.path.clone()),
                "role" => st.roles.get(&key).map(|r| r.path.clone()),
                _ => None,
            };
            existing
                .or_else(|| p.get("Path").map(str::to_owned))
                .unwrap_or_else(|| "/".into())
        };
        let entity = |kind: &str, name: &str| {
            format!("arn:aws:iam::{acct}:{kind}{}{name}", path_of(kind, name))
        };
        match target(ctx, action, p) {
            Target::Any => "*".into(),
            Target::Group(name) => entity("group", name),
            Target::Role(name) => entity("role", name),
            Target::User(name) => entity("user", name),
            Target::Policy(arn) => arn,
            Target::Caller => ctx.principal.arn.clone(),
        }
    }
}

/// What an IAM action is authorized against, by its name and parameters.
enum Target<'p> {
    /// Every resource (`List*` of a kind, or a call about the caller by a non-user).
    Any,
    Group(&'p str),
    Role(&'p str),
    User(&'p str),
    /// A managed policy, by ARN.
    Policy(String),
    /// The calling IAM user (GetUser, CreateAccessKey without UserName).
    Caller,
}

fn target<'p>(ctx: &RequestContext, action: &str, p: &'p Params) -> Target<'p> {
    if action.starts_with("List")
        && !action.contains("For")
        && !action.contains("Attached")
        && !action.contains("Tags")
        && !action.contains("Policies")
        && !action.contains("Versions")
        && !action.contains("AccessKeys")
    {
        return Target::Any;
    }
    if action.contains("Group")
        && !action.contains("ForUser")
        && let Some(name) = p.get("GroupName")
    {
        return Target::Group(name);
    }
    if action.contains("Role")
        && let Some(name) = p.get("RoleName")
    {
        return Target::Role(name);
    }
    if let Some(name) = p.get("UserName") {
        return Target::User(name);
    }
    if let Some(arn) = p.get("PolicyArn") {
        return Target::Policy(arn.to_owned());
    }
    if action == "CreatePolicy"
        && let Some(n) = p.get("PolicyName")
    {
        let acct = ctx.principal.account.as_str();
        return Target::Policy(format!(
            "arn:aws:iam::{acct}:policy{}{n}",
            p.get("Path").unwrap_or("/")
        ));
    }
    match ctx.principal.kind {
        PrincipalKind::User => Target::Caller,
        _ => Target::Any,
    }
}
