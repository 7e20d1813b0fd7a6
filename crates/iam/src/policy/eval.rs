//! Evaluation: a [`Request`] against the policy [`Layers`] that apply to it gives a
//! [`Decision`] that carries its explanation (which layer decided, which statements matched,
//! what could not be evaluated).
//!
//! The rules are AWS's, from the IAM User Guide:
//! - "Policy evaluation logic" (single account): an explicit deny in any policy wins; then
//!   SCPs must allow; then a resource-based policy or an identity-based policy must allow, with
//!   the principal-type nuances of resource-based policies (below); then the permissions
//!   boundary must allow; then, for session principals, the session policy must allow.
//! - "Cross-account policy evaluation logic": the request is allowed only if the trusted
//!   account (the principal's: identity-based policies, limited by its SCPs, boundary and
//!   session policies) and the trusting account (the resource's: its resource-based policy)
//!   both allow.
//! - The root user "has full access" to its own account, except what an explicit deny or an
//!   SCP (member accounts) takes away.
//!
//! Resource-based policies within one account ("Policy evaluation logic", "Resource-based
//! policies and implicit denies in other policy types"; "AWS JSON policy elements: Principal"):
//! - naming the IAM user, the role *session*, the federated-user session, or `*`: the grant is
//!   direct, and implicit denies in identity-based policies, boundaries and session policies do
//!   not limit it;
//! - naming the role (the caller is a session of it), or the IAM user who federated (the caller
//!   is the federated-user session): the grant stands in for an identity-based allow but is
//!   limited by the boundary and the session policy;
//! - naming the account: it delegates to the account's identity-based policies, which must
//!   allow ("The account ARN and the shortened account ID ... delegate permissions to the
//!   account").
//! - IAM role trust policies and KMS key policies must themselves allow
//!   ([`Layers::resource_policy_required`]): "they must explicitly allow access for principals".
//!
//! VPC endpoint policies are not in AWS's flow chart: like an SCP they can only restrict, so a
//! present endpoint policy must allow and its explicit deny denies (the `AccessDenied` texts
//! "because no VPC endpoint policy allows" / "with an explicit deny in a VPC endpoint policy").
//!
//! INVARIANT: an explicit Deny that applies, in any layer evaluated, yields
//! [`Outcome::ExplicitDeny`].
//! INVARIANT: the outcome does not depend on the order of statements or of policies within a
//! layer (only which layer is named for a deny found in several does).
//! INVARIANT: pure: no I/O, no clock, no global state.

use std::cell::{Cell, OnceCell};

use super::ast::{
    AwsPrincipal, Effect, Policy, PolicyKind, PrincipalClause, PrincipalSet, ResourceClause,
    ResourcePat, Statement,
};
use super::condition::{CondError, Condition};
use super::context::{Context, Key, PrincipalKind, Request};
use super::pattern::SplitArn;
use super::slot::Slot;

/// A policy with the name it is known by (ARN for managed policies and SCPs, `user/name/policy`
/// for inline ones, ...): the name goes into explanations.
#[derive(Debug, Clone, Copy)]
pub struct PolicyRef<'a> {
    /// How to name the policy in explanations and the audit trail.
    pub id: &'a str,
    /// The compiled policy.
    pub policy: &'a Policy,
}

/// Every policy that applies to one request, by type. The caller gathers them (the principal's
/// policies, its account's SCPs, the resource's policy, the endpoint's policy) before calling
/// [`evaluate`].
#[derive(Debug, Clone, Default)]
pub struct Layers<'a> {
    /// The SCPs on the path from the organization root to the principal's account, one list per
    /// level (root, each OU, the account). Every level must allow.
    pub scps: Vec<Vec<PolicyRef<'a>>>,
    /// Whether SCPs apply: false outside an organization, for the management account ("SCPs
    /// don't affect users or roles in the management account") and for service-linked roles.
    pub scp_applies: bool,
    /// The resource-based policy of the resource (table, stream, key, role trust policy).
    pub resource: Option<PolicyRef<'a>>,
    /// The account that owns the resource; `None` when the resource has no account (actions
    /// on `*`), which evaluates as the principal's own account.
    pub resource_account: Option<String>,
    /// The resource-based policy must itself allow (role trust policies, KMS key policies);
    /// an identity-based allow alone is not enough.
    pub resource_policy_required: bool,
    /// The principal's identity-based policies: user (inline and attached) and its groups',
    /// or the role's.
    pub identity: Vec<PolicyRef<'a>>,
    /// The user's or role's permissions boundary.
    pub boundary: Option<PolicyRef<'a>>,
    /// The session policies passed when the session was created (inline and managed).
    pub session: Vec<PolicyRef<'a>>,
    /// The policy of the VPC endpoint the request came through.
    pub endpoint: Option<PolicyRef<'a>>,
}

/// The policy types, as `AccessDenied` messages name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyType {
    /// AWS Organizations service control policy.
    ServiceControl,
    /// VPC endpoint policy.
    VpcEndpoint,
    /// Resource-based policy (table, stream, key policy).
    ResourceBased,
    /// A role's trust policy (the resource-based policy of `sts:AssumeRole*`).
    RoleTrust,
    /// Identity-based policy (user, group, role).
    IdentityBased,
    /// Permissions boundary.
    PermissionsBoundary,
    /// Session policy.
    Session,
}

