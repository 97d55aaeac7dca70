//! What several server processes sharing one PostgreSQL database coordinate with, beyond the
//! trait: a room lock held while a hub room is processed ([`LockedRoom`]), a lease that lets one
//! process at a time do a job such as sending one destination's fan-out ([`Lease`]), and the
//! wake-ups saves announce to every process ([`Wakeups`]).

use mimi_ds::{LogEntry, NewOutbound, RoomHead, RoomRecord, StoreError};
use mimi_types::{ClientUri, Domain, RoomUri};
use sqlx::postgres::{PgConnection, PgListener};
use sqlx::{Connection as _, Postgres, Transaction};

use super::PostgresStore;
use crate::sql::{self, RecordRow, Records};

/// The channel on which a save of a hub room announces, at commit, each destination it queued
/// fan-out for (payload: the schema, a space, the destination's domain).
pub const OUTBOUND_CHANNEL: &str = "mimi_outbound";

/// The channel on which a write of a follower inbox announces, at commit, each device it added
/// an item for alone (payload: the schema, a space, the device's URI) and, once, the room if it
/// added messages for the room's members (the schema, a space, [`ROOM_EVENTS`], the room's
/// URI): the members are not listed, so the write stays one row per message.
pub const EVENTS_CHANNEL: &str = "mimi_events";

/// What starts a room's announcement on [`EVENTS_CHANNEL`] after the schema.
pub const ROOM_EVENTS: &str = "room ";

/// The first key of the advisory locks behind [`Lease`]s (the second is the hash of the
/// schema and the lease's name, as advisory locks and channels are per database, not per
/// schema): "mimi" in ASCII, so that other programs' advisory locks are unlikely to collide.
const LEASE_CLASS: i32 = 0x6d69_6d69;

/// The first key of the advisory locks behind [`LockedRoom`]s (the second is the hash of the
/// schema and the room's URI): "mimr" in ASCII. Two rooms whose hashes collide are merely
/// processed one after the other.
const ROOM_CLASS: i32 = 0x6d69_6d72;

/// `$1` room: waits for, then takes, the room's lock until the transaction ends.
const LOCK_ROOM: &str = "SELECT pg_advisory_xact_lock($1, hashtext(current_schema() || ' ' || $2))";

/// A hub room locked for this process until [`LockedRoom::save`] or [`LockedRoom::release`]
/// (or drop, which rolls back): a transaction-level advisory lock on the room's URI, held by
/// an open transaction, so a process that locks the same room waits until then. Loading,
/// running the engine and saving under one lock serializes the hub's decisions for a room
/// across every process.
///
/// The lock is not the room's row lock, so that the write can join a group commit
/// (`src/group_commit.rs`) on another connection: the group's transaction locks the row
/// while it writes, and the advisory lock is released only after the group committed, so
/// the next holder reads what this one wrote. Writes that do not hold the room
/// ([`mimi_ds::DsStore::write_room`] directly) are kept apart from the holder's by the row
/// lock and the version check, as before.
#[derive(Debug)]
#[must_use = "the room stays locked until saved, released or dropped"]
pub struct LockedRoom {
    store: PostgresStore,
    tx: Transaction<'static, Postgres>,
    room: RoomUri,
}

impl PostgresStore {
    /// Locks `room` (waiting while another holder has it) and loads its record: `None` if we
    /// do not host it (yet). A room that does not exist yet is locked too, so two processes
    /// that both create it are serialized (and the second save conflicts).
    pub async fn lock_room(
        &self,
        room: &RoomUri,
    ) -> Result<(LockedRoom, Option<RoomRecord>), StoreError> {
        let mut tx = self.locked(room).await?;
        let row: Option<RecordRow> = sqlx::query_as(Records::HubRooms.select())
            .bind(room.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.fail(e))?;
        let record = row.map(|row| sql::record(row, &self.shown)).transpose()?;
        let locked = LockedRoom {
            store: self.clone(),
            tx,
            room: room.clone(),
        };
        Ok((locked, record))
    }

