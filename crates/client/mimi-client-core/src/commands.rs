//! Room commands: create, invite, add a device, remove, leave, roles, metadata, external join,
//! and KeyPackage top-up. Each queues a request (see [`Client::poll_request`]).

use mimi_federation_api::mls::MlsMessage;
use mimi_federation_api::update::{HandshakeBundle, ProposalBundle, UpdateRequest};
use mimi_mls::{ClientGroup, ComponentChange, CreatedGroup, ExternalSenderInfo};
use mimi_room::components::{
    Component as _, ParticipantListUpdate, RoleIndex, UserIndexRolePair, UserRolePair,
};
use mimi_room::presets::{Preset, RoomCreation, hub_service_user};
use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, RoomUri, UserUri};

use crate::client::{Client, PendingKind, Room, digest};
use crate::error::ClientError;
use crate::outgoing::{KeyPackageUpload, OpId, Outgoing};
use crate::view::RoomView;

/// The role invited users get unless the caller names one (`ordinary_user` in the presets
/// of room-policy Appendix A).
pub const DEFAULT_MEMBER_ROLE: RoleIndex = RoomView::DEFAULT_MEMBER_ROLE;
/// How many unclaimed KeyPackages a device keeps at its provider.
pub const KEY_PACKAGE_TARGET: usize = 8;
/// KeyPackage lifetime: 30 days.
pub const KEY_PACKAGE_LIFETIME_SECS: u64 = 30 * 24 * 3600;

impl RoomView {
    /// See [`DEFAULT_MEMBER_ROLE`].
    pub(crate) const DEFAULT_MEMBER_ROLE: RoleIndex = RoleIndex(2);
}

/// How a room is created beyond its preset ([`Client::create_room_with`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoomOptions {
    /// Capabilities added to the preset's roles (role, capability).
    pub grants: Vec<(RoleIndex, mimi_room::Capability)>,
    /// Listed in the provider's room directory (the base policy's `discoverable`).
    pub discoverable: bool,
}

/// A user to invite: their KeyPackages (one per device, as `MLSMessage`s from the key
/// material the hub relayed) and the role they get.
#[derive(Debug, Clone)]
pub struct Invitee {
    /// The user.
    pub user: UserUri,
    /// One KeyPackage per device.
    pub key_packages: Vec<Vec<u8>>,
    /// The role.
    pub role: RoleIndex,
}

impl Invitee {
    /// An invitee with [`DEFAULT_MEMBER_ROLE`].
    pub fn new(user: UserUri, key_packages: Vec<Vec<u8>>) -> Self {
        Self {
            user,
            key_packages,
            role: DEFAULT_MEMBER_ROLE,
        }
    }
}

impl Client {
    fn participant_index(&mut self, room: &RoomUri, user: &UserUri) -> Result<u32, ClientError> {
        let r = self.active_room(room)?;
        let index = r
            .group
            .room()
            .participants()
            .participants
            .iter()
            .position(|p| &p.user == user)
            .ok_or_else(|| ClientError::UnknownUser {
                room: room.clone(),
                user: user.clone(),
            })?;
        u32::try_from(index).map_err(|_| ClientError::misuse("participant index out of range"))
    }

    fn no_commit_in_flight(&mut self, room: &RoomUri) -> Result<(), ClientError> {
        let r = self.active_room(room)?;
        match r.commit_in_flight {
            Some(op) => Err(ClientError::misuse(format!(
                "commit {op} in {room} is still waiting for the hub; report it with mark_sent first"
            ))),
            None => Ok(()),
        }
    }

    pub(crate) fn commit(
        &mut self,
        now: u64,
        room: &RoomUri,
        changes: &[ComponentChange],
        key_packages: &[Vec<u8>],
        remove: &[ClientUri],
    ) -> Result<OpId, ClientError> {
        self.no_commit_in_flight(room)?;
        let r = self.staying_room(room)?;
        let out = r
            .group
            .commit(changes, key_packages, remove, now)
            .map_err(|e| ClientError::mls(room, e))?;
        match self.queue_commit(room, &out, false) {
            Ok(op) => Ok(op),
            Err(e) => {
                let _ = self.active_room(room)?.group.discard_pending_commit();
                Err(e)
            }
        }
    }

