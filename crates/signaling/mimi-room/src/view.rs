//! What a client UI needs from the room state: the member list with roles, and who may send,
//! edit or delete what. Receiving clients enforce the message capabilities the hub cannot see
//! (content is end-to-end encrypted): a client MUST NOT honour an edit or delete these refuse.

use std::collections::BTreeSet;

use mimi_types::{ClientUri, UserUri};

use crate::capability::Capability;
use crate::components::RoleIndex;
use crate::denied::Denied;
use crate::state::RoomState;

/// One participant as a UI shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    /// The user.
    pub user: UserUri,
    /// Its role.
    pub role: RoleIndex,
    /// The role's name (empty if the role is undefined).
    pub role_name: String,
    /// Its clients in the group, sorted.
    pub clients: Vec<ClientUri>,
    /// Whether it is banned.
    pub banned: bool,
}

impl MemberView {
    /// Whether the user has at least one client in the group.
    pub fn is_active(&self) -> bool {
        !self.clients.is_empty()
    }
}

impl RoomState {
    /// The participant list in list order, with role names and clients.
    pub fn member_views(&self) -> Vec<MemberView> {
        self.participants
            .participants
            .iter()
            .map(|p| MemberView {
                user: p.user.clone(),
                role: p.role_index,
                role_name: self
                    .roles
                    .role(p.role_index)
                    .map(|r| r.role_name.clone())
                    .unwrap_or_default(),
                clients: self.clients_of(&p.user).into_iter().cloned().collect(),
                banned: p.role_index == RoleIndex::BANNED,
            })
            .collect()
    }

    /// The capabilities `user` holds (empty for unlisted and banned users).
    pub fn capabilities_of(&self, user: &UserUri) -> BTreeSet<Capability> {
        let role = self.role_of(user);
        if role == RoleIndex::NO_ROLE || role == RoleIndex::BANNED {
            return BTreeSet::new();
        }
        self.roles
            .role(role)
            .map(|r| r.role_capabilities.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The users who may send application messages.
    pub fn senders(&self) -> Vec<&UserUri> {
        self.participants
            .participants
            .iter()
            .filter(|p| self.may_send(&p.user).is_ok())
            .map(|p| &p.user)
            .collect()
    }

    /// Whether `editor` may edit a message `author` sent: only one's own, with
    /// `canEditOwnMessage` (the registry has no capability to edit others' messages).
    pub fn may_edit_message(&self, editor: &UserUri, author: &UserUri) -> Result<(), Denied> {
        if editor != author {
            return Err(Denied::MissingCapability {
                capability: Capability::CAN_EDIT_OWN_MESSAGE,
                role: self.role_of(editor),
            });
        }
        self.require_listed_capability(editor, Capability::CAN_EDIT_OWN_MESSAGE)
    }

    /// Whether `deleter` may delete a message `author` sent (`canDeleteOwnMessage` or
    /// `canDeleteOtherMessage`).
    pub fn may_delete_message(&self, deleter: &UserUri, author: &UserUri) -> Result<(), Denied> {
        let capability = if deleter == author {
            Capability::CAN_DELETE_OWN_MESSAGE
        } else {
            Capability::CAN_DELETE_OTHER_MESSAGE
        };
        self.require_listed_capability(deleter, capability)
    }

    /// Whether `user` may react to messages (`canReactToMessage`).
    pub fn may_react(&self, user: &UserUri) -> Result<(), Denied> {
        self.require_listed_capability(user, Capability::CAN_REACT_TO_MESSAGE)
    }

    /// Whether `user` may reply to messages (`canReplyToMessage`).
    pub fn may_reply(&self, user: &UserUri) -> Result<(), Denied> {
        self.require_listed_capability(user, Capability::CAN_REPLY_TO_MESSAGE)
    }

    /// Whether `deleter` may delete a reaction `reactor` made (`canDeleteOwnReaction` or
    /// `canDeleteOtherReaction`).
    pub fn may_delete_reaction(&self, deleter: &UserUri, reactor: &UserUri) -> Result<(), Denied> {
        let capability = if deleter == reactor {
            Capability::CAN_DELETE_OWN_REACTION
        } else {
            Capability::CAN_DELETE_OTHER_REACTION
        };
        self.require_listed_capability(deleter, capability)
    }

    /// The roles `actor` may move `target` to with one participant-list change (for a role
    /// picker). Role 0 means "remove"; role 1 means "ban".
    pub fn assignable_roles(&self, actor: &UserUri, target: &UserUri) -> BTreeSet<RoleIndex> {
        let Some(acting) = self.role_definition_of(actor) else {
            return BTreeSet::new();
        };
        let actor_role = self.role_of(actor);
        if actor_role == RoleIndex::NO_ROLE || actor_role == RoleIndex::BANNED {
            return BTreeSet::new();
        }
        let from = self.role_of(target);
        acting
            .targets_from(from)
            // Oneself: only leaving (own role changes need a preauthorization match).
            .filter(|to| actor != target || *to == RoleIndex::NO_ROLE)
            .filter(|to| {
                let capability = match (from, *to) {
                    (RoleIndex::NO_ROLE, RoleIndex::BANNED) => Capability::CAN_BAN,
                    (RoleIndex::NO_ROLE, _) => Capability::CAN_ADD_PARTICIPANT,
                    (_, RoleIndex::NO_ROLE) if actor == target => Capability::CAN_REMOVE_SELF,
                    (_, RoleIndex::NO_ROLE) => Capability::CAN_REMOVE_PARTICIPANT,
                    (_, RoleIndex::BANNED) => Capability::CAN_BAN,
                    (RoleIndex::BANNED, _) => Capability::CAN_UN_BAN,
                    _ => Capability::CAN_CHANGE_USER_ROLE,
                };
                acting.has(capability)
                    && (*to == RoleIndex::NO_ROLE || self.roles.role(*to).is_some())
            })
            .collect()
    }
}
