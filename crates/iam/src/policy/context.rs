//! The request as policies see it: who asks ([`Principal`]), for what action on what resource,
//! and the condition keys ([`Context`]).
//!
//! The kernel treats every condition key alike: the caller fills the global keys
//! (`aws:SourceIp`, `aws:CurrentTime`, `aws:PrincipalTag/...`, `aws:SourceVpce`, ...) and the
//! service keys (`dynamodb:LeadingKeys`, `dynamodb:Attributes`, ...) from the authenticated
//! request; nothing here reads a clock or a socket.
//!
//! INVARIANT: keys are stored lowercase; key names are case-insensitive (IAM User Guide,
//! "Variables and tags": "Key names are case-insensitive. For example, `aws:CurrentTime` is
//! equivalent to `AWS:currenttime`.").
//! INVARIANT: values are kept as given (values are compared per operator, some case-sensitively).

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;

/// A condition key's value in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextValue {
    /// A single-valued key (`aws:SourceIp`, `dynamodb:Select`).
    Single(String),
    /// A multivalued key (`aws:TagKeys`, `dynamodb:Attributes`, `dynamodb:LeadingKeys`). An
    /// empty list is "an empty data set" in AWS's words: `ForAllValues` is true for it and
    /// `ForAnyValue` false, and `Null` treats it as null.
    Multi(Vec<String>),
}

impl ContextValue {
    /// The values, one for a single-valued key.
    pub fn values(&self) -> &[String] {
        match self {
            Self::Single(v) => std::slice::from_ref(v),
            Self::Multi(v) => v,
        }
    }
}

/// The condition keys of one request, by lowercase name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// Sorted by key (hash, then name), for binary search. Keys lowercase; see the module
    /// invariant.
    entries: Vec<(Key, ContextValue)>,
}

/// A condition-key name, lowercase, with a hash computed once: policies compile their keys
/// into `Key`s, so that evaluation finds a key with a few integer comparisons and one string
/// comparison (evaluation looks each key of a policy up once per request).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    /// FNV-1a of `name` (declared first: it orders keys before the name does).
    hash: u64,
    name: Name,
}

/// A key's lowercase name: static for the well-known keys (no allocation per request),
/// shared otherwise (a clone is a reference count, not a copy). Compared as a string.
#[derive(Debug, Clone)]
enum Name {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Name {
    fn as_str(&self) -> &str {
        match self {
            Self::Static(s) => s,
            Self::Shared(s) => s,
        }
    }
}

impl PartialEq for Name {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Name {}

impl PartialOrd for Name {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Name {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for Name {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

/// The bit of [`Wanted::lengths`] for a name of `len` bytes.
fn length_bit(len: usize) -> u64 {
    1 << len.min(63)
}

/// FNV-1a of `bytes`, ASCII letters lowercased as they are read (so that a name can be
/// hashed as its lowercase form without building it).
const fn fnv_lower(mut bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    while let [b, rest @ ..] = bytes {
        hash = (hash ^ b.to_ascii_lowercase() as u64).wrapping_mul(0x0100_0000_01b3);
        bytes = rest;
    }
    hash
}

impl Key {
    pub(crate) fn new(name: &str) -> Self {
        // Most names are ASCII (every AWS and DynamoDB key is); lowercasing those byte by
        // byte gives what `to_lowercase` gives, without its Unicode tables.
        let name = if name.is_ascii() {
            name.to_ascii_lowercase()
        } else {
            name.to_lowercase()
        };
        Self {
            hash: fnv_lower(name.as_bytes()),
            name: Name::Shared(name.into()),
        }
    }

    /// A well-known key, `name` already lowercase (checked by a test for every one).
    const fn well_known(name: &'static str) -> Self {
        Self {
            hash: fnv_lower(name.as_bytes()),
            name: Name::Static(name),
        }
    }

    pub(crate) fn name(&self) -> &str {
        self.name.as_str()
    }
}

/// The global keys the authorizer fills, lowercase (see [`Key::well_known`]).
pub(crate) mod global {
    use super::Key;

