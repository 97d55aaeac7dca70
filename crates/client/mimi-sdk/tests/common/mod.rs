//! Three real providers on 127.0.0.1 (own runtimes, SQLite files, certificates, mutual TLS
//! between them) and helpers that drive SDK devices against them.

#![allow(dead_code, unreachable_pub)]

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::time::Duration;

use mimi_sdk::{Credentials, Device};
use mimi_server::{Config, DevProvider, RunningServer, Server, init_dev_federation_at};
use mimi_types::{Domain, RoomUri};
use tokio::runtime::Runtime;

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
    /// `https://…` when the provider serves the client API over TLS (`[client_tls]`).
    pub fn base_url(&self) -> String {
        let scheme = if self.config.client_tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.client_addr)
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

    pub fn stop(&mut self) {
        if let (Some(runtime), Some(running)) = (self.runtime.take(), self.running.take()) {
            runtime.block_on(running.shutdown());
            runtime.shutdown_background();
        }
    }
}

impl Node {
    /// Starts it again from its files, on the same addresses.
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

/// Like [`federation`], with each provider (by index) changed by `edit` before the start.
pub fn federation_with(
    dir: &Path,
    domains: &[&str],
    edit: impl Fn(usize, &mut DevProvider),
) -> Vec<Node> {
    let placed: Vec<_> = domains
        .iter()
        .map(|d| (Domain::parse(d).unwrap(), free_addr(), free_addr()))
        .collect();
    init_dev_federation_at(dir, &placed)
        .unwrap()
        .into_iter()
        .enumerate()
        .map(|(i, mut provider)| {
            edit(i, &mut provider);
            Node::start(provider.config)
        })
        .collect()
}

/// Registers `user` on `node` (account and one device `phone`) in `profile`.
pub async fn user(node: &Node, profile: &Path, user: &str) -> Device {
    user_pinned(node, None, profile, user).await
}

/// [`user`] pinning `server_cert` (PEM) for the provider's client API.
pub async fn user_pinned(
    node: &Node,
    server_cert: Option<&str>,
    profile: &Path,
    user: &str,
) -> Device {
    let password = format!("{user}-password");
    Device::register_account_pinned(&node.base_url(), server_cert, user, &password)
        .await
        .unwrap();
    Device::register_device(
        profile,
        &Credentials {
            server: node.base_url(),
            user_id: user.into(),
            password,
            device_id: "phone".into(),
            server_cert: server_cert.map(str::to_owned),
        },
    )
    .await
    .unwrap()
}

/// Syncs every device until `done` holds, for at most 30 s.
pub async fn settle(devices: &mut [&mut Device], done: impl Fn(&[&mut Device]) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if done(devices) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the devices did not settle: {:#?}",
            devices
                .iter()
                .map(|d| (d.client_uri().to_string(), d.cursor()))
                .collect::<Vec<_>>()
        );
        for device in devices.iter_mut() {
            device.sync(50).await.unwrap();
        }
    }
}

/// Whether the device is an active member of `room`.
pub fn member(device: &Device, room: &RoomUri) -> bool {
    device.engine().room(room).is_some_and(|v| v.is_active())
}

/// The texts `device` shows in `room` (deleted ones as `<deleted>`).
pub fn texts(device: &Device, room: &RoomUri) -> Vec<String> {
    device
        .engine()
        .room(room)
        .map(|v| {
            v.messages()
                .iter()
                .map(|m| {
                    if m.deleted {
                        "<deleted>".to_owned()
                    } else {
                        m.body.text.clone()
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}