impl PolicyType {
    /// The name in `because no <name> allows ...`.
    pub fn name(self) -> &'static str {
        match self {
            Self::ServiceControl => "service control policy",
            Self::VpcEndpoint => "VPC endpoint policy",
            Self::ResourceBased => "resource-based policy",
            Self::RoleTrust => "role trust policy",
            Self::IdentityBased => "identity-based policy",
            Self::PermissionsBoundary => "permissions boundary",
            Self::Session => "session policy",
        }
    }

    /// The name with its article, as in `with an explicit deny in <this>`.
    pub fn with_article(self) -> &'static str {
        match self {
            Self::ServiceControl => "a service control policy",
            Self::VpcEndpoint => "a VPC endpoint policy",
            Self::ResourceBased => "a resource-based policy",
            Self::RoleTrust => "the role trust policy",
            Self::IdentityBased => "an identity-based policy",
            Self::PermissionsBoundary => "a permissions boundary",
            Self::Session => "a session policy",
        }
    }
}

/// Allow or deny, and which kind of deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Allowed.
    Allow,
    /// A `Deny` statement applied.
    ExplicitDeny,
    /// Nothing (or not enough) allowed.
    ImplicitDeny,
}

/// What decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecidedBy {
    /// A policy type: the one that granted (for an allow), that denied, or whose allow was
    /// missing.
    Policy(PolicyType),
    /// The root user's own access to its account.
    RootUser,
}

/// A statement that applied, named for explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatementRef<'a> {
    /// The layer the policy was in.
    pub layer: PolicyType,
    /// The policy's name ([`PolicyRef::id`]).
    pub policy: &'a str,
    /// The statement's `Sid`.
    pub sid: Option<&'a str>,
    /// The statement's position in its policy, from 0.
    pub index: usize,
    /// The statement's effect.
    pub effect: Effect,
}

impl std::fmt::Display for StatementRef<'_> {
    /// `identity-based policy arn:aws:iam::111122223333:policy/P, statement AllowRead (Allow)`;
    /// a statement without `Sid` is named by its position (`statement #2`, from 0).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}, statement ", self.layer.name(), self.policy)?;
        match self.sid {
            Some(sid) if !sid.is_empty() => write!(f, "{sid}")?,
            _ => write!(f, "#{}", self.index)?,
        }
        write!(f, " ({:?})", self.effect)
    }
}

impl std::fmt::Display for EvalErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnresolvedVariable { variable } => {
                write!(
                    f,
                    "policy variable ${{{variable}}} has no value: statement not applied"
                )
            }
            Self::InvalidPolicyValue {
                operator,
                key,
                value,
            } => write!(
                f,
                "{operator} cannot read the policy value {value:?} for {key}"
            ),
            Self::InvalidContextValue {
                operator,
                key,
                value,
            } => write!(
                f,
                "{operator} cannot read the request value {value:?} of {key}"
            ),
        }
    }
}

impl std::fmt::Display for EvalError<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.statement, self.kind)
    }
}

/// Something that could not be evaluated as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvalErrorKind {
    /// A policy variable with no value in the request and no default: AWS treats the statement
    /// as invalid ("not present means ... any attempt to match it fails and causes the
    /// statement to be invalid", IAM User Guide, "Variables and tags"), so it does not apply,
    /// whatever its effect.
    UnresolvedVariable {
        /// The variable's key (lowercase).
        variable: String,
    },
    /// A condition value in the policy that its operator cannot read (a number that is not a
    /// number, an IP that is not an address). Fail closed: the statement applies if it is a
    /// Deny, not if it is an Allow.
    InvalidPolicyValue {
        /// The operator as written.
        operator: String,
        /// The condition key.
        key: String,
        /// The value.
        value: String,
    },
    /// A request value the operator cannot read. Fail closed, as above.
    InvalidContextValue {
        /// The operator as written.
        operator: String,
        /// The condition key.
        key: String,
        /// The value.
        value: String,
    },
}

/// An evaluation problem and the statement it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError<'a> {
    /// The statement.
    pub statement: StatementRef<'a>,
    /// What went wrong.
    pub kind: EvalErrorKind,
}

/// The answer to a [`Request`], with its explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'a> {
    /// Allow, explicit deny or implicit deny.
    pub outcome: Outcome,
    /// The policy type (or the root user) that decided.
    pub decided_by: DecidedBy,
    /// Every statement that applied to the request, in evaluation order (SCP levels, endpoint,
    /// resource, identity, boundary, session; document order within a policy).
    pub matched: Vec<StatementRef<'a>>,
    /// What could not be evaluated as written.
    pub errors: Vec<EvalError<'a>>,
}

