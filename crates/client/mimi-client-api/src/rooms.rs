//! Rooms: creation, key material, handshakes, messages, external joins.

use serde::{Deserialize, Serialize};

/// `POST /v1/rooms`: a room hosted by this provider, from the creator's freshly created group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateRoom {
    /// The room URI; its domain must be this provider's.
    pub room: String,
    /// The group's GroupInfo as an `MLSMessage`.
    #[serde(with = "crate::b64")]
    pub group_info: Vec<u8>,
    /// The group's ratchet tree (TLS-encoded).
    #[serde(with = "crate::b64")]
    pub ratchet_tree: Vec<u8>,
}

/// The answer to [`CreateRoom`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomCreated {
    /// The room URI.
    pub room: String,
    /// The epoch the hub starts at.
    pub epoch: u64,
}

/// `GET /v1/rooms`: the rooms the calling device is in (as far as its provider knows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomList {
    /// Room URIs, sorted.
    pub rooms: Vec<String>,
}

/// `GET /v1/directory?q=TEXT`: the discoverable rooms this provider hosts whose name, topic
/// or URI contains `q` (case-insensitive; all of them without `q`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryQuery {
    /// The text to look for.
    #[serde(default)]
    pub q: Option<String>,
}

/// One room of [`RoomDirectory`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryRoom {
    /// The room URI.
    pub room: String,
    /// Its display name.
    pub name: String,
    /// Its topic.
    pub topic: String,
    /// Listed participants (not counting banned users and the hub's service user).
    pub participants: u64,
    /// Whether anyone may join without an invite or link (open join).
    pub open: bool,
}

/// The answer to `GET /v1/directory`, sorted by room URI, at most 100 rooms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoomDirectory {
    /// The rooms.
    pub rooms: Vec<DirectoryRoom>,
}

/// `POST /v1/rooms/{room}/key-material/{user}`: KeyPackages of every device of a user, fetched
/// through the room's hub (which remembers where each goes for the Welcome).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyMaterialFetch {
    /// A `KeyMaterialRequest` signed by the device (TLS-encoded).
    #[serde(with = "crate::b64")]
    pub request: Vec<u8>,
}

/// `POST /v1/rooms/{room}/update`: a commit bundle or proposals for the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitUpdate {
    /// An `UpdateRequest` (TLS-encoded).
    #[serde(with = "crate::b64")]
    pub request: Vec<u8>,
    /// Whether the commit is the calling device's external join: the provider then starts
    /// delivering the room's messages to it.
    #[serde(default)]
    pub external_join: bool,
}

/// `POST /v1/rooms/{room}/messages`: an application message for the hub.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitMessage {
    /// A `SubmitMessageRequest` (TLS-encoded).
    #[serde(with = "crate::b64")]
    pub request: Vec<u8>,
}

/// The hub's answer to a key-material fetch, update or message, as the hub encoded it
/// (`KeyMaterialResponse`, `UpdateRoomResponse` or `SubmitMessageResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubAnswer {
    /// The TLS-encoded response.
    #[serde(with = "crate::b64")]
    pub response: Vec<u8>,
}

/// `GET /v1/rooms/{room}/external-join`: what a new device of a participant needs to join by
/// external commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalJoinInfo {
    /// The current GroupInfo as an `MLSMessage`.
    #[serde(with = "crate::b64")]
    pub group_info: Vec<u8>,
    /// The current ratchet tree (TLS-encoded).
    #[serde(with = "crate::b64")]
    pub ratchet_tree: Vec<u8>,
    /// Proposals pending at the hub, each an `MLSMessage`, in hub order.
    #[serde(with = "crate::b64::list")]
    pub pending_proposals: Vec<Vec<u8>>,
}

/// `POST /v1/rooms/{room}/group-info`: the hub's GroupInfo exchange (protocol-06 §5.6) for an
/// external join, for rooms hosted here or elsewhere. The answer ([`HubAnswer`]) is the hub's
/// `GroupInfoResponse`, signed by the hub and encrypted to the request's HPKE key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupInfoFetch {
    /// A `GroupInfoRequest` signed by the device (TLS-encoded).
    #[serde(with = "crate::b64")]
    pub request: Vec<u8>,
}

/// `POST /v1/rooms/{room}/report-abuse`: an abuse report (protocol-06 §5.9) for the room's hub,
/// relayed by the device's provider. The hub answers only accepted (202) or an error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AbuseReportSubmit {
    /// The `AbuseReport` (TLS-encoded), naming this device's user as the reporting user.
    #[serde(with = "crate::b64")]
    pub report: Vec<u8>,
}
