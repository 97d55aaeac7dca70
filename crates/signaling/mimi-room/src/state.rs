//! [`RoomState`]: the decoded room-state components of one epoch plus the MLS membership the
//! authorization rules need (which clients of which users are in the group).

use std::collections::{BTreeMap, BTreeSet};

use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, UserUri};

use crate::capability::Capability;
use crate::codec::DecodeError;
use crate::components::{
    AssetPolicy, BaseRoomPolicy, BotPolicy, Claim, Component, HistoryPolicy, JoinLinkPolicy,
    JoinLinks, LinkPreviewPolicy, LoggingPolicy, MessageExpiration, OperationalParameters,
    ParticipantList, PreAuthData, Role, RoleData, RoleIndex, RoomEnded, RoomMetadata,
    ServerCapabilities, ServerPolicy, StateComponent, StatusNotificationPolicy,
};
use crate::denied::Denied;
use crate::summary::{ClientKind, MemberChange};

/// Components that are MLS or application plumbing rather than room state: kept as opaque bytes,
/// changed only by holders of `canChangeMlsOperationalPolicies` (see `readings`).
pub(crate) const PLUMBING_COMPONENTS: &[ComponentId] = &[
    ComponentId::APP_COMPONENTS,
    ComponentId::SAFE_AAD,
    ComponentId::CONTENT_MEDIA_TYPES,
    ComponentId::FRANKING_SIGNATURE_KEY,
];

/// The room state of one epoch.
///
/// `participants` and `roles` are required; the other components are optional and absent when
/// the room does not use them. `members` is the MLS membership (client → user), which the MLS
/// layer supplies with [`RoomState::with_members`]; it is not a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomState {
    pub(crate) participants: ParticipantList,
    pub(crate) roles: RoleData,
    pub(crate) metadata: Option<RoomMetadata>,
    pub(crate) preauth: Option<PreAuthData>,
    pub(crate) base_policy: Option<BaseRoomPolicy>,
    pub(crate) status_notification_policy: Option<StatusNotificationPolicy>,
    pub(crate) join_link_policy: Option<JoinLinkPolicy>,
    pub(crate) join_links: Option<JoinLinks>,
    pub(crate) link_preview_policy: Option<LinkPreviewPolicy>,
    pub(crate) asset_policy: Option<AssetPolicy>,
    pub(crate) logging_policy: Option<LoggingPolicy>,
    pub(crate) history_policy: Option<HistoryPolicy>,
    pub(crate) bot_policy: Option<BotPolicy>,
    pub(crate) message_expiration: Option<MessageExpiration>,
    pub(crate) operational_policy: Option<OperationalParameters>,
    pub(crate) server_policy: Option<ServerPolicy>,
    /// Set by the commit that ended the room (`canDestroyRoom`): nothing more is authorized.
    pub(crate) ended: Option<RoomEnded>,
    pub(crate) plumbing: BTreeMap<ComponentId, Vec<u8>>,
    pub(crate) members: BTreeMap<ClientUri, UserUri>,
    /// The members that are not a person's device (bots, logging clients), from their
    /// credentials; every other member is a person's.
    pub(crate) member_kinds: BTreeMap<ClientUri, ClientKind>,
}

fn put<T: StateComponent>(out: &mut BTreeMap<ComponentId, Vec<u8>>, value: Option<&T>) {
    if let Some(v) = value {
        out.insert(T::ID, v.encode());
    }
}

impl RoomState {
    /// A room state from its two required components; no members yet.
    pub fn new(participants: ParticipantList, roles: RoleData) -> Result<Self, DecodeError> {
        let state = Self {
            participants,
            roles,
            metadata: None,
            preauth: None,
            base_policy: None,
            status_notification_policy: None,
            join_link_policy: None,
            join_links: None,
            link_preview_policy: None,
            asset_policy: None,
            logging_policy: None,
            history_policy: None,
            bot_policy: None,
            message_expiration: None,
            operational_policy: None,
            server_policy: None,
            ended: None,
            plumbing: BTreeMap::new(),
            members: BTreeMap::new(),
            member_kinds: BTreeMap::new(),
        };
        state.check_consistency()?;
        Ok(state)
    }

