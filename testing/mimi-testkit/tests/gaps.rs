//! A provider whose last member left, added back later: its inbox follows the room again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Room, user};
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;

#[test]
fn a_provider_added_back_after_a_gap_delivers_again() {
    let Room {
        mut net,
        room,
        alice,
        charlie,
        diana,
        ..
    } = common::room(21, "gap");
    // z.example's only member is removed; the room goes on for several epochs without z.
    assert!(matches!(
        net.remove_users(&charlie, &room, &[user("mimi://z.example/u/diana")])
            .unwrap(),
        UpdateOutcome::Success { .. }
    ));
    net.settle(1_000).unwrap();
    for n in 0..3 {
        net.self_update(&alice, &room).unwrap();
        net.send(&charlie, &room, &format!("without z {n}"))
            .unwrap();
    }
    net.settle(1_000).unwrap();
    // Evelyn, on z, is added: the add commit is several epochs ahead of z's inbox.
    let evelyn = net
        .add_device(&user("mimi://z.example/u/evelyn"), "tablet")
        .unwrap();
    assert!(matches!(
        net.add_users(&charlie, &room, &[user("mimi://z.example/u/evelyn")])
            .unwrap(),
        UpdateOutcome::Success { .. }
    ));
    net.settle(1_000).unwrap();
    assert!(net.device(&evelyn).unwrap().is_member(&room));
    assert!(matches!(
        net.send(&alice, &room, "welcome back, z").unwrap(),
        SubmitOutcome::Accepted { .. }
    ));
    net.settle(1_000).unwrap();
    let inbox = net.provider(evelyn.domain()).unwrap().inbox(&room).unwrap();
    assert_eq!(inbox.buffered(), 0, "nothing stuck waiting for a commit");
    let evelyn_saw = net.device(&evelyn).unwrap().texts(&room);
    assert_eq!(evelyn_saw, ["welcome back, z"]);
    assert!(net.device(&evelyn).unwrap().failures().is_empty());
    assert!(!net.device(&diana).unwrap().is_member(&room));
}
