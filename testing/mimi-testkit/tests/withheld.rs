//! The simulator honours the hub's per-device withholding (`canReceiveMessage`, our `notify`
//! extension) as the real server does: Alice's room is hosted on x.example; Erin shares x with
//! her, Bob and Carol share y.example. With canReceiveMessage taken from Carol's and Erin's
//! role, Bob gets Alice's message and neither Carol nor Erin does; given back, they get the
//! next one. A withholding list naming another provider's device, and one from a provider
//! that is not the room's hub, are refused; a sentinel still reaches everyone after them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use mimi_client_core::{RoleEdit, RoomOptions};
use mimi_federation_api::Encode;
use mimi_federation_api::notify::{FanoutContent, FanoutMessage, NotifyRequest};
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;
use mimi_room::Capability;
use mimi_room::components::RoleIndex;
use mimi_room::presets::Preset;
use mimi_testkit::Network;
use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

fn user(s: &str) -> UserUri {
    UserUri::parse(s).unwrap()
}

fn domain(s: &str) -> Domain {
    Domain::parse(s).unwrap()
}

fn ok(outcome: UpdateOutcome) {
    assert!(
        matches!(outcome, UpdateOutcome::Success { .. }),
        "{outcome:?}"
    );
}

fn sent(outcome: SubmitOutcome) {
    assert!(
        matches!(outcome, SubmitOutcome::Accepted { .. }),
        "{outcome:?}"
    );
}

fn texts(net: &Network, device: &ClientUri, room: &RoomUri) -> Vec<String> {
    net.device(device).unwrap().texts(room)
}

fn role_3_receives(net: &Network, device: &ClientUri, room: &RoomUri) -> bool {
    net.device(device)
        .unwrap()
        .group(room)
        .unwrap()
        .room()
        .roles()
        .role(RoleIndex(3))
        .unwrap()
        .has(Capability::CAN_RECEIVE_MESSAGE)
}

#[test]
fn withheld_devices_do_not_get_the_message_and_forged_lists_are_refused() {
    let mut net = Network::new(31, &["x.example", "y.example", "z.example"]).unwrap();
    let alice = net
        .add_device(&user("mimi://x.example/u/alice"), "phone")
        .unwrap();
    let erin = net
        .add_device(&user("mimi://x.example/u/erin"), "phone")
        .unwrap();
    let bob = net
        .add_device(&user("mimi://y.example/u/bob"), "phone")
        .unwrap();
    let carol = net
        .add_device(&user("mimi://y.example/u/carol"), "phone")
        .unwrap();
    let options = RoomOptions {
        grants: vec![(RoleIndex(4), Capability::CAN_CHANGE_ROLE_DEFINITIONS)],
        discoverable: false,
    };
    let room = net
        .create_room_with(
            &alice,
            "mimi://x.example/r/quiet",
            Preset::Cooperative,
            &options,
        )
        .unwrap();
    ok(net
        .add_users(
            &alice,
            &room,
            &[
                user("mimi://y.example/u/bob"),
                user("mimi://y.example/u/carol"),
                user("mimi://x.example/u/erin"),
            ],
        )
        .unwrap());
    net.settle(1_000).unwrap();

    // Carol and Erin become group admins, and group admins may not receive messages.
    for who in ["mimi://y.example/u/carol", "mimi://x.example/u/erin"] {
        let who = user(who);
        let outcome = net
            .command(&alice, |client, now, _| {
                client.set_role(now, &room, &who, RoleIndex(3))
            })
            .unwrap();
        assert!(
            matches!(
                outcome,
                mimi_client_core::SendOutcome::Update(UpdateOutcome::Success { .. })
            ),
            "{outcome:?}"
        );
        net.settle(1_000).unwrap();
    }
    let edit = |grant: bool| RoleEdit {
        grant: if grant {
            vec![Capability::CAN_RECEIVE_MESSAGE]
        } else {
            Vec::new()
        },
        revoke: if grant {
            Vec::new()
        } else {
            vec![Capability::CAN_RECEIVE_MESSAGE]
        },
    };
    let revoke = edit(false);
    net.command(&alice, |client, now, _| {
        client.edit_role(now, &room, RoleIndex(3), &revoke)
    })
    .unwrap();
    net.settle(1_000).unwrap();
    for device in [&alice, &bob, &carol, &erin] {
        assert!(!role_3_receives(&net, device, &room), "{device}");
    }

    sent(net.send(&alice, &room, "not for admins").unwrap());
    net.settle(1_000).unwrap();
    assert_eq!(texts(&net, &bob, &room), ["not for admins"]);
    assert_eq!(texts(&net, &alice, &room), ["not for admins"]);
    assert!(texts(&net, &carol, &room).is_empty(), "withheld from Carol");
    assert!(texts(&net, &erin, &room).is_empty(), "withheld from Erin");

    // A notify naming a device of another provider is refused whole, as is a withholding
    // notify from a provider that is not the room's hub; nothing reaches anyone.
    let request = net.message_request(&alice, &room, "forged").unwrap();
    let body = NotifyRequest::new(vec![FanoutMessage::new(
        net.now_ms(),
        FanoutContent::Application {
            message: request.app_message,
            frank: None,
        },
    )])
    .encode()
    .unwrap();
    let foreign: BTreeSet<ClientUri> = [erin.clone()].into();
    let err = net
        .inject_notify_withholding(
            &domain("x.example"),
            &domain("y.example"),
            &room,
            &body,
            &foreign,
        )
        .unwrap_err();
    assert!(err.to_string().contains("another provider"), "{err}");
    let own: BTreeSet<ClientUri> = [carol.clone()].into();
    let err = net
        .inject_notify_withholding(
            &domain("z.example"),
            &domain("y.example"),
            &room,
            &body,
            &own,
        )
        .unwrap_err();
    assert!(err.to_string().contains("is not the hub of"), "{err}");
    assert_eq!(texts(&net, &bob, &room), ["not for admins"]);

    // Given back, Carol and Erin get the next message (the sentinel).
    let grant = edit(true);
    net.command(&alice, |client, now, _| {
        client.edit_role(now, &room, RoleIndex(3), &grant)
    })
    .unwrap();
    net.settle(1_000).unwrap();
    sent(net.send(&alice, &room, "sentinel").unwrap());
    net.settle(1_000).unwrap();
    assert_eq!(texts(&net, &bob, &room), ["not for admins", "sentinel"]);
    assert_eq!(texts(&net, &carol, &room), ["sentinel"]);
    assert_eq!(texts(&net, &erin, &room), ["sentinel"]);
    for (client, device) in net.devices() {
        assert!(
            device.failures().is_empty(),
            "{client}: {:?}",
            device.failures()
        );
    }
}
