//! The in-memory reference engine: the model that property tests compare
//! other engines with. Not durable.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::Mutex;

use crate::{
    Batch, CommitSeq, Committed, Direction, Engine, Error, KeyRange, Op, Result, TreeName,
    Versioned,
};

/// The trees and the last sequence number.
#[derive(Debug, Default)]
struct State {
    /// tree name → ordered key/value map.
    trees: HashMap<TreeName, BTreeMap<Vec<u8>, Versioned>>,
    /// The last assigned commit sequence number.
    seq: CommitSeq,
}

/// An engine that keeps everything in memory behind one mutex.
#[derive(Debug, Default)]
pub struct MemoryEngine {
    /// All state; one lock makes every commit trivially atomic.
    state: Mutex<State>,
}

impl MemoryEngine {
    /// An empty engine.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

fn bounds(range: &KeyRange) -> (Bound<&[u8]>, Bound<&[u8]>) {
    fn conv(b: &Bound<Vec<u8>>) -> Bound<&[u8]> {
        match b {
            Bound::Included(k) => Bound::Included(k.as_slice()),
            Bound::Excluded(k) => Bound::Excluded(k.as_slice()),
            Bound::Unbounded => Bound::Unbounded,
        }
    }
    (conv(&range.start), conv(&range.end))
}

fn range_is_empty(range: &KeyRange) -> bool {
    match (&range.start, &range.end) {
        (Bound::Included(s), Bound::Included(e)) => s > e,
        (Bound::Included(s), Bound::Excluded(e))
        | (Bound::Excluded(s), Bound::Included(e))
        | (Bound::Excluded(s), Bound::Excluded(e)) => s >= e,
        _ => false,
    }
}

#[async_trait::async_trait]
impl Engine for MemoryEngine {
    async fn get(&self, tree: &str, key: &[u8]) -> Result<Option<Versioned>> {
        Ok(self
            .lock()
            .trees
            .get(tree)
            .and_then(|t| t.get(key))
            .cloned())
    }

    async fn get_many(&self, keys: &[(TreeName, Vec<u8>)]) -> Result<Vec<Option<Versioned>>> {
        let state = self.lock();
        Ok(keys
            .iter()
            .map(|(tree, key)| state.trees.get(tree).and_then(|t| t.get(key)).cloned())
            .collect())
    }

    async fn scan(
        &self,
        tree: &str,
        range: KeyRange,
        dir: Direction,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Versioned)>> {
        let state = self.lock();
        let Some(t) = state.trees.get(tree) else {
            return Ok(Vec::new());
        };
        if range_is_empty(&range) {
            return Ok(Vec::new());
        }
        let iter = t.range::<[u8], _>(bounds(&range));
        let out: Vec<_> = match dir {
            Direction::Forward => iter
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            Direction::Reverse => iter
                .rev()
                .take(limit)
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        Ok(out)
    }

    async fn commit_fetching(&self, batch: Batch) -> Result<Committed> {
        let mut state = self.lock();
        for (index, p) in batch.preconditions.iter().enumerate() {
            let current = state
                .trees
                .get(&p.tree)
                .and_then(|t| t.get(&p.key))
                .map(|v| v.version);
            if current != p.expected {
                return Err(Error::Conflict { index });
            }
        }
        let fetched = batch
            .fetch
            .iter()
            .map(|(tree, key)| state.trees.get(tree).and_then(|t| t.get(key)).cloned())
            .collect();
        state.seq += 1;
        let seq = state.seq;
        for op in batch.ops {
            match op {
                Op::Put { tree, key, value } => {
                    state.trees.entry(tree).or_default().insert(
                        key,
                        Versioned {
                            value,
                            version: seq,
                        },
                    );
                }
                Op::Delete { tree, key } => {
                    if let Some(t) = state.trees.get_mut(&tree) {
                        t.remove(&key);
                    }
                }
                Op::DropTree { tree } => {
                    state.trees.remove(&tree);
                }
            }
        }
        Ok(Committed { seq, fetched })
    }

    async fn close(&self) -> Result<()> {
        Ok(())
    }
}

#[cfg(all(test, feature = "testkit"))]
mod tests {
    use std::sync::Arc;

    #[tokio::test]
    async fn memory_engine_conforms() {
        crate::testkit::conformance(Arc::new(super::MemoryEngine::new())).await;
    }
}
