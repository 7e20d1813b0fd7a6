//! Throughput and latency of `SqliteEngine` on this machine, for the ADR.
//!
//! `cargo run --release -p rampart-storage-embedded --example engine_bench [DIR]`
//!
//! Loads 100k keys with 200-byte values into a fresh database (under DIR, by
//! default a temporary directory inside `target/`, i.e. on the data disk),
//! then measures durable commits with 1, 16 and 64 concurrent writers,
//! random point gets (inline and on the blocking pool), and 100- and
//! 1000-key range scans. A measurement, not a test: nothing is asserted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark: failing loudly is the right behaviour"
)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rampart_storage::{Batch, Direction, Engine, KeyRange};
use rampart_storage_embedded::{Options, SqliteEngine};

const KEYS: u64 = 100_000;
const VALUE: usize = 200;
const TREE: &str = "bench";
const RUN: Duration = Duration::from_secs(5);

/// xorshift64*: enough randomness for picking keys, no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn key(n: u64) -> Vec<u8> {
    format!("item#{n:010}").into_bytes()
}

fn value(rng: &mut Rng) -> Vec<u8> {
    (0..VALUE).map(|_| rng.next() as u8).collect()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn report(name: &str, ops: usize, elapsed: Duration, mut lat: Vec<Duration>) {
    lat.sort_unstable();
    println!(
        "{name:<48} {:>10.0} ops/s   p50 {:>9.1?}   p99 {:>9.1?}   ({ops} ops in {:.1?})",
        ops as f64 / elapsed.as_secs_f64(),
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        elapsed
    );
}

/// Runs `tasks` concurrent loops of `op` for `RUN`; returns ops, elapsed, latencies.
async fn timed<F, Fut>(tasks: usize, op: F) -> (usize, Duration, Vec<Duration>)
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (op, stop) = (op.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ ((t as u64 + 1) * 0x1234_5678));
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                op(rng.next()).await;
                lat.push(t0.elapsed());
            }
            lat
        }));
    }
    tokio::time::sleep(RUN).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    (all.len(), start.elapsed(), all)
}

fn fdatasync_rate(dir: &std::path::Path) -> f64 {
    use std::io::Write;
    let path = dir.join("fsync-probe");
    let mut f = std::fs::File::create(&path).unwrap();
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < Duration::from_secs(2) {
        f.write_all(&[0u8; 128]).unwrap();
        f.sync_data().unwrap();
        n += 1;
    }
    let rate = f64::from(n) / start.elapsed().as_secs_f64();
    drop(f);
    std::fs::remove_file(path).unwrap();
    rate
}

fn main() {
    let base = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    std::fs::create_dir_all(&base).unwrap();
    let tmp = tempfile::tempdir_in(&base).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(bench(tmp.path().to_path_buf()));
}

async fn bench(dir: PathBuf) {
    println!("data dir: {}", dir.display());
    println!(
        "fdatasync of a 128-byte append: {:.0}/s",
        fdatasync_rate(&dir)
    );

    let engine = Arc::new(SqliteEngine::open(&dir, Options::default()).unwrap());
    let mut rng = Rng(42);

    // Load: random key order, 100 rows per durable commit (DEPENDENCIES.md's
    // "put, no fsync" row used transactions of 100 too, without the sync).
    let mut order: Vec<u64> = (0..KEYS).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let start = Instant::now();
    for chunk in order.chunks(100) {
        let mut b = Batch::new();
        for &n in chunk {
            b.put(TREE, key(n), value(&mut rng));
        }
        engine.commit(b).await.unwrap();
    }
    let el = start.elapsed();
    println!(
        "{:<48} {:>10.0} rows/s   ({KEYS} rows in {el:.1?}, 1 writer)",
        "load: random order, 100 rows per durable commit",
        KEYS as f64 / el.as_secs_f64()
    );

    // Durable single-put commits, N concurrent writers.
    for writers in [1usize, 16, 64] {
        let e = engine.clone();
        let (ops, el, lat) = timed(writers, move |r| {
            let e = e.clone();
            async move {
                let mut rng = Rng(r | 1);
                let mut b = Batch::new();
                b.put(TREE, key(r % KEYS), value(&mut rng));
                e.commit(b).await.unwrap();
            }
        })
        .await;
        report(
            &format!("durable commit, 1 put, {writers} writers"),
            ops,
            el,
            lat,
        );
    }

    // Conditional read-modify-write (the DynamoDB PutItem-with-condition shape).
    {
        let e = engine.clone();
        let (ops, el, lat) = timed(16, move |r| {
            let e = e.clone();
            async move {
                let k = key(r % KEYS);
                let cur = e.get(TREE, &k).await.unwrap();
                let mut b = Batch::new();
                b.expect(TREE, k.clone(), cur.map(|v| v.version))
                    .put(TREE, k, vec![7; VALUE]);
                let _conflict_is_fine = e.commit(b).await;
            }
        })
        .await;
        report("get + conditional commit, 16 writers", ops, el, lat);
    }

    // Point gets: inline on the runtime worker vs on the blocking pool.
    for (label, inline_rows) in [("inline", usize::MAX), ("spawn_blocking", 0)] {
        let e = Arc::new(
            SqliteEngine::open(
                &dir,
                Options {
                    inline_read_rows: inline_rows,
                    ..Options::default()
                },
            )
            .unwrap(),
        );
        for tasks in [1usize, 4] {
            let e2 = e.clone();
            let (ops, el, lat) = timed(tasks, move |r| {
                let e = e2.clone();
                async move {
                    let got = e.get(TREE, &key(r % KEYS)).await.unwrap();
                    assert!(got.is_some());
                }
            })
            .await;
            report(&format!("random get, {label}, {tasks} tasks"), ops, el, lat);
        }
        for (limit, tasks) in [(100usize, 1usize), (100, 4), (1000, 1)] {
            let e2 = e.clone();
            let (ops, el, lat) = timed(tasks, move |r| {
                let e = e2.clone();
                async move {
                    let start = key(r % (KEYS - limit as u64));
                    let range = KeyRange {
                        start: std::ops::Bound::Included(start),
                        end: std::ops::Bound::Unbounded,
                    };
                    let dir = if r % 2 == 0 {
                        Direction::Forward
                    } else {
                        Direction::Reverse
                    };
                    let rows = e.scan(TREE, range, dir, limit).await.unwrap();
                    assert!(!rows.is_empty());
                }
            })
            .await;
            let keys_per_s = (ops * limit) as f64 / el.as_secs_f64();
            report(
                &format!("{limit}-key scan, {label}, {tasks} tasks"),
                ops,
                el,
                lat,
            );
            println!("{:<48} {keys_per_s:>10.0} keys/s", "");
        }
        e.close().await.unwrap();
    }
    engine.close().await.unwrap();
    let size = std::fs::metadata(SqliteEngine::db_path(&dir))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "database file after the run: {:.1} MiB",
        size as f64 / 1048576.0
    );
}
