//! The room's limits: users, clients, devices, role participant constraints.

use crate::common::*;

// ---- 5. limits ------------------------------------------------------------------------------

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
