//! Hub room writes that arrive together share one SQLite transaction (one fsync): each is
//! answered only once its transaction committed, a conflicting write fails alone without
//! taking the others down, and everything answered is on disk when the file is opened again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{outbound, room};
use mimi_ds::{DsStore, LogEntry, StoreError};
use mimi_store::SqliteStore;

const ROOMS: u8 = 20;

fn entry(seq: u64, n: u8) -> LogEntry {
    LogEntry {
        seq,
        hub_ms: 1_000 + u64::from(n),
        message: vec![n; 8],
    }
}

// One thread: every writer below queues before the first transaction ends, which makes the
// grouping this test counts certain rather than likely.
#[tokio::test(flavor = "current_thread")]
async fn writes_arriving_together_share_a_transaction_and_a_conflict_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("group.sqlite3");
    let store = SqliteStore::open(&path).await.unwrap();
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

    // Durable, and the stale write left nothing: read back from a fresh open of the file.
    store.close().await;
    let store = SqliteStore::open(&path).await.unwrap();
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
