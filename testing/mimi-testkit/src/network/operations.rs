//! What users do: create a room, add and remove users and devices, join externally, leave,
//! commit, send.

use std::collections::{BTreeMap, BTreeSet};

use mimi_ds::hub::HubRoom;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::decode_exact;
use mimi_federation_api::mls::{MlsMessage, RatchetTree};
use mimi_federation_api::ratchet_tree::{GroupInfoOption, RatchetTreeOption};
use mimi_federation_api::submit_message::{SubmitMessageRequest, SubmitOutcome};
use mimi_federation_api::update::{
    CommitBundle, HandshakeBundle, ProposalBundle, UpdateOutcome, UpdateRequest,
};
use mimi_mls::{ClientGroup, HubGroup, OutgoingCommit};
use mimi_room::components::{Component as _, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_room::{ComponentChange, ComponentOp};
use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, RoomUri, UserUri};

use crate::client::{DeviceEvent, digest};

use super::{Network, SimError, wire};

impl Network {
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
}
