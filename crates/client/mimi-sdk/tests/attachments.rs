//! Attachments end to end: encrypted, uploaded to the sender's provider for the room, downloaded
//! by a member on another provider through its own provider (which fetches it over mutual TLS
//! with proxyDownload), checked against the message's hash; an attachment the room's upload
//! domains refuse is not uploaded at all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{federation, member, settle, user};
use mimi_client_core::ClientError;
use mimi_room::components::RoleIndex;
use mimi_room::{Capability, Denied};
use mimi_sdk::{FileInfo, PolicySetting, Preset, RoomOptions, SdkError};
use sqlx::sqlite::SqliteConnectOptions;

/// Overwrites the one stored blob (of one chunk) of the provider in `data_dir` with `bytes`,
/// as a provider serving other bytes would.
async fn damage_blobs(data_dir: &std::path::Path, bytes: &[u8]) {
    let options = SqliteConnectOptions::new().filename(data_dir.join("accounts.sqlite3"));
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let done = sqlx::query("UPDATE blob_chunks SET bytes = $1")
        .bind(bytes)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    let done = sqlx::query("UPDATE blobs SET size = $1")
        .bind(bytes.len() as i64)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1);
    pool.close().await;
}

#[test]
fn a_file_crosses_providers_and_a_damaged_blob_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let room = alice.room_uri("files").unwrap();
        alice.create_room(&room, Preset::Cooperative).await.unwrap();
        alice.invite(&room, &[bob.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| member(d[1], &room)).await;

        let file: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let info = FileInfo {
            filename: "numbers.bin".into(),
            content_type: "application/octet-stream".into(),
            description: "a test file".into(),
        };
        let id = alice.send_file(&room, &file, &info).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d[1].history(&room)
                .unwrap()
                .message(&id)
                .is_some_and(|m| m.body.attachments.len() == 1)
        })
        .await;
        let shown = &bob
            .history(&room)
            .unwrap()
            .message(&id)
            .unwrap()
            .body
            .attachments[0];
        assert_eq!(shown.filename, "numbers.bin");
        // The URL names the uploader's provider and the room: Bob (on y) gets it through y.
        assert!(
            shown.url.starts_with("https://x.example/v1/blobs/"),
            "{}",
            shown.url
        );
        assert_eq!(
            shown.size,
            file.len() as u64 + 16,
            "ciphertext = file + GCM tag"
        );
        let got = bob.download(&room, id, 0).await.unwrap();
        assert_eq!(got.as_slice(), file.as_slice());
        let own = alice.download(&room, id, 0).await.unwrap();
        assert_eq!(own.as_slice(), file.as_slice());

        // No such attachment.
        let e = bob.download(&room, id, 1).await.unwrap_err();
        assert!(
            matches!(e, SdkError::Client(ClientError::UnknownMessage { .. })),
            "{e}"
        );

        // The provider's copy is damaged (same length, one byte flipped): the hash in the
        // message refuses it.
        let mut damaged = stored_blob(&nodes[0].config.data_dir()).await;
        damaged[10] ^= 1;
        damage_blobs(&nodes[0].config.data_dir(), &damaged).await;
        let e = bob.download(&room, id, 0).await.unwrap_err();
        assert!(
            matches!(e, SdkError::Client(ClientError::Attachment(_))),
            "{e}"
        );
        assert!(e.to_string().contains("hash"), "{e}");
        // Truncated: refused by the size the message names.
        damage_blobs(&nodes[0].config.data_dir(), &damaged[..100]).await;
        let e = bob.download(&room, id, 0).await.unwrap_err();
        assert!(
            matches!(e, SdkError::Client(ClientError::Attachment(_))),
            "{e}"
        );
    });
}

/// The stored bytes of the one blob (of one chunk) of the provider in `data_dir`.
async fn stored_blob(data_dir: &std::path::Path) -> Vec<u8> {
    let options = SqliteConnectOptions::new().filename(data_dir.join("accounts.sqlite3"));
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let (bytes,): (Vec<u8>,) = sqlx::query_as("SELECT bytes FROM blob_chunks")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    bytes
}

