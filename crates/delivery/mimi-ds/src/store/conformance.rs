//! The conformance suite every [`DsStore`] backend runs.
//!
//! Each check is an `async fn` over a fresh, empty store; [`run_all`] runs them in turn with a
//! store from the backend's factory. A backend's test drives it with its own runtime:
//!
//! ```ignore
//! #[tokio::test]
//! async fn sqlite_conforms() {
//!     mimi_ds::conformance::run_all(|| async { SqliteStore::open_temp().await.unwrap() }).await;
//! }
//! ```
//!
//! The checks panic with a message naming the broken property: they are test code.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

use super::{
    ConsentWrite, DsStore, FeedItem, LogEntry, NewDeviceEvent, NewOutbound, NewPeerRequest,
    PeerRequestKind, ProfileSaved, RoomHead, StoreError,
};
use crate::discovery::{Handle, Profile, ProfileSearch, Searchable, SearchableField};
use crate::follower::{Claim, KeyPackageEntry};

fn room(name: &str) -> RoomUri {
    RoomUri::parse(&format!("mimi://hub.example/r/{name}")).unwrap()
}

fn domain(name: &str) -> Domain {
    Domain::parse(name).unwrap()
}

fn device(name: &str) -> ClientUri {
    ClientUri::parse(&format!("mimi://z.example/d/diana/{name}")).unwrap()
}

fn outbound(to: &str, room_name: &str, body: &str) -> NewOutbound {
    NewOutbound {
        to: domain(to),
        room: room(room_name),
        body: body.as_bytes().to_vec(),
    }
}

fn key_package(n: u32, last_resort: bool) -> KeyPackageEntry {
    KeyPackageEntry {
        key_package: n.to_be_bytes().to_vec(),
        reference: format!("ref-{n}").into_bytes(),
        last_resort,
        not_after: 4_000_000_000,
    }
}

/// Runs every check, each on a new store from `make`.
pub async fn run_all<S, F, Fut>(make: F)
where
    S: DsStore,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    room_versions_guard_concurrent_writers(&make().await).await;
    room_save_and_fanout_are_one_transaction(&make().await).await;
    room_log_appends_leave_the_state_alone(&make().await).await;
    refused_room_writes_change_nothing(&make().await).await;
    outbound_is_ordered_per_destination(&make().await).await;
    refused_outbound_is_set_aside_not_dropped(&make().await).await;
    inbox_events_get_per_device_cursors(&make().await).await;
    feed_follows_membership_intervals(&make().await).await;
    feed_leave_then_rejoin_skips_the_gap(&make().await).await;
    feed_device_items_reach_only_their_device(&make().await).await;
    feed_orders_rooms_by_acceptance_and_refused_writes_change_nothing(&make().await).await;
    key_packages_are_claimed_once_under_concurrency(&make().await).await;
    last_resort_key_package_is_kept(&make().await).await;
    profiles_keep_handles_unique(&make().await).await;
    profile_search_follows_its_definition(&make().await).await;
    consent_books_and_their_requests_are_one_transaction(&make().await).await;
    peer_requests_are_ordered_per_destination(&make().await).await;
    removed_key_packages_are_gone(&make().await).await;
}

/// A save names the version it replaces; a stale writer gets `Conflict` and changes nothing.
pub async fn room_versions_guard_concurrent_writers<S: DsStore>(store: &S) {
    let r = room("versions");
    assert_eq!(store.load_room(&r).await.unwrap(), None);
    let v1 = store
        .save_room(&r, 0, b"one".to_vec(), vec![])
        .await
        .unwrap();
    assert_eq!(v1, 1);
    let v2 = store
        .save_room(&r, v1, b"two".to_vec(), vec![])
        .await
        .unwrap();
    assert_eq!(v2, 2);
    let stale = store.save_room(&r, v1, b"stale".to_vec(), vec![]).await;
    assert!(
        matches!(stale, Err(StoreError::Conflict { .. })),
        "stale save must conflict: {stale:?}"
    );
    let recreate = store.save_room(&r, 0, b"again".to_vec(), vec![]).await;
    assert!(
        matches!(recreate, Err(StoreError::Conflict { .. })),
        "creating twice must conflict"
    );
    let loaded = store.load_room(&r).await.unwrap().unwrap();
    assert_eq!((loaded.version, loaded.state), (2, b"two".to_vec()));
}

