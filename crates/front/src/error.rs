//! The only table of AWS error codes: every error a client can see, mapped to
//! its `__type` and HTTP status by exhaustive matches (no `_ =>` arm, so a new
//! variant anywhere does not compile until it is mapped here).

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use rampart_core::RequestId;
use rampart_dynamodb::DynamoError;
use rampart_iam::error::IamError;
use rampart_sigv4::SigV4Error;
use serde_json::{Map, Value, json};

use crate::query;
use crate::route::QueryService;
use crate::wire;

/// How an error is answered: DynamoDB's JSON or the Query protocol's XML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// AWS JSON 1.0 (DynamoDB); `gzip` when the client accepts it.
    Json {
        /// Compress the body.
        gzip: bool,
    },
    /// Query protocol (IAM, STS).
    Query(QueryService),
}

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A non-POST request or a body that is not AWS JSON: DynamoDB answers
    /// 404 with an XML `UnknownOperationException`.
    #[error("unknown operation (not a JSON POST)")]
    UnknownOperationXml,
    /// `X-Amz-Target` names no operation Rampart knows.
    #[error("unknown operation")]
    UnknownOperation,
    /// The body is not JSON or not the shape the operation takes.
    #[error("serialization error")]
    Serialization(Option<String>),
    /// The body exceeds the size limit.
    #[error("request too large")]
    RequestTooLarge,
    /// The body did not arrive within the read timeout.
    #[error("request timeout")]
    RequestTimeout,
    /// SigV4 failed.
    #[error(transparent)]
    SigV4(SigV4Error),
    /// The access key is unknown or inactive.
    #[error("The security token included in the request is invalid.")]
    UnrecognizedClient,
    /// Authorization denied the request; the message is AWS's text.
    #[error("{0}")]
    AccessDenied(String),
    /// A DynamoDB error.
    #[error(transparent)]
    Dynamo(DynamoError),
    /// An IAM or STS error.
    #[error(transparent)]
    Iam(IamError),
    /// An Organizations error (JSON 1.1: `__type` is the bare exception name).
    #[error(transparent)]
    Org(rampart_iam::orgs::OrgError),
    /// A Query-protocol request without `Action`.
    #[error("missing action")]
    MissingAction,
    /// Temporary credentials past their expiry.
    #[error("The security token included in the request is expired")]
    ExpiredToken,
    /// An unexpected failure; the detail is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

const CORAL: &str = "com.amazon.coral.service#";
const DDB: &str = "com.amazonaws.dynamodb.v20120810#";

/// The AWS error type of a SigV4 failure (DynamoDB answers all with 400).
fn sigv4_code(e: &SigV4Error) -> &'static str {
    use SigV4Error as S;
    match e {
        S::MissingAuthenticationToken => "MissingAuthenticationTokenException",
        S::MalformedAuthorization { .. }
        | S::IncompleteAuthorization { .. }
        | S::IncompleteQueryParameters(_)
        | S::MalformedDate(_)
        | S::MalformedExpires(_)
        | S::SignedHeaderMissing(_)
        | S::UnsupportedAlgorithm(_)
        | S::MalformedCredential(_) => "IncompleteSignatureException",
        S::UnrecognizedClient | S::InvalidSecurityToken => "UnrecognizedClientException",
        S::AmbiguousAuthentication
        | S::SignatureExpired { .. }
        | S::SignatureNotYetCurrent { .. }
        | S::HostNotSigned
        | S::CredentialScopeMismatch(_)
        | S::SignatureDoesNotMatch
        | S::PayloadHashMismatch => "InvalidSignatureException",
    }
}

