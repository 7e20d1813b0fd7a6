//! The one place that opens SQLite connections, creates the schema, and
//! turns SQLite errors into [`rampart_storage::Error`].
//!
//! Encryption at rest plugs in here: a build against SQLCipher or SQLite3
//! Multiple Ciphers applies `PRAGMA key` as the first statement after
//! [`open_connection`] opens the file, before any other pragma reads a page.
//! Nothing else in the crate opens a connection.

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant};

use rampart_storage::{CommitSeq, Error};
use rusqlite::{Connection, OpenFlags, ffi};

use crate::Options;

/// The schema version this build reads and writes (`PRAGMA user_version`).
pub(crate) const SCHEMA_VERSION: i64 = 1;

/// The name of the database file inside the engine's directory.
pub(crate) const DB_FILE: &str = "rampart.db";

/// How long a connection waits for a lock held by another connection of this
/// process (the checkpointer's against the writer's) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// SQLite's unix VFS variant that takes one exclusive POSIX lock on the
/// database file the first time any connection of this process locks it, and
/// from then on coordinates the process's connections in memory: a read
/// transaction costs no `fcntl` calls (the plain "unix" VFS made four per
/// GetItem), and the WAL index lives in heap memory instead of a `-shm` file.
/// Another process cannot open the data directory while this one has it.
const VFS: &std::ffi::CStr = c"unix-excl";

/// How often [`lock_dir`] tries again while it waits for the directory.
const LOCK_POLL: Duration = Duration::from_millis(25);

/// The size (bytes) a checkpointed WAL file is truncated back to.
const WAL_SIZE_LIMIT: i64 = 64 * 1024 * 1024;

/// Prepared statements kept per connection: every scan shape (3 × 3 bounds ×
/// 2 directions) plus the point statements fit.
const STATEMENT_CACHE: usize = 48;

/// What a connection is for; decides its pragmas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// The single connection that writes (owned by the writer thread).
    Writer,
    /// A pooled connection that only reads.
    Reader,
    /// The connection that checkpoints the WAL beside the writer
    /// (`checkpoint.rs`).
    Checkpointer,
}

/// Opens a connection to `path` with the pragmas its role needs.
pub(crate) fn open_connection(
    path: &Path,
    role: Role,
    options: &Options,
) -> Result<Connection, Error> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn =
        Connection::open_with_flags_and_vfs(path, flags, VFS).map_err(|e| sql_error("open", e))?;
    // ENCRYPTION: `conn.pragma_update(None, "key", …)` goes here, before the
    // first statement that reads a page.
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| sql_error("busy_timeout", e))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // A negative cache_size is in KiB. A checkpoint reads the WAL and
    // writes the file directly, so its connection needs no cache.
    let cache_kib = match role {
        Role::Checkpointer => 64,
        Role::Writer | Role::Reader => options.cache_kib.max(64),
    };
    let cache = -i64::from(cache_kib);
    conn.pragma_update(None, "cache_size", cache)
        .map_err(|e| sql_error("cache_size", e))?;
    match role {
        Role::Writer => {
            // WAL: readers keep their snapshot while the writer commits.
            let mode: String = conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
                .map_err(|e| sql_error("journal_mode", e))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(Error::Io(format!(
                    "sqlite refused WAL mode (journal_mode is {mode})"
                )));
            }
            // INVARIANT: FULL syncs the WAL at every COMMIT, so a commit that
            // returned is on stable storage (kill -9 and power loss).
            conn.pragma_update(None, "synchronous", "FULL")
                .map_err(|e| sql_error("synchronous", e))?;
            // After a checkpoint, shrink a WAL that a burst made large.
            conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
                .map_err(|e| sql_error("journal_size_limit", e))?;
            // No checkpoint inside a COMMIT: `checkpoint.rs` schedules them
            // (and the writer thread installs its WAL hook).
            conn.pragma_update(None, "wal_autocheckpoint", 0)
                .map_err(|e| sql_error("wal_autocheckpoint", e))?;
        }
        Role::Checkpointer => {
            // A checkpoint syncs the WAL before copying it and the database
            // file after, as the writer's own checkpoints did.
            conn.pragma_update(None, "synchronous", "FULL")
                .map_err(|e| sql_error("synchronous", e))?;
            conn.pragma_update(None, "wal_autocheckpoint", 0)
                .map_err(|e| sql_error("wal_autocheckpoint", e))?;
        }
        Role::Reader => {
            conn.pragma_update(None, "query_only", true)
                .map_err(|e| sql_error("query_only", e))?;
        }
    }
    Ok(conn)
}

/// A plain read-only handle on the database file, used only to `fdatasync`
/// it: the checkpointer writes back the pages a background round copied
/// (`checkpoint.rs`). It reads and writes nothing, so encryption at rest
/// does not concern it.
///
/// INVARIANT: close it only after every SQLite connection on the file is
/// closed: closing any descriptor of a file drops all of the process's
/// POSIX locks on it, SQLite's included.
pub(crate) fn open_sync_handle(path: &Path) -> Option<File> {
    File::open(path).ok()
}

