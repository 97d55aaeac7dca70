//! The hub as policy enforcer (digest §3.5): it proposes removing a client through its service
//! user's clientless role, every member provider gets the proposal, a commit that omits it is
//! refused, and an external commit (which cannot include it) gets it re-issued for the new
//! epoch, stapled to the commit's fan-out. Real MLS clients (mimi-mls) build every handshake.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use mimi_ds::Effect;
use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
use mimi_federation_api::update::ProposalBundle;
use mimi_mls::Incoming;

fn fanouts(effects: &[Effect]) -> Vec<(&Domain, &FanoutMessage)> {
    effects
        .iter()
        .map(|e| match e {
            Effect::Notify { to, message, .. } => (to, message),
        })
        .collect()
}

#[test]
fn the_hub_proposes_a_removal_and_a_member_must_commit_it() {
    let mut room = room_with(true);
    let bob_phone = room.bob.me().client.clone();
    let ghost: ClientUri = "mimi://b.example/d/bob/ghost".parse().unwrap();
    let seq = room.hub.next_seq();
    let out = room
        .hub
        .evict(
            room.now * 1000,
            &room.hub_id,
            &[bob_phone.clone(), ghost.clone()],
        )
        .unwrap();
    assert_eq!(out.response.proposed, vec![bob_phone.clone()]);
    assert_eq!(out.response.absent, vec![ghost]);
    assert!(out.changed && out.state_changed);
    assert_eq!(out.log.len(), 1, "the proposal is in the room's log");
    assert_eq!(room.hub.next_seq(), seq + 1);
    let sent = fanouts(&out.effects);
    let to: Vec<&Domain> = sent.iter().map(|(to, _)| *to).collect();
    assert_eq!(to, [&domain("a.example"), &domain("b.example")]);
    let FanoutContent::Proposal {
        message,
        more_proposals,
    } = &sent[0].1.content
    else {
        panic!("expected a proposal fan-out, got {:?}", sent[0].1.content);
    };
    assert!(more_proposals.is_empty());
    assert_eq!(
        room.hub.group().enforced_removals(),
        vec![bob_phone.clone()]
    );

    // Asking again changes nothing: the removal is pending.
    let again = room
        .hub
        .evict(
            room.now * 1000,
            &room.hub_id,
            std::slice::from_ref(&bob_phone),
        )
        .unwrap();
    assert_eq!(again.response.pending, vec![bob_phone.clone()]);
    assert!(!again.changed && again.effects.is_empty());

    // Alice commits without having seen the proposal: refused, it must be included.
    let blind = room.alice.self_update(room.now).unwrap();
    let refused = room
        .hub
        .handle_update(
            room.now * 1000,
            &domain("a.example"),
            commit_request(&blind, full(blind.group_info.as_deref().unwrap())),
        )
        .unwrap();
    assert!(
        matches!(
            refused.response.outcome,
            UpdateOutcome::InvalidProposal { .. }
        ),
        "{:?}",
        refused.response.outcome
    );
    assert!(
        refused.response.error_description.contains("proposal"),
        "{}",
        refused.response.error_description
    );
    room.alice.discard_pending_commit().unwrap();

    // Alice receives the hub's proposal and commits it; Bob's phone is out.
    assert!(matches!(
        room.alice.process(message.as_bytes(), room.now).unwrap(),
        Incoming::Proposal(_)
    ));
    let commit = room.alice.self_update(room.now).unwrap();
    assert_eq!(commit.summary.enforced_removed.len(), 1);
    let answer = room
        .hub
        .handle_update(
            room.now * 1000,
            &domain("a.example"),
            commit_request(&commit, full(commit.group_info.as_deref().unwrap())),
        )
        .unwrap();
    assert!(matches!(
        answer.response.outcome,
        UpdateOutcome::Success { .. }
    ));
    let to: Vec<&Domain> = fanouts(&answer.effects).iter().map(|(to, _)| *to).collect();
    assert_eq!(
        to,
        [&domain("a.example"), &domain("b.example")],
        "the removed device's provider still gets the commit that removes it"
    );
    assert!(!room.hub.group().has_member(&bob_phone));
    assert!(room.hub.group().enforced_removals().is_empty());
}

