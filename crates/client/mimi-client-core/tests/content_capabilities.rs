//! The content capabilities the hub cannot see, refused: a role without `canReplyToMessage`,
//! `canReactToMessage`, `canEditOwnMessage`, `canDeleteOwnMessage` or `canDeleteOwnReaction`
//! is refused by its own client (nothing queued) and, when a client sends anyway, by every
//! receiver. x.example (Alice, Bob: ordinary members), y.example (the hub: Charlie, the
//! super admin, who takes those capabilities from every other role).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use std::collections::BTreeSet;

use harness::{Fed, user};
use mimi_client_core::{ClientError, Rejection};
use mimi_content::{ContentBuilder, NestedPart};
use mimi_mls::ComponentChange;
use mimi_room::components::Component as _;
use mimi_room::presets::Preset;
use mimi_room::{Capability, Denied};
use mimi_types::codepoints::ComponentId;

const ALICE: &str = "mimi://x.example/u/alice";
const BOB: &str = "mimi://x.example/u/bob";

const TAKEN: [Capability; 5] = [
    Capability::CAN_REPLY_TO_MESSAGE,
    Capability::CAN_REACT_TO_MESSAGE,
    Capability::CAN_EDIT_OWN_MESSAGE,
    Capability::CAN_DELETE_OWN_MESSAGE,
    Capability::CAN_DELETE_OWN_REACTION,
];

fn missing(err: &ClientError) -> Capability {
    match err {
        ClientError::NotAllowed {
            denied: Denied::MissingCapability { capability, .. },
            ..
        } => *capability,
        other => panic!("not a missing capability: {other}"),
    }
}

#[test]
fn content_acts_without_their_capability_are_refused_by_sender_and_receivers() {
    let mut fed = Fed::new(&["x.example", "y.example"]);
    let alice = fed.device(ALICE, "phone");
    let bob = fed.device(BOB, "laptop");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    let preset = Preset::StrictlyAdministered;
    let room = fed.create_room(&charlie, "mimi://y.example/r/read-mostly", preset);
    fed.invite(&charlie, &room, &[ALICE, BOB]).unwrap();
    let now = fed.now();
    let mut rng = fed.rng.clone();

    // Before the change: each of Alice and Bob sends a message and reacts to it.
    let (_, alices) = fed.c(&alice).send_text(&mut rng, &room, "alice's").unwrap();
    let (_, bobs) = fed.c(&bob).send_text(&mut rng, &room, "bob's").unwrap();
    fed.pump();
    let (_, alice_like) = fed.c(&alice).react(&mut rng, &room, alices, "👍").unwrap();
    let (_, bob_like) = fed.c(&bob).react(&mut rng, &room, bobs, "👍").unwrap();
    fed.pump();

    let mut roles = preset.roles();
    for role in &mut roles.roles {
        if role.role_index != preset.creator_role() {
            role.role_capabilities.retain(|c| !TAKEN.contains(c));
        }
    }
    let change = ComponentChange::update(ComponentId::ROLES_LIST, roles.encode());
    fed.c(&charlie)
        .update_components(now, &room, &[change])
        .unwrap();
    fed.pump();
    assert!(fed.refusals().is_empty(), "{:?}", fed.refusals());

    // Alice's client refuses each act, naming the capability, and queues nothing.
    let a = fed.c(&alice);
    let refused = [
        missing(&a.reply(&mut rng, &room, alices, "re").unwrap_err()),
        missing(&a.react(&mut rng, &room, alices, "🎉").unwrap_err()),
        missing(&a.edit(&mut rng, &room, alices, "edited").unwrap_err()),
        missing(&a.delete(&mut rng, &room, alices).unwrap_err()),
        missing(&a.unreact(&mut rng, &room, alice_like).unwrap_err()),
    ];
    assert_eq!(refused, TAKEN);
    assert!(a.poll_request().is_none(), "nothing was queued");

    // Bob's client sends the same acts anyway: every receiver refuses each.
    let rogue = [
        ContentBuilder::reply(alices, NestedPart::text("re")),
        ContentBuilder::reaction(alices, "🎉"),
        ContentBuilder::edit(bobs, NestedPart::text("edited")),
        ContentBuilder::delete(bobs),
        ContentBuilder::unlike(bob_like, bobs),
    ];
    for content in rogue {
        fed.c(&bob).send_content(&mut rng, &room, content).unwrap();
    }
    // The sentinel: plain messages stay allowed.
    fed.c(&bob).send_text(&mut rng, &room, "sentinel").unwrap();
    fed.pump();
    for d in [&alice, &charlie] {
        let view = fed.client(d).room(&room).unwrap();
        let texts: Vec<&str> = view
            .messages()
            .iter()
            .map(|m| m.body.text.as_str())
            .collect();
        assert_eq!(texts, ["alice's", "bob's", "sentinel"], "{d}");
        let bob_message = view.message(&bobs).unwrap();
        assert!(!bob_message.deleted && bob_message.edits == 0, "{d}");
        assert!(
            bob_message
                .reactions
                .get("👍")
                .is_some_and(|u| u.contains(&user(BOB))),
            "{d}: Bob's reaction stays"
        );
        let refused: BTreeSet<Capability> = view
            .rejections()
            .iter()
            .filter_map(|r| match r {
                Rejection::NotAllowed {
                    sender,
                    denied: Denied::MissingCapability { capability, .. },
                } if *sender == user(BOB) => Some(*capability),
                _ => None,
            })
            .collect();
        assert_eq!(refused, TAKEN.into_iter().collect(), "{d}");
    }
}
