//! The control socket: a Unix domain socket in the data directory through
//! which local commands reach the running server.
//!
//! A running server holds its data directory exclusively (the storage
//! engine locks it), so `rampart policy explain` cannot open the directory
//! beside it; it asks the server here instead, and the server's own
//! authorizer evaluates against the live state.
//!
//! Protocol: the client sends one line, an [`ExplainArgs`] as JSON; the
//! server answers one line, an [`Answer`] as JSON (or `{"error": …}`), and
//! closes. Only what the directory's file permissions allow may connect:
//! the socket is created mode 0600, as the database beside it.

use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rampart_iam::Authorizer;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::explain::ExplainArgs;

/// The socket's name inside the data directory.
const SOCKET: &str = "rampart.sock";

/// The longest request line the server reads.
const MAX_REQUEST: u64 = 64 * 1024;

/// Requests answered at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 8;

/// The pause after a failed `accept` before the next one.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How long either side waits for the other.
const TIMEOUT: Duration = Duration::from_secs(10);

/// What the server answers to an explain request.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Answer {
    /// The command's exit code: 0 allowed, 1 denied.
    pub code: u8,
    /// What the command prints.
    pub output: String,
}

/// The reply line: an answer, or why there is none.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum Reply {
    Answer(Answer),
    Error { error: String },
}

/// The listening socket of a running server; [`ControlSocket::close`]
/// stops it and removes the file.
#[derive(Debug)]
pub struct ControlSocket {
    path: PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl ControlSocket {
    /// Binds `<dir>/rampart.sock` and answers on it until closed. The caller
    /// holds the data directory's lock, so a socket file already there was
    /// left by a server that died and is replaced.
    pub fn bind(dir: &Path, authorizer: Arc<Authorizer>) -> std::io::Result<Self> {
        let path = dir.join(SOCKET);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let listener = UnixListener::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        let task = tokio::spawn(async move {
            let busy = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
            loop {
                // Past MAX_CONNECTIONS answers in progress, new clients wait in the
                // listen queue.
                let Ok(permit) = busy.clone().acquire_owned().await else {
                    return;
                };
                let stream = match listener.accept().await {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of descriptors, say: not a reason to stop, nor to spin.
                        tracing::debug!(error = %e, "control socket: accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                let authorizer = authorizer.clone();
                tokio::spawn(async move {
                    if let Err(e) = answer(stream, &authorizer).await {
                        tracing::debug!(error = %e, "control socket: connection failed");
                    }
                    drop(permit);
                });
            }
        });
        Ok(Self { path, task })
    }

    /// Stops answering and removes the socket file.
    pub fn close(self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Reads one request from `stream` and writes its reply.
async fn answer(stream: UnixStream, authorizer: &Authorizer) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let n = tokio::time::timeout(
        TIMEOUT,
        BufReader::new(read.take(MAX_REQUEST)).read_line(&mut line),
    )
    .await
    .map_err(|_| std::io::Error::new(ErrorKind::TimedOut, "no request line"))??;
    let reply = if n == 0 || !line.ends_with('\n') {
        Reply::Error {
            error: "the request must be one line of JSON".into(),
        }
    } else {
        match serde_json::from_str::<ExplainArgs>(&line) {
            Ok(args) => match crate::explain::evaluate(authorizer, &args) {
                Ok((code, output)) => Reply::Answer(Answer { code, output }),
                Err(error) => Reply::Error { error },
            },
            Err(e) => Reply::Error {
                error: format!("unreadable request: {e}"),
            },
        }
    };
    let mut out = serde_json::to_vec(&reply).map_err(std::io::Error::other)?;
    out.push(b'\n');
    tokio::time::timeout(TIMEOUT, write.write_all(&out))
        .await
        .map_err(|_| std::io::Error::new(ErrorKind::TimedOut, "reply not taken"))?
}

/// Asks the server running on `dir` to explain `args`. `Ok(None)` when no
/// server listens there (no socket, or one left by a server that died).
pub async fn ask(dir: &Path, args: &ExplainArgs) -> Result<Option<Answer>, String> {
    let path = dir.join(SOCKET);
    let stream = match UnixStream::connect(&path).await {
        Ok(s) => s,
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::ConnectionRefused) => {
            return Ok(None);
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let exchange = async {
        let (read, mut write) = stream.into_split();
        let mut request = serde_json::to_vec(args).map_err(std::io::Error::other)?;
        request.push(b'\n');
        write.write_all(&request).await?;
        let mut line = String::new();
        BufReader::new(read).read_line(&mut line).await?;
        Ok::<_, std::io::Error>(line)
    };
    let line = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| format!("{}: the server did not answer", path.display()))?
        .map_err(|e| format!("{}: {e}", path.display()))?;
    match serde_json::from_str::<Reply>(&line) {
        Ok(Reply::Answer(a)) => Ok(Some(a)),
        Ok(Reply::Error { error }) => Err(error),
        Err(e) => Err(format!("{}: unreadable answer: {e}", path.display())),
    }
}
