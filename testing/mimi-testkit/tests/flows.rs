//! The six flows of the protocol draft (digest §3.1) across three providers, through the real
//! hub and follower engines and real MLS clients.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mimi_client_core::ClientEvent;
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;
use mimi_room::presets::Preset;
use mimi_testkit::{Faults, Network};
use mimi_types::{ClientUri, RoomUri, UserUri};

fn user(s: &str) -> UserUri {
    UserUri::parse(s).unwrap()
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

/// The texts of `device`'s timeline of `room`.
fn texts(net: &Network, device: &ClientUri, room: &RoomUri) -> Vec<String> {
    net.device(device).unwrap().texts(room)
}

struct Figure {
    net: Network,
    room: RoomUri,
    alice: ClientUri,
    bob: ClientUri,
    charlie_phone: ClientUri,
    charlie_laptop: ClientUri,
    diana: ClientUri,
    evelyn: ClientUri,
}

/// The architecture figure: Alice and Bob on x, Charlie (two devices) on y, the hub; Diana and
/// Evelyn on z. Charlie creates the room and adds everyone.
fn figure(seed: u64) -> Figure {
    let mut net = Network::new(seed, &["x.example", "y.example", "z.example"]).unwrap();
    let alice = net
        .add_device(&user("mimi://x.example/u/alice"), "phone")
        .unwrap();
    let bob = net
        .add_device(&user("mimi://x.example/u/bob"), "laptop")
        .unwrap();
    let charlie_phone = net
        .add_device(&user("mimi://y.example/u/charlie"), "phone")
        .unwrap();
    let charlie_laptop = net
        .add_device(&user("mimi://y.example/u/charlie"), "laptop")
        .unwrap();
    let diana = net
        .add_device(&user("mimi://z.example/u/diana"), "phone")
        .unwrap();
    let evelyn = net
        .add_device(&user("mimi://z.example/u/evelyn"), "tablet")
        .unwrap();
    let room = net
        .create_room(
            &charlie_phone,
            "mimi://y.example/r/clubhouse",
            Preset::Cooperative,
        )
        .unwrap();
    Figure {
        net,
        room,
        alice,
        bob,
        charlie_phone,
        charlie_laptop,
        diana,
        evelyn,
    }
}

#[test]
fn six_flows_across_three_providers() {
    six_flows(1, Faults::none());
}

#[test]
fn six_flows_under_network_faults_over_200_seeds() {
    for seed in 0..200 {
        six_flows(seed, Faults::all(0.15));
    }
}

fn six_flows(seed: u64, faults: Faults) {
    let Figure {
        mut net,
        room,
        alice,
        bob,
        charlie_phone,
        charlie_laptop,
        diana,
        evelyn,
    } = figure(seed);
    net.set_faults(faults);

    // 1. Create (done) and add users across providers: one commit, Welcomes routed to x and z.
    ok(net
        .add_users(
            &charlie_phone,
            &room,
            &[
                user("mimi://x.example/u/alice"),
                user("mimi://x.example/u/bob"),
                user("mimi://z.example/u/diana"),
                user("mimi://z.example/u/evelyn"),
            ],
        )
        .unwrap());
    net.settle(1_000).unwrap();
    for device in [&alice, &bob, &diana, &evelyn] {
        assert!(
            net.device(device).unwrap().is_member(&room),
            "{device} joined"
        );
    }

    // 2. Charlie's second device is added by a commit without a participant-list change.
    ok(net
        .add_devices(&charlie_phone, &room, &user("mimi://y.example/u/charlie"))
        .unwrap());
    net.settle(1_000).unwrap();
    assert!(net.device(&charlie_laptop).unwrap().is_member(&room));

    // 3. Messages both ways: every member device decrypts every message, in hub order.
    sent(net.send(&diana, &room, "hi from z").unwrap());
    sent(net.send(&alice, &room, "hello from x").unwrap());
    sent(net.send(&charlie_laptop, &room, "welcome all").unwrap());
    net.settle(1_000).unwrap();
    let expected = ["hi from z", "hello from x", "welcome all"];
    for device in [
        &alice,
        &bob,
        &charlie_phone,
        &charlie_laptop,
        &diana,
        &evelyn,
    ] {
        assert_eq!(texts(&net, device, &room), expected, "{device}");
    }

    // 4. Evelyn leaves (SelfRemove + participant-list removal as proposals); a commit by
    //    another member carries them out.
    ok(net.leave(&evelyn, &room).unwrap());
    net.settle(1_000).unwrap();
    ok(net.self_update(&diana, &room).unwrap());
    net.settle(1_000).unwrap();
    assert!(
        !net.device(&evelyn).unwrap().is_member(&room),
        "Evelyn left"
    );

    // 5. Charlie removes Bob; a later message is not readable by Bob.
    ok(net
        .remove_users(&charlie_phone, &room, &[user("mimi://x.example/u/bob")])
        .unwrap());
    net.settle(1_000).unwrap();
    assert!(!net.device(&bob).unwrap().is_member(&room));
    sent(net.send(&charlie_phone, &room, "bob is gone").unwrap());
    net.settle(1_000).unwrap();
    assert!(!texts(&net, &bob, &room).contains(&"bob is gone".to_owned()));
    assert!(!texts(&net, &evelyn, &room).contains(&"bob is gone".to_owned()));
    assert!(texts(&net, &alice, &room).contains(&"bob is gone".to_owned()));

    // 6. Diana adds a new device by external join.
    let tablet = net
        .add_device(&user("mimi://z.example/u/diana"), "tablet")
        .unwrap();
    ok(net.join_external(&tablet, &room).unwrap());
    net.settle(1_000).unwrap();
    sent(net.send(&tablet, &room, "new tablet here").unwrap());
    net.settle(1_000).unwrap();
    for device in [&alice, &charlie_phone, &charlie_laptop, &diana] {
        assert_eq!(
            texts(&net, device, &room).last().unwrap(),
            "new tablet here",
            "{device}"
        );
    }

    // Nobody failed to process anything, and every member is in the hub's epoch.
    let hub_epoch = net
        .provider(room.hub_domain())
        .unwrap()
        .hub_room(&room)
        .unwrap()
        .group()
        .epoch();
    for (client, device) in net.devices() {
        assert!(
            device.failures().is_empty(),
            "{client}: {:?}",
            device.failures()
        );
        if device.is_member(&room) {
            assert_eq!(device.group(&room).unwrap().epoch(), hub_epoch, "{client}");
        }
    }
    // The hub fanned out to x and z (followers), and to itself for Charlie's devices.
    let stats = net.stats();
    assert!(
        stats.notify_requests.len() == 3,
        "{:?}",
        stats.notify_requests
    );
    assert!(matches!(
        net.device(&bob).unwrap().events().last(),
        Some(ClientEvent::Removed { room: r }) if *r == room
    ));
}
