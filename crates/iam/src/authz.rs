//! The authorization hook on the one request path: gathers every policy that
//! applies to a request (the principal's identity policies, its permissions
//! boundary, its session policies, the SCPs of its account's organization
//! path, the resource's own policy), fills the request's condition keys, and
//! asks the pure kernel ([`crate::policy::evaluate`]) for a decision that
//! explains itself.
//!
//! [`decide`] is pure (data in, decision out); [`Authorizer`] only fetches
//! the data and memoizes compiled policies.
//!
//! INVARIANT: a stored policy that no longer compiles denies the request
//! (fail closed) instead of being skipped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rampart_core::{PrincipalKind as CorePrincipalKind, RequestContext, epoch_seconds, iso8601};

use crate::api::aws_managed_document;
use crate::orgs::{OrgStore, ScpPath};
use crate::policy::{
    self, ContextValue, Decision, Key, Layers, Outcome, Policy, PolicyKind, PolicyRef, Principal,
    Request, Wanted, global,
};
use crate::store::{IamState, IamStore};

/// What one authorization asks.
#[derive(Debug, Clone)]
pub struct AuthzInput<'a> {
    /// The IAM action, e.g. `dynamodb:GetItem`.
    pub action: &'a str,
    /// The resource ARN (or `*`).
    pub resource: &'a str,
    /// The resource's own policy: its name, document and kind (a role's
    /// trust policy for `sts:AssumeRole`, a table's resource policy).
    pub resource_policy: Option<(&'a str, &'a str, PolicyKind)>,
    /// Request-specific condition keys (`dynamodb:LeadingKeys`, `sts:ExternalId`, …).
    pub keys: Vec<(String, ContextValue)>,
    /// More request-specific keys, computed only if a policy that applies may read a
    /// condition key (a service's keys cost work to derive from the request; most
    /// decisions never look at them). They may include global keys the service knows and
    /// the authorizer does not (DynamoDB's `aws:ResourceTag/…`), so they are computed
    /// whenever the context is built, whatever namespace the wanted keys are in.
    pub lazy_keys: Option<LazyKeys<'a>>,
    /// Fill `matched` and `explanation` even for an allow (the simulator and
    /// the CLI want them; the request path only for denials, to stay fast).
    pub explain: bool,
}

impl<'a> AuthzInput<'a> {
    /// An action on a resource with no resource policy and no extra keys.
    pub fn new(action: &'a str, resource: &'a str) -> Self {
        Self {
            action,
            resource,
            resource_policy: None,
            keys: Vec::new(),
            lazy_keys: None,
            explain: false,
        }
    }
}

/// Condition keys computed on demand (see [`AuthzInput::lazy_keys`]).
#[derive(Clone, Copy)]
pub struct LazyKeys<'a>(pub &'a (dyn Fn() -> Vec<(String, ContextValue)> + Sync));

impl std::fmt::Debug for LazyKeys<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LazyKeys(..)")
    }
}

/// A statement that applied to a request, with owned names (for the
/// simulator, logs and the audit trail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matched {
    /// The policy's name: an ARN for managed policies and SCPs,
    /// `<entity ARN>#<name>` for inline policies.
    pub policy: String,
    /// The layer, as AccessDenied messages name it ("identity-based policy", …).
    pub layer: &'static str,
    /// The statement's Sid.
    pub sid: Option<String>,
    /// The statement's position in its policy, from 0.
    pub index: usize,
    /// `Allow` or `Deny`.
    pub effect: &'static str,
}

/// The answer, ready for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthzDecision {
    /// Allow or which deny.
    pub outcome: Outcome,
    /// The layer (or "root user") that decided.
    pub decided_by: &'static str,
    /// Every statement that applied.
    pub matched: Vec<Matched>,
    /// AWS's AccessDenied message for a denial.
    pub message: Option<String>,
    /// Which policies and statements decided, for logs and the audit trail
    /// (never sent to clients).
    pub explanation: String,
}

impl AuthzDecision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }
}

/// Compiles (or fetches from a memo) a policy document of a kind. The flag
/// says whether the document lives in the `IamState` given to [`decide`]
/// (so its address identifies it while that state is alive).
pub type Compile<'c> = dyn Fn(&str, PolicyKind, bool) -> Option<Arc<Policy>> + 'c;

/// The account field of an ARN (`arn:aws:service:region:ACCOUNT:…`), if any: the text
/// between the fourth colon and the fifth (or the end). Byte-wise: `split(':').nth(4)`
/// cost ~800 instructions per call for a table ARN.
fn arn_account(arn: &str) -> Option<&str> {
    let mut colons = arn
        .bytes()
        .enumerate()
        .filter(|&(_, b)| b == b':')
        .map(|(i, _)| i);
    let start = colons.nth(3)? + 1;
    let end = colons.next().unwrap_or(arn.len());
    arn.get(start..end).filter(|a| !a.is_empty())
}

