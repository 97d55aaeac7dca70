//! Which providers may take part in a room and what their servers may do: component
//! `server_policy` (ours, private-use 0x8a02; no draft defines per-server capabilities, see
//! `readings`).
//!
//! ```text
//! enum { allow_listed(0), deny_listed(1), (255) } ServerPolicyMode;
//! struct { uint8 bits; } ServerCapabilities;      /* join(0x01) keyMaterial(0x02) submit(0x04) */
//! struct { opaque domain<V>; ServerCapabilities capabilities; } ServerEntry;
//! struct { ServerPolicyMode mode; ServerEntry entries<V>; } ServerPolicy;
//! ```
//!
//! A listed provider has exactly the capabilities of its entry; an unlisted one has none in an
//! allow-listed room and all of them in a deny-listed room. A room without the component lets
//! every provider do everything. Entries are sorted by domain, each domain once.

use std::fmt;

use mimi_types::Domain;
use mimi_types::codepoints::ComponentId;
use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::{DomainName, tls_component};
use crate::codec::DecodeError;

/// `ServerPolicyMode`: what providers without an entry may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
#[repr(u8)]
pub enum ServerPolicyMode {
    /// Only listed providers take part (with their entry's capabilities).
    AllowListed = 0,
    /// Every provider takes part fully except as its entry restricts it.
    DenyListed = 1,
}

/// `ServerCapabilities`: a set of what one provider's servers and users may do in the room.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, TlsSerialize, TlsDeserialize, TlsSize,
)]
pub struct ServerCapabilities {
    /// The bits (unknown bits are refused).
    pub bits: u8,
}

impl ServerCapabilities {
    /// Nothing: the provider takes no part.
    pub const NONE: Self = Self { bits: 0 };
    /// Its users may be added to the room, and its clients may join or be added.
    pub const JOIN: Self = Self { bits: 0x01 };
    /// The hub relays key-material requests from and to it.
    pub const KEY_MATERIAL: Self = Self { bits: 0x02 };
    /// Its clients may submit application messages and commits.
    pub const SUBMIT: Self = Self { bits: 0x04 };
    /// Everything.
    pub const ALL: Self = Self { bits: 0x07 };

    /// The named capabilities, in bit order, with their names.
    pub const NAMED: [(Self, &'static str); 3] = [
        (Self::JOIN, "join"),
        (Self::KEY_MATERIAL, "keymaterial"),
        (Self::SUBMIT, "submit"),
    ];

    /// Whether every capability of `other` is in `self`.
    pub const fn contains(self, other: Self) -> bool {
        self.bits & other.bits == other.bits
    }

    /// The union.
    pub const fn with(self, other: Self) -> Self {
        Self {
            bits: self.bits | other.bits,
        }
    }

    /// Parses a comma-separated list of names (`join,keymaterial,submit`, or `all`, `none`).
    pub fn parse_list(text: &str) -> Result<Self, String> {
        let mut caps = Self::NONE;
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            caps = caps.with(match word.to_ascii_lowercase().as_str() {
                "all" => Self::ALL,
                "none" => Self::NONE,
                name => Self::NAMED
                    .iter()
                    .find(|(_, n)| *n == name)
                    .map(|(c, _)| *c)
                    .ok_or_else(|| {
                        format!(
                            "unknown server capability {word:?}; use join, keymaterial, submit, all or none"
                        )
                    })?,
            });
        }
        Ok(caps)
    }
}

impl fmt::Display for ServerCapabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == Self::NONE {
            return f.write_str("none");
        }
        let names: Vec<&str> = Self::NAMED
            .iter()
            .filter(|(c, _)| self.contains(*c))
            .map(|(_, n)| *n)
            .collect();
        f.write_str(&names.join(","))
    }
}

/// `ServerEntry`: one provider and its capabilities.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ServerEntry {
    /// The provider.
    pub domain: DomainName,
    /// What it may do.
    pub capabilities: ServerCapabilities,
}

/// `ServerPolicy`: the room's server access list.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct ServerPolicy {
    /// What unlisted providers may do.
    pub mode: ServerPolicyMode,
    /// The listed providers, sorted by domain.
    pub entries: Vec<ServerEntry>,
}

tls_component!(ServerPolicy, "ServerPolicy", ComponentId::SERVER_POLICY);

impl ServerPolicy {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        for entry in &self.entries {
            if !ServerCapabilities::ALL.contains(entry.capabilities) {
                return Err(DecodeError::invalid(
                    "ServerPolicy",
                    format!(
                        "{} has unknown capability bits 0x{:02x}",
                        entry.domain.domain, entry.capabilities.bits
                    ),
                ));
            }
        }
        if self
            .entries
            .windows(2)
            .any(|w| w[0].domain.domain.as_str() >= w[1].domain.domain.as_str())
        {
            return Err(DecodeError::invalid(
                "ServerPolicy",
                "entries must be sorted by domain, each domain once",
            ));
        }
        Ok(())
    }

    /// What `domain` may do under this policy.
    pub fn capabilities_of(&self, domain: &Domain) -> ServerCapabilities {
        match self.entries.iter().find(|e| &e.domain.domain == domain) {
            Some(e) => e.capabilities,
            None => match self.mode {
                ServerPolicyMode::AllowListed => ServerCapabilities::NONE,
                ServerPolicyMode::DenyListed => ServerCapabilities::ALL,
            },
        }
    }

    /// The policy with `domain`'s entry set to `capabilities` (added, replaced, or dropped
    /// where it would say what the mode already says), entries kept sorted.
    pub fn with_entry(&self, domain: &Domain, capabilities: ServerCapabilities) -> Self {
        let mut next = self.clone();
        next.entries.retain(|e| &e.domain.domain != domain);
        let default = match self.mode {
            ServerPolicyMode::AllowListed => ServerCapabilities::NONE,
            ServerPolicyMode::DenyListed => ServerCapabilities::ALL,
        };
        if capabilities != default {
            next.entries.push(ServerEntry {
                domain: DomainName {
                    domain: domain.clone(),
                },
                capabilities,
            });
            next.entries
                .sort_by(|a, b| a.domain.domain.as_str().cmp(b.domain.domain.as_str()));
        }
        next
    }
}
