//! The hub's retraction of messages and reactions (hub-retracted-messages-00).

use crate::common::*;

// --- hub retraction (hub-retracted-messages-00) ----------------------------------------------

fn retraction(remover: &str, ids: usize) -> HubRetraction {
    HubRetraction::Messages(HubRetractedMessages {
        hub_retracted_timestamp: 1,
        remover_uri: u(remover),
        reason_code: None,
        retracted_messages: (0..ids).map(|i| [i as u8; 32]).collect(),
    })
}

fn range(remover: &str) -> HubRetraction {
    HubRetraction::Range(HubRetractedRange {
        hub_retracted_timestamp: 1,
        remover_uri: u(remover),
        reason_code: None,
        abusive_sender_uri: u(BOB),
        starting_timestamp: None,
    })
}

#[test]
fn the_hub_retracts_through_its_enforcer_role() {
    let state = room();
    let hub = Actor::Server(Domain::parse("hub.example").unwrap());
    mimi_room::authorize_hub_retraction(&state, &hub, &retraction(ENFORCER, 2), false).unwrap();
    mimi_room::authorize_hub_retraction(&state, &hub, &range(ENFORCER), false).unwrap();
}

#[test]
fn a_retraction_from_a_server_without_a_role_is_refused() {
    let state = room();
    let follower = Actor::Server(Domain::parse("b.example").unwrap());
    assert_eq!(
        mimi_room::authorize_hub_retraction(&state, &follower, &retraction(ENFORCER, 1), false),
        Err(Denied::NoServerRole {
            domain: Domain::parse("b.example").unwrap()
        })
    );
}

#[test]
fn a_retraction_must_name_its_proposer_as_remover() {
    let state = room();
    let hub = Actor::Server(Domain::parse("hub.example").unwrap());
    assert_eq!(
        mimi_room::authorize_hub_retraction(&state, &hub, &retraction(ALICE, 1), false),
        Err(Denied::RetractionRemover {
            remover: u(ALICE),
            actor: u(ENFORCER),
        })
    );
}

#[test]
fn a_member_without_delete_capabilities_cannot_retract() {
    // Bob is an ordinary user (role 2) of the cooperative room: no canDeleteOtherMessage.
    let state = room();
    let bob = Actor::Client {
        client: c(BOB_LAPTOP),
        user: u(BOB),
    };
    assert_eq!(
        mimi_room::authorize_hub_retraction(&state, &bob, &retraction(BOB, 1), false),
        Err(Denied::MissingCapability {
            capability: Capability::CAN_DELETE_OTHER_MESSAGE,
            role: RoleIndex(2),
        })
    );
    assert_eq!(
        mimi_room::authorize_hub_retraction(&state, &bob, &range(BOB), false),
        Err(Denied::MissingCapability {
            capability: Capability::CAN_DELETE_OTHER_MESSAGE,
            role: RoleIndex(2),
        })
    );
}

#[test]
fn delete_other_reaction_suffices_for_reactions_only() {
    // A room whose enforcer role may delete only others' reactions.
    let state = room();
    let mut roles = state.roles().clone();
    let enforcer = roles
        .roles
        .iter_mut()
        .find(|r| r.role_name == "policy_enforcer")
        .unwrap();
    enforcer
        .role_capabilities
        .retain(|c| *c != Capability::CAN_DELETE_OTHER_MESSAGE);
    let index = enforcer.role_index;
    let state = with_component(&state, &roles);
    let hub = Actor::Server(Domain::parse("hub.example").unwrap());
    mimi_room::authorize_hub_retraction(&state, &hub, &retraction(ENFORCER, 1), true).unwrap();
    let refused = Err(Denied::MissingCapability {
        capability: Capability::CAN_DELETE_OTHER_MESSAGE,
        role: index,
    });
    assert_eq!(
        mimi_room::authorize_hub_retraction(&state, &hub, &retraction(ENFORCER, 1), false),
        refused
    );
    // A range retracts every kind of message.
    assert_eq!(
        mimi_room::authorize_hub_retraction(&state, &hub, &range(ENFORCER), true),
        refused
    );
}
