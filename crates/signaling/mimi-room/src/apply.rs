//! Applying the non-participant-list component updates and the MLS adds and removes of an
//! authorized commit to the next state, with their own authorization checks.

use std::collections::BTreeSet;

use mimi_types::UserUri;
use mimi_types::codepoints::ComponentId;

use crate::authorize::{Ctx, Op, require};
use crate::capability::Capability;
use crate::codec::DecodeError;
use crate::components::{
    Component, JoinCodeTerms, JoinLink, JoinLinkPolicy, JoinLinks, JoinLinksUpdate, RoleData,
    RoleIndex, RoomEnded, RoomMetadata,
};
use crate::denied::Denied;
use crate::state::{PLUMBING_COMPONENTS, RoomState};
use crate::summary::{Actor, ParticipantAction, check_client_of_user};

fn malformed(component: ComponentId) -> impl Fn(DecodeError) -> Denied {
    move |error| Denied::MalformedUpdate { component, error }
}

/// Authorizes and applies the operations on one component other than the participant list.
pub(crate) fn apply_component(
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
        ComponentId::ROOM_ENDED => {
            ctx.require_room_capability(Capability::CAN_DESTROY_ROOM)?;
            let [Op::Update(data)] = ops else {
                return Err(Denied::RoomEndedMismatch);
            };
            let ended = RoomEnded::decode(data).map_err(malformed(component))?;
            let by = match (&ctx.commit.actor, ctx.persona) {
                (Actor::Client { user, .. }, _) => Some(user),
                (Actor::Server(_), Some((user, _))) => user,
                (Actor::Server(_), None) => None,
            };
            if by != Some(&ended.ended_by) {
                return Err(Denied::RoomEndedMismatch);
            }
            next.ended = Some(ended);
            return Ok(());
        }
        ComponentId::JOIN_LINKS => {
            let consumption = ctx.is_code_consumption(ops);
            if !consumption {
                ctx.require_room_capability(Capability::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE)?;
            }
            for op in ops {
                match op {
                    Op::Remove => next.join_links = None,
                    Op::Update(data) => {
                        let update = JoinLinksUpdate::decode(data).map_err(malformed(component))?;
                        if !consumption && let Some(policy) = &next.join_link_policy {
                            for link in &update.added_links {
                                check_link_policy(policy, link, ctx.commit.now_s)?;
                            }
                        }
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
        ComponentId::BASE_ROOM_POLICY
        | ComponentId::JOIN_LINK_POLICY
        | ComponentId::SERVER_POLICY => Capability::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE,
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

/// How far (seconds) a new link's expiry may pass `join_link_policy.expiration` from the
/// authorizer's clock: the creator computed it from its own clock, a little earlier.
pub const JOIN_LINK_CLOCK_SLACK_S: u64 = 300;

/// Whether a new join link keeps the room's `join_link_policy` (see `readings.rs`): a room whose
/// links are not `multiuser` takes only single-use links; a room with an `expiration` takes
/// only links that expire, and, where the authorizer has a clock (`now_s`, the hub's), no later
/// than that lifetime from now. An opaque link (not our terms) is unlimited and never expires.
pub fn check_link_policy(
    policy: &JoinLinkPolicy,
    link: &JoinLink,
    now_s: Option<u64>,
) -> Result<(), Denied> {
    let (uses_left, not_after) =
        JoinCodeTerms::from_link(link).map_or((0, 0), |t| (t.uses_left, t.not_after));
    if !policy.multiuser && uses_left != 1 {
        return Err(Denied::JoinLinkNotSingleUse { uses_left });
    }
    if policy.expiration > 0 {
        let too_late = now_s.is_some_and(|now| {
            not_after
                > now
                    .saturating_add(u64::from(policy.expiration))
                    .saturating_add(JOIN_LINK_CLOCK_SLACK_S)
        });
        if not_after == 0 || too_late {
            return Err(Denied::JoinLinkLifetime {
                not_after,
                expiration: policy.expiration,
            });
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
/// Who takes a client out of the group.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Remover {
    /// The committer (a Remove it proposed or chose to include).
    Committer,
    /// The client itself (SelfRemove).
    Itself,
    /// The hub as policy enforcer (its Remove, included by reference).
    Enforcer,
}

pub(crate) fn apply_members(
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
        .chain(&commit.self_removed)
        .chain(&commit.enforced_removed);
    for m in all {
        check_client_of_user(&m.client, &m.user)?;
    }
    if !commit.enforced_removed.is_empty() {
        state.may_propose_externally()?;
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
    for (m, by) in commit
        .removed
        .iter()
        .map(|m| (m, Remover::Committer))
        .chain(commit.self_removed.iter().map(|m| (m, Remover::Itself)))
        .chain(
            commit
                .enforced_removed
                .iter()
                .map(|m| (m, Remover::Enforcer)),
        )
    {
        if state.members.get(&m.client) != Some(&m.user) || !gone.insert(&m.client) {
            return Err(Denied::ClientNotMember {
                client: m.client.clone(),
            });
        }
        // Authorized against the hub when it accepted the proposal (same epoch and state).
        if by == Remover::Enforcer {
            continue;
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
        if by == Remover::Itself {
            own_check()?;
        } else {
            ctx.on_target(&m.user, own_check, |idx, acting| {
                require(idx, Some(acting), Capability::CAN_KICK)
            })?;
        }
    }
    for client in &gone {
        next.members.remove(*client);
        next.member_kinds.remove(*client);
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
                |idx, acting| {
                    let establishing = match &commit.actor {
                        Actor::Client { user, .. } => {
                            state.establishes_fixed_participant(user, &m.user)
                        }
                        Actor::Server(_) => false,
                    };
                    if establishing {
                        return Ok(());
                    }
                    require(idx, Some(acting), Capability::CAN_ADD_PARTICIPANT)
                },
            )?;
        }
        next.members.insert(m.client.clone(), m.user.clone());
        if !m.kind.is_person() {
            next.member_kinds.insert(m.client.clone(), m.kind.clone());
        }
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
            ComponentId::SERVER_POLICY => self.server_policy = None,
            other => {
                self.plumbing.remove(&other);
            }
        }
    }

    fn replace_component(
        &mut self,
        component: ComponentId,
        data: &[u8],
    ) -> Result<(), DecodeError> {
        if component == ComponentId::ROLES_LIST {
            self.roles = RoleData::decode(data)?;
            return Ok(());
        }
        let mut participants = None;
        let mut roles = None;
        self.set_component(component, data, &mut participants, &mut roles)
    }
}
