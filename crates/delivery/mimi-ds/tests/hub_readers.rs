//! canReceiveMessage at the hub (issue 18 item 5): accepted application messages go only to
//! member providers with a device of a user who may receive them; handshakes reach every
//! member provider. Alice (a.example, super_admin, here also allowed to change role
//! definitions) takes canReceiveMessage from ordinary users (Bob, b.example): her next
//! message is not fanned out to b.example, the role change itself is; given back, Bob's
//! provider gets messages again. Within a provider that gets them, the hub names the devices
//! of users who may not receive them, and the follower's inbox withholds them from those.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{commit_request, domain, full, room_granting};
use mimi_ds::Effect;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::mls::MlsMessage;
use mimi_federation_api::submit_message::{SubmitMessageRequest, SubmitOutcome};
use mimi_federation_api::update::UpdateOutcome;
use mimi_mls::ComponentChange;
use mimi_room::Capability;
use mimi_room::components::{Component as _, RoleIndex};
use mimi_types::Domain;
use mimi_types::codepoints::ComponentId;

fn destinations(effects: &[Effect]) -> BTreeSet<Domain> {
    effects
        .iter()
        .map(|e| match e {
            Effect::Notify { to, .. } => to.clone(),
        })
        .collect()
}

/// The roles-list change giving `role` canReceiveMessage (`receive`) or taking it away.
fn receiving(r: &common::Room, role: RoleIndex, receive: bool) -> ComponentChange {
    let mut roles = r.alice.room().roles().clone();
    let entry = roles
        .roles
        .iter_mut()
        .find(|x| x.role_index == role)
        .unwrap();
    entry
        .role_capabilities
        .retain(|c| *c != Capability::CAN_RECEIVE_MESSAGE);
    if receive {
        entry
            .role_capabilities
            .push(Capability::CAN_RECEIVE_MESSAGE);
    }
    ComponentChange::update(ComponentId::ROLES_LIST, roles.encode())
}

fn set(domains: &[&str]) -> BTreeSet<Domain> {
    domains.iter().map(|d| domain(d)).collect()
}

#[test]
fn application_messages_are_withheld_from_providers_whose_users_may_not_receive() {
    let mut r = room_granting(
        false,
        vec![(RoleIndex(4), Capability::CAN_CHANGE_ROLE_DEFINITIONS)],
    );
    let alice_uri = IdentifierUri::from_string("mimi://a.example/u/alice".to_owned()).unwrap();
    let send = |r: &mut common::Room, text: &[u8]| {
        let bytes = r.alice.protect(text, &BTreeMap::new()).unwrap();
        let request =
            SubmitMessageRequest::new(MlsMessage::from_bytes(bytes).unwrap(), alice_uri.clone())
                .unwrap();
        let out = r
            .hub
            .handle_submit(r.now * 1000, &domain("a.example"), request, None)
            .unwrap();
        assert!(matches!(
            out.response.outcome,
            SubmitOutcome::Accepted { .. }
        ));
        destinations(&out.effects)
    };
    assert_eq!(
        send(&mut r, b"to everyone"),
        set(&["a.example", "b.example"])
    );
    assert_eq!(r.hub.reader_domains(), &set(&["a.example", "b.example"]));

    let change_role_2 = |r: &mut common::Room, receive: bool| {
        let change = receiving(r, RoleIndex(2), receive);
        let out = r.alice.commit(&[change], &[], &[], r.now).unwrap();
        let answer = r
            .hub
            .handle_update(
                r.now * 1000,
                &domain("a.example"),
                commit_request(&out, full(out.group_info.as_deref().unwrap())),
            )
            .unwrap();
        assert!(matches!(
            answer.response.outcome,
            UpdateOutcome::Success { .. }
        ));
        r.alice.merge_pending_commit().unwrap();
        destinations(&answer.effects)
    };
    // The role change itself reaches Bob's provider: he must follow the epoch.
    assert_eq!(
        change_role_2(&mut r, false),
        set(&["a.example", "b.example"])
    );
    assert_eq!(r.hub.reader_domains(), &set(&["a.example"]));
    assert_eq!(r.hub.member_domains(), set(&["a.example", "b.example"]));
    assert_eq!(send(&mut r, b"not for bob"), set(&["a.example"]));
    // The state survives the record: a restored room withholds the same way.
    let restored = mimi_ds::hub::HubRoom::from_record(
        r.hub.room().clone(),
        &r.hub.to_record().unwrap(),
        r.trust.clone(),
    )
    .unwrap();
    assert_eq!(restored.reader_domains(), &set(&["a.example"]));

    assert_eq!(
        change_role_2(&mut r, true),
        set(&["a.example", "b.example"])
    );
    assert_eq!(
        send(&mut r, b"for bob again"),
        set(&["a.example", "b.example"])
    );
}

