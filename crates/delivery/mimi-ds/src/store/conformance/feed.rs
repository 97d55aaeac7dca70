//! Follower inboxes and the follower log: device streams as cursors over membership periods.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use super::*;

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

fn payloads(events: &[crate::store::DeviceEvent]) -> Vec<String> {
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