/// The device never fetches from the host its uploader's device used: Mallory's device knows
/// her provider as "localhost", a host Bob's device does not know, yet the asset URL names her
/// provider's domain and Bob's device gets the file through its own provider.
#[test]
fn an_attachment_is_fetched_through_the_own_provider_whatever_host_the_uploader_used() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let port = nodes[0].client_addr.port();
        let mallory_base = format!("http://localhost:{port}");
        mimi_sdk::Device::register_account(&mallory_base, "mallory", "mallory-password")
            .await
            .unwrap();
        let mut mallory = mimi_sdk::Device::register_device(
            &profiles.join("mallory"),
            &mimi_sdk::Credentials {
                server: mallory_base.clone(),
                user_id: "mallory".into(),
                password: "mallory-password".into(),
                device_id: "phone".into(),
                server_cert: None,
            },
        )
        .await
        .unwrap();
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let room = mallory.room_uri("files").unwrap();
        mallory
            .create_room(&room, Preset::Cooperative)
            .await
            .unwrap();
        mallory.invite(&room, &[bob.user().clone()]).await.unwrap();
        settle(&mut [&mut mallory, &mut bob], |d| member(d[1], &room)).await;
        let info = FileInfo {
            filename: "a.bin".into(),
            content_type: "application/octet-stream".into(),
            description: String::new(),
        };
        let id = mallory.send_file(&room, b"hello", &info).await.unwrap();
        settle(&mut [&mut mallory, &mut bob], |d| {
            d[1].history(&room).unwrap().message(&id).is_some()
        })
        .await;
        let got = bob.download(&room, id, 0).await.unwrap();
        assert_eq!(got.as_slice(), b"hello");
        let own = mallory.download(&room, id, 0).await.unwrap();
        assert_eq!(own.as_slice(), b"hello");
        let id = bob.send_file(&room, b"world", &info).await.unwrap();
        settle(&mut [&mut mallory, &mut bob], |d| {
            d[1].history(&room).unwrap().message(&id).is_some()
        })
        .await;
        let got = bob.download(&room, id, 0).await.unwrap();
        assert_eq!(got.as_slice(), b"world");
    });
}

/// How many blobs the provider in `data_dir` stores.
async fn blob_count(data_dir: &std::path::Path) -> i64 {
    let options = SqliteConnectOptions::new().filename(data_dir.join("accounts.sqlite3"));
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM blobs")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

/// A room whose asset policy lets attachments be stored only at x.example's hosts: Bob (on
/// y.example) is refused before anything is uploaded, so y.example stores no blob; his text
/// still arrives, and Alice's attachment (stored at x.example) too.
#[test]
fn an_attachment_the_upload_domains_refuse_is_not_uploaded() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let room = alice.room_uri("files").unwrap();
        let options = RoomOptions {
            grants: vec![(RoleIndex(4), Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE)],
            discoverable: false,
        };
        alice
            .create_room_with(&room, Preset::Cooperative, &options)
            .await
            .unwrap();
        alice.invite(&room, &[bob.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| member(d[1], &room)).await;
        let settings = ["upload-domains=x.example".parse::<PolicySetting>().unwrap()];
        alice.set_policy(&room, &settings).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d[1].history(&room)
                .unwrap()
                .state()
                .asset_policy()
                .is_some_and(|p| !p.upload_domains.is_empty())
        })
        .await;

        let info = FileInfo {
            filename: "a.bin".into(),
            content_type: "application/octet-stream".into(),
            description: String::new(),
        };
        let e = bob.send_file(&room, b"refused", &info).await.unwrap_err();
        match &e {
            SdkError::Client(ClientError::NotAllowed {
                denied: Denied::AssetHostNotAllowed { url, allowed },
                ..
            }) => {
                assert!(url.starts_with("https://y.example/v1/blobs/"), "{url}");
                assert!(allowed.is_empty(), "{allowed:?}");
            }
            other => panic!("expected the upload domains' refusal, got {other}"),
        }
        assert_eq!(blob_count(&nodes[1].config.data_dir()).await, 0);

        // Sentinels: Bob's text and Alice's attachment still reach both.
        bob.send_text(&room, "sentinel").await.unwrap();
        let id = alice.send_file(&room, b"allowed", &info).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| {
                let view = d.history(&room).unwrap();
                view.message(&id).is_some() && common::texts(d, &room).contains(&"sentinel".into())
            })
        })
        .await;
        assert_eq!(
            bob.download(&room, id, 0).await.unwrap().as_slice(),
            b"allowed"
        );
        assert_eq!(blob_count(&nodes[0].config.data_dir()).await, 1);
        assert_eq!(blob_count(&nodes[1].config.data_dir()).await, 0);
    });
}
