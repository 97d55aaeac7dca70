//! The simulated federation and its faulty network.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use mimi_ds::follower::{
    KeyMaterialContext, KeyMaterialGrant, KeyPackageEntry, KeyPackagePool, answer_key_material,
};
use mimi_ds::hub::{AbuseReportOutcome, GROUP_INFO_ENCRYPTION_LABEL, HubRoom};
use mimi_ds::{Effect, Recipients, RequestError};
use mimi_federation_api::codec::Reader;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::group_info::{
    GroupInfoOutcome, GroupInfoRatchetTreeTbe, GroupInfoRequest, GroupInfoRequestTbs,
    GroupInfoResponse,
};
use mimi_federation_api::key_material::{
    ClientMaterial, KeyMaterialRequest, KeyMaterialRequestTbs,
};
use mimi_federation_api::mls::{
    Credential, HpkePublicKey, MlsMessage, RatchetTree, RequiredCapabilities, Signature,
    SignaturePublicKey,
};
use mimi_federation_api::notify::NotifyRequest;
use mimi_federation_api::ratchet_tree::{GroupInfoOption, RatchetTreeOption};
use mimi_federation_api::report_abuse::AbuseReport;
use mimi_federation_api::submit_message::{SubmitMessageRequest, SubmitOutcome};
use mimi_federation_api::update::{
    CommitBundle, HandshakeBundle, ProposalBundle, UpdateOutcome, UpdateRequest,
};
use mimi_federation_api::{Encode, decode_exact};
use mimi_mls::{
    ClientGroup, ClientIdentity, HpkeKeyPair, HubGroup, OutgoingCommit, ProviderCa, ServerIdentity,
    TrustStore, Validity, sign,
};
use mimi_room::components::{Component as _, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_room::{ComponentChange, ComponentOp};
use mimi_types::codepoints::{ComponentId, DEFAULT_CIPHERSUITE};
use mimi_types::{ClientUri, Domain, Ident, RoomUri, UserUri};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::client::{DeviceEvent, SimDevice, digest};
use crate::provider::SimProvider;

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

    /// `creator` creates `room` (hosted by the room URI's domain) with `preset`.
    pub fn create_room(
        &mut self,
        creator: &ClientUri,
        room: &str,
        preset: Preset,
    ) -> Result<RoomUri, SimError> {
        let room = RoomUri::parse(room).map_err(|e| SimError::Other(e.to_string()))?;
        let now_s = self.now_s();
        let trust = self.trust.clone();
        let hub_sender = self
            .providers
            .get(room.hub_domain())
            .ok_or_else(|| SimError::Unknown(format!("hub {}", room.hub_domain())))?
            .server
            .external_sender();
        let device = self.device_mut(creator)?;
        let state = RoomCreation::new(preset, room.clone(), device.identity.user().clone())
            .initial_state()
            .map_err(|e| SimError::Other(e.to_string()))?;
        let (group, created) = ClientGroup::create(
            &device.identity,
            &room.group_uri(),
            &hub_sender,
            &state,
            trust.clone(),
            now_s,
        )?;
        device.events.push(DeviceEvent::Joined {
            room: room.clone(),
            epoch: group.epoch(),
        });
        device.groups.insert(room.clone(), group);
        let hub_group = HubGroup::new(&created.group_info, &created.ratchet_tree, trust, now_s)?;
        let hub = self.provider_mut(room.hub_domain())?;
        hub.hub_rooms
            .insert(room.clone(), HubRoom::new(room.clone(), hub_group));
        self.provider_mut(creator.domain())?
            .room_devices
            .entry(room.clone())
            .or_default()
            .insert(creator.clone());
        Ok(room)
    }

    /// The signed `keyMaterial` request of `actor` for `target`'s devices, for `room`.
    pub fn key_material_request(
        &self,
        actor: &ClientUri,
        target: &UserUri,
        room: &RoomUri,
    ) -> Result<KeyMaterialRequest, SimError> {
        let device = self
            .devices
            .get(actor)
            .ok_or_else(|| SimError::Unknown(format!("device {actor}")))?;
        let requester = device.identity.user().clone();
        let tbs = KeyMaterialRequestTbs::new(
            IdentifierUri::from_string(requester.to_string()).map_err(wire)?,
            IdentifierUri::from_string(target.to_string()).map_err(wire)?,
            IdentifierUri::from_string(room.to_string()).map_err(wire)?,
            vec![DEFAULT_CIPHERSUITE],
            RequiredCapabilities::from_bytes(required_capabilities()).map_err(wire)?,
            SignaturePublicKey::from_bytes(device.identity.signing_key().public().to_vec())
                .map_err(wire)?,
            Credential::from_bytes(device.identity.mls_credential_bytes()?).map_err(wire)?,
        );
        let tbs_bytes = tbs.encode().map_err(wire)?;
        let signature = sign::sign_with_label(
            device.identity.signing_key(),
            sign::KEY_MATERIAL_REQUEST,
            &tbs_bytes,
        )
        .map_err(|e| SimError::Other(e.to_string()))?;
        Ok(tbs.sign(Signature::from_bytes(signature).map_err(wire)?))
    }

    /// `POST /keyMaterial` arriving at the target user's provider from `peer`, as bytes on the
    /// wire. Claimed KeyPackages are recorded for Welcome routing.
    pub fn target_key_material(
        &mut self,
        peer: &Domain,
        request: &KeyMaterialRequest,
    ) -> Result<KeyMaterialGrant, SimError> {
        let request: KeyMaterialRequest =
            decode_exact(&request.encode().map_err(wire)?).map_err(wire)?;
        let target = request.tbs.target_user.to_user().map_err(wire)?;
        let now_ms = self.now_ms;
        let trust = self.trust.clone();
        let target_provider = self.provider_mut(target.domain())?;
        let our_domain = target_provider.domain.clone();
        let mut devices = target_provider.users.get(&target).cloned();
        let grant = answer_key_material(
            KeyMaterialContext {
                now_ms,
                peer,
                our_domain: &our_domain,
                trust: &trust,
            },
            &request,
            devices.as_mut(),
            &target_provider.consent,
            &mut target_provider.limiter,
        )?;
        if let Some(devices) = devices {
            target_provider.users.insert(target.clone(), devices);
        }
        for (reference, client) in &grant.claimed {
            target_provider
                .claims
                .insert(reference.clone(), client.clone());
        }
        Ok(grant)
    }

    /// `actor` fetches one KeyPackage per device of `target` for `room`, through the room's
    /// hub (which records the routes for the Welcome). Returns each device and its KeyPackage
    /// as an MLSMessage.
    pub fn key_material(
        &mut self,
        actor: &ClientUri,
        target: &UserUri,
        room: &RoomUri,
    ) -> Result<Vec<(ClientUri, Vec<u8>)>, SimError> {
        let request = self.key_material_request(actor, target, room)?;
        let grant = self.target_key_material(&room.hub_domain().clone(), &request)?;
        let refs = grant.claimed.iter().map(|(r, _)| r.clone());
        let target_domain = target.domain().clone();
        self.hub_mut(room)?.record_routes(&target_domain, refs);
        let mut out = Vec::new();
        for client in &grant.response.clients {
            if let ClientMaterial::Success(kp) = &client.material {
                let uri = client.client_uri.to_client().map_err(wire)?;
                out.push((uri, kp.to_mls_message().map_err(wire)?.into_bytes()));
            }
        }
        Ok(out)
    }

    /// `actor` adds `users` (every device of each) to `room` in one commit.
    pub fn add_users(
        &mut self,
        actor: &ClientUri,
        room: &RoomUri,
        users: &[UserUri],
    ) -> Result<UpdateOutcome, SimError> {
        let mut key_packages = Vec::new();
        for user in users {
            key_packages.extend(
                self.key_material(actor, user, room)?
                    .into_iter()
                    .map(|(_, kp)| kp),
            );
        }
        let update = ParticipantListUpdate {
            added_participants: users
                .iter()
                .map(|u| UserRolePair::new(u.clone(), RoleIndex(2)))
                .collect(),
            ..Default::default()
        };
        let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode());
        let now_s = self.now_s();
        let out = self
            .group_mut(actor, room)?
            .commit(&[change], &key_packages, &[], now_s)?;
        let outcome = self.submit_commit(actor, room, out)?;
        for user in users {
            for device in self.devices_of(user) {
                self.top_up_key_packages(&device)?;
            }
        }
        Ok(outcome)
    }

    /// `actor` adds every device of `user`, already a participant, to `room` (no
    /// participant-list change: a new device of a member).
    pub fn add_devices(
        &mut self,
        actor: &ClientUri,
        room: &RoomUri,
        user: &UserUri,
    ) -> Result<UpdateOutcome, SimError> {
        let members: BTreeSet<ClientUri> = self
            .devices
            .get(actor)
            .and_then(|d| d.groups.get(room))
            .map(|g| g.members().into_iter().map(|m| m.client).collect())
            .unwrap_or_default();
        let key_packages: Vec<Vec<u8>> = self
            .key_material(actor, user, room)?
            .into_iter()
            .filter(|(client, _)| !members.contains(client))
            .map(|(_, kp)| kp)
            .collect();
        let now_s = self.now_s();
        let out = self
            .group_mut(actor, room)?
            .commit(&[], &key_packages, &[], now_s)?;
        let outcome = self.submit_commit(actor, room, out)?;
        for device in self.devices_of(user) {
            self.top_up_key_packages(&device)?;
        }
        Ok(outcome)
    }

    /// `device` (of a user who is already a participant) joins `room` by an external commit:
    /// it fetches the GroupInfo, tree and pending proposals from the hub with a signed
    /// `groupInfo` request (answer encrypted to it and signed by the hub), then commits.
    pub fn join_external(
        &mut self,
        device: &ClientUri,
        room: &RoomUri,
    ) -> Result<UpdateOutcome, SimError> {
        let now_s = self.now_s();
        let trust = self.trust.clone();
        let material = self.fetch_group_info(device, room)?;
        let state = self.device_mut(device)?;
        let (group, out) = ClientGroup::join_external(
            &state.identity,
            &material.group_info,
            &material.tree,
            &material.pending,
            trust,
            now_s,
        )?;
        state.groups.insert(room.clone(), group);
        let outcome = self.submit_commit(device, room, out)?;
        if matches!(outcome, UpdateOutcome::Success { .. }) {
            let epoch = self.group_mut(device, room)?.epoch();
            self.device_mut(device)?.events.push(DeviceEvent::Joined {
                room: room.clone(),
                epoch,
            });
            self.provider_mut(device.domain())?
                .room_devices
                .entry(room.clone())
                .or_default()
                .insert(device.clone());
        } else {
            self.device_mut(device)?.groups.remove(room);
        }
        Ok(outcome)
    }

    /// The signed `groupInfo` request of `device`, and the HPKE key pair it opens the answer
    /// with.
    pub fn group_info_request(
        &self,
        device: &ClientUri,
    ) -> Result<(GroupInfoRequest, HpkeKeyPair), SimError> {
        let identity = &self
            .devices
            .get(device)
            .ok_or_else(|| SimError::Unknown(format!("device {device}")))?
            .identity;
        let pair = mimi_mls::hpke_key_pair()?;
        let tbs = GroupInfoRequestTbs::new(
            DEFAULT_CIPHERSUITE,
            SignaturePublicKey::from_bytes(identity.signing_key().public().to_vec())
                .map_err(wire)?,
            Credential::from_bytes(identity.mls_credential_bytes()?).map_err(wire)?,
            HpkePublicKey::from_bytes(pair.public.clone()).map_err(wire)?,
            None,
        );
        let signature = sign::sign_with_label(
            identity.signing_key(),
            sign::GROUP_INFO_REQUEST,
            &tbs.encode().map_err(wire)?,
        )
        .map_err(|e| SimError::Other(e.to_string()))?;
        Ok((
            tbs.sign(Signature::from_bytes(signature).map_err(wire)?),
            pair,
        ))
    }

    /// `POST /groupInfo` from `peer` to the room's hub, as bytes on the wire.
    pub fn hub_group_info(
        &self,
        peer: &Domain,
        room: &RoomUri,
        request: &GroupInfoRequest,
    ) -> Result<GroupInfoResponse, SimError> {
        let request: GroupInfoRequest =
            decode_exact(&request.encode().map_err(wire)?).map_err(wire)?;
        let hub = self
            .providers
            .get(room.hub_domain())
            .ok_or_else(|| SimError::Unknown(format!("hub {}", room.hub_domain())))?;
        let hub_room = hub
            .hub_rooms
            .get(room)
            .ok_or_else(|| SimError::Unknown(format!("room {room}")))?;
        let response =
            hub_room.handle_group_info(self.now_ms, peer, &request, &self.trust, &hub.server)?;
        decode_exact(&response.encode().map_err(wire)?).map_err(wire)
    }

    /// Fetches and opens the GroupInfo of `room` for `device`.
    fn fetch_group_info(
        &self,
        device: &ClientUri,
        room: &RoomUri,
    ) -> Result<JoinMaterial, SimError> {
        let (request, pair) = self.group_info_request(device)?;
        let response = self.hub_group_info(device.domain(), room, &request)?;
        let tbs = response
            .tbs()
            .ok_or_else(|| SimError::Other(format!("groupInfo refused: {:?}", response.outcome)))?;
        let GroupInfoOutcome::Success(success) = &response.outcome else {
            return Err(SimError::Other("groupInfo refused".into()));
        };
        // The hub signs with its external-sender key.
        let mut sender = Reader::new(success.hub_sender.as_bytes());
        let hub_key = sender.opaque("signature_key", usize::MAX).map_err(wire)?;
        sign::verify_with_label(
            hub_key,
            sign::GROUP_INFO_RESPONSE,
            &tbs.encode().map_err(wire)?,
            success.signature.as_bytes(),
        )
        .map_err(|e| SimError::Other(format!("hub signature: {e}")))?;
        let mut sealed = Reader::new(success.encrypted_groupinfo_and_tree.as_bytes());
        let kem_output = sealed.opaque("kem_output", usize::MAX).map_err(wire)?;
        let ciphertext = sealed.opaque("ciphertext", usize::MAX).map_err(wire)?;
        let plain = mimi_mls::decrypt_with_label(
            &pair.private,
            GROUP_INFO_ENCRYPTION_LABEL,
            room.to_string().as_bytes(),
            kem_output,
            ciphertext,
        )?;
        let tbe: GroupInfoRatchetTreeTbe = decode_exact(&plain).map_err(wire)?;
        let RatchetTreeOption::Full(tree) = &tbe.ratchet_tree_option else {
            return Err(SimError::Other("the hub sent no ratchet tree".into()));
        };
        Ok(JoinMaterial {
            group_info: tbe.group_info.to_mls_message().map_err(wire)?.into_bytes(),
            tree: tree.encode().map_err(wire)?,
            pending: tbe
                .pending_proposals
                .iter()
                .map(|p| p.proposal.as_bytes().to_vec())
                .collect(),
        })
    }

    /// `POST /reportAbuse` from `peer` to the room's hub.
    pub fn hub_report_abuse(
        &self,
        peer: &Domain,
        room: &RoomUri,
        report: &AbuseReport,
    ) -> Result<AbuseReportOutcome, SimError> {
        let report: AbuseReport = decode_exact(&report.encode().map_err(wire)?).map_err(wire)?;
        let hub = self
            .providers
            .get(room.hub_domain())
            .and_then(|p| p.hub_rooms.get(room))
            .ok_or_else(|| SimError::Unknown(format!("room {room}")))?;
        Ok(hub.handle_report_abuse(peer, report)?.response)
    }

    /// `actor` removes `users` and all their devices from `room` in one commit.
    pub fn remove_users(
        &mut self,
        actor: &ClientUri,
        room: &RoomUri,
        users: &[UserUri],
    ) -> Result<UpdateOutcome, SimError> {
        let group = self
            .devices
            .get(actor)
            .and_then(|d| d.groups.get(room))
            .ok_or_else(|| SimError::Unknown(format!("{actor} in {room}")))?;
        let list = &group.room().participants().participants;
        let mut removed_indices = Vec::new();
        for user in users {
            let index = list
                .iter()
                .position(|p| &p.user == user)
                .ok_or_else(|| SimError::Unknown(format!("participant {user}")))?;
            removed_indices.push(u32::try_from(index).map_err(|e| SimError::Other(e.to_string()))?);
        }
        let clients: Vec<ClientUri> = group
            .members()
            .into_iter()
            .filter(|m| users.contains(&m.user))
            .map(|m| m.client)
            .collect();
        let update = ParticipantListUpdate {
            removed_indices,
            ..Default::default()
        };
        let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode());
        let now_s = self.now_s();
        let out = self
            .group_mut(actor, room)?
            .commit(&[change], &[], &clients, now_s)?;
        self.submit_commit(actor, room, out)
    }

    /// `actor` refreshes its leaf (a commit with no changes, committing pending proposals).
    pub fn self_update(
        &mut self,
        actor: &ClientUri,
        room: &RoomUri,
    ) -> Result<UpdateOutcome, SimError> {
        let now_s = self.now_s();
        let out = self.group_mut(actor, room)?.self_update(now_s)?;
        self.submit_commit(actor, room, out)
    }

    /// Prepares a self-update commit of `actor` without submitting it (for commit races).
    pub fn prepare_self_update(
        &mut self,
        actor: &ClientUri,
        room: &RoomUri,
    ) -> Result<OutgoingCommit, SimError> {
        let now_s = self.now_s();
        Ok(self.group_mut(actor, room)?.self_update(now_s)?)
    }

    /// `user` leaves `room`: each of its devices proposes its SelfRemove and one device the
    /// participant-list removal, as proposals the hub caches for the next commit.
    pub fn leave(&mut self, device: &ClientUri, room: &RoomUri) -> Result<UpdateOutcome, SimError> {
        let messages = self.leave_proposals(device, room)?;
        let mut messages = messages.into_iter();
        let first = messages
            .next()
            .ok_or_else(|| SimError::Other("no proposals".into()))?;
        let bundle = ProposalBundle::new(first, messages.collect()).map_err(wire)?;
        let request = UpdateRequest::new(HandshakeBundle::Proposals(bundle));
        self.hub_update(&device.domain().clone(), room, &request)
    }

    /// The proposals of `device` leaving `room` (participant-list removal, then SelfRemove),
    /// created now and not sent.
    pub fn leave_proposals(
        &mut self,
        device: &ClientUri,
        room: &RoomUri,
    ) -> Result<Vec<MlsMessage>, SimError> {
        let group = self
            .devices
            .get(device)
            .and_then(|d| d.groups.get(room))
            .ok_or_else(|| SimError::Unknown(format!("{device} in {room}")))?;
        let me = group.me().user.clone();
        let index = group
            .room()
            .participants()
            .participants
            .iter()
            .position(|p| p.user == me)
            .ok_or_else(|| SimError::Unknown(format!("participant {me}")))?;
        let update = ParticipantListUpdate {
            removed_indices: vec![
                u32::try_from(index).map_err(|e| SimError::Other(e.to_string()))?,
            ],
            ..Default::default()
        };
        let change = ComponentChange {
            component: ComponentId::PARTICIPANT_LIST,
            op: ComponentOp::Update(update.encode()),
        };
        let group = self.group_mut(device, room)?;
        let mut proposals = group.propose_components(&[change])?;
        proposals.push(group.propose_leave()?);
        let device_state = self.device_mut(device)?;
        for p in &proposals {
            device_state.sent.insert(digest(p), None);
        }
        proposals
            .into_iter()
            .map(|p| MlsMessage::from_bytes(p).map_err(wire))
            .collect()
    }

    /// The `update` request carrying a prepared commit.
    pub fn commit_request(out: &OutgoingCommit) -> Result<UpdateRequest, SimError> {
        let commit = MlsMessage::from_bytes(out.commit.clone()).map_err(wire)?;
        let welcome = match &out.welcome {
            Some(w) => Some(
                MlsMessage::from_bytes(w.clone())
                    .and_then(|m| m.to_welcome())
                    .map_err(wire)?,
            ),
            None => None,
        };
        let group_info = match &out.group_info {
            Some(g) => MlsMessage::from_bytes(g.clone())
                .and_then(|m| m.to_group_info())
                .map_err(wire)?,
            None => return Err(SimError::Other("the commit carries no GroupInfo".into())),
        };
        let tree = decode_exact::<RatchetTree>(&out.ratchet_tree).map_err(wire)?;
        let bundle = CommitBundle::new(
            commit,
            welcome,
            GroupInfoOption::Full(group_info),
            RatchetTreeOption::Full(tree),
        )
        .map_err(wire)?;
        Ok(UpdateRequest::new(HandshakeBundle::Commit(bundle)))
    }

    /// `POST /update` from `peer` to the room's hub, as bytes on the wire; the fan-out of an
    /// accepted handshake is queued.
    pub fn hub_update(
        &mut self,
        peer: &Domain,
        room: &RoomUri,
        request: &UpdateRequest,
    ) -> Result<UpdateOutcome, SimError> {
        let request = decode_exact(&request.encode().map_err(wire)?).map_err(wire)?;
        let now_ms = self.now_ms;
        let output = self.hub_mut(room)?.handle_update(now_ms, peer, request)?;
        self.enqueue(room.hub_domain().clone(), output.effects)?;
        Ok(output.response.outcome)
    }

    /// `POST /submitMessage` from `peer` to the room's hub, as bytes on the wire.
    pub fn hub_submit(
        &mut self,
        peer: &Domain,
        room: &RoomUri,
        request: &SubmitMessageRequest,
    ) -> Result<SubmitOutcome, SimError> {
        let request = decode_exact(&request.encode().map_err(wire)?).map_err(wire)?;
        let now_ms = self.now_ms;
        let output = self.hub_mut(room)?.handle_submit(now_ms, peer, request)?;
        self.enqueue(room.hub_domain().clone(), output.effects)?;
        Ok(output.response.outcome)
    }

    /// A `notify` body from `from` arriving at `to`, outside the hub's queues (as a malicious
    /// or confused peer would send it).
    pub fn inject_notify(
        &mut self,
        from: &Domain,
        to: &Domain,
        room: &RoomUri,
        body: &[u8],
    ) -> Result<(), SimError> {
        self.deliver_notify(from, to, room, body)
    }

    /// Submits a prepared commit of `actor` to the hub; merges it on success, drops it
    /// otherwise.
    pub fn submit_commit(
        &mut self,
        actor: &ClientUri,
        room: &RoomUri,
        out: OutgoingCommit,
    ) -> Result<UpdateOutcome, SimError> {
        let request = Self::commit_request(&out)?;
        let outcome = self.hub_update(&actor.domain().clone(), room, &request)?;
        let group = self.group_mut(actor, room)?;
        if matches!(outcome, UpdateOutcome::Success { .. }) {
            group.merge_pending_commit()?;
            let epoch = group.epoch();
            let device = self.device_mut(actor)?;
            device.sent.insert(digest(&out.commit), None);
            device.events.push(DeviceEvent::Commit {
                room: room.clone(),
                epoch,
                removed_me: false,
            });
        } else {
            group.discard_pending_commit()?;
        }
        Ok(outcome)
    }

    /// The `submitMessage` request for `data` from `sender` (encrypted now).
    pub fn message_request(
        &mut self,
        sender: &ClientUri,
        room: &RoomUri,
        data: &[u8],
    ) -> Result<SubmitMessageRequest, SimError> {
        let group = self.group_mut(sender, room)?;
        let bytes = group.protect(data, &BTreeMap::new())?;
        let user = group.me().user.clone();
        self.device_mut(sender)?
            .sent
            .insert(digest(&bytes), Some(data.to_vec()));
        SubmitMessageRequest::new(
            MlsMessage::from_bytes(bytes).map_err(wire)?,
            IdentifierUri::from_string(user.to_string()).map_err(wire)?,
        )
        .map_err(wire)
    }

    /// `sender` sends `data` as an application message in `room`.
    pub fn send(
        &mut self,
        sender: &ClientUri,
        room: &RoomUri,
        data: &[u8],
    ) -> Result<SubmitOutcome, SimError> {
        let request = self.message_request(sender, room, data)?;
        self.hub_submit(&sender.domain().clone(), room, &request)
    }

    /// Hands the hub's effects to its per-follower queues.
    fn enqueue(&mut self, hub: Domain, effects: Vec<Effect>) -> Result<(), SimError> {
        let provider = self.provider_mut(&hub)?;
        for effect in effects {
            if let Effect::Notify { to, room, message } = effect {
                let body = NotifyRequest::new(vec![message]).encode().map_err(wire)?;
                provider
                    .outbound
                    .entry(to)
                    .or_default()
                    .push_back((room, body));
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
            .receive(hub, body, request, &|r: &[u8]| claims.get(r).cloned())
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

/// What an external joiner gets from the hub's `groupInfo` answer, opened.
struct JoinMaterial {
    /// The GroupInfo as an MLSMessage.
    group_info: Vec<u8>,
    /// The ratchet tree, TLS-encoded.
    tree: Vec<u8>,
    /// The proposals pending at the hub.
    pending: Vec<Vec<u8>>,
}

/// The RequiredCapabilities a MIMI room asks of KeyPackages: the app_data_dictionary
/// extension, the AppDataUpdate and SelfRemove proposals, X.509 credentials.
fn required_capabilities() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0x02, 0x00, 0x06]);
    out.extend_from_slice(&[0x04, 0x00, 0x08, 0x00, 0x0a]);
    out.extend_from_slice(&[0x02, 0x00, 0x02]);
    out
}