#[test]
fn an_external_commit_gets_the_hubs_removals_restapled() {
    let mut room = room_with(true);
    let bob_phone = room.bob.me().client.clone();
    room.hub
        .evict(
            room.now * 1000,
            &room.hub_id,
            std::slice::from_ref(&bob_phone),
        )
        .unwrap();
    let epoch = room.hub.group().epoch();
    // Bob's laptop joins by external commit, which cannot carry the hub's Remove.
    let laptop_id = ClientIdentity::new(
        &room.ca_b,
        "mimi://b.example/d/bob/laptop".parse().unwrap(),
        "mimi://b.example/u/bob".parse().unwrap(),
        Validity::starting(room.now - 3600, YEAR),
    )
    .unwrap();
    let pending: Vec<Vec<u8>> = room
        .hub
        .group()
        .pending_proposals()
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    let (_laptop, join) = ClientGroup::join_external(
        &laptop_id,
        room.hub.group().group_info().unwrap(),
        &room.hub.group().ratchet_tree().unwrap(),
        &pending,
        room.trust.clone(),
        room.now,
    )
    .unwrap();
    let answer = room
        .hub
        .handle_update_as(
            room.now * 1000,
            &domain("b.example"),
            commit_request(&join, full(join.group_info.as_deref().unwrap())),
            None,
            Some(&room.hub_id),
        )
        .unwrap();
    assert!(matches!(
        answer.response.outcome,
        UpdateOutcome::Success { .. }
    ));
    assert_eq!(room.hub.group().epoch(), epoch + 1);
    // The removal is pending again in the new epoch, and every provider gets it with the commit.
    assert_eq!(
        room.hub.group().enforced_removals(),
        vec![bob_phone.clone()]
    );
    let sent = fanouts(&answer.effects);
    assert_eq!(sent.len(), 2);
    let mut restapled = None;
    for (_, m) in &sent {
        let FanoutContent::Commit {
            external_proposals, ..
        } = &m.content
        else {
            panic!("expected a commit fan-out");
        };
        assert_eq!(external_proposals.len(), 1);
        restapled = Some(external_proposals[0].clone());
    }
    let restapled = restapled.unwrap();
    assert_eq!(restapled.epoch(), Some(epoch + 1));

    // Alice follows: the commit, then the re-issued proposal; her next commit removes the phone.
    room.alice.process(&join.commit, room.now).unwrap();
    assert!(matches!(
        room.alice.process(restapled.as_bytes(), room.now).unwrap(),
        Incoming::Proposal(_)
    ));
    let commit = room.alice.self_update(room.now).unwrap();
    let answer = room
        .hub
        .handle_update(
            room.now * 1000,
            &domain("a.example"),
            commit_request(&commit, full(commit.group_info.as_deref().unwrap())),
        )
        .unwrap();
    assert!(matches!(
        answer.response.outcome,
        UpdateOutcome::Success { .. }
    ));
    assert!(!room.hub.group().has_member(&bob_phone));
    assert!(room.hub.group().has_member(&laptop_id.client().clone()));
}

#[test]
fn without_a_role_the_hub_may_not_remove_anyone() {
    let mut room = room_with(false);
    let bob_phone = room.bob.me().client.clone();
    let record = room.hub.group().to_record().unwrap();
    let err = room
        .hub
        .evict(
            room.now * 1000,
            &room.hub_id,
            std::slice::from_ref(&bob_phone),
        )
        .unwrap_err();
    assert!(
        matches!(&err, mimi_ds::RequestError::PolicyRefused(_)),
        "{err:?}"
    );
    assert_eq!(err.http_status(), 403);
    assert_eq!(
        room.hub.group().to_record().unwrap(),
        record,
        "nothing changed"
    );
    assert!(room.hub.group().enforced_removals().is_empty());
}

#[test]
fn a_pending_leave_is_not_removed_twice() {
    let mut room = room_with(true);
    let bob_phone = room.bob.me().client.clone();
    // Bob's phone logs out: its SelfRemove is pending in the epoch.
    let leave = room.bob.propose_leave().unwrap();
    let bundle = ProposalBundle::new(MlsMessage::from_bytes(leave).unwrap(), vec![]).unwrap();
    let answer = room
        .hub
        .handle_update(
            room.now * 1000,
            &domain("b.example"),
            UpdateRequest::new(HandshakeBundle::Proposals(bundle)),
        )
        .unwrap();
    assert!(matches!(
        answer.response.outcome,
        UpdateOutcome::Success { .. }
    ));
    // A Remove of the same leaf would make every commit of the epoch invalid: the hub leaves
    // the removal to the SelfRemove.
    let out = room
        .hub
        .evict(
            room.now * 1000,
            &room.hub_id,
            std::slice::from_ref(&bob_phone),
        )
        .unwrap();
    assert_eq!(out.response.pending, vec![bob_phone]);
    assert!(out.response.proposed.is_empty());
    assert!(!out.changed && out.effects.is_empty());
    assert!(room.hub.group().enforced_removals().is_empty());
}
