//! The per-device event feed.

use serde::{Deserialize, Serialize};

/// `GET /v1/events?after=N&wait_ms=M`: events after cursor `N`; if there are none, wait up to
/// `M` ms (at most 30,000) for one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsQuery {
    /// The last cursor seen (0: from the start).
    #[serde(default)]
    pub after: u64,
    /// How long to wait for an event, in milliseconds.
    #[serde(default)]
    pub wait_ms: u64,
}

/// One event: a message the hub fanned out, for this device; or, on the WebSocket feed only,
/// an ephemeral message (a typing indicator) that is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The cursor: increasing per device; pass the last one seen as `after`. 0 for an
    /// ephemeral event (it does not move the cursor).
    pub seq: u64,
    /// The room URI.
    pub room: String,
    /// The `FanoutMessage` (TLS-encoded): a commit, proposals, an application message or a
    /// Welcome for this device. For an ephemeral event: the `MLSMessage` (a PrivateMessage)
    /// itself.
    #[serde(with = "crate::b64")]
    pub payload: Vec<u8>,
    /// Whether this is an ephemeral event: pushed to live WebSocket streams only, never stored,
    /// never in the long-poll feed, never repeated.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ephemeral: bool,
}

/// The answer to [`EventsQuery`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsResponse {
    /// Events in cursor order (at most 500).
    pub events: Vec<Event>,
    /// The cursor to pass as `after` next time.
    pub next: u64,
}
