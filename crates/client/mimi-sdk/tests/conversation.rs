//! The SDK against three real providers: register, create, invite across providers,
//! send/reply/react/edit/delete, leave; and the errors a user meets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{THREE, alice_bob_carol, federation, member, providers, settle, texts, user};
use mimi_client_core::ClientError;
use mimi_sdk::{Device, FileInfo, Preset, SdkError};
use mimi_types::UserUri;

#[test]
fn a_conversation_across_three_providers() {
    let p = providers(&THREE);
    p.runtime.block_on(async {
        let (mut alice, mut bob, mut carol) = alice_bob_carol(&p).await;

        let room = alice.room_uri("club").unwrap();
        alice.create_room(&room, Preset::Cooperative).await.unwrap();
        alice
            .invite(&room, &[bob.user().clone(), carol.user().clone()])
            .await
            .unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| member(d, &room))
        })
        .await;
        assert_eq!(bob.history(&room).unwrap().members().len(), 3);
        // The invitees' KeyPackages were consumed and topped up again when they joined.
        for d in [&mut bob, &mut carol] {
            assert_eq!(d.top_up_key_packages().await.unwrap(), 0);
        }
        // The providers offer the WebSocket feed over plain HTTP: the devices stream.
        assert!(alice.is_streaming() && bob.is_streaming() && carol.is_streaming());

        let hello = alice.send_text(&room, "hello from x").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| texts(d, &room).len() == 1)
        })
        .await;
        let reply = bob.reply(&room, hello, "hi from y").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| texts(d, &room).len() == 2)
        })
        .await;
        carol.react(&room, hello, "👍").await.unwrap();
        alice
            .edit(&room, hello, "hello from x (edited)")
            .await
            .unwrap();
        bob.delete(&room, reply).await.unwrap();
        carol.send_markdown(&room, "**bold** from z").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| {
                let v = d.history(&room).unwrap();
                v.messages().len() == 3
                    && v.messages()[0].edits == 1
                    && v.messages()[1].deleted
                    && !v.messages()[0].reactions.is_empty()
            })
        })
        .await;
        let expected = vec![
            "hello from x (edited)".to_owned(),
            "<deleted>".to_owned(),
            "**bold** from z".to_owned(),
        ];
        for d in [&alice, &bob, &carol] {
            assert_eq!(texts(d, &room), expected, "{}", d.client_uri());
            let v = d.history(&room).unwrap();
            assert!(v.messages()[2].body.markdown);
            let reactors = &v.messages()[0].reactions["👍"];
            assert!(reactors.contains(carol.user()));
            assert!(v.rejections().is_empty(), "{:?}", v.rejections());
        }

        // Carol leaves: her proposals are committed by another member's device.
        carol.leave(&room).await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            !member(d[2], &room)
                && d[0].history(&room).unwrap().members().len() == 2
                && d[1].history(&room).unwrap().members().len() == 2
        })
        .await;
        alice.send_text(&room, "carol left").await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| texts(d, &room).len() == 4)
        })
        .await;
        carol.sync(200).await.unwrap();
        assert_eq!(
            texts(&carol, &room).len(),
            3,
            "carol reads nothing after leaving"
        );
        assert!(
            carol
                .send_text(&room, "still here?")
                .await
                .unwrap_err()
                .is_not_member()
        );
    });
}

