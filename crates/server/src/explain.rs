//! `rampart policy explain`: evaluates a described request against the
//! current IAM and Organizations state of a data directory, with the same
//! authorizer the server uses, and prints the decision and why.
//!
//! A running server holds its data directory exclusively (the storage
//! engine's lock), so the command first asks the server over its control
//! socket in the directory (`admin.rs`), where the server's own authorizer
//! evaluates; only when no server answers there does it open the directory
//! itself.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rampart_core::{Clock, IdSource, OsRandom, SystemClock};
use rampart_iam::policy::ContextValue;
use rampart_iam::{Authorizer, AuthzInput};
use rampart_storage::Engine;
use rampart_storage_embedded::{Options, SqliteEngine};

/// How long the command keeps asking while the data directory is held by a
/// process that does not answer on the control socket (yet).
const IN_USE_WAIT: Duration = Duration::from_secs(5);
/// How often it asks again meanwhile.
const IN_USE_POLL: Duration = Duration::from_millis(50);

/// `rampart policy explain` flags.
#[derive(Debug, clap::Args, serde::Serialize, serde::Deserialize)]
pub struct ExplainArgs {
    /// The data directory to read (the server may be running: it is then
    /// asked over its control socket in the directory).
    #[arg(long, env = "RAMPART_DATA_DIR", default_value = "rampart-data")]
    pub data_dir: PathBuf,
    /// Who asks: a user, role or root ARN (`arn:aws:iam::111122223333:user/alice`).
    #[arg(long)]
    pub principal: String,
    /// The IAM action, e.g. `dynamodb:GetItem`.
    #[arg(long)]
    pub action: String,
    /// The resource ARN (default `*`).
    #[arg(long, default_value = "*")]
    pub resource: String,
    /// A condition key, `key=value` (repeat; `key=a,b` for a multivalued key
    /// such as `dynamodb:LeadingKeys`).
    #[arg(long = "context", value_name = "KEY=VALUE")]
    pub context: Vec<String>,
    /// The caller's source IP (`aws:SourceIp`).
    #[arg(long, default_value = "127.0.0.1")]
    pub source_ip: IpAddr,
    /// The region (`aws:RequestedRegion`).
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Keys whose values are lists in AWS's condition-key reference.
fn multivalued(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k == "dynamodb:leadingkeys" || k == "dynamodb:attributes" || k == "aws:tagkeys"
}

/// Runs the command; returns the process exit code (0 allowed, 1 denied, 2 error).
pub async fn run(args: ExplainArgs) -> Result<u8, String> {
    // The directory may be held by a server that is starting (its control
    // socket not yet bound) or by another explain: ask again until one of the
    // two answers, for a few seconds.
    let started = Instant::now();
    let engine = loop {
        if let Some(answer) = crate::admin::ask(&args.data_dir, &args).await? {
            print!("{}", answer.output);
            return Ok(answer.code);
        }
        match SqliteEngine::open(&args.data_dir, Options::default()) {
            Ok(engine) => break engine,
            Err(rampart_storage::Error::InUse(_)) if started.elapsed() < IN_USE_WAIT => {
                tokio::time::sleep(IN_USE_POLL).await;
            }
            Err(e) => return Err(format!("data directory {}: {e}", args.data_dir.display())),
        }
    };
    let engine: Arc<dyn Engine> = Arc::new(engine);
    let ids: Arc<dyn IdSource> = Arc::new(OsRandom);
    let store = Arc::new(
        rampart_iam::store::IamStore::open(engine.clone(), ids.clone())
            .await
            .map_err(|e| e.to_string())?,
    );
    let orgs = Arc::new(
        rampart_iam::orgs::OrgStore::open(engine.clone(), ids)
            .await
            .map_err(|e| e.to_string())?,
    );
    let authorizer = Authorizer::new(store, orgs);
    let result = evaluate(&authorizer, &args);
    let _ = engine.close().await;
    let (code, output) = result?;
    print!("{output}");
    Ok(code)
}

/// Evaluates the described request with `authorizer` and renders the
/// answer: the exit code (0 allowed, 1 denied) and what to print.
pub fn evaluate(authorizer: &Authorizer, args: &ExplainArgs) -> Result<(u8, String), String> {
    let state = authorizer.iam_state();
    let principal = rampart_iam::simulate::principal_for_arn(&state, &args.principal)
        .map_err(|e| e.to_string())?;
    let ctx = rampart_iam::simulate::offline_context(
        principal,
        SystemClock.now(),
        &args.region,
        args.source_ip,
    );
    let mut keys = Vec::new();
    for kv in &args.context {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("--context {kv:?}: expected KEY=VALUE"))?;
        let value = if multivalued(k) {
            ContextValue::Multi(v.split(',').map(str::to_owned).collect())
        } else {
            ContextValue::Single(v.to_owned())
        };
        keys.push((k.to_owned(), value));
    }
    let input = AuthzInput {
        action: &args.action,
        resource: &args.resource,
        resource_policy: None,
        keys,
        lazy_keys: None,
        explain: true,
    };
    let d = authorizer.authorize(&ctx, &input);
    let mut out = String::new();
    if args.json {
        let matched: Vec<serde_json::Value> = d
            .matched
            .iter()
            .map(|m| {
                serde_json::json!({"policy": m.policy, "layer": m.layer, "sid": m.sid, "index": m.index, "effect": m.effect})
            })
            .collect();
        let json = serde_json::json!({
            "decision": format!("{:?}", d.outcome),
            "decidedBy": d.decided_by,
            "matched": matched,
            "message": d.message,
        });
        out.push_str(&format!("{json}\n"));
    } else {
        out.push_str(&format!("{:?} ({})\n", d.outcome, d.explanation));
        if let Some(m) = &d.message {
            out.push_str(&format!("{m}\n"));
        }
    }
    Ok((if d.is_allowed() { 0 } else { 1 }, out))
}
