//! Issue 18, `mimi room destroy`, as separate processes against three `mimi serve` processes:
//! without `--yes` and without a confirmation nothing happens; a member without
//! `canDestroyRoom` is refused (a sentinel still arrives); the admin ends the room, `room info`
//! shows it ended at every member, and a later send is refused with a clear error.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::path::PathBuf;

use cli::{eventually, json, ok, refused, start};

const ROOM: &str = "mimi://x.example/r/club";

#[test]
fn room_destroy_through_the_cli() {
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
    ok(&alice, &["room", "create", "club"]);
    ok(
        &alice,
        &["room", "invite", "club", "bob@y.example", "carol@z.example"],
    );
    for p in [&bob, &carol] {
        eventually("the invitation", || {
            json(p, &["room", "list"])
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["room"] == ROOM && r["active"] == true)
        });
    }

    // Not confirmed (no terminal answers): nothing happens.
    refused(&alice, &["room", "destroy", "club"], "--yes");
    // Bob (ordinary_user) may not end the room.
    refused(&bob, &["room", "destroy", ROOM, "--yes"], "canDestroyRoom");
    cli::sentinel(&bob, &carol, ROOM, "still open");
    assert!(json(&alice, &["room", "info", "club"])["ended_by"].is_null());

    // Alice ends it; every member's `room info` says so.
    let done = json(&alice, &["room", "destroy", "club", "--yes"]);
    assert!(done["ok"].as_str().unwrap().contains("ended"), "{done}");
    for p in [&alice, &bob, &carol] {
        eventually("the end at every member", || {
            json(p, &["room", "info", ROOM])["ended_by"] == "mimi://x.example/u/alice"
        });
    }
    let info = ok(&carol, &["room", "info", ROOM]);
    assert!(
        info.contains("ended:   by mimi://x.example/u/alice"),
        "{info}"
    );
    // A later send is refused by the sender's client, naming the end.
    refused(&carol, &["send", ROOM, "too late"], "ended");
}
