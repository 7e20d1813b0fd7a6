//! What a run measured: a latency histogram and counts per operation, merged across workers,
//! and the report made of them (a table for people, JSON for scripts).
//!
//! Latencies are recorded in nanoseconds in HDR histograms (3 significant digits, up to an
//! hour); successful requests only. Errors are counted by AWS error type.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::workload::Op;

/// The largest latency recorded exactly (one hour, in ns); longer ones saturate.
const MAX_LATENCY_NS: u64 = 3_600_000_000_000;

fn new_histogram() -> Histogram<u64> {
    #[expect(
        clippy::expect_used,
        reason = "constant bounds that hdrhistogram accepts (1 <= low, high >= 2 * low, 3 digits)"
    )]
    Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid histogram bounds")
}

/// Counts and latencies of one operation.
#[derive(Debug, Clone)]
pub struct OpStats {
    /// Latencies of successful requests, in ns.
    pub latency: Histogram<u64>,
    /// Successful requests.
    pub ok: u64,
    /// Failed requests by error type.
    pub errors: BTreeMap<String, u64>,
    /// GetItem answers without an `Item` (the key was not there: was the table prepared?).
    pub misses: u64,
    /// Items BatchWriteItem handed back as unprocessed.
    pub unprocessed: u64,
}

impl Default for OpStats {
    fn default() -> Self {
        Self {
            latency: new_histogram(),
            ok: 0,
            errors: BTreeMap::new(),
            misses: 0,
            unprocessed: 0,
        }
    }
}

impl OpStats {
    fn merge(&mut self, other: &OpStats) {
        // Both histograms have the same bounds, so adding cannot fail; saturate otherwise.
        if self.latency.add(&other.latency).is_err() {
            for v in other.latency.iter_recorded() {
                self.latency
                    .saturating_record_n(v.value_iterated_to(), v.count_at_value());
            }
        }
        self.ok += other.ok;
        for (k, v) in &other.errors {
            *self.errors.entry(k.clone()).or_insert(0) += v;
        }
        self.misses += other.misses;
        self.unprocessed += other.unprocessed;
    }

    fn requests(&self) -> u64 {
        self.ok + self.errors.values().sum::<u64>()
    }
}

/// Everything a worker (or a whole run) measured.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Per operation.
    pub ops: BTreeMap<Op, OpStats>,
}

impl Stats {
    /// Records a success of `op` after `latency_ns`.
    pub fn ok(&mut self, op: Op, latency_ns: u64) -> &mut OpStats {
        let s = self.ops.entry(op).or_default();
        s.latency.saturating_record(latency_ns.max(1));
        s.ok += 1;
        s
    }

    /// Records a failure of `op` with `error_type`.
    pub fn error(&mut self, op: Op, error_type: &str) {
        let s = self.ops.entry(op).or_default();
        *s.errors.entry(error_type.to_owned()).or_insert(0) += 1;
    }

    /// Adds another worker's measurements.
    pub fn merge(&mut self, other: &Stats) {
        for (op, s) in &other.ops {
            self.ops.entry(*op).or_default().merge(s);
        }
    }

    /// Every operation together.
    pub fn total(&self) -> OpStats {
        let mut t = OpStats::default();
        for s in self.ops.values() {
            t.merge(s);
        }
        t
    }
}

/// Latency percentiles, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest.
    pub max: f64,
    /// Mean.
    pub mean: f64,
}

impl Latency {
    /// The percentiles of `h` (nanoseconds) in microseconds; all zero when `h` is empty.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        let us = |ns: u64| ns as f64 / 1000.0;
        Self {
            p50: us(h.value_at_quantile(0.50)),
            p90: us(h.value_at_quantile(0.90)),
            p99: us(h.value_at_quantile(0.99)),
            p999: us(h.value_at_quantile(0.999)),
            max: us(h.max()),
            mean: h.mean() / 1000.0,
        }
    }
}

/// One operation's line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct OpReport {
    /// Requests answered (successes and errors).
    pub requests: u64,
    /// Successes.
    pub ok: u64,
    /// Errors by type.
    pub errors: BTreeMap<String, u64>,
    /// Successes per second.
    pub throughput_rps: f64,
    /// Latency of the successes.
    pub latency_us: Latency,
}

impl OpReport {
    fn of(s: &OpStats, seconds: f64) -> Self {
        Self {
            requests: s.requests(),
            ok: s.ok,
            errors: s.errors.clone(),
            throughput_rps: per_second(s.ok, seconds),
            latency_us: Latency::of(&s.latency),
        }
    }
}

fn per_second(n: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        n as f64 / seconds
    } else {
        0.0
    }
}

