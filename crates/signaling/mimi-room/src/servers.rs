//! The room's server access list (`server_policy`, ours) applied to the room state: what each
//! provider may do, which providers take part, and the checks of a commit's adds and actor.
//! The rules are in `readings` ("Capabilities per server").

use std::collections::BTreeSet;

use mimi_types::{Domain, UserUri};

use crate::codec::DecodeError;
use crate::components::{RoleIndex, ServerCapabilities};
use crate::denied::Denied;
use crate::state::RoomState;
use crate::summary::{Actor, CommitSummary, ParticipantAction};

impl RoomState {
    /// What `domain`'s servers and users may do in the room: everything when the room has no
    /// `server_policy`, and always everything for the room's hub.
    pub fn server_capabilities(&self, domain: &Domain) -> ServerCapabilities {
        match &self.server_policy {
            None => ServerCapabilities::ALL,
            Some(_) if self.hub_domain().as_ref() == Some(domain) => ServerCapabilities::ALL,
            Some(p) => p.capabilities_of(domain),
        }
    }

    /// Requires `capability` of `domain` ([`Denied::ProviderNotAllowed`] otherwise).
    pub fn require_server(
        &self,
        domain: &Domain,
        capability: ServerCapabilities,
    ) -> Result<(), Denied> {
        if self.server_capabilities(domain).contains(capability) {
            Ok(())
        } else {
            Err(Denied::ProviderNotAllowed {
                domain: domain.clone(),
                capability,
            })
        }
    }

    /// The room's hub, from the room URI in its metadata (none if the room has no metadata).
    pub fn hub_domain(&self) -> Option<Domain> {
        let uri = self.metadata.as_ref()?.room_uri.as_str();
        mimi_types::RoomUri::parse(uri)
            .ok()
            .map(|r| r.hub_domain().clone())
    }

    /// Server-level membership: the providers that take part now, those of the listed users
    /// who are not banned and of the clients in the MLS group, sorted.
    pub fn provider_domains(&self) -> BTreeSet<&Domain> {
        self.participants
            .participants
            .iter()
            .filter(|p| p.role_index != RoleIndex::BANNED)
            .map(|p| p.user.domain())
            .chain(self.members.values().map(UserUri::domain))
            .collect()
    }

    /// The rule across components: the hub keeps every capability (an entry may not restrict
    /// it; unlisted in an allow-list, it still has them all), and no listed user (other
    /// than a banned one) nor client in the group is of a provider without `join`. So a deny
    /// of a provider that has users in the room must remove or ban them in the same commit.
    pub(crate) fn check_server_policy(&self) -> Result<(), DecodeError> {
        let Some(policy) = &self.server_policy else {
            return Ok(());
        };
        if let Some(hub) = self.hub_domain()
            && policy
                .entries
                .iter()
                .any(|e| e.domain.domain == hub && e.capabilities != ServerCapabilities::ALL)
        {
            return Err(DecodeError::invalid(
                "room state",
                format!(
                    "server_policy restricts {hub}, the room's hub, which keeps every capability"
                ),
            ));
        }
        let users = self
            .participants
            .participants
            .iter()
            .filter(|p| p.role_index != RoleIndex::BANNED)
            .map(|p| &p.user)
            .chain(self.members.values());
        for user in users {
            if !self
                .server_capabilities(user.domain())
                .contains(ServerCapabilities::JOIN)
            {
                return Err(DecodeError::invalid(
                    "room state",
                    format!(
                        "server_policy keeps {} out, yet its user {user} is in the room; remove or ban its users first (or in the same commit)",
                        user.domain()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// The server access list's checks of a commit: the acting client's provider may submit
/// (joining needs `join` instead; a member of a provider without `submit` may still only
/// leave), a server actor may submit, and every user and client the commit adds is of a
/// provider with `join`.
pub(crate) fn check_commit_servers(
    state: &RoomState,
    commit: &CommitSummary,
    actions: &[ParticipantAction],
) -> Result<(), Denied> {
    match &commit.actor {
        Actor::Client { user, .. } if commit.external_join => {
            state.require_server(user.domain(), ServerCapabilities::JOIN)?;
        }
        Actor::Client { user, .. } => {
            let only_own_removals = commit.component_changes.is_empty()
                && commit.added.is_empty()
                && commit
                    .removed
                    .iter()
                    .chain(&commit.self_removed)
                    .all(|m| &m.user == user);
            if !only_own_removals {
                state.require_server(user.domain(), ServerCapabilities::SUBMIT)?;
            }
        }
        Actor::Server(domain) => state.require_server(domain, ServerCapabilities::SUBMIT)?,
    }
    let added_users = actions.iter().filter_map(|a| match a {
        ParticipantAction::Add { user, .. } => Some(user),
        _ => None,
    });
    for user in added_users.chain(commit.added.iter().map(|m| &m.user)) {
        state.require_server(user.domain(), ServerCapabilities::JOIN)?;
    }
    Ok(())
}
