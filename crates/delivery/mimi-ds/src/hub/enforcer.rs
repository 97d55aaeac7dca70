//! The hub as policy enforcer (digest §3.5; room-policy Appendix A): through its service
//! user's clientless `policy_enforcer` role, the hub proposes removing clients that must go
//! (a revoked device of one of its provider's users) as an external sender, and re-issues
//! those proposals when an external commit lets them lapse, stapled to the commit's fan-out
//! (`externalProposals`), so that no removal is lost to the race.
//!
//! The hub only proposes; a member commits. Every commit of the epoch must include the
//! hub's proposals (the hub refuses one that omits them), and a committer needs no capability
//! for them: they were authorized against the hub (`mimi-room`'s readings).

use mimi_federation_api::mls::MlsMessage;
use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
use mimi_mls::ServerIdentity;
use mimi_types::ClientUri;

use super::{HubOutput, HubRoom};
use crate::error::RequestError;

/// What [`HubRoom::evict`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Eviction {
    /// The clients the hub proposed removing now.
    pub proposed: Vec<ClientUri>,
    /// Clients whose removal is already proposed in this epoch, by the hub or anyone else
    /// (left as they are).
    pub pending: Vec<ClientUri>,
    /// Clients that are not in the group.
    pub absent: Vec<ClientUri>,
}

impl HubRoom {
    /// Proposes removing `clients` from the group, signed with the hub's external-sender key
    /// `hub`: each proposal is validated and authorized like a member's (the room must give the
    /// hub's service user a role with `canKick`, else [`RequestError::PolicyRefused`] names the
    /// reason), cached for the epoch, logged and fanned out to every member provider.
    pub fn evict(
        &mut self,
        now_ms: u64,
        hub: &ServerIdentity,
        clients: &[ClientUri],
    ) -> Result<HubOutput<Eviction>, RequestError> {
        // Not twice, and not where the client's own SelfRemove (a logout) or a member's
        // Remove is pending: two removals of one leaf would make the epoch's commit invalid.
        let pending = self.group.pending_removals();
        let mut eviction = Eviction {
            proposed: Vec::new(),
            pending: Vec::new(),
            absent: Vec::new(),
        };
        for client in clients {
            if pending.contains(client) {
                eviction.pending.push(client.clone());
            } else if !self.group.has_member(client) {
                eviction.absent.push(client.clone());
            } else if !eviction.proposed.contains(client) {
                eviction.proposed.push(client.clone());
            }
        }
        let messages = self.propose(now_ms, hub, &eviction.proposed)?;
        let Some((first, more)) = messages.split_first() else {
            return Ok(HubOutput::unchanged(eviction, Vec::new()));
        };
        let fanout = FanoutMessage::new(
            now_ms,
            FanoutContent::Proposal {
                message: first.clone(),
                more_proposals: more.to_vec(),
            },
        );
        let entry = self.accept(&fanout)?;
        let effects = self
            .member_domains()
            .iter()
            .map(|to| self.notify(to, fanout.clone()))
            .collect();
        Ok(HubOutput {
            response: eviction,
            effects,
            changed: true,
            state_changed: true,
            log: vec![entry],
            resynced: None,
        })
    }

    /// Retracts messages (hub-retracted-messages-00): the room must give the hub's service
    /// user a role with `canDeleteOtherMessage` and `retraction` must name that user as
    /// remover (else [`RequestError::PolicyRefused`] names the reason, and nothing is sent).
    /// The AppEphemeral proposal, signed with the hub's external-sender key `hub` for the
    /// current epoch, is logged and fanned out to every member provider like a proposal;
    /// members verify and authorize it themselves and hide the messages. It changes no MLS
    /// state and no commit has to include it (see `mimi_mls::HubGroup::propose_app_ephemeral`).
    pub fn retract(
        &mut self,
        now_ms: u64,
        hub: &ServerIdentity,
        retraction: &mimi_room::components::HubRetraction,
    ) -> Result<HubOutput<()>, RequestError> {
        let actor = mimi_room::Actor::Server(self.room.hub_domain().clone());
        mimi_room::authorize_hub_retraction(self.group.room(), &actor, retraction, false)
            .map_err(|e| RequestError::PolicyRefused(format!("retracting messages: {e}")))?;
        let bytes = self
            .group
            .propose_app_ephemeral(hub, retraction.component_id(), &retraction.encode())
            .map_err(|e| RequestError::Internal(format!("hub retraction proposal: {e}")))?;
        let message = MlsMessage::from_bytes(bytes)
            .map_err(|e| RequestError::Internal(format!("hub retraction proposal: {e}")))?;
        let fanout = FanoutMessage::new(
            now_ms,
            FanoutContent::Proposal {
                message,
                more_proposals: Vec::new(),
            },
        );
        let entry = self.accept(&fanout)?;
        let effects = self
            .member_domains()
            .iter()
            .map(|to| self.notify(to, fanout.clone()))
            .collect();
        Ok(HubOutput {
            response: (),
            effects,
            changed: true,
            state_changed: false,
            log: vec![entry],
            resynced: None,
        })
    }

    /// Re-issues, in the epoch an external commit has just started, the removals the hub had
    /// proposed in the previous one (`lapsed`) whose clients are still in the group.
    pub(super) fn repropose(
        &mut self,
        now_ms: u64,
        hub: &ServerIdentity,
        lapsed: &[ClientUri],
    ) -> Result<Vec<MlsMessage>, RequestError> {
        let still: Vec<ClientUri> = lapsed
            .iter()
            .filter(|c| self.group.has_member(c))
            .cloned()
            .collect();
        self.propose(now_ms, hub, &still)
    }

    /// Builds, validates and caches the hub's Remove proposals for `clients`.
    fn propose(
        &mut self,
        now_ms: u64,
        hub: &ServerIdentity,
        clients: &[ClientUri],
    ) -> Result<Vec<MlsMessage>, RequestError> {
        if clients.is_empty() {
            return Ok(Vec::new());
        }
        let now_s = now_ms / 1000;
        let built = self
            .group
            .propose_remove(hub, clients)
            .map_err(|e| RequestError::Internal(format!("hub Remove proposal: {e}")))?;
        let mut staged = Vec::with_capacity(built.len());
        for bytes in &built {
            let s = self
                .group
                .process(bytes, now_s)
                .map_err(|e| RequestError::PolicyRefused(format!("removing clients: {e}")))?;
            staged.push(s);
        }
        let mut out = Vec::with_capacity(built.len());
        for (s, bytes) in staged.into_iter().zip(built) {
            self.group
                .merge(s, None, now_s)
                .map_err(|e| RequestError::Internal(format!("hub Remove proposal: {e}")))?;
            out.push(
                MlsMessage::from_bytes(bytes)
                    .map_err(|e| RequestError::Internal(format!("hub Remove proposal: {e}")))?,
            );
        }
        Ok(out)
    }
}
