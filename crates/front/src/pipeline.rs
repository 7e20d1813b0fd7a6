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
use rampart_iam::{KeyStore, Outcome, authz};
use rampart_sigv4::{SignedRequest, SigningKeyCache};

use crate::error::ApiError;
use crate::route::Service;
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
                _ => ApiError::UnknownOperationXml.into_response(&request_id, false),
            };
        }

        let gzip = wire::accepts_gzip(&parts.headers);
        let raw = match Limited::new(body, MAX_BODY).collect().await {
            Ok(c) => c.to_bytes(),
            Err(e) => {
                let err = if e
                    .downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some()
                {
                    ApiError::RequestTooLarge
                } else {
                    // The client went away or sent a broken chunked body.
                    ApiError::Serialization(None)
                };
                return err.into_response(&request_id, gzip);
            }
        };
        let result = self.call(conn, &parts, raw, &request_id, received_at).await;
        match result {
            Ok(body) => {
                wire::json_response(StatusCode::OK, AMZ_JSON_1_0, &request_id.0, body, gzip)
            }
            Err(err) => {
                if let ApiError::Internal(detail) = &err {
                    tracing::error!(request_id = %request_id, detail = %detail, "internal error");
                }
                err.into_response(&request_id, gzip)
            }
        }
    }

    async fn call(
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
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let media = content_type.split(';').next().unwrap_or("").trim();
        if !raw.is_empty() && media != AMZ_JSON_1_0 && media != "application/json" {
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
                for r in self.dynamodb.authz_requests(&ctx, &call) {
                    let req = authz::Request {
                        action: &r.action,
                        resource: &r.resource,
                    };
                    let decision = rampart_iam::authorize(&ctx, &req);
                    if decision.outcome != Outcome::Allow {
                        tracing::info!(
                            request_id = %request_id,
                            principal = %ctx.principal.arn,
                            action = %r.action,
                            resource = %r.resource,
                            reason = %decision.reason,
                            "access denied"
                        );
                        return Err(ApiError::AccessDenied(format!(
                            "User: {} is not authorized to perform: {} on resource: {} because no identity-based policy allows the {} action",
                            ctx.principal.arn, r.action, r.resource, r.action
                        )));
                    }
                }
                self.dynamodb
                    .execute(&ctx, call)
                    .await
                    .map_err(ApiError::Dynamo)
            }
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
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let signed = SignedRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &headers,
            body: raw_body,
        };
        let expect = rampart_sigv4::Expectations::new(self.region.as_str(), service.signing_name());
        // Date, skew and credential scope are checked before the key lookup,
        // as DynamoDB does.
        let auth = rampart_sigv4::parse(&signed, received_at, &expect).map_err(ApiError::SigV4)?;
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
        // arrive with STS.
        if auth.session_token().is_some() {
            return Err(ApiError::SigV4(
                rampart_sigv4::SigV4Error::InvalidSecurityToken,
            ));
        }
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
