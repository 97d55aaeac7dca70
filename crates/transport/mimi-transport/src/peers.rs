//! A static table of peer addresses, for development, tests and closed federations.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use mimi_types::Domain;

/// Where each peer provider listens: one address, or several for a provider that runs several
/// processes (tried in order, the next when a connection fails). TLS still verifies the peer's
/// real domain name: the table only replaces DNS.
#[derive(Debug, Clone, Default)]
pub struct PeerTable {
    addrs: BTreeMap<Domain, Vec<SocketAddr>>,
}

impl PeerTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records (or replaces) the address of `domain`.
    pub fn insert(&mut self, domain: Domain, addr: SocketAddr) {
        self.addrs.insert(domain, vec![addr]);
    }

    /// Records (or replaces) the addresses of `domain`, in the order they are tried. An empty
    /// list removes the domain.
    pub fn insert_all(&mut self, domain: Domain, addrs: Vec<SocketAddr>) {
        if addrs.is_empty() {
            self.addrs.remove(&domain);
        } else {
            self.addrs.insert(domain, addrs);
        }
    }

    /// The first address of `domain`.
    pub fn addr(&self, domain: &Domain) -> Option<SocketAddr> {
        self.addrs.get(domain).and_then(|a| a.first()).copied()
    }

    /// Every address of `domain`, in the order they are tried (empty if unknown).
    pub fn addrs(&self, domain: &Domain) -> &[SocketAddr] {
        self.addrs.get(domain).map_or(&[], Vec::as_slice)
    }

    /// Every entry's first address, in domain order.
    pub fn iter(&self) -> impl Iterator<Item = (&Domain, SocketAddr)> {
        self.addrs
            .iter()
            .filter_map(|(d, a)| a.first().map(|a| (d, *a)))
    }
}
