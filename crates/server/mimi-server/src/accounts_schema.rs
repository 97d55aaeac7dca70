//! The accounts database's tables (a SQLite file beside the delivery-service store, or the same
//! PostgreSQL database), created if missing when [`crate::accounts::Accounts`] opens it. One
//! list per backend and module that owns the table: accounts and devices (`accounts`), blobs
//! (`blob_store`), abuse reports (`abuse_queue`), hub retractions (`retraction`), device
//! mailboxes (`mailbox`), the room directory (`directory`).

/// The SQLite schema (`"user"` is quoted because PostgreSQL reserves the word; SQLite reads it
/// as the same column).
const ACCOUNTS_SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS users (\"user\" TEXT PRIMARY KEY, password TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS devices (client TEXT PRIMARY KEY, \"user\" TEXT NOT NULL \
     REFERENCES users(\"user\"), token_hash BLOB NOT NULL UNIQUE)",
    "CREATE INDEX IF NOT EXISTS devices_by_user ON devices(\"user\")",
    "CREATE TABLE IF NOT EXISTS memberships (room TEXT NOT NULL, client TEXT NOT NULL, \
     PRIMARY KEY (room, client))",
    DEVICE_KINDS,
];

/// What a device is, where it is not a person's device: `bot` (with the name and homepage its
/// credential carries) or `logger`, so that a re-issued credential keeps the marker. A device
/// without a row (every device registered before this table existed) is a person's device.
/// The same in both backends.
const DEVICE_KINDS: &str = "CREATE TABLE IF NOT EXISTS device_kinds (client TEXT PRIMARY KEY \
     REFERENCES devices(client) ON DELETE CASCADE, kind TEXT NOT NULL, name TEXT NOT NULL, \
     homepage TEXT NOT NULL)";

/// The same tables in PostgreSQL.
const ACCOUNTS_POSTGRES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS users (\"user\" TEXT PRIMARY KEY, password TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS devices (client TEXT PRIMARY KEY, \"user\" TEXT NOT NULL \
     REFERENCES users(\"user\"), token_hash BYTEA NOT NULL UNIQUE)",
    "CREATE INDEX IF NOT EXISTS devices_by_user ON devices(\"user\")",
    "CREATE TABLE IF NOT EXISTS memberships (room TEXT NOT NULL, client TEXT NOT NULL, \
     PRIMARY KEY (room, client))",
    DEVICE_KINDS,
];

/// Which room each blob was shared in (a blob uploaded for several rooms has a row each): a
/// blob is served only for a room it is bound to (`mimi_ds::assets`). The same in both
/// backends; blobs stored before this table existed are bound to no room and served to nobody.
const BLOB_ROOMS: &str = "CREATE TABLE IF NOT EXISTS blob_rooms (id TEXT NOT NULL, \
     room TEXT NOT NULL, PRIMARY KEY (id, room))";

/// The SQLite tables, created with the accounts tables; the last two statements move blobs of
/// the earlier one-row layout into chunks (nothing to do once moved).
const BLOB_STORE_SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, \
     bytes BLOB NOT NULL, size INTEGER NOT NULL, uploaded_by TEXT NOT NULL, \
     uploaded_ms INTEGER NOT NULL)",
    "CREATE INDEX IF NOT EXISTS blobs_by_uploader ON blobs(uploaded_by)",
    "CREATE TABLE IF NOT EXISTS blob_chunks (id TEXT NOT NULL, seq INTEGER NOT NULL, \
     bytes BLOB NOT NULL, PRIMARY KEY (id, seq))",
    "INSERT INTO blob_chunks (id, seq, bytes) SELECT id, 0, bytes FROM blobs \
     WHERE length(bytes) > 0 ON CONFLICT DO NOTHING",
    "UPDATE blobs SET bytes = X'' WHERE length(bytes) > 0",
    BLOB_ROOMS,
];

