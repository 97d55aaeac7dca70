//! Issue 18, "every way in", through the CLI as separate processes against three `mimi serve`
//! processes: `mimi room link create|list|revoke` and `mimi room join <link>` across
//! providers, the used-up and revoked links refused, `mimi room knock` refused as the drafts
//! define no knock, and after each refusal a sentinel message that still arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::path::{Path, PathBuf};

use cli::{eventually, json, ok, refused, start};

const ROOM: &str = "mimi://x.example/r/club";

fn texts(profile: &Path) -> Vec<String> {
    cli::texts(profile, ROOM)
}

fn sentinel(alice: &Path, bob: &Path, text: &str) {
    cli::sentinel(alice, bob, ROOM, text);
}

#[test]
fn join_links_and_knocks_through_the_cli() {
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
    ok(&alice, &["room", "create", "club", "--preset", "strict"]);

    // A one-use link; Bob (y.example) joins by it.
    let made = json(&alice, &["room", "link", "create", "club", "--uses", "1"]);
    let link = made["link"].as_str().unwrap().to_owned();
    assert!(link.starts_with("mimi://x.example/r/club#join="), "{link}");
    let listed = json(&alice, &["room", "link", "list", "club"]);
    assert_eq!(listed["links"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["links"][0]["uses_left"], 1);
    let joined = json(&bob, &["room", "join", &link]);
    assert_eq!(joined["ok"], "joined");
    sentinel(&alice, &bob, "welcome bob");
    ok(&bob, &["send", ROOM, "thanks"]);
    eventually("bob's message", || {
        texts(&alice).contains(&"thanks".to_owned())
    });
    let listed = json(&alice, &["room", "link", "list", "club"]);
    assert!(listed["links"].as_array().unwrap().is_empty(), "{listed}");

    // Used up.
    refused(&carol, &["room", "join", &link], "NotAuthorized");
    sentinel(&alice, &bob, "after the used-up link");

    // Revoked.
    let made = json(&alice, &["room", "link", "create", "club", "--uses", "0"]);
    let revoked = made["link"].as_str().unwrap().to_owned();
    ok(&alice, &["room", "link", "revoke", "club", "0"]);
    refused(&carol, &["room", "join", &revoked], "NotAuthorized");
    sentinel(&alice, &bob, "after the revoked link");

    // Bob may not make links; a made-up link is refused; knocking is not in the drafts.
    refused(
        &bob,
        &["room", "link", "create", ROOM],
        "canChangeRoomMembershipStyle",
    );
    refused(
        &carol,
        &["room", "join", "mimi://x.example/r/club#join=00ff"],
        "NotAuthorized",
    );
    refused(&carol, &["room", "knock", ROOM], "define no knock");
    sentinel(&alice, &bob, "after the attempts");
    let rooms = json(&carol, &["room", "list"]);
    assert!(rooms.as_array().unwrap().is_empty(), "{rooms}");
}
