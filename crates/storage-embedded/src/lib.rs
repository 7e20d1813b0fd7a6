//! The embedded storage engine: [`SqliteEngine`] implements
//! [`rampart_storage::Engine`] on one SQLite database file in WAL mode.
//!
//! It owns the file layout of a data directory (`<dir>/rampart.db` and its
//! `-wal` companion; locked by one process, `conn::lock_dir`), the writer
//! thread that group-commits batches, and the pool of read connections. Why
//! SQLite, and the measurements behind it, are in
//! `docs/adr/0001-embedded-storage-engine.md`.
//!
//! It must not depend on anything DynamoDB-specific, nor on any Rampart crate
//! but `rampart-storage`: it stores named trees of opaque byte keys and
//! values. Only the `server` crate names it.
//!
//! INVARIANT: `commit` returns `Ok` only after the COMMIT holding the batch
//! returned with `synchronous=FULL`, so an acknowledged batch survives
//! `kill -9` and power loss.
//! INVARIANT: a batch is applied entirely or not at all (one SAVEPOINT inside
//! one transaction); preconditions are checked inside that transaction, by
//! the single writer, so no other write can slip between check and apply.
//! INVARIANT: keys compare as unsigned bytes (SQLite compares BLOBs with
//! memcmp), the order the trait requires.
//! INVARIANT: sequence numbers live in the database next to the data they
//! version, so they strictly increase across restarts.
//! INVARIANT: only `conn::open_connection` opens connections (the hook for
//! encryption at rest).

mod checkpoint;
mod conn;
mod read;
mod writer;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rampart_storage::{
    Batch, Committed, Direction, Engine, Error, KeyRange, Result, TreeName, Versioned,
};
use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::conn::{DB_FILE, Role, init_schema, lock_dir, open_connection, open_sync_handle};
use crate::read::ReadPool;
use crate::writer::{GroupLimits, Request};

/// The largest `Options::max_readers` honoured.
const MAX_READERS: usize = 1024;
/// The largest `Options::max_group_batches` honoured.
const MAX_GROUP_BATCHES: usize = 1 << 16;

/// Tuning knobs. [`Options::default`] is what the server uses; durability
/// is not a knob (every commit is synced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// Most read connections open at once, and so most reads running at
    /// once; further reads wait (asynchronously) for a free connection.
    /// Clamped to `1..=1024`.
    pub max_readers: usize,
    /// Most batches applied in one group commit (one transaction, one sync).
    /// Bounds the latency a large queue adds to the batches at its tail.
    /// Clamped to `1..=65536`.
    pub max_group_batches: usize,
    /// A group stops taking batches once their keys and values add up to
    /// this many bytes (the batch that crosses it is still included).
    pub max_group_bytes: usize,
    /// Reads expected to return at most this many rows (a `get` is one row,
    /// `get_many` one per key, a `scan` its `limit`) run directly on the
    /// calling task; larger ones move to `tokio::task::spawn_blocking` so
    /// they do not hold a runtime worker. Measured in the ADR.
    pub inline_read_rows: usize,
    /// SQLite page cache of each connection, in KiB (at least 64).
    pub cache_kib: u32,
    /// How long [`SqliteEngine::open`] waits for a data directory held by
    /// another process (a `rampart policy explain` reading it for a moment)
    /// before it reports [`Error::InUse`]. Zero: report it at once.
    pub lock_wait: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            max_readers: 4,
            max_group_batches: 256,
            max_group_bytes: 16 * 1024 * 1024,
            inline_read_rows: 128,
            cache_kib: 16 * 1024,
            lock_wait: Duration::ZERO,
        }
    }
}

/// The durable embedded engine: one SQLite file, one writer thread doing
/// group commit, a pool of concurrent readers.
///
/// Share it behind an `Arc`. [`Engine::close`] or dropping it stops the
/// writer thread after the batches already queued are committed; dropping
/// waits for that (at most one group commit), so a reopen of the same
/// directory never races the old writer.
///
/// A `commit` whose future is dropped after the batch reached the writer may
/// still be applied; callers that must know retry with a precondition.
pub struct SqliteEngine {
    /// State shared with reads moved to the blocking pool.
    inner: Arc<Inner>,
}

