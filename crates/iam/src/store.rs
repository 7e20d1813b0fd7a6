//! IAM entities of every account: users, groups, roles, managed policies
//! (with versions), inline policies, attachments, permissions boundaries and
//! tags. Held in memory for the request path (authorization reads them on
//! every call) and written through to storage; one mutation at a time.
//!
//! INVARIANT: the in-memory state equals the stored state after every
//! completed mutation (a mutation writes storage first, then memory).
//! INVARIANT: group membership is stored on the user only; attachment counts
//! are derived, never stored, so no mutation touches two records.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use rampart_core::IdSource;
use rampart_storage::{Batch, Direction, Engine, KeyRange};
use serde::{Deserialize, Serialize};

use crate::error::{IamError, IamResult};

/// The tree holding every entity, keyed `kind/account/name`.
const TREE: &str = "iam/entities";

/// Entity kinds, as they appear in storage keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// IAM user.
    User,
    /// IAM group.
    Group,
    /// IAM role.
    Role,
    /// Customer managed policy.
    Policy,
    /// OpenID Connect provider.
    Oidc,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Role => "role",
            Self::Policy => "policy",
            Self::Oidc => "oidc",
        }
    }
}

/// A tag.
pub type Tags = Vec<(String, String)>;

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Name.
    pub name: String,
    /// `AIDA…` unique id.
    pub id: String,
    /// ARN.
    pub arn: String,
    /// Path.
    pub path: String,
    /// Creation time (epoch seconds).
    pub created: u64,
    /// Tags.
    pub tags: Tags,
    /// Permissions boundary policy ARN.
    pub boundary: Option<String>,
    /// Inline policies: name → document.
    pub inline: BTreeMap<String, String>,
    /// Attached managed policy ARNs.
    pub attached: Vec<String>,
    /// Groups the user belongs to.
    pub groups: Vec<String>,
}

/// An IAM group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Name.
    pub name: String,
    /// `AGPA…` unique id.
    pub id: String,
    /// ARN.
    pub arn: String,
    /// Path.
    pub path: String,
    /// Creation time.
    pub created: u64,
    /// Inline policies.
    pub inline: BTreeMap<String, String>,
    /// Attached managed policy ARNs.
    pub attached: Vec<String>,
}

/// An IAM role.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// Name.
    pub name: String,
    /// `AROA…` unique id.
    pub id: String,
    /// ARN.
    pub arn: String,
    /// Path.
    pub path: String,
    /// Creation time.
    pub created: u64,
    /// The trust policy (AssumeRolePolicyDocument).
    pub trust: String,
    /// Description.
    pub description: Option<String>,
    /// Longest session in seconds (3600..=43200).
    pub max_session: u32,
    /// Tags.
    pub tags: Tags,
    /// Permissions boundary policy ARN.
    pub boundary: Option<String>,
    /// Inline policies.
    pub inline: BTreeMap<String, String>,
    /// Attached managed policy ARNs.
    pub attached: Vec<String>,
}

/// One version of a managed policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyVersion {
    /// `v1`, `v2`, …
    pub id: String,
    /// The document.
    pub document: String,
    /// Creation time.
    pub created: u64,
}

/// A managed policy (customer managed, or AWS managed when `account` is `aws`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManagedPolicy {
    /// Name.
    pub name: String,
    /// `ANPA…` unique id.
    pub id: String,
    /// ARN.
    pub arn: String,
    /// Path.
    pub path: String,
    /// Description.
    pub description: Option<String>,
    /// Creation time.
    pub created: u64,
    /// Last update time.
    pub updated: u64,
    /// The default version's id.
    pub default_version: String,
    /// At most five versions.
    pub versions: Vec<PolicyVersion>,
    /// The number the next version gets.
    pub next_version: u32,
    /// Tags.
    pub tags: Tags,
}

impl ManagedPolicy {
    /// The default version's document.
    pub fn default_document(&self) -> Option<&str> {
        self.versions
            .iter()
            .find(|v| v.id == self.default_version)
            .map(|v| v.document.as_str())
    }
}

/// An OpenID Connect identity provider registered in IAM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OidcProvider {
    /// `arn:aws:iam::ACCOUNT:oidc-provider/<url>`.
    pub arn: String,
    /// The issuer without `https://`.
    pub url: String,
    /// Registered client ids (audiences).
    pub client_ids: Vec<String>,
    /// Certificate thumbprints (stored; trust comes from local keys).
    pub thumbprints: Vec<String>,
    /// Creation time.
    pub created: u64,
    /// Tags.
    pub tags: Tags,
}

/// Everything in memory.
#[derive(Debug, Default, Clone)]
pub struct IamState {
    /// (account, name) → user.
    pub users: HashMap<(String, String), User>,
    /// (account, name) → group.
    pub groups: HashMap<(String, String), Group>,
    /// (account, name) → role.
    pub roles: HashMap<(String, String), Role>,
    /// ARN → customer managed policy.
    pub policies: HashMap<String, ManagedPolicy>,
    /// (account, url) → OpenID Connect provider.
    pub oidc: HashMap<(String, String), OidcProvider>,
}

impl IamState {
    /// The users of `account` that belong to `group`.
    pub fn group_members(&self, account: &str, group: &str) -> Vec<&User> {
        let mut v: Vec<&User> = self
            .users
            .iter()
            .filter(|((a, _), u)| a == account && u.groups.iter().any(|g| g == group))
            .map(|(_, u)| u)
            .collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        v
    }

