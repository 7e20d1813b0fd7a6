//! The bare HTTP ceiling: a server that reads each request whole and answers every one with
//! the same DynamoDB-shaped body (a GetItem answer), on the same HTTP stack as Rampart
//! (hyper 1, HTTP/1.1 keep-alive, tokio). What the load generator measures against it is the
//! most any server could do on this machine with this client: the reference for the budgets.
//!
//! `GET /health` answers `ok`, so scripts can wait for it as for Rampart.

use std::convert::Infallible;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

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

/// Serves `listener` until the process ends (or the task is dropped).
pub async fn serve(listener: TcpListener, body: Bytes) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(req, body.clone()));
            // A client that goes away mid-request is not our concern here.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
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
