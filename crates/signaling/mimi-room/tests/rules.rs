//! One negative test (at least) per commit validity rule of digest §3.3 that mimi-room enforces,
//! each asserting the exact [`Denied`] reason, next to the positive case it guards.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mimi_room::components::*;
use mimi_room::presets::{Preset, RoomCreation};
use mimi_room::{
    Actor, Capability, CommitSummary, ComponentChange, Denied, MemberChange, RoomState,
    authorize_commit,
};
use mimi_types::codepoints::{ComponentId, CredentialType};
use mimi_types::{ClientUri, Domain, UserUri};

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
const ENFORCER: &str = "mimi://hub.example/u/enforcer";
const BOB: &str = "mimi://b.example/u/bob";
const BOB_LAPTOP: &str = "mimi://b.example/d/bob/laptop";
const BOB_PHONE: &str = "mimi://b.example/d/bob/phone";
const CATHY: &str = "mimi://c.example/u/cathy";
const CATHY_TAB: &str = "mimi://c.example/d/cathy/tab";
const DAVE: &str = "mimi://d.example/u/dave";
const DAVE_PC: &str = "mimi://d.example/d/dave/pc";
const EVE: &str = "mimi://b.example/u/eve";
const EVE_PC: &str = "mimi://b.example/d/eve/pc";

/// A room of `preset` created by Alice (hub.example) with the hub's enforcer, plus Bob as
/// `bob_role` and Cathy as `cathy_role`, each with one client.
fn room_with(preset: Preset, bob_role: u32, cathy_role: u32) -> RoomState {
    let mut creation = RoomCreation::new(
        preset,
        "mimi://hub.example/r/room".parse().unwrap(),
        u(ALICE),
    );
    creation.policy_enforcer = Some(u(ENFORCER));
    let state = creation.initial_state().unwrap();
    let mut comps = state.components();
    let mut list = state.participants().clone();
    list.participants
        .push(UserRolePair::new(u(BOB), RoleIndex(bob_role)));
    list.participants
        .push(UserRolePair::new(u(CATHY), RoleIndex(cathy_role)));
    comps.insert(ComponentId::PARTICIPANT_LIST, list.encode());
    RoomState::from_components(comps)
        .unwrap()
        .with_members([
            m(ALICE_PHONE, ALICE),
            m(BOB_LAPTOP, BOB),
            m(CATHY_TAB, CATHY),
        ])
        .unwrap()
}

/// Cooperative room: Alice super_admin (4), Enforcer (5), Bob ordinary (2), Cathy group_admin (3).
fn room() -> RoomState {
    room_with(Preset::Cooperative, 2, 3)
}

fn with_component<T: StateComponent>(state: &RoomState, value: &T) -> RoomState {
    let mut comps = state.components();
    comps.insert(T::ID, value.encode());
    RoomState::from_components(comps)
        .unwrap()
        .with_members(
            state
                .members()
                .iter()
                .map(|(c, u)| MemberChange::new(c.clone(), u.clone())),
        )
        .unwrap()
}

fn by(client: &str, user: &str) -> CommitSummary {
    CommitSummary::new(Actor::Client {
        client: c(client),
        user: u(user),
    })
}

fn server(domain: &str) -> CommitSummary {
    CommitSummary::new(Actor::Server(Domain::parse(domain).unwrap()))
}

fn plu(changes: &[(u32, u32)], removes: &[u32], adds: &[(&str, u32)]) -> ComponentChange {
    let update = ParticipantListUpdate {
        changed_role_participants: changes
            .iter()
            .map(|(i, r)| UserIndexRolePair {
                user_index: *i,
                role_index: RoleIndex(*r),
            })
            .collect(),
        removed_indices: removes.to_vec(),
        added_participants: adds
            .iter()
            .map(|(user, r)| UserRolePair::new(u(user), RoleIndex(*r)))
            .collect(),
    };
    ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode())
}

fn idx(state: &RoomState, user: &str) -> u32 {
    state.participants().index_of(&u(user)).unwrap() as u32
}

fn denied(state: &RoomState, commit: &CommitSummary) -> Denied {
    authorize_commit(state, commit).unwrap_err()
}

fn missing(capability: Capability, role: u32) -> Denied {
    Denied::MissingCapability {
        capability,
        role: RoleIndex(role),
    }
}

// ---- 1. each participant-list action is authorized separately --------------------------------

#[test]
fn add_needs_can_add_participant_and_a_from_zero_entry() {
    let s = room();
    let mut ok = by(BOB_LAPTOP, BOB);
    ok.component_changes.push(plu(&[], &[], &[(DAVE, 2)]));
    ok.added.push(m(DAVE_PC, DAVE));
    let next = authorize_commit(&s, &ok).unwrap().into_state();
    assert_eq!(next.role_of(&u(DAVE)), RoleIndex(2));
    assert_eq!(next.clients_of(&u(DAVE)).len(), 1);

    let mut as_admin = by(BOB_LAPTOP, BOB);
    as_admin.component_changes.push(plu(&[], &[], &[(DAVE, 3)]));
    assert_eq!(
        denied(&s, &as_admin),
        Denied::RoleChangeNotAuthorized {
            from: RoleIndex(0),
            to: RoleIndex(3)
        }
    );

    let s = room_with(Preset::StrictlyAdministered, 2, 3);
    let mut add = by(BOB_LAPTOP, BOB);
    add.component_changes.push(plu(&[], &[], &[(DAVE, 2)]));
    assert_eq!(
        denied(&s, &add),
        missing(Capability::CAN_ADD_PARTICIPANT, 2)
    );
}

#[test]
fn remove_needs_can_remove_participant_and_an_entry_to_zero() {
    let s = room();
    // Bob (ordinary) may remove ordinary users but not an admin.
    let mut commit = by(BOB_LAPTOP, BOB);
    commit
        .component_changes
        .push(plu(&[], &[idx(&s, CATHY)], &[]));
    commit.removed.push(m(CATHY_TAB, CATHY));
    assert_eq!(
        denied(&s, &commit),
        Denied::RoleChangeNotAuthorized {
            from: RoleIndex(3),
            to: RoleIndex(0)
        }
    );
    // Cathy (group admin) may remove Bob.
    let mut commit = by(CATHY_TAB, CATHY);
    commit
        .component_changes
        .push(plu(&[], &[idx(&s, BOB)], &[]));
    commit.removed.push(m(BOB_LAPTOP, BOB));
    authorize_commit(&s, &commit).unwrap();
    // In the moderated preset a guest may not remove anyone.
    let s = room_with(Preset::Moderated, 2, 2);
    let mut commit = by(BOB_LAPTOP, BOB);
    commit
        .component_changes
        .push(plu(&[], &[idx(&s, CATHY)], &[]));
    commit.removed.push(m(CATHY_TAB, CATHY));
    assert_eq!(
        denied(&s, &commit),
        missing(Capability::CAN_REMOVE_PARTICIPANT, 2)
    );
}