    /// How many users, groups and roles a policy is attached to (or used as a boundary by).
    pub fn attachment_count(&self, arn: &str) -> usize {
        self.users
            .values()
            .filter(|u| u.attached.iter().any(|a| a == arn))
            .count()
            + self
                .groups
                .values()
                .filter(|g| g.attached.iter().any(|a| a == arn))
                .count()
            + self
                .roles
                .values()
                .filter(|r| r.attached.iter().any(|a| a == arn))
                .count()
    }

    /// How many entities use a policy as their permissions boundary.
    pub fn boundary_count(&self, arn: &str) -> usize {
        self.users
            .values()
            .filter(|u| u.boundary.as_deref() == Some(arn))
            .count()
            + self
                .roles
                .values()
                .filter(|r| r.boundary.as_deref() == Some(arn))
                .count()
    }
}

/// The IAM entity store.
pub struct IamStore {
    /// Where entities persist.
    engine: Arc<dyn Engine>,
    /// Random ids.
    ids: Arc<dyn IdSource>,
    /// The state the request path reads.
    state: RwLock<Arc<IamState>>,
    /// One mutation at a time.
    write: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for IamStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IamStore")
    }
}

/// A unique id with AWS's 4-letter prefix and 17 more characters.
pub fn unique_id(prefix: &str, ids: &dyn IdSource) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut buf = [0u8; 17];
    ids.fill(&mut buf);
    let mut s = String::from(prefix);
    for b in buf {
        s.push(char::from(
            ALPHABET.get(usize::from(b % 32)).copied().unwrap_or(b'A'),
        ));
    }
    s
}

/// Seconds since the epoch.
pub fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn key(kind: Kind, account: &str, name: &str) -> Vec<u8> {
    format!("{}/{account}/{name}", kind.prefix()).into_bytes()
}

fn corrupt(e: serde_json::Error) -> IamError {
    IamError::ServiceFailure(format!("stored IAM entity does not decode: {e}"))
}

impl IamStore {
    /// Loads every entity from storage.
    pub async fn open(engine: Arc<dyn Engine>, ids: Arc<dyn IdSource>) -> IamResult<Self> {
        let rows = engine
            .scan(TREE, KeyRange::all(), Direction::Forward, usize::MAX)
            .await?;
        let mut st = IamState::default();
        for (k, v) in rows {
            let k = String::from_utf8_lossy(&k).into_owned();
            let mut parts = k.splitn(3, '/');
            let (Some(kind), Some(account), Some(name)) =
                (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let id = (account.to_owned(), name.to_owned());
            match kind {
                "user" => {
                    st.users
                        .insert(id, serde_json::from_slice(&v.value).map_err(corrupt)?);
                }
                "group" => {
                    st.groups
                        .insert(id, serde_json::from_slice(&v.value).map_err(corrupt)?);
                }
                "role" => {
                    st.roles
                        .insert(id, serde_json::from_slice(&v.value).map_err(corrupt)?);
                }
                "policy" => {
                    let p: ManagedPolicy = serde_json::from_slice(&v.value).map_err(corrupt)?;
                    st.policies.insert(p.arn.clone(), p);
                }
                "oidc" => {
                    let p: OidcProvider = serde_json::from_slice(&v.value).map_err(corrupt)?;
                    st.oidc.insert((account.to_owned(), p.url.clone()), p);
                }
                _ => {}
            }
        }
        Ok(Self {
            engine,
            ids,
            state: RwLock::new(Arc::new(st)),
            write: tokio::sync::Mutex::new(()),
        })
    }

    /// A consistent snapshot of every entity.
    pub fn snapshot(&self) -> Arc<IamState> {
        match self.state.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Random ids for new entities.
    pub fn ids(&self) -> &dyn IdSource {
        &*self.ids
    }

    /// Applies `f` to a copy of the state, persists the records it returns
    /// (`None` value = delete) and publishes the new state.
    pub async fn mutate<R>(
        &self,
        f: impl FnOnce(&mut IamState) -> IamResult<(Vec<(Kind, String, String, Option<Vec<u8>>)>, R)>,
    ) -> IamResult<R> {
        let _guard = self.write.lock().await;
        let mut next = (*self.snapshot()).clone();
        let (writes, out) = f(&mut next)?;
        if !writes.is_empty() {
            let mut batch = Batch::new();
            for (kind, account, name, value) in writes {
                let k = key(kind, &account, &name);
                match value {
                    Some(v) => {
                        batch.put(TREE, k, v);
                    }
                    None => {
                        batch.delete(TREE, k);
                    }
                }
            }
            self.engine.commit(batch).await?;
        }
        match self.state.write() {
            Ok(mut s) => *s = Arc::new(next),
            Err(p) => *p.into_inner() = Arc::new(next),
        }
        Ok(out)
    }
}

/// Encodes an entity for [`IamStore::mutate`].
pub fn record<T: Serialize>(
    kind: Kind,
    account: &str,
    name: &str,
    value: &T,
) -> IamResult<(Kind, String, String, Option<Vec<u8>>)> {
    let bytes = serde_json::to_vec(value).map_err(|e| IamError::ServiceFailure(e.to_string()))?;
    Ok((kind, account.to_owned(), name.to_owned(), Some(bytes)))
}

/// A deletion for [`IamStore::mutate`].
pub fn removal(kind: Kind, account: &str, name: &str) -> (Kind, String, String, Option<Vec<u8>>) {
    (kind, account.to_owned(), name.to_owned(), None)
}
