//! `mimi contacts` as separate processes against `mimi serve` processes: a user who chose
//! `contacts` is asked for consent when a stranger invites her (the invite says so and
//! fails), sees the request, accepts it, and the same invite then works.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;

use std::path::PathBuf;

use cli::{eventually, json, ok, run, start};

#[test]
fn a_first_invite_asks_for_consent_and_works_once_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let (_servers, urls) = start(&dir.path().join("servers"));
    let profile = |name: &str| -> PathBuf { dir.path().join("profiles").join(name) };
    let (alice, carol) = (profile("alice"), profile("carol"));
    for (p, url, user) in [(&alice, &urls[0], "alice"), (&carol, &urls[2], "carol")] {
        json(p, &["account", "register", "--server", url, "--user", user]);
    }
    let set = json(&carol, &["contacts", "policy", "contacts"]);
    assert_eq!(set["policy"], "contacts");
    assert_eq!(set["own_policy"], true);

    ok(&alice, &["room", "create", "club"]);
    let refused = run(&alice, &["room", "invite", "club", "carol@z.example"]);
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("asked carol@z.example for consent; invite again once they accept"),
        "{said}"
    );

    eventually("the consent request at carol", || {
        json(&carol, &["contacts", "requests"])["requests"]
            .as_array()
            .is_some_and(|r| r.len() == 1)
    });
    let text = ok(&carol, &["contacts", "requests"]);
    assert!(
        text.contains("alice@x.example asks to add you to rooms"),
        "{text}"
    );
    let accepted = json(&carol, &["contacts", "accept", "alice@x.example"]);
    assert_eq!(accepted["ok"], "accepted");

    ok(&alice, &["room", "invite", "club", "carol@z.example"]);
    eventually("carol in the club", || {
        json(&carol, &["room", "list"])
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["room"] == "mimi://x.example/r/club" && r["active"] == true)
    });
    let listed = ok(&carol, &["contacts", "list"]);
    assert!(listed.contains("policy: contacts (yours)"), "{listed}");
    assert!(listed.contains("  alice@x.example"), "{listed}");
}
