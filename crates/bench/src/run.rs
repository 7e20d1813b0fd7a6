//! The load: `connections` workers, each with its own keep-alive connection and signer.
//!
//! - **Closed loop** (no rate): each worker sends its next request as soon as it has the
//!   previous answer; latency is from send to answer.
//! - **Open loop** (`--rate R`): a pacer thread issues tickets at exactly R per second, each
//!   stamped with its *intended* start; a free worker takes the next ticket. A request that
//!   waits because every connection is busy (or the server stalls) is measured from its
//!   intended start, so stalls show in the percentiles instead of being hidden (no coordinated
//!   omission). The pacer sleeps with the OS's timer (tens of µs of slack), not tokio's (1 ms).
//!
//! A warm-up (`--warmup`) runs the same load unmeasured first. A run stops after `--duration`
//! or `--requests` measured requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use indicatif::{ProgressBar, ProgressStyle};

use crate::client::{Client, ClientError, Connection, Endpoint};
use crate::keys::{Distribution, KeyChooser, Rng};
use crate::procfs;
use crate::sign::{Credentials, Signer};
use crate::stats::{Report, ReportHeader, ServerUsage, Stats};
use crate::workload::{Keyspace, Op, Workload, payload};

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stop {
    /// After this long (measured part).
    Duration(Duration),
    /// After this many measured requests.
    Requests(u64),
}

/// Everything a run needs.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Where to send.
    pub endpoint: Endpoint,
    /// Signing credentials.
    pub credentials: Credentials,
    /// Signing region.
    pub region: String,
    /// The table and its items.
    pub keyspace: Keyspace,
    /// Approximate item size, bytes (for the report).
    pub item_size: usize,
    /// What to send.
    pub workload: Workload,
    /// How keys are drawn.
    pub distribution: Distribution,
    /// Concurrent connections.
    pub connections: usize,
    /// When to stop.
    pub stop: Stop,
    /// Open loop at this many requests per second; closed loop when `None`.
    pub rate: Option<f64>,
    /// Unmeasured warm-up.
    pub warmup: Duration,
    /// PutRequests per BatchWriteItem (1..=25).
    pub batch_size: usize,
    /// Seed of the key and payload generators.
    pub seed: u64,
    /// Show a progress bar (on stderr, when it is a terminal).
    pub progress: bool,
    /// Watch this process's memory and CPU (the server's pid).
    pub watch_pid: Option<u32>,
}

/// A run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The first connection failed: nothing was measured.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A setting is out of range.
    #[error("{0}")]
    Invalid(String),
}

/// Counters the progress bar reads while workers run.
#[derive(Debug, Default)]
struct Live {
    /// Measured requests answered.
    done: AtomicU64,
    /// Of which errors.
    errors: AtomicU64,
    /// Measured requests still to start (request-count runs).
    remaining: AtomicU64,
    /// Set when workers must stop.
    stop: AtomicBool,
}

impl Live {
    /// Takes one measured request from the budget; false when it is spent.
    fn take(&self) -> bool {
        self.remaining
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |r| r.checked_sub(1))
            .is_ok()
    }
}

/// The times shared by all workers.
#[derive(Debug, Clone, Copy)]
struct Clock {
    /// Measurement starts (after the warm-up).
    measure_from: Instant,
    /// Measurement ends (duration runs).
    end: Option<Instant>,
}

/// The open loop's queue of intended start times: any free worker takes the next one (one
/// wake-up per ticket, no lock).
type Tickets = async_channel::Receiver<Instant>;

