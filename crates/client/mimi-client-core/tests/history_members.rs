//! History for a new member (another user) through the real engines: Dave is added to a room
//! whose policy lets ordinary users and super admins share; one member (the designated sharer)
//! hands his device the room's log, once. Refused: a room that forbids sharing, a member whose
//! role may not share, a non-member, a removed member, a room Dave is not in, entries older
//! than the policy's period, a request or an envelope that one device relays through the room
//! in another device's name. Each refusal is followed by a sentinel message that arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use std::collections::BTreeSet;

use harness::{Fed, user};
use mimi_client_core::{
    ClientEvent, HistoryError, HistoryLimits, HistoryOutcome, ShareStatus, designated_sharer,
};
use mimi_room::components::{HistoryPolicy, HistorySharing, RoleIndex};
use mimi_room::presets::Preset;
use mimi_types::{ClientUri, RoomUri};

const DAVE: &str = "mimi://z.example/u/dave";

struct Cast {
    fed: Fed,
    alice: ClientUri,
    desk: ClientUri,
    room: RoomUri,
}

fn sharing(roles: &[u32], automatically_share: bool) -> HistoryPolicy {
    HistoryPolicy::Optional(HistorySharing {
        roles_that_can_share: roles.iter().map(|r| RoleIndex(*r)).collect(),
        automatically_share,
        max_time_period: 3600,
    })
}

/// Charlie's desk (super admin) makes a room with `policy`, adds Alice (ordinary user) and
/// they exchange `n` messages.
fn cast(policy: &HistoryPolicy, n: usize) -> Cast {
    let mut fed = Fed::new(&["x.example", "y.example", "z.example"]);
    let alice = fed.device("mimi://x.example/u/alice", "phone");
    let desk = fed.device("mimi://y.example/u/charlie", "desk");
    let room = fed.create_room_with_history_policy(
        &desk,
        "mimi://y.example/r/team",
        Preset::Cooperative,
        policy,
    );
    fed.invite(&desk, &room, &["mimi://x.example/u/alice"])
        .unwrap();
    let mut rng = fed.rng.clone();
    for i in 0..n {
        let from = if i % 2 == 0 { &desk } else { &alice };
        fed.c(from)
            .send_text(&mut rng, &room, &format!("message {i}"))
            .unwrap();
        fed.pump();
    }
    Cast {
        fed,
        alice,
        desk,
        room,
    }
}

/// Adds Dave (one device) to the room; returns his device.
fn add_dave(c: &mut Cast) -> ClientUri {
    let dave = c.fed.device(DAVE, "phone");
    let desk = c.desk.clone();
    c.fed.invite(&desk, &c.room, &[DAVE]).unwrap();
    assert!(c.fed.client(&dave).room(&c.room).unwrap().is_active());
    dave
}

fn handle(
    c: &mut Cast,
    by: &ClientUri,
    now: u64,
    item: &[u8],
) -> Result<HistoryOutcome, HistoryError> {
    c.fed
        .c(by)
        .handle_history_item(now, item, &HistoryLimits::default(), &BTreeSet::new())
}

fn answer(c: &mut Cast, by: &ClientUri, item: &[u8]) -> mimi_client_core::HistoryAnswer {
    let now = c.fed.now();
    match handle(c, by, now, item).unwrap() {
        HistoryOutcome::Answered(a) => a,
        other => panic!("not an answer: {other:?}"),
    }
}

/// An envelope `by` seals for `request` (an empty "not a member" bundle, which any device can
/// make): what a rogue sender would leave in the newcomer's mailbox.
fn envelope_from(c: &Cast, by: &ClientUri, request: &[u8], room: &RoomUri) -> Vec<u8> {
    c.fed
        .client(by)
        .history_not_member(request, std::slice::from_ref(room))
        .unwrap()
        .remove(0)
        .1
}

/// How many messages of Dave's timeline were handed over.
fn imported(c: &Cast, dave: &ClientUri) -> usize {
    c.fed
        .client(dave)
        .room(&c.room)
        .unwrap()
        .imported_messages()
}

