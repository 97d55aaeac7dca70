//! Helpers of the CLI end-to-end tests: three `mimi serve` processes, the `mimi` binary run as
//! separate processes with a profile each.

#![allow(dead_code, unreachable_pub)]

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use mimi_server::local::{LocalOptions, write_federation};
use mimi_types::Domain;
use serde_json::Value;

/// The servers, killed when dropped.
pub struct Servers(pub Vec<Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn mimi() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mimi"))
}

pub fn run(profile: &Path, args: &[&str]) -> Output {
    mimi()
        .args(args)
        .arg("--profile")
        .arg(profile)
        .env("MIMI_PASSWORD", "correct-horse")
        .output()
        .unwrap()
}

pub fn ok(profile: &Path, args: &[&str]) -> String {
    let out = run(profile, args);
    assert!(
        out.status.success(),
        "mimi {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn json(profile: &Path, args: &[&str]) -> Value {
    let mut args = args.to_vec();
    args.push("--json");
    serde_json::from_str(ok(profile, &args).trim()).unwrap()
}

/// (text or `<deleted>`, edits, reaction count) of each message `profile`'s device shows.
pub fn shown(profile: &Path, room: &str) -> Vec<(String, u64, usize)> {
    let h = json(profile, &["history", room]);
    h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let text = if m["deleted"].as_bool().unwrap() {
                "<deleted>".to_owned()
            } else {
                m["text"].as_str().unwrap().to_owned()
            };
            let reactions = m["reactions"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_array().unwrap().len())
                .sum();
            (text, m["edits"].as_u64().unwrap(), reactions)
        })
        .collect()
}

/// The texts of the messages `profile`'s device shows in `room` (empty for deleted ones).
pub fn texts(profile: &Path, room: &str) -> Vec<String> {
    json(profile, &["history", room])["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Runs `mimi args` expecting it to fail with `expected` in its standard error.
pub fn refused(profile: &Path, args: &[&str], expected: &str) {
    let out = run(profile, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "mimi {args:?} succeeded");
    assert!(stderr.contains(expected), "mimi {args:?}: {stderr}");
}

/// `from` sends `text` to `room`; waits until it is the last message `to` shows there.
pub fn sentinel(from: &Path, to: &Path, room: &str, text: &str) {
    ok(from, &["send", room, text]);
    eventually(text, || {
        texts(to, room).last().map(String::as_str) == Some(text)
    });
}

pub fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub fn start(dir: &Path) -> (Servers, Vec<String>) {
    let domains = ["x.example", "y.example", "z.example"].map(|d| Domain::parse(d).unwrap());
    let providers = write_federation(dir, &LocalOptions::new(domains)).unwrap();
    let mut children = Vec::new();
    for p in &providers {
        children.push(
            mimi()
                .args(["serve", "--config"])
                .arg(&p.config_path)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    let servers = Servers(children);
    let urls = providers
        .iter()
        .map(|p| {
            let addr = p.config.client_listen;
            eventually("a server to listen", || TcpStream::connect(addr).is_ok());
            format!("http://{addr}")
        })
        .collect();
    (servers, urls)
}