    pub(crate) static CURRENT_TIME: Key = Key::well_known("aws:currenttime");
    pub(crate) static EPOCH_TIME: Key = Key::well_known("aws:epochtime");
    pub(crate) static PRINCIPAL_ARN: Key = Key::well_known("aws:principalarn");
    pub(crate) static PRINCIPAL_ACCOUNT: Key = Key::well_known("aws:principalaccount");
    pub(crate) static PRINCIPAL_TYPE: Key = Key::well_known("aws:principaltype");
    pub(crate) static USERNAME: Key = Key::well_known("aws:username");
    pub(crate) static USERID: Key = Key::well_known("aws:userid");
    pub(crate) static SOURCE_IP: Key = Key::well_known("aws:sourceip");
    pub(crate) static SECURE_TRANSPORT: Key = Key::well_known("aws:securetransport");
    pub(crate) static REQUESTED_REGION: Key = Key::well_known("aws:requestedregion");
    pub(crate) static SOURCE_VPC: Key = Key::well_known("aws:sourcevpc");
    pub(crate) static SOURCE_VPCE: Key = Key::well_known("aws:sourcevpce");
    pub(crate) static PRINCIPAL_ORG_ID: Key = Key::well_known("aws:principalorgid");
    pub(crate) static RESOURCE_ACCOUNT: Key = Key::well_known("aws:resourceaccount");
    pub(crate) static TOKEN_ISSUE_TIME: Key = Key::well_known("aws:tokenissuetime");
    pub(crate) static MFA_PRESENT: Key = Key::well_known("aws:multifactorauthpresent");
    pub(crate) static MFA_AGE: Key = Key::well_known("aws:multifactorauthage");
    pub(crate) static SOURCE_IDENTITY: Key = Key::well_known("aws:sourceidentity");

    /// Every key above, for tests.
    #[cfg(test)]
    pub(crate) fn all() -> [&'static Key; 18] {
        [
            &CURRENT_TIME,
            &EPOCH_TIME,
            &PRINCIPAL_ARN,
            &PRINCIPAL_ACCOUNT,
            &PRINCIPAL_TYPE,
            &USERNAME,
            &USERID,
            &SOURCE_IP,
            &SECURE_TRANSPORT,
            &REQUESTED_REGION,
            &SOURCE_VPC,
            &SOURCE_VPCE,
            &PRINCIPAL_ORG_ID,
            &RESOURCE_ACCOUNT,
            &TOKEN_ISSUE_TIME,
            &MFA_PRESENT,
            &MFA_AGE,
            &SOURCE_IDENTITY,
        ]
    }
}

/// The condition keys some compiled policies may read (every key of their conditions and
/// variables: [`Policy`](super::Policy)'s key table), so that a context built for them can
/// leave out every other key: evaluation looks keys up only through that table, so the
/// decision is the same with or without the others. A key they read is built exactly as
/// before, present or absent (`...IfExists` and `Null` depend on absence).
#[derive(Debug)]
pub(crate) struct Wanted<'p> {
    /// Sorted by key (hash, then name), without duplicates: one policy's table as it is (the
    /// common case: nothing to allocate), or the merge of several.
    keys: Cow<'p, [Key]>,
    /// Bit `n` set when a wanted name is `n` bytes long (bit 63: 63 or more), so that most
    /// names are rejected before they are hashed.
    lengths: u64,
}

impl<'p> Wanted<'p> {
    /// The keys of `tables` (each a policy's [`context_keys`](super::Policy::context_keys):
    /// sorted, without duplicates).
    pub(crate) fn new(tables: impl IntoIterator<Item = &'p [Key]>) -> Self {
        let mut nonempty = tables.into_iter().filter(|t| !t.is_empty());
        let keys = match (nonempty.next(), nonempty.next()) {
            (None, _) => Cow::Borrowed(&[][..]),
            (Some(one), None) => {
                debug_assert!(one.is_sorted_by(|a, b| a < b), "a policy's sorted keys");
                Cow::Borrowed(one)
            }
            (Some(a), Some(b)) => {
                let mut keys: Vec<Key> = a
                    .iter()
                    .chain(b)
                    .chain(nonempty.flatten())
                    .cloned()
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                Cow::Owned(keys)
            }
        };
        let lengths = keys.iter().fold(0, |m, k| m | length_bit(k.name().len()));
        Self { keys, lengths }
    }

