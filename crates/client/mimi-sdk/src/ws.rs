//! The event feed over WebSocket (`GET /v1/events/ws?after=N`), where the provider offers it:
//! events are pushed as they are stored instead of long-polled.

use std::time::Duration;

use mimi_client_api::{Event, routes};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::error::SdkError;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Whether this device streams its feed over a WebSocket.
#[derive(Default)]
pub(crate) enum Stream {
    /// Not tried yet.
    #[default]
    Untried,
    /// The provider has no WebSocket route (or the URL is `https`): long-poll.
    Unavailable,
    /// Connected.
    Open(Box<Socket>),
}

/// Connects to the WebSocket feed after `after`; `Ok(None)` if the provider does not offer one.
pub(crate) async fn connect(
    base: &str,
    token: &str,
    after: u64,
) -> Result<Option<Box<Socket>>, SdkError> {
    let Some(rest) = base.strip_prefix("http://") else {
        // TLS WebSockets would need a second TLS stack here: https providers are long-polled.
        return Ok(None);
    };
    let url = format!("ws://{rest}{}?after={after}", routes::EVENTS_WS.path);
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| SdkError::Input(format!("{url}: {e}")))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|e| SdkError::Input(format!("the stored token is not a header value: {e}")))?;
    request.headers_mut().insert("authorization", bearer);
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(Some(Box::new(socket))),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            tracing::debug!(status = %response.status(), "no WebSocket feed; long-polling");
            Ok(None)
        }
        Err(e) => Err(SdkError::Unreachable {
            url: url.clone(),
            reason: e.to_string(),
        }),
    }
}

/// Waits up to `wait` for the next events: the first frame, then whatever else is ready.
/// `Err` means the connection is gone (the caller reconnects or falls back).
pub(crate) async fn next(socket: &mut Socket, wait: Duration) -> Result<Vec<Event>, String> {
    use futures_util::StreamExt as _;
    let mut events = Vec::new();
    let first = match tokio::time::timeout(wait, socket.next()).await {
        Err(_) => return Ok(events),
        Ok(None) => return Err("the provider closed the event stream".into()),
        Ok(Some(frame)) => frame.map_err(|e| e.to_string())?,
    };
    let mut frame = Some(first);
    while let Some(message) = frame.take() {
        match message {
            Message::Text(text) => events.push(
                serde_json::from_str::<Event>(text.as_str())
                    .map_err(|e| format!("an event frame does not decode: {e}"))?,
            ),
            Message::Close(_) => return Err("the provider closed the event stream".into()),
            _ => {}
        }
        if let Ok(Some(more)) = tokio::time::timeout(Duration::from_millis(5), socket.next()).await
        {
            frame = Some(more.map_err(|e| e.to_string())?);
        }
    }
    Ok(events)
}
