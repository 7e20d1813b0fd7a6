//! The account, its root user and access keys, persisted through the storage
//! trait with every secret access key sealed under the root key.
//!
//! A key's last use (for `GetAccessKeyLastUsed`) is noted in memory on the
//! request path and written into the key's record off it, by
//! [`KeyStore::flush_last_used`] (run every [`LAST_USED_FLUSH_EVERY`] by
//! [`KeyStore::spawn_background`], and once more at shutdown).
//! INVARIANT: the request path never writes storage for last use; the time is
//! kept to the minute, so a key's record changes at most once a minute for it
//! (or when the service or region it is used with changes).
//!
//! Temporary credentials (`ASIA…` records with a sealed session token) stop
//! working at their expiry, checked on every request; their records are
//! deleted later by [`KeyStore::sweep_expired_sessions`] (at start and every
//! [`SESSION_SWEEP_EVERY`]), once expired for [`EXPIRED_SESSION_RETENTION`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rampart_core::{AccountId, Clock, IdSource, Principal, PrincipalKind, Secret};
use rampart_storage::{Batch, Engine};
use serde::{Deserialize, Serialize};

use crate::seal::{SealError, Sealer};

/// Tree holding the account record.
const ACCOUNT_TREE: &str = "iam/account";
/// Tree holding access keys by access key id.
const KEY_TREE: &str = "iam/access-keys";
/// Key of the bootstrap account within [`ACCOUNT_TREE`].
const BOOTSTRAP: &[u8] = b"bootstrap";
/// How often the background task writes noted last uses into key records.
pub const LAST_USED_FLUSH_EVERY: Duration = Duration::from_secs(60);
/// Granularity of a key's last-use time: AWS reports it to the minute.
const LAST_USED_GRANULARITY: u64 = 60;
/// Most key records one flush commit rewrites.
const FLUSH_CHUNK: usize = 256;
/// Commits tried for one chunk when other writers keep moving its records.
const FLUSH_ATTEMPTS: usize = 4;
/// Commits tried for a status change racing a last-use flush.
const UPDATE_ATTEMPTS: usize = 4;
/// How often the background task deletes expired sessions' records.
pub const SESSION_SWEEP_EVERY: Duration = Duration::from_secs(600);
/// How long an expired session's record is kept: meanwhile its credentials
/// are refused with `ExpiredToken`, as AWS refuses them, and not as an
/// unknown key (`InvalidClientTokenId`), which would hide why.
pub const EXPIRED_SESSION_RETENTION: Duration = Duration::from_secs(3600);
/// Prefix of temporary credentials' key ids (only sessions are swept).
const SESSION_PREFIX: &[u8] = b"ASIA";
/// Most records one sweep commit deletes.
const SWEEP_CHUNK: usize = 256;

/// Errors of the key store.
#[derive(Debug, thiserror::Error)]
pub enum KeyStoreError {
    /// The storage engine failed.
    #[error(transparent)]
    Storage(#[from] rampart_storage::Error),
    /// A sealed secret did not open: wrong root key for this data directory.
    #[error(
        "a stored secret does not open with the configured root key ({0}); is this the root key this data directory was created with?"
    )]
    Seal(#[from] SealError),
    /// A stored record did not decode.
    #[error("stored record is corrupt: {0}")]
    Corrupt(String),
}

/// The stored form of the bootstrap account.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct AccountRecord {
    /// The 12-digit account id.
    account_id: String,
    /// Seconds since the epoch at creation.
    created: u64,
}

/// The stored form of an access key. The secret is sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessKeyRecord {
    /// `AKIA…`.
    pub access_key_id: String,
    /// The secret access key sealed with [`Sealer`], bound to the key id.
    #[serde(with = "b64")]
    pub sealed_secret: Vec<u8>,
    /// The owning account.
    pub account_id: String,
    /// The owner's ARN.
    pub principal_arn: String,
    /// The owner's unique id (`aws:userid`).
    pub user_id: String,
    /// `root` or `user`.
    pub principal_kind: String,
    /// `Active` or `Inactive`.
    pub status: String,
    /// Seconds since the epoch at creation.
    pub created: u64,
    /// When the key last signed a request, epoch seconds rounded down to the
    /// minute. Noted in memory per request and written here at most once a
    /// minute ([`KeyStore::note_used`], [`KeyStore::flush_last_used`]).
    #[serde(default)]
    pub last_used: Option<u64>,
    /// The service it was last used with.
    #[serde(default)]
    pub last_used_service: Option<String>,
    /// The region it was last used in.
    #[serde(default)]
    pub last_used_region: Option<String>,
    /// Temporary credentials: the session token, sealed like the secret.
    #[serde(default, with = "b64opt")]
    pub sealed_token: Option<Vec<u8>>,
    /// Temporary credentials: what the session is.
    #[serde(default)]
    pub session: Option<SessionMeta>,
}

