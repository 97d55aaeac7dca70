//! The SDK against real providers whose users need consent (`default_policy = "contacts"`):
//! inviting a stranger asks them for consent instead of failing silently, and says so; once
//! they accept, the same invite works and the room goes on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{federation_with, member, settle, texts, user};
use mimi_sdk::{Preset, SdkError};

#[test]
fn inviting_a_stranger_asks_for_consent_and_works_once_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation_with(
        &dir.path().join("servers"),
        &["x.example", "z.example"],
        |_, provider| provider.config.consent.default_policy = "contacts".into(),
    );
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let room = alice.room_uri("club").unwrap();
        alice.create_room(&room, Preset::Cooperative).await.unwrap();

        let err = alice
            .invite(&room, &[bob.user().clone()])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, SdkError::ConsentRequested { user } if user == bob.user()),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "asked bob@z.example for consent; invite again once they accept"
        );
        assert_eq!(alice.contacts().await.unwrap().asked.len(), 1);

        // The request reaches Bob through the providers; he accepts.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let contacts = bob.contacts().await.unwrap();
            if let Some(request) = contacts.requests.first() {
                assert_eq!(request.user, alice.user().to_string());
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{contacts:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let after = bob.accept_contact(alice.user(), None).await.unwrap();
        assert!(after.requests.is_empty());

        alice.invite(&room, &[bob.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| member(d, &room))
        })
        .await;
        alice.send_text(&room, "welcome, bob").await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| texts(d, &room) == ["welcome, bob"])
        })
        .await;

        // Blocking works from the SDK too: Alice can no longer add Bob anywhere.
        bob.block_contact(alice.user()).await.unwrap();
        let other = alice.room_uri("other").unwrap();
        alice
            .create_room(&other, Preset::Cooperative)
            .await
            .unwrap();
        let err = alice
            .invite(&other, &[bob.user().clone()])
            .await
            .unwrap_err();
        assert!(matches!(err, SdkError::ConsentRequested { .. }), "{err:?}");
    });
}