    /// Whether `key` is wanted.
    pub(crate) fn has(&self, key: &Key) -> bool {
        self.lengths & length_bit(key.name().len()) != 0
            && self.with_hash(key.hash).any(|k| k.name == key.name)
    }

    /// The wanted keys with hash `hash`.
    fn with_hash(&self, hash: u64) -> impl Iterator<Item = &Key> {
        let first = self.keys.partition_point(|k| k.hash < hash);
        self.keys
            .get(first..)
            .into_iter()
            .flatten()
            .take_while(move |k| k.hash == hash)
    }

    /// How many keys are wanted.
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The wanted key named `name` (any case), found without building its lowercase form
    /// (for ASCII names).
    pub(crate) fn find(&self, name: &str) -> Option<&Key> {
        if name.is_ascii() {
            // Lowercasing keeps an ASCII name's length.
            if self.lengths & length_bit(name.len()) == 0 {
                return None;
            }
            self.find_hashed(fnv_lower(name.as_bytes()), name)
        } else {
            let key = Key::new(name);
            self.find_hashed(key.hash, key.name())
        }
    }

    /// Whether a wanted key starts with `prefix` (lowercase).
    pub(crate) fn any_with_prefix(&self, prefix: &str) -> bool {
        self.keys.iter().any(|k| k.name().starts_with(prefix))
    }

    /// `name` may be in any case: ASCII letters compare case-insensitively (the wanted names
    /// are lowercase); a non-ASCII `name` has been lowercased by the caller.
    fn find_hashed(&self, hash: u64, name: &str) -> Option<&Key> {
        self.with_hash(hash)
            .find(|k| k.name().eq_ignore_ascii_case(name))
    }
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty context with room for `n` keys.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            entries: Vec::with_capacity(n),
        }
    }

    /// Sets a single-valued key (replacing any value).
    pub fn set(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.insert(Key::new(key), ContextValue::Single(value.into()))
    }

    /// Sets a key by compiled key (replacing any value).
    pub(crate) fn insert(&mut self, key: Key, value: ContextValue) -> &mut Self {
        match self.entries.binary_search_by(|(k, _)| k.cmp(&key)) {
            Ok(i) => {
                if let Some(slot) = self.entries.get_mut(i) {
                    slot.1 = value;
                }
            }
            Err(i) => {
                self.entries.insert(i, (key, value));
            }
        }
        self
    }

    /// Sets a multivalued key (replacing any value).
    pub fn set_multi<I, S>(&mut self, key: &str, values: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.insert(
            Key::new(key),
            ContextValue::Multi(values.into_iter().map(Into::into).collect()),
        )
    }

    /// Sets a boolean key (`aws:SecureTransport`, `aws:MultiFactorAuthPresent`) as `"true"` or
    /// `"false"`.
    pub fn set_bool(&mut self, key: &str, value: bool) -> &mut Self {
        self.set(key, if value { "true" } else { "false" })
    }

    /// Sets a date key (`aws:CurrentTime`, `aws:TokenIssueTime`) in ISO 8601 UTC, whole seconds.
    /// Times before 1970 are clamped to the epoch.
    pub fn set_time(&mut self, key: &str, at: SystemTime) -> &mut Self {
        self.set(key, iso_time(at))
    }

    /// Sets `aws:CurrentTime` and `aws:EpochTime` from one instant, as AWS fills both.
    pub fn set_request_time(&mut self, at: SystemTime) -> &mut Self {
        self.insert(
            global::CURRENT_TIME.clone(),
            ContextValue::Single(iso_time(at)),
        );
        self.insert(
            global::EPOCH_TIME.clone(),
            ContextValue::Single(epoch_time(at)),
        )
    }

