//! The command line: `run` (the load generator), `ceiling` (the bare HTTP server) and
//! `startup` (cold-start timing). Every default is here; credentials and region default to
//! the AWS CLI's environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use rampart_core::Secret;

use crate::client::Endpoint;
use crate::keys::Distribution;
use crate::run::{Plan, Stop};
use crate::sign::Credentials;
use crate::workload::{Keyspace, Workload, check_table_name};

/// Load generator for DynamoDB-compatible endpoints: SigV4-signed GetItem, PutItem,
/// UpdateItem, Query, BatchWriteItem and YCSB mixes, with HDR latency percentiles.
#[derive(Debug, Parser)]
#[command(name = "rampart-bench", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send a workload to an endpoint and report throughput and latency.
    Run(Box<RunArgs>),
    /// Serve the bare HTTP ceiling: every request gets the same GetItem-shaped answer.
    Ceiling(CeilingArgs),
    /// Start a server command, time it until its health URL answers, print its pid, leave it
    /// running.
    Startup(StartupArgs),
    /// Spin on every CPU with nothing else running and report how much the work done per
    /// window varies (a shared virtual machine's slow spells).
    Steadiness(SteadinessArgs),
}

/// `rampart-bench run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The endpoint (http://host:port).
    #[arg(long, default_value = "http://127.0.0.1:8000")]
    pub endpoint: String,
    /// Signing region [default: $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1].
    #[arg(long)]
    pub region: Option<String>,
    /// Access key id.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", hide_env_values = true)]
    pub access_key_id: Option<String>,
    /// Secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub secret_access_key: Option<String>,
    /// Session token of temporary credentials.
    #[arg(long, env = "AWS_SESSION_TOKEN", hide_env_values = true)]
    pub session_token: Option<String>,
    /// For https endpoints: also trust the certificates in this PEM file (a local server's CA).
    #[arg(long, env = "AWS_CA_BUNDLE")]
    pub ca_file: Option<PathBuf>,
    /// What to send.
    #[arg(long, short = 'w', value_enum, default_value_t = Workload::GetItem)]
    pub workload: Workload,
    /// The table (created by --prepare).
    #[arg(long, default_value = "rampart-bench")]
    pub table: String,
    /// Items in the keyspace (accepts 10000, 10k, 1m, 1e6).
    #[arg(long, value_parser = parse_count, default_value = "10000")]
    pub keyspace: u64,
    /// Approximate item size in bytes.
    #[arg(long, default_value_t = 256)]
    pub item_size: usize,
    /// Items per partition key, which is what a Query returns.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub query_items: u64,
    /// PutRequests per BatchWriteItem.
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u64).range(1..=25))]
    pub batch_size: u64,
    /// How keys are drawn.
    #[arg(long, value_enum, default_value_t = Distribution::Uniform)]
    pub distribution: Distribution,
    /// Concurrent connections (one request in flight on each).
    #[arg(long, short = 'c', default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub connections: u64,
    /// How long to measure (10s, 500ms, 2m) [default: 10s unless --requests].
    #[arg(long, short = 'd', value_parser = parse_duration, conflicts_with = "requests")]
    pub duration: Option<Duration>,
    /// How many requests to measure instead of a duration.
    #[arg(long, short = 'n', value_parser = parse_count)]
    pub requests: Option<u64>,
    /// Open loop: send this many requests per second, measuring latency from each request's
    /// intended start. Without it, a closed loop.
    #[arg(long)]
    pub rate: Option<f64>,
    /// Run the load unmeasured this long first.
    #[arg(long, value_parser = parse_duration, default_value = "0s")]
    pub warmup: Duration,
    /// Create the table and load the keyspace before the run.
    #[arg(long)]
    pub prepare: bool,
    /// Create the table and load the keyspace, then stop.
    #[arg(long)]
    pub prepare_only: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Runtime threads of the load generator.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,
    /// Seed of the key and payload generators.
    #[arg(long, default_value_t = 0x5eed)]
    pub seed: u64,
    /// The server's pid: report its memory (VmRSS) and CPU time during the run (Linux).
    #[arg(long)]
    pub watch_pid: Option<u32>,
}

/// `rampart-bench ceiling`.
#[derive(Debug, Args)]
pub struct CeilingArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8001")]
    pub listen: SocketAddr,
    /// Runtime threads (the server's cores).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,
    /// Size of the item in the fixed answer.
    #[arg(long, default_value_t = 256)]
    pub item_size: usize,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// `rampart-bench startup`.
