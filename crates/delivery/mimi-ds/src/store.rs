//! What the delivery service keeps, behind one trait that every backend implements.
//!
//! The engines never call the store: the server loads what a request needs, runs the engine,
//! then writes the new state **and** its effects with one call, which a backend must make
//! atomic (one transaction). Methods are `async` so that backends over a network database fit;
//! futures are `Send`.
//!
//! Records are opaque bytes produced by the engines' `to_record` functions, so the store needs
//! no knowledge of MLS. A hub room is stored as two things: its *state* record
//! ([`crate::hub::HubRoom::to_record`], versioned, rewritten only when the room's state changes)
//! and its *log* ([`LogEntry`], appended once per accepted event). [`DsStore::write_room`] does
//! either or both with the fan-out in one transaction; [`DsStore::room_head`] reads the state
//! version and the log's last sequence number without the state.
//!
//! [`conformance`] holds the suite every backend runs (the in-memory one here, SQLite and
//! PostgreSQL in `mimi-store`).

pub mod conformance;
mod memory;

use std::future::Future;

use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

use crate::discovery::{Profile, ProfileSearch};
use crate::follower::{Claim, KeyPackageEntry};

pub use memory::MemoryStore;

/// A storage failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Somebody changed the record since it was loaded: reload and retry.
    #[error("{what} changed concurrently (expected version {expected}); reload and retry")]
    Conflict {
        /// What changed.
        what: String,
        /// The version the writer saw.
        expected: u64,
    },
    /// The backend failed.
    #[error("storage backend error: {0}")]
    Backend(String),
}

/// A hub room's stored state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    /// Bumped on every save; a save names the version it replaces.
    pub version: u64,
    /// The hub engine's record of the room.
    pub state: Vec<u8>,
}

/// Where a hub room stands, without its state: enough to tell whether a decoded copy is still
/// current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoomHead {
    /// The version of the room's state record (moved only by state writes).
    pub version: u64,
    /// The last sequence number in the room's log, 0 if none.
    pub log_head: u64,
}

/// One accepted event in a hub room's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    /// The hub sequence number, unique and increasing per room.
    pub seq: u64,
    /// When the hub accepted it, milliseconds since the UNIX epoch.
    pub hub_ms: u64,
    /// The encoded `FanoutMessage`.
    pub message: Vec<u8>,
}

/// A fan-out request waiting for its follower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundItem {
    /// Assigned by the store, increasing: the order of sending to one destination.
    pub id: u64,
    /// The follower.
    pub to: Domain,
    /// The room.
    pub room: RoomUri,
    /// The encoded `notify` body.
    pub body: Vec<u8>,
}

/// A fan-out item its follower refused (a 4xx other than 408/429), set aside from the queue so
/// that later items go on, and offered again from `retry_at_ms` (a dead letter). Nothing the
/// hub acknowledged is dropped: it stays until the follower takes it or an operator removes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The item, as queued.
    pub item: OutboundItem,
    /// How many times the follower refused it.
    pub refusals: u64,
    /// The follower's last refusal (status and message).
    pub reason: String,
    /// When to offer it again, milliseconds since the UNIX epoch.
    pub retry_at_ms: u64,
}

/// A new fan-out request (the store assigns the id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOutbound {
    /// The follower.
    pub to: Domain,
    /// The room.
    pub room: RoomUri,
    /// The encoded `notify` body.
    pub body: Vec<u8>,
}

/// An event for one local device, in its stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEvent {
    /// Assigned by the store, increasing: the device's resume cursor. Numbers come from one
    /// counter for every room the follower keeps (the follower log), so a device's stream
    /// has gaps (the rows of rooms it is not in); only their order means anything.
    pub seq: u64,
    /// The room.
    pub room: RoomUri,
    /// The encoded fanout message.
    pub payload: Vec<u8>,
}

/// A new event for a local device (the store assigns the sequence number).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDeviceEvent {
    /// The device.
    pub device: ClientUri,
    /// The room.
    pub room: RoomUri,
    /// The encoded fanout message.
    pub payload: Vec<u8>,
}

/// One step of a follower inbox write ([`DsStore::write_inbox`]), in the order the follower
/// accepted the room's messages.
///
/// A follower keeps each accepted message **once** per room, in its log; a device's stream is
/// a cursor over that log: the room's messages while the device is a member (its membership
/// intervals in the room, opened by [`FeedItem::Join`] and closed by [`FeedItem::Leave`]),
/// and the items addressed to it alone ([`FeedItem::Device`]). Which devices are members is
/// the engine's decision ([`crate::follower::LocalMembers`]); [`crate::follower::feed_items`]
/// turns its deliveries into these steps.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FeedItem {
    /// A message of the room, for every device that is a member at this point: one log row,
    /// whatever the number of members.
    Room(Vec<u8>),
    /// A message for one device only (a Welcome for its KeyPackage): one log row.
    Device {
        /// The device.
        device: ClientUri,
        /// The encoded fanout message.
        payload: Vec<u8>,
    },
    /// The device is a member from the next message of the room on (a member already: no
    /// change).
    Join(ClientUri),
    /// The device is no longer a member after the last message so far, which it still gets
    /// (not a member: no change).
    Leave(ClientUri),
}