    /// Sets an IP address key (`aws:SourceIp`).
    pub fn set_ip(&mut self, key: &str, ip: IpAddr) -> &mut Self {
        self.set(key, ip.to_string())
    }

    /// Sets a binary key, stored base64 as `BinaryEquals` compares it.
    pub fn set_binary(&mut self, key: &str, bytes: &[u8]) -> &mut Self {
        self.set(key, base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// Removes a key.
    pub fn remove(&mut self, key: &str) -> Option<ContextValue> {
        let key = Key::new(key);
        let i = self.entries.binary_search_by(|(k, _)| k.cmp(&key)).ok()?;
        Some(self.entries.remove(i).1)
    }

    /// Keeps the keys `keep` says to keep.
    #[cfg(test)]
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&Key) -> bool) {
        self.entries.retain(|(k, _)| keep(k));
    }

    /// A key's value (any case).
    pub fn get(&self, key: &str) -> Option<&ContextValue> {
        self.get_key(&Key::new(key))
    }

    /// A key's value, by compiled key.
    pub(crate) fn get_key(&self, key: &Key) -> Option<&ContextValue> {
        // INVARIANT: `entries` are sorted by key (hash, then name): search by hash, then
        // compare names only where the hash matches.
        let first = self.entries.partition_point(|(k, _)| k.hash < key.hash);
        self.entries
            .get(first..)?
            .iter()
            .take_while(|(k, _)| k.hash == key.hash)
            .find(|(k, _)| k.name == key.name)
            .map(|(_, v)| v)
    }

    /// The value of a single-valued key, as a policy variable sees it.
    pub(crate) fn single_key(&self, key: &Key) -> Option<&str> {
        match self.get_key(key) {
            Some(ContextValue::Single(v)) => Some(v),
            _ => None,
        }
    }

    /// The value of a single-valued key (any case).
    #[cfg(test)]
    pub(crate) fn single(&self, key: &str) -> Option<&str> {
        self.single_key(&Key::new(key))
    }

    /// Sets the principal's global keys from `principal`: `aws:PrincipalArn`,
    /// `aws:PrincipalAccount`, `aws:PrincipalType`, and `aws:username` for IAM users. The
    /// caller adds what only it knows (`aws:userid`, `aws:PrincipalTag/*`,
    /// `aws:PrincipalOrgID`, ...).
    ///
    /// Source: IAM User Guide, "AWS global condition context keys" (`aws:PrincipalArn` is the
    /// role's ARN for a role session, `aws:PrincipalType` is `Account`, `User`,
    /// `FederatedUser` or `AssumedRole`) and "Variables and tags", principal key values
    /// (`aws:username` is present for IAM users only).
    pub fn set_principal_keys(&mut self, principal: &Principal) -> &mut Self {
        for (key, value) in principal_keys(principal).into_iter().flatten() {
            self.insert(key.clone(), ContextValue::Single(value.to_owned()));
        }
        self
    }
}

/// `at` as `aws:CurrentTime` and [`Context::set_time`] store it: ISO 8601 UTC, whole
/// seconds, times before 1970 clamped to the epoch.
pub(crate) fn iso_time(at: SystemTime) -> String {
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    super::time::format_iso(secs)
}

/// `at` as `aws:EpochTime` stores it: whole seconds since the epoch (0 before it).
pub(crate) fn epoch_time(at: SystemTime) -> String {
    at.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .to_string()
}

/// The principal's global keys ([`Context::set_principal_keys`]) and their values, in the
/// order they are set.
pub(crate) fn principal_keys(principal: &Principal) -> [Option<(&'static Key, &str)>; 4] {
    let (arn, ty) = match &principal.kind {
        PrincipalKind::Root => (principal.arn.as_str(), "Account"),
        PrincipalKind::User => (principal.arn.as_str(), "User"),
        PrincipalKind::RoleSession { role_arn } => (role_arn.as_str(), "AssumedRole"),
        PrincipalKind::FederatedUser { .. } => (principal.arn.as_str(), "FederatedUser"),
        PrincipalKind::Service { .. }
        | PrincipalKind::WebIdentity { .. }
        | PrincipalKind::Anonymous => return [None; 4],
    };
    let username = if matches!(principal.kind, PrincipalKind::User) {
        principal.arn.rsplit('/').next()
    } else {
        None
    };
    [
        Some((&global::PRINCIPAL_ARN, arn)),
        Some((&global::PRINCIPAL_ACCOUNT, principal.account.as_str())),
        Some((&global::PRINCIPAL_TYPE, ty)),
        username.map(|name| (&global::USERNAME, name)),
    ]
}

/// Who makes the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The ARN AWS shows in `AccessDenied` messages: the user's ARN, the role *session*'s ARN
    /// (`arn:aws:sts::111122223333:assumed-role/role/session`), `arn:aws:iam::ACCOUNT:root`.
    pub arn: String,
    /// The principal's account id (empty for service principals and anonymous callers).
    pub account: String,
    /// What kind of principal it is; decides how `Principal` elements match it and which
    /// evaluation rules apply.
    pub kind: PrincipalKind,
}

impl Principal {
    /// The root user of `account`.
    pub fn root(account: &str) -> Self {
        Self {
            arn: format!("arn:aws:iam::{account}:root"),
            account: account.to_owned(),
            kind: PrincipalKind::Root,
        }
    }