#[test]
fn ban_unban_and_role_changes_need_their_capabilities() {
    let s = room();
    let mut ban = by(BOB_LAPTOP, BOB);
    ban.component_changes
        .push(plu(&[(idx(&s, CATHY), 1)], &[], &[]));
    ban.removed.push(m(CATHY_TAB, CATHY));
    assert_eq!(denied(&s, &ban), missing(Capability::CAN_BAN, 2));

    let mut ban = by(CATHY_TAB, CATHY);
    ban.component_changes
        .push(plu(&[(idx(&s, BOB), 1)], &[], &[]));
    ban.removed.push(m(BOB_LAPTOP, BOB));
    let banned = authorize_commit(&s, &ban).unwrap().into_state();
    assert_eq!(banned.role_of(&u(BOB)), RoleIndex::BANNED);

    let mut promote = by(BOB_LAPTOP, BOB);
    promote
        .component_changes
        .push(plu(&[(idx(&s, CATHY), 2)], &[], &[]));
    assert_eq!(
        denied(&s, &promote),
        missing(Capability::CAN_CHANGE_USER_ROLE, 2)
    );

    // Cathy (3) may not make anyone super_admin (4).
    let mut promote = by(CATHY_TAB, CATHY);
    promote
        .component_changes
        .push(plu(&[(idx(&s, BOB), 4)], &[], &[]));
    assert_eq!(
        denied(&s, &promote),
        Denied::RoleChangeNotAuthorized {
            from: RoleIndex(2),
            to: RoleIndex(4)
        }
    );

    let mut unban = by(BOB_LAPTOP, BOB);
    unban
        .component_changes
        .push(plu(&[(idx(&banned, BOB), 2)], &[], &[]));
    // Bob is banned now; use Cathy's view: an ordinary user cannot unban.
    let s2 = room_with(Preset::Cooperative, 1, 2);
    let mut unban = by(CATHY_TAB, CATHY);
    unban
        .component_changes
        .push(plu(&[(idx(&s2, BOB), 2)], &[], &[]));
    assert_eq!(denied(&s2, &unban), missing(Capability::CAN_UN_BAN, 2));
    let mut unban = by(ALICE_PHONE, ALICE);
    unban
        .component_changes
        .push(plu(&[(idx(&s2, BOB), 9)], &[], &[]));
    assert_eq!(denied(&s2, &unban), Denied::UndefinedRole(RoleIndex(9)));
}

#[test]
fn ban_needs_role_one_named_banned() {
    let s = room();
    let mut roles = s.roles().clone();
    roles.roles[1].role_name = "jail".to_owned();
    let s = with_component(&s, &roles);
    let mut ban = by(CATHY_TAB, CATHY);
    ban.component_changes
        .push(plu(&[(idx(&s, BOB), 1)], &[], &[]));
    ban.removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(denied(&s, &ban), Denied::BannedRoleUndefined);
}

#[test]
fn one_allowed_action_does_not_carry_a_denied_one() {
    let s = room();
    let mut commit = by(BOB_LAPTOP, BOB);
    commit
        .component_changes
        .push(plu(&[(idx(&s, CATHY), 1)], &[], &[(DAVE, 2)]));
    commit.added.push(m(DAVE_PC, DAVE));
    commit.removed.push(m(CATHY_TAB, CATHY));
    assert_eq!(denied(&s, &commit), missing(Capability::CAN_BAN, 2));
}

#[test]
fn self_role_change_only_by_preauthorization() {
    // Moderated: attendee (3) holds canChangeOwnRole; preauth grants speaker (4).
    let s = room_with(Preset::Moderated, 3, 2);
    let claim = Claim::new(CredentialType::BASIC, b"group", b"speakers");
    let pre = PreAuthData {
        preauthorized_entries: vec![PreAuthRoleEntry {
            claimset: vec![claim.clone()],
            target_role: Role::new(4, "speaker", ""),
        }],
    };
    let s = with_component(&s, &pre);
    let mut commit = by(BOB_LAPTOP, BOB);
    commit
        .component_changes
        .push(plu(&[(idx(&s, BOB), 4)], &[], &[]));
    assert_eq!(
        denied(&s, &commit),
        Denied::NotPreauthorized { role: RoleIndex(4) }
    );
    commit.actor_claims.push(claim);
    authorize_commit(&s, &commit).unwrap();
    // A guest (2) lacks canChangeOwnRole.
    let mut commit = by(CATHY_TAB, CATHY);
    commit
        .component_changes
        .push(plu(&[(idx(&s, CATHY), 4)], &[], &[]));
    assert_eq!(
        denied(&s, &commit),
        missing(Capability::CAN_CHANGE_OWN_ROLE, 2)
    );
    // canChangeUserRole is for others only: a cooperative group admin can neither step down
    // nor promote itself, even along its own authorized_role_changes.
    let s = room_with(Preset::Cooperative, 3, 3);
    for to in [2, 4] {
        let mut commit = by(CATHY_TAB, CATHY);
        commit
            .component_changes
            .push(plu(&[(idx(&s, CATHY), to)], &[], &[]));
        assert_eq!(
            denied(&s, &commit),
            missing(Capability::CAN_CHANGE_OWN_ROLE, 3)
        );
    }
}

#[test]
fn leaving_needs_can_remove_self_and_the_own_entry() {
    let s = room();
    let mut leave = by(BOB_LAPTOP, BOB);
    leave.component_changes.push(plu(&[], &[idx(&s, BOB)], &[]));
    leave.self_removed.push(m(BOB_LAPTOP, BOB));
    authorize_commit(&s, &leave).unwrap();
    // The enforcer role has no canRemoveSelf (acted by the hub for itself).
    let mut leave = server("hub.example");
    leave
        .component_changes
        .push(plu(&[], &[idx(&s, ENFORCER)], &[]));
    assert_eq!(denied(&s, &leave), missing(Capability::CAN_REMOVE_SELF, 5));
}

#[test]
fn kicking_and_removing_own_clients() {
    let s = room();
    let mut kick = by(BOB_LAPTOP, BOB);
    kick.removed.push(m(CATHY_TAB, CATHY));
    assert_eq!(denied(&s, &kick), missing(Capability::CAN_KICK, 2));
    let mut kick = by(CATHY_TAB, CATHY);
    kick.removed.push(m(BOB_LAPTOP, BOB));
    let next = authorize_commit(&s, &kick).unwrap().into_state();
    assert!(next.clients_of(&u(BOB)).is_empty());
    assert_eq!(next.role_of(&u(BOB)), RoleIndex(2));
    // Own second client.
    let s = s
        .clone()
        .with_members(
            s.members()
                .iter()
                .map(|(c, u)| MemberChange::new(c.clone(), u.clone()))
                .chain([m(BOB_PHONE, BOB)]),
        )
        .unwrap();
    let mut own = by(BOB_LAPTOP, BOB);
    own.removed.push(m(BOB_PHONE, BOB));
    authorize_commit(&s, &own).unwrap();
    // A SelfRemove is authorized by the leaver's own canRemoveOwnClient.
    let mut roles = s.roles().clone();
    roles.roles[2]
        .role_capabilities
        .retain(|c| *c != Capability::CAN_REMOVE_OWN_CLIENT);
    let s = with_component(&s, &roles);
    let mut self_remove = by(CATHY_TAB, CATHY);
    self_remove.self_removed.push(m(BOB_PHONE, BOB));
    assert_eq!(
        denied(&s, &self_remove),
        missing(Capability::CAN_REMOVE_OWN_CLIENT, 2)
    );
}

#[test]
fn adding_own_and_others_clients() {
    let s = room();
    let mut own = by(BOB_LAPTOP, BOB);
    own.added.push(m(BOB_PHONE, BOB));
    authorize_commit(&s, &own).unwrap();
    // A guest of the strict preset may not add others' clients.
    let s = room_with(Preset::StrictlyAdministered, 2, 2);
    let mut other = by(BOB_LAPTOP, BOB);
    other.added.push(m("mimi://c.example/d/cathy/phone", CATHY));
    assert_eq!(
        denied(&s, &other),
        missing(Capability::CAN_ADD_PARTICIPANT, 2)
    );
    let mut roles = s.roles().clone();
    roles.roles[2]
        .role_capabilities
        .retain(|c| *c != Capability::CAN_ADD_OWN_CLIENT);
    let s = with_component(&s, &roles);
    let mut own = by(BOB_LAPTOP, BOB);
    own.added.push(m(BOB_PHONE, BOB));
    assert_eq!(denied(&s, &own), missing(Capability::CAN_ADD_OWN_CLIENT, 2));
}

