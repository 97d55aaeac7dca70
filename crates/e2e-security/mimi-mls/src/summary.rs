//! What a handshake does, in MIMI terms.
//!
//! The summary types are mimi-room's (the room/MLS contract): mimi-mls builds a
//! [`CommitSummary`] from openmls structures and asks [`mimi_room::authorize_commit`].

use std::collections::BTreeMap;

use mimi_room::components::Claim;
pub use mimi_room::{Actor, CommitSummary, ComponentChange, ComponentOp, MemberChange};
use mimi_room::{Denied, RoomState, StagedRoomState};
use mimi_types::codepoints::ComponentId;

/// The room components (the GroupContext `app_data_dictionary`), by component ID.
pub type Components = BTreeMap<ComponentId, Vec<u8>>;

/// Sorts the member lists (their order in a commit carries no meaning), so that the
/// committer's and the receivers' summaries compare equal.
pub(crate) fn normalize(summary: &mut CommitSummary) {
    summary.added.sort();
    summary.added_lifetimes.sort();
    summary.removed.sort();
    summary.self_removed.sort();
    summary.enforced_removed.sort();
    fill_claims(summary);
}

/// Fills the actor's preauthorization claims from its validated X.509 credential (our
/// reading, `mimi_room::readings`): a client claims its client and user URIs and its
/// provider; a server (external sender) its provider URI and its provider as issuer.
pub(crate) fn fill_claims(summary: &mut CommitSummary) {
    if !summary.actor_claims.is_empty() {
        return;
    }
    summary.actor_claims = match &summary.actor {
        Actor::Client { client, user } => Claim::of_x509_client(client, user),
        Actor::Server(domain) => {
            let mut claims = vec![
                Claim::x509_subject_uri(&format!("mimi://{domain}")),
                Claim::x509_issuer(domain),
            ];
            claims.sort();
            claims
        }
    };
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
