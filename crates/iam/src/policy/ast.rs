//! A policy document, compiled: what [`Policy::parse`](super::Policy::parse) produces and the
//! evaluator reads. Patterns are pre-compiled (actions lowercased, ARNs tokenized, condition
//! values typed) so that evaluation allocates nothing for policies without variables.
//!
//! INVARIANT: a `Policy` only exists if its document passed the validation of its
//! [`PolicyKind`]; the evaluator relies on it (e.g. identity policies have no `Principal`).
//! INVARIANT: action patterns are lowercase (actions are case-insensitive); resource and
//! principal patterns keep their case (ARNs are case-sensitive).

use super::condition::Condition;
use super::context::Key;
use super::pattern::{ArnPat, Matcher};

/// What a policy is attached to, which decides what it may contain and how it is evaluated.
///
/// Source: IAM User Guide, "Policies and permissions in IAM" (policy types) and "IAM JSON
/// policy element reference"; AWS Organizations User Guide, "SCP syntax".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Attached to a user, group or role (inline or managed). No `Principal`.
    Identity,
    /// Attached to a resource (a DynamoDB table or stream, a KMS key). `Principal` required.
    Resource,
    /// A role's trust policy. `Principal` required, no `Resource`, only STS actions.
    Trust,
    /// An AWS Organizations service control policy. No `Principal`/`NotPrincipal`.
    ServiceControl,
    /// A session policy passed to `AssumeRole*` or `GetFederationToken`. No `Principal`.
    Session,
    /// A managed policy used as a permissions boundary. No `Principal`.
    PermissionsBoundary,
    /// A VPC endpoint policy. `Principal` required.
    VpcEndpoint,
}

impl PolicyKind {
    /// Whether statements must name a `Principal` or `NotPrincipal`.
    pub fn requires_principal(self) -> bool {
        matches!(self, Self::Resource | Self::Trust | Self::VpcEndpoint)
    }

    /// Whether the document is one IAM itself stores and validates (its error texts apply).
    pub(crate) fn is_iam(self) -> bool {
        matches!(
            self,
            Self::Identity | Self::Trust | Self::Session | Self::PermissionsBoundary
        )
    }
}

/// The policy language version (`Version` element).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `2008-10-17`, also what an absent `Version` means: no policy variables.
    V2008_10_17,
    /// `2012-10-17`: policy variables are substituted.
    V2012_10_17,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Grants, if nothing denies.
    Allow,
    /// Denies, whatever grants.
    Deny,
}

/// A parsed, validated and compiled policy document.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) kind: PolicyKind,
    /// `None` when the document has no `Version` (2008-10-17 semantics).
    pub(crate) version: Option<Version>,
    pub(crate) id: Option<String>,
    pub(crate) statements: Vec<Statement>,
    /// The distinct condition keys and required variables of all statements: evaluation looks
    /// each up once per request, and conditions refer to them by position (their slot).
    pub(crate) keys: Vec<Key>,
    /// `keys` sorted by key (hash, then name), for [`Wanted`](super::Wanted).
    pub(crate) sorted_keys: Vec<Key>,
    /// How many distinct conditions appear in more than one statement (see
    /// [`Condition::shared`]): an evaluation decides each once.
    pub(crate) shared_conditions: usize,
    /// Whether any statement has a condition or a policy variable: only then can a decision
    /// depend on the request's condition keys (see [`Policy::reads_context`]).
    pub(crate) reads_context: bool,
}

impl Policy {
    /// Whether evaluating this policy may read a condition key of the request: true when a
    /// statement has a `Condition` or the document uses a policy variable (`${...}`)
    /// anywhere. When false, its decision is the same for every context, so a caller may
    /// skip building one.
    pub fn reads_context(&self) -> bool {
        self.reads_context
    }

    /// Every condition key evaluating this policy may read (its conditions' keys and its
    /// variables'), sorted, without duplicates: evaluation reads the request's context
    /// through [`Policy::keys`], which holds the same keys.
    pub(crate) fn context_keys(&self) -> &[Key] {
        &self.sorted_keys
    }

    /// The document's `Id` element.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The kind it was validated as.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The `Version` element, `None` if absent.
    pub fn version(&self) -> Option<Version> {
        self.version
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[Statement] {
        &self.statements
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Position in the document (0-based), to name statements without a `Sid`.
    pub(crate) index: usize,
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    pub(crate) principal: PrincipalClause,
    pub(crate) action: ActionClause,
    pub(crate) resource: ResourceClause,
    /// All AND-ed.
    pub(crate) conditions: Vec<Condition>,
    /// Policy variables without a default used in `Resource`/`NotResource`, as slots in
    /// [`Policy::keys`] with their key. If one has no value in the request, the statement is
    /// invalid for that request. (Variables in condition values are resolved when compared.)
    pub(crate) required_vars: Vec<(usize, Key)>,
}

impl Statement {
    /// The `Sid`, if any.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// The position in the document, from 0.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The effect.
    pub fn effect(&self) -> Effect {
        self.effect
    }
}

/// `Principal`, `NotPrincipal`, or neither.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PrincipalClause {
    Absent,
    Principal(PrincipalSet),
    NotPrincipal(PrincipalSet),
}

/// The principals a `Principal`/`NotPrincipal` element names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PrincipalSet {
    /// `"*"` or `{"AWS": "*"}`: everyone, anonymous callers included.
    pub(crate) any: bool,
    /// `{"AWS": ...}` entries.
    pub(crate) aws: Vec<AwsPrincipal>,
    /// `{"Service": ...}` entries.
    pub(crate) services: Vec<String>,
    /// `{"Federated": ...}` entries.
    pub(crate) federated: Vec<String>,
    /// `{"CanonicalUser": ...}` entries: S3's; kept, never matched (no Rampart caller has one).
    pub(crate) canonical: Vec<String>,
}

/// An `{"AWS": ...}` principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AwsPrincipal {
    /// An account: `123456789012` or `arn:aws:iam::123456789012:root` (the same thing:
    /// "Using the account ARN in the Principal element does not limit permissions to only the
    /// root user of the account").
    Account(String),
    /// A user, role, assumed-role session or federated-user ARN.
    Arn(String),
    /// A unique principal id (`AIDA...`, `AROA...`) as IAM shows for a deleted principal:
    /// kept, never matched.
    UniqueId(String),
}

/// `Action` or `NotAction`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ActionClause {
    /// `NotAction`: the statement applies to every action that matches none of the patterns.
    pub(crate) negated: bool,
    /// Lowercase patterns.
    pub(crate) patterns: Vec<Matcher>,
}

/// `Resource`, `NotResource`, or neither (trust policies).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ResourceClause {
    Absent,
    Resource(Vec<ResourcePat>),
    NotResource(Vec<ResourcePat>),
}

/// One `Resource` entry.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum ResourcePat {
    /// `"*"`.
    Any,
    /// An ARN pattern, matched part by part.
    Arn(ArnPat),
}
