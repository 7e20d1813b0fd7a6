//! The storage conformance suite, run against a fresh `SqliteEngine`.

use std::sync::Arc;

use rampart_storage_embedded::{Options, SqliteEngine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_engine_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let engine = SqliteEngine::open(dir.path(), Options::default()).unwrap();
    rampart_storage::testkit::conformance(Arc::new(engine)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_engine_conforms_with_every_read_on_the_blocking_pool() {
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        inline_read_rows: 0,
        max_readers: 1,
        max_group_batches: 3,
        ..Options::default()
    };
    let engine = SqliteEngine::open(dir.path(), options).unwrap();
    rampart_storage::testkit::conformance(Arc::new(engine)).await;
}

#[tokio::test]
async fn sqlite_engine_conforms_on_a_current_thread_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let engine = SqliteEngine::open(dir.path(), Options::default()).unwrap();
    rampart_storage::testkit::conformance(Arc::new(engine)).await;
}
