//! The client commands as separate processes against three `mimi serve` processes: register,
//! create, invite across providers, send/reply/react/edit/delete, add a device, leave; what
//! each device shows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::path::PathBuf;

use cli::{eventually, json, ok, run, shown, start};
use serde_json::Value;

#[test]
fn a_conversation_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let (_servers, urls) = start(&dir.path().join("servers"));
    let profile = |name: &str| -> PathBuf { dir.path().join("profiles").join(name) };
    let (alice, alice2, bob, carol) = (
        profile("alice"),
        profile("alice-laptop"),
        profile("bob"),
        profile("carol"),
    );
    for (p, url, user) in [
        (&alice, &urls[0], "alice"),
        (&bob, &urls[1], "bob"),
        (&carol, &urls[2], "carol"),
    ] {
        let v = json(p, &["account", "register", "--server", url, "--user", user]);
        assert_eq!(v["ok"], "account registered");
    }

    let room = "mimi://x.example/r/club";
    ok(&alice, &["room", "create", "club", "--name", "The Club"]);
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
                .any(|r| r["room"] == room && r["active"] == true)
        });
    }
    let members = json(&bob, &["room", "members", room]);
    assert_eq!(members.as_array().unwrap().len(), 3);

    let hello = json(&bob, &["send", "club", "hello from y"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("hello at carol", || shown(&carol, room).len() == 1);
    let reply = json(&carol, &["reply", "club", &hello[..10], "hi from z"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("the reply at alice", || shown(&alice, room).len() == 2);
    ok(&alice, &["react", "club", &hello, "👍"]);
    ok(&bob, &["edit", "club", &hello, "hello from y (edited)"]);
    ok(&carol, &["delete", "club", &reply]);

    // Alice adds a laptop, which joins by external commit.
    ok(
        &alice2,
        &[
            "account",
            "login",
            "--server",
            &urls[0],
            "--user",
            "alice",
            "--device-id",
            "laptop",
        ],
    );
    ok(&alice2, &["room", "join", room]);
    ok(&alice2, &["send", "club", "from alice's laptop"]);

    let expected = vec![
        ("hello from y (edited)".to_owned(), 1, 1),
        ("<deleted>".to_owned(), 0, 0),
        ("from alice's laptop".to_owned(), 0, 0),
    ];
    for p in [&alice, &bob, &carol] {
        eventually("the conversation everywhere", || shown(p, room) == expected);
    }
    assert_eq!(shown(&alice2, room), expected[2..].to_vec());

    // Carol leaves; another member's device commits it when it next syncs.
    ok(&carol, &["room", "leave", "club"]);
    eventually("carol gone", || {
        json(&alice, &["room", "members", room])
            .as_array()
            .unwrap()
            .len()
            == 2
    });
    ok(&bob, &["send", "club", "carol left"]);
    eventually("the last message at alice", || {
        shown(&alice, room).len() == 4
    });
    assert_eq!(shown(&carol, room), expected);

    // Alice's laptop has not looked since it wrote: listen shows what arrived meanwhile.
    let lines = ok(&alice2, &["listen", "--for", "1", "--json"]);
    let events: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "message" && e["detail"]["text"] == "carol left"),
        "{lines}"
    );

    // Errors a person meets.
    let out = run(&carol, &["send", "club", "still here?"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a member"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&bob, &["room", "ban", "club", "alice@x.example"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("canBan"));
    let out = run(&alice, &["room", "invite", "club", "nobody@y.example"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown user"));
}

#[test]
fn an_unreachable_server_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        &[
            "account",
            "register",
            "--server",
            "http://127.0.0.1:9",
            "--user",
            "zed",
        ],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("http://127.0.0.1:9") && err.contains("mimi serve"),
        "{err}"
    );
    let out = run(dir.path(), &["history", "club"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no device in profile"));
}
