//! The provider's configuration file (TOML).
//!
//! Relative paths are resolved against the directory of the configuration file. Every key, its
//! meaning and its default:
//!
//! ```toml
//! # This provider's domain (required): the host of its URIs and the name in its certificates.
//! domain = "x.example"
//! # Where the provider keeps its databases (default: the configuration file's directory).
//! data_dir = "."
//! # The mutual-TLS federation listener (default "127.0.0.1:8443").
//! federation_listen = "127.0.0.1:8443"
//! # The client API listener (default "127.0.0.1:8080"): HTTPS with [client_tls], else plain
//! # HTTP, which belongs on a loopback address only (the server warns at start-up otherwise).
//! client_listen = "127.0.0.1:8080"
//!
//! [tls]
//! ca_cert = "tls-ca.pem"     # our TLS CA certificate, pinned by peers (default shown)
//! cert = "tls-cert.pem"      # our TLS server+client certificate chain (default shown)
//! key = "tls-key.pem"        # its private key (default shown)
//!
//! # The client API over HTTPS (absent by default: plain HTTP). No client certificates; a
//! # certificate from a public CA, or one devices pin (`mimi init --client-tls` writes a
//! # self-signed one: `mimi account register --server-cert client-tls-cert.pem`).
//! [client_tls]
//! cert = "client-tls-cert.pem"  # its certificate chain (PEM), leaf first
//! key = "client-tls-key.pem"    # its private key (PEM)
//!
//! [mls]
//! ca = "mls-ca.key"          # our MLS provider CA record, secret (default shown)
//! ca_cert = "mls-ca.der"     # its certificate, DER, pinned by peers (default shown)
//! server = "mls-server.key"  # our MLS server identity record, secret (default shown)
//!
//! [limits]
//! max_body_bytes = 16777216  # largest federation request body (default 16 MiB)
//! peer_requests_per_second = 2000   # per-peer federation rate (default 2000, burst x2)
//! device_credential_days = 365      # lifetime of device credentials (default 365)
//! max_wait_ms = 30000        # longest event-feed long poll (default 30000)
//! max_blob_bytes = 26214400  # largest attachment blob a device may upload (default 25 MiB)
//! # Attachment blobs stored, in bytes: per uploading device and for the whole provider
//! # (defaults 1 GiB and 100 GiB; 0: no limit). An upload over either is refused with 507
//! # quota_exceeded and nothing is stored; raise the quota or remove old blobs.
//! blob_quota_per_device_bytes = 1073741824
//! blob_quota_per_provider_bytes = 107374182400
//! # Blob downloads and uploads served at once (defaults 64 and 8, at least 1); more get 429
//! # with Retry-After. A download is streamed from the database in 256 KiB chunks; an upload
//! # is held in memory (up to max_blob_bytes) until stored.
//! blob_downloads_at_once = 64
//! blob_uploads_at_once = 8
//! # A fan-out item a peer refused (a 4xx other than 408/429, e.g. 413 when its max_body_bytes
//! # is smaller than ours) is kept as a dead letter and offered again after this long, doubling
//! # per refusal up to one hour (default 60000); see mimi_dead_letters in /metrics.
//! dead_letter_retry_ms = 60000
//! # KeyPackage claims one requesting user may make for one target user of ours per window
//! # (default 6 per 10 minutes, as RELIABILITY T13 asks; 0: no limit); more get 429.
//! key_material_claims_per_pair = 6
//! key_material_pair_window_ms = 600000
//! # Argon2id password hashes (by default 19 MiB each) run at once at most, on blocking threads
//! # (default 2, at least 1); more registrations and logins wait their turn.
//! password_hash_concurrency = 2
//! # The cost of a new Argon2id password hash: memory in KiB (at least 8) and passes over it
//! # (at least 1); defaults 19456 (19 MiB) and 2, the OWASP minimum for Argon2id. Lower only
//! # where the passwords guard nothing (a load test's throwaway accounts): a stolen accounts
//! # database is then cheap to guess. Stored hashes keep the cost they were made with.
//! password_hash_memory_kib = 19456
//! password_hash_iterations = 2
//! # Registrations and logins (device registrations) per minute, per account and per source
//! # address, each a bucket refilled evenly over the minute; more get 429 with Retry-After
//! # (defaults 10 and 120; 0: no limit). Behind a proxy every client has the proxy's address:
//! # raise auth_attempts_per_source there.
//! auth_attempts_per_account = 10
//! auth_attempts_per_source = 120
//! # A client API request head must arrive within this long, and a kept-alive client API
//! # connection is closed after this long idle (default 30000, at least 1).
//! client_header_timeout_ms = 30000
//! # Identifier queries (user search) per minute: per peer provider asking us, and per user of
//! # ours searching here or elsewhere (defaults 600 and 30; 0: none); more get 429.
//! identifier_queries_per_peer = 600
//! identifier_queries_per_user = 30
//!
//! [consent]
//! # Who may fetch the key material of a user who set no policy of their own (and so add them
//! # to rooms): "contacts" (the default: only users they granted consent to; a stranger's
//! # invite sends them a consent request instead), "anyone" (everyone they did not block;
//! # what `mimi init --dev-federation` and `mimi demo` write), or
//! # "providers:a.example,b.example" (anyone on those providers, and their contacts). Users
//! # choose their own with `mimi contacts policy`.
//! default_policy = "contacts"
//! # Consent requests one requesting user may make per window, to whomever (default 20 per
//! # 10 minutes; 0: no limit); more get 429. Waiting requests are also capped per requester
//! # and target (4) and per target (256).
//! requests_per_requester = 20
//! request_window_ms = 600000
//!
//! [database]
//! # Where the delivery-service store and the accounts live. Absent (the default): SQLite files
//! # in data_dir. "sqlite:DIR": SQLite files in DIR (relative: to this file's directory).
//! # "postgres://user[:password]@host[:port]/database": a PostgreSQL database (it must exist;
//! # the tables are created in its current schema, choose another with
//! # ?options=-c%20search_path%3Dname). Several `mimi serve` processes of one provider may share
//! # one PostgreSQL database: each answers any client or peer; list all their federation
//! # addresses at the peers (`addresses`).
//! url = "postgres://mimi@db.internal/mimi"
//! # PostgreSQL pool of this process (default 10): the sum over all processes must stay below
//! # the server's max_connections (default 100). Each process also keeps one connection per
//! # peer (plus one for itself) for the fan-out senders' leases, one for wake-ups and one
//! # for the group commit of hub room writes.
//! max_connections = 10
//! # How long a request waits for a pooled connection before failing (default 30000).
//! acquire_timeout_ms = 30000
//!
//! # One table per peer provider (none by default).
//! [peers."y.example"]
//! address = "127.0.0.1:8444"            # its federation listener
//! # or, for a provider that runs several processes, all of them (tried in this order, the
//! # next on connection failure):
//! # addresses = ["127.0.0.1:8444", "127.0.0.1:8445"]
//! tls_ca = "peers/y.example/tls-ca.pem" # the TLS CA we pin for it
//! mls_ca = "peers/y.example/mls-ca.der" # the MLS CA we pin for it
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use mimi_types::Domain;
use serde::{Deserialize, Serialize};

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read or written.
    #[error("{path}: {source}; check the path and its permissions")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML does not parse or has a wrong key.
    #[error("{path}: {reason}; see the key list in the mimi-server config documentation")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A value is invalid.
    #[error("invalid {key}: {reason}")]
    Invalid {
        /// The key.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

/// TLS files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsFiles {
    /// Our TLS CA certificate (PEM).
    pub ca_cert: PathBuf,
    /// Our certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
}