/// What a temporary-credential session is; see [`rampart_core::SessionInfo`].
pub type SessionMeta = rampart_core::SessionInfo;

/// A temporary credential's session: the token it must present and what it is.
#[derive(Debug, Clone)]
pub struct SessionCred {
    /// The session token.
    token: Arc<Secret<String>>,
    /// The session's metadata.
    pub meta: SessionMeta,
}

impl SessionCred {
    /// Whether `token` is this session's token (constant time).
    pub fn token_matches(&self, token: &str) -> bool {
        use subtle::ConstantTimeEq;
        let a = self.token.expose().as_bytes();
        let b = token.as_bytes();
        a.len() == b.len() && bool::from(a.ct_eq(b))
    }

    /// Whether the session has expired at `now`.
    pub fn expired(&self, now: SystemTime) -> bool {
        now_secs(now) >= self.meta.expires
    }
}

mod b64opt {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_some(&STANDARD.encode(b)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| STANDARD.decode(s).map_err(serde::de::Error::custom))
            .transpose()
    }
}

mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(v))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        STANDARD.decode(s).map_err(serde::de::Error::custom)
    }
}

/// A usable credential: the secret (for signature verification) and its owner.
#[derive(Debug, Clone)]
pub struct Credential {
    /// The secret access key.
    pub secret: Arc<Secret<String>>,
    /// Who the key belongs to.
    pub principal: Principal,
    /// Whether the key is active.
    pub active: bool,
    /// For temporary credentials: the session.
    pub session: Option<SessionCred>,
}

/// What bootstrap produced.
#[derive(Debug)]
pub struct Bootstrap {
    /// The account id.
    pub account: AccountId,
    /// A freshly generated root key pair, when one was generated (the caller
    /// writes it to the credentials file); `None` if the keys already existed
    /// or were supplied.
    pub generated: Option<(String, Secret<String>)>,
}

/// Access keys with an in-memory cache of opened secrets.
pub struct KeyStore {
    /// Where records live.
    engine: Arc<dyn Engine>,
    /// Seals and opens secrets.
    sealer: Sealer,
    /// Nonces for sealing and fresh key material.
    ids: Arc<dyn IdSource>,
    /// Opened credentials by access key id.
    cache: RwLock<HashMap<String, Credential>>,
    /// Last use of each key noted since start, newer than or equal to what
    /// its record holds.
    last_used: std::sync::Mutex<HashMap<String, LastUse>>,
    /// One flush at a time (the background task and the shutdown flush).
    flushing: tokio::sync::Mutex<()>,
}

/// A key's last use as noted in memory.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LastUse {
    /// Epoch seconds rounded down to the minute.
    at: u64,
    /// The signing name of the service called.
    service: String,
    /// The region of the request's credential scope.
    region: String,
    /// Whether the key's record does not hold this yet.
    dirty: bool,
}

impl LastUse {
    /// Whether `rec` already holds this use.
    fn stored_in(&self, rec: &AccessKeyRecord) -> bool {
        rec.last_used == Some(self.at)
            && rec.last_used_service.as_deref() == Some(self.service.as_str())
            && rec.last_used_region.as_deref() == Some(self.region.as_str())
    }
}

fn decode_record(bytes: &[u8]) -> Result<AccessKeyRecord, KeyStoreError> {
    serde_json::from_slice(bytes).map_err(|e| KeyStoreError::Corrupt(e.to_string()))
}

fn encode_record(rec: &AccessKeyRecord) -> Result<Vec<u8>, KeyStoreError> {
    serde_json::to_vec(rec).map_err(|e| KeyStoreError::Corrupt(e.to_string()))
}

impl std::fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyStore")
    }
}

fn now_secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A new access key id: `AKIA` + 16 characters of AWS's alphabet.
pub fn generate_access_key_id(ids: &dyn IdSource) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut buf = [0u8; 16];
    ids.fill(&mut buf);
    let mut s = String::from("AKIA");
    for b in buf {
        s.push(char::from(
            ALPHABET.get(usize::from(b % 32)).copied().unwrap_or(b'A'),
        ));
    }
    s
}

/// A new 40-character secret access key.
pub fn generate_secret_key(ids: &dyn IdSource) -> Secret<String> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut buf = [0u8; 40];
    ids.fill(&mut buf);
    Secret::new(
        buf.iter()
            .map(|b| char::from(ALPHABET.get(usize::from(b % 64)).copied().unwrap_or(b'A')))
            .collect(),
    )
}

impl KeyStore {
    /// A store over `engine`, sealing with `sealer`.
    pub fn new(engine: Arc<dyn Engine>, sealer: Sealer, ids: Arc<dyn IdSource>) -> Self {
        Self {
            engine,
            sealer,
            ids,
            cache: RwLock::new(HashMap::new()),
            last_used: std::sync::Mutex::new(HashMap::new()),
            flushing: tokio::sync::Mutex::new(()),
        }
    }

