//! Receipts as separate `mimi` processes against `mimi serve` processes: Bob's device reports
//! delivery when it syncs (Alice's `history` shows `✓`), `mimi read` sends his read receipt
//! (`✓✓`), and with `mimi settings receipts off` Carol's `read` sends nothing while her
//! delivery reports go on; a sentinel message still reaches everyone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::path::{Path, PathBuf};

use cli::{eventually, json, ok, start};
use serde_json::Value;

/// The JSON of `profile`'s message with text `text` in `club`.
fn message(profile: &Path, text: &str) -> Value {
    json(profile, &["history", "club"])["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["text"] == text)
        .cloned()
        .unwrap_or(Value::Null)
}

fn users(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|u| u.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

#[test]
fn history_marks_delivered_and_read_and_the_read_receipt_setting_holds() {
    let dir = tempfile::tempdir().unwrap();
    let (_servers, urls) = start(&dir.path().join("servers"));
    let profile = |name: &str| -> PathBuf { dir.path().join("profiles").join(name) };
    let (alice, bob, carol) = (profile("alice"), profile("bob"), profile("carol"));
    for (p, url, user) in [
        (&alice, &urls[0], "alice"),
        (&bob, &urls[1], "bob"),
        (&carol, &urls[2], "carol"),
    ] {
        json(p, &["account", "register", "--server", url, "--user", user]);
    }
    let settings = json(&carol, &["settings", "receipts", "off"]);
    assert_eq!(settings["read_receipts"], false);
    assert_eq!(settings["delivery_reports"], true);
    let shown = ok(&carol, &["settings", "show"]);
    assert!(shown.contains("read receipts: off"), "{shown}");

    ok(&alice, &["room", "create", "club"]);
    ok(
        &alice,
        &["room", "invite", "club", "bob@y.example", "carol@z.example"],
    );
    for p in [&bob, &carol] {
        eventually("bob and carol in the club", || {
            json(p, &["room", "list"])
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["room"] == "mimi://x.example/r/club" && r["active"] == true)
        });
    }
    ok(&alice, &["send", "club", "hello"]);
    let (b, c) = ("mimi://y.example/u/bob", "mimi://z.example/u/carol");

    // Bob and Carol look at the room: their devices report delivery.
    eventually("delivered to bob and carol", || {
        for p in [&bob, &carol] {
            ok(p, &["history", "club"]);
        }
        users(&message(&alice, "hello")["delivered_to"]) == [b, c]
    });
    let text = ok(&alice, &["history", "club"]);
    let line = text.lines().find(|l| l.contains("hello")).unwrap();
    assert!(line.ends_with("hello  ✓"), "{text}");

    // Carol reads with read receipts off: nothing sent. Bob reads: read by Bob only.
    let read = json(&carol, &["read", "club"]);
    assert_eq!(read["messages"], 0, "{read}");
    let read = json(&bob, &["read", "club"]);
    assert_eq!(read["ok"], "marked read");
    assert_eq!(read["messages"], 1);
    eventually("read by bob", || {
        users(&message(&alice, "hello")["read_by"]) == [b]
    });
    let text = ok(&alice, &["history", "club"]);
    let line = text.lines().find(|l| l.contains("hello")).unwrap();
    assert!(line.ends_with("hello  ✓"), "not read by all: {text}");

    // Carol turns them back on and reads: read by all.
    json(&carol, &["settings", "receipts", "on"]);
    assert_eq!(json(&carol, &["read", "club"])["messages"], 1);
    eventually("read by all", || {
        ok(&alice, &["history", "club"])
            .lines()
            .any(|l| l.ends_with("hello  ✓✓"))
    });

    // A sentinel still reaches everyone, and no receipt shows as a message.
    ok(&bob, &["send", "club", "sentinel"]);
    for p in [&alice, &bob, &carol] {
        eventually("the sentinel", || {
            let texts: Vec<Value> = json(p, &["history", "club"])["messages"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["text"].clone())
                .collect();
            texts == ["hello", "sentinel"]
        });
    }
}