/// The sentinel: a message after the refusals still reaches Dave.
fn sentinel(c: &mut Cast, dave: &ClientUri) {
    let mut rng = c.fed.rng.clone();
    let desk = c.desk.clone();
    c.fed
        .c(&desk)
        .send_text(&mut rng, &c.room, "sentinel")
        .unwrap();
    c.fed.pump();
    assert_eq!(
        c.fed.transcript(dave, &c.room).last().map(String::as_str),
        Some("charlie: sentinel")
    );
}

#[test]
fn a_new_member_gets_the_rooms_history_once_from_the_designated_sharer() {
    let mut c = cast(&sharing(&[2, 4], true), 6);
    let dave = add_dave(&mut c);
    assert!(c.fed.transcript(&dave, &c.room).is_empty());
    // Everyone computes the same sharer: the first eligible member device by client URI.
    let view = c.fed.client(&c.desk).room(&c.room).unwrap();
    let members = c.fed.client(&c.desk).group(&c.room).unwrap().members();
    let designated = designated_sharer(view.state(), &members, &user(DAVE)).unwrap();
    assert_eq!(
        c.fed.client(&dave).history_sharers(&c.room),
        vec![designated.clone()]
    );
    let other = if designated == c.alice {
        c.desk.clone()
    } else {
        c.alice.clone()
    };
    let now = c.fed.now();
    let request = c
        .fed
        .client(&dave)
        .history_request(now, std::slice::from_ref(&c.room))
        .unwrap();
    // The designated sharer answers on its own; the other member sends nothing (one copy).
    let a = answer(&mut c, &designated, &request);
    assert_eq!(a.requester, dave);
    assert_eq!(a.envelopes.len(), 1);
    assert_eq!(a.envelopes[0].1, ShareStatus::Shared);
    let none = answer(&mut c, &other, &request);
    assert!(
        none.envelopes.is_empty() && none.waiting.is_empty(),
        "{none:?}"
    );

    // Entries older than the policy's period are dropped by the newcomer itself, even when
    // the sharer sent them: taken two hours later, nothing of it is imported.
    let later = now + 7200;
    let HistoryOutcome::Imported(i) = handle(&mut c, &dave, later, &a.envelopes[0].2).unwrap()
    else {
        panic!()
    };
    assert_eq!((i.imported, i.skipped), (0, 6));
    // Taken in time, all of it.
    let HistoryOutcome::Imported(i) = handle(&mut c, &dave, now, &a.envelopes[0].2).unwrap() else {
        panic!()
    };
    assert_eq!(i.from, designated);
    assert_eq!(i.imported, 6);
    assert_eq!(
        c.fed.transcript(&dave, &c.room),
        c.fed.transcript(&c.desk, &c.room)
    );
    let view = c.fed.client(&dave).room(&c.room).unwrap();
    assert_eq!(view.imported_messages(), 6);
    let events: Vec<ClientEvent> = std::iter::from_fn(|| c.fed.c(&dave).poll_event()).collect();
    assert!(
        events.iter().any(|e| matches!(e,
            ClientEvent::HistoryImported { from, entries: 6, .. } if *from == designated)),
        "{events:?}"
    );
    sentinel(&mut c, &dave);
}

#[test]
fn without_automatic_sharing_a_member_shares_once_its_user_agrees() {
    let mut c = cast(&sharing(&[2, 4], false), 3);
    let dave = add_dave(&mut c);
    // Dave asks every eligible member device.
    let sharers: BTreeSet<ClientUri> = c
        .fed
        .client(&dave)
        .history_sharers(&c.room)
        .into_iter()
        .collect();
    assert_eq!(sharers, BTreeSet::from([c.alice.clone(), c.desk.clone()]));
    let now = c.fed.now();
    let request = c
        .fed
        .client(&dave)
        .history_request(now, std::slice::from_ref(&c.room))
        .unwrap();
    let alice = c.alice.clone();
    // Alice's device keeps the request waiting until she agrees.
    let a = answer(&mut c, &alice, &request);
    assert!(a.envelopes.is_empty());
    assert_eq!(a.waiting, vec![c.room.clone()]);
    let room = c.room.clone();
    c.fed
        .c(&alice)
        .share_history(now, &room, &user(DAVE))
        .unwrap();
    let a = answer(&mut c, &alice, &request);
    assert_eq!(a.envelopes.len(), 1, "{a:?}");
    let HistoryOutcome::Imported(i) = handle(&mut c, &dave, now, &a.envelopes[0].2).unwrap() else {
        panic!()
    };
    assert_eq!(i.imported, 3);
    sentinel(&mut c, &dave);
}