struct Inner {
    /// Set by `close`; every later call returns `Error::Closed`.
    closed: AtomicBool,
    /// Where batches go. `None` once closed. Cloned per commit so the lock
    /// is never held across an await.
    sender: Mutex<Option<mpsc::Sender<Request>>>,
    /// The writer thread, joined on close and on drop.
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Idle read connections.
    pool: ReadPool,
    /// Bounds concurrent reads (and so open read connections).
    readers: Semaphore,
    /// Reads with at most this many rows run inline.
    inline_read_rows: usize,
    /// The checkpointer's handle for syncing the database file.
    /// INVARIANT: the last field, so that it is dropped (closed) after the
    /// writer thread was joined (`Drop`) and the read pool's connections
    /// were closed: see `conn::open_sync_handle`.
    #[expect(dead_code, reason = "held only to be closed last")]
    db_file: Option<Arc<File>>,
    /// The data directory, open and `flock`ed exclusively while the engine
    /// lives (`conn::lock_dir`). After `db_file`, so it is released last.
    #[expect(dead_code, reason = "held only for its lock")]
    dir_lock: File,
}

impl std::fmt::Debug for SqliteEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteEngine")
            .field("closed", &self.inner.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Locks `m`, taking the data even if a thread panicked while holding it
/// (every lock in this crate guards state that stays consistent).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Waits on `cv` with `guard`, tolerating poison as [`lock`] does.
pub(crate) fn wait<'a, T>(
    cv: &std::sync::Condvar,
    guard: std::sync::MutexGuard<'a, T>,
) -> std::sync::MutexGuard<'a, T> {
    match cv.wait(guard) {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl SqliteEngine {
    /// Opens (creating if needed) the database in `dir`, recovers the WAL
    /// left by a crash, and starts the writer thread.
    ///
    /// Blocks while it opens and checks the file; call it at startup, not
    /// from a latency-sensitive task.
    pub fn open(dir: &Path, options: Options) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Io(format!("creating {}: {e}", dir.display())))?;
        let dir_lock = lock_dir(dir, options.lock_wait)?;
        let path = dir.join(DB_FILE);
        // Clamped so that no option value can make a constructor below
        // panic (tokio's semaphores and channels cap their sizes).
        let options = Options {
            max_readers: options.max_readers.clamp(1, MAX_READERS),
            max_group_batches: options.max_group_batches.clamp(1, MAX_GROUP_BATCHES),
            ..options
        };

        let write_conn = open_connection(&path, Role::Writer, &options)?;
        init_schema(&write_conn)?;
        let checkpoint_conn = open_connection(&path, Role::Checkpointer, &options)?;
        let db_file = open_sync_handle(&path).map(Arc::new);
        let writer_db_file = db_file.clone();

        // Open one reader now so a file readers cannot use fails here, not
        // on the first request.
        let pool = ReadPool::new(path.clone(), options.clone());
        let first_reader = pool.checkout()?;
        pool.checkin(first_reader);

        let limits = GroupLimits {
            max_batches: options.max_group_batches,
            max_bytes: options.max_group_bytes,
        };
        // Room for a few groups: enough to keep the writer busy, small enough
        // that a flood of writers waits (asynchronously) for room.
        let (tx, rx) = mpsc::channel(options.max_group_batches.saturating_mul(4));
        let thread = std::thread::Builder::new()
            .name("rampart-sqlite-writer".into())
            .spawn(move || writer::run(write_conn, checkpoint_conn, writer_db_file, rx, limits))
            .map_err(|e| Error::Io(format!("starting the writer thread: {e}")))?;

        Ok(Self {
            inner: Arc::new(Inner {
                closed: AtomicBool::new(false),
                sender: Mutex::new(Some(tx)),
                thread: Mutex::new(Some(thread)),
                pool,
                readers: Semaphore::new(options.max_readers),
                inline_read_rows: options.inline_read_rows,
                db_file,
                dir_lock,
            }),
        })
    }

    /// The database file inside `dir` that [`SqliteEngine::open`] uses.
    pub fn db_path(dir: &Path) -> PathBuf {
        dir.join(DB_FILE)
    }

    /// Runs `f` with a pooled read connection: inline when the read is
    /// expected to return at most `inline_read_rows` rows, otherwise on
    /// tokio's blocking pool (inline too when there is no tokio runtime).
    async fn read<T, F>(&self, rows: usize, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> Result<T> + Send + 'static,
    {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let _permit = self
            .inner
            .readers
            .acquire()
            .await
            .map_err(|_| Error::Closed)?;
        let inner = self.inner.clone();
        let run = move || {
            let conn = inner.pool.checkout()?;
            let result = f(&conn);
            if !inner.closed.load(Ordering::Acquire) {
                inner.pool.checkin(conn);
            }
            result
        };
        if rows > self.inner.inline_read_rows
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            return handle
                .spawn_blocking(run)
                .await
                .map_err(|e| Error::Io(format!("read task failed: {e}")))?;
        }
        run()
    }
}

