//! `rampart-bench startup`: starts a server command and measures the time from process start
//! to its first successful answer on a health URL (cold start), then leaves it running and
//! prints its pid, so a script can benchmark it and stop it by pid.

use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::client::Endpoint;

/// What was started.
#[derive(Debug, Clone, Serialize)]
pub struct Started {
    /// The server's pid.
    pub pid: u32,
    /// Milliseconds from spawning the process to the first healthy answer.
    pub ready_ms: f64,
    /// Resident memory right after it became ready, in KiB.
    pub rss_kib: Option<u64>,
}

/// Starting failed.
#[derive(Debug, thiserror::Error)]
#[error("startup: {0}")]
pub struct StartupError(String);

/// Spawns `command` (stdout and stderr to `log`, or discarded), polls `health` every
/// millisecond until it answers (200, or any status when `any_status`), and returns.
pub fn start(
    command: &[String],
    health: &str,
    any_status: bool,
    log: Option<&std::path::Path>,
    timeout: Duration,
) -> Result<Started, StartupError> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| StartupError("no command given".into()))?;
    let url: http::Uri = health
        .parse()
        .map_err(|e| StartupError(format!("invalid health URL {health:?}: {e}")))?;
    let base = format!(
        "{}://{}",
        url.scheme_str().unwrap_or("http"),
        url.authority().map(|a| a.as_str()).unwrap_or_default()
    );
    let endpoint = Endpoint::parse(&base).map_err(StartupError)?;
    let path = url.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let (stdout, stderr) = match log {
        Some(p) => {
            let f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .map_err(|e| StartupError(format!("opening {}: {e}", p.display())))?;
            let g = f
                .try_clone()
                .map_err(|e| StartupError(format!("opening {}: {e}", p.display())))?;
            (Stdio::from(f), Stdio::from(g))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| StartupError(format!("cannot run {program}: {e}")))?;
    let pid = child.id();
    loop {
        if let Some(status) = probe(&endpoint, &path)
            && (any_status || status == 200)
        {
            let ready_ms = started.elapsed().as_secs_f64() * 1000.0;
            return Ok(Started {
                pid,
                ready_ms,
                rss_kib: crate::procfs::rss_kib(pid),
            });
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(StartupError(format!(
                "{program} exited with {status} before it was ready"
            )));
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            return Err(StartupError(format!(
                "{program} not ready after {} s; killed",
                timeout.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// One `GET` with `Connection: close`; the status, or `None` if nothing answered.
fn probe(endpoint: &Endpoint, path: &str) -> Option<u16> {
    let addr = (endpoint.host.as_str(), endpoint.port)
        .to_socket_addrs()
        .ok()?
        .next()?;
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(100)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        endpoint.authority
    )
    .ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    parse_status(&head)
}

fn parse_status(head: &[u8]) -> Option<u16> {
    let text = std::str::from_utf8(head).ok()?;
    let rest = text.strip_prefix("HTTP/1.")?;
    rest.get(2..5)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_is_parsed() {
        assert_eq!(parse_status(b"HTTP/1.1 200"), Some(200));
        assert_eq!(parse_status(b"HTTP/1.0 404"), Some(404));
        assert_eq!(parse_status(b"garbage here"), None);
    }

    #[test]
    fn command_that_exits_is_reported() {
        let err = start(
            &["false".into()],
            "http://127.0.0.1:9/health",
            false,
            None,
            Duration::from_secs(30),
        )
        .unwrap_err();
        assert!(err.to_string().contains("exited"), "{err}");
    }
}
