//! The writer thread: the only code that writes, and where group commit
//! happens.
//!
//! Batches arrive over a bounded channel, each with a oneshot for its reply.
//! The thread takes every batch already waiting (up to the group bounds),
//! applies each one inside its own SAVEPOINT of one `BEGIN IMMEDIATE`
//! transaction, and COMMITs once: one WAL sync for the whole group. Only
//! after that COMMIT returns does any batch of the group get its reply.
//!
//! INVARIANT: no batch is acknowledged before the COMMIT that contains it
//! returned; if that COMMIT fails, every batch of the group gets `Error::Io`.
//! INVARIANT: a failing batch is rolled back to its savepoint and leaves no
//! trace; the other batches of its group are unaffected.
//! INVARIANT: sequence numbers are read from `meta` inside the write
//! transaction and written back in it, so they grow across restarts.

use rampart_storage::{Batch, CommitSeq, Committed, Error, Op};
use rusqlite::{Connection, params};
use tokio::sync::{mpsc, oneshot};

use crate::conn::{read_seq, sql_error, to_db_seq};

/// A message to the writer thread.
pub(crate) enum Request {
    /// Apply a batch and reply with its sequence number or its error.
    Commit {
        /// The batch.
        batch: Batch,
        /// Where the result goes once the group's COMMIT returned.
        reply: oneshot::Sender<Result<Committed, Error>>,
    },
    /// Finish every batch queued before this message, refuse the rest, then
    /// stop; reply when done.
    Close {
        /// Told when the thread has flushed and is about to exit.
        reply: oneshot::Sender<()>,
    },
}

/// Bounds on one group commit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GroupLimits {
    /// Most batches in one transaction.
    pub(crate) max_batches: usize,
    /// The group stops taking batches once this many key/value bytes are in.
    pub(crate) max_bytes: usize,
}

/// One batch of the group being built, with its reply channel.
struct Pending {
    batch: Batch,
    reply: oneshot::Sender<Result<Committed, Error>>,
}

/// The writer thread's loop. Returns when every sender is gone or a
/// `Close` arrived.
pub(crate) fn run(mut conn: Connection, mut rx: mpsc::Receiver<Request>, limits: GroupLimits) {
    let mut close_reply = None;
    while close_reply.is_none() {
        let Some(first) = rx.blocking_recv() else {
            break;
        };
        let mut group = Vec::new();
        let mut bytes = 0usize;
        let mut next = Some(first);
        while let Some(req) = next.take() {
            match req {
                Request::Commit { batch, reply } => {
                    bytes = bytes.saturating_add(batch_bytes(&batch));
                    group.push(Pending { batch, reply });
                }
                Request::Close { reply } => {
                    close_reply = Some(reply);
                    break;
                }
            }
            if group.len() >= limits.max_batches || bytes >= limits.max_bytes {
                break;
            }
            next = rx.try_recv().ok();
        }
        if !group.is_empty() {
            commit_group(&mut conn, group);
        }
    }
    // Refuse whatever was queued after Close (or raced with the last sender).
    rx.close();
    while let Ok(req) = rx.try_recv() {
        match req {
            Request::Commit { reply, .. } => {
                let _ignored = reply.send(Err(Error::Closed));
            }
            Request::Close { reply } => {
                let _ignored = reply.send(());
            }
        }
    }
    // Best effort: fold the WAL into the main file so a reopen starts small.
    // A failure here loses nothing; the WAL is replayed on the next open.
    let _ignored = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
    drop(conn);
    if let Some(reply) = close_reply {
        let _ignored = reply.send(());
    }
}

/// The key and value bytes a batch writes, for the group size bound.
fn batch_bytes(batch: &Batch) -> usize {
    batch.ops.iter().fold(0usize, |acc, op| {
        let n = match op {
            Op::Put { tree, key, value } => tree.len() + key.len() + value.len(),
            Op::Delete { tree, key } => tree.len() + key.len(),
            Op::DropTree { tree } => tree.len(),
        };
        acc.saturating_add(n)
    })
}

/// Applies a group in one transaction and replies to each batch after the
/// COMMIT.
fn commit_group(conn: &mut Connection, group: Vec<Pending>) {
    let mut results: Vec<Result<Committed, Error>> = Vec::with_capacity(group.len());
    let outcome = apply_group(conn, &group, &mut results);
    let outcome = outcome.and_then(|any_written| {
        if any_written {
            exec(conn, "COMMIT")
        } else {
            // Only conflicts (or nothing): no need to sync anything.
            exec(conn, "ROLLBACK")
        }
    });
    if let Err(e) = outcome {
        // Nothing of this group is acknowledged. ROLLBACK may itself fail
        // when the transaction is already gone; either way the connection
        // is back in autocommit mode or the next BEGIN reports the problem.
        if !conn.is_autocommit() {
            let _ignored = conn.execute_batch("ROLLBACK");
        }
        for p in group {
            let _ignored = p.reply.send(Err(Error::Io(format!(
                "group commit failed, batch not applied: {e}"
            ))));
        }
        return;
    }
    for (p, r) in group.into_iter().zip(results) {
        // A receiver that went away (caller cancelled) is not an error: the
        // batch is committed either way.
        let _ignored = p.reply.send(r);
    }
}

