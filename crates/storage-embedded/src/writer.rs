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

use std::fs::File;
use std::sync::Arc;

use rampart_storage::{Batch, CommitSeq, Committed, Error, Op, Versioned};
use rusqlite::{Connection, OptionalExtension, Statement, params};
use tokio::sync::{mpsc, oneshot};

use crate::checkpoint::{self, Schedule, WAL_CHECKPOINT_PAGES};
use crate::conn::{from_db_seq, sql_error, to_db_seq};

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
pub(crate) fn run(
    conn: Connection,
    checkpoint_conn: Connection,
    db_file: Option<Arc<File>>,
    mut rx: mpsc::Receiver<Request>,
    limits: GroupLimits,
) {
    // Every statement the writer runs, prepared once for the thread's life
    // (rusqlite's statement cache hashes the SQL text on every use).
    let mut stmts = Stmts::prepare(&conn).map_err(|e| e.to_string());
    checkpoint::install_hook(&conn);
    let mut checkpoints = Schedule::start(Some(checkpoint_conn), db_file, WAL_CHECKPOINT_PAGES);
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
            match &mut stmts {
                Ok(stmts) => {
                    commit_group(&conn, stmts, group);
                    checkpoints.after_commit(&conn);
                }
                Err(e) => {
                    for p in group {
                        let _ignored = p.reply.send(Err(Error::Io(format!(
                            "the writer could not prepare its statements: {e}"
                        ))));
                    }
                }
            }
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
    drop(stmts);
    checkpoints.stop();
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
fn commit_group(conn: &Connection, stmts: &mut Stmts<'_>, group: Vec<Pending>) {
    let mut results: Vec<Result<Committed, Error>> = Vec::with_capacity(group.len());
    let outcome = apply_group(stmts, &group, &mut results);
    let outcome = outcome.and_then(|any_written| {
        if any_written {
            exec(&mut stmts.commit, "COMMIT")
        } else {
            // Only conflicts (or nothing): no need to sync anything.
            exec(&mut stmts.rollback, "ROLLBACK")
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
    stmts: &mut Stmts<'_>,
    group: &[Pending],
    results: &mut Vec<Result<Committed, Error>>,
) -> Result<bool, Error> {
    exec(&mut stmts.begin, "BEGIN IMMEDIATE")?;
    let mut seq = read_seq(stmts)?;
    let start = seq;
    for p in group {
        exec(&mut stmts.savepoint, "SAVEPOINT batch")?;
        match apply_batch(stmts, &p.batch, seq) {
            Ok(done) => {
                exec(&mut stmts.release, "RELEASE batch")?;
                seq = done.seq;
                results.push(Ok(done));
            }
            Err(e) => {
                // Undo this batch only; the rest of the group goes on.
                exec(&mut stmts.rollback_to, "ROLLBACK TO batch")?;
                exec(&mut stmts.release, "RELEASE batch")?;
                results.push(Err(e));
            }
        }
    }
    if seq == start {
        return Ok(false);
    }
    let seq = to_db_seq(seq)?;
    stmts
        .write_seq
        .execute(params![seq])
        .map_err(|e| sql_error("write seq", e))?;
    Ok(true)
}

/// Every statement the writer runs, prepared once.
struct Stmts<'c> {
    begin: Statement<'c>,
    commit: Statement<'c>,
    rollback: Statement<'c>,
    savepoint: Statement<'c>,
    release: Statement<'c>,
    rollback_to: Statement<'c>,
    read_seq: Statement<'c>,
    write_seq: Statement<'c>,
    version: Statement<'c>,
    get: Statement<'c>,
    put: Statement<'c>,
    delete: Statement<'c>,
    drop_tree: Statement<'c>,
}

impl<'c> Stmts<'c> {
    fn prepare(conn: &'c Connection) -> Result<Self, Error> {
        let p = |sql: &str| conn.prepare(sql).map_err(|e| sql_error(sql, e));
        Ok(Self {
            begin: p("BEGIN IMMEDIATE")?,
            commit: p("COMMIT")?,
            rollback: p("ROLLBACK")?,
            savepoint: p("SAVEPOINT batch")?,
            release: p("RELEASE batch")?,
            rollback_to: p("ROLLBACK TO batch")?,
            read_seq: p("SELECT seq FROM meta WHERE id = 0")?,
            write_seq: p("UPDATE meta SET seq = ?1 WHERE id = 0")?,
            version: p("SELECT version FROM kv WHERE tree = ?1 AND key = ?2")?,
            get: p("SELECT value, version FROM kv WHERE tree = ?1 AND key = ?2")?,
            put: p(
                "INSERT INTO kv (tree, key, value, version) VALUES (?1, ?2, ?3, ?4)
                    ON CONFLICT (tree, key) DO UPDATE
                    SET value = excluded.value, version = excluded.version",
            )?,
            delete: p("DELETE FROM kv WHERE tree = ?1 AND key = ?2")?,
            drop_tree: p("DELETE FROM kv WHERE tree = ?1")?,
        })
    }
}

/// The last committed sequence number, inside the write transaction.
fn read_seq(stmts: &mut Stmts<'_>) -> Result<CommitSeq, Error> {
    let seq: i64 = stmts
        .read_seq
        .query_row([], |row| row.get(0))
        .optional()
        .map_err(|e| sql_error("read seq", e))?
        .ok_or_else(|| Error::Corrupt("the meta row is missing".into()))?;
    from_db_seq(seq)
}

/// Checks a batch's preconditions, reads its fetch keys, then applies its
/// ops with version `last + 1`. Returns that version and what was fetched.
fn apply_batch(stmts: &mut Stmts<'_>, batch: &Batch, last: CommitSeq) -> Result<Committed, Error> {
    for (index, p) in batch.preconditions.iter().enumerate() {
        let current: Option<i64> = stmts
            .version
            .query_row(params![p.tree, p.key], |row| row.get(0))
            .optional()
            .map_err(|e| sql_error("check precondition", e))?;
        let current = current.map(from_db_seq).transpose()?;
        if current != p.expected {
            return Err(Error::Conflict { index });
        }
    }
    let mut fetched = Vec::with_capacity(batch.fetch.len());
    for (tree, key) in &batch.fetch {
        let row: Option<(Vec<u8>, i64)> = stmts
            .get
            .query_row(params![tree, key], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()
            .map_err(|e| sql_error("fetch", e))?;
        fetched.push(
            row.map(|(value, v)| from_db_seq(v).map(|version| Versioned { value, version }))
                .transpose()?,
        );
    }
    let seq = last
        .checked_add(1)
        .ok_or_else(|| Error::Io("sequence numbers exhausted".into()))?;
    let version = to_db_seq(seq)?;
    for op in &batch.ops {
        match op {
            Op::Put { tree, key, value } => {
                stmts
                    .put
                    .execute(params![tree, key, value, version])
                    .map_err(|e| sql_error("put", e))?;
            }
            Op::Delete { tree, key } => {
                stmts
                    .delete
                    .execute(params![tree, key])
                    .map_err(|e| sql_error("delete", e))?;
            }
            Op::DropTree { tree } => {
                stmts
                    .drop_tree
                    .execute(params![tree])
                    .map_err(|e| sql_error("drop tree", e))?;
            }
        }
    }
    Ok(Committed { seq, fetched })
}

/// Runs one parameterless statement.
fn exec(stmt: &mut Statement<'_>, sql: &str) -> Result<(), Error> {
    stmt.execute([]).map_err(|e| sql_error(sql, e))?;
    Ok(())
}
