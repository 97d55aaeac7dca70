//! Opening files: migrations run once, foreign and damaged files are refused by name.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::room;
use mimi_ds::{DsStore, StoreError};
use mimi_store::{FILE_NAME, OpenError, SqliteStore};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

async fn raw(path: &Path) -> SqliteConnection {
    SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(path))
        .await
        .unwrap()
}

async fn migrations(path: &Path) -> Vec<(i64, String, bool)> {
    let mut conn = raw(path).await;
    let rows = sqlx::query_as(
        "SELECT version, installed_on, success FROM _sqlx_migrations ORDER BY version",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    rows
}

#[tokio::test]
async fn reopening_keeps_the_schema_and_runs_no_migration_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db.sqlite3");
    let store = SqliteStore::open(&path).await.unwrap();
    store
        .save_room(&room("kept"), 0, b"s".to_vec(), vec![])
        .await
        .unwrap();
    store.close().await;
    let before = migrations(&path).await;
    assert!(!before.is_empty());
    assert!(before.iter().all(|(_, _, success)| *success));

    for _ in 0..3 {
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(
            store.load_room(&room("kept")).await.unwrap().unwrap().state,
            b"s"
        );
        store.close().await;
    }
    assert_eq!(migrations(&path).await, before, "no migration ran twice");
}

#[tokio::test]
async fn a_new_file_is_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_in(dir.path().join("a/b")).await.unwrap();
    assert_eq!(store.path(), dir.path().join("a/b").join(FILE_NAME));
    store.close().await;
    let mut conn = raw(&dir.path().join("a/b").join(FILE_NAME)).await;
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    let junk: Vec<u8> = (0..8192u32).map(|n| (n * 7 + 3) as u8).collect();
    std::fs::write(&path, &junk).unwrap();
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(matches!(err, OpenError::NotADatabase { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("not a SQLite database"), "{message}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        junk,
        "the file is left alone"
    );
    // Through the trait's error type the message stays.
    let as_store: StoreError = err.into();
    assert!(matches!(as_store, StoreError::Backend(m) if m.contains("notes.txt")));
}

#[tokio::test]
async fn another_programs_database_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let mut conn = SqliteConnection::connect_with(
        &SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true),
    )
    .await
    .unwrap();
    sqlx::query("CREATE TABLE users (name TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let err = SqliteStore::open(&path).await.unwrap_err();
    match &err {
        OpenError::ForeignDatabase { tables, .. } => assert_eq!(tables, &["users"]),
        other => panic!("expected ForeignDatabase, got {other:?}"),
    }
    assert!(err.to_string().contains("other.db"), "{err}");
    let mut conn = raw(&path).await;
    let tables: Vec<(String,)> =
        sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    assert_eq!(
        tables,
        [("users".to_owned(),)],
        "no table of ours was added"
    );
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "delete", "the journal mode was not changed");
}

#[tokio::test]
async fn a_database_migrated_by_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("newer.sqlite3");
    SqliteStore::open(&path).await.unwrap().close().await;
    let mut conn = raw(&path).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations \
         (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', TRUE, x'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    conn.close().await.unwrap();
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(
        matches!(err, OpenError::NewerSchema { version: 9999, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("newer.sqlite3"), "{err}");
}

#[tokio::test]
async fn an_edited_migration_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edited.sqlite3");
    SqliteStore::open(&path).await.unwrap().close().await;
    let mut conn = raw(&path).await;
    sqlx::query("UPDATE _sqlx_migrations SET checksum = x'00' WHERE version = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(
        matches!(err, OpenError::ChangedSchema { version: 1, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_half_applied_migration_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dirty.sqlite3");
    SqliteStore::open(&path).await.unwrap().close().await;
    let mut conn = raw(&path).await;
    sqlx::query("UPDATE _sqlx_migrations SET success = FALSE WHERE version = 1")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let err = SqliteStore::open(&path).await.unwrap_err();
    assert!(
        matches!(err, OpenError::DirtySchema { version: 1, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn open_in_a_path_that_is_a_file_says_it_cannot_create_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("plain");
    std::fs::write(&file, b"x").unwrap();
    let err = SqliteStore::open_in(&file).await.unwrap_err();
    assert!(matches!(err, OpenError::CreateDir { .. }), "{err:?}");
    assert!(err.to_string().contains("plain"), "{err}");
}

#[tokio::test]
async fn a_directory_where_the_file_should_be_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let err = SqliteStore::open(dir.path()).await.unwrap_err();
    assert!(
        err.to_string().contains(&dir.path().display().to_string()),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_stores_opening_one_new_file_at_once_all_succeed() {
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("new-{round}.sqlite3"));
        let opens: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                tokio::spawn(async move { SqliteStore::open(&path).await })
            })
            .collect();
        let mut stores = Vec::new();
        for open in opens {
            stores.push(open.await.unwrap().unwrap());
        }
        for (n, store) in stores.iter().enumerate() {
            store
                .save_room(&room(&format!("r{n}")), 0, vec![], vec![])
                .await
                .unwrap();
        }
        let applied: Vec<i64> = migrations(&path).await.iter().map(|m| m.0).collect();
        assert_eq!(
            applied,
            [1, 2, 3, 4, 5, 6],
            "each migration was applied once"
        );
    }
}

/// A database of schema 2 (hub rooms without a log) is migrated on open: its rooms keep their
/// state and version, their log starts empty, and appends work at once.
#[tokio::test]
async fn a_schema_2_database_gets_the_room_log_and_keeps_its_rooms() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    let store = SqliteStore::open(&path).await.unwrap();
    let r = room("old");
    let version = store
        .save_room(&r, 0, b"format 1 state".to_vec(), vec![])
        .await
        .unwrap();
    store.close().await;
    // Back to schema 2, as a build before the log left it.
    let mut conn = raw(&path).await;
    for table in [
        "hub_room_log",
        "profiles",
        "consent_books",
        "peer_requests",
        "feed_head",
        "feed_log",
        "feed_members",
    ] {
        sqlx::query(&format!("DROP TABLE {table}"))
            .execute(&mut conn)
            .await
            .unwrap();
    }
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version > 2")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let store = SqliteStore::open(&path).await.unwrap();
    let versions: Vec<i64> = migrations(&path).await.iter().map(|m| m.0).collect();
    assert_eq!(versions, [1, 2, 3, 4, 5, 6]);
    let head = store.room_head(&r).await.unwrap().unwrap();
    assert_eq!((head.version, head.log_head), (version, 0));
    assert_eq!(
        store.load_room(&r).await.unwrap().unwrap().state,
        b"format 1 state"
    );
    let entry = mimi_ds::LogEntry {
        seq: 1,
        hub_ms: 5,
        message: b"m".to_vec(),
    };
    store
        .write_room(&r, version, None, vec![entry.clone()], vec![])
        .await
        .unwrap();
    assert_eq!(store.room_log(&r, 0, 10).await.unwrap(), [entry]);
    store.close().await;
}
