//! The one [`RequestContext`], built by `front` after authentication and read by
//! authorization, handlers, audit and metrics alike.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::{AccountId, Region, RequestId};

/// What kind of identity signed the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root user.
    Root,
    /// An IAM user.
    User,
    /// A role session from STS.
    AssumedRole,
}

/// The authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The account the principal belongs to.
    pub account: AccountId,
    /// The principal's ARN, e.g. `arn:aws:iam::123456789012:root`.
    pub arn: String,
    /// The unique id (`aws:userid`): the account id for root, `AIDA…` for users.
    pub user_id: String,
    /// The access key id that signed the request.
    pub access_key_id: String,
    /// Root, user or role session.
    pub kind: PrincipalKind,
    /// For temporary credentials: what the session is.
    pub session: Option<Arc<SessionInfo>>,
}

/// What a temporary-credential session is (STS AssumeRole, GetSessionToken,
/// AssumeRoleWithWebIdentity): the source of the session's condition keys
/// (`aws:TokenIssueTime`, `aws:MultiFactorAuthPresent`, `aws:PrincipalTag/*`,
/// `aws:SourceIdentity`, web-identity claims) and of its session policies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// The role assumed, for role sessions.
    pub role_arn: Option<String>,
    /// The role's name (its policies are looked up by it).
    pub role_name: Option<String>,
    /// The session name.
    pub session_name: Option<String>,
    /// The ARN of the identity that asked for the session.
    pub source_arn: String,
    /// The inline session policy.
    pub policy: Option<String>,
    /// Managed session policies.
    pub policy_arns: Vec<String>,
    /// Session tags.
    pub tags: Vec<(String, String)>,
    /// Tags that pass on to chained role sessions.
    pub transitive_tag_keys: Vec<String>,
    /// `aws:SourceIdentity`.
    pub source_identity: Option<String>,
    /// When MFA authenticated the session (epoch seconds), if it did.
    pub mfa_authenticated_at: Option<u64>,
    /// Web identity claims as condition keys (`accounts.example.com:sub`, …) → value.
    pub web_identity: Vec<(String, String)>,
    /// Issue time (epoch seconds).
    pub issued: u64,
    /// Expiry (epoch seconds).
    pub expires: u64,
}

/// Where the request came from on the network. VPC and endpoint ids are filled
/// in by the network layer once it exists; until then they are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkOrigin {
    /// The peer address of the TCP connection (`aws:SourceIp`); never a header.
    pub peer: SocketAddr,
    /// The local address the connection arrived on.
    pub local: SocketAddr,
    /// The listener's name in the configuration.
    pub listener_id: String,
    /// The VPC the caller stands in (`aws:SourceVpc`), if any.
    pub vpc_id: Option<String>,
    /// The VPC endpoint the request came through (`aws:SourceVpce`), if any.
    pub vpce_id: Option<String>,
}

impl NetworkOrigin {
    /// The caller's source IP.
    pub fn source_ip(&self) -> IpAddr {
        self.peer.ip()
    }
}

/// The TLS session a request arrived on (feeds `aws:SecureTransport`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// Protocol version, e.g. `TLSv1.3`.
    pub version: String,
    /// The negotiated cipher suite.
    pub cipher: String,
}

/// Everything known about a request once it is authenticated. Built once,
/// passed by reference; nobody re-derives the principal or the source IP.
#[derive(Debug, Clone)]
pub struct RequestContext {
    /// Returned in `x-amzn-RequestId` and recorded in the audit trail.
    pub request_id: RequestId,
    /// When the request was received (from the server's clock).
    pub received_at: SystemTime,
    /// The authenticated caller.
    pub principal: Principal,
    /// The network origin.
    pub network: NetworkOrigin,
    /// The TLS session, `None` on plain HTTP.
    pub tls: Option<TlsInfo>,
    /// The region the server answers for (and the request was signed for).
    pub region: Region,
}

#[cfg(feature = "testkit")]
impl RequestContext {
    /// For tests: a request from `account`'s principal of `kind` (named by the account root's
    /// ARN and access key `AKID`), from and to 127.0.0.1:1, on listener `test`, in us-east-1,
    /// received now. `None` if `account` is not a 12-digit account id.
    pub fn for_tests(account: &str, kind: PrincipalKind) -> Option<Self> {
        let addr = SocketAddr::from(([127, 0, 0, 1], 1));
        Some(RequestContext {
            request_id: RequestId("r".into()),
            received_at: SystemTime::now(),
            principal: Principal {
                account: AccountId::parse(account).ok()?,
                arn: format!("arn:aws:iam::{account}:root"),
                user_id: account.into(),
                access_key_id: "AKID".into(),
                kind,
                session: None,
            },
            network: NetworkOrigin {
                peer: addr,
                local: addr,
                listener_id: "test".into(),
                vpc_id: None,
                vpce_id: None,
            },
            tls: None,
            region: Region("us-east-1".into()),
        })
    }
}