/// A conflicting save queues none of its fan-out.
pub async fn room_save_and_fanout_are_one_transaction<S: DsStore>(store: &S) {
    let r = room("atomic");
    store
        .save_room(
            &r,
            0,
            b"s1".to_vec(),
            vec![outbound("x.example", "atomic", "m1")],
        )
        .await
        .unwrap();
    let lost = store
        .save_room(
            &r,
            0,
            b"s2".to_vec(),
            vec![outbound("x.example", "atomic", "m2")],
        )
        .await;
    assert!(lost.is_err());
    let pending = store
        .pending_outbound(&domain("x.example"), 10)
        .await
        .unwrap();
    let bodies: Vec<&[u8]> = pending.iter().map(|i| i.body.as_slice()).collect();
    assert_eq!(
        bodies,
        [b"m1".as_slice()],
        "the conflicting save's fan-out must not be queued"
    );
}

fn entry(seq: u64, body: &str) -> LogEntry {
    LogEntry {
        seq,
        hub_ms: 1_000 + seq,
        message: body.as_bytes().to_vec(),
    }
}

/// An application message is appended to the room's log with its fan-out; the state record
/// keeps its version and bytes, and the head shows the log's last sequence number.
pub async fn room_log_appends_leave_the_state_alone<S: DsStore>(store: &S) {
    let r = room("log");
    assert_eq!(store.room_head(&r).await.unwrap(), None);
    let v1 = store
        .save_room(&r, 0, b"state".to_vec(), vec![])
        .await
        .unwrap();
    assert_eq!(
        store.room_head(&r).await.unwrap(),
        Some(RoomHead {
            version: v1,
            log_head: 0
        })
    );
    for (seq, body) in [(1, "m1"), (2, "m2")] {
        let version = store
            .write_room(
                &r,
                v1,
                None,
                vec![entry(seq, body)],
                vec![outbound("x.example", "log", body)],
            )
            .await
            .unwrap();
        assert_eq!(version, v1, "an append leaves the state version alone");
    }
    let record = store.load_room(&r).await.unwrap().unwrap();
    assert_eq!((record.version, record.state), (v1, b"state".to_vec()));
    assert_eq!(
        store.room_head(&r).await.unwrap(),
        Some(RoomHead {
            version: v1,
            log_head: 2
        })
    );
    assert_eq!(
        store.room_log(&r, 0, 10).await.unwrap(),
        [entry(1, "m1"), entry(2, "m2")]
    );
    assert_eq!(store.room_log(&r, 1, 10).await.unwrap(), [entry(2, "m2")]);
    assert_eq!(store.room_log(&r, 0, 1).await.unwrap(), [entry(1, "m1")]);
    // A commit: new state and its log entry together.
    let v2 = store
        .write_room(
            &r,
            v1,
            Some(b"state 2".to_vec()),
            vec![entry(3, "c3")],
            vec![outbound("x.example", "log", "c3")],
        )
        .await
        .unwrap();
    assert_eq!(v2, v1 + 1);
    assert_eq!(
        store.room_head(&r).await.unwrap(),
        Some(RoomHead {
            version: v2,
            log_head: 3
        })
    );
    assert_eq!(
        store.load_room(&r).await.unwrap().unwrap().state,
        b"state 2"
    );
    let bodies: Vec<Vec<u8>> = store
        .pending_outbound(&domain("x.example"), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.body)
        .collect();
    assert_eq!(bodies, [b"m1".to_vec(), b"m2".to_vec(), b"c3".to_vec()]);
    // Logs are per room.
    assert_eq!(store.room_log(&room("other"), 0, 10).await.unwrap(), []);
}

