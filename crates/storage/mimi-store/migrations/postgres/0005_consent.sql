-- mimi-store, PostgreSQL schema 5: consent (protocol-06 §5.7). One record per user of ours: the
-- consent engine's book (grants, blocks, waiting requests, own requests, policy), versioned
-- like the room records. And the requests to other providers outside any room
-- (requestConsent, updateConsent), queued with the change that caused them and sent in id
-- order per destination by the process holding its outbound lease.
CREATE TABLE consent_books (
    user_uri TEXT   NOT NULL PRIMARY KEY,
    version  BIGINT NOT NULL CHECK (version > 0),
    state    BYTEA  NOT NULL
);

CREATE TABLE peer_requests (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    destination TEXT  NOT NULL,
    endpoint    TEXT  NOT NULL,
    body        BYTEA NOT NULL
);
CREATE INDEX peer_requests_by_destination ON peer_requests (destination, id);
