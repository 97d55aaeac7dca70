//! The room's server access list (issue 18 item 3): which providers may take part and what
//! their servers may do (`mimi_room::components::ServerPolicy`), changed in one commit that
//! `mimi-room` checks here first and the hub and every member again
//! (`canChangeRoomMembershipStyle`).

use mimi_room::components::{Component, ServerCapabilities, ServerPolicy, ServerPolicyMode};
use mimi_room::{ComponentChange, RoomState};
use mimi_types::codepoints::ComponentId;
use mimi_types::{Domain, RoomUri};

use crate::client::Client;
use crate::error::ClientError;
use crate::outgoing::OpId;

/// How the room treats providers without an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerMode {
    /// No server access list: every provider may do everything.
    Open,
    /// Only listed providers take part.
    AllowList,
    /// Every provider takes part except as listed.
    DenyList,
}

/// One provider's standing in a room.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerStanding {
    /// The provider.
    pub domain: Domain,
    /// What it may do.
    pub capabilities: ServerCapabilities,
    /// Whether it has an entry in the access list.
    pub listed: bool,
    /// Whether it takes part now (a listed user who is not banned, or a client in the group).
    pub taking_part: bool,
}

/// The room's server access list and server-level membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerAccess {
    /// The mode.
    pub mode: ServerMode,
    /// Every provider listed or taking part, sorted by domain.
    pub servers: Vec<ServerStanding>,
}

impl ServerAccess {
    /// Reads `state`'s access list and the providers that take part.
    pub fn of(state: &RoomState) -> Self {
        let policy = state.server_policy();
        let mode = match policy.map(|p| p.mode) {
            None => ServerMode::Open,
            Some(ServerPolicyMode::AllowListed) => ServerMode::AllowList,
            Some(ServerPolicyMode::DenyListed) => ServerMode::DenyList,
        };
        let taking_part = state.provider_domains();
        let mut domains: Vec<&Domain> = taking_part.iter().copied().collect();
        if let Some(p) = policy {
            domains.extend(p.entries.iter().map(|e| &e.domain.domain));
        }
        domains.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        domains.dedup();
        let servers = domains
            .into_iter()
            .map(|d| ServerStanding {
                domain: d.clone(),
                capabilities: state.server_capabilities(d),
                listed: policy.is_some_and(|p| p.entries.iter().any(|e| &e.domain.domain == d)),
                taking_part: taking_part.contains(d),
            })
            .collect();
        Self { mode, servers }
    }
}

impl Client {
    /// `room`'s server access list and which providers take part.
    pub fn server_access(&mut self, room: &RoomUri) -> Result<ServerAccess, ClientError> {
        Ok(ServerAccess::of(self.active_room(room)?.group.room()))
    }

    /// Gives `domain` the capabilities `caps` (`allow`) or takes them away (`!allow`), in one
    /// commit. A room without an access list gets a deny-list first. Refused here when nothing
    /// changes, for the room's own hub, and (by `mimi-room`) while a denied provider still has
    /// users in the room: remove or ban them first.
    pub fn change_server_access(
        &mut self,
        now: u64,
        room: &RoomUri,
        domain: &Domain,
        allow: bool,
        caps: ServerCapabilities,
    ) -> Result<OpId, ClientError> {
        if domain == room.hub_domain() && !allow {
            return Err(ClientError::misuse(format!(
                "{domain} is the hub of {room}; the hub keeps every capability"
            )));
        }
        let policy = {
            let state = self.active_room(room)?.group.room();
            let current = state.server_policy().cloned().unwrap_or(ServerPolicy {
                mode: ServerPolicyMode::DenyListed,
                entries: Vec::new(),
            });
            let had = current.capabilities_of(domain);
            let want = if allow {
                had.with(caps)
            } else {
                ServerCapabilities {
                    bits: had.bits & !caps.bits,
                }
            };
            if want == had {
                return Err(ClientError::misuse(format!(
                    "{domain} already has {want} in {room}: nothing to change"
                )));
            }
            current.with_entry(domain, want)
        };
        self.replace_server_policy(now, room, Some(&policy))
    }

    /// Sets how `room` treats providers without an entry. Switching to an allow-list lists
    /// every provider taking part now with every capability, so nobody is shut out by it;
    /// [`ServerMode::Open`] removes the access list.
    pub fn set_server_mode(
        &mut self,
        now: u64,
        room: &RoomUri,
        mode: ServerMode,
    ) -> Result<OpId, ClientError> {
        let policy = {
            let state = self.active_room(room)?.group.room();
            let current = state.server_policy();
            let next = match mode {
                ServerMode::Open => None,
                ServerMode::DenyList | ServerMode::AllowList => {
                    let target = if mode == ServerMode::AllowList {
                        ServerPolicyMode::AllowListed
                    } else {
                        ServerPolicyMode::DenyListed
                    };
                    let mut next = ServerPolicy {
                        mode: target,
                        entries: Vec::new(),
                    };
                    let mut domains: Vec<&Domain> = state.provider_domains().into_iter().collect();
                    if let Some(p) = current {
                        domains.extend(p.entries.iter().map(|e| &e.domain.domain));
                    }
                    for d in domains {
                        next = next.with_entry(d, state.server_capabilities(d));
                    }
                    Some(next)
                }
            };
            if next.as_ref() == current {
                return Err(ClientError::misuse(format!(
                    "{room} already has this server mode: nothing to change"
                )));
            }
            next
        };
        self.replace_server_policy(now, room, policy.as_ref())
    }

    fn replace_server_policy(
        &mut self,
        now: u64,
        room: &RoomUri,
        policy: Option<&ServerPolicy>,
    ) -> Result<OpId, ClientError> {
        let change = match policy {
            Some(p) => ComponentChange::update(ComponentId::SERVER_POLICY, p.encode()),
            None => ComponentChange::remove(ComponentId::SERVER_POLICY),
        };
        self.commit(now, room, &[change], &[], &[])
    }
}
