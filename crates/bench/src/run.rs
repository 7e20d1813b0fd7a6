//! The load: `connections` workers, each with its own keep-alive connection and signer.
//!
//! - **Closed loop** (no rate): each worker sends its next request as soon as it has the
//!   previous answer; latency is from send to answer.
//! - **Open loop** (`--rate R`): request `n` is intended to start at `start + n/R`. The
//!   schedule is a shared atomic counter, the next ticket `n`: a free worker whose ticket is
//!   due takes it (a compare-and-swap, no message) and sends at once; a free worker whose
//!   ticket is not due yet waits. The pacer waits for the next intended start on the OS's
//!   timer (a `timerfd` polled by the load generator's own runtime on Linux: nanosecond
//!   expiry, no timer slack, not tokio's 1 ms wheel; elsewhere a thread that sleeps), then
//!   wakes *one* waiting worker, whatever the number of tickets that fell due meanwhile; a
//!   worker that takes a ticket and sees the next one due too wakes another. Workers that
//!   free up while tickets are overdue take them without any wake-up. The pacer used to be a
//!   thread on Linux too: with the load generator pinned to one CPU, that thread and the
//!   runtime's thread took turns on it, and the scheduler let the runtime run for
//!   milliseconds before the woken pacer got the CPU, so tickets fell due late and a bare
//!   server at 10k req/s showed a 17 ms p99 (docs/performance.md, "The open loop's pacer").
//!   A request that waits because every connection is busy (or the
//!   server stalls) is still measured from its intended start, so stalls show in the
//!   percentiles (no coordinated omission); tickets left untaken at the end are reported as
//!   `unsent`.
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

/// The open loop's schedule: ticket `n` is intended to start at `start + n / rate`, and
/// `next` is the first ticket no worker has taken yet (see the module's documentation).
#[derive(Debug)]
struct Schedule {
    /// Intended start of ticket 0.
    start: Instant,
    /// Tickets per second.
    rate: f64,
    /// Tickets `0..limit` are issued: those that start before the end, or the warm-up's and
    /// the request budget.
    limit: u64,
    /// The first measured ticket (intended start at or after the warm-up).
    first_measured: u64,
    /// The first ticket not taken.
    next: AtomicU64,
    /// The pacer has stopped.
    done: AtomicBool,
    /// Wakes a worker waiting for a ticket to fall due.
    wake: tokio::sync::Notify,
}

impl Schedule {
    fn new(rate: f64, start: Instant, clock: Clock, stop: Stop) -> Self {
        let mut s = Self {
            start,
            rate,
            limit: 0,
            first_measured: 0,
            next: AtomicU64::new(0),
            done: AtomicBool::new(false),
            wake: tokio::sync::Notify::new(),
        };
        s.first_measured = s.count_before(clock.measure_from);
        s.limit = match (stop, clock.end) {
            (Stop::Requests(n), _) => s.first_measured.saturating_add(n),
            (Stop::Duration(_), Some(end)) => s.count_before(end),
            (Stop::Duration(_), None) => u64::MAX,
        };
        s
    }

    /// Ticket `n`'s intended start; `None` when it is beyond what an `Instant` holds.
    fn intended(&self, n: u64) -> Option<Instant> {
        Duration::try_from_secs_f64(n as f64 / self.rate)
            .ok()
            .and_then(|d| self.start.checked_add(d))
    }

    /// Whether ticket `n` is due at `now`.
    fn due(&self, n: u64, now: Instant) -> bool {
        n < self.limit && self.intended(n).is_some_and(|at| at <= now)
    }

    /// How many tickets start before `t`.
    fn count_before(&self, t: Instant) -> u64 {
        let secs = t.saturating_duration_since(self.start).as_secs_f64();
        // An estimate, corrected so that it agrees exactly with `intended`.
        let mut n = (secs * self.rate).ceil() as u64;
        while n > 0 && self.intended(n - 1).is_none_or(|at| at >= t) {
            n -= 1;
        }
        while self.intended(n).is_some_and(|at| at < t) {
            n += 1;
        }
        n
    }

