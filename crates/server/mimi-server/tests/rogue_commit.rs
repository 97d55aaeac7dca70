//! Issue 20, "no wedged rooms", through three real providers: a member on a follower submits a
//! self-update commit built from its real MLS state with one bit of the confirmation tag flipped
//! (what a rogue member, or its provider in transit, can do). Every other member would refuse
//! such a commit, so a hub that accepted it would leave them behind for good. The hub refuses it
//! (`notAllowed`: the tag differs from the committer's signed GroupInfo), nothing is fanned out,
//! and a sentinel message from an honest member then reaches every device; the rogue's own
//! honest self-update is accepted afterwards and the room goes on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::settle;
use mimi_federation_api::update::UpdateOutcome;

#[test]
fn a_commit_with_a_flipped_confirmation_tag_bit_cannot_wedge_the_room() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let [mut alice, mut mallory, mut carol] =
            common::alice_mallory_carol(&nodes, [3, 3, 3]).await;

        let room = alice.create_room("mimi://x.example/r/wedge").await;
        let users = [mallory.user().clone(), carol.user().clone()];
        let added = alice.add_users(&room, &users).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        settle(&mut [&mut alice, &mut mallory, &mut carol], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;
        let epoch = alice.epoch(&room).unwrap();

        // The attack: a member's PublicMessage commit ends with confirmation_tag<V> then
        // membership_tag<V> (32-byte MACs); flip the first bit of the confirmation tag.
        let outcome = mallory
            .self_update_tampered(&room, |commit| {
                let n = commit.len();
                assert_eq!((commit[n - 66], commit[n - 33]), (32, 32), "tag layout");
                commit[n - 65] ^= 0x80;
            })
            .await
            .unwrap();
        assert_eq!(outcome, UpdateOutcome::NotAllowed, "the hub refuses it");

        // The sentinel: an honest member's message reaches every device, all in the old epoch.
        common::sentinel(
            &mut [&mut alice, &mut mallory, &mut carol],
            &room,
            "sentinel after the flipped tag",
        )
        .await;
        for device in [&alice, &mallory, &carol] {
            assert_eq!(device.epoch(&room), Some(epoch), "{}", device.client());
        }

        // The rogue's honest self-update is accepted and followed by everyone; the room goes on.
        let honest = mallory.self_update(&room).await.unwrap();
        assert!(
            matches!(honest, UpdateOutcome::Success { .. }),
            "{honest:?}"
        );
        settle(&mut [&mut alice, &mut mallory, &mut carol], |d| {
            d.iter().all(|d| d.epoch(&room) == Some(epoch + 1))
        })
        .await;
        common::sentinel(
            &mut [&mut carol, &mut alice, &mut mallory],
            &room,
            "second sentinel",
        )
        .await;
    });
}
