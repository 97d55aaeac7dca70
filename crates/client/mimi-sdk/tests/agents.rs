//! Issue 18, "logging and bot policy have their defined effects", through three real
//! providers: devices registered as a logging client or a bot carry their provider's marker;
//! a room that forbids logging refuses the logger; a room's `bot_policy` admits only the bots
//! it lists, each with its role; a room that requires logging lets nobody send until a listed
//! logger is in. Each refusal comes before anything is sent, and a sentinel message still
//! reaches every member after it. (The hub's and the receivers' refusal of a rogue commit that
//! adds them anyway: `mimi-mls src/tests/agents.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{Node, THREE, member, providers, settle, texts, user};
use mimi_room::components::RoleIndex;
use mimi_room::{Capability, ClientKind};
use mimi_sdk::{
    BotEntry, Credentials, Device, DeviceKind, PolicySetting, Preset, RoomOptions, SdkError,
};
use mimi_types::RoomUri;

const HOMEPAGE: &str = "https://bots.example/standup";

async fn agent(node: &Node, profile: &Path, name: &str, kind: DeviceKind) -> Device {
    let password = format!("{name}-password");
    Device::register_account_pinned(&node.base_url(), None, name, &password)
        .await
        .unwrap();
    Device::register_device_as(
        profile,
        &Credentials {
            server: node.base_url(),
            user_id: name.into(),
            password,
            device_id: "agent".into(),
            server_cert: None,
        },
        Some(kind),
    )
    .await
    .unwrap()
}

fn bot(name: &str) -> DeviceKind {
    DeviceKind::Bot {
        name: name.into(),
        homepage: HOMEPAGE.into(),
    }
}

fn settings(texts: &[&str]) -> Vec<PolicySetting> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

fn refused(result: Result<(), SdkError>, reason: &str) {
    let err = result.expect_err("must be refused");
    assert!(err.to_string().contains(reason), "{err}");
}

async fn sentinel(devices: &mut [&mut Device], room: &RoomUri, text: &str) {
    devices[0].send_text(room, text).await.unwrap();
    settle(devices, |d| {
        d.iter()
            .all(|d| texts(d, room).last().map(String::as_str) == Some(text))
    })
    .await;
}

#[test]
fn logging_and_bot_policies_admit_only_what_they_allow() {
    let p = providers(&THREE);
    let (nodes, profiles) = (&p.nodes, &p.profiles);
    p.runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let mut lou = agent(&nodes[2], &profiles.join("lou"), "lou", DeviceKind::Logger).await;
        let mut standup = agent(&nodes[2], &profiles.join("su"), "standup", bot("Standup")).await;
        let poller = agent(&nodes[2], &profiles.join("po"), "poller", bot("Poller")).await;

        let room = alice.room_uri("logged").unwrap();
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

        // A room that forbids logging refuses the logger.
        alice
            .set_policy(&room, &settings(&["logging=forbidden"]))
            .await
            .unwrap();
        refused(
            alice.invite(&room, &[lou.user().clone()]).await,
            "the room forbids logging",
        );
        sentinel(&mut [&mut alice, &mut bob], &room, "no logger").await;
        assert!(!member(&lou, &room));

        // Bots: only the listed ones, each with its role; only a holder of
        // canChangeOtherPolicyAttribute lists them.
        let entry = BotEntry {
            name: "Standup".into(),
            homepage: HOMEPAGE.into(),
            description: "asks for everyone's day".into(),
            role: RoleIndex(3),
            local: false,
        };
        refused(
            bob.allow_bot(&room, &entry).await,
            "canChangeOtherPolicyAttribute",
        );
        alice.allow_bot(&room, &entry).await.unwrap();
        assert_eq!(alice.allowed_bots(&room).unwrap().unwrap().len(), 1);
        refused(
            alice.invite(&room, &[poller.user().clone()]).await,
            "bot_policy does not allow",
        );
        sentinel(&mut [&mut alice, &mut bob], &room, "no poller").await;
        alice
            .invite(&room, &[standup.user().clone()])
            .await
            .unwrap();
        let standup_user = standup.user().clone();
        let standup_client = standup.client_uri().clone();
        settle(&mut [&mut alice, &mut bob, &mut standup], |d| {
            d.iter().all(|d| {
                d.engine().room(&room).is_some_and(|v| {
                    v.state().role_of(&standup_user) == RoleIndex(3)
                        && matches!(
                            v.state().kind_of(&standup_client),
                            ClientKind::Bot { name, .. } if name == "Standup"
                        )
                })
            })
        })
        .await;
        sentinel(
            &mut [&mut standup, &mut alice, &mut bob],
            &room,
            "standup here",
        )
        .await;
        assert!(!member(&poller, &room));

        // A room that requires logging: nobody sends until the listed logger is in.
        let listed = format!("logging-clients={}", lou.user());
        alice
            .set_policy(&room, &settings(&["logging=required", &listed]))
            .await
            .unwrap();
        settle(&mut [&mut alice, &mut bob, &mut standup], |d| {
            d.iter().all(|d| {
                d.engine()
                    .room(&room)
                    .is_some_and(|v| v.state().check_required_logger().is_err())
            })
        })
        .await;
        let err = bob.send_text(&room, "unlogged").await.unwrap_err();
        assert!(err.to_string().contains("requires logging"), "{err}");
        alice.invite(&room, &[lou.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut lou], |d| {
            d.iter().all(|d| {
                d.engine()
                    .room(&room)
                    .is_some_and(|v| v.is_active() && v.state().check_required_logger().is_ok())
            })
        })
        .await;
        sentinel(&mut [&mut bob, &mut alice, &mut lou], &room, "logged").await;
        assert!(!texts(&bob, &room).iter().any(|t| t == "unlogged"));
    });
}