/// An inline policy's name, `<entity ARN>#<name>`: built per request for every inline
/// policy that applies, by concatenation (`format!` cost ~1k instructions here).
fn inline_id(entity_arn: &str, name: &str) -> String {
    let mut id = String::with_capacity(entity_arn.len() + 1 + name.len());
    id.push_str(entity_arn);
    id.push('#');
    id.push_str(name);
    id
}

/// The kernel's view of the caller.
fn principal_of(ctx: &RequestContext) -> Principal {
    let p = &ctx.principal;
    let account = p.account.as_str();
    match p.kind {
        CorePrincipalKind::Root => Principal::root(account),
        CorePrincipalKind::User => Principal::user(account, &p.arn),
        CorePrincipalKind::AssumedRole => {
            let role_arn = p
                .session
                .as_ref()
                .and_then(|s| s.role_arn.clone())
                .unwrap_or_default();
            Principal::role_session(account, &p.arn, &role_arn)
        }
    }
}

/// Decides one request: pure over the data it is given.
pub fn decide(
    ctx: &RequestContext,
    input: &AuthzInput<'_>,
    iam: &IamState,
    scps: Option<&ScpPath>,
    org_id: Option<&str>,
    compile: &Compile<'_>,
) -> AuthzDecision {
    let principal = principal_of(ctx);
    let account = ctx.principal.account.as_str();
    let session = ctx.principal.session.as_deref();

    let (user, role) = match ctx.principal.kind {
        CorePrincipalKind::User => {
            let name = ctx.principal.arn.rsplit('/').next().unwrap_or_default();
            (iam.users.get(&(account.to_owned(), name.to_owned())), None)
        }
        CorePrincipalKind::AssumedRole => {
            let name = session
                .and_then(|s| s.role_name.clone())
                .unwrap_or_default();
            (None, iam.roles.get(&(account.to_owned(), name)))
        }
        CorePrincipalKind::Root => (None, None),
    };
    // The policies of each layer, compiled.
    let failed: std::cell::RefCell<Vec<String>> = std::cell::RefCell::new(Vec::new());
    let load_with =
        |id: String, doc: &str, kind: PolicyKind, stable: bool| -> Option<(String, Arc<Policy>)> {
            match compile(doc, kind, stable) {
                Some(p) => Some((id, p)),
                None => {
                    failed.borrow_mut().push(id);
                    None
                }
            }
        };
    // Documents of the IAM state (identity policies, boundaries) and the rest
    // (session policies, SCPs, the resource's policy).
    let load = |id: String, doc: &str, kind: PolicyKind| load_with(id, doc, kind, true);
    let load_other = |id: String, doc: &str, kind: PolicyKind| load_with(id, doc, kind, false);
    let managed = |arn: &str| -> Option<&str> {
        iam.policies
            .get(arn)
            .and_then(|p| p.default_document())
            .or_else(|| aws_managed_document(arn))
    };
    let mut identity: Vec<(String, Arc<Policy>)> = Vec::new();
    let mut boundary: Option<(String, Arc<Policy>)> = None;
    if let Some(u) = user {
        for (name, doc) in &u.inline {
            identity.extend(load(inline_id(&u.arn, name), doc, PolicyKind::Identity));
        }
        for arn in &u.attached {
            if let Some(doc) = managed(arn) {
                identity.extend(load(arn.clone(), doc, PolicyKind::Identity));
            }
        }
        for g in &u.groups {
            if let Some(group) = iam.groups.get(&(account.to_owned(), g.clone())) {
                for (name, doc) in &group.inline {
                    identity.extend(load(inline_id(&group.arn, name), doc, PolicyKind::Identity));
                }
                for arn in &group.attached {
                    if let Some(doc) = managed(arn) {
                        identity.extend(load(arn.clone(), doc, PolicyKind::Identity));
                    }
                }
            }
        }
        if let Some(b) = &u.boundary {
            match managed(b) {
                Some(doc) => boundary = load(b.clone(), doc, PolicyKind::PermissionsBoundary),
                None => failed.borrow_mut().push(b.clone()),
            }
        }
    }
    if let Some(r) = role {
        for (name, doc) in &r.inline {
            identity.extend(load(inline_id(&r.arn, name), doc, PolicyKind::Identity));
        }
        for arn in &r.attached {
            if let Some(doc) = managed(arn) {
                identity.extend(load(arn.clone(), doc, PolicyKind::Identity));
            }
        }
        if let Some(b) = &r.boundary {
            match managed(b) {
                Some(doc) => boundary = load(b.clone(), doc, PolicyKind::PermissionsBoundary),
                None => failed.borrow_mut().push(b.clone()),
            }
        }
    }
    let mut session_policies: Vec<(String, Arc<Policy>)> = Vec::new();
    if let Some(s) = session {
        if let Some(doc) = &s.policy {
            session_policies.extend(load_other(
                "session policy".into(),
                doc,
                PolicyKind::Session,
            ));
        }
        for arn in &s.policy_arns {
            match managed(arn) {
                Some(doc) => {
                    session_policies.extend(load_other(arn.clone(), doc, PolicyKind::Session))
                }
                None => failed.borrow_mut().push(arn.clone()),
            }
        }
    }
    let mut scp_levels: Vec<Vec<(String, Arc<Policy>)>> = Vec::new();
    if let Some(path) = scps {
        for level in &path.levels {
            scp_levels.push(
                level
                    .iter()
                    .filter_map(|(id, doc)| load_other(id.clone(), doc, PolicyKind::ServiceControl))
                    .collect(),
            );
        }
    }
    let resource_policy = input
        .resource_policy
        .and_then(|(id, doc, kind)| load_other(id.to_owned(), doc, kind));

    let failed = failed.into_inner();
    if !failed.is_empty() {
        return AuthzDecision {
            outcome: Outcome::ImplicitDeny,
            decided_by: "policy that does not compile",
            matched: Vec::new(),
            message: Some(format!(
                "User: {} is not authorized to perform: {} on resource: {} because a policy that applies could not be evaluated",
                principal.arn, input.action, input.resource
            )),
            explanation: format!(
                "fail closed: policies that do not compile: {}",
                failed.join(", ")
            ),
        };
    }
    // All the condition keys cost ~20k instructions to build (names, times, addresses as
    // strings); most requests meet only policies without conditions or variables, whose
    // decisions cannot depend on them. Build a context only when a policy that applies may
    // read one, and then only the keys such policies read (a LeadingKeys condition: one key).
    let needs_context = identity
        .iter()
        .chain(boundary.iter())
        .chain(session_policies.iter())
        .chain(scp_levels.iter().flatten())
        .chain(resource_policy.iter())
        .any(|(_, p)| p.reads_context());
    let entity_tags = user.map(|u| &u.tags).or(role.map(|r| &r.tags));
    let resource_account = arn_account(input.resource);
    let context = if needs_context {
        // Only the keys these policies read: evaluation looks up no other.
        let wanted = Wanted::new(
            identity
                .iter()
                .chain(boundary.iter())
                .chain(session_policies.iter())
                .chain(scp_levels.iter().flatten())
                .chain(resource_policy.iter())
                .map(|(_, p)| p.context_keys()),
        );
        request_context(
            ctx,
            input,
            &principal,
            org_id,
            entity_tags,
            &wanted,
            resource_account,
        )
    } else {
        policy::Context::new()
    };
    let request = Request {
        principal,
        action: input.action.to_owned(),
        resource: input.resource.to_owned(),
        context,
    };
    fn refs(v: &[(String, Arc<Policy>)]) -> Vec<PolicyRef<'_>> {
        v.iter()
            .map(|(id, p)| PolicyRef {
                id: id.as_str(),
                policy: p.as_ref(),
            })
            .collect()
    }
    let layers = Layers {
        scps: scp_levels.iter().map(|l| refs(l)).collect(),
        scp_applies: scps.is_some(),
        resource: resource_policy.as_ref().map(|(id, p)| PolicyRef {
            id: id.as_str(),
            policy: p.as_ref(),
        }),
        resource_account: resource_account.map(str::to_owned),
        resource_policy_required: matches!(input.resource_policy, Some((_, _, PolicyKind::Trust))),
        identity: refs(&identity),
        boundary: boundary.as_ref().map(|(id, p)| PolicyRef {
            id: id.as_str(),
            policy: p.as_ref(),
        }),
        session: refs(&session_policies),
        endpoint: None,
    };
    let decision = policy::evaluate(&request, &layers);
    // Explanations cost an allocation per matched statement: build them for
    // denials (logged) and when asked (simulator, CLI), not for every allow.
    let detail = input.explain || !decision.is_allowed();
    AuthzDecision {
        outcome: decision.outcome,
        decided_by: match decision.decided_by {
            policy::DecidedBy::Policy(t) => t.name(),
            policy::DecidedBy::RootUser => "root user",
        },
        matched: if detail {
            decision
                .matched
                .iter()
                .map(|m| Matched {
                    policy: m.policy.to_owned(),
                    layer: m.layer.name(),
                    sid: m.sid.map(str::to_owned),
                    index: m.index,
                    effect: match m.effect {
                        policy::Effect::Allow => "Allow",
                        policy::Effect::Deny => "Deny",
                    },
                })
                .collect()
        } else {
            Vec::new()
        },
        message: decision.access_denied_message(
            &request.principal.arn,
            input.action,
            input.resource,
        ),
        explanation: if detail {
            explain(&decision)
        } else {
            String::new()
        },
    }
}

