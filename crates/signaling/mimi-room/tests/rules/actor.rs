//! The actor: server vs user, provider boundaries, the hub's enforcer role.

use crate::common::*;

// ---- 8. the actor: server vs user, provider boundaries ---------------------------------------

#[test]
fn the_hub_acts_through_its_policy_enforcer_role() {
    let s = room();
    let mut ban = server("hub.example");
    ban.component_changes
        .push(plu(&[(idx(&s, BOB), 1)], &[], &[]));
    ban.removed.push(m(BOB_LAPTOP, BOB));
    authorize_commit(&s, &ban).unwrap();
    let mut add = server("hub.example");
    add.component_changes.push(plu(&[], &[], &[(DAVE, 2)]));
    assert_eq!(
        denied(&s, &add),
        missing(Capability::CAN_ADD_PARTICIPANT, 5)
    );
    let mut join = server("hub.example");
    join.external_join = true;
    assert_eq!(
        denied(&s, &join),
        Denied::ServerCannotJoin {
            domain: Domain::parse("hub.example").unwrap()
        }
    );
    assert_eq!(
        s.authorize_message(&Actor::Server(Domain::parse("hub.example").unwrap())),
        Err(Denied::ServerCannotSend {
            domain: Domain::parse("hub.example").unwrap()
        })
    );
}

#[test]
fn the_hub_kicks_a_client_and_any_member_commits_it() {
    let s = room();
    // The hub (through its clientless policy_enforcer role) proposes taking out Bob's laptop,
    // a revoked device, without touching the participant list: that needs `canKick`.
    let mut kick = server("hub.example");
    kick.removed.push(m(BOB_LAPTOP, BOB));
    authorize_commit(&s, &kick).unwrap();
    // Bob (ordinary user, no `canKick`) commits it by reference: authorized against the hub.
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.enforced_removed.push(m(CATHY_TAB, CATHY));
    let next = authorize_commit(&s, &commit).unwrap();
    assert!(!next.state().members().contains_key(&c(CATHY_TAB)));
    // The same removal proposed by Bob himself is refused.
    let mut own = by(BOB_LAPTOP, BOB);
    own.removed.push(m(CATHY_TAB, CATHY));
    assert_eq!(denied(&s, &own), missing(Capability::CAN_KICK, 2));
    // An enforced removal still names a member client of that user.
    let mut stray = by(BOB_LAPTOP, BOB);
    stray
        .enforced_removed
        .push(m("mimi://c.example/d/cathy/gone", CATHY));
    assert_eq!(
        denied(&s, &stray),
        Denied::ClientNotMember {
            client: c("mimi://c.example/d/cathy/gone")
        }
    );
    // Without a clientless role of its own, a server may not kick.
    let mut foreign = server("d.example");
    foreign.removed.push(m(CATHY_TAB, CATHY));
    assert!(authorize_commit(&s, &foreign).is_err());
}

#[test]
fn the_hub_service_user_is_reserved_and_on_the_hub() {
    let hub = Domain::parse("hub.example").unwrap();
    let user = mimi_room::presets::hub_service_user(&hub);
    assert_eq!(user.to_string(), "mimi://hub.example/u/_policy-enforcer");
    assert_eq!(user.domain(), &hub);
}