#[derive(Debug, Args)]
pub struct StartupArgs {
    /// The URL that answers once the server is ready.
    #[arg(long)]
    pub health: String,
    /// Ready on any HTTP answer, not only 200 (servers without a health URL).
    #[arg(long)]
    pub any_status: bool,
    /// Append the server's output to this file.
    #[arg(long)]
    pub log: Option<PathBuf>,
    /// Give up (and kill the server) after this long.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub timeout: Duration,
    /// The server command and its arguments (after `--`).
    #[arg(trailing_var_arg = true, required = true, num_args = 1..)]
    pub command: Vec<String>,
}

/// `rampart-bench steadiness`.
#[derive(Debug, Args)]
pub struct SteadinessArgs {
    /// How long each thread spins.
    #[arg(long, short = 'd', value_parser = parse_duration, default_value = "5s")]
    pub duration: Duration,
    /// The measuring window.
    #[arg(long, value_parser = parse_duration, default_value = "1ms")]
    pub window: Duration,
    /// A window is slow below this fraction of its thread's median window.
    #[arg(long, default_value_t = 0.7)]
    pub threshold: f64,
    /// Spinning threads [default: the CPUs available].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub threads: Option<u64>,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// `10000`, `10_000`, `10k`, `1m`, `1e6`.
pub fn parse_count(s: &str) -> Result<u64, String> {
    let t = s.trim().replace('_', "").to_ascii_lowercase();
    let bad = || format!("{s:?} is not a count (10000, 10k, 1m, 1e6)");
    let (digits, scale) = if let Some(d) = t.strip_suffix('k') {
        (d.to_owned(), 1_000)
    } else if let Some(d) = t.strip_suffix('m') {
        (d.to_owned(), 1_000_000)
    } else if let Some((m, e)) = t.split_once('e') {
        let e: u32 = e.parse().map_err(|_| bad())?;
        (m.to_owned(), 10u64.checked_pow(e).ok_or_else(bad)?)
    } else {
        (t.clone(), 1)
    };
    let n: u64 = digits.parse().map_err(|_| bad())?;
    n.checked_mul(scale).ok_or_else(bad)
}

/// `10s`, `500ms`, `2m`, `1h`, or plain seconds (`1.5`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let bad = || format!("{s:?} is not a duration (10s, 500ms, 2m, 1.5)");
    let (num, unit) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num.trim().parse().map_err(|_| bad())?;
    if !(v.is_finite() && v >= 0.0) {
        return Err(bad());
    }
    Duration::try_from_secs_f64(v * unit).map_err(|_| bad())
}

/// The region: the flag, else `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1`.
fn region(flag: Option<&str>, env: impl Fn(&str) -> Option<String>) -> String {
    flag.map(str::to_owned)
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "us-east-1".to_owned())
}

impl RunArgs {
    /// The plan these arguments describe, or what is wrong with them.
    pub fn plan(&self) -> Result<Plan, String> {
        let mut endpoint = Endpoint::parse(&self.endpoint)?;
        if let Some(ca) = &self.ca_file {
            endpoint = endpoint.with_ca_file(ca)?;
        }
        check_table_name(&self.table)?;
        let (Some(access_key_id), Some(secret)) = (&self.access_key_id, &self.secret_access_key)
        else {
            return Err(
                "no credentials: pass --access-key-id and --secret-access-key, or set \
                        AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
                    .into(),
            );
        };
        if self.keyspace == 0 {
            return Err("--keyspace must be at least 1".into());
        }
        let stop = match (self.duration, self.requests) {
            (_, Some(n)) => Stop::Requests(n),
            (Some(d), None) => Stop::Duration(d),
            (None, None) => Stop::Duration(Duration::from_secs(10)),
        };
        Ok(Plan {
            endpoint,
            credentials: Credentials {
                access_key_id: access_key_id.clone(),
                secret_access_key: Secret::new(secret.clone()),
                session_token: self.session_token.clone().filter(|t| !t.is_empty()),
            },
            region: region(self.region.as_deref(), |k| std::env::var(k).ok()),
            keyspace: Keyspace::new(
                self.table.clone(),
                self.keyspace,
                self.query_items,
                self.item_size,
            ),
            item_size: self.item_size,
            workload: self.workload,
            distribution: self.distribution,
            connections: usize::try_from(self.connections).unwrap_or(1),
            stop,
            rate: self.rate,
            warmup: self.warmup,
            batch_size: usize::try_from(self.batch_size).unwrap_or(25),
            seed: self.seed,
            progress: !self.quiet,
            watch_pid: self.watch_pid,
        })
    }
}