/// The condition keys of a request that `wanted` names: the global keys from the
/// authenticated principal, its tags and session, the connection, and the service's own keys
/// from `input`. A key is set (or left out) exactly as when every key is built, in the same
/// order (a later setting of a key replaces an earlier one); the values of keys nobody reads
/// are not computed.
fn request_context(
    ctx: &RequestContext,
    input: &AuthzInput<'_>,
    principal: &Principal,
    org_id: Option<&str>,
    entity_tags: Option<&crate::store::Tags>,
    wanted: &Wanted<'_>,
    resource_account: Option<&str>,
) -> policy::Context {
    let session = ctx.principal.session.as_deref();
    let mut c = policy::Context::with_capacity(wanted.len());
    let mut set = |key: &'static Key, value: &dyn Fn() -> String| {
        if wanted.has(key) {
            c.insert(key.clone(), ContextValue::Single(value()));
        }
    };
    for (key, value) in policy::principal_keys(principal).into_iter().flatten() {
        set(key, &|| value.to_owned());
    }
    set(&global::CURRENT_TIME, &|| {
        time_value(ctx.received_at, TimeKey::Iso)
    });
    set(&global::EPOCH_TIME, &|| {
        time_value(ctx.received_at, TimeKey::Epoch)
    });
    set(&global::USERID, &|| ctx.principal.user_id.clone());
    set(&global::SOURCE_IP, &|| {
        source_ip_value(ctx.network.source_ip())
    });
    set(&global::SECURE_TRANSPORT, &|| bool_value(ctx.tls.is_some()));
    set(&global::REQUESTED_REGION, &|| {
        ctx.region.as_str().to_owned()
    });
    if let Some(v) = &ctx.network.vpc_id {
        set(&global::SOURCE_VPC, &|| v.clone());
    }
    if let Some(v) = &ctx.network.vpce_id {
        set(&global::SOURCE_VPCE, &|| v.clone());
    }
    if let Some(o) = org_id {
        set(&global::PRINCIPAL_ORG_ID, &|| o.to_owned());
    }
    if let Some(a) = resource_account {
        set(&global::RESOURCE_ACCOUNT, &|| a.to_owned());
    }
    if let Some(s) = session {
        set(&global::TOKEN_ISSUE_TIME, &|| iso8601(s.issued as i64));
        set(&global::MFA_PRESENT, &|| {
            bool_value(s.mfa_authenticated_at.is_some())
        });
        if let Some(t) = s.mfa_authenticated_at {
            set(&global::MFA_AGE, &|| {
                let now = epoch_seconds(ctx.received_at) as u64;
                now.saturating_sub(t).to_string()
            });
        }
        if let Some(si) = &s.source_identity {
            set(&global::SOURCE_IDENTITY, &|| si.clone());
        }
    }
    // Keys named at run time: their names are matched against the wanted ones (any case).
    let mut put = |name: &str, value: &dyn Fn() -> ContextValue| {
        if let Some(key) = wanted.find(name) {
            c.insert(key.clone(), value());
        }
    };
    if wanted.any_with_prefix("aws:principaltag/") {
        let tags = entity_tags
            .into_iter()
            .flatten()
            .chain(session.into_iter().flat_map(|s| &s.tags));
        for (k, v) in tags {
            put(&format!("aws:PrincipalTag/{k}"), &|| {
                ContextValue::Single(v.clone())
            });
        }
    }
    for (k, v) in session.into_iter().flat_map(|s| &s.web_identity) {
        put(k, &|| ContextValue::Single(v.clone()));
    }
    for (k, v) in &input.keys {
        put(k, &|| v.clone());
    }
    // Not skipped when every wanted key is `aws:`: a service's lazy keys carry global
    // ones too (`aws:ResourceTag/…`), and a Deny conditioned on one must see it.
    if let Some(LazyKeys(compute)) = input.lazy_keys {
        for (k, v) in compute() {
            if let Some(key) = wanted.find(&k) {
                c.insert(key.clone(), v);
            }
        }
    }
    c
}

