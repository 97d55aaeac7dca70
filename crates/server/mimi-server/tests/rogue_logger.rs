//! Issue 18, a rogue member adds a logging client to a room that forbids logging, through
//! three real providers: the room's `logging_policy` is `forbidden`; Mallory's honest client
//! refuses to add Lou's logging device (registered as a logger, so its credential carries the
//! marker), so she sends the commit her modified client builds without that check
//! (`ClientGroup::rogue_commit`). The hub refuses it, Lou never joins, nothing is fanned out,
//! and a sentinel message then reaches every member in the old epoch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Device, now_s, settle};
use mimi_client_api::DeviceKind;
use mimi_client_core::{ClientError, Invitee};
use mimi_federation_api::update::UpdateOutcome;
use mimi_room::components::{Component as _, LoggingPolicy};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_room::{Denied, RoomState};
use mimi_types::RoomUri;
use mimi_types::codepoints::ComponentId;

#[test]
fn a_rogue_members_logger_in_a_room_forbidding_logging_is_refused_by_the_hub() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let [mut alice, mut mallory, mut carol] =
            common::alice_mallory_carol(&nodes, [3, 3, 3]).await;
        Device::register_user(&carol.api, "lou").await;
        let mut lou =
            Device::register_as(&carol.api, "lou", "logger", 3, Some(DeviceKind::Logger)).await;

        let room = RoomUri::parse("mimi://x.example/r/no-logs").unwrap();
        let initial = RoomCreation::new(Preset::Cooperative, room.clone(), alice.user().clone())
            .initial_state()
            .unwrap();
        let mut components = initial.components();
        components.insert(
            ComponentId::LOGGING_POLICY,
            LoggingPolicy::Forbidden.encode(),
        );
        let state = RoomState::from_components(components).unwrap();
        alice.create_room_in(&room, &state).await.unwrap();
        let users = [mallory.user().clone(), carol.user().clone()];
        let added = alice.add_users(&room, &users).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        settle(&mut [&mut alice, &mut mallory, &mut carol], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;
        let epoch = alice.epoch(&room).unwrap();

        // Her honest client refuses: the room forbids logging.
        let kps = mallory.key_material(&room, lou.user()).await.unwrap();
        assert!(!kps.is_empty());
        let honest = mallory
            .engine
            .invite(now_s(), &room, &[Invitee::new(lou.user().clone(), kps)])
            .unwrap_err();
        assert!(
            matches!(
                honest,
                ClientError::NotAllowed {
                    denied: Denied::LoggingForbidden { .. },
                    ..
                }
            ),
            "{honest:?}"
        );

        // The rogue commit: the hub refuses it.
        let outcome = mallory
            .add_users_unchecked(&room, &[lou.user().clone()])
            .await;
        assert_eq!(outcome, UpdateOutcome::NotAllowed, "the hub refuses it");

        // The sentinel reaches every member, all still in the old epoch; Lou has nothing.
        common::sentinel(
            &mut [&mut alice, &mut mallory, &mut carol],
            &room,
            "sentinel after the rogue logger",
        )
        .await;
        for device in [&alice, &mallory, &carol] {
            assert_eq!(device.epoch(&room), Some(epoch), "{}", device.client());
        }
        assert_eq!(lou.poll(0).await, 0, "nothing reaches the logger");
        assert!(!lou.is_member(&room));
    });
}