/// The same tables in PostgreSQL.
const BLOB_STORE_POSTGRES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, \
     bytes BYTEA NOT NULL, size BIGINT NOT NULL, uploaded_by TEXT NOT NULL, \
     uploaded_ms BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS blobs_by_uploader ON blobs(uploaded_by)",
    "CREATE TABLE IF NOT EXISTS blob_chunks (id TEXT NOT NULL, seq INTEGER NOT NULL, \
     bytes BYTEA NOT NULL, PRIMARY KEY (id, seq))",
    "INSERT INTO blob_chunks (id, seq, bytes) SELECT id, 0, bytes FROM blobs \
     WHERE octet_length(bytes) > 0 ON CONFLICT DO NOTHING",
    "UPDATE blobs SET bytes = ''::bytea WHERE octet_length(bytes) > 0",
    BLOB_ROOMS,
];

/// The SQLite table, created with the accounts tables.
const ABUSE_QUEUE_SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS abuse_reports (id INTEGER PRIMARY KEY AUTOINCREMENT, \
     room TEXT NOT NULL, peer TEXT NOT NULL, received_ms INTEGER NOT NULL, \
     report BLOB NOT NULL, resolved_ms INTEGER, resolution TEXT)",
    "CREATE INDEX IF NOT EXISTS abuse_reports_open ON abuse_reports(resolved_ms, id)",
];

/// The same table in PostgreSQL.
const ABUSE_QUEUE_POSTGRES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS abuse_reports (id BIGSERIAL PRIMARY KEY, \
     room TEXT NOT NULL, peer TEXT NOT NULL, received_ms BIGINT NOT NULL, \
     report BYTEA NOT NULL, resolved_ms BIGINT, resolution TEXT)",
    "CREATE INDEX IF NOT EXISTS abuse_reports_open ON abuse_reports(resolved_ms, id)",
];

/// The SQLite table, created with the accounts tables.
const RETRACTION_SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS hub_retractions (id INTEGER PRIMARY KEY AUTOINCREMENT, \
     room TEXT NOT NULL, request BLOB NOT NULL, report_id INTEGER, \
     requested_ms INTEGER NOT NULL, done_ms INTEGER, outcome TEXT)",
    "CREATE INDEX IF NOT EXISTS hub_retractions_open ON hub_retractions(done_ms, id)",
];

/// The same table in PostgreSQL.
const RETRACTION_POSTGRES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS hub_retractions (id BIGSERIAL PRIMARY KEY, \
     room TEXT NOT NULL, request BYTEA NOT NULL, report_id BIGINT, \
     requested_ms BIGINT NOT NULL, done_ms BIGINT, outcome TEXT)",
    "CREATE INDEX IF NOT EXISTS hub_retractions_open ON hub_retractions(done_ms, id)",
];

/// The SQLite table, created with the accounts tables.
const MAILBOX_SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS mailbox (id INTEGER PRIMARY KEY AUTOINCREMENT, \
     recipient TEXT NOT NULL, sender TEXT NOT NULL, item BLOB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS mailbox_by_recipient ON mailbox(recipient, id)",
];

/// The same table in PostgreSQL.
const MAILBOX_POSTGRES: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS mailbox (id BIGSERIAL PRIMARY KEY, \
     recipient TEXT NOT NULL, sender TEXT NOT NULL, item BYTEA NOT NULL)",
    "CREATE INDEX IF NOT EXISTS mailbox_by_recipient ON mailbox(recipient, id)",
];

/// The SQLite table, created with the accounts tables.
const DIRECTORY_SQLITE: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS room_directory (room TEXT PRIMARY KEY, name TEXT NOT NULL, \
     topic TEXT NOT NULL, participants BIGINT NOT NULL, open_join BOOLEAN NOT NULL)",
];

/// The same table in PostgreSQL.
const DIRECTORY_POSTGRES: &[&str] = DIRECTORY_SQLITE;

/// Every table's statements for SQLite, in creation order.
pub(crate) const SQLITE: &[&[&str]] = &[
    ACCOUNTS_SQLITE,
    BLOB_STORE_SQLITE,
    ABUSE_QUEUE_SQLITE,
    RETRACTION_SQLITE,
    MAILBOX_SQLITE,
    DIRECTORY_SQLITE,
];

/// Every table's statements for PostgreSQL, in creation order.
pub(crate) const POSTGRES: &[&[&str]] = &[
    ACCOUNTS_POSTGRES,
    BLOB_STORE_POSTGRES,
    ABUSE_QUEUE_POSTGRES,
    RETRACTION_POSTGRES,
    MAILBOX_POSTGRES,
    DIRECTORY_POSTGRES,
];