/// The server's resource use during a run (from `/proc/<pid>`), when `--watch-pid` was given.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerUsage {
    /// The process watched.
    pub pid: u32,
    /// Resident memory before the measured part of the run, in KiB.
    pub rss_before_kib: Option<u64>,
    /// The largest resident memory sampled during it (every 250 ms), in KiB.
    pub rss_max_kib: Option<u64>,
    /// Resident memory after it, in KiB.
    pub rss_after_kib: Option<u64>,
    /// CPU time (user + system) the server used during it, in seconds.
    pub cpu_seconds: Option<f64>,
}

/// The whole run's report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always `rampart-bench`.
    pub tool: &'static str,
    /// The tool's version.
    pub version: &'static str,
    /// Where the requests went.
    pub endpoint: String,
    /// The workload.
    pub workload: String,
    /// `closed` (each connection sends as soon as it has its answer) or `open` (a target rate).
    pub mode: &'static str,
    /// The open loop's target rate, requests per second.
    pub target_rate: Option<f64>,
    /// Connections.
    pub connections: usize,
    /// Key distribution.
    pub distribution: String,
    /// Items in the keyspace.
    pub keyspace: u64,
    /// Approximate item size, bytes.
    pub item_size: usize,
    /// Items a Query returns (partition size).
    pub query_items: u64,
    /// PutRequests per BatchWriteItem.
    pub batch_size: usize,
    /// Seconds of warm-up not measured.
    pub warmup_s: f64,
    /// Seconds measured.
    pub duration_s: f64,
    /// Requests answered in the measured part.
    pub requests: u64,
    /// Of which successful.
    pub ok: u64,
    /// Errors by type (AWS's `__type`, `HTTP <status>`, or a transport error).
    pub errors: BTreeMap<String, u64>,
    /// Successful requests per second.
    pub throughput_rps: f64,
    /// Items written per second (BatchWriteItem counts each item).
    pub items_written_per_s: f64,
    /// Latency of successful requests; in open loop, from each request's intended start.
    pub latency_us: Latency,
    /// Per operation.
    pub operations: BTreeMap<String, OpReport>,
    /// GetItem answers without an item.
    pub misses: u64,
    /// Items BatchWriteItem returned as unprocessed.
    pub unprocessed_items: u64,
    /// Open loop: requests scheduled but never sent because the run ended first.
    pub unsent: u64,
    /// The server's resource use, if watched.
    pub server: Option<ServerUsage>,
}

/// The run's settings that go into the report as they are.
#[derive(Debug, Clone)]
pub struct ReportHeader {
    /// See [`Report::endpoint`].
    pub endpoint: String,
    /// See [`Report::workload`].
    pub workload: String,
    /// See [`Report::target_rate`].
    pub target_rate: Option<f64>,
    /// See [`Report::connections`].
    pub connections: usize,
    /// See [`Report::distribution`].
    pub distribution: String,
    /// See [`Report::keyspace`].
    pub keyspace: u64,
    /// See [`Report::item_size`].
    pub item_size: usize,
    /// See [`Report::query_items`].
    pub query_items: u64,
    /// See [`Report::batch_size`].
    pub batch_size: usize,
    /// See [`Report::warmup_s`].
    pub warmup_s: f64,
}

impl Report {
    /// The report of `stats`, measured over `seconds`.
    pub fn new(
        header: ReportHeader,
        stats: &Stats,
        seconds: f64,
        unsent: u64,
        server: Option<ServerUsage>,
    ) -> Self {
        let total = stats.total();
        let items_written = stats
            .ops
            .iter()
            .map(|(op, s)| match op {
                Op::PutItem | Op::UpdateItem => s.ok,
                Op::BatchWriteItem => {
                    (s.ok * header.batch_size as u64).saturating_sub(s.unprocessed)
                }
                _ => 0,
            })
            .sum();
        Self {
            tool: "rampart-bench",
            version: env!("CARGO_PKG_VERSION"),
            endpoint: header.endpoint,
            workload: header.workload,
            mode: if header.target_rate.is_some() {
                "open"
            } else {
                "closed"
            },
            target_rate: header.target_rate,
            connections: header.connections,
            distribution: header.distribution,
            keyspace: header.keyspace,
            item_size: header.item_size,
            query_items: header.query_items,
            batch_size: header.batch_size,
            warmup_s: header.warmup_s,
            duration_s: seconds,
            requests: total.requests(),
            ok: total.ok,
            errors: total.errors.clone(),
            throughput_rps: per_second(total.ok, seconds),
            items_written_per_s: per_second(items_written, seconds),
            latency_us: Latency::of(&total.latency),
            operations: stats
                .ops
                .iter()
                .map(|(op, s)| (op.name().to_owned(), OpReport::of(s, seconds)))
                .collect(),
            misses: total.misses,
            unprocessed_items: total.unprocessed,
            unsent,
            server,
        }
    }

