//! Issue 18 item 7, direct messages through the CLI as separate processes against three
//! `mimi serve` processes: `mimi dm user@domain TEXT` creates the pair's room and sends,
//! `room list` and `room info` say with whom, a second `mimi dm` (from either user) returns the
//! same room, and a rogue member's attempts to add a third user or remove the other are
//! refused, each followed by a sentinel message that still arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::path::{Path, PathBuf};

use cli::{eventually, json, ok, refused, start};
use serde_json::Value;

/// The JSON lines `mimi dm ... --json` prints.
fn dm(profile: &Path, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["dm"];
    all.extend_from_slice(args);
    all.push("--json");
    ok(profile, &all)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn direct_messages_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (_servers, urls) = start(&dir.path().join("servers"));
    let profile = |name: &str| -> PathBuf { dir.path().join("profiles").join(name) };
    let (alice, bob, carol) = (profile("alice"), profile("bob"), profile("carol"));
    for (p, url, name) in [
        (&alice, &urls[0], "alice"),
        (&bob, &urls[1], "bob"),
        (&carol, &urls[2], "carol"),
    ] {
        ok(p, &["account", "register", "--server", url, "--user", name]);
    }

    let out = dm(&alice, &["bob@y.example", "hello bob"]);
    assert_eq!(out[0]["ok"], "direct message", "{out:?}");
    assert_eq!(out[0]["with"], "mimi://y.example/u/bob");
    let room = out[0]["room"].as_str().unwrap().to_owned();
    assert!(room.starts_with("mimi://x.example/r/dm-"), "{room}");
    assert_eq!(out[1]["ok"], "sent");
    eventually("bob gets the message", || {
        cli::texts(&bob, &room) == ["hello bob"]
    });

    // Both users' room lists and infos say it is a direct message, and with whom.
    let listed = json(&bob, &["room", "list"]);
    assert_eq!(listed[0]["room"], room.as_str(), "{listed}");
    assert_eq!(listed[0]["direct_with"], "mimi://x.example/u/alice");
    let info = json(&alice, &["room", "info", &room]);
    assert_eq!(info["direct_with"], "mimi://y.example/u/bob", "{info}");
    assert!(ok(&alice, &["room", "info", &room]).contains("a direct message with"));

    // At most one per pair: again from Alice, and Bob's `mimi dm alice` (with a reply).
    assert_eq!(dm(&alice, &["bob@y.example"])[0]["room"], room.as_str());
    let back = dm(&bob, &["alice@x.example", "hi alice"]);
    assert_eq!(back[0]["room"], room.as_str(), "{back:?}");
    eventually("alice gets the reply", || {
        cli::texts(&alice, &room).last().map(String::as_str) == Some("hi alice")
    });

    // A rogue member: Bob cannot add Carol or remove Alice; the room goes on.
    refused(
        &bob,
        &["room", "invite", &room, "carol@z.example"],
        "fixed membership",
    );
    cli::sentinel(&alice, &bob, &room, "after bob's invite");
    refused(
        &bob,
        &["room", "remove", &room, "alice@x.example"],
        "fixed membership",
    );
    refused(
        &alice,
        &["room", "policy", &room, "persistent=off"],
        "canChangeRoomMembershipStyle",
    );
    refused(&bob, &["room", "leave", &room], "fixed membership");
    cli::sentinel(&bob, &alice, &room, "after the attempts");
    assert!(
        json(&carol, &["room", "list"])
            .as_array()
            .unwrap()
            .is_empty()
    );
    // Nobody messages themselves privately.
    refused(&alice, &["dm", "alice@x.example"], "another user");
}
