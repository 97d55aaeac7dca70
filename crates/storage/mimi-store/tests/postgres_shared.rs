//! What several processes of one provider coordinate with on PostgreSQL, each through pools
//! (or connections) of its own: hub rooms locked while processed, leases that one holder at a
//! time has and that a dead holder's successor gets, and wake-ups announced at commit to every
//! listener of the schema.
//!
//! Reads the server's URL from `MIMI_TEST_DATABASE_URL` and works in a schema of its own;
//! without the variable each test says on stderr that it is skipped and passes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{PgSchema, device, domain, event, outbound, pg_url, room};
use mimi_ds::{DsStore, FeedItem};
use mimi_store::{PostgresConfig, PostgresStore, Wakeup};

async fn connect(url: &str) -> PostgresStore {
    let mut config = PostgresConfig::default();
    config.max_connections = 3;
    PostgresStore::connect(url, &config).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_locked_room_is_held_by_one_pool_at_a_time_and_no_save_conflicts() {
    let Some(admin) = pg_url("a_locked_room_is_held_by_one_pool_at_a_time_and_no_save_conflicts")
    else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    let stores = [connect(&schema.url).await, connect(&schema.url).await];
    let hub = room("locked");
    stores[0]
        .save_room(&hub, 0, vec![0], Vec::new())
        .await
        .unwrap();
    // 8 workers over two pools, 5 changes each: lock, read, pause (another worker would
    // interleave here without the lock), save at the version read. Never two inside at once,
    // never a conflict.
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..8usize)
        .map(|worker| {
            let store = stores[worker % 2].clone();
            let (hub, inside, most) = (hub.clone(), inside.clone(), most.clone());
            tokio::spawn(async move {
                for n in 0..5u8 {
                    let (locked, record) = store.lock_room(&hub).await.unwrap();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    let record = record.unwrap();
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    let body = vec![worker as u8, n];
                    locked
                        .save(
                            record.version,
                            body.clone(),
                            vec![outbound("x.example", "locked", &body)],
                        )
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(most.load(Ordering::SeqCst), 1, "two holders at once");
    let record = stores[1].load_room(&hub).await.unwrap().unwrap();
    assert_eq!(record.version, 41);
    let items = stores[1]
        .pending_outbound(&domain("x.example"), 100)
        .await
        .unwrap();
    assert_eq!(items.len(), 40);

    // Released without saving: nothing changes, and the next holder gets in.
    let (locked, _) = stores[0].lock_room(&hub).await.unwrap();
    locked.release().await.unwrap();
    let (locked, record) = stores[1].lock_room(&hub).await.unwrap();
    assert_eq!(record.unwrap().version, 41);
    // A holder that goes away (dropped, as when its request fails) releases too.
    drop(locked);
    let waited = tokio::time::timeout(Duration::from_secs(10), stores[0].lock_room(&hub)).await;
    let (locked, _) = waited.expect("a dropped lock was not released").unwrap();
    // A save at a stale version still conflicts and changes nothing.
    let err = locked.save(3, vec![9], Vec::new()).await.unwrap_err();
    assert!(matches!(err, mimi_ds::StoreError::Conflict { .. }), "{err}");
    assert_eq!(
        stores[0].load_room(&hub).await.unwrap().unwrap().version,
        41
    );
    for store in stores {
        store.close().await;
    }
    schema.drop().await;
}

#[tokio::test]
async fn a_lease_has_one_holder_and_passes_on_when_it_goes() {
    let Some(admin) = pg_url("a_lease_has_one_holder_and_passes_on_when_it_goes") else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    let (a, b) = (connect(&schema.url).await, connect(&schema.url).await);
    let mut first = a.lease("outbound y.example").await.unwrap();
    let mut second = b.lease("outbound y.example").await.unwrap();
    let mut other = b.lease("outbound z.example").await.unwrap();
    assert!(first.hold().await.unwrap());
    assert!(first.hold().await.unwrap(), "the holder keeps it");
    assert!(!second.hold().await.unwrap(), "one holder at a time");
    assert!(!second.is_held());
    assert!(other.hold().await.unwrap(), "another name is another lease");
    // The holder's connection goes (its process died): the lease is free at once.
    first.close().await;
    let mut got = false;
    for _ in 0..50 {
        if second.hold().await.unwrap() {
            got = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(got, "the lease of a closed connection was not freed");
    let mut third = a.lease("outbound y.example").await.unwrap();
    assert!(!third.hold().await.unwrap());
    a.close().await;
    b.close().await;
    schema.drop().await;
}

#[tokio::test]
async fn saves_wake_every_listener_of_the_schema_at_commit_only() {
    let Some(admin) = pg_url("saves_wake_every_listener_of_the_schema_at_commit_only") else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    let elsewhere = PgSchema::create(&admin).await;
    let (a, b) = (connect(&schema.url).await, connect(&schema.url).await);
    let foreign = connect(&elsewhere.url).await;
    let mut wakeups = b.listen().await.unwrap();

    // Another schema's saves are not ours.
    foreign
        .save_room(
            &room("r"),
            0,
            vec![1],
            vec![outbound("q.example", "r", b"1")],
        )
        .await
        .unwrap();
    // A save that conflicts announces nothing.
    a.save_room(
        &room("r"),
        5,
        vec![1],
        vec![outbound("w.example", "r", b"1")],
    )
    .await
    .unwrap_err();
    a.save_room(
        &room("r"),
        0,
        vec![1],
        vec![outbound("x.example", "r", b"1")],
    )
    .await
    .unwrap();
    assert_eq!(
        next_of(&mut wakeups).await,
        Wakeup::Outbound(domain("x.example"))
    );
    let (locked, _) = a.lock_room(&room("r")).await.unwrap();
    locked
        .save(1, vec![2], vec![outbound("z.example", "r", b"2")])
        .await
        .unwrap();
    assert_eq!(
        next_of(&mut wakeups).await,
        Wakeup::Outbound(domain("z.example"))
    );
    a.save_inbox(&room("r"), 0, vec![1], vec![event("phone", "r", b"e")])
        .await
        .unwrap();
    assert_eq!(next_of(&mut wakeups).await, Wakeup::Events(device("phone")));
    // Messages for the room's members announce the room once, not each member.
    a.write_inbox(
        &room("r"),
        1,
        vec![2],
        vec![
            FeedItem::Join(device("phone")),
            FeedItem::Join(device("laptop")),
            FeedItem::Room(b"m".to_vec()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(next_of(&mut wakeups).await, Wakeup::RoomEvents(room("r")));
    for store in [a, b, foreign] {
        store.close().await;
    }
    schema.drop().await;
    elsewhere.drop().await;
}

async fn next_of(wakeups: &mut mimi_store::Wakeups) -> Wakeup {
    tokio::time::timeout(Duration::from_secs(10), wakeups.next())
        .await
        .expect("no wake-up within 10 s")
        .unwrap()
}
