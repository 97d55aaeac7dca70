//! [`authorize_commit`]: the commit validity rules of digest §3.3 that need no MLS, applied to an
//! MLS-free [`CommitSummary`] against the current [`RoomState`].
//!
//! The result is a [`StagedRoomState`] (the next epoch's room state, for the caller to merge
//! with the MLS commit) or the first [`Denied`] rule broken. Checks run in this order, so tests
//! can predict the reason when several rules break: the actor; the shape of the component
//! changes; the participant-list deltas (indices, one touch per user, mixing rules, metadata
//! count); each participant-list action against the acting role; the other component updates;
//! the MLS adds and removes; the resulting state; the limits (removed users' clients,
//! `multi_device`, `max_clients`, `max_users`, per-role minimum and maximum constraints).

use std::collections::{BTreeMap, BTreeSet};

use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, Domain, UserUri};

use crate::capability::Capability;
use crate::components::{
    Claim, Component, JoinLinks, JoinLinksUpdate, ParticipantListUpdate, Role, RoleData, RoleIndex,
    RoomMetadata, UserRolePair,
};
use crate::denied::Denied;
use crate::limits::check_limits;
use crate::state::{PLUMBING_COMPONENTS, RoomState};

/// Who committed, proposed or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A member client and the user its credential names.
    Client {
        /// The client.
        client: ClientUri,
        /// Its user.
        user: UserUri,
    },
    /// An external sender (the hub or a follower), by domain.
    Server(Domain),
}

/// One `AppDataUpdate` operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentOp {
    /// `update` with its data (a delta for the participant list and join links, the whole
    /// component otherwise).
    Update(Vec<u8>),
    /// `remove`.
    Remove,
}

/// One `AppDataUpdate` proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentChange {
    /// The component.
    pub component: ComponentId,
    /// The operation.
    pub op: ComponentOp,
}

impl ComponentChange {
    /// An `update` of `component` with encoded `data`.
    pub fn update(component: ComponentId, data: Vec<u8>) -> Self {
        Self {
            component,
            op: ComponentOp::Update(data),
        }
    }

    /// A `remove` of `component`.
    pub fn remove(component: ComponentId) -> Self {
        Self {
            component,
            op: ComponentOp::Remove,
        }
    }
}

/// An MLS member (client) and the user its credential names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemberChange {
    /// The client.
    pub client: ClientUri,
    /// Its user.
    pub user: UserUri,
}

impl MemberChange {
    /// A member.
    pub fn new(client: ClientUri, user: UserUri) -> Self {
        Self { client, user }
    }
}

/// An MLS-free summary of a commit (or of a lone proposal) for authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommitSummary {
    /// The committer (or proposer).
    pub actor: Actor,
    /// An external commit: the actor adds its own client.
    pub external_join: bool,
    /// `AppDataUpdate` proposals, in commit order.
    pub component_changes: Vec<ComponentChange>,
    /// `Add` proposals (and the joiner of an external commit).
    pub added: Vec<MemberChange>,
    /// `Remove` proposals.
    pub removed: Vec<MemberChange>,
    /// `SelfRemove` proposals.
    pub self_removed: Vec<MemberChange>,
    /// Claims of the actor's credential, matched against `preauth_list` (empty if unknown).
    pub actor_claims: Vec<Claim>,
    /// The join code the joiner presented (external joins with `canUseJoinCode`).
    pub join_code: Option<Vec<u8>>,
}

impl CommitSummary {
    /// An empty summary for `actor`.
    pub fn new(actor: Actor) -> Self {
        Self {
            actor,
            external_join: false,
            component_changes: Vec::new(),
            added: Vec::new(),
            removed: Vec::new(),
            self_removed: Vec::new(),
            actor_claims: Vec::new(),
            join_code: None,
        }
    }
}

