//! canReceiveMessage at the hub (issue 18 item 5): accepted application messages go only to
//! member providers with a device of a user who may receive them; handshakes reach every
//! member provider. Alice (a.example, super_admin, here also allowed to change role
//! definitions) takes canReceiveMessage from ordinary users (Bob, b.example): her next
//! message is not fanned out to b.example, the role change itself is; given back, Bob's
//! provider gets messages again.

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
        let mut roles = r.alice.room().roles().clone();
        let ordinary = roles
            .roles
            .iter_mut()
            .find(|x| x.role_index == RoleIndex(2))
            .unwrap();
        ordinary
            .role_capabilities
            .retain(|c| *c != Capability::CAN_RECEIVE_MESSAGE);
        if receive {
            ordinary
                .role_capabilities
                .push(Capability::CAN_RECEIVE_MESSAGE);
        }
        let change = ComponentChange::update(ComponentId::ROLES_LIST, roles.encode());
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