    /// Locks `room`'s record as [`PostgresStore::lock_room`] does, but reads only its head
    /// (state version and log head), not the state: [`LockedRoom::load`] reads the state
    /// when a decoded copy at that version is not at hand.
    pub async fn lock_room_head(
        &self,
        room: &RoomUri,
    ) -> Result<(LockedRoom, Option<RoomHead>), StoreError> {
        let mut tx = self.locked(room).await?;
        let room_text = room.to_string();
        let version: Option<(i64,)> = sqlx::query_as(sql::SELECT_VERSION)
            .bind(&room_text)
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| self.fail(e))?;
        let head = match version {
            None => None,
            Some((version,)) => {
                let (log_head,): (i64,) = sqlx::query_as(sql::SELECT_LOG_HEAD)
                    .bind(&room_text)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| self.fail(e))?;
                Some(sql::room_head(version, log_head, &self.shown)?)
            }
        };
        let locked = LockedRoom {
            store: self.clone(),
            tx,
            room: room.clone(),
        };
        Ok((locked, head))
    }

    /// A transaction holding `room`'s advisory lock (waiting for it while another holds it).
    /// Each statement after it reads what committed before it, so it reads every write of the
    /// previous holder, which released the lock only after its write committed.
    async fn locked(&self, room: &RoomUri) -> Result<Transaction<'static, Postgres>, StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(LOCK_ROOM)
            .bind(ROOM_CLASS)
            .bind(room.to_string())
            .execute(&mut *tx)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(tx)
    }

    /// A lease named `name` (for example "outbound y.example"), not yet held: see
    /// [`Lease::hold`]. It has a connection of its own, outside the pool.
    pub async fn lease(&self, name: &str) -> Result<Lease, StoreError> {
        let conn = PgConnection::connect_with(&self.options)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(Lease {
            store: self.clone(),
            conn,
            name: name.to_owned(),
            held: false,
        })
    }

    /// Listens on [`OUTBOUND_CHANNEL`] and [`EVENTS_CHANNEL`] on a connection of its own.
    pub async fn listen(&self) -> Result<Wakeups, StoreError> {
        let mut listener = PgListener::connect_with(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        listener
            .listen_all([OUTBOUND_CHANNEL, EVENTS_CHANNEL])
            .await
            .map_err(|e| self.fail(e))?;
        let (schema,): (String,) = sqlx::query_as("SELECT current_schema()::text")
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.fail(e))?;
        Ok(Wakeups {
            store: self.clone(),
            listener,
            prefix: format!("{schema} "),
        })
    }
}

impl LockedRoom {
    /// The locked room.
    pub fn room(&self) -> &RoomUri {
        &self.room
    }

    /// Saves the room as [`mimi_ds::DsStore::save_room`] does (see [`LockedRoom::write`]),
    /// then releases the lock.
    pub async fn save(
        self,
        expected_version: u64,
        state: Vec<u8>,
        outbound: Vec<NewOutbound>,
    ) -> Result<u64, StoreError> {
        self.write(expected_version, Some(state), Vec::new(), outbound)
            .await
    }

    /// Writes the room as [`mimi_ds::DsStore::write_room`] does (joining the group commit of
    /// the writes that arrive together), then releases the lock: after the write committed,
    /// or failed.
    pub async fn write(
        self,
        expected_version: u64,
        state: Option<Vec<u8>>,
        log: Vec<LogEntry>,
        outbound: Vec<NewOutbound>,
    ) -> Result<u64, StoreError> {
        let Self { store, tx, room } = self;
        let written = store
            .write_room_grouped(&room, expected_version, state, log, outbound)
            .await;
        // The locking transaction wrote nothing. Should its rollback fail, the connection is
        // broken, and the session's end releases the lock all the same: the write's answer
        // stands.
        let _ = store.rollback(tx).await;
        written
    }

