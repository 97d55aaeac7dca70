//! History for a new device through real providers (issue 19 item 3): Bob adds a tablet after
//! 50 messages; his phone hands it the history of the room that allows sharing (all 50, in
//! order, marked imported) and nothing of the room that forbids it. A rogue local account
//! cannot reach the tablet's mailbox, and a history bundle made by another user (a room
//! member) and slipped into it by a rogue provider is refused; a sentinel message then still
//! arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::{federation, member, settle, texts, user};
use mimi_client_api::{MailboxPost, routes};
use mimi_client_core::HistoryError;
use mimi_room::components::HistoryPolicy;
use mimi_sdk::{Device, HistoryExchange, Preset};
use mimi_types::RoomUri;

async fn token_of(device: &Device) -> String {
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", device.path().display()))
        .await
        .unwrap();
    let (json,): (String,) = sqlx::query_as("SELECT json FROM profile WHERE id = 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    let profile: serde_json::Value = serde_json::from_str(&json).unwrap();
    profile["token"].as_str().unwrap().to_owned()
}

/// Exchanges until the tablet has an answer for each of `rooms` (at most 30 s).
async fn receive(tablet: &mut Device, phone: &mut Device, rooms: &[RoomUri]) -> HistoryExchange {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut all = HistoryExchange::default();
    loop {
        phone.sync(0).await.unwrap();
        let got = tablet.exchange_history().await.unwrap();
        all.imported.extend(got.imported);
        all.not_shared.extend(got.not_shared);
        all.refused.extend(got.refused);
        if rooms.iter().all(|r| all.rooms_answered().contains(r)) {
            return all;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no history answer for every room: {all:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn add_device(node: &common::Node, profiles: &Path, rooms: &[RoomUri]) -> Device {
    let mut tablet = Device::register_device(
        &profiles.join("bob-tablet"),
        &mimi_sdk::Credentials {
            server: node.base_url(),
            user_id: "bob".into(),
            password: "bob-password".into(),
            device_id: "tablet".into(),
            server_cert: None,
        },
    )
    .await
    .unwrap();
    for room in rooms {
        tablet.join_external(room).await.unwrap();
    }
    tablet
}

#[test]
fn a_device_added_after_50_messages_gets_them_where_the_policy_allows() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut phone = user(&nodes[1], &profiles.join("bob"), "bob").await;
        // "open" is hosted by Alice's provider, "closed" by Bob's and forbids sharing history.
        let open = alice.room_uri("open").unwrap();
        alice.create_room(&open, Preset::Cooperative).await.unwrap();
        alice.invite(&open, &[phone.user().clone()]).await.unwrap();
        let closed = phone.room_uri("closed").unwrap();
        phone
            .create_room_with_history_policy(&closed, Preset::Cooperative, &HistoryPolicy::Forbidden)
            .await
            .unwrap();
        phone.invite(&closed, &[alice.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut phone], |d| {
            member(d[0], &closed) && member(d[1], &open)
        })
        .await;
        for i in 0..50 {
            let (from, room) = if i % 2 == 0 {
                (&mut alice, &open)
            } else {
                (&mut phone, &open)
            };
            from.send_text(room, &format!("message {i}")).await.unwrap();
        }
        for i in 0..5 {
            phone
                .send_text(&closed, &format!("closed {i}"))
                .await
                .unwrap();
        }
        settle(&mut [&mut alice, &mut phone], |d| {
            texts(d[1], &open).len() == 50 && texts(d[0], &closed).len() == 5
        })
        .await;

        let rooms = [open.clone(), closed.clone()];
        let mut tablet = add_device(&nodes[1], &profiles, &rooms).await;
        assert!(texts(&tablet, &open).is_empty());
        let asked = tablet.request_history().await.unwrap();
        assert_eq!(asked.siblings, vec![phone.client_uri().clone()]);
        assert_eq!(asked.rooms.len(), 2);
        // The phone answers when it syncs and sees its sibling join; the tablet imports.
        let got = receive(&mut tablet, &mut phone, &rooms).await;
        assert!(got.refused.is_empty(), "{:?}", got.refused);
        assert_eq!(got.imported.len(), 1, "{got:?}");
        assert_eq!(got.imported[0].room, open);
        // The 50 messages and the delivery receipts the phone holds for them.
        assert!(got.imported[0].imported >= 50, "{got:?}");
        assert_eq!(got.not_shared.len(), 1, "{got:?}");
        assert_eq!(got.not_shared[0].0, closed);
        assert!(got.not_shared[0].1.contains("does not allow"), "{got:?}");

        assert_eq!(texts(&tablet, &open), texts(&phone, &open));
        let view = tablet.engine().room(&open).unwrap();
        assert_eq!(view.messages().len(), 50);
        assert_eq!(view.imported_messages(), 50);
        assert_eq!(view.messages()[0].body.text, "message 0");
        assert!(texts(&tablet, &closed).is_empty());
        assert!(
            tablet
                .take_events()
                .iter()
                .any(|e| matches!(e, mimi_sdk::ClientEvent::HistoryImported { room, entries, .. } if *room == open && *entries >= 50))
        );

        // The merged timeline is on disk: the tablet opens again with it.
        let path = tablet.path().to_owned();
        tablet.close().await;
        let mut tablet = Device::open(&path).await.unwrap();
        assert_eq!(texts(&tablet, &open), texts(&phone, &open));
        assert_eq!(tablet.engine().room(&open).unwrap().imported_messages(), 50);
        // And goes on: a new message shows after the imported ones.
        settle(&mut [&mut alice], |d| {
            d[0].engine().group(&open).unwrap().members().len() == 3
        })
        .await;
        alice.send_text(&open, "after the tablet").await.unwrap();
        settle(&mut [&mut alice, &mut tablet], |d| {
            texts(d[1], &open).len() == 51
        })
        .await;
        assert_eq!(texts(&tablet, &open)[50], "after the tablet");
    });
}

#[test]
fn forged_history_is_refused_and_the_room_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut phone = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let carol = user(&nodes[1], &profiles.join("carol"), "carol").await;
        let room = alice.room_uri("club").unwrap();
        alice.create_room(&room, Preset::Cooperative).await.unwrap();
        alice.invite(&room, &[phone.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut phone], |d| member(d[1], &room)).await;
        alice.send_text(&room, "before the tablet").await.unwrap();
        let mut tablet = add_device(&nodes[1], &profiles, std::slice::from_ref(&room)).await;
        settle(&mut [&mut alice, &mut phone, &mut tablet], |d| {
            d[0].engine().group(&room).unwrap().members().len() == 3
        })
        .await;

        // Nobody but Bob's own devices can address Bob's tablet: the device id names a device
        // of the caller's own user. Refused for a rogue local account (Carol, on Bob's
        // provider) and for a rogue member of the room (Alice, at her provider or at Bob's).
        let http = reqwest::Client::new();
        let send = |base: String, token: String, device: &str, item: Vec<u8>| {
            let path = routes::MAILBOX_SEND.path.replace("{device}", device);
            let request = http
                .post(format!("{base}{path}"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&MailboxPost { item }).unwrap());
            async move {
                let answer = request.send().await.unwrap();
                let status = answer.status().as_u16();
                let body: mimi_client_api::ApiError =
                    serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
                (status, body.message)
            }
        };
        let (carol_token, alice_token, phone_token) = (
            token_of(&carol).await,
            token_of(&alice).await,
            token_of(&phone).await,
        );
        let (status, message) =
            send(nodes[1].base_url(), carol_token.clone(), "tablet", vec![2]).await;
        assert_eq!(status, 404);
        assert!(message.contains("has no device tablet"), "{message}");
        for node in &nodes {
            let (status, _) = send(node.base_url(), alice_token.clone(), "tablet", vec![2]).await;
            assert!(status == 404 || status == 401, "{status}");
        }
        // Bob's phone may not write to itself, nor more than an item's limit.
        let (status, message) = send(nodes[1].base_url(), phone_token.clone(), "phone", vec![2]).await;
        assert_eq!(status, 400, "{message}");
        let big = vec![0; mimi_client_api::mailbox::MAX_MAILBOX_ITEM_BYTES + 1];
        let (status, message) = send(nodes[1].base_url(), phone_token, "tablet", big).await;
        assert_eq!(status, 413, "{message}");
        // Carol cannot take or delete another device's items.
        let answer = http
            .delete(format!("{}/v1/mailbox/1", nodes[1].base_url()))
            .bearer_auth(&carol_token)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404);
        let answer = http
            .get(format!("{}{}", nodes[1].base_url(), routes::MAILBOX.path))
            .bearer_auth(&carol_token)
            .send()
            .await
            .unwrap();
        let items: mimi_client_api::MailboxItems =
            serde_json::from_slice(&answer.bytes().await.unwrap()).unwrap();
        assert!(items.items.is_empty());

        // A rogue provider slips into the tablet's mailbox a bundle that Alice (a member of
        // the room, another user) signed for it.
        let request = tablet
            .engine()
            .history_request(mimi_sdk_now(), std::slice::from_ref(&room))
            .unwrap();
        let forged = alice
            .engine()
            .history_not_member(&request, std::slice::from_ref(&room))
            .unwrap()
            .remove(0)
            .1;
        let accounts = nodes[1].config.data_dir().join("accounts.sqlite3");
        let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", accounts.display()))
            .await
            .unwrap();
        sqlx::query("INSERT INTO mailbox (recipient, sender, item) VALUES (?, ?, ?)")
            .bind(tablet.client_uri().to_string())
            .bind(phone.client_uri().to_string())
            .bind(forged)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let got = tablet.exchange_history().await.unwrap();
        assert_eq!(got.refused.len(), 1, "{got:?}");
        // Alice is another user: her envelope would need the room's policy to let her share.
        assert!(
            matches!(&got.refused[0].1, HistoryError::NotASharer { sender, .. } if sender == alice.client_uri()),
            "{got:?}"
        );
        assert!(got.imported.is_empty() && got.not_shared.is_empty());
        assert_eq!(tablet.engine().room(&room).unwrap().imported_messages(), 0);
        // Dropped: the next exchange finds nothing.
        assert_eq!(tablet.exchange_history().await.unwrap(), HistoryExchange::default());

        // The sentinel still arrives, and the real history still comes from the phone.
        alice.send_text(&room, "sentinel").await.unwrap();
        settle(&mut [&mut alice, &mut phone, &mut tablet], |d| {
            texts(d[2], &room).contains(&"sentinel".to_owned())
        })
        .await;
        tablet.request_history().await.unwrap();
        phone.exchange_history().await.unwrap();
        let got = tablet.exchange_history().await.unwrap();
        assert_eq!(got.imported.len(), 1, "{got:?}");
        assert_eq!(
            texts(&tablet, &room),
            vec!["before the tablet".to_owned(), "sentinel".to_owned()]
        );
    });
}