/// One participant-list action of a commit, as authorized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParticipantAction {
    /// A user was added with a role.
    Add {
        /// The user.
        user: UserUri,
        /// Its role.
        role: RoleIndex,
    },
    /// A user was removed from the list.
    Remove {
        /// The user.
        user: UserUri,
        /// Its role before.
        from: RoleIndex,
    },
    /// A user's role changed (to 1 = ban, from 1 = unban).
    ChangeRole {
        /// The user.
        user: UserUri,
        /// Role before.
        from: RoleIndex,
        /// Role after.
        to: RoleIndex,
    },
}

impl ParticipantAction {
    /// The user the action touches.
    pub fn user(&self) -> &UserUri {
        match self {
            Self::Add { user, .. } | Self::Remove { user, .. } | Self::ChangeRole { user, .. } => {
                user
            }
        }
    }
}

/// The next room state, authorized; merge it together with the MLS commit or drop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedRoomState {
    state: RoomState,
    actions: Vec<ParticipantAction>,
}

impl StagedRoomState {
    /// The next state.
    pub fn state(&self) -> &RoomState {
        &self.state
    }

    /// Takes the next state.
    pub fn into_state(self) -> RoomState {
        self.state
    }

    /// The participant-list actions the commit made, in order.
    pub fn participant_actions(&self) -> &[ParticipantAction] {
        &self.actions
    }
}

/// Checks that `client` may belong to `user`: same provider, and a `…/d/<user>/<id>` client
/// names that user.
pub(crate) fn check_client_of_user(client: &ClientUri, user: &UserUri) -> Result<(), Denied> {
    let same_domain = client.domain() == user.domain();
    let same_user = client.user_hint().is_none_or(|u| &u == user);
    if same_domain && same_user {
        Ok(())
    } else {
        Err(Denied::ClientOfForeignProvider {
            client: client.clone(),
            user: user.clone(),
        })
    }
}

/// The actor resolved against the state.
struct Ctx<'a> {
    state: &'a RoomState,
    commit: &'a CommitSummary,
    /// The user and role the actor acts as: a client's user; for a server, its clientless
    /// service user, or (without one) the role its credential claims are preauthorized for.
    persona: Option<(Option<&'a UserUri>, RoleIndex)>,
}

impl<'a> Ctx<'a> {
    fn role(&self, index: RoleIndex) -> Option<&'a Role> {
        self.state.roles.role(index)
    }

    /// Runs `own` or `other` for an action on `target`, per the actor rules of `readings`.
    fn on_target(
        &self,
        target: &UserUri,
        own: impl Fn() -> Result<(), Denied>,
        other: impl Fn(RoleIndex, &'a Role) -> Result<(), Denied>,
    ) -> Result<(), Denied> {
        let persona_other = || match self.persona {
            Some((_, idx)) => match self.role(idx) {
                Some(role) => other(idx, role),
                None => Err(Denied::UndefinedRole(idx)),
            },
            None => match &self.commit.actor {
                Actor::Server(domain) => Err(Denied::NoServerRole {
                    domain: domain.clone(),
                }),
                Actor::Client { .. } => Err(Denied::MissingCapability {
                    capability: Capability::CAN_ADD_PARTICIPANT,
                    role: RoleIndex::NO_ROLE,
                }),
            },
        };
        match &self.commit.actor {
            Actor::Client { user, .. } => {
                if user == target {
                    own()
                } else {
                    persona_other()
                }
            }
            Actor::Server(domain) => {
                if self.persona.is_some_and(|(u, _)| u == Some(target)) {
                    return own();
                }
                if target.domain() == domain {
                    match own() {
                        Ok(()) => Ok(()),
                        Err(e) if self.persona.is_none() => Err(e),
                        Err(_) => persona_other(),
                    }
                } else if self.persona.is_some() {
                    persona_other()
                } else {
                    Err(Denied::ForeignUser {
                        actor: domain.clone(),
                        user: target.clone(),
                    })
                }
            }
        }
    }

    /// Requires `capability` of the acting role for a room-wide change (components).
    fn require_room_capability(&self, capability: Capability) -> Result<(), Denied> {
        match self.persona {
            Some((_, idx)) => require(idx, self.role(idx), capability),
            None => match &self.commit.actor {
                Actor::Server(domain) => Err(Denied::NoServerRole {
                    domain: domain.clone(),
                }),
                Actor::Client { .. } => Err(Denied::MissingCapability {
                    capability,
                    role: RoleIndex::NO_ROLE,
                }),
            },
        }
    }

    fn fixed(&self) -> bool {
        self.state.base_policy().fixed_membership
    }
}

