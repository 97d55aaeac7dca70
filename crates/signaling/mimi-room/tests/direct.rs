//! Direct-message rooms (`mimi_room::direct`): fixed membership set at creation, the
//! establishing commit that brings in the peer's devices, and every way of changing who is in
//! the room refused afterwards, each with the exact [`Denied`] reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mimi_room::components::*;
use mimi_room::direct::{DIRECT_PARTICIPANT_ROLE, DirectCreation, direct_roles};
use mimi_room::{
    Actor, Capability, CommitSummary, ComponentChange, Denied, MemberChange, RoomState,
    authorize_commit,
};
use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, UserUri};

fn u(s: &str) -> UserUri {
    s.parse().unwrap()
}
fn c(s: &str) -> ClientUri {
    s.parse().unwrap()
}
fn m(client: &str, user: &str) -> MemberChange {
    MemberChange::new(c(client), u(user))
}

const ALICE: &str = "mimi://hub.example/u/alice";
const ALICE_PHONE: &str = "mimi://hub.example/d/alice/phone";
const ALICE_PC: &str = "mimi://hub.example/d/alice/pc";
const ENFORCER: &str = "mimi://hub.example/u/_policy-enforcer";
const BOB: &str = "mimi://b.example/u/bob";
const BOB_LAPTOP: &str = "mimi://b.example/d/bob/laptop";
const BOB_PHONE: &str = "mimi://b.example/d/bob/phone";
const BOB_TAB: &str = "mimi://b.example/d/bob/tab";
const CATHY: &str = "mimi://c.example/u/cathy";
const CATHY_TAB: &str = "mimi://c.example/d/cathy/tab";

/// Alice's direct-message room with Bob, only her phone in the group.
fn created() -> RoomState {
    DirectCreation {
        room: "mimi://hub.example/r/dm-test".parse().unwrap(),
        creator: u(ALICE),
        peer: u(BOB),
        policy_enforcer: u(ENFORCER),
    }
    .initial_state()
    .unwrap()
    .with_members([m(ALICE_PHONE, ALICE)])
    .unwrap()
}

/// The room once Alice's establishing commit brought in Bob's laptop.
fn established() -> RoomState {
    authorize_commit(&created(), &by(ALICE_PHONE, ALICE, &[m(BOB_LAPTOP, BOB)]))
        .unwrap()
        .into_state()
}

fn by(client: &str, user: &str, added: &[MemberChange]) -> CommitSummary {
    let mut commit = CommitSummary::new(Actor::Client {
        client: c(client),
        user: u(user),
    });
    commit.added = added.to_vec();
    commit
}

#[test]
fn creation_lists_both_users_and_fixes_membership() {
    let state = created();
    assert!(state.base_policy().fixed_membership);
    assert_eq!(state.direct_peer(&u(ALICE)), Some(&u(BOB)));
    assert_eq!(state.direct_peer(&u(BOB)), Some(&u(ALICE)));
    assert_eq!(state.direct_peer(&u(CATHY)), None);
    assert_eq!(
        state.fixed_participants().unwrap(),
        vec![&u(ALICE), &u(BOB)]
    );
    for role in &direct_roles().roles {
        assert!(
            !role.has(Capability::CAN_ADD_PARTICIPANT),
            "{}",
            role.role_name
        );
        assert!(
            !role.has(Capability::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE),
            "{}",
            role.role_name
        );
    }
}

#[test]
fn a_direct_room_needs_two_users() {
    let same = DirectCreation {
        room: "mimi://hub.example/r/dm-test".parse().unwrap(),
        creator: u(ALICE),
        peer: u(ALICE),
        policy_enforcer: u(ENFORCER),
    };
    assert!(same.initial_state().is_err());
    let foreign_enforcer = DirectCreation {
        peer: u(BOB),
        policy_enforcer: u("mimi://b.example/u/_policy-enforcer"),
        ..same
    };
    assert!(foreign_enforcer.initial_state().is_err());
}

