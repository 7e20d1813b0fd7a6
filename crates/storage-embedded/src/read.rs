//! Reads: a small pool of read-only connections and the queries they run.
//!
//! WAL mode lets these connections read while the writer thread commits;
//! each read transaction sees the last COMMIT that finished before it began.
//!
//! INVARIANT: a pooled connection is never inside a transaction; every
//! function here ends the transaction it opened before returning, on success
//! and on error alike (a connection whose transaction could not be ended is
//! dropped, not pooled).

use std::ops::Bound;
use std::path::PathBuf;
use std::sync::Mutex;
use std::thread::ThreadId;

use rampart_storage::{Direction, Error, KeyRange, TreeName, Versioned};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, Row, ToSql, params};

use crate::Options;
use crate::conn::{Role, from_db_seq, open_connection, sql_error};

/// Idle read connections. The number checked out at once is bounded by the
/// engine's semaphore, so this never holds more than `max_readers`.
pub(crate) struct ReadPool {
    /// The database file, to open connections lazily.
    path: PathBuf,
    /// The options connections are opened with.
    options: Options,
    /// Idle connections with the thread that last used each, reused
    /// last-in first-out (warmest cache first), preferring one the asking
    /// thread used last: its pages and statements are still in that CPU's
    /// caches, while one the other worker thread just returned is not.
    idle: Mutex<Vec<(ThreadId, Connection)>>,
}

