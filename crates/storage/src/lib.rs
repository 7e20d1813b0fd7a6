//! Rampart's storage trait: named, ordered byte-key trees with atomic batches
//! whose preconditions are checked at commit (optimistic concurrency).
//!
//! This crate knows no backend and nothing of DynamoDB. The embedded engine
//! (`storage-embedded`) and later the PostgreSQL engine implement [`Engine`];
//! [`MemoryEngine`] is the reference model. Every backend runs
//! [`testkit::conformance`] (feature `testkit`).
//!
//! INVARIANT: a [`Batch`] is applied entirely or not at all; when `commit`
//! returns `Ok`, the batch is durable (it survives `kill -9` and power loss
//! on backends that claim durability).
//! INVARIANT: every key written by one commit gets that commit's sequence
//! number as its version; sequence numbers only grow.

mod memory;
#[cfg(feature = "testkit")]
pub mod testkit;

use std::ops::Bound;

pub use memory::MemoryEngine;

/// A tree name. Trees spring into existence on first write and are ordered
/// independently. Names are ASCII; a backend may map a name prefix (for
/// example `t/<table-id>/`) onto a file of its own.
pub type TreeName = String;

/// The commit sequence number assigned to a successful commit.
pub type CommitSeq = u64;

/// A stored value with the sequence number of the commit that wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned {
    /// The stored bytes.
    pub value: Vec<u8>,
    /// The sequence number of the commit that last wrote this key.
    pub version: CommitSeq,
}

/// A key range within one tree. Bounds compare keys as unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    /// The lower bound.
    pub start: Bound<Vec<u8>>,
    /// The upper bound.
    pub end: Bound<Vec<u8>>,
}

impl KeyRange {
    /// Every key of the tree.
    pub fn all() -> Self {
        Self {
            start: Bound::Unbounded,
            end: Bound::Unbounded,
        }
    }

    /// Every key that starts with `prefix`.
    pub fn prefix(prefix: &[u8]) -> Self {
        Self {
            start: Bound::Included(prefix.to_vec()),
            end: match prefix_successor(prefix) {
                Some(end) => Bound::Excluded(end),
                None => Bound::Unbounded,
            },
        }
    }

    /// Whether `key` lies in the range.
    pub fn contains(&self, key: &[u8]) -> bool {
        let above = match &self.start {
            Bound::Included(s) => key >= s.as_slice(),
            Bound::Excluded(s) => key > s.as_slice(),
            Bound::Unbounded => true,
        };
        let below = match &self.end {
            Bound::Included(e) => key <= e.as_slice(),
            Bound::Excluded(e) => key < e.as_slice(),
            Bound::Unbounded => true,
        };
        above && below
    }
}

/// The smallest key greater than every key with this prefix, or `None` when
/// the prefix is all `0xff` (no such key).
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last != 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// Scan order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Ascending key order.
    Forward,
    /// Descending key order.
    Reverse,
}

/// One write in a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Sets `key` to `value`.
    Put {
        /// The tree.
        tree: TreeName,
        /// The key.
        key: Vec<u8>,
        /// The new value.
        value: Vec<u8>,
    },
    /// Removes `key` (no error if absent).
    Delete {
        /// The tree.
        tree: TreeName,
        /// The key.
        key: Vec<u8>,
    },
    /// Removes every key of a tree.
    DropTree {
        /// The tree.
        tree: TreeName,
    },
}

/// A condition checked atomically with the commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Precondition {
    /// The tree.
    pub tree: TreeName,
    /// The key.
    pub key: Vec<u8>,
    /// `Some(v)`: the key must exist with version `v`; `None`: it must be absent.
    pub expected: Option<CommitSeq>,
}

/// Writes applied together or not at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Checked before anything is written; any failure aborts the batch.
    pub preconditions: Vec<Precondition>,
    /// Applied in order.
    pub ops: Vec<Op>,
    /// Keys read inside the commit, after every precondition held and
    /// before any op is applied: what they held just before this batch.
    /// Their values come back in [`Committed::fetched`], in this order.
    pub fetch: Vec<(TreeName, Vec<u8>)>,
}

/// What a commit returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    /// The commit's sequence number (the version of everything it put).
    pub seq: CommitSeq,
    /// One entry per [`Batch::fetch`] key: its value and version just before
    /// this batch was applied.
    pub fetched: Vec<Option<Versioned>>,
}

impl Batch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a put.
    pub fn put(&mut self, tree: impl Into<TreeName>, key: Vec<u8>, value: Vec<u8>) -> &mut Self {
        self.ops.push(Op::Put {
            tree: tree.into(),
            key,
            value,
        });
        self
    }

    /// Adds a delete.
    pub fn delete(&mut self, tree: impl Into<TreeName>, key: Vec<u8>) -> &mut Self {
        self.ops.push(Op::Delete {
            tree: tree.into(),
            key,
        });
        self
    }

    /// Adds a precondition.
    pub fn expect(
        &mut self,
        tree: impl Into<TreeName>,
        key: Vec<u8>,
        expected: Option<CommitSeq>,
    ) -> &mut Self {
        self.preconditions.push(Precondition {
            tree: tree.into(),
            key,
            expected,
        });
        self
    }

    /// Reads `key` inside the commit, before the ops (see [`Batch::fetch`]).
    pub fn fetch(&mut self, tree: impl Into<TreeName>, key: Vec<u8>) -> &mut Self {
        self.fetch.push((tree.into(), key));
        self
    }

    /// Whether the batch writes nothing, checks nothing and reads nothing.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.preconditions.is_empty() && self.fetch.is_empty()
    }
}

/// The one error type every engine returns.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A precondition failed; nothing was written. `index` is the position of
    /// the first failing precondition in the batch.
    #[error("precondition {index} failed")]
    Conflict {
        /// Index into `Batch::preconditions`.
        index: usize,
    },
    /// The engine could not read or write its files.
    #[error("storage I/O error: {0}")]
    Io(String),
    /// Stored data could not be decoded.
    #[error("storage corruption: {0}")]
    Corrupt(String),
    /// The engine has been closed.
    #[error("storage engine closed")]
    Closed,
    /// The engine's files are held by another process (or another engine of
    /// this one); nothing was opened. Worth retrying once the holder is gone.
    #[error("storage in use: {0}")]
    InUse(String),
}

/// Result alias for storage calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Ordered byte-key trees with atomic, precondition-checked batches.
/// Nothing DynamoDB-specific.
#[async_trait::async_trait]
pub trait Engine: Send + Sync + 'static {
    /// Reads one key.
    async fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Versioned>>;

    /// Reads several keys from one consistent snapshot; results in input order.
    async fn get_many(&self, keys: &[(TreeName, Vec<u8>)]) -> Result<Vec<Option<Versioned>>>;

    /// Reads up to `limit` entries of `range` in `dir` order, from one snapshot.
    async fn scan(
        &self,
        tree: &str,
        range: KeyRange,
        dir: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Versioned)>>;

    /// Checks every precondition, reads the batch's `fetch` keys, then
    /// applies every op, atomically and durably. Returns the commit's
    /// sequence number and the fetched values, or `Error::Conflict`.
    async fn commit_fetching(&self, batch: Batch) -> Result<Committed>;

    /// [`Engine::commit_fetching`] for a batch that fetches nothing (any
    /// fetched values are dropped).
    async fn commit(&self, batch: Batch) -> Result<CommitSeq> {
        Ok(self.commit_fetching(batch).await?.seq)
    }

    /// Flushes and stops background work; later calls may return `Error::Closed`.
    async fn close(&self) -> Result<()>;
}
