//! One fixed-membership room per set of users at a hub (room-policy §5; issue 18 item 7): a
//! rogue client of the hub's provider that creates a direct-message room of Alice and Bob
//! under an id of its own choosing is refused, naming the id the pair gives; the room under
//! that id is created, a second creation of it is refused as an existing room id, and the
//! room goes on (a sentinel message is accepted).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Api, Device};
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_room::direct::{DirectCreation, fixed_room_id};
use mimi_room::presets::hub_service_user;
use mimi_types::RoomUri;

#[test]
fn a_fixed_room_carries_the_id_of_its_users_and_exists_once() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 3).await;
        let bob = Device::register(&y, "bob", "laptop", 3).await;
        let (alice_uri, bob_uri) = (alice.user().clone(), bob.user().clone());
        let state_for = |room: &RoomUri| {
            DirectCreation {
                room: room.clone(),
                creator: alice_uri.clone(),
                peer: bob_uri.clone(),
                policy_enforcer: hub_service_user(room.hub_domain()),
            }
            .initial_state()
            .unwrap()
        };

        // A second direct room of the pair under another id: refused, naming the right one.
        let expected = fixed_room_id(&[&alice_uri, &bob_uri]);
        let rogue = RoomUri::parse("mimi://x.example/r/our-other-dm").unwrap();
        let state = state_for(&rogue);
        let refused = alice.create_room_in(&rogue, &state).await.unwrap_err();
        assert_eq!(refused.status, 400);
        let message = refused.error.unwrap().message;
        assert!(message.contains(&expected), "{message}");

        // Under the pair's id it is created, once.
        let room = RoomUri::parse(&format!("mimi://x.example/r/{expected}")).unwrap();
        let state = state_for(&room);
        alice.create_room_in(&room, &state).await.unwrap();
        let mut again = Device::register(&x, "alice", "tablet", 3).await;
        let twice = again.create_room_in(&room, &state).await.unwrap_err();
        assert_eq!(twice.status, 409, "{:?}", twice.error);

        // The sentinel: the room goes on.
        let sent = alice.send(&room, "sentinel").await;
        assert!(
            matches!(sent, Ok(SubmitOutcome::Accepted { .. })),
            "{sent:?}"
        );
    });
}
