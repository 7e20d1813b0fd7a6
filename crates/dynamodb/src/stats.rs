//! Per-table item and byte counters for DescribeTable (`ItemCount`,
//! `TableSizeBytes`, `IndexSizeBytes`), kept in memory.
//!
//! A table's counters are computed lazily, by one scan of its trees, the
//! first time the table is described after the process starts; from then on
//! every committed write adjusts them by its exact deltas (items, bytes,
//! index entries), which the write knows because it committed under
//! preconditions on the versions it read.
//!
//! INVARIANT: a write applies its delta only after its commit succeeded, and
//! holds its tables' *gates* (shared) from before the commit until after the
//! delta is applied. The scan that computes counters holds the gate
//! exclusively, so it never runs while a write is between commit and delta:
//! every write is counted exactly once, either by the scan or by its delta.
//! Gates are always taken in table-id order, so writers touching several
//! tables cannot deadlock with each other or with a scan.
//! INVARIANT: anything whose effect on the counters is not known exactly
//! (an index backfill, dropping an index) *invalidates* the counters; the
//! next DescribeTable scans again. A scan that started before an
//! invalidation does not store its (stale) result.
//!
//! Exact within one process; a scale-out backend would need shared counters
//! (future work).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedRwLockReadGuard, RwLock};

use crate::catalog::{IndexMeta, TableMeta, TableStats};
use crate::items::StagedWrite;
use crate::layout;
use crate::value::item_size;

/// Counts of one table and its indexes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    /// Items in the table.
    pub items: i64,
    /// Σ item sizes.
    pub bytes: i64,
    /// Index name → (entries, Σ entry sizes).
    pub index: HashMap<String, (i64, i64)>,
}

impl Counters {
    fn add(&mut self, d: &Counters) {
        self.items += d.items;
        self.bytes += d.bytes;
        for (name, (n, b)) in &d.index {
            let e = self.index.entry(name.clone()).or_default();
            e.0 += n;
            e.1 += b;
        }
    }

    /// The counters as DescribeTable shows them (never negative).
    pub fn to_stats(&self) -> TableStats {
        let pos = |v: i64| u64::try_from(v).unwrap_or(0);
        TableStats {
            table_items: pos(self.items),
            table_bytes: pos(self.bytes),
            index: self
                .index
                .iter()
                .map(|(k, (n, b))| (k.clone(), (pos(*b), pos(*n))))
                .collect(),
        }
    }
}

/// The counters of one table incarnation and the gate that orders writes
/// against the scan that computes them.
#[derive(Debug, Default)]
struct Cell {
    /// Shared by writers around commit + delta, exclusive for the scan.
    gate: Arc<RwLock<()>>,
    /// `None` until computed (or after an invalidation), with a generation
    /// bumped by every invalidation.
    state: Mutex<(Option<Counters>, u64)>,
}

/// The counters of every table, by table id (a fresh id per incarnation).
#[derive(Debug, Default)]
pub(crate) struct Registry {
    cells: Mutex<HashMap<String, Arc<Cell>>>,
}

/// Held by a writer from before its commit until its deltas are applied.
pub(crate) struct WriteGuards {
    _guards: Vec<OwnedRwLockReadGuard<()>>,
}

impl Registry {
    fn cell(&self, table_id: &str) -> Option<Arc<Cell>> {
        let mut cells = self.cells.lock().ok()?;
        Some(
            cells
                .entry(table_id.to_owned())
                .or_insert_with(|| Arc::new(Cell::default()))
                .clone(),
        )
    }