#[test]
fn a_room_forbidding_history_gives_a_new_member_nothing_and_refuses_envelopes() {
    for policy in [HistoryPolicy::Forbidden, sharing(&[4], true)] {
        let mut c = cast(&policy, 2);
        let dave = add_dave(&mut c);
        let alice = c.alice.clone();
        let room = c.room.clone();
        let now = c.fed.now();
        let request = c
            .fed
            .client(&dave)
            .history_request(now, std::slice::from_ref(&c.room))
            .unwrap();
        // Alice may not share: neither by policy nor (second room) by role.
        assert!(!c.fed.client(&dave).history_sharers(&room).contains(&alice));
        let a = answer(&mut c, &alice, &request);
        assert!(a.envelopes.is_empty() && a.waiting.is_empty(), "{a:?}");
        let err = c
            .fed
            .c(&alice)
            .share_history(now, &room, &user(DAVE))
            .unwrap_err();
        assert!(matches!(err, HistoryError::Forbidden { .. }), "{err}");
        // An envelope she makes anyway is refused by Dave.
        let forged = envelope_from(&c, &alice, &request, &room);
        let err = handle(&mut c, &dave, now, &forged).unwrap_err();
        assert!(
            matches!(&err, HistoryError::NotASharer { sender, reason, .. }
                if *sender == alice && (reason.contains("not among the roles") || reason.contains("forbids"))),
            "{err}"
        );
        assert_eq!(imported(&c, &dave), 0);
        sentinel(&mut c, &dave);
    }
}

#[test]
fn envelopes_from_non_members_removed_members_or_for_other_rooms_are_refused() {
    let mut c = cast(&sharing(&[2, 4], true), 2);
    let dave = add_dave(&mut c);
    let room = c.room.clone();
    let now = c.fed.now();
    let request = c
        .fed
        .client(&dave)
        .history_request(now, std::slice::from_ref(&room))
        .unwrap();
    // Eve, never a member.
    let eve = c.fed.device("mimi://x.example/u/eve", "phone");
    let forged = envelope_from(&c, &eve, &request, &room);
    let err = handle(&mut c, &dave, now, &forged).unwrap_err();
    assert!(
        matches!(&err, HistoryError::NotASharer { sender, reason, .. }
            if *sender == eve && reason.contains("not a member")),
        "{err}"
    );
    // Alice, a sharer, makes one; then the desk removes her: her envelope is refused now.
    let alice = c.alice.clone();
    let hers = envelope_from(&c, &alice, &request, &room);
    let desk = c.desk.clone();
    c.fed
        .c(&desk)
        .remove(now, &room, &[user("mimi://x.example/u/alice")])
        .unwrap();
    c.fed.pump();
    let err = handle(&mut c, &dave, now, &hers).unwrap_err();
    assert!(
        matches!(&err, HistoryError::NotASharer { sender, .. } if *sender == alice),
        "{err}"
    );
    // The desk's envelope for a room Dave is not in.
    let other = c
        .fed
        .create_room(&desk, "mimi://y.example/r/other", Preset::Cooperative);
    let request_other = c
        .fed
        .client(&dave)
        .history_request(now, std::slice::from_ref(&other))
        .unwrap();
    let forged = envelope_from(&c, &desk, &request_other, &other);
    let err = handle(&mut c, &dave, now, &forged).unwrap_err();
    assert!(matches!(err, HistoryError::NotMember { .. }), "{err}");
    // Nor does the desk answer Dave's request for it.
    let a = answer(&mut c, &desk, &request_other);
    assert!(a.envelopes.is_empty(), "{a:?}");
    assert_eq!(imported(&c, &dave), 0);
    sentinel(&mut c, &dave);
}

/// The events Dave's device gathered.
fn events_of(c: &mut Cast, who: &ClientUri) -> Vec<ClientEvent> {
    std::iter::from_fn(|| c.fed.c(who).poll_event()).collect()
}

