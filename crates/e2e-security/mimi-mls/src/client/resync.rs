//! Rejoining a room this device is behind in: a device that cannot process a commit the hub
//! accepted (a lost commit, or one an insider built so that some members refuse it) joins again
//! by external commit from the hub's current GroupInfo. With the same signature key, the
//! external commit also removes the device's old leaf (RFC 9420 §12.4.3.2, the "resync" case),
//! so the device keeps its client URI and the room its member count.
//!
//! The hub's answer is checked against what the device knew before it is used: the same group,
//! a later epoch, the same hub as external sender, and this device's user still a participant.

use openmls::prelude::MlsMessageBodyIn;
use tls_codec::Serialize as _;

use super::{ClientGroup, OutgoingCommit, parse_message};
use crate::error::MlsError;
use crate::identity::ClientIdentity;

fn refused(reason: impl Into<String>) -> MlsError {
    MlsError::Resync(reason.into())
}

impl ClientGroup {
    /// Builds the external commit that brings this (stuck) device back into its room's current
    /// epoch, from the hub's GroupInfo, ratchet tree and pending proposals. Returns the new
    /// group, already in the commit's epoch, and the commit to submit; keep this group until
    /// the hub accepts, and drop the new one if it refuses.
    pub fn resync(
        &self,
        identity: &ClientIdentity,
        group_info: &[u8],
        ratchet_tree: &[u8],
        pending_proposals: &[Vec<u8>],
        now: u64,
    ) -> Result<(ClientGroup, OutgoingCommit), MlsError> {
        if identity.client() != &self.me.client {
            return Err(MlsError::Misuse(format!(
                "the group is {}'s, not {}'s",
                self.me.client,
                identity.client()
            )));
        }
        let MlsMessageBodyIn::GroupInfo(gi) = parse_message(group_info)?.extract() else {
            return Err(MlsError::Unexpected("expected a GroupInfo message".into()));
        };
        if gi.group_id() != self.group.group_id() {
            return Err(refused("the GroupInfo is for another group"));
        }
        if gi.ciphersuite() != self.group.ciphersuite() {
            return Err(refused("the GroupInfo names another ciphersuite"));
        }
        let (got, known) = (gi.epoch().as_u64(), self.epoch());
        if got <= known {
            return Err(refused(format!(
                "the GroupInfo is for epoch {got}, not later than this device's epoch {known}"
            )));
        }
        let (group, out) = ClientGroup::join_external(
            identity,
            group_info,
            ratchet_tree,
            pending_proposals,
            self.trust.clone(),
            now,
        )?;
        // The hub that orders the room is the one this device knew.
        if external_senders(&group.group)? != external_senders(&self.group)? {
            return Err(refused("the group's external senders (its hub) changed"));
        }
        if let Err(denied) = group.room.may_join_new_device(&self.me.user) {
            return Err(refused(denied.to_string()));
        }
        // openmls removes the old leaf that carries this device's signature key (the room
        // policy treats a joiner removing its own client as a resync): none may remain.
        let stale = group
            .group
            .members()
            .filter(|m| m.index != group.group.own_leaf_index())
            .filter_map(|m| crate::inspect::member_of_credential(&m.credential).ok())
            .any(|m| m.client == self.me.client);
        if stale {
            return Err(refused(
                "the rejoined group still holds another leaf of this device",
            ));
        }
        Ok((group, out))
    }
}

/// The `external_senders` extension of a group's context, as bytes (empty when absent).
fn external_senders(group: &openmls::group::MlsGroup) -> Result<Vec<u8>, MlsError> {
    match group.extensions().external_senders() {
        Some(e) => e
            .tls_serialize_detached()
            .map_err(|e| MlsError::Mls(e.to_string())),
        None => Ok(Vec::new()),
    }
}
