//! Issue 18 item 5, the content capabilities the hub cannot see, through two real providers:
//! Alice (x.example, the room's admin) takes `canSendLink`, `canStartTopic` and
//! `canDownloadAttachment` from ordinary users; Bob's (y.example) device then refuses to send a
//! link, to start a topic and to fetch an attachment, each naming the capability, while a reply
//! in Alice's topic and a plain message still reach both. Then the `asset_policy`'s download
//! privacy: a room allowing only OHTTP downloads stops every device's fetch (ours go through
//! the provider's proxy, `hubProxy`) until the room allows `hubProxy` again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Node, federation, member, settle, texts, user};
use mimi_client_core::{ClientError, PolicySetting};
use mimi_room::components::RoleIndex;
use mimi_room::{Capability, Denied};
use mimi_sdk::{Device, FileInfo, Preset, RoleEdit, RoomOptions, SdkError};
use mimi_types::RoomUri;

fn lacks<T: std::fmt::Debug>(result: Result<T, SdkError>, capability: Capability) {
    let err = result.expect_err("the act must be refused");
    match &err {
        SdkError::Client(e @ ClientError::NotAllowed { .. }) => {
            assert_eq!(e.missing_capability(), Some(capability), "{err}");
        }
        other => panic!("expected a refusal by the own client, got {other}"),
    }
    assert!(err.to_string().contains(&capability.to_string()), "{err}");
}

/// Alice (x.example) creates `name` as a cooperative room whose super-admin role (hers) also
/// holds `grant`, and invites Bob (y.example, an ordinary user); both see him a member.
async fn alice_and_bob(
    nodes: &[Node],
    profiles: &std::path::Path,
    name: &str,
    grant: Capability,
) -> (Device, Device, RoomUri) {
    let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
    let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
    let room = alice.room_uri(name).unwrap();
    let options = RoomOptions {
        grants: vec![(RoleIndex(4), grant)],
        discoverable: false,
    };
    alice
        .create_room_with(&room, Preset::Cooperative, &options)
        .await
        .unwrap();
    alice.invite(&room, &[bob.user().clone()]).await.unwrap();
    settle(&mut [&mut alice, &mut bob], |d| member(d[1], &room)).await;
    (alice, bob, room)
}

#[test]
fn a_role_without_content_capabilities_is_refused_links_topics_and_downloads() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (mut alice, mut bob, room) = alice_and_bob(
            &nodes,
            &profiles,
            "quiet",
            Capability::CAN_CHANGE_ROLE_DEFINITIONS,
        )
        .await;

        let taken = [
            Capability::CAN_SEND_LINK,
            Capability::CAN_START_TOPIC,
            Capability::CAN_DOWNLOAD_ATTACHMENT,
        ];
        let edit = RoleEdit {
            grant: Vec::new(),
            revoke: taken.to_vec(),
        };
        alice.edit_role(&room, RoleIndex(2), &edit).await.unwrap();
        let info = FileInfo {
            filename: "minutes.pdf".into(),
            content_type: "application/pdf".into(),
            description: String::new(),
        };
        let file = alice.send_file(&room, b"minutes", &info).await.unwrap();
        alice
            .send_in_topic(&room, b"plans", "a topic of https://example.com")
            .await
            .unwrap();
        let bob_user = bob.user().clone();
        settle(&mut [&mut alice, &mut bob], |d| {
            let view = d[1].history(&room).unwrap();
            view.knows_topic(b"plans")
                && view.message(&file).is_some()
                && !view.state().capabilities_of(&bob_user).contains(&taken[0])
        })
        .await;

        // Bob's device refuses each, before anything is sent or fetched.
        lacks(
            bob.send_text(&room, "see https://example.com").await,
            Capability::CAN_SEND_LINK,
        );
        lacks(
            bob.send_in_topic(&room, b"news", "a new topic").await,
            Capability::CAN_START_TOPIC,
        );
        lacks(
            bob.download(&room, file, 0).await,
            Capability::CAN_DOWNLOAD_ATTACHMENT,
        );

        // What his role still holds: replying in Alice's topic, and plain text (the sentinel).
        bob.send_in_topic(&room, b"plans", "a reply in plans")
            .await
            .unwrap();
        bob.send_text(&room, "sentinel").await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter()
                .all(|d| texts(d, &room).last().map(String::as_str) == Some("sentinel"))
        })
        .await;
        for d in [&alice, &bob] {
            let shown = texts(d, &room);
            assert_eq!(
                shown[shown.len() - 3..],
                [
                    "a topic of https://example.com",
                    "a reply in plans",
                    "sentinel"
                ],
                "{shown:?}"
            );
            let view = d.history(&room).unwrap();
            let in_plans = view
                .messages()
                .iter()
                .filter(|m| m.topic == b"plans")
                .count();
            assert_eq!(in_plans, 2);
            assert!(view.rejections().is_empty(), "{:?}", view.rejections());
        }
        // Alice's role keeps the download capability.
        let got = alice.download(&room, file, 0).await.unwrap();
        assert_eq!(got.as_slice(), b"minutes");
    });
}

fn setting(s: &str) -> PolicySetting {
    s.parse().unwrap()
}

#[test]
fn a_room_allowing_only_ohttp_downloads_stops_fetches_until_it_allows_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let (mut alice, mut bob, room) = alice_and_bob(
            &nodes,
            &profiles,
            "private-assets",
            Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE,
        )
        .await;
        let info = FileInfo {
            filename: "plan.png".into(),
            content_type: "image/png".into(),
            description: String::new(),
        };
        let file = alice.send_file(&room, b"a plan", &info).await.unwrap();
        alice
            .set_policy(&room, &[setting("downloads=ohttp")])
            .await
            .unwrap();
        let only_ohttp = |d: &Device| {
            d.history(&room).is_ok_and(|v| {
                v.message(&file).is_some() && v.state().may_download_by_proxy().is_err()
            })
        };
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| only_ohttp(d))
        })
        .await;

        // Neither the uploader's device nor the other provider's fetches it.
        for d in [&alice, &bob] {
            let err = d
                .download(&room, file, 0)
                .await
                .expect_err("must not fetch");
            match &err {
                SdkError::Client(ClientError::NotAllowed {
                    denied: Denied::DownloadTypeNotAllowed { allowed },
                    ..
                }) => assert_eq!(allowed, &["ohttp"]),
                other => panic!("expected a refusal by the own client, got {other}"),
            }
        }
        // Bob's role may not change the policy back.
        lacks(
            bob.set_policy(&room, &[setting("downloads=any")]).await,
            Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE,
        );

        // Allowed again: Bob's device fetches through its provider and opens it.
        alice
            .set_policy(&room, &[setting("downloads=hubProxy,ohttp")])
            .await
            .unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| {
                d.history(&room)
                    .is_ok_and(|v| v.state().may_download_by_proxy().is_ok())
            })
        })
        .await;
        let got = bob.download(&room, file, 0).await.unwrap();
        assert_eq!(got.as_slice(), b"a plan");
        bob.send_text(&room, "sentinel").await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter()
                .all(|d| texts(d, &room).last().map(String::as_str) == Some("sentinel"))
        })
        .await;
        for d in [&alice, &bob] {
            let view = d.history(&room).unwrap();
            assert!(view.rejections().is_empty(), "{:?}", view.rejections());
        }
    });
}
