//! Refusals: stale writers change nothing, locks and closed stores give errors that say what to
//! do, rows edited outside the store are reported rather than unwrapped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{
    TestDb, TestStore, count_rows, device, domain, event, key_package, on_both_backends, outbound,
    room,
};
use mimi_ds::follower::Claim;
use mimi_ds::{DsStore, StoreError};
use mimi_store::{SqliteConfig, SqliteStore};

on_both_backends!(
    a_stale_room_save_queues_no_outbound_rows,
    a_stale_inbox_save_appends_no_events_and_uses_no_sequence_number,
    a_closed_store_says_so,
    key_package_duplicates_and_expiry_follow_the_pool_rules,
    expired_key_packages_are_skipped_and_dropped_by_claims,
    rows_edited_outside_the_store_are_reported_not_unwrapped,
);
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

async fn a_stale_room_save_queues_no_outbound_rows<S: TestStore>(db: &TestDb) {
    let store = S::open(db).await;
    let r = room("stale");
    store
        .save_room(
            &r,
            0,
            b"s1".to_vec(),
            vec![outbound("x.example", "stale", b"m1")],
        )
        .await
        .unwrap();
    for expected in [0, 2, 7, u64::MAX] {
        let stale = store
            .save_room(
                &r,
                expected,
                b"lost".to_vec(),
                vec![
                    outbound("x.example", "stale", b"lost1"),
                    outbound("z.example", "stale", b"lost2"),
                ],
            )
            .await;
        assert_eq!(
            stale,
            Err(StoreError::Conflict {
                what: r.to_string(),
                expected
            })
        );
    }
    assert_eq!(db.count_rows("outbound").await, 1);
    assert_eq!(
        store.load_room(&r).await.unwrap().unwrap().state,
        b"s1",
        "the record is unchanged"
    );
    assert!(
        store
            .pending_outbound(&domain("z.example"), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn a_stale_inbox_save_appends_no_events_and_uses_no_sequence_number<S: TestStore>(
    db: &TestDb,
) {
    let store = S::open(db).await;
    let r = room("inbox");
    let v = store
        .save_inbox(&r, 0, b"i1".to_vec(), vec![event("phone", "inbox", b"a")])
        .await
        .unwrap();
    let stale = store
        .save_inbox(
            &r,
            0,
            b"i2".to_vec(),
            vec![event("phone", "inbox", b"lost")],
        )
        .await;
    assert!(matches!(
        stale,
        Err(StoreError::Conflict { expected: 0, .. })
    ));
    assert_eq!(db.count_rows("feed_log").await, 1);
    store
        .save_inbox(&r, v, b"i2".to_vec(), vec![event("phone", "inbox", b"b")])
        .await
        .unwrap();
    let seqs: Vec<u64> = store
        .device_events(&device("phone"), 0, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    assert_eq!(seqs, [1, 2], "the conflicting save took no sequence number");
}

#[tokio::test]
async fn a_write_blocked_by_another_process_says_the_database_is_locked() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("locked.sqlite3");
    let mut config = SqliteConfig::default();
    config.busy_timeout = Duration::from_millis(100);
    let store = SqliteStore::open_with(&path, &config).await.unwrap();

    // Another "process" holds the write lock.
    let mut holder = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&path))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut holder)
        .await
        .unwrap();
    let blocked = store
        .save_room(
            &room("r"),
            0,
            b"s".to_vec(),
            vec![outbound("x.example", "r", b"m")],
        )
        .await;
    match blocked {
        Err(StoreError::Backend(message)) => {
            assert!(
                message.contains("database is locked by another process"),
                "{message}"
            );
            assert!(message.contains("locked.sqlite3"), "{message}");
        }
        other => panic!("expected a locked error, got {other:?}"),
    }
    // Reads still work under WAL while the writer holds its lock.
    assert_eq!(store.load_room(&room("r")).await.unwrap(), None);
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    holder.close().await.unwrap();
    store
        .save_room(
            &room("r"),
            0,
            b"s".to_vec(),
            vec![outbound("x.example", "r", b"m")],
        )
        .await
        .unwrap();
    assert_eq!(
        count_rows(&path, "outbound").await,
        1,
        "the failed write left nothing"
    );
}

async fn a_closed_store_says_so<S: TestStore>(db: &TestDb) {
    let store = S::open(db).await;
    let other = store.clone();
    store.close().await;
    match other.load_room(&room("r")).await {
        Err(StoreError::Backend(message)) => assert!(message.contains("closed"), "{message}"),
        res => panic!("expected a closed-store error, got {res:?}"),
    }
}

