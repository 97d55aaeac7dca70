//! The provider's state, split by role (see [`Provider`]): the core every role shares, and the
//! parts of the hub, the follower and the client API.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use mimi_ds::follower::consent::ConsentLimiter;
use mimi_ds::follower::{ConsentPolicy, RequesterLimiter, RoomInbox};
use mimi_mls::{ProviderCa, ServerIdentity};
use mimi_transport::client::FederationClient;
use mimi_types::{ClientUri, Domain, RoomUri};
use tokio::sync::{Notify, OwnedMutexGuard};

use crate::accounts::Accounts;
use crate::auth_limits::AuthLimits;
use crate::config::Limits;
use crate::device_wake::{DeviceWake, DeviceWakes};
use crate::hub_cache::HubCache;
use crate::live::LiveStreams;
use crate::metrics::Metrics;
use crate::passwords::Passwords;
use crate::store::Store;
use crate::transfers::Transfers;

/// Async mutexes by key, created on first use.
#[derive(Debug, Default)]
pub(crate) struct Locks {
    locks: Mutex<BTreeMap<RoomUri, Arc<tokio::sync::Mutex<()>>>>,
}

impl Locks {
    pub(crate) async fn lock(&self, room: &RoomUri) -> OwnedMutexGuard<()> {
        let lock = match self.locks.lock() {
            Ok(mut map) => map.entry(room.clone()).or_default().clone(),
            Err(poisoned) => poisoned
                .into_inner()
                .entry(room.clone())
                .or_default()
                .clone(),
        };
        lock.lock_owned().await
    }
}

/// The provider's state, by role: what every role shares ([`Core`], which `Provider`
/// dereferences to), and what only the hub ([`HubRole`]), the follower ([`FollowerRole`]) or the
/// client API ([`ClientRole`]) uses. A module names the role part it touches
/// (`provider.hub.locks`), and a helper that needs less than the whole provider takes only
/// that part (the core, or one field of it).
pub(crate) struct Provider {
    /// What every role uses.
    pub(crate) core: Core,
    /// Rooms we host.
    pub(crate) hub: HubRole,
    /// Our users as members of rooms (hosted here or elsewhere), and answers to peers about them.
    pub(crate) follower: FollowerRole,
    /// Our devices' API: accounts, sessions, live streams, blobs.
    pub(crate) client: ClientRole,
}

impl std::ops::Deref for Provider {
    type Target = Core;

    fn deref(&self) -> &Core {
        &self.core
    }
}

/// What every role shares (operations): who we are, the stores, trust, the federation client,
/// limits, metrics and the wake-ups of outbound workers and device streams.
pub(crate) struct Core {
    pub(crate) domain: Domain,
    pub(crate) store: Store,
    pub(crate) accounts: Accounts,
    pub(crate) ca: ProviderCa,
    pub(crate) server: ServerIdentity,
    pub(crate) mls_trust: mimi_mls::TrustStore,
    /// Domain → MLS CA certificate (DER), for clients.
    pub(crate) trust_bundle: BTreeMap<String, Vec<u8>>,
    pub(crate) federation: FederationClient,
    pub(crate) limits: Limits,
    /// Counters for `GET /metrics`.
    pub(crate) metrics: Metrics,
    /// One per destination with an outbound worker (our peers and ourselves).
    pub(crate) outbound_wakeups: BTreeMap<Domain, Arc<Notify>>,
    /// One per device with open streams: the follower wakes them when it stores messages, the
    /// client API waits on them, a device's removal ends them.
    pub(crate) device_wakeups: DeviceWakes,
}

/// The hub's state: per-room locks, decoded rooms, and the franking key.
pub(crate) struct HubRole {
    pub(crate) locks: Locks,
    /// Hub rooms kept decoded by the stored version they match.
    pub(crate) cache: HubCache,
    /// What this provider franks with as a hub (derived from the server identity).
    pub(crate) franker: mimi_mls::franking::Franker,
}

