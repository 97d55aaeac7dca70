//! Issue 18, ending a room (`canDestroyRoom`, `persistent_room`), through three real providers
//! with real mimi-mls devices: an ordinary member's attempt to end a room is refused by its own
//! client; the admin's end reaches every member; afterwards the hub refuses a rogue member's
//! commit and message (built from the state before the end, so no client check stands in the
//! way) and a new device's join, while a sentinel in another room still arrives. A room that
//! is not persistent ends at its hub once its last client asks to leave; a persistent one
//! goes on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Api, Device, settle};
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;
use mimi_room::presets::{Preset, RoomCreation};

#[test]
fn an_ended_room_refuses_every_later_commit_message_and_join_and_every_member_learns_of_it() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let [mut alice, mut mallory, mut carol] =
            common::alice_mallory_carol(&nodes, [3, 6, 6]).await;

        let room = alice.create_room("mimi://x.example/r/ending").await;
        let other = alice.create_room("mimi://x.example/r/going-on").await;
        let users = [mallory.user().clone(), carol.user().clone()];
        for r in [&room, &other] {
            let added = alice.add_users(r, &users).await;
            assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        }
        settle(&mut [&mut alice, &mut mallory, &mut carol], |d| {
            d.iter().all(|d| d.is_member(&room) && d.is_member(&other))
        })
        .await;

        // Mallory (ordinary_user) may not end the room: her own client refuses, nothing is
        // sent, and the room goes on.
        let err = mallory.destroy_room(&room).await.unwrap_err();
        assert!(err.to_string().contains("canDestroyRoom"), "{err}");
        let sent = carol.send(&room, "still open").await;
        assert!(
            matches!(sent, Ok(SubmitOutcome::Accepted { .. })),
            "{sent:?}"
        );
        settle(&mut [&mut alice, &mut mallory, &mut carol], |d| {
            d.iter()
                .all(|d| d.texts(&room).contains(&"still open".to_owned()))
        })
        .await;

        // Alice (super_admin) ends it; Mallory has not seen that yet.
        let alice_user = alice.user().clone();
        let ended = alice.destroy_room(&room).await.unwrap();
        assert!(matches!(ended, UpdateOutcome::Success { .. }), "{ended:?}");

        // The rogue member: a commit and a message from the state before the end. The hub
        // refuses both as not allowed (not as a stale epoch: nothing can be resent).
        let commit = mallory.self_update(&room).await.unwrap();
        assert_eq!(
            commit,
            UpdateOutcome::NotAllowed,
            "the hub refuses the commit"
        );
        let message = mallory.send(&room, "after the end").await.unwrap();
        assert_eq!(
            message,
            SubmitOutcome::NotAllowed,
            "the hub refuses the message"
        );

        // Every member learns of the end from the commit.
        settle(&mut [&mut alice, &mut mallory, &mut carol], |d| {
            d.iter().all(|d| {
                d.room_state(&room)
                    .and_then(|s| s.ended())
                    .is_some_and(|e| e.ended_by == alice_user)
            })
        })
        .await;
        // A member that has seen it: its own client refuses to commit, the hub its message.
        let err = carol.commit_pending(&room).await.unwrap_err();
        assert!(err.to_string().contains("ended"), "{err}");
        // (her modified client: her own engine refuses to send into an ended room)
        let message = carol
            .send_unchecked(&room, "carol after the end")
            .await
            .unwrap();
        assert_eq!(message, SubmitOutcome::NotAllowed);
        // Nor are KeyPackages relayed for it: nothing of the target's supply is claimed for
        // an add the hub would refuse.
        let claimed = carol.key_material_response(&room, &alice_user).await;
        assert!(claimed.is_err(), "{claimed:?}");
        // Nobody joins any more: a participant's new device is refused.
        let mut carol_phone = Device::register(&carol.api, "carol", "phone", 3).await;
        let join = carol_phone.join_external(&room).await;
        assert!(join.is_err(), "{join:?}");

        // The sentinel, in the room that goes on: it reaches everyone, and nothing sent into
        // the ended room after its end was delivered.
        common::sentinel(
            &mut [&mut alice, &mut mallory, &mut carol],
            &other,
            "sentinel",
        )
        .await;
        for d in [&alice, &mallory, &carol] {
            let texts = d.texts(&room);
            assert!(
                !texts.iter().any(|t| t.contains("after the end")),
                "{texts:?}"
            );
        }
    });
}

#[test]
fn a_room_that_is_not_persistent_ends_when_its_last_client_leaves_and_a_persistent_one_stays() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let mut alice = Device::new_user(&x, "alice", "phone", 3).await;

        let transient: mimi_types::RoomUri = "mimi://x.example/r/transient".parse().unwrap();
        let mut creation =
            RoomCreation::new(Preset::Cooperative, transient.clone(), alice.user().clone());
        let mut base = Preset::Cooperative.base_policy();
        base.persistent_room = false;
        creation.base_policy = Some(base);
        alice
            .create_room_in(&transient, &creation.initial_state().unwrap())
            .await
            .unwrap();
        let kept = alice.create_room("mimi://x.example/r/kept").await;

        // Alice's only client asks to leave both rooms: nobody is left to commit it.
        for r in [&transient, &kept] {
            let left = alice.propose_leave(r).await.unwrap();
            assert!(matches!(left, UpdateOutcome::Success { .. }), "{left:?}");
        }
        // The room that is not persistent has ended at its hub: the user's new device is
        // refused (the leaving client itself can send nothing more: its client holds its own
        // pending leave).
        let mut laptop = Device::register(&x, "alice", "laptop", 3).await;
        let join = laptop.join_external(&transient).await;
        assert!(join.is_err(), "{join:?}");
        // The room id stays taken (the tombstone).
        let again = RoomCreation::new(Preset::Cooperative, transient.clone(), alice.user().clone())
            .initial_state()
            .unwrap();
        assert!(laptop.create_room_in(&transient, &again).await.is_err());

        // The persistent room goes on: the user's new device joins it.
        let join = laptop.join_external(&kept).await.unwrap();
        assert!(matches!(join, UpdateOutcome::Success { .. }), "{join:?}");
    });
}
