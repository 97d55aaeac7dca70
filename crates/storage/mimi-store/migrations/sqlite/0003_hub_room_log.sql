-- mimi-store, SQLite schema 2: each hub room's log, apart from its state.
--
-- An accepted event (application message, commit, proposals) is appended here with its hub
-- sequence number and timestamp; `hub_rooms.state` is rewritten only when the room's state
-- changes (a commit or proposals), so the bytes an application message writes do not depend on
-- the number of members. The room's next sequence number is one past the larger of the log's
-- last one and the one its state record carries (records written before this schema carry
-- theirs, and their rooms have no log rows yet: nothing to migrate).
CREATE TABLE hub_room_log (
    room    TEXT   NOT NULL,
    seq     BIGINT NOT NULL CHECK (seq > 0),
    hub_ms  BIGINT NOT NULL,
    message BLOB   NOT NULL,
    PRIMARY KEY (room, seq)
);
