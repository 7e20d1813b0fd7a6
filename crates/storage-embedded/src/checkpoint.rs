//! Checkpoints that do not stall the writer.
//!
//! SQLite's automatic checkpoint runs inside the COMMIT that crosses the WAL
//! threshold: that commit, and every write queued behind it, waits while the
//! checkpoint copies the WAL's pages into the database file and syncs it
//! (several milliseconds under load, which was most of PutItem's open-loop
//! p99). Here the writer's automatic checkpoint is off and a checkpoint
//! happens in two phases:
//!
//! 1. a checkpointer thread, on its own connection, runs a PASSIVE
//!    checkpoint while the writer goes on committing (SQLite lets one
//!    checkpoint run beside one writer: it copies the frames committed when
//!    it started), then syncs the database file itself: SQLite syncs it only
//!    in a checkpoint that reaches the end of the WAL, which would leave
//!    every page copied so far to that last sync, inside phase 2;
//!    Phase 1 repeats (up to [`MAX_ROUNDS`] times) while more than
//!    [`TAIL_FRAMES`] frames were committed during the previous round: each
//!    round copies only what the one before left, so the rounds get shorter;
//! 2. then the writer runs a PASSIVE checkpoint itself, between two groups.
//!    Only the frames committed during the last round are left to copy
//!    (syncing the database file costs ~0.3 ms plus ~7 µs a page on this
//!    machine's disk), and since nothing commits during phase 2, the WAL is then
//!    fully copied and the next write transaction starts it again from the
//!    beginning (no reader holding an older snapshot), so the WAL file stays
//!    the same size and is overwritten instead of growing.
//!
//! The checkpointer thread runs ten nice levels below the rest of the
//! process (Linux, where nice is per thread): a round copies ~1 200 pages
//! in 6–9 ms of CPU, and at normal priority it took that time from the
//! request threads and the writer on a two-core machine, which showed in
//! PutItem's tail latency.
//!
//! INVARIANT: durability does not depend on checkpoints. A commit is synced
//! to the WAL before it is acknowledged; a checkpoint only moves synced
//! pages into the database file (with `synchronous=FULL` on both
//! connections, syncing the WAL before and the database file after), and a
//! crash in the middle of one is recovered from the WAL on the next open.
//! INVARIANT: only the writer thread drives [`Schedule`]; the checkpointer
//! thread only runs the checkpoints it is asked for.

use std::cell::Cell;
use std::fs::File;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use rusqlite::Connection;
use rusqlite::hooks::Wal;

use crate::{lock, wait};

/// WAL frames (pages) after which a background checkpoint starts. A
/// checkpoint writes each page once however many frames hold it, so under
/// a steady write load its cost is per checkpoint, not per frame.
pub(crate) const WAL_CHECKPOINT_PAGES: i64 = 10_000;

/// Frames left for the writer to copy (phase 2) below which no further
/// background round runs.
const TAIL_FRAMES: i64 = 64;

/// Past this many times the threshold, the writer waits for the running
/// background round instead of committing on: a checkpointer that cannot
/// keep up (the CPUs saturated, or writes faster than it copies) then slows
/// the writes down rather than letting the WAL grow without bound.
const HARD_FACTOR: i64 = 3;

/// Background rounds of one checkpoint at most, before the writer copies
/// what is left whatever its size (the writes may outpace the copying).
const MAX_ROUNDS: u32 = 4;

thread_local! {
    /// Frames in the WAL after the writer thread's last commit, as SQLite's
    /// WAL hook reported them (the hook is a plain `fn`, so the number goes
    /// through the thread it runs on: the writer's).
    static WAL_FRAMES: Cell<i64> = const { Cell::new(0) };
}

/// The WAL hook of the writer's connection: records the frame count.
/// Installing it turns SQLite's automatic checkpoint off (both use the one
/// hook).
fn record_frames(_wal: &Wal, frames: c_int) -> rusqlite::Result<()> {
    WAL_FRAMES.with(|f| f.set(i64::from(frames)));
    Ok(())
}

/// Turns SQLite's automatic checkpoint off on `conn` (the writer's) and
/// starts counting its WAL frames. Call it on the writer thread.
pub(crate) fn install_hook(conn: &Connection) {
    conn.wal_hook(Some(record_frames));
}

/// Frames in the WAL after this thread's last commit.
fn wal_frames() -> i64 {
    WAL_FRAMES.with(Cell::get)
}

/// What the checkpointer thread and the writer share.
struct Shared {
    /// Whether a checkpoint is asked for (and not yet started), or the
    /// thread must stop.
    state: Mutex<Ask>,
    wake: Condvar,
    /// Told (under `state`'s lock) when a round has returned.
    done: Condvar,
    /// Set when the last asked-for checkpoint has returned (done or not).
    finished: AtomicBool,
    /// WAL frames copied into the database file when it returned (0 if it
    /// failed).
    backfilled: AtomicI64,
}

#[derive(Default)]
struct Ask {
    run: bool,
    stop: bool,
}

/// Where the writer is in the two phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No checkpoint under way; one starts at `trigger` frames.
    Idle { trigger: i64 },
    /// The checkpointer thread is copying; this is its `n`th round.
    Background { round: u32 },
}