/// Runs the plan and reports.
pub async fn run(plan: &Plan) -> Result<Report, RunError> {
    if plan.connections == 0 {
        return Err(RunError::Invalid("--connections must be at least 1".into()));
    }
    if let Some(r) = plan.rate
        && !(r.is_finite() && r > 0.0)
    {
        return Err(RunError::Invalid("--rate must be a positive number".into()));
    }
    // Fail early and clearly when the endpoint is unreachable.
    let first = Connection::open(&plan.endpoint).await?;

    let plan = Arc::new(plan.clone());
    let chooser = Arc::new(KeyChooser::new(plan.distribution, plan.keyspace.items));
    let live = Arc::new(Live::default());
    if let Stop::Requests(n) = plan.stop {
        live.remaining.store(n, Ordering::Release);
    }
    let start = Instant::now();
    let measure_from = start + plan.warmup;
    let clock = Clock {
        measure_from,
        end: match plan.stop {
            Stop::Duration(d) => Some(measure_from + d),
            Stop::Requests(_) => None,
        },
    };

    let (tickets, pacer) = match plan.rate {
        Some(rate) => {
            let (tx, rx) = async_channel::unbounded();
            let pacer_live = live.clone();
            let stop = plan.stop;
            let pacer = std::thread::Builder::new()
                .name("rampart-bench-pacer".into())
                .spawn(move || pace(rate, start, clock, stop, &tx, &pacer_live))
                .map_err(|e| RunError::Invalid(format!("cannot start the pacer thread: {e}")))?;
            (Some(rx), Some(pacer))
        }
        None => (None, None),
    };

    let rss_max = Arc::new(AtomicU64::new(0));
    let monitor = tokio::spawn(monitor(
        plan.clone(),
        live.clone(),
        clock,
        start,
        rss_max.clone(),
    ));

    let mut workers = tokio::task::JoinSet::new();
    let mut first = Some(first);
    for id in 0..plan.connections {
        workers.spawn(worker(
            id as u64,
            first.take(),
            plan.clone(),
            chooser.clone(),
            live.clone(),
            clock,
            tickets.clone(),
        ));
    }
    // The server's usage is counted from the end of the warm-up, like the requests.
    tokio::time::sleep_until(measure_from.into()).await;
    let usage_before = plan
        .watch_pid
        .map(|pid| (pid, procfs::rss_kib(pid), procfs::cpu_seconds(pid)));
    let mut stats = Stats::default();
    while let Some(done) = workers.join_next().await {
        if let Ok(s) = done {
            stats.merge(&s);
        }
    }
    let finished = Instant::now();
    live.stop.store(true, Ordering::Release);
    let _ = monitor.await;
    let unsent = match tickets {
        Some(rx) => {
            rx.close();
            let mut n = 0;
            while let Ok(at) = rx.try_recv() {
                if at >= measure_from {
                    n += 1;
                }
            }
            n
        }
        None => 0,
    };
    if let Some(p) = pacer {
        let _ = p.join();
    }
    let server = usage_before.map(|(pid, rss_before, cpu_before)| ServerUsage {
        pid,
        rss_before_kib: rss_before,
        rss_max_kib: Some(rss_max.load(Ordering::Acquire)).filter(|k| *k > 0),
        rss_after_kib: procfs::rss_kib(pid),
        cpu_seconds: cpu_before.zip(procfs::cpu_seconds(pid)).map(|(a, b)| b - a),
    });
    let seconds = finished
        .saturating_duration_since(measure_from)
        .as_secs_f64();
    let header = ReportHeader {
        endpoint: plan.endpoint.to_string(),
        workload: plan.workload.to_string(),
        target_rate: plan.rate,
        connections: plan.connections,
        distribution: plan.distribution.to_string(),
        keyspace: plan.keyspace.items,
        item_size: plan.item_size,
        query_items: plan.keyspace.partition_size,
        batch_size: plan.batch_size,
        warmup_s: plan.warmup.as_secs_f64(),
    };
    Ok(Report::new(header, &stats, seconds, unsent, server))
}

/// The open loop's pacer: sends one ticket per intended start, at `rate` per second, until
/// the end (or the request budget) is reached.
fn pace(
    rate: f64,
    start: Instant,
    clock: Clock,
    stop: Stop,
    tx: &async_channel::Sender<Instant>,
    live: &Live,
) {
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut measured: u64 = 0;
    let mut k: u32 = 0;
    let mut next = start;
    loop {
        if let Some(end) = clock.end
            && next >= end
        {
            return;
        }
        if let Stop::Requests(n) = stop
            && measured >= n
        {
            return;
        }
        if live.stop.load(Ordering::Acquire) {
            return;
        }
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        }
        if tx.try_send(next).is_err() {
            return;
        }
        if next >= clock.measure_from {
            measured += 1;
        }
        // Computed from the start, not accumulated, so rounding does not drift.
        k = k.saturating_add(1);
        next = start + interval * k;
    }
}

