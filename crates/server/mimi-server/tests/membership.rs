//! Who a provider delivers a room to, through real servers: only the devices the hub accepted
//! into the group, until the commit that removes them (which they still get). Each attempt is
//! followed by a sentinel message that every remaining member must get; what the rogue or
//! removed device got is read from its provider's stored event feed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Api, Device, Refused, commit_request, now_s, settle};
use mimi_client_api::{
    ErrorCode, EventsResponse, ExternalJoinInfo, HubAnswer, RoomList, SubmitUpdate,
};
use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
use mimi_federation_api::path::encode_param;
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::{UpdateOutcome, UpdateRoomResponse};
use mimi_federation_api::{Encode, decode_exact};
use mimi_mls::ClientGroup;
use mimi_room::presets::{Preset, RoomCreation};
use mimi_types::RoomUri;

fn ok(outcome: &UpdateOutcome) {
    assert!(
        matches!(outcome, UpdateOutcome::Success { .. }),
        "{outcome:?}"
    );
}

fn accepted(outcome: &SubmitOutcome) {
    assert!(
        matches!(outcome, SubmitOutcome::Accepted { .. }),
        "{outcome:?}"
    );
}

/// Every event the provider stored for `device`, decoded, with its room.
async fn stored_feed(device: &Device) -> Vec<(RoomUri, FanoutMessage)> {
    let response: EventsResponse = device
        .api
        .call(
            reqwest::Method::GET,
            "/v1/events?after=0&wait_ms=0",
            Some(&device.token),
            None::<&()>,
        )
        .await
        .unwrap();
    response
        .events
        .into_iter()
        .map(|e| {
            (
                RoomUri::parse(&e.room).unwrap(),
                decode_exact(&e.payload).unwrap(),
            )
        })
        .collect()
}

/// A log row of a follower's store: (seq, the one device it is for or none, payload).
type LogRow = (i64, Option<String>, Vec<u8>);
/// A membership interval: (device, from_seq, to_seq or none while a member).
type Interval = (String, i64, Option<i64>);

/// `node`'s follower log for `room` and the room's membership intervals, read from its store.
async fn follower_tables(node: &common::Node, room: &RoomUri) -> (Vec<LogRow>, Vec<Interval>) {
    use sqlx::Connection as _;
    let file = node.config.data_dir().join(mimi_store::FILE_NAME);
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&file)
        .read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    let log: Vec<LogRow> =
        sqlx::query_as("SELECT seq, device, payload FROM feed_log WHERE room = $1 ORDER BY seq")
            .bind(room.to_string())
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let intervals: Vec<Interval> = sqlx::query_as(
        "SELECT device, from_seq, to_seq FROM feed_members WHERE room = $1 ORDER BY device, from_seq",
    )
    .bind(room.to_string())
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    (log, intervals)
}

/// Every interval `device` has anywhere in `node`'s store.
async fn intervals_of(node: &common::Node, device: &Device) -> i64 {
    use sqlx::Connection as _;
    let file = node.config.data_dir().join(mimi_store::FILE_NAME);
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&file)
        .read_only(true);
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM feed_members WHERE device = $1")
        .bind(device.client().to_string())
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    n
}

async fn rooms_of(device: &Device) -> Vec<String> {
    let list: RoomList = device
        .api
        .call(
            reqwest::Method::GET,
            "/v1/rooms",
            Some(&device.token),
            None::<&()>,
        )
        .await
        .unwrap();
    list.rooms
}

/// `rogue` (not a participant) sends a well-formed external commit of a group it made up
/// under the room's group ID, flagged as an external join; the hub must not accept it.
async fn bogus_external_join(rogue: &Device, room: &RoomUri) {
    let state = RoomCreation::new(Preset::Cooperative, room.clone(), rogue.user().clone())
        .initial_state()
        .unwrap();
    let (mut group, _) = ClientGroup::create(
        rogue.identity(),
        &room.group_uri(),
        &rogue.hub_sender,
        &state,
        rogue.trust.clone(),
        now_s(),
    )
    .unwrap();
    let out = group.self_update(now_s()).unwrap();
    let path = format!("/v1/rooms/{}/update", encode_param(room));
    let answer: Result<HubAnswer, Refused> = rogue
        .api
        .call(
            reqwest::Method::POST,
            &path,
            Some(&rogue.token),
            Some(&SubmitUpdate {
                request: commit_request(&out).encode().unwrap(),
                external_join: true,
            }),
        )
        .await;
    if let Ok(answer) = answer {
        let response: UpdateRoomResponse = decode_exact(&answer.response).unwrap();
        assert!(
            !matches!(response.outcome, UpdateOutcome::Success { .. }),
            "the hub accepted a bogus join"
        );
    }
}

