//! A device's WebSocket event stream (`/v1/events/ws`) as the tests open it.

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// An open event stream.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The event stream of the device with bearer `token` at the client API `addr`, from cursor
/// `after`; a refusal gives its HTTP status.
pub async fn connect(addr: std::net::SocketAddr, token: &str, after: u64) -> Result<Socket, u16> {
    let url = format!("ws://{addr}/v1/events/ws?after={after}");
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(other) => panic!("connecting the event stream: {other}"),
    }
}
