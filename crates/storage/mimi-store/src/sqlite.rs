//! The SQLite backend of [`DsStore`](mimi_ds::DsStore): opening the file, and what SQLite does
//! its own way (see `src/body.rs` for the body both backends share).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mimi_ds::StoreError;
use mimi_types::RoomUri;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, Transaction};

use crate::error::{OpenError, backend, migrate_error, open_error};
use crate::group_commit::GroupCommit;
use crate::sql;

/// The schema migrations, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The file name [`SqliteStore::open_in`] uses inside its directory.
pub const FILE_NAME: &str = "mimi-ds.sqlite3";

/// How a [`SqliteStore`] opens its database.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqliteConfig {
    /// Connections in the pool. SQLite runs one writer at a time, so a few readers beside it is
    /// all that helps. Default 4.
    pub max_connections: u32,
    /// How long a statement waits for another connection's or process's write lock before the
    /// call fails with "database is locked". Default 10 s.
    pub busy_timeout: Duration,
    /// How long a call waits for a free connection of the pool. Default 30 s.
    pub acquire_timeout: Duration,
}

impl Default for SqliteConfig {
    fn default() -> Self {
        Self {
            max_connections: 4,
            busy_timeout: Duration::from_secs(10),
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

/// The delivery service's storage in one SQLite file (see the crate documentation for the
/// schema and the durability settings).
///
/// Cheap to clone: clones share the connection pool. Several stores (in one process or many)
/// may open the same file; SQLite's locks keep every call atomic across all of them.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    path: Arc<Path>,
    /// The path as messages show it.
    shown: Arc<str>,
    busy_timeout: Duration,
    /// Room writes waiting for, or written in, a shared transaction (see `src/group_commit.rs`).
    group: Arc<GroupCommit>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` with the default
    /// [`SqliteConfig`], and brings its schema up to date.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, OpenError> {
        Self::open_with(path, &SqliteConfig::default()).await
    }

    /// Opens [`FILE_NAME`] inside `dir`, creating the directory and the file if missing.
    pub async fn open_in(dir: impl AsRef<Path>) -> Result<Self, OpenError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|err| OpenError::CreateDir {
            path: dir.to_path_buf(),
            detail: err.to_string(),
        })?;
        Self::open(dir.join(FILE_NAME)).await
    }

    /// Opens the database file at `path` with `config`.
    ///
    /// Any number of stores, in this process or others, may open the same file at once, also
    /// a new one (the schema is created once).
    pub async fn open_with(
        path: impl AsRef<Path>,
        config: &SqliteConfig,
    ) -> Result<Self, OpenError> {
        let path = path.as_ref();
        let waited = config.busy_timeout;
        let base = SqliteConnectOptions::new()
            .filename(path)
            .foreign_keys(true)
            .busy_timeout(config.busy_timeout)
            .synchronous(SqliteSynchronous::Full);

        // One connection prepares the file: refuse foreign files, switch to WAL (which needs a
        // lock that busy_timeout does not wait for, so only here), run the migrations.
        // Processes opening the same new file at once race to create the schema; the loser's
        // statements fail (locked, or a table that now exists) and a second try finds the
        // winner's schema in place.
        let mut attempt = 1;
        loop {
            match prepare_file(&base, path, waited).await {
                Ok(()) => break,
                Err(OpenError::Locked { .. } | OpenError::Backend { .. })
                    if attempt < setup_attempts() =>
                {
                    attempt += 1;
                }
                Err(err) => return Err(err),
            }
        }

        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(config.acquire_timeout)
            // A connection to a local file cannot be hung up on: no ping (a round trip to the
            // connection's worker thread) before every statement.
            .test_before_acquire(false)
            // A connection must come out of the pool outside any transaction. One can go back
            // in still counting one (and then refuse every BEGIN for as long as it lives): when
            // a failed statement made SQLite end the transaction itself, the ROLLBACK that sqlx
            // sends when the `Transaction` is dropped fails, and sqlx keeps its depth counter.
            // Such a connection is closed here, and the pool opens a fresh one.
            .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
            .connect_with(base)
            .await
            .map_err(|err| open_error(err, path, waited))?;
        Ok(Self {
            pool,
            path: Arc::from(path),
            shown: Arc::from(path.display().to_string()),
            busy_timeout: config.busy_timeout,
            group: GroupCommit::new(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the database answers now (a `SELECT 1` on a pooled connection), for health
    /// checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Closes every connection, waiting for calls in flight, and checkpoints the write-ahead
    /// log into the database file. Dropping the store instead is safe (every acknowledged write
    /// is already durable); closing just leaves a tidier file.
    pub async fn close(self) {
        self.pool.close().await;
    }

    fn fail(&self, err: sqlx::Error) -> StoreError {
        backend(err, &self.shown, self.busy_timeout)
    }

    /// A write transaction that holds SQLite's write lock from its first statement, so that
    /// nothing it reads can change before it commits, in this process or any other.
    async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(|e| self.fail(e))
    }

    /// The transaction of a group commit of room writes (`src/group_commit.rs`): a write
    /// transaction like any other (SQLite has no row locks to wait for, so no pooled connection
    /// is held while waiting for the group).
    async fn group_transaction(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.write().await
    }

    /// `$1` room → (version,): the write lock of `BEGIN IMMEDIATE` already keeps the room
    /// from changing, so a plain read.
    const SELECT_VERSION_FOR_APPEND: &str = sql::SELECT_VERSION;

    /// `$1` device, `$2` now (ms): drops the device's expired KeyPackages.
    const CLAIM_DROP_EXPIRED: &str =
        "DELETE FROM key_packages WHERE device = $1 AND expires_ms <= $2";

    /// `$1` device, `$2` now (ms) → the oldest unexpired fresh [`sql::KeyPackageRow`], removed
    /// in the statement that finds it; the write lock taken by `BEGIN IMMEDIATE` keeps every
    /// other claimer out until we commit.
    const CLAIM_TAKE_FRESH: &str = "DELETE FROM key_packages WHERE id = (\
         SELECT id FROM key_packages \
         WHERE device = $1 AND last_resort = FALSE AND expires_ms > $2 \
         ORDER BY id LIMIT 1) \
         RETURNING key_package, reference, last_resort, not_after";

    // SQLite has no channel to announce writes on: the wake-ups of the shared body do nothing.

    async fn announce_outbound(
        &self,
        _tx: &mut Transaction<'static, Sqlite>,
        _destinations: BTreeSet<String>,
    ) -> Result<(), StoreError> {
        Ok(())
    }

    async fn announce_device(
        &self,
        _tx: &mut Transaction<'static, Sqlite>,
        _device: &str,
    ) -> Result<(), StoreError> {
        Ok(())
    }

    async fn announce_room(
        &self,
        _tx: &mut Transaction<'static, Sqlite>,
        _room: &RoomUri,
    ) -> Result<(), StoreError> {
        Ok(())
    }
}

crate::body::store_body!(SqliteStore, Sqlite);

/// How often opening tries to prepare the file before giving up (see `open_with`). A try that
/// loses a race to create the schema loses it to an opener that applied a migration, so each
/// migration can cost a racer one try: one per migration, and a few for locks.
fn setup_attempts() -> u32 {
    u32::try_from(MIGRATOR.iter().count())
        .unwrap_or(u32::MAX)
        .saturating_add(4)
}

/// Prepares the file on a connection of its own, closed afterwards.
async fn prepare_file(
    base: &SqliteConnectOptions,
    path: &Path,
    waited: Duration,
) -> Result<(), OpenError> {
    let mut setup = SqliteConnection::connect_with(&base.clone().create_if_missing(true))
        .await
        .map_err(|err| open_error(err, path, waited))?;
    let prepared = prepare(&mut setup, path, waited).await;
    let closed = setup.close().await;
    prepared?;
    closed.map_err(|err| open_error(err, path, waited))
}

/// Checks that `path` is ours (or new), turns on WAL and migrates.
async fn prepare(
    conn: &mut SqliteConnection,
    path: &Path,
    waited: Duration,
) -> Result<(), OpenError> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' \
         ORDER BY name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|err| open_error(err, path, waited))?;
    let tables: Vec<String> = tables.into_iter().map(|(name,)| name).collect();
    if !tables.is_empty() && !tables.iter().any(|t| t == "_sqlx_migrations") {
        return Err(OpenError::ForeignDatabase {
            path: path.to_path_buf(),
            tables,
        });
    }

    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .map_err(|err| open_error(err, path, waited))?;
    if !mode.eq_ignore_ascii_case("wal") {
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode = WAL")
            .fetch_one(&mut *conn)
            .await
            .map_err(|err| open_error(err, path, waited))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(OpenError::NoWal {
                path: path.to_path_buf(),
                mode,
            });
        }
    }

    // `run_direct` rather than `run`: `run`'s future is not `Send` (its `Acquire` bound is not
    // general enough), and opening must work inside a spawned task.
    MIGRATOR
        .run_direct(conn)
        .await
        .map_err(|err| migrate_error(err, path, waited))
}

#[cfg(test)]
mod tests {
    use mimi_ds::DsStore;

    use super::*;

    async fn pragma(store: &SqliteStore, name: &str) -> i64 {
        let mut conn = store.pool.acquire().await.unwrap();
        let (value,): (i64,) = sqlx::query_as(&format!("PRAGMA {name}"))
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        value
    }

    #[tokio::test]
    async fn every_pooled_connection_has_the_durability_settings() {
        let dir = tempfile::tempdir().unwrap();
        let config = SqliteConfig {
            busy_timeout: Duration::from_millis(1234),
            ..SqliteConfig::default()
        };
        let store = SqliteStore::open_with(dir.path().join("db"), &config)
            .await
            .unwrap();
        // 2 = FULL: every commit is fsynced before it is acknowledged.
        assert_eq!(pragma(&store, "synchronous").await, 2);
        assert_eq!(pragma(&store, "foreign_keys").await, 1);
        assert_eq!(pragma(&store, "busy_timeout").await, 1234);
        let mut conn = store.pool.acquire().await.unwrap();
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }

    /// A pooled connection whose transaction SQLite ended by itself (sqlx still counts it)
    /// is not handed out again: the next write gets a fresh connection instead of failing
    /// with "begin_with at non-zero transaction depth" for as long as the process runs.
    #[tokio::test]
    async fn a_connection_left_inside_a_transaction_is_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let config = SqliteConfig {
            max_connections: 1,
            ..SqliteConfig::default()
        };
        let store = SqliteStore::open_with(dir.path().join("db"), &config)
            .await
            .unwrap();
        {
            let mut tx = store.write().await.unwrap();
            // SQLite's transaction ends behind sqlx's back; the rollback sqlx sends when `tx`
            // is dropped then fails and its depth counter stays at one.
            sqlx::query("ROLLBACK").execute(&mut *tx).await.unwrap();
        }
        let room: RoomUri = "mimi://hub.example/r/after".parse().unwrap();
        for attempt in 0..3 {
            let version = store
                .save_room(&room, attempt, vec![1, 2, 3], Vec::new())
                .await
                .unwrap_or_else(|e| panic!("write {attempt} after the broken transaction: {e}"));
            assert_eq!(version, attempt + 1);
        }
    }

    #[tokio::test]
    async fn foreign_keys_are_enforced() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_in(dir.path()).await.unwrap();
        let orphan = sqlx::query(
            "INSERT INTO device_events (device, seq, room, payload) VALUES ('d', 1, 'r', x'')",
        )
        .execute(&store.pool)
        .await;
        assert!(
            orphan.is_err(),
            "an event without its device stream must be refused"
        );
    }
}