fn require(idx: RoleIndex, role: Option<&Role>, capability: Capability) -> Result<(), Denied> {
    if role.is_some_and(|r| r.has(capability)) {
        Ok(())
    } else {
        Err(Denied::MissingCapability {
            capability,
            role: idx,
        })
    }
}

fn require_change(role: &Role, from: RoleIndex, to: RoleIndex) -> Result<(), Denied> {
    if role.may_change(from, to) {
        Ok(())
    } else {
        Err(Denied::RoleChangeNotAuthorized { from, to })
    }
}

/// Authorizes `commit` against `state` and returns the next room state.
pub fn authorize_commit(
    state: &RoomState,
    commit: &CommitSummary,
) -> Result<StagedRoomState, Denied> {
    let persona = resolve_actor(state, commit)?;
    let ctx = Ctx {
        state,
        commit,
        persona,
    };
    let by_component = group_component_changes(state, commit)?;

    // Participant-list deltas, applied in order against the evolving list.
    let mut next = state.clone();
    let mut actions = Vec::new();
    if let Some(ops) = by_component.get(&ComponentId::PARTICIPANT_LIST) {
        for op in ops {
            let data = match op {
                Op::Update(data) => data,
                Op::Remove => {
                    return Err(Denied::RequiredComponentRemoved(
                        ComponentId::PARTICIPANT_LIST,
                    ));
                }
            };
            let update =
                ParticipantListUpdate::decode(data).map_err(|error| Denied::MalformedUpdate {
                    component: ComponentId::PARTICIPANT_LIST,
                    error,
                })?;
            apply_participant_update(&mut next.participants.participants, &update, &mut actions)?;
        }
    }
    let mut touched = BTreeSet::new();
    for a in &actions {
        if !touched.insert(a.user()) {
            return Err(Denied::UserTouchedTwice {
                user: a.user().clone(),
            });
        }
    }
    if !actions.is_empty() && by_component.contains_key(&ComponentId::ROLES_LIST) {
        return Err(Denied::RolesWithParticipantChange);
    }
    let non_removal = actions
        .iter()
        .any(|a| !matches!(a, ParticipantAction::Remove { .. }));
    if non_removal && by_component.contains_key(&ComponentId::PREAUTH_LIST) {
        return Err(Denied::PreauthWithParticipantChange);
    }
    if by_component
        .get(&ComponentId::ROOM_METADATA)
        .is_some_and(|ops| ops.len() > 1)
    {
        return Err(Denied::MultipleMetadataUpdates);
    }

    for action in &actions {
        authorize_action(&ctx, action)?;
    }
    for (component, ops) in &by_component {
        if *component != ComponentId::PARTICIPANT_LIST {
            apply_component(&ctx, &mut next, *component, ops)?;
        }
    }
    apply_members(&ctx, &mut next, &actions)?;
    next.check_consistency()
        .map_err(Denied::InvalidResultingState)?;
    check_limits(state, &next, &actions)?;
    Ok(StagedRoomState {
        state: next,
        actions,
    })
}

