//! History for a new member through the CLI (issue 18, CAPABILITIES.md gap 3), as separate
//! processes against `mimi serve` processes: Bob (another provider) asks for the history of
//! Alice's room (`room history request`), which shares only once a member agrees; nothing
//! arrives until Alice runs `room share-history`. Refused: Bob's agreement (his role may not
//! share) and his request in a room that forbids sharing; a sentinel message then still
//! arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::path::PathBuf;

use cli::{eventually, json, ok, refused, sentinel, start, texts};

#[test]
fn history_reaches_a_new_member_once_a_sharer_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let (_servers, urls) = start(&dir.path().join("servers"));
    let profile = |name: &str| -> PathBuf { dir.path().join("profiles").join(name) };
    let (alice, bob) = (profile("alice"), profile("bob"));
    for (p, url, name) in [(&alice, &urls[0], "alice"), (&bob, &urls[1], "bob")] {
        ok(p, &["account", "register", "--server", url, "--user", name]);
    }
    for room in ["club", "closed"] {
        ok(
            &alice,
            &[
                "room",
                "create",
                room,
                "--grant",
                "super_admin=canChangeOtherPolicyAttribute",
            ],
        );
    }
    // Only Alice's role (super_admin, 4) may share, and not on its own.
    ok(
        &alice,
        &[
            "room",
            "policy",
            "club",
            "history=optional",
            "history-roles=4",
            "history-auto=off",
        ],
    );
    ok(&alice, &["room", "policy", "closed", "history=forbidden"]);
    for i in 0..2 {
        ok(&alice, &["send", "club", &format!("before bob {i}")]);
    }
    for room in ["club", "closed"] {
        ok(&alice, &["room", "invite", room, "bob@y.example"]);
    }
    let club = "mimi://x.example/r/club";
    let closed = "mimi://x.example/r/closed";
    sentinel(&alice, &bob, club, "welcome bob");
    assert_eq!(texts(&bob, club), ["welcome bob"]);

    ok(&bob, &["room", "history", "request", club]);
    // Alice's device keeps the request; nothing reaches Bob before she agrees.
    ok(&alice, &["room", "info", "club"]);
    assert_eq!(texts(&bob, club), ["welcome bob"]);
    let shared = json(&alice, &["room", "share-history", "club", "bob@y.example"]);
    assert_eq!(shared["answered"], 1, "{shared}");
    eventually("bob gets the history", || {
        texts(&bob, club) == ["before bob 0", "before bob 1", "welcome bob"]
    });

    // Bob's role may not share; the closed room forbids sharing.
    refused(
        &bob,
        &["room", "share-history", club, "alice@x.example"],
        "not among the roles that may share history",
    );
    refused(
        &bob,
        &["room", "history", "request", closed],
        "forbids sharing",
    );
    sentinel(&alice, &bob, club, "after the refusals");
}