/// A write at a stale version, an append whose sequence number is not above the log's head
/// (another writer appended first), and an append to a room that does not exist are refused
/// with `Conflict`, and write none of their log entries or fan-out.
pub async fn refused_room_writes_change_nothing<S: DsStore>(store: &S) {
    let r = room("refused");
    let v1 = store.save_room(&r, 0, b"s".to_vec(), vec![]).await.unwrap();
    store
        .write_room(&r, v1, None, vec![entry(1, "m1"), entry(2, "m2")], vec![])
        .await
        .unwrap();
    let attempts = [
        (v1, None, vec![entry(2, "again")]),
        (v1, None, vec![entry(1, "old")]),
        (v1, None, vec![entry(4, "a"), entry(4, "b")]),
        (v1 + 1, None, vec![entry(3, "stale")]),
        (v1 + 1, Some(b"stale".to_vec()), vec![entry(3, "stale")]),
        (0, Some(b"recreate".to_vec()), vec![entry(3, "recreate")]),
    ];
    for (expected, state, log) in attempts {
        let refused = store
            .write_room(
                &r,
                expected,
                state,
                log,
                vec![outbound("x.example", "refused", "lost")],
            )
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict { .. })),
            "a refused write must conflict: {refused:?}"
        );
    }
    let missing = store
        .write_room(
            &room("missing"),
            0,
            None,
            vec![entry(1, "m")],
            vec![outbound("x.example", "missing", "lost")],
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::Conflict { .. })),
        "appending to a room that does not exist must conflict: {missing:?}"
    );
    assert_eq!(store.room_head(&room("missing")).await.unwrap(), None);
    assert_eq!(
        store.room_log(&r, 0, 10).await.unwrap(),
        [entry(1, "m1"), entry(2, "m2")]
    );
    let record = store.load_room(&r).await.unwrap().unwrap();
    assert_eq!((record.version, record.state), (v1, b"s".to_vec()));
    assert_eq!(
        store
            .pending_outbound(&domain("x.example"), 10)
            .await
            .unwrap(),
        [],
        "no refused write may queue its fan-out"
    );
}

/// Items leave in the order they were queued, per destination; an ack removes one item.
pub async fn outbound_is_ordered_per_destination<S: DsStore>(store: &S) {
    let r = room("order");
    let mut version = 0;
    for n in 0..5 {
        version = store
            .save_room(
                &r,
                version,
                vec![n],
                vec![
                    outbound("x.example", "order", &format!("x{n}")),
                    outbound("z.example", "order", &format!("z{n}")),
                ],
            )
            .await
            .unwrap();
    }
    let x = store
        .pending_outbound(&domain("x.example"), 3)
        .await
        .unwrap();
    let bodies: Vec<String> = x
        .iter()
        .map(|i| String::from_utf8(i.body.clone()).unwrap())
        .collect();
    assert_eq!(bodies, ["x0", "x1", "x2"]);
    assert!(
        x.windows(2).all(|w| w[0].id < w[1].id),
        "ids increase in queue order"
    );
    store.ack_outbound(x[0].id).await.unwrap();
    store.ack_outbound(x[0].id).await.unwrap();
    let x = store
        .pending_outbound(&domain("x.example"), 10)
        .await
        .unwrap();
    assert_eq!(x.len(), 4);
    assert_eq!(x[0].body, b"x1");
    let z = store
        .pending_outbound(&domain("z.example"), 10)
        .await
        .unwrap();
    assert_eq!(z.len(), 5, "acks for x leave z's queue alone");
    // A batched notify's items are acknowledged together; absent ids are no error.
    store
        .ack_outbound_all(&[x[0].id, x[2].id, x[0].id, u64::MAX])
        .await
        .unwrap();
    let left: Vec<Vec<u8>> = store
        .pending_outbound(&domain("x.example"), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|i| i.body)
        .collect();
    assert_eq!(left, [b"x2".to_vec(), b"x4".to_vec()]);
    store.ack_outbound_all(&[]).await.unwrap();
}

