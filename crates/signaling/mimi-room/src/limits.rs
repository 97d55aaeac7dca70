//! The limits a commit must respect (room-policy §3, §5): removed and banned users keep no
//! clients, `multi_device`, `max_clients`, `max_users`, and each role's minimum and maximum
//! (active) participants.
//!
//! A limit is violated by a commit only if the commit moves a count past it in the wrong
//! direction: a state that already sits beyond a limit (for example right after a role
//! redefinition) does not block commits that do not make it worse.

use std::collections::BTreeMap;

use mimi_types::UserUri;

use crate::components::RoleIndex;
use crate::denied::Denied;
use crate::state::RoomState;
use crate::summary::ParticipantAction;

/// Per role: (listed users, users with at least one client).
fn role_counts(
    state: &RoomState,
    clients: &BTreeMap<&UserUri, u64>,
) -> BTreeMap<RoleIndex, (u64, u64)> {
    let mut counts: BTreeMap<RoleIndex, (u64, u64)> = BTreeMap::new();
    for p in &state.participants.participants {
        let entry = counts.entry(p.role_index).or_default();
        entry.0 += 1;
        if clients.contains_key(&p.user) {
            entry.1 += 1;
        }
    }
    counts
}

fn non_banned_users(state: &RoomState) -> u64 {
    state
        .participants
        .participants
        .iter()
        .filter(|p| p.role_index != RoleIndex::BANNED)
        .count() as u64
}

fn clients_per_user(state: &RoomState) -> BTreeMap<&UserUri, u64> {
    let mut out: BTreeMap<&UserUri, u64> = BTreeMap::new();
    for user in state.members.values() {
        *out.entry(user).or_default() += 1;
    }
    out
}

pub(crate) fn check_limits(
    before: &RoomState,
    after: &RoomState,
    actions: &[ParticipantAction],
) -> Result<(), Denied> {
    let after_clients = clients_per_user(after);
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

    let before_clients = clients_per_user(before);
    let policy = after.base_policy();
    if !policy.multi_device {
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

    let (b_counts, a_counts) = (
        role_counts(before, &before_clients),
        role_counts(after, &after_clients),
    );
    for role in &after.roles.roles {
        let idx = role.role_index;
        let (b_all, b_active) = b_counts.get(&idx).copied().unwrap_or_default();
        let (a_all, a_active) = a_counts.get(&idx).copied().unwrap_or_default();
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
