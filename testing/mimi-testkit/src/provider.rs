//! A provider of the simulated federation: the mimi-ds engines and what they keep.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use mimi_ds::follower::{ConsentPolicy, KeyPackagePool, RequesterLimiter, RoomInbox};
use mimi_ds::hub::HubRoom;
use mimi_mls::{ProviderCa, ServerIdentity};
use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

/// One `notify` waiting for a follower: the room, the encoded body, and the follower's
/// devices its application messages are withheld from (our `notify` extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outbound {
    pub(crate) room: RoomUri,
    pub(crate) body: Vec<u8>,
    pub(crate) withheld: BTreeSet<ClientUri>,
}

/// One provider: its CA and server identity, the rooms it hosts as hub, its follower inboxes,
/// its users' devices and KeyPackages, and its outbound fan-out queues.
pub struct SimProvider {
    pub(crate) domain: Domain,
    pub(crate) ca: ProviderCa,
    pub(crate) server: ServerIdentity,
    pub(crate) hub_rooms: BTreeMap<RoomUri, HubRoom>,
    pub(crate) inboxes: BTreeMap<RoomUri, RoomInbox>,
    pub(crate) users: BTreeMap<UserUri, BTreeMap<ClientUri, KeyPackagePool>>,
    pub(crate) claims: BTreeMap<Vec<u8>, ClientUri>,
    pub(crate) room_devices: BTreeMap<RoomUri, BTreeSet<ClientUri>>,
    /// Every user's stranger policy (the simulator keeps no consent books).
    pub(crate) consent: ConsentPolicy,
    pub(crate) limiter: RequesterLimiter,
    /// Fan-out waiting per follower, in hub order.
    pub(crate) outbound: BTreeMap<Domain, VecDeque<Outbound>>,
}

impl std::fmt::Debug for SimProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimProvider")
            .field("domain", &self.domain)
            .field("hub_rooms", &self.hub_rooms.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl SimProvider {
    pub(crate) fn new(domain: Domain, ca: ProviderCa, server: ServerIdentity) -> Self {
        Self {
            domain,
            ca,
            server,
            hub_rooms: BTreeMap::new(),
            inboxes: BTreeMap::new(),
            users: BTreeMap::new(),
            claims: BTreeMap::new(),
            room_devices: BTreeMap::new(),
            consent: ConsentPolicy::Anyone,
            limiter: RequesterLimiter::default(),
            outbound: BTreeMap::new(),
        }
    }

    /// The provider's domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// Its server identity (the hub's external sender, its franker).
    pub fn server(&self) -> &ServerIdentity {
        &self.server
    }

    /// The KeyPackages a device of this provider uploaded and that are not claimed yet.
    pub fn key_package_pool(&self, device: &ClientUri) -> Option<&KeyPackagePool> {
        self.users.values().find_map(|devices| devices.get(device))
    }

    /// A room this provider hosts.
    pub fn hub_room(&self, room: &RoomUri) -> Option<&HubRoom> {
        self.hub_rooms.get(room)
    }

    /// The follower inbox of a room.
    pub fn inbox(&self, room: &RoomUri) -> Option<&RoomInbox> {
        self.inboxes.get(room)
    }

    /// Fan-out requests waiting for `to`.
    pub fn queued_for(&self, to: &Domain) -> usize {
        self.outbound.get(to).map_or(0, VecDeque::len)
    }

    /// Unclaimed fresh KeyPackages of a device.
    pub fn fresh_key_packages(&self, device: &ClientUri, now_ms: u64) -> usize {
        self.users
            .values()
            .find_map(|devices| devices.get(device))
            .map_or(0, |pool| pool.fresh_count(now_ms))
    }
}
