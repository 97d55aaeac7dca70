//! History for a new device through the real engines: Charlie's desk hands the room's history
//! to Charlie's new phone; nothing from anyone else is accepted, nothing where the room forbids
//! sharing, nothing for a room the phone is not in.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use std::collections::BTreeSet;

use harness::Fed;
use mimi_client_core::{
    ClientEvent, HistoryError, HistoryLimits, HistoryOutcome, REQUEST_TTL_SECS, ShareStatus,
};
use mimi_room::components::HistoryPolicy;
use mimi_room::presets::Preset;
use mimi_types::{ClientUri, RoomUri};

struct Cast {
    fed: Fed,
    alice: ClientUri,
    desk: ClientUri,
    room: RoomUri,
}

fn cast() -> Cast {
    let mut fed = Fed::new(&["x.example", "y.example"]);
    let alice = fed.device("mimi://x.example/u/alice", "phone");
    let desk = fed.device("mimi://y.example/u/charlie", "desk");
    let room = fed.create_room(&desk, "mimi://y.example/r/team", Preset::Cooperative);
    fed.invite(&desk, &room, &["mimi://x.example/u/alice"])
        .unwrap();
    Cast {
        fed,
        alice,
        desk,
        room,
    }
}

fn talk(c: &mut Cast, n: usize) {
    let mut rng = c.fed.rng.clone();
    for i in 0..n {
        let from = if i % 2 == 0 {
            c.desk.clone()
        } else {
            c.alice.clone()
        };
        c.fed
            .c(&from)
            .send_text(&mut rng, &c.room, &format!("message {i}"))
            .unwrap();
        c.fed.pump();
    }
}

/// A new device of `user` joins `room` by external commit.
fn join(fed: &mut Fed, user: &str, device: &str, room: &RoomUri) -> ClientUri {
    let phone = fed.device(user, device);
    let now = fed.now();
    let hub = &fed.hub(room);
    let group_info = hub.group().group_info().unwrap().to_vec();
    let tree = hub.group().ratchet_tree().unwrap();
    let pending: Vec<Vec<u8>> = hub
        .group()
        .pending_proposals()
        .into_iter()
        .map(|(m, _)| m)
        .collect();
    fed.c(&phone)
        .join_external(now, room, &group_info, &tree, &pending)
        .unwrap();
    fed.pump();
    assert!(fed.client(&phone).room(room).unwrap().is_active());
    phone
}

/// Like `Fed::create_room`, with a history policy.
fn create_with_policy(
    fed: &mut Fed,
    creator: &ClientUri,
    room: &str,
    policy: &HistoryPolicy,
) -> RoomUri {
    fed.create_room_with_history_policy(creator, room, Preset::Cooperative, policy)
}

fn answer(fed: &mut Fed, by: &ClientUri, item: &[u8]) -> mimi_client_core::HistoryAnswer {
    let now = fed.now();
    match fed
        .c(by)
        .handle_history_item(now, item, &HistoryLimits::default(), &BTreeSet::new())
        .unwrap()
    {
        HistoryOutcome::Answered(a) => a,
        other => panic!("not an answer: {other:?}"),
    }
}

#[test]
fn a_new_device_gets_its_siblings_history_once_and_in_order() {
    let mut c = cast();
    talk(&mut c, 12);
    let phone = join(&mut c.fed, "mimi://y.example/u/charlie", "phone", &c.room);
    // The desk saw its sibling join.
    let events: Vec<ClientEvent> = std::iter::from_fn(|| c.fed.c(&c.desk).poll_event()).collect();
    assert!(
        events
            .iter()
            .any(|e| matches!(e, ClientEvent::SiblingJoined { client, .. } if *client == phone)),
        "{events:?}"
    );
    // One message after the phone joined: it has that one itself.
    let mut rng = c.fed.rng.clone();
    c.fed
        .c(&c.alice)
        .send_text(&mut rng, &c.room, "after the phone joined")
        .unwrap();
    c.fed.pump();
    assert_eq!(c.fed.transcript(&phone, &c.room).len(), 1);

    let now = c.fed.now();
    let request = c
        .fed
        .client(&phone)
        .history_request(now, std::slice::from_ref(&c.room))
        .unwrap();
    let a = answer(&mut c.fed, &c.desk, &request);
    assert_eq!(a.requester, phone);
    assert!(a.waiting.is_empty());
    assert_eq!(a.envelopes.len(), 1);
    assert_eq!(a.envelopes[0].1, ShareStatus::Shared);
    let envelope = a.envelopes[0].2.clone();
    let outcome = c
        .fed
        .c(&phone)
        .handle_history_item(now, &envelope, &HistoryLimits::default(), &BTreeSet::new())
        .unwrap();
    let HistoryOutcome::Imported(import) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(import.from, c.desk);
    assert_eq!(import.imported, 12);
    assert_eq!(import.skipped, 1, "the message it had itself");
    assert_eq!(
        c.fed.transcript(&phone, &c.room),
        c.fed.transcript(&c.desk, &c.room)
    );
    let view = c.fed.client(&phone).room(&c.room).unwrap();
    assert_eq!(view.imported_messages(), 12);
    assert!(!view.messages().last().unwrap().imported);
    // The same bundle again adds nothing.
    let again = c
        .fed
        .c(&phone)
        .handle_history_item(now, &envelope, &HistoryLimits::default(), &BTreeSet::new())
        .unwrap();
    assert!(matches!(again, HistoryOutcome::Imported(i) if i.imported == 0));
    // The merged timeline survives a restore from the split record (imported marks too).
    let update = c.fed.client(&phone).record_update().unwrap();
    for l in &update.logs {
        assert_eq!(l.from, 0, "the log is written anew from the start");
    }
    let mut stored = mimi_client_core::StoredRecord::default();
    stored.apply(&update);
    let restored = mimi_client_core::Client::from_stored(&stored, c.fed.trust()).unwrap();
    let view = restored.room(&c.room).unwrap();
    assert_eq!(view.messages().len(), 13);
    assert_eq!(view.imported_messages(), 12);
}

