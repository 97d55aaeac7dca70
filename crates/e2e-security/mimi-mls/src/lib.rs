//! MIMI end-to-end security on MLS (RFC 9420) with openmls.
//!
//! This is the only crate of mimi-rs that names the MLS library: the rest of the house speaks
//! MIMI types (URIs, component IDs, byte records) and calls:
//!
//! * [`credential`]: provider CAs issuing X.509 client and server credentials with MIMI URI
//!   SANs, and the [`TrustStore`] that pins one CA per domain and validates them;
//! * [`ClientIdentity`] / [`ServerIdentity`]: signing keys, credentials, KeyPackages;
//! * [`ClientGroup`]: a client's view of a room's group (create, add, remove, update, leave,
//!   external join, protect/unprotect, process with credential and room-policy checks);
//! * [`HubGroup`]: the hub's public view of a room's group: validates handshakes without
//!   secrets, stages them for the caller to authorize and merge, keeps the GroupInfo;
//! * [`Roster`]: which client sits at which leaf, followed from the fanned-out handshakes
//!   alone (what a follower needs to deliver only to member devices);
//! * [`sign`]: MIMI `SignWithLabel` / `VerifyWithLabel` over encoded TBS structs;
//! * [`franking`]: the franking tag and `server_frank` MACs, the hub's [`franking::Franker`],
//!   and the rooms' franking agent component;
//! * records: every stateful object exports and restores as bytes.
//!
//! How the pieces meet (digest §3.1):
//!
//! 1. A provider keeps a [`ProviderCa`] and a [`ServerIdentity`]; every party pins each
//!    provider's CA for its domain in a [`TrustStore`].
//! 2. A device is a [`ClientIdentity`]; it publishes KeyPackages ([`ClientIdentity::key_package`]).
//! 3. The creator calls [`ClientGroup::create`] with the room's initial `mimi_room::RoomState`
//!    and the hub's [`ServerIdentity::external_sender`]; the hub builds its view with
//!    [`HubGroup::new`] from the returned GroupInfo and ratchet tree.
//! 4. Clients build commits ([`ClientGroup::commit`], [`ClientGroup::self_update`]) or proposals
//!    ([`ClientGroup::propose_leave`], [`ClientGroup::propose_components`]); the hub calls
//!    [`HubGroup::process`] (no state change), persists, then [`HubGroup::merge`] with the
//!    commit's GroupInfo; the committer then calls [`ClientGroup::merge_pending_commit`] and
//!    every other member [`ClientGroup::process`]. Welcome recipients call
//!    [`ClientGroup::join_from_welcome`]; the hub routes Welcomes with
//!    [`welcome_key_package_refs`]. New devices join with [`ClientGroup::join_external`] from
//!    [`HubGroup::group_info`], [`HubGroup::ratchet_tree`] and [`HubGroup::pending_proposals`].
//! 5. Application messages: [`ClientGroup::protect`] → [`HubGroup::check_application`] →
//!    [`ClientGroup::process`].
//!
//! Room semantics come from mimi-room: every handshake is summarized as a [`CommitSummary`]
//! and authorized with `mimi_room::authorize_commit` against the room state carried in the
//! GroupContext before anything is merged.

mod cert_cache;
mod client;
pub mod client_kind;
mod committer_group_info;
mod config;
pub mod credential;
mod error;
mod external_proposal;
pub mod franking;
mod hub;
mod identity;
mod inspect;
mod join_code;
mod persist;
mod provider_support;
mod roster;
pub mod sign;
mod store;
mod summary;
#[cfg(test)]
mod tests;
mod tracked;
mod tree_wire;

pub use client::{
    ClientGroup, CreatedGroup, GroupChanges, Incoming, OutgoingCommit, ReceivedMessage,
};
pub use credential::{ProviderCa, TrustStore, Validity, VerifiedIdentity, X509Credential};
pub use error::{CredentialError, MlsError, SignatureError};
pub use hub::{AppMessageInfo, HubGroup, StagedHandshake, welcome_key_package_refs};
pub use identity::{
    ClientIdentity, ExternalSenderInfo, PublishedKeyPackage, ServerIdentity, SigningKey,
    claimed_identity_of_mls_credential,
};
pub use join_code::join_code_digest;
pub use mimi_room::ClientKind;
pub use provider_support::{
    HpkeKeyPair, decrypt_with_label, encrypt_with_label, hpke_key_pair, hpke_key_pair_from_seed,
    inspect_key_package, key_package_kind, verify_credential,
};
pub use roster::{Roster, RosterChange, external_joiner};
pub use summary::{Actor, CommitSummary, ComponentChange, ComponentOp, Components, MemberChange};