/// Checks the actor and finds the user and role it acts as.
fn resolve_actor<'a>(
    state: &'a RoomState,
    commit: &'a CommitSummary,
) -> Result<Option<(Option<&'a UserUri>, RoleIndex)>, Denied> {
    match &commit.actor {
        Actor::Client { client, user } => {
            check_client_of_user(client, user).map_err(|_| Denied::ClientNotOfUser {
                client: client.clone(),
                user: user.clone(),
            })?;
            let role = state.role_of(user);
            if commit.external_join {
                if role == RoleIndex::BANNED {
                    return Err(Denied::UserBanned { user: user.clone() });
                }
                if !commit.added.iter().any(|m| &m.client == client) {
                    return Err(Denied::ExternalJoinWithoutJoiner);
                }
                if let Some(m) = commit.added.iter().find(|m| &m.client != client) {
                    return Err(Denied::ExternalJoinAddsOthers {
                        client: m.client.clone(),
                    });
                }
            } else {
                if state.members.get(client) != Some(user) {
                    return Err(Denied::ActorNotMember {
                        client: client.clone(),
                    });
                }
                if role == RoleIndex::NO_ROLE || role == RoleIndex::BANNED {
                    let only_own_removals = commit.component_changes.is_empty()
                        && commit.added.is_empty()
                        && commit
                            .removed
                            .iter()
                            .chain(&commit.self_removed)
                            .all(|m| &m.user == user);
                    if !only_own_removals {
                        return Err(Denied::ActorBlocked {
                            user: user.clone(),
                            role,
                        });
                    }
                }
            }
            Ok(Some((Some(user), role)))
        }
        Actor::Server(domain) => {
            if commit.external_join {
                return Err(Denied::ServerCannotJoin {
                    domain: domain.clone(),
                });
            }
            let service_user = state
                .participants
                .participants
                .iter()
                .find(|p| {
                    p.user.domain() == domain
                        && p.role_index != RoleIndex::BANNED
                        && state
                            .roles
                            .role(p.role_index)
                            .is_some_and(Role::is_clientless)
                })
                .map(|p| (Some(&p.user), p.role_index));
            let preauthorized = || {
                state
                    .preauth
                    .as_ref()
                    .and_then(|p| p.first_match(&commit.actor_claims))
                    .map(|role| (None, role))
            };
            Ok(service_user.or_else(preauthorized))
        }
    }
}

/// A component's operations in commit order.
#[derive(Clone, Copy)]
enum Op<'a> {
    Update(&'a [u8]),
    Remove,
}

fn group_component_changes<'a>(
    state: &RoomState,
    commit: &'a CommitSummary,
) -> Result<BTreeMap<ComponentId, Vec<Op<'a>>>, Denied> {
    let mut by_component: BTreeMap<ComponentId, Vec<Op<'a>>> = BTreeMap::new();
    for change in &commit.component_changes {
        if !is_known_component(change.component) {
            return Err(Denied::UnknownComponent(change.component));
        }
        let op = match &change.op {
            ComponentOp::Update(data) => Op::Update(data),
            ComponentOp::Remove => Op::Remove,
        };
        by_component.entry(change.component).or_default().push(op);
    }
    for (component, ops) in &by_component {
        let removes = ops.iter().filter(|o| matches!(o, Op::Remove)).count();
        if removes > 0 && ops.len() > 1 {
            return Err(Denied::InvalidComponentOps(*component));
        }
        if removes == 1 {
            if REQUIRED_COMPONENTS.contains(component) {
                return Err(Denied::RequiredComponentRemoved(*component));
            }
            if !state.has_component(*component) {
                return Err(Denied::RemoveOfAbsentComponent(*component));
            }
        }
    }
    Ok(by_component)
}

const REQUIRED_COMPONENTS: &[ComponentId] = &[
    ComponentId::PARTICIPANT_LIST,
    ComponentId::ROLES_LIST,
    ComponentId::ROOM_METADATA,
];

pub(crate) fn is_known_component(id: ComponentId) -> bool {
    (ComponentId::PARTICIPANT_LIST.value()..=ComponentId::MESSAGE_EXPIRATION_POLICY.value())
        .contains(&id.value())
        || PLUMBING_COMPONENTS.contains(&id)
}

