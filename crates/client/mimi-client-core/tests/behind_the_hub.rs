//! A device behind its room's hub (issue 20, "no wedged rooms"): a commit it cannot process
//! is reported naming the room, and a message the hub did not accept is reported as queued
//! (not sent) until the device catches up, then re-sent and delivered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use harness::Fed;
use mimi_client_core::{ClientEvent, HubRefusal, Outgoing, SendOutcome};
use mimi_federation_api::mls::MlsMessage;
use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
use mimi_federation_api::update::{HandshakeBundle, UpdateOutcome};
use mimi_federation_api::{Encode, decode_exact};
use mimi_room::presets::Preset;
use mimi_types::{ClientUri, RoomUri};

fn two() -> (Fed, ClientUri, ClientUri, RoomUri) {
    let mut fed = Fed::new(&["x.example", "y.example"]);
    let alice = fed.device("mimi://x.example/u/alice", "phone");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    let room = fed.create_room(&charlie, "mimi://y.example/r/team", Preset::Cooperative);
    fed.invite(&charlie, &room, &["mimi://x.example/u/alice"])
        .unwrap();
    (fed, alice, charlie, room)
}

fn events(fed: &mut Fed, client: &ClientUri) -> Vec<ClientEvent> {
    let mut out = Vec::new();
    while let Some(e) = fed.c(client).poll_event() {
        out.push(e);
    }
    out
}

/// Charlie's next commit, accepted by the hub, whose fan-out is held back (returned).
fn commit_held_back(fed: &mut Fed, charlie: &ClientUri, room: &RoomUri) -> Vec<mimi_ds::Effect> {
    let now = fed.now();
    let op = fed.c(charlie).commit_pending(now, room).unwrap();
    let Some(Outgoing::Commit { request, .. }) = fed.c(charlie).poll_request() else {
        panic!("a commit");
    };
    let request = decode_exact(&request.encode().unwrap()).unwrap();
    let out = fed
        .hub_mut(room)
        .handle_update(now * 1000, room.hub_domain(), request)
        .unwrap();
    assert!(matches!(
        out.response.outcome,
        UpdateOutcome::Success { .. }
    ));
    fed.c(charlie)
        .mark_sent(op, SendOutcome::Update(out.response.outcome))
        .unwrap();
    out.effects
}

#[test]
fn a_message_the_hub_did_not_accept_is_queued_not_sent() {
    let (mut fed, alice, charlie, room) = two();
    let held = commit_held_back(&mut fed, &charlie, &room);
    events(&mut fed, &alice);
    // Alice has not seen the commit: the hub finds her message too old.
    let mut rng = fed.rng.clone();
    let (op, _) = fed
        .c(&alice)
        .send_text(&mut rng, &room, "written behind")
        .unwrap();
    fed.pump();
    let seen = events(&mut fed, &alice);
    assert!(
        seen.iter().any(|e| matches!(
            e,
            ClientEvent::Queued { room: r, op: o, refusal: HubRefusal::EpochTooOld { .. } }
                if *r == room && *o == op
        )),
        "{seen:?}"
    );
    assert!(
        !seen.iter().any(|e| matches!(e, ClientEvent::Resent { .. })),
        "{seen:?}"
    );
    assert!(
        fed.transcript(&charlie, &room).is_empty(),
        "nothing was sent"
    );
    // Once the commit arrives, the queued message is re-sent and delivered.
    fed.deliver(held);
    fed.pump();
    assert_eq!(
        fed.transcript(&charlie, &room),
        vec!["alice: written behind"]
    );
    assert_eq!(fed.transcript(&alice, &room), vec!["alice: written behind"]);
}