/// Shows progress and samples the watched server's memory until the workers are done.
async fn monitor(
    plan: Arc<Plan>,
    live: Arc<Live>,
    clock: Clock,
    start: Instant,
    rss_max: Arc<AtomicU64>,
) {
    let bar = if plan.progress {
        let (len, template) = match plan.stop {
            Stop::Duration(d) => (
                (plan.warmup + d).as_millis() as u64,
                "{spinner} [{elapsed_precise}] {wide_bar} {msg}",
            ),
            Stop::Requests(n) => (
                n,
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg}",
            ),
        };
        let bar = ProgressBar::new(len);
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        Some(bar)
    } else {
        None
    };
    let mut last = (Instant::now(), 0u64);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    while !live.stop.load(Ordering::Acquire) {
        tick.tick().await;
        let now = Instant::now();
        if now >= clock.measure_from
            && let Some(pid) = plan.watch_pid
            && let Some(rss) = procfs::rss_kib(pid)
        {
            rss_max.fetch_max(rss, Ordering::AcqRel);
        }
        if let Some(bar) = &bar {
            let done = live.done.load(Ordering::Acquire);
            let dt = now.saturating_duration_since(last.0).as_secs_f64();
            let rps = if dt > 0.0 {
                done.saturating_sub(last.1) as f64 / dt
            } else {
                0.0
            };
            last = (now, done);
            let phase = if now < clock.measure_from {
                "warming up"
            } else {
                "measuring"
            };
            bar.set_message(format!(
                "{phase}: {rps:.0} req/s, {done} done, {} errors",
                live.errors.load(Ordering::Acquire)
            ));
            match plan.stop {
                Stop::Duration(_) => {
                    bar.set_position(now.saturating_duration_since(start).as_millis() as u64)
                }
                Stop::Requests(_) => bar.set_position(done),
            }
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// One request's body.
fn body(
    op: Op,
    ks: &Keyspace,
    chooser: &KeyChooser,
    rng: &mut Rng,
    payload: &str,
    batch: usize,
) -> String {
    match op {
        Op::GetItem => ks.get_item(chooser.next(rng)),
        Op::PutItem => ks.put_item(chooser.next(rng), payload),
        Op::UpdateItem => ks.update_item(chooser.next(rng), payload),
        Op::Query => ks.query(chooser.next(rng)),
        Op::BatchWriteItem => ks.batch_write(&ks.distinct_keys(chooser, rng, batch), payload),
        Op::CreateTable => ks.create_table(),
        Op::DescribeTable => ks.describe_table(),
    }
}

/// Counts BatchWriteItem's `UnprocessedItems` in a success body.
pub fn unprocessed_items(body: &[u8]) -> u64 {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else {
        return 0;
    };
    v.get("UnprocessedItems")
        .and_then(|u| u.as_object())
        .map(|tables| {
            tables
                .values()
                .filter_map(|reqs| reqs.as_array())
                .map(|a| a.len() as u64)
                .sum()
        })
        .unwrap_or(0)
}

/// Whether a GetItem answer holds an item (a cheap look for the `"Item"` member).
fn found_item(body: &[u8]) -> bool {
    body.windows(6).any(|w| w == b"\"Item\"")
}

async fn worker(
    id: u64,
    conn: Option<Connection>,
    plan: Arc<Plan>,
    chooser: Arc<KeyChooser>,
    live: Arc<Live>,
    clock: Clock,
    tickets: Option<Tickets>,
) -> Stats {
    let mut stats = Stats::default();
    let mut rng = Rng::new(plan.seed ^ (id + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut signer = Signer::new(plan.credentials.clone(), &plan.region, "dynamodb");
    let payload = payload(&mut rng, plan.keyspace.payload_len);
    let mut client = Client::new(plan.endpoint.clone(), conn);
    // Open loop: stop sending a backlog this long after the end.
    let grace = Duration::from_secs(1);
    loop {
        if live.stop.load(Ordering::Acquire) {
            break;
        }
        let intended = match &tickets {
            Some(rx) => match rx.recv().await {
                Ok(at) => at,
                Err(_) => break,
            },
            None => Instant::now(),
        };
        if let Some(end) = clock.end {
            let limit = if tickets.is_some() { end + grace } else { end };
            if Instant::now() >= limit {
                break;
            }
        }
        let measured = intended >= clock.measure_from;
        if measured && matches!(plan.stop, Stop::Requests(_)) && tickets.is_none() && !live.take() {
            break;
        }
        let op = plan.workload.pick(&mut rng);
        let body = body(
            op,
            &plan.keyspace,
            &chooser,
            &mut rng,
            &payload,
            plan.batch_size,
        );
        let result = client
            .call(&mut signer, op, Bytes::from(body), SystemTime::now())
            .await;
        let latency = Instant::now().saturating_duration_since(intended);
        if !measured {
            continue;
        }
        let failed = match result {
            Ok(reply) => match reply.error_type() {
                None => {
                    let s = stats.ok(op, u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
                    match op {
                        Op::GetItem if !found_item(&reply.body) => s.misses += 1,
                        Op::BatchWriteItem => s.unprocessed += unprocessed_items(&reply.body),
                        _ => {}
                    }
                    false
                }
                Some(ty) => {
                    stats.error(op, &ty);
                    true
                }
            },
            Err(e) => {
                stats.error(op, e.kind());
                // Do not spin on a server that refuses connections.
                tokio::time::sleep(Duration::from_millis(10)).await;
                true
            }
        };
        live.done.fetch_add(1, Ordering::AcqRel);
        if failed {
            live.errors.fetch_add(1, Ordering::AcqRel);
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unprocessed_items_are_counted_across_tables() {
        let body = br#"{"UnprocessedItems":{"a":[{"PutRequest":{}},{"PutRequest":{}}],"b":[{"DeleteRequest":{}}]}}"#;
        assert_eq!(unprocessed_items(body), 3);
        assert_eq!(unprocessed_items(br#"{"UnprocessedItems":{}}"#), 0);
        assert_eq!(unprocessed_items(b"not json"), 0);
    }

    #[test]
    fn get_item_answer_with_item_is_found() {
        assert!(found_item(br#"{"Item":{"pk":{"S":"a"}}}"#));
        assert!(!found_item(b"{}"));
    }

    #[test]
    fn request_budget_is_taken_exactly_once_per_request() {
        let live = Live::default();
        live.remaining.store(2, Ordering::Release);
        assert!(live.take());
        assert!(live.take());
        assert!(!live.take());
        assert!(!live.take());
    }
}