fn apply_participant_update(
    list: &mut Vec<UserRolePair>,
    update: &ParticipantListUpdate,
    actions: &mut Vec<ParticipantAction>,
) -> Result<(), Denied> {
    let bad_index = |index: u32| Denied::InvalidIndex {
        component: ComponentId::PARTICIPANT_LIST,
        index,
    };
    let lookup = |index: u32| -> Result<usize, Denied> {
        usize::try_from(index)
            .ok()
            .filter(|i| *i < list.len())
            .ok_or(bad_index(index))
    };
    let mut changed = BTreeSet::new();
    let mut role_changes = Vec::new();
    for c in &update.changed_role_participants {
        let i = lookup(c.user_index)?;
        if !changed.insert(i) {
            return Err(bad_index(c.user_index));
        }
        role_changes.push((i, c.role_index));
    }
    let mut removed = BTreeSet::new();
    for index in &update.removed_indices {
        let i = lookup(*index)?;
        if !removed.insert(i) {
            return Err(bad_index(*index));
        }
    }
    for (i, to) in role_changes {
        if let Some(p) = list.get_mut(i) {
            actions.push(ParticipantAction::ChangeRole {
                user: p.user.clone(),
                from: p.role_index,
                to,
            });
            p.role_index = to;
        }
    }
    for i in removed.iter().rev() {
        if *i < list.len() {
            let p = list.remove(*i);
            actions.push(ParticipantAction::Remove {
                user: p.user,
                from: p.role_index,
            });
        }
    }
    for p in &update.added_participants {
        if list.iter().any(|q| q.user == p.user) {
            if actions.iter().any(|a| a.user() == &p.user) {
                return Err(Denied::UserTouchedTwice {
                    user: p.user.clone(),
                });
            }
            return Err(Denied::AlreadyListed {
                user: p.user.clone(),
            });
        }
        list.push(p.clone());
        actions.push(ParticipantAction::Add {
            user: p.user.clone(),
            role: p.role_index,
        });
    }
    Ok(())
}

fn authorize_action(ctx: &Ctx<'_>, action: &ParticipantAction) -> Result<(), Denied> {
    let state = ctx.state;
    let defined = |r: RoleIndex| {
        if state.roles.role(r).is_some() {
            Ok(())
        } else {
            Err(Denied::UndefinedRole(r))
        }
    };
    match action {
        ParticipantAction::Add { user, role } => ctx.on_target(
            user,
            || self_join(ctx, user, *role),
            |idx, acting| {
                if ctx.fixed() {
                    return Err(Denied::FixedMembership);
                }
                if *role == RoleIndex::BANNED {
                    // Banning a user before it ever joins (the examples' `(0, [1])` entries).
                    require(idx, Some(acting), Capability::CAN_BAN)?;
                    if !state.roles.has_banned_role() {
                        return Err(Denied::BannedRoleUndefined);
                    }
                } else {
                    require(idx, Some(acting), Capability::CAN_ADD_PARTICIPANT)?;
                }
                defined(*role)?;
                require_change(acting, RoleIndex::NO_ROLE, *role)
            },
        ),
        ParticipantAction::Remove { user, from } => ctx.on_target(
            user,
            || {
                if ctx.fixed() {
                    return Err(Denied::FixedMembership);
                }
                let own = state.roles.role(*from);
                require(*from, own, Capability::CAN_REMOVE_SELF)?;
                match own {
                    Some(own) => require_change(own, *from, RoleIndex::NO_ROLE),
                    None => Err(Denied::UndefinedRole(*from)),
                }
            },
            |idx, acting| {
                if ctx.fixed() {
                    return Err(Denied::FixedMembership);
                }
                require(idx, Some(acting), Capability::CAN_REMOVE_PARTICIPANT)?;
                require_change(acting, *from, RoleIndex::NO_ROLE)
            },
        ),
        ParticipantAction::ChangeRole { user, from, to } => ctx.on_target(
            user,
            || change_own_role(ctx, *from, *to),
            |idx, acting| {
                let capability = if *to == RoleIndex::BANNED {
                    Capability::CAN_BAN
                } else if *from == RoleIndex::BANNED {
                    Capability::CAN_UN_BAN
                } else {
                    Capability::CAN_CHANGE_USER_ROLE
                };
                require(idx, Some(acting), capability)?;
                if (*to == RoleIndex::BANNED || *from == RoleIndex::BANNED)
                    && !state.roles.has_banned_role()
                {
                    return Err(Denied::BannedRoleUndefined);
                }
                defined(*to)?;
                require_change(acting, *from, *to)
            },
        ),
    }
}