/// Whether a profile was saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileSaved {
    /// Saved (created or replaced).
    Saved,
    /// Another user has this handle; nothing changed.
    HandleTaken,
}

/// A user's stored consent book ([`crate::follower::UserConsent::to_record`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    /// Bumped on every save; a save names the version it replaces.
    pub version: u64,
    /// The engine's record of the book.
    pub state: Vec<u8>,
}

/// One consent book to write ([`DsStore::save_consent`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentWrite {
    /// Whose book.
    pub user: UserUri,
    /// The version it replaces (0: the book does not exist yet).
    pub expected_version: u64,
    /// The engine's record.
    pub state: Vec<u8>,
}

/// Which endpoint a queued peer request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PeerRequestKind {
    /// `requestConsent` (path: the target user).
    RequestConsent,
    /// `updateConsent` (path: the requester user).
    UpdateConsent,
}

impl PeerRequestKind {
    /// The stored name (the endpoint's directory key).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RequestConsent => "requestConsent",
            Self::UpdateConsent => "updateConsent",
        }
    }

    /// The kind a stored name names.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "requestConsent" => Some(Self::RequestConsent),
            "updateConsent" => Some(Self::UpdateConsent),
            _ => None,
        }
    }
}

/// A request to another provider outside any room (consent), queued with the change that
/// caused it and sent by the destination's outbound worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRequest {
    /// Assigned by the store, increasing: the order of sending to one destination.
    pub id: u64,
    /// The provider.
    pub to: Domain,
    /// The endpoint.
    pub kind: PeerRequestKind,
    /// The encoded request body.
    pub body: Vec<u8>,
}

/// A new peer request (the store assigns the id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPeerRequest {
    /// The provider.
    pub to: Domain,
    /// The endpoint.
    pub kind: PeerRequestKind,
    /// The encoded request body.
    pub body: Vec<u8>,
}

/// The delivery service's storage.
pub trait DsStore: Send + Sync {
    /// The hub room record, if we host the room.
    fn load_room(
        &self,
        room: &RoomUri,
    ) -> impl Future<Output = Result<Option<RoomRecord>, StoreError>> + Send;

    /// The room's state version and log head, if we host the room: a read that does not
    /// depend on the size of the room's state.
    fn room_head(
        &self,
        room: &RoomUri,
    ) -> impl Future<Output = Result<Option<RoomHead>, StoreError>> + Send;

    /// Atomically: replaces the room record (`expected_version` 0 creates it) and queues the
    /// fan-out. On [`StoreError::Conflict`] nothing is written. Returns the new version.
    fn save_room(
        &self,
        room: &RoomUri,
        expected_version: u64,
        state: Vec<u8>,
        outbound: Vec<NewOutbound>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        self.write_room(room, expected_version, Some(state), Vec::new(), outbound)
    }

