//! History for a new member through real providers (issue 18, CAPABILITIES.md gap 3): Bob,
//! on another provider, joins Alice's room and gets its history from Alice's device through
//! the room itself: on its own where the room shares automatically (only what is younger than
//! `max_time_period`), otherwise once Alice agrees (her agreement and Bob's waiting request
//! survive a restart). Refused: an envelope from Carol, a member whose role may not share; an
//! envelope for another room slipped into this one; a request in a room that forbids sharing
//! (nobody answers). Carol, a third member, receives Bob's envelope but imports nothing. Each
//! refusal is followed by a sentinel message that still arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{THREE, alice_bob_carol, federation, member, providers, settle, texts, user};
use mimi_client_core::{ClientEvent, HistoryError};
use mimi_room::components::{HistoryPolicy, HistorySharing, RoleIndex};
use mimi_sdk::{Device, Preset};
use mimi_types::{ClientUri, RoomUri};

/// Only the creator's role (super_admin, 4 in the cooperative preset) may share.
fn creator_shares(automatically_share: bool, max_time_period: u32) -> HistoryPolicy {
    HistoryPolicy::Optional(HistorySharing {
        roles_that_can_share: [RoleIndex(4)].into_iter().collect(),
        automatically_share,
        max_time_period,
    })
}

fn imported(device: &Device, room: &RoomUri) -> usize {
    device
        .engine()
        .room(room)
        .map_or(0, |v| v.imported_messages())
}

/// Syncs everyone for about `rounds` × 50 ms.
async fn rounds(devices: &mut [&mut Device], rounds: usize) {
    for _ in 0..rounds {
        for d in devices.iter_mut() {
            d.sync(50).await.unwrap();
        }
    }
}

/// Syncs everyone until `watch` (an index) gathered an event matching `wanted`; returns all
/// the events it gathered.
async fn await_event(
    devices: &mut [&mut Device],
    watch: usize,
    wanted: impl Fn(&ClientEvent) -> bool,
) -> Vec<ClientEvent> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    loop {
        for d in devices.iter_mut() {
            d.sync(50).await.unwrap();
        }
        seen.extend(devices[watch].take_events());
        if seen.iter().any(&wanted) {
            return seen;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no such event: {seen:#?}"
        );
    }
}

/// An envelope `sharer` builds by hand for `asker`'s request about `about` (the simplest one
/// a device can build: a "not a member" answer), to slip into a room past the engine's rules.
fn forged_envelope(sharer: &Device, asker: &Device, about: &RoomUri, now: u64) -> Vec<u8> {
    let request = asker
        .engine()
        .history_request(now, std::slice::from_ref(about))
        .unwrap();
    sharer
        .engine()
        .history_not_member(&request, std::slice::from_ref(about))
        .unwrap()
        .remove(0)
        .1
}

/// Waits for a refusal of history and checks that one refused `from`'s envelope as
/// `NotASharer` for a reason containing `says`.
async fn refused_as_not_a_sharer(devices: &mut [&mut Device], from: &ClientUri, says: &str) {
    let events = await_event(devices, 1, |e| {
        matches!(e, ClientEvent::HistoryRefused { .. })
    })
    .await;
    assert!(
        events.iter().any(|e| matches!(e,
            ClientEvent::HistoryRefused { from: f, error: HistoryError::NotASharer { reason, .. }, .. }
                if f == from && reason.contains(says))),
        "{events:#?}"
    );
}

async fn sentinel(from: &mut Device, to: &mut Device, room: &RoomUri, text: &str) {
    from.send_text(room, text).await.unwrap();
    settle(&mut [from, to], |d| {
        texts(d[1], room).last().map(String::as_str) == Some(text)
    })
    .await;
}

#[test]
fn a_new_member_on_another_provider_gets_the_recent_history_on_its_own() {
    let p = providers(&THREE);
    p.runtime.block_on(async {
        let (mut alice, mut bob, mut carol) = alice_bob_carol(&p).await;
        let room = alice.room_uri("club").unwrap();
        alice
            .create_room_with_history_policy(&room, Preset::Cooperative, &creator_shares(true, 45))
            .await
            .unwrap();
        alice.invite(&room, &[carol.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut carol], |d| member(d[1], &room)).await;
        alice.send_text(&room, "too old").await.unwrap();
        // Older than the policy's 45 s when Bob asks. The window is wide so that the recent
        // messages are still inside it on a loaded machine, where the invite, the join and the
        // answer across three providers can take many seconds.
        tokio::time::sleep(Duration::from_secs(46)).await;
        alice.send_text(&room, "recent 1").await.unwrap();
        carol.send_text(&room, "recent 2").await.unwrap();
        settle(&mut [&mut alice, &mut carol], |d| {
            texts(d[0], &room).len() == 3 && texts(d[1], &room).len() == 3
        })
        .await;

        alice.invite(&room, &[bob.user().clone()]).await.unwrap();
        // Bob's device asks on joining; Alice's (the only sharer) answers while it syncs.
        let events = await_event(&mut [&mut alice, &mut bob, &mut carol], 1, |e| {
            matches!(e, ClientEvent::HistoryImported { .. })
        })
        .await;
        assert!(
            events.iter().any(|e| matches!(e,
                ClientEvent::HistoryImported { room: r, from, entries }
                    if *r == room && from == alice.client_uri() && *entries >= 2)),
            "{events:#?}"
        );
        assert_eq!(texts(&bob, &room), ["recent 1", "recent 2"]);
        assert_eq!(imported(&bob, &room), 2);
        // Carol received the envelope too (it went through the room) but it is sealed to
        // Bob's device: she imports nothing and nothing is refused.
        rounds(&mut [&mut alice, &mut bob, &mut carol], 5).await;
        let hers = carol.take_events();
        assert!(
            !hers.iter().any(|e| matches!(
                e,
                ClientEvent::HistoryImported { .. } | ClientEvent::HistoryRefused { .. }
            )),
            "{hers:#?}"
        );
        assert_eq!(imported(&carol, &room), 0);
        assert_eq!(texts(&carol, &room).len(), 3);
        sentinel(&mut alice, &mut bob, &room, "sentinel").await;
    });
}