impl Default for TlsFiles {
    fn default() -> Self {
        Self {
            ca_cert: "tls-ca.pem".into(),
            cert: "tls-cert.pem".into(),
            key: "tls-key.pem".into(),
        }
    }
}

/// The client API's HTTPS certificate and key (`[client_tls]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientTls {
    /// Its certificate chain (PEM), leaf first.
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
}

/// MLS files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlsFiles {
    /// Our MLS provider CA record (secret).
    pub ca: PathBuf,
    /// Its certificate (DER).
    pub ca_cert: PathBuf,
    /// Our MLS server identity record (secret).
    pub server: PathBuf,
}

impl Default for MlsFiles {
    fn default() -> Self {
        Self {
            ca: "mls-ca.key".into(),
            ca_cert: "mls-ca.der".into(),
            server: "mls-server.key".into(),
        }
    }
}

/// Limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest federation request body.
    pub max_body_bytes: usize,
    /// Per-peer federation requests per second (burst twice that).
    pub peer_requests_per_second: u32,
    /// Lifetime of the device credentials we issue, in days.
    pub device_credential_days: u64,
    /// Longest event-feed long poll, in milliseconds.
    pub max_wait_ms: u64,
    /// Largest attachment blob (ciphertext) a device may upload, in bytes.
    pub max_blob_bytes: usize,
    /// Bytes of blobs one device may have stored (0: no limit).
    pub blob_quota_per_device_bytes: u64,
    /// Bytes of blobs the provider stores in all (0: no limit).
    pub blob_quota_per_provider_bytes: u64,
    /// Blob downloads served at once (at least 1).
    pub blob_downloads_at_once: u32,
    /// Blob uploads received at once (at least 1).
    pub blob_uploads_at_once: u32,
    /// First wait before a refused fan-out item (a dead letter) is offered again, in
    /// milliseconds; doubled per refusal, at most one hour.
    pub dead_letter_retry_ms: u64,
    /// KeyPackage claims per (requesting user, target user) per window (0: no limit).
    pub key_material_claims_per_pair: u32,
    /// That window, in milliseconds.
    pub key_material_pair_window_ms: u64,
    /// Argon2id password hashes run at once at most (at least 1).
    pub password_hash_concurrency: u32,
    /// Memory of a new Argon2id password hash, in KiB (at least 8).
    pub password_hash_memory_kib: u32,
    /// Passes of a new Argon2id password hash over its memory (at least 1).
    pub password_hash_iterations: u32,
    /// Registrations and logins per account per minute (0: no limit).
    pub auth_attempts_per_account: u32,
    /// Registrations and logins per source address per minute (0: no limit).
    pub auth_attempts_per_source: u32,
    /// How long a client API request head may take, and a client API connection may sit idle
    /// between requests, in milliseconds (at least 1).
    pub client_header_timeout_ms: u64,
    /// Identifier queries one peer provider may send us per minute (0: none).
    pub identifier_queries_per_peer: u32,
    /// Identifier queries one user of ours may make per minute, here or relayed (0: none).
    pub identifier_queries_per_user: u32,
}

