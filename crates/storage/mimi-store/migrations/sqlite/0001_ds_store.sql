-- mimi-store, SQLite schema 1: what the delivery service keeps (mimi_ds::DsStore).
--
-- Portable on purpose: the PostgreSQL schema differs only in the spelling of column types
-- (BLOB -> bytea, INTEGER PRIMARY KEY AUTOINCREMENT -> BIGINT GENERATED ALWAYS AS IDENTITY).
-- URIs are stored as their canonical string (octet equality is URI equality). Unsigned 64-bit
-- values from the trait are stored in BIGINT columns (see src/convert.rs).

-- Hub rooms: one record per room we host, guarded by an optimistic version.
CREATE TABLE hub_rooms (
    room    TEXT   NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL CHECK (version > 0),
    state   BLOB   NOT NULL
);

-- Follower inboxes: one record per room we follow, same shape.
CREATE TABLE follower_inboxes (
    room    TEXT   NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL CHECK (version > 0),
    state   BLOB   NOT NULL
);

-- Fan-out queue. AUTOINCREMENT: ids are never reused, even after the newest item is acked, so
-- they increase over the life of the database.
CREATE TABLE outbound (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    destination TEXT    NOT NULL,
    room        TEXT    NOT NULL,
    body        BLOB    NOT NULL
);
CREATE INDEX outbound_by_destination ON outbound (destination, id);

-- Per-device stream counters: the last sequence number handed out, kept apart from the events
-- so that numbers are never reused if old events are pruned.
CREATE TABLE device_streams (
    device   TEXT   NOT NULL PRIMARY KEY,
    last_seq BIGINT NOT NULL CHECK (last_seq > 0)
);

CREATE TABLE device_events (
    device  TEXT   NOT NULL REFERENCES device_streams (device),
    seq     BIGINT NOT NULL,
    room    TEXT   NOT NULL,
    payload BLOB   NOT NULL,
    PRIMARY KEY (device, seq)
);

-- KeyPackage pools. id is the upload order (oldest fresh one is claimed first, newest last-resort
-- one is handed out when no fresh one is left). not_after is the KeyPackage's lifetime end in
-- seconds, stored bit for bit; expires_ms is the same instant in milliseconds, clamped to the
-- BIGINT range, for comparisons with the caller's clock.
CREATE TABLE key_packages (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    device      TEXT    NOT NULL,
    reference   BLOB    NOT NULL,
    key_package BLOB    NOT NULL,
    last_resort BOOLEAN NOT NULL,
    not_after   BIGINT  NOT NULL,
    expires_ms  BIGINT  NOT NULL,
    UNIQUE (device, reference)
);
CREATE INDEX key_packages_claim ON key_packages (device, last_resort, id);

-- Claimed KeyPackage references, to route the Welcome that names them.
CREATE TABLE key_package_claims (
    reference BLOB NOT NULL PRIMARY KEY,
    device    TEXT NOT NULL
);
