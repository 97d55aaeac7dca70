//! A static table of peer addresses, for development, tests and closed federations.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use mimi_types::Domain;

/// Where each peer provider listens. TLS still verifies the peer's real domain name: the table
/// only replaces DNS.
#[derive(Debug, Clone, Default)]
pub struct PeerTable {
    addrs: BTreeMap<Domain, SocketAddr>,
}

impl PeerTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records (or replaces) the address of `domain`.
    pub fn insert(&mut self, domain: Domain, addr: SocketAddr) {
        self.addrs.insert(domain, addr);
    }

    /// The address of `domain`.
    pub fn addr(&self, domain: &Domain) -> Option<SocketAddr> {
        self.addrs.get(domain).copied()
    }

    /// Every entry, in domain order.
    pub fn iter(&self) -> impl Iterator<Item = (&Domain, SocketAddr)> {
        self.addrs.iter().map(|(d, a)| (d, *a))
    }
}
