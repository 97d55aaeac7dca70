//! Issue 18, `canSendMessage` through three real providers: a room whose ordinary users'
//! role (2) lacks `canSendMessage` lists Mallory and Carol in it. Mallory's honest client
//! would not send (`RoomState::may_send` refuses); her modified one sends anyway. The hub
//! refuses the message (`notAllowed`), nothing is fanned out, and a sentinel message from
//! Alice (super admin, who may send) then reaches every member; Carol never sees Mallory's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::settle;
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;
use mimi_room::components::Component as _;
use mimi_room::presets::{Preset, RoomCreation};
use mimi_room::{Capability, Denied, RoomState};
use mimi_types::RoomUri;
use mimi_types::codepoints::ComponentId;

#[test]
fn a_listed_role_without_can_send_message_is_refused_by_the_hub() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let [mut alice, mut mallory, mut carol] =
            common::alice_mallory_carol(&nodes, [3, 3, 3]).await;

        let room = RoomUri::parse("mimi://x.example/r/announcements").unwrap();
        let initial = RoomCreation::new(Preset::Cooperative, room.clone(), alice.user().clone())
            .initial_state()
            .unwrap();
        let mut roles = initial.roles().clone();
        roles.roles[2]
            .role_capabilities
            .retain(|c| *c != Capability::CAN_SEND_MESSAGE);
        let mut components = initial.components();
        components.insert(ComponentId::ROLES_LIST, roles.encode());
        let state = RoomState::from_components(components).unwrap();
        alice.create_room_in(&room, &state).await.unwrap();
        let users = [mallory.user().clone(), carol.user().clone()];
        let added = alice.add_users(&room, &users).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        settle(&mut [&mut alice, &mut mallory, &mut carol], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;

        // Her honest client would not send: role 2 lacks canSendMessage.
        let may = mallory.group(&room).room().may_send(mallory.user());
        assert!(
            matches!(&may, Err(Denied::MissingCapability { .. })),
            "{may:?}"
        );
        // Her modified client sends anyway: the hub refuses it.
        let sent = mallory.send_unchecked(&room, "from a muted member").await;
        assert!(matches!(sent, Ok(SubmitOutcome::NotAllowed)), "{sent:?}");

        common::sentinel(
            &mut [&mut alice, &mut mallory, &mut carol],
            &room,
            "sentinel after the muted send",
        )
        .await;
        for device in [&alice, &carol] {
            assert!(
                !device
                    .texts(&room)
                    .contains(&"from a muted member".to_owned()),
                "{} got the refused message",
                device.client()
            );
            assert!(device.failures().is_empty(), "{:?}", device.failures());
        }
    });
}