    /// The next ticket's intended start, once it is due and taken; `None` when the tickets
    /// are spent, the run stops, or `give_up` has passed.
    async fn take(&self, live: &Live, give_up: Option<Instant>) -> Option<Instant> {
        loop {
            // Registered before looking, so a wake-up between the look and the wait is kept.
            let notified = self.wake.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if live.stop.load(Ordering::Acquire) {
                return None;
            }
            let now = Instant::now();
            if give_up.is_some_and(|g| now >= g) {
                return None;
            }
            let n = self.next.load(Ordering::Acquire);
            if n >= self.limit {
                return None;
            }
            if self.due(n, now) {
                if self
                    .next
                    .compare_exchange(n, n + 1, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    // Pass an overdue ticket on to another waiting worker (a wake-up on this
                    // thread: no system call).
                    if self.due(n + 1, now) {
                        self.wake.notify_one();
                    }
                    return self.intended(n);
                }
                continue;
            }
            if self.done.load(Ordering::Acquire) {
                return None;
            }
            notified.await;
        }
    }
}

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

    let (schedule, pacer) = match plan.rate {
        Some(rate) => {
            let schedule = Arc::new(Schedule::new(rate, start, clock, plan.stop));
            let pacer = Pacer::start(schedule.clone(), live.clone())?;
            (Some(schedule), Some(pacer))
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
            schedule.clone(),
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
    if let Some(p) = pacer {
        p.join().await;
    }
    // The measured tickets no worker took (every issued ticket is due by now).
    let unsent = schedule.map_or(0, |s| {
        let taken = s.next.load(Ordering::Acquire).max(s.first_measured);
        s.limit.saturating_sub(taken)
    });
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

/// The open loop's pacer, running until every ticket is due or the run stops.
enum Pacer {
    /// A task of the load generator's runtime waiting on a timerfd.
    #[cfg(target_os = "linux")]
    Task(tokio::task::JoinHandle<()>),
    /// A thread sleeping with `std::thread::sleep`.
    Thread(std::thread::JoinHandle<()>),
}

impl Pacer {
    /// Starts the pacer: a runtime task on a timerfd where the OS has one, else a thread.
    fn start(s: Arc<Schedule>, live: Arc<Live>) -> Result<Self, RunError> {
        #[cfg(target_os = "linux")]
        match timer::Timer::new() {
            Ok(timer) => {
                return Ok(Self::Task(tokio::spawn(async move {
                    pace(&s, &live, |d| timer.sleep(d)).await;
                })));
            }
            Err(e) => eprintln!("rampart-bench: no timerfd ({e}); pacing from a thread"),
        }
        std::thread::Builder::new()
            .name("rampart-bench-pacer".into())
            .spawn(move || {
                let sleep = |d| {
                    std::thread::sleep(d);
                    std::future::ready(())
                };
                // The thread's own future never waits: `ready` at every step.
                block_on_ready(pace(&s, &live, sleep));
            })
            .map(Self::Thread)
            .map_err(|e| RunError::Invalid(format!("cannot start the pacer thread: {e}")))
    }

    /// Waits for the pacer to finish.
    async fn join(self) {
        match self {
            #[cfg(target_os = "linux")]
            Self::Task(t) => {
                let _ = t.await;
            }
            Self::Thread(t) => {
                let _ = tokio::task::spawn_blocking(move || t.join()).await;
            }
        }
    }
}

/// Polls a future that never returns `Pending` (the thread pacer's, whose sleeps block).
fn block_on_ready<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        // Unreachable with blocking sleeps; yield rather than spin if it ever happens.
        std::thread::yield_now();
    }
}

