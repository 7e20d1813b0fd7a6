//! The load loops end to end, against the ceiling server started in-process on a free port:
//! every request is sent, answered and counted, in closed and open loop. (Against Rampart
//! itself, see `tests/e2e/test_bench.py`.) `tests/tls/` holds a self-signed certificate and key
//! for 127.0.0.1 and localhost, made for these tests only.

#![expect(clippy::unwrap_used, reason = "test helpers outside #[test] fns")]

use std::time::Duration;

use rampart_bench::ceiling;
use rampart_bench::client::Endpoint;
use rampart_bench::keys::Distribution;
use rampart_bench::run::{Plan, Stop, run};
use rampart_bench::sign::Credentials;
use rampart_bench::workload::{Keyspace, Workload};
use rampart_core::Secret;

async fn start_ceiling() -> Endpoint {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(ceiling::serve(listener, ceiling::fixed_body(128), None));
    Endpoint::parse(&format!("http://{addr}")).unwrap()
}

fn plan(endpoint: Endpoint, workload: Workload, stop: Stop, rate: Option<f64>) -> Plan {
    Plan {
        endpoint,
        credentials: Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("secret".into()),
            session_token: Some("token".into()),
        },
        region: "us-east-1".into(),
        keyspace: Keyspace::new("bench".into(), 1000, 10, 128),
        item_size: 128,
        workload,
        distribution: Distribution::Zipfian,
        connections: 4,
        stop,
        rate,
        warmup: Duration::ZERO,
        batch_size: 25,
        seed: 1,
        progress: false,
        watch_pid: Some(std::process::id()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_sends_exactly_the_requested_count() {
    let endpoint = start_ceiling().await;
    let report = run(&plan(endpoint, Workload::YcsbB, Stop::Requests(300), None))
        .await
        .unwrap();
    assert_eq!(report.requests, 300);
    assert_eq!(report.ok, 300);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.misses, 0);
    assert_eq!(report.mode, "closed");
    let ops: u64 = report.operations.values().map(|o| o.requests).sum();
    assert_eq!(ops, 300);
    assert!(report.latency_us.p50 > 0.0);
    assert!(report.latency_us.p50 <= report.latency_us.p99);
    let server = report.server.unwrap();
    assert!(server.rss_after_kib.is_some_and(|k| k > 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_sends_the_requested_count_at_a_rate() {
    let endpoint = start_ceiling().await;
    let report = run(&plan(
        endpoint,
        Workload::BatchWrite,
        Stop::Requests(50),
        Some(500.0),
    ))
    .await
    .unwrap();
    assert_eq!(report.mode, "open");
    assert_eq!(report.ok, 50);
    assert_eq!(report.target_rate, Some(500.0));
    assert_eq!(report.operations["BatchWriteItem"].ok, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_for_a_duration_sends_or_reports_every_ticket() {
    let endpoint = start_ceiling().await;
    let mut p = plan(
        endpoint,
        Workload::GetItem,
        Stop::Duration(Duration::from_millis(300)),
        Some(200.0),
    );
    p.warmup = Duration::from_millis(100);
    let report = run(&p).await.unwrap();
    assert_eq!(report.mode, "open");
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    // Tickets at n/200 s from 100 ms (the warm-up's 20 are not measured) to 400 ms.
    assert_eq!(report.requests + report.unsent, 60);
}

#[tokio::test]
async fn unreachable_endpoint_fails_before_measuring() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let endpoint = Endpoint::parse(&format!("http://{addr}")).unwrap();
    let err = run(&plan(endpoint, Workload::GetItem, Stop::Requests(10), None))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

fn tls_file(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/tls")
        .join(name)
}

async fn start_tls_ceiling() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = ceiling::tls_acceptor(&tls_file("cert.pem"), &tls_file("key.pem")).unwrap();
    tokio::spawn(ceiling::serve(
        listener,
        ceiling::fixed_body(128),
        Some(acceptor),
    ));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_endpoint_trusted_through_ca_file_is_driven() {
    let addr = start_tls_ceiling().await;
    let endpoint = Endpoint::parse(&format!("https://{addr}"))
        .unwrap()
        .with_ca_file(&tls_file("cert.pem"))
        .unwrap();
    let report = run(&plan(
        endpoint,
        Workload::GetItem,
        Stop::Requests(100),
        None,
    ))
    .await
    .unwrap();
    assert_eq!(report.ok, 100);
    assert!(report.endpoint.starts_with("https://"));
}

#[tokio::test]
async fn https_endpoint_with_unknown_certificate_authority_is_refused() {
    let addr = start_tls_ceiling().await;
    let endpoint = Endpoint::parse(&format!("https://{addr}")).unwrap();
    let err = run(&plan(endpoint, Workload::GetItem, Stop::Requests(10), None))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("TLS"), "{err}");
}