/// A refused item leaves the queue (later items go on) but is kept: offered again once due,
/// its refusals counted, and removed only by an ack.
pub async fn refused_outbound_is_set_aside_not_dropped<S: DsStore>(store: &S) {
    let r = room("aside");
    let mut version = 0;
    for n in 0..3 {
        version = store
            .save_room(
                &r,
                version,
                vec![n],
                vec![
                    outbound("x.example", "aside", &format!("x{n}")),
                    outbound("z.example", "aside", &format!("z{n}")),
                ],
            )
            .await
            .unwrap();
    }
    let (x, z) = (domain("x.example"), domain("z.example"));
    let queued = store.pending_outbound(&x, 10).await.unwrap();
    let refused = queued[0].clone();
    store
        .set_aside_outbound(refused.id, "HTTP 413: too large", 1_000)
        .await
        .unwrap();
    let queued = store.pending_outbound(&x, 10).await.unwrap();
    assert_eq!(queued.len(), 2, "the refused item left the queue");
    assert_eq!(queued[0].body, b"x1", "later items go on");
    assert!(
        store.dead_letters(&x, 999, 10).await.unwrap().is_empty(),
        "not due yet"
    );
    assert!(
        store
            .dead_letters(&z, u64::MAX, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let dead = store.dead_letters(&x, 1_000, 10).await.unwrap();
    assert_eq!(dead.len(), 1, "kept, and due at its time");
    assert_eq!(dead[0].item, refused);
    assert_eq!(dead[0].refusals, 1);
    assert_eq!(dead[0].reason, "HTTP 413: too large");
    assert_eq!(dead[0].retry_at_ms, 1_000);
    store
        .set_aside_outbound(refused.id, "HTTP 413: still too large", 5_000)
        .await
        .unwrap();
    let dead = store.dead_letters(&x, u64::MAX, 10).await.unwrap();
    assert_eq!((dead[0].refusals, dead[0].retry_at_ms), (2, 5_000));
    assert_eq!(dead[0].reason, "HTTP 413: still too large");
    assert!(store.dead_letters(&x, 4_999, 10).await.unwrap().is_empty());
    store.ack_outbound(refused.id).await.unwrap();
    assert!(
        store
            .dead_letters(&x, u64::MAX, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.pending_outbound(&x, 10).await.unwrap().len(), 2);
    // Setting aside an acknowledged (absent) item changes nothing.
    store
        .set_aside_outbound(refused.id, "late", 0)
        .await
        .unwrap();
    assert!(
        store
            .dead_letters(&x, u64::MAX, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.pending_outbound(&z, 10).await.unwrap().len(), 3);
}

/// Device events get increasing sequence numbers per device and resume after a cursor.
pub async fn inbox_events_get_per_device_cursors<S: DsStore>(store: &S) {
    let r = room("inbox");
    let (phone, laptop) = (device("phone"), device("laptop"));
    let event = |d: &ClientUri, p: &str| NewDeviceEvent {
        device: d.clone(),
        room: r.clone(),
        payload: p.as_bytes().to_vec(),
    };
    let v = store
        .save_inbox(
            &r,
            0,
            b"i1".to_vec(),
            vec![event(&phone, "a"), event(&laptop, "a")],
        )
        .await
        .unwrap();
    store
        .save_inbox(&r, v, b"i2".to_vec(), vec![event(&phone, "b")])
        .await
        .unwrap();
    let stale = store
        .save_inbox(&r, v, b"i3".to_vec(), vec![event(&phone, "lost")])
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict { .. })));
    let all = store.device_events(&phone, 0, 10).await.unwrap();
    let payloads: Vec<&[u8]> = all.iter().map(|e| e.payload.as_slice()).collect();
    assert_eq!(payloads, [b"a".as_slice(), b"b".as_slice()]);
    assert!(all[0].seq < all[1].seq);
    let after = store.device_events(&phone, all[0].seq, 10).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].payload, b"b");
    assert_eq!(store.device_events(&laptop, 0, 10).await.unwrap().len(), 1);
    assert_eq!(store.load_inbox(&r).await.unwrap().unwrap().state, b"i2");
}

fn payloads(events: &[super::DeviceEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| String::from_utf8_lossy(&e.payload).into_owned())
        .collect()
}

fn msg(p: &str) -> FeedItem {
    FeedItem::Room(p.as_bytes().to_vec())
}

async fn stream<S: DsStore>(store: &S, d: &ClientUri) -> Vec<String> {
    payloads(&store.device_events(d, 0, 100).await.unwrap())
}

/// A room message is kept once and reaches exactly the devices whose membership interval
/// covers it: from the first message after the join, up to and including the last message
/// before the leave. Joining twice or leaving as a non-member changes nothing.
pub async fn feed_follows_membership_intervals<S: DsStore>(store: &S) {
    let r = room("feed");
    let (a, b, c, d) = (device("a"), device("b"), device("c"), device("d"));
    let v = store
        .write_inbox(
            &r,
            0,
            b"i1".to_vec(),
            vec![
                FeedItem::Join(a.clone()),
                FeedItem::Join(b.clone()),
                msg("m1"),
                FeedItem::Join(a.clone()),
                FeedItem::Leave(d.clone()),
            ],
        )
        .await
        .unwrap();
    let v = store
        .write_inbox(
            &r,
            v,
            b"i2".to_vec(),
            vec![
                msg("m2"),
                FeedItem::Leave(b.clone()),
                FeedItem::Join(c.clone()),
                msg("m3"),
            ],
        )
        .await
        .unwrap();
    // A join with nothing after it in this write: from the next write's first message.
    store
        .write_inbox(&r, v, b"i3".to_vec(), vec![FeedItem::Join(d.clone())])
        .await
        .unwrap();
    store
        .write_inbox(&r, v + 1, b"i4".to_vec(), vec![msg("m4")])
        .await
        .unwrap();
    assert_eq!(stream(store, &a).await, ["m1", "m2", "m3", "m4"]);
    assert_eq!(stream(store, &b).await, ["m1", "m2"], "b left after m2");
    assert_eq!(stream(store, &c).await, ["m3", "m4"], "c joined before m3");
    assert_eq!(stream(store, &d).await, ["m4"], "d joined after m3");
    // Cursors are increasing and resume exactly after the message named.
    let all = store.device_events(&a, 0, 100).await.unwrap();
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    let rest = store.device_events(&a, all[1].seq, 100).await.unwrap();
    assert_eq!(payloads(&rest), ["m3", "m4"]);
    let page = store.device_events(&a, all[0].seq, 2).await.unwrap();
    assert_eq!(payloads(&page), ["m2", "m3"]);
    assert!(all.iter().all(|e| e.room == r));
    assert!(
        store
            .device_events(&a, all[3].seq, 100)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.load_inbox(&r).await.unwrap().unwrap().state, b"i4");
}

