//! IAM API errors with IAM's codes and texts. The HTTP status and the XML
//! shape are decided in `front/src/error.rs`.

/// One IAM (or STS) error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IamError {
    /// `NoSuchEntity` (404).
    #[error("{0}")]
    NoSuchEntity(String),
    /// `EntityAlreadyExists` (409).
    #[error("{0}")]
    EntityAlreadyExists(String),
    /// `DeleteConflict` (409).
    #[error("{0}")]
    DeleteConflict(String),
    /// `LimitExceeded` (409).
    #[error("{0}")]
    LimitExceeded(String),
    /// `MalformedPolicyDocument` (400).
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// `InvalidInput` (400).
    #[error("{0}")]
    InvalidInput(String),
    /// `ValidationError` (400): constraint violations of parameters.
    #[error("{0}")]
    Validation(String),
    /// `InvalidAction` (400): an Action IAM does not have.
    #[error("{0}")]
    InvalidAction(String),
    /// `MissingParameter` (400).
    #[error("{0}")]
    MissingParameter(String),
    /// `AccessDenied` (403).
    #[error("{0}")]
    AccessDenied(String),
    /// STS `ExpiredToken` (400).
    #[error("{0}")]
    ExpiredToken(String),
    /// `InvalidAuthenticationCode` (403).
    #[error("{0}")]
    InvalidAuthenticationCode(String),
    /// STS `PackedPolicyTooLarge` (400).
    #[error("{0}")]
    PackedPolicyTooLarge(String),
    /// STS `IDPRejectedClaim` (403).
    #[error("{0}")]
    IdpRejectedClaim(String),
    /// STS `InvalidIdentityToken` (400).
    #[error("{0}")]
    InvalidIdentityToken(String),
    /// STS `RegionDisabledException` and the like are not modelled; a
    /// failure inside Rampart is `ServiceFailure` (500).
    #[error("{0}")]
    ServiceFailure(String),
}

impl From<rampart_storage::Error> for IamError {
    fn from(e: rampart_storage::Error) -> Self {
        Self::ServiceFailure(e.to_string())
    }
}

impl From<crate::keys::KeyStoreError> for IamError {
    fn from(e: crate::keys::KeyStoreError) -> Self {
        Self::ServiceFailure(e.to_string())
    }
}

/// Result alias for IAM operations.
pub type IamResult<T> = Result<T, IamError>;
