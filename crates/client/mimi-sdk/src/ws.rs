//! The event feed over WebSocket (`GET /v1/events/ws?after=N`), where the provider offers it:
//! events are pushed as they are stored instead of long-polled.

use std::sync::Arc;
use std::time::Duration;

use mimi_client_api::{Event, routes};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::error::SdkError;

/// A TCP or TLS connection.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

type Socket = WebSocketStream<Box<dyn Io>>;

/// Whether this device streams its feed over a WebSocket.
#[derive(Default)]
pub(crate) enum Stream {
    /// Not tried yet.
    #[default]
    Untried,
    /// The provider has no WebSocket route: long-poll.
    Unavailable,
    /// Connected.
    Open(Box<Socket>),
}

/// The TLS client configuration of an `https` provider: trusting the public web PKI roots and
/// the pinned certificates (PEM) if any, as the HTTP side does.
fn tls_config(server_cert: Option<&str>) -> Result<rustls::ClientConfig, SdkError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let pin_error =
        |e: &dyn std::fmt::Display| SdkError::Input(format!("the pinned server certificate: {e}"));
    for cert in CertificateDer::pem_slice_iter(server_cert.unwrap_or_default().as_bytes()) {
        roots
            .add(cert.map_err(|e| pin_error(&e))?)
            .map_err(|e| pin_error(&e))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SdkError::Input(format!("TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Opens the connection under the WebSocket: TCP, then TLS for `https`.
async fn open(base: &str, server_cert: Option<&str>) -> Result<Box<dyn Io>, SdkError> {
    let unreachable = |reason: String| SdkError::Unreachable {
        url: base.to_owned(),
        reason,
    };
    let url = reqwest::Url::parse(base).map_err(|e| SdkError::Input(format!("{base}: {e}")))?;
    let host = url
        .host_str()
        .ok_or_else(|| SdkError::Input(format!("{base}: no host")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = url
        .port_or_known_default()
        .ok_or_else(|| SdkError::Input(format!("{base}: no port")))?;
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    if url.scheme() != "https" {
        return Ok(Box::new(tcp));
    }
    let name = ServerName::try_from(host).map_err(|e| SdkError::Input(format!("{base}: {e}")))?;
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config(server_cert)?));
    let tls = connector.connect(name, tcp).await.map_err(|e| {
        let reason = e.to_string();
        if reason.contains("invalid peer certificate") {
            SdkError::UntrustedServer {
                url: base.to_owned(),
                reason,
            }
        } else {
            unreachable(reason)
        }
    })?;
    Ok(Box::new(tls))
}

/// Connects to the WebSocket feed after `after` (over TLS for an `https` provider, verified
/// as the HTTP side verifies it); `Ok(None)` if the provider does not offer one.
pub(crate) async fn connect(
    base: &str,
    server_cert: Option<&str>,
    token: &str,
    after: u64,
) -> Result<Option<Box<Socket>>, SdkError> {
    let rest = base
        .strip_prefix("http://")
        .or_else(|| base.strip_prefix("https://"))
        .ok_or_else(|| SdkError::Input(format!("{base} is not an http(s) URL")))?;
    let scheme = if base.starts_with("https://") {
        "wss"
    } else {
        "ws"
    };
    let url = format!("{scheme}://{rest}{}?after={after}", routes::EVENTS_WS.path);
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| SdkError::Input(format!("{url}: {e}")))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {token}"))
        .map_err(|e| SdkError::Input(format!("the stored token is not a header value: {e}")))?;
    request.headers_mut().insert("authorization", bearer);
    let io = open(base, server_cert).await?;
    match tokio_tungstenite::client_async(request, io).await {
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

/// What one wait on the stream gave.
pub(crate) struct Pushed {
    /// The events, in order.
    pub(crate) events: Vec<Event>,
    /// The provider closed the stream after them (it does after a large event, so that
    /// neither side keeps that message's buffers): open it again next time, from the cursor.
    pub(crate) closed: bool,
}

/// Waits up to `wait` for the next events: the first frame, then whatever else is ready.
/// `Err` means the connection is gone with nothing received (the caller reconnects or falls
/// back).
pub(crate) async fn next(socket: &mut Socket, wait: Duration) -> Result<Pushed, String> {
    use futures_util::StreamExt as _;
    let mut events = Vec::new();
    let first = match tokio::time::timeout(wait, socket.next()).await {
        Err(_) => {
            return Ok(Pushed {
                events,
                closed: false,
            });
        }
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
            Message::Close(_) if events.is_empty() => {
                return Err("the provider closed the event stream".into());
            }
            Message::Close(_) => {
                return Ok(Pushed {
                    events,
                    closed: true,
                });
            }
            _ => {}
        }
        if let Ok(Some(more)) = tokio::time::timeout(Duration::from_millis(5), socket.next()).await
        {
            frame = Some(more.map_err(|e| e.to_string())?);
        }
    }
    Ok(Pushed {
        events,
        closed: false,
    })
}