impl Decision<'_> {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }

    /// The reason phrase of AWS's `AccessDenied` messages for a denial (`None` for an allow):
    /// "with an explicit deny in an identity-based policy", "because no service control policy
    /// allows the dynamodb:GetItem action", ...
    ///
    /// Source: IAM User Guide, "Troubleshoot access denied error messages": "with an explicit
    /// deny in a *type* policy" / "because no *type* policy allows the *action* action".
    pub fn reason(&self, action: &str) -> Option<String> {
        match (self.outcome, self.decided_by) {
            (Outcome::Allow, _) | (_, DecidedBy::RootUser) => None,
            (Outcome::ExplicitDeny, DecidedBy::Policy(t)) => {
                Some(format!("with an explicit deny in {}", t.with_article()))
            }
            (Outcome::ImplicitDeny, DecidedBy::Policy(t)) => Some(format!(
                "because no {} allows the {action} action",
                t.name()
            )),
        }
    }

    /// AWS's full `AccessDenied` message for a denial: `User: <arn> is not authorized to
    /// perform: <action> on resource: <arn> <reason>` (the `on resource:` part is left out for
    /// actions on `*`, as AWS does for actions without a resource type). `None` for an allow.
    pub fn access_denied_message(
        &self,
        principal_arn: &str,
        action: &str,
        resource: &str,
    ) -> Option<String> {
        let reason = self.reason(action)?;
        Some(if resource.is_empty() || resource == "*" {
            format!("User: {principal_arn} is not authorized to perform: {action} {reason}")
        } else {
            format!(
                "User: {principal_arn} is not authorized to perform: {action} on resource: {resource} {reason}"
            )
        })
    }
}

/// How directly a resource-based policy statement names the caller (ordered weakest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Strength {
    /// The caller's account: delegation to its identity-based policies.
    Account,
    /// The caller's role (it is a session of it), or the IAM user a federated-user session
    /// belongs to: limited by boundary and session policies.
    Role,
    /// The caller itself (user, session), `*`, a service or a web-identity provider.
    Direct,
}

/// One layer's verdict.
#[derive(Debug, Clone, Copy, Default)]
struct Verdict {
    deny: bool,
    /// The strongest way an `Allow` statement named the caller (`Direct` in layers without
    /// principals).
    allow: Option<Strength>,
}

/// What the principal's side needs before the gates of boundary and session policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grant {
    /// Allowed whatever the boundary and session policies say.
    Direct(DecidedBy),
    /// Allowed if the boundary and the session policy allow too.
    Limited(DecidedBy),
    /// No allow where one is needed.
    Missing(PolicyType),
}

/// A gate that may close: an SCP, endpoint, boundary or session policy that does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Gate {
    Open,
    Closed,
}

impl Gate {
    fn from(open: bool) -> Self {
        if open { Self::Open } else { Self::Closed }
    }
}

/// The request, prepared once: the action lowercased (action names are case-insensitive), the
/// resource ARN split into its parts.
struct Prepared<'r> {
    action: String,
    resource: SplitArn<'r>,
    request: &'r Request,
    /// The caller has a permissions boundary (for the `NotPrincipal` rule below).
    has_boundary: bool,
    /// The caller's identities ([`identities`]), listed when a `Principal` is first matched.
    chain: OnceCell<Vec<(Identity<'r>, Strength)>>,
}

impl<'r> Prepared<'r> {
    fn ctx(&self) -> &Context {
        &self.request.context
    }

    fn chain(&self) -> &[(Identity<'r>, Strength)] {
        self.chain.get_or_init(|| identities(self.request))
    }
}

/// Accumulates the explanation.
struct Acc<'a> {
    matched: Vec<StatementRef<'a>>,
    errors: Vec<EvalError<'a>>,
}