// ---- 2. one touch per user per commit -------------------------------------------------------

#[test]
fn a_user_is_touched_at_most_once() {
    let s = room();
    let b = idx(&s, BOB);
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(plu(&[(b, 3)], &[b], &[]));
    commit.removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(
        denied(&s, &commit),
        Denied::UserTouchedTwice { user: u(BOB) }
    );

    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(plu(&[], &[], &[(DAVE, 2)]));
    commit.component_changes.push(plu(
        &[(s.participants().participants.len() as u32, 3)],
        &[],
        &[],
    ));
    assert_eq!(
        denied(&s, &commit),
        Denied::UserTouchedTwice { user: u(DAVE) }
    );

    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(plu(&[], &[b], &[(BOB, 3)]));
    commit.removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(
        denied(&s, &commit),
        Denied::UserTouchedTwice { user: u(BOB) }
    );

    let mut commit = by(ALICE_PHONE, ALICE);
    commit
        .component_changes
        .push(plu(&[], &[], &[(DAVE, 2), (DAVE, 3)]));
    assert_eq!(
        denied(&s, &commit),
        Denied::UserTouchedTwice { user: u(DAVE) }
    );
}

#[test]
fn delta_indices_must_be_in_range_and_distinct() {
    let s = room();
    let bad = Denied::InvalidIndex {
        component: ComponentId::PARTICIPANT_LIST,
        index: 99,
    };
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(plu(&[], &[99], &[]));
    assert_eq!(denied(&s, &commit), bad);
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(plu(&[(99, 2)], &[], &[]));
    assert_eq!(denied(&s, &commit), bad);
    let b = idx(&s, BOB);
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(plu(&[], &[b, b], &[]));
    assert_eq!(
        denied(&s, &commit),
        Denied::InvalidIndex {
            component: ComponentId::PARTICIPANT_LIST,
            index: b
        }
    );
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(plu(&[], &[], &[(BOB, 3)]));
    assert_eq!(denied(&s, &commit), Denied::AlreadyListed { user: u(BOB) });
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::PARTICIPANT_LIST,
        vec![0, 0],
    ));
    assert!(matches!(
        denied(&s, &commit),
        Denied::MalformedUpdate {
            component: ComponentId::PARTICIPANT_LIST,
            ..
        }
    ));
}

#[test]
fn sequential_updates_apply_against_the_evolving_list() {
    let s = room_with(Preset::Cooperative, 2, 2);
    let b = idx(&s, BOB);
    let mut commit = by(ALICE_PHONE, ALICE);
    // Remove Bob, then (indices now shifted) promote Cathy, who moved to Bob's index.
    commit.component_changes.push(plu(&[], &[b], &[]));
    commit.component_changes.push(plu(&[(b, 3)], &[], &[]));
    commit.removed.push(m(BOB_LAPTOP, BOB));
    let staged = authorize_commit(&s, &commit).unwrap();
    assert_eq!(staged.state().role_of(&u(CATHY)), RoleIndex(3));
    assert_eq!(staged.state().role_of(&u(BOB)), RoleIndex(0));
    assert_eq!(staged.participant_actions().len(), 2);
}

// ---- 3. at most one metadata update ---------------------------------------------------------

#[test]
fn at_most_one_metadata_update() {
    let s = room();
    let mut meta = s.metadata().unwrap().clone();
    meta.room_name = "New".to_owned();
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::ROOM_METADATA,
        meta.encode(),
    ));
    let next = authorize_commit(&s, &commit).unwrap().into_state();
    assert_eq!(next.metadata().unwrap().room_name, "New");
    commit.component_changes.push(ComponentChange::update(
        ComponentId::ROOM_METADATA,
        meta.encode(),
    ));
    assert_eq!(denied(&s, &commit), Denied::MultipleMetadataUpdates);
}

#[test]
fn metadata_fields_need_their_capabilities_and_the_room_uri_is_fixed() {
    let s = room();
    let mut meta = s.metadata().unwrap().clone();
    meta.room_descriptions.push(RichDescription::default());
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::ROOM_METADATA,
        meta.encode(),
    ));
    assert_eq!(
        denied(&s, &commit),
        missing(Capability::CAN_CHANGE_ROOM_DESCRIPTION, 2)
    );
    let mut meta = s.metadata().unwrap().clone();
    meta.room_uri = Uri::new("mimi://hub.example/r/other").unwrap();
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::ROOM_METADATA,
        meta.encode(),
    ));
    assert_eq!(denied(&s, &commit), Denied::RoomUriChanged);
    let mut commit = by(ALICE_PHONE, ALICE);
    commit
        .component_changes
        .push(ComponentChange::remove(ComponentId::ROOM_METADATA));
    assert_eq!(
        denied(&s, &commit),
        Denied::RequiredComponentRemoved(ComponentId::ROOM_METADATA)
    );
}

// ---- 4. roles and preauth updates not mixed with participant changes ------------------------

#[test]
fn role_definitions_do_not_mix_with_participant_changes() {
    // The cooperative example gives canChangeRoleDefinitions to the enforcer only.
    let s = room_with(Preset::StrictlyAdministered, 2, 3);
    let roles = s.roles().clone();
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::ROLES_LIST,
        roles.encode(),
    ));
    authorize_commit(&s, &commit).unwrap();
    commit.component_changes.push(plu(&[], &[], &[(DAVE, 2)]));
    assert_eq!(denied(&s, &commit), Denied::RolesWithParticipantChange);
    // Ordinary users cannot change role definitions.
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::ROLES_LIST,
        roles.encode(),
    ));
    assert_eq!(
        denied(&s, &commit),
        missing(Capability::CAN_CHANGE_ROLE_DEFINITIONS, 2)
    );
    // Removing a role someone holds leaves an inconsistent state.
    let mut fewer = roles.clone();
    fewer.roles.retain(|r| r.role_index != RoleIndex(3));
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::ROLES_LIST,
        fewer.encode(),
    ));
    assert!(matches!(
        denied(&s, &commit),
        Denied::InvalidResultingState(_)
    ));
}

#[test]
fn preauth_updates_mix_only_with_removals() {
    let s = room();
    let pre = PreAuthData {
        preauthorized_entries: vec![PreAuthRoleEntry {
            claimset: vec![Claim::new(CredentialType::BASIC, b"org", b"x")],
            target_role: Role::new(2, "ordinary_user", ""),
        }],
    };
    let update = ComponentChange::update(ComponentId::PREAUTH_LIST, pre.encode());
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(update.clone());
    commit
        .component_changes
        .push(plu(&[], &[idx(&s, BOB)], &[]));
    commit.removed.push(m(BOB_LAPTOP, BOB));
    authorize_commit(&s, &commit).unwrap();
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(update.clone());
    commit.component_changes.push(plu(&[], &[], &[(DAVE, 2)]));
    assert_eq!(denied(&s, &commit), Denied::PreauthWithParticipantChange);
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(update.clone());
    commit
        .component_changes
        .push(plu(&[(idx(&s, BOB), 3)], &[], &[]));
    assert_eq!(denied(&s, &commit), Denied::PreauthWithParticipantChange);
    let mut commit = by(CATHY_TAB, CATHY);
    commit.component_changes.push(update);
    assert_eq!(
        denied(&s, &commit),
        missing(Capability::CAN_CHANGE_PREAUTHORIZED_USER_LIST, 3)
    );
}

// ---- 5. limits ------------------------------------------------------------------------------

