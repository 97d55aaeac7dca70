//! Three real providers on 127.0.0.1, each in its own Tokio runtime with its own SQLite files
//! and certificates, and devices that speak the client API with real MLS.

#![allow(dead_code, unreachable_pub)]

pub mod device;
pub mod metrics;
pub mod ws;

use std::path::Path;

use mimi_server::Config;
use mimi_server::local::{LocalFederation, LocalOptions, LocalProvider};
use mimi_transport::client::FederationClient;
use mimi_types::Domain;

pub fn domain(s: &str) -> Domain {
    Domain::parse(s).unwrap()
}

/// One provider process-alike: its own runtime (`mimi_server::local`).
pub type Node = LocalProvider;

/// The rogue tests' cast, one user per provider of `nodes` (at least three): Alice's phone on
/// the first (the hub of the rooms she creates), Mallory's laptop on the second, Carol's
/// tablet on the third, with `key_packages` KeyPackages each.
pub async fn alice_mallory_carol(nodes: &[Node], key_packages: [usize; 3]) -> [device::Device; 3] {
    let cast = [
        ("alice", "phone"),
        ("mallory", "laptop"),
        ("carol", "tablet"),
    ];
    let mut devices = Vec::new();
    for (i, (user, device)) in cast.into_iter().enumerate() {
        let api = device::Api::new(nodes[i].base_url());
        devices.push(device::Device::new_user(&api, user, device, key_packages[i]).await);
    }
    let Ok(devices) = <[device::Device; 3]>::try_from(devices) else {
        unreachable!("three devices were registered");
    };
    devices
}

/// The rogue tests' sentinel: `devices[0]` sends `text` in `room` (the hub accepts it), every
/// device settles until its timeline shows it, and no device has a failure.
pub async fn sentinel(devices: &mut [&mut device::Device], room: &mimi_types::RoomUri, text: &str) {
    let sent = devices[0].send(room, text).await;
    assert!(
        matches!(
            sent,
            Ok(mimi_federation_api::submit_message::SubmitOutcome::Accepted { .. })
        ),
        "the sentinel {text:?}: {sent:?}"
    );
    device::settle(devices, |d| {
        d.iter().all(|d| d.texts(room).iter().any(|t| t == text))
    })
    .await;
    for device in devices.iter() {
        assert_eq!(
            device.failures(),
            Vec::<String>::new(),
            "{} after the sentinel {text:?}",
            device.client()
        );
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
    edit: impl Fn(usize, &mut Config) + Send + Sync,
) -> Vec<Node> {
    // A test's own HTTP client (reqwest over rustls) needs the process-wide crypto
    // provider whichever test of the binary runs first; without it, `reqwest::get` panics
    // with "No provider set" when no device was made before it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = LocalOptions::new(domains.iter().map(|d| domain(d)))
        .configure(move |i, provider| edit(i, &mut provider.config));
    LocalFederation::start(dir, &options)
        .unwrap()
        .into_providers()
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
    mimi_server::local::federation_client_as(from, to).unwrap()
}