fn runtime(threads: u64) -> Result<tokio::runtime::Runtime, String> {
    let threads = usize::try_from(threads).unwrap_or(1);
    let built = if threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .enable_all()
            .build()
    };
    built.map_err(|e| format!("cannot start the runtime: {e}"))
}

/// Runs the command line; the process's exit code.
pub fn main(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Ceiling(args) => ceiling(&args),
        Command::Startup(args) => startup(&args),
        Command::Steadiness(args) => steadiness(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rampart-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &RunArgs) -> Result<(), String> {
    let plan = args.plan()?;
    let rt = runtime(args.threads)?;
    rt.block_on(async {
        let prepared = if args.prepare || args.prepare_only {
            let p = crate::prepare::prepare(
                &plan.endpoint,
                &plan.credentials,
                &plan.region,
                &plan.keyspace,
                plan.connections,
                plan.progress,
                plan.seed,
            )
            .await
            .map_err(|e| e.to_string())?;
            if !args.json {
                eprintln!(
                    "prepared {}: {} ({} items in {:.1} s, {:.0} items/s)",
                    plan.keyspace.table,
                    if p.created { "created" } else { "existed" },
                    p.items,
                    p.load_seconds,
                    p.items_per_s
                );
            }
            Some(p)
        } else {
            None
        };
        if args.prepare_only {
            if args.json {
                let v = serde_json::json!({ "prepare": prepared });
                println!("{v}");
            }
            return Ok(());
        }
        let report = crate::run::run(&plan).await.map_err(|e| e.to_string())?;
        if args.json {
            let mut v = serde_json::to_value(&report).map_err(|e| e.to_string())?;
            if let (Some(obj), Some(p)) = (v.as_object_mut(), prepared) {
                obj.insert(
                    "prepare".into(),
                    serde_json::to_value(p).map_err(|e| e.to_string())?,
                );
            }
            println!("{v}");
        } else {
            print!("{}", report.table());
        }
        Ok(())
    })
}

fn ceiling(args: &CeilingArgs) -> Result<(), String> {
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::ceiling::tls_acceptor(cert, key)?),
        _ => None,
    };
    let rt = runtime(args.threads.max(2))?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        eprintln!("ceiling serving on {scheme}://{}", args.listen);
        crate::ceiling::serve(listener, crate::ceiling::fixed_body(args.item_size), tls)
            .await
            .map_err(|e| format!("accept failed: {e}"))
    })
}

fn startup(args: &StartupArgs) -> Result<(), String> {
    let started = crate::startup::start(
        &args.command,
        &args.health,
        args.any_status,
        args.log.as_deref(),
        args.timeout,
    )
    .map_err(|e| e.to_string())?;
    let v = serde_json::to_value(&started).map_err(|e| e.to_string())?;
    println!("{v}");
    Ok(())
}

