//! Three real providers on 127.0.0.1, each in its own Tokio runtime with its own SQLite files
//! and certificates, and devices that speak the client API with real MLS.

#![allow(dead_code, unreachable_pub)]

pub mod device;
pub mod metrics;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;

use mimi_server::{Config, RunningServer, Server, init_dev_federation_at};
use mimi_transport::client::FederationClient;
use mimi_transport::{PeerTable, TlsIdentity, TrustStore};
use mimi_types::Domain;
use tokio::runtime::Runtime;

pub fn domain(s: &str) -> Domain {
    Domain::parse(s).unwrap()
}

fn free_addr() -> SocketAddr {
    // The kernel may offer a released port again: a port handed out once in this process is
    // not handed out again, so tests running in parallel do not pick the same one.
    static HANDED_OUT: std::sync::Mutex<std::collections::BTreeSet<u16>> =
        std::sync::Mutex::new(std::collections::BTreeSet::new());
    for _ in 0..64 {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        if HANDED_OUT.lock().unwrap().insert(addr.port()) {
            return addr;
        }
    }
    panic!("no free port on 127.0.0.1 that this test process has not used already")
}

/// One provider process-alike: its own runtime.
pub struct Node {
    pub domain: Domain,
    pub config: Config,
    pub client_addr: SocketAddr,
    runtime: Option<Runtime>,
    running: Option<RunningServer>,
}

impl Node {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.client_addr)
    }

    fn start(config: Config) -> Self {
        // A test's own HTTP client (reqwest over rustls) needs the process-wide crypto
        // provider whichever test of the binary runs first; without it, `reqwest::get` panics
        // with "No provider set" when no device was made before it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let running = runtime.block_on(Server::start(config.clone())).unwrap();
        Node {
            domain: config.domain.clone(),
            client_addr: running.client_addr(),
            config,
            runtime: Some(runtime),
            running: Some(running),
        }
    }

    /// Shuts the server down (what it has stored stays).
    pub fn stop(&mut self) {
        if let (Some(runtime), Some(running)) = (self.runtime.take(), self.running.take()) {
            runtime.block_on(running.shutdown());
            runtime.shutdown_background();
        }
    }

    /// Starts it again from its files.
    pub fn restart(&mut self) {
        self.stop();
        *self = Self::start(self.config.clone());
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Writes and starts a federation of `domains` under `dir`.
pub fn federation(dir: &Path, domains: &[&str]) -> Vec<Node> {
    federation_with(dir, domains, |_, _| {})
}

/// Like [`federation`], with each configuration (by index) changed by `edit` before the start.
pub fn federation_with(
    dir: &Path,
    domains: &[&str],
    edit: impl Fn(usize, &mut Config),
) -> Vec<Node> {
    let placed: Vec<_> = domains
        .iter()
        .map(|d| (domain(d), free_addr(), free_addr()))
        .collect();
    let providers = init_dev_federation_at(dir, &placed).unwrap();
    providers
        .into_iter()
        .enumerate()
        .map(|(i, mut provider)| {
            edit(i, &mut provider.config);
            Node::start(provider.config)
        })
        .collect()
}

/// The environment variable naming the PostgreSQL server the PostgreSQL tests use.
pub const PG_URL_ENV: &str = "MIMI_TEST_DATABASE_URL";

/// A fresh database of its own on the test server (`MIMI_TEST_DATABASE_URL`), dropped with
/// [`PgDatabase::drop_now`]; `None`, after saying on stderr that `test` is skipped, without
/// the variable.
pub struct PgDatabase {
    admin: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create(test: &str) -> Option<Self> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let admin = match std::env::var(PG_URL_ENV) {
            Ok(url) if !url.is_empty() => url,
            _ => {
                eprintln!(
                    "SKIPPED {test}: {PG_URL_ENV} is not set; set it to run against a real \
                     PostgreSQL, e.g. {PG_URL_ENV}=postgres://postgres@127.0.0.1:5432/test"
                );
                return None;
            }
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!(
            "mimi_srv_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        pg_execute(&admin, &format!("CREATE DATABASE {name}")).await;
        let url = with_database(&admin, &name);
        Some(Self { admin, name, url })
    }

    /// Drops the database, closing every connection to it.
    pub async fn drop_now(&self) {
        pg_execute(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        )
        .await;
    }
}

/// `url` with its database replaced by `name` (query parameters kept).
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let scheme_end = base.find("://").unwrap() + 3;
    let authority_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |slash| scheme_end + slash);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Runs one statement on a connection of its own.
pub async fn pg_execute(url: &str, statement: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|err| panic!("cannot connect to {PG_URL_ENV}: {err}"));
    sqlx::raw_sql(statement)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|err| panic!("{statement}: {err}"));
    conn.close().await.unwrap();
}

/// Logs to the test output when `RUST_LOG` is set.
pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A federation client speaking as `from` to `to`.
pub fn client_as(from: &Config, to: &Config) -> FederationClient {
    let identity =
        TlsIdentity::from_pem_files(&from.resolve(&from.tls.cert), &from.resolve(&from.tls.key))
            .unwrap();
    let mut trust = TrustStore::new();
    trust
        .pin_pem(
            to.domain.clone(),
            &std::fs::read(to.resolve(&to.tls.ca_cert)).unwrap(),
        )
        .unwrap();
    let mut peers = PeerTable::new();
    peers.insert(to.domain.clone(), to.federation_listen);
    FederationClient::new(from.domain.clone(), identity, trust, peers)
}
