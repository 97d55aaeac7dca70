//! Component operations, room creation and the MLS operational policy.

use crate::common::*;

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
    // A sub-room: mimi-rs has none (`parent_dependant` is refused at creation).
    let mut creation = RoomCreation::new(Preset::Cooperative, room.clone(), u(ALICE));
    creation.base_policy = Some(BaseRoomPolicy {
        parent_dependant: true,
        parent_room: vec![Uri::new("mimi://hub.example/r/parent").unwrap()],
        ..BaseRoomPolicy::default()
    });
    let err = creation.initial_state().unwrap_err().to_string();
    assert!(err.contains("sub-rooms) are not supported"), "{err}");
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

/// `parent_dependant` (sub-rooms) is not applicable in mimi-rs: a commit turning a room into
/// one is refused, even by a role that may change the base policy, and the room is unchanged.
#[test]
fn a_commit_making_the_room_a_sub_room_is_refused() {
    let s = room();
    let mut base = s.base_policy();
    base.parent_dependant = true;
    base.parent_room = vec![Uri::new("mimi://hub.example/r/parent").unwrap()];
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::BASE_ROOM_POLICY,
        base.encode(),
    ));
    match denied(&s, &commit) {
        Denied::InvalidResultingState(e) => {
            assert!(
                e.to_string().contains("sub-rooms) are not supported"),
                "{e}"
            );
        }
        other => panic!("not refused as a sub-room: {other:?}"),
    }
    // The same commit without the parent passes (Alice may change the base policy).
    base.parent_dependant = false;
    base.parent_room.clear();
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::BASE_ROOM_POLICY,
        base.encode(),
    ));
    authorize_commit(&s, &commit).unwrap();
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