/// A device that leaves and joins again gets nothing of the time between; a leave before any
/// message of its interval leaves no interval behind.
pub async fn feed_leave_then_rejoin_skips_the_gap<S: DsStore>(store: &S) {
    let r = room("rejoin");
    let a = device("a");
    let b = device("b");
    let v = store
        .write_inbox(
            &r,
            0,
            b"i".to_vec(),
            vec![
                FeedItem::Join(a.clone()),
                FeedItem::Join(b.clone()),
                msg("m1"),
                FeedItem::Leave(a.clone()),
                msg("m2"),
            ],
        )
        .await
        .unwrap();
    let v = store
        .write_inbox(
            &r,
            v,
            b"i".to_vec(),
            vec![
                msg("m3"),
                FeedItem::Join(a.clone()),
                FeedItem::Leave(a.clone()),
                msg("m4"),
                FeedItem::Join(a.clone()),
                msg("m5"),
                FeedItem::Leave(a.clone()),
                FeedItem::Join(a.clone()),
            ],
        )
        .await
        .unwrap();
    store
        .write_inbox(&r, v, b"i".to_vec(), vec![msg("m6")])
        .await
        .unwrap();
    assert_eq!(stream(store, &a).await, ["m1", "m5", "m6"]);
    assert_eq!(
        stream(store, &b).await,
        ["m1", "m2", "m3", "m4", "m5", "m6"]
    );
}