/// Decides `request` against `layers`.
pub fn evaluate<'a>(request: &Request, layers: &Layers<'a>) -> Decision<'a> {
    let prep = Prepared {
        action: request.action.to_lowercase(),
        resource: SplitArn::new(&request.resource),
        request,
        has_boundary: layers.boundary.is_some(),
        chain: OnceCell::new(),
    };
    let mut acc = Acc {
        matched: Vec::new(),
        errors: Vec::new(),
    };
    let kind = &request.principal.kind;

    // Every layer is evaluated in full, so that the explanation lists every statement that
    // applied, not only the first.
    let scp_levels: Vec<Verdict> = if layers.scp_applies {
        layers
            .scps
            .iter()
            .map(|level| eval_layer(level, PolicyType::ServiceControl, false, &prep, &mut acc))
            .collect()
    } else {
        Vec::new()
    };
    let endpoint = layers.endpoint.map(|p| {
        eval_layer(
            std::slice::from_ref(&p),
            PolicyType::VpcEndpoint,
            true,
            &prep,
            &mut acc,
        )
    });
    let resource_type = match layers.resource {
        Some(p) if p.policy.kind() == PolicyKind::Trust => PolicyType::RoleTrust,
        _ => PolicyType::ResourceBased,
    };
    let resource = layers
        .resource
        .map(|p| {
            eval_layer(
                std::slice::from_ref(&p),
                resource_type,
                true,
                &prep,
                &mut acc,
            )
        })
        .unwrap_or_default();
    let identity = eval_layer(
        &layers.identity,
        PolicyType::IdentityBased,
        false,
        &prep,
        &mut acc,
    );
    let boundary = layers.boundary.map(|p| {
        eval_layer(
            std::slice::from_ref(&p),
            PolicyType::PermissionsBoundary,
            false,
            &prep,
            &mut acc,
        )
    });
    let session = (!layers.session.is_empty())
        .then(|| eval_layer(&layers.session, PolicyType::Session, false, &prep, &mut acc));

    // The first layer, in this order, with an explicit deny.
    let explicit_deny = [
        (
            scp_levels.iter().any(|v| v.deny),
            PolicyType::ServiceControl,
        ),
        (endpoint.is_some_and(|v| v.deny), PolicyType::VpcEndpoint),
        (resource.deny, resource_type),
        (identity.deny, PolicyType::IdentityBased),
        (
            boundary.is_some_and(|v| v.deny),
            PolicyType::PermissionsBoundary,
        ),
        (session.is_some_and(|v| v.deny), PolicyType::Session),
    ]
    .into_iter()
    .find_map(|(deny, t)| deny.then_some(t));

    // Every level of the organization path must allow (and an organization always has one).
    let scp_gate = Gate::from(
        !layers.scp_applies
            || (!scp_levels.is_empty() && scp_levels.iter().all(|v| v.allow.is_some())),
    );
    let endpoint_gate = Gate::from(endpoint.is_none_or(|v| v.allow.is_some()));
    let boundary_gate = Gate::from(boundary.is_none_or(|v| v.allow.is_some()));
    // "If there is no session policy, the code checks whether the principal is a role session.
    // If the principal is a role session, then the request is Allowed. Otherwise [a federated
    // user session] the request is implicitly denied" ("Policy evaluation logic").
    let session_gate = Gate::from(match (kind, session) {
        (_, Some(v)) if kind.is_session() => v.allow.is_some(),
        (PrincipalKind::FederatedUser { .. }, None) => false,
        _ => true,
    });
    let grant = grant(
        request,
        layers,
        resource.allow,
        identity.allow.is_some(),
        resource_type,
    );

    // The combining rule. Gates are checked in the order of AWS's flow chart (explicit deny,
    // SCPs, resource-based policy, identity-based policies, boundary, session policy), with the
    // endpoint policy, a network perimeter, right after the SCPs.
    let (outcome, decided_by) = match (
        explicit_deny,
        scp_gate,
        endpoint_gate,
        grant,
        boundary_gate,
        session_gate,
    ) {
        // An explicit deny in any layer wins over everything.
        (Some(t), ..) => (Outcome::ExplicitDeny, DecidedBy::Policy(t)),
        // SCPs set the maximum for member accounts, root user included.
        (None, Gate::Closed, ..) => (
            Outcome::ImplicitDeny,
            DecidedBy::Policy(PolicyType::ServiceControl),
        ),
        // The endpoint policy must allow requests that come through the endpoint.
        (None, Gate::Open, Gate::Closed, ..) => (
            Outcome::ImplicitDeny,
            DecidedBy::Policy(PolicyType::VpcEndpoint),
        ),
        // Nobody granted: the default deny, named after the policy that would have to.
        (None, Gate::Open, Gate::Open, Grant::Missing(t), _, _) => {
            (Outcome::ImplicitDeny, DecidedBy::Policy(t))
        }
        // Granted to the caller itself by a resource-based policy in its own account, or
        // the root user in its own account: boundary and session policies do not limit it.
        (None, Gate::Open, Gate::Open, Grant::Direct(by), _, _) => (Outcome::Allow, by),
        // Other grants are limited by the permissions boundary...
        (None, Gate::Open, Gate::Open, Grant::Limited(_), Gate::Closed, _) => (
            Outcome::ImplicitDeny,
            DecidedBy::Policy(PolicyType::PermissionsBoundary),
        ),
        // ... and by the session policy of a session principal.
        (None, Gate::Open, Gate::Open, Grant::Limited(_), Gate::Open, Gate::Closed) => (
            Outcome::ImplicitDeny,
            DecidedBy::Policy(PolicyType::Session),
        ),
        (None, Gate::Open, Gate::Open, Grant::Limited(by), Gate::Open, Gate::Open) => {
            (Outcome::Allow, by)
        }
    };
    Decision {
        outcome,
        decided_by,
        matched: acc.matched,
        errors: acc.errors,
    }
}

