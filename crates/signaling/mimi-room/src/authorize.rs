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

use mimi_types::UserUri;
use mimi_types::codepoints::ComponentId;

use crate::apply::{apply_component, apply_members};
use crate::capability::Capability;
use crate::components::{Component, ParticipantListUpdate, Role, RoleIndex, UserRolePair};
use crate::denied::Denied;
use crate::limits::check_limits;
use crate::state::{PLUMBING_COMPONENTS, RoomState};
use crate::summary::{
    Actor, CommitSummary, ComponentOp, ParticipantAction, StagedRoomState, check_client_of_user,
};

/// The actor resolved against the state.
pub(crate) struct Ctx<'a> {
    pub(crate) state: &'a RoomState,
    pub(crate) commit: &'a CommitSummary,
    /// The user and role the actor acts as: a client's user; for a server, its clientless
    /// service user, or (without one) the role its credential claims are preauthorized for.
    pub(crate) persona: Option<(Option<&'a UserUri>, RoleIndex)>,
}

impl<'a> Ctx<'a> {
    fn role(&self, index: RoleIndex) -> Option<&'a Role> {
        self.state.roles.role(index)
    }

    /// Runs `own` or `other` for an action on `target`, per the actor rules of `readings`.
    pub(crate) fn on_target(
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
    pub(crate) fn require_room_capability(&self, capability: Capability) -> Result<(), Denied> {
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

    /// Whether `ops` on `join_links` are exactly the consumption of the join code this
    /// commit's external join presents (which the joiner may commit without a capability).
    pub(crate) fn is_code_consumption(&self, ops: &[Op<'_>]) -> bool {
        let Some(digest) = &self.commit.join_code else {
            return false;
        };
        if !self.commit.external_join {
            return false;
        }
        let expected = self
            .state
            .join_links
            .as_ref()
            .and_then(|l| l.find(digest))
            .and_then(|m| m.consumption())
            .map(|u| u.encode());
        matches!((expected, ops), (Some(e), [Op::Update(d)]) if e.as_slice() == *d)
    }

    pub(crate) fn fixed(&self) -> bool {
        self.state.base_policy().fixed_membership
    }
}

pub(crate) fn require(
    idx: RoleIndex,
    role: Option<&Role>,
    capability: Capability,
) -> Result<(), Denied> {
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
    state.check_not_ended()?;
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

    crate::servers::check_commit_servers(state, commit, &actions)?;
    for action in &actions {
        authorize_action(&ctx, action)?;
    }
    for (component, ops) in &by_component {
        if *component != ComponentId::PARTICIPANT_LIST {
            apply_component(&ctx, &mut next, *component, ops)?;
        }
    }
    apply_members(&ctx, &mut next, &actions)?;
    next.check_agents()?;
    next.check_consistency()
        .map_err(Denied::InvalidResultingState)?;
    check_limits(state, &next, &actions, commit)?;
    crate::lifetimes::check_lifetimes(state, &next, commit)?;
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
                state.may_commit_externally()?;
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
            state.may_propose_externally()?;
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
pub(crate) enum Op<'a> {
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
        || id == ComponentId::SERVER_POLICY
        || id == ComponentId::ROOM_ENDED
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
    if let Some(digest) = &ctx.commit.join_code {
        let link = state.check_join_code(digest, ctx.commit.now_s)?;
        if let Some(terms) = &link.terms
            && terms.role_index != role
        {
            return Err(Denied::JoinCodeRole {
                granted: terms.role_index,
                requested: role,
            });
        }
        let expected = link.consumption().map(|u| u.encode());
        let committed: Vec<&ComponentOp> = ctx
            .commit
            .component_changes
            .iter()
            .filter(|c| c.component == ComponentId::JOIN_LINKS)
            .map(|c| &c.op)
            .collect();
        let consumed = match (&expected, committed.as_slice()) {
            (None, []) => true,
            (Some(e), [ComponentOp::Update(d)]) => e == d,
            _ => false,
        };
        if !consumed {
            return Err(Denied::JoinCodeNotConsumed);
        }
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