impl ReadPool {
    /// A pool with no idle connection yet.
    pub(crate) fn new(path: PathBuf, options: Options) -> Self {
        Self {
            path,
            options,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<(ThreadId, Connection)>> {
        crate::lock(&self.idle)
    }

    /// An idle connection (the newest this thread returned, else the
    /// newest), or a new one.
    pub(crate) fn checkout(&self) -> Result<Connection, Error> {
        let me = std::thread::current().id();
        let taken = {
            let mut idle = self.idle();
            match idle.iter().rposition(|(last, _)| *last == me) {
                Some(i) => Some(idle.remove(i)),
                None => idle.pop(),
            }
        };
        match taken {
            Some((_, conn)) => Ok(conn),
            None => open_connection(&self.path, Role::Reader, &self.options),
        }
    }

    /// Returns a connection to the pool, unless it is left inside a
    /// transaction (then it is dropped, which rolls that back).
    pub(crate) fn checkin(&self, conn: Connection) {
        if conn.is_autocommit() {
            self.idle().push((std::thread::current().id(), conn));
        }
    }

    /// Drops every idle connection (on close).
    pub(crate) fn clear(&self) {
        self.idle().clear();
    }
}

/// Reads one key.
pub(crate) fn get(conn: &Connection, tree: &str, key: &[u8]) -> Result<Option<Versioned>, Error> {
    let mut stmt = conn
        .prepare_cached("SELECT value, version FROM kv WHERE tree = ?1 AND key = ?2")
        .map_err(|e| sql_error("get", e))?;
    let mut rows = stmt
        .query(params![tree, key])
        .map_err(|e| sql_error("get", e))?;
    match rows.next().map_err(|e| sql_error("get", e))? {
        Some(row) => Ok(Some(versioned(row, 0)?)),
        None => Ok(None),
    }
}

/// Reads several keys inside one read transaction (one snapshot).
pub(crate) fn get_many(
    conn: &Connection,
    keys: &[(TreeName, Vec<u8>)],
) -> Result<Vec<Option<Versioned>>, Error> {
    in_read_txn(conn, || {
        keys.iter()
            .map(|(tree, key)| get(conn, tree, key))
            .collect()
    })
}

/// Reads up to `limit` entries of `range` in `dir` order. One statement
/// reads from one snapshot.
pub(crate) fn scan(
    conn: &Connection,
    tree: &str,
    range: &KeyRange,
    dir: Direction,
    limit: usize,
) -> Result<Vec<(Vec<u8>, Versioned)>, Error> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let mut sql = String::from("SELECT key, value, version FROM kv WHERE tree = ?");
    let mut args: Vec<&dyn ToSql> = vec![&tree];
    match &range.start {
        Bound::Included(k) => {
            sql.push_str(" AND key >= ?");
            args.push(k);
        }
        Bound::Excluded(k) => {
            sql.push_str(" AND key > ?");
            args.push(k);
        }
        Bound::Unbounded => {}
    }
    match &range.end {
        Bound::Included(k) => {
            sql.push_str(" AND key <= ?");
            args.push(k);
        }
        Bound::Excluded(k) => {
            sql.push_str(" AND key < ?");
            args.push(k);
        }
        Bound::Unbounded => {}
    }
    sql.push_str(match dir {
        Direction::Forward => " ORDER BY key ASC LIMIT ?",
        Direction::Reverse => " ORDER BY key DESC LIMIT ?",
    });
    let sql_limit = i64::try_from(limit).unwrap_or(i64::MAX);
    args.push(&sql_limit);

    let mut stmt = conn
        .prepare_cached(&sql)
        .map_err(|e| sql_error("scan", e))?;
    let mut rows = stmt
        .query(args.as_slice())
        .map_err(|e| sql_error("scan", e))?;
    let mut out = Vec::with_capacity(limit.min(1024));
    while let Some(row) = rows.next().map_err(|e| sql_error("scan", e))? {
        let key = blob(row, 0)?;
        out.push((key, versioned(row, 1)?));
    }
    Ok(out)
}

/// Runs `f` inside `BEGIN … COMMIT` so all its statements share a snapshot.
fn in_read_txn<T>(conn: &Connection, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    exec(conn, "BEGIN")?;
    let result = f();
    // Ending a read transaction cannot lose data; if it fails the pool drops
    // the connection (see `ReadPool::checkin`).
    let ended = exec(conn, "COMMIT");
    let value = result?;
    ended?;
    Ok(value)
}

fn exec(conn: &Connection, sql: &str) -> Result<(), Error> {
    let mut stmt = conn.prepare_cached(sql).map_err(|e| sql_error(sql, e))?;
    stmt.execute([]).map_err(|e| sql_error(sql, e))?;
    Ok(())
}

/// Decodes `value, version` starting at column `at`.
fn versioned(row: &Row<'_>, at: usize) -> Result<Versioned, Error> {
    let value = blob(row, at)?;
    let version: i64 = row.get(at + 1).map_err(|e| sql_error("read version", e))?;
    Ok(Versioned {
        value,
        version: from_db_seq(version)?,
    })
}

/// A BLOB column as bytes; any other type means the file was not written by
/// this engine.
fn blob(row: &Row<'_>, at: usize) -> Result<Vec<u8>, Error> {
    match row.get_ref(at).map_err(|e| sql_error("read column", e))? {
        ValueRef::Blob(b) => Ok(b.to_vec()),
        other => Err(Error::Corrupt(format!(
            "expected a BLOB, found {:?}",
            other.data_type()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Marks a connection (a per-connection setting) to tell it apart.
    fn mark(conn: &Connection, kib: i64) {
        conn.pragma_update(None, "cache_size", -kib).unwrap();
    }

    fn marked(conn: &Connection) -> i64 {
        let v: i64 = conn
            .query_row("PRAGMA cache_size", [], |r| r.get(0))
            .unwrap();
        -v
    }

    #[test]
    fn a_thread_gets_back_the_connection_it_returned_last() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA journal_mode=WAL; CREATE TABLE t (k INTEGER);")
            .unwrap();
        let pool = std::sync::Arc::new(ReadPool::new(path, Options::default()));
        let mine = pool.checkout().unwrap();
        mark(&mine, 1111);
        let theirs = pool.checkout().unwrap();
        mark(&theirs, 2222);
        pool.checkin(mine);
        // Another thread returns its connection after ours: the newest.
        let other = pool.clone();
        std::thread::spawn(move || other.checkin(theirs))
            .join()
            .unwrap();
        // Ours comes back to us, not the newest.
        let again = pool.checkout().unwrap();
        assert_eq!(marked(&again), 1111);
        // With none of ours idle, the newest of the rest.
        let next = pool.checkout().unwrap();
        assert_eq!(marked(&next), 2222);
    }
}