    /// Decodes the room state from the `app_data_dictionary` entries (component ID, data).
    ///
    /// Components mimi-room does not manage but MIMI uses (`app_components`, `safe_aad`,
    /// `content_media_types`, `franking_signature_key`) are kept as opaque bytes. Any other
    /// component ID is refused, as are missing `participant_list` or `roles_list` and
    /// participants whose role is not defined.
    pub fn from_components<I: IntoIterator<Item = (ComponentId, Vec<u8>)>>(
        components: I,
    ) -> Result<Self, DecodeError> {
        let mut participants = None;
        let mut roles = None;
        let mut state = Self::new(ParticipantList::default(), RoleData::default())?;
        for (id, data) in components {
            state.set_component(id, &data, &mut participants, &mut roles)?;
        }
        state.participants =
            participants.ok_or(DecodeError::MissingComponent(ComponentId::PARTICIPANT_LIST))?;
        state.roles = roles.ok_or(DecodeError::MissingComponent(ComponentId::ROLES_LIST))?;
        state.check_consistency()?;
        Ok(state)
    }

    pub(crate) fn set_component(
        &mut self,
        id: ComponentId,
        data: &[u8],
        participants: &mut Option<ParticipantList>,
        roles: &mut Option<RoleData>,
    ) -> Result<(), DecodeError> {
        fn dec<T: Component>(data: &[u8]) -> Result<Option<T>, DecodeError> {
            T::decode(data).map(Some)
        }
        match id {
            ComponentId::PARTICIPANT_LIST => *participants = dec(data)?,
            ComponentId::ROLES_LIST => *roles = dec(data)?,
            ComponentId::ROOM_METADATA => self.metadata = dec(data)?,
            ComponentId::PREAUTH_LIST => self.preauth = dec(data)?,
            ComponentId::BASE_ROOM_POLICY => self.base_policy = dec(data)?,
            ComponentId::STATUS_NOTIFICATION_POLICY => {
                self.status_notification_policy = dec(data)?;
            }
            ComponentId::JOIN_LINK_POLICY => self.join_link_policy = dec(data)?,
            ComponentId::JOIN_LINKS => self.join_links = dec(data)?,
            ComponentId::LINK_PREVIEW_POLICY => self.link_preview_policy = dec(data)?,
            ComponentId::ASSET_POLICY => self.asset_policy = dec(data)?,
            ComponentId::LOGGING_POLICY => self.logging_policy = dec(data)?,
            ComponentId::CHAT_HISTORY_POLICY => self.history_policy = dec(data)?,
            ComponentId::BOT_POLICY => self.bot_policy = dec(data)?,
            ComponentId::MESSAGE_EXPIRATION_POLICY => self.message_expiration = dec(data)?,
            ComponentId::MLS_OPERATIONAL_POLICY => self.operational_policy = dec(data)?,
            ComponentId::SERVER_POLICY => self.server_policy = dec(data)?,
            ComponentId::ROOM_ENDED => self.ended = dec(data)?,
            id if PLUMBING_COMPONENTS.contains(&id) || id.is_grease() => {
                self.plumbing.insert(id, data.to_vec());
            }
            other => return Err(DecodeError::UnknownComponent(other)),
        }
        Ok(())
    }

    /// Checks the rules that span components.
    pub(crate) fn check_consistency(&self) -> Result<(), DecodeError> {
        for p in &self.participants.participants {
            if self.roles.role(p.role_index).is_none() {
                return Err(DecodeError::invalid(
                    "room state",
                    format!(
                        "{} holds {}, which roles_list does not define",
                        p.user, p.role_index
                    ),
                ));
            }
        }
        if let Some(preauth) = &self.preauth
            && let Some(e) = preauth
                .preauthorized_entries
                .iter()
                .find(|e| self.roles.role(e.target_role.role_index).is_none())
        {
            return Err(DecodeError::invalid(
                "room state",
                format!(
                    "preauth_list grants {}, which roles_list does not define",
                    e.target_role.role_index
                ),
            ));
        }
        if self
            .base_policy
            .as_ref()
            .is_some_and(|p| p.parent_dependant)
        {
            return Err(DecodeError::invalid(
                "room state",
                "parent_dependant rooms (sub-rooms) are not supported: mimi-rs cannot check that \
                 their participants are a subset of the parent room's",
            ));
        }
        if self.base_policy().fixed_membership
            && let Some(r) = self.roles.roles.iter().find(|r| {
                r.role_index != RoleIndex::NO_ROLE
                    && r.role_index != RoleIndex::BANNED
                    && r.has(Capability::CAN_ADD_PARTICIPANT)
            })
        {
            return Err(DecodeError::invalid(
                "room state",
                format!(
                    "fixed-membership room, yet {} holds canAddParticipant",
                    r.role_index
                ),
            ));
        }
        if let Some(HistoryPolicy::Optional(h) | HistoryPolicy::Required(h)) = &self.history_policy
            && let Some(r) = h
                .roles_that_can_share
                .iter()
                .find(|r| self.roles.role(**r).is_none_or(|role| role.is_clientless()))
        {
            return Err(DecodeError::invalid(
                "room state",
                format!("history_policy lets {r} share, which is undefined or clientless"),
            ));
        }
        if let Some(bots) = &self.bot_policy
            && let Some(bot) = bots
                .allowed_bots
                .iter()
                .find(|b| self.roles.role(b.bot_role_index).is_none())
        {
            return Err(DecodeError::invalid(
                "room state",
                format!(
                    "bot {:?} has {}, which roles_list does not define",
                    bot.name, bot.bot_role_index
                ),
            ));
        }
        self.check_server_policy()?;
        if let (Some(policy), Some(links)) = (&self.join_link_policy, &self.join_links)
            && policy.on_request
            && links.links.len() > 1
        {
            return Err(DecodeError::invalid(
                "room state",
                "join links are made on request, so at most one may be persisted",
            ));
        }
        Ok(())
    }

