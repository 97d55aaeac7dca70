//! Delivery and read receipts through the real engines (three providers): x.example (Alice,
//! Bob), y.example (the hub: Charlie). Reports are MIMI content messages carrying an
//! `application/mimi-message-status` part; the view aggregates them per message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use harness::{Fed, user};
use mimi_client_core::{Client, ClientError, ClientEvent, Rejection};
use mimi_content::status::{MEDIA_TYPE, MessageStatus, MessageStatusReport};
use mimi_content::{ContentBuilder, Disposition, MessageId, NestedPart};
use mimi_mls::ComponentChange;
use mimi_room::Capability;
use mimi_room::components::{Component as _, Optionality, StatusNotificationPolicy};
use mimi_room::presets::Preset;
use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, RoomUri, UserUri};

struct Cast {
    fed: Fed,
    alice: ClientUri,
    bob: ClientUri,
    charlie: ClientUri,
    room: RoomUri,
}

fn cast() -> Cast {
    cast_with(Preset::Cooperative)
}

fn cast_with(preset: Preset) -> Cast {
    let mut fed = Fed::new(&["x.example", "y.example", "z.example"]);
    let alice = fed.device("mimi://x.example/u/alice", "phone");
    let bob = fed.device("mimi://x.example/u/bob", "laptop");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    let room = fed.create_room(&charlie, "mimi://y.example/r/team", preset);
    fed.invite(
        &charlie,
        &room,
        &["mimi://x.example/u/alice", "mimi://x.example/u/bob"],
    )
    .unwrap();
    Cast {
        fed,
        alice,
        bob,
        charlie,
        room,
    }
}

fn users(names: &[&str]) -> std::collections::BTreeSet<UserUri> {
    names.iter().map(|n| user(n)).collect()
}

const ALICE: &str = "mimi://x.example/u/alice";
const BOB: &str = "mimi://x.example/u/bob";
const CHARLIE: &str = "mimi://y.example/u/charlie";

fn report(entries: &[(MessageId, MessageStatus)]) -> ContentBuilder {
    let mut r = MessageStatusReport::default();
    for (id, s) in entries {
        r.push(*id, *s);
    }
    ContentBuilder::new(NestedPart::single(
        Disposition::SESSION,
        MEDIA_TYPE,
        r.encode(),
    ))
}

fn drain(c: &mut Client) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

#[test]
fn delivered_and_read_aggregate_across_three_users_and_never_show_in_the_timeline() {
    let mut c = cast();
    let room = c.room.clone();
    let mut rng = c.fed.rng.clone();
    let (_, hello) = c
        .fed
        .c(&c.alice)
        .send_text(&mut rng, &room, "hello")
        .unwrap();
    let (_, second) = c
        .fed
        .c(&c.charlie)
        .send_text(&mut rng, &room, "hi")
        .unwrap();
    c.fed.pump();
    drain(c.fed.c(&c.alice));

    // Bob and Charlie report delivery of Alice's message; Bob also of Charlie's, in one report.
    c.fed
        .c(&c.bob)
        .send_status(
            &mut rng,
            &room,
            &[
                (hello, MessageStatus::DELIVERED),
                (second, MessageStatus::DELIVERED),
            ],
        )
        .unwrap();
    c.fed
        .c(&c.charlie)
        .send_status(&mut rng, &room, &[(hello, MessageStatus::DELIVERED)])
        .unwrap();
    c.fed.pump();
    let events = drain(c.fed.c(&c.alice));
    assert!(
        events.iter().any(|e| matches!(e,
            ClientEvent::StatusChanged { room: r, message } if *r == room && *message == hello)),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ClientEvent::Timeline { .. })),
        "a report is not a timeline message: {events:?}"
    );
    for d in [&c.alice, &c.bob, &c.charlie] {
        let view = c.fed.client(d).room(&room).unwrap();
        let m = view.message(&hello).unwrap();
        assert_eq!(m.delivered_to, users(&[BOB, CHARLIE]), "{d}");
        assert!(m.read_by.is_empty(), "{d}");
        let m = view.message(&second).unwrap();
        assert_eq!(m.delivered_to, users(&[BOB]), "{d}");
    }

    // Bob reads everything unread from others; Charlie reads Alice's message.
    let unread = c
        .fed
        .client(&c.bob)
        .room(&room)
        .unwrap()
        .unread_from_others();
    assert_eq!(unread, vec![hello, second]);
    let statuses: Vec<_> = unread.iter().map(|id| (*id, MessageStatus::READ)).collect();
    c.fed
        .c(&c.bob)
        .send_status(&mut rng, &room, &statuses)
        .unwrap();
    c.fed.pump();
    assert!(
        c.fed
            .client(&c.bob)
            .room(&room)
            .unwrap()
            .unread_from_others()
            .is_empty(),
        "Bob's own read report came back and counts for him"
    );
    c.fed
        .c(&c.charlie)
        .send_status(&mut rng, &room, &[(hello, MessageStatus::READ)])
        .unwrap();
    // Alice reports on her own message (ignored) and on an unknown one (ignored).
    c.fed
        .c(&c.alice)
        .send_content(
            &mut rng,
            &room,
            report(&[
                (hello, MessageStatus::READ),
                (MessageId([7; 32]), MessageStatus::READ),
                (second, MessageStatus::DELIVERED),
            ]),
        )
        .unwrap();
    c.fed.pump();
    for d in [&c.alice, &c.bob, &c.charlie] {
        let view = c.fed.client(d).room(&room).unwrap();
        let m = view.message(&hello).unwrap();
        assert_eq!(m.read_by, users(&[BOB, CHARLIE]), "{d}");
        assert_eq!(m.delivered_to, users(&[BOB, CHARLIE]), "{d}");
        assert_eq!(m.statuses.get(&user(BOB)), Some(&MessageStatus::READ));
        assert!(!m.statuses.contains_key(&user(ALICE)), "own report ignored");
        let m = view.message(&second).unwrap();
        assert_eq!(m.read_by, users(&[BOB]), "{d}");
        assert_eq!(m.delivered_to, users(&[ALICE, BOB]), "{d}");
        assert!(view.rejections().is_empty(), "{d}: {:?}", view.rejections());
        assert_eq!(
            c.fed.transcript(d, &room),
            vec!["alice: hello", "charlie: hi"],
            "{d}: receipts are not in the transcript"
        );
    }

    // The aggregates are rebuilt from the log on restore (no record change).
    let record = c.fed.client(&c.alice).to_record().unwrap();
    let restored = Client::from_record(&record, c.fed.trust()).unwrap();
    let before = c.fed.client(&c.alice).room(&room).unwrap();
    let after = restored.room(&room).unwrap();
    assert_eq!(after.messages(), before.messages());

    // Reports about unknown messages are refused locally.
    let err = c
        .fed
        .c(&c.bob)
        .send_status(
            &mut rng,
            &room,
            &[(MessageId([9; 32]), MessageStatus::READ)],
        )
        .unwrap_err();
    assert!(matches!(err, ClientError::UnknownMessage { .. }), "{err}");
}

