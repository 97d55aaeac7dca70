//! Abuse reports with franking (protocol-06 §5.4.1, §5.9) through three real providers: the
//! hub (x.example) franks every message of its room; Carol (z.example) receives Bob's (y.example)
//! message with its frank, reports it through her provider, and the hub verifies the frank
//! against the reported plaintext and queues the report for its operators, where the reported
//! text can be read. A report of one's own message, or of a message the device does not hold,
//! is refused on the device; the room goes on (a sentinel reaches everyone).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{THREE, alice_bob_carol, member, providers, settle, texts};
use mimi_content::MimiContent;
use mimi_sdk::{Preset, SdkError};
use mimi_server::accounts::Accounts;

#[test]
fn a_franked_message_is_reported_verified_and_queued_for_the_hub_operators() {
    let p = providers(&THREE);
    let servers = &p.servers;
    p.runtime.block_on(async {
        let (mut alice, mut bob, mut carol) = alice_bob_carol(&p).await;
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
        let abusive = bob.send_text(&room, "you will regret this").await.unwrap();
        let own = carol.send_text(&room, "please stop").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| texts(d, &room).len() == 2)
        })
        .await;

        // Refused on the device: one's own message, and a message it does not hold.
        let err = carol.report_abuse(&room, &[own], "x").await.unwrap_err();
        assert!(
            matches!(err, SdkError::Input(ref m) if m.contains("your own")),
            "{err}"
        );
        let unknown = mimi_content::MessageId([7; 32]);
        let err = carol
            .report_abuse(&room, &[unknown], "x")
            .await
            .unwrap_err();
        assert!(
            matches!(err, SdkError::Input(ref m) if m.contains("no message")),
            "{err}"
        );

        let reported = carol
            .report_abuse(&room, &[abusive], "threats")
            .await
            .unwrap();
        assert_eq!(reported, *bob.user());

        // The hub's operators find it, with the plaintext the frank vouches for.
        let accounts = Accounts::open_in(&servers.join("x.example")).await.unwrap();
        let queue = accounts.abuse_reports(true, 0, 10).await.unwrap();
        assert_eq!(queue.len(), 1, "{queue:?}");
        let queued = &queue[0];
        assert_eq!(queued.room, room);
        assert_eq!(queued.peer.as_str(), "z.example");
        assert_eq!(
            queued.report.reporting_user.as_str(),
            "mimi://z.example/u/carol"
        );
        assert_eq!(
            queued.report.alleged_abuser_uri.as_str(),
            "mimi://y.example/u/bob"
        );
        assert_eq!(queued.report.note, "threats");
        assert_eq!(queued.report.messages.len(), 1);
        let content = MimiContent::decode(&queued.report.messages[0].message_content).unwrap();
        assert_eq!(
            content.extensions.sender_uri(),
            Some("mimi://y.example/u/bob")
        );
        assert!(
            accounts
                .resolve_abuse_report(queued.id, 1, "warned bob")
                .await
                .unwrap()
        );
        assert!(
            accounts
                .abuse_reports(true, 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            !accounts
                .resolve_abuse_report(queued.id, 2, "again")
                .await
                .unwrap()
        );

        // The sentinel.
        alice.send_text(&room, "sentinel").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| texts(d, &room).len() == 3)
        })
        .await;
    });
}