    /// Sets the MLS membership: every client in the group and the user its credential names.
    /// The MLS layer must call this; authorization without it treats the group as empty.
    pub fn with_members<I: IntoIterator<Item = MemberChange>>(
        mut self,
        members: I,
    ) -> Result<Self, Denied> {
        self.members.clear();
        self.member_kinds.clear();
        for m in members {
            crate::summary::check_client_of_user(&m.client, &m.user)?;
            if !m.kind.is_person() {
                self.member_kinds.insert(m.client.clone(), m.kind);
            }
            self.members.insert(m.client, m.user);
        }
        Ok(self)
    }

    /// The encoded components, for the `app_data_dictionary` (sorted by component ID).
    pub fn components(&self) -> BTreeMap<ComponentId, Vec<u8>> {
        let mut out = self.plumbing.clone();
        put(&mut out, Some(&self.participants));
        put(&mut out, Some(&self.roles));
        put(&mut out, self.metadata.as_ref());
        put(&mut out, self.preauth.as_ref());
        put(&mut out, self.base_policy.as_ref());
        put(&mut out, self.status_notification_policy.as_ref());
        put(&mut out, self.join_link_policy.as_ref());
        put(&mut out, self.join_links.as_ref());
        put(&mut out, self.link_preview_policy.as_ref());
        put(&mut out, self.asset_policy.as_ref());
        put(&mut out, self.logging_policy.as_ref());
        put(&mut out, self.history_policy.as_ref());
        put(&mut out, self.bot_policy.as_ref());
        put(&mut out, self.message_expiration.as_ref());
        put(&mut out, self.operational_policy.as_ref());
        put(&mut out, self.server_policy.as_ref());
        put(&mut out, self.ended.as_ref());
        out
    }

    /// Whether the room has component `id` (without encoding anything).
    pub fn has_component(&self, id: ComponentId) -> bool {
        match id {
            ComponentId::PARTICIPANT_LIST | ComponentId::ROLES_LIST => true,
            ComponentId::ROOM_METADATA => self.metadata.is_some(),
            ComponentId::PREAUTH_LIST => self.preauth.is_some(),
            ComponentId::BASE_ROOM_POLICY => self.base_policy.is_some(),
            ComponentId::STATUS_NOTIFICATION_POLICY => self.status_notification_policy.is_some(),
            ComponentId::JOIN_LINK_POLICY => self.join_link_policy.is_some(),
            ComponentId::JOIN_LINKS => self.join_links.is_some(),
            ComponentId::LINK_PREVIEW_POLICY => self.link_preview_policy.is_some(),
            ComponentId::ASSET_POLICY => self.asset_policy.is_some(),
            ComponentId::LOGGING_POLICY => self.logging_policy.is_some(),
            ComponentId::CHAT_HISTORY_POLICY => self.history_policy.is_some(),
            ComponentId::BOT_POLICY => self.bot_policy.is_some(),
            ComponentId::MESSAGE_EXPIRATION_POLICY => self.message_expiration.is_some(),
            ComponentId::MLS_OPERATIONAL_POLICY => self.operational_policy.is_some(),
            ComponentId::SERVER_POLICY => self.server_policy.is_some(),
            ComponentId::ROOM_ENDED => self.ended.is_some(),
            other => self.plumbing.contains_key(&other),
        }
    }

