//! `rampart-bench steadiness`: how steady the machine's CPUs are, measured with no server and
//! no load generator running.
//!
//! Each thread spins for the duration and counts how many fixed chunks of integer work it gets
//! through in every window (1 ms by default). On a steady machine every window of a thread
//! does about the same work. On a virtual machine whose physical cores are shared (other
//! tenants, SMT siblings, frequency changes), some windows do much less: the CPU ran slower,
//! or the vCPU did not run at all, while the guest saw nothing (no steal time, no
//! descheduling). An open-loop latency measurement taken during such a window sees a backlog
//! that no server caused, so `bench/run.sh` records this report next to its latencies.
//!
//! INVARIANT: a window's work is compared with the median window of the same thread, so the
//! report does not depend on how fast the CPU is, only on how much its speed moves.

use std::hint::black_box;
use std::time::{Duration, Instant};

use serde::Serialize;

/// Integer steps in one chunk of work between two clock reads (a few hundred nanoseconds).
const CHUNK_STEPS: u32 = 256;

/// What one thread measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreadReport {
    /// Windows measured.
    pub windows: usize,
    /// Chunks of work in the median window.
    pub median_chunks: u64,
    /// Work of the 1st-percentile window, as a fraction of the median.
    pub p1: f64,
    /// Work of the 10th-percentile window, as a fraction of the median.
    pub p10: f64,
    /// Share of windows below the threshold (0 to 1).
    pub slow_share: f64,
    /// Runs of consecutive slow windows lasting at least 10 ms.
    pub slow_runs_10ms: usize,
    /// The longest run of consecutive slow windows, in milliseconds.
    pub longest_slow_ms: f64,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Window length in milliseconds.
    pub window_ms: f64,
    /// A window is slow below this fraction of its thread's median.
    pub threshold: f64,
    /// Seconds each thread spun.
    pub seconds: f64,
    /// One report per spinning thread.
    pub threads: Vec<ThreadReport>,
}

impl Report {
    /// The report as a text table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "steadiness: {} thread(s) x {:.1} s in {} ms windows; slow = below {:.0}% of the \
             thread's median window\n",
            self.threads.len(),
            self.seconds,
            self.window_ms,
            self.threshold * 100.0
        );
        out.push_str("thread  windows  median  p1    p10   slow    runs>=10ms  longest ms\n");
        for (i, t) in self.threads.iter().enumerate() {
            out.push_str(&format!(
                "{i:<7} {:<8} {:<7} {:<5.2} {:<5.2} {:<7} {:<11} {:.0}\n",
                t.windows,
                t.median_chunks,
                t.p1,
                t.p10,
                format!("{:.1}%", t.slow_share * 100.0),
                t.slow_runs_10ms,
                t.longest_slow_ms
            ));
        }
        out
    }
}

/// Spins `threads` threads for `duration`, each counting its work per `window`, and reports.
pub fn measure(threads: usize, duration: Duration, window: Duration, threshold: f64) -> Report {
    let handles: Vec<_> = (0..threads.max(1))
        .map(|_| std::thread::spawn(move || spin(duration, window)))
        .collect();
    let threads = handles
        .into_iter()
        .filter_map(|h| h.join().ok())
        .map(|counts| summarize(&counts, window, threshold))
        .collect();
    Report {
        window_ms: window.as_secs_f64() * 1e3,
        threshold,
        seconds: duration.as_secs_f64(),
        threads,
    }
}

/// Work chunks done in each window of `window`, for `duration`.
fn spin(duration: Duration, window: Duration) -> Vec<u64> {
    let window = window.max(Duration::from_micros(100));
    let start = Instant::now();
    let mut counts = Vec::with_capacity(
        usize::try_from(duration.as_nanos() / window.as_nanos().max(1)).unwrap_or(0) + 1,
    );
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut window_end = start + window;
    let end = start + duration;
    let mut chunks = 0u64;
    loop {
        for _ in 0..CHUNK_STEPS {
            // xorshift64: cheap, and black_box keeps the optimiser from folding it away.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state = black_box(state);
        }
        chunks += 1;
        let now = Instant::now();
        if now >= window_end {
            counts.push(chunks);
            chunks = 0;
            // A window that overran (the thread did not run at all) counts as one slow window
            // per missed window: the time passed without work.
            while window_end <= now {
                window_end += window;
                if window_end <= now {
                    counts.push(0);
                }
            }
            if now >= end {
                break;
            }
        }
    }
    counts
}