/// The most memory the password hashes running at once may take together (4 GiB): unknown
/// users' logins run them too, so this bounds what an anonymous burst can make us allocate.
const MAX_HASHING_KIB: u64 = 4 * 1024 * 1024;

/// Argon2id parameters as the server runs them (one lane), or why there are none.
pub(crate) fn argon2_params(
    memory_kib: u32,
    iterations: u32,
) -> Result<argon2::Params, argon2::Error> {
    argon2::Params::new(memory_kib, iterations, 1, None)
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024 * 1024,
            peer_requests_per_second: 2000,
            device_credential_days: 365,
            max_wait_ms: 30_000,
            max_blob_bytes: mimi_client_api::blobs::DEFAULT_MAX_BLOB_BYTES,
            blob_quota_per_device_bytes: 1 << 30,
            blob_quota_per_provider_bytes: 100 << 30,
            blob_downloads_at_once: 64,
            blob_uploads_at_once: 8,
            dead_letter_retry_ms: 60_000,
            key_material_claims_per_pair: 6,
            key_material_pair_window_ms: 600_000,
            password_hash_concurrency: 2,
            password_hash_memory_kib: 19 * 1024,
            password_hash_iterations: 2,
            auth_attempts_per_account: 10,
            auth_attempts_per_source: 120,
            client_header_timeout_ms: 30_000,
            identifier_queries_per_peer: 600,
            identifier_queries_per_user: 30,
        }
    }
}

