//! A removed device stops receiving at once: its open WebSocket stream closes with the removal
//! close code and a reason, its waiting long poll answers 401, and nothing stored for it after
//! the removal reaches it; another device of the same user streams on.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::device::{Api, Device};
use common::ws::{Socket, connect};
use futures_util::{SinkExt as _, StreamExt as _};
use mimi_client_api::{DeviceRemoved, Event, EventsResponse};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// The close code of a removed device's stream (the provider's `REMOVED_CLOSE_CODE`).
const REMOVED_CLOSE_CODE: u16 = 4401;

/// The next message on `socket` other than a ping or pong, within 10 s (`None`: it ended).
async fn next_message(socket: &mut Socket) -> Option<Message> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message or the end within 10 s");
        match message {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(message)) => return Some(message),
            Some(Err(_)) | None => return None,
        }
    }
}

/// The cursor after everything stored for the device with `token` so far.
async fn cursor(api: &Api, token: &str) -> u64 {
    let page: EventsResponse = api
        .call(
            reqwest::Method::GET,
            "/v1/events?after=0&wait_ms=0",
            Some(token),
            None::<&()>,
        )
        .await
        .unwrap();
    page.next
}

#[test]
fn a_removed_device_stops_receiving_at_once_and_another_streams_on() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let addr = nodes[0].client_addr;
        let mut alice = Device::new_user(&x, "alice", "phone", 0).await;
        Device::register_user(&x, "bob").await;
        let mut bob_phone = Device::register(&x, "bob", "phone", 1).await;
        let tablet = Device::register(&x, "bob", "tablet", 1).await;
        let laptop = Device::register(&x, "bob", "laptop", 1).await;
        let desk = Device::register(&x, "bob", "desk", 1).await;
        let room = alice.create_room("mimi://x.example/r/removal").await;
        let bob = bob_phone.user().clone();
        alice.add_users(&room, &[bob]).await;
        common::device::settle(&mut [&mut bob_phone], |d| d[0].is_member(&room)).await;

        // Bob's tablet and desk stream over WebSockets, his laptop long-polls, each from the
        // end of what it was sent so far (its Welcome).
        let mut tablet_socket = connect(addr, &tablet.token, cursor(&x, &tablet.token).await)
            .await
            .unwrap();
        let desk_after = cursor(&x, &desk.token).await;
        let mut desk_socket = connect(addr, &desk.token, desk_after).await.unwrap();
        let laptop_after = cursor(&x, &laptop.token).await;
        let long_poll = {
            let (x, token) = (x.clone(), laptop.token.clone());
            tokio::spawn(async move {
                let path = format!("/v1/events?after={laptop_after}&wait_ms=30000");
                let started = std::time::Instant::now();
                let answer: Result<EventsResponse, _> = x
                    .call(reqwest::Method::GET, &path, Some(&token), None::<&()>)
                    .await;
                (answer, started.elapsed())
            })
        };
        // Let the long poll reach its wait (if it does not, it is refused all the same).
        tokio::time::sleep(Duration::from_millis(500)).await;

        // Bob's phone removes the tablet and the laptop.
        for device in ["tablet", "laptop"] {
            let removed: DeviceRemoved = x
                .call(
                    reqwest::Method::DELETE,
                    &format!("/v1/devices/{device}"),
                    Some(&bob_phone.token),
                    None::<&()>,
                )
                .await
                .unwrap();
            assert!(removed.client.ends_with(&format!("/{device}")));
            assert_eq!(removed.rooms, vec![room.to_string()]);
        }

        // The tablet's stream ends with the removal's close code and a reason, before any
        // event: nothing was stored for it between its connection and its removal, and
        // nothing after reaches it (the hub's proposal to remove it included).
        match next_message(&mut tablet_socket).await {
            Some(Message::Close(Some(frame))) => {
                assert_eq!(frame.code, CloseCode::from(REMOVED_CLOSE_CODE));
                assert!(frame.reason.contains("removed"), "{}", frame.reason);
            }
            other => panic!("the removed tablet's stream must close first, got {other:?}"),
        }
        // The laptop's long poll answers 401 at once, not at the end of its wait.
        let (answer, waited) = long_poll.await.unwrap();
        let refused = answer.expect_err("a removed device's long poll is refused");
        assert_eq!(refused.status, 401);
        assert!(
            refused.error.as_ref().is_some_and(
                |e| e.message.contains("removed") || e.message.contains("unknown bearer token")
            ),
            "{:?}",
            refused.error
        );
        assert!(
            waited < Duration::from_secs(25),
            "answered after {waited:?}"
        );

        // Messages sent once the removals are durable: the desk (not removed) gets them,
        // the removed devices cannot read them, by either route.
        alice.send(&room, "after the removal").await.unwrap();
        common::device::settle(&mut [&mut bob_phone], |d| {
            d[0].texts(&room).iter().any(|t| t == "after the removal")
        })
        .await;
        // Everything stored for the desk so far, the message included, reaches its stream.
        let desk_last = cursor(&x, &desk.token).await;
        assert!(
            desk_last > desk_after,
            "the message was stored for the desk"
        );
        let mut seen = desk_after;
        while seen < desk_last {
            match next_message(&mut desk_socket).await {
                Some(Message::Text(text)) => {
                    let event: Event = serde_json::from_str(text.as_str()).unwrap();
                    assert!(event.seq > seen, "in order, once each");
                    seen = event.seq;
                }
                other => panic!("the desk's stream must stay open, got {other:?}"),
            }
        }
        for removed in [&tablet, &laptop] {
            assert_eq!(connect(addr, &removed.token, 0).await.err(), Some(401));
            let polled: Result<EventsResponse, _> = x
                .call(
                    reqwest::Method::GET,
                    "/v1/events?after=0&wait_ms=0",
                    Some(&removed.token),
                    None::<&()>,
                )
                .await;
            assert_eq!(polled.map(|_| ()).unwrap_err().status, 401);
        }
        // The desk still streams: the provider answers its ping.
        desk_socket
            .send(Message::Ping(b"desk".to_vec().into()))
            .await
            .unwrap();
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), desk_socket.next())
                .await
                .expect("the desk's ping answered within 10 s");
            match message {
                Some(Ok(Message::Pong(payload))) => {
                    assert_eq!(&payload[..], b"desk");
                    break;
                }
                Some(Ok(Message::Ping(_) | Message::Text(_))) => {}
                other => panic!("the desk's stream must stay open, got {other:?}"),
            }
        }
    });
    drop(runtime);
    drop(nodes);
}

