//! Users, devices, bearer tokens and which local device is in which room, in their own SQLite
//! file (`accounts.sqlite3` in the data directory).
//!
//! Passwords are stored as Argon2id PHC strings; tokens as their SHA-256 (a token is 32 random
//! bytes, so a fast hash is enough). Room membership is written **before** the inbox save that
//! delivers to it, so a crash in between can only add a device that later gets an event it
//! ignores, never lose one.

use std::path::Path;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use mimi_types::{ClientUri, RoomUri, UserUri};
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use sqlx::Row as _;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};

use crate::error::ServerError;

/// The file name of the accounts database.
pub const FILE_NAME: &str = "accounts.sqlite3";

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS users (user TEXT PRIMARY KEY, password TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS devices (client TEXT PRIMARY KEY, user TEXT NOT NULL \
     REFERENCES users(user), token_hash BLOB NOT NULL UNIQUE)",
    "CREATE INDEX IF NOT EXISTS devices_by_user ON devices(user)",
    "CREATE TABLE IF NOT EXISTS memberships (room TEXT NOT NULL, client TEXT NOT NULL, \
     PRIMARY KEY (room, client))",
];

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
    pool: SqlitePool,
}

fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

impl Accounts {
    /// Opens (creating) the database in `dir`.
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
            .connect_with(options)
            .await?;
        for statement in SCHEMA {
            sqlx::query(statement).execute(&pool).await?;
        }
        Ok(Self { pool })
    }

    /// Registers `user` with `password`.
    pub async fn add_user(&self, user: &UserUri, password: &str) -> Result<Created, ServerError> {
        let mut salt = [0u8; 16];
        rand::thread_rng().fill_bytes(&mut salt);
        let salt = SaltString::encode_b64(&salt)
            .map_err(|e| ServerError::Accounts(format!("salt: {e}")))?;
        let hash = Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| ServerError::Accounts(format!("password hash: {e}")))?
            .to_string();
        let done = sqlx::query(
            "INSERT INTO users (user, password) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(user.to_string())
        .bind(hash)
        .execute(&self.pool)
        .await?;
        Ok(if done.rows_affected() == 1 {
            Created::New
        } else {
            Created::Exists
        })
    }

    /// Whether `password` is `user`'s (false for an unknown user).
    pub async fn check_password(
        &self,
        user: &UserUri,
        password: &str,
    ) -> Result<bool, ServerError> {
        let row = sqlx::query("SELECT password FROM users WHERE user = $1")
            .bind(user.to_string())
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let stored: String = row.try_get(0)?;
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| ServerError::Accounts(format!("stored hash of {user}: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    }

    /// Whether `user` exists.
    pub async fn has_user(&self, user: &UserUri) -> Result<bool, ServerError> {
        let row = sqlx::query("SELECT 1 FROM users WHERE user = $1")
            .bind(user.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.is_some())
    }

    /// Registers device `client` of `user` and returns its new bearer token.
    pub async fn add_device(
        &self,
        user: &UserUri,
        client: &ClientUri,
    ) -> Result<Option<String>, ServerError> {
        let mut raw = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut raw);
        let token = hex::encode(raw);
        let done = sqlx::query(
            "INSERT INTO devices (client, user, token_hash) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(client.to_string())
        .bind(user.to_string())
        .bind(token_hash(&token))
        .execute(&self.pool)
        .await?;
        Ok((done.rows_affected() == 1).then_some(token))
    }

    /// The device a bearer token belongs to.
    pub async fn device_of_token(&self, token: &str) -> Result<Option<ClientUri>, ServerError> {
        let row = sqlx::query("SELECT client FROM devices WHERE token_hash = $1")
            .bind(token_hash(token))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| parse::<ClientUri>(r.try_get(0)?)).transpose()
    }

    /// Every device of `user`, sorted.
    pub async fn devices_of(&self, user: &UserUri) -> Result<Vec<ClientUri>, ServerError> {
        let rows = sqlx::query("SELECT client FROM devices WHERE user = $1 ORDER BY client")
            .bind(user.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| parse::<ClientUri>(r.try_get(0)?))
            .collect()
    }

    /// Records that `client` is in `room` (idempotent).
    pub async fn join(&self, room: &RoomUri, client: &ClientUri) -> Result<(), ServerError> {
        sqlx::query(
            "INSERT INTO memberships (room, client) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(room.to_string())
        .bind(client.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Local devices in `room`, sorted.
    pub async fn members(&self, room: &RoomUri) -> Result<Vec<ClientUri>, ServerError> {
        let rows = sqlx::query("SELECT client FROM memberships WHERE room = $1 ORDER BY client")
            .bind(room.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| parse::<ClientUri>(r.try_get(0)?))
            .collect()
    }

    /// Rooms `client` is in, sorted.
    pub async fn rooms_of(&self, client: &ClientUri) -> Result<Vec<RoomUri>, ServerError> {
        let rows = sqlx::query("SELECT room FROM memberships WHERE client = $1 ORDER BY room")
            .bind(client.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| parse::<RoomUri>(r.try_get(0)?))
            .collect()
    }
}

fn parse<T: FromStr>(text: String) -> Result<T, ServerError>
where
    T::Err: std::fmt::Display,
{
    T::from_str(&text).map_err(|e| ServerError::Accounts(format!("stored URI {text:?}: {e}")))
}
