//! Role definitions, component `roles_list` (room-policy-03 §3; digest §4.4).

use std::collections::BTreeSet;

use mimi_types::codepoints::ComponentId;
use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::{RoleIndex, tls_component};
use crate::capability::Capability;
use crate::codec::{DecodeError, utf8};

/// `SingleSourceRoleChangeTargets`: the holder may move a user from `from_role_index` to any of
/// `target_role_indexes` (0 as source = adding; 0 as target = removing).
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct SingleSourceRoleChangeTargets {
    /// The source role.
    pub from_role_index: RoleIndex,
    /// The allowed targets.
    pub target_role_indexes: Vec<RoleIndex>,
}

impl SingleSourceRoleChangeTargets {
    /// An entry.
    pub fn new(from: u32, targets: &[u32]) -> Self {
        Self {
            from_role_index: RoleIndex(from),
            target_role_indexes: targets.iter().copied().map(RoleIndex).collect(),
        }
    }
}

/// `Role`: a role's capabilities, participant constraints and authorized role changes.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct Role {
    /// The role's index (0 = no role, 1 = banned by convention).
    pub role_index: RoleIndex,
    /// Name (UTF-8 in our reading; role 1 must be `"banned"` for ban/unban).
    #[tls_codec(with = "utf8")]
    pub role_name: String,
    /// Description (UTF-8).
    #[tls_codec(with = "utf8")]
    pub role_description: String,
    /// Capabilities, each at most once.
    pub role_capabilities: Vec<Capability>,
    /// Minimum number of listed users in the role (0 = none).
    pub minimum_participants_constraint: u32,
    /// Maximum number of listed users in the role.
    pub maximum_participants_constraint: Option<u32>,
    /// Minimum number of users in the role with at least one client.
    pub minimum_active_participants_constraint: u32,
    /// Maximum number of users in the role with at least one client (0 = clientless role).
    pub maximum_active_participants_constraint: Option<u32>,
    /// Role changes the holder may effect.
    pub authorized_role_changes: Vec<SingleSourceRoleChangeTargets>,
}

impl Role {
    /// A role with no capabilities, no constraints and no authorized changes.
    pub fn new(index: u32, name: &str, description: &str) -> Self {
        Self {
            role_index: RoleIndex(index),
            role_name: name.to_owned(),
            role_description: description.to_owned(),
            role_capabilities: Vec::new(),
            minimum_participants_constraint: 0,
            maximum_participants_constraint: None,
            minimum_active_participants_constraint: 0,
            maximum_active_participants_constraint: None,
            authorized_role_changes: Vec::new(),
        }
    }

    /// Whether the role holds `capability`.
    pub fn has(&self, capability: Capability) -> bool {
        self.role_capabilities.contains(&capability)
    }

    /// The targets of the holder's `from` entry (empty if none).
    pub fn targets_from(&self, from: RoleIndex) -> impl Iterator<Item = RoleIndex> + '_ {
        self.authorized_role_changes
            .iter()
            .filter(move |e| e.from_role_index == from)
            .flat_map(|e| e.target_role_indexes.iter().copied())
    }

    /// Whether the holder may move a user from `from` to `to`.
    pub fn may_change(&self, from: RoleIndex, to: RoleIndex) -> bool {
        self.targets_from(from).any(|t| t == to)
    }

    /// Whether the role may have no clients at all (`maximum_active_participants_constraint`
    /// is 0): a service role acted by a server, such as the hub's policy enforcer.
    pub fn is_clientless(&self) -> bool {
        self.maximum_active_participants_constraint == Some(0)
    }

    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        let what = "Role";
        let mut caps = BTreeSet::new();
        for c in &self.role_capabilities {
            if !caps.insert(*c) {
                return Err(DecodeError::invalid(
                    what,
                    format!("{} lists {c} twice", self.role_index),
                ));
            }
        }
        if self.role_index != RoleIndex::NO_ROLE && self.has(Capability::CAN_OPEN_JOIN) {
            return Err(DecodeError::invalid(
                what,
                format!(
                    "{} holds canOpenJoin, which only role 0 may hold",
                    self.role_index
                ),
            ));
        }
        if let Some(max) = self.maximum_participants_constraint
            && max < self.minimum_participants_constraint
        {
            return Err(DecodeError::invalid(
                what,
                format!("{}: maximum participants below minimum", self.role_index),
            ));
        }
        if let Some(max) = self.maximum_active_participants_constraint
            && max < self.minimum_active_participants_constraint
        {
            return Err(DecodeError::invalid(
                what,
                format!(
                    "{}: maximum active participants below minimum",
                    self.role_index
                ),
            ));
        }
        let mut froms = BTreeSet::new();
        for e in &self.authorized_role_changes {
            if !froms.insert(e.from_role_index) {
                return Err(DecodeError::invalid(
                    what,
                    format!(
                        "{}: two authorized_role_changes entries from {}",
                        self.role_index, e.from_role_index
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `RoleData`: the whole role list; an update replaces it.
#[derive(Debug, Clone, Default, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct RoleData {
    /// The roles, each index at most once.
    pub roles: Vec<Role>,
}

tls_component!(RoleData, "RoleData", ComponentId::ROLES_LIST);

impl RoleData {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        let mut seen = BTreeSet::new();
        for role in &self.roles {
            role.validate()?;
            if !seen.insert(role.role_index) {
                return Err(DecodeError::invalid(
                    "RoleData",
                    format!("{} is defined twice", role.role_index),
                ));
            }
        }
        Ok(())
    }

    /// The role with `index`.
    pub fn role(&self, index: RoleIndex) -> Option<&Role> {
        self.roles.iter().find(|r| r.role_index == index)
    }

    /// Whether role 1 exists and is named `"banned"`, as ban and unban require.
    pub fn has_banned_role(&self) -> bool {
        self.role(RoleIndex::BANNED)
            .is_some_and(|r| r.role_name == "banned")
    }
}