async fn rows_edited_outside_the_store_are_reported_not_unwrapped<S: TestStore>(db: &TestDb) {
    let store = S::open(db).await;
    store
        .save_room(
            &room("r"),
            0,
            b"s".to_vec(),
            vec![outbound("x.example", "r", b"m")],
        )
        .await
        .unwrap();
    store
        .save_inbox(
            &room("r"),
            0,
            b"s".to_vec(),
            vec![event("phone", "r", b"e")],
        )
        .await
        .unwrap();
    store
        .add_key_packages(&device("phone"), vec![key_package(1, false, u64::MAX)])
        .await
        .unwrap();
    store.claim_key_package(&device("phone"), 0).await.unwrap();
    for statement in [
        "UPDATE outbound SET room = 'not a uri'",
        "UPDATE feed_log SET room = 'mimi://hub.example/u/not-a-room'",
        "UPDATE key_package_claims SET device = 'nobody'",
    ] {
        db.execute(statement).await;
    }

    let errors = [
        store
            .pending_outbound(&domain("x.example"), 10)
            .await
            .map(|_| ()),
        store
            .device_events(&device("phone"), 0, 10)
            .await
            .map(|_| ()),
        store.claimed_by(b"ref-1").await.map(|_| ()),
    ];
    for (err, what) in errors
        .into_iter()
        .zip(["outbound room", "event room", "claiming device"])
    {
        match err {
            Err(StoreError::Backend(message)) => {
                assert!(message.contains(&format!("invalid {what}")), "{message}");
                assert!(message.contains(&db.name()), "{message}");
            }
            other => panic!("expected a backend error for {what}, got {other:?}"),
        }
    }
}

async fn key_package_duplicates_and_expiry_follow_the_pool_rules<S: TestStore>(db: &TestDb) {
    let store = S::open(db).await;
    let phone = device("phone");
    store
        .add_key_packages(
            &phone,
            vec![
                key_package(1, false, 10),
                key_package(1, false, 99),
                key_package(2, true, 10),
                key_package(3, false, 20),
            ],
        )
        .await
        .unwrap();
    assert_eq!(store.fresh_key_packages(&phone, 9_999).await.unwrap(), 2);
    assert_eq!(store.fresh_key_packages(&phone, 10_000).await.unwrap(), 1);
    // At 10 s, 1 and 2 have expired: 3 is the only one left, then nothing (2 is gone too).
    assert_eq!(
        store.claim_key_package(&phone, 10_000).await.unwrap(),
        Claim::Fresh(key_package(3, false, 20))
    );
    assert_eq!(
        store.claim_key_package(&phone, 10_000).await.unwrap(),
        Claim::Exhausted
    );
    assert_eq!(store.claimed_by(b"ref-1").await.unwrap(), None);
    // Another device's pool is separate, even with the same reference.
    store
        .add_key_packages(&device("laptop"), vec![key_package(3, false, 20)])
        .await
        .unwrap();
    assert_eq!(
        store.claim_key_package(&device("laptop"), 0).await.unwrap(),
        Claim::Fresh(key_package(3, false, 20))
    );
    assert_eq!(
        store.claimed_by(b"ref-3").await.unwrap(),
        Some(device("laptop"))
    );
    assert_eq!(
        store.claim_key_package(&device("nobody"), 0).await.unwrap(),
        Claim::Exhausted
    );
}

async fn expired_key_packages_are_skipped_and_dropped_by_claims<S: TestStore>(db: &TestDb) {
    let store = S::open(db).await;
    let phone = device("phone");
    store
        .add_key_packages(
            &phone,
            vec![
                key_package(1, false, 10),
                key_package(2, true, 10),
                key_package(3, false, 20),
                key_package(4, true, u64::MAX),
            ],
        )
        .await
        .unwrap();
    // At 15 s, 1 and 2 have expired: the fresh one is 3, then the last-resort 4 (kept).
    let claim = store.claim_key_package(&phone, 15_000).await.unwrap();
    assert!(
        matches!(claim, Claim::Fresh(ref e) if e.reference == b"ref-3"),
        "{claim:?}"
    );
    assert_eq!(db.count_rows("key_packages").await, 1);
    let claim = store.claim_key_package(&phone, 15_000).await.unwrap();
    assert!(
        matches!(claim, Claim::LastResort(ref e) if e.reference == b"ref-4" && e.not_after == u64::MAX),
        "{claim:?}"
    );
    assert_eq!(db.count_rows("key_packages").await, 1);
    store.close().await;
}
