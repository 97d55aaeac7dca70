//! Starting and stopping a provider.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mimi_ds::follower::RequesterLimiter;
use mimi_ds::follower::consent::ConsentLimiter;
use mimi_federation_api::directory::Directory;
use mimi_mls::{ProviderCa, ServerIdentity};
use mimi_transport::client::FederationClient;
use mimi_transport::public::{PublicConfig, public_tls, serve_public};
use mimi_transport::rate_limit::RateLimit;
use mimi_transport::server::{ServerConfig, serve, serve_directory};
use mimi_transport::{PeerTable, TlsIdentity, TrustStore};
use mimi_types::Domain;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::error::ServerError;
use crate::provider::{ClientRole, Core, FollowerRole, HubRole, Locks, Provider};
use crate::{client_api, federation, outbound, store};

/// A provider server, ready to start.
#[derive(Debug)]
pub struct Server;

/// A running provider: its listeners and workers, until [`RunningServer::shutdown`].
#[derive(Debug)]
pub struct RunningServer {
    domain: Domain,
    federation_addr: SocketAddr,
    client_addr: SocketAddr,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

pub(crate) fn read(config: &Config, path: &Path, what: &str) -> Result<Vec<u8>, ServerError> {
    let full = config.resolve(path);
    std::fs::read(&full).map_err(|e| ServerError::Keys {
        what: format!("{what} ({})", full.display()),
        reason: e.to_string(),
    })
}

fn keys(what: &str, e: impl std::fmt::Display) -> ServerError {
    ServerError::Keys {
        what: what.to_owned(),
        reason: e.to_string(),
    }
}

/// The client API's certificate and key (`[client_tls]`), checked as a pair; `None` without
/// the section.
fn client_tls(config: &Config) -> Result<Option<TlsIdentity>, ServerError> {
    let Some(files) = &config.client_tls else {
        return Ok(None);
    };
    let cert = config.resolve(&files.cert);
    let key = config.resolve(&files.key);
    let fix = "give a PEM file (`mimi init --client-tls` writes a self-signed pair) or remove \
               [client_tls] to serve plain HTTP on a loopback address";
    let cert_pem = read(config, &files.cert, "[client_tls] cert")?;
    let key_pem = read(config, &files.key, "[client_tls] key")?;
    let bad = |which: &str, path: &Path, e: &dyn std::fmt::Display| ServerError::Keys {
        what: format!("[client_tls] {which} ({})", path.display()),
        reason: format!("{e}; {fix}"),
    };
    let identity = TlsIdentity::from_pem(&cert_pem, &key_pem).map_err(|e| match &e {
        mimi_transport::TransportError::Pem { what, .. } if what.contains("certificate") => {
            bad("cert", &cert, &e)
        }
        _ => bad("key", &key, &e),
    })?;
    public_tls(&identity).map_err(|e| ServerError::Keys {
        what: format!(
            "[client_tls] cert ({}) and key ({})",
            cert.display(),
            key.display()
        ),
        reason: format!("{e}; the key must be the certificate's own private key"),
    })?;
    Ok(Some(identity))
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ServerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })
}

