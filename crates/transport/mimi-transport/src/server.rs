//! The server-to-server listener: mutual TLS, then per-request checks before any body is read.
//!
//! Order of checks for every request (each refusal is logged with its reason):
//!
//! 1. TLS handshake: the client certificate must chain to the CA pinned for a domain it names
//!    (else the handshake fails and no HTTP is spoken).
//! 2. `Host` must be our domain (port ignored): else `421 Misdirected Request`.
//! 3. `From` must be `mimi@<peer domain>` (protocol-06 §4.1): else `403 Forbidden`. The
//!    directory (`GET /.well-known/...`) is exempt: it is public metadata.
//! 4. The peer's rate limit: else `429 Too Many Requests` with `Retry-After`.
//! 5. A declared `Content-Length` over the cap: `413 Payload Too Large`. Bodies without one are
//!    capped as they are read ([`axum::extract::DefaultBodyLimit`]).
//!
//! Handlers find the authenticated peer as a [`PeerDomain`] request extension.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use mimi_federation_api::directory::Directory;
use mimi_federation_api::http::Endpoint;
use mimi_types::Domain;
use rustls::pki_types::UnixTime;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use crate::error::TransportError;
use crate::identity::{TlsIdentity, TrustStore};
use crate::peer_auth::{PeerDomain, PinnedClientVerifier};
use crate::rate_limit::{RateLimit, RateLimiter};

/// The path of the directory document (protocol-06 §5.1).
pub const DIRECTORY_PATH: &str = "/.well-known/mimi-protocol-directory";

/// How the federation listener behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Our provider domain: the only `Host` we answer, and the name in our certificate.
    pub domain: Domain,
    /// Our certificate and key.
    pub identity: TlsIdentity,
    /// The CA pinned for each peer domain.
    pub trust: TrustStore,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Per-peer request rate.
    pub rate_limit: RateLimit,
    /// How long a TLS handshake may take.
    pub handshake_timeout: Duration,
    /// How long in-flight requests may take to finish after shutdown is asked.
    pub drain_timeout: Duration,
}

impl ServerConfig {
    /// A configuration with our defaults: 16 MiB bodies, 2,000 requests/s per peer (burst
    /// 4,000), 10 s handshakes, 10 s drain.
    pub fn new(domain: Domain, identity: TlsIdentity, trust: TrustStore) -> Self {
        Self {
            domain,
            identity,
            trust,
            max_body_bytes: 16 * 1024 * 1024,
            rate_limit: RateLimit::default(),
            handshake_timeout: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(10),
        }
    }
}

struct Guard {
    domain: Domain,
    max_body_bytes: usize,
    limiter: Mutex<RateLimiter>,
}

/// Serves `routes` to authenticated peers on `listener` until `shutdown` completes, then lets
/// in-flight requests finish (up to the drain timeout).
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    routes: Router,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), TransportError> {
    let verifier = Arc::new(PinnedClientVerifier::new(&config.trust)?);
    let mut tls = rustls::ServerConfig::builder_with_provider(crate::crypto_provider())
        .with_safe_default_protocol_versions()?
        .with_client_cert_verifier(verifier.clone())
        .with_single_cert(
            config.identity.cert_chain.clone(),
            config.identity.key.clone_key(),
        )?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(tls));

    let guard = Arc::new(Guard {
        domain: config.domain.clone(),
        max_body_bytes: config.max_body_bytes,
        limiter: Mutex::new(RateLimiter::new(config.rate_limit)),
    });
    let app = routes
        .layer(middleware::from_fn_with_state(guard, check_request))
        .layer(DefaultBodyLimit::max(config.max_body_bytes));

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
        let acceptor = acceptor.clone();
        let verifier = verifier.clone();
        let app = app.clone();
        let handshake_timeout = config.handshake_timeout;
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(err)) => {
                    let reason = handshake_failure(&err);
                    tracing::warn!(%remote, %reason, "TLS handshake refused");
                    return;
                }
                Err(_) => {
                    tracing::warn!(%remote, "TLS handshake timed out");
                    return;
                }
            };
            let peer = {
                let (_, conn) = stream.get_ref();
                let certs = conn.peer_certificates().unwrap_or_default();
                match certs.split_first() {
                    Some((leaf, rest)) => verifier.authenticate(leaf, rest, UnixTime::now()),
                    None => Err(crate::PeerAuthError::NoCertificate),
                }
            };
            let peer = match peer {
                Ok(domain) => PeerDomain(domain),
                Err(err) => {
                    tracing::warn!(%remote, %err, "peer not authenticated");
                    return;
                }
            };
            tracing::debug!(%remote, peer = %peer.0, "peer connected");
            let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                req.extensions_mut().insert(peer.clone());
                app.clone().oneshot(req)
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(30))
                .serve_connection(TokioIo::new(stream), service);
            if let Err(err) = watcher.watch(conn).await {
                tracing::debug!(%remote, %err, "connection ended with an error");
            }
        });
    }
    drop(listener);
    crate::public::drain(graceful, config.drain_timeout).await;
    Ok(())
}

