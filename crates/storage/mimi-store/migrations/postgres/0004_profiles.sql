-- mimi-store, schema 4: discovery profiles (identifierQuery, protocol-06 §5.8). One row per
-- user who set a profile: nick (the user part of its URI, lowercased), handle (lowercase,
-- unique), display_name as written, name_folded (display_name lowercased, for substring
-- search), searchable (bit mask: handle 1, nick 2, name 4). Identical in SQLite and PostgreSQL.
CREATE TABLE profiles (
    "user" TEXT PRIMARY KEY,
    nick TEXT NOT NULL,
    handle TEXT UNIQUE,
    display_name TEXT,
    name_folded TEXT,
    searchable BIGINT NOT NULL
);
