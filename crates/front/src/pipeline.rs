//! The one request pipeline. Every service call goes down [`App::handle`]:
//! read the body → route → verify SigV4 → build the `RequestContext` →
//! authorize every action → run the handler → respond. Nothing skips a step.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header, request::Parts};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use rampart_core::{Clock, IdSource, NetworkOrigin, Region, RequestContext, RequestId};
use rampart_dynamodb::DynamoDb;
use rampart_iam::api::{Iam, Params};
use rampart_iam::{Authorizer, AuthzInput, KeyStore};
use rampart_sigv4::{SignedRequest, SigningKeyCache};

use crate::error::{ApiError, Protocol};
use crate::query;
use crate::route::{QueryService, Service};
use crate::wire::{self, BodyError, MAX_BODY};

/// What the listener knows about the connection a request arrived on.
#[derive(Debug)]
pub struct ConnInfo {
    /// The client's address (the only source of `aws:SourceIp`).
    pub peer: SocketAddr,
    /// The local address the connection was accepted on.
    pub local: SocketAddr,
    /// The listener's configured id.
    pub listener_id: Arc<str>,
}

/// Everything the pipeline needs, constructed once by the composition root.
pub struct App {
    /// The region this server answers for.
    pub region: Region,
    /// Access keys and their owners.
    pub keys: Arc<KeyStore>,
    /// The IAM service.
    pub iam: Arc<Iam>,
    /// The authorization hook every call passes.
    pub authorizer: Arc<Authorizer>,
    /// The DynamoDB service.
    pub dynamodb: Arc<DynamoDb>,
    /// The clock (SigV4 skew, timestamps).
    pub clock: Arc<dyn Clock>,
    /// Random ids.
    pub ids: Arc<dyn IdSource>,
    /// Derived SigV4 signing keys, so a request costs one HMAC, not five.
    pub signing_keys: SigningKeyCache,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("region", &self.region)
            .finish_non_exhaustive()
    }
}

/// DynamoDB's JSON content type.
const AMZ_JSON_1_0: &str = "application/x-amz-json-1.0";
/// The Query protocol's content type.
const FORM: &str = "application/x-www-form-urlencoded";
/// How long a request's body may take to arrive once its headers have (the listener gives the
/// headers 60 s too): 16 MB, the largest body, at ~270 KB/s.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// The media type of a request, without parameters.
fn media_type(parts: &Parts) -> &str {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
}

