//! Storage backends of the MIMI delivery service, both implementing [`mimi_ds::DsStore`]:
//!
//! * [`SqliteStore`], the embedded default: `mimi serve` with no database setting opens one file
//!   with [`SqliteStore::open_in`] and just works;
//! * [`PostgresStore`], the scale-out backend: several server processes (on several machines)
//!   share one PostgreSQL database.
//!
//! Both have the same tables and run the same statements (`src/sql.rs`) wherever SQL allows,
//! and each [`mimi_ds::DsStore`] method has one body (`src/body.rs`, expanded for each backend
//! by a macro); the backends supply only what differs: how a write transaction starts, how a
//! `write_room`'s group commit gets its transaction, how a claim picks its KeyPackage,
//! the append's version read, and PostgreSQL's wake-ups at commit.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use mimi_store::{PostgresConfig, PostgresStore, SqliteStore};
//! let store = SqliteStore::open_in("/var/lib/mimi").await?;
//! // or, with `database.url = "postgres://mimi@db.internal/mimi"`:
//! let shared = PostgresStore::connect("postgres://mimi@db.internal/mimi", &PostgresConfig::default())
//!     .await?;
//! // hand `store` (or clones of it: they share the pool) to the server
//! # Ok(()) }
//! ```
//!
//! # Schema
//!
//! Embedded migrations in `migrations/sqlite/` and `migrations/postgres/` (applied on every
//! open, each once; the history is the `_sqlx_migrations` table). Schema 6, the same tables in
//! both (PostgreSQL spells BLOB as BYTEA and AUTOINCREMENT as an identity column):
//!
//! | table | key | holds |
//! |---|---|---|
//! | `hub_rooms` | `room` | the hub engine's record of each room we host, `version`, `state` |
//! | `hub_room_log` | (`room`, `seq`) | schema 2: each accepted event of a hub room: `hub_ms`, `message` (an encoded FanoutMessage); the state row is not touched by an append |
//! | `follower_inboxes` | `room` | the follower's inbox record of each room we follow, same shape |
//! | `outbound` | `id` (never reused) | fan-out queue: `destination`, `room`, `body`; index (destination, id); dead letters (schema 2): a refused item keeps its row with `retry_at_ms` set (NULL while queued), `refusals`, `refused_reason`; index (destination, retry_at_ms) where set |
//! | `device_streams` | `device` | before schema 6: the last sequence number handed out per device (read once by migration 6) |
//! | `device_events` | (`device`, `seq`) | before schema 6: each device's event stream (`room`, `payload`); no longer written, still read beside the follower log, all numbered below it |
//! | `feed_head` | `id` (one row) | schema 6: the last number of the follower log, started above every `device_streams` number |
//! | `feed_log` | `seq` | schema 6: the follower log, each accepted message of a room once (`device` NULL) or an item for one `device` (a Welcome): `room`, `payload`; indexes (room, seq) for room rows, (device, seq) for device rows |
//! | `feed_members` | (`device`, `room`, `from_seq`) | schema 6: membership intervals: the device gets the room's rows `from_seq ..= to_seq` (`to_seq` NULL while a member; at most one open per device and room) |
//! | `key_packages` | `id` (upload order) | pool entries: `device`, `reference` (unique per device), `key_package`, `last_resort`, `not_after`, `expires_ms`; all of a device's are removed when its credential is re-issued |
//! | `key_package_claims` | `reference` | which device a claimed KeyPackage belongs to, for Welcome routing |
//! | `profiles` | `user` | schema 4: discovery profiles: `nick`, `handle` (unique), `display_name`, `name_folded`, `searchable` (bit mask); searched by `mimi_ds::discovery::ProfileSearch` |
//! | `consent_books` | `user_uri` | schema 5: the consent engine's book of each user of ours (`mimi_ds::follower::UserConsent`), `version`, `state` |
//! | `peer_requests` | `id` (never reused) | schema 5: requests to other providers outside any room (requestConsent, updateConsent): `destination`, `endpoint` (its directory key), `body`; index (destination, id) |
//!
//! URIs are stored as their canonical strings and parsed back on read; a row that does not
//! parse (the file was edited by hand) is reported as [`mimi_ds::StoreError::Backend`], never
//! unwrapped. Unsigned 64-bit values live in `BIGINT` columns: counters keep their value (a
//! caller's version past `i64::MAX` matches nothing, so it conflicts), `not_after` is stored bit
//! for bit, and expiry is compared on `expires_ms`, clamped to the signed range.
//!
//! # How the trait's promises are kept
//!
//! * **One call, one transaction.** Every call that writes more than one row runs in one
//!   transaction started with `BEGIN IMMEDIATE`, which takes SQLite's write lock before the
//!   first read, so nothing the call reads can change before it commits, whichever process or
//!   connection writes next. A failed call rolls back.
//! * **Group commit.** `write_room`s that arrive together share one transaction and one
//!   commit, each in a savepoint of its own, on both backends (`src/group_commit.rs`): each
//!   is answered after that commit, a write that fails (a stale version) is rolled back alone
//!   and the others are committed, and a failed commit fails them all. [`GroupStats`] counts
//!   transactions and writes.
//! * **Optimistic versions**, as the in-memory store: `save_room`/`save_inbox` with
//!   `expected_version` 0 insert (`ON CONFLICT DO NOTHING`), otherwise
//!   `UPDATE … WHERE version = expected`; no row changed means
//!   [`mimi_ds::StoreError::Conflict`], the transaction is rolled back, and none of the call's
//!   outbound items or device events is written.
//! * **Room logs.** `write_room` without a state checks the state's version with a read (in the
//!   `BEGIN IMMEDIATE` transaction; PostgreSQL reads it `FOR UPDATE`, which locks the row without
//!   rewriting it, so appends to one room are serialized across processes), reads the log's
//!   last sequence number from the (room, seq) key, and inserts the entries, which must
//!   continue above it: otherwise [`mimi_ds::StoreError::Conflict`] and nothing is written.
//! * **Increasing ids.** Outbound ids come from an `AUTOINCREMENT` key, which SQLite never
//!   reuses, even after the newest item is acknowledged. Follower-log numbers come from the
//!   one `feed_head` row bumped with `UPDATE … RETURNING` (on PostgreSQL the row stays locked
//!   until commit, so numbers are in commit order and a device's cursor never passes a message
//!   that commits later). A device's page is a merge of one (room, seq) index range per
//!   membership interval that ends after the cursor, its own rows, and its pre-schema-6 events.
//! * **Claims** follow [`mimi_ds::follower::KeyPackagePool`]: expired entries of the device are
//!   deleted, the oldest fresh one is removed with one `DELETE … WHERE id = (oldest) RETURNING`,
//!   else the newest last-resort one is returned and kept; the claim is recorded for
//!   [`mimi_ds::DsStore::claimed_by`]. All in one `BEGIN IMMEDIATE` transaction, so concurrent
//!   claims through any number of stores or processes on one file never share a fresh
//!   KeyPackage (tested with 200 claims over 100 KeyPackages, in-process and with four child
//!   processes).
//!
//! # Durability settings, and why
//!
//! * `journal_mode=WAL`: readers do not block the writer nor the writer readers, and a commit is
//!   one sequential append to the log. Switched on once when the file is prepared (the switch
//!   needs a lock SQLite's busy timeout does not wait for); it is a property of the file.
//! * `synchronous=FULL` on every connection: the log is fsynced at every commit, so a write
//!   the store acknowledged survives power loss. The hub answers `success` to a peer only after
//!   the save, and that answer promises the fan-out; with `NORMAL` the last commits before a
//!   power cut could vanish after being acknowledged.
//! * `foreign_keys=ON`: device events must belong to a device stream.
//! * `busy_timeout` (default 10 s, [`SqliteConfig::busy_timeout`]): a write waits that long for
//!   another connection's or process's write lock before failing with "database is locked by
//!   another process" and the file's path.
//! * A small pool (default 4 connections): SQLite runs one writer at a time; a few connections
//!   let reads proceed beside it.
//!
//! Opening refuses, each with its own [`OpenError`] variant naming the file: a file that is not
//! a SQLite database, a SQLite database of another program (tables but no migration history of
//! ours: we add nothing to it and leave its journal mode alone), a schema migrated by a newer
//! build, an applied migration whose contents differ from ours, and a half-applied migration.
//!
//! # PostgreSQL: how the same promises are kept by several processes
//!
//! [`PostgresStore::connect`] takes a `postgres://` URL and a [`PostgresConfig`] (pool size,
//! acquire and idle timeouts). The database must exist; the tables go in its current schema
//! (choose another with `options[search_path]=name` in the URL), which must hold no other
//! program's tables. Migrations run on connect under PostgreSQL's advisory lock, so any number
//! of processes may start at once. Failures to connect are [`ConnectError`] variants (server
//! unreachable, refused with the server's reason, foreign or newer or edited schema, TLS asked
//! for); failures of calls are [`mimi_ds::StoreError::Backend`] with a message that names the
//! server (never the password) and says what to do. This build has no TLS: run PostgreSQL on the
//! same host or a private network.
//!
//! Transactions run at PostgreSQL's default isolation, READ COMMITTED, which suffices because
//! every check is part of the statement that writes:
//!
//! * **Versions.** `UPDATE … WHERE version = expected` locks the record's row; a concurrent
//!   save of the same room waits for the first to commit, re-checks the version on the new row,
//!   changes nothing and gets `Conflict`. Creating (`INSERT … ON CONFLICT DO NOTHING`) waits the
//!   same way on the key. So saves of one room are serialized across all processes, and a
//!   save's outbound items and events are written only with its record.
//! * **Sequence numbers** are reserved per device with one `INSERT … ON CONFLICT DO UPDATE …
//!   RETURNING` on the device's counter row, which stays locked until commit: numbers are
//!   handed out in commit order, never reused. Devices are locked in sorted order, so two saves
//!   cannot deadlock.
//! * **Outbound ids** come from an identity sequence: never reused, increasing in the order
//!   ids are drawn. Two saves of *different* rooms may commit out of id order, so a reader can
//!   see id 11 before id 10 appears; `pending_outbound` re-reads from the oldest unacknowledged
//!   item each time, so nothing is skipped (saves of one room are serialized, so one room's
//!   items always appear in id order).
//! * **Claims** delete expired entries the claim can lock, then remove the oldest unexpired
//!   fresh one with `DELETE … WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING`: a row
//!   another claim holds is skipped, not waited for, and never handed out twice (tested with 200
//!   claims over 100 KeyPackages through four pools, and through four processes). A claim that
//!   finds every fresh row held by concurrent claims falls back to the last-resort one, as it
//!   would a moment later.
//! * **Durability** is the server's: a call returns after its commit, which with PostgreSQL's
//!   default `synchronous_commit = on` is flushed to the server's WAL.
//!
//! Beyond the trait, what several processes of one provider coordinate with
//! (`src/postgres/shared.rs`):
//!
//! * [`PostgresStore::lock_room`] takes a hub room's lock (a transaction-level advisory lock on
//!   its URI) and loads it; [`LockedRoom::save`] saves through the group commit and releases
//!   the lock once that committed. The server holds the lock while the engine decides, so a
//!   room's decisions are serialized across processes (the optimistic version check, and the
//!   row lock each write takes, stay as a second guard).
//! * [`PostgresStore::lease`]: a named job (sending one destination's fan-out in order) that one
//!   process at a time holds, as a session-level advisory lock on a connection of its own;
//!   when the holder's process dies its session ends and the lease is free at once.
//! * Saves announce with `pg_notify` at commit: [`OUTBOUND_CHANNEL`] carries each destination a
//!   hub save queued fan-out for, [`EVENTS_CHANNEL`] each device an inbox write added an item
//!   for alone and each room it added messages for (payloads prefixed with the schema, as channels and advisory locks are per database);
//!   [`PostgresStore::listen`] receives them ([`Wakeups`]).
//!
//! # Testing a new backend
//!
//! Every backend runs [`mimi_ds::conformance::run_all`] with a factory that returns a fresh,
//! empty store per check (see `tests/conformance.rs`: a new file in a temp directory per
//! call; `tests/postgres.rs`: a new schema per call). The checks the suite cannot know about
//! (durability across reopening, claims raced through several stores, stale writes, rows
//! edited by hand, the follower log) are written once, generic over the store, and run on
//! every backend (`on_both_backends!` in `tests/common/backends.rs`: a test `sqlite::NAME`
//! and a test `postgres::NAME` each); then come the backend's own: claims from several
//! processes, migrations, locks, and its failure messages. The PostgreSQL tests read the
//! server's URL from `MIMI_TEST_DATABASE_URL` and skip, saying so on stderr, when it is unset;
//! `.ci/run` creates a fresh database per run and sets it.
#![forbid(unsafe_code)]

mod body;
mod convert;
mod error;
mod group_commit;
mod postgres;
mod profiles;
mod sql;
mod sqlite;

pub use error::OpenError;
pub use group_commit::GroupStats;
pub use postgres::{
    ConnectError, EVENTS_CHANNEL, Lease, LockedRoom, OUTBOUND_CHANNEL, PostgresConfig,
    PostgresStore, ROOM_EVENTS, Wakeup, Wakeups,
};
pub use sqlite::{FILE_NAME, SqliteConfig, SqliteStore};
