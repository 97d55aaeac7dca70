//! A message the room's hub did not accept is never reported as sent (issue 20): a device
//! that has not yet processed another member's commit gets `SdkError::Queued` (the hub found
//! the message too old), and once it catches up, `sync` sends the queued message, which the
//! other member then reads. Two real providers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{federation, member, settle, texts, user};
use mimi_client_core::HubRefusal;
use mimi_sdk::{Preset, SdkError};

#[test]
fn a_message_the_hub_did_not_accept_is_queued_not_sent() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let room = alice.room_uri("behind").unwrap();
        alice.create_room(&room, Preset::Cooperative).await.unwrap();
        alice.invite(&room, &[bob.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| member(d, &room))
        })
        .await;

        // Bob changes the room (a commit); Alice's device has not seen it yet.
        bob.rename(&room, "renamed").await.unwrap();
        let err = alice.send_text(&room, "written behind").await.unwrap_err();
        assert!(
            matches!(
                &err,
                SdkError::Queued { room: r, refusal: HubRefusal::EpochTooOld { .. } } if *r == room
            ),
            "{err:?}"
        );
        assert!(err.to_string().starts_with("not sent"), "{err}");
        assert!(texts(&bob, &room).is_empty());

        // Alice's device catches up; its sync sends the queued message, and Bob reads it.
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter()
                .all(|d| texts(d, &room) == vec!["written behind".to_owned()])
        })
        .await;
    });
}
