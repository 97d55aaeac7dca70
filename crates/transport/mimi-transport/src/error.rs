//! Errors of the transport layer.

use mimi_types::Domain;

/// What went wrong setting up or using the transport.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// A certificate or key file could not be read or parsed.
    #[error("cannot load {what}: {reason}")]
    Pem {
        /// What was being loaded.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// A TLS configuration could not be built.
    #[error("invalid TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// We have no CA pinned for a peer we were asked to talk to.
    #[error("no CA is trusted for {0}: add it to the trust store (see `mimi init --help`)")]
    UntrustedPeer(Domain),
    /// We have no address for a peer.
    #[error("no address is known for {0}: add it to the peer table")]
    UnknownPeer(Domain),
    /// An HTTP client could not be built or a request failed before any answer.
    #[error("HTTP request to {peer} failed: {source}")]
    Http {
        /// The destination.
        peer: Domain,
        /// The client error.
        source: reqwest::Error,
    },
    /// A peer's directory could not be fetched or read, or lacks an endpoint.
    #[error("directory of {peer}: {reason}")]
    Directory {
        /// The peer.
        peer: Domain,
        /// What went wrong.
        reason: String,
    },
    /// A setting is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Listening or accepting failed.
    #[error("socket error: {0}")]
    Io(#[from] std::io::Error),
}
