//! What a handshake does, in MIMI terms.
//!
//! The summary types are mimi-room's (the room/MLS contract): mimi-mls builds a
//! [`CommitSummary`] from openmls structures and asks [`mimi_room::authorize_commit`].

use std::collections::BTreeMap;

pub use mimi_room::{Actor, CommitSummary, ComponentChange, ComponentOp, MemberChange};
use mimi_room::{Denied, RoomState, StagedRoomState};
use mimi_types::codepoints::ComponentId;

/// The room components (the GroupContext `app_data_dictionary`), by component ID.
pub type Components = BTreeMap<ComponentId, Vec<u8>>;

/// Sorts the member lists (their order in a commit carries no meaning), so that the
/// committer's and the receivers' summaries compare equal.
pub(crate) fn normalize(summary: &mut CommitSummary) {
    summary.added.sort();
    summary.removed.sort();
    summary.self_removed.sort();
    summary.enforced_removed.sort();
}

/// Authorizes a lone proposal. A proposal need not leave a consistent room by itself (a
/// leave's participant-list removal comes before the SelfRemoves of the user's clients, all
/// committed together); the commit that includes it is checked as a whole, so
/// [`Denied::ClientsRemain`] is tolerated here.
pub(crate) fn authorize_proposal(room: &RoomState, summary: &CommitSummary) -> Result<(), Denied> {
    match mimi_room::authorize_commit(room, summary) {
        Ok(_) | Err(Denied::ClientsRemain { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Authorizes a commit; the staged room state of the next epoch.
pub(crate) fn authorize_commit(
    room: &RoomState,
    summary: &CommitSummary,
) -> Result<StagedRoomState, Denied> {
    mimi_room::authorize_commit(room, summary)
}
