//! The event feed as a WebSocket: events pushed as they are stored, resumable by cursor, and
//! refused without a token.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::device::{Api, Device};
use common::ws::connect;
use futures_util::StreamExt as _;
use mimi_client_api::Event;
use tokio_tungstenite::tungstenite::Message;

async fn next_event<S>(socket: &mut S) -> Event
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
}

#[test]
fn events_are_pushed_and_resumable() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        Device::register_user(&x, "alice").await;
        let mut alice = Device::register(&x, "alice", "phone", 0).await;
        let room = alice.create_room("mimi://x.example/r/ws").await;
        let url = format!("ws://{}/v1/events/ws?after=0", nodes[0].client_addr);

        let refused = tokio_tungstenite::connect_async(url).await.unwrap_err();
        match refused {
            tokio_tungstenite::tungstenite::Error::Http(response) => {
                assert_eq!(response.status().as_u16(), 401);
            }
            other => panic!("expected an HTTP refusal, got {other}"),
        }

        let addr = nodes[0].client_addr;
        let mut socket = connect(addr, &alice.token, 0).await.unwrap();
        alice.send(&room, "one").await.unwrap();
        alice.send(&room, "two").await.unwrap();
        let first = next_event(&mut socket).await;
        let second = next_event(&mut socket).await;
        assert!(first.seq < second.seq);
        assert_eq!(first.room, room.to_string());
        drop(socket);

        // Resume after the first: only the second comes again.
        let mut socket = connect(addr, &alice.token, first.seq).await.unwrap();
        assert_eq!(next_event(&mut socket).await, second);
    });
    drop(runtime);
    drop(nodes);
}

/// After a page with a large event the provider closes the stream, so that neither side keeps
/// that message's buffers for the connection's life; opened again from the cursor, the stream
/// goes on with nothing lost. Small events leave it open.
#[test]
fn a_stream_closes_after_a_large_event_and_resumes_from_its_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        Device::register_user(&x, "alice").await;
        let mut alice = Device::register(&x, "alice", "phone", 0).await;
        let room = alice.create_room("mimi://x.example/r/large").await;
        let addr = nodes[0].client_addr;
        let mut socket = connect(addr, &alice.token, 0).await.unwrap();
        alice.send(&room, "small").await.unwrap();
        let small = next_event(&mut socket).await;
        alice.send(&room, &"x".repeat(200 * 1024)).await.unwrap();
        let large = next_event(&mut socket).await;
        assert!(
            large.seq > small.seq,
            "the small event left the stream open"
        );
        assert!(serde_json::to_string(&large).unwrap().len() > 128 * 1024);
        let closed = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("the provider closes within 10 s");
        assert!(
            matches!(closed, None | Some(Ok(Message::Close(_)))),
            "{closed:?}"
        );

        alice.send(&room, "after").await.unwrap();
        let mut socket = connect(addr, &alice.token, large.seq).await.unwrap();
        let after = next_event(&mut socket).await;
        assert!(after.seq > large.seq);
        assert!(serde_json::to_string(&after).unwrap().len() < 128 * 1024);
    });
    drop(runtime);
    drop(nodes);
}