/// Runs the group inside `BEGIN IMMEDIATE`, pushing one result per batch.
/// Returns whether any batch wrote (so the caller must COMMIT), or the error
/// that makes the whole group fail.
fn apply_group(
    conn: &Connection,
    group: &[Pending],
    results: &mut Vec<Result<Committed, Error>>,
) -> Result<bool, Error> {
    exec(conn, "BEGIN IMMEDIATE")?;
    let mut seq = read_seq(conn)?;
    let start = seq;
    for p in group {
        exec(conn, "SAVEPOINT batch")?;
        match apply_batch(conn, &p.batch, seq) {
            Ok(done) => {
                exec(conn, "RELEASE batch")?;
                seq = done.seq;
                results.push(Ok(done));
            }
            Err(e) => {
                // Undo this batch only; the rest of the group goes on.
                exec(conn, "ROLLBACK TO batch")?;
                exec(conn, "RELEASE batch")?;
                results.push(Err(e));
            }
        }
    }
    if seq == start {
        return Ok(false);
    }
    let mut stmt = conn
        .prepare_cached("UPDATE meta SET seq = ?1 WHERE id = 0")
        .map_err(|e| sql_error("write seq", e))?;
    stmt.execute(params![to_db_seq(seq)?])
        .map_err(|e| sql_error("write seq", e))?;
    Ok(true)
}

/// Checks a batch's preconditions, reads its fetch keys, then applies its
/// ops with version `last + 1`. Returns that version and what was fetched.
fn apply_batch(conn: &Connection, batch: &Batch, last: CommitSeq) -> Result<Committed, Error> {
    {
        let mut stmt = conn
            .prepare_cached("SELECT version FROM kv WHERE tree = ?1 AND key = ?2")
            .map_err(|e| sql_error("check precondition", e))?;
        for (index, p) in batch.preconditions.iter().enumerate() {
            let mut rows = stmt
                .query(params![p.tree, p.key])
                .map_err(|e| sql_error("check precondition", e))?;
            let current = match rows
                .next()
                .map_err(|e| sql_error("check precondition", e))?
            {
                Some(row) => {
                    let v: i64 = row.get(0).map_err(|e| sql_error("check precondition", e))?;
                    Some(crate::conn::from_db_seq(v)?)
                }
                None => None,
            };
            if current != p.expected {
                return Err(Error::Conflict { index });
            }
        }
    }
    let fetched = batch
        .fetch
        .iter()
        .map(|(tree, key)| crate::read::get(conn, tree, key))
        .collect::<Result<Vec<_>, Error>>()?;
    let seq = last
        .checked_add(1)
        .ok_or_else(|| Error::Io("sequence numbers exhausted".into()))?;
    let version = to_db_seq(seq)?;
    for op in &batch.ops {
        match op {
            Op::Put { tree, key, value } => {
                let mut stmt = conn
                    .prepare_cached(
                        "INSERT INTO kv (tree, key, value, version) VALUES (?1, ?2, ?3, ?4)
                         ON CONFLICT (tree, key) DO UPDATE
                         SET value = excluded.value, version = excluded.version",
                    )
                    .map_err(|e| sql_error("put", e))?;
                stmt.execute(params![tree, key, value, version])
                    .map_err(|e| sql_error("put", e))?;
            }
            Op::Delete { tree, key } => {
                let mut stmt = conn
                    .prepare_cached("DELETE FROM kv WHERE tree = ?1 AND key = ?2")
                    .map_err(|e| sql_error("delete", e))?;
                stmt.execute(params![tree, key])
                    .map_err(|e| sql_error("delete", e))?;
            }
            Op::DropTree { tree } => {
                let mut stmt = conn
                    .prepare_cached("DELETE FROM kv WHERE tree = ?1")
                    .map_err(|e| sql_error("drop tree", e))?;
                stmt.execute(params![tree])
                    .map_err(|e| sql_error("drop tree", e))?;
            }
        }
    }
    Ok(Committed { seq, fetched })
}

/// Runs one parameterless statement through the statement cache.
fn exec(conn: &Connection, sql: &str) -> Result<(), Error> {
    let mut stmt = conn.prepare_cached(sql).map_err(|e| sql_error(sql, e))?;
    stmt.execute([]).map_err(|e| sql_error(sql, e))?;
    Ok(())
}