    /// Records that a key signed a request (for GetAccessKeyLastUsed). Memory
    /// only: [`Self::flush_last_used`] writes it into the key's record. A use
    /// older than the one noted is ignored (requests finish out of order).
    pub fn note_used(&self, access_key_id: &str, now: SystemTime, service: &str, region: &str) {
        let secs = now_secs(now);
        let at = secs - secs % LAST_USED_GRANULARITY;
        let Ok(mut m) = self.last_used.lock() else {
            return;
        };
        match m.get_mut(access_key_id) {
            Some(e) => {
                if at < e.at || (at == e.at && e.service == service && e.region == region) {
                    return;
                }
                e.at = at;
                if e.service != service {
                    e.service = service.to_owned();
                }
                if e.region != region {
                    e.region = region.to_owned();
                }
                e.dirty = true;
            }
            None => {
                m.insert(
                    access_key_id.to_owned(),
                    LastUse {
                        at,
                        service: service.to_owned(),
                        region: region.to_owned(),
                        dirty: true,
                    },
                );
            }
        }
    }

    /// Writes every last use noted since the previous flush into its key's
    /// record; returns how many records it rewrote. Off the request path:
    /// the background task calls it every [`LAST_USED_FLUSH_EVERY`] and the
    /// server once more at shutdown. A record changed meanwhile by someone
    /// else (a status change, a delete) wins; its use is written next time,
    /// and a deleted key's use is forgotten, never written back.
    pub async fn flush_last_used(&self) -> Result<usize, KeyStoreError> {
        let _one = self.flushing.lock().await;
        let pending: Vec<(String, LastUse)> = match self.last_used.lock() {
            Ok(m) => m
                .iter()
                .filter(|(_, u)| u.dirty)
                .map(|(id, u)| (id.clone(), u.clone()))
                .collect(),
            Err(_) => return Ok(0),
        };
        let mut written = 0;
        for chunk in pending.chunks(FLUSH_CHUNK) {
            written += self.flush_chunk(chunk).await?;
        }
        Ok(written)
    }

