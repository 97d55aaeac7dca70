//! Franking (protocol-06 §5.4.1) between real client engines and the real hub engine: every
//! room names its hub as franking agent; a sender tags its content, the hub franks it, the
//! receivers verify the frank and keep it, and the hub recognises a kept frank in a report.
//! A frank altered or dropped on the way is refused by the receivers; a report whose content,
//! sender or time differs from what the hub franked is refused by the hub.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use harness::Fed;
use mimi_client_core::{ClientEvent, Outgoing, Rejection, SendOutcome};
use mimi_ds::Effect;
use mimi_ds::hub::FrankRefusal;
use mimi_federation_api::franking::Frank;
use mimi_federation_api::notify::FanoutContent;
use mimi_federation_api::report_abuse::AbusiveMessage;
use mimi_federation_api::{Decode as _, Encode, decode_exact};
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

/// Alice's message, accepted by the hub; its fan-out is returned, not delivered.
fn accepted_not_delivered(
    fed: &mut Fed,
    alice: &ClientUri,
    room: &RoomUri,
    text: &str,
) -> Vec<Effect> {
    let mut rng = fed.rng.clone();
    let (op, _) = fed.c(alice).send_text(&mut rng, room, text).unwrap();
    let Some(Outgoing::Message { request, .. }) = fed.c(alice).poll_request() else {
        panic!("a message");
    };
    let request = decode_exact(&request.encode().unwrap()).unwrap();
    let franker = fed.server(room.hub_domain()).franker().unwrap();
    let now_ms = fed.now() * 1000;
    let out = fed
        .hub_mut(room)
        .handle_submit(now_ms, alice.domain(), request, Some(&franker))
        .unwrap();
    fed.c(alice)
        .mark_sent(op, SendOutcome::Submit(out.response.outcome))
        .unwrap();
    out.effects
}

fn edit_frank(effects: &mut [Effect], edit: impl Fn(&mut Option<Frank>)) {
    for e in effects {
        let Effect::Notify { message, .. } = e;
        if let FanoutContent::Application { frank, .. } = &mut message.content {
            edit(frank);
        }
    }
}

#[test]
fn a_franked_message_is_verified_kept_and_recognised_by_the_hub() {
    let (mut fed, alice, charlie, room) = two();
    fed.c(&charlie).take_franks();
    let mut rng = fed.rng.clone();
    fed.c(&alice)
        .send_text(&mut rng, &room, "you will regret this")
        .unwrap();
    fed.pump();
    assert_eq!(
        fed.transcript(&charlie, &room),
        vec!["alice: you will regret this"]
    );
    let kept = fed.c(&charlie).take_franks();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(fed.c(&charlie).take_franks().is_empty(), "taken once");
    let kept = &kept[0];
    assert_eq!(kept.room, room);

    // What Charlie's report would carry.
    let (sender, accepted, content) = fed
        .client(&charlie)
        .message_content(&room, &kept.message)
        .unwrap();
    assert_eq!(sender.to_string(), "mimi://x.example/u/alice");
    assert_eq!(accepted, kept.accepted_timestamp);
    let frank =
        Frank::decode_from(&mut mimi_federation_api::codec::Reader::new(&kept.frank)).unwrap();
    let franker = fed.server(room.hub_domain()).franker().unwrap();
    let hub = &fed.hub(&room);
    let genuine = AbusiveMessage::new(content.clone(), frank.clone(), accepted);
    hub.verify_reported(&franker, "mimi://x.example/u/alice", &genuine)
        .unwrap();

    // Each part of the report is bound by the frank.
    let mut altered = content.clone();
    let n = altered.len();
    altered[n - 1] ^= 0x01;
    let refusal = hub
        .verify_reported(
            &franker,
            "mimi://x.example/u/alice",
            &AbusiveMessage::new(altered, frank.clone(), accepted),
        )
        .unwrap_err();
    assert!(
        matches!(refusal, FrankRefusal::Mismatch | FrankRefusal::Content(_)),
        "{refusal:?}"
    );
    assert_eq!(
        hub.verify_reported(
            &franker,
            "mimi://x.example/u/alice",
            &AbusiveMessage::new(content.clone(), frank.clone(), accepted + 1),
        ),
        Err(FrankRefusal::Mismatch)
    );
    assert!(matches!(
        hub.verify_reported(
            &franker,
            "mimi://y.example/u/charlie",
            &AbusiveMessage::new(content.clone(), frank.clone(), accepted),
        ),
        Err(FrankRefusal::OtherSender { .. })
    ));
    let mut forged = frank.clone();
    forged.server_frank[0] ^= 0x80;
    assert_eq!(
        hub.verify_reported(
            &franker,
            "mimi://x.example/u/alice",
            &AbusiveMessage::new(content, forged, accepted),
        ),
        Err(FrankRefusal::Mismatch)
    );
}

#[test]
fn receivers_refuse_a_frank_altered_or_dropped_on_the_way() {
    let (mut fed, alice, charlie, room) = two();
    let mut effects = accepted_not_delivered(&mut fed, &alice, &room, "tampered");
    edit_frank(&mut effects, |f| {
        f.as_mut().unwrap().server_frank[3] ^= 0x01;
    });
    while fed.c(&charlie).poll_event().is_some() {}
    fed.deliver(effects);
    assert!(fed.transcript(&charlie, &room).is_empty());
    let mut refused = false;
    while let Some(e) = fed.c(&charlie).poll_event() {
        refused |= matches!(
            e,
            ClientEvent::Rejected {
                rejection: Rejection::Frank { .. },
                ..
            }
        );
    }
    assert!(refused, "the receiver says why");

    let mut effects = accepted_not_delivered(&mut fed, &alice, &room, "unfranked");
    edit_frank(&mut effects, |f| *f = None);
    fed.deliver(effects);
    assert!(fed.transcript(&charlie, &room).is_empty());
    assert!(fed.c(&charlie).take_franks().is_empty());

    // The sentinel: an untouched message still arrives, franked.
    let mut rng = fed.rng.clone();
    fed.c(&alice)
        .send_text(&mut rng, &room, "sentinel")
        .unwrap();
    fed.pump();
    assert_eq!(fed.transcript(&charlie, &room), vec!["alice: sentinel"]);
    assert_eq!(fed.c(&charlie).take_franks().len(), 1);
}
