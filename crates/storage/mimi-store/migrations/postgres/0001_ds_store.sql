-- mimi-store, PostgreSQL schema 1: what the delivery service keeps (mimi_ds::DsStore).
--
-- The same tables, columns, keys and indexes as migrations/sqlite/0001_ds_store.sql; only the
-- spelling of column types differs (BLOB -> BYTEA, INTEGER PRIMARY KEY AUTOINCREMENT ->
-- BIGINT GENERATED ALWAYS AS IDENTITY). The statements that use them are shared (src/sql.rs).
-- URIs are stored as their canonical string (octet equality is URI equality). Unsigned 64-bit
-- values from the trait are stored in BIGINT columns (see src/convert.rs).

-- Hub rooms: one record per room we host, guarded by an optimistic version. A save's
-- UPDATE ... WHERE version = expected locks the row, so saves of one room are serialized
-- across every server process sharing the database.
CREATE TABLE hub_rooms (
    room    TEXT   NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL CHECK (version > 0),
    state   BYTEA  NOT NULL
);

-- Follower inboxes: one record per room we follow, same shape.
CREATE TABLE follower_inboxes (
    room    TEXT   NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL CHECK (version > 0),
    state   BYTEA  NOT NULL
);

-- Fan-out queue. Ids come from a sequence: never reused, increasing over the life of the
-- database (two transactions may commit out of id order; see the crate documentation).
CREATE TABLE outbound (
    id          BIGINT NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    destination TEXT   NOT NULL,
    room        TEXT   NOT NULL,
    body        BYTEA  NOT NULL
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
    payload BYTEA  NOT NULL,
    PRIMARY KEY (device, seq)
);

-- KeyPackage pools. id is the upload order (oldest fresh one is claimed first, newest last-resort
-- one is handed out when no fresh one is left). not_after is the KeyPackage's lifetime end in
-- seconds, stored bit for bit; expires_ms is the same instant in milliseconds, clamped to the
-- BIGINT range, for comparisons with the caller's clock.
CREATE TABLE key_packages (
    id          BIGINT  NOT NULL GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device      TEXT    NOT NULL,
    reference   BYTEA   NOT NULL,
    key_package BYTEA   NOT NULL,
    last_resort BOOLEAN NOT NULL,
    not_after   BIGINT  NOT NULL,
    expires_ms  BIGINT  NOT NULL,
    UNIQUE (device, reference)
);
CREATE INDEX key_packages_claim ON key_packages (device, last_resort, id);

-- Claimed KeyPackage references, to route the Welcome that names them.
CREATE TABLE key_package_claims (
    reference BYTEA NOT NULL PRIMARY KEY,
    device    TEXT  NOT NULL
);
