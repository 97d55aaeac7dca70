-- mimi-store, schema 2: dead letters. A fan-out item its follower refused (a 4xx other than
-- 408/429) is set aside instead of deleted: retry_at_ms (NULL while queued) says when to offer
-- it again, refusals counts the refusals, refused_reason keeps the last one. The queue the
-- senders read is the rows with retry_at_ms NULL. Identical in SQLite and PostgreSQL.
ALTER TABLE outbound ADD COLUMN refused_reason TEXT;
ALTER TABLE outbound ADD COLUMN refusals BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbound ADD COLUMN retry_at_ms BIGINT;
CREATE INDEX outbound_dead_letters ON outbound (destination, retry_at_ms)
    WHERE retry_at_ms IS NOT NULL;
