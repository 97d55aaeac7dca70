//! The PostgreSQL backend of [`DsStore`], for several server processes sharing one database.

mod error;
mod shared;

use std::collections::BTreeSet;
use std::str::FromStr;
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
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, Transaction};

pub use error::ConnectError;
pub use shared::{
    EVENTS_CHANNEL, Lease, LockedRoom, OUTBOUND_CHANNEL, ROOM_EVENTS, Wakeup, Wakeups,
};

use crate::convert::{bits_to_db, clamp, clamp_usize, counter, counter_from_db, parse_stored};
use crate::profiles;
use crate::sql::{
    self, DeadLetterRow, EventRow, KeyPackageRow, LogRow, OutboundRow, PeerRequestRow, RecordRow,
    Records, VersionCheck,
};
use error::{backend, connect_error, migrate_error};

/// The schema migrations, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How a [`PostgresStore`] connects.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PostgresConfig {
    /// Connections in this process's pool. Every `mimi serve` process has its own pool, and
    /// their sum must stay below the server's `max_connections` (default 100). Default 10.
    pub max_connections: u32,
    /// Connections kept open when idle. Default 0.
    pub min_connections: u32,
    /// How long a call waits for a free connection (or for a new one to be made) before it
    /// fails. Default 30 s.
    pub acquire_timeout: Duration,
    /// Idle connections are closed after this long. Default 10 minutes.
    pub idle_timeout: Option<Duration>,
}

impl Default for PostgresConfig {
    fn default() -> Self {
        Self {
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(30),
            idle_timeout: Some(Duration::from_secs(600)),
        }
    }
}

/// The delivery service's storage in a PostgreSQL database (see the crate documentation for
/// the schema and how each promise of the trait is kept).
///
/// Cheap to clone: clones share the connection pool. Any number of stores, in this process or
/// in other processes on other machines, may use the same database at once.
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// The server as messages show it (no password).
    shown: Arc<str>,
    acquire_timeout: Duration,
    /// How to connect, for the connections that live outside the pool (leases, listener).
    options: Arc<PgConnectOptions>,
}

