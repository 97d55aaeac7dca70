//! Participant-list actions, one touch per user, banned and removed users.

use crate::common::*;

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