#[async_trait::async_trait]
impl Engine for SqliteEngine {
    async fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Versioned>> {
        // Inline reads borrow nothing past this call, but the closure must
        // be 'static for the blocking path; a point get is always inline
        // unless `inline_read_rows` is 0.
        let (tree, key) = (tree.to_owned(), key.to_vec());
        self.read(1, move |conn| read::get(conn, &tree, &key)).await
    }

    async fn get_many(&self, keys: &[(TreeName, Vec<u8>)]) -> Result<Vec<Option<Versioned>>> {
        if keys.is_empty() {
            return if self.inner.closed.load(Ordering::Acquire) {
                Err(Error::Closed)
            } else {
                Ok(Vec::new())
            };
        }
        let keys = keys.to_vec();
        self.read(keys.len(), move |conn| read::get_many(conn, &keys))
            .await
    }

    async fn scan(
        &self,
        tree: &str,
        range: KeyRange,
        dir: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Versioned)>> {
        let tree = tree.to_owned();
        self.read(limit, move |conn| {
            read::scan(conn, &tree, &range, dir, limit)
        })
        .await
    }

    async fn commit_fetching(&self, batch: Batch) -> Result<Committed> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let Some(sender) = lock(&self.inner.sender).clone() else {
            return Err(Error::Closed);
        };
        let (reply, answer) = oneshot::channel();
        sender
            .send(Request::Commit { batch, reply })
            .await
            .map_err(|_| Error::Closed)?;
        // INVARIANT: the writer replies only after the group's COMMIT; a
        // dropped reply means the thread stopped without committing it.
        answer.await.map_err(|_| self.stopped_error())?
    }

    async fn close(&self) -> Result<()> {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let sender = lock(&self.inner.sender).take();
        if let Some(sender) = sender {
            let (reply, done) = oneshot::channel();
            // Queued behind every batch already sent: those are committed
            // (and answered) before the writer stops.
            if sender.send(Request::Close { reply }).await.is_ok() {
                let _stopped = done.await;
            }
        }
        self.inner.pool.clear();
        // The thread has replied and is exiting; joining is immediate.
        let thread = lock(&self.inner.thread).take();
        if let Some(thread) = thread {
            thread
                .join()
                .map_err(|_| Error::Io("the writer thread panicked".into()))?;
        }
        Ok(())
    }
}

impl SqliteEngine {
    fn stopped_error(&self) -> Error {
        if self.inner.closed.load(Ordering::Acquire) {
            Error::Closed
        } else {
            Error::Io("the writer thread stopped".into())
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Dropping the last sender lets the writer drain the queue and exit;
        // joining makes sure it released the file before a reopen.
        drop(lock(&self.sender).take());
        if let Some(thread) = lock(&self.thread).take() {
            let _ignored = thread.join();
        }
    }
}