    /// Creates `room` (hosted by the hub in its URI) with a policy preset, this device its
    /// only member. Returns the GroupInfo and ratchet tree the hub needs to start its view of
    /// the room (`hub` is the hub's external-sender credential).
    pub fn create_room(
        &mut self,
        now: u64,
        room: &RoomUri,
        preset: Preset,
        hub: &ExternalSenderInfo,
    ) -> Result<CreatedGroup, ClientError> {
        self.create_room_with(now, room, preset, &RoomOptions::default(), hub)
    }

    /// [`Client::create_room`] with capabilities added to the preset's roles and the room
    /// listed in its provider's directory or not.
    pub fn create_room_with(
        &mut self,
        now: u64,
        room: &RoomUri,
        preset: Preset,
        options: &RoomOptions,
        hub: &ExternalSenderInfo,
    ) -> Result<CreatedGroup, ClientError> {
        let mut creation = self.room_creation(preset, room);
        creation.grants.clone_from(&options.grants);
        if options.discoverable {
            let mut base = preset.base_policy();
            base.discoverable = true;
            creation.base_policy = Some(base);
        }
        let state = creation
            .initial_state()
            .map_err(|e| ClientError::misuse(format!("room creation: {e}")))?;
        self.create_room_in_state(now, room, &state, hub)
    }

    /// What this user creates `room` with: the preset, and the hub's service user in the
    /// clientless policy-enforcer role, through which the hub removes revoked devices
    /// (digest §3.5, room-policy Appendix A).
    pub(crate) fn room_creation(&self, preset: Preset, room: &RoomUri) -> RoomCreation {
        let mut creation = RoomCreation::new(preset, room.clone(), self.user().clone());
        creation.policy_enforcer = Some(hub_service_user(room.hub_domain()));
        creation
    }

    /// Creates `room` in an initial `state` the caller made (see [`Client::create_room`]):
    /// what the presets cannot express, e.g. a room policy a test needs, or a rogue client's
    /// state the hub must refuse. The hub checks the state when the room is created.
    pub fn create_room_in_state(
        &mut self,
        now: u64,
        room: &RoomUri,
        state: &mimi_room::RoomState,
        hub: &ExternalSenderInfo,
    ) -> Result<CreatedGroup, ClientError> {
        if self.rooms.get(room).is_some_and(|r| r.group.is_active()) {
            return Err(ClientError::misuse(format!(
                "this device is already in {room}"
            )));
        }
        let (group, created) = ClientGroup::create(
            &self.identity,
            &room.group_uri(),
            hub,
            state,
            self.trust.clone(),
            now,
        )
        .map_err(|e| ClientError::mls(room, e))?;
        let view = RoomView::new(
            room.clone(),
            self.user().clone(),
            group.room().clone(),
            group.epoch(),
        );
        self.rooms.insert(room.clone(), Room::new(group, view));
        self.events
            .push_back(crate::ClientEvent::Joined { room: room.clone() });
        Ok(created)
    }

