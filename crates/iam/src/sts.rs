//! STS: GetCallerIdentity, GetSessionToken and AssumeRole. Temporary
//! credentials are `ASIA…` keys with a session token, stored sealed like
//! every secret, and stop working at their expiry.

use std::time::SystemTime;

use rampart_core::{AccountId, Principal, PrincipalKind, RequestContext, iso8601};

use crate::api::{Iam, Node, Params};
use crate::error::{IamError, IamResult};
use crate::keys::SessionMeta;
use crate::store::secs;

fn leaf(name: &str, value: impl Into<String>) -> Node {
    Node::Leaf(name.to_owned(), value.into())
}

fn branch(name: &str, children: Vec<Node>) -> Node {
    Node::Branch(name.to_owned(), children)
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

fn duration(p: &Params, min: u64, max: u64, default: u64) -> IamResult<u64> {
    match p.get("DurationSeconds") {
        None => Ok(default),
        Some(d) => {
            let v: u64 = d
                .parse()
                .map_err(|_| validation(Some(d), "durationSeconds", "Member must be a number"))?;
            if v < min {
                return Err(validation(
                    Some(d),
                    "durationSeconds",
                    &format!("Member must have value greater than or equal to {min}"),
                ));
            }
            if v > max {
                return Err(validation(
                    Some(d),
                    "durationSeconds",
                    &format!("Member must have value less than or equal to {max}"),
                ));
            }
            Ok(v)
        }
    }
}

fn credentials(id: &str, secret: &str, token: &str, expires: u64) -> Node {
    branch(
        "Credentials",
        vec![
            leaf("AccessKeyId", id),
            leaf("SecretAccessKey", secret),
            leaf("SessionToken", token),
            leaf("Expiration", iso8601(expires as i64)),
        ],
    )
}

/// `RoleArn` and a valid `RoleSessionName` (2..=64 of `[\w+=,.@-]`).
fn role_and_session_name(p: &Params) -> IamResult<(String, String)> {
    let role_arn = p
        .get("RoleArn")
        .ok_or_else(|| validation(None, "roleArn", "Member must not be null"))?
        .to_owned();
    let session_name = p
        .get("RoleSessionName")
        .ok_or_else(|| validation(None, "roleSessionName", "Member must not be null"))?
        .to_owned();
    if !(2..=64).contains(&session_name.chars().count())
        || !session_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
    {
        return Err(validation(
            Some(&session_name),
            "roleSessionName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]*",
        ));
    }
    Ok((role_arn, session_name))
}

/// The principal of a new session of `role` named `session_name`:
/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`, user id `ROLEID:SESSION`.
fn role_session_principal(
    account: &str,
    role: &crate::store::Role,
    session_name: &str,
) -> IamResult<Principal> {
    Ok(Principal {
        account: AccountId::parse(account).map_err(|e| IamError::ServiceFailure(e.to_string()))?,
        arn: format!(
            "arn:aws:sts::{account}:assumed-role/{}/{session_name}",
            role.name
        ),
        user_id: format!("{}:{session_name}", role.id),
        access_key_id: String::new(),
        kind: PrincipalKind::AssumedRole,
        session: None,
    })
}

/// `(account, role name)` of a role ARN `arn:aws:iam::ACCOUNT:role/path/NAME`.
fn parse_role_arn(arn: &str) -> Option<(String, String)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role/")?;
    let name = path_and_name.rsplit('/').next()?;
    if AccountId::parse(account).is_err() || name.is_empty() {
        return None;
    }
    Some((account.to_owned(), name.to_owned()))
}

impl Iam {
    /// Runs one STS action. `authorize(action, resource)` asks the request
    /// path's authorizer about the caller's own permissions.
    pub async fn sts(
        &self,
        ctx: &RequestContext,
        action: &str,
        p: &Params,
        now: SystemTime,
        authorize: &(dyn Fn(&crate::AuthzInput<'_>) -> IamResult<()> + Send + Sync),
    ) -> IamResult<Vec<Node>> {
        let now_s = secs(now);
        match action {
            // No permission is needed to ask who you are.
            "GetCallerIdentity" => Ok(vec![
                leaf("UserId", &ctx.principal.user_id),
                leaf("Account", ctx.principal.account.as_str()),
                leaf("Arn", &ctx.principal.arn),
            ]),
            "GetSessionToken" => {
                if ctx.principal.kind == PrincipalKind::AssumedRole {
                    return Err(IamError::AccessDenied(
                        "Cannot call GetSessionToken with session credentials".into(),
                    ));
                }
                let max = if ctx.principal.kind == PrincipalKind::Root {
                    3600
                } else {
                    129_600
                };
                let secs_valid = duration(p, 900, max, if max == 3600 { 3600 } else { 43_200 })?;
                let mfa = match (p.get("SerialNumber"), p.get("TokenCode")) {
                    (Some(serial), Some(code)) => {
                        self.check_mfa(ctx, serial, code, now).await?;
                        Some(now_s)
                    }
                    (None, None) => None,
                    _ => {
                        return Err(IamError::AccessDenied(
                            "MultiFactorAuthentication failed: SerialNumber and TokenCode must be given together".into(),
                        ));
                    }
                };
                let meta = SessionMeta {
                    source_arn: ctx.principal.arn.clone(),
                    mfa_authenticated_at: mfa,
                    issued: now_s,
                    expires: now_s + secs_valid,
                    ..SessionMeta::default()
                };
                let expires = meta.expires;
                let (id, secret, token) =
                    self.keys.create_session(&ctx.principal, meta, now).await?;
                Ok(vec![credentials(
                    &id,
                    secret.expose(),
                    token.expose(),
                    expires,
                )])
            }
            "AssumeRole" => {
                let (role_arn, session_name) = role_and_session_name(p)?;
                let denied = || {
                    IamError::AccessDenied(format!(
                        "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
                        ctx.principal.arn
                    ))
                };
                let (account, name) = parse_role_arn(&role_arn).ok_or_else(|| {
                    validation(
                        Some(&role_arn),
                        "roleArn",
                        "Member must have length greater than or equal to 20",
                    )
                })?;
                let st = self.store.snapshot();
                let role = st
                    .roles
                    .get(&(account.clone(), name.clone()))
                    .cloned()
                    .ok_or_else(denied)?;
                // One evaluation: the role's trust policy is the resource
                // policy (it must allow), the caller's own policies must
                // allow sts:AssumeRole too, as AWS's evaluation logic says.
                let mut keys: Vec<(String, crate::policy::ContextValue)> = vec![(
                    "sts:RoleSessionName".into(),
                    crate::policy::ContextValue::Single(session_name.clone()),
                )];
                if let Some(x) = p.get("ExternalId") {
                    keys.push((
                        "sts:ExternalId".into(),
                        crate::policy::ContextValue::Single(x.to_owned()),
                    ));
                }
                if let Some(x) = p.get("SourceIdentity") {
                    keys.push((
                        "sts:SourceIdentity".into(),
                        crate::policy::ContextValue::Single(x.to_owned()),
                    ));
                }
                let mut tag_keys = Vec::new();
                let mut n = 1;
                while let Some(k) = p.get(&format!("Tags.member.{n}.Key")) {
                    let v = p.get(&format!("Tags.member.{n}.Value")).unwrap_or("");
                    keys.push((
                        format!("aws:RequestTag/{k}"),
                        crate::policy::ContextValue::Single(v.to_owned()),
                    ));
                    tag_keys.push(k.to_owned());
                    n += 1;
                }
                if !tag_keys.is_empty() {
                    keys.push((
                        "aws:TagKeys".into(),
                        crate::policy::ContextValue::Multi(tag_keys),
                    ));
                }
                let trust_id = format!("{}#trust", role.arn);
                let input = crate::AuthzInput {
                    action: "sts:AssumeRole",
                    resource: &role.arn,
                    resource_policy: Some((
                        &trust_id,
                        &role.trust,
                        crate::policy::PolicyKind::Trust,
                    )),
                    keys,
                    lazy_keys: None,
                    explain: false,
                };
                authorize(&input).map_err(|e| match e {
                    IamError::AccessDenied(_) => denied(),
                    other => other,
                })?;
                let max = u64::from(role.max_session);
                let secs_valid = duration(p, 900, max, 3600)?;
                let policy = p.get("Policy").map(str::to_owned);
                if let Some(doc) = &policy {
                    crate::policy::Policy::parse(doc, crate::policy::PolicyKind::Session)
                        .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
                    if doc.chars().filter(|c| !c.is_whitespace()).count() > 2048 {
                        return Err(IamError::PackedPolicyTooLarge(
                            "Packed size of inline session policy and session tags exceeds the limit.".into(),
                        ));
                    }
                }
                let policy_arns: Vec<String> =
                    p.0.iter()
                        .filter(|(k, _)| k.starts_with("PolicyArns.member.") && k.ends_with(".arn"))
                        .map(|(_, v)| v.clone())
                        .collect();
                let mut tags = Vec::new();
                let mut n = 1;
                while let Some(k) = p.get(&format!("Tags.member.{n}.Key")) {
                    tags.push((
                        k.to_owned(),
                        p.get(&format!("Tags.member.{n}.Value"))
                            .unwrap_or("")
                            .to_owned(),
                    ));
                    n += 1;
                }
                let mut transitive: Vec<String> =
                    p.0.iter()
                        .filter(|(k, _)| k.starts_with("TransitiveTagKeys.member."))
                        .map(|(_, v)| v.clone())
                        .collect();
                // Role chaining: the caller's transitive session tags pass on
                // and cannot be overridden ("Chaining roles with session tags").
                if let Some(prev) = ctx.principal.session.as_deref() {
                    for key in &prev.transitive_tag_keys {
                        if let Some((_, v)) =
                            prev.tags.iter().find(|(k, _)| k.eq_ignore_ascii_case(key))
                        {
                            if tags
                                .iter()
                                .any(|(k, _): &(String, String)| k.eq_ignore_ascii_case(key))
                            {
                                return Err(IamError::InvalidInput(format!(
                                    "One or more tags could not be set: transitive tag {key} cannot be overridden"
                                )));
                            }
                            tags.push((key.clone(), v.clone()));
                            if !transitive.iter().any(|t| t.eq_ignore_ascii_case(key)) {
                                transitive.push(key.clone());
                            }
                        }
                    }
                }
                if tags.len() > 50 {
                    return Err(IamError::PackedPolicyTooLarge(
                        "Packed size of inline session policy and session tags exceeds the limit."
                            .into(),
                    ));
                }
                let mfa = match (p.get("SerialNumber"), p.get("TokenCode")) {
                    (Some(serial), Some(code)) => {
                        self.check_mfa(ctx, serial, code, now).await?;
                        Some(now_s)
                    }
                    _ => None,
                };
                let meta = SessionMeta {
                    role_arn: Some(role.arn.clone()),
                    role_name: Some(role.name.clone()),
                    session_name: Some(session_name.clone()),
                    source_arn: ctx.principal.arn.clone(),
                    policy,
                    policy_arns,
                    tags,
                    transitive_tag_keys: transitive,
                    source_identity: p.get("SourceIdentity").map(str::to_owned),
                    mfa_authenticated_at: mfa,
                    web_identity: Vec::new(),
                    issued: now_s,
                    expires: now_s + secs_valid,
                };
                let owner = role_session_principal(&account, &role, &session_name)?;
                let (assumed_arn, assumed_id) = (owner.arn.clone(), owner.user_id.clone());
                let source_identity = meta.source_identity.clone();
                let has_policy = meta.policy.is_some();
                let expires = meta.expires;
                let (id, secret, token) = self.keys.create_session(&owner, meta, now).await?;
                let mut out = vec![
                    credentials(&id, secret.expose(), token.expose(), expires),
                    branch(
                        "AssumedRoleUser",
                        vec![leaf("AssumedRoleId", assumed_id), leaf("Arn", assumed_arn)],
                    ),
                ];
                if has_policy {
                    out.push(leaf("PackedPolicySize", "6"));
                }
                if let Some(s) = source_identity {
                    out.push(leaf("SourceIdentity", s));
                }
                Ok(out)
            }
            other => Err(IamError::InvalidAction(format!(
                "Could not find operation {other} for version 2011-06-15"
            ))),
        }
    }

    /// Checks an MFA code against the caller's device.
    async fn check_mfa(
        &self,
        ctx: &RequestContext,
        serial: &str,
        code: &str,
        now: SystemTime,
    ) -> IamResult<()> {
        let user = match ctx.principal.kind {
            PrincipalKind::User => ctx.principal.arn.rsplit('/').next().map(str::to_owned),
            _ => None,
        };
        let ok = self
            .mfa
            .verify(
                ctx.principal.account.as_str(),
                user.as_deref(),
                serial,
                code,
                now,
            )
            .await?;
        if ok {
            Ok(())
        } else {
            Err(IamError::AccessDenied(
                "MultiFactorAuthentication failed with invalid MFA one time pass code. ".into(),
            ))
        }
    }
}

impl Iam {
    /// STS AssumeRoleWithWebIdentity: unsigned; the caller proves who it is
    /// with an OpenID Connect ID token from a provider registered in the
    /// role's account, whose signing keys the operator placed in
    /// `oidc_keys_dir`. The role's trust policy must allow the provider
    /// (`Federated`), with the token's claims as condition keys; the claims
    /// then follow the session as policy variables
    /// (`${www.amazon.com:user_id}`, `${<provider>:sub}`, …).
    pub async fn assume_role_with_web_identity(
        &self,
        p: &Params,
        now: SystemTime,
        source_ip: std::net::IpAddr,
        region: &str,
    ) -> IamResult<Vec<Node>> {
        use crate::policy::{self, Layers, PolicyKind, PolicyRef};
        let now_s = secs(now);
        let (role_arn, session_name) = role_and_session_name(p)?;
        let token = p
            .get("WebIdentityToken")
            .ok_or_else(|| validation(None, "webIdentityToken", "Member must not be null"))?;
        if !(4..=20_000).contains(&token.len()) {
            return Err(validation(
                None,
                "webIdentityToken",
                "Member must have length less than or equal to 20000",
            ));
        }
        let (account, role_name) = parse_role_arn(&role_arn).ok_or_else(|| {
            validation(
                Some(&role_arn),
                "roleArn",
                "Member must have length greater than or equal to 20",
            )
        })?;
        let st = self.store.snapshot();
        let issuer = crate::oidc::unverified_issuer(token)?;
        let url = issuer
            .strip_prefix("https://")
            .unwrap_or(&issuer)
            .to_owned();
        let provider = st
            .oidc
            .get(&(account.clone(), url.clone()))
            .cloned()
            .ok_or(crate::oidc::OidcError::ProviderNotFound {
                issuer: issuer.clone(),
            })?;
        let jwks_text = self
            .oidc_keys_dir
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.join(&provider.url).join("jwks.json")).ok())
            .ok_or(crate::oidc::OidcError::UnknownKey)?;
        let jwks = crate::oidc::Jwks::parse(&jwks_text)?;
        let config = crate::oidc::ProviderConfig {
            url: provider.url.clone(),
            client_ids: provider.client_ids.clone(),
            thumbprints: provider.thumbprints.clone(),
        };
        let claims = crate::oidc::verify_id_token(token, &config, &jwks, now)?;
        let denied = || {
            IamError::AccessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity".into())
        };
        let role = st
            .roles
            .get(&(account.clone(), role_name.clone()))
            .cloned()
            .ok_or_else(denied)?;

        // The trust policy decides alone: the caller has no identity policies.
        let keys = claims.policy_keys(&provider.url);
        let mut ctx = policy::Context::new();
        ctx.set_request_time(now);
        ctx.set_ip("aws:SourceIp", source_ip);
        ctx.set("aws:RequestedRegion", region);
        let mut grouped: std::collections::BTreeMap<&str, Vec<String>> =
            std::collections::BTreeMap::new();
        for (k, v) in &keys {
            grouped.entry(k.as_str()).or_default().push(v.clone());
        }
        for (k, vs) in &grouped {
            match vs.as_slice() {
                [one] if !crate::oidc::Claims::always_multivalued(k) => {
                    ctx.set(k, one.clone());
                }
                many => {
                    ctx.set_multi(k, many.iter().cloned());
                }
            }
        }
        let federated = match provider.url.as_str() {
            // AWS names these built-in providers by host in trust policies.
            "accounts.google.com"
            | "www.amazon.com"
            | "graph.facebook.com"
            | "cognito-identity.amazonaws.com" => provider.url.clone(),
            _ => provider.arn.clone(),
        };
        let trust = policy::Policy::parse(&role.trust, PolicyKind::Trust)
            .map_err(|e| IamError::ServiceFailure(format!("stored trust policy: {e}")))?;
        let request = policy::Request {
            principal: policy::Principal {
                arn: federated.clone(),
                account: String::new(),
                kind: policy::PrincipalKind::WebIdentity {
                    provider: federated,
                },
            },
            action: "sts:AssumeRoleWithWebIdentity".into(),
            resource: role.arn.clone(),
            context: ctx,
        };
        let layers = Layers {
            resource: Some(PolicyRef {
                id: "trust policy",
                policy: &trust,
            }),
            resource_account: Some(account.clone()),
            resource_policy_required: true,
            ..Layers::default()
        };
        let decision = policy::evaluate(&request, &layers);
        if !decision.is_allowed() {
            tracing::info!(role = %role.arn, provider = %provider.url, sub = %claims.sub, explanation = %crate::authz::explain(&decision), "web identity denied");
            return Err(denied());
        }
        let max = u64::from(role.max_session);
        let secs_valid = duration(p, 900, max, 3600)?;
        let policy_doc = p.get("Policy").map(str::to_owned);
        if let Some(doc) = &policy_doc {
            policy::Policy::parse(doc, PolicyKind::Session)
                .map_err(|e| IamError::MalformedPolicyDocument(e.to_string()))?;
        }
        let policy_arns: Vec<String> =
            p.0.iter()
                .filter(|(k, _)| k.starts_with("PolicyArns.member.") && k.ends_with(".arn"))
                .map(|(_, v)| v.clone())
                .collect();
        let meta = SessionMeta {
            role_arn: Some(role.arn.clone()),
            role_name: Some(role.name.clone()),
            session_name: Some(session_name.clone()),
            source_arn: provider.arn.clone(),
            policy: policy_doc.clone(),
            policy_arns,
            web_identity: keys,
            issued: now_s,
            expires: now_s + secs_valid,
            ..SessionMeta::default()
        };
        let owner = role_session_principal(&account, &role, &session_name)?;
        let (assumed_arn, assumed_id) = (owner.arn.clone(), owner.user_id.clone());
        let expires = meta.expires;
        let (id, secret, session_token) = self.keys.create_session(&owner, meta, now).await?;
        let mut out = vec![
            credentials(&id, secret.expose(), session_token.expose(), expires),
            leaf("SubjectFromWebIdentityToken", &claims.sub),
            branch(
                "AssumedRoleUser",
                vec![leaf("AssumedRoleId", assumed_id), leaf("Arn", assumed_arn)],
            ),
            leaf("Provider", &claims.iss),
            leaf("Audience", &claims.audience),
        ];
        if policy_doc.is_some() {
            out.push(leaf("PackedPolicySize", "6"));
        }
        Ok(out)
    }
}