/// Which request-time key.
#[derive(Clone, Copy)]
enum TimeKey {
    /// `aws:CurrentTime`, [`policy::iso_time`].
    Iso,
    /// `aws:EpochTime`, [`policy::epoch_time`].
    Epoch,
}

/// The request-time keys' values of one second (both are whole seconds).
struct TimeValues {
    secs: u64,
    iso: Option<String>,
    epoch: Option<String>,
}

thread_local! {
    /// This thread's last second's request-time values: formatted once per second, not per
    /// request.
    static TIMES: std::cell::RefCell<TimeValues> = const {
        std::cell::RefCell::new(TimeValues {
            secs: u64::MAX,
            iso: None,
            epoch: None,
        })
    };
}

/// `policy::iso_time(at)` or `policy::epoch_time(at)`, from this thread's cache when `at`
/// falls in the same second as the last request's (both depend only on the whole seconds
/// since the epoch, 0 before it).
fn time_value(at: std::time::SystemTime, which: TimeKey) -> String {
    let secs = at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    TIMES.with_borrow_mut(|t| {
        if t.secs != secs {
            *t = TimeValues {
                secs,
                iso: None,
                epoch: None,
            };
        }
        match which {
            TimeKey::Iso => t.iso.get_or_insert_with(|| policy::iso_time(at)),
            TimeKey::Epoch => t.epoch.get_or_insert_with(|| policy::epoch_time(at)),
        }
        .clone()
    })
}

thread_local! {
    /// This thread's last caller's address as `aws:SourceIp`: a connection's requests tend
    /// to land on the same thread, one after the other.
    static SOURCE_IP: std::cell::RefCell<Option<(std::net::IpAddr, String)>> =
        const { std::cell::RefCell::new(None) };
}

