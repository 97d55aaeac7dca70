//! Attachment assets through real servers (protocol-06 §5.10 `proxyDownload`, our reading in
//! `mimi_ds::assets`): a member downloads an attachment of a real room through its own
//! provider, which fetches it from the uploader's provider over mutual TLS; a local account
//! that is not in the room, an asset of a provider nobody federates with, a URL that is no
//! asset and an asset larger than allowed are refused with their codes; a rogue member asking
//! for another room's blob and a rogue provider with no participant in the room are refused,
//! and a room message sent afterwards still arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::client_as;
use common::device::{Api, Device, settle};
use mimi_client_api::{ApiError, BlobStored, ErrorCode};
use mimi_federation_api::path::encode_param;
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;

async fn upload(
    device: &Device,
    room: &str,
    bytes: Vec<u8>,
) -> Result<BlobStored, (u16, ErrorCode)> {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/v1/blobs?room={}",
            device.api.base,
            encode_param(&room)
        ))
        .bearer_auth(&device.token)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap();
    if status == 201 {
        Ok(serde_json::from_slice(&body).unwrap())
    } else {
        let error: ApiError = serde_json::from_slice(&body).unwrap();
        Err((status, error.code))
    }
}

async fn download(
    device: &Device,
    url: &str,
    max: u64,
) -> Result<Vec<u8>, (u16, ErrorCode, String)> {
    let response = reqwest::Client::new()
        .get(format!(
            "{}/v1/assets?url={}&max_bytes={max}",
            device.api.base,
            encode_param(&url)
        ))
        .bearer_auth(&device.token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap();
    if status == 200 {
        Ok(body.to_vec())
    } else {
        let error: ApiError = serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{status}: {e}: {}", String::from_utf8_lossy(&body)));
        Err((status, error.code, error.message))
    }
}

fn noise(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn attachments_are_fetched_through_the_own_provider_for_members_only() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    // y accepts assets up to 8 KiB; x (where they are stored) up to its default.
    let nodes = common::federation_with(
        dir.path(),
        &["x.example", "y.example", "z.example"],
        |i, c| {
            if i == 1 {
                c.limits.max_blob_bytes = 8192;
            }
        },
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        for (api, user) in [(&x, "alice"), (&x, "dave"), (&y, "bob"), (&y, "carol")] {
            Device::register_user(api, user).await;
        }
        let mut alice = Device::register(&x, "alice", "phone", 3).await;
        let dave = Device::register(&x, "dave", "phone", 1).await;
        let mut bob = Device::register(&y, "bob", "phone", 3).await;
        let carol = Device::register(&y, "carol", "phone", 1).await;

        let room = alice.create_room("mimi://x.example/r/photos").await;
        let added = alice.add_users(&room, &[bob.user().clone()]).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;
        let room_text = room.to_string();

        // Uploads need a member's token: dave (x, not in the room) is refused.
        assert_eq!(
            upload(&dave, &room_text, vec![1, 2, 3]).await.unwrap_err(),
            (403, ErrorCode::Forbidden)
        );
        let photo = noise(5000, 1);
        let stored = upload(&alice, &room_text, photo.clone()).await.unwrap();
        assert!(
            stored.url.starts_with("https://x.example/v1/blobs/"),
            "{}",
            stored.url
        );

        // Happy paths: alice from her own provider, bob through y, which asks x over mTLS.
        assert_eq!(download(&alice, &stored.url, 5000).await.unwrap(), photo);
        assert_eq!(download(&bob, &stored.url, 5000).await.unwrap(), photo);

        // Not members: carol (a local account of y) and dave (of x) are refused.
        for outsider in [&carol, &dave] {
            let (status, code, message) = download(outsider, &stored.url, 5000).await.unwrap_err();
            assert_eq!((status, code), (403, ErrorCode::Forbidden), "{message}");
            assert!(message.contains("not a member"), "{message}");
        }

        // Unknown peer / arbitrary host: refused before anything is fetched.
        let evil = stored
            .url
            .replace("https://x.example/", "https://evil.example/");
        let (status, code, message) = download(&bob, &evil, 5000).await.unwrap_err();
        assert_eq!((status, code), (403, ErrorCode::Forbidden), "{message}");
        assert!(message.contains("federates"), "{message}");
        let raw_host = format!("{}/v1/blobs/{}", nodes[0].base_url(), stored.id);
        let (status, code, _) = download(&bob, &raw_host, 5000).await.unwrap_err();
        assert_eq!((status, code), (400, ErrorCode::BadRequest));
        let https_ip = raw_host.replace("http://", "https://");
        let (status, code, _) = download(&bob, &https_ip, 5000).await.unwrap_err();
        assert_eq!((status, code), (400, ErrorCode::BadRequest));

        // Oversized: more than the message names, or more than y accepts.
        let (status, code, _) = download(&bob, &stored.url, 4999).await.unwrap_err();
        assert_eq!((status, code), (413, ErrorCode::TooLarge));
        let big = noise(9000, 2);
        let big_stored = upload(&alice, &room_text, big.clone()).await.unwrap();
        let (status, code, _) = download(&bob, &big_stored.url, 9000).await.unwrap_err();
        assert_eq!((status, code), (413, ErrorCode::TooLarge));
        assert_eq!(download(&alice, &big_stored.url, 9000).await.unwrap(), big);

        // Sentinel: the room goes on.
        let sent = alice.send(&room, "sentinel after refused downloads").await;
        assert!(
            matches!(sent, Ok(SubmitOutcome::Accepted { .. })),
            "{sent:?}"
        );
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| {
                d.texts(&room)
                    .contains(&"sentinel after refused downloads".to_owned())
            })
        })
        .await;
    });
}

