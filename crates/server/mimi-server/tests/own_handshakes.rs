//! A device may hand in through its provider's client API only the handshakes it signed itself
//! (the hub engine checks it on its one MLS validation of the commit). Through two real
//! providers: a device on the hub's provider submits another member's self-update commit and
//! gets 403 naming both; nothing moves; then a sentinel message reaches every device and the
//! other member's own commit is accepted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Api, Device, settle};
use mimi_client_api::ErrorCode;
use mimi_federation_api::update::UpdateOutcome;

#[test]
fn a_device_cannot_submit_another_members_commit() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&x, "mallory").await;
        Device::register_user(&y, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 1).await;
        let mut mallory = Device::register(&x, "mallory", "laptop", 1).await;
        let mut bob = Device::register(&y, "bob", "tablet", 1).await;
        let room = alice.create_room("mimi://x.example/r/own").await;
        let users = [mallory.user().clone(), bob.user().clone()];
        let added = alice.add_users(&room, &users).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        settle(&mut [&mut alice, &mut mallory, &mut bob], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;
        let epoch = alice.epoch(&room).unwrap();

        let refused = mallory.submit_commit_of(&room, &alice).await.unwrap_err();
        assert_eq!(refused.status, 403);
        let error = refused.error.unwrap();
        assert_eq!(error.code, ErrorCode::Forbidden);
        assert!(
            error.message.contains("only its own handshakes")
                && error.message.contains("alice/phone"),
            "{}",
            error.message
        );

        // The sentinel: the room did not move and goes on.
        common::sentinel(&mut [&mut bob, &mut alice, &mut mallory], &room, "sentinel").await;
        for d in [&alice, &mallory, &bob] {
            assert_eq!(d.epoch(&room), Some(epoch), "{}", d.client());
        }
        // Alice's own commit, handed in by Alice, is accepted.
        let own = alice.self_update(&room).await.unwrap();
        assert!(matches!(own, UpdateOutcome::Success { .. }), "{own:?}");
    });
    drop(runtime);
    drop(nodes);
}