#[test]
fn an_ordinary_room_is_no_direct_room() {
    let state = mimi_room::presets::RoomCreation::new(
        mimi_room::presets::Preset::Cooperative,
        "mimi://hub.example/r/room".parse().unwrap(),
        u(ALICE),
    )
    .initial_state()
    .unwrap();
    assert_eq!(state.fixed_participants(), None);
    assert_eq!(state.direct_peer(&u(ALICE)), None);
}

#[test]
fn the_establishing_commit_adds_every_device_of_the_peer() {
    let commit = by(
        ALICE_PHONE,
        ALICE,
        &[m(BOB_LAPTOP, BOB), m(BOB_PHONE, BOB), m(ALICE_PC, ALICE)],
    );
    let next = authorize_commit(&created(), &commit).unwrap().into_state();
    assert_eq!(next.clients_of(&u(BOB)).len(), 2);
    assert_eq!(next.clients_of(&u(ALICE)).len(), 2);
}

#[test]
fn once_established_nobody_adds_the_other_users_devices() {
    let state = established();
    // Alice may not add another device of Bob's: that would need canAddParticipant.
    assert_eq!(
        authorize_commit(&state, &by(ALICE_PHONE, ALICE, &[m(BOB_PHONE, BOB)])).unwrap_err(),
        Denied::MissingCapability {
            capability: Capability::CAN_ADD_PARTICIPANT,
            role: DIRECT_PARTICIPANT_ROLE,
        }
    );
    // Bob adds his own.
    let next = authorize_commit(&state, &by(BOB_LAPTOP, BOB, &[m(BOB_PHONE, BOB)]))
        .unwrap()
        .into_state();
    assert_eq!(next.clients_of(&u(BOB)).len(), 2);
}

#[test]
fn the_establishing_commit_adds_no_unlisted_user() {
    let mut commit = by(ALICE_PHONE, ALICE, &[m(CATHY_TAB, CATHY)]);
    assert_eq!(
        authorize_commit(&created(), &commit).unwrap_err(),
        Denied::ClientForNonParticipant {
            client: c(CATHY_TAB),
            user: u(CATHY),
        }
    );
    let add = ParticipantListUpdate {
        added_participants: vec![UserRolePair::new(u(CATHY), DIRECT_PARTICIPANT_ROLE)],
        ..Default::default()
    };
    commit.component_changes.push(ComponentChange::update(
        ComponentId::PARTICIPANT_LIST,
        add.encode(),
    ));
    assert_eq!(
        authorize_commit(&created(), &commit).unwrap_err(),
        Denied::FixedMembership
    );
}

#[test]
fn nobody_adds_a_third_user() {
    let add = ParticipantListUpdate {
        added_participants: vec![UserRolePair::new(u(CATHY), DIRECT_PARTICIPANT_ROLE)],
        ..Default::default()
    };
    for (client, user) in [(ALICE_PHONE, ALICE), (BOB_LAPTOP, BOB)] {
        let mut commit = by(client, user, &[m(CATHY_TAB, CATHY)]);
        commit.component_changes.push(ComponentChange::update(
            ComponentId::PARTICIPANT_LIST,
            add.encode(),
        ));
        assert_eq!(
            authorize_commit(&established(), &commit).unwrap_err(),
            Denied::FixedMembership,
            "{user}"
        );
    }
}

#[test]
fn neither_user_removes_the_other_or_leaves() {
    let state = established();
    let bob_index = state.participants().index_of(&u(BOB)).unwrap() as u32;
    let alice_index = state.participants().index_of(&u(ALICE)).unwrap() as u32;
    for (client, user, index) in [
        (ALICE_PHONE, ALICE, bob_index),
        (ALICE_PHONE, ALICE, alice_index),
        (BOB_LAPTOP, BOB, alice_index),
    ] {
        let remove = ParticipantListUpdate {
            removed_indices: vec![index],
            ..Default::default()
        };
        let mut commit = by(client, user, &[]);
        commit.component_changes.push(ComponentChange::update(
            ComponentId::PARTICIPANT_LIST,
            remove.encode(),
        ));
        assert_eq!(
            authorize_commit(&state, &commit).unwrap_err(),
            Denied::FixedMembership,
            "{user} removing index {index}"
        );
    }
}