impl Server {
    /// Loads the keys and stores of `config`, binds both listeners and starts the outbound
    /// workers. Must be called inside a Tokio runtime; the server runs on it.
    pub async fn start(config: Config) -> Result<RunningServer, ServerError> {
        let domain = config.domain.clone();
        let ca = ProviderCa::from_record(&read(&config, &config.mls.ca, "MLS CA")?)
            .map_err(|e| keys("MLS CA", e))?;
        let server = ServerIdentity::from_record(&read(&config, &config.mls.server, "MLS server")?)
            .map_err(|e| keys("MLS server identity", e))?;
        let our_mls_ca = read(&config, &config.mls.ca_cert, "MLS CA certificate")?;
        let mut mls_trust = mimi_mls::TrustStore::new();
        let mut bundle = BTreeMap::new();
        let mut tls_trust = TrustStore::new();
        let mut peers = PeerTable::new();
        mls_trust
            .pin(domain.clone(), &our_mls_ca)
            .map_err(|e| keys("our MLS CA certificate", e))?;
        bundle.insert(domain.to_string(), our_mls_ca);
        tls_trust.pin_pem(
            domain.clone(),
            &read(&config, &config.tls.ca_cert, "TLS CA")?,
        )?;
        peers.insert(domain.clone(), config.federation_listen);
        for (peer, entry) in &config.peers {
            let mls_ca = read(&config, &entry.mls_ca, &format!("MLS CA of {peer}"))?;
            mls_trust
                .pin(peer.clone(), &mls_ca)
                .map_err(|e| keys(&format!("MLS CA of {peer}"), e))?;
            bundle.insert(peer.to_string(), mls_ca);
            tls_trust.pin_pem(
                peer.clone(),
                &read(&config, &entry.tls_ca, &format!("TLS CA of {peer}"))?,
            )?;
            peers.insert_all(peer.clone(), entry.addresses.clone());
        }
        let identity = TlsIdentity::from_pem_files(
            &config.resolve(&config.tls.cert),
            &config.resolve(&config.tls.key),
        )?;

        let client_identity = client_tls(&config)?;

        let (store, accounts) = store::open(&config).await?;
        let federation_client =
            FederationClient::new(domain.clone(), identity.clone(), tls_trust.clone(), peers);

        let mut outbound_wakeups = BTreeMap::new();
        outbound_wakeups.insert(domain.clone(), Arc::new(Notify::new()));
        for peer in config.peers.keys() {
            outbound_wakeups.insert(peer.clone(), Arc::new(Notify::new()));
        }
        let metrics = crate::metrics::Metrics::default();
        let passwords = crate::passwords::Passwords::new(
            crate::passwords::HashCost::of(&config.limits),
            config.limits.password_hash_concurrency,
            metrics.hashing.clone(),
        )?;
        let franker = server
            .franker()
            .map_err(|e| keys("the hub's franking key", e))?;
        let provider = Arc::new(Provider {
            core: Core {
                domain: domain.clone(),
                store,
                accounts,
                ca,
                server,
                mls_trust,
                trust_bundle: bundle,
                federation: federation_client,
                limits: config.limits.clone(),
                metrics,
                outbound_wakeups,
                device_wakeups: Default::default(),
            },
            hub: HubRole {
                locks: Locks::default(),
                cache: crate::hub_cache::HubCache::default(),
                franker,
            },
            follower: FollowerRole {
                inbox_locks: Locks::default(),
                inboxes: Mutex::new(BTreeMap::new()),
                consent_policy: config.consent.policy()?,
                consent_limiter: Mutex::new(ConsentLimiter::new(
                    config.consent.requests_per_requester,
                    config.consent.request_window_ms,
                )),
                key_material_limiter: Mutex::new(RequesterLimiter::default().with_pair_limit(
                    config.limits.key_material_claims_per_pair,
                    config.limits.key_material_pair_window_ms,
                )),
                query_limiter: Mutex::new(mimi_ds::discovery::QueryLimiter::new(
                    config.limits.identifier_queries_per_peer,
                    config.limits.identifier_queries_per_user,
                    60_000,
                )),
            },
            client: ClientRole {
                passwords,
                auth_limits: Mutex::new(crate::auth_limits::AuthLimits::new(
                    config.limits.auth_attempts_per_account,
                    config.limits.auth_attempts_per_source,
                )),
                live: crate::live::LiveStreams::default(),
                blob_transfers: crate::transfers::Transfers::new(
                    config.limits.blob_downloads_at_once,
                    config.limits.blob_uploads_at_once,
                ),
            },
        });

        let federation_listener = bind(config.federation_listen).await?;
        let client_listener = bind(config.client_listen).await?;
        let federation_addr =
            federation_listener
                .local_addr()
                .map_err(|source| ServerError::Bind {
                    addr: config.federation_listen,
                    source,
                })?;
        let client_addr = client_listener
            .local_addr()
            .map_err(|source| ServerError::Bind {
                addr: config.client_listen,
                source,
            })?;

        let (stop, _) = watch::channel(false);
        let mut tasks = Vec::new();

        let mut server_config = ServerConfig::new(domain.clone(), identity, tls_trust);
        server_config.max_body_bytes = config.limits.max_body_bytes;
        let rate = f64::from(config.limits.peer_requests_per_second.max(1));
        server_config.rate_limit = RateLimit {
            per_second: rate,
            burst: rate * 2.0,
        };
        let (federation_routes, served) = federation::router(provider.clone());
        let base = format!("https://{domain}");
        let mut directory = Directory::serving(&base, served.iter().copied()).map_err(|e| {
            ServerError::Transport(mimi_transport::TransportError::Config(format!(
                "directory base {base:?}: {e}"
            )))
        })?;
        // Hubs refuse up front a message our limit would refuse at fan-out.
        directory.set_max_body_bytes(config.limits.max_body_bytes);
        let routes = federation_routes.merge(serve_directory(&directory));
        let mut stopped = stop.subscribe();
        tasks.push(tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = serve(federation_listener, server_config, routes, shutdown).await {
                tracing::error!(error = %e, "federation listener failed");
            }
        }));

        let app = client_api::router(provider.clone());
        if client_identity.is_none() && !client_addr.ip().is_loopback() {
            tracing::warn!(
                %client_addr,
                "the client API is plain HTTP on a non-loopback address: passwords and tokens \
                 cross the network in clear; add [client_tls] to the configuration"
            );
        }
        let client_https = client_identity.is_some();
        let public = PublicConfig {
            tls: client_identity,
            header_read_timeout: Duration::from_millis(config.limits.client_header_timeout_ms),
            ..PublicConfig::default()
        };
        let mut stopped = stop.subscribe();
        tasks.push(tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = serve_public(client_listener, public, app, shutdown).await {
                tracing::error!(error = %e, "client API listener failed");
            }
        }));

        if let Some(postgres) = provider.store.postgres() {
            // Saves by the other processes of this provider wake our senders and streams.
            let wakeups = postgres.listen().await?;
            tasks.push(tokio::spawn(outbound::relay_wakeups(
                provider.clone(),
                wakeups,
                stop.subscribe(),
            )));
        }
        tasks.push(tokio::spawn(crate::retraction::run(
            provider.clone(),
            stop.subscribe(),
        )));
        for (to, wake) in &provider.outbound_wakeups {
            tasks.push(tokio::spawn(outbound::run(
                provider.clone(),
                to.clone(),
                wake.clone(),
                stop.subscribe(),
            )));
        }
        tracing::info!(
            %domain,
            %federation_addr,
            %client_addr,
            client_https,
            "provider started"
        );
        Ok(RunningServer {
            domain,
            federation_addr,
            client_addr,
            stop,
            tasks,
        })
    }
}