#[test]
fn errors_name_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let room = alice.room_uri("rules").unwrap();

        // Not a member (yet).
        let e = alice.send_text(&room, "hi").await.unwrap_err();
        assert!(e.is_not_member(), "{e}");

        alice.create_room(&room, Preset::Cooperative).await.unwrap();

        // Unknown user, on this provider and on another.
        for who in ["mimi://x.example/u/nobody", "mimi://y.example/u/nobody"] {
            let e = alice
                .invite(&room, &[UserUri::parse(who).unwrap()])
                .await
                .unwrap_err();
            assert!(matches!(e, SdkError::UnknownUser { .. }), "{who}: {e}");
        }

        alice.invite(&room, &[bob.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| member(d[1], &room)).await;

        // Not allowed by role: an ordinary member may not ban.
        let e = bob.ban(&room, alice.user()).await.unwrap_err();
        assert!(
            matches!(e, SdkError::Client(ClientError::NotAllowed { .. })),
            "{e}"
        );

        // A room the provider refuses to create (hosted elsewhere) is not kept on the device,
        // neither in memory nor in its file.
        let foreign = mimi_types::RoomUri::parse("mimi://y.example/r/foreign").unwrap();
        let e = alice
            .create_room(&foreign, Preset::Cooperative)
            .await
            .unwrap_err();
        assert_eq!(
            e.api_code(),
            Some(mimi_client_api::ErrorCode::BadRequest),
            "{e}"
        );
        assert!(alice.engine().room(&foreign).is_none());
        assert!(
            alice.take_events().iter().all(
                |ev| !matches!(ev, mimi_sdk::ClientEvent::Joined { room } if *room == foreign)
            )
        );
        alice.sync(0).await.unwrap();
        let reopened = Device::open(alice.path()).await.unwrap();
        assert!(reopened.engine().room(&foreign).is_none());
        reopened.close().await;

        // A file to a room this device is not in is refused before anything is uploaded.
        let elsewhere = alice.room_uri("elsewhere").unwrap();
        let e = alice
            .send_file(&elsewhere, b"file", &FileInfo::default())
            .await
            .unwrap_err();
        assert!(e.is_not_member(), "{e}");

        // Wrong password when adding a device.
        let e = Device::register_device(
            &profiles.join("alice2"),
            &mimi_sdk::Credentials {
                server: nodes[0].base_url(),
                user_id: "alice".into(),
                password: "wrong-password".into(),
                device_id: "tablet".into(),
                server_cert: None,
            },
        )
        .await
        .unwrap_err();
        assert_eq!(
            e.api_code(),
            Some(mimi_client_api::ErrorCode::WrongPassword),
            "{e}"
        );

        // Unreachable server: the message names the URL.
        let e = Device::register_account("http://127.0.0.1:9", "zed", "zed-password")
            .await
            .unwrap_err();
        assert!(matches!(e, SdkError::Unreachable { .. }), "{e}");
        assert!(e.to_string().contains("http://127.0.0.1:9"), "{e}");

        // Opening a profile with no device.
        let e = Device::open(&profiles.join("none.sqlite"))
            .await
            .unwrap_err();
        assert!(matches!(e, SdkError::Profile(_)), "{e}");
    });
}

#[test]
fn a_new_device_joins_rooms_here_and_at_a_remote_hub() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let remote = alice.room_uri("at-x").unwrap();
        let local = bob.room_uri("at-y").unwrap();
        alice
            .create_room(&remote, Preset::Cooperative)
            .await
            .unwrap();
        alice.invite(&remote, &[bob.user().clone()]).await.unwrap();
        bob.create_room(&local, Preset::Cooperative).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| member(d[1], &remote)).await;

        // Bob logs in on a laptop; it joins both rooms by external commit.
        let mut laptop = Device::register_device(
            &profiles.join("bob-laptop"),
            &mimi_sdk::Credentials {
                server: nodes[1].base_url(),
                user_id: "bob".into(),
                password: "bob-password".into(),
                device_id: "laptop".into(),
                server_cert: None,
            },
        )
        .await
        .unwrap();
        laptop.join_external(&remote).await.unwrap();
        laptop.join_external(&local).await.unwrap();
        assert!(member(&laptop, &remote) && member(&laptop, &local));

        // Alice writes after the join: both of Bob's devices read it; the laptop answers.
        settle(&mut [&mut alice, &mut bob], |d| {
            d[0].history(&remote).unwrap().epoch() == d[1].history(&remote).unwrap().epoch()
                && d[1].history(&remote).unwrap().members()[1].clients.len() == 2
        })
        .await;
        alice.send_text(&remote, "hello both").await.unwrap();
        laptop.send_text(&remote, "from the laptop").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut laptop], |d| {
            d.iter().all(|d| texts(d, &remote).len() == 2)
        })
        .await;
        for d in [&alice, &bob, &laptop] {
            assert_eq!(
                texts(d, &remote),
                vec!["hello both".to_owned(), "from the laptop".to_owned()],
                "{}",
                d.client_uri()
            );
        }
    });
}