    /// Invites users: one commit adds them to the participant list and adds each of their
    /// devices (by KeyPackage). The hub forwards the Welcome.
    pub fn invite(
        &mut self,
        now: u64,
        room: &RoomUri,
        invitees: &[Invitee],
    ) -> Result<OpId, ClientError> {
        let r = self.active_room(room)?;
        let mut added = Vec::new();
        let mut key_packages = Vec::new();
        for invitee in invitees {
            if invitee.key_packages.is_empty() {
                return Err(ClientError::UnknownUser {
                    room: room.clone(),
                    user: invitee.user.clone(),
                });
            }
            if r.group.room().role_of(&invitee.user) != RoleIndex::NO_ROLE {
                return Err(ClientError::misuse(format!(
                    "{} is already a participant of {room}; add their devices instead",
                    invitee.user
                )));
            }
            // An allowed bot (not a local one) must hold its entry's role: it gets that one.
            // Without a bot policy no KeyPackage can name a role: none is read for it.
            let role = if r.group.room().bot_policy().is_some() {
                invitee
                    .key_packages
                    .iter()
                    .filter_map(|kp| mimi_mls::key_package_kind(kp).ok())
                    .find_map(|kind| r.group.room().bot_role(&kind))
                    .unwrap_or(invitee.role)
            } else {
                invitee.role
            };
            added.push(UserRolePair::new(invitee.user.clone(), role));
            key_packages.extend(invitee.key_packages.iter().cloned());
        }
        let update = ParticipantListUpdate {
            added_participants: added,
            ..Default::default()
        };
        let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode());
        self.commit(now, room, &[change], &key_packages, &[])
    }

    /// Adds devices of a user who is already a participant (e.g. this user's new device), by
    /// KeyPackage, without a participant-list change.
    pub fn add_own_device(
        &mut self,
        now: u64,
        room: &RoomUri,
        key_packages: &[Vec<u8>],
    ) -> Result<OpId, ClientError> {
        if key_packages.is_empty() {
            return Err(ClientError::misuse("no KeyPackage to add"));
        }
        self.commit(now, room, &[], key_packages, &[])
    }

    /// Removes users and all their devices from the room in one commit.
    pub fn remove(
        &mut self,
        now: u64,
        room: &RoomUri,
        users: &[UserUri],
    ) -> Result<OpId, ClientError> {
        let mut removed_indices = Vec::new();
        for user in users {
            removed_indices.push(self.participant_index(room, user)?);
        }
        let r = self.active_room(room)?;
        let clients: Vec<ClientUri> = r
            .group
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
        self.commit(now, room, &[change], &[], &clients)
    }

    /// Changes a participant's role (1 bans).
    pub fn set_role(
        &mut self,
        now: u64,
        room: &RoomUri,
        user: &UserUri,
        role: RoleIndex,
    ) -> Result<OpId, ClientError> {
        let user_index = self.participant_index(room, user)?;
        let update = ParticipantListUpdate {
            changed_role_participants: vec![UserIndexRolePair {
                user_index,
                role_index: role,
            }],
            ..Default::default()
        };
        let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode());
        self.commit(now, room, &[change], &[], &[])
    }

    /// Bans a participant (role 1, `canBan`) and removes all their devices in one commit.
    pub fn ban(&mut self, now: u64, room: &RoomUri, user: &UserUri) -> Result<OpId, ClientError> {
        let user_index = self.participant_index(room, user)?;
        let r = self.active_room(room)?;
        let clients: Vec<ClientUri> = r
            .group
            .members()
            .into_iter()
            .filter(|m| &m.user == user)
            .map(|m| m.client)
            .collect();
        let update = ParticipantListUpdate {
            changed_role_participants: vec![UserIndexRolePair {
                user_index,
                role_index: RoleIndex::BANNED,
            }],
            ..Default::default()
        };
        let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode());
        self.commit(now, room, &[change], &[], &clients)
    }

    fn change_metadata(
        &mut self,
        now: u64,
        room: &RoomUri,
        edit: impl FnOnce(&mut mimi_room::components::RoomMetadata),
    ) -> Result<OpId, ClientError> {
        let r = self.active_room(room)?;
        let mut metadata = r.group.room().metadata().cloned().unwrap_or_default();
        edit(&mut metadata);
        let change = ComponentChange::update(ComponentId::ROOM_METADATA, metadata.encode());
        self.commit(now, room, &[change], &[], &[])
    }

    /// Renames the room (`canChangeRoomName`).
    pub fn rename(&mut self, now: u64, room: &RoomUri, name: &str) -> Result<OpId, ClientError> {
        self.change_metadata(now, room, |m| m.room_name = name.to_owned())
    }

    /// Sets the room's topic, its metadata subject (`canChangeRoomSubject`).
    pub fn set_topic(
        &mut self,
        now: u64,
        room: &RoomUri,
        topic: &str,
    ) -> Result<OpId, ClientError> {
        self.change_metadata(now, room, |m| m.room_subject = topic.to_owned())
    }

    /// Commits the proposals pending in the room (e.g. another user's leave), if any are
    /// still pending: `None` when there is nothing to commit (another member's commit already
    /// took them, perhaps in the same batch of events that brought them). This is what to call
    /// on [`crate::ClientEvent::ProposalsPending`]; [`Client::commit_pending`] commits anyway.
    pub fn commit_proposals(
        &mut self,
        now: u64,
        room: &RoomUri,
    ) -> Result<Option<OpId>, ClientError> {
        if !self.active_room(room)?.group.has_pending_proposals() {
            return Ok(None);
        }
        self.commit_pending(now, room).map(Some)
    }

    /// Commits the proposals pending in the room (e.g. another user's leave) with a fresh
    /// leaf for this device; with none pending, this is a plain self-update commit.
    pub fn commit_pending(&mut self, now: u64, room: &RoomUri) -> Result<OpId, ClientError> {
        self.no_commit_in_flight(room)?;
        let r = self.staying_room(room)?;
        let out = r
            .group
            .self_update(now)
            .map_err(|e| ClientError::mls(room, e))?;
        self.queue_commit(room, &out, false)
    }

    /// Leaves the room: proposes this user's participant-list removal and this device's
    /// SelfRemove, for another member to commit. A user with several devices in the room
    /// leaves with each of them.
    ///
    /// A fixed-membership room (a direct message) cannot be left (room-policy §5): its
    /// devices can, with [`Client::leave_device`].
    pub fn leave(&mut self, room: &RoomUri) -> Result<OpId, ClientError> {
        let me = self.user().clone();
        let index = self.participant_index(room, &me)?;
        if self
            .active_room(room)?
            .group
            .room()
            .base_policy()
            .fixed_membership
        {
            return Err(ClientError::NotAllowed {
                room: room.clone(),
                denied: mimi_room::Denied::FixedMembership,
            });
        }
        let update = ParticipantListUpdate {
            removed_indices: vec![index],
            ..Default::default()
        };
        let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode());
        self.propose(room, Some(change))
    }

    /// Proposes this device's SelfRemove alone (another device of this user is leaving).
    pub(crate) fn propose_self_remove(&mut self, room: &RoomUri) -> Result<OpId, ClientError> {
        self.propose(room, None)
    }

    /// This device leaves `room` and its user stays (a logout): its SelfRemove, for another
    /// member to commit.
    pub fn leave_device(&mut self, room: &RoomUri) -> Result<OpId, ClientError> {
        self.propose(room, None)
    }

    /// Removes another device of this user from `room` (a lost or retired one): a commit
    /// removing its client, allowed by `canRemoveOwnClient`. The user stays a participant.
    pub fn remove_own_device(
        &mut self,
        now: u64,
        room: &RoomUri,
        client: &ClientUri,
    ) -> Result<OpId, ClientError> {
        if client.user_hint().as_ref() != Some(self.user()) {
            return Err(ClientError::misuse(format!(
                "{client} is not a device of {}",
                self.user()
            )));
        }
        if client == self.identity.client() {
            return Err(ClientError::misuse(
                "this device cannot remove itself: it leaves instead (leave_device)",
            ));
        }
        let present = self
            .rooms
            .get(room)
            .is_some_and(|r| r.group.members().iter().any(|m| m.client == *client));
        if !present {
            return Err(ClientError::misuse(format!("{client} is not in {room}")));
        }
        self.commit(now, room, &[], &[], std::slice::from_ref(client))
    }

    /// The rooms where `client` is a member, as this device sees them.
    pub fn rooms_with(&self, client: &ClientUri) -> Vec<RoomUri> {
        self.rooms
            .iter()
            .filter(|(_, r)| {
                r.group.is_active() && r.group.members().iter().any(|m| m.client == *client)
            })
            .map(|(uri, _)| uri.clone())
            .collect()
    }

    fn propose(
        &mut self,
        room: &RoomUri,
        change: Option<ComponentChange>,
    ) -> Result<OpId, ClientError> {
        let op = self.new_op();
        let r = self.staying_room(room)?;
        let mut proposals = match change {
            Some(change) => r
                .group
                .propose_components(&[change])
                .map_err(|e| ClientError::mls(room, e))?,
            None => Vec::new(),
        };
        proposals.push(
            r.group
                .propose_leave()
                .map_err(|e| ClientError::mls(room, e))?,
        );
        r.leaving = true;
        let digests: Vec<[u8; 32]> = proposals.iter().map(|p| digest(p)).collect();
        for d in &digests {
            r.sent.insert(*d, None);
        }
        let mut messages = Vec::new();
        for p in proposals {
            messages.push(MlsMessage::from_bytes(p).map_err(ClientError::wire)?);
        }
        if messages.is_empty() {
            return Err(ClientError::misuse("nothing to propose"));
        }
        let first = messages.remove(0);
        let bundle = ProposalBundle::new(first, messages).map_err(ClientError::wire)?;
        let request = UpdateRequest::new(HandshakeBundle::Proposals(bundle));
        Ok(self.enqueue(
            Outgoing::Proposals {
                op,
                room: room.clone(),
                request,
            },
            PendingKind::Proposals { digests },
        ))
    }

    /// Joins `room` by external commit from the hub's GroupInfo, ratchet tree and pending
    /// proposals (a new device of a participant). The room is usable once the hub accepts.
    pub fn join_external(
        &mut self,
        now: u64,
        room: &RoomUri,
        group_info: &[u8],
        ratchet_tree: &[u8],
        pending_proposals: &[Vec<u8>],
    ) -> Result<OpId, ClientError> {
        if self.rooms.get(room).is_some_and(|r| r.group.is_active()) {
            return Err(ClientError::misuse(format!(
                "this device is already in {room}"
            )));
        }
        let (group, out) = ClientGroup::join_external(
            &self.identity,
            group_info,
            ratchet_tree,
            pending_proposals,
            self.trust.clone(),
            now,
        )
        .map_err(|e| ClientError::mls(room, e))?;
        self.queue_external_join(room, group, &out)
    }

    /// Joins `room` as a user who is not yet a participant, by external commit from the hub's
    /// GroupInfo (asked for with the same `code`): with a join link's `code` (the role it
    /// grants, one use consumed) or, without one, by open join. The room policy is checked
    /// first, so a join the room does not allow fails here with its reason. The room is usable
    /// once the hub accepts.
    pub fn join_as_newcomer(
        &mut self,
        now: u64,
        room: &RoomUri,
        code: Option<&[u8]>,
        group_info: &[u8],
        ratchet_tree: &[u8],
        pending_proposals: &[Vec<u8>],
    ) -> Result<OpId, ClientError> {
        if self.rooms.get(room).is_some_and(|r| r.group.is_active()) {
            return Err(ClientError::misuse(format!(
                "this device is already in {room}"
            )));
        }
        let (group, out) = ClientGroup::join_as_newcomer(
            &self.identity,
            group_info,
            ratchet_tree,
            pending_proposals,
            code,
            self.trust.clone(),
            now,
        )
        .map_err(|e| ClientError::mls(room, e))?;
        self.queue_external_join(room, group, &out)
    }

    fn queue_external_join(
        &mut self,
        room: &RoomUri,
        group: ClientGroup,
        out: &mimi_mls::OutgoingCommit,
    ) -> Result<OpId, ClientError> {
        let view = RoomView::new(
            room.clone(),
            self.user().clone(),
            group.room().clone(),
            group.epoch(),
        );
        let previous = self.rooms.insert(room.clone(), Room::new(group, view));
        match self.queue_commit(room, out, true) {
            Ok(op) => Ok(op),
            Err(e) => {
                self.rooms.remove(room);
                if let Some(p) = previous {
                    self.rooms.insert(room.clone(), p);
                }
                Err(e)
            }
        }
    }

    /// Rejoins `room`, which this device is a member of but behind in (see
    /// [`ClientEvent::CommitFailed`](crate::ClientEvent::CommitFailed)), by a resync external
    /// commit from the hub's current GroupInfo, ratchet tree and pending proposals: the commit
    /// removes this device's old leaf and adds it again, keeping its client URI. The GroupInfo
    /// must be for the same group and hub, in a later epoch, with this user still a
    /// participant. The room's history and queued messages are kept; the new group replaces
    /// the old one when the hub accepts ([`ClientEvent::Rejoined`](crate::ClientEvent::Rejoined)),
    /// and if it refuses, the device stays as it was.
    pub fn rejoin(
        &mut self,
        now: u64,
        room: &RoomUri,
        group_info: &[u8],
        ratchet_tree: &[u8],
        pending_proposals: &[Vec<u8>],
    ) -> Result<OpId, ClientError> {
        let identity = &self.identity;
        let r = match self.rooms.get_mut(room) {
            Some(r) if r.group.is_active() => r,
            _ => return Err(ClientError::NotMember { room: room.clone() }),
        };
        if r.leaving {
            return Err(ClientError::Leaving { room: room.clone() });
        }
        if r.commit_in_flight.is_some() {
            return Err(ClientError::misuse(format!(
                "a commit of this device in {room} awaits the hub's answer; rejoin after it"
            )));
        }
        let (group, out) = r
            .group
            .resync(identity, group_info, ratchet_tree, pending_proposals, now)
            .map_err(|e| ClientError::mls(room, e))?;
        r.rejoining = Some(group);
        match self.queue_commit(room, &out, true) {
            Ok(op) => Ok(op),
            Err(e) => {
                if let Some(r) = self.rooms.get_mut(room) {
                    r.rejoining = None;
                }
                Err(e)
            }
        }
    }

    /// Whether this device found itself behind the hub in `room` and has not rejoined since.
    pub fn is_behind(&self, room: &RoomUri) -> bool {
        self.rooms.get(room).is_some_and(|r| r.behind)
    }

    /// How many KeyPackages to generate when the provider holds `fresh_count` unclaimed ones.
    pub fn key_packages_needed(&self, fresh_count: usize) -> usize {
        KEY_PACKAGE_TARGET.saturating_sub(fresh_count)
    }

    /// Generates `count` KeyPackages (plus one last-resort KeyPackage the first time) and
    /// queues their upload.
    pub fn generate_key_packages(&mut self, now: u64, count: usize) -> Result<OpId, ClientError> {
        let mut key_packages = Vec::new();
        let mut make = |last_resort: bool| -> Result<(), ClientError> {
            let p = self
                .identity
                .key_package(now, KEY_PACKAGE_LIFETIME_SECS, last_resort)
                .map_err(ClientError::Mls)?;
            key_packages.push(KeyPackageUpload {
                message: p.message,
                reference: p.reference,
                last_resort: p.last_resort,
                not_after: p.not_after,
            });
            Ok(())
        };
        for _ in 0..count {
            make(false)?;
        }
        if !self.has_last_resort {
            make(true)?;
        }
        if key_packages.is_empty() {
            return Err(ClientError::misuse("no KeyPackage to generate"));
        }
        self.has_last_resort = true;
        let op = self.new_op();
        Ok(self.enqueue(
            Outgoing::KeyPackages { op, key_packages },
            PendingKind::KeyPackages,
        ))
    }
}
