//! What a handshake does, in MIMI terms, and the room-policy hook that judges it.
//!
//! The summary mirrors `mimi_room::CommitSummary` (see the room/MLS contract): who acted,
//! whether it is an external join, the AppDataUpdate component changes in commit order, and
//! the clients added, removed and self-removed. mimi-mls builds it from openmls structures and
//! hands it to a [`RoomPolicy`], which says yes (returning the room components after the
//! handshake) or no.

use std::collections::BTreeMap;

use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, Domain, UserUri};

use crate::error::PolicyDenied;

/// Who committed, proposed or sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// A member client (or an external joiner) and the user its credential names.
    Client {
        /// The client URI.
        client: ClientUri,
        /// The user URI.
        user: UserUri,
    },
    /// An external sender (hub or follower) by domain.
    Server(Domain),
}

/// One AppDataUpdate operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ComponentOp {
    /// `update` with the component-defined update bytes.
    Update(Vec<u8>),
    /// `remove`.
    Remove,
}

/// One AppDataUpdate proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentChange {
    /// The component.
    pub component: ComponentId,
    /// The operation.
    pub op: ComponentOp,
}

/// A client entering or leaving the group.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemberChange {
    /// The client URI.
    pub client: ClientUri,
    /// The user URI its credential names.
    pub user: UserUri,
}

/// What a commit (or a bare proposal) does, in MIMI terms.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommitSummary {
    /// Who sent it.
    pub actor: Actor,
    /// An external commit: the actor adds its own client.
    pub external_join: bool,
    /// AppDataUpdate proposals, in commit order.
    pub component_changes: Vec<ComponentChange>,
    /// Add proposals (and the joiner of an external commit), sorted.
    pub added: Vec<MemberChange>,
    /// Remove proposals, sorted.
    pub removed: Vec<MemberChange>,
    /// SelfRemove proposals, sorted.
    pub self_removed: Vec<MemberChange>,
}

impl CommitSummary {
    /// An empty summary for `actor`.
    pub fn new(actor: Actor) -> Self {
        Self {
            actor,
            external_join: false,
            component_changes: Vec::new(),
            added: Vec::new(),
            removed: Vec::new(),
            self_removed: Vec::new(),
        }
    }

    /// Sorts the member lists (their order in a commit carries no meaning), so that the
    /// committer's and the receivers' summaries compare equal.
    pub(crate) fn normalize(&mut self) {
        self.added.sort();
        self.removed.sort();
        self.self_removed.sort();
    }
}

/// The room components (the GroupContext `app_data_dictionary`), by component ID.
pub type Components = BTreeMap<ComponentId, Vec<u8>>;

/// Room policy as mimi-mls needs it. mimi-room provides the real one; [`ReplaceComponents`]
/// is an accept-all policy for MLS-only use and tests.
pub trait RoomPolicy {
    /// Authorizes a commit against the room state `current`; returns the components after it.
    fn authorize_commit(
        &self,
        current: &Components,
        commit: &CommitSummary,
    ) -> Result<Components, PolicyDenied>;

    /// Authorizes a bare proposal (e.g. a leave) against `current`. The default treats it as a
    /// one-proposal commit and discards the result.
    fn authorize_proposal(
        &self,
        current: &Components,
        proposal: &CommitSummary,
    ) -> Result<(), PolicyDenied> {
        self.authorize_commit(current, proposal).map(|_| ())
    }

    /// Whether `user` may send application messages.
    fn may_send(&self, current: &Components, user: &UserUri) -> Result<(), PolicyDenied>;
}

/// Accepts everything; an `update` replaces the component's bytes and `remove` deletes it.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReplaceComponents;

impl RoomPolicy for ReplaceComponents {
    fn authorize_commit(
        &self,
        current: &Components,
        commit: &CommitSummary,
    ) -> Result<Components, PolicyDenied> {
        let mut next = current.clone();
        for ch in &commit.component_changes {
            match &ch.op {
                ComponentOp::Update(b) => {
                    next.insert(ch.component, b.clone());
                }
                ComponentOp::Remove => {
                    if next.remove(&ch.component).is_none() {
                        return Err(PolicyDenied::new(format!(
                            "remove of absent component {:#06x}",
                            ch.component.value()
                        )));
                    }
                }
            }
        }
        Ok(next)
    }

    fn may_send(&self, _current: &Components, _user: &UserUri) -> Result<(), PolicyDenied> {
        Ok(())
    }
}