    /// An IAM user.
    pub fn user(account: &str, arn: &str) -> Self {
        Self {
            arn: arn.to_owned(),
            account: account.to_owned(),
            kind: PrincipalKind::User,
        }
    }

    /// A role session: `session_arn` is `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`,
    /// `role_arn` the role's own ARN (with its path).
    pub fn role_session(account: &str, session_arn: &str, role_arn: &str) -> Self {
        Self {
            arn: session_arn.to_owned(),
            account: account.to_owned(),
            kind: PrincipalKind::RoleSession {
                role_arn: role_arn.to_owned(),
            },
        }
    }
}

/// The kinds of principal, as the `Principal` element and the evaluation logic distinguish
/// them (IAM User Guide, "AWS JSON policy elements: Principal").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root user.
    Root,
    /// An IAM user with long-term credentials.
    User,
    /// A role session (`AssumeRole`, `AssumeRoleWithWebIdentity`, `AssumeRoleWithSAML`).
    RoleSession {
        /// The assumed role's ARN: a `Principal` naming it matches the session, with the
        /// limits the evaluation logic puts on role principals.
        role_arn: String,
    },
    /// An IAM federated user session (`GetFederationToken`).
    FederatedUser {
        /// The ARN of the IAM user (or root) who federated.
        user_arn: String,
    },
    /// An AWS service principal (`dynamodb.amazonaws.com`), matched by `{"Service": ...}`.
    Service {
        /// The service principal name.
        service: String,
    },
    /// A caller presenting a web identity or SAML assertion to STS, before it has a session:
    /// matched by `{"Federated": ...}` in role trust policies.
    WebIdentity {
        /// The provider: `cognito-identity.amazonaws.com`, `www.amazon.com`, an OIDC
        /// provider host, or a SAML provider ARN.
        provider: String,
    },
    /// An unauthenticated caller: only `"Principal": "*"` matches it.
    Anonymous,
}

impl PrincipalKind {
    /// Whether this is a session principal, to which session policies apply.
    pub fn is_session(&self) -> bool {
        matches!(self, Self::RoleSession { .. } | Self::FederatedUser { .. })
    }
}

/// One authorization question: may `principal` perform `action` on `resource`, given
/// `context`?
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Who asks.
    pub principal: Principal,
    /// The IAM action, `service:Action` (matched case-insensitively).
    pub action: String,
    /// The resource ARN, or `*` for actions without a resource type.
    pub resource: String,
    /// The condition keys.
    pub context: Context,
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn key_names_lowercase_as_unicode_does(name in "\\PC{0,24}") {
            let key = Key::new(&name);
            proptest::prop_assert_eq!(key.name(), name.to_lowercase());
        }
    }

    proptest::proptest! {
        #[test]
        fn wanted_finds_a_name_in_any_case_as_key_new_does(
            first in proptest::collection::vec("[aAbB:/éÉİ]{0,6}", 0..6),
            second in proptest::collection::vec("[aAbB:/éÉİ]{0,6}", 0..4),
            name in "[aAbB:/éÉİ]{0,6}",
        ) {
            // Tables as policies hold them: sorted, without duplicates.
            let table = |names: &[String]| {
                let mut keys: Vec<Key> = names.iter().map(|n| Key::new(n)).collect();
                keys.sort_unstable();
                keys.dedup();
                keys
            };
            let (a, b) = (table(&first), table(&second));
            let key = Key::new(&name);
            let cases = [
                (Wanted::new([a.as_slice()]), a.clone()),
                (Wanted::new([a.as_slice(), b.as_slice()]), [a.clone(), b.clone()].concat()),
            ];
            for (set, keys) in cases {
                let expected = keys.iter().find(|k| **k == key);
                proptest::prop_assert_eq!(set.find(&name), expected);
                proptest::prop_assert_eq!(set.has(&key), expected.is_some());
            }
        }
    }

    #[test]
    fn wanted_finds_long_names() {
        let long = format!("svc:{}", "K".repeat(80));
        let mut keys = [Key::new(&long), Key::new("aws:PrincipalTag/Team")];
        keys.sort_unstable();
        let set = Wanted::new([keys.as_slice()]);
        assert_eq!(
            set.find(&long.to_lowercase()),
            keys.iter().find(|k| k.name().len() > 60)
        );
        assert_eq!(set.find(&format!("{long}x")), None);
        assert_eq!(
            set.find("AWS:principaltag/TEAM"),
            keys.iter().find(|k| k.name() == "aws:principaltag/team")
        );
        assert_eq!(set.find("aws:principaltag/tea"), None);
    }

    #[test]
    fn well_known_keys_are_what_key_new_makes_of_their_names() {
        for key in global::all() {
            assert_eq!(&Key::new(key.name()), key);
            assert_eq!(Key::new(&key.name().to_uppercase()), *key);
        }
    }

    #[test]
    fn key_names_lowercase_ascii_and_beyond() {
        assert_eq!(Key::new("AWS:CurrentTime").name(), "aws:currenttime");
        assert_eq!(
            Key::new("aws:PrincipalTag/ÉQUIPE").name(),
            "aws:principaltag/équipe"
        );
        assert_eq!(
            Key::new("dynamodb:LeadingKeys"),
            Key::new("DYNAMODB:leadingkeys")
        );
    }

    #[test]
    fn keys_are_case_insensitive_and_values_are_not() {
        let mut c = Context::new();
        c.set("aws:SourceVpce", "vpce-ABC");
        assert_eq!(
            c.get("AWS:sourcevpce"),
            Some(&ContextValue::Single("vpce-ABC".into()))
        );
        assert_eq!(c.single("aws:sourcevpce"), Some("vpce-ABC"));
    }

    #[test]
    fn principal_keys_follow_the_global_key_reference() {
        let mut c = Context::new();
        let p = Principal::role_session(
            "111122223333",
            "arn:aws:sts::111122223333:assumed-role/app/s1",
            "arn:aws:iam::111122223333:role/app",
        );
        c.set_principal_keys(&p);
        assert_eq!(
            c.single("aws:principalarn"),
            Some("arn:aws:iam::111122223333:role/app")
        );
        assert_eq!(c.single("aws:principaltype"), Some("AssumedRole"));
        assert_eq!(c.single("aws:username"), None);
        let mut u = Context::new();
        u.set_principal_keys(&Principal::user("1", "arn:aws:iam::1:user/division/Bob"));
        assert_eq!(u.single("aws:username"), Some("Bob"));
    }

    #[test]
    fn request_time_sets_both_time_keys() {
        let mut c = Context::new();
        c.set_request_time(UNIX_EPOCH + std::time::Duration::from_secs(1_577_836_801));
        assert_eq!(c.single("aws:currenttime"), Some("2020-01-01T00:00:01Z"));
        assert_eq!(c.single("aws:epochtime"), Some("1577836801"));
    }
}
