//! A `mimi listen` process SIGKILLed while messages keep arriving, then restarted with the last
//! message it showed (`--since`): across both runs every message shows exactly once, in order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use cli::{eventually, json, ok, start};
use serde_json::Value;

const MESSAGES: usize = 24;

/// The IDs of the messages a listener printed to `file` (complete JSON lines only).
fn shown_ids(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "message")
        .map(|v| v["detail"]["id"].as_str().unwrap().to_owned())
        .collect()
}

fn listener(profile: &Path, since: &str, out: &Path) -> Child {
    cli::mimi()
        .args([
            "listen",
            "--json",
            "--for",
            "120",
            "--since",
            since,
            "--profile",
        ])
        .arg(profile)
        .stdout(Stdio::from(std::fs::File::create(out).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_killed_listener_resumes_without_loss_or_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let (_servers, urls) = start(&dir.path().join("servers"));
    let alice = dir.path().join("profiles").join("alice");
    let bob = dir.path().join("profiles").join("bob");
    ok(
        &alice,
        &[
            "account", "register", "--server", &urls[0], "--user", "alice",
        ],
    );
    ok(
        &bob,
        &["account", "register", "--server", &urls[1], "--user", "bob"],
    );
    let room = "mimi://x.example/r/live";
    ok(&alice, &["room", "create", "live"]);
    ok(&alice, &["room", "invite", "live", "bob@y.example"]);
    eventually("the invitation", || {
        json(&bob, &["room", "list"])
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["room"] == room && r["active"] == true)
    });
    let first = json(&bob, &["send", "live", "start"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("the first message at alice", || {
        json(&alice, &["history", room])["messages"]
            .as_array()
            .unwrap()
            .len()
            == 1
    });

    let run1 = dir.path().join("run1.jsonl");
    let mut listening = listener(&alice, &first, &run1);
    let sender = {
        let bob = bob.clone();
        std::thread::spawn(move || {
            (0..MESSAGES)
                .map(|i| {
                    json(&bob, &["send", "live", &format!("message {i}")])["id"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                })
                .collect::<Vec<String>>()
        })
    };

    // Killed (SIGKILL) once it has shown a few, while Bob keeps sending.
    let deadline = Instant::now() + Duration::from_secs(60);
    while shown_ids(&run1).len() < 4 {
        assert!(Instant::now() < deadline, "the listener showed nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    listening.kill().unwrap();
    listening.wait().unwrap();
    let before = shown_ids(&run1);
    let last = before.last().unwrap().clone();

    let run2 = dir.path().join("run2.jsonl");
    let mut listening = listener(&alice, &last, &run2);
    let sent = sender.join().unwrap();
    assert!(
        before.len() < sent.len(),
        "the listener was killed mid-conversation ({} of {} shown)",
        before.len(),
        sent.len()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while before.len() + shown_ids(&run2).len() < sent.len() {
        assert!(
            Instant::now() < deadline,
            "the restarted listener did not show everything: {:?} then {:?}",
            before,
            shown_ids(&run2)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // A moment more: anything shown twice would show now.
    std::thread::sleep(Duration::from_millis(500));
    listening.kill().unwrap();
    listening.wait().unwrap();
    let mut all = before;
    all.extend(shown_ids(&run2));
    assert_eq!(all, sent, "every message once, in order, across the kill");
}