/// The pacer's loop: waits (with `sleep`) until the next ticket falls due, then wakes one
/// waiting worker (however many tickets fell due meanwhile), until every ticket is due or
/// the run stops.
async fn pace<F, W>(s: &Schedule, live: &Live, sleep: W)
where
    W: Fn(Duration) -> F,
    F: std::future::Future<Output = ()>,
{
    // Tickets `0..due` are due.
    let mut due: u64 = 0;
    while due < s.limit && !live.stop.load(Ordering::Acquire) {
        let Some(at) = s.intended(due) else {
            break;
        };
        let now = Instant::now();
        if at > now {
            sleep(at - now).await;
        }
        let now = Instant::now();
        due = due.max(s.count_before(now).min(s.limit));
        while s.due(due, now) {
            due += 1;
        }
        if s.next.load(Ordering::Acquire) < due {
            s.wake.notify_one();
        }
    }
    s.done.store(true, Ordering::Release);
    // Workers still waiting see that the tickets are spent.
    s.wake.notify_waiters();
}

/// A one-shot timer on a Linux timerfd, awaited through the runtime's reactor.
#[cfg(target_os = "linux")]
mod timer {
    use std::os::fd::OwnedFd;
    use std::time::Duration;

    use rustix::time::{
        Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
        timerfd_settime,
    };
    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;

    /// The timer.
    pub(super) struct Timer {
        fd: AsyncFd<OwnedFd>,
    }

    impl Timer {
        /// A monotonic timerfd registered with the current runtime.
        pub(super) fn new() -> std::io::Result<Self> {
            let fd = timerfd_create(
                TimerfdClockId::Monotonic,
                TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
            )?;
            // `register_with_interest` is the same call marked `unsafe` (tokio#8587: a `T`
            // that could close or swap its descriptor while registered). An `OwnedFd` moved
            // into the `AsyncFd` cannot, and this workspace forbids `unsafe`.
            #[expect(deprecated, reason = "OwnedFd owned by the AsyncFd: the sound case")]
            let fd = AsyncFd::with_interest(fd, Interest::READABLE)?;
            Ok(Self { fd })
        }

