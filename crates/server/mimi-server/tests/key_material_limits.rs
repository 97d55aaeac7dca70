//! Key-material limits through three real servers (RELIABILITY T13): the hub relays a request
//! naming a room only for a participant of that room; one requesting user may claim one target
//! user's KeyPackages only so often (the rest of its provider is not shut out); the last-resort
//! KeyPackage handed out is counted in the target provider's `/metrics`. Each refusal is
//! followed by an innocent participant's claim, which must succeed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use common::device::{Api, Device, now_s, settle};
use mimi_client_api::{ErrorCode, UploadKeyPackages};
use mimi_federation_api::update::UpdateOutcome;

async fn metrics(base: &str) -> BTreeMap<String, f64> {
    let api = Api::new(base.to_owned());
    let text = api
        .http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse::<f64>().unwrap())
        })
        .collect()
}

/// Uploads one last-resort KeyPackage of `device`.
async fn upload_last_resort(device: &Device) {
    let published = device
        .identity()
        .key_package(now_s(), 30 * 24 * 3600, true)
        .unwrap();
    let _: serde_json::Value = device
        .api
        .call(
            reqwest::Method::POST,
            "/v1/key-packages",
            Some(&device.token),
            Some(&UploadKeyPackages {
                key_packages: vec![published.message],
            }),
        )
        .await
        .unwrap();
}

#[test]
fn key_material_is_relayed_for_participants_only_and_limited_per_requester_and_target() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        let z = Api::new(nodes[2].base_url());
        for (api, user) in [(&x, "alice"), (&y, "mallory"), (&y, "ivy"), (&y, "eve")] {
            Device::register_user(api, user).await;
        }
        Device::register_user(&z, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 1).await;
        let mut mallory = Device::register(&y, "mallory", "phone", 1).await;
        let mut ivy = Device::register(&y, "ivy", "phone", 1).await;
        let eve = Device::register(&y, "eve", "phone", 1).await;
        let bob = Device::register(&z, "bob", "phone", 8).await;
        upload_last_resort(&bob).await;

        let room = alice.create_room("mimi://x.example/r/keys").await;
        let users = [mallory.user().clone(), ivy.user().clone()];
        assert!(matches!(
            alice.add_users(&room, &users).await,
            UpdateOutcome::Success { .. }
        ));
        settle(&mut [&mut alice, &mut mallory, &mut ivy], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;

        // Eve is in no room of x: the hub does not relay her request in the room's name.
        let refused = eve.key_material(&room, bob.user()).await.unwrap_err();
        assert_eq!(refused.status, 403, "{refused:?}");
        let error = refused.error.unwrap();
        assert_eq!(error.code, ErrorCode::Forbidden);
        assert!(
            error.message.contains("not a participant"),
            "{}",
            error.message
        );
        // Sentinel: a participant's claim succeeds.
        assert_eq!(ivy.key_material(&room, bob.user()).await.unwrap().len(), 1);
        // Nor where the target is a user of the hub's own provider, which answers for her
        // itself: the hub's checks come first there too, and her only KeyPackage stays.
        let refused = eve.key_material(&room, alice.user()).await.unwrap_err();
        assert_eq!(refused.status, 403, "{refused:?}");
        let error = refused.error.unwrap();
        assert!(
            error.message.contains("not a participant"),
            "{}",
            error.message
        );
        assert_eq!(
            ivy.key_material(&room, alice.user()).await.unwrap().len(),
            1
        );

        // Mallory, a participant, drains: 6 claims in 10 minutes, then 429.
        for n in 0..6 {
            let got = mallory.key_material(&room, bob.user()).await;
            assert_eq!(got.unwrap().len(), 1, "claim {n}");
        }
        let refused = mallory.key_material(&room, bob.user()).await.unwrap_err();
        assert_eq!(refused.status, 429, "{refused:?}");
        assert_eq!(refused.error.unwrap().code, ErrorCode::RateLimited);
        // Sentinel: another user of the same provider is not shut out.
        assert_eq!(ivy.key_material(&room, bob.user()).await.unwrap().len(), 1);

        // Bob's 8 fresh KeyPackages are gone (eve's refused request took none): the next claim
        // gets the last-resort one, counted at z.
        let before = metrics(&nodes[2].base_url()).await;
        assert_eq!(
            before
                .get("mimi_key_material_last_resort_total")
                .copied()
                .unwrap_or(-1.0),
            0.0,
            "{before:#?}"
        );
        assert_eq!(
            alice.key_material(&room, bob.user()).await.unwrap().len(),
            1
        );
        let after = metrics(&nodes[2].base_url()).await;
        assert_eq!(
            after.get("mimi_key_material_last_resort_total").copied(),
            Some(1.0),
            "{after:#?}"
        );
    });
}
