//! `SqliteEngine` from one caller, in a temporary directory under `target/` (the data disk):
//! a point get of an existing key, a range scan of 100 keys, and a durable single-put commit
//! (one fsync each: this measures the disk as much as the engine). 10 000 keys of 256 bytes
//! are loaded first. For throughput under concurrency and group commit, see
//! `examples/engine_bench.rs`.
//!
//! `cargo bench -p rampart-storage-embedded --bench engine`. Measurements, not tests.

#![expect(
    clippy::expect_used,
    reason = "a benchmark fixture: failing loudly is the right behaviour"
)]
#![expect(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rampart_storage::{Batch, Direction, Engine, KeyRange};
use rampart_storage_embedded::{Options, SqliteEngine};

const KEYS: u64 = 10_000;
const VALUE: usize = 256;
const TREE: &str = "bench";

fn key(n: u64) -> Vec<u8> {
    format!("item#{n:010}").into_bytes()
}

fn bench(c: &mut Criterion) {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target");
    std::fs::create_dir_all(&base).expect("target dir");
    let tmp = tempfile::tempdir_in(&base).expect("temp dir");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let engine = SqliteEngine::open(tmp.path(), Options::default()).expect("engine opens");
    rt.block_on(async {
        for chunk in (0..KEYS).collect::<Vec<_>>().chunks(1000) {
            let mut batch = Batch::new();
            for &n in chunk {
                batch.put(TREE, key(n), vec![0x5a; VALUE]);
            }
            engine.commit(batch).await.expect("load commits");
        }
    });

    let mut g = c.benchmark_group("sqlite_engine");
    let mut n = 0u64;
    g.bench_function("get_existing_key", |b| {
        b.iter(|| {
            n = (n + 7919) % KEYS;
            rt.block_on(engine.get(TREE, black_box(&key(n))))
                .expect("get")
                .is_some()
        })
    });
    g.bench_function("scan_100_keys", |b| {
        b.iter(|| {
            n = (n + 7919) % (KEYS - 100);
            let range = KeyRange {
                start: std::ops::Bound::Included(key(n)),
                end: std::ops::Bound::Unbounded,
            };
            rt.block_on(engine.scan(TREE, range, Direction::Forward, 100))
                .expect("scan")
                .len()
        })
    });
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("put_one_durable_commit", |b| {
        b.iter(|| {
            n = (n + 7919) % KEYS;
            let mut batch = Batch::new();
            batch.put(TREE, key(n), vec![0xa5; VALUE]);
            rt.block_on(engine.commit(batch)).expect("commit")
        })
    });
    g.finish();
    rt.block_on(engine.close()).expect("close");
}

criterion_group!(benches, bench);
criterion_main!(benches);
