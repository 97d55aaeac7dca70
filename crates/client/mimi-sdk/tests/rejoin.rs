//! Issue 20, "no wedged rooms", the device side, through three real providers: a rogue
//! provider (z.example) drops one commit from its user's feed, so Carol's device cannot
//! process the room's next commit. The device reports it, rejoins by a resync external commit
//! from the hub's GroupInfo (fetched through the GroupInfo exchange, the hub being another
//! provider), keeps its history, and a sentinel from another member then reaches it; its own
//! message written after the rejoin reaches everyone, and the room keeps one leaf per device.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{federation, member, settle, texts, user};
use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
use mimi_sdk::{Device, Preset};
use mimi_types::RoomUri;

/// Deletes from provider `dir`'s store every feed event of `device` after `cursor`: what a
/// provider that drops its user's messages does. The provider must be stopped. The device is
/// the only one of its provider, so the rooms' rows of the follower log there are its alone.
async fn drop_feed_after(dir: &Path, device: &str, cursor: u64) -> u64 {
    let path = dir.join("mimi-ds.sqlite3");
    assert!(path.exists(), "{}", path.display());
    let url = format!("sqlite://{}", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let gone =
        sqlx::query("DELETE FROM feed_log WHERE seq > $2 AND (device = $1 OR device IS NULL)")
            .bind(device)
            .bind(i64::try_from(cursor).unwrap())
            .execute(&pool)
            .await
            .unwrap()
            .rows_affected();
    pool.close().await;
    gone
}

/// Waits until `device`'s provider holds a commit after its cursor (without applying it).
/// Other events may come first (the members' automatic delivery reports): deleting the feed
/// then would miss the commit, which would arrive after the restart.
async fn wait_for_commit(device: &Device) {
    for _ in 0..300 {
        let events = device.peek_events(device.cursor(), 100).await.unwrap();
        let commit = events.iter().any(|e| {
            mimi_federation_api::decode_exact::<FanoutMessage>(&e.payload)
                .is_ok_and(|m| matches!(m.content, FanoutContent::Commit { .. }))
        });
        if commit {
            return;
        }
    }
    panic!("no commit reached {}'s feed", device.client_uri());
}

fn name(device: &Device, room: &RoomUri) -> String {
    device.engine().room(room).unwrap().name().to_owned()
}

#[test]
fn a_device_that_missed_a_commit_rejoins_and_keeps_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let servers = dir.path().join("servers");
    let mut nodes = federation(&servers, &["x.example", "y.example", "z.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mut alice, mut bob, room, path, device, cursor, epoch) = runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let mut carol = user(&nodes[2], &profiles.join("carol"), "carol").await;
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
        alice.send_text(&room, "before").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| texts(d, &room) == ["before"])
        })
        .await;

        // The commit z.example drops: Carol's device is offline meanwhile.
        let cursor = carol.cursor();
        let epoch = carol.engine().group(&room).unwrap().epoch();
        alice.rename(&room, "lost").await.unwrap();
        wait_for_commit(&carol).await;
        let device = carol.client_uri().to_string();
        let path = carol.path().to_owned();
        (alice, bob, room, path, device, cursor, epoch)
    });
    nodes[2].stop();
    let gone = runtime.block_on(drop_feed_after(&servers.join("z.example"), &device, cursor));
    assert!(gone >= 1, "the commit was in the feed");
    nodes[2].restart().unwrap();

    runtime.block_on(async {
        let mut carol = Device::open(&path).await.unwrap();
        // The next commit reaches Carol, who is one epoch behind: she rejoins on her own.
        alice.rename(&room, "after").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| name(d, &room) == "after")
        })
        .await;
        let events = carol.take_events();
        assert!(
            events.iter().any(|e| matches!(
                e,
                mimi_client_core::ClientEvent::CommitFailed { room: r, epoch: e, .. }
                    if *r == room && *e == epoch
            )),
            "{events:?}"
        );
        assert!(
            events.iter().any(|e| matches!(
                e,
                mimi_client_core::ClientEvent::Rejoined { room: r, .. } if *r == room
            )),
            "{events:?}"
        );
        assert!(
            carol.take_notices().iter().any(|n| n.contains("rejoined")),
            "the user is told"
        );
        assert!(!carol.engine().is_behind(&room));

        // Everyone processes Carol's rejoin.
        let rejoined = carol.engine().group(&room).unwrap().epoch();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter()
                .all(|d| d.engine().group(&room).unwrap().epoch() == rejoined)
        })
        .await;
        // The sentinel from another member, and Carol's own message, reach every device.
        bob.send_text(&room, "sentinel").await.unwrap();
        carol.send_text(&room, "carol is back").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| texts(d, &room).len() == 3)
        })
        .await;
        for d in [&alice, &bob, &carol] {
            assert_eq!(
                texts(d, &room),
                ["before", "sentinel", "carol is back"],
                "{}",
                d.client_uri()
            );
            // One leaf per device: Carol's old leaf left with the rejoin.
            assert_eq!(d.engine().group(&room).unwrap().members().len(), 3);
        }
        let epochs: Vec<u64> = [&alice, &bob, &carol]
            .iter()
            .map(|d| d.engine().group(&room).unwrap().epoch())
            .collect();
        assert!(epochs.iter().all(|e| *e == epochs[0]), "{epochs:?}");
        // The hub learnt of the failure through the resync, and counts it.
        let metrics = reqwest::get(format!("{}/metrics", nodes[0].base_url()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.lines().any(|l| l == "mimi_hub_resyncs_total 1"),
            "{metrics}"
        );
    });
}
