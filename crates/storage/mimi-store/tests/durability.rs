//! What a store acknowledged is there after the store is dropped and opened again (the SQLite
//! file reopened, the PostgreSQL schema reconnected to).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{
    TestDb, TestStore, device, domain, event, key_package, on_both_backends, outbound, room,
};
use mimi_ds::follower::Claim;

on_both_backends!(
    everything_written_is_read_back_after_reopening,
    ids_and_sequence_numbers_keep_increasing_across_reopening_and_acks,
);

async fn everything_written_is_read_back_after_reopening<S: TestStore>(db: &TestDb) {
    let (hub, inbox) = (room("hub"), room("inbox"));
    let claimed;
    {
        let store = S::open(db).await;
        let v = store
            .save_room(
                &hub,
                0,
                b"h1".to_vec(),
                vec![outbound("x.example", "hub", b"n1")],
            )
            .await
            .unwrap();
        store
            .save_room(
                &hub,
                v,
                b"h2".to_vec(),
                vec![
                    outbound("x.example", "hub", b"n2"),
                    outbound("z.example", "hub", b"n3"),
                ],
            )
            .await
            .unwrap();
        store
            .save_inbox(
                &inbox,
                0,
                b"i1".to_vec(),
                vec![
                    event("phone", "inbox", b"e1"),
                    event("laptop", "inbox", b"e2"),
                    event("phone", "inbox", b"e3"),
                ],
            )
            .await
            .unwrap();
        store
            .add_key_packages(
                &device("phone"),
                vec![
                    key_package(1, false, 4_000_000_000),
                    key_package(2, false, u64::MAX),
                    key_package(3, true, 4_000_000_000),
                ],
            )
            .await
            .unwrap();
        claimed = match store.claim_key_package(&device("phone"), 0).await.unwrap() {
            Claim::Fresh(entry) => entry,
            other => panic!("expected a fresh KeyPackage, got {other:?}"),
        };
        // Dropped without close(): an acknowledged write must not depend on a clean shutdown.
        drop(store);
    }

    let store = S::open(db).await;
    let record = store.load_room(&hub).await.unwrap().unwrap();
    assert_eq!((record.version, record.state), (2, b"h2".to_vec()));
    let x = store
        .pending_outbound(&domain("x.example"), 10)
        .await
        .unwrap();
    let bodies: Vec<&[u8]> = x.iter().map(|i| i.body.as_slice()).collect();
    assert_eq!(bodies, [b"n1".as_slice(), b"n2".as_slice()]);
    assert_eq!(x[0].room, hub);
    assert_eq!(x[0].to, domain("x.example"));
    let z = store
        .pending_outbound(&domain("z.example"), 10)
        .await
        .unwrap();
    assert_eq!(z.len(), 1);

    let record = store.load_inbox(&inbox).await.unwrap().unwrap();
    assert_eq!((record.version, record.state), (1, b"i1".to_vec()));
    let phone = store.device_events(&device("phone"), 0, 10).await.unwrap();
    let seqs: Vec<_> = phone
        .iter()
        .map(|e| (e.seq, e.payload.as_slice()))
        .collect();
    assert_eq!(
        seqs,
        [(1, b"e1".as_slice()), (3, b"e3".as_slice())],
        "one counter for the log"
    );
    assert_eq!(phone[0].room, inbox);

    assert_eq!(claimed, key_package(1, false, 4_000_000_000));
    assert_eq!(
        store.claimed_by(&claimed.reference).await.unwrap(),
        Some(device("phone"))
    );
    assert_eq!(
        store.fresh_key_packages(&device("phone"), 0).await.unwrap(),
        1
    );
    // The not_after beyond the signed range comes back bit for bit.
    assert_eq!(
        store.claim_key_package(&device("phone"), 0).await.unwrap(),
        Claim::Fresh(key_package(2, false, u64::MAX))
    );
    assert_eq!(
        store.claim_key_package(&device("phone"), 0).await.unwrap(),
        Claim::LastResort(key_package(3, true, 4_000_000_000))
    );
    store.close().await;
}

async fn ids_and_sequence_numbers_keep_increasing_across_reopening_and_acks<S: TestStore>(
    db: &TestDb,
) {
    let r = room("ids");
    let (first, first_seq) = {
        let store = S::open(db).await;
        store
            .save_room(
                &r,
                0,
                b"s".to_vec(),
                vec![outbound("x.example", "ids", b"a")],
            )
            .await
            .unwrap();
        store
            .save_inbox(&r, 0, b"i".to_vec(), vec![event("phone", "ids", b"a")])
            .await
            .unwrap();
        let item = store
            .pending_outbound(&domain("x.example"), 1)
            .await
            .unwrap();
        // Acking the newest item must not let its id be handed out again.
        store.ack_outbound(item[0].id).await.unwrap();
        let seq = store.device_events(&device("phone"), 0, 1).await.unwrap()[0].seq;
        store.close().await;
        (item[0].id, seq)
    };
    let store = S::open(db).await;
    store
        .save_room(
            &r,
            1,
            b"t".to_vec(),
            vec![outbound("x.example", "ids", b"b")],
        )
        .await
        .unwrap();
    store
        .save_inbox(&r, 1, b"j".to_vec(), vec![event("phone", "ids", b"b")])
        .await
        .unwrap();
    let item = store
        .pending_outbound(&domain("x.example"), 10)
        .await
        .unwrap();
    assert_eq!(item.len(), 1);
    assert!(
        item[0].id > first,
        "outbound id {} reused after {first}",
        item[0].id
    );
    let events = store
        .device_events(&device("phone"), first_seq, 10)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].seq > first_seq);
}
