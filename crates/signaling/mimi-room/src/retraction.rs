//! [`authorize_hub_retraction`]: may this proposer retract messages (hub-retracted-messages-00
//! §3.1, §3.2)? Pure, like [`crate::authorize_commit`]; `mimi-mls` verified the proposal's
//! signature and names the proposer.

use mimi_types::UserUri;

use crate::capability::Capability;
use crate::components::{HubRetraction, Role, RoleIndex};
use crate::denied::Denied;
use crate::state::RoomState;
use crate::summary::Actor;

/// The user and role `actor` acts as in `state`: a member client's user; for an external
/// sender (a server), its clientless service user on its own domain (the hub's
/// `policy_enforcer`).
fn persona(state: &RoomState, actor: &Actor) -> Result<(UserUri, RoleIndex), Denied> {
    match actor {
        Actor::Client { user, .. } => {
            let role = state.role_of(user);
            if role == RoleIndex::NO_ROLE {
                return Err(Denied::NotParticipant { user: user.clone() });
            }
            Ok((user.clone(), role))
        }
        Actor::Server(domain) => state
            .participants
            .participants
            .iter()
            .find(|p| {
                p.user.domain() == domain
                    && p.role_index != RoleIndex::BANNED
                    && state
                        .roles
                        .role(p.role_index)
                        .is_some_and(Role::is_clientless)
            })
            .map(|p| (p.user.clone(), p.role_index))
            .ok_or_else(|| Denied::NoServerRole {
                domain: domain.clone(),
            }),
    }
}

/// Whether `actor` may make `retraction` in a room in `state`: the user it acts as is in the
/// participant list with a role holding `canDeleteOtherMessage`, or `canDeleteOtherReaction`
/// when every retracted message the caller knows is a reaction (`all_reactions`; only for the
/// by-ID form: a range retracts every kind of message). Our reading where the draft is silent:
/// the retraction must name that user as `remover_uri`, so that what members show ("removed by
/// …") is what was authorized.
pub fn authorize_hub_retraction(
    state: &RoomState,
    actor: &Actor,
    retraction: &HubRetraction,
    all_reactions: bool,
) -> Result<(), Denied> {
    state.may_propose_externally()?;
    let (user, index) = persona(state, actor)?;
    if retraction.remover() != &user {
        return Err(Denied::RetractionRemover {
            remover: retraction.remover().clone(),
            actor: user,
        });
    }
    let role = state
        .roles
        .role(index)
        .ok_or(Denied::UndefinedRole(index))?;
    let holds = |c: Capability| role.role_capabilities.contains(&c);
    if holds(Capability::CAN_DELETE_OTHER_MESSAGE) {
        return Ok(());
    }
    let reactions_only = matches!(retraction, HubRetraction::Messages(_)) && all_reactions;
    if reactions_only && holds(Capability::CAN_DELETE_OTHER_REACTION) {
        return Ok(());
    }
    Err(Denied::MissingCapability {
        capability: Capability::CAN_DELETE_OTHER_MESSAGE,
        role: index,
    })
}