/// An item for one device (a Welcome) reaches that device only, member or not, in its place
/// in the order of acceptance; the room's members do not get it.
pub async fn feed_device_items_reach_only_their_device<S: DsStore>(store: &S) {
    let r = room("welcome");
    let (a, c) = (device("a"), device("c"));
    store
        .write_inbox(
            &r,
            0,
            b"i".to_vec(),
            vec![
                FeedItem::Join(a.clone()),
                msg("m1"),
                FeedItem::Device {
                    device: c.clone(),
                    payload: b"welcome".to_vec(),
                },
                FeedItem::Join(c.clone()),
                msg("m2"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(stream(store, &a).await, ["m1", "m2"]);
    assert_eq!(stream(store, &c).await, ["welcome", "m2"]);
    assert!(stream(store, &device("nobody")).await.is_empty());
}

/// A device's stream merges its rooms in the order the follower accepted their messages, and
/// a refused write (stale version) adds no message and changes no membership.
pub async fn feed_orders_rooms_by_acceptance_and_refused_writes_change_nothing<S: DsStore>(
    store: &S,
) {
    let (r1, r2) = (room("one"), room("two"));
    let (a, b) = (device("a"), device("b"));
    let v1 = store
        .write_inbox(
            &r1,
            0,
            b"1".to_vec(),
            vec![FeedItem::Join(a.clone()), msg("one-1")],
        )
        .await
        .unwrap();
    let v2 = store
        .write_inbox(
            &r2,
            0,
            b"2".to_vec(),
            vec![FeedItem::Join(a.clone()), msg("two-1")],
        )
        .await
        .unwrap();
    let v1 = store
        .write_inbox(&r1, v1, b"1".to_vec(), vec![msg("one-2")])
        .await
        .unwrap();
    let stale = store
        .write_inbox(
            &r2,
            v2 + 5,
            b"lost".to_vec(),
            vec![
                FeedItem::Join(b.clone()),
                FeedItem::Leave(a.clone()),
                msg("lost"),
            ],
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict { .. })));
    store
        .write_inbox(&r2, v2, b"2".to_vec(), vec![msg("two-2")])
        .await
        .unwrap();
    store
        .write_inbox(&r1, v1, b"1".to_vec(), vec![msg("one-3")])
        .await
        .unwrap();
    assert_eq!(
        stream(store, &a).await,
        ["one-1", "two-1", "one-2", "two-2", "one-3"]
    );
    assert!(stream(store, &b).await.is_empty());
    assert_eq!(store.load_inbox(&r2).await.unwrap().unwrap().state, b"2");
}

/// 100 concurrent claims on a device with 60 fresh KeyPackages: 60 distinct KeyPackages, 40
/// exhausted, never one twice; each claim is recorded for Welcome routing.
pub async fn key_packages_are_claimed_once_under_concurrency<S: DsStore>(store: &S) {
    let phone = device("phone");
    store
        .add_key_packages(&phone, (0..60).map(|n| key_package(n, false)).collect())
        .await
        .unwrap();
    store
        .add_key_packages(&phone, vec![key_package(0, false)])
        .await
        .unwrap();
    assert_eq!(store.fresh_key_packages(&phone, 0).await.unwrap(), 60);
    let claims = join_all((0..100).map(|_| store.claim_key_package(&phone, 0))).await;
    let mut seen = std::collections::BTreeSet::new();
    let mut exhausted = 0;
    for claim in claims {
        match claim.unwrap() {
            Claim::Fresh(entry) => {
                assert!(
                    seen.insert(entry.reference.clone()),
                    "a KeyPackage was handed out twice"
                );
                assert_eq!(
                    store.claimed_by(&entry.reference).await.unwrap(),
                    Some(phone.clone())
                );
            }
            Claim::Exhausted => exhausted += 1,
            other => panic!("unexpected claim {other:?}"),
        }
    }
    assert_eq!((seen.len(), exhausted), (60, 40));
    assert_eq!(store.fresh_key_packages(&phone, 0).await.unwrap(), 0);
    assert_eq!(store.claimed_by(b"unknown").await.unwrap(), None);
}

/// A last-resort KeyPackage is handed out after the fresh ones, and stays.
pub async fn last_resort_key_package_is_kept<S: DsStore>(store: &S) {
    let laptop = device("laptop");
    store
        .add_key_packages(&laptop, vec![key_package(1, false), key_package(2, true)])
        .await
        .unwrap();
    assert!(matches!(
        store.claim_key_package(&laptop, 0).await.unwrap(),
        Claim::Fresh(_)
    ));
    for _ in 0..2 {
        match store.claim_key_package(&laptop, 0).await.unwrap() {
            Claim::LastResort(entry) => assert_eq!(entry.reference, b"ref-2"),
            other => panic!("expected the last-resort KeyPackage, got {other:?}"),
        }
    }
    // Expired: nothing.
    assert_eq!(
        store
            .claim_key_package(&laptop, 4_000_000_000_000)
            .await
            .unwrap(),
        Claim::Exhausted
    );
}

fn consent_write(user: &UserUri, expected_version: u64, state: &str) -> ConsentWrite {
    ConsentWrite {
        user: user.clone(),
        expected_version,
        state: state.as_bytes().to_vec(),
    }
}

fn peer_request(to: &str, kind: PeerRequestKind, body: &str) -> NewPeerRequest {
    NewPeerRequest {
        to: domain(to),
        kind,
        body: body.as_bytes().to_vec(),
    }
}

/// Consent books are versioned like room records; several books and their peer requests
/// are written in one transaction, and a stale version anywhere writes nothing.
pub async fn consent_books_and_their_requests_are_one_transaction<S: DsStore>(store: &S) {
    let diana = UserUri::parse("mimi://z.example/u/diana").unwrap();
    let fay = UserUri::parse("mimi://z.example/u/fay").unwrap();
    assert_eq!(store.load_consent(&diana).await.unwrap(), None);
    store
        .save_consent(
            vec![consent_write(&diana, 0, "d1")],
            vec![peer_request(
                "y.example",
                PeerRequestKind::UpdateConsent,
                "grant",
            )],
        )
        .await
        .unwrap();
    let stored = store.load_consent(&diana).await.unwrap().unwrap();
    assert_eq!(
        (stored.version, stored.state.as_slice()),
        (1, b"d1".as_slice())
    );
    // Two books at once; one is stale: nothing is written, no request queued.
    let stale = store
        .save_consent(
            vec![
                consent_write(&fay, 0, "f1"),
                consent_write(&diana, 0, "d-lost"),
            ],
            vec![peer_request(
                "y.example",
                PeerRequestKind::RequestConsent,
                "lost",
            )],
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict { .. })));
    assert_eq!(store.load_consent(&fay).await.unwrap(), None);
    assert_eq!(
        store.load_consent(&diana).await.unwrap().unwrap().state,
        b"d1"
    );
    let queued = store
        .pending_peer_requests(&domain("y.example"), 10)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1, "the refused save queued nothing");
    // Both, at the right versions.
    store
        .save_consent(
            vec![consent_write(&fay, 0, "f1"), consent_write(&diana, 1, "d2")],
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(store.load_consent(&fay).await.unwrap().unwrap().version, 1);
    let d = store.load_consent(&diana).await.unwrap().unwrap();
    assert_eq!((d.version, d.state.as_slice()), (2, b"d2".as_slice()));
    // A version no book can have conflicts.
    assert!(matches!(
        store
            .save_consent(vec![consent_write(&diana, u64::MAX, "x")], vec![])
            .await,
        Err(StoreError::Conflict { .. })
    ));
}

