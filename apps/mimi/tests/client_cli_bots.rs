//! Issue 18, logging and bot policy through the CLI as separate processes against three
//! `mimi serve` processes: devices registered with `account register --logger` and `--bot
//! NAME --homepage URI`; `room policy logging=forbidden` refuses the logger; `room bots
//! add|list|remove` admits only the listed bot, with its role; a rogue member's bot listing is
//! refused with the capability he lacks; `room bots clear` removes the bot policy (only an
//! admin may), after which a bot the list refused gets in as any client. Each refusal is
//! followed by a message that still arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::path::PathBuf;

use cli::{json, ok, refused, sentinel, start};

const ROOM: &str = "mimi://x.example/r/club";
const HOMEPAGE: &str = "https://bots.example/standup";

#[test]
fn logging_and_bot_policy_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (_servers, urls) = start(&dir.path().join("servers"));
    let profile = |name: &str| -> PathBuf { dir.path().join("profiles").join(name) };
    let (alice, bob, lou, standup, poller) = (
        profile("alice"),
        profile("bob"),
        profile("lou"),
        profile("standup"),
        profile("poller"),
    );
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
    let z = urls[2].as_str();
    ok(
        &lou,
        &[
            "account", "register", "--server", z, "--user", "lou", "--logger",
        ],
    );
    for (p, user, name) in [
        (&standup, "standup", "Standup"),
        (&poller, "poller", "Poller"),
    ] {
        ok(
            p,
            &[
                "account",
                "register",
                "--server",
                z,
                "--user",
                user,
                "--bot",
                name,
                "--homepage",
                HOMEPAGE,
            ],
        );
    }
    ok(
        &alice,
        &[
            "room",
            "create",
            "club",
            "--grant",
            "super_admin=canChangeOtherPolicyAttribute",
        ],
    );
    ok(&alice, &["room", "invite", "club", "bob@y.example"]);
    sentinel(&alice, &bob, ROOM, "welcome bob");

    // A room that forbids logging refuses the logger.
    ok(&alice, &["room", "policy", "club", "logging=forbidden"]);
    refused(
        &alice,
        &["room", "invite", "club", "lou@z.example"],
        "forbids logging",
    );
    sentinel(&alice, &bob, ROOM, "no logger");

    // Bots: listed by an admin only, admitted only when listed, with the listed role.
    let add = [
        "room",
        "bots",
        "add",
        "club",
        "Standup",
        HOMEPAGE,
        "--role",
        "group_admin",
    ];
    refused(&bob, &add, "canChangeOtherPolicyAttribute");
    sentinel(&alice, &bob, ROOM, "after bob's attempt");
    assert_eq!(
        json(&alice, &["room", "bots", "list", "club"])["bots"],
        "any"
    );
    ok(&alice, &add);
    let listed = json(&alice, &["room", "bots", "list", "club"]);
    assert_eq!(listed["bots"][0]["name"], "Standup", "{listed}");
    assert_eq!(listed["bots"][0]["role"], 3, "{listed}");
    refused(
        &alice,
        &["room", "invite", "club", "poller@z.example"],
        "bot_policy does not allow",
    );
    sentinel(&alice, &bob, ROOM, "no poller");
    ok(&alice, &["room", "invite", "club", "standup@z.example"]);
    sentinel(&alice, &standup, ROOM, "hello standup");
    let members = json(&alice, &["room", "members", "club"]);
    assert!(members.to_string().contains("standup"), "{members}");
    // The listed bot is in: its entry cannot go while it is.
    refused(
        &alice,
        &["room", "bots", "remove", "club", "Standup"],
        "does not allow",
    );
    sentinel(&alice, &bob, ROOM, "standup stays");

    // Clearing the policy: refused without the capability, then no policy at all (any bot
    // joins as any client), and clearing twice says there is nothing to clear.
    refused(
        &bob,
        &["room", "bots", "clear", "club"],
        "canChangeOtherPolicyAttribute",
    );
    sentinel(&alice, &bob, ROOM, "after bob's clear");
    ok(&alice, &["room", "bots", "clear", "club"]);
    assert_eq!(
        json(&alice, &["room", "bots", "list", "club"])["bots"],
        "any"
    );
    refused(
        &alice,
        &["room", "bots", "clear", "club"],
        "no bot policy to clear",
    );
    ok(&alice, &["room", "invite", "club", "poller@z.example"]);
    sentinel(&alice, &poller, ROOM, "hello poller");
}