#[test]
fn history_from_another_user_or_tampered_is_refused() {
    let mut c = cast();
    talk(&mut c, 3);
    let phone = join(&mut c.fed, "mimi://y.example/u/charlie", "phone", &c.room);
    let now = c.fed.now();
    let request = c
        .fed
        .client(&phone)
        .history_request(now, std::slice::from_ref(&c.room))
        .unwrap();
    // Alice (a member of the room, another user) answers Charlie's request with nothing: the
    // room has no history policy, so its history goes only to a user's own new devices
    // (`history_members`)...
    let alice = c.alice.clone();
    let a = answer(&mut c.fed, &alice, &request);
    assert!(a.envelopes.is_empty() && a.waiting.is_empty(), "{a:?}");
    // ...and an envelope she seals for Charlie's phone anyway is refused.
    let forged = c
        .fed
        .client(&alice)
        .history_not_member(&request, std::slice::from_ref(&c.room))
        .unwrap()
        .remove(0)
        .1;
    let err = c
        .fed
        .c(&phone)
        .handle_history_item(now, &forged, &HistoryLimits::default(), &BTreeSet::new())
        .unwrap_err();
    assert!(
        matches!(&err, HistoryError::NotASharer { sender, reason, .. }
            if *sender == alice && reason.contains("no history policy")),
        "{err}"
    );
    // Nor can she redirect what her own second device asked for: it is not for the phone.
    let tablet = join(&mut c.fed, "mimi://x.example/u/alice", "tablet", &c.room);
    let hers = c
        .fed
        .client(&tablet)
        .history_request(now, std::slice::from_ref(&c.room))
        .unwrap();
    let redirected = answer(&mut c.fed, &alice, &hers).envelopes[0].2.clone();
    let err = c
        .fed
        .c(&phone)
        .handle_history_item(
            now,
            &redirected,
            &HistoryLimits::default(),
            &BTreeSet::new(),
        )
        .unwrap_err();
    assert!(
        matches!(err, HistoryError::NotForThisDevice { .. }),
        "{err}"
    );
    // A bundle for the desk's phone, altered on the way, is refused by its signature.
    let mut good = answer(&mut c.fed, &c.desk, &request).envelopes[0].2.clone();
    let at = good.len() - 80;
    good[at] ^= 1;
    let err = c
        .fed
        .c(&phone)
        .handle_history_item(now, &good, &HistoryLimits::default(), &BTreeSet::new())
        .unwrap_err();
    assert!(matches!(err, HistoryError::Signature { .. }), "{err}");
    // A bundle for another device of the same user is not for the phone.
    let laptop = join(&mut c.fed, "mimi://y.example/u/charlie", "laptop", &c.room);
    let for_laptop = c
        .fed
        .client(&laptop)
        .history_request(now, std::slice::from_ref(&c.room))
        .unwrap();
    let envelope = answer(&mut c.fed, &c.desk, &for_laptop).envelopes[0]
        .2
        .clone();
    let err = c
        .fed
        .c(&phone)
        .handle_history_item(now, &envelope, &HistoryLimits::default(), &BTreeSet::new())
        .unwrap_err();
    assert!(
        matches!(err, HistoryError::NotForThisDevice { .. }),
        "{err}"
    );
    // Nothing was imported by any of it.
    assert_eq!(
        c.fed
            .client(&phone)
            .room(&c.room)
            .unwrap()
            .imported_messages(),
        0
    );
    // An old request is not answered.
    let later = now + REQUEST_TTL_SECS + 1;
    let err = c
        .fed
        .c(&c.desk)
        .handle_history_item(later, &request, &HistoryLimits::default(), &BTreeSet::new())
        .unwrap_err();
    assert!(matches!(err, HistoryError::Expired { .. }), "{err}");
}