#[test]
fn a_message_too_old_is_resent_under_a_new_operation() {
    let (mut fed, alice, charlie, room) = two();
    let mut rng = fed.rng.clone();
    let (op, _) = fed.c(&alice).send_text(&mut rng, &room, "late").unwrap();
    let request = fed.c(&alice).poll_request().unwrap();
    let now = fed.now();
    fed.c(&charlie).commit_pending(now, &room).unwrap();
    fed.pump();
    events(&mut fed, &alice);
    fed.send(&alice, request);
    let seen = events(&mut fed, &alice);
    let resent = seen.iter().find_map(|e| match e {
        ClientEvent::Resent { op: o, as_op, .. } if *o == op => Some(*as_op),
        _ => None,
    });
    let as_op = resent.unwrap_or_else(|| panic!("{seen:?}"));
    assert_ne!(as_op, op);
    assert!(
        !seen.iter().any(|e| matches!(e, ClientEvent::Queued { .. })),
        "{seen:?}"
    );
    fed.pump();
    assert_eq!(fed.transcript(&charlie, &room), vec!["alice: late"]);
}

#[test]
fn a_commit_the_device_refuses_is_reported_with_its_room() {
    let (mut fed, alice, charlie, room) = two();
    let now = fed.now();
    fed.c(&charlie).commit_pending(now, &room).unwrap();
    let Some(Outgoing::Commit { request, .. }) = fed.c(&charlie).poll_request() else {
        panic!("a commit");
    };
    let HandshakeBundle::Commit(bundle) = request.bundle else {
        panic!("a commit bundle");
    };
    // One bit of its confirmation tag flipped (after the signature: confirmation_tag<V>, then
    // membership_tag<V>, 32-byte MACs), as a provider could in transit.
    let mut bytes = bundle.commit.as_bytes().to_vec();
    let n = bytes.len();
    assert_eq!((bytes[n - 66], bytes[n - 33]), (32, 32));
    bytes[n - 65] ^= 0x01;
    let tampered = MlsMessage::from_bytes(bytes).unwrap();
    let epoch = fed.client(&alice).group(&room).unwrap().epoch();
    events(&mut fed, &alice);
    let tampered = FanoutMessage::new(
        now * 1000,
        FanoutContent::Commit {
            message: tampered,
            external_proposals: Vec::new(),
        },
    );
    fed.c(&alice)
        .handle_delivery(now, &room, None, &tampered)
        .unwrap();
    let seen = events(&mut fed, &alice);
    assert!(
        seen.iter().any(|e| matches!(
            e,
            ClientEvent::CommitFailed { room: r, epoch: e, error }
                if *r == room && *e == epoch && !error.is_empty()
        )),
        "{seen:?}"
    );
    assert_eq!(fed.client(&alice).group(&room).unwrap().epoch(), epoch);
}

/// The hub's current GroupInfo, ratchet tree and pending proposals of `room`.
fn join_info(fed: &Fed, room: &RoomUri) -> (Vec<u8>, Vec<u8>, Vec<Vec<u8>>) {
    let hub = &fed.hub(room);
    let group_info = hub.group().group_info().unwrap().to_vec();
    let tree = hub.group().ratchet_tree().unwrap();
    let pending = hub
        .group()
        .pending_proposals()
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    (group_info, tree, pending)
}

/// Charlie's self-update that the hub accepts and fans out, and that Alice's provider takes
/// but never hands to her device (a provider dropping its user's messages; a gap between
/// providers would be noticed by the follower engine): Alice stays in the old epoch while
/// everyone else moves on.
fn commit_lost_for_alice(fed: &mut Fed, charlie: &ClientUri, room: &RoomUri) {
    let held = commit_held_back(fed, charlie, room);
    let alice = fed
        .net
        .devices()
        .map(|(c, _)| c)
        .find(|c| c.domain().as_str() == "x.example")
        .unwrap()
        .clone();
    let device = fed.net.disconnect(&alice).unwrap();
    fed.deliver(held);
    fed.net.reconnect(alice, device);
}