/// Consent (`[consent]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConsentSettings {
    /// The policy of users who set none (`anyone`, `contacts`, `providers:a.example,...`).
    pub default_policy: String,
    /// Consent requests per requesting user per window (0: no limit).
    pub requests_per_requester: u32,
    /// That window, in milliseconds.
    pub request_window_ms: u64,
}

impl Default for ConsentSettings {
    fn default() -> Self {
        Self {
            default_policy: "contacts".into(),
            requests_per_requester: 20,
            request_window_ms: 600_000,
        }
    }
}

impl ConsentSettings {
    /// The default policy, parsed.
    pub fn policy(&self) -> Result<mimi_ds::follower::ConsentPolicy, ConfigError> {
        mimi_ds::follower::ConsentPolicy::parse(&self.default_policy).map_err(|e| {
            ConfigError::Invalid {
                key: "consent.default_policy".into(),
                reason: e.to_string(),
            }
        })
    }
}

/// Where the store and the accounts live (`[database]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Database {
    /// `sqlite:DIR` or `postgres://...`; absent: SQLite files in the data directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// PostgreSQL connections in this process's pool.
    pub max_connections: u32,
    /// How long a request waits for a pooled connection, in milliseconds.
    pub acquire_timeout_ms: u64,
}

impl Default for Database {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
            acquire_timeout_ms: 30_000,
        }
    }
}

/// The backend `database.url` selects.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DatabaseTarget {
    /// SQLite files in this directory.
    Sqlite(PathBuf),
    /// This PostgreSQL URL.
    Postgres(String),
}

/// A peer provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "PeerEntry", into = "PeerEntry")]
pub struct Peer {
    /// Its federation listeners (one per process of the provider, at least one), tried in
    /// this order, the next when a connection fails.
    pub addresses: Vec<SocketAddr>,
    /// The TLS CA pinned for it (PEM).
    pub tls_ca: PathBuf,
    /// The MLS CA pinned for it (DER).
    pub mls_ca: PathBuf,
}

impl Peer {
    /// A peer with one federation listener.
    pub fn new(address: SocketAddr, tls_ca: PathBuf, mls_ca: PathBuf) -> Self {
        Self {
            addresses: vec![address],
            tls_ca,
            mls_ca,
        }
    }
}

/// A peer as the file spells it: `address` (one) or `addresses` (several).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<SocketAddr>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    addresses: Vec<SocketAddr>,
    tls_ca: PathBuf,
    mls_ca: PathBuf,
}

impl TryFrom<PeerEntry> for Peer {
    type Error = String;

    fn try_from(entry: PeerEntry) -> Result<Self, String> {
        let addresses = match (entry.address, entry.addresses) {
            (Some(_), more) if !more.is_empty() => {
                return Err("give either address or addresses, not both".into());
            }
            (Some(one), _) => vec![one],
            (None, more) if more.is_empty() => {
                return Err("missing address (or addresses = [...])".into());
            }
            (None, more) => more,
        };
        Ok(Self {
            addresses,
            tls_ca: entry.tls_ca,
            mls_ca: entry.mls_ca,
        })
    }
}

impl From<Peer> for PeerEntry {
    fn from(peer: Peer) -> Self {
        let (address, addresses) = match peer.addresses.as_slice() {
            [one] => (Some(*one), Vec::new()),
            _ => (None, peer.addresses),
        };
        Self {
            address,
            addresses,
            tls_ca: peer.tls_ca,
            mls_ca: peer.mls_ca,
        }
    }
}