impl ApiError {
    /// The HTTP status, `__type` and message of this error.
    fn parts(&self) -> (StatusCode, String, Option<String>, Map<String, Value>) {
        let bad = StatusCode::BAD_REQUEST;
        let mut extra = Map::new();
        let (status, ty, msg) = match self {
            Self::UnknownOperationXml => (
                StatusCode::NOT_FOUND,
                format!("{CORAL}UnknownOperationException"),
                None,
            ),
            Self::UnknownOperation => (bad, format!("{CORAL}UnknownOperationException"), None),
            Self::Serialization(m) => (bad, format!("{CORAL}SerializationException"), m.clone()),
            Self::RequestTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("{CORAL}RequestEntityTooLargeException"),
                Some("Request entity too large".into()),
            ),
            // Not an AWS text (DynamoDB's is not recorded): the connection closes after it.
            Self::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                format!("{CORAL}RequestTimeoutException"),
                Some("The request body was not received in time".into()),
            ),
            Self::SigV4(e) => (
                bad,
                format!("{CORAL}{}", sigv4_code(e)),
                Some(e.to_string()),
            ),
            Self::UnrecognizedClient => (
                bad,
                format!("{CORAL}UnrecognizedClientException"),
                Some(self.to_string()),
            ),
            Self::AccessDenied(m) => (
                bad,
                format!("{CORAL}AccessDeniedException"),
                Some(m.clone()),
            ),
            Self::Org(o) => {
                return (bad, o.kind.to_owned(), Some(o.message.clone()), extra);
            }
            Self::Internal(_) | Self::Iam(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("{DDB}InternalServerError"),
                Some("Internal server error".into()),
            ),
            Self::MissingAction => (bad, format!("{CORAL}UnknownOperationException"), None),
            Self::ExpiredToken => (
                bad,
                format!("{CORAL}ExpiredTokenException"),
                Some(self.to_string()),
            ),
            Self::Dynamo(e) => {
                use DynamoError as D;
                let (status, ty) = match e {
                    D::Validation(_) => (
                        bad,
                        "com.amazon.coral.validate#ValidationException".to_owned(),
                    ),
                    D::Serialization(_) => (bad, format!("{CORAL}SerializationException")),
                    D::ResourceNotFound(_) => (bad, format!("{DDB}ResourceNotFoundException")),
                    D::ResourceInUse(_) => (bad, format!("{DDB}ResourceInUseException")),
                    D::ConditionalCheckFailed { item } => {
                        if let Some(item) = item {
                            extra.insert("Item".into(), item.clone());
                        }
                        (bad, format!("{DDB}ConditionalCheckFailedException"))
                    }
                    D::TransactionCanceled { reasons, .. } => {
                        extra.insert("CancellationReasons".into(), reasons.clone());
                        (bad, format!("{DDB}TransactionCanceledException"))
                    }
                    D::TransactionConflict(_) => {
                        (bad, format!("{DDB}TransactionConflictException"))
                    }
                    D::IdempotentParameterMismatch(_) => {
                        (bad, format!("{DDB}IdempotentParameterMismatchException"))
                    }
                    D::TransactionInProgress(_) => {
                        (bad, format!("{DDB}TransactionInProgressException"))
                    }
                    D::LimitExceeded(_) => (bad, format!("{DDB}LimitExceededException")),
                    D::PolicyNotFound(_) => (bad, format!("{DDB}PolicyNotFoundException")),
                    D::ItemCollectionSizeLimitExceeded(_) => (
                        bad,
                        format!("{DDB}ItemCollectionSizeLimitExceededException"),
                    ),
                    D::Internal(_) | D::Storage(_) => {
                        return (
                            StatusCode::INTERNAL_SERVER_ERROR,
                            format!("{DDB}InternalServerError"),
                            Some("Internal server error".into()),
                            extra,
                        );
                    }
                };
                (status, ty, Some(e.to_string()))
            }
        };
        (status, ty, msg, extra)
    }

    /// The message key AWS uses: most DynamoDB errors say `message`, a few `Message`.
    fn message_key(&self) -> &'static str {
        match self {
            Self::AccessDenied(_)
            | Self::Org(_)
            | Self::Dynamo(DynamoError::TransactionCanceled { .. }) => "Message",
            Self::UnknownOperationXml
            | Self::UnknownOperation
            | Self::Serialization(_)
            | Self::RequestTooLarge
            | Self::RequestTimeout
            | Self::SigV4(_)
            | Self::UnrecognizedClient
            | Self::Dynamo(_)
            | Self::Iam(_)
            | Self::MissingAction
            | Self::ExpiredToken
            | Self::Internal(_) => "message",
        }
    }

    /// The status, code and message of this error in the Query protocol
    /// (IAM and STS use 403 for authentication failures and AccessDenied).
    fn query_parts(&self) -> (StatusCode, bool, &'static str, String) {
        let bad = StatusCode::BAD_REQUEST;
        let forbidden = StatusCode::FORBIDDEN;
        let conflict = StatusCode::CONFLICT;
        match self {
            Self::Iam(e) => {
                let (status, code) = match e {
                    IamError::NoSuchEntity(_) => (StatusCode::NOT_FOUND, "NoSuchEntity"),
                    IamError::EntityAlreadyExists(_) => (conflict, "EntityAlreadyExists"),
                    IamError::DeleteConflict(_) => (conflict, "DeleteConflict"),
                    IamError::LimitExceeded(_) => (conflict, "LimitExceeded"),
                    IamError::MalformedPolicyDocument(_) => (bad, "MalformedPolicyDocument"),
                    IamError::InvalidInput(_) => (bad, "InvalidInput"),
                    IamError::Validation(_) => (bad, "ValidationError"),
                    IamError::InvalidAction(_) => (bad, "InvalidAction"),
                    IamError::MissingParameter(_) => (bad, "MissingParameter"),
                    IamError::AccessDenied(_) => (forbidden, "AccessDenied"),
                    // Only AssumeRoleWithWebIdentity raises it; STS answers
                    // ExpiredTokenException there (mozilla-aws-cli#146).
                    IamError::ExpiredToken(_) => (bad, "ExpiredTokenException"),
                    IamError::InvalidAuthenticationCode(_) => {
                        (forbidden, "InvalidAuthenticationCode")
                    }
                    IamError::PackedPolicyTooLarge(_) => (bad, "PackedPolicyTooLarge"),
                    IamError::IdpRejectedClaim(_) => (forbidden, "IDPRejectedClaim"),
                    IamError::InvalidIdentityToken(_) => (bad, "InvalidIdentityToken"),
                    IamError::ServiceFailure(_) => {
                        return (
                            StatusCode::INTERNAL_SERVER_ERROR,
                            false,
                            "ServiceFailure",
                            "Service failure".into(),
                        );
                    }
                };
                (status, true, code, e.to_string())
            }
            Self::SigV4(e) => {
                use rampart_sigv4::SigV4Error as S;
                let (status, code) = match e {
                    S::MissingAuthenticationToken => (forbidden, "MissingAuthenticationToken"),
                    S::MalformedAuthorization { .. }
                    | S::IncompleteAuthorization { .. }
                    | S::IncompleteQueryParameters(_)
                    | S::MalformedDate(_)
                    | S::MalformedExpires(_)
                    | S::SignedHeaderMissing(_)
                    | S::UnsupportedAlgorithm(_)
                    | S::MalformedCredential(_) => (bad, "IncompleteSignature"),
                    S::UnrecognizedClient | S::InvalidSecurityToken => {
                        (forbidden, "InvalidClientTokenId")
                    }
                    S::AmbiguousAuthentication
                    | S::SignatureExpired { .. }
                    | S::SignatureNotYetCurrent { .. }
                    | S::HostNotSigned
                    | S::CredentialScopeMismatch(_)
                    | S::SignatureDoesNotMatch
                    | S::PayloadHashMismatch => (forbidden, "SignatureDoesNotMatch"),
                };
                (status, true, code, e.to_string())
            }
            Self::UnrecognizedClient => (forbidden, true, "InvalidClientTokenId", self.to_string()),
            Self::ExpiredToken => (forbidden, true, "ExpiredToken", self.to_string()),
            Self::AccessDenied(m) => (forbidden, true, "AccessDenied", m.clone()),
            Self::MissingAction => (bad, true, "MissingAction", "Missing Action".into()),
            Self::UnknownOperation | Self::UnknownOperationXml => (
                bad,
                true,
                "InvalidAction",
                "Could not find operation for this version".into(),
            ),
            Self::Serialization(_) => (
                bad,
                true,
                "MalformedQueryString",
                "Malformed query string".into(),
            ),
            Self::RequestTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                true,
                "RequestEntityTooLarge",
                "Request entity too large".into(),
            ),
            Self::RequestTimeout => (
                StatusCode::REQUEST_TIMEOUT,
                true,
                "RequestTimeout",
                "The request body was not received in time".into(),
            ),
            Self::Dynamo(_) | Self::Internal(_) | Self::Org(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                false,
                "ServiceFailure",
                "Service failure".into(),
            ),
        }
    }

    /// The HTTP response for this error.
    pub fn into_response(
        self,
        request_id: &RequestId,
        protocol: &Protocol,
    ) -> Response<Full<Bytes>> {
        match protocol {
            Protocol::Query(service) => {
                let (status, sender, code, message) = self.query_parts();
                if status == StatusCode::INTERNAL_SERVER_ERROR {
                    tracing::error!(request_id = %request_id, error = %self, "internal error");
                }
                let xml = query::error(service.namespace(), sender, code, &message, &request_id.0);
                wire::xml_response(status, &request_id.0, xml)
            }
            Protocol::Json { gzip } => {
                let (status, ty, msg, extra) = self.parts();
                if matches!(self, Self::UnknownOperationXml) {
                    let mut r =
                        wire::text_response(status, "<UnknownOperationException/>\n".into());
                    if let Ok(v) = http::HeaderValue::from_str(&request_id.0) {
                        r.headers_mut().insert("x-amzn-requestid", v);
                    }
                    return r;
                }
                if status == StatusCode::INTERNAL_SERVER_ERROR {
                    tracing::error!(request_id = %request_id, error = %self, "internal error");
                }
                let mut body = Map::new();
                body.insert("__type".into(), json!(ty));
                if let Some(m) = msg {
                    body.insert(self.message_key().into(), json!(m));
                }
                body.extend(extra);
                let bytes = serde_json::to_vec(&Value::Object(body)).unwrap_or_default();
                wire::json_response(
                    status,
                    "application/x-amz-json-1.0",
                    &request_id.0,
                    bytes,
                    *gzip,
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(e: ApiError) -> (StatusCode, Value) {
        let (status, ty, msg, extra) = e.parts();
        let mut v = json!({"__type": ty, "message": msg});
        if let Value::Object(m) = &mut v {
            m.extend(extra);
        }
        (status, v)
    }

    #[test]
    fn table_not_found_is_resource_not_found_400() {
        let (s, v) = body_of(ApiError::Dynamo(DynamoError::table_not_found("T")));
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(
            v["__type"],
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
        );
        assert_eq!(
            v["message"],
            "Requested resource not found: Table: T not found"
        );
    }

    #[test]
    fn validation_uses_coral_validate_namespace() {
        let (s, v) = body_of(ApiError::Dynamo(DynamoError::validation("x")));
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(v["__type"], "com.amazon.coral.validate#ValidationException");
    }

    #[test]
    fn storage_failure_is_internal_server_error_500_without_detail() {
        let (s, v) = body_of(ApiError::Dynamo(DynamoError::Storage(
            rampart_storage_error_for_test(),
        )));
        assert_eq!(s, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            v["__type"],
            "com.amazonaws.dynamodb.v20120810#InternalServerError"
        );
        assert!(!v["message"].as_str().unwrap().contains("disk"));
    }

    fn rampart_storage_error_for_test() -> rampart_dynamodb::StorageError {
        rampart_dynamodb::StorageError::Io("disk on fire".into())
    }

    #[test]
    fn conditional_check_failure_carries_old_item_when_asked() {
        let (_, v) = body_of(ApiError::Dynamo(DynamoError::ConditionalCheckFailed {
            item: Some(json!({"id": {"S": "1"}})),
        }));
        assert_eq!(
            v["__type"],
            "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"
        );
        assert_eq!(v["message"], "The conditional request failed");
        assert_eq!(v["Item"]["id"]["S"], "1");
    }
}