/// Alice missed one commit and then receives the next: she reports the failure, rejoins from
/// the hub's GroupInfo (removing her old leaf), keeps her history, and her message written
/// while behind is delivered after the rejoin; Charlie's sentinel reaches her.
#[test]
fn a_device_behind_the_hub_rejoins_and_keeps_its_history() {
    let (mut fed, alice, charlie, room) = two();
    let mut rng = fed.rng.clone();
    fed.c(&alice).send_text(&mut rng, &room, "before").unwrap();
    fed.pump();
    commit_lost_for_alice(&mut fed, &charlie, &room);
    let stuck = fed.client(&alice).group(&room).unwrap().epoch();
    // The next commit reaches Alice, who cannot process it.
    let now = fed.now();
    fed.c(&charlie).commit_pending(now, &room).unwrap();
    fed.pump();
    let seen = events(&mut fed, &alice);
    assert!(
        seen.iter().any(|e| matches!(
            e,
            ClientEvent::CommitFailed { room: r, epoch, .. } if *r == room && *epoch == stuck
        )),
        "{seen:?}"
    );
    assert!(fed.client(&alice).is_behind(&room));
    // Written while behind: refused as too old, queued.
    let (queued, _) = fed
        .c(&alice)
        .send_text(&mut rng, &room, "written behind")
        .unwrap();
    fed.pump();
    let seen = events(&mut fed, &alice);
    assert!(
        seen.iter()
            .any(|e| matches!(e, ClientEvent::Queued { op, .. } if *op == queued)),
        "{seen:?}"
    );

    let (group_info, tree, pending) = join_info(&fed, &room);
    let hub_epoch = fed.hub(&room).group().epoch();
    fed.c(&alice)
        .rejoin(now, &room, &group_info, &tree, &pending)
        .unwrap();
    fed.pump();
    let seen = events(&mut fed, &alice);
    assert!(
        seen.iter().any(|e| matches!(
            e,
            ClientEvent::Rejoined { room: r, epoch } if *r == room && *epoch == hub_epoch + 1
        )),
        "{seen:?}"
    );
    assert!(!fed.client(&alice).is_behind(&room));
    assert!(fed.refusals().is_empty(), "{:?}", fed.refusals());
    // One leaf per device: the old one went with the rejoin.
    assert_eq!(fed.hub(&room).group().members().len(), 2);
    assert_eq!(fed.client(&alice).group(&room).unwrap().members().len(), 2);

    fed.c(&charlie)
        .send_text(&mut rng, &room, "sentinel")
        .unwrap();
    fed.pump();
    let expected = vec![
        "alice: before",
        "alice: written behind",
        "charlie: sentinel",
    ];
    assert_eq!(fed.transcript(&alice, &room), expected);
    assert_eq!(fed.transcript(&charlie, &room), expected);
    // Both go on committing.
    fed.c(&alice).commit_pending(now, &room).unwrap();
    fed.pump();
    fed.c(&charlie).commit_pending(now, &room).unwrap();
    fed.pump();
    assert_eq!(
        fed.client(&alice).group(&room).unwrap().epoch(),
        fed.client(&charlie).group(&room).unwrap().epoch()
    );
    assert!(fed.refusals().is_empty(), "{:?}", fed.refusals());
}

/// A message of a later epoch also shows a lost commit (after a restart, say, when nothing
/// else is pending): reported once, not for every message.
#[test]
fn a_message_of_a_later_epoch_reports_the_device_behind_once() {
    let (mut fed, alice, charlie, room) = two();
    commit_lost_for_alice(&mut fed, &charlie, &room);
    let mut rng = fed.rng.clone();
    events(&mut fed, &alice);
    for text in ["one", "two"] {
        fed.c(&charlie).send_text(&mut rng, &room, text).unwrap();
        fed.pump();
    }
    let failed = events(&mut fed, &alice)
        .into_iter()
        .filter(|e| matches!(e, ClientEvent::CommitFailed { error, .. } if error.contains("did not reach")))
        .count();
    assert_eq!(failed, 1);
    assert!(fed.client(&alice).is_behind(&room));
}

