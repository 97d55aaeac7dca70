//! Hub room writes that arrive together share one transaction (one commit), on both backends:
//! each is answered only once its transaction committed, a conflicting write fails alone
//! without taking the others down, everything answered is there when the database is opened
//! again, and on PostgreSQL two stores (two processes) grouping writes to the same rooms
//! neither deadlock nor lose an append, and a held room's write joins the group too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{PgSchema, TestDb, TestStore, outbound, pg_url, room};
use mimi_ds::{DsStore, LogEntry, StoreError};
use mimi_store::{PostgresConfig, PostgresStore, SqliteStore};

const ROOMS: u8 = 20;

fn entry(seq: u64, n: u8) -> LogEntry {
    LogEntry {
        seq,
        hub_ms: 1_000 + u64::from(n),
        message: vec![n; 8],
    }
}

/// Twenty new rooms and a stale write among them, all spawned at once; then durability from a
/// fresh open, and a lone write afterwards.
async fn writes_arriving_together<S: TestStore>(db: &TestDb) {
    let store = S::open(db).await;
    let before = store.group_stats();

    let mut writers = Vec::new();
    for n in 0..ROOMS {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            let r = room(&format!("g{n}"));
            store
                .write_room(
                    &r,
                    0,
                    Some(vec![n]),
                    vec![entry(1, n)],
                    vec![outbound("x.example", &format!("g{n}"), &[n])],
                )
                .await
        }));
    }
    // A stale writer among them: the room does not exist at version 5.
    let stale = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .write_room(&room("g3"), 5, None, vec![entry(2, 3)], vec![])
                .await
        })
    };
    for writer in writers {
        assert_eq!(
            writer.await.unwrap(),
            Ok(1),
            "a new room's state is version 1"
        );
    }
    let refused = stale.await.unwrap();
    assert!(
        matches!(refused, Err(StoreError::Conflict { .. })),
        "{refused:?}"
    );

    let stats = store.group_stats();
    let writes = stats.writes - before.writes;
    let transactions = stats.transactions - before.transactions;
    assert_eq!(writes, u64::from(ROOMS) + 1);
    assert!(
        transactions < writes / 2,
        "{writes} writes in {transactions} transactions: not grouped"
    );

    // Durable, and the stale write left nothing: read back through a store opened afresh.
    store.close().await;
    let store = S::open(db).await;
    for n in 0..ROOMS {
        let r = room(&format!("g{n}"));
        let record = store.load_room(&r).await.unwrap().unwrap();
        assert_eq!((record.version, record.state), (1, vec![n]));
        assert_eq!(store.room_log(&r, 0, 10).await.unwrap(), [entry(1, n)]);
    }
    let pending = store
        .pending_outbound(&common::domain("x.example"), 100)
        .await
        .unwrap();
    assert_eq!(pending.len(), usize::from(ROOMS));
    // A lone write afterwards goes out at once, in a transaction of its own.
    let r = room("g0");
    let lone = store.group_stats();
    assert_eq!(
        store
            .write_room(&r, 1, None, vec![entry(2, 0)], vec![])
            .await,
        Ok(1)
    );
    let after = store.group_stats();
    assert_eq!(
        (
            after.transactions - lone.transactions,
            after.writes - lone.writes
        ),
        (1, 1)
    );
    store.close().await;
}

// One thread: every writer queues before the first transaction ends, which makes the grouping
// the check counts certain rather than likely.
#[tokio::test(flavor = "current_thread")]
async fn sqlite_writes_arriving_together_share_a_transaction_and_a_conflict_fails_alone() {
    let db = TestDb::sqlite();
    writes_arriving_together::<SqliteStore>(&db).await;
}

#[tokio::test(flavor = "current_thread")]
async fn postgres_writes_arriving_together_share_a_transaction_and_a_conflict_fails_alone() {
    let test = "postgres_writes_arriving_together_share_a_transaction_and_a_conflict_fails_alone";
    let Some(db) = TestDb::postgres(test).await else {
        return;
    };
    writes_arriving_together::<PostgresStore>(&db).await;
    db.drop().await;
}

async fn connect(url: &str, connections: u32) -> PostgresStore {
    let mut config = PostgresConfig::default();
    config.max_connections = connections;
    PostgresStore::connect(url, &config).await.unwrap()
}