/// Whether the principal side and the resource side grant, and how directly.
fn grant(
    request: &Request,
    layers: &Layers<'_>,
    resource_allow: Option<Strength>,
    identity_allows: bool,
    resource_type: PolicyType,
) -> Grant {
    let principal = &request.principal;
    let by_resource = DecidedBy::Policy(resource_type);
    let by_identity = DecidedBy::Policy(PolicyType::IdentityBased);
    match &principal.kind {
        // Principals without an account of their own have no identity-based policies: only a
        // resource-based policy (or trust policy) can grant.
        PrincipalKind::Service { .. }
        | PrincipalKind::WebIdentity { .. }
        | PrincipalKind::Anonymous => {
            return match resource_allow {
                Some(_) => Grant::Direct(by_resource),
                None => Grant::Missing(resource_type),
            };
        }
        PrincipalKind::Root
        | PrincipalKind::User
        | PrincipalKind::RoleSession { .. }
        | PrincipalKind::FederatedUser { .. } => {}
    }
    let is_root = principal.kind == PrincipalKind::Root;
    let cross_account = layers
        .resource_account
        .as_deref()
        .is_some_and(|owner| owner != principal.account);
    if cross_account {
        // Both accounts must allow: the resource's resource-based policy, and the principal's
        // identity-based policies (the root user has all of its account's permissions). The
        // principal's boundary and session policy still limit it.
        return match (resource_allow.is_some(), identity_allows || is_root) {
            (false, _) => Grant::Missing(resource_type),
            (true, false) => Grant::Missing(PolicyType::IdentityBased),
            (true, true) => Grant::Limited(by_resource),
        };
    }
    match (
        is_root,
        resource_allow,
        identity_allows,
        layers.resource_policy_required,
    ) {
        // "All requests are implicitly denied with the exception of the AWS account root user,
        // which has full access" ...
        (true, _, _, false) => Grant::Direct(DecidedBy::RootUser),
        // ... unless the resource-based policy must itself allow (key policies): naming the
        // account grants the root user.
        (true, Some(_), _, true) => Grant::Direct(DecidedBy::RootUser),
        (true, None, _, true) => Grant::Missing(resource_type),
        // The resource-based policy names the caller itself (or `*`).
        (false, Some(Strength::Direct), _, _) => Grant::Direct(by_resource),
        // It names the caller's role (or the user who federated): stands in for an identity
        // allow, limited by boundary and session policy.
        (false, Some(Strength::Role), _, _) => Grant::Limited(by_resource),
        // It names the account: the identity-based policies decide.
        (false, Some(Strength::Account), true, _) => Grant::Limited(by_identity),
        (false, Some(Strength::Account), false, _) => Grant::Missing(PolicyType::IdentityBased),
        // No resource-based allow: an identity-based allow suffices, unless the resource
        // policy must allow.
        (false, None, _, true) => Grant::Missing(resource_type),
        (false, None, true, false) => Grant::Limited(by_identity),
        (false, None, false, false) => Grant::Missing(PolicyType::IdentityBased),
    }
}

/// Evaluates every statement of `policies`. `with_principals`: the layer's policies name
/// principals (resource and endpoint policies); a statement there without one names nobody
/// in particular and grants only as an account-level delegation.
fn eval_layer<'a>(
    policies: &[PolicyRef<'a>],
    layer: PolicyType,
    with_principals: bool,
    prep: &Prepared<'_>,
    acc: &mut Acc<'a>,
) -> Verdict {
    let mut verdict = Verdict::default();
    for p in policies {
        // Each distinct condition key of the policy, looked up once, its typed forms parsed at
        // most once.
        let slots: Vec<Slot<'_>> = p
            .policy
            .keys
            .iter()
            .map(|k| Slot::new(prep.ctx().get_key(k)))
            .collect();
        // The results of the conditions several statements share, once known.
        let shared = vec![Cell::new(None); p.policy.shared_conditions];
        let statements = p.policy.statements();
        for (i, st) in statements.iter().enumerate() {
            let remaining = statements.len().saturating_sub(i);
            // Named only if it applies or errs.
            let sref = || StatementRef {
                layer,
                policy: p.id,
                sid: st.sid(),
                index: st.index(),
                effect: st.effect(),
            };
            match eval_statement(st, with_principals, prep, &slots, &shared) {
                StatementResult::NotApplicable => {}
                StatementResult::Applies(strength) => {
                    push_matched(&mut acc.matched, sref(), remaining);
                    record(&mut verdict, st.effect(), strength);
                }
                StatementResult::Unresolved(key) => acc.errors.push(EvalError {
                    statement: sref(),
                    kind: EvalErrorKind::UnresolvedVariable {
                        variable: key.name().to_owned(),
                    },
                }),
                StatementResult::Failed(c, e) => {
                    let (kind, decided) = condition_error(c, e);
                    acc.errors.push(EvalError {
                        statement: sref(),
                        kind,
                    });
                    // Fail closed: a Deny that cannot be evaluated applies; an Allow does not.
                    if !decided && st.effect() == Effect::Deny {
                        push_matched(&mut acc.matched, sref(), remaining);
                        verdict.deny = true;
                    }
                }
            }
        }
    }
    verdict
}

/// Adds a statement that applied; when the list is full, makes room for the `remaining`
/// statements of its policy at once (a policy whose statements all apply then costs one
/// allocation, not one per doubling).
fn push_matched<'a>(matched: &mut Vec<StatementRef<'a>>, sref: StatementRef<'a>, remaining: usize) {
    if matched.len() == matched.capacity() {
        matched.reserve(remaining.max(matched.len()));
    }
    matched.push(sref);
}

fn record(verdict: &mut Verdict, effect: Effect, strength: Strength) {
    match effect {
        Effect::Deny => verdict.deny = true,
        Effect::Allow => verdict.allow = verdict.allow.max(Some(strength)),
    }
}

