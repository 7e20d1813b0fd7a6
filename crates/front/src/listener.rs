//! The listener: an accept loop per bound socket, one task per connection,
//! HTTP/1.1 with keep-alive, and graceful shutdown (mini-redis style: the
//! caller hands in the listeners and the shutdown signal).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::pipeline::{App, ConnInfo};

/// How long open connections get to finish their requests at shutdown.
const DRAIN: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(60);

/// A listening socket with its configured name.
#[derive(Debug)]
pub struct BoundListener {
    /// The listener's id in the configuration (e.g. `default`).
    pub id: String,
    /// The bound socket.
    pub listener: TcpListener,
}

/// Serving failed.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Reading the local address of a listener failed.
    #[error("listener error: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves every listener until `shutdown` resolves, then stops accepting and
/// lets open requests finish (up to a grace period).
pub async fn serve(
    listeners: Vec<BoundListener>,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    let graceful = Arc::new(GracefulShutdown::new());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut loops = tokio::task::JoinSet::new();
    for l in listeners {
        let local = l.listener.local_addr()?;
        loops.spawn(accept_loop(
            l,
            local,
            app.clone(),
            graceful.clone(),
            stop_rx.clone(),
        ));
    }
    shutdown.await;
    let _ = stop_tx.send(true);
    while loops.join_next().await.is_some() {}
    match Arc::try_unwrap(graceful) {
        Ok(g) => {
            if tokio::time::timeout(DRAIN, g.shutdown()).await.is_err() {
                tracing::warn!("connections still open after the grace period; closing them");
            }
        }
        Err(_) => tracing::warn!("shutdown watcher still shared; not waiting for connections"),
    }
    Ok(())
}

async fn accept_loop(
    l: BoundListener,
    local: SocketAddr,
    app: Arc<App>,
    graceful: Arc<GracefulShutdown>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let listener_id: Arc<str> = Arc::from(l.id.as_str());
    loop {
        let accepted = tokio::select! {
            r = l.listener.accept() => r,
            _ = stop.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // Out of file descriptors and the like: back off briefly.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let conn_info = Arc::new(ConnInfo {
            peer,
            local,
            listener_id: listener_id.clone(),
        });
        let app = app.clone();
        let service = service_fn(move |req| {
            let app = app.clone();
            let conn_info = conn_info.clone();
            async move { Ok::<_, std::convert::Infallible>(app.handle(&conn_info, req).await) }
        });
        let conn = http1::Builder::new()
            .keep_alive(true)
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
}
