//! `reportAbuse` (protocol-06 §5.9) at a real hub, attacked: a provider reporting for a user
//! of another provider, a member reporting a message with a frank the hub never issued, a
//! banned member reporting, and garbage. Each is refused with its own status, nothing reaches
//! the operators' queue, and a sentinel message then reaches every member.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::client_as;
use common::device::{Api, Device, settle};
use mimi_content::{ContentBuilder, NestedPart};
use mimi_federation_api::Encode as _;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::franking::Frank;
use mimi_federation_api::mls::Signature;
use mimi_federation_api::path::encode_param;
use mimi_federation_api::report_abuse::{AbuseReport, AbuseType, AbusiveMessage};
use mimi_federation_api::update::UpdateOutcome;
use mimi_server::accounts::Accounts;
use mimi_types::codepoints::DEFAULT_CIPHERSUITE;
use mimi_types::{RoomUri, UserUri};

fn uri(s: &str) -> IdentifierUri {
    IdentifierUri::from_string(s.to_owned()).unwrap()
}

/// A report by `reporter` of `abuser`'s message "text" in `room`, with a frank the hub never
/// issued.
fn forged(reporter: &str, abuser: &UserUri, room: &RoomUri) -> Vec<u8> {
    let content = ContentBuilder::new(NestedPart::text("what they never said"))
        .uris(abuser, room)
        .build(&mut rand::rngs::OsRng)
        .unwrap()
        .encode()
        .unwrap();
    let frank = Frank::new(
        [0x5a; 32],
        DEFAULT_CIPHERSUITE,
        Signature::from_bytes(vec![1; 64]).unwrap(),
    );
    AbuseReport::new(
        uri(reporter),
        uri(&abuser.to_string()),
        AbuseType::UNSPECIFIED,
        "forged",
        vec![AbusiveMessage::new(content, frank, 1)],
    )
    .encode()
    .unwrap()
}

#[test]
fn rogue_reports_are_refused_and_the_room_goes_on() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        let z = Api::new(nodes[2].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "mallory").await;
        Device::register_user(&z, "carol").await;
        let mut alice = Device::register(&x, "alice", "phone", 3).await;
        let mut mallory = Device::register(&y, "mallory", "laptop", 3).await;
        let mut carol = Device::register(&z, "carol", "tablet", 3).await;
        let room = alice.create_room("mimi://x.example/r/reports").await;
        let users = [mallory.user().clone(), carol.user().clone()];
        let added = alice.add_users(&room, &users).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        settle(&mut [&mut alice, &mut mallory, &mut carol], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;

        let y_to_x = client_as(&nodes[1].config, &nodes[0].config);
        let path = format!("/reportAbuse/{}", encode_param(&room));
        let post = |body: Vec<u8>| {
            let (y_to_x, path, domain) = (&y_to_x, &path, nodes[0].domain.clone());
            async move { y_to_x.post(&domain, path, body).await.unwrap() }
        };

        // A rogue member reports, through its own provider's client API, in the name of
        // another user: its provider refuses before anything reaches the hub.
        let refused = mallory
            .post_report(
                &room,
                forged("mimi://z.example/u/carol", alice.user(), &room),
            )
            .await
            .unwrap_err();
        assert_eq!(refused.status, 403, "{:?}", refused.error);
        // Through the client API in its own name, the forged frank is refused by the hub
        // (relayed over mutual TLS): the device sees the hub's refusal.
        let refused = mallory
            .post_report(
                &room,
                forged("mimi://y.example/u/mallory", alice.user(), &room),
            )
            .await
            .unwrap_err();
        assert_ne!(refused.status / 100, 2, "{:?}", refused.error);
        // A rogue provider reports in the name of another provider's user.
        let r = post(forged("mimi://z.example/u/carol", alice.user(), &room)).await;
        assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
        // A rogue member reports a message with a frank the hub never issued.
        let r = post(forged("mimi://y.example/u/mallory", alice.user(), &room)).await;
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
        let text = String::from_utf8_lossy(&r.body);
        assert!(text.contains("not one this hub franked"), "{text}");
        // Garbage.
        let r = post(vec![0xff; 5]).await;
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
        // Banned: still listed, no longer allowed to report.
        let banned = alice.ban_users(&room, &[mallory.user().clone()]).await;
        assert!(
            matches!(banned, UpdateOutcome::Success { .. }),
            "{banned:?}"
        );
        let note_only = AbuseReport::new(
            uri("mimi://y.example/u/mallory"),
            uri(&alice.user().to_string()),
            AbuseType::UNSPECIFIED,
            "no messages",
            Vec::new(),
        )
        .encode()
        .unwrap();
        let r = post(note_only).await;
        assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));

        let accounts = Accounts::open_in(&dir.path().join("x.example"))
            .await
            .unwrap();
        assert!(
            accounts
                .abuse_reports(false, 0, 10)
                .await
                .unwrap()
                .is_empty()
        );

        // The sentinel.
        let text = "sentinel after rogue reports";
        common::sentinel(&mut [&mut alice, &mut carol], &room, text).await;
        for d in [&alice, &carol] {
            assert_eq!(d.texts(&room), [text], "{}", d.client());
        }
    });
    drop(runtime);
    drop(nodes);
}
