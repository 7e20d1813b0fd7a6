//! Settings: command-line flags, `RAMPART_*` environment variables and a TOML
//! file (`--config`), in that order of precedence, then defaults. A bad
//! setting stops the start with a message that names it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use rampart_core::{AccountId, Region};
use serde::Deserialize;

/// `rampart serve` flags; each also reads a `RAMPART_*` variable.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// TOML file with settings (flags and environment variables win over it).
    #[arg(long, env = "RAMPART_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory holding the database [default: ./rampart-data].
    #[arg(long, env = "RAMPART_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8000].
    #[arg(long, env = "RAMPART_LISTEN", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Region this server answers for [default: us-east-1].
    #[arg(long, env = "RAMPART_REGION", value_name = "REGION")]
    pub region: Option<String>,
    /// File holding the 32-byte root key that seals secrets at rest; created
    /// on first start [default: ~/.config/rampart/root.key]. Keep it outside
    /// the data directory.
    #[arg(long, env = "RAMPART_ROOT_KEY_FILE", value_name = "FILE")]
    pub root_key_file: Option<PathBuf>,
    /// Log filter (tracing syntax) [default: info].
    #[arg(long, env = "RAMPART_LOG", value_name = "FILTER")]
    pub log: Option<String>,
    /// Directory of OpenID Connect providers' signing keys for
    /// AssumeRoleWithWebIdentity: `<dir>/<provider url>/jwks.json`.
    #[arg(long, env = "RAMPART_OIDC_KEYS_DIR", value_name = "DIR")]
    pub oidc_keys_dir: Option<PathBuf>,
    /// Accounts whose would-be denials are logged but not enforced (soft
    /// mode, for rolling a policy out); comma-separated in the variable.
    #[arg(
        long = "soft-mode-account",
        env = "RAMPART_SOFT_MODE_ACCOUNTS",
        value_delimiter = ',',
        value_name = "ACCOUNT"
    )]
    pub soft_mode_accounts: Vec<String>,
    /// Threads serving requests [default: the CPUs this process may use].
    /// Fewer leave CPUs to other work on the same host, such as a load
    /// generator (see docs/performance.md).
    #[arg(long, env = "RAMPART_WORKER_THREADS", value_name = "N")]
    pub worker_threads: Option<usize>,
}

impl ServeArgs {
    /// The serve flags when no subcommand was given: only the environment
    /// (and defaults) apply.
    pub fn parse_from_env() -> Self {
        #[derive(clap::Parser)]
        struct Only {
            #[command(flatten)]
            args: ServeArgs,
        }
        <Only as clap::Parser>::parse_from(["rampart"]).args
    }
}

/// The TOML file's shape; unknown keys are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    region: Option<String>,
    root_key_file: Option<PathBuf>,
    log: Option<String>,
    soft_mode_accounts: Option<Vec<String>>,
    oidc_keys_dir: Option<PathBuf>,
    worker_threads: Option<usize>,
}

/// Most worker threads a server may be given.
const MAX_WORKER_THREADS: usize = 1024;

/// The resolved settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where the database lives.
    pub data_dir: PathBuf,
    /// The listening address.
    pub listen: SocketAddr,
    /// The region.
    pub region: Region,
    /// Where the root key file is (unless `RAMPART_ROOT_KEY` gives the key).
    pub root_key_file: PathBuf,
    /// The log filter.
    pub log: String,
    /// Accounts in soft mode.
    pub soft_mode_accounts: Vec<AccountId>,
    /// Where OIDC providers' signing keys are.
    pub oidc_keys_dir: Option<PathBuf>,
    /// Threads of the request runtime (at least 1).
    pub worker_threads: usize,
    /// `RAMPART_ACCOUNT_ID`, for the first start.
    pub account_id: Option<AccountId>,
    /// `RAMPART_ROOT_ACCESS_KEY_ID` / `RAMPART_ROOT_SECRET_ACCESS_KEY`.
    pub root_credentials: Option<(String, String)>,
    /// `RAMPART_ROOT_KEY`: the root key itself, base64 (wins over the file).
    pub root_key_env: Option<String>,
}

/// A setting was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid setting {name}: {reason}")]
pub struct SettingError {
    /// The setting's name as the user wrote it.
    pub name: String,
    /// Why it was refused.
    pub reason: String,
}

fn err(name: &str, reason: impl Into<String>) -> SettingError {
    SettingError {
        name: name.into(),
        reason: reason.into(),
    }
}

fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// AWS region names: lowercase letters, digits and dashes, e.g. `us-east-1`.
fn valid_region(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 32
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !r.starts_with('-')
        && !r.ends_with('-')
}

fn default_root_key_file() -> PathBuf {
    if let Some(dir) = env_nonempty("XDG_CONFIG_HOME") {
        return Path::new(&dir).join("rampart").join("root.key");
    }
    if let Some(home) = env_nonempty("HOME") {
        return Path::new(&home)
            .join(".config")
            .join("rampart")
            .join("root.key");
    }
    PathBuf::from("rampart-root.key")
}

