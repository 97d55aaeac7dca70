-- mimi-store, schema 5: consent (protocol-06 §5.7). One record per user of ours: the consent
-- engine's book (grants, blocks, waiting requests, own requests, policy), versioned like the
-- room records. And the requests to other providers outside any room (requestConsent,
-- updateConsent), queued with the change that caused them and sent in id order per
-- destination by its outbound worker. Identical in SQLite and PostgreSQL but for the types.
CREATE TABLE consent_books (
    user_uri TEXT    NOT NULL PRIMARY KEY,
    version  BIGINT  NOT NULL CHECK (version > 0),
    state    BLOB    NOT NULL
);

CREATE TABLE peer_requests (
    id          INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    destination TEXT NOT NULL,
    endpoint    TEXT NOT NULL,
    body        BLOB NOT NULL
);
CREATE INDEX peer_requests_by_destination ON peer_requests (destination, id);
