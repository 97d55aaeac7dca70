//! Users, devices, bearer tokens and which local device is in which room, on the backend the
//! configuration selects: with SQLite in their own file (`accounts.sqlite3` in the data
//! directory), with PostgreSQL in the same database as the delivery-service store, so that
//! every process of a provider knows every account and token.
//!
//! Passwords are stored as Argon2id PHC strings (made and checked by `crate::passwords`, off
//! the async workers); tokens as their SHA-256 (a token is 32 random bytes, so a fast hash is
//! enough). Room membership here mirrors the follower engine's member devices (which the inbox
//! record holds and which decide delivery); it is written **before** the inbox save that
//! delivers to a joining device and removed after the save that delivers a departing device's
//! last event, for room lists.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use mimi_mls::ClientKind;
use mimi_types::{ClientUri, RoomUri, UserUri};
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use sqlx::postgres::PgPool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};

use crate::error::ServerError;
use crate::token_cache::{TokenCache, TokenHash};

/// The file name of the accounts database.
pub const FILE_NAME: &str = "accounts.sqlite3";

/// The advisory lock under which a process creates the PostgreSQL tables, so that processes
/// starting together do not race on them ("mimi" and "acct" in ASCII).
const SCHEMA_LOCK: (i32, i32) = (0x6d69_6d69, 0x6163_6374);

/// Whether a registration found the name free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Created {
    /// Created.
    New,
    /// It existed already; nothing changed.
    Exists,
}

/// The accounts database.
#[derive(Debug, Clone)]
pub struct Accounts {
    pool: Pool,
    /// Tokens found valid, where this process owns the accounts (SQLite).
    tokens: Option<Arc<TokenCache>>,
}

/// The backend's connection pool.
#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs the same statement on either backend (`$N` placeholders and `ON CONFLICT` are valid in
/// both): `$pool` is bound to the backend's pool in `$body`.
macro_rules! on_pool {
    ($accounts:expr, $pool:ident => $body:expr) => {
        match $accounts.pool() {
            $crate::accounts::Pool::Sqlite($pool) => $body,
            $crate::accounts::Pool::Postgres($pool) => $body,
        }
    };
}

pub(crate) use on_pool;

fn token_hash(token: &str) -> TokenHash {
    Sha256::digest(token.as_bytes()).into()
}

impl Accounts {
    /// Opens (creating) the SQLite database in `dir`.
    pub async fn open_in(dir: &Path) -> Result<Self, ServerError> {
        let options = SqliteConnectOptions::new()
            .filename(dir.join(FILE_NAME))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(4)
            // A local file: no ping before every statement (see mimi-store's SQLite pool).
            .test_before_acquire(false)
            // Never hand out a connection sqlx still counts inside a transaction (see
            // mimi-store's SQLite pool): a fresh one is opened instead.
            .before_acquire(|conn, _| {
                Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
            })
            .connect_with(options)
            .await?;
        for statement in crate::accounts_schema::SQLITE.iter().copied().flatten() {
            sqlx::query(statement).execute(&pool).await?;
        }
        Ok(Self {
            pool: Pool::Sqlite(pool),
            tokens: Some(Arc::default()),
        })
    }

