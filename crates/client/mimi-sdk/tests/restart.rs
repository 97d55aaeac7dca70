//! A device dropped mid-conversation and opened again from its file resumes exactly where it
//! stopped: no message lost, none repeated.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{federation, member, settle, texts, user};
use mimi_sdk::{Device, Preset, devices_in};

#[test]
fn a_dropped_device_resumes_from_its_profile() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        // Delivery reports are log rows too: off here, so the rows counted below are exactly
        // the messages (the setting is kept in the profile across the reopens).
        for d in [&mut alice, &mut bob] {
            d.set_delivery_reports(false).await.unwrap();
        }
        let room = alice.room_uri("durable").unwrap();
        alice.create_room(&room, Preset::Cooperative).await.unwrap();
        alice.invite(&room, &[bob.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| member(d[1], &room)).await;

        let mut expected = Vec::new();
        for text in ["one", "two"] {
            alice.send_text(&room, text).await.unwrap();
            expected.push(text.to_owned());
        }
        let n = expected.len();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| texts(d, &room).len() == n)
        })
        .await;

        // Bob's device is killed; Alice writes meanwhile, and is killed herself right after
        // sending (before her own fan-out came back).
        let bob_file = bob.path().to_owned();
        drop(bob);
        for text in ["three", "four"] {
            alice.send_text(&room, text).await.unwrap();
            expected.push(text.to_owned());
        }
        let alice_file = alice.path().to_owned();
        drop(alice);

        assert_eq!(devices_in(&profiles.join("bob")), vec![bob_file.clone()]);
        let mut alice = Device::open(&alice_file).await.unwrap();
        let mut bob = Device::open(&bob_file).await.unwrap();
        assert_eq!(texts(&bob, &room), expected[..2].to_vec());
        let n = expected.len();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| texts(d, &room).len() >= n)
        })
        .await;

        // Killed again after receiving part of the conversation; then both write.
        let cursor = bob.cursor();
        drop(bob);
        let mut bob = Device::open(&bob_file).await.unwrap();
        assert_eq!(bob.cursor(), cursor);
        bob.send_text(&room, "back").await.unwrap();
        expected.push("back".to_owned());
        alice.send_text(&room, "welcome back").await.unwrap();
        expected.push("welcome back".to_owned());
        let n = expected.len();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| texts(d, &room).len() >= n)
        })
        .await;
        // A little longer, so that any repeat would have arrived.
        for d in [&mut alice, &mut bob] {
            d.sync(300).await.unwrap();
        }
        assert_eq!(texts(&alice, &room), expected);
        assert_eq!(texts(&bob, &room), expected);
        for d in [&alice, &bob] {
            let v = d.history(&room).unwrap();
            assert!(v.rejections().is_empty(), "{:?}", v.rejections());
        }
        drop(alice);
        drop(bob);
        // Opened once more, the history is the same (nothing re-applied from the feed).
        let mut bob = Device::open(&bob_file).await.unwrap();
        bob.sync(200).await.unwrap();
        assert_eq!(texts(&bob, &room), expected);

        // A file written before the record was split (a whole version 1 record, no log
        // rows) opens with the same history, and the next write stores the rows.
        let whole = bob.engine().to_record().unwrap();
        bob.close().await;
        rewrite_as_whole_record(&bob_file, &whole).await;
        let mut bob = Device::open(&bob_file).await.unwrap();
        assert_eq!(texts(&bob, &room), expected);
        let mut alice = Device::open(&alice_file).await.unwrap();
        alice.send_text(&room, "after the upgrade").await.unwrap();
        expected.push("after the upgrade".to_owned());
        let n = expected.len();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| texts(d, &room).len() >= n)
        })
        .await;
        bob.close().await;
        let bob = Device::open(&bob_file).await.unwrap();
        assert_eq!(texts(&bob, &room), expected);
        assert_eq!(log_rows(&bob_file).await, expected.len() as i64);
    });
}

/// Replaces the device file's record by a whole (version 1) record and drops its log rows,
/// as a file written before the split looks.
async fn rewrite_as_whole_record(file: &std::path::Path, record: &[u8]) {
    use sqlx::Connection as _;
    let url = format!("sqlite://{}", file.display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE state SET record = ? WHERE id = 1")
        .bind(record)
        .execute(&mut db)
        .await
        .unwrap();
    sqlx::query("DELETE FROM log")
        .execute(&mut db)
        .await
        .unwrap();
    db.close().await.unwrap();
}

async fn log_rows(file: &std::path::Path) -> i64 {
    use sqlx::Connection as _;
    let url = format!("sqlite://{}", file.display());
    let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let n: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM log")
        .fetch_one(&mut db)
        .await
        .unwrap();
    n.0
}

#[test]
fn a_provider_down_is_named_and_the_device_goes_on_after_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mut alice, mut bob, room) = runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let room = alice.room_uri("outage").unwrap();
        alice.create_room(&room, Preset::Cooperative).await.unwrap();
        alice.invite(&room, &[bob.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| member(d[1], &room)).await;
        alice.send_text(&room, "before").await.unwrap();
        (alice, bob, room)
    });

    // Bob's own provider is down: his message is not sent, and the error names the URL.
    nodes[1].stop();
    runtime.block_on(async {
        let e = bob.send_text(&room, "lost in transit").await.unwrap_err();
        assert!(matches!(e, mimi_sdk::SdkError::Unreachable { .. }), "{e}");
        assert!(e.to_string().contains(&nodes[1].base_url()), "{e}");
        // Reading what is stored still works.
        assert_eq!(bob.history(&room).unwrap().room(), &room);
    });
    nodes[1].restart().unwrap();

    runtime.block_on(async {
        bob.send_text(&room, "after").await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| texts(d, &room).len() >= 2)
        })
        .await;
        for d in [&mut alice, &mut bob] {
            d.sync(300).await.unwrap();
        }
        let expected = vec!["before".to_owned(), "after".to_owned()];
        assert_eq!(texts(&alice, &room), expected);
        assert_eq!(texts(&bob, &room), expected);
    });
}