/// The follower's state: inboxes and their locks, consent, and the rate limits of what peers
/// and our users ask about our users.
pub(crate) struct FollowerRole {
    pub(crate) inbox_locks: Locks,
    /// Follower inboxes (in memory: mimi-ds has no record form of `RoomInbox` yet), each with
    /// the stored record version it was saved at: when another process of this provider saved
    /// the inbox since, the stored version differs and the inbox starts afresh, as after a
    /// restart.
    pub(crate) inboxes: Mutex<BTreeMap<RoomUri, (u64, RoomInbox)>>,
    /// The consent policy of users who set none (`[consent] default_policy`).
    pub(crate) consent_policy: ConsentPolicy,
    /// Consent requests per requesting user (`[consent]`), in memory.
    pub(crate) consent_limiter: Mutex<ConsentLimiter>,
    /// KeyPackage claims per requester (`keyMaterial`), in memory.
    pub(crate) key_material_limiter: Mutex<RequesterLimiter>,
    /// Identifier queries per peer and per local user.
    pub(crate) query_limiter: Mutex<mimi_ds::discovery::QueryLimiter>,
}

/// The client API's state: password hashing, sign-in limits, live streams, blob transfers.
pub(crate) struct ClientRole {
    /// Password hashing, bounded and off the async workers.
    pub(crate) passwords: Passwords,
    /// Registration and login rate limits.
    pub(crate) auth_limits: Mutex<AuthLimits>,
    /// Live event streams, for ephemeral events (typing indicators).
    pub(crate) live: LiveStreams,
    /// Blob downloads and uploads in progress, bounded.
    pub(crate) blob_transfers: Transfers,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provider")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl Provider {
    /// Now, in milliseconds since the UNIX epoch.
    pub(crate) fn now_ms() -> u64 {
        Core::now_ms()
    }
}

impl Core {
    /// Now, in milliseconds since the UNIX epoch.
    pub(crate) fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    /// The wake-up a stream of `device` holds for its life (see `device_wake`).
    pub(crate) fn device_wakeup(&self, device: &ClientUri) -> Arc<DeviceWake> {
        self.device_wakeups.subscribe(device)
    }

    /// Wakes `device`'s streams (what was stored for it is durable).
    pub(crate) fn wake_device(&self, device: &ClientUri) {
        self.device_wakeups.wake(device);
    }

    /// Wakes the streams of `room`'s member devices (another process of this provider added
    /// messages for them): those the accounts database lists, or every stream of this process
    /// if that cannot be read.
    pub(crate) async fn wake_room(&self, room: &RoomUri) {
        match self.accounts.members(room).await {
            Ok(devices) => {
                for device in devices {
                    self.wake_device(&device);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, %room, "reading the room's members to wake their streams failed; waking all");
                self.wake_all();
            }
        }
    }

    /// Wakes every device stream and outbound worker of this process (after wake-ups from
    /// other processes may have been missed).
    pub(crate) fn wake_all(&self) {
        self.device_wakeups.wake_all();
        for wake in self.outbound_wakeups.values() {
            wake.notify_one();
        }
    }

    /// The largest notify body `to` takes: what it advertises in its directory (as far as we
    /// fetched it: no request is sent here, under the room's lock), else our own limit.
    pub(crate) fn body_limit_of(&self, to: &Domain) -> usize {
        self.federation
            .cached_directory(to)
            .and_then(|d| d.max_body_bytes())
            .unwrap_or(self.limits.max_body_bytes)
    }

    /// Whether `domain` is a peer we federate with (has an outbound worker).
    pub(crate) fn peers_with(&self, domain: &Domain) -> bool {
        domain != &self.domain && self.outbound_wakeups.contains_key(domain)
    }

    pub(crate) fn wake_outbound(&self, to: &Domain) {
        if let Some(wake) = self.outbound_wakeups.get(to) {
            wake.notify_one();
        } else {
            tracing::warn!(%to, "fan-out queued for a domain without an outbound worker");
        }
    }
}
