//! Writing new providers: `mimi init` and `mimi init --dev-federation`.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use mimi_mls::{ProviderCa, ServerIdentity, Validity};
use mimi_types::Domain;

use crate::config::{ClientTls, Config, Peer};
use crate::error::ServerError;
use crate::pki;

/// The configuration file name `init` writes.
pub const CONFIG_FILE: &str = "mimi.toml";

const TEN_YEARS: u64 = 10 * 365 * 24 * 3600;

/// Writes a new file (never replacing one); `secret` files are readable by their owner only.
fn write(path: &Path, bytes: &[u8], secret: bool) -> Result<(), ServerError> {
    use std::io::Write as _;

    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    let failed = |e: std::io::Error| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            ServerError::Init(format!(
                "{} exists already; init never overwrites keys (choose another directory)",
                path.display()
            ))
        } else {
            ServerError::Init(format!("writing {}: {e}", path.display()))
        }
    };
    let mut file = options.open(path).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)
}

pub(crate) fn now_s() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Writes a new provider for `domain` into `dir` (created if missing): MLS provider CA and
/// server identity, TLS CA and certificate, and [`CONFIG_FILE`] with every default. Returns
/// the configuration (its path is `dir/mimi.toml`).
pub fn init(domain: &Domain, dir: &Path) -> Result<Config, ServerError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| ServerError::Init(format!("creating {}: {e}", dir.display())))?;
    let config = Config::new(domain.clone(), dir);
    let validity = Validity::starting(now_s().saturating_sub(3600), TEN_YEARS);
    let ca = ProviderCa::generate(domain.clone(), validity)
        .map_err(|e| ServerError::Init(format!("MLS CA: {e}")))?;
    let server = ServerIdentity::new(&ca, validity)
        .map_err(|e| ServerError::Init(format!("MLS server identity: {e}")))?;
    let server_record = server
        .to_record()
        .map_err(|e| ServerError::Init(format!("MLS server identity: {e}")))?;
    let tls = pki::tls_for(domain.as_str())?;
    write(&config.resolve(&config.mls.ca), &ca.to_record(), true)?;
    write(
        &config.resolve(&config.mls.ca_cert),
        ca.certificate_der(),
        false,
    )?;
    write(&config.resolve(&config.mls.server), &server_record, true)?;
    write(
        &config.resolve(&config.tls.ca_cert),
        tls.ca_cert.as_bytes(),
        false,
    )?;
    write(
        &config.resolve(&config.tls.cert),
        tls.cert.as_bytes(),
        false,
    )?;
    write(&config.resolve(&config.tls.key), tls.key.as_bytes(), true)?;
    let path = dir.join(CONFIG_FILE);
    if path.exists() {
        return Err(ServerError::Init(format!(
            "{} exists already; choose another directory",
            path.display()
        )));
    }
    config.save(&path)?;
    Ok(config)
}

/// The files [`add_client_tls`] writes, beside the configuration.
pub const CLIENT_TLS_CERT: &str = "client-tls-cert.pem";
/// See [`CLIENT_TLS_CERT`].
pub const CLIENT_TLS_KEY: &str = "client-tls-key.pem";

/// Gives the provider configured at `config_path` a self-signed client API certificate for
/// development (`mimi init --client-tls`): writes [`CLIENT_TLS_CERT`] (naming the domain,
/// `localhost` and `127.0.0.1`) and [`CLIENT_TLS_KEY`] beside it and adds `[client_tls]` to
/// the file. Devices pin the certificate file. Returns the certificate's path.
pub fn add_client_tls(config: &mut Config, config_path: &Path) -> Result<PathBuf, ServerError> {
    let (cert, key) = pki::client_api_self_signed(config.domain.as_str())?;
    let files = ClientTls {
        cert: CLIENT_TLS_CERT.into(),
        key: CLIENT_TLS_KEY.into(),
    };
    let cert_path = config.resolve(&files.cert);
    write(&cert_path, cert.as_bytes(), false)?;
    write(&config.resolve(&files.key), key.as_bytes(), true)?;
    config.client_tls = Some(files);
    std::fs::remove_file(config_path)
        .map_err(|e| ServerError::Init(format!("rewriting {}: {e}", config_path.display())))?;
    config.save(config_path)?;
    Ok(cert_path)
}

