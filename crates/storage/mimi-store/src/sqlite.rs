//! The SQLite backend of [`DsStore`].

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use mimi_ds::discovery::{Profile, ProfileSearch};
use mimi_ds::follower::{Claim, KeyPackageEntry};
use mimi_ds::{
    ConsentRecord, ConsentWrite, DeadLetter, DeviceEvent, DsStore, FeedItem, LogEntry, NewOutbound,
    NewPeerRequest, OutboundItem, PeerRequest, ProfileSaved, RoomHead, RoomRecord, StoreError,
};
use mimi_types::{ClientUri, Domain, RoomUri, UserUri};
use sqlx::migrate::Migrator;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection, Sqlite, Transaction};

mod group_commit;

pub use group_commit::GroupStats;

use crate::convert::{bits_to_db, clamp, clamp_usize, counter, counter_from_db, parse_stored};
use crate::error::{OpenError, backend, migrate_error, open_error};
use crate::profiles;
use crate::sql::{
    self, DeadLetterRow, EventRow, KeyPackageRow, LogRow, OutboundRow, PeerRequestRow, RecordRow,
    Records, VersionCheck,
};

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
    /// Room writes waiting for, or written in, a shared transaction (see `group_commit`).
    group: Arc<group_commit::GroupCommit>,
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
            group: group_commit::new_group(),
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

    /// How hub room writes were grouped into transactions since this store was opened (shared
    /// by its clones).
    pub fn group_stats(&self) -> GroupStats {
        self.group.stats()
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

    async fn load(&self, table: Records, room: &RoomUri) -> Result<Option<RoomRecord>, StoreError> {
        let row: Option<RecordRow> = sqlx::query_as(table.select())
            .bind(room.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        row.map(|row| sql::record(row, &self.shown)).transpose()
    }

    /// Replaces a record in `tx` if it is at `expected_version`; the write comes first, so the
    /// version check and the change are one statement.
    async fn replace(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        table: Records,
        room: &RoomUri,
        expected_version: u64,
        state: Vec<u8>,
    ) -> Result<u64, StoreError> {
        let changed = match VersionCheck::of(expected_version) {
            VersionCheck::Create => {
                sqlx::query(table.create())
                    .bind(room.to_string())
                    .bind(state)
                    .execute(&mut **tx)
                    .await
            }
            VersionCheck::Replace(expected) => {
                sqlx::query(table.replace())
                    .bind(room.to_string())
                    .bind(state)
                    .bind(expected)
                    .execute(&mut **tx)
                    .await
            }
            VersionCheck::Never => return Err(sql::conflict(room, expected_version)),
        }
        .map_err(|e| self.fail(e))?;
        sql::saved(room, expected_version, changed.rows_affected())
    }

    /// `write_room` in `tx` (which holds the write lock), without committing.
    async fn write_room_in(
        &self,
        tx: &mut Transaction<'static, Sqlite>,
        room: &RoomUri,
        expected_version: u64,
        state: Option<Vec<u8>>,
        log: Vec<LogEntry>,
        outbound: Vec<NewOutbound>,
    ) -> Result<u64, StoreError> {
        let version = match state {
            Some(state) => {
                self.replace(tx, Records::HubRooms, room, expected_version, state)
                    .await?
            }
            None => {
                let stored: Option<(i64,)> = sqlx::query_as(sql::SELECT_VERSION)
                    .bind(room.to_string())
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(|e| self.fail(e))?;
                sql::version_matches(room, expected_version, stored.map(|(v,)| v))?
            }
        };
        let room_text = room.to_string();
        if !log.is_empty() {
            let (head,): (i64,) = sqlx::query_as(sql::SELECT_LOG_HEAD)
                .bind(&room_text)
                .fetch_one(&mut **tx)
                .await
                .map_err(|e| self.fail(e))?;
            let head = counter_from_db(head, "log sequence number", &self.shown)?;
            sql::check_log(room, expected_version, head, &log)?;
        }
        for entry in log {
            sqlx::query(sql::INSERT_LOG)
                .bind(&room_text)
                .bind(clamp(entry.seq))
                .bind(bits_to_db(entry.hub_ms))
                .bind(entry.message)
                .execute(&mut **tx)
                .await
                .map_err(|e| self.fail(e))?;
        }
        for item in outbound {
            sqlx::query(sql::INSERT_OUTBOUND)
                .bind(item.to.to_string())
                .bind(item.room.to_string())
                .bind(item.body)
                .execute(&mut **tx)
                .await
                .map_err(|e| self.fail(e))?;
        }
        Ok(version)
    }

    async fn commit(&self, tx: Transaction<'static, Sqlite>) -> Result<(), StoreError> {
        tx.commit().await.map_err(|e| self.fail(e))
    }

    async fn rollback(&self, tx: Transaction<'static, Sqlite>) -> Result<(), StoreError> {
        tx.rollback().await.map_err(|e| self.fail(e))
    }
}

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

impl DsStore for SqliteStore {
    async fn load_room(&self, room: &RoomUri) -> Result<Option<RoomRecord>, StoreError> {
        self.load(Records::HubRooms, room).await
    }

    async fn room_head(&self, room: &RoomUri) -> Result<Option<RoomHead>, StoreError> {
        let row: Option<(i64, i64)> = sqlx::query_as(sql::SELECT_HEAD)
            .bind(room.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        row.map(|(version, head)| sql::room_head(version, head, &self.shown))
            .transpose()
    }

    async fn write_room(
        &self,
        room: &RoomUri,
        expected_version: u64,
        state: Option<Vec<u8>>,
        log: Vec<LogEntry>,
        outbound: Vec<NewOutbound>,
    ) -> Result<u64, StoreError> {
        // Writes that arrive together share one transaction and one fsync (`group_commit`).
        self.write_room_grouped(room, expected_version, state, log, outbound)
            .await
    }

    async fn room_log(
        &self,
        room: &RoomUri,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let rows: Vec<LogRow> = sqlx::query_as(sql::SELECT_LOG)
            .bind(room.to_string())
            .bind(clamp(after))
            .bind(clamp_usize(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        rows.into_iter()
            .map(|row| sql::log_entry(row, &self.shown))
            .collect()
    }

    async fn pending_outbound(
        &self,
        to: &Domain,
        limit: usize,
    ) -> Result<Vec<OutboundItem>, StoreError> {
        let rows: Vec<OutboundRow> = sqlx::query_as(sql::SELECT_PENDING)
            .bind(to.to_string())
            .bind(clamp_usize(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        rows.into_iter()
            .map(|row| sql::outbound_item(row, &self.shown))
            .collect()
    }

    async fn ack_outbound(&self, id: u64) -> Result<(), StoreError> {
        let Some(id) = counter(id) else {
            return Ok(());
        };
        sqlx::query(sql::DELETE_OUTBOUND)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    async fn ack_outbound_all(&self, ids: &[u64]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for id in ids.iter().filter_map(|id| counter(*id)) {
            sqlx::query(sql::DELETE_OUTBOUND)
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.fail(e))?;
        }
        tx.commit().await.map_err(|e| self.fail(e))
    }

    async fn set_aside_outbound(
        &self,
        id: u64,
        reason: &str,
        retry_at_ms: u64,
    ) -> Result<(), StoreError> {
        let Some(id) = counter(id) else {
            return Ok(());
        };
        sqlx::query(sql::SET_ASIDE_OUTBOUND)
            .bind(id)
            .bind(reason)
            .bind(clamp(retry_at_ms))
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    async fn dead_letters(
        &self,
        to: &Domain,
        due_by_ms: u64,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let rows: Vec<DeadLetterRow> = sqlx::query_as(sql::SELECT_DEAD_LETTERS)
            .bind(to.to_string())
            .bind(clamp(due_by_ms))
            .bind(clamp_usize(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        rows.into_iter()
            .map(|row| sql::dead_letter(row, &self.shown))
            .collect()
    }

    async fn load_inbox(&self, room: &RoomUri) -> Result<Option<RoomRecord>, StoreError> {
        self.load(Records::FollowerInboxes, room).await
    }

    async fn write_inbox(
        &self,
        room: &RoomUri,
        expected_version: u64,
        state: Vec<u8>,
        feed: Vec<FeedItem>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let version = match self
            .replace(
                &mut tx,
                Records::FollowerInboxes,
                room,
                expected_version,
                state,
            )
            .await
        {
            Ok(version) => version,
            Err(err) => {
                self.rollback(tx).await?;
                return Err(err);
            }
        };
        let (last,): (i64,) = sqlx::query_as(sql::RESERVE_FEED)
            .bind(clamp_usize(sql::feed_rows(&feed)))
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| self.fail(e))?;
        let steps = match sql::feed_steps(feed, last) {
            Ok(steps) => steps,
            Err(err) => {
                self.rollback(tx).await?;
                return Err(err);
            }
        };
        let room = room.to_string();
        for step in steps {
            match step {
                sql::FeedStep::Insert(seq, device, payload) => {
                    sqlx::query(sql::INSERT_FEED)
                        .bind(seq)
                        .bind(&room)
                        .bind(device)
                        .bind(payload)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.fail(e))?;
                }
                sql::FeedStep::Open(device, from) => {
                    sqlx::query(sql::OPEN_INTERVAL)
                        .bind(device)
                        .bind(&room)
                        .bind(from)
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| self.fail(e))?;
                }
                sql::FeedStep::Close(device, to) => {
                    for statement in [sql::DROP_EMPTY_INTERVAL, sql::CLOSE_INTERVAL] {
                        sqlx::query(statement)
                            .bind(&device)
                            .bind(&room)
                            .bind(to)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| self.fail(e))?;
                    }
                }
            }
        }
        self.commit(tx).await?;
        Ok(version)
    }

    async fn device_events(
        &self,
        device: &ClientUri,
        cursor: u64,
        limit: usize,
    ) -> Result<Vec<DeviceEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(sql::SELECT_EVENTS)
            .bind(device.to_string())
            .bind(clamp(cursor))
            .bind(clamp_usize(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        rows.into_iter()
            .map(|row| sql::device_event(row, &self.shown))
            .collect()
    }

    async fn add_key_packages(
        &self,
        device: &ClientUri,
        entries: Vec<KeyPackageEntry>,
    ) -> Result<(), StoreError> {
        let device = device.to_string();
        let mut tx = self.write().await?;
        for entry in entries {
            sqlx::query(sql::INSERT_KEY_PACKAGE)
                .bind(&device)
                .bind(entry.reference)
                .bind(entry.key_package)
                .bind(entry.last_resort)
                .bind(bits_to_db(entry.not_after))
                .bind(sql::expires_ms(entry.not_after))
                .execute(&mut *tx)
                .await
                .map_err(|e| self.fail(e))?;
        }
        self.commit(tx).await
    }

    async fn claim_key_package(
        &self,
        device: &ClientUri,
        now_ms: u64,
    ) -> Result<Claim, StoreError> {
        let device_text = device.to_string();
        let now = clamp(now_ms);
        let mut tx = self.write().await?;
        // Expired entries are dropped on the way, as KeyPackagePool::claim does.
        sqlx::query("DELETE FROM key_packages WHERE device = $1 AND expires_ms <= $2")
            .bind(&device_text)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.fail(e))?;
        // The oldest fresh one leaves the pool in the same statement that finds it; the write
        // lock taken by BEGIN IMMEDIATE keeps every other claimer out until we commit.
        let fresh: Option<KeyPackageRow> = sqlx::query_as(
            "DELETE FROM key_packages WHERE id = (\
                 SELECT id FROM key_packages WHERE device = $1 AND last_resort = FALSE \
                 ORDER BY id LIMIT 1) \
             RETURNING key_package, reference, last_resort, not_after",
        )
        .bind(&device_text)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| self.fail(e))?;
        let claim = match fresh {
            Some(row) => Claim::Fresh(sql::entry(row)),
            None => {
                // Else the newest last-resort one, which stays.
                let kept: Option<KeyPackageRow> = sqlx::query_as(sql::SELECT_LAST_RESORT)
                    .bind(&device_text)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(|e| self.fail(e))?;
                kept.map_or(Claim::Exhausted, |row| Claim::LastResort(sql::entry(row)))
            }
        };
        if let Claim::Fresh(entry) | Claim::LastResort(entry) = &claim {
            sqlx::query(sql::RECORD_CLAIM)
                .bind(entry.reference.as_slice())
                .bind(&device_text)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.fail(e))?;
        }
        self.commit(tx).await?;
        Ok(claim)
    }

    async fn claimed_by(&self, reference: &[u8]) -> Result<Option<ClientUri>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as(sql::SELECT_CLAIMED_BY)
            .bind(reference)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        row.map(|(device,)| parse_stored(&device, "claiming device", &self.shown))
            .transpose()
    }

    async fn fresh_key_packages(
        &self,
        device: &ClientUri,
        now_ms: u64,
    ) -> Result<usize, StoreError> {
        let (count,): (i64,) = sqlx::query_as(sql::COUNT_FRESH)
            .bind(device.to_string())
            .bind(clamp(now_ms))
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        sql::key_package_count(count, &self.shown)
    }

    async fn save_profile(&self, profile: &Profile) -> Result<ProfileSaved, StoreError> {
        let user = profile.user.to_string();
        let (nick, handle, display_name, folded, searchable) = profiles::columns(profile);
        let mut tx = self.write().await?;
        if let Some(handle) = &handle {
            let holder: Option<(String,)> = sqlx::query_as(profiles::HANDLE_HOLDER)
                .bind(handle)
                .bind(&user)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| self.fail(e))?;
            if holder.is_some() {
                self.rollback(tx).await?;
                return Ok(ProfileSaved::HandleTaken);
            }
        }
        let written = sqlx::query(profiles::UPSERT)
            .bind(&user)
            .bind(nick)
            .bind(handle)
            .bind(display_name)
            .bind(folded)
            .bind(searchable)
            .execute(&mut *tx)
            .await;
        match written {
            Ok(_) => {}
            Err(e) if profiles::is_taken(&e) => {
                self.rollback(tx).await?;
                return Ok(ProfileSaved::HandleTaken);
            }
            Err(e) => return Err(self.fail(e)),
        }
        self.commit(tx).await?;
        Ok(ProfileSaved::Saved)
    }

    async fn profile(&self, user: &UserUri) -> Result<Option<Profile>, StoreError> {
        let row: Option<profiles::ProfileRow> = sqlx::query_as(profiles::SELECT)
            .bind(user.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        row.map(|row| profiles::profile(row, &self.shown))
            .transpose()
    }

    async fn find_profiles(
        &self,
        search: &ProfileSearch,
        limit: usize,
    ) -> Result<Vec<Profile>, StoreError> {
        let (statement, value) = profiles::search(search);
        let rows: Vec<profiles::ProfileRow> = sqlx::query_as(&statement)
            .bind(value)
            .bind(clamp_usize(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        rows.into_iter()
            .map(|row| profiles::profile(row, &self.shown))
            .collect()
    }

    async fn load_consent(&self, user: &UserUri) -> Result<Option<ConsentRecord>, StoreError> {
        let row: Option<RecordRow> = sqlx::query_as(sql::SELECT_CONSENT)
            .bind(user.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        row.map(|row| sql::consent_record(row, &self.shown))
            .transpose()
    }

    async fn save_consent(
        &self,
        writes: Vec<ConsentWrite>,
        requests: Vec<NewPeerRequest>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for write in writes {
            let user = write.user.to_string();
            let changed = match VersionCheck::of(write.expected_version) {
                VersionCheck::Create => {
                    sqlx::query(sql::CREATE_CONSENT)
                        .bind(&user)
                        .bind(write.state)
                        .execute(&mut *tx)
                        .await
                }
                VersionCheck::Replace(expected) => {
                    sqlx::query(sql::REPLACE_CONSENT)
                        .bind(&user)
                        .bind(write.state)
                        .bind(expected)
                        .execute(&mut *tx)
                        .await
                }
                VersionCheck::Never => {
                    self.rollback(tx).await?;
                    return Err(sql::consent_conflict(&write.user, write.expected_version));
                }
            }
            .map_err(|e| self.fail(e))?;
            if changed.rows_affected() != 1 {
                self.rollback(tx).await?;
                return Err(sql::consent_conflict(&write.user, write.expected_version));
            }
        }
        for request in requests {
            let to = request.to.to_string();
            sqlx::query(sql::INSERT_PEER_REQUEST)
                .bind(&to)
                .bind(request.kind.as_str())
                .bind(request.body)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.fail(e))?;
        }
        self.commit(tx).await
    }

    async fn pending_peer_requests(
        &self,
        to: &Domain,
        limit: usize,
    ) -> Result<Vec<PeerRequest>, StoreError> {
        let rows: Vec<PeerRequestRow> = sqlx::query_as(sql::SELECT_PEER_REQUESTS)
            .bind(to.to_string())
            .bind(clamp_usize(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        rows.into_iter()
            .map(|row| sql::peer_request(row, &self.shown))
            .collect()
    }

    async fn ack_peer_request(&self, id: u64) -> Result<(), StoreError> {
        let Some(id) = counter(id) else {
            return Ok(());
        };
        sqlx::query(sql::DELETE_PEER_REQUEST)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    async fn remove_key_packages(&self, device: &ClientUri) -> Result<usize, StoreError> {
        let done = sqlx::query(sql::DELETE_KEY_PACKAGES)
            .bind(device.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
    }
}

#[cfg(test)]
mod tests {
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
