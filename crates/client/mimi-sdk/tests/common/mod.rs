//! Three real providers on 127.0.0.1 (own runtimes, SQLite files, certificates, mutual TLS
//! between them) and helpers that drive SDK devices against them.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use mimi_sdk::{Credentials, Device};
use mimi_server::DevProvider;
use mimi_server::local::{LocalFederation, LocalOptions, LocalProvider};
use mimi_types::{Domain, RoomUri};

/// One provider process-alike: its own runtime (`mimi_server::local`).
pub type Node = LocalProvider;

/// Writes and starts a federation of `domains` under `dir`.
pub fn federation(dir: &Path, domains: &[&str]) -> Vec<Node> {
    federation_with(dir, domains, |_, _| {})
}

/// Like [`federation`], with each provider (by index) changed by `edit` before the start.
pub fn federation_with(
    dir: &Path,
    domains: &[&str],
    edit: impl Fn(usize, &mut DevProvider) + Send + Sync,
) -> Vec<Node> {
    let options =
        LocalOptions::new(domains.iter().map(|d| Domain::parse(d).unwrap())).configure(edit);
    LocalFederation::start(dir, &options)
        .unwrap()
        .into_providers()
}

/// The three providers most tests run: the hub's and two followers.
pub const THREE: [&str; 3] = ["x.example", "y.example", "z.example"];

/// A test's providers, started in a temporary directory of their own, and the runtime its
/// devices run on (the preamble every federation test shares).
pub struct Providers {
    /// The runtime the test's devices run on (`block_on`).
    pub runtime: tokio::runtime::Runtime,
    /// Where the devices' profiles go.
    pub profiles: PathBuf,
    /// Where the providers keep their files (one directory per domain).
    pub servers: PathBuf,
    /// The providers, in the order of their domains.
    pub nodes: Vec<Node>,
    /// Removed last, once the providers have stopped.
    _dir: tempfile::TempDir,
}

/// Starts a federation of `domains` in a fresh temporary directory, with a runtime for the
/// test's devices.
pub fn providers(domains: &[&str]) -> Providers {
    let dir = tempfile::tempdir().unwrap();
    let servers = dir.path().join("servers");
    let nodes = federation(&servers, domains);
    Providers {
        runtime: tokio::runtime::Runtime::new().unwrap(),
        profiles: dir.path().join("profiles"),
        servers,
        nodes,
        _dir: dir,
    }
}

/// Alice, Bob and Carol: one user (and device `phone`) on each of the first three providers.
pub async fn alice_bob_carol(p: &Providers) -> (Device, Device, Device) {
    (
        user(&p.nodes[0], &p.profiles.join("alice"), "alice").await,
        user(&p.nodes[1], &p.profiles.join("bob"), "bob").await,
        user(&p.nodes[2], &p.profiles.join("carol"), "carol").await,
    )
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
