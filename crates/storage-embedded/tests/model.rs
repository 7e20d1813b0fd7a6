//! Property test: random operation sequences give the same results on
//! `SqliteEngine` as on the reference `MemoryEngine`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers outside #[test] functions: a failure is a test failure"
)]

use std::ops::Bound;

use proptest::prelude::*;
use rampart_storage::{Batch, Direction, Engine, Error, KeyRange, MemoryEngine, Op, Result};
use rampart_storage_embedded::{Options, SqliteEngine};

/// Bytes at the edges of signed/unsigned ordering, so a wrong comparison
/// shows up.
fn key() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(vec![0x00u8, 0x01, 0x7f, 0x80, 0xff]),
        0..3,
    )
}

fn tree() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a".to_string(), "b".to_string()])
}

fn bound() -> impl Strategy<Value = Bound<Vec<u8>>> {
    prop_oneof![
        Just(Bound::Unbounded),
        key().prop_map(Bound::Included),
        key().prop_map(Bound::Excluded),
    ]
}

/// What a precondition expects; `Current` is resolved against the model at
/// run time so that preconditions pass as well as fail.
#[derive(Debug, Clone)]
enum Expect {
    Absent,
    Current,
    Version(u64),
}

#[derive(Debug, Clone)]
enum Step {
    Commit {
        preconditions: Vec<(String, Vec<u8>, Expect)>,
        ops: Vec<Op>,
    },
    Get(String, Vec<u8>),
    GetMany(Vec<(String, Vec<u8>)>),
    Scan {
        tree: String,
        start: Bound<Vec<u8>>,
        end: Bound<Vec<u8>>,
        reverse: bool,
        limit: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (tree(), key(), prop::collection::vec(any::<u8>(), 0..4))
            .prop_map(|(tree, key, value)| Op::Put { tree, key, value }),
        3 => (tree(), key()).prop_map(|(tree, key)| Op::Delete { tree, key }),
        1 => tree().prop_map(|tree| Op::DropTree { tree }),
    ]
}

fn expect() -> impl Strategy<Value = Expect> {
    prop_oneof![
        1 => Just(Expect::Absent),
        3 => Just(Expect::Current),
        1 => (0u64..6).prop_map(Expect::Version),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (
            prop::collection::vec((tree(), key(), expect()), 0..3),
            prop::collection::vec(op(), 0..5),
        )
            .prop_map(|(preconditions, ops)| Step::Commit { preconditions, ops }),
        2 => (tree(), key()).prop_map(|(t, k)| Step::Get(t, k)),
        1 => prop::collection::vec((tree(), key()), 0..4).prop_map(Step::GetMany),
        3 => (tree(), bound(), bound(), any::<bool>(), 0usize..8).prop_map(
            |(tree, start, end, reverse, limit)| Step::Scan { tree, start, end, reverse, limit }
        ),
    ]
}

/// Results made comparable: `Error` is not `PartialEq`.
fn outcome<T: std::fmt::Debug>(r: Result<T>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(Error::Conflict { index }) => format!("conflict {index}"),
        Err(e) => format!("error {e}"),
    }
}

async fn run_step(e: &dyn Engine, model: &MemoryEngine, step: &Step) -> (String, String) {
    match step {
        Step::Commit { preconditions, ops } => {
            let mut batch = Batch::new();
            for (tree, key, expect) in preconditions {
                let expected = match expect {
                    Expect::Absent => None,
                    Expect::Version(v) => Some(*v),
                    Expect::Current => model.get(tree, key).await.unwrap().map(|v| v.version),
                };
                batch.expect(tree.clone(), key.clone(), expected);
            }
            batch.ops = ops.clone();
            (
                outcome(e.commit(batch.clone()).await),
                outcome(model.commit(batch).await),
            )
        }
        Step::Get(tree, key) => (
            outcome(e.get(tree, key).await),
            outcome(model.get(tree, key).await),
        ),
        Step::GetMany(keys) => (
            outcome(e.get_many(keys).await),
            outcome(model.get_many(keys).await),
        ),
        Step::Scan {
            tree,
            start,
            end,
            reverse,
            limit,
        } => {
            let range = KeyRange {
                start: start.clone(),
                end: end.clone(),
            };
            let dir = if *reverse {
                Direction::Reverse
            } else {
                Direction::Forward
            };
            (
                outcome(e.scan(tree, range.clone(), dir, *limit).await),
                outcome(model.scan(tree, range, dir, *limit).await),
            )
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_engine_agrees_with_the_memory_model(steps in prop::collection::vec(step(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        rt.block_on(async {
            let e = SqliteEngine::open(dir.path(), Options { inline_read_rows: 4, ..Options::default() }).unwrap();
            let model = MemoryEngine::new();
            for (n, step) in steps.iter().enumerate() {
                let (got, want) = run_step(&e, &model, step).await;
                prop_assert_eq!(got, want, "step {}: {:?}", n, step);
            }
            // A full scan of both trees agrees at the end, in both directions.
            for tree in ["a", "b"] {
                for dir in [Direction::Forward, Direction::Reverse] {
                    prop_assert_eq!(
                        outcome(e.scan(tree, KeyRange::all(), dir, usize::MAX).await),
                        outcome(model.scan(tree, KeyRange::all(), dir, usize::MAX).await)
                    );
                }
            }
            e.close().await.unwrap();
            Ok(())
        })?;
    }
}
