//! HTTPS with mutual TLS between MIMI providers (draft-ietf-mimi-protocol-06 §4.1).
//!
//! The transport authenticates *providers*, never users:
//!
//! * Every connection is mutually authenticated. A peer's certificate must chain to the CA that
//!   our [`TrustStore`] pins **for the domain the certificate names**: a provider can vouch only
//!   for itself. The domain that passes is the connection's [`PeerDomain`].
//! * Every request must carry `From: mimi@<domain>` equal to the peer domain, and a `Host` that is
//!   our own domain. Both are checked, and per-peer rate limits applied, before any body is read
//!   ([`server`]).
//! * Outbound, each destination has its own TLS configuration that trusts only that destination's
//!   CA and verifies its name ([`client`]), and its own ordered queue with capped exponential
//!   backoff, so a dead peer never holds up the others ([`outbound`]).
//!
//! The [`public`] listener serves what devices reach (a provider's client API): HTTPS without
//! client certificates, or plain HTTP, with the same handshake, request-head and drain
//! timeouts as the federation listener.
//!
//! For development and tests a static [`PeerTable`] maps domains to loopback addresses while TLS
//! still verifies the real names.

pub mod backoff;
pub mod client;
mod error;
mod identity;
pub mod outbound;
mod peer_auth;
mod peers;
pub mod public;
pub mod rate_limit;
pub mod server;

pub use error::TransportError;
pub use identity::{TlsIdentity, TrustStore};
pub use peer_auth::{PeerAuthError, PeerDomain};
pub use peers::PeerTable;

/// The crypto provider every TLS configuration of mimi-rs uses.
pub(crate) fn crypto_provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}
