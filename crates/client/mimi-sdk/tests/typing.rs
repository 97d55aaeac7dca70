//! Typing indicators between SDK devices on two providers: shown on the live stream in both
//! directions (hub to follower, follower to hub), never stored, and the conversation after
//! them is intact.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{federation, member, settle, texts, user};
use mimi_sdk::{ClientEvent, Device, Preset};
use mimi_types::RoomUri;

/// Listens on `device` (at most 10 s) until it shows `from` typing in `room`.
async fn sees_typing(device: &mut Device, room: &RoomUri, from: &Device) -> bool {
    for _ in 0..50 {
        for event in device.listen(200).await.unwrap() {
            if let ClientEvent::Typing(t) = event
                && &t.room == room
                && &t.user == from.user()
                && t.active
            {
                return true;
            }
        }
    }
    false
}

#[test]
fn typing_is_shown_live_and_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let room = alice.room_uri("typing").unwrap();
        alice.create_room(&room, Preset::Cooperative).await.unwrap();
        alice.invite(&room, &[bob.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| member(d[1], &room)).await;
        assert!(alice.is_streaming() && bob.is_streaming());
        let cursors = (alice.cursor(), bob.cursor());

        alice.typing(&room, true).await.unwrap();
        assert!(
            sees_typing(&mut bob, &room, &alice).await,
            "bob sees alice typing"
        );
        bob.typing(&room, true).await.unwrap();
        assert!(
            sees_typing(&mut alice, &room, &bob).await,
            "alice sees bob typing"
        );
        // Nothing stored: the cursors did not move, no message shows.
        assert_eq!((alice.cursor(), bob.cursor()), cursors);
        assert!(texts(&bob, &room).is_empty());

        // The conversation after typing is intact on both sides, and survives a restart.
        alice.send_text(&room, "after typing").await.unwrap();
        bob.send_text(&room, "me too").await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| texts(d, &room).len() == 2)
        })
        .await;
        let bob_file = bob.path().to_owned();
        drop(bob);
        let bob = Device::open(&bob_file).await.unwrap();
        assert_eq!(texts(&bob, &room), texts(&alice, &room));

        // Not a member: refused by the engine before anything is sent.
        let other = alice.room_uri("elsewhere").unwrap();
        assert!(
            alice
                .typing(&other, true)
                .await
                .unwrap_err()
                .is_not_member()
        );
    });
}
