//! The room most scenario tests start from.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use mimi_room::presets::Preset;
use mimi_testkit::Network;
use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

pub fn user(s: &str) -> UserUri {
    UserUri::parse(s).unwrap()
}

pub fn domain(s: &str) -> Domain {
    Domain::parse(s).unwrap()
}

/// Charlie (on the hub y.example) hosts a cooperative room with Alice (x.example) and Diana
/// (z.example); Mallory (x.example) is not in it.
pub struct Room {
    pub net: Network,
    pub room: RoomUri,
    pub alice: ClientUri,
    pub charlie: ClientUri,
    pub diana: ClientUri,
    pub mallory: ClientUri,
}

pub fn room(seed: u64, name: &str) -> Room {
    let mut net = Network::new(seed, &["x.example", "y.example", "z.example"]).unwrap();
    let alice = net
        .add_device(&user("mimi://x.example/u/alice"), "phone")
        .unwrap();
    let mallory = net
        .add_device(&user("mimi://x.example/u/mallory"), "phone")
        .unwrap();
    let charlie = net
        .add_device(&user("mimi://y.example/u/charlie"), "phone")
        .unwrap();
    let diana = net
        .add_device(&user("mimi://z.example/u/diana"), "phone")
        .unwrap();
    let room = net
        .create_room(
            &charlie,
            &format!("mimi://y.example/r/{name}"),
            Preset::Cooperative,
        )
        .unwrap();
    net.add_users(
        &charlie,
        &room,
        &[
            user("mimi://x.example/u/alice"),
            user("mimi://z.example/u/diana"),
        ],
    )
    .unwrap();
    net.settle(1_000).unwrap();
    Room {
        net,
        room,
        alice,
        charlie,
        diana,
        mallory,
    }
}
