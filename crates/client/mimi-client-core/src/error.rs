//! Why a client operation failed, split by cause.

use mimi_room::{Capability, Denied};
use mimi_types::{RoomUri, UserUri};

use crate::outgoing::{HubRefusal, OpId};

/// A client operation that could not be done. One variant per cause, so a UI can say what
/// went wrong and a test can assert the exact reason.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// This device is not (or no longer) a member of the room.
    #[error("not a member of {room}: join or ask to be invited first")]
    NotMember {
        /// The room.
        room: RoomUri,
    },
    /// This device proposed to leave the room and waits for another member to commit that:
    /// until then it cannot send, commit or propose there (MLS refuses to build on its own
    /// pending removal).
    #[error(
        "this device is leaving {room}: it proposed its removal, which another member's device \
         commits when it next syncs; it cannot send or change the room meanwhile (ask to be \
         invited again to come back)"
    )]
    Leaving {
        /// The room.
        room: RoomUri,
    },
    /// The room policy does not allow this user to do it.
    #[error("not allowed in {room}: {denied}")]
    NotAllowed {
        /// The room.
        room: RoomUri,
        /// The rule the room policy applied (names the missing capability where there is one).
        denied: Denied,
    },
    /// The room's `message_expiration_policy` does not allow the expiry asked for (or a
    /// message without one, where expiry is required and the room has no default).
    #[error(
        "{room}'s message expiration policy refuses this message: {error}; give an expiry the \
         room allows (`mimi room info` shows its policy)"
    )]
    ExpiryOutsidePolicy {
        /// The room.
        room: RoomUri,
        /// What the policy asks.
        error: String,
    },
    /// The room's `status_notification_policy` forbids the status report (delivery
    /// notifications or read receipts).
    #[error("{room} forbids {status} reports (its status_notification_policy)")]
    StatusForbidden {
        /// The room.
        room: RoomUri,
        /// The status's name.
        status: String,
    },
    /// The user is not a participant of the room (for remove, role change) or has no
    /// KeyPackages to be added with.
    #[error("unknown user {user} in {room}")]
    UnknownUser {
        /// The room.
        room: RoomUri,
        /// The user.
        user: UserUri,
    },
    /// The message the operation refers to is unknown in this room (or is not of the kind
    /// the operation needs, e.g. unreact on something that is not a reaction).
    #[error("unknown message {id} in {room}")]
    UnknownMessage {
        /// The room.
        room: RoomUri,
        /// The message ID (hex).
        id: String,
    },
    /// The room's hub refused an operation (reported by [`crate::Client::mark_sent`]); the
    /// pending change was discarded.
    #[error("the hub of {room} refused operation {op}: {refusal}")]
    HubRefused {
        /// The room.
        room: RoomUri,
        /// The operation.
        op: OpId,
        /// What the hub answered.
        refusal: HubRefusal,
    },
    /// The MLS layer failed (a message that does not process, a commit that cannot be built).
    #[error("MLS: {0}")]
    Mls(mimi_mls::MlsError),
    /// The MIMI content to send is invalid.
    #[error("content: {0}")]
    Content(String),
    /// An attachment could not be sealed or opened.
    #[error("attachment: {0}")]
    Attachment(#[from] mimi_content::AttachmentError),
    /// A wire type did not encode or decode.
    #[error("wire: {0}")]
    Wire(String),
    /// A client record does not decode.
    #[error("client record: {0}")]
    Record(String),
    /// The call does not fit the engine's state (API misuse).
    #[error("invalid use: {0}")]
    Misuse(String),
}

impl ClientError {
    /// The capability the room policy found missing, if that is why the operation failed.
    pub fn missing_capability(&self) -> Option<Capability> {
        match self {
            Self::NotAllowed {
                denied: Denied::MissingCapability { capability, .. },
                ..
            } => Some(*capability),
            _ => None,
        }
    }

    pub(crate) fn wire(e: impl std::fmt::Display) -> Self {
        Self::Wire(e.to_string())
    }

    pub(crate) fn misuse(what: impl Into<String>) -> Self {
        Self::Misuse(what.into())
    }

    /// Maps an MLS error of an operation in `room`: a room-policy refusal becomes
    /// [`ClientError::NotAllowed`].
    pub(crate) fn mls(room: &RoomUri, e: mimi_mls::MlsError) -> Self {
        match e {
            mimi_mls::MlsError::Denied(denied) => Self::NotAllowed {
                room: room.clone(),
                denied,
            },
            other => Self::Mls(other),
        }
    }
}