/// The writer's side: decides after each commit what to do next.
pub(crate) struct Schedule {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    phase: Phase,
    /// Frames at which a checkpoint starts ([`WAL_CHECKPOINT_PAGES`] but in tests).
    threshold: i64,
    /// Frames seen after the previous commit (a drop means the WAL restarted).
    last_frames: i64,
}

impl Schedule {
    /// Starts the checkpointer thread on `conn` (its own connection). With
    /// no connection, or if the thread cannot be started, the writer
    /// checkpoints alone, inline, as SQLite's automatic checkpoint would.
    /// `db_file`, a plain handle on the database file, is what the thread
    /// syncs after a round that stopped short of the WAL's end (see
    /// [`crate::conn::open_sync_handle`]).
    pub(crate) fn start(
        conn: Option<Connection>,
        db_file: Option<Arc<File>>,
        threshold: i64,
    ) -> Self {
        let threshold = threshold.max(1);
        let shared = Arc::new(Shared {
            state: Mutex::new(Ask::default()),
            wake: Condvar::new(),
            done: Condvar::new(),
            finished: AtomicBool::new(true),
            backfilled: AtomicI64::new(0),
        });
        let thread = conn.and_then(|conn| {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("rampart-sqlite-checkpoint".into())
                .spawn(move || run(&conn, db_file.as_deref(), &shared))
                .ok()
        });
        Self {
            shared,
            thread,
            phase: Phase::Idle { trigger: threshold },
            threshold,
            last_frames: 0,
        }
    }

    /// Called by the writer after each COMMIT, between groups: starts a
    /// background checkpoint when the WAL has grown enough, or finishes one
    /// (phase 2) once the background part has returned.
    pub(crate) fn after_commit(&mut self, writer: &Connection) {
        let frames = wal_frames();
        if frames < self.last_frames {
            // The WAL restarted: count from the beginning again.
            if let Phase::Idle { .. } = self.phase {
                self.phase = Phase::Idle {
                    trigger: self.threshold,
                };
            }
        }
        self.last_frames = frames;
        if matches!(self.phase, Phase::Background { .. })
            && frames >= self.threshold.saturating_mul(HARD_FACTOR)
        {
            self.wait_for_round();
        }
        match self.phase {
            Phase::Idle { trigger } if frames >= trigger => {
                if self.thread.is_some() {
                    self.background(1);
                } else {
                    self.finish(writer, frames);
                }
            }
            Phase::Background { round } if self.shared.finished.load(Ordering::Acquire) => {
                let tail = frames.saturating_sub(self.shared.backfilled.load(Ordering::Acquire));
                if tail > TAIL_FRAMES && round < MAX_ROUNDS {
                    self.background(round + 1);
                } else {
                    self.finish(writer, frames);
                }
            }
            Phase::Idle { .. } | Phase::Background { .. } => {}
        }
    }

    /// Blocks until the running background round has returned.
    fn wait_for_round(&self) {
        let mut ask = lock(&self.shared.state);
        while !self.shared.finished.load(Ordering::Acquire) && !ask.stop {
            ask = wait(&self.shared.done, ask);
        }
    }

    /// Asks the checkpointer thread for round `round` of phase 1.
    fn background(&mut self, round: u32) {
        self.shared.finished.store(false, Ordering::Release);
        lock(&self.shared.state).run = true;
        self.shared.wake.notify_one();
        self.phase = Phase::Background { round };
    }

    /// Phase 2: the writer copies what is left, so the next write restarts
    /// the WAL. If a reader still holds an old snapshot the WAL cannot
    /// restart; the next checkpoint is then due after a further eighth of
    /// the threshold, not at once.
    fn finish(&mut self, writer: &Connection, frames: i64) {
        let _copied = passive_checkpoint(writer);
        self.phase = Phase::Idle {
            trigger: frames
                .saturating_add(self.threshold / 8)
                .max(self.threshold),
        };
    }

    /// Stops the checkpointer thread (after the checkpoint it is running).
    pub(crate) fn stop(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        lock(&self.shared.state).stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ignored = thread.join();
        }
    }
}