#[test]
fn a_policy_forbidding_read_receipts_stops_sending_and_receiving_them() {
    // A strictly administered room whose super admin (Charlie) first gives his role
    // canChangeOtherPolicyAttribute (no preset role holds it).
    let mut c = cast_with(Preset::StrictlyAdministered);
    let room = c.room.clone();
    let mut rng = c.fed.rng.clone();
    let now = c.fed.now();
    let mut roles = Preset::StrictlyAdministered.roles();
    let creator = Preset::StrictlyAdministered.creator_role();
    roles
        .roles
        .iter_mut()
        .find(|r| r.role_index == creator)
        .unwrap()
        .role_capabilities
        .push(Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE);
    c.fed
        .c(&c.charlie)
        .update_components(
            now,
            &room,
            &[ComponentChange::update(
                ComponentId::ROLES_LIST,
                roles.encode(),
            )],
        )
        .unwrap();
    c.fed.pump();
    assert!(c.fed.refusals().is_empty(), "{:?}", c.fed.refusals());
    c.fed
        .c(&c.charlie)
        .set_status_policy(
            now,
            &room,
            &StatusNotificationPolicy {
                delivery_notifications: Optionality::Optional,
                read_receipts: Optionality::Forbidden,
            },
        )
        .unwrap();
    c.fed.pump();
    assert!(c.fed.refusals().is_empty(), "{:?}", c.fed.refusals());
    let (_, hello) = c
        .fed
        .c(&c.alice)
        .send_text(&mut rng, &room, "hello")
        .unwrap();
    c.fed.pump();

    assert!(
        !c.fed
            .client(&c.bob)
            .status_allowed(&room, MessageStatus::READ)
    );
    assert!(
        c.fed
            .client(&c.bob)
            .status_allowed(&room, MessageStatus::DELIVERED)
    );
    let err = c
        .fed
        .c(&c.bob)
        .send_status(&mut rng, &room, &[(hello, MessageStatus::READ)])
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::StatusForbidden { status, .. } if status == "read"),
        "{err}"
    );
    assert!(
        c.fed.c(&c.bob).poll_request().is_none(),
        "nothing was queued"
    );

    // A client that sends one anyway: every receiver refuses it.
    c.fed
        .c(&c.bob)
        .send_content(&mut rng, &room, report(&[(hello, MessageStatus::READ)]))
        .unwrap();
    // Delivery notifications stay allowed.
    c.fed
        .c(&c.charlie)
        .send_status(&mut rng, &room, &[(hello, MessageStatus::DELIVERED)])
        .unwrap();
    c.fed.pump();
    for d in [&c.alice, &c.charlie] {
        let view = c.fed.client(d).room(&room).unwrap();
        let m = view.message(&hello).unwrap();
        assert!(m.read_by.is_empty(), "{d}");
        assert_eq!(m.delivered_to, users(&[CHARLIE]), "{d}");
        assert!(
            view.rejections().iter().any(|r| matches!(r,
                Rejection::Status { sender, error } if *sender == user(BOB)
                    && error.contains("forbids"))),
            "{d}: {:?}",
            view.rejections()
        );
    }

    // A sentinel message still arrives everywhere.
    c.fed
        .c(&c.bob)
        .send_text(&mut rng, &room, "sentinel")
        .unwrap();
    c.fed.pump();
    for d in [&c.alice, &c.bob, &c.charlie] {
        assert_eq!(
            c.fed.transcript(d, &room),
            vec!["alice: hello", "bob: sentinel"],
            "{d}"
        );
    }
}
