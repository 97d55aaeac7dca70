//! What one commit may combine: one metadata update; roles and preauthorization updates
//! apart from participant changes.

use crate::common::*;

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
