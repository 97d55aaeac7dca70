//! The follower side of a provider: what it keeps for its own users and how it receives a hub's
//! fan-out.
//!
//! * [`KeyPackagePool`]: one device's KeyPackages, claimed once each (digest §3.2).
//! * [`UserConsent`], [`ConsentPolicy`]: who may fetch a user's key material, and the consent
//!   exchange between providers (digest §3.7).
//! * [`answer_key_material`]: `POST /keyMaterial` at the target provider.
//! * [`RoomInbox`]: `POST /notify` receipt for one room.
//! * [`LocalMembers`]: which of our devices are members of a room (who gets its messages).
//! * [`feed_items`]: an inbox's deliveries as the steps of the follower log (each message once
//!   per room, membership intervals between them).

pub mod consent;
mod feed;
mod inbox;
mod key_material;
mod keypackages;
mod members;

pub use consent::{ConsentDecision, ConsentPolicy, UserConsent};
pub use feed::{Feed, feed_items};
pub use inbox::{InboxError, NotifyReceipt, RoomInbox, message_digest};
pub use key_material::{
    KeyMaterialContext, KeyMaterialGrant, VerifiedKeyMaterialRequest, answer_key_material,
};
pub use keypackages::{Claim, KeyPackageEntry, KeyPackagePool, RequesterLimiter};
pub use members::{LocalMembers, MembersRecordError};