/// A statement's result, small and borrowed: the explanation is built only for errors.
enum StatementResult<'s> {
    NotApplicable,
    Applies(Strength),
    /// Not applicable because AWS deems it invalid for this request: a variable of its
    /// `Resource` has no value.
    Unresolved(&'s Key),
    /// A condition could not be evaluated (and none was false).
    Failed(&'s Condition, CondError<'s>),
}

fn eval_statement<'s>(
    st: &'s Statement,
    with_principals: bool,
    prep: &Prepared<'_>,
    slots: &'s [Slot<'s>],
    shared: &[Cell<Option<bool>>],
) -> StatementResult<'s> {
    // Action first: the cheapest test, and the one most statements fail.
    let action_hit = st.action.patterns.iter().any(|p| p.matches(&prep.action));
    if action_hit == st.action.negated {
        return StatementResult::NotApplicable;
    }
    // A variable with no value: the statement is invalid for this request.
    for (slot, key) in &st.required_vars {
        if slots.get(*slot).and_then(Slot::single).is_none() {
            return StatementResult::Unresolved(key);
        }
    }
    let resource_hit = |list: &[ResourcePat]| {
        list.iter().any(|r| match r {
            ResourcePat::Any => true,
            // Variables were checked above, so resolution cannot fail; if it did, the
            // pattern would not match.
            ResourcePat::Arn(p) => p.matches(&prep.resource, slots).unwrap_or(false),
        })
    };
    let applies_to_resource = match &st.resource {
        ResourceClause::Absent => true,
        ResourceClause::Resource(list) => resource_hit(list),
        ResourceClause::NotResource(list) => !resource_hit(list),
    };
    if !applies_to_resource {
        return StatementResult::NotApplicable;
    }
    let strength = match &st.principal {
        PrincipalClause::Absent if with_principals => Strength::Account,
        PrincipalClause::Absent => Strength::Direct,
        PrincipalClause::Principal(set) => match principal_match(set, prep) {
            Some(s) => s,
            None => return StatementResult::NotApplicable,
        },
        PrincipalClause::NotPrincipal(set) => {
            if !not_principal_applies(set, st.effect(), prep) {
                return StatementResult::NotApplicable;
            }
            // A grant to "everyone but": no more than a role-level grant (fail closed; AWS
            // advises against NotPrincipal with Allow and documents no finer rule).
            Strength::Role
        }
    };
    // All conditions must hold. A false condition decides even beside an error, so that the
    // result does not depend on the order of the conditions.
    let mut error = None;
    for c in &st.conditions {
        // A condition shared with an earlier statement has the same result (same key, same
        // values, same request); only answers are kept, errors are evaluated again.
        let known = shared.get(c.shared);
        let result = match known.and_then(Cell::get) {
            Some(b) => Ok(b),
            None => {
                // INVARIANT: the compiler gave every condition its key's slot (unreachable).
                let Some(slot) = slots.get(c.slot) else {
                    return StatementResult::NotApplicable;
                };
                let result = c.eval(slot, slots);
                if let (Some(cell), Ok(b)) = (known, &result) {
                    cell.set(Some(*b));
                }
                result
            }
        };
        match result {
            Ok(true) => {}
            Ok(false) => return StatementResult::NotApplicable,
            Err(e) => {
                error.get_or_insert((c, e));
            }
        }
    }
    match error {
        Some((c, e)) => StatementResult::Failed(c, e),
        None => StatementResult::Applies(strength),
    }
}

/// The explanation of a condition error, and whether it decides the statement anyway: an
/// unresolved variable makes the statement invalid (not applied, whatever its effect); an
/// unreadable value leaves it undecided.
fn condition_error(c: &Condition, e: CondError<'_>) -> (EvalErrorKind, bool) {
    let operator = c.operator_name.clone();
    let key = c.key.name().to_owned();
    match e {
        CondError::Unresolved(variable) => (
            EvalErrorKind::UnresolvedVariable {
                variable: variable.name().to_owned(),
            },
            true,
        ),
        CondError::PolicyValue(i) => (
            EvalErrorKind::InvalidPolicyValue {
                operator,
                key,
                value: c.raw_value(i).to_owned(),
            },
            false,
        ),
        CondError::ContextValue(value) => (
            EvalErrorKind::InvalidContextValue {
                operator,
                key,
                value: value.to_owned(),
            },
            false,
        ),
    }
}

/// The identities a caller is known by, most specific first, with the strength a `Principal`
/// naming each one carries.
fn identities(request: &Request) -> Vec<(Identity<'_>, Strength)> {
    let p = &request.principal;
    let account = (Identity::Account(p.account.as_str()), Strength::Account);
    match &p.kind {
        PrincipalKind::Root => vec![(Identity::Account(p.account.as_str()), Strength::Direct)],
        PrincipalKind::User => vec![(Identity::Arn(p.arn.as_str()), Strength::Direct), account],
        PrincipalKind::RoleSession { role_arn } => vec![
            (Identity::Arn(p.arn.as_str()), Strength::Direct),
            (Identity::Arn(role_arn.as_str()), Strength::Role),
            account,
        ],
        PrincipalKind::FederatedUser { user_arn } => vec![
            (Identity::Arn(p.arn.as_str()), Strength::Direct),
            (Identity::Arn(user_arn.as_str()), Strength::Role),
            account,
        ],
        PrincipalKind::Service { service } => vec![(Identity::Service(service), Strength::Direct)],
        PrincipalKind::WebIdentity { provider } => {
            vec![(Identity::Federated(provider), Strength::Direct)]
        }
        PrincipalKind::Anonymous => Vec::new(),
    }
}