#[test]
fn through_the_room_the_designated_sharer_answers_and_a_third_member_cannot_open_it() {
    let mut c = cast(&sharing(&[2, 4], true), 4);
    let dave = add_dave(&mut c);
    let room = c.room.clone();
    let now = c.fed.now();
    let _ = events_of(&mut c, &dave);
    let alice = c.alice.clone();
    let _ = events_of(&mut c, &alice);
    c.fed.c(&dave).request_room_history(now, &room).unwrap();
    c.fed.pump();
    assert_eq!(
        c.fed.transcript(&dave, &c.room),
        c.fed.transcript(&c.desk, &c.room)
    );
    assert_eq!(imported(&c, &dave), 4);
    let events = events_of(&mut c, &dave);
    let imports: Vec<&ClientEvent> = events
        .iter()
        .filter(|e| matches!(e, ClientEvent::HistoryImported { .. }))
        .collect();
    assert_eq!(imports.len(), 1, "one copy only: {events:?}");
    // The other members got the request and the envelope too, and show neither.
    let theirs = events_of(&mut c, &alice);
    assert!(
        !theirs.iter().any(|e| matches!(
            e,
            ClientEvent::HistoryImported { .. } | ClientEvent::HistoryRefused { .. }
        )),
        "{theirs:?}"
    );
    assert_eq!(
        c.fed.transcript(&alice, &c.room).len(),
        c.fed.transcript(&c.desk, &c.room).len()
    );
    // An envelope sealed to Dave's device does not open at the other member's.
    let request = c
        .fed
        .client(&dave)
        .history_request(now, std::slice::from_ref(&room))
        .unwrap();
    let designated = c.fed.client(&dave).history_sharers(&room).remove(0);
    let third = if designated == alice {
        c.desk.clone()
    } else {
        alice.clone()
    };
    let a = answer(&mut c, &designated, &request);
    let err = handle(&mut c, &third, now, &a.envelopes[0].2).unwrap_err();
    assert!(
        matches!(&err, HistoryError::NotForThisDevice { recipient } if *recipient == dave),
        "{err}"
    );
    sentinel(&mut c, &dave);
}

#[test]
fn through_the_room_a_device_is_answered_once_an_hour_so_re_asking_cannot_flood_the_room() {
    let mut c = cast(&sharing(&[2, 4], true), 3);
    let dave = add_dave(&mut c);
    let room = c.room.clone();
    let now = c.fed.now();
    c.fed.c(&dave).request_room_history(now, &room).unwrap();
    c.fed.pump();
    assert_eq!(imported(&c, &dave), 3);
    let designated = c.fed.client(&dave).history_sharers(&room).remove(0);
    let _ = events_of(&mut c, &dave);
    let _ = events_of(&mut c, &designated);

    // A rogue (or impatient) Dave asks again and again within the hour: the sharer refuses
    // each time, sends no bundle, and Dave imports nothing more.
    for _ in 0..3 {
        c.fed.c(&dave).request_room_history(now, &room).unwrap();
        c.fed.pump();
    }
    let refused: Vec<ClientEvent> = events_of(&mut c, &designated)
        .into_iter()
        .filter(|e| {
            matches!(e, ClientEvent::HistoryRefused { error: HistoryError::AlreadyAnswered { requester, .. }, .. }
                if *requester == dave)
        })
        .collect();
    assert_eq!(refused.len(), 3, "{refused:?}");
    assert!(
        !events_of(&mut c, &dave)
            .iter()
            .any(|e| matches!(e, ClientEvent::HistoryImported { .. })),
        "no second bundle within the hour"
    );
    sentinel(&mut c, &dave);

    // An hour later the same request is answered again, not refused (the bundle is then empty:
    // everything is older than the policy's period, so Dave imports nothing new).
    c.fed.advance(3601);
    let later = c.fed.now();
    c.fed.c(&dave).request_room_history(later, &room).unwrap();
    c.fed.pump();
    let theirs = events_of(&mut c, &designated);
    assert!(
        !theirs
            .iter()
            .any(|e| matches!(e, ClientEvent::HistoryRefused { .. })),
        "answered again after the hour: {theirs:?}"
    );
    sentinel(&mut c, &dave);
}

