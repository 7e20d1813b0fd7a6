//! `--prepare`: creates the table (on-demand billing; an existing one is kept), waits for it
//! to be ACTIVE, and loads every item of the keyspace with BatchWriteItem, resending what
//! comes back unprocessed or throttled, with a progress bar.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::client::{Client, Connection, Endpoint, Reply};
use crate::keys::Rng;
use crate::sign::{Credentials, Signer};
use crate::workload::{Keyspace, Op, payload};

/// Items per BatchWriteItem (DynamoDB's maximum).
const LOAD_BATCH: u64 = 25;
/// How long to wait for the table to become ACTIVE.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);
/// How often one batch is resent (throttling, unprocessed items) before giving up.
const MAX_RESENDS: u32 = 50;

/// What preparation did.
#[derive(Debug, Clone, Serialize)]
pub struct Prepared {
    /// Whether the table was created (false: it existed).
    pub created: bool,
    /// Items written.
    pub items: u64,
    /// Seconds the load took.
    pub load_seconds: f64,
    /// Items written per second.
    pub items_per_s: f64,
}

/// Preparation failed; the message says which call and why.
#[derive(Debug, thiserror::Error)]
#[error("prepare: {0}")]
pub struct PrepareError(String);

fn failed(op: Op, reply: &Reply) -> PrepareError {
    PrepareError(format!(
        "{} failed: {} {}",
        op.name(),
        reply.status.as_u16(),
        String::from_utf8_lossy(&reply.body)
    ))
}

struct Caller {
    conn: Client,
    signer: Signer,
}

impl Caller {
    async fn open(
        endpoint: &Endpoint,
        creds: &Credentials,
        region: &str,
    ) -> Result<Self, PrepareError> {
        let conn = Connection::open(endpoint)
            .await
            .map_err(|e| PrepareError(e.to_string()))?;
        Ok(Self {
            conn: Client::new(endpoint.clone(), Some(conn)),
            signer: Signer::new(creds.clone(), region, "dynamodb"),
        })
    }

    async fn call(&mut self, op: Op, body: String) -> Result<Reply, PrepareError> {
        self.conn
            .call(&mut self.signer, op, Bytes::from(body), SystemTime::now())
            .await
            .map_err(|e| PrepareError(format!("{}: {e}", op.name())))
    }
}

/// Creates and loads the keyspace's table over `connections` connections.
pub async fn prepare(
    endpoint: &Endpoint,
    creds: &Credentials,
    region: &str,
    ks: &Keyspace,
    connections: usize,
    progress: bool,
    seed: u64,
) -> Result<Prepared, PrepareError> {
    let mut caller = Caller::open(endpoint, creds, region).await?;
    let reply = caller.call(Op::CreateTable, ks.create_table()).await?;
    let created = match reply.error_type().as_deref() {
        None => true,
        Some("ResourceInUseException") => false,
        Some(_) => return Err(failed(Op::CreateTable, &reply)),
    };
    wait_active(&mut caller, ks).await?;

    let bar = if progress {
        let bar = ProgressBar::new(ks.items);
        if let Ok(style) = ProgressStyle::with_template(
            "loading {wide_bar} {pos}/{len} items ({per_sec}, {eta} left)",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };
    let started = Instant::now();
    let next_chunk = Arc::new(AtomicU64::new(0));
    let ks = Arc::new(ks.clone());
    let chunks = ks.items.div_ceil(LOAD_BATCH);
    let workers = connections.clamp(1, usize::try_from(chunks.max(1)).unwrap_or(1));
    // The first loader reuses the connection that created the table.
    let mut callers = vec![caller];
    for _ in 1..workers {
        callers.push(Caller::open(endpoint, creds, region).await?);
    }
    let mut loaders = tokio::task::JoinSet::new();
    for (id, mut caller) in callers.into_iter().enumerate() {
        let next_chunk = next_chunk.clone();
        let ks = ks.clone();
        let bar = bar.clone();
        let mut rng = Rng::new(seed ^ (id as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
        loaders.spawn(async move {
            let payload = payload(&mut rng, ks.payload_len);
            loop {
                let chunk = next_chunk.fetch_add(1, Ordering::AcqRel);
                if chunk >= chunks {
                    return Ok(());
                }
                let first = chunk * LOAD_BATCH;
                let indexes: Vec<u64> = (first..(first + LOAD_BATCH).min(ks.items)).collect();
                load_batch(&mut caller, ks.batch_write(&indexes, &payload)).await?;
                bar.inc(indexes.len() as u64);
            }
        });
    }
    while let Some(joined) = loaders.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(e) => return Err(PrepareError(format!("a loader stopped: {e}"))),
        }
    }
    bar.finish_and_clear();
    let load_seconds = started.elapsed().as_secs_f64();
    Ok(Prepared {
        created,
        items: ks.items,
        load_seconds,
        items_per_s: if load_seconds > 0.0 {
            ks.items as f64 / load_seconds
        } else {
            0.0
        },
    })
}

async fn wait_active(caller: &mut Caller, ks: &Keyspace) -> Result<(), PrepareError> {
    let deadline = Instant::now() + ACTIVE_TIMEOUT;
    loop {
        let reply = caller.call(Op::DescribeTable, ks.describe_table()).await?;
        if reply.error_type().is_some() {
            return Err(failed(Op::DescribeTable, &reply));
        }
        let status = serde_json::from_slice::<serde_json::Value>(&reply.body)
            .ok()
            .and_then(|v| {
                v.pointer("/Table/TableStatus")
                    .and_then(|s| s.as_str())
                    .map(str::to_owned)
            });
        if status.as_deref() == Some("ACTIVE") {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(PrepareError(format!(
                "table {} is not ACTIVE after {} s (status {status:?})",
                ks.table,
                ACTIVE_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends one BatchWriteItem, then resends its unprocessed items (and throttled attempts)
/// with a growing pause.
async fn load_batch(caller: &mut Caller, body: String) -> Result<(), PrepareError> {
    let mut body = body;
    let mut pause = Duration::from_millis(10);
    for _ in 0..MAX_RESENDS {
        let reply = caller.call(Op::BatchWriteItem, body.clone()).await?;
        match reply.error_type().as_deref() {
            None => {
                let v: serde_json::Value = serde_json::from_slice(&reply.body)
                    .map_err(|e| PrepareError(format!("BatchWriteItem answer is not JSON: {e}")))?;
                let pending = v
                    .get("UnprocessedItems")
                    .filter(|u| u.as_object().is_some_and(|o| !o.is_empty()));
                match pending {
                    None => return Ok(()),
                    Some(items) => {
                        body = serde_json::json!({ "RequestItems": items }).to_string();
                    }
                }
            }
            Some(
                "ThrottlingException"
                | "ProvisionedThroughputExceededException"
                | "RequestLimitExceeded",
            ) => {}
            Some(_) => return Err(failed(Op::BatchWriteItem, &reply)),
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(1));
    }
    Err(PrepareError(format!(
        "BatchWriteItem: items still unprocessed after {MAX_RESENDS} attempts"
    )))
}
