//! What users do, through their devices' client engines: create a room, add and remove users
//! and devices, join externally, leave, commit, send. Each command is the engine's own; the
//! simulator carries the requests it queues and reports the outcomes back.

use std::collections::BTreeSet;

use mimi_client_core::{Client, ClientError, Invitee, OpId, RoomOptions, SendOutcome};
use mimi_ds::follower::{LocalMembers, RoomInbox};
use mimi_ds::hub::HubRoom;
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;
use mimi_mls::{CreatedGroup, ExternalSenderInfo, HubGroup};
use mimi_room::presets::Preset;
use mimi_types::{ClientUri, RoomUri, UserUri};
use rand::rngs::StdRng;

use super::{Network, SimError};

/// The hub's answer to an `update`, or an error for any other outcome.
pub(super) fn update_outcome(outcome: SendOutcome) -> Result<UpdateOutcome, SimError> {
    match outcome {
        SendOutcome::Update(u) => Ok(u),
        other => Err(SimError::Other(format!("not an update outcome: {other:?}"))),
    }
}

/// The hub's answer to a `submitMessage`, or an error for any other outcome.
pub(super) fn submit_outcome(outcome: SendOutcome) -> Result<SubmitOutcome, SimError> {
    match outcome {
        SendOutcome::Submit(s) => Ok(s),
        other => Err(SimError::Other(format!("not a submit outcome: {other:?}"))),
    }
}

impl Network {
    /// Runs `command` on `actor`'s engine (given virtual time in seconds and the content
    /// randomness) and sends what it queued; returns the operation's outcome.
    pub fn command(
        &mut self,
        actor: &ClientUri,
        command: impl FnOnce(&mut Client, u64, &mut StdRng) -> Result<OpId, ClientError>,
    ) -> Result<SendOutcome, SimError> {
        let op = self.queue_command(actor, command)?;
        self.run(actor, op)
    }

    /// Runs `command` on `actor`'s engine without sending anything.
    pub(super) fn queue_command(
        &mut self,
        actor: &ClientUri,
        command: impl FnOnce(&mut Client, u64, &mut StdRng) -> Result<OpId, ClientError>,
    ) -> Result<OpId, SimError> {
        let now_s = self.now_s();
        let device = self
            .devices
            .get_mut(actor)
            .ok_or_else(|| SimError::Unknown(format!("device {actor}")))?;
        let op = command(&mut device.client, now_s, &mut self.content_rng);
        device.drain_events();
        Ok(op?)
    }

    /// `creator` creates `room` (hosted by the room URI's domain) with `preset`.
    pub fn create_room(
        &mut self,
        creator: &ClientUri,
        room: &str,
        preset: Preset,
    ) -> Result<RoomUri, SimError> {
        self.create_room_with(creator, room, preset, &RoomOptions::default())
    }

    /// Like [`Network::create_room`], with capabilities added to the preset's roles.
    pub fn create_room_with(
        &mut self,
        creator: &ClientUri,
        room: &str,
        preset: Preset,
        options: &RoomOptions,
    ) -> Result<RoomUri, SimError> {
        self.create_room_by(creator, room, |client, now, room, hub| {
            client.create_room_with(now, room, preset, options, hub)
        })
    }

    /// `creator` creates `room` with `create` (one of the engine's room-creating commands);
    /// the room's hub takes the group it made.
    pub fn create_room_by(
        &mut self,
        creator: &ClientUri,
        room: &str,
        create: impl FnOnce(
            &mut Client,
            u64,
            &RoomUri,
            &ExternalSenderInfo,
        ) -> Result<CreatedGroup, ClientError>,
    ) -> Result<RoomUri, SimError> {
        let room = RoomUri::parse(room).map_err(|e| SimError::Other(e.to_string()))?;
        let now_s = self.now_s();
        let hub_sender = self
            .providers
            .get(room.hub_domain())
            .ok_or_else(|| SimError::Unknown(format!("hub {}", room.hub_domain())))?
            .server
            .external_sender();
        let device = self.device_mut(creator)?;
        let created = create(&mut device.client, now_s, &room, &hub_sender);
        device.drain_events();
        let created = created?;
        let hub_group = HubGroup::new(
            &created.group_info,
            &created.ratchet_tree,
            self.trust.clone(),
            now_s,
        )?;
        let hub = self.provider_mut(room.hub_domain())?;
        hub.hub_rooms
            .insert(room.clone(), HubRoom::new(room.clone(), hub_group));
        // The creator's provider follows the member devices from the creator's tree.
        let provider = self.provider_mut(creator.domain())?;
        let mut members = LocalMembers::new(provider.domain.clone());
        members.start_from_tree(&created.ratchet_tree)?;
        provider
            .inboxes
            .insert(room.clone(), RoomInbox::for_members(room.clone(), members));
        provider
            .room_devices
            .entry(room.clone())
            .or_default()
            .insert(creator.clone());
        Ok(room)
    }