    /// Takes the gates of these tables (shared, in id order).
    pub async fn enter_write<'a>(&self, table_ids: impl Iterator<Item = &'a str>) -> WriteGuards {
        let mut ids: Vec<&str> = table_ids.collect();
        ids.sort_unstable();
        ids.dedup();
        let mut guards = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(c) = self.cell(id) {
                guards.push(c.gate.clone().read_owned().await);
            }
        }
        WriteGuards { _guards: guards }
    }

    /// Adds a committed write's delta (ignored while counters are unknown).
    pub fn apply(&self, table_id: &str, delta: &Counters) {
        if let Some(c) = self.cell(table_id)
            && let Ok(mut st) = c.state.lock()
            && let Some(counters) = st.0.as_mut()
        {
            counters.add(delta);
        }
    }

    /// Forgets the counters; the next DescribeTable scans again.
    pub fn invalidate(&self, table_id: &str) {
        if let Some(c) = self.cell(table_id)
            && let Ok(mut st) = c.state.lock()
        {
            st.0 = None;
            st.1 += 1;
        }
    }

    /// Drops a deleted table's counters.
    pub fn forget(&self, table_id: &str) {
        if let Ok(mut cells) = self.cells.lock() {
            cells.remove(table_id);
        }
    }

    /// The counters if known.
    fn known(&self, cell: &Cell) -> Option<Counters> {
        cell.state.lock().ok().and_then(|st| st.0.clone())
    }

    /// The counters of `meta`'s table, computing them with `scan` (under the
    /// exclusive gate) when unknown.
    pub async fn get_or_compute<F, Fut, E>(&self, meta: &TableMeta, scan: F) -> Result<Counters, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Counters, E>>,
    {
        let Some(cell) = self.cell(&meta.id) else {
            return scan().await;
        };
        if let Some(c) = self.known(&cell) {
            return Ok(c);
        }
        let _exclusive = cell.gate.clone().write_owned().await;
        if let Some(c) = self.known(&cell) {
            return Ok(c);
        }
        let generation = cell.state.lock().map(|st| st.1).unwrap_or(0);
        let counted = scan().await?;
        if let Ok(mut st) = cell.state.lock()
            && st.1 == generation
        {
            st.0 = Some(counted.clone());
        }
        Ok(counted)
    }
}

/// What one index holds for `item`: (present, size of the projected entry).
fn index_entry(meta: &TableMeta, idx: &IndexMeta, item: &crate::value::Item) -> Option<i64> {
    layout::index_key_for(&meta.key, idx, item)?;
    let projected = layout::project_for_index(&meta.key, idx, item);
    Some(i64::try_from(item_size(&projected)).unwrap_or(i64::MAX))
}

/// The exact change a staged write makes to its table's counters.
pub(crate) fn delta(w: &StagedWrite) -> Counters {
    let meta = &w.table.meta;
    let size = |i: &crate::value::Item| i64::try_from(item_size(i)).unwrap_or(i64::MAX);
    let mut d = Counters {
        items: i64::from(w.new.is_some()) - i64::from(w.old.is_some()),
        bytes: w.new.as_ref().map(size).unwrap_or(0) - w.old.as_ref().map(size).unwrap_or(0),
        index: HashMap::new(),
    };
    for idx in &meta.indexes {
        let old = w.old.as_ref().and_then(|o| index_entry(meta, idx, o));
        let new = w.new.as_ref().and_then(|n| index_entry(meta, idx, n));
        let n = i64::from(new.is_some()) - i64::from(old.is_some());
        let b = new.unwrap_or(0) - old.unwrap_or(0);
        if n != 0 || b != 0 {
            d.index.insert(idx.name.clone(), (n, b));
        }
    }
    d
}

/// The change a write to a table without indexes makes to its counters,
/// from the sizes of the item it replaced or deleted and of the item it put
/// (`None`: there was none, or it deletes).
pub(crate) fn blind_delta(old_size: Option<usize>, new_size: Option<usize>) -> Counters {
    let size = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    Counters {
        items: i64::from(new_size.is_some()) - i64::from(old_size.is_some()),
        bytes: new_size.map(size).unwrap_or(0) - old_size.map(size).unwrap_or(0),
        index: HashMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_add_up_per_index() {
        let mut c = Counters::default();
        let mut d = Counters {
            items: 2,
            bytes: 10,
            index: HashMap::new(),
        };
        d.index.insert("g".into(), (1, 4));
        c.add(&d);
        c.add(&Counters {
            items: -1,
            bytes: -3,
            index: HashMap::from([("g".to_owned(), (-1, -4))]),
        });
        assert_eq!(c.items, 1);
        assert_eq!(c.bytes, 7);
        assert_eq!(c.index.get("g"), Some(&(0, 0)));
        let s = c.to_stats();
        assert_eq!((s.table_items, s.table_bytes), (1, 7));
    }

    #[test]
    fn negative_counts_show_as_zero() {
        let c = Counters {
            items: -1,
            bytes: -5,
            index: HashMap::new(),
        };
        let s = c.to_stats();
        assert_eq!((s.table_items, s.table_bytes), (0, 0));
    }
}