fn with_policy(state: &RoomState, f: impl FnOnce(&mut BaseRoomPolicy)) -> RoomState {
    let mut policy = state.base_policy();
    f(&mut policy);
    with_component(state, &policy)
}

#[test]
fn max_users_counts_non_banned_entries() {
    let s = with_policy(&room(), |p| p.max_users = Some(4));
    let mut add = by(ALICE_PHONE, ALICE);
    add.component_changes.push(plu(&[], &[], &[(DAVE, 2)]));
    assert_eq!(denied(&s, &add), Denied::MaxUsersExceeded { limit: 4 });
    // Banning Bob frees a slot in the same commit.
    add.component_changes
        .push(plu(&[(idx(&s, BOB), 1)], &[], &[]));
    add.removed.push(m(BOB_LAPTOP, BOB));
    authorize_commit(&s, &add).unwrap();
}

#[test]
fn max_clients_and_multi_device() {
    let s = with_policy(&room(), |p| p.max_clients = Some(3));
    let mut add = by(BOB_LAPTOP, BOB);
    add.added.push(m(BOB_PHONE, BOB));
    assert_eq!(denied(&s, &add), Denied::MaxClientsExceeded { limit: 3 });
    let s = with_policy(&room(), |p| p.multi_device = false);
    assert_eq!(
        denied(&s, &add),
        Denied::MultiDeviceForbidden { user: u(BOB) }
    );
    // Replacing a device is fine.
    add.removed.push(m(BOB_LAPTOP, BOB));
    let mut replace = by(CATHY_TAB, CATHY);
    replace.added = add.added.clone();
    replace.removed = add.removed.clone();
    authorize_commit(&s, &replace).unwrap();
}

#[test]
fn role_participant_constraints() {
    // group_admin (3) has a minimum of 1: Cathy, the only one, cannot be demoted.
    let s = room();
    let mut demote = by(ALICE_PHONE, ALICE);
    demote
        .component_changes
        .push(plu(&[(idx(&s, CATHY), 2)], &[], &[]));
    assert_eq!(
        denied(&s, &demote),
        Denied::RoleMinParticipants {
            role: RoleIndex(3),
            limit: 1
        }
    );
    // A maximum: make role 3 hold at most one (Cathy already).
    let mut roles = s.roles().clone();
    roles.roles[3].maximum_participants_constraint = Some(1);
    let s2 = with_component(&s, &roles);
    let mut promote = by(ALICE_PHONE, ALICE);
    promote
        .component_changes
        .push(plu(&[(idx(&s2, BOB), 3)], &[], &[]));
    assert_eq!(
        denied(&s2, &promote),
        Denied::RoleMaxParticipants {
            role: RoleIndex(3),
            limit: 1
        }
    );
    // Active constraints: the enforcer role allows no clients.
    let mut add = by(ALICE_PHONE, ALICE);
    add.added
        .push(m("mimi://hub.example/d/enforcer/x", ENFORCER));
    assert_eq!(
        denied(&s, &add),
        Denied::RoleMaxActive {
            role: RoleIndex(5),
            limit: 0
        }
    );
    let mut roles = s.roles().clone();
    roles.roles[2].minimum_active_participants_constraint = 1;
    let s3 = with_component(&s, &roles);
    let mut kick = by(CATHY_TAB, CATHY);
    kick.removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(
        denied(&s3, &kick),
        Denied::RoleMinActive {
            role: RoleIndex(2),
            limit: 1
        }
    );
}

// ---- 6. banned and removed users ------------------------------------------------------------

#[test]
fn removed_and_banned_users_keep_no_clients() {
    let s = room();
    let mut ban = by(CATHY_TAB, CATHY);
    ban.component_changes
        .push(plu(&[(idx(&s, BOB), 1)], &[], &[]));
    assert_eq!(denied(&s, &ban), Denied::ClientsRemain { user: u(BOB) });
    let mut remove = by(CATHY_TAB, CATHY);
    remove
        .component_changes
        .push(plu(&[], &[idx(&s, BOB)], &[]));
    assert_eq!(denied(&s, &remove), Denied::ClientsRemain { user: u(BOB) });
}

#[test]
fn banned_users_are_blocked() {
    // Bob is banned but his laptop lingers in the group.
    let s = room_with(Preset::Cooperative, 1, 3);
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.added.push(m(BOB_PHONE, BOB));
    assert_eq!(
        denied(&s, &commit),
        Denied::ActorBlocked {
            user: u(BOB),
            role: RoleIndex::BANNED
        }
    );
    // He may still remove his own clients.
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.self_removed.push(m(BOB_LAPTOP, BOB));
    authorize_commit(&s, &commit).unwrap();
    // Nobody may add clients for him.
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.added.push(m(BOB_PHONE, BOB));
    assert_eq!(denied(&s, &commit), Denied::UserBanned { user: u(BOB) });
    // He cannot join again.
    let mut join = by(BOB_PHONE, BOB);
    join.external_join = true;
    join.added.push(m(BOB_PHONE, BOB));
    assert_eq!(denied(&s, &join), Denied::UserBanned { user: u(BOB) });
    // Unbanning does not authorize adding his clients in the same commit.
    let mut unban = by(ALICE_PHONE, ALICE);
    unban
        .component_changes
        .push(plu(&[(idx(&s, BOB), 2)], &[], &[]));
    unban.added.push(m(BOB_PHONE, BOB));
    unban.removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(
        denied(&s, &unban),
        Denied::ClientAddAfterUnban { user: u(BOB) }
    );
    // The banned user cannot send.
    assert_eq!(
        s.authorize_message(&Actor::Client {
            client: c(BOB_LAPTOP),
            user: u(BOB)
        }),
        Err(Denied::UserBanned { user: u(BOB) })
    );
}

#[test]
fn removed_users_are_blocked_and_get_no_clients() {
    let s = room();
    let mut remove = by(CATHY_TAB, CATHY);
    remove
        .component_changes
        .push(plu(&[], &[idx(&s, BOB)], &[]));
    remove.removed.push(m(BOB_LAPTOP, BOB));
    let next = authorize_commit(&s, &remove).unwrap().into_state();
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.added.push(m(BOB_PHONE, BOB));
    assert_eq!(
        denied(&next, &commit),
        Denied::ClientForNonParticipant {
            client: c(BOB_PHONE),
            user: u(BOB)
        }
    );
    // A lingering client of an unlisted user may only remove itself.
    let lingering = next
        .clone()
        .with_members(
            next.members()
                .iter()
                .map(|(c, u)| MemberChange::new(c.clone(), u.clone()))
                .chain([m(BOB_LAPTOP, BOB)]),
        )
        .unwrap();
    let mut meta = lingering.metadata().unwrap().clone();
    meta.room_name = "x".to_owned();
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::ROOM_METADATA,
        meta.encode(),
    ));
    assert_eq!(
        denied(&lingering, &commit),
        Denied::ActorBlocked {
            user: u(BOB),
            role: RoleIndex::NO_ROLE
        }
    );
    // Anyone may remove such a lingering client.
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.removed.push(m(BOB_LAPTOP, BOB));
    authorize_commit(&lingering, &commit).unwrap();
}

// ---- 7. joining: open join, join codes, preauthorization ------------------------------------

fn join(client: &str, user: &str, role: u32) -> CommitSummary {
    let mut commit = by(client, user);
    commit.external_join = true;
    commit
        .component_changes
        .push(plu(&[], &[], &[(user, role)]));
    commit.added.push(m(client, user));
    commit
}

