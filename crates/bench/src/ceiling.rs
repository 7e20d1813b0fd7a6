//! The bare HTTP ceiling: a server that reads each request whole and answers every one with
//! the same DynamoDB-shaped body (a GetItem answer), on the same HTTP stack as Rampart
//! (hyper 1, HTTP/1.1 keep-alive, tokio). What the load generator measures against it is the
//! most any server could do on this machine with this client: the reference for the budgets.
//!
//! `GET /health` answers `ok`, so scripts can wait for it as for Rampart. With a certificate
//! and key it serves HTTPS (rustls), to measure TLS's cost and to test the client's HTTPS.

use std::convert::Infallible;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::client::AMZ_JSON_1_0;
use crate::keys::Rng;
use crate::workload::{Keyspace, payload};

/// The body every DynamoDB call gets: GetItem's answer for an item of about `item_size` bytes.
pub fn fixed_body(item_size: usize) -> Bytes {
    let ks = Keyspace::new("ceiling".into(), 1, 1, item_size);
    let p = payload(&mut Rng::new(1), ks.payload_len);
    // `put_item`'s body is `{"TableName":…,"Item":{…}}`: keep the item, drop the table.
    let put = ks.put_item(0, &p);
    let item = put
        .find(r#""Item":"#)
        .and_then(|i| put.get(i..))
        .unwrap_or(r#""Item":{}}"#);
    Bytes::from(format!("{{{item}"))
}

async fn answer(req: Request<Incoming>, body: Bytes) -> Result<Response<Full<Bytes>>, Infallible> {
    let is_health = req.method() == Method::GET;
    // Read the request whole, as a real server must.
    let _ = req.into_body().collect().await;
    let mut resp = Response::builder().status(StatusCode::OK);
    let body = if is_health {
        resp = resp.header(header::CONTENT_TYPE, "text/plain");
        Bytes::from_static(b"ok")
    } else {
        resp = resp.header(header::CONTENT_TYPE, AMZ_JSON_1_0).header(
            "x-amzn-requestid",
            "CEILING0000000000000000000000000000000000000000000000",
        );
        body
    };
    Ok(resp
        .body(Full::new(body.clone()))
        .unwrap_or_else(|_| Response::new(Full::new(body))))
}

/// A TLS acceptor for the PEM certificate chain `cert` and private key `key`.
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let certs = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("reading {}: {e}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("reading {}: {e}", cert.display()))?;
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| format!("reading {}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("TLS certificate: {e}"))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `listener` (over TLS with `tls`) until the process ends or the task is dropped.
pub async fn serve(
    listener: TcpListener,
    body: Bytes,
    tls: Option<TlsAcceptor>,
) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_connection(stream, body).await,
                // A failed handshake (an untrusting client) just ends the connection.
                Some(acceptor) => {
                    if let Ok(stream) = acceptor.accept(stream).await {
                        serve_connection(stream, body).await;
                    }
                }
            }
        });
    }
}

async fn serve_connection<I>(io: I, body: Bytes)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| answer(req, body.clone()));
    // A client that goes away mid-request is not our concern here.
    let _ = http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service)
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_body_is_a_get_item_answer_of_the_requested_size() {
        let body = fixed_body(256);
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(v["Item"]["pk"]["S"].is_string());
        // The wire JSON adds braces and type tags to the item's DynamoDB size.
        assert!((250..=350).contains(&body.len()), "{}", body.len());
    }
}