/// Where processes share the accounts (PostgreSQL), another process may remove a device: a
/// stream of it here learns so by its own token before sending the next page, so it ends
/// even if a device of the same name was registered again meanwhile (with a new token).
/// Skipped without `MIMI_TEST_DATABASE_URL`.
#[test]
fn a_device_removed_by_another_process_stops_receiving_by_its_token() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(common::PgDatabase::create(
        "a_device_removed_by_another_process_stops_receiving_by_its_token",
    )) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = database.url.clone();
    let nodes = common::federation_with(dir.path(), &["x.example"], |_, c| {
        c.database.url = Some(url.clone());
    });
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let addr = nodes[0].client_addr;
        let mut alice = Device::new_user(&x, "alice", "phone", 0).await;
        Device::register_user(&x, "bob").await;
        let mut bob_phone = Device::register(&x, "bob", "phone", 1).await;
        let tablet = Device::register(&x, "bob", "tablet", 1).await;
        let room = alice.create_room("mimi://x.example/r/elsewhere").await;
        let bob = bob_phone.user().clone();
        alice.add_users(&room, &[bob]).await;
        common::device::settle(&mut [&mut bob_phone], |d| d[0].is_member(&room)).await;
        let tablet_after = cursor(&x, &tablet.token).await;
        let mut tablet_socket = connect(addr, &tablet.token, tablet_after).await.unwrap();
        // The tablet also long-polls, with the same token.
        let long_poll = {
            let (x, token) = (x.clone(), tablet.token.clone());
            tokio::spawn(async move {
                let path = format!("/v1/events?after={tablet_after}&wait_ms=30000");
                let answer: Result<EventsResponse, _> = x
                    .call(reqwest::Method::GET, &path, Some(&token), None::<&()>)
                    .await;
                answer
            })
        };
        tokio::time::sleep(Duration::from_millis(500)).await;

        // Another process of the provider removes the tablet (its row goes), and a device of
        // the same name is registered again there.
        let pool = sqlx::PgPool::connect(&database.url).await.unwrap();
        let deleted = sqlx::query("DELETE FROM devices WHERE client = $1")
            .bind(tablet.client().to_string())
            .execute(&pool)
            .await
            .unwrap()
            .rows_affected();
        assert_eq!(deleted, 1);
        pool.close().await;
        let again = Device::register(&x, "bob", "tablet", 1).await;
        assert_ne!(again.token, tablet.token);

        // Something is stored for the old tablet's client: its stream closes instead of
        // sending it.
        alice
            .send(&room, "after the removal elsewhere")
            .await
            .unwrap();
        match next_message(&mut tablet_socket).await {
            Some(Message::Close(Some(frame))) => {
                assert_eq!(frame.code, CloseCode::from(REMOVED_CLOSE_CODE));
            }
            other => panic!("the old tablet's stream must close first, got {other:?}"),
        }
        let refused = long_poll
            .await
            .unwrap()
            .expect_err("the old tablet's long poll is refused");
        assert_eq!(refused.status, 401);
        assert_eq!(connect(addr, &tablet.token, 0).await.err(), Some(401));
        // Sentinel: the message reaches Bob's phone.
        common::device::settle(&mut [&mut bob_phone], |d| {
            d[0].texts(&room)
                .iter()
                .any(|t| t == "after the removal elsewhere")
        })
        .await;
    });
    drop(nodes);
    runtime.block_on(database.drop_now());
}
