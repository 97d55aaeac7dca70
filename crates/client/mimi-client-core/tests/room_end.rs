//! Ending a room (issue 18) tells each device once: `ClientEvent::RoomEnded` comes from the
//! merge of the commit that ended the room, on whichever path merged it (the ender's own commit
//! accepted, another member's received), never again afterwards, also where a member's
//! concurrent commit lost to the end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use harness::{Fed, user};
use mimi_client_core::ClientEvent;
use mimi_room::presets::Preset;
use mimi_types::{ClientUri, RoomUri};

/// The `RoomEnded` events a device gathered (its other events are dropped).
fn ended_events(fed: &mut Fed, client: &ClientUri) -> Vec<ClientEvent> {
    std::iter::from_fn(|| fed.c(client).poll_event())
        .filter(|e| matches!(e, ClientEvent::RoomEnded { .. }))
        .collect()
}

#[test]
fn a_room_ends_once_for_every_device_even_where_a_concurrent_commit_lost() {
    let mut fed = Fed::new(&["x.example", "y.example", "z.example"]);
    let alice = fed.device("mimi://x.example/u/alice", "phone");
    let bob = fed.device("mimi://z.example/u/bob", "laptop");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    let room = fed.create_room(&charlie, "mimi://y.example/r/team", Preset::Cooperative);
    fed.invite(
        &charlie,
        &room,
        &["mimi://x.example/u/alice", "mimi://z.example/u/bob"],
    )
    .unwrap();
    let other: RoomUri = fed.create_room(&charlie, "mimi://y.example/r/other", Preset::Cooperative);
    fed.invite(&charlie, &other, &["mimi://x.example/u/alice"])
        .unwrap();
    let devices = [alice.clone(), bob.clone(), charlie.clone()];
    for d in &devices {
        assert!(ended_events(&mut fed, d).is_empty());
    }

    // Alice renames the room while Charlie (super admin) ends it, both in the same epoch; the
    // hub takes the end first and refuses the rename.
    let now = fed.now();
    fed.c(&alice).rename(now, &room, "renamed").unwrap();
    fed.c(&charlie).destroy_room(now, &room).unwrap();
    let end = fed.c(&charlie).poll_request().unwrap();
    fed.send(&charlie, end);
    fed.pump();
    let charlie_user = user("mimi://y.example/u/charlie");
    for d in &devices {
        let ended = ended_events(&mut fed, d);
        assert_eq!(ended.len(), 1, "{d}: {ended:?}");
        assert!(
            matches!(&ended[0], ClientEvent::RoomEnded { room: r, ended_by }
                if *r == room && *ended_by == charlie_user),
            "{d}: {ended:?}"
        );
        assert_eq!(fed.client(d).room_ended_by(&room), Some(&charlie_user));
    }

    // Nothing more happens in the room, and nothing tells of its end again.
    assert!(fed.c(&charlie).destroy_room(now, &room).is_err());
    assert!(fed.c(&alice).rename(now, &room, "again").is_err());
    fed.pump();
    for d in &devices {
        let ended = ended_events(&mut fed, d);
        assert!(ended.is_empty(), "{d}: {ended:?}");
    }

    // The sentinel: the other room goes on.
    let mut rng = fed.rng.clone();
    fed.c(&alice)
        .send_text(&mut rng, &other, "sentinel")
        .unwrap();
    fed.pump();
    assert_eq!(
        fed.transcript(&charlie, &other).last().map(String::as_str),
        Some("alice: sentinel")
    );
}