/// Two stores (as two server processes would) append to the same five rooms from eight tasks
/// each, every task visiting the rooms in another order and retrying a write that lost a race
/// (a conflict) at the room's new head. The groups of the two stores lock rows of the same
/// rooms: nothing deadlocks, no append is lost or doubled, every log is gap-free, and only
/// conflicts are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_grouping_writes_to_the_same_rooms_lose_nothing() {
    let Some(admin) = pg_url("two_stores_grouping_writes_to_the_same_rooms_lose_nothing") else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    let stores = [connect(&schema.url, 4).await, connect(&schema.url, 4).await];
    const SHARED: u8 = 5;
    const TASKS: usize = 16;
    const ROUNDS: usize = 6;
    for n in 0..SHARED {
        stores[0]
            .write_room(&room(&format!("s{n}")), 0, Some(vec![n]), vec![], vec![])
            .await
            .unwrap();
    }
    let conflicts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let store = stores[task % 2].clone();
            let conflicts = conflicts.clone();
            tokio::spawn(async move {
                for round in 0..ROUNDS {
                    let n = ((task + round) % usize::from(SHARED)) as u8;
                    let r = room(&format!("s{n}"));
                    loop {
                        let head = store.room_head(&r).await.unwrap().unwrap();
                        let mut e = entry(head.log_head + 1, n);
                        e.message = format!("{task}/{round}").into_bytes();
                        match store
                            .write_room(&r, head.version, None, vec![e], vec![])
                            .await
                        {
                            Ok(_) => break,
                            Err(StoreError::Conflict { .. }) => {
                                conflicts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                            Err(other) => panic!("task {task} round {round}: {other}"),
                        }
                    }
                }
            })
        })
        .collect();
    let all = tokio::time::timeout(std::time::Duration::from_secs(120), async {
        for task in tasks {
            task.await.unwrap();
        }
    })
    .await;
    assert!(all.is_ok(), "the writers did not finish: deadlocked?");

    let mut seen = std::collections::BTreeSet::new();
    for n in 0..SHARED {
        let log = stores[1]
            .room_log(&room(&format!("s{n}")), 0, 1_000)
            .await
            .unwrap();
        for (i, e) in log.iter().enumerate() {
            assert_eq!(e.seq, i as u64 + 1, "room s{n}'s log has a gap");
            assert!(
                seen.insert(e.message.clone()),
                "an append was written twice"
            );
        }
    }
    assert_eq!(
        seen.len(),
        TASKS * ROUNDS,
        "an acknowledged append is missing"
    );
    let stats = [stores[0].group_stats(), stores[1].group_stats()];
    let writes: u64 = stats.iter().map(|s| s.writes).sum();
    assert_eq!(
        writes,
        u64::from(SHARED)
            + (TASKS * ROUNDS) as u64
            + conflicts.load(std::sync::atomic::Ordering::Relaxed) as u64
    );
    for store in stores {
        store.close().await;
    }
    schema.drop().await;
}

/// Rooms held for processing (as the server holds them on PostgreSQL) and written together
/// share a group commit; each room's lock is released after its write committed, so the next
/// holder reads the write; a stale write of a held room fails alone.
#[tokio::test(flavor = "current_thread")]
async fn held_rooms_written_together_share_a_transaction() {
    let Some(admin) = pg_url("held_rooms_written_together_share_a_transaction") else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    const HELD: u8 = 8;
    let store = connect(&schema.url, u32::from(HELD) + 2).await;
    for n in 0..HELD {
        store
            .write_room(&room(&format!("h{n}")), 0, Some(vec![n]), vec![], vec![])
            .await
            .unwrap();
    }
    let before = store.group_stats();
    // Every task holds its room before any writes: the writes then arrive together.
    let barrier = Arc::new(tokio::sync::Barrier::new(usize::from(HELD)));
    let tasks: Vec<_> = (0..HELD)
        .map(|n| {
            let (store, barrier) = (store.clone(), barrier.clone());
            tokio::spawn(async move {
                let r = room(&format!("h{n}"));
                let (locked, record) = store.lock_room(&r).await.unwrap();
                let record = record.unwrap();
                barrier.wait().await;
                // Room h0's holder writes at a stale version.
                let expected = if n == 0 { 7 } else { record.version };
                locked
                    .write(expected, None, vec![entry(1, n)], vec![])
                    .await
            })
        })
        .collect();
    for (n, task) in tasks.into_iter().enumerate() {
        let result = task.await.unwrap();
        if n == 0 {
            assert!(
                matches!(result, Err(StoreError::Conflict { .. })),
                "{result:?}"
            );
        } else {
            assert_eq!(result, Ok(1));
        }
    }
    let stats = store.group_stats();
    let (writes, transactions) = (
        stats.writes - before.writes,
        stats.transactions - before.transactions,
    );
    assert_eq!(writes, u64::from(HELD));
    assert!(
        transactions < writes / 2,
        "{writes} writes in {transactions} transactions"
    );
    // The locks were released, and the next holder sees what was written.
    for n in 1..HELD {
        let r = room(&format!("h{n}"));
        let (locked, head) = store.lock_room_head(&r).await.unwrap();
        assert_eq!(head.unwrap().log_head, 1, "room h{n}");
        locked.release().await.unwrap();
        assert_eq!(store.room_log(&r, 0, 10).await.unwrap(), [entry(1, n)]);
    }
    assert_eq!(store.room_log(&room("h0"), 0, 10).await.unwrap(), []);
    store.close().await;
    schema.drop().await;
}