/// `ip.to_string()`, from this thread's cache when it is the last caller's address.
fn source_ip_value(ip: std::net::IpAddr) -> String {
    SOURCE_IP.with_borrow_mut(|last| match last {
        Some((cached, text)) if *cached == ip => text.clone(),
        _ => {
            let text = ip.to_string();
            *last = Some((ip, text.clone()));
            text
        }
    })
}

/// A boolean key's value (`aws:SecureTransport`, `aws:MultiFactorAuthPresent`).
fn bool_value(value: bool) -> String {
    if value { "true" } else { "false" }.to_owned()
}

/// One line saying which layer decided and which statements applied.
pub fn explain(d: &Decision<'_>) -> String {
    let by = match d.decided_by {
        policy::DecidedBy::Policy(t) => t.name().to_owned(),
        policy::DecidedBy::RootUser => "root user".to_owned(),
    };
    let matched: Vec<String> = d
        .matched
        .iter()
        .map(|s| {
            format!(
                "{:?} {} in {} statement {}{}",
                s.effect,
                s.layer.name(),
                s.policy,
                s.index,
                s.sid.map(|sid| format!(" ({sid})")).unwrap_or_default()
            )
        })
        .collect();
    let mut out = format!("{:?} decided by {by}", d.outcome);
    if !matched.is_empty() {
        out.push_str("; matched: ");
        out.push_str(&matched.join("; "));
    }
    if !d.errors.is_empty() {
        out.push_str(&format!(
            "; {} evaluation error(s): {:?}",
            d.errors.len(),
            d.errors
        ));
    }
    out
}

/// The request path's authorizer: fetches the data [`decide`] needs and
/// memoizes compiled policies by document.
pub struct Authorizer {
    /// IAM entities.
    store: Arc<IamStore>,
    /// The organization (SCPs).
    orgs: Arc<OrgStore>,
    /// Per kind, document → compiled policy; cleared when it grows past a bound.
    cache: Mutex<[HashMap<String, Arc<Policy>>; 7]>,
    /// Compiled policies of the current IAM snapshot, keyed by the address
    /// and length of their document inside that snapshot (no hashing of
    /// documents on the hot path). The snapshot is pinned here so that no
    /// other string can take those addresses; a new snapshot clears the memo.
    pinned: Mutex<PinnedMemo>,
    /// Accounts in soft mode: denials are logged, not enforced.
    soft: std::collections::HashSet<String>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authorizer")
    }
}

/// The pinned IAM snapshot and its compiled policies by (address, length, kind).
type PinnedMemo = (
    Option<Arc<IamState>>,
    HashMap<(usize, usize, u8), Arc<Policy>>,
);

/// Compiled policies kept before the memo is cleared.
const CACHE_LIMIT: usize = 10_000;

fn kind_tag(k: PolicyKind) -> u8 {
    match k {
        PolicyKind::Identity => 0,
        PolicyKind::Resource => 1,
        PolicyKind::Trust => 2,
        PolicyKind::ServiceControl => 3,
        PolicyKind::Session => 4,
        PolicyKind::PermissionsBoundary => 5,
        PolicyKind::VpcEndpoint => 6,
    }
}

impl Authorizer {
    /// An authorizer over the IAM and Organizations state.
    pub fn new(store: Arc<IamStore>, orgs: Arc<OrgStore>) -> Self {
        Self {
            store,
            orgs,
            cache: Mutex::new(Default::default()),
            pinned: Mutex::new((None, HashMap::new())),
            soft: std::collections::HashSet::new(),
        }
    }

    /// Puts `accounts` in soft mode: their would-be denials are logged
    /// (with the explanation) but the requests are allowed, so operators
    /// can roll a policy out safely.
    pub fn with_soft_mode(mut self, accounts: impl IntoIterator<Item = String>) -> Self {
        self.soft = accounts.into_iter().collect();
        self
    }

    /// Whether `account` is in soft mode.
    pub fn is_soft(&self, account: &str) -> bool {
        self.soft.contains(account)
    }

    /// The IAM state the authorizer reads (for the simulator and the CLI).
    pub fn iam_state(&self) -> Arc<IamState> {
        self.store.snapshot()
    }

    /// Decides with an explicitly given IAM state (the simulator's
    /// "what if" policies).
    pub fn authorize_with(
        &self,
        ctx: &RequestContext,
        input: &AuthzInput<'_>,
        state: &IamState,
    ) -> AuthzDecision {
        let account = ctx.principal.account.as_str();
        let scps = self.orgs.scp_path(account);
        let org = self.orgs.membership(account).map(|(id, _)| id);
        decide(
            ctx,
            input,
            state,
            scps.as_ref(),
            org.as_deref(),
            &|doc, kind, _| self.compile(doc, kind),
        )
    }

