//! The authorization hook: every request, after authentication, asks
//! [`authorize`] whether its principal may perform each action on each
//! resource. Pure: no I/O, no clock, no async.
//!
//! Today only the account's root user exists, and AWS lets the root user do
//! everything in its own account (service control policies, which can restrict
//! a member account's root, arrive with Organizations). The full IAM
//! evaluation replaces the body of [`authorize`], not its callers.

use rampart_core::{PrincipalKind, RequestContext};

/// The result of an authorization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Allowed.
    Allow,
    /// Denied by an explicit Deny statement.
    ExplicitDeny,
    /// Denied because nothing allowed it.
    ImplicitDeny,
}

/// A decision and why it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Allow or deny.
    pub outcome: Outcome,
    /// Which rule decided, for logs and the audit trail (never sent to clients).
    pub reason: String,
}

/// One action on one resource that a request needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<'a> {
    /// The IAM action, e.g. `dynamodb:GetItem`.
    pub action: &'a str,
    /// The resource ARN.
    pub resource: &'a str,
}

/// Decides whether the request's principal may perform `req`.
pub fn authorize(ctx: &RequestContext, req: &Request<'_>) -> Decision {
    let own_account = req
        .resource
        .split(':')
        .nth(4)
        .is_none_or(|acct| acct.is_empty() || acct == ctx.principal.account.as_str());
    match (&ctx.principal.kind, own_account) {
        (PrincipalKind::Root, true) => Decision {
            outcome: Outcome::Allow,
            reason: "root user of the resource's account".into(),
        },
        (PrincipalKind::Root, false) => Decision {
            outcome: Outcome::ImplicitDeny,
            reason: "resource belongs to another account and no resource-based policy allows it"
                .into(),
        },
        (PrincipalKind::User | PrincipalKind::AssumedRole, _) => Decision {
            outcome: Outcome::ImplicitDeny,
            reason:
                "no identity-based policy allows the action (IAM policies are not yet evaluated)"
                    .into(),
        },
    }
}
