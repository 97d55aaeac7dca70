//! The room's `join_link_policy` through the real engines: x.example (Alice), y.example (the
//! hub: Charlie, the super admin). A room whose links are single-use and live at most an hour
//! refuses other links at the creating client (nothing queued) and at the hub, by its own
//! clock, for a link the creator's authorizer cannot judge without one; a link within the
//! policy is made and every member sees it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use harness::Fed;
use mimi_client_core::{ClientError, PolicySetting};
use mimi_mls::ComponentChange;
use mimi_room::components::{Component as _, JOIN_CODE_DIGEST_LEN, JoinCodeTerms, JoinLinksUpdate};
use mimi_room::presets::Preset;
use mimi_room::{Denied, components::RoleIndex};
use mimi_types::codepoints::ComponentId;

const ALICE: &str = "mimi://x.example/u/alice";

#[test]
fn new_links_keep_the_join_link_policy_at_the_creator_and_the_hub() {
    let mut fed = Fed::new(&["x.example", "y.example"]);
    let alice = fed.device(ALICE, "phone");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    let room = fed.create_room(
        &charlie,
        "mimi://y.example/r/links",
        Preset::StrictlyAdministered,
    );
    fed.invite(&charlie, &room, &[ALICE]).unwrap();
    let now = fed.now();
    let mut rng = fed.rng.clone();
    let settings: Vec<PolicySetting> = [
        "join-links=persisted",
        "join-link-multiuser=off",
        "join-link-expiration=3600",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    fed.c(&charlie).set_policy(now, &room, &settings).unwrap();
    fed.pump();
    assert!(fed.refusals().is_empty(), "{:?}", fed.refusals());
    let role = RoleIndex(2);

    // The creating client refuses an unlimited link and one that outlives the policy.
    let denied = |r: Result<_, ClientError>| match r {
        Err(ClientError::NotAllowed { denied, .. }) => denied,
        other => panic!("not refused by the policy: {other:?}"),
    };
    let d = denied(
        fed.c(&charlie)
            .create_join_link(&mut rng, now, &room, role, now + 600, 0),
    );
    assert_eq!(d, Denied::JoinLinkNotSingleUse { uses_left: 0 });
    let d = denied(
        fed.c(&charlie)
            .create_join_link(&mut rng, now, &room, role, now + 7200, 1),
    );
    assert_eq!(
        d,
        Denied::JoinLinkLifetime {
            not_after: now + 7200,
            expiration: 3600
        }
    );
    assert!(
        fed.c(&charlie).poll_request().is_none(),
        "nothing was queued"
    );

    // A client that commits a two-hour link anyway: its own authorizer has no clock to judge
    // the lifetime by, the hub has, and refuses; no member sees the link.
    let rogue = JoinCodeTerms {
        code_digest: vec![5; JOIN_CODE_DIGEST_LEN],
        role_index: role,
        not_after: now + 7200,
        uses_left: 1,
    };
    let update = JoinLinksUpdate {
        removed_indices: Vec::new(),
        added_links: vec![rogue.to_link()],
    };
    fed.c(&charlie)
        .update_components(
            now,
            &room,
            &[ComponentChange::update(
                ComponentId::JOIN_LINKS,
                update.encode(),
            )],
        )
        .unwrap();
    fed.pump();
    assert_eq!(
        fed.refusals().len(),
        1,
        "the hub refused it: {:?}",
        fed.refusals()
    );
    fed.clear_refusals();

    // The sentinel: a single-use link for half an hour is made, and every member sees it.
    let (_, link) = fed
        .c(&charlie)
        .create_join_link(&mut rng, now, &room, role, now + 1800, 1)
        .unwrap();
    fed.pump();
    assert!(fed.refusals().is_empty(), "{:?}", fed.refusals());
    for d in [&alice, &charlie] {
        let links = fed.c(d).join_links(&room).unwrap();
        let terms: Vec<&JoinCodeTerms> = links.iter().map(|(_, t)| t).collect();
        assert_eq!(terms, [&link.terms], "{d}");
    }
}