#[test]
fn through_the_room_a_request_waits_for_agreement_and_a_forbidding_room_is_not_asked() {
    let mut c = cast(&sharing(&[2, 4], false), 3);
    let dave = add_dave(&mut c);
    let room = c.room.clone();
    let now = c.fed.now();
    assert!(!c.fed.client(&dave).asks_history_on_join(&room));
    c.fed.c(&dave).request_room_history(now, &room).unwrap();
    c.fed.pump();
    assert_eq!(imported(&c, &dave), 0);
    let alice = c.alice.clone();
    assert_eq!(c.fed.client(&alice).waiting_history_requests().len(), 1);
    assert_eq!(
        c.fed
            .c(&alice)
            .share_history(now, &room, &user(DAVE))
            .unwrap(),
        1
    );
    assert!(c.fed.client(&alice).waiting_history_requests().is_empty());
    c.fed.pump();
    assert_eq!(imported(&c, &dave), 3);
    sentinel(&mut c, &dave);

    let mut c = cast(&HistoryPolicy::Forbidden, 2);
    let dave = add_dave(&mut c);
    let room = c.room.clone();
    let now = c.fed.now();
    let err = c.fed.c(&dave).request_room_history(now, &room).unwrap_err();
    assert!(matches!(err, HistoryError::Forbidden { .. }), "{err}");
    // Sent anyway: nobody answers or keeps it.
    let request = c
        .fed
        .client(&dave)
        .history_request(now, std::slice::from_ref(&room))
        .unwrap();
    c.fed.c(&dave).send_history_item(&room, &request).unwrap();
    c.fed.pump();
    let alice = c.alice.clone();
    assert!(c.fed.client(&alice).waiting_history_requests().is_empty());
    assert_eq!(imported(&c, &dave), 0);
    sentinel(&mut c, &dave);
}

#[test]
fn through_the_room_a_request_or_envelope_relayed_by_another_device_is_refused() {
    // Only the desk (super admin) may share: Alice's device is the rogue relayer.
    let mut c = cast(&sharing(&[4], true), 3);
    let dave = add_dave(&mut c);
    let room = c.room.clone();
    let now = c.fed.now();
    let (alice, desk) = (c.alice.clone(), c.desk.clone());
    let _ = events_of(&mut c, &dave);
    let _ = events_of(&mut c, &desk);

    // Alice's device sends Dave's signed request through the room as its own item: the desk
    // refuses it (a device asks for itself only) and sends Dave nothing.
    let request = c
        .fed
        .client(&dave)
        .history_request(now, std::slice::from_ref(&room))
        .unwrap();
    c.fed.c(&alice).send_history_item(&room, &request).unwrap();
    c.fed.pump();
    let at_desk = events_of(&mut c, &desk);
    assert!(
        at_desk.iter().any(|e| matches!(
            e,
            ClientEvent::HistoryRefused { from, error: HistoryError::Malformed(why), .. }
                if *from == alice && why.contains("asks for itself only")
        )),
        "{at_desk:?}"
    );
    assert_eq!(imported(&c, &dave), 0, "a relayed request was answered");

    // Alice's device relays an envelope the desk sealed to Dave: Dave refuses it (it is
    // signed as the desk, not as the device that sent it) and imports nothing.
    let a = answer(&mut c, &desk, &request);
    assert!(!a.envelopes.is_empty(), "{a:?}");
    c.fed
        .c(&alice)
        .send_history_item(&room, &a.envelopes[0].2)
        .unwrap();
    c.fed.pump();
    let at_dave = events_of(&mut c, &dave);
    assert!(
        at_dave.iter().any(|e| matches!(
            e,
            ClientEvent::HistoryRefused {
                from,
                error: HistoryError::NotASharer { sender, reason, .. },
                ..
            } if *from == alice && *sender == alice && reason.contains("signed as")
        )),
        "{at_dave:?}"
    );
    assert!(
        !at_dave
            .iter()
            .any(|e| matches!(e, ClientEvent::HistoryImported { .. })),
        "{at_dave:?}"
    );
    assert_eq!(imported(&c, &dave), 0);

    // Dave's own request through the room is answered by the desk, and the room goes on.
    c.fed.c(&dave).request_room_history(now, &room).unwrap();
    c.fed.pump();
    assert_eq!(imported(&c, &dave), 3);
    sentinel(&mut c, &dave);
}