/// An unlisted user adds itself: by preauthorization, join code, or open join (in that order).
fn self_join(ctx: &Ctx<'_>, user: &UserUri, role: RoleIndex) -> Result<(), Denied> {
    let state = ctx.state;
    if ctx.fixed() {
        return Err(Denied::FixedMembership);
    }
    if state.roles.role(role).is_none() {
        return Err(Denied::UndefinedRole(role));
    }
    let _ = user;
    let claims = &ctx.commit.actor_claims;
    if let Some(granted) = state.preauth.as_ref().and_then(|p| p.first_match(claims)) {
        require(
            granted,
            state.roles.role(granted),
            Capability::CAN_JOIN_IF_PREAUTHORIZED,
        )?;
        return if granted == role {
            Ok(())
        } else {
            Err(Denied::NotPreauthorized { role })
        };
    }
    let no_role = state.roles.role(RoleIndex::NO_ROLE);
    if let Some(code) = &ctx.commit.join_code {
        if !state.join_links.as_ref().is_some_and(|l| l.contains(code)) {
            return Err(Denied::InvalidJoinCode);
        }
        require(RoleIndex::NO_ROLE, no_role, Capability::CAN_USE_JOIN_CODE)?;
    } else {
        require(RoleIndex::NO_ROLE, no_role, Capability::CAN_OPEN_JOIN)?;
    }
    match no_role {
        Some(r) => require_change(r, RoleIndex::NO_ROLE, role),
        None => Err(Denied::UndefinedRole(RoleIndex::NO_ROLE)),
    }
}

/// A listed user changes its own role: only to the role its first matching preauthorization
/// entry grants, with `canChangeOwnRole` (room-policy §8.1.3; `canChangeUserRole` applies to
/// others only, and `authorized_role_changes` is not consulted).
fn change_own_role(ctx: &Ctx<'_>, from: RoleIndex, to: RoleIndex) -> Result<(), Denied> {
    let state = ctx.state;
    if state.roles.role(to).is_none() {
        return Err(Denied::UndefinedRole(to));
    }
    require(
        from,
        state.roles.role(from),
        Capability::CAN_CHANGE_OWN_ROLE,
    )?;
    let preauthorized = state
        .preauth
        .as_ref()
        .and_then(|p| p.first_match(&ctx.commit.actor_claims));
    if preauthorized == Some(to) {
        Ok(())
    } else {
        Err(Denied::NotPreauthorized { role: to })
    }
}

fn malformed(component: ComponentId) -> impl Fn(crate::codec::DecodeError) -> Denied {
    move |error| Denied::MalformedUpdate { component, error }
}