#[test]
fn nothing_is_handed_over_where_the_room_forbids_it_or_the_device_is_not_a_member() {
    let mut c = cast();
    talk(&mut c, 4);
    let now = c.fed.now();
    let desk = c.desk.clone();
    let room = create_with_policy(
        &mut c.fed,
        &desk,
        "mimi://y.example/r/closed",
        &HistoryPolicy::Forbidden,
    );
    let mut rng = c.fed.rng.clone();
    for text in ["a", "b"] {
        c.fed.c(&desk).send_text(&mut rng, &room, text).unwrap();
        c.fed.pump();
    }
    // A second room the phone never joins.
    let other = c
        .fed
        .create_room(&desk, "mimi://y.example/r/other", Preset::Cooperative);
    c.fed
        .c(&desk)
        .send_text(&mut rng, &other, "private")
        .unwrap();
    c.fed.pump();
    let phone = join(&mut c.fed, "mimi://y.example/u/charlie", "phone", &room);
    let request = c
        .fed
        .client(&phone)
        .history_request(now, &[room.clone(), other.clone()])
        .unwrap();
    let a = answer(&mut c.fed, &desk, &request);
    assert_eq!(a.waiting, vec![other.clone()]);
    assert_eq!(a.envelopes.len(), 1);
    assert_eq!(a.envelopes[0].1, ShareStatus::Forbidden);
    // The phone, seeing the same policy, refuses the (empty) bundle with the reason.
    let err = c
        .fed
        .c(&phone)
        .handle_history_item(
            now,
            &a.envelopes[0].2,
            &HistoryLimits::default(),
            &BTreeSet::new(),
        )
        .unwrap_err();
    assert!(matches!(err, HistoryError::Forbidden { .. }), "{err}");
    assert!(c.fed.transcript(&phone, &room).is_empty());
    // The room it never joined is answered "not a member" once the request ends.
    let closing = c
        .fed
        .client(&desk)
        .history_not_member(&request, &a.waiting)
        .unwrap();
    let err = c
        .fed
        .c(&phone)
        .handle_history_item(
            now,
            &closing[0].1,
            &HistoryLimits::default(),
            &BTreeSet::new(),
        )
        .unwrap_err();
    assert!(matches!(err, HistoryError::NotMember { .. }), "{err}");
    assert!(c.fed.client(&phone).room(&other).is_none());

    // A room that lets its participants share the last hour: its history arrives.
    let charlie = "mimi://y.example/u/charlie".parse().unwrap();
    let role = Preset::Cooperative.creator_role();
    let sharing = HistoryPolicy::Optional(mimi_room::components::HistorySharing {
        roles_that_can_share: vec![role],
        automatically_share: false,
        max_time_period: 3600,
    });
    let shared = create_with_policy(&mut c.fed, &desk, "mimi://y.example/r/shared", &sharing);
    assert_eq!(
        c.fed
            .client(&desk)
            .room(&shared)
            .unwrap()
            .state()
            .role_of(&charlie),
        role
    );
    for text in ["one", "two"] {
        c.fed.c(&desk).send_text(&mut rng, &shared, text).unwrap();
        c.fed.pump();
    }
    let tablet = join(&mut c.fed, "mimi://y.example/u/charlie", "tablet", &shared);
    let request = c
        .fed
        .client(&tablet)
        .history_request(now, std::slice::from_ref(&shared))
        .unwrap();
    let a = answer(&mut c.fed, &desk, &request);
    assert_eq!(a.envelopes[0].1, ShareStatus::Shared);
    let outcome = c
        .fed
        .c(&tablet)
        .handle_history_item(
            now,
            &a.envelopes[0].2,
            &HistoryLimits::default(),
            &BTreeSet::new(),
        )
        .unwrap();
    assert!(
        matches!(&outcome, HistoryOutcome::Imported(i) if i.imported == 2),
        "{outcome:?}"
    );
    assert_eq!(
        c.fed.transcript(&tablet, &shared),
        vec!["charlie: one", "charlie: two"]
    );
    // Messages older than the policy's period are neither sent nor taken.
    let later = now + 7200;
    let request = c
        .fed
        .client(&tablet)
        .history_request(later, std::slice::from_ref(&shared))
        .unwrap();
    let a = c
        .fed
        .c(&desk)
        .handle_history_item(later, &request, &HistoryLimits::default(), &BTreeSet::new())
        .unwrap();
    let HistoryOutcome::Answered(a) = a else {
        panic!()
    };
    let outcome = c
        .fed
        .c(&tablet)
        .handle_history_item(
            later,
            &a.envelopes[0].2,
            &HistoryLimits::default(),
            &BTreeSet::new(),
        )
        .unwrap();
    assert!(
        matches!(&outcome, HistoryOutcome::Imported(i) if i.imported == 0 && i.skipped == 0 && i.truncated),
        "{outcome:?}"
    );
}

