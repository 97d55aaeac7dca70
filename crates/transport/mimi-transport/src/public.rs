//! A public listener: HTTPS without client certificates (or plain HTTP), for the routes that
//! devices and people reach, such as a provider's client API.
//!
//! Unlike the federation listener ([`crate::server`]) it authenticates nobody at the TLS layer;
//! it shares that listener's connection hygiene:
//!
//! * a TLS handshake must finish within `handshake_timeout`;
//! * every request head (the first one, and each next one on a kept-alive connection) must
//!   arrive within `header_read_timeout`, so half-open requests and idle keep-alive
//!   connections are closed instead of holding a socket and a task;
//! * HTTP/1.1 only, with upgrades (WebSocket) allowed; the peer's socket address reaches the
//!   handlers as [`axum::extract::ConnectInfo<SocketAddr>`];
//! * on shutdown, requests in flight get up to `drain_timeout` to finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::error::TransportError;
use crate::identity::TlsIdentity;

/// How the public listener behaves.
#[derive(Debug, Clone)]
pub struct PublicConfig {
    /// Our certificate and key: HTTPS. `None`: plain HTTP.
    pub tls: Option<TlsIdentity>,
    /// How long a request head may take to arrive, and how long a kept-alive connection may
    /// sit idle between requests.
    pub header_read_timeout: Duration,
    /// How long a TLS handshake may take.
    pub handshake_timeout: Duration,
    /// How long in-flight requests may take to finish after shutdown is asked.
    pub drain_timeout: Duration,
}

impl Default for PublicConfig {
    /// Plain HTTP, 30 s request heads, 10 s handshakes, 10 s drain.
    fn default() -> Self {
        Self {
            tls: None,
            header_read_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

/// A rustls server configuration for `identity`: no client certificates, HTTP/1.1 by ALPN.
pub fn public_tls(identity: &TlsIdentity) -> Result<Arc<rustls::ServerConfig>, TransportError> {
    let mut tls = rustls::ServerConfig::builder_with_provider(crate::crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(identity.cert_chain.clone(), identity.key.clone_key())?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(tls))
}

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests finish
/// (up to the drain timeout).
pub async fn serve_public(
    listener: TcpListener,
    config: PublicConfig,
    app: Router,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), TransportError> {
    let acceptor = match &config.tls {
        Some(identity) => Some(TlsAcceptor::from(public_tls(identity)?)),
        None => None,
    };
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small answers (a long poll's events) leave at once rather than after Nagle's wait.
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(%remote, %err, "cannot set TCP_NODELAY");
        }
        let acceptor = acceptor.clone();
        let app = app.clone();
        let config = config.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let Some(acceptor) = acceptor else {
                serve_connection(tcp, remote, app, &config, watcher).await;
                return;
            };
            match tokio::time::timeout(config.handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => serve_connection(stream, remote, app, &config, watcher).await,
                Ok(Err(err)) => tracing::debug!(%remote, %err, "TLS handshake refused"),
                Err(_) => tracing::debug!(%remote, "TLS handshake timed out"),
            }
        });
    }
    drop(listener);
    drain(graceful, config.drain_timeout).await;
    Ok(())
}

async fn serve_connection<S>(
    stream: S,
    remote: SocketAddr,
    app: Router,
    config: &PublicConfig,
    watcher: hyper_util::server::graceful::Watcher,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
        req.extensions_mut().insert(ConnectInfo(remote));
        app.clone().oneshot(req)
    });
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    let builder = builder.http1_only();
    let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    if let Err(err) = watcher.watch(conn).await {
        tracing::debug!(%remote, %err, "connection ended with an error");
    }
}

/// Waits for the connections `graceful` watches to finish, at most `timeout`.
pub(crate) async fn drain(graceful: GracefulShutdown, timeout: Duration) {
    if tokio::time::timeout(timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not finish within the drain timeout");
    }
}
