//! The composition root: builds the engine, key store, services and clock
//! once, hands `Arc`s down, and runs the listener until a signal arrives.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rampart_core::{Clock, IdSource, OsRandom, Secret, SystemClock};
use rampart_dynamodb::DynamoDb;
use rampart_front::{App, BoundListener};
use rampart_iam::{KeyStore, Sealer};
use rampart_storage::Engine;
use rampart_storage_embedded::{Options, SqliteEngine};

use crate::config::Settings;

/// How long a starting server waits for its data directory while another
/// process holds it (`SqliteEngine`'s directory lock).
const DATA_DIR_LOCK_WAIT: Duration = Duration::from_secs(3);

/// Starting or running the server failed.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The root key could not be read or created.
    #[error("root key: {0}")]
    RootKey(String),
    /// The data directory could not be opened.
    #[error("data directory {path}: {reason}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        reason: String,
    },
    /// Bootstrap of the account failed.
    #[error("bootstrap: {0}")]
    Bootstrap(String),
    /// The listen address could not be bound.
    #[error("listen {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// Serving failed.
    #[error("serve: {0}")]
    Serve(String),
}

/// Reads the 32-byte root key from `RAMPART_ROOT_KEY` (base64) or the key
/// file, creating the file (mode 0600) with a fresh key if it does not exist.
fn load_root_key(settings: &Settings, ids: &dyn IdSource) -> Result<Secret<[u8; 32]>, StartError> {
    let decode = |text: &str, source: &str| -> Result<Secret<[u8; 32]>, StartError> {
        let bytes = Secret::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| StartError::RootKey(format!("{source} is not base64")))?,
        );
        let key: [u8; 32] = bytes
            .expose()
            .as_slice()
            .try_into()
            .map_err(|_| StartError::RootKey(format!("{source} must hold 32 bytes")))?;
        Ok(Secret::new(key))
    };
    if let Some(text) = &settings.root_key_env {
        return decode(text, "RAMPART_ROOT_KEY");
    }
    let path = &settings.root_key_file;
    match std::fs::read_to_string(path) {
        Ok(text) => decode(&text, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            ids.fill(&mut key);
            let key = Secret::new(key);
            let text = STANDARD.encode(key.expose());
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .map_err(|e| StartError::RootKey(format!("{}: {e}", parent.display())))?;
            }
            match write_private(path, format!("{text}\n").as_bytes(), true) {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "created a new root key; back it up: without it the stored secrets cannot be opened");
                    Ok(key)
                }
                // Another server created it at the same moment: use theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| StartError::RootKey(format!("{}: {e}", path.display())))?;
                    decode(&text, &path.display().to_string())
                }
                Err(e) => Err(StartError::RootKey(format!("{}: {e}", path.display()))),
            }
        }
        Err(e) => Err(StartError::RootKey(format!("{}: {e}", path.display()))),
    }
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, contents: &[u8], create_new: bool) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).mode(0o600);
    if create_new {
        opts.create_new(true);
    } else {
        opts.create(true).truncate(true);
    }
    let mut f = opts.open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn run(settings: Settings) -> Result<(), StartError> {
    let started = Instant::now();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let ids: Arc<dyn IdSource> = Arc::new(OsRandom);
    let root_key = load_root_key(&settings, &*ids)?;

    std::fs::create_dir_all(&settings.data_dir).map_err(|e| StartError::DataDir {
        path: settings.data_dir.display().to_string(),
        reason: e.to_string(),
    })?;
    // A `rampart policy explain` may hold a stopped server's directory for a
    // moment: wait for it rather than fail the start. Another server holds
    // it for good, and is reported after the wait.
    let options = Options {
        lock_wait: DATA_DIR_LOCK_WAIT,
        ..Options::default()
    };
    let engine: Arc<dyn Engine> = Arc::new(
        SqliteEngine::open(&settings.data_dir, options).map_err(|e| StartError::DataDir {
            path: settings.data_dir.display().to_string(),
            reason: e.to_string(),
        })?,
    );

    let keys = Arc::new(KeyStore::new(
        engine.clone(),
        Sealer::new(&root_key),
        ids.clone(),
    ));
    let mfa = Arc::new(rampart_iam::mfa::MfaStore::new(
        engine.clone(),
        Arc::new(Sealer::new(&root_key)),
        ids.clone(),
    ));
    drop(root_key);
    let boot = keys
        .bootstrap(
            settings.account_id.clone(),
            settings
                .root_credentials
                .clone()
                .map(|(id, secret)| (id, Secret::new(secret))),
            clock.now(),
        )
        .await
        .map_err(|e| StartError::Bootstrap(e.to_string()))?;
    if let Some((id, secret)) = &boot.generated {
        let path = settings.data_dir.join("credentials");
        let text = format!(
            "[default]\naws_access_key_id = {id}\naws_secret_access_key = {}\n",
            secret.expose()
        );
        write_private(&path, text.as_bytes(), false)
            .map_err(|e| StartError::Bootstrap(format!("{}: {e}", path.display())))?;
        tracing::info!(path = %path.display(), access_key_id = %id, "generated root credentials (AWS CLI shared-credentials format)");
    }

    let dynamodb = DynamoDb::open(
        engine.clone(),
        clock.clone(),
        ids.clone(),
        settings.region.clone(),
    )
    .await
    .map_err(|e| StartError::DataDir {
        path: settings.data_dir.display().to_string(),
        reason: e.to_string(),
    })?;
    dynamodb.set_policy_validator(Arc::new(|doc: &str| {
        rampart_iam::policy::Policy::parse(doc, rampart_iam::policy::PolicyKind::Resource)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }));
    let sweeper = dynamodb.clone().spawn_background();
    let key_tasks = keys.clone().spawn_background(clock.clone());

    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| StartError::Listen {
            addr: settings.listen.to_string(),
            reason: e.to_string(),
        })?;
    let local = listener.local_addr().map_err(|e| StartError::Listen {
        addr: settings.listen.to_string(),
        reason: e.to_string(),
    })?;
    let iam_store = Arc::new(
        rampart_iam::store::IamStore::open(engine.clone(), ids.clone())
            .await
            .map_err(|e| StartError::DataDir {
                path: settings.data_dir.display().to_string(),
                reason: e.to_string(),
            })?,
    );
    let orgs = Arc::new(
        rampart_iam::orgs::OrgStore::open(engine.clone(), ids.clone())
            .await
            .map_err(|e| StartError::DataDir {
                path: settings.data_dir.display().to_string(),
                reason: e.to_string(),
            })?,
    );
    let authorizer = Arc::new(
        rampart_iam::Authorizer::new(iam_store.clone(), orgs.clone())
            .with_soft_mode(settings.soft_mode_accounts.iter().map(|a| a.to_string())),
    );
    if !settings.soft_mode_accounts.is_empty() {
        tracing::warn!(accounts = ?settings.soft_mode_accounts, "soft mode: denials in these accounts are logged, not enforced");
    }
    // Local commands (`rampart policy explain`) reach the server here: it
    // holds the data directory exclusively.
    let control = match crate::admin::ControlSocket::bind(&settings.data_dir, authorizer.clone()) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::warn!(error = %e, "no control socket in the data directory: `rampart policy explain` cannot reach this server");
            None
        }
    };
    let iam = Arc::new(rampart_iam::api::Iam {
        store: iam_store,
        keys: keys.clone(),
        mfa,
        orgs,
        oidc_keys_dir: settings.oidc_keys_dir.clone(),
    });
    let app = Arc::new(App {
        region: settings.region.clone(),
        keys: keys.clone(),
        iam,
        authorizer,
        dynamodb,
        clock,
        ids,
        signing_keys: rampart_sigv4::SigningKeyCache::default(),
    });
    tracing::info!(
        listen = %local,
        account = %boot.account,
        region = %settings.region,
        data_dir = %settings.data_dir.display(),
        startup_ms = started.elapsed().as_millis() as u64,
        "rampart is serving"
    );
    rampart_front::serve(
        vec![BoundListener {
            id: "default".into(),
            listener,
        }],
        app,
        shutdown_signal(),
    )
    .await
    .map_err(|e| StartError::Serve(e.to_string()))?;
    if let Some(c) = control {
        c.close();
    }
    sweeper.abort();
    // Stop the key store's task, then write the last uses it had not yet.
    key_tasks.abort();
    let _ = key_tasks.await;
    if let Err(e) = keys.flush_last_used().await {
        tracing::warn!(error = %e, "writing access keys' last use at shutdown failed");
    }
    engine
        .close()
        .await
        .map_err(|e| StartError::Serve(e.to_string()))?;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let ctrl_c = tokio::signal::ctrl_c();
    match term {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
                _ = ctrl_c => tracing::info!("SIGINT: shutting down"),
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}
