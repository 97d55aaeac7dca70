//! The shared DsStore conformance suite against SQLite files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};

use mimi_store::SqliteStore;

#[tokio::test]
async fn sqlite_store_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let n = AtomicUsize::new(0);
    mimi_ds::conformance::run_all(|| {
        let path = dir.path().join(format!(
            "store-{}.sqlite3",
            n.fetch_add(1, Ordering::Relaxed)
        ));
        async move { SqliteStore::open(path).await.unwrap() }
    })
    .await;
    assert_eq!(
        n.load(Ordering::Relaxed),
        18,
        "every check ran on its own fresh file"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_passes_the_conformance_suite_on_a_multi_threaded_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let n = AtomicUsize::new(0);
    mimi_ds::conformance::run_all(|| {
        let path = dir
            .path()
            .join(format!("mt-{}", n.fetch_add(1, Ordering::Relaxed)));
        async move { SqliteStore::open_in(path).await.unwrap() }
    })
    .await;
}