#[test]
fn a_refused_external_join_subscribes_nobody() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        for (api, user) in [(&x, "alice"), (&y, "bob"), (&y, "mallory"), (&x, "eve")] {
            Device::register_user(api, user).await;
        }
        let mut alice = Device::register(&x, "alice", "phone", 1).await;
        let mut bob = Device::register(&y, "bob", "laptop", 1).await;
        let mut mallory = Device::register(&y, "mallory", "pc", 1).await;
        let mut eve = Device::register(&x, "eve", "pc", 1).await;
        let room = alice.create_room("mimi://x.example/r/private").await;
        ok(&alice.add_users(&room, &[bob.user().clone()]).await);
        settle(&mut [&mut alice, &mut bob], |d| d[1].is_member(&room)).await;

        // Local accounts of the follower (y) and of the hub's own provider (x) try to
        // subscribe by a join the hub refuses.
        bogus_external_join(&mallory, &room).await;
        bogus_external_join(&eve, &room).await;

        // The sentinel reaches both members.
        accepted(&alice.send(&room, "members only").await.unwrap());
        accepted(&bob.send(&room, "indeed").await.unwrap());
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.texts(&room).len() == 2)
        })
        .await;
        assert_eq!(bob.texts(&room), ["members only", "indeed"]);

        // Neither rogue has anything of the room in its provider's stored feed, nor the room
        // in its room list.
        for rogue in [&mut mallory, &mut eve] {
            let feed = stored_feed(rogue).await;
            assert!(
                feed.iter().all(|(r, _)| r != &room),
                "{} was delivered {} events of the room",
                rogue.client(),
                feed.len()
            );
            assert!(!rooms_of(rogue).await.contains(&room.to_string()));
            assert_eq!(rogue.poll(0).await, 0);
        }
        // Nor a membership interval in its provider's follower log.
        assert_eq!(intervals_of(&nodes[1], &mallory).await, 0);
        assert_eq!(intervals_of(&nodes[0], &eve).await, 0);
    });
}

