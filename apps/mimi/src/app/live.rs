//! The WebSocket of live updates: each change the worker publishes (a message, an edit, a
//! reaction, a receipt, someone typing, a room joined) goes to every open page as one JSON text
//! naming what changed; the page fetches what it shows again.

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use tokio::sync::broadcast;

use super::worker::Handle;

/// The WebSocket's path (the token comes as `?token=`: a browser's WebSocket cannot send an
/// `Authorization` header).
pub(crate) const PATH: &str = "/api/live";

pub(crate) async fn upgrade(State(worker): State<Handle>, upgrade: WebSocketUpgrade) -> Response {
    let updates = worker.subscribe();
    upgrade.on_upgrade(move |socket| forward(updates, socket))
}

async fn forward(mut updates: broadcast::Receiver<String>, mut socket: WebSocket) {
    if socket
        .send(Message::Text(r#"{"type":"hello"}"#.into()))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            update = updates.recv() => {
                let text = match update {
                    Ok(text) => text,
                    // The page fell behind: it fetches everything again.
                    Err(broadcast::error::RecvError::Lagged(_)) => r#"{"type":"rooms"}"#.to_owned(),
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_) | Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
