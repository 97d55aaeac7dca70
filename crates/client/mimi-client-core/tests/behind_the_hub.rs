//! A device behind its room's hub (issue 20, "no wedged rooms"): a commit it cannot process
//! is reported naming the room, and a message the hub did not accept is reported as queued
//! (not sent) until the device catches up, then re-sent and delivered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use harness::Fed;
use mimi_client_core::{ClientEvent, HubRefusal, Outgoing, SendOutcome};
use mimi_ds::{Delivery, Recipients};
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
    let now = fed.now;
    let op = fed.c(charlie).commit_pending(now, room).unwrap();
    let Some(Outgoing::Commit { request, .. }) = fed.c(charlie).poll_request() else {
        panic!("a commit");
    };
    let request = decode_exact(&request.encode().unwrap()).unwrap();
    let out = fed
        .hubs
        .get_mut(room)
        .unwrap()
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
    let now = fed.now;
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
    let now = fed.now;
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
    let epoch = fed.clients[&alice].group(&room).unwrap().epoch();
    events(&mut fed, &alice);
    fed.c(&alice)
        .handle_delivery(
            now,
            Delivery {
                room: room.clone(),
                to: Recipients::Room,
                message: FanoutMessage::new(
                    now * 1000,
                    FanoutContent::Commit {
                        message: tampered,
                        external_proposals: Vec::new(),
                    },
                ),
            },
        )
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
    assert_eq!(fed.clients[&alice].group(&room).unwrap().epoch(), epoch);
}