    /// Writes one chunk of pending last uses in one commit, each guarded by
    /// the version it was read at; retries without a record that moved.
    async fn flush_chunk(&self, chunk: &[(String, LastUse)]) -> Result<usize, KeyStoreError> {
        let mut todo: Vec<&(String, LastUse)> = chunk.iter().collect();
        for _ in 0..FLUSH_ATTEMPTS {
            let keys: Vec<(rampart_storage::TreeName, Vec<u8>)> = todo
                .iter()
                .map(|(id, _)| (KEY_TREE.to_owned(), id.as_bytes().to_vec()))
                .collect();
            let found = self.engine.get_many(&keys).await?;
            let mut batch = Batch::new();
            let mut in_batch = Vec::new();
            for (item, stored) in todo.iter().zip(found) {
                let (id, use_) = *item;
                let Some(v) = stored else {
                    // The key is gone: nothing to record its use in.
                    self.forget_last_used(id);
                    continue;
                };
                let mut rec = decode_record(&v.value)?;
                if use_.stored_in(&rec) {
                    self.mark_stored(id, use_);
                    continue;
                }
                rec.last_used = Some(use_.at);
                rec.last_used_service = Some(use_.service.clone());
                rec.last_used_region = Some(use_.region.clone());
                let key = id.as_bytes().to_vec();
                batch.expect(KEY_TREE, key.clone(), Some(v.version)).put(
                    KEY_TREE,
                    key,
                    encode_record(&rec)?,
                );
                in_batch.push(*item);
            }
            if in_batch.is_empty() {
                return Ok(0);
            }
            match self.engine.commit(batch).await {
                Ok(_) => {
                    for (id, use_) in &in_batch {
                        self.mark_stored(id, use_);
                    }
                    return Ok(in_batch.len());
                }
                // INVARIANT: one precondition per record, in `in_batch` order.
                Err(rampart_storage::Error::Conflict { index }) if index < in_batch.len() => {
                    in_batch.remove(index);
                    todo = in_batch;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(0)
    }

    /// Clears the dirty mark of `id` if its noted use is still `written`.
    fn mark_stored(&self, id: &str, written: &LastUse) {
        if let Ok(mut m) = self.last_used.lock()
            && let Some(e) = m.get_mut(id)
            && e.at == written.at
            && e.service == written.service
            && e.region == written.region
        {
            e.dirty = false;
        }
    }

    /// Drops the noted use of a key that no longer exists.
    fn forget_last_used(&self, id: &str) {
        if let Ok(mut m) = self.last_used.lock() {
            m.remove(id);
        }
    }

    /// Deletes the records of temporary credentials that expired at least
    /// [`EXPIRED_SESSION_RETENTION`] before `now`; returns how many. Until
    /// then an expired session stays stored and is refused on use
    /// ([`SessionCred::expired`]). Long-term keys are never touched.
    pub async fn sweep_expired_sessions(&self, now: SystemTime) -> Result<usize, KeyStoreError> {
        let cutoff = now_secs(now).saturating_sub(EXPIRED_SESSION_RETENTION.as_secs());
        let rows = self
            .engine
            .scan(
                KEY_TREE,
                rampart_storage::KeyRange::prefix(SESSION_PREFIX),
                rampart_storage::Direction::Forward,
                usize::MAX,
            )
            .await?;
        let mut dead = Vec::new();
        for (key, v) in rows {
            let rec = decode_record(&v.value)?;
            if rec.session.as_ref().is_some_and(|m| m.expires <= cutoff) {
                dead.push((key, rec.access_key_id));
            }
        }
        for chunk in dead.chunks(SWEEP_CHUNK) {
            // No precondition: a session this old is dead whatever was
            // written to it meanwhile (only a last-use flush writes to it,
            // and that one checks the version it read, so it cannot bring
            // the record back).
            let mut b = Batch::new();
            for (key, _) in chunk {
                b.delete(KEY_TREE, key.clone());
            }
            self.engine.commit(b).await?;
            if let Ok(mut c) = self.cache.write() {
                for (_, id) in chunk {
                    c.remove(id);
                }
            }
            for (_, id) in chunk {
                self.forget_last_used(id);
            }
        }
        Ok(dead.len())
    }

    /// Starts the key store's background work: every
    /// [`LAST_USED_FLUSH_EVERY`], [`Self::flush_last_used`]; at once and
    /// every [`SESSION_SWEEP_EVERY`], [`Self::sweep_expired_sessions`] at
    /// `clock`'s time. Abort the handle, await it, then flush once more at
    /// shutdown.
    pub fn spawn_background(self: Arc<Self>, clock: Arc<dyn Clock>) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut flush = tokio::time::interval(LAST_USED_FLUSH_EVERY);
            flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut sweep = tokio::time::interval(SESSION_SWEEP_EVERY);
            sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = flush.tick() => {
                        if let Err(e) = self.flush_last_used().await {
                            tracing::warn!(error = %e, "writing access keys' last use failed");
                        }
                    }
                    _ = sweep.tick() => {
                        match self.sweep_expired_sessions(clock.now()).await {
                            Ok(0) => {}
                            Ok(n) => tracing::debug!(deleted = n, "swept expired sessions"),
                            Err(e) => tracing::warn!(error = %e, "sweeping expired sessions failed"),
                        }
                    }
                }
            }
        })
    }

    /// The stored record of a key, with its last use filled in.
    pub async fn record(
        &self,
        access_key_id: &str,
    ) -> Result<Option<AccessKeyRecord>, KeyStoreError> {
        let Some(v) = self.engine.get(KEY_TREE, access_key_id.as_bytes()).await? else {
            return Ok(None);
        };
        let mut rec = decode_record(&v.value)?;
        // What memory holds is never older than what the record holds.
        if let Some(u) = self
            .last_used
            .lock()
            .ok()
            .and_then(|m| m.get(access_key_id).cloned())
        {
            rec.last_used = Some(u.at);
            rec.last_used_service = Some(u.service);
            rec.last_used_region = Some(u.region);
        }
        Ok(Some(rec))
    }

    /// The access keys of IAM user `name` in `account`, oldest first.
    pub async fn list_for_user(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Vec<AccessKeyRecord>, KeyStoreError> {
        let rows = self
            .engine
            .scan(
                KEY_TREE,
                rampart_storage::KeyRange::all(),
                rampart_storage::Direction::Forward,
                usize::MAX,
            )
            .await?;
        let mut out = Vec::new();
        for (_, v) in rows {
            let rec: AccessKeyRecord = serde_json::from_slice(&v.value)
                .map_err(|e| KeyStoreError::Corrupt(e.to_string()))?;
            let user = rec.principal_arn.rsplit('/').next().unwrap_or_default();
            if rec.principal_kind == "user"
                && rec.session.is_none()
                && rec.account_id == account
                && user == name
            {
                out.push(rec);
            }
        }
        out.sort_by_key(|r| r.created);
        Ok(out)
    }

    /// Creates an access key for an IAM user; returns its id and secret.
    pub async fn create_for_user(
        &self,
        user: &crate::store::User,
        account: &str,
        now: SystemTime,
    ) -> Result<(String, Secret<String>), KeyStoreError> {
        let id = generate_access_key_id(&*self.ids);
        let secret = generate_secret_key(&*self.ids);
        let owner = Principal {
            account: AccountId::parse(account)
                .map_err(|e| KeyStoreError::Corrupt(e.to_string()))?,
            arn: user.arn.clone(),
            user_id: user.id.clone(),
            access_key_id: id.clone(),
            kind: PrincipalKind::User,
            session: None,
        };
        self.store_key(&id, &secret, &owner, now).await?;
        Ok((id, secret))
    }

    /// Issues temporary credentials (`ASIA…`, secret, session token) for
    /// `owner`, described by `meta`.
    pub async fn create_session(
        &self,
        owner: &Principal,
        meta: SessionMeta,
        now: SystemTime,
    ) -> Result<(String, Secret<String>, Secret<String>), KeyStoreError> {
        let mut id = generate_access_key_id(&*self.ids);
        id.replace_range(0..4, "ASIA");
        let secret = generate_secret_key(&*self.ids);
        let mut raw = [0u8; 96];
        self.ids.fill(&mut raw);
        let token = Secret::new({
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(raw)
        });
        let sealed_token = self.sealer.seal(
            token.expose().as_bytes(),
            format!("{id}#token").as_bytes(),
            &*self.ids,
        )?;
        self.insert_key(&id, &secret, owner, now, Some((sealed_token, meta)))
            .await?;
        Ok((id, secret, token))
    }

    /// Sets a key's status (`Some`) or deletes it (`None`).
    pub async fn update_or_delete(
        &self,
        access_key_id: &str,
        status: Option<&str>,
    ) -> Result<(), KeyStoreError> {
        let key = access_key_id.as_bytes().to_vec();
        match status {
            Some(s) => {
                // A last-use flush may rewrite the record between our read
                // and our commit: read again and retry.
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let Some(v) = self.engine.get(KEY_TREE, &key).await? else {
                        return Ok(());
                    };
                    let mut rec = decode_record(&v.value)?;
                    rec.status = s.to_owned();
                    let mut b = Batch::new();
                    b.expect(KEY_TREE, key.clone(), Some(v.version)).put(
                        KEY_TREE,
                        key.clone(),
                        encode_record(&rec)?,
                    );
                    match self.engine.commit(b).await {
                        Ok(_) => break,
                        Err(rampart_storage::Error::Conflict { .. })
                            if attempt < UPDATE_ATTEMPTS => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            None => {
                let mut b = Batch::new();
                b.delete(KEY_TREE, key);
                self.engine.commit(b).await?;
                self.forget_last_used(access_key_id);
            }
        }
        if let Ok(mut c) = self.cache.write() {
            c.remove(access_key_id);
        }
        Ok(())
    }

    /// Creates the bootstrap account and its root key on first start, or
    /// loads them. `account_id` and `root_key` come from the environment when
    /// set. A supplied root key is added if it is not stored yet.
    pub async fn bootstrap(
        &self,
        account_id: Option<AccountId>,
        root_key: Option<(String, Secret<String>)>,
        now: SystemTime,
    ) -> Result<Bootstrap, KeyStoreError> {
        let account = match self.engine.get(ACCOUNT_TREE, BOOTSTRAP).await? {
            Some(v) => {
                let rec: AccountRecord = serde_json::from_slice(&v.value)
                    .map_err(|e| KeyStoreError::Corrupt(e.to_string()))?;
                let stored = AccountId::parse(&rec.account_id)
                    .map_err(|e| KeyStoreError::Corrupt(e.to_string()))?;
                if let Some(wanted) = account_id.as_ref().filter(|w| *w != &stored) {
                    tracing::warn!(stored = %stored, requested = %wanted, "RAMPART_ACCOUNT_ID differs from the account this data directory was created with; keeping the stored one");
                }
                stored
            }
            None => {
                let account = account_id.unwrap_or_else(|| AccountId::generate(&*self.ids));
                let rec = AccountRecord {
                    account_id: account.to_string(),
                    created: now_secs(now),
                };
                let mut b = Batch::new();
                b.expect(ACCOUNT_TREE, BOOTSTRAP.to_vec(), None).put(
                    ACCOUNT_TREE,
                    BOOTSTRAP.to_vec(),
                    serde_json::to_vec(&rec).map_err(|e| KeyStoreError::Corrupt(e.to_string()))?,
                );
                self.engine.commit(b).await?;
                account
            }
        };
        let root = Principal {
            account: account.clone(),
            arn: format!("arn:aws:iam::{account}:root"),
            user_id: account.to_string(),
            access_key_id: String::new(),
            kind: PrincipalKind::Root,
            session: None,
        };
        let generated = match root_key {
            Some((id, secret)) => {
                if self.lookup(&id).await?.is_none() {
                    self.store_key(&id, &secret, &root, now).await?;
                }
                None
            }
            None => {
                if self.has_root_key(&account).await? {
                    None
                } else {
                    let id = generate_access_key_id(&*self.ids);
                    let secret = generate_secret_key(&*self.ids);
                    self.store_key(&id, &secret, &root, now).await?;
                    Some((id, secret))
                }
            }
        };
        Ok(Bootstrap { account, generated })
    }

    async fn has_root_key(&self, account: &AccountId) -> Result<bool, KeyStoreError> {
        let rows = self
            .engine
            .scan(
                KEY_TREE,
                rampart_storage::KeyRange::all(),
                rampart_storage::Direction::Forward,
                usize::MAX,
            )
            .await?;
        for (_, v) in rows {
            let rec: AccessKeyRecord = serde_json::from_slice(&v.value)
                .map_err(|e| KeyStoreError::Corrupt(e.to_string()))?;
            if rec.principal_kind == "root"
                && rec.session.is_none()
                && rec.account_id == account.as_str()
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn store_key(
        &self,
        id: &str,
        secret: &Secret<String>,
        owner: &Principal,
        now: SystemTime,
    ) -> Result<(), KeyStoreError> {
        self.insert_key(id, secret, owner, now, None).await
    }

    /// Stores a new key record (the secret sealed, bound to the key id),
    /// refusing to overwrite an existing id; `session` makes it temporary
    /// credentials with a sealed session token.
    async fn insert_key(
        &self,
        id: &str,
        secret: &Secret<String>,
        owner: &Principal,
        now: SystemTime,
        session: Option<(Vec<u8>, SessionMeta)>,
    ) -> Result<(), KeyStoreError> {
        let sealed = self
            .sealer
            .seal(secret.expose().as_bytes(), id.as_bytes(), &*self.ids)?;
        let (sealed_token, session) = match session {
            Some((t, m)) => (Some(t), Some(m)),
            None => (None, None),
        };
        let rec = AccessKeyRecord {
            access_key_id: id.to_owned(),
            sealed_secret: sealed,
            account_id: owner.account.to_string(),
            principal_arn: owner.arn.clone(),
            user_id: owner.user_id.clone(),
            principal_kind: match owner.kind {
                PrincipalKind::Root => "root".into(),
                PrincipalKind::User => "user".into(),
                PrincipalKind::AssumedRole => "assumed-role".into(),
            },
            status: "Active".into(),
            created: now_secs(now),
            last_used: None,
            last_used_service: None,
            last_used_region: None,
            sealed_token,
            session,
        };
        let mut b = Batch::new();
        b.expect(KEY_TREE, id.as_bytes().to_vec(), None).put(
            KEY_TREE,
            id.as_bytes().to_vec(),
            serde_json::to_vec(&rec).map_err(|e| KeyStoreError::Corrupt(e.to_string()))?,
        );
        self.engine.commit(b).await?;
        Ok(())
    }

    /// The credential for `access_key_id`, if the key exists.
    pub async fn lookup(&self, access_key_id: &str) -> Result<Option<Credential>, KeyStoreError> {
        if let Some(c) = self
            .cache
            .read()
            .ok()
            .and_then(|c| c.get(access_key_id).cloned())
        {
            return Ok(Some(c));
        }
        let Some(v) = self.engine.get(KEY_TREE, access_key_id.as_bytes()).await? else {
            return Ok(None);
        };
        let rec: AccessKeyRecord =
            serde_json::from_slice(&v.value).map_err(|e| KeyStoreError::Corrupt(e.to_string()))?;
        let plain = self
            .sealer
            .open(&rec.sealed_secret, rec.access_key_id.as_bytes())?;
        let secret = String::from_utf8(plain.expose().clone())
            .map_err(|_| KeyStoreError::Corrupt("secret is not UTF-8".into()))?;
        let account =
            AccountId::parse(&rec.account_id).map_err(|e| KeyStoreError::Corrupt(e.to_string()))?;
        let cred = Credential {
            secret: Arc::new(Secret::new(secret)),
            principal: Principal {
                account,
                arn: rec.principal_arn,
                user_id: rec.user_id,
                access_key_id: rec.access_key_id.clone(),
                kind: match rec.principal_kind.as_str() {
                    "root" => PrincipalKind::Root,
                    "assumed-role" => PrincipalKind::AssumedRole,
                    _ => PrincipalKind::User,
                },
                session: rec.session.clone().map(Arc::new),
            },
            active: rec.status == "Active",
            session: match (&rec.sealed_token, &rec.session) {
                (Some(sealed), Some(meta)) => {
                    let plain = self
                        .sealer
                        .open(sealed, format!("{}#token", rec.access_key_id).as_bytes())?;
                    let token = String::from_utf8(plain.expose().clone())
                        .map_err(|_| KeyStoreError::Corrupt("session token is not UTF-8".into()))?;
                    Some(SessionCred {
                        token: Arc::new(Secret::new(token)),
                        meta: meta.clone(),
                    })
                }
                _ => None,
            },
        };
        if let Ok(mut c) = self.cache.write() {
            c.insert(rec.access_key_id, cred.clone());
        }
        Ok(Some(cred))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rampart_core::SeededIds;
    use rampart_storage::{Direction, KeyRange, MemoryEngine};

    fn store(engine: Arc<dyn Engine>, key: u8) -> KeyStore {
        KeyStore::new(
            engine,
            Sealer::new(&Secret::new([key; 32])),
            Arc::new(SeededIds::new(9)),
        )
    }

    #[tokio::test]
    async fn bootstrap_generates_root_key_once_and_never_stores_it_in_plain_text() {
        let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
        let s = store(engine.clone(), 1);
        let b = s
            .bootstrap(None, None, SystemTime::UNIX_EPOCH)
            .await
            .unwrap();
        let (id, secret) = b.generated.unwrap();
        assert!(id.starts_with("AKIA") && id.len() == 20);
        let cred = s.lookup(&id).await.unwrap().unwrap();
        assert_eq!(cred.secret.expose(), secret.expose());
        assert_eq!(
            cred.principal.arn,
            format!("arn:aws:iam::{}:root", b.account)
        );
        for tree in [KEY_TREE, ACCOUNT_TREE] {
            for (_, v) in engine
                .scan(tree, KeyRange::all(), Direction::Forward, 100)
                .await
                .unwrap()
            {
                let hay = String::from_utf8_lossy(&v.value);
                assert!(!hay.contains(secret.expose().as_str()));
            }
        }
        // Second start: same account, nothing generated.
        let again = store(engine.clone(), 1)
            .bootstrap(None, None, SystemTime::UNIX_EPOCH)
            .await
            .unwrap();
        assert_eq!(again.account, b.account);
        assert!(again.generated.is_none());
        // With the wrong root key the secret does not open.
        assert!(matches!(
            store(engine, 2).lookup(&id).await,
            Err(KeyStoreError::Seal(_))
        ));
    }

    #[tokio::test]
    async fn supplied_root_credentials_and_account_are_used() {
        let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
        let s = store(engine, 1);
        let acct = AccountId::parse("111122223333").unwrap();
        let b = s
            .bootstrap(
                Some(acct.clone()),
                Some(("testing".into(), Secret::new("secret".into()))),
                SystemTime::UNIX_EPOCH,
            )
            .await
            .unwrap();
        assert_eq!(b.account, acct);
        assert!(b.generated.is_none());
        let cred = s.lookup("testing").await.unwrap().unwrap();
        assert_eq!(cred.secret.expose(), "secret");
        assert_eq!(cred.principal.kind, PrincipalKind::Root);
        assert!(s.lookup("unknown").await.unwrap().is_none());
    }

    async fn with_key(engine: Arc<dyn Engine>) -> KeyStore {
        let s = store(engine, 1);
        s.bootstrap(
            None,
            Some(("AKIAKEYONE".into(), Secret::new("secret".into()))),
            SystemTime::UNIX_EPOCH,
        )
        .await
        .unwrap();
        s
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[tokio::test]
    async fn last_use_is_stored_by_a_flush_and_survives_a_restart() {
        let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
        let s = with_key(engine.clone()).await;
        s.note_used("AKIAKEYONE", at(1_000_000_123), "dynamodb", "eu-west-1");
        // Seen at once, to the minute, before anything is written.
        let rec = s.record("AKIAKEYONE").await.unwrap().unwrap();
        assert_eq!(rec.last_used, Some(1_000_000_080));
        assert_eq!(rec.last_used_service.as_deref(), Some("dynamodb"));
        assert_eq!(rec.last_used_region.as_deref(), Some("eu-west-1"));
        let before = store(engine.clone(), 1)
            .record("AKIAKEYONE")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(before.last_used, None);

        assert_eq!(s.flush_last_used().await.unwrap(), 1);
        let restarted = store(engine.clone(), 1);
        let rec = restarted.record("AKIAKEYONE").await.unwrap().unwrap();
        assert_eq!(rec.last_used, Some(1_000_000_080));
        assert_eq!(rec.last_used_service.as_deref(), Some("dynamodb"));
        assert_eq!(rec.last_used_region.as_deref(), Some("eu-west-1"));
        // The flush kept the key usable and its status.
        assert!(
            restarted
                .lookup("AKIAKEYONE")
                .await
                .unwrap()
                .unwrap()
                .active
        );
    }

    #[tokio::test]
    async fn last_use_is_written_at_most_once_a_minute_unless_service_or_region_change() {
        let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
        let s = with_key(engine).await;
        s.note_used("AKIAKEYONE", at(600), "dynamodb", "us-east-1");
        assert_eq!(s.flush_last_used().await.unwrap(), 1);
        // Same minute, same service and region: nothing to write.
        s.note_used("AKIAKEYONE", at(659), "dynamodb", "us-east-1");
        assert_eq!(s.flush_last_used().await.unwrap(), 0);
        // An older request finishing late changes nothing.
        s.note_used("AKIAKEYONE", at(540), "sts", "us-east-1");
        assert_eq!(s.flush_last_used().await.unwrap(), 0);
        // Another service within the minute is written.
        s.note_used("AKIAKEYONE", at(659), "sts", "us-east-1");
        assert_eq!(s.flush_last_used().await.unwrap(), 1);
        // The next minute is written, once however many requests.
        for t in 660..720 {
            s.note_used("AKIAKEYONE", at(t), "sts", "us-east-1");
        }
        assert_eq!(s.flush_last_used().await.unwrap(), 1);
        assert_eq!(s.flush_last_used().await.unwrap(), 0);
        let rec = s.record("AKIAKEYONE").await.unwrap().unwrap();
        assert_eq!(rec.last_used, Some(660));
        assert_eq!(rec.last_used_service.as_deref(), Some("sts"));
    }

    #[tokio::test]
    async fn flush_never_writes_back_a_deleted_key() {
        let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
        let s = with_key(engine.clone()).await;
        s.note_used("AKIAKEYONE", at(600), "dynamodb", "us-east-1");
        s.update_or_delete("AKIAKEYONE", None).await.unwrap();
        assert_eq!(s.flush_last_used().await.unwrap(), 0);
        assert!(engine.get(KEY_TREE, b"AKIAKEYONE").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn status_change_and_last_use_both_survive() {
        let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
        let s = with_key(engine.clone()).await;
        s.note_used("AKIAKEYONE", at(600), "dynamodb", "us-east-1");
        s.update_or_delete("AKIAKEYONE", Some("Inactive"))
            .await
            .unwrap();
        assert_eq!(s.flush_last_used().await.unwrap(), 1);
        let rec = store(engine, 1)
            .record("AKIAKEYONE")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rec.status, "Inactive");
        assert_eq!(rec.last_used, Some(600));
    }

    fn session_meta(issued: u64, expires: u64) -> SessionMeta {
        SessionMeta {
            source_arn: "arn:aws:iam::111122223333:root".into(),
            issued,
            expires,
            ..SessionMeta::default()
        }
    }

    #[tokio::test]
    async fn sweep_deletes_long_expired_sessions_and_keeps_the_rest() {
        use rampart_core::FixedClock;
        let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new());
        let s = with_key(engine.clone()).await;
        let clock = FixedClock::at_epoch_seconds(100_000);
        let owner = s.lookup("AKIAKEYONE").await.unwrap().unwrap().principal;
        let (old, _, _) = s
            .create_session(&owner, session_meta(90_000, 93_600), clock.now())
            .await
            .unwrap();
        let (recent, _, _) = s
            .create_session(&owner, session_meta(96_000, 99_600), clock.now())
            .await
            .unwrap();
        let (live, _, _) = s
            .create_session(&owner, session_meta(99_000, 102_600), clock.now())
            .await
            .unwrap();
        s.note_used(&old, clock.now(), "dynamodb", "us-east-1");

        // Before any sweep, the expired sessions are still refused on use.
        for id in [&old, &recent] {
            let cred = s.lookup(id).await.unwrap().unwrap();
            assert!(cred.session.unwrap().expired(clock.now()));
        }
        assert!(
            !s.lookup(&live)
                .await
                .unwrap()
                .unwrap()
                .session
                .unwrap()
                .expired(clock.now())
        );

        assert_eq!(s.sweep_expired_sessions(clock.now()).await.unwrap(), 1);
        // Gone from storage and from the cache of opened credentials.
        assert!(
            engine
                .get(KEY_TREE, old.as_bytes())
                .await
                .unwrap()
                .is_none()
        );
        assert!(s.lookup(&old).await.unwrap().is_none());
        assert_eq!(s.flush_last_used().await.unwrap(), 0);
        assert!(
            engine
                .get(KEY_TREE, old.as_bytes())
                .await
                .unwrap()
                .is_none()
        );
        // Expired within the retention: kept, and refused.
        let cred = s.lookup(&recent).await.unwrap().unwrap();
        assert!(cred.session.unwrap().expired(clock.now()));
        // Live sessions and long-term keys are kept.
        assert!(s.lookup(&live).await.unwrap().is_some());
        assert!(s.lookup("AKIAKEYONE").await.unwrap().is_some());

        // Once past the retention, the recent one goes too; the live one expires later.
        clock.advance(EXPIRED_SESSION_RETENTION);
        assert_eq!(s.sweep_expired_sessions(clock.now()).await.unwrap(), 1);
        assert!(s.lookup(&recent).await.unwrap().is_none());
        assert!(s.lookup(&live).await.unwrap().is_some());
        clock.advance(Duration::from_secs(2_600));
        assert_eq!(s.sweep_expired_sessions(clock.now()).await.unwrap(), 1);
        assert!(s.lookup(&live).await.unwrap().is_none());
        assert!(s.lookup("AKIAKEYONE").await.unwrap().is_some());
        assert_eq!(s.sweep_expired_sessions(clock.now()).await.unwrap(), 0);
    }
}
