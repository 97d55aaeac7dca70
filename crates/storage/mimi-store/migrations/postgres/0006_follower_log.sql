-- mimi-store, schema 6: a follower keeps each accepted message once per room (the follower
-- log), and a device's stream is a cursor over it (mimi_ds::DsStore::write_inbox and
-- device_events). Identical in SQLite and PostgreSQL but for the types.
--
-- feed_head: the one counter of the log (a single row). A write bumps it for its messages
-- with UPDATE ... RETURNING; on PostgreSQL that locks the row until the write commits, so
-- numbers are handed out in commit order across rooms and processes, and a device that has
-- read up to n never misses a message numbered below n that commits later. It starts above
-- every per-device number handed out before (device_streams), so the cursor an existing
-- device holds (a number of its old per-device stream) still means "after what I have": its
-- old events stay in device_events, which is read beside the log, and everything new is
-- numbered above.
CREATE TABLE feed_head (
    id       INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last_seq BIGINT  NOT NULL CHECK (last_seq >= 0)
);
INSERT INTO feed_head (id, last_seq) SELECT 1, COALESCE(MAX(last_seq), 0) FROM device_streams;

-- The follower log: one row per accepted message of a room (device NULL: for the room's
-- member devices, by their intervals) or per item for one device (a Welcome).
CREATE TABLE feed_log (
    seq     BIGINT NOT NULL PRIMARY KEY CHECK (seq > 0),
    room    TEXT   NOT NULL,
    device  TEXT,
    payload BYTEA  NOT NULL
);
CREATE INDEX feed_log_by_room ON feed_log (room, seq) WHERE device IS NULL;
CREATE INDEX feed_log_by_device ON feed_log (device, seq) WHERE device IS NOT NULL;

-- Membership intervals: the device gets the room's log rows numbered from_seq ..= to_seq
-- (to_seq NULL while it is a member). Written only when the members change.
CREATE TABLE feed_members (
    device   TEXT   NOT NULL,
    room     TEXT   NOT NULL,
    from_seq BIGINT NOT NULL CHECK (from_seq > 0),
    to_seq   BIGINT,
    PRIMARY KEY (device, room, from_seq),
    CHECK (to_seq IS NULL OR to_seq >= from_seq)
);
-- At most one open interval per device and room.
CREATE UNIQUE INDEX feed_members_open ON feed_members (device, room) WHERE to_seq IS NULL;