impl Server {
    /// Opens the database of `config` and brings its schema up to date (what `start` does
    /// first), then closes it: `mimi migrate`.
    pub async fn migrate(config: &Config) -> Result<String, ServerError> {
        let (store, _accounts) = store::open(config).await?;
        let shown = match &store {
            store::Store::Sqlite(s) => s.path().display().to_string(),
            store::Store::Postgres(p) => p.server().to_owned(),
        };
        match store {
            store::Store::Sqlite(s) => s.close().await,
            store::Store::Postgres(p) => p.close().await,
        }
        Ok(shown)
    }
}

impl Server {
    /// The accounts database of `config` (schema brought up to date), for operator tools
    /// that run beside the server (`mimi admin`).
    pub async fn accounts(config: &Config) -> Result<crate::accounts::Accounts, ServerError> {
        let (_store, accounts) = store::open(config).await?;
        Ok(accounts)
    }
}

impl RunningServer {
    /// The provider's domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Where the federation listener is bound.
    pub fn federation_addr(&self) -> SocketAddr {
        self.federation_addr
    }

    /// Where the client API listener is bound.
    pub fn client_addr(&self) -> SocketAddr {
        self.client_addr
    }

    /// Stops accepting, lets requests in flight finish, stops the workers (what they had not
    /// sent stays stored and is sent after the next start).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        tracing::info!(domain = %self.domain, "provider stopped");
    }
}