/// The provider's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// This provider's domain.
    pub domain: Domain,
    /// Where the databases live (relative: to the configuration file's directory).
    #[serde(default = "dot")]
    pub data_dir: PathBuf,
    /// The federation listener.
    #[serde(default = "default_federation")]
    pub federation_listen: SocketAddr,
    /// The client API listener.
    #[serde(default = "default_client")]
    pub client_listen: SocketAddr,
    /// TLS files.
    #[serde(default)]
    pub tls: TlsFiles,
    /// The client API's HTTPS certificate; `None`: plain HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_tls: Option<ClientTls>,
    /// MLS files.
    #[serde(default)]
    pub mls: MlsFiles,
    /// Limits.
    #[serde(default)]
    pub limits: Limits,
    /// Consent.
    #[serde(default)]
    pub consent: ConsentSettings,
    /// Where the store and the accounts live.
    #[serde(default)]
    pub database: Database,
    /// Peer providers by domain.
    #[serde(default)]
    pub peers: BTreeMap<Domain, Peer>,
    /// The directory relative paths are resolved against (not in the file).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

fn dot() -> PathBuf {
    ".".into()
}

fn default_federation() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8443))
}

fn default_client() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 8080))
}

impl Config {
    /// A configuration with every default, for `domain`, resolving paths against `base_dir`.
    pub fn new(domain: Domain, base_dir: impl Into<PathBuf>) -> Self {
        Self {
            domain,
            data_dir: dot(),
            federation_listen: default_federation(),
            client_listen: default_client(),
            tls: TlsFiles::default(),
            client_tls: None,
            mls: MlsFiles::default(),
            limits: Limits::default(),
            consent: ConsentSettings::default(),
            database: Database::default(),
            peers: BTreeMap::new(),
            base_dir: base_dir.into(),
        }
    }