    /// `actor` invites `users` (every device of each, KeyPackages fetched through the room's
    /// hub) to `room` in one commit.
    pub fn add_users(
        &mut self,
        actor: &ClientUri,
        room: &RoomUri,
        users: &[UserUri],
    ) -> Result<UpdateOutcome, SimError> {
        let mut invitees = Vec::new();
        for user in users {
            let key_packages = self
                .key_material(actor, user, room)?
                .into_iter()
                .map(|(_, kp)| kp)
                .collect();
            invitees.push(Invitee::new(user.clone(), key_packages));
        }
        let outcome = self.command(actor, |client, now, _| client.invite(now, room, &invitees))?;
        for user in users {
            for device in self.devices_of(user) {
                self.top_up_key_packages(&device)?;
            }
        }
        update_outcome(outcome)
    }

    /// `actor` adds the devices of its own user that are not yet in `room` (no
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
            .and_then(|d| d.client.group(room))
            .map(|g| g.members().into_iter().map(|m| m.client).collect())
            .unwrap_or_default();
        let key_packages: Vec<Vec<u8>> = self
            .key_material(actor, user, room)?
            .into_iter()
            .filter(|(client, _)| !members.contains(client))
            .map(|(_, kp)| kp)
            .collect();
        let outcome = self.command(actor, |client, now, _| {
            client.add_own_device(now, room, &key_packages)
        })?;
        for device in self.devices_of(user) {
            self.top_up_key_packages(&device)?;
        }
        update_outcome(outcome)
    }

    /// `device` (of a user who is already a participant) joins `room` by an external commit:
    /// it fetches the GroupInfo, tree and pending proposals from the hub with a signed
    /// `groupInfo` request (answer encrypted to it and signed by the hub), then commits.
    pub fn join_external(
        &mut self,
        device: &ClientUri,
        room: &RoomUri,
    ) -> Result<UpdateOutcome, SimError> {
        let material = self.fetch_group_info(device, room)?;
        let outcome = self.command(device, |client, now, _| {
            client.join_external(
                now,
                room,
                &material.group_info,
                &material.tree,
                &material.pending,
            )
        })?;
        let outcome = update_outcome(outcome)?;
        if matches!(outcome, UpdateOutcome::Success { .. }) {
            self.provider_mut(device.domain())?
                .room_devices
                .entry(room.clone())
                .or_default()
                .insert(device.clone());
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
        update_outcome(self.command(actor, |client, now, _| client.remove(now, room, users))?)
    }

    /// `actor` refreshes its leaf (a commit with no changes, committing pending proposals).
    pub fn self_update(
        &mut self,
        actor: &ClientUri,
        room: &RoomUri,
    ) -> Result<UpdateOutcome, SimError> {
        update_outcome(self.command(actor, |client, now, _| client.commit_pending(now, room))?)
    }

    /// `device`'s user leaves `room`: the participant-list removal and the device's
    /// SelfRemove, as proposals the hub caches for the next commit.
    pub fn leave(&mut self, device: &ClientUri, room: &RoomUri) -> Result<UpdateOutcome, SimError> {
        update_outcome(self.command(device, |client, _, _| client.leave(room))?)
    }

    /// `sender` sends `text` as a message in `room`.
    pub fn send(
        &mut self,
        sender: &ClientUri,
        room: &RoomUri,
        text: &str,
    ) -> Result<SubmitOutcome, SimError> {
        submit_outcome(self.command(sender, |client, _, rng| {
            client.send_text(rng, room, text).map(|(op, _)| op)
        })?)
    }
}