#[test]
fn a_removed_device_gets_its_removal_commit_and_nothing_after() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        for (api, user) in [(&x, "alice"), (&y, "bob"), (&y, "carol"), (&x, "dan")] {
            Device::register_user(api, user).await;
        }
        let mut alice = Device::register(&x, "alice", "phone", 1).await;
        let mut bob = Device::register(&y, "bob", "laptop", 1).await;
        let mut carol = Device::register(&y, "carol", "tablet", 1).await;
        let mut dan = Device::register(&x, "dan", "phone", 1).await;
        let room = alice.create_room("mimi://x.example/r/club").await;
        let users = [bob.user().clone(), carol.user().clone(), dan.user().clone()];
        ok(&alice.add_users(&room, &users).await);
        settle(&mut [&mut alice, &mut bob, &mut carol, &mut dan], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;
        accepted(&alice.send(&room, "before").await.unwrap());
        settle(&mut [&mut alice, &mut bob, &mut carol, &mut dan], |d| {
            d.iter().all(|d| d.texts(&room).len() == 1)
        })
        .await;

        // Carol (on the follower, which keeps a member: Bob) and Dan (on the hub's provider,
        // which keeps Alice) are removed in one commit; both process it.
        ok(&alice
            .remove_users(&room, &[carol.user().clone(), dan.user().clone()])
            .await);
        settle(&mut [&mut alice, &mut bob, &mut carol, &mut dan], |d| {
            !d[2].is_member(&room)
                && !d[3].is_member(&room)
                && d[1].epoch(&room) == d[0].epoch(&room)
        })
        .await;

        // The sentinel reaches the members that remain.
        accepted(&alice.send(&room, "after").await.unwrap());
        accepted(&bob.send(&room, "after, too").await.unwrap());
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.texts(&room).len() == 3)
        })
        .await;
        assert_eq!(bob.texts(&room), ["before", "after", "after, too"]);

        // The removed devices' stored feeds end with the commit that removed them.
        for removed in [&mut carol, &mut dan] {
            let feed: Vec<FanoutMessage> = stored_feed(removed)
                .await
                .into_iter()
                .filter(|(r, _)| r == &room)
                .map(|(_, m)| m)
                .collect();
            let applications = feed
                .iter()
                .filter(|m| matches!(m.content, FanoutContent::Application { .. }))
                .count();
            assert_eq!(applications, 1, "{}: only \"before\"", removed.client());
            assert!(
                matches!(
                    feed.last().map(|m| &m.content),
                    Some(FanoutContent::Commit { .. })
                ),
                "{}: the last event is the removal commit",
                removed.client()
            );
            assert_eq!(removed.texts(&room), ["before"]);
            assert!(!rooms_of(removed).await.contains(&room.to_string()));
        }

        // In each provider's follower log, every message of the room is one row whatever the
        // number of local members (x: Alice and Dan, y: Bob and Carol); the removed device's
        // interval is closed at the removal commit's row, the remaining member's is open.
        for (node, stays, removed) in [(&nodes[0], &alice, &dan), (&nodes[1], &bob, &carol)] {
            let (log, intervals) = follower_tables(node, &room).await;
            let texts = log
                .iter()
                .filter(|(_, to, payload)| {
                    to.is_none()
                        && matches!(
                            decode_exact::<FanoutMessage>(payload).unwrap().content,
                            FanoutContent::Application { .. }
                        )
                })
                .count();
            assert_eq!(texts, 3, "{}: three messages, one row each", node.domain);
            let of = |d: &Device| -> Vec<&Interval> {
                intervals
                    .iter()
                    .filter(|(device, _, _)| device == &d.client().to_string())
                    .collect()
            };
            let removed_intervals = of(removed);
            assert_eq!(removed_intervals.len(), 1, "{}", node.domain);
            let to = removed_intervals[0]
                .2
                .expect("the removed device's interval is closed");
            let last = log.iter().find(|(seq, _, _)| *seq == to).unwrap();
            assert!(
                matches!(
                    decode_exact::<FanoutMessage>(&last.2).unwrap().content,
                    FanoutContent::Commit { .. }
                ),
                "{}: the interval ends with the removal commit",
                node.domain
            );
            let stays = of(stays);
            assert_eq!(stays.len(), 1, "{}", node.domain);
            assert!(
                stays[0].2.is_none(),
                "{}: the member's interval is open",
                node.domain
            );
        }
    });
}

#[test]
fn a_banned_users_new_device_gets_no_join_information() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        for (api, user) in [(&x, "alice"), (&x, "bob"), (&y, "carol")] {
            Device::register_user(api, user).await;
        }
        let mut alice = Device::register(&x, "alice", "phone", 1).await;
        let mut bob = Device::register(&x, "bob", "phone", 1).await;
        let mut carol = Device::register(&y, "carol", "tablet", 1).await;
        let room = alice.create_room("mimi://x.example/r/moderated").await;
        let users = [bob.user().clone(), carol.user().clone()];
        ok(&alice.add_users(&room, &users).await);
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;
        ok(&alice.ban_users(&room, &[bob.user().clone()]).await);
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            !d[1].is_member(&room) && d[2].epoch(&room) == d[0].epoch(&room)
        })
        .await;

        // Bob, banned but still listed, registers a new device: the client API's
        // external-join refuses it as the federation groupInfo route does.
        let laptop = Device::register(&x, "bob", "laptop", 1).await;
        let path = format!("/v1/rooms/{}/external-join", encode_param(&room));
        let join: Result<ExternalJoinInfo, Refused> = laptop
            .api
            .call(
                reqwest::Method::GET,
                &path,
                Some(&laptop.token),
                None::<&()>,
            )
            .await;
        let Err(refused) = join else {
            panic!("a banned user's device got join information");
        };
        assert_eq!(refused.status, 403);
        assert_eq!(refused.error.unwrap().code, ErrorCode::Forbidden);

        // The sentinel reaches the members that remain.
        common::sentinel(&mut [&mut carol, &mut alice], &room, "still here").await;
        for d in [&alice, &carol] {
            assert_eq!(d.texts(&room), ["still here"], "{}", d.client());
        }
    });
}
