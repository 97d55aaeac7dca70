//! Hub rooms: versioned state, the room log, and the fan-out queue written with them.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use super::*;

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

fn outbound(to: &str, room_name: &str, body: &str) -> NewOutbound {
    NewOutbound {
        to: domain(to),
        room: room(room_name),
        body: body.as_bytes().to_vec(),
    }
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
