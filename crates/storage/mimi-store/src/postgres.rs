//! The PostgreSQL backend of [`DsStore`](mimi_ds::DsStore), for several server processes sharing
//! one database: connecting, and what PostgreSQL does its own way (see `src/body.rs` for the
//! body both backends share).

mod error;
mod shared;

use std::collections::BTreeSet;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use mimi_ds::StoreError;
use mimi_types::RoomUri;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Connection, Postgres, Transaction};

pub use error::ConnectError;
pub use shared::{
    EVENTS_CHANNEL, Lease, LockedRoom, OUTBOUND_CHANNEL, ROOM_EVENTS, Wakeup, Wakeups,
};

use crate::group_commit::GroupCommit;
use crate::sql;
use error::{backend, connect_error, migrate_error};

/// The schema migrations, embedded at build time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// How a [`PostgresStore`] connects.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PostgresConfig {
    /// Connections in this process's pool. Every `mimi serve` process has its own pool, and
    /// their sum must stay below the server's `max_connections` (default 100), with room for
    /// each process's connections outside the pool: one for group commits of hub room writes,
    /// one listening for wake-ups, and one per held lease. Default 10.
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
    /// One connection for the group commits of room writes (`src/group_commit.rs`), apart
    /// from the pool: a writer waiting for its group may hold a pooled connection (a
    /// [`LockedRoom`]), and enough of them must not leave the group's leader without one.
    group_pool: PgPool,
    /// Room writes waiting for, or written in, a shared transaction.
    group: Arc<GroupCommit>,
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
        // One leader at a time writes a group, so one connection is all it needs; made when
        // the first room write arrives.
        let group_pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(config.acquire_timeout)
            .idle_timeout(config.idle_timeout)
            .connect_lazy_with(options.clone());
        Ok(Self {
            pool,
            shown: Arc::from(server),
            acquire_timeout: config.acquire_timeout,
            options: Arc::new(options),
            group_pool,
            group: GroupCommit::new(),
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
        self.group_pool.close().await;
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

    /// The transaction of a group commit of room writes (`src/group_commit.rs`), on the
    /// group's own connection.
    async fn group_transaction(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.group_pool.begin().await.map_err(|e| self.fail(e))
    }

    /// `$1` room → (version,), locking the room's row (without rewriting it) until the
    /// transaction ends: appends to one room are serialized across processes (a group commit
    /// locks its rooms in room order, so two processes' groups cannot deadlock).
    const SELECT_VERSION_FOR_APPEND: &str = sql::SELECT_VERSION_LOCKED;

    /// `$1` device, `$2` now (ms): drops the device's expired KeyPackages that no concurrent
    /// claim holds (it removes them, or they stay expired and are skipped).
    const CLAIM_DROP_EXPIRED: &str = "DELETE FROM key_packages WHERE id IN (\
         SELECT id FROM key_packages WHERE device = $1 AND expires_ms <= $2 \
         FOR UPDATE SKIP LOCKED)";

    /// `$1` device, `$2` now (ms) → the oldest unexpired fresh [`sql::KeyPackageRow`] that no
    /// concurrent claim holds, removed in the statement that locks it: two claims never get
    /// the same row, and neither waits for the other.
    const CLAIM_TAKE_FRESH: &str = "DELETE FROM key_packages WHERE id = (\
         SELECT id FROM key_packages \
         WHERE device = $1 AND last_resort = FALSE AND expires_ms > $2 \
         ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
         RETURNING key_package, reference, last_resort, not_after";

    /// Announces each destination on [`OUTBOUND_CHANNEL`] at commit.
    async fn announce_outbound(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        destinations: BTreeSet<String>,
    ) -> Result<(), StoreError> {
        for to in destinations {
            self.announce(tx, OUTBOUND_CHANNEL, &to).await?;
        }
        Ok(())
    }

    /// Announces on [`EVENTS_CHANNEL`] at commit that `device` has an item of its own.
    async fn announce_device(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        device: &str,
    ) -> Result<(), StoreError> {
        self.announce(tx, EVENTS_CHANNEL, device).await
    }

    /// Announces on [`EVENTS_CHANNEL`] at commit that `room` has messages for its members.
    async fn announce_room(
        &self,
        tx: &mut Transaction<'static, Postgres>,
        room: &RoomUri,
    ) -> Result<(), StoreError> {
        self.announce(tx, EVENTS_CHANNEL, &format!("{ROOM_EVENTS}{room}"))
            .await
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
}

crate::body::store_body!(PostgresStore, Postgres);

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