    /// Atomically, in one transaction: checks that the room's state is at `expected_version`
    /// (0: the room does not exist yet, and `state` must be given to create it), replaces the
    /// state if `state` is given (the version moves on by one), appends `log` to the room's log,
    /// and queues the fan-out. Without `state`, the state record is neither read nor written:
    /// the bytes written are those of the log entries and the fan-out.
    ///
    /// [`StoreError::Conflict`], and nothing written, if the version is not the expected one or
    /// a log entry's sequence number is not above the room's log head (another writer appended
    /// first). Returns the state version after the write.
    fn write_room(
        &self,
        room: &RoomUri,
        expected_version: u64,
        state: Option<Vec<u8>>,
        log: Vec<LogEntry>,
        outbound: Vec<NewOutbound>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// The room's log entries after sequence number `after`, oldest first, at most `limit`.
    fn room_log(
        &self,
        room: &RoomUri,
        after: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<LogEntry>, StoreError>> + Send;

    /// Up to `limit` queued items for `to`, oldest first.
    fn pending_outbound(
        &self,
        to: &Domain,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboundItem>, StoreError>> + Send;

    /// Removes a delivered item (queued or set aside). Removing an absent item is not an error.
    fn ack_outbound(&self, id: u64) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes delivered items, all in one transaction where the backend has them (the items
    /// one batched notify carried). Absent items are not an error.
    fn ack_outbound_all(&self, ids: &[u64]) -> impl Future<Output = Result<(), StoreError>> + Send {
        async move {
            for id in ids {
                self.ack_outbound(*id).await?;
            }
            Ok(())
        }
    }

    /// Sets a refused item aside as a [`DeadLetter`]: [`DsStore::pending_outbound`] no longer
    /// returns it, its refusals count up, and [`DsStore::dead_letters`] offers it from
    /// `retry_at_ms`. Setting aside an absent item is not an error.
    fn set_aside_outbound(
        &self,
        id: u64,
        reason: &str,
        retry_at_ms: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Up to `limit` dead letters for `to` due by `due_by_ms` (`retry_at_ms <= due_by_ms`),
    /// oldest item first; `u64::MAX` lists them all.
    fn dead_letters(
        &self,
        to: &Domain,
        due_by_ms: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<DeadLetter>, StoreError>> + Send;

    /// The follower inbox record of a room.
    fn load_inbox(
        &self,
        room: &RoomUri,
    ) -> impl Future<Output = Result<Option<RoomRecord>, StoreError>> + Send;

    /// Atomically: replaces the inbox record and appends each event as an item for its device
    /// alone ([`FeedItem::Device`], in the room `room`; the events' own `room` is not
    /// consulted). [`DsStore::write_inbox`] is the general form.
    fn save_inbox(
        &self,
        room: &RoomUri,
        expected_version: u64,
        state: Vec<u8>,
        events: Vec<NewDeviceEvent>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send {
        let feed = events
            .into_iter()
            .map(|e| FeedItem::Device {
                device: e.device,
                payload: e.payload,
            })
            .collect();
        self.write_inbox(room, expected_version, state, feed)
    }

    /// Atomically, in one transaction: replaces the inbox record at `expected_version` (0
    /// creates it), appends each message of `feed` to the follower log once (numbered from the
    /// one counter of the log, so in commit order across rooms, above every number handed out
    /// before) and opens or closes the devices' membership intervals in the room where the
    /// feed says, between the messages. [`StoreError::Conflict`], and nothing written, if the
    /// record is not at the expected version. Returns the new version.
    ///
    /// Rows written per message: one, whatever the number of member devices; a membership
    /// change writes one interval row.
    fn write_inbox(
        &self,
        room: &RoomUri,
        expected_version: u64,
        state: Vec<u8>,
        feed: Vec<FeedItem>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// A device's stream after `cursor`, oldest first, at most `limit`: the follower log's
    /// messages numbered above `cursor` that are addressed to the device or belong to a room
    /// whose membership interval of the device covers them (from the first message after its
    /// [`FeedItem::Join`] to the last before its [`FeedItem::Leave`]), and, on a store that
    /// kept per-device streams before the follower log, the device's events from those.
    fn device_events(
        &self,
        device: &ClientUri,
        cursor: u64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<DeviceEvent>, StoreError>> + Send;

    /// Adds KeyPackages to a device's pool (duplicates by reference ignored).
    fn add_key_packages(
        &self,
        device: &ClientUri,
        entries: Vec<KeyPackageEntry>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Claims one KeyPackage of `device` at `now_ms` (see [`crate::follower::KeyPackagePool`]),
    /// atomically: concurrent claims never get the same fresh KeyPackage. The claim is
    /// recorded (reference → device) to route the Welcome later.
    fn claim_key_package(
        &self,
        device: &ClientUri,
        now_ms: u64,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// The device a claimed KeyPackage reference belongs to.
    fn claimed_by(
        &self,
        reference: &[u8],
    ) -> impl Future<Output = Result<Option<ClientUri>, StoreError>> + Send;

    /// Removes every KeyPackage of `device` (fresh and last-resort; claims already recorded
    /// stay), for a device whose credential was re-issued: its old KeyPackages name a key it
    /// no longer has. Returns how many were removed.
    fn remove_key_packages(
        &self,
        device: &ClientUri,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Unexpired fresh KeyPackages of `device`.
    fn fresh_key_packages(
        &self,
        device: &ClientUri,
        now_ms: u64,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Creates or replaces `profile.user`'s discovery profile, unless another user has its
    /// handle ([`ProfileSaved::HandleTaken`], nothing changed). Handles are unique per store.
    fn save_profile(
        &self,
        profile: &Profile,
    ) -> impl Future<Output = Result<ProfileSaved, StoreError>> + Send;

    /// `user`'s discovery profile.
    fn profile(
        &self,
        user: &UserUri,
    ) -> impl Future<Output = Result<Option<Profile>, StoreError>> + Send;

    /// Up to `limit` profiles that `search` matches ([`ProfileSearch::matches`] is the
    /// definition), ordered by user.
    fn find_profiles(
        &self,
        search: &ProfileSearch,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Profile>, StoreError>> + Send;

    /// A user's consent book, if it was ever saved.
    fn load_consent(
        &self,
        user: &UserUri,
    ) -> impl Future<Output = Result<Option<ConsentRecord>, StoreError>> + Send;

    /// Atomically, in one transaction: writes each book at its expected version (0 creates
    /// it) and queues the peer requests. [`StoreError::Conflict`], and nothing written, if any
    /// book is not at its expected version.
    fn save_consent(
        &self,
        writes: Vec<ConsentWrite>,
        requests: Vec<NewPeerRequest>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Up to `limit` queued peer requests for `to`, oldest first.
    fn pending_peer_requests(
        &self,
        to: &Domain,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<PeerRequest>, StoreError>> + Send;

    /// Removes a sent (or finally refused) peer request. Removing an absent one is not an
    /// error.
    fn ack_peer_request(&self, id: u64) -> impl Future<Output = Result<(), StoreError>> + Send;
}
