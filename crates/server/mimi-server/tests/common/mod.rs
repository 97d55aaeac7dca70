//! Three real providers on 127.0.0.1, each in its own Tokio runtime with its own SQLite files
//! and certificates, and devices that speak the client API with real MLS.

#![allow(dead_code, unreachable_pub)]

pub mod device;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;

use mimi_server::{Config, RunningServer, Server, init_dev_federation_at};
use mimi_types::Domain;
use tokio::runtime::Runtime;

pub fn domain(s: &str) -> Domain {
    Domain::parse(s).unwrap()
}

fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
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
    let placed: Vec<_> = domains
        .iter()
        .map(|d| (domain(d), free_addr(), free_addr()))
        .collect();
    let providers = init_dev_federation_at(dir, &placed).unwrap();
    providers
        .into_iter()
        .map(|provider| Node::start(provider.config))
        .collect()
}

/// Logs to the test output when `RUST_LOG` is set.
pub fn logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}
