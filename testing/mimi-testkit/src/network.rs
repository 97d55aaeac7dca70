//! The simulated federation and its faulty network.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use mimi_client_core::{Client, KeyPackageUpload};
use mimi_content::MessageId;
use mimi_ds::follower::{KeyPackageEntry, KeyPackagePool, LocalMembers, RoomInbox};
use mimi_ds::hub::HubRoom;
use mimi_ds::{Delivery, Effect, Recipients, RequestError};
use mimi_federation_api::mls::MlsMessage;
use mimi_federation_api::notify::NotifyRequest;
use mimi_federation_api::{Encode, decode_exact};
use mimi_mls::{ClientIdentity, ProviderCa, ServerIdentity, TrustStore, Validity};
use mimi_types::{ClientUri, Domain, Ident, RoomUri, UserUri};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::device::Device;
use crate::provider::{Outbound, SimProvider};

mod intercept;
mod operations;
mod requests;
mod transmit;

pub use intercept::Intercepted;

const YEAR: u64 = 365 * 24 * 3600;
/// KeyPackages each device uploads when it is added, and tops up to.
const KEY_PACKAGES_PER_DEVICE: usize = 4;
/// Virtual milliseconds per network step.
const STEP_MS: u64 = 10;

/// Why a simulated operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// An unknown provider, device or room.
    #[error("unknown {0}")]
    Unknown(String),
    /// The MLS layer refused.
    #[error("MLS: {0}")]
    Mls(#[from] mimi_mls::MlsError),
    /// The client engine refused a command.
    #[error("client: {0}")]
    Client(#[from] mimi_client_core::ClientError),
    /// An engine refused the request outright.
    #[error("refused: {0}")]
    Refused(#[from] RequestError),
    /// A wire type did not encode or decode.
    #[error("wire: {0}")]
    Wire(String),
    /// The network did not settle.
    #[error("the network did not settle within {0} steps")]
    NotSettled(usize),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

fn wire(e: impl std::fmt::Display) -> SimError {
    SimError::Wire(e.to_string())
}

/// Fault probabilities for each fan-out transmission, in [0, 1].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// The request is lost: the follower never sees it; the hub retries.
    pub loss: f64,
    /// The follower processed it but the acknowledgement is lost: the hub sends it again.
    pub ack_loss: f64,
    /// The request arrives twice.
    pub duplicate: f64,
    /// A copy is kept and delivered again at a random later step.
    pub replay: f64,
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Self::default()
    }

    /// Every fault at `p`.
    pub fn all(p: f64) -> Self {
        Self {
            loss: p,
            ack_loss: p,
            duplicate: p,
            replay: p,
        }
    }
}

/// What crossed the simulated network.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkStats {
    /// Notify requests transmitted per follower (retries and duplicates included).
    pub notify_requests: BTreeMap<Domain, u64>,
    /// Notify body bytes transmitted per follower.
    pub notify_bytes: BTreeMap<Domain, u64>,
    /// Transmissions lost.
    pub lost: u64,
    /// Repeats a follower acknowledged without applying.
    pub duplicates_ignored: u64,
}

/// The in-process federation.
pub struct Network {
    now_ms: u64,
    rng: StdRng,
    /// Randomness of the devices' content (message IDs, paddings), apart from the faults'.
    content_rng: StdRng,
    faults: Faults,
    trust: TrustStore,
    providers: BTreeMap<Domain, SimProvider>,
    devices: BTreeMap<ClientUri, Device>,
    /// Devices whose last-resort KeyPackages their provider does not keep (see
    /// [`Network::add_device_without_last_resort`]).
    no_last_resort: BTreeSet<ClientUri>,
    /// Whether devices added from now on have their events drained ([`Device::events`]).
    drain_events: bool,
    replays: Vec<(Domain, Domain, Outbound)>,
    /// Every delivery handed to a device, in order.
    delivered: Vec<(ClientUri, Delivery)>,
    /// The MIMI message IDs of the devices' messages the hubs accepted, in hub order.
    accepted: Vec<(RoomUri, MessageId)>,
    stats: NetworkStats,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("now_ms", &self.now_ms)
            .field("providers", &self.providers.keys().collect::<Vec<_>>())
            .field("devices", &self.devices.len())
            .finish_non_exhaustive()
    }
}

