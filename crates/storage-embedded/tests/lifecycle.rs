//! Opening, closing, reopening and dropping: what persists and what is refused.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failure is a test failure"
)]

use std::sync::Arc;

use rampart_storage::{Batch, Direction, Engine, Error, KeyRange};
use rampart_storage_embedded::{Options, SqliteEngine};

fn open(dir: &std::path::Path) -> SqliteEngine {
    SqliteEngine::open(dir, Options::default()).unwrap()
}

#[tokio::test]
async fn data_and_sequence_numbers_persist_across_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let mut b = Batch::new();
    b.put("t", b"k1".to_vec(), b"v1".to_vec())
        .put("u", vec![0xff, 0x00], vec![0x00; 300]);
    let s1 = e.commit(b).await.unwrap();
    let mut b = Batch::new();
    b.put("t", b"k2".to_vec(), b"v2".to_vec());
    let s2 = e.commit(b).await.unwrap();
    assert!(s2 > s1);
    e.close().await.unwrap();
    drop(e);

    let e = open(dir.path());
    let got = e.get("t", b"k1").await.unwrap().unwrap();
    assert_eq!((got.value.as_slice(), got.version), (&b"v1"[..], s1));
    let got = e.get("u", &[0xff, 0x00]).await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (vec![0x00; 300], s1));
    let keys: Vec<Vec<u8>> = e
        .scan("t", KeyRange::all(), Direction::Forward, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, vec![b"k1".to_vec(), b"k2".to_vec()]);

    // The next commit continues after the last one before the restart, and
    // a precondition on a version from before the restart still holds.
    let mut b = Batch::new();
    b.expect("t", b"k2".to_vec(), Some(s2))
        .put("t", b"k2".to_vec(), b"v3".to_vec());
    let s3 = e.commit(b).await.unwrap();
    assert!(s3 > s2, "{s3} must follow {s2}");
    e.close().await.unwrap();
}

#[tokio::test]
async fn sequence_numbers_grow_even_after_a_restart_that_follows_only_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let mut b = Batch::new();
    b.put("t", b"k".to_vec(), b"v".to_vec());
    let s1 = e.commit(b).await.unwrap();
    let mut b = Batch::new();
    b.expect("t", b"k".to_vec(), None);
    assert!(matches!(
        e.commit(b).await,
        Err(Error::Conflict { index: 0 })
    ));
    drop(e);
    let e = open(dir.path());
    let s2 = e.commit(Batch::new()).await.unwrap();
    assert!(s2 > s1);
}

#[tokio::test]
async fn every_call_after_close_is_refused_and_close_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let mut b = Batch::new();
    b.put("t", b"k".to_vec(), b"v".to_vec());
    e.commit(b.clone()).await.unwrap();
    e.close().await.unwrap();
    e.close().await.unwrap();
    assert!(matches!(e.commit(b).await, Err(Error::Closed)));
    assert!(matches!(e.get("t", b"k").await, Err(Error::Closed)));
    assert!(matches!(
        e.get_many(&[("t".into(), b"k".to_vec())]).await,
        Err(Error::Closed)
    ));
    assert!(matches!(e.get_many(&[]).await, Err(Error::Closed)));
    assert!(matches!(
        e.scan("t", KeyRange::all(), Direction::Forward, 10).await,
        Err(Error::Closed)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_commits_every_batch_queued_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let e = Arc::new(open(dir.path()));
    let mut tasks = Vec::new();
    for i in 0u32..64 {
        let e = e.clone();
        tasks.push(tokio::spawn(async move {
            let mut b = Batch::new();
            b.put("t", i.to_be_bytes().to_vec(), b"v".to_vec());
            (i, e.commit(b).await)
        }));
    }
    tokio::task::yield_now().await;
    e.close().await.unwrap();
    let mut acked = Vec::new();
    for t in tasks {
        let (i, r) = t.await.unwrap();
        match r {
            Ok(_) => acked.push(i),
            Err(Error::Closed) => {}
            Err(other) => panic!("unexpected {other}"),
        }
    }
    drop(e);
    let e = open(dir.path());
    for i in acked {
        assert!(
            e.get("t", &i.to_be_bytes()).await.unwrap().is_some(),
            "{i} acknowledged but lost"
        );
    }
}

#[tokio::test]
async fn dropping_the_engine_stops_the_writer_and_releases_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0u8..3 {
        let e = open(dir.path());
        let mut b = Batch::new();
        b.put("t", vec![round], vec![round]);
        e.commit(b).await.unwrap();
        drop(e);
    }
    let e = open(dir.path());
    let rows = e
        .scan("t", KeyRange::all(), Direction::Forward, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    let versions: Vec<u64> = rows.iter().map(|(_, v)| v.version).collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]), "{versions:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conflicting_batch_does_not_disturb_the_rest_of_its_group() {
    let dir = tempfile::tempdir().unwrap();
    let e = Arc::new(open(dir.path()));
    let mut tasks = Vec::new();
    for i in 0u32..128 {
        let e = e.clone();
        tasks.push(tokio::spawn(async move {
            let mut b = Batch::new();
            if i % 2 == 1 {
                // Fails: the key never exists at version 1_000_000.
                b.expect("t", b"missing".to_vec(), Some(1_000_000));
            }
            b.put("t", i.to_be_bytes().to_vec(), b"v".to_vec());
            (i, e.commit(b).await)
        }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        let (i, r) = t.await.unwrap();
        if i % 2 == 1 {
            assert!(matches!(r, Err(Error::Conflict { index: 0 })), "{i}: {r:?}");
            assert_eq!(e.get("t", &i.to_be_bytes()).await.unwrap(), None);
        } else {
            let seq = r.unwrap();
            assert_eq!(
                e.get("t", &i.to_be_bytes()).await.unwrap().unwrap().version,
                seq
            );
            seqs.push(seq);
        }
    }
    let n = seqs.len();
    seqs.sort_unstable();
    seqs.dedup();
    assert_eq!(seqs.len(), n);
}

#[tokio::test]
async fn a_batch_is_applied_in_order_including_drop_tree() {
    let dir = tempfile::tempdir().unwrap();
    let e = open(dir.path());
    let mut b = Batch::new();
    b.put("t", b"a".to_vec(), b"1".to_vec())
        .put("t", b"b".to_vec(), b"1".to_vec());
    e.commit(b).await.unwrap();
    let mut b = Batch::new();
    b.put("t", b"c".to_vec(), b"2".to_vec());
    b.ops
        .push(rampart_storage::Op::DropTree { tree: "t".into() });
    b.put("t", b"d".to_vec(), b"2".to_vec())
        .put("t", b"d".to_vec(), b"3".to_vec());
    let s = e.commit(b).await.unwrap();
    let rows = e
        .scan("t", KeyRange::all(), Direction::Forward, 10)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, b"d");
    assert_eq!(
        (rows[0].1.value.as_slice(), rows[0].1.version),
        (&b"3"[..], s)
    );
}

