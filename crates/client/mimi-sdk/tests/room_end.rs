//! Issue 18, ending a room (`canDestroyRoom`), through three real providers with SDK devices:
//! an ordinary member cannot end the room (refused before anything is sent; a sentinel still
//! arrives); the admin ends it, every member sees it ended (the room state and a `RoomEnded`
//! event), a member's later send is refused by its own client, an open join and the directory
//! listing stop, and a second room goes on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{THREE, member, providers, settle, texts, user};
use mimi_client_core::ClientEvent;
use mimi_room::Capability;
use mimi_room::components::RoleIndex;
use mimi_sdk::{Preset, RoomOptions};

#[test]
fn an_admin_ends_a_room_across_providers_and_nothing_more_happens_there() {
    let p = providers(&THREE);
    let (nodes, profiles) = (&p.nodes, &p.profiles);
    p.runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let xavier = user(&nodes[0], &profiles.join("xavier"), "xavier").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let mut carol = user(&nodes[2], &profiles.join("carol"), "carol").await;
        let mut dave = user(&nodes[1], &profiles.join("dave"), "dave").await;

        // An open, listed room and a second one that goes on.
        let room = alice.room_uri("club").unwrap();
        let options = RoomOptions {
            grants: vec![(RoleIndex(0), Capability::CAN_OPEN_JOIN)],
            discoverable: true,
        };
        alice
            .create_room_with(&room, Preset::Cooperative, &options)
            .await
            .unwrap();
        let other = alice.room_uri("other").unwrap();
        alice
            .create_room(&other, Preset::Cooperative)
            .await
            .unwrap();
        let invitees = [bob.user().clone(), carol.user().clone()];
        alice.invite(&room, &invitees).await.unwrap();
        alice.invite(&other, &invitees).await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| member(d, &room) && member(d, &other))
        })
        .await;
        assert_eq!(xavier.room_directory(None).await.unwrap().rooms.len(), 1);

        // Bob (ordinary_user) may not end it: refused before anything is sent.
        let err = bob.destroy_room(&room).await.unwrap_err();
        assert!(err.to_string().contains("canDestroyRoom"), "{err}");
        bob.send_text(&room, "bob's sentinel").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter()
                .all(|d| texts(d, &room).contains(&"bob's sentinel".to_owned()))
        })
        .await;
        assert_eq!(alice.engine().room_ended_by(&room), None);

        // Alice (super_admin) ends it; every member learns of it.
        bob.take_events();
        alice.destroy_room(&room).await.unwrap();
        let alice_user = alice.user().clone();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter()
                .all(|d| d.engine().room_ended_by(&room) == Some(&alice_user))
        })
        .await;
        assert!(
            bob.take_events().iter().any(|e| matches!(
                e,
                ClientEvent::RoomEnded { room: r, ended_by } if *r == room && *ended_by == alice_user
            )),
            "bob is told the room ended"
        );

        // A member's later send is refused by its own client, naming the end.
        let err = carol.send_text(&room, "too late").await.unwrap_err();
        assert!(err.to_string().contains("ended"), "{err}");
        // Alice can change nothing more either, not even end it twice.
        let err = alice.destroy_room(&room).await.unwrap_err();
        assert!(err.to_string().contains("ended"), "{err}");
        // The room left the directory, and an open join is refused by the hub.
        assert!(xavier.room_directory(None).await.unwrap().rooms.is_empty());
        let join = dave.join_as_newcomer(&room, None).await;
        assert!(join.is_err(), "{join:?}");
        assert!(!member(&dave, &room));

        // The sentinel in the room that goes on reaches everyone.
        alice.send_text(&other, "sentinel").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter()
                .all(|d| texts(d, &other).contains(&"sentinel".to_owned()))
        })
        .await;
        for d in [&alice, &bob, &carol] {
            assert!(!texts(d, &room).contains(&"too late".to_owned()));
        }
    });
}