/// Peer requests come back per destination in queue order with their kind, and are gone
/// once acknowledged.
pub async fn peer_requests_are_ordered_per_destination<S: DsStore>(store: &S) {
    let user = UserUri::parse("mimi://z.example/u/diana").unwrap();
    store
        .save_consent(
            vec![consent_write(&user, 0, "b")],
            vec![
                peer_request("y.example", PeerRequestKind::RequestConsent, "1"),
                peer_request("x.example", PeerRequestKind::UpdateConsent, "2"),
                peer_request("y.example", PeerRequestKind::UpdateConsent, "3"),
            ],
        )
        .await
        .unwrap();
    let y = store
        .pending_peer_requests(&domain("y.example"), 10)
        .await
        .unwrap();
    let seen: Vec<(PeerRequestKind, &[u8])> =
        y.iter().map(|r| (r.kind, r.body.as_slice())).collect();
    assert_eq!(
        seen,
        [
            (PeerRequestKind::RequestConsent, b"1".as_slice()),
            (PeerRequestKind::UpdateConsent, b"3".as_slice())
        ]
    );
    assert!(y[0].id < y[1].id);
    assert!(y.iter().all(|r| r.to == domain("y.example")));
    assert_eq!(
        store
            .pending_peer_requests(&domain("y.example"), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    store.ack_peer_request(y[0].id).await.unwrap();
    store.ack_peer_request(y[0].id).await.unwrap();
    let rest = store
        .pending_peer_requests(&domain("y.example"), 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].body, b"3");
    assert_eq!(
        store
            .pending_peer_requests(&domain("x.example"), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

/// Removing a device's KeyPackages (a re-issued credential) leaves no fresh or last-resort one
/// to claim and touches no other device; recorded claims stay.
pub async fn removed_key_packages_are_gone<S: DsStore>(store: &S) {
    let (phone, laptop) = (device("phone"), device("laptop"));
    store
        .add_key_packages(&phone, vec![key_package(1, false), key_package(2, true)])
        .await
        .unwrap();
    store
        .add_key_packages(&laptop, vec![key_package(3, false)])
        .await
        .unwrap();
    assert!(matches!(
        store.claim_key_package(&phone, 0).await.unwrap(),
        Claim::Fresh(_)
    ));
    assert_eq!(store.remove_key_packages(&phone).await.unwrap(), 1);
    assert_eq!(
        store.claim_key_package(&phone, 0).await.unwrap(),
        Claim::Exhausted
    );
    assert_eq!(store.remove_key_packages(&phone).await.unwrap(), 0);
    assert_eq!(store.fresh_key_packages(&laptop, 0).await.unwrap(), 1);
    assert_eq!(
        store.claimed_by(b"ref-1").await.unwrap(),
        Some(phone.clone()),
        "the recorded claim stays for Welcome routing"
    );
}

/// Polls every future until all are done (concurrently at their await points).
async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    struct JoinAll<F: Future> {
        futures: Vec<Pin<Box<F>>>,
        outputs: Vec<Option<F::Output>>,
    }
    impl<F: Future> Unpin for JoinAll<F> {}
    impl<F: Future> Future for JoinAll<F> {
        type Output = Vec<F::Output>;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            // JoinAll is Unpin: the futures are boxed and outputs are never pinned.
            let this = self.get_mut();
            for (future, output) in this.futures.iter_mut().zip(this.outputs.iter_mut()) {
                if output.is_none()
                    && let Poll::Ready(value) = future.as_mut().poll(cx)
                {
                    *output = Some(value);
                }
            }
            if this.outputs.iter().all(Option::is_some) {
                Poll::Ready(this.outputs.iter_mut().filter_map(Option::take).collect())
            } else {
                Poll::Pending
            }
        }
    }
    let futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let outputs = futures.iter().map(|_| None).collect();
    JoinAll { futures, outputs }.await
}

fn profile(
    user: &str,
    handle: Option<&str>,
    name: Option<&str>,
    fields: &[SearchableField],
) -> Profile {
    Profile::new(
        UserUri::parse(&format!("mimi://z.example/u/{user}")).unwrap(),
        handle.map(|h| Handle::parse(h).unwrap()),
        name.map(str::to_owned),
        Searchable::of(fields),
    )
    .unwrap()
}

/// A profile is replaced whole; a handle belongs to one user at a time.
pub async fn profiles_keep_handles_unique<S: DsStore>(store: &S) {
    use SearchableField::{Handle as H, Name as N};
    let diana = profile("diana", Some("di"), Some("Diana Prince"), &[H, N]);
    assert_eq!(
        store.save_profile(&diana).await.unwrap(),
        ProfileSaved::Saved
    );
    assert_eq!(
        store.profile(&diana.user).await.unwrap(),
        Some(diana.clone())
    );
    let thief = profile("eve", Some("di"), None, &[H]);
    assert_eq!(
        store.save_profile(&thief).await.unwrap(),
        ProfileSaved::HandleTaken,
        "another user's handle is refused"
    );
    assert_eq!(
        store.profile(&thief.user).await.unwrap(),
        None,
        "nothing saved"
    );
    let renamed = profile("diana", Some("wonder"), None, &[N]);
    assert_eq!(
        store.save_profile(&renamed).await.unwrap(),
        ProfileSaved::Saved
    );
    assert_eq!(store.profile(&diana.user).await.unwrap(), Some(renamed));
    assert_eq!(
        store.save_profile(&thief).await.unwrap(),
        ProfileSaved::Saved,
        "a released handle is free"
    );
}

/// `find_profiles` returns exactly the profiles `ProfileSearch::matches` accepts, by user, at
/// most `limit`, and never through a field that is not searchable.
pub async fn profile_search_follows_its_definition<S: DsStore>(store: &S) {
    use SearchableField::{Handle as H, Name as N, Nick as K};
    let profiles = [
        profile("anna", Some("anna.k"), Some("Anna Karenina"), &[H, N]),
        profile("bert", Some("bert_100"), Some("Bert Ånström"), &[H, K, N]),
        profile("carl", Some("karl"), Some("Carl Anna"), &[]),
        profile("dora", None, Some("Dora 50% Explorer"), &[N]),
        profile("emil", Some("em"), None, &[K]),
    ];
    for p in &profiles {
        assert_eq!(store.save_profile(p).await.unwrap(), ProfileSaved::Saved);
    }
    let searches = [
        ProfileSearch::Handle(Handle::parse("anna.k").unwrap()),
        ProfileSearch::Handle(Handle::parse("karl").unwrap()),
        ProfileSearch::Nick("bert".into()),
        ProfileSearch::Nick("anna".into()),
        ProfileSearch::Nick("emil".into()),
        ProfileSearch::NameContains("anna".into()),
        ProfileSearch::NameContains("ånström".into()),
        ProfileSearch::NameContains("50%".into()),
        ProfileSearch::NameContains("0%_".into()),
        ProfileSearch::AnyContains("an".into()),
        ProfileSearch::AnyContains("r_1".into()),
        ProfileSearch::AnyContains("rt%".into()),
        ProfileSearch::AnyContains("_".into()),
        ProfileSearch::AnyContains("mil".into()),
        ProfileSearch::AnyContains("zzz".into()),
    ];
    for search in &searches {
        let expected: Vec<Profile> = profiles
            .iter()
            .filter(|p| search.matches(p))
            .cloned()
            .collect();
        let found = store.find_profiles(search, 100).await.unwrap();
        assert_eq!(found, expected, "{search:?}");
        if expected.len() > 1 {
            let first = store.find_profiles(search, 1).await.unwrap();
            assert_eq!(first, expected[..1], "{search:?} limited to 1");
        }
    }
    let anna = store
        .find_profiles(&ProfileSearch::NameContains("anna".into()), 100)
        .await
        .unwrap();
    assert_eq!(
        anna,
        profiles[..1],
        "carl's name matches too, but he made nothing searchable"
    );
}
