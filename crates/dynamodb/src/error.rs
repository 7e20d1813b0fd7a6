//! The errors of DynamoDB operations. Messages are DynamoDB's exact texts
//! where DynamoDB has one; the mapping to `__type` and HTTP status lives in
//! `front/src/error.rs`, nowhere else.

/// One DynamoDB error.
#[derive(Debug, thiserror::Error)]
pub enum DynamoError {
    /// `ValidationException`: the request is invalid; the message is the full text.
    #[error("{0}")]
    Validation(String),
    /// `SerializationException`: the body is not the expected JSON shape.
    #[error("{0}")]
    Serialization(String),
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    ResourceNotFound(String),
    /// `ResourceInUseException`.
    #[error("{0}")]
    ResourceInUse(String),
    /// `ConditionalCheckFailedException`; `item` is the old item in DynamoDB
    /// JSON when `ReturnValuesOnConditionCheckFailure=ALL_OLD`.
    #[error("The conditional request failed")]
    ConditionalCheckFailed {
        /// The item as it was, when asked for.
        item: Option<serde_json::Value>,
    },
    /// `TransactionCanceledException` with its cancellation reasons (DynamoDB JSON).
    #[error("{message}")]
    TransactionCanceled {
        /// "Transaction cancelled, please refer cancellation reasons for specific reasons [..]".
        message: String,
        /// One entry per action, in request order.
        reasons: serde_json::Value,
    },
    /// `TransactionConflictException`.
    #[error("{0}")]
    TransactionConflict(String),
    /// `IdempotentParameterMismatchException`.
    #[error("{0}")]
    IdempotentParameterMismatch(String),
    /// `TransactionInProgressException`.
    #[error("{0}")]
    TransactionInProgress(String),
    /// `PolicyNotFoundException`: no resource policy, or not the expected revision.
    #[error("{0}")]
    PolicyNotFound(String),
    /// `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// `ItemCollectionSizeLimitExceededException`.
    #[error("{0}")]
    ItemCollectionSizeLimitExceeded(String),
    /// `InternalServerError`: something failed inside Rampart; the message is
    /// logged, the client gets a generic text.
    #[error("{0}")]
    Internal(String),
    /// The storage engine failed (`InternalServerError`).
    #[error(transparent)]
    Storage(#[from] rampart_storage::Error),
}

impl DynamoError {
    /// A `ValidationException` with `msg`.
    pub fn validation(msg: impl Into<String>) -> Self {
        Self::Validation(msg.into())
    }

    /// `ResourceNotFoundException` for a table, with DynamoDB's text.
    pub fn table_not_found(name: &str) -> Self {
        Self::ResourceNotFound(format!(
            "Requested resource not found: Table: {name} not found"
        ))
    }

    /// `ResourceNotFoundException` as the item operations word it.
    pub fn resource_not_found() -> Self {
        Self::ResourceNotFound("Requested resource not found".into())
    }
}

/// Result alias for DynamoDB operations.
pub type Result<T, E = DynamoError> = std::result::Result<T, E>;
