//! The HTTP side: the endpoint, one HTTP/1.1 keep-alive connection per worker (hyper's
//! `client::conn::http1`, no pool, so a worker's latency is its connection's), signing, and
//! reading AWS's error type out of a response.
//!
//! HTTPS goes through rustls (ring), trusting Mozilla's roots and, with `--ca-file` (or
//! `AWS_CA_BUNDLE`, as the AWS CLI), the certificates of a PEM file: a local server's own CA.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::sign::Signer;
use crate::workload::Op;

/// DynamoDB's JSON content type.
pub const AMZ_JSON_1_0: &str = "application/x-amz-json-1.0";

/// How HTTPS servers are authenticated: a rustls client configuration, shared by every
/// connection.
#[derive(Clone)]
pub struct Tls(Arc<rustls::ClientConfig>);

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tls")
    }
}

impl PartialEq for Tls {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Tls {}

impl Tls {
    /// Trusts Mozilla's root certificates and, if given, every certificate in the PEM file
    /// `ca_file`.
    pub fn new(ca_file: Option<&Path>) -> Result<Self, String> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        if let Some(path) = ca_file {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("reading {}: {e}", path.display()))?;
            let mut added = 0;
            for cert in certs {
                let cert = cert.map_err(|e| format!("reading {}: {e}", path.display()))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("certificate in {}: {e}", path.display()))?;
                added += 1;
            }
            if added == 0 {
                return Err(format!("no certificate in {}", path.display()));
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self(Arc::new(config)))
    }
}

/// Where requests go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `http` or `https`.
    pub scheme: String,
    /// Host name or address, as given.
    pub host: String,
    /// The port (80/443 by default).
    pub port: u16,
    /// The `Host` header: the host, with the port when it is not the scheme's default.
    pub authority: String,
    /// For `https`: how the server is authenticated.
    pub tls: Option<Tls>,
}

impl Endpoint {
    /// Parses `http[s]://host[:port][/]`; an `https` endpoint trusts Mozilla's roots (see
    /// [`Endpoint::with_ca_file`]).
    pub fn parse(s: &str) -> Result<Self, String> {
        let uri: Uri = s
            .parse()
            .map_err(|e| format!("invalid endpoint {s:?}: {e}"))?;
        let scheme = uri
            .scheme_str()
            .ok_or_else(|| format!("endpoint {s:?} needs a scheme (http://…)"))?
            .to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "http" => 80,
            "https" => 443,
            other => return Err(format!("endpoint scheme {other:?} is not http or https")),
        };
        let host = uri
            .host()
            .ok_or_else(|| format!("endpoint {s:?} has no host"))?
            .to_owned();
        if !matches!(uri.path(), "" | "/") || uri.query().is_some() {
            return Err(format!("endpoint {s:?} must not have a path or query"));
        }
        let port = uri.port_u16().unwrap_or(default_port);
        let authority = if port == default_port {
            host.clone()
        } else {
            format!("{host}:{port}")
        };
        let tls = if scheme == "https" {
            Some(Tls::new(None)?)
        } else {
            None
        };
        Ok(Self {
            scheme,
            host,
            port,
            authority,
            tls,
        })
    }

    /// The same endpoint, also trusting the certificates in `ca_file` (no effect on `http`).
    pub fn with_ca_file(self, ca_file: &Path) -> Result<Self, String> {
        if self.tls.is_none() {
            return Ok(self);
        }
        Ok(Self {
            tls: Some(Tls::new(Some(ca_file))?),
            ..self
        })
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.scheme, self.authority)
    }
}

