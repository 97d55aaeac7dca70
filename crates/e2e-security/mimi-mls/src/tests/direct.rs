//! A direct-message room (`mimi_room::direct`) through real MLS: the creator's establishing
//! commit brings in every device of the other user; afterwards a third user cannot be added,
//! neither by the sending client's check nor, when a rogue client builds the commit anyway, at
//! the hub or at the other member, and the room goes on (a sentinel message arrives).

use mimi_room::Denied;
use mimi_room::direct::DirectCreation;

use super::*;
use crate::MlsError;

/// Alice's direct room with Bob (both his devices in), on hub a.example.
fn direct_room() -> Net {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    net.add_client("b.example", "bob", "bob2");
    net.add_client("c.example", "cathy", "cathy1");
    let state = DirectCreation {
        room: net.room.clone(),
        creator: user("alice"),
        peer: user("bob"),
        policy_enforcer: "mimi://a.example/u/_policy-enforcer".parse().unwrap(),
    }
    .initial_state()
    .unwrap();
    let mut components = state.components();
    // ComponentsList { component_ids<V> } = [0x0020]: a franked room, as every room we make.
    components.insert(ComponentId::SAFE_AAD, vec![0x02, 0x00, 0x20]);
    net.create_with("alice1", RoomState::from_components(components).unwrap());
    let kps = [net.kp("bob1"), net.kp("bob2")];
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[], &kps, &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["bob1", "bob2"]);
    net.assert_consistent();
    net
}

#[test]
fn the_establishing_commit_brings_in_every_device_of_the_peer() {
    let net = direct_room();
    assert_eq!(net.hub().room().clients_of(&user("bob")).len(), 2);
    assert_eq!(
        net.groups["bob2"].room().direct_peer(&user("bob")),
        Some(&user("alice"))
    );
}

fn refused(net: &Net, message: &[u8], denied: &Denied) {
    let before = net.hub().to_record().unwrap();
    let err = net.hub().process(message, net.now).unwrap_err();
    assert!(
        matches!(&err, MlsError::Denied(d) if d == denied),
        "unexpected error: {err:?}"
    );
    assert_eq!(net.hub().to_record().unwrap(), before, "no state change");
}

#[test]
fn a_rogue_member_cannot_add_a_third_user_and_the_room_goes_on() {
    let mut net = direct_room();
    let kp = net.kp("cathy1");
    let now = net.now;
    // Bob's client refuses to build it...
    let err = net
        .groups
        .get_mut("bob1")
        .unwrap()
        .commit(&[pl_add(&["cathy"])], std::slice::from_ref(&kp), &[], now)
        .unwrap_err();
    assert!(
        matches!(err, MlsError::Denied(Denied::FixedMembership)),
        "{err:?}"
    );
    // ... a rogue client builds it anyway: the hub refuses it ...
    let out = net
        .groups
        .get_mut("bob1")
        .unwrap()
        .commit_unchecked(&[pl_add(&["cathy"])], &[kp], true, now)
        .unwrap();
    refused(&net, &out.commit, &Denied::FixedMembership);
    // ... and so does Alice's client, without changing its state.
    let alice = net.groups.get_mut("alice1").unwrap();
    let before = alice.to_record().unwrap();
    assert!(matches!(
        alice.process(&out.commit, now),
        Err(MlsError::Denied(Denied::FixedMembership))
    ));
    assert_eq!(alice.to_record().unwrap(), before);
    // The sentinel: Bob drops the refused commit and the room goes on.
    net.groups
        .get_mut("bob1")
        .unwrap()
        .discard_pending_commit()
        .unwrap();
    net.message("bob1", "sentinel");
    net.message("alice1", "still private");
    net.assert_consistent();
}

#[test]
fn once_established_the_creator_adds_no_device_of_the_peer() {
    let mut net = direct_room();
    net.add_client("b.example", "bob", "bob3");
    let kp = net.kp("bob3");
    let now = net.now;
    let err = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[], std::slice::from_ref(&kp), &[], now)
        .unwrap_err();
    assert!(
        matches!(
            err,
            MlsError::Denied(Denied::MissingCapability {
                capability: mimi_room::Capability::CAN_ADD_PARTICIPANT,
                ..
            })
        ),
        "{err:?}"
    );
    // Bob adds his own new device.
    let out = net
        .groups
        .get_mut("bob1")
        .unwrap()
        .commit(&[], &[kp], &[], now)
        .unwrap();
    net.deliver_commit("bob1", &out, &["bob3"]);
    net.assert_consistent();
    assert_eq!(net.hub().room().clients_of(&user("bob")).len(), 3);
}

#[test]
fn a_rogue_member_cannot_remove_the_other_or_lift_fixed_membership_at_the_hub() {
    use mimi_room::components::BaseRoomPolicy;
    let mut net = direct_room();
    let now = net.now;
    let remove_alice = net.pl_remove(&["alice"]);
    let open = ComponentChange::update(
        ComponentId::BASE_ROOM_POLICY,
        BaseRoomPolicy {
            fixed_membership: false,
            ..net.hub().room().base_policy()
        }
        .encode(),
    );
    for (change, denied) in [
        (remove_alice, Denied::FixedMembership),
        (
            open,
            Denied::MissingCapability {
                capability: mimi_room::Capability::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE,
                role: mimi_room::direct::DIRECT_PARTICIPANT_ROLE,
            },
        ),
    ] {
        let bob = net.groups.get_mut("bob1").unwrap();
        let err = bob
            .commit(std::slice::from_ref(&change), &[], &[], now)
            .unwrap_err();
        assert!(
            matches!(&err, MlsError::Denied(d) if *d == denied),
            "{err:?}"
        );
        let out = bob
            .commit_unchecked(std::slice::from_ref(&change), &[], true, now)
            .unwrap();
        refused(&net, &out.commit, &denied);
        let alice = net.groups.get_mut("alice1").unwrap();
        assert!(matches!(
            alice.process(&out.commit, now),
            Err(MlsError::Denied(d)) if d == denied
        ));
        net.groups
            .get_mut("bob1")
            .unwrap()
            .discard_pending_commit()
            .unwrap();
    }
    // The sentinel.
    net.message("bob1", "sentinel");
    net.assert_consistent();
    assert!(net.hub().room().base_policy().fixed_membership);
}