/// The report of one thread's per-window counts.
pub fn summarize(counts: &[u64], window: Duration, threshold: f64) -> ThreadReport {
    let mut sorted = counts.to_vec();
    sorted.sort_unstable();
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0);
    let fraction = |q: usize| -> f64 {
        if median == 0 {
            return 0.0;
        }
        let i = (sorted.len().saturating_sub(1) * q) / 100;
        sorted.get(i).map_or(0.0, |&c| c as f64 / median as f64)
    };
    let limit = median as f64 * threshold;
    let is_slow = |c: u64| (c as f64) < limit;
    let window_ms = window.as_secs_f64() * 1e3;
    let mut runs_10ms = 0;
    let mut longest = 0usize;
    let mut current = 0usize;
    let mut slow = 0usize;
    for &c in counts {
        if is_slow(c) {
            slow += 1;
            current += 1;
        } else {
            if current as f64 * window_ms >= 10.0 {
                runs_10ms += 1;
            }
            current = 0;
        }
        longest = longest.max(current);
    }
    if current as f64 * window_ms >= 10.0 {
        runs_10ms += 1;
    }
    ThreadReport {
        windows: counts.len(),
        median_chunks: median,
        p1: fraction(1),
        p10: fraction(10),
        slow_share: if counts.is_empty() {
            0.0
        } else {
            slow as f64 / counts.len() as f64
        },
        slow_runs_10ms: runs_10ms,
        longest_slow_ms: longest as f64 * window_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_steady_thread_has_no_slow_window() {
        let r = summarize(&[100; 500], MS, 0.7);
        assert_eq!(r.windows, 500);
        assert_eq!(r.median_chunks, 100);
        assert_eq!((r.p1, r.p10), (1.0, 1.0));
        assert_eq!(r.slow_share, 0.0);
        assert_eq!((r.slow_runs_10ms, r.longest_slow_ms), (0, 0.0));
    }

    #[test]
    fn slow_runs_are_counted_by_length() {
        // 100 steady windows, a 25 ms run at half speed, 50 steady, a 3 ms dip, 20 steady,
        // then a 12 ms run that lasts to the end.
        let mut c = vec![100u64; 100];
        c.extend([50; 25]);
        c.extend([100; 50]);
        c.extend([10; 3]);
        c.extend([100; 20]);
        c.extend([0; 12]);
        let r = summarize(&c, MS, 0.7);
        assert_eq!(r.median_chunks, 100);
        assert_eq!(r.slow_runs_10ms, 2);
        assert_eq!(r.longest_slow_ms, 25.0);
        let slow = (25 + 3 + 12) as f64 / c.len() as f64;
        assert!((r.slow_share - slow).abs() < 1e-12);
        assert_eq!(r.p1, 0.0);
        assert_eq!(r.p10, 0.5);
    }

    #[test]
    fn the_threshold_is_relative_to_the_median() {
        let c: Vec<u64> = [1000u64, 1000, 1000, 690, 1000, 700].to_vec();
        let r = summarize(&c, MS, 0.7);
        assert_eq!(r.median_chunks, 1000);
        assert!((r.slow_share - 1.0 / 6.0).abs() < 1e-12);
        let r = summarize(&c, Duration::from_millis(5), 0.7);
        assert_eq!(r.longest_slow_ms, 5.0);
        assert_eq!(r.slow_runs_10ms, 0);
    }

    #[test]
    fn nothing_measured_reports_zeros() {
        let r = summarize(&[], MS, 0.7);
        assert_eq!(r.windows, 0);
        assert_eq!(
            (r.median_chunks, r.slow_share, r.longest_slow_ms),
            (0, 0.0, 0.0)
        );
    }

    #[test]
    fn spinning_fills_every_window() {
        let started = Instant::now();
        let counts = spin(Duration::from_millis(50), Duration::from_millis(5));
        let elapsed = started.elapsed();
        // One count per 5 ms that passed (windows the thread missed count 0): ten, or more if
        // the thread was held past the end.
        let passed = (elapsed.as_micros() / 5000) as usize;
        assert!(
            counts.len() >= 10 && counts.len() <= passed + 1,
            "{counts:?} in {elapsed:?}"
        );
        assert!(counts.iter().any(|&c| c > 0));
        let r = measure(2, Duration::from_millis(30), MS, 0.7);
        assert_eq!(r.threads.len(), 2);
        // Other tests may hold the CPUs, so a thread's median window can be empty: only the
        // window count is certain.
        assert!(r.threads.iter().all(|t| t.windows >= 30));
        assert!(r.table().contains("runs>=10ms"));
    }
}