#[test]
fn a_role_outside_roles_that_can_share_gets_and_takes_no_history() {
    let mut c = cast();
    let desk = c.desk.clone();
    let now = c.fed.now();
    // Only the ordinary role may share; Charlie, the room's creator, holds another.
    let creator = Preset::Cooperative.creator_role();
    let ordinary = Preset::Cooperative
        .roles()
        .roles
        .iter()
        .map(|r| r.role_index)
        .find(|r| *r != creator && r.0 > 1)
        .unwrap();
    let policy = HistoryPolicy::Optional(mimi_room::components::HistorySharing {
        roles_that_can_share: vec![ordinary],
        automatically_share: false,
        max_time_period: 0,
    });
    let room = create_with_policy(&mut c.fed, &desk, "mimi://y.example/r/ordinary", &policy);
    let mut rng = c.fed.rng.clone();
    c.fed
        .c(&desk)
        .send_text(&mut rng, &room, "kept here")
        .unwrap();
    c.fed.pump();
    let phone = join(&mut c.fed, "mimi://y.example/u/charlie", "phone", &room);
    let request = c
        .fed
        .client(&phone)
        .history_request(now, std::slice::from_ref(&room))
        .unwrap();
    // The answering sibling hands over nothing, saying why ...
    let a = answer(&mut c.fed, &desk, &request);
    assert_eq!(a.envelopes.len(), 1);
    assert_eq!(a.envelopes[0].1, ShareStatus::Forbidden);
    // ... and the new device, judging by the same policy, takes nothing.
    let err = c
        .fed
        .c(&phone)
        .handle_history_item(
            now,
            &a.envelopes[0].2,
            &HistoryLimits::default(),
            &BTreeSet::new(),
        )
        .unwrap_err();
    assert!(
        matches!(&err, HistoryError::Forbidden { reason, .. }
            if reason.contains("not among the roles that may share")),
        "{err}"
    );
    assert!(c.fed.transcript(&phone, &room).is_empty());
    // The sentinel: the room itself goes on for the new device.
    c.fed.c(&desk).send_text(&mut rng, &room, "after").unwrap();
    c.fed.pump();
    assert_eq!(c.fed.transcript(&phone, &room), vec!["charlie: after"]);
}

#[test]
fn a_bundle_keeps_the_newest_entries_within_its_cap() {
    let mut c = cast();
    talk(&mut c, 10);
    let phone = join(&mut c.fed, "mimi://y.example/u/charlie", "phone", &c.room);
    let now = c.fed.now();
    let request = c
        .fed
        .client(&phone)
        .history_request(now, std::slice::from_ref(&c.room))
        .unwrap();
    let limits = HistoryLimits {
        max_entries: 4,
        ..HistoryLimits::default()
    };
    let desk = c.desk.clone();
    let HistoryOutcome::Answered(a) = c
        .fed
        .c(&desk)
        .handle_history_item(now, &request, &limits, &BTreeSet::new())
        .unwrap()
    else {
        panic!()
    };
    let HistoryOutcome::Imported(i) = c
        .fed
        .c(&phone)
        .handle_history_item(
            now,
            &a.envelopes[0].2,
            &HistoryLimits::default(),
            &BTreeSet::new(),
        )
        .unwrap()
    else {
        panic!()
    };
    assert!(i.truncated);
    assert_eq!(i.imported, 4);
    assert_eq!(
        c.fed.transcript(&phone, &c.room),
        (6..10)
            .map(|n| {
                let who = if n % 2 == 0 { "charlie" } else { "alice" };
                format!("{who}: message {n}")
            })
            .collect::<Vec<_>>()
    );
    // A receiver refuses more entries than it accepts, before applying any.
    let HistoryOutcome::Answered(full) = c
        .fed
        .c(&desk)
        .handle_history_item(now, &request, &HistoryLimits::default(), &BTreeSet::new())
        .unwrap()
    else {
        panic!()
    };
    let err = c
        .fed
        .c(&phone)
        .handle_history_item(now, &full.envelopes[0].2, &limits, &BTreeSet::new())
        .unwrap_err();
    assert!(matches!(err, HistoryError::TooLarge { .. }), "{err}");
}