#[test]
fn rogue_members_and_providers_get_no_other_rooms_assets() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 3).await;
        let mut bob = Device::register(&y, "bob", "phone", 3).await;
        let shared = alice.create_room("mimi://x.example/r/shared").await;
        let private = alice.create_room("mimi://x.example/r/private").await;
        let added = alice.add_users(&shared, &[bob.user().clone()]).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.is_member(&shared))
        })
        .await;

        let secret = noise(3000, 3);
        let stored = upload(&alice, &private.to_string(), secret.clone())
            .await
            .unwrap();
        // A rogue member of the shared room names the private room's blob with the shared
        // room: not bound to it, so x has no such asset (404), and y relays that.
        let forged = format!(
            "https://x.example/v1/blobs/{}?room={}",
            stored.id,
            encode_param(&shared)
        );
        let (status, code, _) = download(&bob, &forged, 3000).await.unwrap_err();
        assert_eq!((status, code), (404, ErrorCode::NotFound));
        // Asking for the private room itself: bob is not a member there.
        let (status, code, _) = download(&bob, &stored.url, 3000).await.unwrap_err();
        assert_eq!((status, code), (403, ErrorCode::Forbidden));

        // A rogue provider: z has no participant in the shared room.
        let shared_blob = upload(&alice, &shared.to_string(), noise(100, 4))
            .await
            .unwrap();
        let z_to_x = client_as(&nodes[2].config, &nodes[0].config);
        let x_domain = nodes[0].domain.clone();
        let path = |url: &str| format!("/proxyDownload/{}", encode_param(&url));
        let r = z_to_x
            .get(&x_domain, &path(&shared_blob.url))
            .await
            .unwrap();
        assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
        assert!(String::from_utf8_lossy(&r.body).contains("no participant"));
        // Nor is x an open proxy: an asset of another provider is refused.
        let elsewhere = shared_blob
            .url
            .replace("https://x.example/", "https://y.example/");
        let r = z_to_x.get(&x_domain, &path(&elsewhere)).await.unwrap();
        assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
        // Malformed: not an https URL, not an asset URL.
        for bad in ["not-a-url", "https://x.example/etc/passwd"] {
            let r = z_to_x.get(&x_domain, &path(bad)).await.unwrap();
            assert_eq!(r.status, 400, "{bad}: {}", String::from_utf8_lossy(&r.body));
        }
        // y, with a participant, is served over the same route.
        let y_to_x = client_as(&nodes[1].config, &nodes[0].config);
        let r = y_to_x
            .get(&x_domain, &path(&shared_blob.url))
            .await
            .unwrap();
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.body, noise(100, 4));

        // Sentinel: the room goes on.
        let sent = bob.send(&shared, "sentinel after rogue downloads").await;
        assert!(
            matches!(sent, Ok(SubmitOutcome::Accepted { .. })),
            "{sent:?}"
        );
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| {
                d.texts(&shared)
                    .contains(&"sentinel after rogue downloads".to_owned())
            })
        })
        .await;
    });
}