/// The cooperative room opened: role 0 holds canOpenJoin with `(0, [2])`.
fn open_room() -> RoomState {
    let s = room();
    let mut roles = s.roles().clone();
    roles.roles[0].role_capabilities = vec![Capability::CAN_OPEN_JOIN];
    roles.roles[0].authorized_role_changes = vec![SingleSourceRoleChangeTargets::new(0, &[2])];
    with_component(&s, &roles)
}

#[test]
fn open_join() {
    let s = open_room();
    let next = authorize_commit(&s, &join(DAVE_PC, DAVE, 2))
        .unwrap()
        .into_state();
    assert_eq!(next.role_of(&u(DAVE)), RoleIndex(2));
    assert_eq!(
        denied(&s, &join(DAVE_PC, DAVE, 3)),
        Denied::RoleChangeNotAuthorized {
            from: RoleIndex(0),
            to: RoleIndex(3)
        }
    );
    let s = room();
    assert_eq!(
        denied(&s, &join(DAVE_PC, DAVE, 2)),
        missing(Capability::CAN_OPEN_JOIN, 0)
    );
    // Without the list entry the joiner's client has no participant.
    let s = open_room();
    let mut bare = by(DAVE_PC, DAVE);
    bare.external_join = true;
    bare.added.push(m(DAVE_PC, DAVE));
    assert_eq!(
        denied(&s, &bare),
        Denied::ClientForNonParticipant {
            client: c(DAVE_PC),
            user: u(DAVE)
        }
    );
}

#[test]
fn join_codes() {
    let s = room_with(Preset::StrictlyAdministered, 2, 3);
    let links = JoinLinks {
        links: vec![JoinLink {
            join_link: b"code-1".to_vec(),
        }],
    };
    let s = with_component(&s, &links);
    let mut commit = join(DAVE_PC, DAVE, 2);
    assert_eq!(denied(&s, &commit), missing(Capability::CAN_OPEN_JOIN, 0));
    commit.join_code = Some(b"code-2".to_vec());
    assert_eq!(denied(&s, &commit), Denied::InvalidJoinCode);
    commit.join_code = Some(b"code-1".to_vec());
    authorize_commit(&s, &commit).unwrap();
    let mut as_admin = join(DAVE_PC, DAVE, 3);
    as_admin.join_code = Some(b"code-1".to_vec());
    assert_eq!(
        denied(&s, &as_admin),
        Denied::RoleChangeNotAuthorized {
            from: RoleIndex(0),
            to: RoleIndex(3)
        }
    );
    // The cooperative preset does not let codes in.
    let s = with_component(&room(), &links);
    assert_eq!(
        denied(&s, &commit),
        missing(Capability::CAN_USE_JOIN_CODE, 0)
    );
}

fn terms(role: u32, not_after: u64, uses_left: u32) -> JoinCodeTerms {
    JoinCodeTerms {
        code_digest: vec![7; JOIN_CODE_DIGEST_LEN],
        role_index: RoleIndex(role),
        not_after,
        uses_left,
    }
}

/// A strictly administered room whose `join_links` hold an opaque link and `t` (index 1).
fn room_with_terms(t: &JoinCodeTerms) -> RoomState {
    let s = room_with(Preset::StrictlyAdministered, 2, 3);
    let links = JoinLinks {
        links: vec![
            JoinLink {
                join_link: b"opaque".to_vec(),
            },
            t.to_link(),
        ],
    };
    with_component(&s, &links)
}

fn consume(update: JoinLinksUpdate) -> ComponentChange {
    ComponentChange::update(ComponentId::JOIN_LINKS, update.encode())
}

#[test]
fn join_code_terms_role_expiry_and_uses() {
    let t = terms(2, 1_000, 2);
    let s = room_with_terms(&t);
    let code_join = |role: u32| {
        let mut commit = join(DAVE_PC, DAVE, role);
        commit.join_code = Some(t.code_digest.clone());
        commit
    };
    let one_fewer = JoinLinksUpdate {
        removed_indices: vec![1],
        added_links: vec![terms(2, 1_000, 1).to_link()],
    };

    // A limited code must be consumed in the joining commit.
    assert_eq!(denied(&s, &code_join(2)), Denied::JoinCodeNotConsumed);
    let mut wrong = code_join(2);
    wrong.component_changes.push(consume(JoinLinksUpdate {
        removed_indices: vec![1],
        added_links: vec![terms(2, 1_000, 5).to_link()],
    }));
    assert_eq!(denied(&s, &wrong), Denied::JoinCodeNotConsumed);
    let mut ok = code_join(2);
    ok.component_changes.push(consume(one_fewer.clone()));
    let next = authorize_commit(&s, &ok).unwrap().into_state();
    assert_eq!(next.role_of(&u(DAVE)), RoleIndex(2));
    let left = next.join_links().unwrap().find(&t.code_digest).unwrap();
    assert_eq!(left.terms.unwrap().uses_left, 1);

    // The code names its role.
    let mut other_role = code_join(3);
    other_role
        .component_changes
        .push(consume(one_fewer.clone()));
    assert_eq!(
        denied(&s, &other_role),
        Denied::JoinCodeRole {
            granted: RoleIndex(2),
            requested: RoleIndex(3)
        }
    );

    // Expiry is checked where a time is given (the hub), not otherwise.
    let mut late = ok.clone();
    late.now_s = Some(1_001);
    assert_eq!(
        denied(&s, &late),
        Denied::JoinCodeExpired { not_after: 1_000 }
    );
    late.now_s = Some(1_000);
    authorize_commit(&s, &late).unwrap();

    // The last use removes the link; then the code opens nothing (used up).
    let last = terms(2, 0, 1);
    let s = room_with_terms(&last);
    let mut final_use = join(DAVE_PC, DAVE, 2);
    final_use.join_code = Some(last.code_digest.clone());
    final_use.component_changes.push(consume(JoinLinksUpdate {
        removed_indices: vec![1],
        added_links: vec![],
    }));
    let next = authorize_commit(&s, &final_use).unwrap().into_state();
    assert!(next.join_links().unwrap().find(&last.code_digest).is_none());
    let mut again = join(EVE_PC, EVE, 2);
    again.join_code = Some(last.code_digest.clone());
    assert_eq!(denied(&next, &again), Denied::InvalidJoinCode);
    assert_eq!(
        next.check_join_code(&last.code_digest, Some(0))
            .unwrap_err(),
        Denied::InvalidJoinCode
    );
}

fn link_policy(multiuser: bool, expiration: u32) -> JoinLinkPolicy {
    JoinLinkPolicy {
        on_request: false,
        join_link: Uri::default(),
        multiuser,
        expiration,
    }
}

/// A commit by Alice (who may change the membership style) adding one link.
fn adding_link(not_after: u64, uses_left: u32, now_s: Option<u64>) -> CommitSummary {
    let link = JoinCodeTerms {
        code_digest: vec![9; JOIN_CODE_DIGEST_LEN],
        ..terms(2, not_after, uses_left)
    };
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(consume(JoinLinksUpdate {
        removed_indices: vec![],
        added_links: vec![link.to_link()],
    }));
    commit.now_s = now_s;
    commit
}

