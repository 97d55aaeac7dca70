//! A user's devices through three real providers (issue 19 item 4): Bob lists his devices,
//! removes his laptop from his phone (it leaves every room by the phone's commits, its token
//! stops working, its KeyPackages are deleted so nobody can add it again), and logs a tablet
//! out (it leaves by SelfRemove, which another member commits). A device of another user
//! cannot be named. A sentinel message then reaches the remaining devices.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{THREE, member, providers, settle, texts, user};
use mimi_sdk::{Device, Preset, SdkError};

fn members(d: &Device, room: &mimi_types::RoomUri) -> usize {
    d.engine().group(room).unwrap().members().len()
}

#[test]
fn devices_are_listed_removed_and_logged_out() {
    let p = providers(&THREE);
    let (nodes, profiles) = (&p.nodes, &p.profiles);
    p.runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut phone = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let room = alice.room_uri("club").unwrap();
        alice.create_room(&room, Preset::Cooperative).await.unwrap();
        alice.invite(&room, &[phone.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut phone], |d| member(d[1], &room)).await;
        let other = |id: &str| {
            let path = profiles.join(format!("bob-{id}"));
            let server = nodes[1].base_url();
            let id = id.to_owned();
            let room = room.clone();
            async move {
                let mut d = Device::register_device(
                    &path,
                    &mimi_sdk::Credentials {
                        server,
                        user_id: "bob".into(),
                        password: "bob-password".into(),
                        device_id: id,
                        server_cert: None,
                    },
                )
                .await
                .unwrap();
                d.join_external(&room).await.unwrap();
                d
            }
        };
        let mut laptop = other("laptop").await;
        let mut tablet = other("tablet").await;
        settle(
            &mut [&mut alice, &mut phone, &mut laptop, &mut tablet],
            |d| d.iter().all(|d| members(d, &room) == 4),
        )
        .await;

        let list = phone.devices().await.unwrap();
        let names: Vec<(&str, bool)> = list
            .devices
            .iter()
            .map(|d| (d.client.as_str(), d.current))
            .collect();
        assert_eq!(
            names,
            [
                ("mimi://y.example/d/bob/laptop", false),
                ("mimi://y.example/d/bob/phone", true),
                ("mimi://y.example/d/bob/tablet", false),
            ]
        );
        assert!(list.devices[0].rooms.contains(&room.to_string()));

        // Refused: this device itself, and a device id the user does not have.
        let err = phone.remove_device("phone").await.unwrap_err();
        assert!(matches!(err, SdkError::Input(_)), "{err}");
        let err = phone.remove_device("desk").await.unwrap_err();
        assert!(err.to_string().contains("no device"), "{err}");

        let removed = phone.remove_device("laptop").await.unwrap();
        assert_eq!(removed.rooms, std::slice::from_ref(&room));
        assert!(removed.not_removed.is_empty());
        assert!(removed.key_packages_deleted > 0, "{removed:?}");
        settle(&mut [&mut alice, &mut phone, &mut tablet], |d| {
            d.iter().all(|d| members(d, &room) == 3)
        })
        .await;
        // Its token is revoked: it can neither fetch nor send.
        assert!(laptop.sync(0).await.is_err());
        // Its KeyPackages are gone: the provider holds none for it.
        let list = phone.devices().await.unwrap();
        assert_eq!(list.devices.len(), 2);

        // The tablet logs out: it proposes leaving, a member commits.
        let left = tablet.logout().await.unwrap();
        assert_eq!(left, std::slice::from_ref(&room));
        settle(&mut [&mut alice, &mut phone], |d| {
            d.iter().all(|d| members(d, &room) == 2)
        })
        .await;
        assert!(tablet.sync(0).await.is_err());
        assert!(phone.engine().room(&room).unwrap().is_active());

        // The sentinel: the remaining devices go on.
        alice.send_text(&room, "sentinel").await.unwrap();
        settle(&mut [&mut alice, &mut phone], |d| {
            d.iter().all(|d| texts(d, &room) == ["sentinel"])
        })
        .await;
    });
}

/// Alice's phone is her only device in a room her provider (x.example) hosts. Removing it from
/// her laptop, which is in no room, leaves nobody of Alice's to commit: the hub, as the room's
/// policy enforcer, proposes the removal, and Bob (an ordinary user, without `canKick`)
/// commits it on his next sync. The phone is out, its token revoked, and the room goes on.
#[test]
fn the_hub_removes_a_revoked_device_no_other_device_could() {
    let p = providers(&THREE);
    let (nodes, profiles) = (&p.nodes, &p.profiles);
    p.runtime.block_on(async {
        let mut phone = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let mut carol = user(&nodes[2], &profiles.join("carol"), "carol").await;
        let room = phone.room_uri("club").unwrap();
        phone.create_room(&room, Preset::Cooperative).await.unwrap();
        phone
            .invite(&room, &[bob.user().clone(), carol.user().clone()])
            .await
            .unwrap();
        settle(&mut [&mut phone, &mut bob, &mut carol], |d| {
            d.iter().all(|d| member(d, &room) && members(d, &room) == 3)
        })
        .await;
        // The room lists the hub's service user, clientless, in the policy-enforcer role.
        let enforcer: mimi_types::UserUri = "mimi://x.example/u/_policy-enforcer".parse().unwrap();
        assert!(
            bob.engine()
                .group(&room)
                .unwrap()
                .room()
                .participants()
                .participants
                .iter()
                .any(|p| p.user == enforcer),
            "the hub's service user is a participant"
        );
        // Nobody can register as that service user.
        let err = Device::register_account_pinned(
            &nodes[0].base_url(),
            None,
            "_policy-enforcer",
            "a-long-password",
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("reserved"), "{err}");

        let laptop = Device::register_device(
            &profiles.join("alice-laptop"),
            &mimi_sdk::Credentials {
                server: nodes[0].base_url(),
                user_id: "alice".into(),
                password: "alice-password".into(),
                device_id: "laptop".into(),
                server_cert: None,
            },
        )
        .await
        .unwrap();
        let mut laptop = laptop;
        let removed = laptop
            .remove_device(phone.client_uri().device_id().as_ref())
            .await
            .unwrap();
        assert!(
            removed.rooms.is_empty(),
            "the laptop shares no room with it"
        );
        assert_eq!(removed.hub_removals, std::slice::from_ref(&room));
        assert!(removed.not_removed.is_empty(), "{removed:?}");

        // Bob's and Carol's devices see the hub's proposal; one of them commits it.
        settle(&mut [&mut bob, &mut carol], |d| {
            d.iter().all(|d| members(d, &room) == 2)
        })
        .await;
        let gone = phone.client_uri().clone();
        assert!(
            bob.engine()
                .group(&room)
                .unwrap()
                .members()
                .iter()
                .all(|m| m.client != gone)
        );
        assert!(phone.sync(0).await.is_err(), "its token is revoked");

        // The sentinel: the room goes on without it.
        bob.send_text(&room, "sentinel").await.unwrap();
        settle(&mut [&mut bob, &mut carol], |d| {
            texts(d[1], &room) == ["sentinel"]
        })
        .await;
    });
}
