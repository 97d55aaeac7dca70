//! A malicious follower's attempts are refused with the specific reason, and the room goes on:
//! a sentinel message sent afterwards still reaches every member.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Room, domain};
use mimi_ds::RequestError;
use mimi_federation_api::Encode;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::notify::{FanoutContent, FanoutMessage, NotifyRequest};
use mimi_federation_api::submit_message::{SubmitMessageRequest, SubmitOutcome};
use mimi_federation_api::update::UpdateOutcome;
use mimi_testkit::{Network, SimError};
use mimi_types::{ClientUri, RoomUri};

fn room() -> Room {
    common::room(3, "guarded")
}

/// Charlie's sentinel reaches Alice and Diana.
fn sentinel_still_delivered(
    net: &mut Network,
    room: &RoomUri,
    charlie: &ClientUri,
    members: &[&ClientUri],
) {
    assert!(matches!(
        net.send(charlie, room, "sentinel").unwrap(),
        SubmitOutcome::Accepted { .. }
    ));
    net.settle(1_000).unwrap();
    for member in members {
        let device = net.device(member).unwrap();
        assert!(
            device.failures().is_empty(),
            "{member}: {:?}",
            device.failures()
        );
        let last = device.messages(room).pop().unwrap();
        assert_eq!(last.1, "sentinel", "{member}");
    }
}

#[test]
fn a_follower_may_not_submit_for_another_providers_user() {
    let Room {
        mut net,
        room,
        alice,
        charlie,
        diana,
        ..
    } = room();
    // x.example hands in Diana's (z.example) message as if it were hers.
    let genuine = net.message_request(&diana, &room, "from diana").unwrap();
    let forged = SubmitMessageRequest::new(
        genuine.app_message.clone(),
        IdentifierUri::from_string("mimi://z.example/u/diana").unwrap(),
    )
    .unwrap();
    let err = net
        .hub_submit(&domain("x.example"), &room, &forged)
        .unwrap_err();
    assert!(
        matches!(
            err,
            SimError::Refused(RequestError::ActingForForeignUser { .. })
        ),
        "{err}"
    );
    // x.example claims its own user sent Diana's ciphertext: the hub checks the sender is a
    // participant who may send, but cannot see inside; Alice's credential is not Diana's
    // leaf, so receivers would drop it. Here the hub refuses the user it cannot match:
    let impostor = SubmitMessageRequest::new(
        genuine.app_message,
        IdentifierUri::from_string("mimi://x.example/u/mallory").unwrap(),
    )
    .unwrap();
    assert_eq!(
        net.hub_submit(&domain("x.example"), &room, &impostor)
            .unwrap(),
        SubmitOutcome::NotAllowed
    );
    sentinel_still_delivered(&mut net, &room, &charlie, &[&alice, &diana]);
}

#[test]
fn a_follower_may_not_hand_in_another_providers_commit() {
    let Room {
        mut net,
        room,
        alice,
        charlie,
        diana,
        ..
    } = room();
    let out = net.prepare_self_update(&diana, &room).unwrap();
    let request = out.update_request().unwrap().clone();
    let err = net
        .hub_update(&domain("x.example"), &room, &request)
        .unwrap_err();
    assert!(
        matches!(
            err,
            SimError::Refused(RequestError::ActingForForeignUser { .. })
        ),
        "{err}"
    );
    sentinel_still_delivered(&mut net, &room, &charlie, &[&alice, &diana]);
}

#[test]
fn a_replayed_old_commit_gets_wrong_epoch() {
    let Room {
        mut net,
        room,
        alice,
        charlie,
        diana,
        ..
    } = room();
    let out = net.prepare_self_update(&alice, &room).unwrap();
    let request = out.update_request().unwrap().clone();
    assert!(matches!(
        net.submit_commit(out).unwrap(),
        UpdateOutcome::Success { .. }
    ));
    net.settle(1_000).unwrap();
    let current = net.device(&alice).unwrap().group(&room).unwrap().epoch();
    assert_eq!(
        net.hub_update(&domain("x.example"), &room, &request)
            .unwrap(),
        UpdateOutcome::WrongEpoch {
            current_epoch: current
        }
    );
    sentinel_still_delivered(&mut net, &room, &charlie, &[&alice, &diana]);
}

