//! The device mailbox: opaque items one device of a user leaves for another device of the
//! same user at their provider (history for a new device: requests and sealed bundles, see
//! mimi-client-core's `history`). The provider stores and hands over ciphertext and signed
//! public keys only; the devices check each item's origin themselves.
//!
//! * `POST /v1/devices/{device}/mailbox` ([`MailboxPost`] → 201 [`MailboxPosted`]): leaves an
//!   item for the caller's user's device `{device}` (its device id). Only the user's own
//!   devices can be addressed: another user's device is not one of them (404 `not_found`), nor
//!   is the caller itself (400). An item is at most [`MAX_MAILBOX_ITEM_BYTES`] (413
//!   `too_large`); a device holds at most [`MAX_MAILBOX_ITEMS`] items (507 `quota_exceeded`
//!   until it takes some). Answered once durable.
//! * `GET /v1/mailbox` (→ [`MailboxItems`]): the caller's items, oldest first, at most
//!   [`MAILBOX_PAGE`] per answer, each with the device that left it.
//! * `DELETE /v1/mailbox/{item}` (→ [`MailboxDeleted`]): removes one of the caller's items
//!   once handled (404 for an item that is not the caller's).

use serde::{Deserialize, Serialize};

/// The largest item a mailbox takes (bytes): 1 MiB.
pub const MAX_MAILBOX_ITEM_BYTES: usize = 1024 * 1024;
/// How many items one device's mailbox holds at most.
pub const MAX_MAILBOX_ITEMS: usize = 256;
/// How many items one `GET /v1/mailbox` answers at most.
pub const MAILBOX_PAGE: usize = 16;

/// The body of `POST /v1/devices/{device}/mailbox`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxPost {
    /// The item (opaque to the provider).
    #[serde(with = "crate::b64")]
    pub item: Vec<u8>,
}

/// The answer to `POST /v1/devices/{device}/mailbox`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxPosted {
    /// The item's number in the recipient's mailbox.
    pub id: u64,
}

/// One item of a device's mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxItem {
    /// Its number (for `DELETE /v1/mailbox/{item}`).
    pub id: u64,
    /// The client URI of the device that left it (as the provider authenticated it).
    pub from: String,
    /// The item.
    #[serde(with = "crate::b64")]
    pub item: Vec<u8>,
}

/// The answer to `GET /v1/mailbox`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxItems {
    /// The oldest items, at most [`MAILBOX_PAGE`].
    pub items: Vec<MailboxItem>,
}

/// The answer to `DELETE /v1/mailbox/{item}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxDeleted {
    /// The item removed.
    pub id: u64,
}
