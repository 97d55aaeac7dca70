//! The device store: one SQLite file per device holding its profile (provider URL, token,
//! trust bundle), the client record and the stream cursor, written together in one
//! transaction after every step.
//!
//! The record is stored in parts (see [`mimi_client_core::RecordUpdate`]), each written only
//! when it changed: the small state part and the cursor in `state`; the identity (signing
//! key, KeyPackages) in `identity`; per room its record in `room_state`, its MLS state in
//! `mls_entry` (one row per openmls entry: a received message rewrites the message secrets
//! row only) and its log of messages in `log` (one row per entry, appended).
//!
//! Older files hold in `state` a whole record (version 1, no other rows) or a state record
//! of version 2 (identity and groups inside, logs in `log`): [`crate::Device::open`] reads
//! them and writes the parts at once, in one transaction, so the file is migrated on open.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use mimi_client_core::{KeptFrank, RecordUpdate, StoredRecord};
use mimi_content::MessageId;
use mimi_types::RoomUri;
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
    /// The client API's pinned TLS certificate (PEM), if the device pins one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) server_cert: Option<String>,
    /// The user turned read receipts off on this device (absent: on).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) no_read_receipts: bool,
    /// The user turned delivery reports off on this device (absent: on).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) no_delivery_reports: bool,
    /// Rooms and users this user agreed to share the room's history with (room, user URIs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) history_consents: Vec<[String; 2]>,
    /// Other users' history requests waiting for such an agreement (room, user, request in
    /// base64).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) history_waiting: Vec<[String; 3]>,
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

/// The page cache of a device's connection, KiB.
const CACHE_KIB: u32 = 256;

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
    "CREATE TABLE IF NOT EXISTS log (room TEXT NOT NULL, idx INTEGER NOT NULL, \
     entry BLOB NOT NULL, PRIMARY KEY (room, idx)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS identity (id INTEGER PRIMARY KEY CHECK (id = 1), \
     record BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS room_state (room TEXT PRIMARY KEY, record BLOB NOT NULL) \
     WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS mls_entry (room TEXT NOT NULL, key BLOB NOT NULL, \
     value BLOB NOT NULL, PRIMARY KEY (room, key)) WITHOUT ROWID",
    // The hub's franks of received messages (protocol-06 §5.4.1), kept for abuse reports.
    "CREATE TABLE IF NOT EXISTS franks (room TEXT NOT NULL, message BLOB NOT NULL, \
     frank BLOB NOT NULL, accepted_ms INTEGER NOT NULL, PRIMARY KEY (room, message)) \
     WITHOUT ROWID",
];

