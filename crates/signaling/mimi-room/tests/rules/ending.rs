//! Ending a room (`room_ended`, `canDestroyRoom`): who may set the marker, and that nothing is
//! authorized after it.

use crate::common::*;

fn end_by(client: &str, user: &str, ended_by: &str) -> CommitSummary {
    let mut commit = by(client, user);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::ROOM_ENDED,
        RoomEnded {
            ended_by: u(ended_by),
        }
        .encode(),
    ));
    commit
}

/// The cooperative room after Alice (super_admin, holding `canDestroyRoom`) ended it.
fn ended_room() -> RoomState {
    authorize_commit(&room(), &end_by(ALICE_PHONE, ALICE, ALICE))
        .unwrap()
        .into_state()
}

#[test]
fn only_a_role_holding_can_destroy_room_ends_the_room_and_only_in_its_own_name() {
    let s = room();
    // Bob (ordinary_user, 2) and Cathy (group_admin, 3) do not hold canDestroyRoom.
    assert_eq!(
        denied(&s, &end_by(BOB_LAPTOP, BOB, BOB)),
        missing(Capability::CAN_DESTROY_ROOM, 2)
    );
    assert_eq!(
        denied(&s, &end_by(CATHY_TAB, CATHY, CATHY)),
        missing(Capability::CAN_DESTROY_ROOM, 3)
    );
    // A holder must name itself.
    assert_eq!(
        denied(&s, &end_by(ALICE_PHONE, ALICE, BOB)),
        Denied::RoomEndedMismatch
    );
    // A malformed marker is refused.
    let mut commit = by(ALICE_PHONE, ALICE);
    commit
        .component_changes
        .push(ComponentChange::update(ComponentId::ROOM_ENDED, vec![0xff]));
    assert!(matches!(
        denied(&s, &commit),
        Denied::MalformedUpdate {
            component: ComponentId::ROOM_ENDED,
            ..
        }
    ));
    // Alice (super_admin, 4) may; the state says so and survives its own encoding.
    let ended = ended_room();
    assert_eq!(ended.ended().map(|e| &e.ended_by), Some(&u(ALICE)));
    assert!(ended.has_component(ComponentId::ROOM_ENDED));
    let decoded = RoomState::from_components(ended.components()).unwrap();
    assert_eq!(decoded.ended(), ended.ended());
    assert_eq!(room().ended(), None);
}

#[test]
fn after_the_marker_every_change_message_and_join_is_refused() {
    let s = ended_room();
    let gone = Denied::RoomEnded { ended_by: u(ALICE) };
    // Alice herself can change nothing more, not even end it again or remove the marker.
    assert_eq!(denied(&s, &end_by(ALICE_PHONE, ALICE, ALICE)), gone);
    let mut commit = by(ALICE_PHONE, ALICE);
    commit
        .component_changes
        .push(ComponentChange::remove(ComponentId::ROOM_ENDED));
    assert_eq!(denied(&s, &commit), gone);
    // An add, a leave, a metadata change, an empty commit, a server's proposal.
    let mut add = by(ALICE_PHONE, ALICE);
    add.component_changes.push(plu(&[], &[], &[(DAVE, 2)]));
    add.added.push(m(DAVE_PC, DAVE));
    assert_eq!(denied(&s, &add), gone);
    let mut leave = by(BOB_LAPTOP, BOB);
    leave.component_changes.push(plu(&[], &[idx(&s, BOB)], &[]));
    leave.removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(denied(&s, &leave), gone);
    assert_eq!(denied(&s, &by(ALICE_PHONE, ALICE)), gone);
    let mut kick = server("hub.example");
    kick.removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(denied(&s, &kick), gone);
    // Joins of every kind.
    assert_eq!(denied(&s, &join(DAVE_PC, DAVE, 2)), gone);
    assert_eq!(s.may_join_new_device(&u(BOB)), Err(gone.clone()));
    assert_eq!(s.may_open_join(&u(DAVE)), Err(gone.clone()));
    assert_eq!(s.may_commit_externally(), Err(gone.clone()));
    assert_eq!(s.check_join_code(b"code", None).unwrap_err(), gone);
    assert_eq!(s.may_join_preauthorized(&[]), Err(gone.clone()));
    // Application messages: nobody may send.
    assert_eq!(s.may_send(&u(ALICE)), Err(gone.clone()));
    assert_eq!(
        s.authorize_message(&Actor::Client {
            client: c(BOB_LAPTOP),
            user: u(BOB),
        }),
        Err(gone)
    );
    // The same room before the marker let Bob send and Dave be added.
    let before = room();
    assert_eq!(before.may_send(&u(BOB)), Ok(()));
    assert!(authorize_commit(&before, &add).is_ok());
}