fn mimi_sdk_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The new device asks and stops (as `mimi device add` does when the sibling is on another
/// machine); the phone answers later. The tablet's next sync (a new process, as the next CLI
/// command) takes its mailbox on its own and imports the history: no `exchange_history` call.
#[test]
fn a_late_answer_is_imported_by_the_next_sync() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut phone = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let room = alice.room_uri("late").unwrap();
        alice.create_room(&room, Preset::Cooperative).await.unwrap();
        alice.invite(&room, &[phone.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut phone], |d| member(d[1], &room)).await;
        for i in 0..3 {
            alice.send_text(&room, &format!("early {i}")).await.unwrap();
        }
        settle(&mut [&mut phone], |d| texts(d[0], &room).len() == 3).await;

        let mut tablet = add_device(&nodes[1], &profiles, std::slice::from_ref(&room)).await;
        tablet.request_history().await.unwrap();
        let path = tablet.path().to_owned();
        tablet.close().await;
        // The phone answers on its own (it sees its sibling join the room).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            phone.sync(0).await.unwrap();
            let answered = phone
                .take_events()
                .iter()
                .any(|e| matches!(e, mimi_sdk::ClientEvent::SiblingJoined { .. }));
            if answered {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the phone never saw the tablet"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The tablet, opened again, imports at its first sync.
        let mut tablet = Device::open(&path).await.unwrap();
        assert!(texts(&tablet, &room).is_empty());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while texts(&tablet, &room).len() < 3 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no history at the tablet"
            );
            tablet.sync(0).await.unwrap();
            if texts(&tablet, &room).len() < 3 {
                // Later syncs of the same process look again only after the poll interval:
                // open it again, as the next CLI command would.
                let path = tablet.path().to_owned();
                tablet.close().await;
                tablet = Device::open(&path).await.unwrap();
            }
        }
        assert_eq!(texts(&tablet, &room), texts(&phone, &room));
        assert_eq!(tablet.engine().room(&room).unwrap().imported_messages(), 3);
        // Sentinel: the room goes on for everyone.
        settle(&mut [&mut alice], |d| {
            d[0].engine().group(&room).unwrap().members().len() == 3
        })
        .await;
        alice.send_text(&room, "sentinel").await.unwrap();
        settle(&mut [&mut tablet, &mut phone], |d| {
            d.iter()
                .all(|d| texts(d, &room).last().map(String::as_str) == Some("sentinel"))
        })
        .await;
    });
}