/// The reason a handshake failed, with our own peer-authentication reason where there is one.
fn handshake_failure(err: &std::io::Error) -> String {
    match err
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        Some(rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other))) => {
            other.0.to_string()
        }
        Some(tls) => tls.to_string(),
        None => err.to_string(),
    }
}

/// A router serving our directory document (protocol-06 §5.1): the `served` endpoints (those
/// the server's own router answers), each at its nominal path under `base` (for example
/// `https://y.example:8443`).
pub fn directory_router(base: &str, served: &[&Endpoint]) -> Result<Router, TransportError> {
    let directory = Directory::serving(base, served.iter().copied())
        .map_err(|e| TransportError::Config(format!("directory base {base:?}: {e}")))?;
    Ok(serve_directory(&directory))
}

/// A router serving `directory` as is (for example with our body limit advertised, see
/// [`Directory::set_max_body_bytes`]).
pub fn serve_directory(directory: &Directory) -> Router {
    let json = directory.to_json();
    Router::new().route(
        DIRECTORY_PATH,
        axum::routing::get(move || {
            let json = json.clone();
            async move { ([(header::CONTENT_TYPE, "application/json")], json) }
        }),
    )
}

async fn check_request(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let Some(PeerDomain(peer)) = req.extensions().get::<PeerDomain>().cloned() else {
        return refuse(
            StatusCode::FORBIDDEN,
            None,
            "connection is not authenticated",
        );
    };
    if let Err(reason) = check_host(req.headers(), req.uri(), &guard.domain) {
        return refuse(StatusCode::MISDIRECTED_REQUEST, Some(&peer), &reason);
    }
    if req.uri().path() != DIRECTORY_PATH
        && let Err(reason) = check_from(req.headers(), &peer)
    {
        return refuse(StatusCode::FORBIDDEN, Some(&peer), &reason);
    }
    let limited = match guard.limiter.lock() {
        Ok(mut limiter) => limiter.check(&peer, Instant::now()),
        Err(_) => Ok(()),
    };
    if let Err(wait) = limited {
        let secs = wait.as_secs().max(1);
        let mut response = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            Some(&peer),
            &format!("rate limit exceeded; retry in {secs} s"),
        );
        if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > guard.max_body_bytes as u64) {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some(&peer),
            &format!("request body over {} bytes", guard.max_body_bytes),
        );
    }
    next.run(req).await
}

fn check_host(headers: &HeaderMap, uri: &axum::http::Uri, ours: &Domain) -> Result<(), String> {
    let host = uri
        .host()
        .map(str::to_owned)
        .or_else(|| {
            headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .map(|h| {
                    h.rsplit_once(':')
                        .map_or(h, |(name, _port)| name)
                        .to_owned()
                })
        })
        .ok_or_else(|| "missing Host header".to_owned())?;
    match Domain::parse(&host) {
        Ok(domain) if &domain == ours => Ok(()),
        _ => Err(format!("Host {host:?} is not this provider ({ours})")),
    }
}

fn check_from(headers: &HeaderMap, peer: &Domain) -> Result<(), String> {
    let value = headers
        .get(header::FROM)
        .ok_or_else(|| format!("missing From header: send \"From: mimi@{peer}\""))?;
    let text = value
        .to_str()
        .map_err(|_| "From header is not ASCII".to_owned())?;
    let domain = text
        .trim()
        .strip_prefix("mimi@")
        .and_then(|d| Domain::parse(d).ok())
        .ok_or_else(|| format!("From {text:?} is not of the form mimi@<domain>"))?;
    if &domain == peer {
        Ok(())
    } else {
        Err(format!(
            "From {domain} does not match the authenticated peer {peer}"
        ))
    }
}

fn refuse(status: StatusCode, peer: Option<&Domain>, reason: &str) -> Response {
    let peer = peer.map(Domain::to_string).unwrap_or_default();
    tracing::warn!(%peer, status = status.as_u16(), reason, "request refused");
    (status, format!("{reason}\n")).into_response()
}
