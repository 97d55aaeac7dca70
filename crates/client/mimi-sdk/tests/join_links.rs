//! Issue 18, "every way in": join links through three real providers. Alice (x.example, the
//! hub) makes a one-use link in a strictly administered room; Bob (y.example, a provider with
//! nobody in the room yet) joins by it and talks; the used-up link, an expired one and a
//! revoked one are each refused by the hub (`notAuthorized`), as is an open join into a room
//! that takes nobody, and after each refusal a sentinel message still reaches the members.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{THREE, alice_bob_carol, member, providers, settle, texts};
use mimi_room::components::RoleIndex;
use mimi_sdk::{Device, Preset, SdkError};
use mimi_types::RoomUri;

fn refused(result: Result<(), SdkError>) -> String {
    match result {
        Err(SdkError::Protocol { reason, .. }) => {
            assert!(reason.contains("NotAuthorized"), "{reason}");
            reason
        }
        other => panic!("expected the hub's notAuthorized, got {other:?}"),
    }
}

async fn sentinel(alice: &mut Device, bob: &mut Device, room: &RoomUri, text: &str) {
    alice.send_text(room, text).await.unwrap();
    settle(&mut [alice, bob], |d| {
        d.iter()
            .all(|d| texts(d, room).last().map(String::as_str) == Some(text))
    })
    .await;
}

#[test]
fn join_links_let_newcomers_in_and_refused_links_change_nothing() {
    let p = providers(&THREE);
    p.runtime.block_on(async {
        let (mut alice, mut bob, mut carol) = alice_bob_carol(&p).await;
        let room = alice.room_uri("club").unwrap();
        alice
            .create_room(&room, Preset::StrictlyAdministered)
            .await
            .unwrap();

        // A one-use link for ordinary users; Bob joins by it.
        let link = alice
            .create_join_link(&room, RoleIndex(2), 0, 1)
            .await
            .unwrap();
        let text = mimi_client_core::format_join_link(&room, &link.code);
        let (parsed_room, code) = mimi_client_core::parse_join_link(&text).unwrap();
        assert_eq!(parsed_room, room);
        assert_eq!(code.as_deref(), Some(&link.code[..]));
        assert_eq!(alice.join_links(&room).unwrap().len(), 1);
        bob.join_as_newcomer(&room, code.as_deref()).await.unwrap();
        let bob_user = bob.user().clone();
        settle(&mut [&mut alice, &mut bob], |d| {
            member(d[1], &room)
                && d[0]
                    .engine()
                    .room(&room)
                    .unwrap()
                    .state()
                    .role_of(&bob_user)
                    == RoleIndex(2)
        })
        .await;
        // The link's one use is gone, for Alice as for the hub.
        assert!(alice.join_links(&room).unwrap().is_empty());
        bob.send_text(&room, "in by link").await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| texts(d, &room) == ["in by link"])
        })
        .await;

        // Used up.
        refused(carol.join_as_newcomer(&room, code.as_deref()).await);
        sentinel(&mut alice, &mut bob, &room, "after the used-up link").await;
        assert!(!member(&carol, &room));

        // Expired (a link that expired long ago).
        let old = alice
            .create_join_link(&room, RoleIndex(2), 1, 0)
            .await
            .unwrap();
        refused(carol.join_as_newcomer(&room, Some(&old.code)).await);
        sentinel(&mut alice, &mut bob, &room, "after the expired link").await;

        // Revoked.
        let revoked = alice
            .create_join_link(&room, RoleIndex(2), 0, 0)
            .await
            .unwrap();
        let index = alice
            .join_links(&room)
            .unwrap()
            .into_iter()
            .find(|(_, t)| t.code_digest == mimi_mls::join_code_digest(&revoked.code))
            .unwrap()
            .0;
        alice.revoke_join_link(&room, index).await.unwrap();
        refused(carol.join_as_newcomer(&room, Some(&revoked.code)).await);
        sentinel(&mut alice, &mut bob, &room, "after the revoked link").await;

        // A made-up code, and an open join into a room that takes nobody without a code.
        refused(carol.join_as_newcomer(&room, Some(b"guessed")).await);
        refused(carol.join_as_newcomer(&room, None).await);
        sentinel(&mut alice, &mut bob, &room, "after the guesses").await;
        carol.sync(50).await.unwrap();
        assert!(!member(&carol, &room));
        assert!(texts(&carol, &room).is_empty());

        // Bob, an ordinary user, may not make links.
        let err = bob
            .create_join_link(&room, RoleIndex(2), 0, 0)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("canChangeRoomMembershipStyle"),
            "{err}"
        );
        sentinel(&mut alice, &mut bob, &room, "after bob's attempt").await;
    });
}