    /// The locked room's state record, read in the locking transaction.
    pub async fn load(&mut self) -> Result<Option<RoomRecord>, StoreError> {
        let row: Option<RecordRow> = sqlx::query_as(Records::HubRooms.select())
            .bind(self.room.to_string())
            .fetch_optional(&mut *self.tx)
            .await
            .map_err(|e| self.store.fail(e))?;
        row.map(|row| sql::record(row, &self.store.shown))
            .transpose()
    }

    /// Releases the lock without changing anything.
    pub async fn release(self) -> Result<(), StoreError> {
        let Self { store, tx, .. } = self;
        store.rollback(tx).await
    }
}

/// A job only one process may do at a time, such as sending the fan-out to one destination in
/// order: a session-level advisory lock held by a connection of its own. If the holding process
/// dies, or its connection breaks, PostgreSQL ends the session and the lease is free for
/// another process at once.
#[derive(Debug)]
pub struct Lease {
    store: PostgresStore,
    conn: PgConnection,
    name: String,
    held: bool,
}

impl Lease {
    /// The lease's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the last [`Lease::hold`] found the lease held.
    pub fn is_held(&self) -> bool {
        self.held
    }

    /// Whether this process holds the lease now: takes it if it is free (never waits), or, if
    /// held already, checks that the connection holding it is still alive. An error means the
    /// connection is gone, and with it the lease: stop the job and make a new [`Lease`].
    pub async fn hold(&mut self) -> Result<bool, StoreError> {
        if self.held {
            // A session-level lock lasts as long as the session: if the connection answers,
            // the lease is still ours.
            let answered = sqlx::query("SELECT 1").execute(&mut self.conn).await;
            if let Err(e) = answered {
                self.held = false;
                return Err(self.store.fail(e));
            }
            return Ok(true);
        }
        let (held,): (bool,) = sqlx::query_as(
            "SELECT pg_try_advisory_lock($1, hashtext(current_schema() || ' ' || $2))",
        )
        .bind(LEASE_CLASS)
        .bind(&self.name)
        .fetch_one(&mut self.conn)
        .await
        .map_err(|e| self.store.fail(e))?;
        self.held = held;
        Ok(held)
    }

    /// Gives the lease up (closing its connection, which releases it if held).
    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// What a save announced (see [`PostgresStore::listen`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Wakeup {
    /// Fan-out was queued for this destination.
    Outbound(Domain),
    /// Events were added to this device's stream.
    Events(ClientUri),
    /// Messages were added for the member devices of this room.
    RoomEvents(RoomUri),
    /// The listening connection was lost (and is made again on the next call): anything
    /// announced meanwhile is missed, so wake everything.
    Lost,
}

/// The wake-ups of every process's saves, received on a connection of this process.
#[derive(Debug)]
pub struct Wakeups {
    store: PostgresStore,
    listener: PgListener,
    /// Our schema and a space: announcements of other schemas in the database are skipped.
    prefix: String,
}

impl Wakeups {
    /// The next wake-up. After [`Wakeup::Lost`] the next call connects again; an error means
    /// that failed (retry after a pause).
    pub async fn next(&mut self) -> Result<Wakeup, StoreError> {
        loop {
            let Some(notification) = self
                .listener
                .try_recv()
                .await
                .map_err(|e| self.store.fail(e))?
            else {
                return Ok(Wakeup::Lost);
            };
            let Some(payload) = notification.payload().strip_prefix(&self.prefix) else {
                continue;
            };
            let wakeup = match notification.channel() {
                OUTBOUND_CHANNEL => Domain::parse(payload).ok().map(Wakeup::Outbound),
                EVENTS_CHANNEL => match payload.strip_prefix(ROOM_EVENTS) {
                    Some(room) => room.parse().ok().map(Wakeup::RoomEvents),
                    None => payload.parse().ok().map(Wakeup::Events),
                },
                _ => None,
            };
            // A payload that does not parse was not written by us: skip it.
            if let Some(wakeup) = wakeup {
                return Ok(wakeup);
            }
        }
    }
}