/// Authorizes and applies the operations on one component other than the participant list.
fn apply_component(
    ctx: &Ctx<'_>,
    next: &mut RoomState,
    component: ComponentId,
    ops: &[Op<'_>],
) -> Result<(), Denied> {
    match component {
        ComponentId::ROOM_METADATA => {
            let [Op::Update(data)] = ops else {
                return Err(Denied::InvalidComponentOps(component));
            };
            let new = RoomMetadata::decode(data).map_err(malformed(component))?;
            authorize_metadata(ctx, &new)?;
            next.metadata = Some(new);
            return Ok(());
        }
        ComponentId::JOIN_LINKS => {
            ctx.require_room_capability(Capability::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE)?;
            for op in ops {
                match op {
                    Op::Remove => next.join_links = None,
                    Op::Update(data) => {
                        let update = JoinLinksUpdate::decode(data).map_err(malformed(component))?;
                        let mut links = next.join_links.take().unwrap_or_default();
                        apply_join_links_update(&mut links, &update)?;
                        links.validate().map_err(Denied::InvalidResultingState)?;
                        next.join_links = Some(links);
                    }
                }
            }
            return Ok(());
        }
        _ => {}
    }
    let capability = match component {
        ComponentId::ROLES_LIST => Capability::CAN_CHANGE_ROLE_DEFINITIONS,
        ComponentId::PREAUTH_LIST => Capability::CAN_CHANGE_PREAUTHORIZED_USER_LIST,
        ComponentId::BASE_ROOM_POLICY | ComponentId::JOIN_LINK_POLICY => {
            Capability::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE
        }
        ComponentId::MLS_OPERATIONAL_POLICY => Capability::CAN_CHANGE_MLS_OPERATIONAL_POLICIES,
        c if PLUMBING_COMPONENTS.contains(&c) => Capability::CAN_CHANGE_MLS_OPERATIONAL_POLICIES,
        _ => Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE,
    };
    ctx.require_room_capability(capability)?;
    for op in ops {
        match op {
            Op::Remove => next.clear_component(component),
            Op::Update(data) => next
                .replace_component(component, data)
                .map_err(malformed(component))?,
        }
    }
    Ok(())
}

fn authorize_metadata(ctx: &Ctx<'_>, new: &RoomMetadata) -> Result<(), Denied> {
    let old = ctx.state.metadata.clone().unwrap_or_default();
    if !old.room_uri.is_empty() && old.room_uri != new.room_uri {
        return Err(Denied::RoomUriChanged);
    }
    let checks = [
        (
            old.room_name != new.room_name,
            Capability::CAN_CHANGE_ROOM_NAME,
        ),
        (
            old.room_descriptions != new.room_descriptions,
            Capability::CAN_CHANGE_ROOM_DESCRIPTION,
        ),
        (
            old.room_avatar != new.room_avatar,
            Capability::CAN_CHANGE_ROOM_AVATAR,
        ),
        (
            old.room_subject != new.room_subject,
            Capability::CAN_CHANGE_ROOM_SUBJECT,
        ),
        (
            old.room_mood != new.room_mood,
            Capability::CAN_CHANGE_ROOM_MOOD,
        ),
    ];
    for (changed, capability) in checks {
        if changed {
            ctx.require_room_capability(capability)?;
        }
    }
    Ok(())
}

fn apply_join_links_update(links: &mut JoinLinks, update: &JoinLinksUpdate) -> Result<(), Denied> {
    let mut removed = BTreeSet::new();
    for index in &update.removed_indices {
        let i = usize::try_from(*index)
            .ok()
            .filter(|i| *i < links.links.len());
        match i {
            Some(i) if removed.insert(i) => {}
            _ => {
                return Err(Denied::InvalidIndex {
                    component: ComponentId::JOIN_LINKS,
                    index: *index,
                });
            }
        }
    }
    for i in removed.iter().rev() {
        links.links.remove(*i);
    }
    links.links.extend(update.added_links.iter().cloned());
    Ok(())
}

/// Authorizes and applies the MLS adds and removes.
fn apply_members(
    ctx: &Ctx<'_>,
    next: &mut RoomState,
    actions: &[ParticipantAction],
) -> Result<(), Denied> {
    let commit = ctx.commit;
    let state = ctx.state;
    let all = commit
        .added
        .iter()
        .chain(&commit.removed)
        .chain(&commit.self_removed);
    for m in all {
        check_client_of_user(&m.client, &m.user)?;
    }
    let listed_out = |user: &UserUri| {
        actions.iter().any(|a| {
            a.user() == user
                && matches!(
                    a,
                    ParticipantAction::Remove { .. }
                        | ParticipantAction::ChangeRole {
                            to: RoleIndex::BANNED,
                            ..
                        }
                )
        })
    };
    let joiner = match (&commit.actor, commit.external_join) {
        (Actor::Client { client, .. }, true) => Some(client),
        _ => None,
    };
    // Removals.
    let mut gone = BTreeSet::new();
    for (m, is_self) in commit
        .removed
        .iter()
        .map(|m| (m, false))
        .chain(commit.self_removed.iter().map(|m| (m, true)))
    {
        if state.members.get(&m.client) != Some(&m.user) || !gone.insert(&m.client) {
            return Err(Denied::ClientNotMember {
                client: m.client.clone(),
            });
        }
        let after = next.participants.role_of(&m.user);
        let resync = joiner == Some(&m.client);
        if listed_out(&m.user)
            || after == RoleIndex::NO_ROLE
            || after == RoleIndex::BANNED
            || resync
        {
            continue;
        }
        let own_role = state.role_of(&m.user);
        let own_check = || {
            require(
                own_role,
                state.roles.role(own_role),
                Capability::CAN_REMOVE_OWN_CLIENT,
            )
        };
        if is_self {
            own_check()?;
        } else {
            ctx.on_target(&m.user, own_check, |idx, acting| {
                require(idx, Some(acting), Capability::CAN_KICK)
            })?;
        }
    }
    for client in &gone {
        next.members.remove(*client);
    }
    // Adds.
    let added_users: BTreeSet<&UserUri> = actions
        .iter()
        .filter_map(|a| match a {
            ParticipantAction::Add { user, .. } => Some(user),
            _ => None,
        })
        .collect();
    for m in &commit.added {
        if next.members.contains_key(&m.client) {
            return Err(Denied::ClientAlreadyMember {
                client: m.client.clone(),
            });
        }
        let after = next.participants.role_of(&m.user);
        if after == RoleIndex::NO_ROLE {
            return Err(Denied::ClientForNonParticipant {
                client: m.client.clone(),
                user: m.user.clone(),
            });
        }
        if after == RoleIndex::BANNED {
            return Err(Denied::UserBanned {
                user: m.user.clone(),
            });
        }
        let unbanned = actions.iter().any(|a| {
            matches!(a, ParticipantAction::ChangeRole { user, from: RoleIndex::BANNED, .. } if user == &m.user)
        });
        if unbanned {
            return Err(Denied::ClientAddAfterUnban {
                user: m.user.clone(),
            });
        }
        if !added_users.contains(&m.user) {
            let own_role = state.role_of(&m.user);
            ctx.on_target(
                &m.user,
                || {
                    require(
                        own_role,
                        state.roles.role(own_role),
                        Capability::CAN_ADD_OWN_CLIENT,
                    )
                },
                |idx, acting| require(idx, Some(acting), Capability::CAN_ADD_PARTICIPANT),
            )?;
        }
        next.members.insert(m.client.clone(), m.user.clone());
    }
    Ok(())
}

impl RoomState {
    fn clear_component(&mut self, component: ComponentId) {
        match component {
            ComponentId::PREAUTH_LIST => self.preauth = None,
            ComponentId::BASE_ROOM_POLICY => self.base_policy = None,
            ComponentId::STATUS_NOTIFICATION_POLICY => self.status_notification_policy = None,
            ComponentId::JOIN_LINK_POLICY => self.join_link_policy = None,
            ComponentId::LINK_PREVIEW_POLICY => self.link_preview_policy = None,
            ComponentId::ASSET_POLICY => self.asset_policy = None,
            ComponentId::LOGGING_POLICY => self.logging_policy = None,
            ComponentId::CHAT_HISTORY_POLICY => self.history_policy = None,
            ComponentId::BOT_POLICY => self.bot_policy = None,
            ComponentId::MESSAGE_EXPIRATION_POLICY => self.message_expiration = None,
            ComponentId::MLS_OPERATIONAL_POLICY => self.operational_policy = None,
            other => {
                self.plumbing.remove(&other);
            }
        }
    }

    fn replace_component(
        &mut self,
        component: ComponentId,
        data: &[u8],
    ) -> Result<(), crate::codec::DecodeError> {
        if component == ComponentId::ROLES_LIST {
            self.roles = RoleData::decode(data)?;
            return Ok(());
        }
        let mut participants = None;
        let mut roles = None;
        self.set_component(component, data, &mut participants, &mut roles)
    }
}