#[test]
fn a_follower_acts_only_for_its_own_users() {
    let s = room();
    // b.example removes its user Bob from the room (e.g. account deleted): Bob's own leave.
    let mut leave = server("b.example");
    leave.component_changes.push(plu(&[], &[idx(&s, BOB)], &[]));
    leave.removed.push(m(BOB_LAPTOP, BOB));
    authorize_commit(&s, &leave).unwrap();
    // b.example proposes a new device for Bob.
    let mut device = server("b.example");
    device.added.push(m(BOB_PHONE, BOB));
    authorize_commit(&s, &device).unwrap();
    // b.example claiming Cathy (c.example).
    let mut foreign = server("b.example");
    foreign
        .component_changes
        .push(plu(&[], &[idx(&s, CATHY)], &[]));
    foreign.removed.push(m(CATHY_TAB, CATHY));
    assert_eq!(
        denied(&s, &foreign),
        Denied::ForeignUser {
            actor: Domain::parse("b.example").unwrap(),
            user: u(CATHY)
        }
    );
    let mut foreign = server("b.example");
    foreign.added.push(m("mimi://c.example/d/cathy/x", CATHY));
    assert_eq!(
        denied(&s, &foreign),
        Denied::ForeignUser {
            actor: Domain::parse("b.example").unwrap(),
            user: u(CATHY)
        }
    );
    // A follower holds no room-wide authority.
    let mut meta = s.metadata().unwrap().clone();
    meta.room_name = "x".to_owned();
    let mut commit = server("b.example");
    commit.component_changes.push(ComponentChange::update(
        ComponentId::ROOM_METADATA,
        meta.encode(),
    ));
    assert_eq!(
        denied(&s, &commit),
        Denied::NoServerRole {
            domain: Domain::parse("b.example").unwrap()
        }
    );
}

#[test]
fn a_client_acts_only_for_a_user_of_its_provider() {
    let s = room();
    let mut commit = by(BOB_LAPTOP, CATHY);
    commit.removed.push(m(CATHY_TAB, CATHY));
    assert_eq!(
        denied(&s, &commit),
        Denied::ClientNotOfUser {
            client: c(BOB_LAPTOP),
            user: u(CATHY)
        }
    );
    // Same provider, but the client URI names another user.
    let commit = by(BOB_LAPTOP, EVE);
    assert_eq!(
        denied(&s, &commit),
        Denied::ClientNotOfUser {
            client: c(BOB_LAPTOP),
            user: u(EVE)
        }
    );
    // Added clients must be of their user's provider.
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.added.push(m("mimi://x.example/d/bob/evil", BOB));
    assert_eq!(
        denied(&s, &commit),
        Denied::ClientOfForeignProvider {
            client: c("mimi://x.example/d/bob/evil"),
            user: u(BOB)
        }
    );
    // A client that is not in the group cannot commit.
    let commit = by(EVE_PC, EVE);
    assert_eq!(
        denied(&s, &commit),
        Denied::ActorNotMember { client: c(EVE_PC) }
    );
    assert_eq!(
        s.authorize_message(&Actor::Client {
            client: c(BOB_LAPTOP),
            user: u(CATHY)
        }),
        Err(Denied::ClientNotOfUser {
            client: c(BOB_LAPTOP),
            user: u(CATHY)
        })
    );
}

#[test]
fn a_server_may_act_through_a_preauthorized_role() {
    // No enforcer listed: the hub has no service user in this room.
    let creation = RoomCreation::new(
        Preset::Cooperative,
        "mimi://hub.example/r/room".parse().unwrap(),
        u(ALICE),
    );
    let base = creation.initial_state().unwrap();
    let mut comps = base.components();
    let mut list = base.participants().clone();
    list.participants
        .push(UserRolePair::new(u(BOB), RoleIndex(2)));
    comps.insert(ComponentId::PARTICIPANT_LIST, list.encode());
    let claim = Claim::new(CredentialType::X509, b"role", b"moderation-service");
    let pre = PreAuthData {
        preauthorized_entries: vec![PreAuthRoleEntry {
            claimset: vec![claim.clone()],
            target_role: Role::new(3, "group_admin", ""),
        }],
    };
    comps.insert(ComponentId::PREAUTH_LIST, pre.encode());
    let s = RoomState::from_components(comps)
        .unwrap()
        .with_members([m(ALICE_PHONE, ALICE), m(BOB_LAPTOP, BOB)])
        .unwrap();
    let mut kick = server("mod.example");
    kick.removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(
        denied(&s, &kick),
        Denied::ForeignUser {
            actor: Domain::parse("mod.example").unwrap(),
            user: u(BOB)
        }
    );
    kick.actor_claims.push(claim);
    let next = authorize_commit(&s, &kick).unwrap().into_state();
    assert!(next.clients_of(&u(BOB)).is_empty());
}
