//! Hub retraction of abusive messages (hub-retracted-messages-00) through three real
//! providers: Carol (z.example) reports Bob's (y.example) message to the hub (x.example); the
//! hub's operator resolves the report with a retraction, which `mimi serve` carries out (the
//! hub signs an AppEphemeral proposal as external sender and fans it out); every member's
//! view then shows the message removed by the provider, on all three providers. Then the
//! range form (every message of Bob from a time on). A request for a room this hub does not
//! host is refused with nothing sent. A sentinel message reaches everyone after each.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{THREE, alice_bob_carol, member, providers, settle, texts};
use mimi_content::MessageId;
use mimi_room::components::{HubRetractedMessages, HubRetractedRange, HubRetraction};
use mimi_sdk::{Device, Preset};
use mimi_server::accounts::Accounts;
use mimi_types::RoomUri;

fn retracted(device: &Device, room: &RoomUri, id: &MessageId) -> bool {
    device
        .engine()
        .room(room)
        .and_then(|v| v.message(id).and_then(|m| m.retracted.clone()))
        .is_some_and(|r| r.by.to_string() == "mimi://x.example/u/_policy-enforcer")
}

/// Waits (up to 30 s) for the running server to carry out request `id`; its outcome.
async fn outcome(accounts: &Accounts, id: u64) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((_, outcome)) = accounts.retraction_request(id).await.unwrap().unwrap().done
            && outcome != "being carried out"
        {
            return outcome;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server did not carry out retraction #{id}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn the_operator_retracts_a_reported_message_and_every_member_hides_it() {
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
        let kind = carol.send_text(&room, "please stop").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| texts(d, &room).len() == 2)
        })
        .await;
        carol
            .report_abuse(&room, &[abusive], "threats")
            .await
            .unwrap();

        // The operator resolves the report with a retraction of the reported message.
        let accounts = Accounts::open_in(&servers.join("x.example")).await.unwrap();
        let report = accounts.abuse_reports(true, 0, 10).await.unwrap().remove(0);
        assert_eq!(report.message_ids(), vec![abusive.0]);
        let by_id = HubRetraction::Messages(HubRetractedMessages {
            hub_retracted_timestamp: 0,
            remover_uri: mimi_room::presets::hub_service_user(room.hub_domain()),
            reason_code: None,
            retracted_messages: report.message_ids(),
        });
        let id = accounts
            .request_retraction(&room, &by_id, Some(report.id), 1)
            .await
            .unwrap();
        let done = outcome(&accounts, id).await;
        assert!(done.starts_with("retracted 1 message"), "{done}");
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| retracted(d, &room, &abusive))
        })
        .await;
        for d in [&alice, &bob, &carol] {
            let view = d.engine().room(&room).unwrap();
            let m = view.message(&abusive).unwrap();
            assert!(m.deleted && m.body.text.is_empty(), "{m:?}");
            assert!(
                !retracted(d, &room, &kind),
                "only the reported message goes"
            );
            assert_eq!(texts(d, &room), ["<deleted>", "please stop"]);
        }
        alice.send_text(&room, "sentinel 1").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| texts(d, &room).len() == 3)
        })
        .await;

        // The range form: every message of Bob from his next one on.
        let first = bob.send_text(&room, "spam 1").await.unwrap();
        let second = bob.send_text(&room, "spam 2").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| texts(d, &room).len() == 5)
        })
        .await;
        let since = alice
            .engine()
            .room(&room)
            .unwrap()
            .message(&first)
            .unwrap()
            .timestamp;
        let range = HubRetraction::Range(HubRetractedRange {
            hub_retracted_timestamp: 0,
            remover_uri: mimi_room::presets::hub_service_user(room.hub_domain()),
            reason_code: Some(1),
            abusive_sender_uri: bob.user().clone(),
            starting_timestamp: Some(since),
        });
        let id = accounts
            .request_retraction(&room, &range, None, 2)
            .await
            .unwrap();
        let done = outcome(&accounts, id).await;
        assert!(done.starts_with("retracted every message of"), "{done}");
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter()
                .all(|d| retracted(d, &room, &first) && retracted(d, &room, &second))
        })
        .await;
        for d in [&alice, &bob, &carol] {
            assert!(!retracted(d, &room, &kind));
        }

        // A room this hub does not host: refused, nothing sent.
        let elsewhere = bob.room_uri("elsewhere").unwrap();
        let id = accounts
            .request_retraction(&elsewhere, &range, None, 3)
            .await
            .unwrap();
        let done = outcome(&accounts, id).await;
        assert!(done.contains("not by this provider"), "{done}");

        alice.send_text(&room, "sentinel 2").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter()
                .all(|d| texts(d, &room).last().map(String::as_str) == Some("sentinel 2"))
        })
        .await;
    });
}