fn steadiness(args: &SteadinessArgs) -> Result<(), String> {
    if !(args.threshold > 0.0 && args.threshold <= 1.0) {
        return Err("--threshold must be in (0, 1]".into());
    }
    if args.window < Duration::from_micros(100) || args.window > args.duration {
        return Err("--window must be at least 100us and at most --duration".into());
    }
    let threads = match args.threads {
        Some(n) => usize::try_from(n).unwrap_or(1),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let report = crate::steadiness::measure(threads, args.duration, args.window, args.threshold);
    if args.json {
        let v = serde_json::to_value(&report).map_err(|e| e.to_string())?;
        println!("{v}");
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("rampart-bench").chain(args.iter().copied()))
    }

    fn run_args(args: &[&str]) -> RunArgs {
        match parse(args).unwrap().command {
            Command::Run(r) => *r,
            other => panic!("not run: {other:?}"),
        }
    }

    #[test]
    fn counts_accept_suffixes_and_exponents() {
        assert_eq!(parse_count("10000"), Ok(10_000));
        assert_eq!(parse_count("10_000"), Ok(10_000));
        assert_eq!(parse_count("10k"), Ok(10_000));
        assert_eq!(parse_count("1M"), Ok(1_000_000));
        assert_eq!(parse_count("1e6"), Ok(1_000_000));
        assert!(parse_count("ten").is_err());
        assert!(parse_count("1e30").is_err());
    }

    #[test]
    fn durations_accept_units_and_plain_seconds() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn run_defaults_to_ten_seconds_closed_loop_get_item() {
        let a = run_args(&[
            "run",
            "--access-key-id",
            "AKID",
            "--secret-access-key",
            "s",
            "--region",
            "eu-west-1",
        ]);
        let plan = a.plan().unwrap();
        assert_eq!(plan.workload, Workload::GetItem);
        assert_eq!(plan.stop, Stop::Duration(Duration::from_secs(10)));
        assert_eq!(plan.rate, None);
        assert_eq!(plan.connections, 16);
        assert_eq!(plan.keyspace.items, 10_000);
        assert_eq!(plan.region, "eu-west-1");
        assert_eq!(plan.endpoint.authority, "127.0.0.1:8000");
    }

    #[test]
    fn run_takes_workload_rate_requests_and_distribution() {
        let a = run_args(&[
            "run",
            "--endpoint",
            "http://localhost:9000",
            "-w",
            "ycsb-a",
            "--rate",
            "5000",
            "-n",
            "1k",
            "--distribution",
            "zipfian",
            "--keyspace",
            "1e6",
            "-c",
            "4",
            "--access-key-id",
            "AKID",
            "--secret-access-key",
            "s",
        ]);
        let plan = a.plan().unwrap();
        assert_eq!(plan.workload, Workload::YcsbA);
        assert_eq!(plan.rate, Some(5000.0));
        assert_eq!(plan.stop, Stop::Requests(1000));
        assert_eq!(plan.distribution, Distribution::Zipfian);
        assert_eq!(plan.keyspace.items, 1_000_000);
        assert_eq!(plan.connections, 4);
    }

    #[test]
    fn duration_and_requests_cannot_both_be_given() {
        assert!(parse(&["run", "-d", "5s", "-n", "100"]).is_err());
    }

    #[test]
    fn batch_size_above_dynamodbs_limit_is_refused() {
        assert!(parse(&["run", "--batch-size", "26"]).is_err());
        assert!(parse(&["run", "--batch-size", "0"]).is_err());
    }

    #[test]
    fn missing_credentials_are_reported_clearly() {
        let mut a = run_args(&["run"]);
        a.access_key_id = None;
        a.secret_access_key = None;
        let err = a.plan().unwrap_err();
        assert!(err.contains("AWS_ACCESS_KEY_ID"), "{err}");
    }

    #[test]
    fn bad_table_name_is_refused() {
        let mut a = run_args(&["run", "--table", "x"]);
        a.access_key_id = Some("AKID".into());
        a.secret_access_key = Some("s".into());
        assert!(a.plan().unwrap_err().contains("table name"));
    }

    #[test]
    fn region_falls_back_to_aws_env_then_us_east_1() {
        let env = |k: &str| (k == "AWS_DEFAULT_REGION").then(|| "ap-south-1".to_owned());
        assert_eq!(region(None, env), "ap-south-1");
        assert_eq!(region(Some("eu-west-1"), env), "eu-west-1");
        assert_eq!(region(None, |_| None), "us-east-1");
    }

    #[test]
    fn https_endpoint_takes_a_ca_file_and_refuses_a_missing_one() {
        let cert = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/tls/cert.pem");
        let mut a = run_args(&[
            "run",
            "--endpoint",
            "https://localhost:8443",
            "--ca-file",
            cert,
        ]);
        a.access_key_id = Some("AKID".into());
        a.secret_access_key = Some("s".into());
        let plan = a.plan().unwrap();
        assert_eq!(plan.endpoint.scheme, "https");
        assert!(plan.endpoint.tls.is_some());
        a.ca_file = Some("/nonexistent/ca.pem".into());
        assert!(a.plan().unwrap_err().contains("/nonexistent/ca.pem"));
    }

    #[test]
    fn startup_takes_the_command_after_double_dash() {
        let cli = parse(&[
            "startup",
            "--health",
            "http://127.0.0.1:8000/health",
            "--",
            "rampart",
            "serve",
            "--listen",
            "127.0.0.1:8000",
        ])
        .unwrap();
        let Command::Startup(s) = cli.command else {
            panic!("not startup")
        };
        assert_eq!(
            s.command,
            ["rampart", "serve", "--listen", "127.0.0.1:8000"]
        );
    }
}
