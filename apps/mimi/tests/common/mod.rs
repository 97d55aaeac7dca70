//! What the tests that run real `mimi serve` processes share: processes that can be killed
//! and started again, SDK devices, metrics scrapes, and waiting for devices to settle.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mimi_sdk::{Credentials, Device};
use mimi_types::RoomUri;

pub fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One `mimi serve` process, started again from the same configuration after each kill.
pub struct Proc {
    pub config: PathBuf,
    pub client_addr: SocketAddr,
    pub log: PathBuf,
    pub child: Option<Child>,
}

impl Proc {
    pub fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_mimi"))
            .args(["serve", "--config"])
            .arg(&self.config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
    }

    /// SIGKILL, then reap.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(self.client_addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "{} did not listen",
                self.config.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

pub async fn device(url: &str, profile: &Path, user: &str) -> Device {
    let password = format!("{user}-password");
    Device::register_account(url, user, &password)
        .await
        .unwrap();
    Device::register_device(
        profile,
        &Credentials {
            server: url.to_owned(),
            user_id: user.into(),
            password,
            device_id: "phone".into(),
            server_cert: None,
        },
    )
    .await
    .unwrap()
}

/// `GET /metrics` over a plain socket: sample name → value.
pub fn scrape(addr: SocketAddr) -> BTreeMap<String, f64> {
    use std::io::{Read as _, Write as _};
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

pub fn texts(device: &Device, room: &RoomUri) -> Vec<String> {
    device
        .engine()
        .room(room)
        .map(|v| v.messages().iter().map(|m| m.body.text.clone()).collect())
        .unwrap_or_default()
}

pub fn member(device: &Device, room: &RoomUri) -> bool {
    device.engine().room(room).is_some_and(|v| v.is_active())
}

/// Syncs every device until `done` holds for all, within `limit`; errors (a provider down)
/// are retried.
pub async fn settle(
    devices: &mut [Device],
    limit: Duration,
    done: impl Fn(&Device) -> bool,
) -> Result<Duration, String> {
    let started = Instant::now();
    loop {
        if devices.iter().all(&done) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > limit {
            return Err(devices
                .iter()
                .map(|d| format!("{} at cursor {}", d.client_uri(), d.cursor()))
                .collect::<Vec<_>>()
                .join(", "));
        }
        for d in devices.iter_mut() {
            if let Err(e) = d.sync(50).await {
                eprintln!("sync of {}: {e}", d.client_uri());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}