#[test]
fn join_link_policy_holds_new_links_to_single_use_and_its_lifetime() {
    let existing = terms(2, 0, 3);
    let s = with_component(&room_with_terms(&existing), &link_policy(false, 3_600));

    // Not multiuser: a new link allows exactly one use.
    for uses in [0, 3] {
        assert_eq!(
            denied(&s, &adding_link(2_000, uses, None)),
            Denied::JoinLinkNotSingleUse { uses_left: uses }
        );
    }
    // A lifetime: a link that never expires is refused everywhere; one that expires too late
    // only where the authorizer has a clock (the hub), with some slack for the creator's.
    assert_eq!(
        denied(&s, &adding_link(0, 1, None)),
        Denied::JoinLinkLifetime {
            not_after: 0,
            expiration: 3_600
        }
    );
    authorize_commit(&s, &adding_link(5_000, 1, None)).unwrap();
    assert_eq!(
        denied(&s, &adding_link(5_000, 1, Some(1_000))),
        Denied::JoinLinkLifetime {
            not_after: 5_000,
            expiration: 3_600
        }
    );
    authorize_commit(&s, &adding_link(1_000 + 3_600 + 300, 1, Some(1_000))).unwrap();
    authorize_commit(&s, &adding_link(5_000, 1, Some(1_400))).unwrap();

    // A joiner consuming a link made before the policy is not held to it.
    let mut join_with_code = join(DAVE_PC, DAVE, 2);
    join_with_code.join_code = Some(existing.code_digest.clone());
    join_with_code
        .component_changes
        .push(consume(JoinLinksUpdate {
            removed_indices: vec![1],
            added_links: vec![terms(2, 0, 2).to_link()],
        }));
    authorize_commit(&s, &join_with_code).unwrap();

    // The policy the commit itself sets is the one its new links keep.
    let mut relax = adding_link(0, 0, Some(1_000));
    relax.component_changes.insert(
        0,
        ComponentChange::update(ComponentId::JOIN_LINK_POLICY, link_policy(true, 0).encode()),
    );
    authorize_commit(&s, &relax).unwrap();
    // Without a policy, anything goes.
    authorize_commit(&room_with_terms(&existing), &adding_link(0, 0, Some(1_000))).unwrap();
}

#[test]
fn only_the_joiner_may_consume_a_code_without_a_capability() {
    let t = terms(2, 0, 3);
    let s = room_with_terms(&t);
    // Bob (ordinary user) commits exactly the consumption update himself: refused.
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.component_changes.push(consume(JoinLinksUpdate {
        removed_indices: vec![1],
        added_links: vec![terms(2, 0, 2).to_link()],
    }));
    assert_eq!(
        denied(&s, &commit),
        missing(Capability::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE, 2)
    );
    // A joiner may not remove other links under cover of its own consumption.
    let mut greedy = join(DAVE_PC, DAVE, 2);
    greedy.join_code = Some(t.code_digest.clone());
    greedy.component_changes.push(consume(JoinLinksUpdate {
        removed_indices: vec![0, 1],
        added_links: vec![terms(2, 0, 2).to_link()],
    }));
    assert_eq!(denied(&s, &greedy), Denied::JoinCodeNotConsumed);
}

#[test]
fn join_code_terms_are_checked_when_decoded() {
    let mut t = terms(2, 0, 0);
    t.code_digest.pop();
    assert!(JoinCodeTerms::decode(&t.encode()).is_err());
    assert!(JoinCodeTerms::decode(&terms(1, 0, 0).encode()).is_err());
    assert!(JoinCodeTerms::decode(&terms(0, 0, 0).encode()).is_err());
    let good = terms(2, 5, 0);
    assert_eq!(JoinCodeTerms::decode(&good.encode()).unwrap(), good);
    // Unlimited codes need no consumption.
    let s = room_with_terms(&good);
    let mut commit = join(DAVE_PC, DAVE, 2);
    commit.join_code = Some(good.code_digest.clone());
    authorize_commit(&s, &commit).unwrap();
}

#[test]
fn preauthorized_join() {
    let claim = Claim::new(CredentialType::BASIC, b"org", b"d.example");
    let pre = |role: u32| PreAuthData {
        preauthorized_entries: vec![PreAuthRoleEntry {
            claimset: vec![claim.clone()],
            target_role: Role::new(role, "", ""),
        }],
    };
    let strict = room_with(Preset::StrictlyAdministered, 2, 3);
    let s = with_component(&strict, &pre(3));
    let mut commit = join(DAVE_PC, DAVE, 3);
    assert_eq!(denied(&s, &commit), missing(Capability::CAN_OPEN_JOIN, 0));
    commit.actor_claims.push(claim.clone());
    authorize_commit(&s, &commit).unwrap();
    let mut other_role = join(DAVE_PC, DAVE, 2);
    other_role.actor_claims.push(claim.clone());
    assert_eq!(
        denied(&s, &other_role),
        Denied::NotPreauthorized { role: RoleIndex(2) }
    );
    // No role of the cooperative example holds canJoinIfPreauthorized.
    let s = with_component(&room(), &pre(3));
    let mut commit = join(DAVE_PC, DAVE, 3);
    commit.actor_claims.push(claim);
    assert_eq!(
        denied(&s, &commit),
        missing(Capability::CAN_JOIN_IF_PREAUTHORIZED, 3)
    );
}

#[test]
fn x509_claims_preauthorize_a_provider_or_one_user() {
    let dave = u(DAVE);
    let dave_pc = c(DAVE_PC);
    let claims = Claim::of_x509_client(&dave_pc, &dave);
    assert_eq!(claims.len(), 3);
    assert!(claims.contains(&Claim::x509_subject_uri(DAVE)));
    assert!(claims.contains(&Claim::x509_subject_uri(DAVE_PC)));
    let provider: Domain = dave.domain().clone();
    assert!(claims.contains(&Claim::x509_issuer(&provider)));
    let entry = |claim: Claim, role: u32| PreAuthRoleEntry {
        claimset: vec![claim],
        target_role: Role::new(role, "", ""),
    };
    // A cooperative room whose ordinary users (2) may join preauthorized.
    let mut creation = RoomCreation::new(
        Preset::Cooperative,
        "mimi://hub.example/r/room".parse().unwrap(),
        u(ALICE),
    );
    creation.grants = vec![(RoleIndex(2), Capability::CAN_JOIN_IF_PREAUTHORIZED)];
    let base = creation
        .initial_state()
        .unwrap()
        .with_members([m(ALICE_PHONE, ALICE)])
        .unwrap();
    assert!(
        base.roles()
            .role(RoleIndex(2))
            .unwrap()
            .has(Capability::CAN_JOIN_IF_PREAUTHORIZED)
    );
    for claim in [Claim::x509_issuer(&provider), Claim::x509_subject_uri(DAVE)] {
        let data = PreAuthData {
            preauthorized_entries: vec![entry(claim, 2)],
        };
        assert!(data.names_provider(&provider));
        assert!(!data.names_provider(&"e.example".parse().unwrap()));
        let s = with_component(&base, &data);
        assert_eq!(s.may_join_preauthorized(&claims).unwrap(), RoleIndex(2));
        let mut commit = join(DAVE_PC, DAVE, 2);
        commit.actor_claims = claims.clone();
        authorize_commit(&s, &commit).unwrap();
        // Another provider's user makes none of these claims.
        let other = Claim::of_x509_client(
            &c("mimi://e.example/d/erin/pc"),
            &u("mimi://e.example/u/erin"),
        );
        assert_eq!(
            s.may_join_preauthorized(&other),
            Err(Denied::NotPreauthorized {
                role: RoleIndex::NO_ROLE
            })
        );
        let mut commit = join("mimi://e.example/d/erin/pc", "mimi://e.example/u/erin", 2);
        commit.actor_claims = other;
        assert_eq!(denied(&s, &commit), missing(Capability::CAN_OPEN_JOIN, 0));
    }
    // In the cooperative example no role holds canJoinIfPreauthorized: the entry's role may
    // not be joined by preauthorization.
    let s = with_component(
        &room(),
        &PreAuthData {
            preauthorized_entries: vec![entry(Claim::x509_issuer(&provider), 2)],
        },
    );
    assert_eq!(
        s.may_join_preauthorized(&claims),
        Err(Denied::MissingCapability {
            capability: Capability::CAN_JOIN_IF_PREAUTHORIZED,
            role: RoleIndex(2)
        })
    );
    // A grant to a role the preset lacks is refused at creation.
    let mut bad = RoomCreation::new(
        Preset::Cooperative,
        "mimi://a.example/r/r".parse().unwrap(),
        u(ALICE),
    );
    bad.grants = vec![(RoleIndex(42), Capability::CAN_KICK)];
    assert!(bad.initial_state().is_err());
}