    /// Content-keyed memo (documents outside the pinned snapshot).
    fn compile(&self, doc: &str, kind: PolicyKind) -> Option<Arc<Policy>> {
        let tag = usize::from(kind_tag(kind));
        if let Some(p) = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(tag).and_then(|m| m.get(doc)).cloned())
        {
            return Some(p);
        }
        let p = Arc::new(Policy::parse(doc, kind).ok()?);
        if let Ok(mut c) = self.cache.lock()
            && let Some(m) = c.get_mut(tag)
        {
            if m.len() >= CACHE_LIMIT {
                m.clear();
            }
            m.insert(doc.to_owned(), p.clone());
        }
        Some(p)
    }

    /// Address-keyed memo for documents of the pinned snapshot `state`.
    fn compile_pinned(
        &self,
        state: &Arc<IamState>,
        doc: &str,
        kind: PolicyKind,
    ) -> Option<Arc<Policy>> {
        let key = (doc.as_ptr() as usize, doc.len(), kind_tag(kind));
        if let Ok(mut guard) = self.pinned.lock() {
            let same = guard.0.as_ref().is_some_and(|p| Arc::ptr_eq(p, state));
            if !same {
                guard.0 = Some(state.clone());
                guard.1.clear();
            }
            if let Some(p) = guard.1.get(&key) {
                return Some(p.clone());
            }
        }
        let p = self.compile(doc, kind)?;
        if let Ok(mut guard) = self.pinned.lock()
            && guard.0.as_ref().is_some_and(|p| Arc::ptr_eq(p, state))
        {
            guard.1.insert(key, p.clone());
        }
        Some(p)
    }

    /// Decides one request.
    pub fn authorize(&self, ctx: &RequestContext, input: &AuthzInput<'_>) -> AuthzDecision {
        let state = self.store.snapshot();
        let account = ctx.principal.account.as_str();
        let scps = self.orgs.scp_path(account);
        let org = self.orgs.membership(account).map(|(id, _)| id);
        decide(
            ctx,
            input,
            &state,
            scps.as_ref(),
            org.as_deref(),
            &|doc, kind, stable| {
                if stable {
                    self.compile_pinned(&state, doc, kind)
                } else {
                    self.compile(doc, kind)
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, SocketAddr};
    use std::sync::Arc;
    use std::time::{Duration, UNIX_EPOCH};

    use rampart_core::{
        AccountId, NetworkOrigin, Principal as CorePrincipal, Region, RequestId, SessionInfo,
        TlsInfo,
    };

    use super::*;

    /// `request_context` as it was before it learnt which keys are wanted (d9ec33f..cac9d73):
    /// every key, built unconditionally. The oracle the filtered context is checked against.
    fn every_key(
        ctx: &RequestContext,
        input: &AuthzInput<'_>,
        principal: &Principal,
        org_id: Option<&str>,
        entity_tags: Option<&crate::store::Tags>,
    ) -> policy::Context {
        let session = ctx.principal.session.as_deref();
        let mut c = policy::Context::new();
        c.set_principal_keys(principal);
        c.set_request_time(ctx.received_at);
        c.set("aws:userid", ctx.principal.user_id.clone());
        c.set_ip("aws:SourceIp", ctx.network.source_ip());
        c.set_bool("aws:SecureTransport", ctx.tls.is_some());
        c.set("aws:RequestedRegion", ctx.region.as_str());
        if let Some(v) = &ctx.network.vpc_id {
            c.set("aws:SourceVpc", v.clone());
        }
        if let Some(v) = &ctx.network.vpce_id {
            c.set("aws:SourceVpce", v.clone());
        }
        if let Some(o) = org_id {
            c.set("aws:PrincipalOrgID", o);
        }
        if let Some(a) = arn_account(input.resource) {
            c.set("aws:ResourceAccount", a);
        }
        for (k, v) in entity_tags.into_iter().flatten() {
            c.set(&format!("aws:PrincipalTag/{k}"), v.clone());
        }
        if let Some(s) = session {
            for (k, v) in &s.tags {
                c.set(&format!("aws:PrincipalTag/{k}"), v.clone());
            }
            c.set("aws:TokenIssueTime", iso8601(s.issued as i64));
            match s.mfa_authenticated_at {
                Some(t) => {
                    c.set_bool("aws:MultiFactorAuthPresent", true);
                    let now = epoch_seconds(ctx.received_at) as u64;
                    c.set("aws:MultiFactorAuthAge", now.saturating_sub(t).to_string());
                }
                None => {
                    c.set_bool("aws:MultiFactorAuthPresent", false);
                }
            }
            if let Some(si) = &s.source_identity {
                c.set("aws:SourceIdentity", si.clone());
            }
            for (k, v) in &s.web_identity {
                c.set(k, v.clone());
            }
        }
        let mut put = |k: &str, v: ContextValue| match v {
            ContextValue::Single(s) => {
                c.set(k, s);
            }
            ContextValue::Multi(m) => {
                c.set_multi(k, m);
            }
        };
        for (k, v) in &input.keys {
            put(k, v.clone());
        }
        if let Some(LazyKeys(compute)) = input.lazy_keys {
            for (k, v) in compute() {
                put(&k, v);
            }
        }
        c
    }

    fn request(kind: CorePrincipalKind, session: Option<SessionInfo>, tls: bool) -> RequestContext {
        let arn = match kind {
            CorePrincipalKind::Root => "arn:aws:iam::111122223333:root",
            CorePrincipalKind::User => "arn:aws:iam::111122223333:user/division/Alice",
            CorePrincipalKind::AssumedRole => "arn:aws:sts::111122223333:assumed-role/App/s1",
        };
        RequestContext {
            request_id: RequestId("t".into()),
            received_at: UNIX_EPOCH + Duration::from_secs(1_764_547_201),
            principal: CorePrincipal {
                account: AccountId::parse("111122223333").expect("account"),
                arn: arn.into(),
                user_id: "AIDATEST".into(),
                access_key_id: "AKIATEST".into(),
                kind,
                session: session.map(Arc::new),
            },
            network: NetworkOrigin {
                peer: SocketAddr::from((Ipv4Addr::new(10, 1, 2, 3), 40_000)),
                local: SocketAddr::from((Ipv4Addr::LOCALHOST, 8000)),
                listener_id: "t".into(),
                vpc_id: tls.then(|| "vpc-1".to_owned()),
                vpce_id: tls.then(|| "vpce-1".to_owned()),
            },
            tls: tls.then(|| TlsInfo {
                version: "TLSv1.3".into(),
                cipher: "TLS_AES_128_GCM_SHA256".into(),
            }),
            region: Region("eu-west-1".into()),
        }
    }

    /// Policies reading different keys, in different cases, present or absent, by condition,
    /// by `...IfExists`, by `Null` and by variable.
    const CONDITIONS: &[&str] = &[
        r#"{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["user*"]}}"#,
        r#"{"ForAllValues:StringLike":{"DynamoDB:leadingKEYS":["${aws:username}*"]}}"#,
        r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Bool":{"AWS:SecureTransport":"true"}}"#,
        r#"{"StringEquals":{"aws:PrincipalTag/Team":"db","aws:principaltag/COST":"1"}}"#,
        r#"{"StringEqualsIfExists":{"aws:PrincipalTag/missing":"x","aws:SourceVpce":"vpce-1"}}"#,
        r#"{"Null":{"aws:MultiFactorAuthAge":"false","aws:TokenIssueTime":"false"}}"#,
        r#"{"Bool":{"aws:MultiFactorAuthPresent":"true"},"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}"#,
        r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"NumericGreaterThan":{"aws:EpochTime":"0"}}"#,
        r#"{"StringEquals":{"aws:PrincipalArn":"${aws:PrincipalArn}","aws:PrincipalType":"User","aws:PrincipalAccount":"111122223333"}}"#,
        r#"{"StringEquals":{"aws:userid":"AIDATEST","aws:RequestedRegion":"eu-west-1","aws:ResourceAccount":"111122223333","aws:PrincipalOrgID":"o-1","aws:SourceVpc":"vpc-1"}}"#,
        r#"{"StringEquals":{"accounts.example.com:sub":"abc","aws:SourceIdentity":"me"}}"#,
        r#"{"StringEquals":{"dynamodb:Select":"ALL_ATTRIBUTES","s3:prefix":"x"}}"#,
        r#"{"Null":{"dynamodb:Attributes":"true","aws:username":"true"}}"#,
        // Only global keys wanted, one of them supplied by the service's lazy keys.
        r#"{"StringEquals":{"aws:ResourceTag/env":"dev"}}"#,
    ];

    #[test]
    fn the_wanted_keys_are_built_as_every_key_was() {
        let session = SessionInfo {
            role_arn: Some("arn:aws:iam::111122223333:role/App".into()),
            role_name: Some("App".into()),
            tags: vec![("Team".into(), "db".into()), ("cost".into(), "2".into())],
            source_identity: Some("me".into()),
            mfa_authenticated_at: Some(1_764_547_000),
            web_identity: vec![("accounts.example.com:sub".into(), "abc".into())],
            issued: 1_764_540_000,
            ..SessionInfo::default()
        };
        let requests = [
            request(CorePrincipalKind::Root, None, false),
            request(CorePrincipalKind::User, None, true),
            request(CorePrincipalKind::AssumedRole, Some(session.clone()), true),
            request(
                CorePrincipalKind::AssumedRole,
                Some(SessionInfo {
                    mfa_authenticated_at: None,
                    ..session
                }),
                false,
            ),
        ];
        let tags: crate::store::Tags =
            vec![("TEAM".into(), "ops".into()), ("Cost".into(), "1".into())];
        let lazy = || {
            vec![
                (
                    "dynamodb:LeadingKeys".to_owned(),
                    ContextValue::Multi(vec!["user-1".into(), "Alice-2".into()]),
                ),
                (
                    "dynamodb:Select".to_owned(),
                    ContextValue::Single("ALL_ATTRIBUTES".into()),
                ),
                // A global key only the service knows (DynamoDB's table tags).
                (
                    "aws:ResourceTag/env".to_owned(),
                    ContextValue::Single("dev".into()),
                ),
            ]
        };
        let resource = "arn:aws:dynamodb:eu-west-1:111122223333:table/T";
        let mut compared = 0;
        let mut nonempty = 0;
        for ctx in &requests {
            let principal = principal_of(ctx);
            for (lazily, entity_tags) in [(true, Some(&tags)), (false, None)] {
                let mut input = AuthzInput::new("dynamodb:GetItem", resource);
                if lazily {
                    input.lazy_keys = Some(LazyKeys(&lazy));
                } else {
                    input.keys = lazy();
                }
                let old = every_key(ctx, &input, &principal, Some("o-1"), entity_tags);
                let q = Policy::parse(
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"arn:aws:dynamodb:*:*:table/${aws:PrincipalTag/team}","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalTag/COST":"1","dynamodb:LeadingKeys":"x"}}}]}"#,
                    PolicyKind::Identity,
                )
                .expect("policy parses");
                for condition in CONDITIONS {
                    let doc = format!(
                        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"dynamodb:*","Resource":"*","Condition":{condition}}}]}}"#
                    );
                    let p = Policy::parse(&doc, PolicyKind::Identity).expect("policy parses");
                    let wanted = Wanted::new([p.context_keys()]);
                    let new = request_context(
                        ctx,
                        &input,
                        &principal,
                        Some("o-1"),
                        entity_tags,
                        &wanted,
                        arn_account(resource),
                    );
                    let mut expected = old.clone();
                    expected.retain(|k| wanted.has(k));
                    assert_eq!(new, expected, "{condition} for {ctx:?}");
                    nonempty += usize::from(new != policy::Context::new());
                    // Several policies' keys, merged.
                    let two = Wanted::new([p.context_keys(), q.context_keys()]);
                    let mut expected = old.clone();
                    expected.retain(|k| two.has(k));
                    let merged = request_context(
                        ctx,
                        &input,
                        &principal,
                        Some("o-1"),
                        entity_tags,
                        &two,
                        arn_account(resource),
                    );
                    assert_eq!(merged, expected, "{condition} and the user's tags");
                    // And the kernel decides the same with either context.
                    let decide_with = |context: policy::Context| {
                        let request = Request {
                            principal: principal.clone(),
                            action: input.action.to_owned(),
                            resource: resource.to_owned(),
                            context,
                        };
                        let layers = Layers {
                            identity: vec![PolicyRef {
                                id: "p",
                                policy: &p,
                            }],
                            ..Layers::default()
                        };
                        let d = policy::evaluate(&request, &layers);
                        (d.outcome, explain(&d))
                    };
                    assert_eq!(decide_with(new), decide_with(old.clone()), "{condition}");
                    compared += 1;
                }
            }
        }
        assert_eq!(compared, requests.len() * 2 * CONDITIONS.len());
        assert!(nonempty > compared * 3 / 4, "{nonempty} of {compared}");
    }

    #[test]
    fn cached_request_times_are_the_formatted_ones() {
        let instants = [0, 1, 1, 59, 1_764_547_200, 1_764_547_200, 1_764_547_201, 7]
            .map(|s| UNIX_EPOCH + Duration::from_secs(s))
            .into_iter()
            .chain([
                UNIX_EPOCH + Duration::from_millis(1_764_547_200_999),
                UNIX_EPOCH - Duration::from_secs(5),
                UNIX_EPOCH + Duration::from_millis(1_500),
                UNIX_EPOCH + Duration::from_secs(1),
            ]);
        for at in instants {
            for which in [TimeKey::Iso, TimeKey::Epoch, TimeKey::Iso] {
                let expected = match which {
                    TimeKey::Iso => policy::iso_time(at),
                    TimeKey::Epoch => policy::epoch_time(at),
                };
                assert_eq!(time_value(at, which), expected, "{at:?}");
            }
        }
    }

    #[test]
    fn cached_source_ips_are_the_formatted_ones() {
        let ips: [std::net::IpAddr; 6] = [
            Ipv4Addr::new(10, 1, 2, 3).into(),
            Ipv4Addr::new(10, 1, 2, 3).into(),
            "::ffff:10.1.2.3".parse().expect("ip"),
            "2001:db8::1".parse().expect("ip"),
            Ipv4Addr::new(10, 1, 2, 4).into(),
            Ipv4Addr::new(10, 1, 2, 3).into(),
        ];
        for ip in ips {
            assert_eq!(source_ip_value(ip), ip.to_string());
        }
    }

    #[test]
    fn inline_ids_join_the_entity_and_the_name() {
        assert_eq!(
            inline_id("arn:aws:iam::1:user/a", "p"),
            format!("{}#{}", "arn:aws:iam::1:user/a", "p")
        );
        assert_eq!(inline_id("", ""), "#");
    }

    #[test]
    fn arn_account_is_the_fifth_field() {
        assert_eq!(
            arn_account("arn:aws:dynamodb:us-east-1:111122223333:table/T"),
            Some("111122223333")
        );
        assert_eq!(arn_account("arn:aws:s3:::bucket"), None);
        assert_eq!(arn_account("arn:aws:iam::1:user/a:b"), Some("1"));
        assert_eq!(arn_account("*"), None);
        assert_eq!(arn_account("a:b:c:d:e"), Some("e"));
    }
}