    /// A plumbing component's data (`app_components`, `safe_aad`, `content_media_types`,
    /// `franking_signature_key`), kept as opaque bytes.
    pub fn plumbing(&self, id: ComponentId) -> Option<&[u8]> {
        self.plumbing.get(&id).map(Vec::as_slice)
    }

    /// The participant list.
    pub fn participants(&self) -> &ParticipantList {
        &self.participants
    }

    /// The role definitions.
    pub fn roles(&self) -> &RoleData {
        &self.roles
    }

    /// The room metadata, if set.
    pub fn metadata(&self) -> Option<&RoomMetadata> {
        self.metadata.as_ref()
    }

    /// The preauthorization list, if set.
    pub fn preauth(&self) -> Option<&PreAuthData> {
        self.preauth.as_ref()
    }

    /// The base room policy (the default policy if the component is absent).
    pub fn base_policy(&self) -> BaseRoomPolicy {
        self.base_policy.clone().unwrap_or_default()
    }

    /// The join links, if set.
    pub fn join_links(&self) -> Option<&JoinLinks> {
        self.join_links.as_ref()
    }

    /// The join link policy, if set.
    pub fn join_link_policy(&self) -> Option<&JoinLinkPolicy> {
        self.join_link_policy.as_ref()
    }

    /// The status notification policy, if set.
    pub fn status_notification_policy(&self) -> Option<&StatusNotificationPolicy> {
        self.status_notification_policy.as_ref()
    }

    /// The link preview policy, if set.
    pub fn link_preview_policy(&self) -> Option<&LinkPreviewPolicy> {
        self.link_preview_policy.as_ref()
    }

    /// The asset policy, if set.
    pub fn asset_policy(&self) -> Option<&AssetPolicy> {
        self.asset_policy.as_ref()
    }

    /// The logging policy, if set.
    pub fn logging_policy(&self) -> Option<&LoggingPolicy> {
        self.logging_policy.as_ref()
    }

    /// The chat history policy, if set.
    pub fn history_policy(&self) -> Option<&HistoryPolicy> {
        self.history_policy.as_ref()
    }

    /// The bot policy, if set.
    pub fn bot_policy(&self) -> Option<&BotPolicy> {
        self.bot_policy.as_ref()
    }

    /// The message expiration policy, if set.
    pub fn message_expiration(&self) -> Option<&MessageExpiration> {
        self.message_expiration.as_ref()
    }

    /// The MLS operational policy, if set.
    pub fn operational_policy(&self) -> Option<&OperationalParameters> {
        self.operational_policy.as_ref()
    }

    /// The server access list, if set (absent: every provider may do everything).
    pub fn server_policy(&self) -> Option<&ServerPolicy> {
        self.server_policy.as_ref()
    }

    /// Who ended the room, once a commit set `room_ended` (`canDestroyRoom`).
    pub fn ended(&self) -> Option<&RoomEnded> {
        self.ended.as_ref()
    }