#[test]
fn external_join_shape() {
    // Moderated: attendees (3) may add their own clients.
    let s = room_with(Preset::Moderated, 3, 3);
    let mut no_joiner = join(DAVE_PC, DAVE, 2);
    no_joiner.added.clear();
    assert_eq!(denied(&s, &no_joiner), Denied::ExternalJoinWithoutJoiner);
    let mut others = join(DAVE_PC, DAVE, 2);
    others.added.push(m("mimi://d.example/d/dave/two", DAVE));
    assert_eq!(
        denied(&s, &others),
        Denied::ExternalJoinAddsOthers {
            client: c("mimi://d.example/d/dave/two")
        }
    );
    // A listed user rejoining with a new device needs canAddOwnClient only.
    let mut rejoin = by(BOB_PHONE, BOB);
    rejoin.external_join = true;
    rejoin.added.push(m(BOB_PHONE, BOB));
    authorize_commit(&s, &rejoin).unwrap();
}

#[test]
fn fixed_membership_rooms() {
    let s = room_with(Preset::StrictlyAdministered, 2, 2);
    let mut roles = s.roles().clone();
    for r in &mut roles.roles {
        r.role_capabilities
            .retain(|c| *c != Capability::CAN_ADD_PARTICIPANT);
    }
    let s = with_component(&s, &roles);
    let s = with_policy(&s, |p| p.fixed_membership = true);
    let mut leave = by(BOB_LAPTOP, BOB);
    leave.component_changes.push(plu(&[], &[idx(&s, BOB)], &[]));
    leave.self_removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(denied(&s, &leave), Denied::FixedMembership);
    let mut remove = by(ALICE_PHONE, ALICE);
    remove
        .component_changes
        .push(plu(&[], &[idx(&s, BOB)], &[]));
    remove.removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(denied(&s, &remove), Denied::FixedMembership);
    // Giving a role canAddParticipant in a fixed room is refused as an invalid state.
    let mut roles = s.roles().clone();
    roles.roles[2]
        .role_capabilities
        .push(Capability::CAN_ADD_PARTICIPANT);
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::ROLES_LIST,
        roles.encode(),
    ));
    assert!(matches!(
        denied(&s, &commit),
        Denied::InvalidResultingState(_)
    ));
}

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

// ---- 9. component operations ----------------------------------------------------------------

/// The cooperative room with `canChangeOtherPolicyAttribute` (reserved; no example role holds
/// it) given to super_admin.
fn room_with_policy_admin() -> RoomState {
    let s = room();
    let mut roles = s.roles().clone();
    roles.roles[4]
        .role_capabilities
        .push(Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE);
    with_component(&s, &roles)
}

#[test]
fn component_operation_rules() {
    let s = room_with_policy_admin();
    let mut commit = by(ALICE_PHONE, ALICE);
    commit
        .component_changes
        .push(ComponentChange::update(ComponentId::new(0x7777), vec![]));
    assert_eq!(
        denied(&s, &commit),
        Denied::UnknownComponent(ComponentId::new(0x7777))
    );
    let mut commit = by(ALICE_PHONE, ALICE);
    commit
        .component_changes
        .push(ComponentChange::remove(ComponentId::BASE_ROOM_POLICY));
    commit.component_changes.push(ComponentChange::update(
        ComponentId::BASE_ROOM_POLICY,
        BaseRoomPolicy::default().encode(),
    ));
    assert_eq!(
        denied(&s, &commit),
        Denied::InvalidComponentOps(ComponentId::BASE_ROOM_POLICY)
    );
    let mut commit = by(ALICE_PHONE, ALICE);
    commit
        .component_changes
        .push(ComponentChange::remove(ComponentId::PARTICIPANT_LIST));
    assert_eq!(
        denied(&s, &commit),
        Denied::RequiredComponentRemoved(ComponentId::PARTICIPANT_LIST)
    );
    let mut commit = by(ALICE_PHONE, ALICE);
    commit
        .component_changes
        .push(ComponentChange::remove(ComponentId::BOT_POLICY));
    assert_eq!(
        denied(&s, &commit),
        Denied::RemoveOfAbsentComponent(ComponentId::BOT_POLICY)
    );
    let mut commit = by(ALICE_PHONE, ALICE);
    commit
        .component_changes
        .push(ComponentChange::update(ComponentId::BOT_POLICY, vec![1]));
    assert!(matches!(
        denied(&s, &commit),
        Denied::MalformedUpdate {
            component: ComponentId::BOT_POLICY,
            ..
        }
    ));
    // Other policy components need canChangeOtherPolicyAttribute; Alice has it, Cathy not.
    let status = StatusNotificationPolicy {
        delivery_notifications: Optionality::Forbidden,
        read_receipts: Optionality::Forbidden,
    };
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::STATUS_NOTIFICATION_POLICY,
        status.encode(),
    ));
    let next = authorize_commit(&s, &commit).unwrap().into_state();
    assert_eq!(next.status_notification_policy(), Some(&status));
    let mut commit2 = by(CATHY_TAB, CATHY);
    commit2.component_changes = commit.component_changes.clone();
    assert_eq!(
        denied(&s, &commit2),
        missing(Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE, 3)
    );
    // Removing it again.
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(ComponentChange::remove(
        ComponentId::STATUS_NOTIFICATION_POLICY,
    ));
    let after = authorize_commit(&next, &commit).unwrap().into_state();
    assert_eq!(after.status_notification_policy(), None);
}

#[test]
fn join_links_updates_apply_as_deltas() {
    let s = room_with(Preset::StrictlyAdministered, 2, 3);
    let add = JoinLinksUpdate {
        removed_indices: vec![],
        added_links: vec![
            JoinLink {
                join_link: b"a".to_vec(),
            },
            JoinLink {
                join_link: b"b".to_vec(),
            },
        ],
    };
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::JOIN_LINKS,
        add.encode(),
    ));
    let next = authorize_commit(&s, &commit).unwrap().into_state();
    assert_eq!(next.join_links().unwrap().links.len(), 2);
    let del = JoinLinksUpdate {
        removed_indices: vec![0],
        added_links: vec![],
    };
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::JOIN_LINKS,
        del.encode(),
    ));
    let after = authorize_commit(&next, &commit).unwrap().into_state();
    assert!(after.join_links().unwrap().find(b"b").is_some());
    assert!(after.join_links().unwrap().find(b"a").is_none());
    let bad = JoinLinksUpdate {
        removed_indices: vec![5],
        added_links: vec![],
    };
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::JOIN_LINKS,
        bad.encode(),
    ));
    assert_eq!(
        denied(&next, &commit),
        Denied::InvalidIndex {
            component: ComponentId::JOIN_LINKS,
            index: 5
        }
    );
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::JOIN_LINKS,
        add.encode(),
    ));
    assert_eq!(
        denied(&s, &commit),
        missing(Capability::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE, 2)
    );
}

