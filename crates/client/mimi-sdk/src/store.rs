//! The device store: one SQLite file per device holding its profile (provider URL, token,
//! trust bundle), the client record and the stream cursor, written together after every step.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use sqlx::sqlite::SqliteSynchronous;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use crate::error::SdkError;

/// What a device needs besides its client record to talk to its provider.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Profile {
    /// The provider's client API base URL.
    pub(crate) base_url: String,
    /// The bearer token.
    pub(crate) token: String,
    /// The device's client URI.
    pub(crate) client: String,
    /// Its user URI.
    pub(crate) user: String,
    /// Domain → MLS CA certificate (DER, base64).
    pub(crate) trust_bundle: BTreeMap<String, String>,
    /// The provider's server signature key (base64): external sender of rooms it hosts.
    pub(crate) server_signature_key: String,
    /// The provider's server credential chain (DER, base64).
    pub(crate) server_credential: Vec<String>,
}

impl Profile {
    pub(crate) fn bundle_der(&self) -> Result<BTreeMap<String, Vec<u8>>, SdkError> {
        self.trust_bundle
            .iter()
            .map(|(d, c)| Ok((d.clone(), b64d(c)?)))
            .collect()
    }
}

pub(crate) fn b64e(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub(crate) fn b64d(text: &str) -> Result<Vec<u8>, SdkError> {
    STANDARD
        .decode(text)
        .map_err(|e| SdkError::Profile(format!("a stored key does not decode: {e}")))
}

/// One device's SQLite file.
#[derive(Debug)]
pub(crate) struct Store {
    pool: SqlitePool,
    path: PathBuf,
}

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS profile (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS state (id INTEGER PRIMARY KEY CHECK (id = 1), \
     record BLOB NOT NULL, cursor INTEGER NOT NULL)",
];

impl Store {
    fn err(&self, e: impl std::fmt::Display) -> SdkError {
        SdkError::Store {
            path: self.path.display().to_string(),
            reason: e.to_string(),
        }
    }

    /// Opens (and with `create`, creates) the file at `path`.
    pub(crate) async fn open(path: &Path, create: bool) -> Result<Self, SdkError> {
        let fail = |e: &dyn std::fmt::Display| SdkError::Store {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        if !create && !path.exists() {
            return Err(SdkError::Profile(format!(
                "no device at {}: register or log in first",
                path.display()
            )));
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
        }
        let options = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|e| fail(&e))?
            .filename(path)
            .create_if_missing(create)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .map_err(|e| fail(&e))?;
        restrict(path);
        let store = Self {
            pool,
            path: path.to_owned(),
        };
        for statement in SCHEMA {
            sqlx::query(statement)
                .execute(&store.pool)
                .await
                .map_err(|e| store.err(e))?;
        }
        Ok(store)
    }

    /// The stored profile.
    pub(crate) async fn profile(&self) -> Result<Profile, SdkError> {
        let row = sqlx::query("SELECT json FROM profile WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.err(e))?
            .ok_or_else(|| SdkError::Profile(format!("{} holds no device", self.path.display())))?;
        let json: String = row.try_get(0).map_err(|e| self.err(e))?;
        serde_json::from_str(&json).map_err(|e| self.err(e))
    }

    /// The stored record and cursor.
    pub(crate) async fn state(&self) -> Result<(Vec<u8>, u64), SdkError> {
        let row = sqlx::query("SELECT record, cursor FROM state WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.err(e))?
            .ok_or_else(|| {
                SdkError::Profile(format!("{} holds no client record", self.path.display()))
            })?;
        let record: Vec<u8> = row.try_get(0).map_err(|e| self.err(e))?;
        let cursor: i64 = row.try_get(1).map_err(|e| self.err(e))?;
        Ok((record, u64::try_from(cursor).unwrap_or(0)))
    }

    /// Writes profile, record and cursor in one transaction.
    pub(crate) async fn save_all(
        &self,
        profile: &Profile,
        record: &[u8],
        cursor: u64,
    ) -> Result<(), SdkError> {
        let json = serde_json::to_string(profile).map_err(|e| self.err(e))?;
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        sqlx::query("INSERT OR REPLACE INTO profile (id, json) VALUES (1, ?)")
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        Self::write_state(&mut tx, record, cursor)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// Writes record and cursor together.
    pub(crate) async fn save(&self, record: &[u8], cursor: u64) -> Result<(), SdkError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        Self::write_state(&mut tx, record, cursor)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    async fn write_state(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        record: &[u8],
        cursor: u64,
    ) -> Result<(), sqlx::Error> {
        let cursor = i64::try_from(cursor).unwrap_or(i64::MAX);
        sqlx::query("INSERT OR REPLACE INTO state (id, record, cursor) VALUES (1, ?, ?)")
            .bind(record)
            .bind(cursor)
            .execute(&mut **tx)
            .await
            .map(|_| ())
    }

    /// Closes the pool (flushes the WAL).
    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

/// The file holds a bearer token and private keys: owner only.
fn restrict(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> Profile {
        Profile {
            base_url: "http://127.0.0.1:1".into(),
            token: "t".into(),
            client: "mimi://x.example/d/a/b".into(),
            user: "mimi://x.example/u/a".into(),
            trust_bundle: BTreeMap::from([("x.example".to_owned(), b64e(b"ca"))]),
            server_signature_key: b64e(&[7; 32]),
            server_credential: vec![b64e(b"cert")],
        }
    }

    #[tokio::test]
    async fn record_and_cursor_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d").join("dev.sqlite");
        let store = Store::open(&path, true).await.unwrap();
        store.save_all(&profile(), b"record-1", 5).await.unwrap();
        store.save(b"record-2", 9).await.unwrap();
        drop(store);
        let store = Store::open(&path, false).await.unwrap();
        assert_eq!(store.state().await.unwrap(), (b"record-2".to_vec(), 9));
        let p = store.profile().await.unwrap();
        assert_eq!(p.client, profile().client);
        assert_eq!(p.bundle_der().unwrap()["x.example"], b"ca".to_vec());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(
                mode & 0o077,
                0,
                "the file holds a token and keys: owner only"
            );
        }
    }

    #[tokio::test]
    async fn a_missing_or_empty_file_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.sqlite");
        let e = Store::open(&missing, false).await.unwrap_err();
        assert!(matches!(e, SdkError::Profile(_)), "{e}");
        assert!(e.to_string().contains("none.sqlite"));
        let empty = Store::open(&dir.path().join("empty.sqlite"), true)
            .await
            .unwrap();
        assert!(matches!(empty.state().await, Err(SdkError::Profile(_))));
        assert!(matches!(empty.profile().await, Err(SdkError::Profile(_))));
    }

    #[test]
    fn a_corrupt_key_in_the_profile_is_an_error() {
        let mut p = profile();
        p.trust_bundle
            .insert("y.example".into(), "not base64!".into());
        assert!(matches!(p.bundle_der(), Err(SdkError::Profile(_))));
    }
}