/// What went wrong below HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The connection could not be made.
    #[error("cannot connect to {endpoint}: {source}")]
    Connect {
        /// The endpoint.
        endpoint: String,
        /// Why.
        source: std::io::Error,
    },
    /// The TLS handshake failed (an unknown certificate authority, a name mismatch…).
    #[error("TLS with {endpoint}: {reason}")]
    Tls {
        /// The endpoint.
        endpoint: String,
        /// Why.
        reason: String,
    },
    /// HTTP failed on an open connection (the connection is dropped).
    #[error("http: {0}")]
    Http(#[from] hyper::Error),
    /// The request could not be built.
    #[error("building the request: {0}")]
    Request(#[from] http::Error),
}

impl ClientError {
    /// A short name for error tables.
    pub fn kind(&self) -> &'static str {
        match self {
            ClientError::Connect { .. } => "ConnectError",
            ClientError::Tls { .. } => "TlsError",
            ClientError::Http(_) => "HttpError",
            ClientError::Request(_) => "RequestError",
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The body.
    pub body: Bytes,
    /// The server closes the connection after this response (`Connection: close`, or
    /// HTTP/1.0 without keep-alive, as Werkzeug's development server, hence moto, answers).
    pub closes: bool,
}

impl Reply {
    /// `None` for a 2xx; otherwise AWS's error type: the part of the body's `__type` after
    /// `#` (`ConditionalCheckFailedException`), or `HTTP <status>` when there is none.
    pub fn error_type(&self) -> Option<String> {
        if self.status.is_success() {
            return None;
        }
        Some(error_type(&self.body).unwrap_or_else(|| format!("HTTP {}", self.status.as_u16())))
    }
}

/// The `__type` of an AWS JSON error body, without its namespace.
pub fn error_type(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        #[serde(rename = "__type")]
        ty: String,
    }
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    let short = parsed.ty.rsplit('#').next().unwrap_or(&parsed.ty);
    Some(short.to_owned())
}

/// One keep-alive HTTP/1.1 connection, used by one worker.
pub struct Connection {
    sender: http1::SendRequest<Full<Bytes>>,
    authority: String,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("authority", &self.authority)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Connects (with `TCP_NODELAY`, then TLS for `https`) and spawns the task driving the
    /// connection.
    pub async fn open(endpoint: &Endpoint) -> Result<Self, ClientError> {
        let stream = TcpStream::connect((endpoint.host.as_str(), endpoint.port))
            .await
            .map_err(|source| ClientError::Connect {
                endpoint: endpoint.to_string(),
                source,
            })?;
        stream
            .set_nodelay(true)
            .map_err(|source| ClientError::Connect {
                endpoint: endpoint.to_string(),
                source,
            })?;
        let sender = match &endpoint.tls {
            None => handshake(stream).await?,
            Some(tls) => {
                let tls_error = |reason: String| ClientError::Tls {
                    endpoint: endpoint.to_string(),
                    reason,
                };
                let name = ServerName::try_from(endpoint.host.clone())
                    .map_err(|e| tls_error(e.to_string()))?;
                let stream = TlsConnector::from(tls.0.clone())
                    .connect(name, stream)
                    .await
                    .map_err(|e| tls_error(e.to_string()))?;
                handshake(stream).await?
            }
        };
        Ok(Self {
            sender,
            authority: endpoint.authority.clone(),
        })
    }

    /// Signs and sends one DynamoDB call, reading the whole response.
    pub async fn call(
        &mut self,
        signer: &mut Signer,
        op: Op,
        body: Bytes,
        now: SystemTime,
    ) -> Result<Reply, ClientError> {
        let target = op.target();
        let token = signer.session_token().map(str::to_owned);
        let mut signed: Vec<(&str, &str)> = vec![
            ("content-type", AMZ_JSON_1_0),
            ("host", self.authority.as_str()),
            ("x-amz-target", target),
        ];
        if let Some(t) = token.as_deref() {
            signed.push(("x-amz-security-token", t));
        }
        let sig = signer.sign("POST", "/", &signed, &body, now);
        let mut req = Request::post("/");
        for (n, v) in &signed {
            req = req.header(*n, *v);
        }
        let req = req
            .header("x-amz-date", sig.amz_date)
            .header("authorization", sig.authorization)
            .body(Full::new(body))?;
        self.sender.ready().await?;
        let resp = self.sender.send_request(req).await?;
        let status = resp.status();
        let closes = closes_connection(resp.version(), resp.headers());
        let body = resp.into_body().collect().await?.to_bytes();
        Ok(Reply {
            status,
            body,
            closes,
        })
    }

    /// Whether the connection can still take a request.
    pub fn is_open(&self) -> bool {
        !self.sender.is_closed()
    }
}

/// HTTP/1.1 over `io`; spawns the task that drives the connection.
async fn handshake<I>(io: I) -> Result<http1::SendRequest<Full<Bytes>>, ClientError>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, conn) = http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the peer closes; the error, if any, shows up on
        // the next request.
        let _ = conn.await;
    });
    Ok(sender)
}

