//! MIMI server-to-server wire types (draft-ietf-mimi-protocol-06 §5): every endpoint's request
//! and response, strictly encoded in the TLS presentation language. No HTTP client or server
//! lives here: the transport layer uses [`http`] (method, path template, roles, statuses per
//! endpoint), [`path`] (path parameters) and [`directory`] (peer discovery) to build its router
//! and client, and these types for the bodies.
//!
//! | Module | Endpoint | Draft |
//! |---|---|---|
//! | [`directory`] | `GET /.well-known/mimi-protocol-directory` | §5.1 |
//! | [`key_material`] | `POST /keyMaterial/{targetUser}` | §5.2 |
//! | [`update`] | `POST /update/{roomId}` | §5.3 |
//! | [`submit_message`] | `POST /submitMessage/{roomId}` (+ [`franking`]) | §5.4 |
//! | [`notify`] | `POST /notify/{roomId}` | §5.5 |
//! | [`group_info`] | `POST /groupInfo/{roomId}` | §5.6 |
//! | [`request_consent`], [`update_consent`] (shared [`consent`]) | `POST /requestConsent/…`, `POST /updateConsent/…` | §5.7 |
//! | [`identifier_query`] | `POST /identifierQuery/{domain}` | §5.8 |
//! | [`report_abuse`] | `POST /reportAbuse/{roomId}` | §5.9 |
//! | [`proxy_download`] | `GET /proxyDownload/{downloadUrl}` | §5.10 |
//!
//! Decoding is strict ([`codec`]): minimal length prefixes, caps ([`limits`]), no trailing
//! bytes, unknown enumeration values refused, never a panic. Decode every body with
//! [`decode_exact`]; encode with [`Encode::encode`]. MLS fields are opaque, structure-checked
//! bytes ([`mls`]) until the MLS layer supplies real types. Every reading of a defect in the
//! drafts is in [`defects`].
//!
//! ```
//! use mimi_federation_api::{decode_exact, Encode, Protocol};
//! use mimi_federation_api::submit_message::{SubmitMessageResponse, SubmitOutcome};
//!
//! let answer = SubmitMessageResponse::new(SubmitOutcome::Accepted {
//!     accepted_timestamp: 1_700_000_000_000,
//!     frank: None,
//! });
//! let bytes = answer.encode()?;
//! assert_eq!(decode_exact::<SubmitMessageResponse>(&bytes)?, answer);
//! assert!(decode_exact::<SubmitMessageResponse>(&[bytes.as_slice(), &[0]].concat()).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod codec;
pub mod common;
pub mod consent;
pub mod defects;
pub mod directory;
pub mod error;
pub mod franking;
pub mod group_info;
pub mod http;
pub mod identifier_query;
pub mod key_material;
pub mod limits;
pub mod mls;
pub mod notify;
pub mod path;
pub mod proxy_download;
pub mod ratchet_tree;
pub mod report_abuse;
pub mod request_consent;
pub mod submit_message;
pub mod update;
pub mod update_consent;
pub mod withheld;

pub use codec::{Decode, Encode, decode_exact};
pub use common::{AppDataDictionary, IdentifierUri, Protocol};
pub use error::{DecodeError, DirectoryError, EncodeError, PathError};
