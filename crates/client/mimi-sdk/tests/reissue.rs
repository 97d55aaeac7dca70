//! A device file whose stored state holds credentials in the layout older mimi-rs releases
//! wrote (refused since RFC 9420 §5.3 is followed) is refused on open with what to run; the
//! device's credential is then re-issued by its provider (`Device::reissue`, `mimi device
//! reissue`): the device opens again, its old KeyPackages are gone at the provider (else an
//! invite would claim one whose key the device no longer has), and it can be invited and
//! read a room's messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

use common::{federation, member, settle, texts, user};
use mimi_sdk::{Device, Preset};

fn legacy_record() -> Vec<u8> {
    let hex = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../testing/vectors/client/legacy-record-v1-pre-rfc9420-credentials.hex"),
    )
    .unwrap();
    let hex: String = hex.split_whitespace().collect();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn a_device_with_an_old_credential_layout_is_reissued_and_works_again() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let old_room = bob.room_uri("old").unwrap();
        let mut bob = bob;
        bob.create_room(&old_room, Preset::Cooperative)
            .await
            .unwrap();
        let path = bob.path().to_owned();
        bob.close().await;

        // The file's state is what an older release wrote.
        {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", path.display()))
                .await
                .unwrap();
            sqlx::query("UPDATE state SET record = ? WHERE id = 1")
                .bind(legacy_record())
                .execute(&mut conn)
                .await
                .unwrap();
            sqlx::query("DELETE FROM log")
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
        let err = Device::open(&path).await.unwrap_err().to_string();
        assert!(err.contains("pre-RFC 9420"), "{err}");
        assert!(err.contains("mimi device reissue"), "{err}");

        let reissued = Device::reissue(&path).await.unwrap();
        assert!(reissued.old_file.exists());
        assert_eq!(reissued.rooms, [old_room]);
        drop(reissued.device);
        let mut bob = Device::open(&path).await.unwrap();

        // Alice invites Bob: the claimed KeyPackage is a fresh one with the new credential.
        let room = alice.room_uri("after").unwrap();
        alice.create_room(&room, Preset::Cooperative).await.unwrap();
        alice.invite(&room, &[bob.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| member(d, &room))
        })
        .await;
        alice.send_text(&room, "welcome back").await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| texts(d, &room) == ["welcome back"])
        })
        .await;
    });
}