        /// Waits `d` (at least 1 ns: a zero expiry would disarm the timer). A timer that
        /// cannot be armed or read returns at once: the pacer then runs early, which only
        /// wakes a worker that finds its ticket not due yet and waits again.
        pub(super) async fn sleep(&self, d: Duration) {
            let zero = Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            let value = Timespec::try_from(d.max(Duration::from_nanos(1))).unwrap_or(Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0,
            });
            let spec = Itimerspec {
                it_interval: zero,
                it_value: value,
            };
            if timerfd_settime(self.fd.get_ref(), TimerfdTimerFlags::empty(), &spec).is_err() {
                return;
            }
            loop {
                let Ok(mut ready) = self.fd.readable().await else {
                    return;
                };
                let mut expirations = [0u8; 8];
                match rustix::io::read(self.fd.get_ref(), &mut expirations) {
                    Err(rustix::io::Errno::AGAIN) => ready.clear_ready(),
                    _ => return,
                }
            }
        }
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
    schedule: Option<Arc<Schedule>>,
) -> Stats {
    let mut stats = Stats::default();
    let mut rng = Rng::new(plan.seed ^ (id + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
    let mut signer = Signer::new(plan.credentials.clone(), &plan.region, "dynamodb");
    let payload = payload(&mut rng, plan.keyspace.payload_len);
    let mut client = Client::new(plan.endpoint.clone(), conn);
    // Open loop: stop sending a backlog this long after the end (the rest is `unsent`).
    let give_up = clock
        .end
        .and_then(|end| end.checked_add(Duration::from_secs(1)));
    loop {
        if live.stop.load(Ordering::Acquire) {
            break;
        }
        let intended = match &schedule {
            Some(s) => match s.take(&live, give_up).await {
                Some(at) => at,
                None => break,
            },
            None => {
                let now = Instant::now();
                if clock.end.is_some_and(|end| now >= end) {
                    break;
                }
                now
            }
        };
        let measured = intended >= clock.measure_from;
        if measured && matches!(plan.stop, Stop::Requests(_)) && schedule.is_none() && !live.take()
        {
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

    fn schedule(rate: f64, start: Instant, warmup: Duration, stop: Stop) -> Schedule {
        let measure_from = start + warmup;
        let end = match stop {
            Stop::Duration(d) => Some(measure_from + d),
            Stop::Requests(_) => None,
        };
        Schedule::new(rate, start, Clock { measure_from, end }, stop)
    }

    #[test]
    fn schedule_counts_the_tickets_that_start_before_an_instant() {
        let start = Instant::now();
        let s = schedule(3.0, start, Duration::ZERO, Stop::Requests(1));
        assert_eq!(s.count_before(start), 0);
        // Tickets at 0, 1/3 and 2/3 s; the one at exactly 1 s is not before 1 s.
        assert_eq!(s.count_before(start + Duration::from_secs(1)), 3);
        assert_eq!(s.count_before(start + Duration::from_millis(1001)), 4);
        for n in 0..100 {
            let at = s.intended(n).unwrap();
            assert_eq!(s.count_before(at), n);
            assert_eq!(s.count_before(at + Duration::from_nanos(1)), n + 1);
        }
    }

    #[test]
    fn schedule_issues_the_warm_up_and_then_the_budget_or_the_duration() {
        let start = Instant::now();
        let s = schedule(100.0, start, Duration::from_millis(500), Stop::Requests(7));
        assert_eq!((s.first_measured, s.limit), (50, 57));
        let s = schedule(
            100.0,
            start,
            Duration::from_millis(500),
            Stop::Duration(Duration::from_secs(2)),
        );
        assert_eq!((s.first_measured, s.limit), (50, 250));
    }

    /// The pacer (the timerfd task on Linux) releases every ticket on time: no ticket is
    /// taken before its intended start, and the pacer ends once all are due.
    #[tokio::test]
    async fn the_pacer_releases_each_ticket_at_its_start_and_ends() {
        let start = Instant::now();
        let s = Arc::new(schedule(2000.0, start, Duration::ZERO, Stop::Requests(40)));
        let live = Arc::new(Live::default());
        let pacer = Pacer::start(s.clone(), live.clone()).expect("pacer");
        let mut taken = Vec::new();
        let takes = async {
            while let Some(at) = s.take(&live, None).await {
                assert!(Instant::now() >= at, "a ticket was taken before its start");
                taken.push(at);
            }
        };
        // A pacer that never wakes the waiting worker fails here instead of hanging.
        tokio::time::timeout(Duration::from_secs(30), takes)
            .await
            .expect("the pacer released every ticket");
        pacer.join().await;
        assert_eq!(taken.len(), 40);
        assert!(taken.windows(2).all(|w| w[0] < w[1]));
        assert!(s.done.load(Ordering::Acquire));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn the_timerfd_waits_at_least_what_it_is_asked() {
        let timer = timer::Timer::new().expect("timerfd");
        for ms in [0u64, 1, 3] {
            let d = Duration::from_millis(ms);
            let before = Instant::now();
            timer.sleep(d).await;
            assert!(before.elapsed() >= d);
        }
    }
    #[tokio::test]
    async fn due_tickets_are_taken_in_order_until_spent() {
        // Started in the past: every ticket is due.
        let now = Instant::now();
        let start = now.checked_sub(Duration::from_secs(10)).unwrap_or(now);
        let s = schedule(1.0, start, Duration::ZERO, Stop::Requests(3));
        let live = Live::default();
        for n in 0..3 {
            assert_eq!(s.take(&live, None).await, s.intended(n));
        }
        assert_eq!(s.take(&live, None).await, None);
        assert_eq!(s.next.load(Ordering::Acquire), 3);
    }

    #[tokio::test]
    async fn no_ticket_is_taken_after_giving_up_or_stopping() {
        let start = Instant::now();
        let s = schedule(1.0, start, Duration::ZERO, Stop::Requests(3));
        let live = Live::default();
        assert_eq!(s.take(&live, Some(start)).await, None);
        live.stop.store(true, Ordering::Release);
        assert_eq!(s.take(&live, None).await, None);
        assert_eq!(s.next.load(Ordering::Acquire), 0);
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