/// Carol (b.example, group_admin) joins Bob's provider; Alice takes canReceiveMessage from
/// group admins, and later gives it back.
#[test]
fn a_provider_with_users_of_both_kinds_is_told_whose_devices_to_withhold_from() {
    use mimi_ds::follower::{LocalMembers, RoomInbox};
    use mimi_ds::{Delivery, Recipients};
    use mimi_federation_api::notify::{FanoutContent, FanoutMessage, NotifyRequest};
    use mimi_room::components::{ParticipantListUpdate, UserRolePair};
    use mimi_types::ClientUri;

    let mut r = room_granting(
        false,
        vec![(RoleIndex(4), Capability::CAN_CHANGE_ROLE_DEFINITIONS)],
    );
    let a = domain("a.example");
    let b = domain("b.example");
    let bob_phone: ClientUri = "mimi://b.example/d/bob/phone".parse().unwrap();
    let carol_phone: ClientUri = "mimi://b.example/d/carol/phone".parse().unwrap();
    // Every notify effect as (to, message, withheld).
    let notifies = |effects: Vec<Effect>| -> Vec<_> {
        effects
            .into_iter()
            .map(|e| match e {
                Effect::Notify {
                    to,
                    message,
                    withheld,
                    ..
                } => (to, message, withheld),
            })
            .collect()
    };
    let commit = |r: &mut common::Room, change: ComponentChange, kps: &[Vec<u8>]| {
        let out = r.alice.commit(&[change], kps, &[], r.now).unwrap();
        let answer = r
            .hub
            .handle_update(
                r.now * 1000,
                &domain("a.example"),
                commit_request(&out, full(out.group_info.as_deref().unwrap())),
            )
            .unwrap();
        assert!(matches!(
            answer.response.outcome,
            UpdateOutcome::Success { .. }
        ));
        r.alice.merge_pending_commit().unwrap();
        (out, notifies(answer.effects))
    };
    let alice_uri = IdentifierUri::from_string("mimi://a.example/u/alice".to_owned()).unwrap();
    let send = |r: &mut common::Room, text: &[u8]| {
        let bytes = r.alice.protect(text, &BTreeMap::new()).unwrap();
        let request =
            SubmitMessageRequest::new(MlsMessage::from_bytes(bytes).unwrap(), alice_uri.clone())
                .unwrap();
        let out = r
            .hub
            .handle_submit(r.now * 1000, &domain("a.example"), request, None)
            .unwrap();
        assert!(matches!(
            out.response.outcome,
            SubmitOutcome::Accepted { .. }
        ));
        notifies(out.effects)
    };
    let group_admins_receive =
        |r: &mut common::Room, receive: bool| receiving(r, RoleIndex(3), receive);

    // Carol joins as a group admin, on Bob's provider.
    let carol = common::client(&r.ca_b, "b.example", "carol", r.now);
    let kp = carol
        .key_package(r.now, 30 * 24 * 3600, false)
        .unwrap()
        .message;
    let add = ParticipantListUpdate {
        added_participants: vec![UserRolePair::new(carol.user().clone(), RoleIndex(3))],
        ..Default::default()
    };
    let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, add.encode());
    let (added, _) = commit(&mut r, change, &[kp]);
    // b.example's follower, from the tree the Welcome carries.
    let mut members = LocalMembers::new(b.clone());
    members.start_from_tree(&added.ratchet_tree).unwrap();
    let mut inbox = RoomInbox::for_members(r.hub.room().clone(), members);
    let hub_domain = r.hub.room().hub_domain().clone();
    let mut follow = |notified: &[(Domain, FanoutMessage, Vec<ClientUri>)]| -> Vec<Delivery> {
        let mut deliveries = Vec::new();
        for (to, message, withheld) in notified {
            if to == &b {
                let request = NotifyRequest::new(vec![message.clone()]);
                let withheld = withheld.iter().cloned().collect();
                let receipt = inbox
                    .receive_withholding(&hub_domain, request, withheld, &|_| None)
                    .unwrap();
                deliveries.extend(receipt.deliveries);
            }
        }
        deliveries
    };
    assert!(r.hub.withheld_at(&b).is_empty());

    // Group admins lose canReceiveMessage: the commit names nobody and reaches both devices.
    let change = group_admins_receive(&mut r, false);
    let (_, notified) = commit(&mut r, change, &[]);
    assert!(notified.iter().all(|(_, _, w)| w.is_empty()));
    let both = [bob_phone.clone(), carol_phone.clone()];
    let delivered = follow(&notified);
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].to, Recipients::Devices(both.to_vec()));

    // Alice's message still goes to b.example (Bob may receive), naming Carol's device; the
    // hub's own provider has nobody to withhold from.
    let notified = send(&mut r, b"for bob, not carol");
    let to_b: Vec<_> = notified.iter().filter(|(to, ..)| to == &b).collect();
    assert_eq!(to_b.len(), 1);
    assert_eq!(to_b[0].2, std::slice::from_ref(&carol_phone));
    assert!(notified.iter().any(|(to, _, w)| to == &a && w.is_empty()));
    assert_eq!(r.hub.withheld_at(&b), std::slice::from_ref(&carol_phone));
    let delivered = follow(&notified);
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].to, Recipients::Only(vec![bob_phone.clone()]));
    assert!(matches!(
        delivered[0].message.content,
        FanoutContent::Application { .. }
    ));
    // The list survives the room's record.
    let restored = mimi_ds::hub::HubRoom::from_record(
        r.hub.room().clone(),
        &r.hub.to_record().unwrap(),
        r.trust.clone(),
    )
    .unwrap();
    assert_eq!(restored.withheld_at(&b), std::slice::from_ref(&carol_phone));

    // Given back: the next messages name nobody and reach both devices.
    let change = group_admins_receive(&mut r, true);
    let (_, notified) = commit(&mut r, change, &[]);
    follow(&notified);
    let notified = send(&mut r, b"for both");
    assert!(notified.iter().all(|(_, _, w)| w.is_empty()));
    assert!(r.hub.withheld_at(&b).is_empty());
    let delivered = follow(&notified);
    assert_eq!(delivered[0].to, Recipients::Devices(both.to_vec()));
}