/// Whether a response with this version and headers ends its connection.
fn closes_connection(version: http::Version, headers: &http::HeaderMap) -> bool {
    let connection = |token: &str| {
        headers
            .get_all(http::header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    if version == http::Version::HTTP_10 {
        !connection("keep-alive")
    } else {
        connection("close")
    }
}

/// A connection that is reopened whenever the server closed it (or it failed): one per
/// worker. Reconnecting is part of the request's latency, as for any client.
#[derive(Debug)]
pub struct Client {
    endpoint: Endpoint,
    conn: Option<Connection>,
}

impl Client {
    /// A client of `endpoint`, starting with `conn` if one is already open.
    pub fn new(endpoint: Endpoint, conn: Option<Connection>) -> Self {
        Self { endpoint, conn }
    }

    /// Connects first if needed, then [`Connection::call`].
    pub async fn call(
        &mut self,
        signer: &mut Signer,
        op: Op,
        body: Bytes,
        now: SystemTime,
    ) -> Result<Reply, ClientError> {
        let (mut conn, reused) = match self.conn.take() {
            Some(c) if c.is_open() => (c, true),
            _ => (Connection::open(&self.endpoint).await?, false),
        };
        let reply = match conn.call(signer, op, body.clone(), now).await {
            // The server closed a kept-alive connection as the request went out: once more on
            // a fresh one (the request was not processed).
            Err(ClientError::Http(e)) if reused && (e.is_closed() || e.is_canceled()) => {
                conn = Connection::open(&self.endpoint).await?;
                conn.call(signer, op, body, now).await?
            }
            other => other?,
        };
        if !reply.closes {
            self.conn = Some(conn);
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_parses_host_port_and_default_ports() {
        let e = Endpoint::parse("http://127.0.0.1:8000").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("127.0.0.1", 8000));
        assert_eq!(e.authority, "127.0.0.1:8000");
        let e = Endpoint::parse("http://localhost/").unwrap();
        assert_eq!((e.port, e.authority.as_str()), (80, "localhost"));
        let e = Endpoint::parse("https://dynamodb.us-east-1.amazonaws.com").unwrap();
        assert_eq!((e.scheme.as_str(), e.port), ("https", 443));
    }

    #[test]
    fn endpoint_without_scheme_or_with_path_is_refused() {
        assert!(Endpoint::parse("127.0.0.1:8000").is_err());
        assert!(Endpoint::parse("ftp://x").is_err());
        assert!(Endpoint::parse("http://x/some/path").is_err());
    }

    #[test]
    fn error_type_drops_the_namespace() {
        let body = br#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#;
        assert_eq!(
            error_type(body).as_deref(),
            Some("ConditionalCheckFailedException")
        );
        assert_eq!(
            error_type(br#"{"__type":"ThrottlingException"}"#).as_deref(),
            Some("ThrottlingException")
        );
        assert_eq!(error_type(b"<html>"), None);
    }

    #[test]
    fn http_1_0_without_keep_alive_and_connection_close_end_the_connection() {
        let mut h = http::HeaderMap::new();
        assert!(closes_connection(http::Version::HTTP_10, &h));
        assert!(!closes_connection(http::Version::HTTP_11, &h));
        h.insert(http::header::CONNECTION, "Keep-Alive".parse().unwrap());
        assert!(!closes_connection(http::Version::HTTP_10, &h));
        h.insert(http::header::CONNECTION, "close".parse().unwrap());
        assert!(closes_connection(http::Version::HTTP_11, &h));
    }

    #[test]
    fn reply_without_aws_type_is_named_by_status() {
        let r = Reply {
            status: StatusCode::BAD_GATEWAY,
            body: Bytes::from_static(b"oops"),
            closes: false,
        };
        assert_eq!(r.error_type().as_deref(), Some("HTTP 502"));
        let ok = Reply {
            status: StatusCode::OK,
            body: Bytes::new(),
            closes: false,
        };
        assert_eq!(ok.error_type(), None);
    }
}
