//! Direct messages through real providers (issue 18 item 7): `open_direct` makes one
//! fixed-membership room per pair with every device of both users; asking again, from either
//! side, returns the same room; nobody can add a third user, remove the other or lift the fixed
//! membership, and the room goes on (a sentinel arrives). A stranger is asked for consent
//! first, as for an invite, and their own `open_direct` then joins the room that is waiting.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{federation, federation_with, member, settle, texts, user};
use mimi_sdk::{Device, PolicySetting, SdkError};

async fn second_device(
    node: &common::Node,
    path: &std::path::Path,
    user: &str,
    id: &str,
) -> Device {
    Device::register_device(
        path,
        &mimi_sdk::Credentials {
            server: node.base_url(),
            user_id: user.into(),
            password: format!("{user}-password"),
            device_id: id.into(),
            server_cert: None,
        },
    )
    .await
    .unwrap()
}

#[test]
fn one_direct_room_per_pair_with_every_device_and_fixed_membership() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "z.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut cathy = user(&nodes[0], &profiles.join("cathy"), "cathy").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let mut tablet =
            second_device(&nodes[1], &profiles.join("bob-tablet"), "bob", "tablet").await;

        let room = alice.open_direct(bob.user()).await.unwrap();
        assert_eq!(room.hub_domain(), alice.domain());
        assert!(room.to_string().contains("/r/dm-"), "{room}");
        settle(&mut [&mut alice, &mut bob, &mut tablet], |d| {
            d.iter().all(|d| member(d, &room))
        })
        .await;
        let view = bob.history(&room).unwrap();
        assert_eq!(view.direct_peer(), Some(alice.user()));
        assert!(view.state().base_policy().fixed_membership);

        // At most one per pair: again from Alice, and from both of Bob's devices.
        assert_eq!(alice.open_direct(bob.user()).await.unwrap(), room);
        assert_eq!(bob.open_direct(alice.user()).await.unwrap(), room);
        assert_eq!(tablet.open_direct(alice.user()).await.unwrap(), room);
        // Alice's new laptop is in no room: its creation of the pair's room is refused by the
        // hub as an existing room id, and it joins that room as a device of a listed user.
        let mut laptop =
            second_device(&nodes[0], &profiles.join("alice-laptop"), "alice", "laptop").await;
        assert_eq!(laptop.open_direct(bob.user()).await.unwrap(), room);
        assert!(member(&laptop, &room));
        settle(&mut [&mut alice, &mut bob, &mut tablet, &mut laptop], |d| {
            d.iter()
                .all(|d| d.engine().group(&room).unwrap().members().len() == 4)
        })
        .await;
        // Cathy's direct room with Bob is another room.
        let other = cathy.open_direct(bob.user()).await.unwrap();
        assert_ne!(other, room);
        // Nobody messages themselves privately.
        assert!(matches!(
            alice.open_direct(&alice.user().clone()).await,
            Err(SdkError::Input(_))
        ));

        // A rogue member: Bob cannot add Cathy, remove Alice, leave, or lift the fixed
        // membership; his device refuses each before anything is sent.
        let err = bob
            .invite(&room, &[cathy.user().clone()])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("fixed membership"), "{err}");
        let err = bob
            .remove(&room, &[alice.user().clone()])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("fixed membership"), "{err}");
        let err = bob
            .set_policy(&room, &["persistent=off".parse::<PolicySetting>().unwrap()])
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("canChangeRoomMembershipStyle"),
            "{err}"
        );
        let err = bob.leave(&room).await.unwrap_err();
        assert!(err.to_string().contains("fixed membership"), "{err}");
        assert!(!member(&cathy, &room));

        // The sentinel: the room goes on, on every device of both users.
        bob.send_text(&room, "sentinel").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut tablet, &mut laptop], |d| {
            d.iter().all(|d| texts(d, &room) == ["sentinel"])
        })
        .await;
        assert_eq!(
            alice.history(&room).unwrap().members().len(),
            2,
            "Alice and Bob, nobody else"
        );
    });
}

#[test]
fn a_stranger_is_asked_for_consent_and_their_own_dm_joins_the_waiting_room() {
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

        let err = alice.open_direct(bob.user()).await.unwrap_err();
        assert!(
            matches!(&err, SdkError::ConsentRequested { user } if user == bob.user()),
            "{err:?}"
        );
        // The room waits with Bob listed and none of his devices.
        let room = alice.engine().direct_room_with(bob.user()).unwrap();
        assert_eq!(alice.engine().direct_peer_missing(&room), Some(bob.user()));

        // The request reaches Bob; he accepts it and opens his direct room with Alice: his
        // device joins the waiting room (he is listed in it) instead of making another.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let contacts = bob.contacts().await.unwrap();
            if let Some(request) = contacts.requests.first() {
                assert_eq!(request.user, alice.user().to_string());
                assert_eq!(request.room.as_deref(), Some(room.to_string().as_str()));
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{contacts:#?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bob.accept_contact(alice.user(), Some(&room)).await.unwrap();
        assert_eq!(bob.open_direct(alice.user()).await.unwrap(), room);
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| member(d, &room))
        })
        .await;
        // Alice's next `open_direct` finds Bob's device in: nothing more to add.
        assert_eq!(alice.open_direct(bob.user()).await.unwrap(), room);
        alice.send_text(&room, "hello bob").await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| texts(d, &room) == ["hello bob"])
        })
        .await;
    });
}
