//! The shared DsStore conformance suite against SQLite files and PostgreSQL schemas (the
//! latter when `MIMI_TEST_DATABASE_URL` is set), each check on a fresh one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{PgSchema, pg_url};
use mimi_store::{PostgresConfig, PostgresStore, SqliteStore};

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

#[tokio::test]
async fn postgres_store_passes_the_conformance_suite() {
    let Some(admin) = pg_url("postgres_store_passes_the_conformance_suite") else {
        return;
    };
    let schemas = Mutex::new(Vec::new());
    mimi_ds::conformance::run_all(|| {
        let admin = admin.clone();
        let schemas = &schemas;
        async move {
            let schema = PgSchema::create(&admin).await;
            let store = PostgresStore::connect(&schema.url, &PostgresConfig::default())
                .await
                .unwrap();
            schemas.lock().unwrap().push(schema);
            store
        }
    })
    .await;
    let schemas = std::mem::take(&mut *schemas.lock().unwrap());
    assert_eq!(schemas.len(), 18, "every check ran on its own fresh schema");
    for schema in schemas {
        schema.drop().await;
    }
}