impl Drop for Schedule {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// The checkpointer thread: one PASSIVE checkpoint per request.
fn run(conn: &Connection, db_file: Option<&File>, shared: &Shared) {
    lower_priority();
    loop {
        {
            let mut ask = lock(&shared.state);
            while !ask.run && !ask.stop {
                ask = wait(&shared.wake, ask);
            }
            if ask.stop {
                return;
            }
            ask.run = false;
        }
        let (in_wal, backfilled) = passive_checkpoint(conn).unwrap_or((0, 0));
        // A round that copied the whole WAL was synced by SQLite itself.
        if let Some(file) = db_file.filter(|_| backfilled < in_wal) {
            // Writes back the pages this round copied, so that the sync of
            // phase 2 finds only the last round's. An error here loses
            // nothing: SQLite's own sync of the file (on its own
            // descriptor, which sees the same writeback error) refuses to
            // let the WAL restart.
            let _ignored = file.sync_data();
        }
        shared.backfilled.store(backfilled, Ordering::Release);
        let _held = lock(&shared.state);
        shared.finished.store(true, Ordering::Release);
        shared.done.notify_all();
    }
}

/// Nice levels the checkpointer thread runs below the process.
const NICE_OFFSET: i32 = 10;

/// Lowers the calling thread's priority by [`NICE_OFFSET`] (capped at 19).
/// Best effort: a failure leaves it at the process's priority.
#[cfg(target_os = "linux")]
fn lower_priority() {
    use rustix::process::{getpriority_process, setpriority_process};
    // On Linux `PRIO_PROCESS` with no pid means the calling thread.
    if let Ok(nice) = getpriority_process(None) {
        let _ignored = setpriority_process(None, nice.saturating_add(NICE_OFFSET).min(19));
    }
}

/// Elsewhere nice is per process: leave it alone.
#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

/// A PASSIVE checkpoint on `conn`: copies what it can without waiting for
/// any lock, and returns how many frames the WAL holds and how many of
/// them are now in the database file. A failure (another checkpoint running, an I/O error)
/// loses nothing: the frames stay in the WAL for the next one.
fn passive_checkpoint(conn: &Connection) -> Option<(i64, i64)> {
    // The row is (busy, frames in the WAL, frames checkpointed).
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get(1)?, row.get(2)?))
    })
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const THRESHOLD: i64 = 300;

    fn wal_db(dir: &std::path::Path) -> Connection {
        let conn = Connection::open(dir.join("t.db")).unwrap();
        // synchronous=OFF: what is measured here is where the WAL goes, not
        // durability, and syncs would make the test slow.
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF;
             CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v BLOB);",
        )
        .unwrap();
        conn
    }

    /// What `n` single-row commits did to the WAL: the most frames it held,
    /// and how many times it restarted.
    fn write(conn: &Connection, schedule: &mut Schedule, n: i64) -> (i64, usize) {
        let (mut max, mut restarts, mut last) = (0, 0, 0);
        for k in 0..n {
            // Each row fills most of a page, so each commit adds frames.
            conn.execute(
                "INSERT OR REPLACE INTO t (k, v) VALUES (?1, zeroblob(3000))",
                [k % 500],
            )
            .unwrap();
            schedule.after_commit(conn);
            let frames = wal_frames();
            max = max.max(frames);
            if frames < last {
                restarts += 1;
            }
            last = frames;
        }
        (max, restarts)
    }

    /// A WAL database with the writer's hook installed, and a schedule with
    /// a checkpointer thread (`background`) or without.
    fn setup(background: bool) -> (tempfile::TempDir, Connection, Schedule) {
        let dir = tempfile::tempdir().unwrap();
        let writer = wal_db(dir.path());
        install_hook(&writer);
        let schedule = if background {
            let db_file = Arc::new(File::open(dir.path().join("t.db")).unwrap());
            Schedule::start(Some(wal_db(dir.path())), Some(db_file), THRESHOLD)
        } else {
            Schedule::start(None, None, THRESHOLD)
        };
        (dir, writer, schedule)
    }

    fn wal_len(dir: &std::path::Path) -> u64 {
        std::fs::metadata(dir.join("t.db-wal")).unwrap().len()
    }

    #[test]
    fn the_wal_restarts_instead_of_growing() {
        let (dir, writer, mut schedule) = setup(true);
        let (max, restarts) = write(&writer, &mut schedule, 6000);
        schedule.stop();
        // Without checkpoints the WAL would hold every commit's frames
        // (6000 or more); with them it restarts once past the threshold,
        // plus what committed while the background part ran.
        assert!(restarts >= 3, "{restarts} restarts, at most {max} frames");
        assert!(max < 4 * THRESHOLD, "{max} frames");
        assert!(wal_len(dir.path()) < 4 * THRESHOLD as u64 * 4200);
        let rows: i64 = writer
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 500);
    }

    #[test]
    fn without_a_thread_the_writer_checkpoints_inline() {
        let (_dir, writer, mut schedule) = setup(false);
        let (max, restarts) = write(&writer, &mut schedule, 3000);
        assert!(restarts >= 3, "{restarts} restarts, at most {max} frames");
        assert!(max < 2 * THRESHOLD, "{max} frames");
        drop(schedule);
    }

    #[test]
    fn a_reader_holding_a_snapshot_delays_the_restart_but_not_forever() {
        let (dir, writer, mut schedule) = setup(true);
        write(&writer, &mut schedule, 50);
        // A read transaction that stays open pins the WAL: it cannot restart.
        let reader = wal_db(dir.path());
        reader.execute_batch("BEGIN").unwrap();
        let _n: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        let (pinned_max, pinned_restarts) = write(&writer, &mut schedule, 2000);
        assert_eq!(pinned_restarts, 0);
        assert!(pinned_max > 2 * THRESHOLD, "{pinned_max}");
        reader.execute_batch("COMMIT").unwrap();
        let (_, restarts) = write(&writer, &mut schedule, 2000);
        assert!(restarts >= 1);
        schedule.stop();
    }
}
