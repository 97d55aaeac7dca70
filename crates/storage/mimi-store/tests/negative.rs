//! Refusals: stale writers change nothing, locks and closed stores give errors that say what to
//! do, rows edited outside the store are reported rather than unwrapped.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{count_rows, device, domain, event, outbound, room};
use mimi_ds::{DsStore, StoreError};
use mimi_store::{SqliteConfig, SqliteStore};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

#[tokio::test]
async fn a_stale_room_save_queues_no_outbound_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let store = SqliteStore::open(&path).await.unwrap();
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
    assert_eq!(count_rows(&path, "outbound").await, 1);
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

#[tokio::test]
async fn a_stale_inbox_save_appends_no_events_and_uses_no_sequence_number() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let store = SqliteStore::open(&path).await.unwrap();
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
    assert_eq!(count_rows(&path, "feed_log").await, 1);
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

#[tokio::test]
async fn a_closed_store_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in(dir.path()).await.unwrap();
    let other = store.clone();
    store.close().await;
    match other.load_room(&room("r")).await {
        Err(StoreError::Backend(message)) => assert!(message.contains("closed"), "{message}"),
        res => panic!("expected a closed-store error, got {res:?}"),
    }
}

#[tokio::test]
async fn rows_edited_outside_the_store_are_reported_not_unwrapped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edited.sqlite3");
    let store = SqliteStore::open(&path).await.unwrap();
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
    let mut conn = SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&path))
        .await
        .unwrap();
    for statement in [
        "UPDATE outbound SET room = 'not a uri'",
        "UPDATE feed_log SET room = 'mimi://hub.example/u/not-a-room'",
        "INSERT INTO key_package_claims (reference, device) VALUES (x'01', 'nobody')",
    ] {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    conn.close().await.unwrap();

    let errors = [
        store
            .pending_outbound(&domain("x.example"), 10)
            .await
            .map(|_| ()),
        store
            .device_events(&device("phone"), 0, 10)
            .await
            .map(|_| ()),
        store.claimed_by(&[1]).await.map(|_| ()),
    ];
    for (err, what) in errors
        .into_iter()
        .zip(["outbound room", "event room", "claiming device"])
    {
        match err {
            Err(StoreError::Backend(message)) => {
                assert!(message.contains(&format!("invalid {what}")), "{message}");
                assert!(message.contains("edited.sqlite3"), "{message}");
            }
            other => panic!("expected a backend error for {what}, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn key_package_duplicates_and_expiry_follow_the_pool_rules() {
    use common::key_package;
    use mimi_ds::follower::Claim;
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in(dir.path()).await.unwrap();
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