/// One provider of a development federation.
#[derive(Debug, Clone)]
pub struct DevProvider {
    /// Its domain.
    pub domain: Domain,
    /// Its configuration file.
    pub config_path: PathBuf,
    /// Its configuration.
    pub config: Config,
}

/// Writes providers for `domains` under `dir/<domain>/`, listening on 127.0.0.1 (federation
/// ports from 18443, client API ports from 18080, one per provider in order), each trusting all
/// the others.
pub fn init_dev_federation(
    dir: &Path,
    domains: &[Domain],
) -> Result<Vec<DevProvider>, ServerError> {
    let mut placed = Vec::new();
    for (i, domain) in domains.iter().enumerate() {
        let i = u16::try_from(i)
            .map_err(|_| ServerError::Init("too many providers for one federation".into()))?;
        placed.push((
            domain.clone(),
            SocketAddr::from(([127, 0, 0, 1], 18443 + i)),
            SocketAddr::from(([127, 0, 0, 1], 18080 + i)),
        ));
    }
    init_dev_federation_at(dir, &placed)
}

/// A port on 127.0.0.1 that was free a moment ago (bound, then released for a server to bind)
/// and that this process has not handed out before, for [`init_dev_federation_at`]: the kernel
/// may offer a released port again, and two providers given one port cannot both start. Another
/// process may still take it before the server binds it: see [`is_addr_in_use`].
pub fn free_loopback_addr() -> std::io::Result<SocketAddr> {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    for _ in 0..64 {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let fresh = HANDED_OUT
            .lock()
            .map(|mut handed| handed.insert(addr.port()))
            .unwrap_or(true);
        if fresh {
            return Ok(addr);
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrNotAvailable,
        "no port on 127.0.0.1 that this process has not used already",
    ))
}

/// Whether `cause` (one link of an error's chain) is a bind refused because the address is in
/// use: a port chosen by [`free_loopback_addr`] taken meanwhile, worth a try on fresh ports.
pub fn is_addr_in_use(cause: &(dyn std::error::Error + 'static)) -> bool {
    cause
        .downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::AddrInUse)
}

/// Like [`init_dev_federation`] with explicit (domain, federation address, client address).
pub fn init_dev_federation_at(
    dir: &Path,
    providers: &[(Domain, SocketAddr, SocketAddr)],
) -> Result<Vec<DevProvider>, ServerError> {
    let mut written = Vec::new();
    for (domain, federation, client) in providers {
        let home = dir.join(domain.as_str());
        let mut config = init(domain, &home)?;
        // A development federation is open among its users: anyone may add anyone (users
        // may still choose `contacts`). A provider of its own (`mimi init --domain`) keeps the
        // default, `contacts`.
        config.consent.default_policy = "anyone".into();
        config.federation_listen = *federation;
        config.client_listen = *client;
        written.push(DevProvider {
            domain: domain.clone(),
            config_path: home.join(CONFIG_FILE),
            config,
        });
    }
    let snapshot = written.clone();
    for provider in &mut written {
        for peer in &snapshot {
            if peer.domain == provider.domain {
                continue;
            }
            let peer_dir = PathBuf::from("peers").join(peer.domain.as_str());
            let abs = provider.config.resolve(&peer_dir);
            std::fs::create_dir_all(&abs)
                .map_err(|e| ServerError::Init(format!("creating {}: {e}", abs.display())))?;
            let copy = |from: &Path, name: &str| -> Result<PathBuf, ServerError> {
                let bytes = std::fs::read(peer.config.resolve(from))
                    .map_err(|e| ServerError::Init(format!("reading {}: {e}", from.display())))?;
                std::fs::write(abs.join(name), bytes)
                    .map_err(|e| ServerError::Init(format!("writing {name}: {e}")))?;
                Ok(peer_dir.join(name))
            };
            let tls_ca = copy(&peer.config.tls.ca_cert, "tls-ca.pem")?;
            let mls_ca = copy(&peer.config.mls.ca_cert, "mls-ca.der")?;
            provider.config.peers.insert(
                peer.domain.clone(),
                Peer::new(peer.config.federation_listen, tls_ca, mls_ca),
            );
        }
        let path = provider.config_path.clone();
        std::fs::remove_file(&path)
            .map_err(|e| ServerError::Init(format!("rewriting {}: {e}", path.display())))?;
        provider.config.save(&path)?;
    }
    Ok(written)
}
