//! Background work: the TTL sweeper and global secondary index backfills.

use std::sync::Arc;

use rampart_storage::Batch;

use crate::error::{DynamoError, Result};
use crate::items::{StagedWrite, stage};
use crate::layout;
use crate::service::DynamoDb;
use crate::value::{AttributeValue, Item};

/// DynamoDB ignores expiry times more than five years in the past.
const FIVE_YEARS_SECS: f64 = 5.0 * 365.0 * 86_400.0;
/// Items read per storage round trip by background scans.
const PAGE: usize = 500;

/// Whether `item` has expired under TTL attribute `attr` at `now`.
pub fn is_expired(item: &Item, attr: &str, now: f64) -> bool {
    match item.get(attr) {
        Some(AttributeValue::N(n)) => match n.to_string().parse::<f64>() {
            Ok(t) => t <= now && now - t <= FIVE_YEARS_SECS,
            Err(_) => false,
        },
        _ => false,
    }
}

impl DynamoDb {
    /// Deletes expired items of every table with TTL enabled. Each delete is
    /// conditioned on the item being unchanged since it was read, so a
    /// concurrent update that extends the expiry wins.
    pub async fn sweep_expired(&self) -> Result<usize> {
        let tables: Vec<_> = self
            .catalog
            .read()
            .map_err(|_| DynamoError::Internal("catalog lock".into()))?
            .values()
            .filter(|t| t.meta.ttl.as_ref().is_some_and(|x| x.enabled))
            .cloned()
            .collect();
        let now = self.now();
        let mut deleted = 0;
        for table in tables {
            let Some(attr) = table.meta.ttl.as_ref().map(|t| t.attribute.clone()) else {
                continue;
            };
            let mut expired = Vec::new();
            let mut after = None;
            loop {
                let page = self.item_page(&table.meta, after.take(), PAGE).await?;
                let full = page.len() == PAGE;
                for (key, version, item) in page {
                    after = Some(key.clone());
                    if is_expired(&item, &attr, now) {
                        expired.push((key, version, item));
                    }
                }
                if !full {
                    break;
                }
            }
            for (key, version, item) in expired {
                let mut batch = Batch::new();
                let w = StagedWrite {
                    table: table.clone(),
                    key,
                    version: Some(version),
                    old: Some(item),
                    new: None,
                };
                stage(&mut batch, &w)?;
                match self.commit_writes(batch, &[&w]).await {
                    Ok(_) => deleted += 1,
                    Err(rampart_storage::Error::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(deleted)
    }

    /// Restarts backfills a restart interrupted.
    pub(crate) async fn resume_backfills(self: &Arc<Self>) {
        let pending: Vec<(String, String, String)> = match self.catalog.read() {
            Ok(c) => c
                .values()
                .flat_map(|t| {
                    t.meta
                        .indexes
                        .iter()
                        .filter(|i| i.backfilling)
                        .map(|i| (t.meta.account.clone(), t.meta.name.clone(), i.name.clone()))
                        .collect::<Vec<_>>()
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        for (account, table, index) in pending {
            if let Err(e) = self.backfill(&account, &table, &index).await {
                tracing::warn!(error = %e, table, index, "index backfill failed");
            }
        }
    }

    /// Starts a backfill in the background.
    pub(crate) fn start_backfill(&self, account: String, table: String, index: String) {
        let Some(me) = self.self_ref() else {
            return;
        };
        tokio::spawn(async move {
            if let Err(e) = me.backfill(&account, &table, &index).await {
                tracing::warn!(error = %e, table, index, "index backfill failed");
            }
        });
    }

    /// Writes the index entries of every existing item, then marks the index
    /// ACTIVE. Writes made after the index was added maintain it themselves;
    /// each backfill write is conditioned on the item's version, so a newer
    /// write is never overwritten.
    pub(crate) async fn backfill(&self, account: &str, table: &str, index: &str) -> Result<()> {
        let Some(t) = self.table(account, table) else {
            return Ok(());
        };
        let Some(idx) = t.meta.index(index).cloned() else {
            return Ok(());
        };
        let meta = t.meta.clone();
        let mut after = None;
        loop {
            let page = self.item_page(&meta, after.take(), PAGE).await?;
            let full = page.len() == PAGE;
            for (key, version, item) in page {
                after = Some(key.clone());
                let Some(ik) = layout::index_key_for(&meta.key, &idx, &item) else {
                    continue;
                };
                let mut batch = Batch::new();
                batch.expect(layout::item_tree(&meta), key, Some(version));
                let projected = layout::project_for_index(&meta.key, &idx, &item);
                batch.put(
                    layout::index_tree(&meta, &idx.name),
                    ik,
                    crate::items::encode_item(&projected)?,
                );
                match self.engine.commit(batch).await {
                    Ok(_) | Err(rampart_storage::Error::Conflict { .. }) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            if !full {
                break;
            }
        }
        // Mark ACTIVE, retrying if the table changed meanwhile.
        for _ in 0..32 {
            let Some(cur) = self.reload_table(account, table).await? else {
                return Ok(());
            };
            let mut m = cur.meta.clone();
            let Some(i) = m.indexes.iter_mut().find(|i| i.name == index) else {
                return Ok(());
            };
            i.backfilling = false;
            i.status = "ACTIVE".into();
            match self.save_table(Some(cur.version), m, Vec::new()).await {
                Ok(saved) => {
                    // Backfill puts are not counted exactly: count again.
                    self.counters.invalidate(&saved.meta.id);
                    return Ok(());
                }
                Err(DynamoError::ResourceInUse(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(DynamoError::Internal("could not mark index active".into()))
    }
}