    /// The report as a table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let mode = match self.target_rate {
            Some(r) => format!("open loop at {r:.0} req/s"),
            None => "closed loop".to_owned(),
        };
        let _ = writeln!(
            out,
            "{} against {}: {} connections, {mode}, {:.1} s measured, {} keys ({}), ~{} B items",
            self.workload,
            self.endpoint,
            self.connections,
            self.duration_s,
            self.keyspace,
            self.distribution,
            self.item_size
        );
        let _ = writeln!(
            out,
            "{:<16} {:>10} {:>8} {:>11} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "operation",
            "requests",
            "errors",
            "req/s",
            "p50 ms",
            "p90 ms",
            "p99 ms",
            "p99.9 ms",
            "max ms"
        );
        let mut line = |name: &str, requests: u64, ok: u64, rps: f64, l: &Latency| {
            let _ = writeln!(
                out,
                "{name:<16} {requests:>10} {:>8} {rps:>11.1} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
                requests - ok,
                l.p50 / 1000.0,
                l.p90 / 1000.0,
                l.p99 / 1000.0,
                l.p999 / 1000.0,
                l.max / 1000.0
            );
        };
        for (name, op) in &self.operations {
            line(name, op.requests, op.ok, op.throughput_rps, &op.latency_us);
        }
        if self.operations.len() > 1 {
            line(
                "total",
                self.requests,
                self.ok,
                self.throughput_rps,
                &self.latency_us,
            );
        }
        for (ty, n) in &self.errors {
            let _ = writeln!(out, "error {ty}: {n}");
        }
        if self.misses > 0 {
            let _ = writeln!(
                out,
                "GetItem found no item {} times (was the table prepared with --prepare?)",
                self.misses
            );
        }
        if self.unprocessed_items > 0 {
            let _ = writeln!(out, "unprocessed items: {}", self.unprocessed_items);
        }
        if self.unsent > 0 {
            let _ = writeln!(
                out,
                "{} scheduled requests were not sent before the end (the server fell behind the rate)",
                self.unsent
            );
        }
        if let Some(s) = &self.server {
            let kib = |v: Option<u64>| {
                v.map_or("?".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0))
            };
            let _ = writeln!(
                out,
                "server pid {}: RSS {} before, {} max, {} after; CPU {}",
                s.pid,
                kib(s.rss_before_kib),
                kib(s.rss_max_kib),
                kib(s.rss_after_kib),
                s.cpu_seconds
                    .map_or("?".to_owned(), |c| format!("{c:.2} s")),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> ReportHeader {
        ReportHeader {
            endpoint: "http://127.0.0.1:1".into(),
            workload: "ycsb-a".into(),
            target_rate: None,
            connections: 2,
            distribution: "uniform".into(),
            keyspace: 10,
            item_size: 100,
            query_items: 10,
            batch_size: 25,
            warmup_s: 0.0,
        }
    }

    #[test]
    fn merged_worker_stats_add_up_in_the_report() {
        let mut a = Stats::default();
        for us in 1..=100 {
            a.ok(Op::GetItem, us * 1000);
        }
        let mut b = Stats::default();
        b.ok(Op::UpdateItem, 5_000);
        b.error(Op::UpdateItem, "ConditionalCheckFailedException");
        b.error(Op::UpdateItem, "ConditionalCheckFailedException");
        a.merge(&b);
        let r = Report::new(header(), &a, 2.0, 0, None);
        assert_eq!(r.requests, 103);
        assert_eq!(r.ok, 101);
        assert_eq!(r.errors.get("ConditionalCheckFailedException"), Some(&2));
        assert!((r.throughput_rps - 50.5).abs() < 1e-9);
        assert!((r.items_written_per_s - 0.5).abs() < 1e-9);
        let get = &r.operations["GetItem"];
        assert!(
            (get.latency_us.p50 - 50.0).abs() < 0.1,
            "{:?}",
            get.latency_us
        );
        assert!((get.latency_us.p99 - 99.0).abs() < 0.1);
        assert!((get.latency_us.max - 100.0).abs() < 0.1);
        assert_eq!(r.operations["UpdateItem"].errors.len(), 1);
    }

    #[test]
    fn report_serialises_percentiles_and_errors_to_json() {
        let mut s = Stats::default();
        s.ok(Op::PutItem, 250_000);
        s.error(Op::PutItem, "HTTP 500");
        let r = Report::new(header(), &s, 1.0, 0, None);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["tool"], "rampart-bench");
        assert_eq!(v["mode"], "closed");
        assert_eq!(v["errors"]["HTTP 500"], 1);
        assert!(v["latency_us"]["p999"].as_f64().unwrap() > 249.0);
        assert!(r.table().contains("error HTTP 500: 1"));
    }

    #[test]
    fn empty_histogram_reports_zero_latency() {
        assert_eq!(Latency::of(&new_histogram()), Latency::default());
    }
}
