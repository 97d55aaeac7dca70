//! The delivery-service store the configuration selects (`database.url`): SQLite files in the
//! data directory, or a PostgreSQL database that several `mimi serve` processes of one provider
//! share. Besides the trait, what the PostgreSQL backend adds for several processes: hub rooms
//! locked in the database while processed, per-destination leases for the fan-out senders,
//! and wake-ups announced to every process.

use std::time::Duration;

use mimi_ds::discovery::{Profile, ProfileSearch};
use mimi_ds::follower::{Claim, KeyPackageEntry};
use mimi_ds::{
    ConsentRecord, ConsentWrite, DeadLetter, DeviceEvent, DsStore, FeedItem, LogEntry, NewOutbound,
    NewPeerRequest, OutboundItem, PeerRequest, ProfileSaved, RoomHead, RoomRecord, StoreError,
};
use mimi_store::{LockedRoom, PostgresConfig, PostgresStore, SqliteStore};
use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

use crate::accounts::Accounts;
use crate::config::{Config, DatabaseTarget};
use crate::error::ServerError;

/// The store of one provider process.
#[derive(Debug, Clone)]
pub(crate) enum Store {
    /// `mimi-ds.sqlite3` in a directory: one process per provider.
    Sqlite(SqliteStore),
    /// A PostgreSQL database: any number of processes per provider.
    Postgres(PostgresStore),
}

/// Opens the store and the accounts of `config` (running migrations), on the same backend.
pub(crate) async fn open(config: &Config) -> Result<(Store, Accounts), ServerError> {
    match config.database_target()? {
        DatabaseTarget::Sqlite(dir) => {
            let store = SqliteStore::open_in(&dir).await?;
            let accounts = Accounts::open_in(&dir).await?;
            Ok((Store::Sqlite(store), accounts))
        }
        DatabaseTarget::Postgres(url) => {
            let mut options = PostgresConfig::default();
            options.max_connections = config.database.max_connections;
            options.acquire_timeout = Duration::from_millis(config.database.acquire_timeout_ms);
            let store = PostgresStore::connect(&url, &options).await?;
            let accounts = Accounts::postgres(store.pool().clone()).await?;
            Ok((Store::Postgres(store), accounts))
        }
    }
}

/// A hub room held for processing: under the in-process lock always, and with PostgreSQL
/// also its row lock in the database, so that no other process decides for the room meanwhile.
#[derive(Debug)]
pub(crate) enum HeldRoom {
    /// SQLite: the in-process lock is all there is (one process per file).
    Local,
    /// PostgreSQL: the row lock, in an open transaction.
    Locked(Box<LockedRoom>),
}

impl Store {
    /// Whether the database answers, within `limit`.
    pub(crate) async fn ping(&self, limit: Duration) -> Result<(), String> {
        let ping = async {
            match self {
                Self::Sqlite(s) => s.ping().await,
                Self::Postgres(p) => p.ping().await,
            }
        };
        match tokio::time::timeout(limit, ping).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "no answer within {} ms",
                limit.as_millis().min(u128::from(u64::MAX))
            )),
        }
    }

    /// The PostgreSQL store, if that is the backend.
    pub(crate) fn postgres(&self) -> Option<&PostgresStore> {
        match self {
            Self::Sqlite(_) => None,
            Self::Postgres(p) => Some(p),
        }
    }

    /// Holds `room` (see [`HeldRoom`]; the caller holds the in-process lock) and reads its
    /// head (state version and log head), not its state: see [`Store::load_held`].
    pub(crate) async fn hold_room(
        &self,
        room: &RoomUri,
    ) -> Result<(HeldRoom, Option<RoomHead>), StoreError> {
        match self {
            Self::Sqlite(s) => Ok((HeldRoom::Local, s.room_head(room).await?)),
            Self::Postgres(p) => {
                let (locked, head) = p.lock_room_head(room).await?;
                Ok((HeldRoom::Locked(Box::new(locked)), head))
            }
        }
    }

    /// The state record of a held room.
    pub(crate) async fn load_held(
        &self,
        held: &mut HeldRoom,
        room: &RoomUri,
    ) -> Result<Option<RoomRecord>, StoreError> {
        match held {
            HeldRoom::Local => self.load_room(room).await,
            HeldRoom::Locked(locked) => locked.load().await,
        }
    }

    /// Writes a held room (see [`DsStore::write_room`]), releasing it.
    pub(crate) async fn write_held(
        &self,
        held: HeldRoom,
        room: &RoomUri,
        expected_version: u64,
        state: Option<Vec<u8>>,
        log: Vec<LogEntry>,
        outbound: Vec<NewOutbound>,
    ) -> Result<u64, StoreError> {
        match held {
            HeldRoom::Local => {
                self.write_room(room, expected_version, state, log, outbound)
                    .await
            }
            HeldRoom::Locked(locked) => locked.write(expected_version, state, log, outbound).await,
        }
    }

    /// Releases a held room without saving.
    pub(crate) async fn release(held: HeldRoom) -> Result<(), StoreError> {
        match held {
            HeldRoom::Local => Ok(()),
            HeldRoom::Locked(locked) => locked.release().await,
        }
    }
}