#[tokio::test]
async fn extreme_options_are_clamped_not_fatal() {
    for options in [
        Options {
            max_readers: 0,
            max_group_batches: 0,
            max_group_bytes: 0,
            inline_read_rows: 0,
            cache_kib: 0,
            lock_wait: std::time::Duration::ZERO,
        },
        Options {
            max_readers: usize::MAX,
            max_group_batches: usize::MAX,
            max_group_bytes: usize::MAX,
            inline_read_rows: usize::MAX,
            cache_kib: u32::MAX,
            lock_wait: std::time::Duration::MAX,
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let e = SqliteEngine::open(dir.path(), options).unwrap();
        let mut b = Batch::new();
        b.put("t", b"k".to_vec(), b"v".to_vec());
        let s = e.commit(b).await.unwrap();
        assert_eq!(e.get("t", b"k").await.unwrap().unwrap().version, s);
        let rows = e
            .scan("t", KeyRange::all(), Direction::Reverse, usize::MAX)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        e.close().await.unwrap();
    }
}

#[test]
fn a_file_that_is_not_a_database_is_refused_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(SqliteEngine::db_path(dir.path()), vec![0x5a; 8192]).unwrap();
    match SqliteEngine::open(dir.path(), Options::default()) {
        Err(Error::Corrupt(_)) => {}
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn a_database_of_an_unknown_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    drop(open(dir.path()));
    let conn = rusqlite_conn(&SqliteEngine::db_path(dir.path()));
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    match SqliteEngine::open(dir.path(), Options::default()) {
        Err(Error::Corrupt(msg)) => assert!(msg.contains("99"), "{msg}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

fn rusqlite_conn(path: &std::path::Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).unwrap()
}

#[tokio::test]
async fn a_directory_in_use_is_refused_at_once_and_free_again_after_close() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path());
    let started = std::time::Instant::now();
    let second = SqliteEngine::open(dir.path(), Options::default());
    let Err(Error::InUse(message)) = second else {
        panic!("a second engine on the same directory must be refused: {second:?}");
    };
    assert!(message.contains("in use"), "{message}");
    // Refused by the directory lock, not after SQLite's busy timeout.
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // The first engine is untouched by the refused open.
    let mut b = Batch::new();
    b.put("t", b"k".to_vec(), b"v".to_vec());
    first.commit(b).await.unwrap();
    first.close().await.unwrap();
    drop(first);

    let again = open(dir.path());
    assert!(again.get("t", b"k").await.unwrap().is_some());
    // The process holds the database exclusively (SQLite's "unix-excl"
    // VFS): the WAL index is in memory, no `-shm` file is created.
    assert!(!dir.path().join("rampart.db-shm").exists());
    again.close().await.unwrap();
}

#[tokio::test]
async fn an_open_with_a_lock_wait_gets_the_directory_once_its_holder_lets_go() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path());
    let waiting = Options {
        lock_wait: std::time::Duration::from_secs(30),
        ..Options::default()
    };
    // The holder closes its engine a moment after the second open started
    // waiting; the second open then succeeds instead of failing.
    let path = dir.path().to_path_buf();
    let second = std::thread::spawn(move || {
        let started = std::time::Instant::now();
        let engine = SqliteEngine::open(&path, waiting);
        (engine, started.elapsed())
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert!(
        !second.is_finished(),
        "the second open must wait for the lock"
    );
    let mut b = Batch::new();
    b.put("t", b"k".to_vec(), b"v".to_vec());
    first.commit(b).await.unwrap();
    first.close().await.unwrap();
    drop(first);
    let (engine, waited) = second.join().unwrap();
    let engine = engine.unwrap();
    assert!(
        waited >= std::time::Duration::from_millis(300),
        "{waited:?}"
    );
    assert!(engine.get("t", b"k").await.unwrap().is_some());
    engine.close().await.unwrap();
}

#[tokio::test]
async fn an_open_with_a_lock_wait_gives_up_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = open(dir.path());
    let started = std::time::Instant::now();
    let second = SqliteEngine::open(
        dir.path(),
        Options {
            lock_wait: std::time::Duration::from_millis(200),
            ..Options::default()
        },
    );
    let waited = started.elapsed();
    let Err(Error::InUse(message)) = second else {
        panic!("the directory is still held: {second:?}");
    };
    assert!(message.contains("still after"), "{message}");
    assert!(
        waited >= std::time::Duration::from_millis(200),
        "{waited:?}"
    );
    first.close().await.unwrap();
}