    /// The accounts in a PostgreSQL database (the delivery-service store's pool), creating the
    /// tables if missing. Any number of processes may do this at once.
    pub async fn postgres(pool: PgPool) -> Result<Self, ServerError> {
        let mut tx = pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(SCHEMA_LOCK.0)
            .bind(SCHEMA_LOCK.1)
            .execute(&mut *tx)
            .await?;
        for statement in crate::accounts_schema::POSTGRES.iter().copied().flatten() {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(Self {
            pool: Pool::Postgres(pool),
            // Other processes of the provider remove devices too: ask the database each time.
            tokens: None,
        })
    }

    /// Whether the accounts database answers now.
    pub async fn ping(&self) -> Result<(), ServerError> {
        on_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop))?;
        Ok(())
    }

    /// The connection pool (for the tables kept in other modules, e.g. blobs).
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Registers `user` with the PHC string of its password (see `crate::passwords`).
    pub async fn add_user(
        &self,
        user: &UserUri,
        password_hash: &str,
    ) -> Result<Created, ServerError> {
        let statement =
            "INSERT INTO users (\"user\", password) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        let done = on_pool!(self, pool => sqlx::query(statement)
            .bind(user.to_string())
            .bind(password_hash)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(if done == 1 {
            Created::New
        } else {
            Created::Exists
        })
    }

    /// The PHC string of `user`'s password (`None` for an unknown user).
    pub async fn password_hash(&self, user: &UserUri) -> Result<Option<String>, ServerError> {
        let statement = "SELECT password FROM users WHERE \"user\" = $1";
        let row: Option<(String,)> = on_pool!(self, pool => sqlx::query_as(statement)
            .bind(user.to_string())
            .fetch_optional(pool)
            .await?);
        Ok(row.map(|(stored,)| stored))
    }

    /// Replaces `user`'s stored PHC string `old` with `new` (a login re-hashes a password stored
    /// at another cost than new hashes get now). Only if `old` is still the stored one, so a
    /// change made meanwhile is kept; whether it was replaced.
    pub async fn replace_password_hash(
        &self,
        user: &UserUri,
        old: &str,
        new: &str,
    ) -> Result<bool, ServerError> {
        let statement = "UPDATE users SET password = $3 WHERE \"user\" = $1 AND password = $2";
        let done = on_pool!(self, pool => sqlx::query(statement)
            .bind(user.to_string())
            .bind(old)
            .bind(new)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done == 1)
    }

    /// Whether `user` exists.
    pub async fn has_user(&self, user: &UserUri) -> Result<bool, ServerError> {
        let statement = "SELECT \"user\" FROM users WHERE \"user\" = $1";
        let row: Option<(String,)> = on_pool!(self, pool => sqlx::query_as(statement)
            .bind(user.to_string())
            .fetch_optional(pool)
            .await?);
        Ok(row.is_some())
    }

    /// Registers device `client` of `user`, a device of `kind` (kept for its re-issued
    /// credentials, [`Accounts::device_kind`]), and returns its new bearer token; `None` where
    /// the device exists already.
    pub async fn add_device(
        &self,
        user: &UserUri,
        client: &ClientUri,
        kind: &ClientKind,
    ) -> Result<Option<String>, ServerError> {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = hex::encode(raw);
        let statement = "INSERT INTO devices (client, \"user\", token_hash) VALUES ($1, $2, $3) \
                         ON CONFLICT DO NOTHING";
        let marker = match kind {
            ClientKind::Person => None,
            ClientKind::Bot { name, homepage } => Some(("bot", name.as_str(), homepage.as_str())),
            ClientKind::Logger => Some(("logger", "", "")),
        };
        let kinds = "INSERT INTO device_kinds (client, kind, name, homepage) \
                     VALUES ($1, $2, $3, $4)";
        let done = on_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let done = sqlx::query(statement)
                .bind(client.to_string())
                .bind(user.to_string())
                .bind(&token_hash(&token)[..])
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if let (1, Some((kind, name, homepage))) = (done, marker) {
                sqlx::query(kinds)
                    .bind(client.to_string())
                    .bind(kind)
                    .bind(name)
                    .bind(homepage)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            done
        });
        Ok((done == 1).then_some(token))
    }

    /// What device `client` was registered as (a person's device where nothing says
    /// otherwise, as for every device registered before kinds were kept).
    pub async fn device_kind(&self, client: &ClientUri) -> Result<ClientKind, ServerError> {
        let statement = "SELECT kind, name, homepage FROM device_kinds WHERE client = $1";
        let row: Option<(String, String, String)> = on_pool!(self, pool => sqlx::query_as(statement)
            .bind(client.to_string())
            .fetch_optional(pool)
            .await?);
        match row {
            None => Ok(ClientKind::Person),
            Some((kind, name, homepage)) => match kind.as_str() {
                "bot" => Ok(ClientKind::Bot { name, homepage }),
                "logger" => Ok(ClientKind::Logger),
                other => Err(ServerError::Accounts(format!(
                    "device {client} is recorded as a {other:?}, which this version does not \
                     know (a newer version wrote it)"
                ))),
            },
        }
    }

    /// The device a bearer token belongs to.
    pub async fn device_of_token(&self, token: &str) -> Result<Option<ClientUri>, ServerError> {
        let hash = token_hash(token);
        let removals = match &self.tokens {
            Some(tokens) => {
                if let Some(client) = tokens.get(&hash, Instant::now()) {
                    return Ok(Some(client));
                }
                tokens.removals()
            }
            None => 0,
        };
        let statement = "SELECT client FROM devices WHERE token_hash = $1";
        let row: Option<(String,)> = on_pool!(self, pool => sqlx::query_as(statement)
            .bind(&hash[..])
            .fetch_optional(pool)
            .await?);
        let client = row
            .map(|(client,)| parse::<ClientUri>(client))
            .transpose()?;
        if let (Some(tokens), Some(client)) = (&self.tokens, &client) {
            tokens.insert(hash, client.clone(), removals, Instant::now());
        }
        Ok(client)
    }

    /// Forgets device `client`: its token stops working. Its room memberships stay until the
    /// rooms' commits that remove it are delivered (the follower engine decides delivery).
    /// Returns whether it existed.
    pub async fn remove_device(&self, client: &ClientUri) -> Result<bool, ServerError> {
        let statement = "DELETE FROM devices WHERE client = $1";
        let done = on_pool!(self, pool => sqlx::query(statement)
            .bind(client.to_string())
            .execute(pool)
            .await?
            .rows_affected());
        if let Some(tokens) = &self.tokens {
            tokens.forget(client);
        }
        Ok(done == 1)
    }

    /// Whether the device `client` authenticated with `token` was removed by another process
    /// (or removed and registered again there, with a new token). Where this process owns the
    /// accounts (SQLite) every removal is its own, and holds the device's streams first
    /// (`device_wake`): no read. Where processes share them (PostgreSQL), the token is looked
    /// up there.
    pub(crate) async fn revoked_elsewhere(
        &self,
        token: &str,
        client: &ClientUri,
    ) -> Result<bool, ServerError> {
        if !matches!(self.pool, Pool::Postgres(_)) {
            return Ok(false);
        }
        Ok(self.device_of_token(token).await?.as_ref() != Some(client))
    }

    /// Every device of `user`, sorted.
    pub async fn devices_of(&self, user: &UserUri) -> Result<Vec<ClientUri>, ServerError> {
        let statement = "SELECT client FROM devices WHERE \"user\" = $1 ORDER BY client";
        self.clients(statement, user.to_string()).await
    }

    /// Records that `client` is in `room` (idempotent).
    pub async fn join(&self, room: &RoomUri, client: &ClientUri) -> Result<(), ServerError> {
        let statement =
            "INSERT INTO memberships (room, client) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        on_pool!(self, pool => sqlx::query(statement)
            .bind(room.to_string())
            .bind(client.to_string())
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Records that `client` is no longer in `room` (idempotent).
    pub async fn leave(&self, room: &RoomUri, client: &ClientUri) -> Result<(), ServerError> {
        let statement = "DELETE FROM memberships WHERE room = $1 AND client = $2";
        on_pool!(self, pool => sqlx::query(statement)
            .bind(room.to_string())
            .bind(client.to_string())
            .execute(pool)
            .await
            .map(drop))?;
        Ok(())
    }

    /// Local devices in `room`, sorted.
    pub async fn members(&self, room: &RoomUri) -> Result<Vec<ClientUri>, ServerError> {
        let statement = "SELECT client FROM memberships WHERE room = $1 ORDER BY client";
        self.clients(statement, room.to_string()).await
    }

    /// Rooms `client` is in, sorted.
    pub async fn rooms_of(&self, client: &ClientUri) -> Result<Vec<RoomUri>, ServerError> {
        let statement = "SELECT room FROM memberships WHERE client = $1 ORDER BY room";
        let rows: Vec<(String,)> = on_pool!(self, pool => sqlx::query_as(statement)
            .bind(client.to_string())
            .fetch_all(pool)
            .await?);
        rows.into_iter().map(|(room,)| parse(room)).collect()
    }

    /// The client URIs a one-parameter query returns.
    async fn clients(&self, statement: &str, param: String) -> Result<Vec<ClientUri>, ServerError> {
        let rows: Vec<(String,)> = on_pool!(self, pool => sqlx::query_as(statement)
            .bind(&param)
            .fetch_all(pool)
            .await?);
        rows.into_iter().map(|(client,)| parse(client)).collect()
    }
}

fn parse<T: FromStr>(text: String) -> Result<T, ServerError>
where
    T::Err: std::fmt::Display,
{
    T::from_str(&text).map_err(|e| ServerError::Accounts(format!("stored URI {text:?}: {e}")))
}
