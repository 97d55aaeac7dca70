//! A user's devices through three real providers (issue 19 item 4): Bob lists his devices,
//! removes his laptop from his phone (it leaves every room by the phone's commits, its token
//! stops working, its KeyPackages are deleted so nobody can add it again), and logs a tablet
//! out (it leaves by SelfRemove, which another member commits). A device of another user
//! cannot be named. A sentinel message then reaches the remaining devices.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{federation, member, settle, texts, user};
use mimi_sdk::{Device, Preset, SdkError};

fn members(d: &Device, room: &mimi_types::RoomUri) -> usize {
    d.engine().group(room).unwrap().members().len()
}

#[test]
fn devices_are_listed_removed_and_logged_out() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(
        &dir.path().join("servers"),
        &["x.example", "y.example", "z.example"],
    );
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
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
