//! Ephemeral messages (typing indicators) through three servers: relayed to live WebSocket
//! streams on the hub and on followers, never stored (the long-poll feed after the same cursor
//! stays empty), and refused for a non-member or a sender acting for someone else.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::device::{Api, Device, settle};
use common::ws::{Socket, connect};
use futures_util::StreamExt as _;
use mimi_client_api::{ErrorCode, Event};
use tokio_tungstenite::tungstenite::Message;

async fn stream(addr: std::net::SocketAddr, device: &Device) -> Socket {
    connect(addr, &device.token, device.cursor).await.unwrap()
}

/// The next ephemeral event on the socket within 10 s (stored events are skipped).
async fn next_ephemeral(socket: &mut Socket) -> Event {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("an ephemeral event within 10 s")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            let event: Event = serde_json::from_str(text.as_str()).unwrap();
            if event.ephemeral {
                return event;
            }
        }
    }
}

#[test]
fn typing_reaches_live_streams_only_and_non_members_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        let z = Api::new(nodes[2].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "bob").await;
        Device::register_user(&z, "carol").await;
        Device::register_user(&y, "dave").await;
        let mut alice = Device::register(&x, "alice", "phone", 3).await;
        let mut bob = Device::register(&y, "bob", "laptop", 3).await;
        let mut carol = Device::register(&z, "carol", "tablet", 3).await;
        let dave = Device::register(&y, "dave", "phone", 3).await;
        let room = alice.create_room("mimi://x.example/r/typing").await;
        let users = [bob.user().clone(), carol.user().clone()];
        alice.add_users(&room, &users).await;
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;
        let cursors = [alice.cursor, bob.cursor, carol.cursor];

        let mut alice_ws = stream(nodes[0].client_addr, &alice).await;
        let mut bob_ws = stream(nodes[1].client_addr, &bob).await;
        let mut carol_ws = stream(nodes[2].client_addr, &carol).await;

        // From the hub's own device: to followers' live streams.
        let alice_user = alice.user().clone();
        let typing = alice.ephemeral(&room, &alice_user, b"typing");
        alice.post_typing(&room, &typing).await.unwrap();
        let at_bob = next_ephemeral(&mut bob_ws).await;
        let at_carol = next_ephemeral(&mut carol_ws).await;
        for event in [&at_bob, &at_carol] {
            assert_eq!(event.seq, 0);
            assert_eq!(event.room, room.to_string());
            assert_eq!(
                event.payload,
                mimi_federation_api::decode_exact::<
                    mimi_federation_api::submit_message::SubmitMessageRequest,
                >(&typing.request)
                .unwrap()
                .app_message
                .as_bytes()
            );
        }

        // From a follower's device: through the hub to the hub's and the other follower's.
        let bob_user = bob.user().clone();
        let typing = bob.ephemeral(&room, &bob_user, b"typing too");
        bob.post_typing(&room, &typing).await.unwrap();
        next_ephemeral(&mut alice_ws).await;
        next_ephemeral(&mut carol_ws).await;

        // Never stored: the feeds after the cursors before the typing are still empty.
        tokio::time::sleep(Duration::from_millis(300)).await;
        for (device, cursor) in [&alice, &bob, &carol].into_iter().zip(cursors) {
            let path = format!("/v1/events?after={cursor}&wait_ms=0");
            let response: mimi_client_api::EventsResponse = device
                .api
                .call(
                    reqwest::Method::GET,
                    &path,
                    Some(&device.token),
                    None::<&()>,
                )
                .await
                .unwrap();
            assert!(
                response.events.is_empty(),
                "{} has stored events: {:?}",
                device.client(),
                response.events
            );
        }

        // Acting for another user: refused by the sender's own provider.
        let forged = alice.ephemeral(&room, &bob_user, b"forged");
        let refused = alice.post_typing(&room, &forged).await.unwrap_err();
        assert_eq!(refused.status, 403);
        assert_eq!(refused.error.unwrap().code, ErrorCode::Forbidden);

        // A non-member (dave, on a follower) naming himself: the hub refuses, 403.
        let dave_user = dave.user().clone();
        let not_member = bob.ephemeral(&room, &dave_user, b"not a member");
        let refused = dave.post_typing(&room, &not_member).await.unwrap_err();
        assert_eq!(refused.status, 403, "{:?}", refused.error);
        assert_eq!(refused.error.unwrap().code, ErrorCode::Forbidden);
    });
    drop(runtime);
    drop(nodes);
}
