//! The limits a commit must respect (room-policy §3, §5): removed and banned users keep no
//! clients, `multi_device`, `max_clients`, `max_users`, and each role's minimum and maximum
//! (active) participants.
//!
//! A limit is violated by a commit only if the commit moves a count past it in the wrong
//! direction: a state that already sits beyond a limit (for example right after a role
//! redefinition) does not block commits that do not make it worse.
//!
//! Cost: a commit changes the client count and role of the users it touches only (its
//! participant-list actions and the users of its MLS adds and removes), so the counts are
//! computed for those users and kept as deltas; a full count of a role's active participants
//! is made only when such a delta moves it towards a constraint. Checking an add in a room of
//! 1,000 users thus costs a few scans of the room, not a map of every user per check.

use std::collections::{BTreeMap, BTreeSet};

use mimi_types::UserUri;

use crate::components::RoleIndex;
use crate::denied::Denied;
use crate::state::RoomState;
use crate::summary::{CommitSummary, ParticipantAction};

/// The users whose clients or participant entries `commit` may change.
fn touched_users<'a>(
    actions: &'a [ParticipantAction],
    commit: &'a CommitSummary,
) -> BTreeSet<&'a UserUri> {
    let members = commit
        .added
        .iter()
        .chain(&commit.removed)
        .chain(&commit.self_removed)
        .chain(&commit.enforced_removed)
        .map(|m| &m.user);
    actions
        .iter()
        .map(ParticipantAction::user)
        .chain(members)
        .collect()
}

/// How many clients each of `users` holds in `state` (users with none are absent).
fn clients_of<'a>(state: &RoomState, users: &BTreeSet<&'a UserUri>) -> BTreeMap<&'a UserUri, u64> {
    let mut out: BTreeMap<&UserUri, u64> = BTreeMap::new();
    for user in state.members.values() {
        if let Some(u) = users.get(user) {
            *out.entry(*u).or_default() += 1;
        }
    }
    out
}

/// Per role, the active participant entries of `users` (listed, with at least one client).
fn active_entries_of(
    state: &RoomState,
    users: &BTreeSet<&UserUri>,
    clients: &BTreeMap<&UserUri, u64>,
) -> BTreeMap<RoleIndex, i64> {
    let mut out: BTreeMap<RoleIndex, i64> = BTreeMap::new();
    for p in &state.participants.participants {
        if users.contains(&p.user) && clients.contains_key(&p.user) {
            *out.entry(p.role_index).or_default() += 1;
        }
    }
    out
}

/// Per role, the listed participant entries.
fn listed_per_role(state: &RoomState) -> BTreeMap<RoleIndex, u64> {
    let mut out: BTreeMap<RoleIndex, u64> = BTreeMap::new();
    for p in &state.participants.participants {
        *out.entry(p.role_index).or_default() += 1;
    }
    out
}

/// Per role, the active participant entries of everyone (the full count).
fn active_per_role(state: &RoomState) -> BTreeMap<RoleIndex, u64> {
    let with_clients: BTreeSet<&UserUri> = state.members.values().collect();
    let mut out: BTreeMap<RoleIndex, u64> = BTreeMap::new();
    for p in &state.participants.participants {
        if with_clients.contains(&p.user) {
            *out.entry(p.role_index).or_default() += 1;
        }
    }
    out
}

fn non_banned_users(state: &RoomState) -> u64 {
    state
        .participants
        .participants
        .iter()
        .filter(|p| p.role_index != RoleIndex::BANNED)
        .count() as u64
}

/// Checks the limits for `commit`, whose participant-list `actions` turned `before` into
/// `after`.
pub(crate) fn check_limits(
    before: &RoomState,
    after: &RoomState,
    actions: &[ParticipantAction],
    commit: &CommitSummary,
) -> Result<(), Denied> {
    let touched = touched_users(actions, commit);
    let after_clients = clients_of(after, &touched);
    for action in actions {
        let out = match action {
            ParticipantAction::Remove { .. } => true,
            ParticipantAction::ChangeRole { to, .. } => *to == RoleIndex::BANNED,
            ParticipantAction::Add { .. } => false,
        };
        if out && after_clients.contains_key(action.user()) {
            return Err(Denied::ClientsRemain {
                user: action.user().clone(),
            });
        }
    }

    let before_clients = clients_of(before, &touched);
    let policy = after.base_policy();
    if !policy.multi_device {
        // Only a touched user's count can have grown; in user order, as a full scan would.
        for (user, n) in &after_clients {
            if *n > 1 && *n > before_clients.get(user).copied().unwrap_or(0) {
                return Err(Denied::MultiDeviceForbidden {
                    user: (*user).clone(),
                });
            }
        }
    }
    if let Some(limit) = policy.max_clients {
        let (b, a) = (before.members.len() as u64, after.members.len() as u64);
        if a > u64::from(limit) && a > b {
            return Err(Denied::MaxClientsExceeded { limit });
        }
    }
    if let Some(limit) = policy.max_users {
        let (b, a) = (non_banned_users(before), non_banned_users(after));
        if a > u64::from(limit) && a > b {
            return Err(Denied::MaxUsersExceeded { limit });
        }
    }

    let (b_listed, a_listed) = (listed_per_role(before), listed_per_role(after));
    // Active entries of untouched users are the same on both sides: the change per role is
    // the touched users' change.
    let mut active_delta = active_entries_of(after, &touched, &after_clients);
    for (role, n) in active_entries_of(before, &touched, &before_clients) {
        *active_delta.entry(role).or_default() -= n;
    }
    let mut b_active_all = None;
    for role in &after.roles.roles {
        let idx = role.role_index;
        let b_all = b_listed.get(&idx).copied().unwrap_or_default();
        let a_all = a_listed.get(&idx).copied().unwrap_or_default();
        if let Some(limit) = role.maximum_participants_constraint
            && a_all > u64::from(limit)
            && a_all > b_all
        {
            return Err(Denied::RoleMaxParticipants { role: idx, limit });
        }
        let limit = role.minimum_participants_constraint;
        if a_all < u64::from(limit) && a_all < b_all {
            return Err(Denied::RoleMinParticipants { role: idx, limit });
        }
        let delta = active_delta.get(&idx).copied().unwrap_or_default();
        let grows = delta > 0 && role.maximum_active_participants_constraint.is_some();
        let shrinks = delta < 0 && role.minimum_active_participants_constraint > 0;
        if !(grows || shrinks) {
            continue;
        }
        let b_active = b_active_all
            .get_or_insert_with(|| active_per_role(before))
            .get(&idx)
            .copied()
            .unwrap_or_default();
        let a_active = b_active.saturating_add_signed(delta);
        if let Some(limit) = role.maximum_active_participants_constraint
            && a_active > u64::from(limit)
            && a_active > b_active
        {
            return Err(Denied::RoleMaxActive { role: idx, limit });
        }
        let limit = role.minimum_active_participants_constraint;
        if a_active < u64::from(limit) && a_active < b_active {
            return Err(Denied::RoleMinActive { role: idx, limit });
        }
    }
    Ok(())
}