/// What the store holds of the client (its record's parts) and the stream cursor.
pub(crate) struct Stored {
    pub(crate) record: StoredRecord,
    pub(crate) cursor: u64,
}

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
            .synchronous(SqliteSynchronous::Full)
            // A small page cache per device (SQLite's default is 2 MiB per connection): a
            // device writes its MLS entries once per change and reads them back only when
            // opened, so a bigger cache mostly keeps the last ratchet tree written, in every
            // device of a process that holds hundreds (`mimi bench`).
            .pragma("cache_size", format!("-{CACHE_KIB}"));
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            // Never hand out a connection sqlx still counts inside a transaction (see
            // mimi-store's SQLite pool): a fresh one is opened instead.
            .before_acquire(|conn, _| {
                Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) })
            })
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

    /// The stored record's parts and cursor.
    pub(crate) async fn state(&self) -> Result<Stored, SdkError> {
        let row = sqlx::query("SELECT record, cursor FROM state WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.err(e))?
            .ok_or_else(|| {
                SdkError::Profile(format!("{} holds no client record", self.path.display()))
            })?;
        let state: Vec<u8> = row.try_get(0).map_err(|e| self.err(e))?;
        let cursor: i64 = row.try_get(1).map_err(|e| self.err(e))?;
        let identity: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT record FROM identity WHERE id = 1")
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.err(e))?;
        let room = |room: &str| {
            RoomUri::parse(room).map_err(|e| self.err(format!("a row of room {room:?}: {e}")))
        };
        let mut rooms = BTreeMap::new();
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT room, record FROM room_state")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        for (r, record) in rows {
            rooms.insert(room(&r)?, record);
        }
        let mut mls: BTreeMap<RoomUri, BTreeMap<Vec<u8>, Vec<u8>>> = BTreeMap::new();
        let rows: Vec<(String, Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT room, key, value FROM mls_entry ORDER BY room, key")
                .fetch_all(&self.pool)
                .await
                .map_err(|e| self.err(e))?;
        for (r, key, value) in rows {
            mls.entry(room(&r)?).or_default().insert(key, value);
        }
        let rows = sqlx::query("SELECT room, idx, entry FROM log ORDER BY room, idx")
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        let mut logs: BTreeMap<RoomUri, Vec<Vec<u8>>> = BTreeMap::new();
        for row in rows {
            let r: String = row.try_get(0).map_err(|e| self.err(e))?;
            let idx: i64 = row.try_get(1).map_err(|e| self.err(e))?;
            let entry: Vec<u8> = row.try_get(2).map_err(|e| self.err(e))?;
            let log = logs.entry(room(&r)?).or_default();
            if i64::try_from(log.len()) != Ok(idx) {
                return Err(self.err(format!(
                    "the log of {r} lacks entry {} (next stored is {idx}): the file is damaged",
                    log.len()
                )));
            }
            log.push(entry);
        }
        Ok(Stored {
            record: StoredRecord {
                state,
                identity,
                rooms,
                mls,
                logs,
            },
            cursor: u64::try_from(cursor).unwrap_or(0),
        })
    }

    /// Writes the profile alone (a setting changed).
    pub(crate) async fn save_profile(&self, profile: &Profile) -> Result<(), SdkError> {
        let json = serde_json::to_string(profile).map_err(|e| self.err(e))?;
        sqlx::query("INSERT OR REPLACE INTO profile (id, json) VALUES (1, ?)")
            .bind(json)
            .execute(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Writes profile, record and cursor in one transaction.
    pub(crate) async fn save_all(
        &self,
        profile: &Profile,
        update: &RecordUpdate,
        cursor: u64,
    ) -> Result<(), SdkError> {
        let json = serde_json::to_string(profile).map_err(|e| self.err(e))?;
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        sqlx::query("INSERT OR REPLACE INTO profile (id, json) VALUES (1, ?)")
            .bind(json)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        Self::write_state(&mut tx, update, cursor)
            .await
            .map_err(|e| self.err(e))?;
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// Writes the record's changes and the cursor together (one transaction, one sync).
    pub(crate) async fn save(
        &self,
        update: &RecordUpdate,
        franks: &[KeptFrank],
        cursor: u64,
    ) -> Result<(), SdkError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        Self::write_state(&mut tx, update, cursor)
            .await
            .map_err(|e| self.err(e))?;
        for f in franks {
            sqlx::query(
                "INSERT OR REPLACE INTO franks (room, message, frank, accepted_ms) \
                 VALUES (?, ?, ?, ?)",
            )
            .bind(f.room.to_string())
            .bind(f.message.as_bytes().as_slice())
            .bind(f.frank.as_slice())
            .bind(i64::try_from(f.accepted_timestamp).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(|e| self.err(e))?;
        }
        tx.commit().await.map_err(|e| self.err(e))
    }

    /// The kept frank of `message` in `room` (TLS-encoded) and its acceptance time.
    pub(crate) async fn frank(
        &self,
        room: &RoomUri,
        message: &MessageId,
    ) -> Result<Option<(Vec<u8>, u64)>, SdkError> {
        let row: Option<(Vec<u8>, i64)> =
            sqlx::query_as("SELECT frank, accepted_ms FROM franks WHERE room = ? AND message = ?")
                .bind(room.to_string())
                .bind(message.as_bytes().as_slice())
                .fetch_optional(&self.pool)
                .await
                .map_err(|e| self.err(e))?;
        Ok(row.map(|(frank, at)| (frank, u64::try_from(at).unwrap_or(0))))
    }

    async fn write_state(
        tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
        update: &RecordUpdate,
        cursor: u64,
    ) -> Result<(), sqlx::Error> {
        if let Some(identity) = &update.identity {
            sqlx::query("INSERT OR REPLACE INTO identity (id, record) VALUES (1, ?)")
                .bind(identity.as_slice())
                .execute(&mut **tx)
                .await?;
        }
        for room in &update.removed {
            let room = room.to_string();
            for statement in [
                "DELETE FROM room_state WHERE room = ?",
                "DELETE FROM mls_entry WHERE room = ?",
                "DELETE FROM log WHERE room = ?",
            ] {
                sqlx::query(statement)
                    .bind(&room)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        for part in &update.rooms {
            let room = part.room.to_string();
            if part.mls.full {
                sqlx::query("DELETE FROM mls_entry WHERE room = ?")
                    .bind(&room)
                    .execute(&mut **tx)
                    .await?;
            }
            for key in &part.mls.deletes {
                sqlx::query("DELETE FROM mls_entry WHERE room = ? AND key = ?")
                    .bind(&room)
                    .bind(key.as_slice())
                    .execute(&mut **tx)
                    .await?;
            }
            for (key, value) in &part.mls.upserts {
                sqlx::query("INSERT OR REPLACE INTO mls_entry (room, key, value) VALUES (?, ?, ?)")
                    .bind(&room)
                    .bind(key.as_slice())
                    .bind(value.as_slice())
                    .execute(&mut **tx)
                    .await?;
            }
            sqlx::query("INSERT OR REPLACE INTO room_state (room, record) VALUES (?, ?)")
                .bind(&room)
                .bind(part.record.as_slice())
                .execute(&mut **tx)
                .await?;
        }
        for rows in &update.logs {
            let room = rows.room.to_string();
            let from = i64::try_from(rows.from).unwrap_or(i64::MAX);
            sqlx::query("DELETE FROM log WHERE room = ? AND idx >= ?")
                .bind(&room)
                .bind(from)
                .execute(&mut **tx)
                .await?;
            for (i, entry) in rows.entries.iter().enumerate() {
                let idx = from.saturating_add(i64::try_from(i).unwrap_or(i64::MAX));
                sqlx::query("INSERT INTO log (room, idx, entry) VALUES (?, ?, ?)")
                    .bind(&room)
                    .bind(idx)
                    .bind(entry.as_slice())
                    .execute(&mut **tx)
                    .await?;
            }
        }
        let cursor = i64::try_from(cursor).unwrap_or(i64::MAX);
        sqlx::query("INSERT OR REPLACE INTO state (id, record, cursor) VALUES (1, ?, ?)")
            .bind(update.state.as_slice())
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
    use mimi_client_core::LogRows;

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
            server_cert: None,
            no_read_receipts: false,
            no_delivery_reports: false,
            history_consents: Vec::new(),
            history_waiting: Vec::new(),
        }
    }

    fn update(state: &[u8], logs: &[(&str, u64, &[&[u8]])]) -> RecordUpdate {
        let mut u = RecordUpdate::default();
        u.state = state.to_vec();
        u.logs = logs
            .iter()
            .map(|(room, from, entries)| LogRows {
                room: RoomUri::parse(room).unwrap(),
                from: *from,
                entries: entries.iter().map(|e| e.to_vec()).collect(),
            })
            .collect();
        u
    }

    #[tokio::test]
    async fn record_rows_and_cursor_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d").join("dev.sqlite");
        let a = "mimi://x.example/r/a";
        let b = "mimi://x.example/r/b";
        let store = Store::open(&path, true).await.unwrap();
        store
            .save_all(
                &profile(),
                &update(b"record-1", &[(a, 0, &[b"a0", b"a1"])]),
                5,
            )
            .await
            .unwrap();
        // Appended rows, a room whose rows start again (a new join) and a fresh room.
        store
            .save(
                &update(b"record-2", &[(a, 2, &[b"a2"]), (b, 0, &[b"b0"])]),
                &[],
                9,
            )
            .await
            .unwrap();
        store
            .save(&update(b"record-3", &[(b, 0, &[b"B0", b"B1"])]), &[], 11)
            .await
            .unwrap();
        drop(store);
        let store = Store::open(&path, false).await.unwrap();
        let stored = store.state().await.unwrap();
        assert_eq!(stored.record.state, b"record-3".to_vec());
        assert_eq!(stored.cursor, 11);
        let a = RoomUri::parse(a).unwrap();
        let b = RoomUri::parse(b).unwrap();
        assert_eq!(
            stored.record.logs[&a],
            vec![b"a0".to_vec(), b"a1".to_vec(), b"a2".to_vec()]
        );
        assert_eq!(stored.record.logs[&b], vec![b"B0".to_vec(), b"B1".to_vec()]);
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
    async fn a_gap_in_the_stored_log_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.sqlite");
        let a = "mimi://x.example/r/a";
        let store = Store::open(&path, true).await.unwrap();
        store
            .save_all(&profile(), &update(b"r", &[(a, 0, &[b"a0"])]), 1)
            .await
            .unwrap();
        // Rows written from 2 on leave entry 1 missing: the file is damaged, not silently short.
        store
            .save(&update(b"r", &[(a, 2, &[b"a2"])]), &[], 2)
            .await
            .unwrap();
        let err = store.state().await.err().unwrap();
        assert!(
            err.to_string().contains("lacks entry 1"),
            "unexpected error: {err}"
        );
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

    #[tokio::test]
    async fn a_device_connection_keeps_a_small_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("d.sqlite"), true)
            .await
            .unwrap();
        let (cache,): (i64,) = sqlx::query_as("PRAGMA cache_size")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        // Negative: a bound in KiB rather than pages, far below SQLite's 2,000 KiB default.
        assert_eq!(cache, -i64::from(CACHE_KIB));
    }

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// A file of the layout before the parts (the pinned state record of version 2 in
    /// `state`, its log rows in `log`) opens, and is rewritten in the current layout at once.
    #[tokio::test]
    async fn a_file_with_a_state_record_of_version_2_is_migrated_on_open() {
        use mimi_client_core::{Client, STATE_RECORD_VERSION};
        use mimi_mls::TrustStore;

        let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../testing/vectors/client");
        let state = unhex(&std::fs::read_to_string(vectors.join("state-v2.hex")).unwrap());
        assert_eq!(state[0], 2);
        let rows = std::fs::read_to_string(vectors.join("state-v2-log.hex")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dev.sqlite");
        let store = Store::open(&path, true).await.unwrap();
        let mut p = profile();
        // The pinned record's CAs are not at hand: restoring does not need them.
        p.trust_bundle.clear();
        store.save_profile(&p).await.unwrap();
        sqlx::query("INSERT INTO state (id, record, cursor) VALUES (1, ?, 7)")
            .bind(state.as_slice())
            .execute(&store.pool)
            .await
            .unwrap();
        let mut logs: BTreeMap<RoomUri, Vec<Vec<u8>>> = BTreeMap::new();
        for line in rows.lines() {
            let mut parts = line.split(' ');
            let room = parts.next().unwrap();
            let idx: i64 = parts.next().unwrap().parse().unwrap();
            let entry = unhex(parts.next().unwrap());
            logs.entry(RoomUri::parse(room).unwrap())
                .or_default()
                .push(entry.clone());
            sqlx::query("INSERT INTO log (room, idx, entry) VALUES (?, ?, ?)")
                .bind(room)
                .bind(idx)
                .bind(entry.as_slice())
                .execute(&store.pool)
                .await
                .unwrap();
        }
        let old = store.state().await.unwrap();
        let before = Client::from_stored(&old.record, TrustStore::new()).unwrap();
        store.close().await;
        drop(store);

        let device = crate::Device::open(&path).await.unwrap();
        device.close().await;
        let store = Store::open(&path, false).await.unwrap();
        let stored = store.state().await.unwrap();
        assert_eq!(stored.record.state[0], STATE_RECORD_VERSION);
        assert_eq!(stored.cursor, 7);
        assert!(stored.record.identity.is_some());
        assert!(!stored.record.rooms.is_empty());
        assert_eq!(
            stored.record.rooms.keys().collect::<Vec<_>>(),
            stored.record.mls.keys().collect::<Vec<_>>()
        );
        assert_eq!(stored.record.logs, logs, "the log rows stay as they were");
        let after = Client::from_stored(&stored.record, TrustStore::new()).unwrap();
        assert_eq!(after.to_record().unwrap(), before.to_record().unwrap());
        assert!(
            after.record_update().unwrap().rooms.is_empty(),
            "every part is stored"
        );
        // Opening the migrated file again changes nothing.
        store.close().await;
        drop(store);
        crate::Device::open(&path).await.unwrap().close().await;
        let store = Store::open(&path, false).await.unwrap();
        let again = store.state().await.unwrap();
        assert_eq!(again.record.state, stored.record.state);
        assert_eq!(again.record.rooms, stored.record.rooms);
        assert_eq!(again.record.mls, stored.record.mls);
    }

    #[test]
    fn a_corrupt_key_in_the_profile_is_an_error() {
        let mut p = profile();
        p.trust_bundle
            .insert("y.example".into(), "not base64!".into());
        assert!(matches!(p.bundle_der(), Err(SdkError::Profile(_))));
    }
}
