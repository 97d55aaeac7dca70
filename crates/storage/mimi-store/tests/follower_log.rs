//! The follower log (schema 6): one row per message whatever the number of member devices,
//! intervals and cursors that survive reopening (both backends), and a SQLite file from before
//! the log whose devices keep their streams and cursors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestDb, TestStore, device, on_both_backends, room};
use mimi_ds::{DsStore, FeedItem};
use mimi_store::SqliteStore;

on_both_backends!(
    a_message_is_one_row_whatever_the_number_of_member_devices,
    intervals_and_cursors_survive_reopening,
);
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

fn msg(p: &str) -> FeedItem {
    FeedItem::Room(p.as_bytes().to_vec())
}

async fn stream(store: &impl DsStore, name: &str, cursor: u64) -> Vec<(u64, String)> {
    store
        .device_events(&device(name), cursor, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.seq, String::from_utf8(e.payload).unwrap()))
        .collect()
}

/// K member devices, M messages: M log rows and K interval rows (before the log: K × M
/// device_events rows). Every device still gets every message, in order.
async fn a_message_is_one_row_whatever_the_number_of_member_devices<S: TestStore>(db: &TestDb) {
    const K: usize = 50;
    const M: usize = 20;
    let store = S::open(db).await;
    let r = room("big");
    let names: Vec<String> = (0..K).map(|i| format!("d{i}")).collect();
    let mut v = store
        .write_inbox(
            &r,
            0,
            b"i".to_vec(),
            names.iter().map(|n| FeedItem::Join(device(n))).collect(),
        )
        .await
        .unwrap();
    for m in 0..M {
        v = store
            .write_inbox(&r, v, b"i".to_vec(), vec![msg(&format!("m{m}"))])
            .await
            .unwrap();
    }
    assert_eq!(db.count_rows("feed_log").await, M as i64);
    assert_eq!(db.count_rows("feed_members").await, K as i64);
    assert_eq!(db.count_rows("device_events").await, 0);
    let want: Vec<String> = (0..M).map(|m| format!("m{m}")).collect();
    for name in &names {
        let got: Vec<String> = stream(&store, name, 0)
            .await
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

/// Intervals, the log's counter and the cursors are in the file: after reopening, an open
/// interval still covers new messages, a closed one does not, and numbers continue.
async fn intervals_and_cursors_survive_reopening<S: TestStore>(db: &TestDb) {
    let r = room("restart");
    let (v, seen) = {
        let store = S::open(db).await;
        let v = store
            .write_inbox(
                &r,
                0,
                b"i".to_vec(),
                vec![
                    FeedItem::Join(device("a")),
                    FeedItem::Join(device("b")),
                    msg("m1"),
                    FeedItem::Leave(device("b")),
                    msg("m2"),
                ],
            )
            .await
            .unwrap();
        let seen = stream(&store, "a", 0).await;
        store.close().await;
        (v, seen)
    };
    assert_eq!(seen.len(), 2);
    let store = S::open(db).await;
    store
        .write_inbox(
            &r,
            v,
            b"i".to_vec(),
            vec![msg("m3"), FeedItem::Join(device("b")), msg("m4")],
        )
        .await
        .unwrap();
    let after: Vec<String> = stream(&store, "a", seen[1].0)
        .await
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(after, ["m3", "m4"], "nothing lost, nothing repeated");
    let b: Vec<String> = stream(&store, "b", 0)
        .await
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(b, ["m1", "m4"]);
    assert!(
        stream(&store, "a", 0)
            .await
            .windows(2)
            .all(|w| w[0].0 < w[1].0)
    );
}

/// A file written before schema 6 (per-device streams): after the migration its devices read
/// their old events after their old cursors, then the log's, numbered above every old number,
/// so a device's cursor from before keeps meaning "after what I have".
#[tokio::test]
async fn streams_from_before_the_follower_log_stay_readable_and_cursors_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    // Schemas 1 to 5 only, as a server before this change left the file.
    let old = dir.path().join("migrations");
    std::fs::create_dir(&old).unwrap();
    let ours = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(&ours).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if name.as_str() < "0006" {
            std::fs::copy(entry.path(), old.join(&name)).unwrap();
        }
    }
    {
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true);
        let mut conn = SqliteConnection::connect_with(&options).await.unwrap();
        sqlx::migrate::Migrator::new(old.as_path())
            .await
            .unwrap()
            .run(&mut conn)
            .await
            .unwrap();
        let r = room("old").to_string();
        for (dev, last) in [("phone", 7i64), ("laptop", 3)] {
            let d = device(dev).to_string();
            sqlx::query("INSERT INTO device_streams (device, last_seq) VALUES ($1, $2)")
                .bind(&d)
                .bind(last)
                .execute(&mut conn)
                .await
                .unwrap();
            for seq in 1..=last {
                sqlx::query(
                    "INSERT INTO device_events (device, seq, room, payload) VALUES ($1, $2, $3, $4)",
                )
                .bind(&d)
                .bind(seq)
                .bind(&r)
                .bind(format!("old{seq}").into_bytes())
                .execute(&mut conn)
                .await
                .unwrap();
            }
        }
        conn.close().await.unwrap();
    }
    let store = SqliteStore::open(&path).await.unwrap();
    let r = room("old");
    // The phone had read up to 5 before the upgrade.
    let phone: Vec<String> = stream(&store, "phone", 5)
        .await
        .into_iter()
        .map(|(_, p)| p)
        .collect();
    assert_eq!(phone, ["old6", "old7"]);
    store
        .write_inbox(
            &r,
            0,
            b"i".to_vec(),
            vec![
                FeedItem::Join(device("phone")),
                FeedItem::Join(device("laptop")),
                msg("new"),
            ],
        )
        .await
        .unwrap();
    let phone = stream(&store, "phone", 5).await;
    assert_eq!(
        phone.iter().map(|(_, p)| p.as_str()).collect::<Vec<_>>(),
        ["old6", "old7", "new"]
    );
    assert!(phone[2].0 > 7, "new numbers start above every old one");
    // The laptop had read everything (3): it gets the new message only, once.
    let laptop = stream(&store, "laptop", 3).await;
    assert_eq!(
        laptop.iter().map(|(_, p)| p.as_str()).collect::<Vec<_>>(),
        ["new"]
    );
    assert!(stream(&store, "laptop", laptop[0].0).await.is_empty());
}