#[test]
fn only_the_hub_may_notify_a_follower() {
    let Room {
        mut net,
        room,
        alice,
        charlie,
        diana,
        ..
    } = room();
    // x.example forges a fan-out of Alice's message to z.example for y's room.
    let request = net.message_request(&alice, &room, "forged fanout").unwrap();
    let body = NotifyRequest::new(vec![FanoutMessage::new(
        net.now_ms(),
        FanoutContent::Application {
            message: request.app_message,
            frank: None,
        },
    )])
    .encode()
    .unwrap();
    let err = net
        .inject_notify(&domain("x.example"), &domain("z.example"), &room, &body)
        .unwrap_err();
    assert!(err.to_string().contains("is not the hub of"), "{err}");
    assert!(net.device(&diana).unwrap().messages(&room).is_empty());
    sentinel_still_delivered(&mut net, &room, &charlie, &[&alice, &diana]);
}

#[test]
fn a_proposal_bundle_carrying_another_providers_proposal_is_refused() {
    let Room {
        mut net,
        room,
        alice,
        charlie,
        diana,
        ..
    } = room();
    // Diana (z) leaves properly; x.example then replays her proposals as its own bundle.
    assert!(matches!(
        net.leave(&diana, &room).unwrap(),
        UpdateOutcome::Success { .. }
    ));
    net.settle(1_000).unwrap();
    let cached: Vec<_> = net
        .provider(room.hub_domain())
        .unwrap()
        .hub_room(&room)
        .unwrap()
        .group()
        .pending_proposals();
    assert_eq!(
        cached.len(),
        2,
        "the participant-list removal and the SelfRemove"
    );
    let first = mimi_federation_api::mls::MlsMessage::from_bytes(cached[0].0.clone()).unwrap();
    let more = vec![mimi_federation_api::mls::MlsMessage::from_bytes(cached[1].0.clone()).unwrap()];
    let bundle = mimi_federation_api::update::ProposalBundle::new(first, more).unwrap();
    let request = mimi_federation_api::update::UpdateRequest::new(
        mimi_federation_api::update::HandshakeBundle::Proposals(bundle),
    );
    let result = net.hub_update(&domain("x.example"), &room, &request);
    assert!(
        matches!(
            result,
            Err(SimError::Refused(RequestError::ActingForForeignUser { .. }))
        ),
        "{result:?}"
    );
    // Charlie commits the leave; Diana is out, Alice still reads.
    assert!(matches!(
        net.self_update(&charlie, &room).unwrap(),
        UpdateOutcome::Success { .. }
    ));
    net.settle(1_000).unwrap();
    assert!(!net.device(&diana).unwrap().is_member(&room));
    sentinel_still_delivered(&mut net, &room, &charlie, &[&alice]);
}

#[test]
fn a_bundle_whose_more_proposals_are_from_an_old_epoch_is_refused_whole() {
    let Room {
        mut net,
        room,
        alice,
        charlie,
        diana,
        ..
    } = room();
    let stale = net.leave_proposals(&diana, &room).unwrap();
    assert!(matches!(
        net.self_update(&charlie, &room).unwrap(),
        UpdateOutcome::Success { .. }
    ));
    net.settle(1_000).unwrap();
    let current = net.device(&charlie).unwrap().group(&room).unwrap().epoch();
    let fresh = net.leave_proposals(&diana, &room).unwrap();
    let bundle = mimi_federation_api::update::ProposalBundle::new(
        fresh[0].clone(),
        vec![fresh[1].clone(), stale[1].clone()],
    )
    .unwrap();
    let request = mimi_federation_api::update::UpdateRequest::new(
        mimi_federation_api::update::HandshakeBundle::Proposals(bundle),
    );
    assert_eq!(
        net.hub_update(&domain("z.example"), &room, &request)
            .unwrap(),
        UpdateOutcome::WrongEpoch {
            current_epoch: current
        }
    );
    let pending = net
        .provider(room.hub_domain())
        .unwrap()
        .hub_room(&room)
        .unwrap()
        .group()
        .pending_proposals();
    assert!(pending.is_empty(), "nothing of the refused bundle was kept");
    sentinel_still_delivered(&mut net, &room, &charlie, &[&alice, &diana]);
}