impl Network {
    /// A federation of `domains`, each with its own CA and server identity, all trusting each
    /// other. `seed` makes the faults reproducible.
    pub fn new(seed: u64, domains: &[&str]) -> Result<Self, SimError> {
        // openmls checks lifetimes against the system clock, so virtual time starts at it.
        let now_s = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| SimError::Other(e.to_string()))?
            .as_secs();
        let validity = Validity::starting(now_s.saturating_sub(3600), 10 * YEAR);
        let mut trust = TrustStore::new();
        let mut providers = BTreeMap::new();
        for name in domains {
            let domain = Domain::parse(name).map_err(|e| SimError::Other(e.to_string()))?;
            let ca = ProviderCa::generate(domain.clone(), validity)
                .map_err(|e| SimError::Other(e.to_string()))?;
            trust
                .pin(domain.clone(), ca.certificate_der())
                .map_err(|e| SimError::Other(e.to_string()))?;
            let server = ServerIdentity::new(&ca, validity)?;
            providers.insert(domain.clone(), SimProvider::new(domain, ca, server));
        }
        Ok(Self {
            now_ms: now_s * 1000,
            rng: StdRng::seed_from_u64(seed),
            content_rng: StdRng::seed_from_u64(seed ^ 0xc0de),
            faults: Faults::none(),
            trust,
            providers,
            devices: BTreeMap::new(),
            no_last_resort: BTreeSet::new(),
            drain_events: true,
            replays: Vec::new(),
            delivered: Vec::new(),
            accepted: Vec::new(),
            stats: NetworkStats::default(),
        })
    }

    /// Leaves the events of devices added from now on in their engines, for a test that polls
    /// them itself (`Client::poll_event`); [`Device::events`] and the rejections among
    /// [`Device::failures`] then stay empty.
    pub fn leave_events_in_engines(&mut self) {
        self.drain_events = false;
    }

    /// Sets the fault probabilities of fan-out transmissions.
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// Virtual time, milliseconds since the UNIX epoch.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Virtual time, seconds since the UNIX epoch (what the client engines are given).
    pub fn now_s(&self) -> u64 {
        self.now_ms / 1000
    }

    /// Moves virtual time on by `seconds` (nothing is sent meanwhile).
    pub fn advance(&mut self, seconds: u64) {
        self.now_ms += seconds * 1000;
    }

    /// The trust store every provider and device shares.
    pub fn trust(&self) -> &TrustStore {
        &self.trust
    }

    /// The IDs of the messages the hub of `room` accepted from the devices, in hub order
    /// (what every member's timeline shows, re-sent messages included).
    pub fn accepted(&self, room: &RoomUri) -> Vec<MessageId> {
        self.accepted
            .iter()
            .filter(|(r, _)| r == room)
            .map(|(_, id)| *id)
            .collect()
    }

    /// Every delivery a follower handed to a device so far, in order (to replay them).
    pub fn delivered(&self) -> &[(ClientUri, Delivery)] {
        &self.delivered
    }

    /// What crossed the network so far.
    pub fn stats(&self) -> &NetworkStats {
        &self.stats
    }

    /// A provider.
    pub fn provider(&self, domain: &Domain) -> Option<&SimProvider> {
        self.providers.get(domain)
    }

    /// A device.
    pub fn device(&self, client: &ClientUri) -> Option<&Device> {
        self.devices.get(client)
    }

    /// A device, to issue commands to its client engine directly.
    pub fn device_mut(&mut self, client: &ClientUri) -> Result<&mut Device, SimError> {
        self.devices
            .get_mut(client)
            .ok_or_else(|| SimError::Unknown(format!("device {client}")))
    }

    /// Takes a device offline: until [`Network::reconnect`], nothing is handed to it (its
    /// provider's deliveries to it are lost, as for a device that missed them).
    pub fn disconnect(&mut self, client: &ClientUri) -> Result<Device, SimError> {
        self.devices
            .remove(client)
            .ok_or_else(|| SimError::Unknown(format!("device {client}")))
    }

    /// Brings a device taken offline back.
    pub fn reconnect(&mut self, client: ClientUri, device: Device) {
        self.devices.insert(client, device);
    }

    /// Forgets the deliveries logged so far ([`Network::delivered`]).
    pub fn clear_delivered(&mut self) {
        self.delivered.clear();
    }

    /// Every device, by URI.
    pub fn devices(&self) -> impl Iterator<Item = (&ClientUri, &Device)> {
        self.devices.iter()
    }

    fn provider_mut(&mut self, domain: &Domain) -> Result<&mut SimProvider, SimError> {
        self.providers
            .get_mut(domain)
            .ok_or_else(|| SimError::Unknown(format!("provider {domain}")))
    }

    /// The hub engine of `room`, for a test that hands it a request itself; queue the
    /// effects with [`Network::enqueue`].
    pub fn hub_room_mut(&mut self, room: &RoomUri) -> Result<&mut HubRoom, SimError> {
        self.hub_mut(room)
    }

    fn hub_mut(&mut self, room: &RoomUri) -> Result<&mut HubRoom, SimError> {
        self.provider_mut(room.hub_domain())?
            .hub_rooms
            .get_mut(room)
            .ok_or_else(|| SimError::Unknown(format!("room {room}")))
    }

    /// Registers device `device` of `user` at the user's provider: a client engine with its
    /// identity from the provider's CA, its KeyPackages uploaded.
    pub fn add_device(&mut self, user: &UserUri, device: &str) -> Result<ClientUri, SimError> {
        let client = ClientUri::of_user(
            user,
            Ident::parse(device).map_err(|e| SimError::Other(e.to_string()))?,
        );
        let now_s = self.now_s();
        let provider = self.provider_mut(user.domain())?;
        let validity = Validity::starting(now_s.saturating_sub(3600), YEAR);
        let identity = ClientIdentity::new(&provider.ca, client.clone(), user.clone(), validity)?;
        provider
            .users
            .entry(user.clone())
            .or_default()
            .insert(client.clone(), KeyPackagePool::new());
        let engine = Client::new(identity, self.trust.clone());
        let mut device = Device::new(engine);
        device.drain = self.drain_events;
        self.devices.insert(client.clone(), device);
        self.top_up_key_packages(&client)?;
        Ok(client)
    }

    /// Like [`Network::add_device`], for a device whose last-resort KeyPackage its provider
    /// does not keep (as another implementation's device that uploads none): once its
    /// KeyPackages are claimed, its key material is exhausted.
    pub fn add_device_without_last_resort(
        &mut self,
        user: &UserUri,
        device: &str,
    ) -> Result<ClientUri, SimError> {
        let client = ClientUri::of_user(
            user,
            Ident::parse(device).map_err(|e| SimError::Other(e.to_string()))?,
        );
        self.no_last_resort.insert(client);
        self.add_device(user, device)
    }

    /// The device generates and uploads KeyPackages until it has
    /// [`KEY_PACKAGES_PER_DEVICE`] fresh ones at its provider.
    pub fn top_up_key_packages(&mut self, client: &ClientUri) -> Result<(), SimError> {
        let now_ms = self.now_ms;
        let now_s = self.now_s();
        let have = self
            .providers
            .get(client.domain())
            .map_or(0, |p| p.fresh_key_packages(client, now_ms));
        let count = KEY_PACKAGES_PER_DEVICE.saturating_sub(have);
        if count == 0 {
            return Ok(());
        }
        let op = self
            .device_mut(client)?
            .client
            .generate_key_packages(now_s, count)?;
        self.run(client, op)?;
        Ok(())
    }

    /// The provider keeps uploaded KeyPackages in the device's pool.
    fn upload_key_packages(
        &mut self,
        client: &ClientUri,
        uploads: Vec<KeyPackageUpload>,
    ) -> Result<(), SimError> {
        let keep_last_resort = !self.no_last_resort.contains(client);
        let mut entries = Vec::new();
        for upload in uploads {
            if upload.last_resort && !keep_last_resort {
                continue;
            }
            let bare = MlsMessage::from_bytes(upload.message)
                .and_then(|m| m.to_key_package())
                .map_err(wire)?;
            entries.push(KeyPackageEntry {
                key_package: bare.into_bytes(),
                reference: upload.reference,
                last_resort: upload.last_resort,
                not_after: upload.not_after,
            });
        }
        let user = client
            .user_hint()
            .ok_or_else(|| SimError::Unknown(format!("the user of {client}")))?;
        let provider = self.provider_mut(client.domain())?;
        let pool = provider
            .users
            .entry(user)
            .or_default()
            .entry(client.clone())
            .or_default();
        for entry in entries {
            pool.add(entry);
        }
        Ok(())
    }

    /// Hands a hub's effects to its per-follower queues (effects of a request a test handed
    /// to the hub engine itself, [`Network::hub_room_mut`]).
    pub fn enqueue(&mut self, hub: Domain, effects: Vec<Effect>) -> Result<(), SimError> {
        let provider = self.provider_mut(&hub)?;
        for effect in effects {
            match effect {
                Effect::Notify {
                    to,
                    room,
                    message,
                    withheld,
                } => {
                    let body = NotifyRequest::new(vec![message]).encode().map_err(wire)?;
                    provider
                        .outbound
                        .entry(to)
                        .or_default()
                        .push_back(Outbound {
                            room,
                            body,
                            withheld: withheld.into_iter().collect(),
                        });
                }
            }
        }
        Ok(())
    }

    /// Whether nothing waits to be sent.
    pub fn is_quiet(&self) -> bool {
        self.replays.is_empty()
            && self
                .providers
                .values()
                .all(|p| p.outbound.values().all(|q| q.is_empty()))
    }

    /// One round: every non-empty fan-out queue transmits its head once (subject to faults),
    /// replays may arrive, devices process what they received, and virtual time advances.
    /// What devices queued meanwhile waits for [`Network::pump`] or [`Network::settle`].
    pub fn step(&mut self) -> Result<(), SimError> {
        let mut transmissions = Vec::new();
        for (hub, provider) in &self.providers {
            for (to, queue) in &provider.outbound {
                if let Some(head) = queue.front() {
                    transmissions.push((hub.clone(), to.clone(), head.clone()));
                }
            }
        }
        for (hub, to, notify) in transmissions {
            let Outbound {
                room,
                body,
                withheld,
            } = notify;
            *self.stats.notify_requests.entry(to.clone()).or_default() += 1;
            *self.stats.notify_bytes.entry(to.clone()).or_default() += body.len() as u64;
            if self.rng.gen_bool(self.faults.loss.clamp(0.0, 1.0)) {
                self.stats.lost += 1;
                continue;
            }
            self.deliver_notify(&hub, &to, &room, &body, &withheld)?;
            if self.rng.gen_bool(self.faults.duplicate.clamp(0.0, 1.0)) {
                self.deliver_notify(&hub, &to, &room, &body, &withheld)?;
            }
            if self.rng.gen_bool(self.faults.replay.clamp(0.0, 1.0)) {
                self.replays.push((
                    hub.clone(),
                    to.clone(),
                    Outbound {
                        room: room.clone(),
                        body: body.clone(),
                        withheld: withheld.clone(),
                    },
                ));
            }
            let acknowledged = !self.rng.gen_bool(self.faults.ack_loss.clamp(0.0, 1.0));
            if acknowledged && let Some(queue) = self.provider_mut(&hub)?.outbound.get_mut(&to) {
                queue.pop_front();
            }
        }
        if !self.replays.is_empty() && self.rng.gen_bool(0.3) {
            let at = self.rng.gen_range(0..self.replays.len());
            let (hub, to, notify) = self.replays.swap_remove(at);
            self.deliver_notify(&hub, &to, &notify.room, &notify.body, &notify.withheld)?;
        }
        self.now_ms += STEP_MS;
        Ok(())
    }

    /// Steps until no fan-out waits, at most `max_steps` times, sending nothing new from the
    /// devices (a test holding a request back keeps it).
    pub fn flush(&mut self, max_steps: usize) -> Result<usize, SimError> {
        for n in 0..max_steps {
            if self.is_quiet() {
                return Ok(n);
            }
            self.step()?;
        }
        if self.is_quiet() {
            Ok(max_steps)
        } else {
            Err(SimError::NotSettled(max_steps))
        }
    }

    /// Sends what the devices queued by themselves (a message re-sent after the hub found it
    /// too old) and steps until nothing waits, at most `max_steps` times.
    pub fn settle(&mut self, max_steps: usize) -> Result<usize, SimError> {
        for n in 0..max_steps {
            self.pump()?;
            if self.is_quiet() {
                return Ok(n);
            }
            self.step()?;
        }
        self.pump()?;
        if self.is_quiet() {
            Ok(max_steps)
        } else {
            Err(SimError::NotSettled(max_steps))
        }
    }

    /// A follower receives a notify body (its application messages withheld from the
    /// follower's devices `withheld`) and hands the deliveries to its devices, as the real
    /// server does: a list naming another provider's device is refused whole.
    fn deliver_notify(
        &mut self,
        hub: &Domain,
        to: &Domain,
        room: &RoomUri,
        body: &[u8],
        withheld: &BTreeSet<ClientUri>,
    ) -> Result<(), SimError> {
        if let Some(foreign) = withheld.iter().find(|d| d.domain() != to) {
            return Err(SimError::Other(format!(
                "the withheld devices name {foreign}, a device of another provider than {to}"
            )));
        }
        let request: NotifyRequest = decode_exact(body).map_err(wire)?;
        let now_s = self.now_s();
        let provider = self.provider_mut(to)?;
        let claims = provider.claims.clone();
        // A follower's first notify of a room: its inbox follows the member devices here from
        // those it knows (none, or those that joined), as the real server does.
        let known = provider.room_devices.get(room).cloned().unwrap_or_default();
        let inbox = provider.inboxes.entry(room.clone()).or_insert_with(|| {
            RoomInbox::for_members(room.clone(), LocalMembers::with_unplaced(to.clone(), known))
        });
        let receipt = inbox
            .receive_withholding(hub, request, withheld.clone(), &|r: &[u8]| {
                claims.get(r).cloned()
            })
            .map_err(|e| SimError::Other(e.to_string()))?;
        if receipt.duplicate {
            self.stats.duplicates_ignored += 1;
            return Ok(());
        }
        let mut local: BTreeSet<ClientUri> =
            provider.room_devices.get(room).cloned().unwrap_or_default();
        let mut handoffs = Vec::new();
        for delivery in receipt.deliveries {
            let targets: Vec<ClientUri> = match &delivery.to {
                Recipients::Client(client) => {
                    local.insert(client.clone());
                    vec![client.clone()]
                }
                Recipients::Room => local.iter().cloned().collect(),
                Recipients::Devices(devices) => {
                    local = devices.iter().cloned().collect();
                    devices.clone()
                }
                Recipients::Only(devices) => devices.clone(),
            };
            handoffs.push((targets, delivery));
        }
        provider.room_devices.insert(room.clone(), local);
        for (clients, delivery) in handoffs {
            let addressed_to = match &delivery.to {
                Recipients::Client(client) => Some(client.clone()),
                _ => None,
            };
            for client in clients {
                if let Some(device) = self.devices.get_mut(&client) {
                    device.receive(now_s, addressed_to.as_ref(), &delivery);
                    self.delivered.push((client, delivery.clone()));
                }
            }
        }
        Ok(())
    }

    /// The devices of `user`.
    pub fn devices_of(&self, user: &UserUri) -> Vec<ClientUri> {
        self.devices
            .iter()
            .filter(|(_, d)| d.client.user() == user)
            .map(|(c, _)| c.clone())
            .collect()
    }
}
