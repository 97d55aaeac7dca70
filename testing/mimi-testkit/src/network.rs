//! The simulated federation and its faulty network.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use mimi_ds::follower::{KeyPackageEntry, KeyPackagePool};
use mimi_ds::hub::HubRoom;
use mimi_ds::{Effect, Recipients, RequestError};
use mimi_federation_api::mls::MlsMessage;
use mimi_federation_api::notify::NotifyRequest;
use mimi_federation_api::{Encode, decode_exact};
use mimi_mls::{ClientGroup, ClientIdentity, ProviderCa, ServerIdentity, TrustStore, Validity};
use mimi_types::{ClientUri, Domain, Ident, RoomUri, UserUri};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::client::SimDevice;
use crate::provider::SimProvider;

mod operations;
mod requests;

const YEAR: u64 = 365 * 24 * 3600;
const KEY_PACKAGE_LIFETIME: u64 = 30 * 24 * 3600;
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
    faults: Faults,
    trust: TrustStore,
    providers: BTreeMap<Domain, SimProvider>,
    devices: BTreeMap<ClientUri, SimDevice>,
    replays: Vec<(Domain, Domain, RoomUri, Vec<u8>)>,
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
            faults: Faults::none(),
            trust,
            providers,
            devices: BTreeMap::new(),
            replays: Vec::new(),
            stats: NetworkStats::default(),
        })
    }

    /// Sets the fault probabilities of fan-out transmissions.
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// Virtual time, milliseconds since the UNIX epoch.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    fn now_s(&self) -> u64 {
        self.now_ms / 1000
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
    pub fn device(&self, client: &ClientUri) -> Option<&SimDevice> {
        self.devices.get(client)
    }

    /// Every device, by URI.
    pub fn devices(&self) -> impl Iterator<Item = (&ClientUri, &SimDevice)> {
        self.devices.iter()
    }

    fn provider_mut(&mut self, domain: &Domain) -> Result<&mut SimProvider, SimError> {
        self.providers
            .get_mut(domain)
            .ok_or_else(|| SimError::Unknown(format!("provider {domain}")))
    }

    fn device_mut(&mut self, client: &ClientUri) -> Result<&mut SimDevice, SimError> {
        self.devices
            .get_mut(client)
            .ok_or_else(|| SimError::Unknown(format!("device {client}")))
    }

    fn group_mut(
        &mut self,
        client: &ClientUri,
        room: &RoomUri,
    ) -> Result<&mut ClientGroup, SimError> {
        self.device_mut(client)?
            .groups
            .get_mut(room)
            .ok_or_else(|| SimError::Unknown(format!("{client} in {room}")))
    }

    fn hub_mut(&mut self, room: &RoomUri) -> Result<&mut HubRoom, SimError> {
        self.provider_mut(room.hub_domain())?
            .hub_rooms
            .get_mut(room)
            .ok_or_else(|| SimError::Unknown(format!("room {room}")))
    }

    /// Registers device `device` of `user` at the user's provider, with fresh KeyPackages.
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
        self.devices
            .insert(client.clone(), SimDevice::new(identity));
        self.top_up_key_packages(&client)?;
        Ok(client)
    }

    /// Uploads KeyPackages until the device has [`KEY_PACKAGES_PER_DEVICE`] fresh ones.
    pub fn top_up_key_packages(&mut self, client: &ClientUri) -> Result<(), SimError> {
        let now_ms = self.now_ms;
        let now_s = self.now_s();
        let have = self
            .providers
            .get(client.domain())
            .map_or(0, |p| p.fresh_key_packages(client, now_ms));
        let mut entries = Vec::new();
        for _ in have..KEY_PACKAGES_PER_DEVICE {
            let published = self
                .devices
                .get(client)
                .ok_or_else(|| SimError::Unknown(format!("device {client}")))?
                .identity
                .key_package(now_s, KEY_PACKAGE_LIFETIME, false)?;
            let bare = MlsMessage::from_bytes(published.message)
                .and_then(|m| m.to_key_package())
                .map_err(wire)?;
            entries.push(KeyPackageEntry {
                key_package: bare.into_bytes(),
                reference: published.reference,
                last_resort: published.last_resort,
                not_after: published.not_after,
            });
        }
        let user = self
            .devices
            .get(client)
            .map(|d| d.identity.user().clone())
            .ok_or_else(|| SimError::Unknown(format!("device {client}")))?;
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

    /// Hands the hub's effects to its per-follower queues.
    fn enqueue(&mut self, hub: Domain, effects: Vec<Effect>) -> Result<(), SimError> {
        let provider = self.provider_mut(&hub)?;
        for effect in effects {
            match effect {
                Effect::Notify {
                    to, room, message, ..
                } => {
                    let body = NotifyRequest::new(vec![message]).encode().map_err(wire)?;
                    provider
                        .outbound
                        .entry(to)
                        .or_default()
                        .push_back((room, body));
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

    /// One round: every non-empty queue transmits its head once (subject to faults), replays
    /// may arrive, devices process what they received, and virtual time advances.
    pub fn step(&mut self) -> Result<(), SimError> {
        let mut transmissions = Vec::new();
        for (hub, provider) in &self.providers {
            for (to, queue) in &provider.outbound {
                if let Some((room, body)) = queue.front() {
                    transmissions.push((hub.clone(), to.clone(), room.clone(), body.clone()));
                }
            }
        }
        for (hub, to, room, body) in transmissions {
            *self.stats.notify_requests.entry(to.clone()).or_default() += 1;
            *self.stats.notify_bytes.entry(to.clone()).or_default() += body.len() as u64;
            if self.rng.gen_bool(self.faults.loss.clamp(0.0, 1.0)) {
                self.stats.lost += 1;
                continue;
            }
            self.deliver_notify(&hub, &to, &room, &body)?;
            if self.rng.gen_bool(self.faults.duplicate.clamp(0.0, 1.0)) {
                self.deliver_notify(&hub, &to, &room, &body)?;
            }
            if self.rng.gen_bool(self.faults.replay.clamp(0.0, 1.0)) {
                self.replays
                    .push((hub.clone(), to.clone(), room.clone(), body.clone()));
            }
            let acknowledged = !self.rng.gen_bool(self.faults.ack_loss.clamp(0.0, 1.0));
            if acknowledged && let Some(queue) = self.provider_mut(&hub)?.outbound.get_mut(&to) {
                queue.pop_front();
            }
        }
        if !self.replays.is_empty() && self.rng.gen_bool(0.3) {
            let at = self.rng.gen_range(0..self.replays.len());
            let (hub, to, room, body) = self.replays.swap_remove(at);
            self.deliver_notify(&hub, &to, &room, &body)?;
        }
        self.now_ms += STEP_MS;
        Ok(())
    }

    /// Steps until nothing waits, at most `max_steps` times.
    pub fn settle(&mut self, max_steps: usize) -> Result<usize, SimError> {
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

    /// A follower receives a notify body and hands the deliveries to its devices.
    fn deliver_notify(
        &mut self,
        hub: &Domain,
        to: &Domain,
        room: &RoomUri,
        body: &[u8],
    ) -> Result<(), SimError> {
        let request: NotifyRequest = decode_exact(body).map_err(wire)?;
        let now_s = self.now_s();
        let provider = self.provider_mut(to)?;
        let claims = provider.claims.clone();
        let inbox = provider
            .inboxes
            .entry(room.clone())
            .or_insert_with(|| mimi_ds::follower::RoomInbox::new(room.clone()));
        let receipt = inbox
            .receive(hub, request, &|r: &[u8]| claims.get(r).cloned())
            .map_err(|e| SimError::Other(e.to_string()))?;
        if receipt.duplicate {
            self.stats.duplicates_ignored += 1;
            return Ok(());
        }
        let mut local: BTreeSet<ClientUri> =
            provider.room_devices.get(room).cloned().unwrap_or_default();
        let mut handoffs = Vec::new();
        for delivery in receipt.deliveries {
            match &delivery.to {
                Recipients::Client(client) => {
                    local.insert(client.clone());
                    handoffs.push((vec![client.clone()], delivery));
                }
                _ => handoffs.push((local.iter().cloned().collect(), delivery)),
            }
        }
        provider.room_devices.insert(room.clone(), local);
        let trust = self.trust.clone();
        for (clients, delivery) in handoffs {
            for client in clients {
                if let Some(device) = self.devices.get_mut(&client) {
                    device.handle(delivery.clone(), &trust, now_s);
                }
            }
        }
        Ok(())
    }

    /// The devices of `user`.
    pub fn devices_of(&self, user: &UserUri) -> Vec<ClientUri> {
        self.devices
            .iter()
            .filter(|(_, d)| d.identity.user() == user)
            .map(|(c, _)| c.clone())
            .collect()
    }
}
