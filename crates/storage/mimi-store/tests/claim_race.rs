//! Concurrent claims through several stores on one database (each store its own pool), and
//! through several processes sharing a SQLite file, never hand out a fresh KeyPackage twice
//! (PostgreSQL's processes: `tests/postgres.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::{TestDb, TestStore, device, key_package, on_both_backends};
use mimi_ds::DsStore;
use mimi_ds::follower::Claim;
use mimi_store::SqliteStore;

const DB_ENV: &str = "MIMI_STORE_CLAIM_DB";
const COUNT_ENV: &str = "MIMI_STORE_CLAIM_COUNT";
const OUT_ENV: &str = "MIMI_STORE_CLAIM_OUT";

on_both_backends!(
    two_hundred_claims_over_four_stores_get_each_of_a_hundred_once,
    racing_claims_fall_back_to_the_last_resort_one_only_after_the_fresh_ones,
);

async fn stock<S: TestStore>(db: &TestDb, fresh: u32, last_resort: bool) -> S {
    let store = S::open(db).await;
    let mut entries: Vec<_> = (0..fresh)
        .map(|n| key_package(n, false, 4_000_000_000))
        .collect();
    if last_resort {
        entries.push(key_package(9_999, true, 4_000_000_000));
    }
    store
        .add_key_packages(&device("phone"), entries)
        .await
        .unwrap();
    store
}

/// Runs `claims` claims on `handles` stores (each its own pool) concurrently; returns the
/// claims.
async fn race<S: TestStore>(db: &TestDb, handles: usize, claims: usize) -> Vec<Claim> {
    let mut stores = Vec::new();
    for _ in 0..handles {
        stores.push(S::open(db).await);
    }
    let tasks: Vec<_> = (0..claims)
        .map(|n| {
            let store = stores[n % handles].clone();
            tokio::spawn(async move { store.claim_key_package(&device("phone"), 0).await })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap().unwrap());
    }
    for store in stores {
        store.close().await;
    }
    out
}

async fn two_hundred_claims_over_four_stores_get_each_of_a_hundred_once<S: TestStore>(db: &TestDb) {
    let store: S = stock(db, 100, false).await;
    let claims = race::<S>(db, 4, 200).await;
    let mut fresh = BTreeSet::new();
    let mut exhausted = 0;
    for claim in claims {
        match claim {
            Claim::Fresh(entry) => {
                assert!(
                    fresh.insert(entry.reference),
                    "a KeyPackage was handed out twice"
                );
            }
            Claim::Exhausted => exhausted += 1,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!((fresh.len(), exhausted), (100, 100));
    for reference in &fresh {
        assert_eq!(
            store.claimed_by(reference).await.unwrap(),
            Some(device("phone"))
        );
    }
    assert_eq!(
        store.fresh_key_packages(&device("phone"), 0).await.unwrap(),
        0
    );
    assert_eq!(db.count_rows("key_packages").await, 0);
    store.close().await;
}

async fn racing_claims_fall_back_to_the_last_resort_one_only_after_the_fresh_ones<S: TestStore>(
    db: &TestDb,
) {
    stock::<S>(db, 10, true).await.close().await;
    let claims = race::<S>(db, 3, 60).await;
    let fresh: BTreeSet<_> = claims
        .iter()
        .filter_map(|c| match c {
            Claim::Fresh(e) => Some(e.reference.clone()),
            _ => None,
        })
        .collect();
    let last_resort = claims
        .iter()
        .filter(|c| matches!(c, Claim::LastResort(e) if e.reference == b"ref-9999"))
        .count();
    assert_eq!((fresh.len(), last_resort), (10, 50));
}

/// Not a test on its own: the body of each child process of
/// `claims_are_exclusive_across_processes`. Writes one line per claim to the file named by
/// `MIMI_STORE_CLAIM_OUT` (not stdout, where the test harness's own lines interleave).
#[tokio::test]
#[ignore = "child process of claims_are_exclusive_across_processes"]
async fn child_claimer() {
    let (Ok(path), Ok(count), Ok(out)) = (
        std::env::var(DB_ENV),
        std::env::var(COUNT_ENV),
        std::env::var(OUT_ENV),
    ) else {
        return;
    };
    let store = SqliteStore::open(&path).await.unwrap();
    let count: usize = count.parse().unwrap();
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim_key_package(&device("phone"), 0).await })
        })
        .collect();
    let mut lines = String::new();
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Claim::Fresh(entry) => {
                lines += &format!("fresh {}\n", String::from_utf8(entry.reference).unwrap());
            }
            Claim::Exhausted => lines += "exhausted\n",
            other => panic!("unexpected {other:?}"),
        }
    }
    std::fs::write(out, lines).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_are_exclusive_across_processes() {
    let db = TestDb::sqlite();
    let path = db.sqlite_path();
    stock::<SqliteStore>(&db, 100, false).await.close().await;
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let outs: Vec<_> = (0..4)
        .map(|n| dir.path().join(format!("claims-{n}")))
        .collect();
    let children: Vec<_> = outs
        .iter()
        .map(|out| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "child_claimer",
                    "--ignored",
                    "--test-threads",
                    "1",
                ])
                .env(DB_ENV, &path)
                .env(COUNT_ENV, "50")
                .env(OUT_ENV, out)
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut fresh = BTreeSet::new();
    let mut exhausted = 0;
    for (mut child, out) in children.into_iter().zip(&outs) {
        assert!(child.wait().unwrap().success(), "a claiming process failed");
        let written = std::fs::read_to_string(out).unwrap();
        for line in written.lines() {
            match line.strip_prefix("fresh ") {
                Some(reference) => {
                    assert!(
                        fresh.insert(reference.to_owned()),
                        "{reference} was handed out to two processes"
                    );
                }
                None => {
                    assert_eq!(line, "exhausted");
                    exhausted += 1;
                }
            }
        }
    }
    assert_eq!((fresh.len(), exhausted), (100, 100));
}