    /// Refuses anything in an ended room ([`Denied::RoomEnded`]): every commit, proposal,
    /// application message and join. The hub, the sender and every receiver ask it.
    pub fn check_not_ended(&self) -> Result<(), Denied> {
        match &self.ended {
            Some(e) => Err(Denied::RoomEnded {
                ended_by: e.ended_by.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Whether the room is over because its group has emptied: the base policy says it is not
    /// persistent (`persistent_room` false) and every client in the group is `leaving` (its
    /// removal proposed in this epoch: its own leave or another's Remove), so nobody is left
    /// to commit (an MLS committer cannot remove itself). The hub asks this with its pending
    /// removals and then refuses everything in the room ([`Denied::RoomEmptied`]), keeping it
    /// as a tombstone. A persistent room stays (see `readings`).
    pub fn emptied(&self, leaving: &BTreeSet<&ClientUri>) -> bool {
        !self.base_policy().persistent_room
            && !self.members.is_empty()
            && self.members.keys().all(|c| leaving.contains(c))
    }

    /// The MLS membership: client → user.
    pub fn members(&self) -> &BTreeMap<ClientUri, UserUri> {
        &self.members
    }

    /// What member `client` is (a person's device unless its credential marks it a bot or a
    /// logging client; also for a client that is not a member).
    pub fn kind_of(&self, client: &ClientUri) -> &ClientKind {
        static PERSON: ClientKind = ClientKind::Person;
        self.member_kinds.get(client).unwrap_or(&PERSON)
    }

    /// The members that are bots or logging clients, with their kinds.
    pub fn agents(&self) -> &BTreeMap<ClientUri, ClientKind> {
        &self.member_kinds
    }

    /// The clients of `user` in the group.
    pub fn clients_of(&self, user: &UserUri) -> BTreeSet<&ClientUri> {
        self.members
            .iter()
            .filter(|(_, u)| *u == user)
            .map(|(c, _)| c)
            .collect()
    }

    /// The role `user` holds (role 0 if unlisted).
    pub fn role_of(&self, user: &UserUri) -> RoleIndex {
        self.participants.role_of(user)
    }

    /// The definition of the role `user` holds, if defined.
    pub fn role_definition_of(&self, user: &UserUri) -> Option<&Role> {
        self.roles.role(self.role_of(user))
    }

    /// Whether `user`'s role holds `capability`.
    pub fn user_has(&self, user: &UserUri, capability: Capability) -> bool {
        self.role_definition_of(user)
            .is_some_and(|r| r.has(capability))
    }

    /// Whether `user` may send application messages (`canSendMessage`, and listed with a role
    /// other than 0 and 1, and its provider has `submit` in the room's `server_policy`), and, in
    /// a room whose `logging_policy` requires logging, a listed logging client is a member
    /// (`RoomState::check_required_logger`). The hub refuses a submit otherwise.
    pub fn may_send(&self, user: &UserUri) -> Result<(), Denied> {
        self.check_not_ended()?;
        self.require_server(user.domain(), ServerCapabilities::SUBMIT)?;
        self.require_listed_capability(user, Capability::CAN_SEND_MESSAGE)?;
        self.check_required_logger()
    }

    /// Whether `actor` may send an application message now: a client of its own user, in the
    /// group, whose user holds `canSendMessage`. Servers send no application messages.
    pub fn authorize_message(&self, actor: &crate::summary::Actor) -> Result<(), Denied> {
        match actor {
            crate::summary::Actor::Client { client, user } => {
                crate::summary::check_client_of_user(client, user).map_err(|_| {
                    Denied::ClientNotOfUser {
                        client: client.clone(),
                        user: user.clone(),
                    }
                })?;
                if self.members.get(client) != Some(user) {
                    return Err(Denied::ActorNotMember {
                        client: client.clone(),
                    });
                }
                self.may_send(user)
            }
            crate::summary::Actor::Server(domain) => Err(Denied::ServerCannotSend {
                domain: domain.clone(),
            }),
        }
    }

    /// Whether a new device of `user` may be given what an external join needs (the GroupInfo
    /// and the ratchet tree): `user` is listed and not banned. Join codes and open joins are
    /// not served, so nobody else may. The commit that follows is authorized again in full.
    /// The hub asks this on every path that hands that out (federation `groupInfo` and the
    /// client API's `external-join`).
    pub fn may_join_new_device(&self, user: &UserUri) -> Result<(), Denied> {
        self.check_not_ended()?;
        if self.participants.index_of(user).is_none() {
            return Err(Denied::NotParticipant { user: user.clone() });
        }
        if self.role_of(user) == RoleIndex::BANNED {
            return Err(Denied::UserBanned { user: user.clone() });
        }
        Ok(())
    }

    /// Whether the room allows external commits (`mls_operational_policy`'s
    /// `external_commit_allowed`; allowed when the component is absent).
    pub fn may_commit_externally(&self) -> Result<(), Denied> {
        self.check_not_ended()?;
        match &self.operational_policy {
            Some(p) if !p.external_commit_allowed => Err(Denied::ExternalCommitsNotAllowed),
            _ => Ok(()),
        }
    }

    /// Whether the room allows external senders' proposals (`external_proposal_allowed`;
    /// allowed when the component is absent).
    pub fn may_propose_externally(&self) -> Result<(), Denied> {
        match &self.operational_policy {
            Some(p) if !p.external_proposal_allowed => Err(Denied::ExternalProposalsNotAllowed),
            _ => Ok(()),
        }
    }

    /// Whether an unlisted requester whose credential makes `claims` may join by
    /// preauthorization: the first matching entry decides, and its role must hold
    /// `canJoinIfPreauthorized` (room-policy §8.1). Returns that role. The joining commit is
    /// authorized again in full.
    pub fn may_join_preauthorized(&self, claims: &[Claim]) -> Result<RoleIndex, Denied> {
        self.check_not_ended()?;
        if self.base_policy().fixed_membership {
            return Err(Denied::FixedMembership);
        }
        let role = self
            .preauth
            .as_ref()
            .and_then(|p| p.first_match(claims))
            .ok_or(Denied::NotPreauthorized {
                role: RoleIndex::NO_ROLE,
            })?;
        if self
            .roles
            .role(role)
            .is_some_and(|r| r.has(Capability::CAN_JOIN_IF_PREAUTHORIZED))
        {
            Ok(role)
        } else {
            Err(Denied::MissingCapability {
                capability: Capability::CAN_JOIN_IF_PREAUTHORIZED,
                role,
            })
        }
    }

    /// Checks a presented join code (its SHA-256 `digest`) before and during a join: it must
    /// open one of `join_links` (else [`Denied::InvalidJoinCode`]: unknown, revoked or used
    /// up), role 0 must hold `canUseJoinCode`, and with a time at hand the code must not have
    /// expired ([`Denied::JoinCodeExpired`]). The hub asks this when it answers a `groupInfo`
    /// request carrying a code, and the commit authorizer when the joiner's commit arrives.
    pub fn check_join_code(
        &self,
        digest: &[u8],
        now_s: Option<u64>,
    ) -> Result<crate::components::MatchedJoinLink, Denied> {
        self.check_not_ended()?;
        let link = self
            .join_links
            .as_ref()
            .and_then(|l| l.find(digest))
            .ok_or(Denied::InvalidJoinCode)?;
        let no_role = self.roles.role(RoleIndex::NO_ROLE);
        if !no_role.is_some_and(|r| r.has(Capability::CAN_USE_JOIN_CODE)) {
            return Err(Denied::MissingCapability {
                capability: Capability::CAN_USE_JOIN_CODE,
                role: RoleIndex::NO_ROLE,
            });
        }
        if let (Some(terms), Some(now)) = (&link.terms, now_s)
            && terms.expired_at(now)
        {
            return Err(Denied::JoinCodeExpired {
                not_after: terms.not_after,
            });
        }
        Ok(link)
    }

    /// Whether `user`, not yet listed, may join on its own without a code (open join): role 0
    /// must hold `canOpenJoin`, and the room must not have fixed membership.
    pub fn may_open_join(&self, user: &UserUri) -> Result<(), Denied> {
        self.check_not_ended()?;
        if self.role_of(user) == RoleIndex::BANNED {
            return Err(Denied::UserBanned { user: user.clone() });
        }
        if self.base_policy().fixed_membership {
            return Err(Denied::FixedMembership);
        }
        let no_role = self.roles.role(RoleIndex::NO_ROLE);
        if no_role.is_some_and(|r| r.has(Capability::CAN_OPEN_JOIN)) {
            Ok(())
        } else {
            Err(Denied::MissingCapability {
                capability: Capability::CAN_OPEN_JOIN,
                role: RoleIndex::NO_ROLE,
            })
        }
    }

    /// Whether `user`'s clients may receive application messages (`canReceiveMessage`): the hub
    /// withholds application messages from a provider none of whose member users may
    /// (`mimi_ds::hub::HubRoom::reader_domains`) and names the devices of those who may not to
    /// their provider, which withholds the messages from them (`HubRoom::withheld_at`).
    pub fn may_receive(&self, user: &UserUri) -> Result<(), Denied> {
        self.require_listed_capability(user, Capability::CAN_RECEIVE_MESSAGE)
    }

    /// The listed users who may receive application messages ([`RoomState::may_receive`] for
    /// all of them at once: one pass over the participant list, so a hub can recompute its
    /// fan-out at each handshake without a cost quadratic in the room's size).
    pub fn receiving_users(&self) -> BTreeSet<&UserUri> {
        self.participants
            .participants
            .iter()
            .filter(|p| {
                p.role_index != RoleIndex::NO_ROLE
                    && p.role_index != RoleIndex::BANNED
                    && self
                        .roles
                        .role(p.role_index)
                        .is_some_and(|r| r.has(Capability::CAN_RECEIVE_MESSAGE))
            })
            .map(|p| &p.user)
            .collect()
    }

    pub(crate) fn require_listed_capability(
        &self,
        user: &UserUri,
        capability: Capability,
    ) -> Result<(), Denied> {
        let role = self.role_of(user);
        if role == RoleIndex::NO_ROLE {
            return Err(Denied::NotParticipant { user: user.clone() });
        }
        if role == RoleIndex::BANNED {
            return Err(Denied::UserBanned { user: user.clone() });
        }
        if self.user_has(user, capability) {
            Ok(())
        } else {
            Err(Denied::MissingCapability { capability, role })
        }
    }
}
