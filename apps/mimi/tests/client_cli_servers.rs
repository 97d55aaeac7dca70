//! Issue 18 item 3, capabilities per server, through the CLI as separate processes against
//! three `mimi serve` processes: `room servers list|deny|allow|mode` and the providers taking
//! part in `room info`; a rogue member's change, a deny of a provider whose user is in the
//! room, a deny of the hub and a denied provider's join refused, each followed by a sentinel
//! message that still arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::path::{Path, PathBuf};

use cli::{eventually, json, ok, refused, run, start};

const ROOM: &str = "mimi://x.example/r/club";

fn sentinel(alice: &Path, bob: &Path, text: &str) {
    cli::sentinel(alice, bob, ROOM, text);
}

/// (provider, capabilities, taking part) of each server `room servers list` shows.
fn servers(profile: &Path) -> (String, Vec<(String, String, bool)>) {
    let listed = json(profile, &["room", "servers", "list", "club"]);
    let s = &listed["servers"];
    let rows = s["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["provider"].as_str().unwrap().to_owned(),
                r["capabilities"].as_str().unwrap().to_owned(),
                r["taking_part"].as_bool().unwrap(),
            )
        })
        .collect();
    (s["mode"].as_str().unwrap().to_owned(), rows)
}

fn row(provider: &str, caps: &str, taking_part: bool) -> (String, String, bool) {
    (provider.to_owned(), caps.to_owned(), taking_part)
}

#[test]
fn servers_allow_deny_list_and_mode_through_the_cli() {
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
    ok(
        &alice,
        &[
            "room",
            "create",
            "club",
            "--grant",
            "ordinary_user=canJoinIfPreauthorized",
        ],
    );
    for provider in ["y.example", "z.example"] {
        ok(
            &alice,
            &[
                "room",
                "preauth",
                "add",
                "club",
                "--provider",
                provider,
                "--role",
                "ordinary_user",
            ],
        );
    }
    assert_eq!(json(&bob, &["room", "join", ROOM])["ok"], "joined");
    sentinel(&alice, &bob, "welcome bob");

    // Server-level membership in `room servers list` and `room info`.
    assert_eq!(
        servers(&alice),
        (
            "open".to_owned(),
            vec![
                row("x.example", "join,keymaterial,submit", true),
                row("y.example", "join,keymaterial,submit", true),
            ]
        )
    );
    let info = ok(&alice, &["room", "info", "club"]);
    assert!(info.contains("servers: x.example, y.example"), "{info}");

    // Alice keeps z.example out: Carol's preauthorized join is refused.
    ok(&alice, &["room", "servers", "deny", "club", "z.example"]);
    assert_eq!(
        servers(&alice).1,
        vec![
            row("x.example", "join,keymaterial,submit", true),
            row("y.example", "join,keymaterial,submit", true),
            row("z.example", "none", false),
        ]
    );
    refused(&carol, &["room", "join", ROOM], "NotAuthorized");
    sentinel(&alice, &bob, "after carol's attempt");

    // Bob (ordinary_user) may not change the list.
    refused(
        &bob,
        &["room", "servers", "allow", "club", "z.example"],
        "canChangeRoomMembershipStyle",
    );
    sentinel(&alice, &bob, "after bob's attempt");

    // y.example cannot be kept out while Bob is in the room; the hub cannot be denied.
    refused(
        &alice,
        &["room", "servers", "deny", "club", "y.example"],
        "remove or ban",
    );
    refused(
        &alice,
        &["room", "servers", "deny", "club", "x.example"],
        "hub",
    );
    refused(
        &alice,
        &[
            "room",
            "servers",
            "deny",
            "club",
            "y.example",
            "--only",
            "fly",
        ],
        "unknown server capability",
    );
    sentinel(&alice, &bob, "after alice's refused denies");

    // Read-only y.example: Bob's message is refused, he still reads Alice's.
    ok(
        &alice,
        &[
            "room",
            "servers",
            "deny",
            "club",
            "y.example",
            "--only",
            "submit",
        ],
    );
    eventually("bob sees y.example read-only", || {
        servers(&bob)
            .1
            .contains(&row("y.example", "join,keymaterial", true))
    });
    let out = run(&bob, &["send", ROOM, "from a read-only provider"]);
    assert!(!out.status.success(), "bob's send went through");
    sentinel(&alice, &bob, "bob still reads");

    // An allow-list lists the providers taking part, so nobody is shut out by the switch.
    ok(&alice, &["room", "servers", "mode", "club", "allow-list"]);
    let (mode, rows) = servers(&alice);
    assert_eq!(mode, "allow-list");
    assert_eq!(
        rows,
        vec![
            row("x.example", "join,keymaterial,submit", true),
            row("y.example", "join,keymaterial", true),
        ]
    );
    let info = ok(&alice, &["room", "info", "club"]);
    assert!(info.contains("access:  allow-list"), "{info}");
    ok(&alice, &["room", "servers", "allow", "club", "y.example"]);
    sentinel(&bob, &alice, "bob speaks again");
    refused(&carol, &["room", "join", ROOM], "NotAuthorized");
    sentinel(&alice, &bob, "after carol's second attempt");
}