impl App {
    /// Handles one HTTP request; never fails (errors become AWS error responses).
    pub async fn handle(&self, conn: &ConnInfo, req: Request<Incoming>) -> Response<Full<Bytes>> {
        let request_id = RequestId::generate(&*self.ids);
        let received_at = self.clock.now();
        let (parts, body) = req.into_parts();

        if parts.method == Method::GET {
            return match parts.uri.path() {
                // DynamoDB's endpoint answers GET / with its health string.
                "/" => wire::text_response(
                    StatusCode::OK,
                    format!("healthy: dynamodb.{}.amazonaws.com ", self.region),
                ),
                "/health" => wire::text_response(StatusCode::OK, "ok".into()),
                _ => ApiError::UnknownOperationXml
                    .into_response(&request_id, &Protocol::Json { gzip: false }),
            };
        }

        let gzip = wire::accepts_gzip(&parts.headers);
        let protocol = if media_type(&parts) == FORM {
            Protocol::Query(QueryService::Iam)
        } else {
            Protocol::Json { gzip }
        };
        // A client that stops sending its body does not hold the connection forever.
        let collected = tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, MAX_BODY).collect());
        let raw = match collected.await {
            Ok(Ok(c)) => c.to_bytes(),
            Err(_elapsed) => {
                let mut r = ApiError::RequestTimeout.into_response(&request_id, &protocol);
                r.headers_mut()
                    .insert(header::CONNECTION, http::HeaderValue::from_static("close"));
                return r;
            }
            Ok(Err(e)) => {
                let err = if e
                    .downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    ApiError::RequestTooLarge
                } else {
                    // The client went away or sent a broken chunked body.
                    ApiError::Serialization(None)
                };
                return err.into_response(&request_id, &protocol);
            }
        };
        match protocol {
            Protocol::Json { gzip } => {
                match self
                    .call_json(conn, &parts, raw, &request_id, received_at)
                    .await
                {
                    Ok(body) => {
                        wire::json_response(StatusCode::OK, AMZ_JSON_1_0, &request_id.0, body, gzip)
                    }
                    Err(err) => err.into_response(&request_id, &Protocol::Json { gzip }),
                }
            }
            Protocol::Query(_) => {
                self.call_query(conn, &parts, raw, &request_id, received_at)
                    .await
            }
        }
    }

    /// A Query-protocol call (IAM, STS): form in, XML out.
    async fn call_query(
        &self,
        conn: &ConnInfo,
        parts: &Parts,
        raw: Bytes,
        request_id: &RequestId,
        received_at: SystemTime,
    ) -> Response<Full<Bytes>> {
        let body = match wire::decode_body(&parts.headers, raw.clone()) {
            Ok(b) => b,
            Err(BodyError::TooLarge) => {
                return ApiError::RequestTooLarge
                    .into_response(request_id, &Protocol::Query(QueryService::Iam));
            }
            Err(_) => {
                return ApiError::Serialization(None)
                    .into_response(request_id, &Protocol::Query(QueryService::Iam));
            }
        };
        let params = Params(query::parse_form(&body));
        let Some(service) = QueryService::from_version(params.get("Version")) else {
            return ApiError::UnknownOperation
                .into_response(request_id, &Protocol::Query(QueryService::Iam));
        };
        let protocol = Protocol::Query(service);
        let action = params.get("Action").unwrap_or("").to_owned();
        let result = async {
            if action.is_empty() {
                return Err(ApiError::MissingAction);
            }
            // AssumeRoleWithWebIdentity is unsigned: the ID token is the proof.
            if service == QueryService::Sts && action == "AssumeRoleWithWebIdentity" {
                return self
                    .iam
                    .assume_role_with_web_identity(
                        &params,
                        received_at,
                        conn.peer.ip(),
                        self.region.as_str(),
                    )
                    .await
                    .map_err(ApiError::Iam);
            }
            let ctx = self
                .authenticate(
                    conn,
                    parts,
                    &raw,
                    Service::Query(service),
                    request_id,
                    received_at,
                )
                .await?;
            match service {
                QueryService::Iam => {
                    let resource = self.iam.resource_arn(&ctx, &action, &params);
                    let iam_action = format!("iam:{action}");
                    let mut input = AuthzInput::new(&iam_action, &resource);
                    input.keys = self.iam.request_keys(&ctx, &action, &params);
                    self.authorize(&ctx, &input)?;
                    if action == "SimulatePrincipalPolicy" || action == "SimulateCustomPolicy" {
                        return rampart_iam::simulate::simulate(
                            &self.authorizer,
                            &ctx,
                            &action,
                            &params,
                            received_at,
                        )
                        .map_err(ApiError::Iam);
                    }
                    self.iam
                        .call(&ctx, &action, &params, received_at)
                        .await
                        .map_err(ApiError::Iam)
                }
                QueryService::Sts => self
                    .iam
                    .sts(
                        &ctx,
                        &action,
                        &params,
                        received_at,
                        &|input: &AuthzInput<'_>| {
                            self.authorize(&ctx, input).map_err(|e| match e {
                                ApiError::AccessDenied(m) => {
                                    rampart_iam::error::IamError::AccessDenied(m)
                                }
                                other => {
                                    rampart_iam::error::IamError::ServiceFailure(other.to_string())
                                }
                            })
                        },
                    )
                    .await
                    .map_err(ApiError::Iam),
            }
        }
        .await;
        match result {
            Ok(nodes) => {
                let xml = query::success(&action, service.namespace(), &nodes, &request_id.0);
                wire::xml_response(StatusCode::OK, &request_id.0, xml)
            }
            Err(err) => err.into_response(request_id, &protocol),
        }
    }

    /// Asks the authorization hook; a denial is logged with its explanation
    /// and answered with AWS's AccessDenied text.
    fn authorize(&self, ctx: &RequestContext, input: &AuthzInput<'_>) -> Result<(), ApiError> {
        let decision = self.authorizer.authorize(ctx, input);
        if decision.is_allowed() {
            tracing::debug!(
                request_id = %ctx.request_id,
                action = input.action,
                resource = input.resource,
                decided_by = decision.decided_by,
                "allowed"
            );
            return Ok(());
        }
        if self.authorizer.is_soft(ctx.principal.account.as_str()) {
            tracing::warn!(
                request_id = %ctx.request_id,
                principal = %ctx.principal.arn,
                action = input.action,
                resource = input.resource,
                explanation = %decision.explanation,
                "soft mode: would deny, allowed"
            );
            return Ok(());
        }
        tracing::info!(
            request_id = %ctx.request_id,
            principal = %ctx.principal.arn,
            action = input.action,
            resource = input.resource,
            explanation = %decision.explanation,
            "access denied"
        );
        Err(ApiError::AccessDenied(decision.message.unwrap_or_else(
            || {
                format!(
                    "User: {} is not authorized to perform: {}",
                    ctx.principal.arn, input.action
                )
            },
        )))
    }

    /// A JSON-protocol call (DynamoDB).
    async fn call_json(
        &self,
        conn: &ConnInfo,
        parts: &Parts,
        raw: Bytes,
        request_id: &RequestId,
        received_at: SystemTime,
    ) -> Result<Vec<u8>, ApiError> {
        if parts.method != Method::POST {
            return Err(ApiError::UnknownOperationXml);
        }
        let media = media_type(parts);
        if !raw.is_empty()
            && media != AMZ_JSON_1_0
            && media != "application/x-amz-json-1.1"
            && media != "application/json"
        {
            return Err(ApiError::UnknownOperationXml);
        }
        let body = wire::decode_body(&parts.headers, raw.clone()).map_err(|e| match e {
            BodyError::TooLarge => ApiError::RequestTooLarge,
            BodyError::BadEncoding | BodyError::UnsupportedEncoding => {
                ApiError::Serialization(None)
            }
        })?;
        // DynamoDB checks that the body is JSON before it looks at the target
        // or the signature (observed behaviour, recorded by dynalite).
        if !body.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_err() {
            return Err(ApiError::Serialization(None));
        }
        let target = parts
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let service = Service::from_target(target).ok_or(ApiError::UnknownOperation)?;

        let ctx = self
            .authenticate(conn, parts, &raw, service, request_id, received_at)
            .await?;

        match service {
            Service::DynamoDb(op) => {
                if body.is_empty() {
                    return Err(ApiError::Serialization(None));
                }
                let call = self.dynamodb.parse(op, &body).map_err(ApiError::Dynamo)?;
                // Every action the call needs, each with DynamoDB's condition
                // keys and the table's resource policy; one denial refuses
                // the whole call before anything runs.
                // The item operations' condition keys (LeadingKeys, Attributes, …) are
                // computed only if a policy that applies may read one: the first pass has
                // the requests without them, the second (once, for every member) with.
                let requests = self.dynamodb.authz_requests_with(&ctx, &call, false);
                let full: std::sync::OnceLock<Vec<rampart_dynamodb::AuthzRequest>> =
                    std::sync::OnceLock::new();
                let mismatch = std::sync::atomic::AtomicBool::new(false);
                for (n, r) in requests.iter().enumerate() {
                    let mut input = AuthzInput::new(&r.action, &r.resource);
                    input.keys = context_keys(&r.keys);
                    let lazy = || {
                        let all = full.get_or_init(|| self.dynamodb.authz_requests(&ctx, &call));
                        match all.get(n) {
                            Some(f) if f.action == r.action && f.resource == r.resource => {
                                context_keys(&f.keys)
                            }
                            _ => {
                                mismatch.store(true, std::sync::atomic::Ordering::Relaxed);
                                Vec::new()
                            }
                        }
                    };
                    input.lazy_keys = Some(rampart_iam::LazyKeys(&lazy));
                    input.resource_policy = r.resource_policy.as_ref().map(|(name, doc)| {
                        (
                            name.as_str(),
                            doc.as_str(),
                            rampart_iam::policy::PolicyKind::Resource,
                        )
                    });
                    let decided = self.authorize(&ctx, &input);
                    // Fail closed: keys that could not be matched to their request (the
                    // catalog changed between the passes) must not decide anything.
                    if mismatch.load(std::sync::atomic::Ordering::Relaxed) {
                        return Err(ApiError::Internal(
                            "the request changed while it was authorized; retry".into(),
                        ));
                    }
                    decided?;
                }
                self.dynamodb
                    .execute(&ctx, call)
                    .await
                    .map_err(ApiError::Dynamo)
            }
            Service::Organizations => {
                let op = target.split_once('.').map(|(_, op)| op).unwrap_or("");
                let action = format!("organizations:{op}");
                self.authorize(&ctx, &AuthzInput::new(&action, "*"))?;
                let input: serde_json::Value = if body.is_empty() {
                    serde_json::Value::Object(serde_json::Map::new())
                } else {
                    serde_json::from_slice(&body).map_err(|_| ApiError::Serialization(None))?
                };
                let validate = |doc: &str| -> Result<(), String> {
                    rampart_iam::validate_policy(doc, rampart_iam::api::DocUse::Managed)
                        .map_err(|e| e.to_string())
                };
                let out = self
                    .iam
                    .orgs
                    .call(
                        ctx.principal.account.as_str(),
                        op,
                        &input,
                        &self.iam.store,
                        received_at,
                        &validate,
                    )
                    .await
                    .map_err(ApiError::Org)?;
                serde_json::to_vec(&out).map_err(|e| ApiError::Internal(e.to_string()))
            }
            Service::Query(_) => Err(ApiError::UnknownOperation),
        }
    }

    /// Verifies the request's SigV4 signature and builds the request context.
    async fn authenticate(
        &self,
        conn: &ConnInfo,
        parts: &Parts,
        raw_body: &[u8],
        service: Service,
        request_id: &RequestId,
        received_at: SystemTime,
    ) -> Result<RequestContext, ApiError> {
        // Values that are not UTF-8 (obs-text) are read lossily; the rest are borrowed from
        // hyper's header map, not copied. `iter` yields every value of a repeated name.
        let headers: Vec<(&str, std::borrow::Cow<'_, str>)> = parts
            .headers
            .iter()
            .map(|(k, v)| {
                let value = match std::str::from_utf8(v.as_bytes()) {
                    Ok(s) => std::borrow::Cow::Borrowed(s),
                    Err(_) => String::from_utf8_lossy(v.as_bytes()),
                };
                (k.as_str(), value)
            })
            .collect();
        let signed = SignedRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &headers,
            body: raw_body,
        };
        // IAM is global and STS has a global endpoint: AWS signs them for
        // us-east-1 unless the client names a region; accept either.
        let primary =
            rampart_sigv4::Expectations::new(self.region.as_str(), service.signing_name());
        let auth = match rampart_sigv4::parse(&signed, received_at, &primary) {
            Err(rampart_sigv4::SigV4Error::CredentialScopeMismatch(_)) if service.is_global() => {
                let global = rampart_sigv4::Expectations::new("us-east-1", service.signing_name());
                rampart_sigv4::parse(&signed, received_at, &global).map_err(ApiError::SigV4)?
            }
            other => other.map_err(ApiError::SigV4)?,
        };
        let cred = self
            .keys
            .lookup(auth.access_key_id())
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .filter(|c| c.active)
            .ok_or(ApiError::UnrecognizedClient)?;
        rampart_sigv4::verify_cached(&signed, &auth, &cred.secret, &self.signing_keys)
            .map_err(ApiError::SigV4)?;
        // Long-term keys carry no session token; temporary credentials
        // must carry theirs.
        match (&cred.session, auth.session_token()) {
            (None, None) => {}
            (None, Some(_)) | (Some(_), None) => {
                return Err(ApiError::SigV4(
                    rampart_sigv4::SigV4Error::InvalidSecurityToken,
                ));
            }
            (Some(session), Some(token)) => {
                if !session.token_matches(token) {
                    return Err(ApiError::SigV4(
                        rampart_sigv4::SigV4Error::InvalidSecurityToken,
                    ));
                }
                if session.expired(received_at) {
                    return Err(ApiError::ExpiredToken);
                }
            }
        }
        self.keys.note_used(
            auth.access_key_id(),
            received_at,
            service.signing_name(),
            auth.region(),
        );
        let mut principal = cred.principal.clone();
        principal.access_key_id = auth.access_key_id().to_owned();
        Ok(RequestContext {
            request_id: request_id.clone(),
            received_at,
            principal,
            network: NetworkOrigin {
                peer: conn.peer,
                local: conn.local,
                listener_id: conn.listener_id.to_string(),
                vpc_id: None,
                vpce_id: None,
            },
            tls: None,
            region: self.region.clone(),
        })
    }
}

/// DynamoDB's condition keys as the authorizer's context values.
fn context_keys(keys: &rampart_dynamodb::Keys) -> Vec<(String, rampart_iam::policy::ContextValue)> {
    keys.iter()
        .map(|(k, v)| {
            let v = match v {
                rampart_dynamodb::KeyValue::Single(s) => {
                    rampart_iam::policy::ContextValue::Single(s.clone())
                }
                rampart_dynamodb::KeyValue::Multi(m) => {
                    rampart_iam::policy::ContextValue::Multi(m.clone())
                }
            };
            (k.clone(), v)
        })
        .collect()
}
