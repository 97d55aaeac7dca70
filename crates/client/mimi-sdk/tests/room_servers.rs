//! Capabilities per server (issue 18 item 3) through three real providers: Alice's room on
//! x.example, Bob on y.example, Carol on z.example (whose users the room preauthorizes).
//! Alice denies z.example: Carol can neither be invited nor join by her preauthorization;
//! Alice makes y.example read-only: Bob still reads but cannot send; a deny of y.example
//! while Bob is in the room is refused; Bob (no `canChangeRoomMembershipStyle`) cannot change
//! the list. After every refusal a sentinel message from Alice reaches every member.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{THREE, alice_bob_carol, member, providers, settle, texts};
use mimi_room::Capability;
use mimi_room::components::{Claim, RoleIndex, ServerCapabilities};
use mimi_sdk::{Device, Preset, RoomOptions, ServerMode};
use mimi_types::{Domain, RoomUri};

async fn sentinel(alice: &mut Device, bob: &mut Device, room: &RoomUri, text: &str) {
    alice.send_text(room, text).await.unwrap();
    settle(&mut [alice, bob], |d| {
        d.iter()
            .all(|d| texts(d, room).last().map(String::as_str) == Some(text))
    })
    .await;
}

fn refused<T: std::fmt::Debug, E: std::fmt::Display>(result: Result<T, E>, needle: &str) {
    match result {
        Ok(v) => panic!("expected a refusal mentioning {needle:?}, got {v:?}"),
        Err(e) => assert!(e.to_string().contains(needle), "{needle:?} not in: {e}"),
    }
}

#[test]
fn a_denied_provider_cannot_come_in_and_a_read_only_one_cannot_send() {
    let p = providers(&THREE);
    p.runtime.block_on(async {
        let (mut alice, mut bob, mut carol) = alice_bob_carol(&p).await;
        let room = alice.room_uri("club").unwrap();
        let options = RoomOptions {
            grants: vec![(RoleIndex(2), Capability::CAN_JOIN_IF_PREAUTHORIZED)],
            discoverable: false,
        };
        alice
            .create_room_with(&room, Preset::Cooperative, &options)
            .await
            .unwrap();
        let bob_user = bob.user().clone();
        alice.invite(&room, &[bob_user]).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| member(d[1], &room)).await;
        let z: Domain = "z.example".parse().unwrap();
        let y: Domain = "y.example".parse().unwrap();
        alice
            .add_preauth(&room, vec![Claim::x509_issuer(&z)], RoleIndex(2))
            .await
            .unwrap();

        // Server-level membership, derived from the users.
        let access = alice.server_access(&room).unwrap();
        assert_eq!(access.mode, ServerMode::Open);
        let taking_part: Vec<&str> = access
            .servers
            .iter()
            .filter(|s| s.taking_part)
            .map(|s| s.domain.as_str())
            .collect();
        assert_eq!(taking_part, ["x.example", "y.example"]);

        // The rogue member: Bob may not change the list.
        refused(
            bob.change_server_access(&room, &z, false, ServerCapabilities::ALL)
                .await,
            "canChangeRoomMembershipStyle",
        );
        sentinel(&mut alice, &mut bob, &room, "after bob's attempt").await;

        // Alice denies z.example; every member's room state follows.
        alice
            .change_server_access(&room, &z, false, ServerCapabilities::ALL)
            .await
            .unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d[1].engine()
                .room(&room)
                .unwrap()
                .state()
                .server_capabilities(&z)
                == ServerCapabilities::NONE
        })
        .await;
        // Carol can be neither invited nor join by her provider's preauthorization.
        let carol_user = carol.user().clone();
        refused(alice.invite(&room, &[carol_user]).await, "z.example");
        sentinel(&mut alice, &mut bob, &room, "after carol's invite").await;
        assert!(carol.join_as_newcomer(&room, None).await.is_err());
        sentinel(&mut alice, &mut bob, &room, "after carol's join").await;
        carol.sync(50).await.unwrap();
        assert!(!member(&carol, &room));
        assert!(texts(&carol, &room).is_empty());

        // y.example made read-only: Bob's message is refused, he still reads Alice's.
        alice
            .change_server_access(&room, &y, false, ServerCapabilities::SUBMIT)
            .await
            .unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            !d[1]
                .engine()
                .room(&room)
                .unwrap()
                .state()
                .server_capabilities(&y)
                .contains(ServerCapabilities::SUBMIT)
        })
        .await;
        refused(bob.send_text(&room, "from a read-only provider").await, "");
        sentinel(&mut alice, &mut bob, &room, "bob reads this").await;
        assert!(
            !texts(&alice, &room)
                .iter()
                .any(|t| t == "from a read-only provider")
        );

        // Keeping y.example out while Bob is in the room is refused: remove him first.
        refused(
            alice
                .change_server_access(&room, &y, false, ServerCapabilities::JOIN)
                .await,
            "remove or ban",
        );
        sentinel(&mut alice, &mut bob, &room, "bob is still in").await;

        // Allowed again, Bob speaks; z.example allowed again, Carol joins.
        alice
            .change_server_access(&room, &y, true, ServerCapabilities::SUBMIT)
            .await
            .unwrap();
        alice
            .change_server_access(&room, &z, true, ServerCapabilities::ALL)
            .await
            .unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d[1].engine()
                .room(&room)
                .unwrap()
                .state()
                .server_capabilities(&y)
                == ServerCapabilities::ALL
        })
        .await;
        bob.send_text(&room, "back").await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter()
                .all(|d| texts(d, &room).last().map(String::as_str) == Some("back"))
        })
        .await;
        carol.join_as_newcomer(&room, None).await.unwrap();
        settle(&mut [&mut alice, &mut carol], |d| member(d[1], &room)).await;
        let access = alice.server_access(&room).unwrap();
        assert!(access.servers.iter().all(|s| s.taking_part));
    });
}
