//! The names every part of the matrix uses: users, clients, domains, the claim, the join code.

pub(crate) use std::collections::{BTreeMap, BTreeSet};

pub(crate) use mimi_room::components::*;
pub(crate) use mimi_room::presets::Preset;
pub(crate) use mimi_room::{
    Actor, Capability, CommitSummary, ComponentChange, Denied, MemberChange, RoomState, TopicAct,
    authorize_commit,
};
pub(crate) use mimi_types::codepoints::{ComponentId, CredentialType};
pub(crate) use mimi_types::{ClientUri, Domain, UserUri};

use crate::scenarios::*;

// ---- names ------------------------------------------------------------------------------------

pub(crate) fn user(domain: &str, id: &str) -> UserUri {
    format!("mimi://{domain}/u/{id}").parse().unwrap()
}
pub(crate) fn client(domain: &str, user: &str, id: &str) -> ClientUri {
    format!("mimi://{domain}/d/{user}/{id}").parse().unwrap()
}
pub(crate) fn dom(d: &str) -> Domain {
    Domain::parse(d).unwrap()
}

pub(crate) fn keeper() -> UserUri {
    user(HUB, "keeper")
}
pub(crate) fn enforcer() -> UserUri {
    user(HUB, "enforcer")
}
pub(crate) fn target() -> UserUri {
    user(FOLLOWER, "t")
}
pub(crate) fn banned_user() -> UserUri {
    user(FOLLOWER, "b")
}
pub(crate) fn newcomer() -> UserUri {
    user(FOLLOWER, "n")
}
pub(crate) fn actor_user(o: Origin) -> UserUri {
    user(o.actor_user_domain(), "a")
}
pub(crate) fn actor_client(o: Origin, n: &str) -> ClientUri {
    client(o.actor_user_domain(), "a", n)
}
/// The client the actor presents (a follower client for the claiming origin).
pub(crate) fn presented_client(o: Origin) -> ClientUri {
    match o {
        Origin::ClientClaimingThirdProvider => client(FOLLOWER, "a", "1"),
        _ => actor_client(o, "1"),
    }
}

pub(crate) fn claim() -> Claim {
    Claim::new(CredentialType::BASIC, b"org", b"friends")
}

pub(crate) fn own_role_target(r: u32) -> u32 {
    if r == 3 { 2 } else { 3 }
}

/// The digest of the matrix's join code.
pub(crate) const CODE_DIGEST: [u8; JOIN_CODE_DIGEST_LEN] = [0x5a; JOIN_CODE_DIGEST_LEN];

/// The terms of the matrix's join code for `role`, where a code may grant it (not 0 or 1).
pub(crate) fn code_terms(role: u32) -> Option<JoinCodeTerms> {
    (role > 1).then(|| JoinCodeTerms {
        code_digest: CODE_DIGEST.to_vec(),
        role_index: RoleIndex(role),
        not_after: 0,
        uses_left: 2,
    })
}