    /// Parses TOML text; relative paths resolve against `base_dir`.
    pub fn from_toml(text: &str, base_dir: impl Into<PathBuf>) -> Result<Self, ConfigError> {
        let base_dir = base_dir.into();
        let mut config: Self = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: base_dir.clone(),
            reason: e.to_string(),
        })?;
        config.base_dir = base_dir;
        config.database_target()?;
        config.consent.policy()?;
        if config.database.max_connections == 0 {
            return Err(ConfigError::Invalid {
                key: "database.max_connections".into(),
                reason: "a pool needs at least one connection".into(),
            });
        }
        if config.limits.password_hash_concurrency == 0 {
            return Err(ConfigError::Invalid {
                key: "limits.password_hash_concurrency".into(),
                reason: "at least one password hash must be able to run".into(),
            });
        }
        if let Err(e) = argon2_params(
            config.limits.password_hash_memory_kib,
            config.limits.password_hash_iterations,
        ) {
            return Err(ConfigError::Invalid {
                key: "limits.password_hash_memory_kib / limits.password_hash_iterations".into(),
                reason: format!("not an Argon2id cost ({e}): at least 8 KiB and 1 pass"),
            });
        }
        let hashing_kib = u64::from(config.limits.password_hash_memory_kib)
            * u64::from(config.limits.password_hash_concurrency);
        if hashing_kib > MAX_HASHING_KIB {
            return Err(ConfigError::Invalid {
                key: "limits.password_hash_memory_kib × limits.password_hash_concurrency".into(),
                reason: format!(
                    "{} MiB of password hashing at once; at most {} MiB: lower either",
                    hashing_kib / 1024,
                    MAX_HASHING_KIB / 1024
                ),
            });
        }
        for (key, value) in [
            (
                "limits.blob_downloads_at_once",
                config.limits.blob_downloads_at_once,
            ),
            (
                "limits.blob_uploads_at_once",
                config.limits.blob_uploads_at_once,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key: key.into(),
                    reason: "at least one transfer must be able to run".into(),
                });
            }
        }
        if config.limits.client_header_timeout_ms == 0 {
            return Err(ConfigError::Invalid {
                key: "limits.client_header_timeout_ms".into(),
                reason: "a request head needs some time to arrive (30000 is the default)".into(),
            });
        }
        if config.peers.contains_key(&config.domain) {
            return Err(ConfigError::Invalid {
                key: format!("peers.\"{}\"", config.domain),
                reason: "this is our own domain; list only other providers".into(),
            });
        }
        Ok(config)
    }

    /// Reads the file at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::from_toml(&text, base).map_err(|e| match e {
            ConfigError::Syntax { reason, .. } => ConfigError::Syntax {
                path: path.to_path_buf(),
                reason,
            },
            other => other,
        })
    }

    /// The configuration as TOML.
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(self).map_err(|e| ConfigError::Invalid {
            key: "(whole file)".into(),
            reason: e.to_string(),
        })
    }

    /// Writes the configuration to `path`.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let text = format!(
            "# mimi-rs provider configuration; every key and its default is documented in\n\
             # the mimi-server crate (config module).\n{}",
            self.to_toml()?
        );
        std::fs::write(path, text).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// A path of the configuration, resolved against the configuration's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }

    /// The data directory, resolved.
    pub fn data_dir(&self) -> PathBuf {
        self.resolve(&self.data_dir)
    }

    /// The backend `database.url` selects (relative SQLite directories resolved).
    pub fn database_target(&self) -> Result<DatabaseTarget, ConfigError> {
        let Some(url) = &self.database.url else {
            return Ok(DatabaseTarget::Sqlite(self.data_dir()));
        };
        if let Some(dir) = url.strip_prefix("sqlite:") {
            if dir.is_empty() {
                return Err(ConfigError::Invalid {
                    key: "database.url".into(),
                    reason: "sqlite: needs a directory (sqlite:DIR), or leave the key out to \
                             use data_dir"
                        .into(),
                });
            }
            return Ok(DatabaseTarget::Sqlite(self.resolve(Path::new(dir))));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseTarget::Postgres(url.clone()));
        }
        Err(ConfigError::Invalid {
            key: "database.url".into(),
            // The URL is not repeated: it may hold a password.
            reason: "it must start with sqlite: or postgres:// (or be left out for SQLite \
                     files in data_dir)"
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn defaults_fill_what_the_file_leaves_out() {
        let config = Config::from_toml("domain = \"x.example\"\n", "/etc/mimi").unwrap();
        assert_eq!(config.federation_listen.port(), 8443);
        assert_eq!(config.client_listen.port(), 8080);
        assert_eq!(config.limits, Limits::default());
        assert_eq!(
            config.resolve(&config.tls.cert),
            PathBuf::from("/etc/mimi/tls-cert.pem")
        );
    }

    #[test]
    fn round_trips_through_toml() {
        let mut config = Config::new(Domain::parse("x.example").unwrap(), "/d");
        config.peers.insert(
            Domain::parse("y.example").unwrap(),
            Peer::new(
                "127.0.0.1:9000".parse().unwrap(),
                "peers/y/tls-ca.pem".into(),
                "peers/y/mls-ca.der".into(),
            ),
        );
        config.peers.insert(
            Domain::parse("z.example").unwrap(),
            Peer {
                addresses: vec![
                    "127.0.0.1:9001".parse().unwrap(),
                    "127.0.0.1:9002".parse().unwrap(),
                ],
                tls_ca: "peers/z/tls-ca.pem".into(),
                mls_ca: "peers/z/mls-ca.der".into(),
            },
        );
        config.database.url = Some("postgres://mimi@db.internal/mimi".into());
        config.database.max_connections = 4;
        let text = config.to_toml().unwrap();
        assert_eq!(Config::from_toml(&text, "/d").unwrap(), config);
    }

    #[test]
    fn peers_give_one_address_or_several_never_both_nor_none() {
        let peer = |keys: &str| {
            format!(
                "domain = \"x.example\"\n[peers.\"y.example\"]\n{keys}\ntls_ca = \"a\"\nmls_ca = \"b\"\n"
            )
        };
        let one = Config::from_toml(&peer("address = \"127.0.0.1:1\""), "/").unwrap();
        let y = Domain::parse("y.example").unwrap();
        assert_eq!(one.peers[&y].addresses.len(), 1);
        let two = Config::from_toml(&peer("addresses = [\"127.0.0.1:1\", \"127.0.0.1:2\"]"), "/")
            .unwrap();
        assert_eq!(two.peers[&y].addresses.len(), 2);
        let both = peer("address = \"127.0.0.1:1\"\naddresses = [\"127.0.0.1:2\"]");
        let err = Config::from_toml(&both, "/").unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
        let err = Config::from_toml(&peer(""), "/").unwrap_err();
        assert!(err.to_string().contains("missing address"), "{err}");
        let err = Config::from_toml(&peer("addresses = []"), "/").unwrap_err();
        assert!(err.to_string().contains("missing address"), "{err}");
    }

    #[test]
    fn the_database_url_selects_the_backend() {
        let config = |url: &str| {
            Config::from_toml(
                &format!("domain = \"x.example\"\n[database]\nurl = \"{url}\"\n"),
                "/etc/mimi",
            )
        };
        let default = Config::from_toml("domain = \"x.example\"\n", "/etc/mimi").unwrap();
        assert_eq!(
            default.database_target().unwrap(),
            DatabaseTarget::Sqlite("/etc/mimi/.".into())
        );
        assert_eq!(
            config("sqlite:db").unwrap().database_target().unwrap(),
            DatabaseTarget::Sqlite("/etc/mimi/db".into())
        );
        assert_eq!(
            config("postgres://mimi@h/m")
                .unwrap()
                .database_target()
                .unwrap(),
            DatabaseTarget::Postgres("postgres://mimi@h/m".into())
        );
        let err = config("mysql://mimi:s3cret@h/m").unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { .. }), "{err}");
        assert!(!err.to_string().contains("s3cret"), "{err}");
        assert!(config("sqlite:").is_err());
        let err = Config::from_toml(
            "domain = \"x.example\"\n[database]\nmax_connections = 0\n",
            "/",
        )
        .unwrap_err();
        assert!(err.to_string().contains("max_connections"), "{err}");
    }

    #[test]
    fn the_abuse_limits_have_defaults_and_refuse_a_zero_hash_concurrency() {
        let config = Config::from_toml("domain = \"x.example\"\n", "/").unwrap();
        assert_eq!(config.limits.key_material_claims_per_pair, 6);
        assert_eq!(config.limits.key_material_pair_window_ms, 600_000);
        assert_eq!(config.limits.password_hash_concurrency, 2);
        assert_eq!(config.limits.dead_letter_retry_ms, 60_000);
        let text = "domain = \"x.example\"\n[limits]\nauth_attempts_per_account = 3\n\
                    auth_attempts_per_source = 0\ndead_letter_retry_ms = 500\n";
        let config = Config::from_toml(text, "/").unwrap();
        assert_eq!(config.limits.auth_attempts_per_account, 3);
        assert_eq!(config.limits.auth_attempts_per_source, 0);
        assert_eq!(config.limits.dead_letter_retry_ms, 500);
        let text = "domain = \"x.example\"\n[limits]\npassword_hash_concurrency = 0\n";
        let err = Config::from_toml(text, "/").unwrap_err();
        assert!(
            err.to_string().contains("password_hash_concurrency"),
            "{err}"
        );
    }

    #[test]
    fn the_password_hash_cost_defaults_to_owasps_and_refuses_what_argon2_cannot_run() {
        let config = Config::from_toml("domain = \"x.example\"\n", "/").unwrap();
        assert_eq!(config.limits.password_hash_memory_kib, 19_456);
        assert_eq!(config.limits.password_hash_iterations, 2);
        let text = "domain = \"x.example\"\n[limits]\npassword_hash_memory_kib = 64\n\
                    password_hash_iterations = 1\n";
        let config = Config::from_toml(text, "/").unwrap();
        assert_eq!(config.limits.password_hash_memory_kib, 64);
        assert_eq!(config.limits.password_hash_iterations, 1);
        for bad in [
            "password_hash_memory_kib = 7",
            "password_hash_memory_kib = 0",
            "password_hash_iterations = 0",
            // 1 GiB each, eight at once: 8 GiB that anonymous logins could make us allocate.
            "password_hash_memory_kib = 1048576\npassword_hash_concurrency = 8",
        ] {
            let text = format!("domain = \"x.example\"\n[limits]\n{bad}\n");
            let err = Config::from_toml(&text, "/").unwrap_err();
            assert!(matches!(err, ConfigError::Invalid { .. }), "{bad}: {err}");
            assert!(err.to_string().contains("password_hash"), "{err}");
        }
        // Exactly the cap is taken.
        let text = "domain = \"x.example\"\n[limits]\npassword_hash_memory_kib = 1048576\n\
                    password_hash_concurrency = 4\n";
        assert!(Config::from_toml(text, "/").is_ok());
    }

    #[test]
    fn the_blob_limits_have_defaults_and_refuse_zero_transfers() {
        let config = Config::from_toml("domain = \"x.example\"\n", "/").unwrap();
        assert_eq!(config.limits.blob_quota_per_device_bytes, 1 << 30);
        assert_eq!(config.limits.blob_quota_per_provider_bytes, 100 << 30);
        assert_eq!(config.limits.blob_downloads_at_once, 64);
        assert_eq!(config.limits.blob_uploads_at_once, 8);
        let text = "domain = \"x.example\"\n[limits]\nblob_quota_per_device_bytes = 0\n\
                    blob_downloads_at_once = 3\n";
        let config = Config::from_toml(text, "/").unwrap();
        assert_eq!(config.limits.blob_quota_per_device_bytes, 0);
        assert_eq!(config.limits.blob_downloads_at_once, 3);
        for key in ["blob_downloads_at_once", "blob_uploads_at_once"] {
            let text = format!("domain = \"x.example\"\n[limits]\n{key} = 0\n");
            let err = Config::from_toml(&text, "/").unwrap_err();
            assert!(matches!(err, ConfigError::Invalid { .. }), "{err}");
            assert!(err.to_string().contains(key), "{err}");
        }
    }

    #[test]
    fn client_tls_is_optional_and_its_head_timeout_positive() {
        let config = Config::from_toml("domain = \"x.example\"\n", "/etc/mimi").unwrap();
        assert_eq!(config.client_tls, None);
        assert!(!config.to_toml().unwrap().contains("client_tls"));
        assert_eq!(config.limits.client_header_timeout_ms, 30_000);
        let text = "domain = \"x.example\"\n[client_tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n";
        let config = Config::from_toml(text, "/etc/mimi").unwrap();
        let files = config.client_tls.clone().unwrap();
        assert_eq!(config.resolve(&files.key), PathBuf::from("/etc/mimi/k.pem"));
        let again = Config::from_toml(&config.to_toml().unwrap(), "/etc/mimi").unwrap();
        assert_eq!(again, config);
        let err = Config::from_toml(
            "domain = \"x.example\"\n[client_tls]\ncert = \"c.pem\"\n",
            "/",
        )
        .unwrap_err();
        assert!(err.to_string().contains("key"), "{err}");
        let text = "domain = \"x.example\"\n[limits]\nclient_header_timeout_ms = 0\n";
        let err = Config::from_toml(text, "/").unwrap_err();
        assert!(
            err.to_string().contains("client_header_timeout_ms"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_and_self_peering_are_refused() {
        let err = Config::from_toml("domain = \"x.example\"\nport = 1\n", "/").unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
        let text = "domain = \"x.example\"\n[peers.\"x.example\"]\naddress = \"127.0.0.1:1\"\ntls_ca = \"a\"\nmls_ca = \"b\"\n";
        let err = Config::from_toml(text, "/").unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { .. }), "{err}");
    }
}
