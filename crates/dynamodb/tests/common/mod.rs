//! Helpers shared by the integration tests: the request context of a caller, and a service on
//! an in-memory engine.
#![allow(
    dead_code,
    clippy::unwrap_used,
    reason = "each test crate uses some of these; a broken fixture must fail loudly"
)]

use std::sync::Arc;

use rampart_core::{PrincipalKind, Region, RequestContext, SeededIds, SystemClock};
use rampart_dynamodb::DynamoDb;
use rampart_storage::MemoryEngine;

/// A request from `account`'s principal of `kind` (as its root ARN), on loopback, in us-east-1.
pub fn ctx_for(account: &str, kind: PrincipalKind) -> RequestContext {
    RequestContext::for_tests(account, kind).unwrap()
}

/// A request from the root of account 111122223333.
pub fn ctx() -> RequestContext {
    ctx_for("111122223333", PrincipalKind::Root)
}

/// The DynamoDB service on a fresh in-memory engine, in us-east-1, with seeded ids.
pub async fn memory_db() -> Arc<DynamoDb> {
    DynamoDb::open(
        Arc::new(MemoryEngine::new()),
        Arc::new(SystemClock),
        Arc::new(SeededIds::new(7)),
        Region("us-east-1".into()),
    )
    .await
    .unwrap()
}