#[derive(Debug, Clone, Copy)]
enum Identity<'r> {
    Account(&'r str),
    Arn(&'r str),
    Service(&'r str),
    Federated(&'r str),
}

fn listed(set: &PrincipalSet, id: Identity<'_>) -> bool {
    match id {
        Identity::Account(a) => set
            .aws
            .iter()
            .any(|p| matches!(p, AwsPrincipal::Account(x) if x == a)),
        Identity::Arn(arn) => set
            .aws
            .iter()
            .any(|p| matches!(p, AwsPrincipal::Arn(x) if x == arn)),
        Identity::Service(s) => set.services.iter().any(|x| x == s),
        Identity::Federated(f) => set.federated.iter().any(|x| x == f),
    }
}

/// The strongest way `set` names the caller, if it does.
fn principal_match(set: &PrincipalSet, prep: &Prepared<'_>) -> Option<Strength> {
    if set.any {
        return Some(Strength::Direct);
    }
    prep.chain()
        .iter()
        .filter(|(id, _)| listed(set, *id))
        .map(|(_, s)| *s)
        .max()
}

/// Whether a `NotPrincipal` statement applies to the caller.
///
/// A caller is known by a chain of identities (session, role, account). AWS "might validate
/// the account first, then the role, and then the assumed-role user", so a `Deny` with
/// `NotPrincipal` exempts the caller only if every identity in its chain is listed (IAM User
/// Guide, "AWS JSON policy elements: NotPrincipal"); an `Allow` with `NotPrincipal` applies
/// only if none is listed. Both readings fail closed.
///
/// And: "The NotPrincipal element with a Deny effect will always deny any IAM principal that
/// has a permissions boundary policy attached, regardless of the values specified in the
/// NotPrincipal element" (IAM User Guide, "Permissions boundaries for IAM entities").
fn not_principal_applies(set: &PrincipalSet, effect: Effect, prep: &Prepared<'_>) -> bool {
    let chain = prep.chain();
    match effect {
        Effect::Deny => {
            let bounded_iam = prep.has_boundary
                && matches!(
                    prep.request.principal.kind,
                    PrincipalKind::User | PrincipalKind::RoleSession { .. }
                );
            let exempt =
                set.any || (!chain.is_empty() && chain.iter().all(|(id, _)| listed(set, *id)));
            bounded_iam || !exempt
        }
        Effect::Allow => !set.any && !chain.iter().any(|(id, _)| listed(set, *id)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::context::Principal;
    use super::*;

    fn policy(doc: &str, kind: PolicyKind) -> Policy {
        Policy::parse(doc, kind).unwrap()
    }

    fn req(principal: Principal, action: &str, resource: &str) -> Request {
        Request {
            principal,
            action: action.into(),
            resource: resource.into(),
            context: Context::new(),
        }
    }

    const TABLE: &str = "arn:aws:dynamodb:us-east-1:111122223333:table/Books";

    fn allow_get() -> Policy {
        policy(
            r#"{"Version":"2012-10-17","Statement":{"Sid":"Get","Effect":"Allow","Action":"dynamodb:GetItem","Resource":"*"}}"#,
            PolicyKind::Identity,
        )
    }

    #[test]
    fn identity_allow_grants_and_nothing_denies_implicitly() {
        let p = allow_get();
        let user = Principal::user("111122223333", "arn:aws:iam::111122223333:user/dynauser");
        let layers = Layers {
            identity: vec![PolicyRef {
                id: "p",
                policy: &p,
            }],
            ..Layers::default()
        };
        let d = evaluate(&req(user.clone(), "DynamoDB:getitem", TABLE), &layers);
        assert_eq!(d.outcome, Outcome::Allow);
        assert_eq!(d.decided_by, DecidedBy::Policy(PolicyType::IdentityBased));
        assert_eq!(d.matched.first().and_then(|m| m.sid), Some("Get"));
        let d = evaluate(&req(user, "dynamodb:PutItem", TABLE), &layers);
        assert_eq!(d.outcome, Outcome::ImplicitDeny);
        assert_eq!(
            d.access_denied_message(
                "arn:aws:iam::111122223333:user/dynauser",
                "dynamodb:PutItem",
                TABLE
            )
            .unwrap(),
            "User: arn:aws:iam::111122223333:user/dynauser is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:111122223333:table/Books because no identity-based policy allows the dynamodb:PutItem action"
        );
    }

    #[test]
    fn statement_refs_and_errors_display_for_logs() {
        let r = StatementRef {
            layer: PolicyType::IdentityBased,
            policy: "arn:aws:iam::111122223333:policy/P",
            sid: None,
            index: 2,
            effect: Effect::Deny,
        };
        assert_eq!(
            r.to_string(),
            "identity-based policy arn:aws:iam::111122223333:policy/P, statement #2 (Deny)"
        );
        let e = EvalError {
            statement: r,
            kind: EvalErrorKind::UnresolvedVariable {
                variable: "aws:username".into(),
            },
        };
        assert!(
            e.to_string()
                .ends_with("policy variable ${aws:username} has no value: statement not applied")
        );
    }

    #[test]
    fn root_user_is_allowed_in_its_account_but_not_past_an_scp() {
        let root = Principal::root("111122223333");
        let d = evaluate(
            &req(root.clone(), "dynamodb:DeleteTable", TABLE),
            &Layers::default(),
        );
        assert_eq!(
            (d.outcome, d.decided_by),
            (Outcome::Allow, DecidedBy::RootUser)
        );
        let layers = Layers {
            scp_applies: true,
            scps: vec![vec![]],
            ..Layers::default()
        };
        let d = evaluate(&req(root, "dynamodb:DeleteTable", TABLE), &layers);
        assert_eq!(d.outcome, Outcome::ImplicitDeny);
        assert_eq!(
            d.reason("dynamodb:DeleteTable").unwrap(),
            "because no service control policy allows the dynamodb:DeleteTable action"
        );
    }

    #[test]
    fn resource_policy_naming_the_role_is_limited_by_the_boundary_but_naming_the_session_is_not() {
        let session_arn = "arn:aws:sts::111122223333:assumed-role/app/s1";
        let role_arn = "arn:aws:iam::111122223333:role/app";
        let caller = Principal::role_session("111122223333", session_arn, role_arn);
        let boundary = policy(
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#,
            PolicyKind::PermissionsBoundary,
        );
        for (named, expected) in [
            (role_arn, Outcome::ImplicitDeny),
            (session_arn, Outcome::Allow),
        ] {
            let rp = policy(
                &format!(
                    r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"{named}"}},"Action":"dynamodb:GetItem","Resource":"{TABLE}"}}}}"#
                ),
                PolicyKind::Resource,
            );
            let layers = Layers {
                resource: Some(PolicyRef {
                    id: "table",
                    policy: &rp,
                }),
                resource_account: Some("111122223333".into()),
                boundary: Some(PolicyRef {
                    id: "b",
                    policy: &boundary,
                }),
                ..Layers::default()
            };
            let d = evaluate(&req(caller.clone(), "dynamodb:GetItem", TABLE), &layers);
            assert_eq!(d.outcome, expected, "{named}");
        }
    }

    #[test]
    fn cross_account_needs_both_sides() {
        let caller = Principal::user("444455556666", "arn:aws:iam::444455556666:user/bob");
        let rp = policy(
            &format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"444455556666"}},"Action":"dynamodb:GetItem","Resource":"{TABLE}"}}}}"#
            ),
            PolicyKind::Resource,
        );
        let idp = allow_get();
        let mut layers = Layers {
            resource: Some(PolicyRef {
                id: "table",
                policy: &rp,
            }),
            resource_account: Some("111122223333".into()),
            ..Layers::default()
        };
        let r = req(caller, "dynamodb:GetItem", TABLE);
        assert_eq!(
            evaluate(&r, &layers).decided_by,
            DecidedBy::Policy(PolicyType::IdentityBased)
        );
        layers.identity = vec![PolicyRef {
            id: "id",
            policy: &idp,
        }];
        assert_eq!(evaluate(&r, &layers).outcome, Outcome::Allow);
        layers.resource = None;
        let d = evaluate(&r, &layers);
        assert_eq!(
            (d.outcome, d.decided_by),
            (
                Outcome::ImplicitDeny,
                DecidedBy::Policy(PolicyType::ResourceBased)
            )
        );
    }

    #[test]
    fn not_principal_deny_exempts_only_a_fully_listed_chain() {
        let session_arn = "arn:aws:sts::444455556666:assumed-role/ro/app";
        let role_arn = "arn:aws:iam::444455556666:role/ro";
        let doc = |list: &str| {
            policy(
                &format!(
                    r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","NotPrincipal":{{"AWS":[{list}]}},"Action":"dynamodb:*","Resource":"*"}}}}"#
                ),
                PolicyKind::Resource,
            )
        };
        let caller = Principal::role_session("444455556666", session_arn, role_arn);
        let full = doc(&format!(
            r#""{session_arn}","{role_arn}","arn:aws:iam::444455556666:root""#
        ));
        let partial = doc(&format!(r#""{session_arn}""#));
        for (p, denied) in [(&full, false), (&partial, true)] {
            let layers = Layers {
                resource: Some(PolicyRef { id: "t", policy: p }),
                resource_account: Some("111122223333".into()),
                ..Layers::default()
            };
            let d = evaluate(&req(caller.clone(), "dynamodb:GetItem", TABLE), &layers);
            assert_eq!(d.outcome == Outcome::ExplicitDeny, denied);
        }
    }
}
