//! Follower notify receipt: only the hub, duplicates once, epochs forward, commits first.

#![allow(clippy::unwrap_used)]

use mimi_ds::Recipients;
use mimi_ds::follower::{InboxError, RoomInbox};
use mimi_federation_api::codec::Writer;
use mimi_federation_api::mls::MlsMessage;
use mimi_federation_api::notify::{FanoutContent, FanoutMessage, NotifyRequest};
use mimi_federation_api::{Encode, decode_exact};
use mimi_types::{ClientUri, Domain, RoomUri};

fn opaque(w: &mut Writer, bytes: &[u8]) {
    w.opaque("fixture", usize::MAX, bytes).unwrap();
}

/// A PrivateMessage application message of `epoch` (structure only; never decrypted here).
fn app(epoch: u64, tag: u8) -> FanoutMessage {
    let mut w = Writer::new();
    w.u16(1);
    w.u16(2);
    opaque(&mut w, b"mimi://hub.example/g/room");
    w.u64(epoch);
    w.u8(1);
    opaque(&mut w, &[]);
    opaque(&mut w, &[5; 16]);
    opaque(&mut w, &[tag; 24]);
    let message = MlsMessage::from_bytes(w.into_bytes()).unwrap();
    FanoutMessage::new(
        u64::from(tag),
        FanoutContent::Application {
            message,
            frank: None,
        },
    )
}

/// A PublicMessage commit of `epoch` with no proposals and no path (structure only).
fn commit(epoch: u64) -> FanoutMessage {
    let mut w = Writer::new();
    w.u16(1);
    w.u16(1);
    opaque(&mut w, b"mimi://hub.example/g/room");
    w.u64(epoch);
    w.u8(1);
    w.u32(0);
    opaque(&mut w, &[]);
    w.u8(3);
    w.vector("proposals", usize::MAX, |_| Ok(())).unwrap();
    w.u8(0);
    opaque(&mut w, &[18; 64]);
    opaque(&mut w, &[19; 32]);
    opaque(&mut w, &[20; 32]);
    let message = MlsMessage::from_bytes(w.into_bytes()).unwrap();
    FanoutMessage::new(
        epoch,
        FanoutContent::Commit {
            message,
            external_proposals: vec![],
        },
    )
}

/// A notify body as the follower gets it: encoded, then decoded.
fn body(messages: Vec<FanoutMessage>) -> NotifyRequest {
    let bytes = NotifyRequest::new(messages).encode().unwrap();
    decode_exact::<NotifyRequest>(&bytes).unwrap()
}

fn hub() -> Domain {
    Domain::parse("hub.example").unwrap()
}

fn inbox() -> RoomInbox {
    RoomInbox::new(RoomUri::parse("mimi://hub.example/r/room").unwrap())
}

fn no_welcomes(_: &[u8]) -> Option<ClientUri> {
    None
}

/// The timestamps (our tags) of what was delivered, in order.
fn delivered(receipt: &mimi_ds::follower::NotifyReceipt) -> Vec<u64> {
    receipt
        .deliveries
        .iter()
        .map(|d| d.message.timestamp)
        .collect()
}

#[test]
fn in_order_fanout_is_delivered_in_order() {
    let mut inbox = inbox();
    let request = body(vec![commit(5), app(6, 61), app(6, 62)]);
    let receipt = inbox.receive(&hub(), request, &no_welcomes).unwrap();
    assert_eq!(delivered(&receipt), [5, 61, 62]);
    assert!(receipt.deliveries.iter().all(|d| d.to == Recipients::Room));
    assert_eq!(inbox.epoch(), Some(6));
}

#[test]
fn only_the_rooms_hub_may_notify() {
    let mut inbox = inbox();
    let request = body(vec![app(1, 1)]);
    let err = inbox
        .receive(&Domain::parse("x.example").unwrap(), request, &no_welcomes)
        .unwrap_err();
    assert!(matches!(err, InboxError::NotTheHub { .. }));
    assert_eq!(inbox.epoch(), None, "a refused body changes nothing");
}

#[test]
fn a_byte_identical_repeat_is_acknowledged_and_applied_once() {
    let mut inbox = inbox();
    let request = body(vec![commit(1), app(2, 21)]);
    let first = inbox
        .receive(&hub(), request.clone(), &no_welcomes)
        .unwrap();
    assert_eq!(delivered(&first), [1, 21]);
    let again = inbox.receive(&hub(), request, &no_welcomes).unwrap();
    assert!(again.duplicate);
    assert!(again.deliveries.is_empty());
}

/// The hub regroups its queue on a retry (its 201 was lost, it restarted, more was queued):
/// what was received before is skipped message by message, what is new is delivered once.
#[test]
fn a_regrouped_resend_delivers_only_what_is_new() {
    let mut inbox = inbox();
    let first = inbox
        .receive(&hub(), body(vec![commit(1), app(2, 21)]), &no_welcomes)
        .unwrap();
    assert_eq!(delivered(&first), [1, 21]);
    let regrouped = inbox
        .receive(
            &hub(),
            body(vec![app(2, 21), app(2, 22), app(2, 23)]),
            &no_welcomes,
        )
        .unwrap();
    assert!(!regrouped.duplicate, "the body holds new messages");
    assert_eq!(delivered(&regrouped), [22, 23], "21 is not delivered twice");
    // The same messages split differently again: nothing new.
    let split = inbox
        .receive(&hub(), body(vec![app(2, 22)]), &no_welcomes)
        .unwrap();
    assert!(split.duplicate);
    assert!(split.deliveries.is_empty());
    // A message repeated within one body counts once.
    let doubled = inbox
        .receive(&hub(), body(vec![app(2, 24), app(2, 24)]), &no_welcomes)
        .unwrap();
    assert_eq!(delivered(&doubled), [24]);
}

#[test]
fn messages_before_their_commit_wait_for_it() {
    let mut inbox = inbox();
    let r1 = body(vec![commit(3)]);
    inbox.receive(&hub(), r1, &no_welcomes).unwrap();
    // Epoch 5's message arrives before the commit that starts epoch 5 (epoch 4's commit).
    let r2 = body(vec![app(5, 51)]);
    let early = inbox.receive(&hub(), r2, &no_welcomes).unwrap();
    assert!(early.deliveries.is_empty());
    let r3 = body(vec![commit(4)]);
    let late = inbox.receive(&hub(), r3, &no_welcomes).unwrap();
    assert_eq!(
        delivered(&late),
        [4, 51],
        "the buffered message follows its commit"
    );
    assert_eq!(inbox.buffered(), 0);
    assert_eq!(inbox.epoch(), Some(5));
}

#[test]
fn epochs_never_go_backwards() {
    let mut inbox = inbox();
    let r1 = body(vec![commit(7), app(8, 81)]);
    inbox.receive(&hub(), r1, &no_welcomes).unwrap();
    let r2 = body(vec![commit(6), app(7, 71), app(8, 82)]);
    let replay = inbox.receive(&hub(), r2, &no_welcomes).unwrap();
    assert_eq!(
        delivered(&replay),
        [82],
        "old commit and old epoch's message dropped"
    );
    assert_eq!(replay.dropped, 2);
    assert_eq!(inbox.epoch(), Some(8));
}