#[test]
fn mls_membership_consistency() {
    let s = room();
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.added.push(m(BOB_LAPTOP, BOB));
    assert_eq!(
        denied(&s, &commit),
        Denied::ClientAlreadyMember {
            client: c(BOB_LAPTOP)
        }
    );
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.removed.push(m(BOB_PHONE, BOB));
    assert_eq!(
        denied(&s, &commit),
        Denied::ClientNotMember {
            client: c(BOB_PHONE)
        }
    );
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.removed.push(m(BOB_LAPTOP, BOB));
    commit.self_removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(
        denied(&s, &commit),
        Denied::ClientNotMember {
            client: c(BOB_LAPTOP)
        }
    );
}

#[test]
fn staged_state_round_trips_and_the_view_agrees() {
    let s = room();
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(plu(&[], &[], &[(DAVE, 3)]));
    commit.added.push(m(DAVE_PC, DAVE));
    let next = authorize_commit(&s, &commit).unwrap().into_state();
    let decoded = RoomState::from_components(next.components())
        .unwrap()
        .with_members(
            next.members()
                .iter()
                .map(|(c, u)| MemberChange::new(c.clone(), u.clone())),
        )
        .unwrap();
    assert_eq!(decoded, next);
    let views = next.member_views();
    let dave = views.iter().find(|v| v.user == u(DAVE)).unwrap();
    assert_eq!(dave.role_name, "group_admin");
    assert!(dave.is_active());
    assert!(next.may_delete_message(&u(DAVE), &u(BOB)).is_ok());
    assert_eq!(
        next.may_delete_message(&u(BOB), &u(DAVE)),
        Err(missing(Capability::CAN_DELETE_OTHER_MESSAGE, 2))
    );
    assert!(next.may_delete_message(&u(BOB), &u(BOB)).is_ok());
    assert!(next.may_edit_message(&u(BOB), &u(BOB)).is_ok());
    assert!(next.may_edit_message(&u(DAVE), &u(BOB)).is_err());
    assert!(next.senders().contains(&&u(BOB)));
    assert!(!next.senders().contains(&&u(ENFORCER)));
    assert_eq!(
        next.assignable_roles(&u(DAVE), &u(BOB)),
        [0, 1, 3].into_iter().map(RoleIndex).collect()
    );
    assert!(
        next.capabilities_of(&u(ENFORCER))
            .contains(&Capability::CAN_BAN)
    );
}

#[test]
fn banning_a_user_before_it_joins_needs_can_ban() {
    let s = room();
    let mut preban = server("hub.example");
    preban.component_changes.push(plu(&[], &[], &[(DAVE, 1)]));
    let next = authorize_commit(&s, &preban).unwrap().into_state();
    assert_eq!(next.role_of(&u(DAVE)), RoleIndex::BANNED);
    // Dave cannot join now.
    let mut commit = by(DAVE_PC, DAVE);
    commit.external_join = true;
    commit.added.push(m(DAVE_PC, DAVE));
    assert_eq!(denied(&next, &commit), Denied::UserBanned { user: u(DAVE) });
    // An ordinary user may not pre-ban.
    let mut preban = by(BOB_LAPTOP, BOB);
    preban.component_changes.push(plu(&[], &[], &[(DAVE, 1)]));
    assert_eq!(denied(&s, &preban), missing(Capability::CAN_BAN, 2));
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

#[test]
fn room_creation_checks_its_inputs() {
    let room: mimi_types::RoomUri = "mimi://hub.example/r/room".parse().unwrap();
    // The enforcer must be on the hub's domain and not be the creator.
    let mut creation = RoomCreation::new(Preset::Cooperative, room.clone(), u(ALICE));
    creation.policy_enforcer = Some(u(BOB));
    assert!(creation.initial_state().is_err());
    creation.policy_enforcer = Some(u(ALICE));
    assert!(creation.initial_state().is_err());
    // A fixed-membership base policy contradicts roles that may add participants.
    let mut creation = RoomCreation::new(Preset::Cooperative, room.clone(), u(ALICE));
    creation.base_policy = Some(BaseRoomPolicy {
        fixed_membership: true,
        ..BaseRoomPolicy::default()
    });
    assert!(creation.initial_state().is_err());
    // Every preset builds a consistent room whose creator holds the preset's creator role.
    for preset in Preset::ALL {
        let mut creation = RoomCreation::new(preset, room.clone(), u(ALICE));
        creation.policy_enforcer = Some(u(ENFORCER));
        creation.name = "Room".to_owned();
        let state = creation.initial_state().unwrap();
        assert_eq!(state.role_of(&u(ALICE)), preset.creator_role());
        assert_eq!(state.role_of(&u(ENFORCER)), preset.policy_enforcer_role());
        assert_eq!(state.metadata().unwrap().room_name, "Room");
        assert_eq!(
            RoomState::from_components(state.components()).unwrap(),
            state
        );
    }
}

#[test]
fn only_listed_unbanned_users_may_join_a_new_device() {
    let state = room_with(Preset::Cooperative, 2, 1);
    assert_eq!(state.may_join_new_device(&u(BOB)), Ok(()));
    assert_eq!(
        state.may_join_new_device(&u(CATHY)),
        Err(Denied::UserBanned { user: u(CATHY) })
    );
    assert_eq!(
        state.may_join_new_device(&u(DAVE)),
        Err(Denied::NotParticipant { user: u(DAVE) })
    );
}

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

#[test]
fn the_operational_policy_can_forbid_external_commits_and_proposals() {
    let closed = |commits: bool, proposals: bool| {
        let mut p = OperationalParameters::allowing_external();
        p.external_commit_allowed = commits;
        p.external_proposal_allowed = proposals;
        with_component(&room(), &p)
    };
    // Allowed: an absent component, or one allowing both.
    for s in [room(), closed(true, true)] {
        assert_eq!(s.may_commit_externally(), Ok(()));
        assert_eq!(s.may_propose_externally(), Ok(()));
    }
    // A participant's new device joins by external commit, unless the room forbids them.
    let mut rejoin = by("mimi://b.example/d/bob/new", BOB);
    rejoin.external_join = true;
    rejoin.added.push(m("mimi://b.example/d/bob/new", BOB));
    authorize_commit(&closed(true, false), &rejoin).unwrap();
    let s = closed(false, true);
    assert_eq!(denied(&s, &rejoin), Denied::ExternalCommitsNotAllowed);
    assert_eq!(
        s.may_commit_externally(),
        Err(Denied::ExternalCommitsNotAllowed)
    );
    // A newcomer (preauthorized, here) is refused the same way.
    let mut join_commit = join(DAVE_PC, DAVE, 2);
    join_commit.actor_claims = Claim::of_x509_client(&c(DAVE_PC), &u(DAVE));
    assert_eq!(denied(&s, &join_commit), Denied::ExternalCommitsNotAllowed);
    // The hub's removal (an external proposal) and a commit including one.
    let s = closed(true, false);
    let mut kick = CommitSummary::new(Actor::Server(u(ENFORCER).domain().clone()));
    kick.removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(denied(&s, &kick), Denied::ExternalProposalsNotAllowed);
    let mut including = by(ALICE_PHONE, ALICE);
    including.enforced_removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(denied(&s, &including), Denied::ExternalProposalsNotAllowed);
    authorize_commit(&closed(true, true), &including).unwrap();
}

#[test]
fn receiving_users_are_those_may_receive_admits() {
    // Cooperative; moderated with Bob a guest and Cathy banned; strict with Bob banned.
    for s in [
        room(),
        room_with(Preset::Moderated, 2, 1),
        room_with(Preset::StrictlyAdministered, 1, 3),
    ] {
        let expected: std::collections::BTreeSet<&UserUri> = s
            .participants()
            .participants
            .iter()
            .map(|p| &p.user)
            .filter(|u| s.may_receive(u).is_ok())
            .collect();
        assert_eq!(s.receiving_users(), expected);
        assert!(!expected.is_empty());
    }
}
