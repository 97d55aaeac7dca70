//! Identifiers and code points every layer of mimi-rs speaks in.
//!
//! * [`uri`]: the MIMI URI forms (draft-ietf-mimi-protocol-06 §3, draft-mahy-mimi-identity-05) as
//!   parsed, validated newtypes: [`ProviderUri`], [`UserUri`], [`PseudonymUri`], [`ClientUri`],
//!   [`RoomUri`], [`GroupUri`], [`TeamUri`], and [`MimiUri`] for "any of them".
//! * [`Domain`]: a provider's domain name, normalised (lowercase ASCII, IDN as punycode) so that
//!   identifiers compare octet for octet.
//! * [`codepoints`]: every MLS and MIMI registry value the project uses, as open newtypes with
//!   named constants, in one place so provisional ("suggested") values can be changed when IANA
//!   assigns them.
//!
//! This crate does no I/O and knows nothing of MLS, rooms or content.
//!
//! ```
//! use mimi_types::{ClientUri, RoomUri, UserUri};
//!
//! let alice: UserUri = "mimi://a.example/u/alice".parse()?;
//! let room: RoomUri = "mimi://hub.example/r/clubhouse".parse()?;
//! let phone: ClientUri = "mimi://a.example/d/alice/phone".parse()?;
//! assert_eq!(alice.provider().domain().as_str(), "a.example");
//! assert_eq!(room.hub_domain().as_str(), "hub.example");
//! assert_eq!(phone.user_hint(), Some(alice));
//! assert_eq!(room.group_uri().to_string(), "mimi://hub.example/g/clubhouse");
//! # Ok::<(), mimi_types::UriError>(())
//! ```

pub mod codepoints;
mod domain;
mod error;
mod ident;
pub mod uri;

pub use domain::Domain;
pub use error::{DomainError, UriError};
pub use ident::Ident;
pub use uri::{
    ClientUri, GroupUri, MimiUri, ProviderUri, PseudonymUri, RoomUri, TeamUri, UriKind, UserUri,
};