/// The hub's answer is checked against what the device knew: another room's GroupInfo, or one
/// of an epoch not later than the device's, is refused and changes nothing.
#[test]
fn a_rejoin_from_a_wrong_group_info_is_refused() {
    let (mut fed, alice, charlie, room) = two();
    let other = fed.create_room(&charlie, "mimi://y.example/r/other", Preset::Cooperative);
    fed.invite(&charlie, &other, &["mimi://x.example/u/alice"])
        .unwrap();
    let now = fed.now();
    // Not behind: the hub's epoch is the device's own.
    let (gi, tree, pending) = join_info(&fed, &room);
    let err = fed
        .c(&alice)
        .rejoin(now, &room, &gi, &tree, &pending)
        .unwrap_err();
    assert!(err.to_string().contains("not later than"), "{err}");
    // Another group's GroupInfo, even of a later epoch.
    commit_lost_for_alice(&mut fed, &charlie, &room);
    for _ in 0..3 {
        fed.c(&charlie).commit_pending(now, &other).unwrap();
        fed.pump();
    }
    let (gi, tree, pending) = join_info(&fed, &other);
    let err = fed
        .c(&alice)
        .rejoin(now, &room, &gi, &tree, &pending)
        .unwrap_err();
    assert!(err.to_string().contains("another group"), "{err}");
    assert!(fed.c(&alice).poll_request().is_none(), "nothing sent");
}

/// A rejoin the hub refuses (here: the room moved on after the GroupInfo was fetched) leaves
/// the device as it was, history included; a second rejoin from a fresh GroupInfo works.
#[test]
fn a_refused_rejoin_keeps_the_room_and_can_be_retried() {
    let (mut fed, alice, charlie, room) = two();
    let mut rng = fed.rng.clone();
    fed.c(&alice).send_text(&mut rng, &room, "kept").unwrap();
    fed.pump();
    commit_lost_for_alice(&mut fed, &charlie, &room);
    let now = fed.now();
    let (gi, tree, pending) = join_info(&fed, &room);
    let op = fed
        .c(&alice)
        .rejoin(now, &room, &gi, &tree, &pending)
        .unwrap();
    let request = fed.c(&alice).poll_request().unwrap();
    // Charlie commits first; Alice's external commit is now for a past epoch.
    fed.c(&charlie).commit_pending(now, &room).unwrap();
    fed.pump();
    fed.send(&alice, request);
    assert!(
        fed.refusals()
            .iter()
            .any(|(c, o, _)| *c == alice && *o == op),
        "{:?}",
        fed.refusals()
    );
    assert_eq!(fed.transcript(&alice, &room), vec!["alice: kept"]);
    assert!(fed.client(&alice).room(&room).is_some());
    let (gi, tree, pending) = join_info(&fed, &room);
    fed.c(&alice)
        .rejoin(now, &room, &gi, &tree, &pending)
        .unwrap();
    fed.pump();
    fed.c(&charlie)
        .send_text(&mut rng, &room, "sentinel")
        .unwrap();
    fed.pump();
    assert_eq!(
        fed.transcript(&alice, &room),
        vec!["alice: kept", "charlie: sentinel"]
    );
}

/// A user removed while its device was behind cannot come back by rejoining: the hub's
/// GroupInfo no longer lists it, and the device refuses to build the commit.
#[test]
fn a_removed_user_cannot_rejoin() {
    let (mut fed, alice, charlie, room) = two();
    let now = fed.now();
    let device = fed.net.disconnect(&alice).unwrap();
    fed.c(&charlie)
        .remove(now, &room, &[harness::user("mimi://x.example/u/alice")])
        .unwrap();
    fed.pump();
    fed.net.reconnect(alice.clone(), device);
    let (gi, tree, pending) = join_info(&fed, &room);
    let err = fed
        .c(&alice)
        .rejoin(now, &room, &gi, &tree, &pending)
        .unwrap_err();
    assert!(err.to_string().contains("not a participant"), "{err}");
    assert!(fed.c(&alice).poll_request().is_none(), "nothing sent");
}