/// Delegates to the backend.
macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            Store::Sqlite($s) => $call.await,
            Store::Postgres($s) => $call.await,
        }
    };
}

impl DsStore for Store {
    async fn load_room(&self, room: &RoomUri) -> Result<Option<RoomRecord>, StoreError> {
        delegate!(self, s => s.load_room(room))
    }

    async fn room_head(&self, room: &RoomUri) -> Result<Option<RoomHead>, StoreError> {
        delegate!(self, s => s.room_head(room))
    }

    async fn write_room(
        &self,
        room: &RoomUri,
        expected_version: u64,
        state: Option<Vec<u8>>,
        log: Vec<LogEntry>,
        outbound: Vec<NewOutbound>,
    ) -> Result<u64, StoreError> {
        delegate!(self, s => s.write_room(room, expected_version, state, log, outbound))
    }

    async fn room_log(
        &self,
        room: &RoomUri,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError> {
        delegate!(self, s => s.room_log(room, after, limit))
    }

    async fn pending_outbound(
        &self,
        to: &Domain,
        limit: usize,
    ) -> Result<Vec<OutboundItem>, StoreError> {
        delegate!(self, s => s.pending_outbound(to, limit))
    }

    async fn ack_outbound(&self, id: u64) -> Result<(), StoreError> {
        delegate!(self, s => s.ack_outbound(id))
    }

    async fn ack_outbound_all(&self, ids: &[u64]) -> Result<(), StoreError> {
        delegate!(self, s => s.ack_outbound_all(ids))
    }

    async fn set_aside_outbound(
        &self,
        id: u64,
        reason: &str,
        retry_at_ms: u64,
    ) -> Result<(), StoreError> {
        delegate!(self, s => s.set_aside_outbound(id, reason, retry_at_ms))
    }

    async fn dead_letters(
        &self,
        to: &Domain,
        due_by_ms: u64,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        delegate!(self, s => s.dead_letters(to, due_by_ms, limit))
    }

    async fn load_inbox(&self, room: &RoomUri) -> Result<Option<RoomRecord>, StoreError> {
        delegate!(self, s => s.load_inbox(room))
    }

    async fn write_inbox(
        &self,
        room: &RoomUri,
        expected_version: u64,
        state: Vec<u8>,
        feed: Vec<FeedItem>,
    ) -> Result<u64, StoreError> {
        delegate!(self, s => s.write_inbox(room, expected_version, state, feed))
    }

    async fn device_events(
        &self,
        device: &ClientUri,
        cursor: u64,
        limit: usize,
    ) -> Result<Vec<DeviceEvent>, StoreError> {
        delegate!(self, s => s.device_events(device, cursor, limit))
    }

    async fn add_key_packages(
        &self,
        device: &ClientUri,
        entries: Vec<KeyPackageEntry>,
    ) -> Result<(), StoreError> {
        delegate!(self, s => s.add_key_packages(device, entries))
    }

    async fn claim_key_package(
        &self,
        device: &ClientUri,
        now_ms: u64,
    ) -> Result<Claim, StoreError> {
        delegate!(self, s => s.claim_key_package(device, now_ms))
    }

    async fn claimed_by(&self, reference: &[u8]) -> Result<Option<ClientUri>, StoreError> {
        delegate!(self, s => s.claimed_by(reference))
    }

    async fn fresh_key_packages(
        &self,
        device: &ClientUri,
        now_ms: u64,
    ) -> Result<usize, StoreError> {
        delegate!(self, s => s.fresh_key_packages(device, now_ms))
    }

    async fn save_profile(&self, profile: &Profile) -> Result<ProfileSaved, StoreError> {
        delegate!(self, s => s.save_profile(profile))
    }

    async fn profile(&self, user: &UserUri) -> Result<Option<Profile>, StoreError> {
        delegate!(self, s => s.profile(user))
    }

    async fn find_profiles(
        &self,
        search: &ProfileSearch,
        limit: usize,
    ) -> Result<Vec<Profile>, StoreError> {
        delegate!(self, s => s.find_profiles(search, limit))
    }

    async fn load_consent(&self, user: &UserUri) -> Result<Option<ConsentRecord>, StoreError> {
        delegate!(self, s => s.load_consent(user))
    }

    async fn save_consent(
        &self,
        writes: Vec<ConsentWrite>,
        requests: Vec<NewPeerRequest>,
    ) -> Result<(), StoreError> {
        delegate!(self, s => s.save_consent(writes, requests))
    }

    async fn pending_peer_requests(
        &self,
        to: &Domain,
        limit: usize,
    ) -> Result<Vec<PeerRequest>, StoreError> {
        delegate!(self, s => s.pending_peer_requests(to, limit))
    }

    async fn ack_peer_request(&self, id: u64) -> Result<(), StoreError> {
        delegate!(self, s => s.ack_peer_request(id))
    }

    async fn remove_key_packages(&self, device: &ClientUri) -> Result<usize, StoreError> {
        delegate!(self, s => s.remove_key_packages(device))
    }
}