/// Opens `dir` and takes an exclusive `flock` on it, or fails with
/// [`Error::InUse`] if another process (or another engine of this one) still
/// holds the directory after `wait` (zero: at once). Polls every
/// [`LOCK_POLL`]; `flock` has no timed wait.
///
/// The [`VFS`] already keeps a second process out, but only through its
/// first `fcntl` lock on the database file, which SQLite retries for
/// [`BUSY_TIMEOUT`] before it reports "database is locked"; this lock says
/// what is wrong, immediately. `flock` and SQLite's `fcntl` locks do not
/// interact on Linux, and closing this descriptor drops no lock of SQLite's
/// (it is the directory, not the database file).
pub(crate) fn lock_dir(dir: &Path, wait: Duration) -> Result<File, Error> {
    let handle =
        File::open(dir).map_err(|e| Error::Io(format!("opening {}: {e}", dir.display())))?;
    let started = Instant::now();
    loop {
        match handle.try_lock() {
            Ok(()) => return Ok(handle),
            Err(std::fs::TryLockError::WouldBlock) => {
                let waited = started.elapsed();
                if waited >= wait {
                    let after = if wait.is_zero() {
                        String::new()
                    } else {
                        format!(" (still after {} ms)", waited.as_millis())
                    };
                    return Err(Error::InUse(format!(
                        "{} is in use by another Rampart process (or another storage engine of \
                         this one){after}",
                        dir.display()
                    )));
                }
                std::thread::sleep(LOCK_POLL.min(wait.saturating_sub(waited)));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::Io(format!("locking {}: {e}", dir.display())));
            }
        }
    }
}

/// Creates the schema on a fresh file, or checks the version of an existing
/// one. Returns the last committed sequence number.
pub(crate) fn init_schema(conn: &Connection) -> Result<CommitSeq, Error> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| sql_error("begin", e))?;
    let result = init_schema_in_txn(conn);
    let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
    let ended = conn.execute_batch(end).map_err(|e| sql_error("init", e));
    let seq = result?;
    ended?;
    Ok(seq)
}

fn init_schema_in_txn(conn: &Connection) -> Result<CommitSeq, Error> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(|e| sql_error("user_version", e))?;
    match version {
        0 => {
            // `kv`: every tree in one B-tree ordered by (tree, key); BLOB
            // comparison is memcmp, i.e. the unsigned bytewise order the
            // trait requires. `meta`: one row, the last commit sequence.
            conn.execute_batch(
                "CREATE TABLE kv (
                     tree TEXT NOT NULL,
                     key BLOB NOT NULL,
                     value BLOB NOT NULL,
                     version INTEGER NOT NULL,
                     PRIMARY KEY (tree, key)
                 ) WITHOUT ROWID;
                 CREATE TABLE meta (
                     id INTEGER PRIMARY KEY CHECK (id = 0),
                     seq INTEGER NOT NULL
                 );
                 INSERT INTO meta (id, seq) VALUES (0, 0);
                 PRAGMA user_version = 1;",
            )
            .map_err(|e| sql_error("create schema", e))?;
        }
        SCHEMA_VERSION => {}
        other => {
            return Err(Error::Corrupt(format!(
                "unknown schema version {other} (this build knows {SCHEMA_VERSION})"
            )));
        }
    }
    read_seq(conn)
}

/// Reads the last committed sequence number from `meta`.
pub(crate) fn read_seq(conn: &Connection) -> Result<CommitSeq, Error> {
    let mut stmt = conn
        .prepare_cached("SELECT seq FROM meta WHERE id = 0")
        .map_err(|e| sql_error("read seq", e))?;
    let mut rows = stmt.query([]).map_err(|e| sql_error("read seq", e))?;
    let Some(row) = rows.next().map_err(|e| sql_error("read seq", e))? else {
        return Err(Error::Corrupt("the meta row is missing".into()));
    };
    let seq: i64 = row.get(0).map_err(|e| sql_error("read seq", e))?;
    from_db_seq(seq)
}

/// A stored version or sequence number back to a [`CommitSeq`].
pub(crate) fn from_db_seq(v: i64) -> Result<CommitSeq, Error> {
    CommitSeq::try_from(v).map_err(|_| Error::Corrupt(format!("negative sequence number {v}")))
}

/// A [`CommitSeq`] as SQLite's signed 64-bit integer.
pub(crate) fn to_db_seq(v: CommitSeq) -> Result<i64, Error> {
    i64::try_from(v).map_err(|_| Error::Io(format!("sequence number {v} exhausted")))
}

/// Maps a SQLite error to the trait's error, naming what was being done.
/// Damaged files and values of the wrong type are `Corrupt`; everything
/// else (full disk, I/O failure, locks) is `Io`.
pub(crate) fn sql_error(what: &str, e: rusqlite::Error) -> Error {
    let corrupt = match &e {
        rusqlite::Error::SqliteFailure(f, _) => matches!(
            f.code,
            ffi::ErrorCode::DatabaseCorrupt | ffi::ErrorCode::NotADatabase
        ),
        rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..) => true,
        _ => false,
    };
    if corrupt {
        Error::Corrupt(format!("sqlite {what}: {e}"))
    } else {
        Error::Io(format!("sqlite {what}: {e}"))
    }
}