impl Settings {
    /// Resolves flags/environment, then the file, then defaults.
    pub fn resolve(args: &ServeArgs) -> Result<Self, SettingError> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| err("--config", format!("{}: {e}", path.display())))?;
                toml::from_str::<FileSettings>(&text)
                    .map_err(|e| err("--config", format!("{}: {e}", path.display())))?
            }
            None => FileSettings::default(),
        };
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("rampart-data"));
        let listen_text = args
            .listen
            .clone()
            .or(file.listen)
            .unwrap_or_else(|| "127.0.0.1:8000".into());
        let listen: SocketAddr = listen_text.parse().map_err(|_| {
            err(
                "listen",
                format!("{listen_text:?} is not an IP:port address"),
            )
        })?;
        let region = args
            .region
            .clone()
            .or(file.region)
            .unwrap_or_else(|| "us-east-1".into());
        if !valid_region(&region) {
            return Err(err("region", format!("{region:?} is not a region name")));
        }
        let root_key_file = args
            .root_key_file
            .clone()
            .or(file.root_key_file)
            .unwrap_or_else(default_root_key_file);
        let log = args
            .log
            .clone()
            .or(file.log)
            .unwrap_or_else(|| "info".into());
        let soft_text = if args.soft_mode_accounts.is_empty() {
            file.soft_mode_accounts.unwrap_or_default()
        } else {
            args.soft_mode_accounts.clone()
        };
        let soft_mode_accounts = soft_text
            .iter()
            .filter(|a| !a.trim().is_empty())
            .map(|a| {
                AccountId::parse(a.trim()).map_err(|e| err("soft_mode_accounts", e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let worker_threads = args
            .worker_threads
            .or(file.worker_threads)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if !(1..=MAX_WORKER_THREADS).contains(&worker_threads) {
            return Err(err(
                "worker_threads",
                format!("{worker_threads} is not between 1 and {MAX_WORKER_THREADS}"),
            ));
        }
        let account_id = match env_nonempty("RAMPART_ACCOUNT_ID") {
            Some(a) => {
                Some(AccountId::parse(&a).map_err(|e| err("RAMPART_ACCOUNT_ID", e.to_string()))?)
            }
            None => None,
        };
        let root_credentials = match (
            env_nonempty("RAMPART_ROOT_ACCESS_KEY_ID"),
            env_nonempty("RAMPART_ROOT_SECRET_ACCESS_KEY"),
        ) {
            (Some(id), Some(secret)) => Some((id, secret)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(err(
                    "RAMPART_ROOT_SECRET_ACCESS_KEY",
                    "must be set when RAMPART_ROOT_ACCESS_KEY_ID is",
                ));
            }
            (None, Some(_)) => {
                return Err(err(
                    "RAMPART_ROOT_ACCESS_KEY_ID",
                    "must be set when RAMPART_ROOT_SECRET_ACCESS_KEY is",
                ));
            }
        };
        Ok(Self {
            data_dir,
            listen,
            region: Region(region),
            root_key_file,
            log,
            soft_mode_accounts,
            oidc_keys_dir: args.oidc_keys_dir.clone().or(file.oidc_keys_dir),
            worker_threads,
            account_id,
            root_credentials,
            root_key_env: env_nonempty("RAMPART_ROOT_KEY"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names_are_checked() {
        assert!(valid_region("us-east-1"));
        assert!(valid_region("eu-central-2"));
        assert!(!valid_region("US-EAST-1"));
        assert!(!valid_region(""));
        assert!(!valid_region("us east"));
    }

    #[test]
    fn file_settings_refuse_unknown_keys_by_name() {
        let e = toml::from_str::<FileSettings>("listen = \"127.0.0.1:1\"\nlisten_port = 3\n")
            .unwrap_err();
        assert!(e.to_string().contains("listen_port"), "{e}");
    }

    #[test]
    fn bad_listen_address_names_the_setting() {
        let args = ServeArgs {
            listen: Some("localhost".into()),
            ..ServeArgs::default()
        };
        let e = Settings::resolve(&args).unwrap_err();
        assert_eq!(e.name, "listen");
    }

    #[test]
    fn worker_threads_are_bounded_and_default_to_the_cpus() {
        let zero = ServeArgs {
            worker_threads: Some(0),
            ..ServeArgs::default()
        };
        assert_eq!(Settings::resolve(&zero).unwrap_err().name, "worker_threads");
        let s = Settings::resolve(&ServeArgs::default()).unwrap();
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(s.worker_threads, cpus);
        let one = ServeArgs {
            worker_threads: Some(1),
            ..ServeArgs::default()
        };
        assert_eq!(Settings::resolve(&one).unwrap().worker_threads, 1);
    }

    #[test]
    fn config_file_fills_what_flags_leave_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rampart.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9999\"\nregion = \"eu-west-1\"\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(path),
            region: Some("ap-south-1".into()),
            ..ServeArgs::default()
        };
        let s = Settings::resolve(&args).unwrap();
        assert_eq!(s.listen.port(), 9999);
        assert_eq!(s.region.as_str(), "ap-south-1");
    }
}
