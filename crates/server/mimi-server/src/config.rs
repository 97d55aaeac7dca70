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
//! # The client API listener, plain HTTP: keep it on a loopback address or behind a
//! # TLS-terminating proxy (default "127.0.0.1:8080").
//! client_listen = "127.0.0.1:8080"
//!
//! [tls]
//! ca_cert = "tls-ca.pem"     # our TLS CA certificate, pinned by peers (default shown)
//! cert = "tls-cert.pem"      # our TLS server+client certificate chain (default shown)
//! key = "tls-key.pem"        # its private key (default shown)
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
//!
//! # One table per peer provider (none by default).
//! [peers."y.example"]
//! address = "127.0.0.1:8444"            # its federation listener
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
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024 * 1024,
            peer_requests_per_second: 2000,
            device_credential_days: 365,
            max_wait_ms: 30_000,
        }
    }
}

/// A peer provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Peer {
    /// Its federation listener.
    pub address: SocketAddr,
    /// The TLS CA pinned for it (PEM).
    pub tls_ca: PathBuf,
    /// The MLS CA pinned for it (DER).
    pub mls_ca: PathBuf,
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
    /// MLS files.
    #[serde(default)]
    pub mls: MlsFiles,
    /// Limits.
    #[serde(default)]
    pub limits: Limits,
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
            mls: MlsFiles::default(),
            limits: Limits::default(),
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
            Peer {
                address: "127.0.0.1:9000".parse().unwrap(),
                tls_ca: "peers/y/tls-ca.pem".into(),
                mls_ca: "peers/y/mls-ca.der".into(),
            },
        );
        let text = config.to_toml().unwrap();
        assert_eq!(Config::from_toml(&text, "/d").unwrap(), config);
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
