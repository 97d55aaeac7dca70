//! The hub engine refuses a commit it cannot vouch for (issue 20, "no wedged rooms"): one whose
//! confirmation tag differs from the committer's signed GroupInfo, one without a full GroupInfo,
//! one whose GroupInfo is for another epoch or signed by someone else. Each is answered
//! `notAllowed` with a description, with no fan-out and no change to the room; the honest commit
//! is accepted afterwards. Real MLS clients (mimi-mls) build every commit.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use mimi_federation_api::mls::Signature;
use mimi_federation_api::ratchet_tree::{PartialGroupInfo, RatchetTreePresence};
use mimi_federation_api::update::UpdateRoomResponse;

/// Asserts `request` from b.example is refused with `notAllowed`, fans out nothing and changes
/// nothing.
fn refused(room: &mut Room, request: UpdateRequest, why: &str) -> UpdateRoomResponse {
    let epoch = room.hub.group().epoch();
    let seq = room.hub.next_seq();
    let record = room.hub.group().to_record().unwrap();
    let answer = room
        .hub
        .handle_update(room.now * 1000, &domain("b.example"), request)
        .unwrap();
    assert_eq!(answer.response.outcome, UpdateOutcome::NotAllowed, "{why}");
    assert!(!answer.response.error_description.is_empty(), "{why}");
    assert!(answer.effects.is_empty(), "{why}: no fan-out");
    assert!(!answer.changed, "{why}");
    assert_eq!(room.hub.group().epoch(), epoch, "{why}");
    assert_eq!(room.hub.next_seq(), seq, "{why}");
    assert_eq!(room.hub.group().to_record().unwrap(), record, "{why}");
    answer.response
}

/// After the refusals, Bob's honest commit is accepted and fanned out, and Alice follows it.
fn honest_commit_still_accepted(room: &mut Room, out: &OutgoingCommit) {
    let answer = room
        .hub
        .handle_update(
            room.now * 1000,
            &domain("b.example"),
            commit_request(out, full(out.group_info.as_deref().unwrap())),
        )
        .unwrap();
    assert!(matches!(
        answer.response.outcome,
        UpdateOutcome::Success { .. }
    ));
    assert_eq!(
        answer.effects.len(),
        2,
        "fan-out to a.example and b.example"
    );
    room.bob.merge_pending_commit().unwrap();
    room.alice.process(&out.commit, room.now).unwrap();
    assert_eq!(room.alice.epoch(), room.hub.group().epoch());
    assert_eq!(room.bob.epoch(), room.hub.group().epoch());
}

#[test]
fn a_commit_with_a_flipped_confirmation_tag_bit_is_not_allowed() {
    let mut room = room();
    let out = room.bob.self_update(room.now).unwrap();
    // A member's PublicMessage ends with confirmation_tag<V> then membership_tag<V> (32 bytes
    // each here): flip the first bit of the confirmation tag, as a provider could in transit.
    let n = out.commit.len();
    assert_eq!((out.commit[n - 66], out.commit[n - 33]), (32, 32));
    let mut tampered = out.clone();
    tampered.commit[n - 65] ^= 0x80;
    let gi = full(out.group_info.as_deref().unwrap());
    let response = refused(&mut room, commit_request(&tampered, gi), "flipped tag");
    assert!(
        response.error_description.contains("confirmation tag"),
        "{}",
        response.error_description
    );
    // Alice (who would have received it) refuses that commit: the hub must not fan it out.
    let mut alice =
        ClientGroup::from_record(&room.alice.to_record().unwrap(), room.trust.clone()).unwrap();
    assert!(alice.process(&tampered.commit, room.now).is_err());
    honest_commit_still_accepted(&mut room, &out);
}

#[test]
fn a_commit_without_a_full_group_info_is_not_allowed() {
    let mut room = room();
    let out = room.bob.self_update(room.now).unwrap();
    let partial = GroupInfoOption::Partial(PartialGroupInfo::new(
        RatchetTreePresence::NoRatchetTree,
        Vec::new(),
        Signature::from_bytes(vec![0; 64]).unwrap(),
    ));
    let response = refused(
        &mut room,
        commit_request(&out, partial),
        "partial GroupInfo",
    );
    assert!(response.error_description.contains("GroupInfo"));
    honest_commit_still_accepted(&mut room, &out);
}

#[test]
fn a_group_info_of_the_old_epoch_is_not_allowed_and_not_a_wrong_epoch() {
    let mut room = room();
    let out = room.bob.self_update(room.now).unwrap();
    let old = room.bob.group_info().unwrap();
    refused(&mut room, commit_request(&out, full(&old)), "old GroupInfo");
    honest_commit_still_accepted(&mut room, &out);
}

#[test]
fn a_group_info_signed_by_another_member_is_not_allowed() {
    let mut room = room();
    let out = room.bob.self_update(room.now).unwrap();
    // Alice's GroupInfo for her own commit of the same epoch: another context and signer.
    let theirs = room.alice.self_update(room.now).unwrap();
    room.alice.discard_pending_commit().unwrap();
    refused(
        &mut room,
        commit_request(&out, full(theirs.group_info.as_deref().unwrap())),
        "Alice's GroupInfo on Bob's commit",
    );
    honest_commit_still_accepted(&mut room, &out);
}

/// A device of the hub's provider submitting through the client API may hand in only its
/// own handshakes; the engine checks that on the one validation the commit gets.
#[test]
fn a_device_may_submit_only_its_own_commit() {
    let mut room = room();
    let out = room.bob.self_update(room.now).unwrap();
    let alice: ClientUri = "mimi://a.example/d/alice/phone".parse().unwrap();
    let bob: ClientUri = "mimi://b.example/d/bob/phone".parse().unwrap();
    let epoch = room.hub.group().epoch();
    let request = || commit_request(&out, full(out.group_info.as_deref().unwrap()));
    let refused = room
        .hub
        .handle_update_as(
            room.now * 1000,
            &domain("b.example"),
            request(),
            Some(&alice),
            None,
        )
        .unwrap_err();
    assert!(
        matches!(&refused, mimi_ds::RequestError::NotOwnHandshake { device, actor }
            if device == &alice.to_string() && actor == &bob.to_string()),
        "{refused:?}"
    );
    assert_eq!(refused.http_status(), 403);
    assert_eq!(room.hub.group().epoch(), epoch, "nothing changed");
    let answer = room
        .hub
        .handle_update_as(
            room.now * 1000,
            &domain("b.example"),
            request(),
            Some(&bob),
            None,
        )
        .unwrap();
    assert!(matches!(
        answer.response.outcome,
        UpdateOutcome::Success { .. }
    ));
}
