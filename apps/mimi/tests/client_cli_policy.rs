//! Issue 18, policy commands and ways in, through the CLI as separate processes against three
//! `mimi serve` processes: `room create --grant --discoverable`, `room policy` (show and
//! set), `room roles`, `room preauth add|list|remove`, `room join` by preauthorization and
//! `room directory`, `send --topic`, the asset policy's sizes, media types, upload location
//! and domains, the link preview policy; a rogue member's policy changes, topic start and a
//! stranger's join refused, each followed by a message that still arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::path::{Path, PathBuf};

use cli::{eventually, json, ok, refused, start, texts};

const ROOM: &str = "mimi://x.example/r/club";

fn sentinel(alice: &Path, bob: &Path, text: &str) {
    cli::sentinel(alice, bob, ROOM, text);
}

#[test]
fn policy_roles_preauth_and_directory_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (_servers, urls) = start(&dir.path().join("servers"));
    let profile = |name: &str| -> PathBuf { dir.path().join("profiles").join(name) };
    let (alice, xena, bob, carol) = (
        profile("alice"),
        profile("xena"),
        profile("bob"),
        profile("carol"),
    );
    for (p, url, name) in [
        (&alice, &urls[0], "alice"),
        (&xena, &urls[0], "xena"),
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
            "--name",
            "Chess club",
            "--grant",
            "super_admin=canChangeRoleDefinitions",
            "--grant",
            "ordinary_user=canJoinIfPreauthorized",
            "--discoverable",
        ],
    );
    refused(
        &alice,
        &["room", "create", "other", "--grant", "wizard=canKick"],
        "no role \"wizard\"",
    );

    // The directory of x.example lists the room for Xena; y.example's lists nothing.
    let found = json(&xena, &["room", "directory", "chess"]);
    assert_eq!(found["rooms"][0]["room"], ROOM, "{found}");
    assert_eq!(found["rooms"][0]["name"], "Chess club");
    assert!(
        json(&bob, &["room", "directory"])["rooms"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Preauthorize every user of y.example as an ordinary user; Bob joins without an invite.
    ok(
        &alice,
        &[
            "room",
            "preauth",
            "add",
            "club",
            "--provider",
            "y.example",
            "--role",
            "ordinary_user",
        ],
    );
    let listed = json(&alice, &["room", "preauth", "list", "club"]);
    let entry = listed["preauth"][0]["entry"].as_str().unwrap();
    assert!(entry.contains("issued by mimi://y.example"), "{listed}");
    assert_eq!(json(&bob, &["room", "join", ROOM])["ok"], "joined");
    sentinel(&alice, &bob, "welcome bob");

    // Carol (z.example) is not preauthorized and the room has no open join.
    refused(&carol, &["room", "join", ROOM], "NotAuthorized");
    sentinel(&alice, &bob, "after carol's attempt");

    // Policy: show, set, and a rogue member refused with the capability he lacks.
    ok(
        &alice,
        &["room", "policy", "club", "max-users=20", "multi-device=off"],
    );
    eventually("bob sees the new policy", || {
        let shown = json(&bob, &["room", "policy", "club"]);
        shown["policy"]["max-users"] == "20" && shown["policy"]["multi-device"] == "off"
    });
    refused(
        &bob,
        &["room", "policy", "club", "discoverable=off"],
        "canChangeRoomMembershipStyle",
    );
    refused(
        &alice,
        &["room", "policy", "club", "colour=blue"],
        "unknown policy key",
    );
    sentinel(&alice, &bob, "after bob's policy attempt");

    // Roles: Alice grants her role canChangeOtherPolicyAttribute, then sets a history policy.
    refused(
        &alice,
        &["room", "policy", "club", "history=forbidden"],
        "canChangeOtherPolicyAttribute",
    );
    ok(
        &alice,
        &[
            "room",
            "roles",
            "club",
            "super_admin",
            "--grant",
            "canChangeOtherPolicyAttribute",
        ],
    );
    let roles = json(&alice, &["room", "roles", "club"]);
    let admin = roles["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "super_admin")
        .unwrap();
    assert!(
        admin["capabilities"].as_array().unwrap().iter().any(|c| c
            .as_str()
            .unwrap()
            .contains("canChangeOtherPolicyAttribute")),
        "{roles}"
    );
    ok(
        &alice,
        &[
            "room",
            "policy",
            "club",
            "history=forbidden",
            "max-image=1000",
            "media-forbidden=application/x-msdownload",
        ],
    );
    eventually("bob sees the asset policy", || {
        let shown = json(&bob, &["room", "policy", "club"]);
        shown["policy"]["assets"].as_str().is_some_and(|a| {
            a.contains("max-image=1000") && a.contains("media-forbidden=application/x-msdownload")
        })
    });

    // Where attachments are stored and whether previews may be sent: Bob lacks the
    // capability for either; Alice sets both.
    refused(
        &bob,
        &["room", "policy", "club", "upload-domains=y.example"],
        "canChangeOtherPolicyAttribute",
    );
    refused(
        &bob,
        &["room", "policy", "club", "link-previews=forbidden"],
        "canChangeOtherPolicyAttribute",
    );
    refused(
        &alice,
        &["room", "policy", "club", "upload-location=moon"],
        "local-provider, hub or unspecified",
    );
    sentinel(&alice, &bob, "after bob's asset policy attempts");
    ok(
        &alice,
        &[
            "room",
            "policy",
            "club",
            "upload-location=local-provider",
            "upload-domains=x.example,y.example:y.example",
            "link-previews=forbidden",
        ],
    );
    eventually(
        "bob sees the upload domains and the link preview policy",
        || {
            let shown = json(&bob, &["room", "policy", "club"]);
            shown["policy"]["assets"].as_str().is_some_and(|a| {
                a.contains("upload-location=local-provider")
                    && a.contains("upload-domains=x.example:x.example,y.example:y.example")
            }) && shown["policy"]["link-previews"] == "forbidden"
        },
    );

    // Message expiration: a room that takes expiries of one minute to an hour refuses others
    // at the sender (`mimi send --expires-in`), and keeps what is within.
    ok(
        &alice,
        &[
            "room",
            "policy",
            "club",
            "expiration=optional",
            "expiration-min=60",
            "expiration-max=3600",
        ],
    );
    eventually("bob sees the expiration policy", || {
        json(&bob, &["room", "policy", "club"])["policy"]["expiration"]
            .as_str()
            .is_some_and(|e| e.contains("3600"))
    });
    refused(
        &bob,
        &["send", "club", "too short", "--expires-in", "10"],
        "allows 60 to 3600 s",
    );
    ok(
        &bob,
        &["send", "club", "ten minutes", "--expires-in", "600"],
    );
    // Topics: ordinary users may reply in a topic but not start one (`mimi send --topic`).
    ok(
        &alice,
        &[
            "room",
            "roles",
            "club",
            "ordinary_user",
            "--revoke",
            "canStartTopic",
        ],
    );
    eventually("bob's role loses canStartTopic", || {
        let roles = json(&bob, &["room", "roles", "club"]);
        roles["roles"].as_array().unwrap().iter().any(|r| {
            r["name"] == "ordinary_user" && !r["capabilities"].to_string().contains("canStartTopic")
        })
    });
    refused(
        &bob,
        &["send", "club", "a new thread", "--topic", "plans"],
        "canStartTopic",
    );
    ok(&alice, &["send", "club", "plans begin", "--topic", "plans"]);
    eventually("bob sees the topic", || {
        texts(&bob, ROOM).last().map(String::as_str) == Some("plans begin")
    });
    ok(&bob, &["send", "club", "in plans", "--topic", "plans"]);
    eventually("alice sees the reply in the topic", || {
        texts(&alice, ROOM).last().map(String::as_str) == Some("in plans")
    });
    refused(
        &bob,
        &[
            "room",
            "roles",
            "club",
            "ordinary_user",
            "--grant",
            "canKick",
        ],
        "canChangeRoleDefinitions",
    );
    sentinel(&alice, &bob, "after bob's role attempt");

    // Taken off the directory.
    ok(&alice, &["room", "policy", "club", "discoverable=off"]);
    assert!(
        json(&xena, &["room", "directory"])["rooms"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    ok(&alice, &["room", "preauth", "remove", "club", "0"]);
    assert!(
        json(&alice, &["room", "preauth", "list", "club"])["preauth"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}
