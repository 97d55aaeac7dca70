//! The PostgreSQL backend against a real server: claims raced through several processes,
//! migrations, and the refusals of `connect`. (The checks both backends share, such as the
//! conformance suite, durability across reconnecting, claims raced and saves made through
//! several pools, run on PostgreSQL from their own files: `conformance.rs`, `durability.rs`,
//! `claim_race.rs`, `concurrent_saves.rs`, ...)
//!
//! Every test reads the server's URL from `MIMI_TEST_DATABASE_URL` and works in a schema of its
//! own; without the variable each test says on stderr that it is skipped and passes
//! (`.ci/run` sets it, so CI always runs them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::{PgSchema, device, key_package, pg_url, room};
use mimi_ds::DsStore;
use mimi_ds::follower::Claim;
use mimi_store::{ConnectError, PostgresConfig, PostgresStore};

async fn connect(url: &str) -> PostgresStore {
    PostgresStore::connect(url, &PostgresConfig::default())
        .await
        .unwrap()
}

async fn stock(url: &str, fresh: u32, last_resort: bool) -> PostgresStore {
    let store = connect(url).await;
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

/// Runs `claims` claims over `pools` stores (each its own pool) concurrently (one process of
/// `claims_are_exclusive_across_processes_on_postgres`; the in-process races of both backends
/// are in `tests/claim_race.rs`).
async fn race(url: &str, pools: usize, claims: usize) -> Vec<Claim> {
    let mut stores = Vec::new();
    for _ in 0..pools {
        // Small pools: tests run in parallel (and four child processes race at once) within
        // the server's default max_connections of 100.
        let mut config = PostgresConfig::default();
        config.max_connections = 3;
        stores.push(PostgresStore::connect(url, &config).await.unwrap());
    }
    let tasks: Vec<_> = (0..claims)
        .map(|n| {
            let store = stores[n % pools].clone();
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

const URL_ENV: &str = "MIMI_STORE_PG_CLAIM_URL";
const OUT_ENV: &str = "MIMI_STORE_PG_CLAIM_OUT";

/// Not a test on its own: the body of each child process of
/// `claims_are_exclusive_across_processes_on_postgres`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of claims_are_exclusive_across_processes_on_postgres"]
async fn pg_child_claimer() {
    let (Ok(url), Ok(out)) = (std::env::var(URL_ENV), std::env::var(OUT_ENV)) else {
        return;
    };
    let mut lines = String::new();
    for claim in race(&url, 2, 50).await {
        match claim {
            Claim::Fresh(entry) => {
                lines += &format!("fresh {}\n", String::from_utf8(entry.reference).unwrap());
            }
            Claim::Exhausted => lines += "exhausted\n",
            other => panic!("unexpected {other:?}"),
        }
    }
    std::fs::write(out, lines).unwrap();
}

#[tokio::test]
async fn claims_are_exclusive_across_processes_on_postgres() {
    let Some(admin) = pg_url("claims_are_exclusive_across_processes_on_postgres") else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    stock(&schema.url, 100, false).await.close().await;
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
                    "pg_child_claimer",
                    "--ignored",
                    "--test-threads",
                    "1",
                ])
                .env(URL_ENV, &schema.url)
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
        for line in std::fs::read_to_string(out).unwrap().lines() {
            match line.strip_prefix("fresh ") {
                Some(reference) => assert!(
                    fresh.insert(reference.to_owned()),
                    "{reference} was handed out to two processes"
                ),
                None => {
                    assert_eq!(line, "exhausted");
                    exhausted += 1;
                }
            }
        }
    }
    assert_eq!((fresh.len(), exhausted), (100, 100));
    schema.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_run_once_however_many_connect() {
    let Some(admin) = pg_url("migrations_run_once_however_many_connect") else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    // Eight stores connect to the new schema at once, then one more later.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let url = schema.url.clone();
            tokio::spawn(async move { connect(&url).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().close().await;
    }
    let store = connect(&schema.url).await;
    store
        .save_room(&room("a"), 0, vec![1], vec![])
        .await
        .unwrap();
    store.ping().await.unwrap();
    store.close().await;
    connect(&schema.url).await.close().await;
    assert_eq!(
        schema.count_rows("_sqlx_migrations").await,
        6,
        "each migration applied once"
    );
    assert_eq!(schema.count_rows("hub_rooms").await, 1);
    schema.drop().await;
}

#[tokio::test]
async fn a_schema_of_another_program_is_refused() {
    let Some(admin) = pg_url("a_schema_of_another_program_is_refused") else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    schema
        .execute(&format!("CREATE TABLE {}.invoices (id INT)", schema.name))
        .await;
    let err = PostgresStore::connect(&schema.url, &PostgresConfig::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectError::ForeignDatabase { tables, .. } if tables == &["invoices"]),
        "{err}"
    );
    assert!(err.to_string().contains("its own database"), "{err}");
    assert_eq!(schema.count_rows("invoices").await, 0);
    schema.drop().await;
}

#[tokio::test]
async fn a_schema_from_a_newer_build_is_refused() {
    let Some(admin) = pg_url("a_schema_from_a_newer_build_is_refused") else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    connect(&schema.url).await.close().await;
    schema
        .execute(&format!(
            "INSERT INTO {}._sqlx_migrations \
             (version, description, success, checksum, execution_time) \
             VALUES (9999, 'future', TRUE, '\\x00', 0)",
            schema.name
        ))
        .await;
    let err = PostgresStore::connect(&schema.url, &PostgresConfig::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectError::NewerSchema { version: 9999, .. }),
        "{err}"
    );
    schema.drop().await;
}

#[tokio::test]
async fn an_edited_migration_is_refused() {
    let Some(admin) = pg_url("an_edited_migration_is_refused") else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    connect(&schema.url).await.close().await;
    schema
        .execute(&format!(
            "UPDATE {}._sqlx_migrations SET checksum = '\\x00' WHERE version = 1",
            schema.name
        ))
        .await;
    let err = PostgresStore::connect(&schema.url, &PostgresConfig::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectError::ChangedSchema { version: 1, .. }),
        "{err}"
    );
    schema.drop().await;
}

#[tokio::test]
async fn a_missing_database_is_refused_with_advice() {
    let Some(admin) = pg_url("a_missing_database_is_refused_with_advice") else {
        return;
    };
    let mut url = url_without_database(&admin);
    url.push_str("/mimi_no_such_database");
    let err = PostgresStore::connect(&url, &PostgresConfig::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ConnectError::Refused { .. }), "{err}");
    assert!(err.to_string().contains("create the database"), "{err}");
}

/// `postgres://user@host:port` of a URL (no path, no query).
fn url_without_database(url: &str) -> String {
    let without_query = url.split('?').next().unwrap();
    let scheme_end = without_query.find("://").unwrap() + 3;
    match without_query[scheme_end..].find('/') {
        Some(slash) => without_query[..scheme_end + slash].to_owned(),
        None => without_query.to_owned(),
    }
}

#[tokio::test]
async fn calls_after_the_schema_is_dropped_say_what_happened() {
    let Some(admin) = pg_url("calls_after_the_schema_is_dropped_say_what_happened") else {
        return;
    };
    let schema = PgSchema::create(&admin).await;
    let store = connect(&schema.url).await;
    schema
        .execute(&format!("DROP TABLE {}.hub_rooms", schema.name))
        .await;
    let err = store.load_room(&room("a")).await.unwrap_err();
    assert!(err.to_string().contains("lacks mimi's tables"), "{err}");
    assert!(err.to_string().contains(store.server()), "{err}");
    store.close().await;
    schema.drop().await;
}
