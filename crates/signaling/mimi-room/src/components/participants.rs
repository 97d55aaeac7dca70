//! Participant list, component 0x0022 (protocol-06 §7.5; digest §4.2).

use std::collections::BTreeSet;

use mimi_types::UserUri;
use mimi_types::codepoints::ComponentId;
use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::tls_component;
use crate::codec::{DecodeError, user_uri};

/// A role's index in `roles_list` (`uint32 role_index`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, TlsSerialize, TlsDeserialize, TlsSize,
)]
pub struct RoleIndex(pub u32);

impl RoleIndex {
    /// Role 0: not (yet, or any longer) in the participant list.
    pub const NO_ROLE: Self = Self(0);
    /// Role 1: banned (when `roles_list` names it `"banned"`).
    pub const BANNED: Self = Self(1);
}

impl std::fmt::Display for RoleIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "role {}", self.0)
    }
}

/// `UserRolePair`: a listed user and its one role.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct UserRolePair {
    /// The user's URI (identical for all its clients).
    #[tls_codec(with = "user_uri")]
    pub user: UserUri,
    /// Its role.
    pub role_index: RoleIndex,
}

impl UserRolePair {
    /// A pair.
    pub fn new(user: UserUri, role_index: RoleIndex) -> Self {
        Self { user, role_index }
    }
}

/// `ParticipantListData`: the ordered list of users with their roles. Each user appears once;
/// role 0 never appears (it means "not listed").
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ParticipantList {
    /// The participants, in list order (indices in updates refer to this order).
    pub participants: Vec<UserRolePair>,
}

tls_component!(
    ParticipantList,
    "ParticipantListData",
    ComponentId::PARTICIPANT_LIST
);

impl ParticipantList {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        let mut seen = BTreeSet::new();
        for p in &self.participants {
            if p.role_index == RoleIndex::NO_ROLE {
                return Err(DecodeError::invalid(
                    "ParticipantListData",
                    format!("{} is listed with role 0 (no role)", p.user),
                ));
            }
            if !seen.insert(&p.user) {
                return Err(DecodeError::invalid(
                    "ParticipantListData",
                    format!("{} is listed twice; a user has exactly one role", p.user),
                ));
            }
        }
        Ok(())
    }

    /// The role of `user`, or [`RoleIndex::NO_ROLE`] if unlisted.
    pub fn role_of(&self, user: &UserUri) -> RoleIndex {
        self.participants
            .iter()
            .find(|p| &p.user == user)
            .map_or(RoleIndex::NO_ROLE, |p| p.role_index)
    }

    /// The list index of `user`.
    pub fn index_of(&self, user: &UserUri) -> Option<usize> {
        self.participants.iter().position(|p| &p.user == user)
    }

    /// How many listed users hold `role`.
    pub fn count_in_role(&self, role: RoleIndex) -> usize {
        self.participants
            .iter()
            .filter(|p| p.role_index == role)
            .count()
    }
}

/// `UserindexRolePair`: a role change of the participant at `user_index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct UserIndexRolePair {
    /// Index into the current participant vector.
    pub user_index: u32,
    /// The new role.
    pub role_index: RoleIndex,
}

/// `ParticipantListUpdate`: one delta, applied in the order role changes, removals, additions.
/// Indices refer to the participant vector as it was before this update.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ParticipantListUpdate {
    /// Role changes.
    pub changed_role_participants: Vec<UserIndexRolePair>,
    /// Indices of removed participants.
    pub removed_indices: Vec<u32>,
    /// Appended participants.
    pub added_participants: Vec<UserRolePair>,
}

tls_component!(ParticipantListUpdate, "ParticipantListUpdate");

impl ParticipantListUpdate {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        if let Some(p) = self
            .added_participants
            .iter()
            .find(|p| p.role_index == RoleIndex::NO_ROLE)
        {
            return Err(DecodeError::invalid(
                "ParticipantListUpdate",
                format!("{} is added with role 0 (no role)", p.user),
            ));
        }
        if let Some(c) = self
            .changed_role_participants
            .iter()
            .find(|c| c.role_index == RoleIndex::NO_ROLE)
        {
            return Err(DecodeError::invalid(
                "ParticipantListUpdate",
                format!(
                    "participant {} is moved to role 0; remove it with removedIndices instead",
                    c.user_index
                ),
            ));
        }
        Ok(())
    }

    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        self.changed_role_participants.is_empty()
            && self.removed_indices.is_empty()
            && self.added_participants.is_empty()
    }
}