#[test]
fn without_automatic_sharing_the_history_arrives_once_the_member_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let room = alice.room_uri("club").unwrap();
        alice
            .create_room_with_history_policy(&room, Preset::Cooperative, &creator_shares(false, 0))
            .await
            .unwrap();
        for i in 0..3 {
            alice
                .send_text(&room, &format!("before {i}"))
                .await
                .unwrap();
        }
        alice.invite(&room, &[bob.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| member(d[1], &room)).await;
        bob.request_room_history(&room).await.unwrap();
        // Alice's device keeps the request until she agrees: nothing arrives.
        settle(&mut [&mut alice, &mut bob], |d| {
            d[0].engine().waiting_history_requests().len() == 1
        })
        .await;
        rounds(&mut [&mut alice, &mut bob], 5).await;
        assert_eq!(imported(&bob, &room), 0);
        assert!(texts(&bob, &room).is_empty());

        // The waiting request survives a restart of Alice's device.
        let path = alice.path().to_owned();
        alice.close().await;
        let mut alice = Device::open(&path).await.unwrap();
        assert_eq!(alice.engine().waiting_history_requests().len(), 1);
        let bob_user = bob.user().clone();
        assert_eq!(alice.share_history(&room, &bob_user).await.unwrap(), 1);
        settle(&mut [&mut alice, &mut bob], |d| {
            texts(d[1], &room).len() == 3
        })
        .await;
        assert_eq!(texts(&bob, &room), ["before 0", "before 1", "before 2"]);
        assert!(alice.engine().waiting_history_requests().is_empty());
        // So does her agreement.
        let path = alice.path().to_owned();
        alice.close().await;
        let mut alice = Device::open(&path).await.unwrap();
        assert_eq!(
            alice.engine().history_consents(),
            vec![(room.clone(), bob_user)]
        );
        sentinel(&mut alice, &mut bob, &room, "sentinel").await;
    });
}

#[test]
fn rogue_envelopes_and_requests_where_sharing_is_forbidden_get_nothing() {
    let p = providers(&THREE);
    p.runtime.block_on(async {
        let (mut alice, mut bob, mut carol) = alice_bob_carol(&p).await;
        let room = alice.room_uri("club").unwrap();
        // Nobody shares on their own, so only the rogue envelopes reach Bob.
        alice
            .create_room_with_history_policy(&room, Preset::Cooperative, &creator_shares(false, 0))
            .await
            .unwrap();
        let other = alice.room_uri("other").unwrap();
        alice
            .create_room(&other, Preset::Cooperative)
            .await
            .unwrap();
        let closed = alice.room_uri("closed").unwrap();
        alice
            .create_room_with_history_policy(
                &closed,
                Preset::Cooperative,
                &HistoryPolicy::Forbidden,
            )
            .await
            .unwrap();
        alice.send_text(&closed, "closed history").await.unwrap();
        let users = [bob.user().clone(), carol.user().clone()];
        alice.invite(&room, &users).await.unwrap();
        alice.invite(&closed, &users[..1]).await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            member(d[1], &room) && member(d[1], &closed) && member(d[2], &room)
        })
        .await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();

        // Carol (ordinary_user, not a sharing role) answers Bob's request anyway.
        let forged = forged_envelope(&carol, &bob, &room, now);
        carol.send_history_item(&room, &forged).await.unwrap();
        let from = carol.client_uri().clone();
        refused_as_not_a_sharer(
            &mut [&mut alice, &mut bob, &mut carol],
            &from,
            "not among the roles",
        )
        .await;
        sentinel(&mut alice, &mut bob, &room, "after carol").await;

        // Alice (a sharer) slips an envelope for another room into this one.
        let forged = forged_envelope(&alice, &bob, &other, now);
        alice.send_history_item(&room, &forged).await.unwrap();
        let from = alice.client_uri().clone();
        refused_as_not_a_sharer(
            &mut [&mut alice, &mut bob, &mut carol],
            &from,
            "not the room that carried it",
        )
        .await;
        assert_eq!(imported(&bob, &room), 0);
        sentinel(&mut alice, &mut bob, &room, "after the other room").await;

        // A room that forbids sharing: Bob's device will not ask; a request sent anyway is
        // not answered and not kept.
        let err = bob.request_room_history(&closed).await.unwrap_err();
        assert!(err.to_string().contains("forbids sharing"), "{err}");
        let request = bob
            .engine()
            .history_request(now, std::slice::from_ref(&closed))
            .unwrap();
        bob.send_history_item(&closed, &request).await.unwrap();
        rounds(&mut [&mut alice, &mut bob], 10).await;
        assert!(alice.engine().waiting_history_requests().is_empty());
        assert_eq!(imported(&bob, &closed), 0);
        assert!(texts(&bob, &closed).is_empty());
        sentinel(&mut alice, &mut bob, &closed, "after the closed room").await;
    });
}