#[test]
fn neither_user_lifts_fixed_membership_or_regrants_adding() {
    let state = established();
    let open = BaseRoomPolicy {
        fixed_membership: false,
        ..state.base_policy()
    };
    let mut commit = by(BOB_LAPTOP, BOB, &[]);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::BASE_ROOM_POLICY,
        open.encode(),
    ));
    assert_eq!(
        authorize_commit(&state, &commit).unwrap_err(),
        Denied::MissingCapability {
            capability: Capability::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE,
            role: DIRECT_PARTICIPANT_ROLE,
        }
    );
    let mut roles = direct_roles();
    roles.roles[2]
        .role_capabilities
        .push(Capability::CAN_ADD_PARTICIPANT);
    let mut commit = by(ALICE_PHONE, ALICE, &[]);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::ROLES_LIST,
        roles.encode(),
    ));
    assert_eq!(
        authorize_commit(&state, &commit).unwrap_err(),
        Denied::MissingCapability {
            capability: Capability::CAN_CHANGE_ROLE_DEFINITIONS,
            role: DIRECT_PARTICIPANT_ROLE,
        }
    );
}

#[test]
fn a_user_without_devices_may_be_brought_back_but_not_while_it_has_one() {
    // Bob's laptop left (its own SelfRemove, which Alice's device commits).
    let state = established();
    let mut leave = by(ALICE_PHONE, ALICE, &[]);
    leave.self_removed.push(m(BOB_LAPTOP, BOB));
    let state = authorize_commit(&state, &leave).unwrap().into_state();
    assert!(state.clients_of(&u(BOB)).is_empty());
    // Only Alice's clients are left: her device may bring Bob's in again (his provider hands
    // out his KeyPackages only while he consents to her).
    let back = authorize_commit(&state, &by(ALICE_PHONE, ALICE, &[m(BOB_TAB, BOB)]))
        .unwrap()
        .into_state();
    // With Bob's tablet in, Alice adds none of his devices.
    assert_eq!(
        authorize_commit(&back, &by(ALICE_PHONE, ALICE, &[m(BOB_PHONE, BOB)])).unwrap_err(),
        Denied::MissingCapability {
            capability: Capability::CAN_ADD_PARTICIPANT,
            role: DIRECT_PARTICIPANT_ROLE,
        }
    );
}

#[test]
fn a_fixed_room_must_carry_the_id_its_users_give() {
    use mimi_room::direct::fixed_room_id;
    let id = fixed_room_id(&[&u(ALICE), &u(BOB)]);
    assert_eq!(id, fixed_room_id(&[&u(BOB), &u(ALICE)]), "either order");
    assert_ne!(id, fixed_room_id(&[&u(ALICE), &u(CATHY)]));
    assert!(id.starts_with("dm-") && id.len() == 3 + 32, "{id}");
    let state = created();
    let named =
        |id: &str| -> mimi_types::RoomUri { format!("mimi://hub.example/r/{id}").parse().unwrap() };
    assert_eq!(state.check_fixed_room_id(&named(&id)), Ok(()));
    assert_eq!(
        state.check_fixed_room_id(&named("dm-test")),
        Err(Denied::FixedRoomMisnamed { expected: id })
    );
    // Rooms without fixed membership are named freely.
    let open = mimi_room::presets::RoomCreation::new(
        mimi_room::presets::Preset::Cooperative,
        named("anything"),
        u(ALICE),
    )
    .initial_state()
    .unwrap();
    assert_eq!(open.check_fixed_room_id(&named("anything")), Ok(()));
}
