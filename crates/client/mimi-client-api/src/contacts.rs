//! Contacts: consent to be added to rooms (protocol-06 §5.7). Who may fetch a user's key
//! material, and so add them to rooms, is up to the user: the people they accepted (for any
//! room or some rooms), their policy for everyone else, and the people they blocked. A user
//! who invites a stranger asks them for consent first.
//!
//! Users are named by their URIs (`mimi://b.example/u/bob`), rooms likewise. Every route
//! answers with the caller's [`Contacts`] as saved.

use serde::{Deserialize, Serialize};

/// `GET /v1/contacts`, and the answer of every contacts route: the calling user's consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    /// The policy that applies to strangers: `anyone`, `contacts`, or
    /// `providers:a.example,b.example`.
    pub policy: String,
    /// Whether the user chose it (false: the provider's default).
    pub own_policy: bool,
    /// Requests waiting for the user's answer.
    pub requests: Vec<ContactRequest>,
    /// The people the user consents to.
    pub contacts: Vec<Contact>,
    /// The people the user blocked.
    pub blocked: Vec<String>,
    /// The user's own requests and what came of them, and the consents others gave the user
    /// unasked (status `granted`).
    pub asked: Vec<AskedContact>,
}

/// A consent request waiting for the user's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRequest {
    /// Who asks.
    pub user: String,
    /// For this room only; absent: any room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// When it arrived, milliseconds since the UNIX epoch.
    pub received_ms: u64,
}

/// Someone the user consents to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Who.
    pub user: String,
    /// Only these rooms; absent: any room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rooms: Option<Vec<String>>,
}

/// A request the user made (or a consent another user gave unasked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskedContact {
    /// Whom.
    pub user: String,
    /// For this room only; absent: any room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// `asked` (no answer yet), `granted`, `revoked` or `refused` (by their provider).
    pub status: String,
    /// Why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// `POST /v1/contacts/requests`, `/v1/contacts/accept`, `/v1/contacts/block`: ask a user for
/// consent, accept a user's request (or consent unasked), block a user (withdraws consent and
/// drops their requests; `room` is ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactAction {
    /// The other user's URI.
    pub user: String,
    /// For this room only; absent: any room.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
}

/// `POST /v1/contacts/policy`: the user's policy for strangers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetContactPolicy {
    /// `anyone`, `contacts`, `providers:a.example,b.example`; absent or null: the provider's
    /// default.
    #[serde(default)]
    pub policy: Option<String>,
}
