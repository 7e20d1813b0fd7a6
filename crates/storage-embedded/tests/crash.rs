//! Acknowledged writes survive `kill -9`.
//!
//! The parent test re-executes this test binary as a child (selecting the
//! `crash_child` test and naming a data directory in an environment
//! variable). The child commits three-key batches from many tasks at once
//! and prints a line for every acknowledged batch. The parent reads those
//! lines, kills the child with SIGKILL in the middle of the load, reopens
//! the directory and checks that every acknowledged batch is there, with
//! the sequence number it was acknowledged with, and that every batch is
//! all-or-nothing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failure is a test failure"
)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use rampart_storage::{Batch, Direction, Engine, KeyRange};
use rampart_storage_embedded::{Options, SqliteEngine};

/// Set (to the data directory) only in the child process.
const CHILD_DIR: &str = "RAMPART_CRASH_CHILD_DIR";
/// The key prefix of the child's round, so rounds do not collide.
const CHILD_ROUND: &str = "RAMPART_CRASH_CHILD_ROUND";
const WRITERS: u32 = 32;
/// Acknowledgements to see before the kill.
const ACKS_BEFORE_KILL: usize = 300;

fn item_key(round: u32, writer: u32, i: u32, part: u8) -> Vec<u8> {
    format!("{round:02}/{writer:03}/{i:08}/")
        .into_bytes()
        .into_iter()
        .chain([part])
        .collect()
}

/// The child's side: not a test of its own; it returns at once unless the
/// parent started this process.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_DIR) else {
        return;
    };
    let round: u32 = std::env::var(CHILD_ROUND).unwrap().parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async move {
        let engine = Arc::new(SqliteEngine::open(Path::new(&dir), Options::default()).unwrap());
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let engine = engine.clone();
            tasks.push(tokio::spawn(async move {
                let counter = format!("counter/{round}/{w}").into_bytes();
                let mut counter_version = None;
                for i in 0.. {
                    let mut b = Batch::new();
                    // Each writer owns its counter, so this precondition
                    // always holds; it exercises conditional commits.
                    b.expect("crash", counter.clone(), counter_version);
                    for part in [b'a', b'b', b'c'] {
                        b.put("crash", item_key(round, w, i, part), vec![part; 200]);
                    }
                    b.put("crash", counter.clone(), i.to_be_bytes().to_vec());
                    let seq = engine.commit(b).await.unwrap();
                    counter_version = Some(seq);
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {w} {i} {seq}").unwrap();
                    out.flush().unwrap();
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}

/// One acknowledged batch: (writer, index) → sequence number.
type Acks = BTreeMap<(u32, u32), u64>;

fn parse_ack(line: &str, acks: &mut Acks) {
    let mut parts = line.strip_prefix("ack ").unwrap().split(' ');
    let w = parts.next().unwrap().parse().unwrap();
    let i = parts.next().unwrap().parse().unwrap();
    let seq = parts.next().unwrap().parse().unwrap();
    acks.insert((w, i), seq);
}

fn run_child_and_kill(dir: &Path, round: u32) -> Acks {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .env(CHILD_ROUND, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut acks = Acks::new();
    while acks.len() < ACKS_BEFORE_KILL {
        let line = lines
            .next()
            .expect("the child stopped before the kill")
            .unwrap();
        if line.starts_with("ack ") {
            parse_ack(&line, &mut acks);
        }
    }
    // SIGKILL, mid-load: the writers are still committing.
    child.kill().unwrap();
    // Lines already written before the kill were acknowledged too.
    for line in lines {
        let Ok(line) = line else { break };
        if line.starts_with("ack ") {
            parse_ack(&line, &mut acks);
        }
    }
    child.wait().unwrap();
    acks
}

async fn check_after_crash(dir: &Path, round: u32, acks: &Acks) -> u64 {
    let engine = SqliteEngine::open(dir, Options::default()).unwrap();
    let mut max_version = 0;
    for (&(w, i), &seq) in acks {
        for part in [b'a', b'b', b'c'] {
            let got = engine
                .get("crash", &item_key(round, w, i, part))
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("acknowledged batch {w}/{i} lost after kill -9"));
            assert_eq!(got.version, seq);
            assert_eq!(got.value, vec![part; 200]);
        }
    }
    // Every batch on disk, acknowledged or not, is whole.
    let prefix = format!("{round:02}/").into_bytes();
    let rows = engine
        .scan(
            "crash",
            KeyRange::prefix(&prefix),
            Direction::Forward,
            usize::MAX,
        )
        .await
        .unwrap();
    let mut parts: BTreeMap<Vec<u8>, Vec<(u8, u64)>> = BTreeMap::new();
    for (key, v) in rows {
        let (&part, batch) = key.split_last().unwrap();
        parts
            .entry(batch.to_vec())
            .or_default()
            .push((part, v.version));
        max_version = max_version.max(v.version);
    }
    assert!(parts.len() >= acks.len());
    eprintln!(
        "round {round}: {} batches acknowledged, {} on disk",
        acks.len(),
        parts.len()
    );
    for (batch, got) in &parts {
        let versions: Vec<u64> = got.iter().map(|(_, v)| *v).collect();
        assert_eq!(
            got.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            vec![b'a', b'b', b'c'],
            "batch {} is torn",
            String::from_utf8_lossy(batch)
        );
        assert!(versions.iter().all(|v| *v == versions[0]));
    }
    // Each writer's counter matches the last of its batches on disk.
    for w in 0..WRITERS {
        let on_disk = parts
            .keys()
            .filter(|k| k.starts_with(format!("{round:02}/{w:03}/").as_bytes()))
            .count();
        let counter = engine
            .get("crash", format!("counter/{round}/{w}").as_bytes())
            .await
            .unwrap();
        match counter {
            None => assert_eq!(on_disk, 0),
            Some(v) => {
                let last = u32::from_be_bytes(v.value.try_into().unwrap());
                assert_eq!(last as usize + 1, on_disk, "writer {w}");
            }
        }
    }
    // Sequence numbers keep growing after the crash.
    let mut b = Batch::new();
    b.put("after-crash", round.to_be_bytes().to_vec(), Vec::new());
    let next = engine.commit(b).await.unwrap();
    assert!(next > max_version, "{next} after {max_version}");
    engine.close().await.unwrap();
    next
}

#[tokio::test]
async fn acknowledged_batches_survive_kill_9_and_are_never_torn() {
    let dir = tempfile::tempdir().unwrap();
    let mut last = 0;
    // Twice: the second crash hits a database that was itself recovered.
    for round in 0..2 {
        let acks = run_child_and_kill(dir.path(), round);
        assert!(acks.len() >= ACKS_BEFORE_KILL);
        let next = check_after_crash(dir.path(), round, &acks).await;
        assert!(next > last);
        last = next;
    }
}