/// `postgres://user@host:port/database`, without the password.
fn shown(options: &PgConnectOptions) -> String {
    let database = options
        .get_database()
        .unwrap_or_else(|| options.get_username());
    match options.get_socket() {
        Some(socket) => format!(
            "postgres://{}@{}/{database}",
            options.get_username(),
            socket.display()
        ),
        None => format!(
            "postgres://{}@{}:{}/{database}",
            options.get_username(),
            options.get_host(),
            options.get_port()
        ),
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/database`,
    /// with the usual query parameters such as `sslmode` or `options=-c search_path=...`), and
    /// brings its schema up to date. The database must exist; mimi's tables go in its current
    /// schema, which must hold no other program's tables.
    ///
    /// Any number of processes may connect at once, also to a new database: the migrations run
    /// under PostgreSQL's advisory lock, once.
    pub async fn connect(url: &str, config: &PostgresConfig) -> Result<Self, ConnectError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(ConnectError::InvalidUrl {
                detail: "it must start with postgres:// or postgresql://".to_owned(),
            });
        }
        let options = PgConnectOptions::from_str(url).map_err(|err| ConnectError::InvalidUrl {
            detail: err.to_string(),
        })?;
        let options = options.application_name("mimi-store");
        let server = shown(&options);

        // One connection prepares the database, then the pool takes over.
        let mut setup = PgConnection::connect_with(&options)
            .await
            .map_err(|err| connect_error(err, &server))?;
        let prepared = prepare(&mut setup, &server).await;
        let closed = setup.close().await;
        prepared?;
        closed.map_err(|err| connect_error(err, &server))?;

        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(1))
            .min_connections(config.min_connections)
            .acquire_timeout(config.acquire_timeout)
            .idle_timeout(config.idle_timeout)
            .connect_with(options.clone())
            .await
            .map_err(|err| connect_error(err, &server))?;
        Ok(Self {
            pool,
            shown: Arc::from(server),
            acquire_timeout: config.acquire_timeout,
            options: Arc::new(options),
        })
    }

    /// The server and database, as messages show them (`postgres://user@host:port/database`,
    /// never the password).
    pub fn server(&self) -> &str {
        &self.shown
    }

    /// The connection pool, for the server's own tables next to the store's (accounts): they
    /// live in the same database and schema.
    pub fn pool(&self) -> &PgPool {
        &self.pool
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

    /// Closes every connection, waiting for calls in flight. Dropping the store instead is
    /// safe: every acknowledged write is already committed.
    pub async fn close(self) {
        self.pool.close().await;
    }

    fn fail(&self, err: sqlx::Error) -> StoreError {
        backend(err, &self.shown, self.acquire_timeout)
    }

    /// A transaction at PostgreSQL's default isolation, READ COMMITTED: each statement below
    /// locks the rows it changes, and the statements are written so that what they check and
    /// what they change is one statement (see the crate documentation).
    async fn write(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool.begin().await.map_err(|e| self.fail(e))
    }

    async fn load(&self, table: Records, room: &RoomUri) -> Result<Option<RoomRecord>, StoreError> {
        let row: Option<RecordRow> = sqlx::query_as(table.select())
            .bind(room.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        row.map(|row| sql::record(row, &self.shown)).transpose()
    }

    /// Replaces a record in `tx` if it is at `expected_version`. The UPDATE locks the row: a
    /// concurrent save of the same room waits for our commit, then re-checks the version on the
    /// committed row and changes nothing; a concurrent create waits the same way on the key.
    async fn replace(
        &self,
        tx: &mut Transaction<'static, Postgres>,
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

    /// `write_room` in `tx` (which may already hold the room's row lock, see
    /// [`PostgresStore::lock_room`]), then commits; rolls back on any error. The destinations
    /// of the fan-out are announced on [`OUTBOUND_CHANNEL`] at commit, so the sender of every
    /// process wakes.
    async fn write_room_in(
        &self,
        mut tx: Transaction<'static, Postgres>,
        room: &RoomUri,
        expected_version: u64,
        state: Option<Vec<u8>>,
        log: Vec<LogEntry>,
        outbound: Vec<NewOutbound>,
    ) -> Result<u64, StoreError> {
        let written = self
            .write_room_tx(&mut tx, room, expected_version, state, log, outbound)
            .await;
        match written {
            Ok(version) => {
                self.commit(tx).await?;
                Ok(version)
            }
            Err(err) => {
                self.rollback(tx).await?;
                Err(err)
            }
        }
    }

    async fn write_room_tx(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        room: &RoomUri,
        expected_version: u64,
        state: Option<Vec<u8>>,
        log: Vec<LogEntry>,
        outbound: Vec<NewOutbound>,
    ) -> Result<u64, StoreError> {
        let room_text = room.to_string();
        let version = match state {
            Some(state) => {
                self.replace(tx, Records::HubRooms, room, expected_version, state)
                    .await?
            }
            None => {
                // Locks the row (without rewriting it): appends to one room are serialized.
                let stored: Option<(i64,)> = sqlx::query_as(sql::SELECT_VERSION_LOCKED)
                    .bind(&room_text)
                    .fetch_optional(&mut **tx)
                    .await
                    .map_err(|e| self.fail(e))?;
                sql::version_matches(room, expected_version, stored.map(|(v,)| v))?
            }
        };
        if !log.is_empty() {
            // The state's row is locked by the write or the SELECT above: no other writer
            // appends to this room before we commit.
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
        let mut destinations = BTreeSet::new();
        for item in outbound {
            let to = item.to.to_string();
            sqlx::query(sql::INSERT_OUTBOUND)
                .bind(&to)
                .bind(item.room.to_string())
                .bind(item.body)
                .execute(&mut **tx)
                .await
                .map_err(|e| self.fail(e))?;
            destinations.insert(to);
        }
        for to in destinations {
            self.announce(tx, OUTBOUND_CHANNEL, &to).await?;
        }
        Ok(version)
    }

    /// `NOTIFY channel, '<schema> payload'`, delivered to every listener of the database when
    /// `tx` commits (not at all if it rolls back).
    async fn announce(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        channel: &str,
        payload: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("SELECT pg_notify($1, current_schema() || ' ' || $2)")
            .bind(channel)
            .bind(payload)
            .execute(&mut **tx)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    async fn commit(&self, tx: Transaction<'static, Postgres>) -> Result<(), StoreError> {
        tx.commit().await.map_err(|e| self.fail(e))
    }

    async fn rollback(&self, tx: Transaction<'static, Postgres>) -> Result<(), StoreError> {
        tx.rollback().await.map_err(|e| self.fail(e))
    }
}

/// Checks that the current schema is ours (or empty) and migrates it.
async fn prepare(conn: &mut PgConnection, server: &str) -> Result<(), ConnectError> {
    // _sqlx_migrations is created (and committed) before any table of ours, and a migration's
    // tables appear at once when it commits, so a process connecting while another migrates
    // never sees our tables without the history.
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() ORDER BY table_name",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(|err| connect_error(err, server))?;
    let tables: Vec<String> = tables.into_iter().map(|(name,)| name).collect();
    if !tables.is_empty() && !tables.iter().any(|t| t == "_sqlx_migrations") {
        return Err(ConnectError::ForeignDatabase {
            server: server.to_owned(),
            tables,
        });
    }
    // `run_direct` takes PostgreSQL's advisory lock for the database, so concurrent
    // connects apply each migration once.
    MIGRATOR
        .run_direct(conn)
        .await
        .map_err(|err| migrate_error(err, server))
}

impl DsStore for PostgresStore {
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
        let tx = self.write().await?;
        self.write_room_in(tx, room, expected_version, state, log, outbound)
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
        if feed.iter().any(|i| matches!(i, FeedItem::Room(_))) {
            self.announce(&mut tx, EVENTS_CHANNEL, &format!("{ROOM_EVENTS}{room}"))
                .await?;
        }
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
                    if let Some(device) = &device {
                        self.announce(&mut tx, EVENTS_CHANNEL, device).await?;
                    }
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
        // Expired entries are dropped on the way, as KeyPackagePool::claim does; rows another
        // claim holds are left to it (it removes them, or they stay expired and are skipped).
        sqlx::query(
            "DELETE FROM key_packages WHERE id IN (\
                 SELECT id FROM key_packages WHERE device = $1 AND expires_ms <= $2 \
                 FOR UPDATE SKIP LOCKED)",
        )
        .bind(&device_text)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(|e| self.fail(e))?;
        // The oldest unexpired fresh one that no concurrent claim holds leaves the pool in the
        // statement that locks it: two claims never get the same row, and neither waits for the
        // other.
        let fresh: Option<KeyPackageRow> = sqlx::query_as(
            "DELETE FROM key_packages WHERE id = (\
                 SELECT id FROM key_packages \
                 WHERE device = $1 AND last_resort = FALSE AND expires_ms > $2 \
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
             RETURNING key_package, reference, last_resort, not_after",
        )
        .bind(&device_text)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| self.fail(e))?;
        let claim = match fresh {
            Some(row) => Claim::Fresh(sql::entry(row)),
            None => {
                // Else the newest unexpired last-resort one, which stays.
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
        let mut destinations = BTreeSet::new();
        for request in requests {
            let to = request.to.to_string();
            sqlx::query(sql::INSERT_PEER_REQUEST)
                .bind(&to)
                .bind(request.kind.as_str())
                .bind(request.body)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.fail(e))?;
            destinations.insert(to);
        }
        for to in destinations {
            self.announce(&mut tx, OUTBOUND_CHANNEL, &to).await?;
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

    #[test]
    fn the_shown_server_never_has_the_password() {
        let options =
            PgConnectOptions::from_str("postgres://alice:s3cret@db.example:6543/mimi").unwrap();
        assert_eq!(shown(&options), "postgres://alice@db.example:6543/mimi");
    }

    #[tokio::test]
    async fn an_invalid_url_is_refused_without_echoing_it() {
        let err = PostgresStore::connect("mysql://a:s3cret@h/db", &PostgresConfig::default())
            .await
            .unwrap_err();
        assert!(matches!(err, ConnectError::InvalidUrl { .. }), "{err}");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[tokio::test]
    async fn an_unreachable_server_is_reported_as_such() {
        // Port 1 on loopback: nothing listens there.
        let err = PostgresStore::connect(
            "postgres://nobody@127.0.0.1:1/none",
            &PostgresConfig::default(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ConnectError::Unreachable { .. }), "{err}");
        assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
    }
}
