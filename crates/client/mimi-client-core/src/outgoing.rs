//! What the engine asks its caller to send, what the caller reports back, and the events a UI
//! drains.

use std::fmt;

use mimi_content::MessageId;
use mimi_federation_api::submit_message::{SubmitMessageRequest, SubmitOutcome};
use mimi_federation_api::update::{UpdateOutcome, UpdateRequest};
use mimi_types::{ClientUri, RoomUri, UserUri};

use crate::view::Rejection;

/// Identifies one outgoing request until [`crate::Client::mark_sent`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId(pub u64);

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// A KeyPackage to upload to this device's provider.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPackageUpload {
    /// The KeyPackage as an `MLSMessage`.
    pub message: Vec<u8>,
    /// Its KeyPackageRef (what a Welcome names).
    pub reference: Vec<u8>,
    /// Whether it may be used more than once.
    pub last_resort: bool,
    /// End of its lifetime, seconds since the UNIX epoch.
    pub not_after: u64,
}

impl fmt::Debug for KeyPackageUpload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPackageUpload")
            .field("bytes", &self.message.len())
            .field("last_resort", &self.last_resort)
            .field("not_after", &self.not_after)
            .finish()
    }
}

/// A request for the caller to send, drained with [`crate::Client::poll_request`] in the
/// order the engine produced them. Report each with [`crate::Client::mark_sent`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Outgoing {
    /// `POST /update` to the room's hub with a commit (a membership or room-state change, a
    /// self-update, an external join).
    Commit {
        /// The operation.
        op: OpId,
        /// The room.
        room: RoomUri,
        /// The request body.
        request: UpdateRequest,
    },
    /// `POST /update` with proposals (a leave), for another member to commit.
    Proposals {
        /// The operation.
        op: OpId,
        /// The room.
        room: RoomUri,
        /// The request body.
        request: UpdateRequest,
    },
    /// `POST /submitMessage` with an application message.
    Message {
        /// The operation.
        op: OpId,
        /// The room.
        room: RoomUri,
        /// The request body.
        request: SubmitMessageRequest,
        /// The MIMI message ID of the content it carries.
        message_id: MessageId,
    },
    /// KeyPackages to upload to this device's own provider.
    KeyPackages {
        /// The operation.
        op: OpId,
        /// The KeyPackages.
        key_packages: Vec<KeyPackageUpload>,
    },
}

impl Outgoing {
    /// The operation this request belongs to.
    pub fn op(&self) -> OpId {
        match self {
            Self::Commit { op, .. }
            | Self::Proposals { op, .. }
            | Self::Message { op, .. }
            | Self::KeyPackages { op, .. } => *op,
        }
    }
}

/// What became of a request, as the caller reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendOutcome {
    /// The hub's answer to an `update`.
    Update(UpdateOutcome),
    /// The hub's answer to a `submitMessage`.
    Submit(SubmitOutcome),
    /// The KeyPackages were stored by the provider.
    Uploaded,
    /// The request could not be delivered and the caller gives up (after its own retries):
    /// pending changes are discarded.
    Abandoned,
}

/// Why the hub refused an operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HubRefusal {
    /// Another commit won the epoch; the change was dropped. Retry it once the room caught up.
    #[error("another change won the race (the room is at epoch {current_epoch}); try again")]
    WrongEpoch {
        /// The hub's epoch.
        current_epoch: u64,
    },
    /// The hub's room policy refused it.
    #[error("the room policy refused it")]
    NotAllowed,
    /// Some proposals were invalid.
    #[error("{count} proposal(s) were invalid")]
    InvalidProposal {
        /// How many.
        count: usize,
    },
    /// The message was of an older epoch than the hub's; it is re-sent once this device has
    /// caught up.
    #[error(
        "the message was of an older epoch than the hub's ({current_epoch}): this device has \
         not processed the room's latest commit; the message is re-sent once it has"
    )]
    EpochTooOld {
        /// The hub's epoch.
        current_epoch: u64,
    },
    /// The caller abandoned the request.
    #[error("the request could not be delivered")]
    Abandoned,
}

/// A typing indicator another device of a room sent (see [`crate::TYPING_PREFIX`]): ephemeral,
/// end-to-end encrypted, never stored, not part of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypingSignal {
    /// The room.
    pub room: RoomUri,
    /// Who types.
    pub user: UserUri,
    /// From which device.
    pub client: ClientUri,
    /// Whether typing started (`true`) or stopped.
    pub active: bool,
}

/// Something a UI may want to react to, drained with [`crate::Client::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientEvent {
    /// This device joined a room (created it, or from a Welcome, or by external commit).
    Joined {
        /// The room.
        room: RoomUri,
    },
    /// This device was removed from a room (or left it).
    Removed {
        /// The room.
        room: RoomUri,
    },
    /// The members, roles or metadata of a room changed.
    RoomChanged {
        /// The room.
        room: RoomUri,
        /// The new epoch.
        epoch: u64,
    },
    /// The room was ended (`canDestroyRoom`): nothing more can be sent, changed or joined
    /// there. Follows the [`ClientEvent::RoomChanged`] of the commit that ended it.
    RoomEnded {
        /// The room.
        room: RoomUri,
        /// Who ended it.
        ended_by: UserUri,
    },
    /// The message list of a room changed (a new message, an edit, a delete, a reaction).
    Timeline {
        /// The room.
        room: RoomUri,
        /// The message affected (the target for edits, deletes and reactions).
        message: MessageId,
    },
    /// Another member proposed a change (e.g. a leave) that some member must commit: call
    /// [`crate::Client::commit_pending`].
    ProposalsPending {
        /// The room.
        room: RoomUri,
    },
    /// Something received was refused and not shown.
    Rejected {
        /// The room.
        room: RoomUri,
        /// Why.
        rejection: Rejection,
    },
    /// The hub did not accept a message of this device, and this device cannot send it again
    /// yet: it is queued (kept in the room's record) and re-sent once this device has caught up
    /// with the hub's epoch. The message was **not** sent. If the room's commits cannot be
    /// processed ([`ClientEvent::CommitFailed`]), this device must rejoin the room first.
    Queued {
        /// The room.
        room: RoomUri,
        /// The operation that was not accepted.
        op: OpId,
        /// Why (e.g. [`HubRefusal::EpochTooOld`]).
        refusal: HubRefusal,
    },
    /// A message the hub refused as too old was encrypted again for the current epoch and
    /// queued as `as_op`; its fate is that operation's.
    Resent {
        /// The room.
        room: RoomUri,
        /// The operation the hub did not accept.
        op: OpId,
        /// The operation carrying it again.
        as_op: OpId,
    },
    /// Another device of this user joined the room (by external commit or by being added):
    /// it may ask this device for the room's history (see [`crate::Client::handle_history_item`]).
    SiblingJoined {
        /// The room.
        room: RoomUri,
        /// The new device.
        client: ClientUri,
    },
    /// History handed over by another device of this user was merged into the room's
    /// timeline.
    HistoryImported {
        /// The room.
        room: RoomUri,
        /// The device it came from.
        from: ClientUri,
        /// How many log entries (messages, reactions, edits, receipts) were new.
        entries: usize,
    },
    /// A history request or envelope another member's device sent through the room was
    /// refused (nothing of it applied): a rogue or misconfigured member, or a request this
    /// device cannot answer (`history_room`).
    HistoryRefused {
        /// The room that carried it.
        room: RoomUri,
        /// The sending device (MLS-authenticated).
        from: ClientUri,
        /// Why.
        error: crate::history::HistoryError,
    },
    /// A commit of the room could not be processed (another member's commit this device
    /// refuses, e.g. one whose confirmation tag is wrong). This device stays in `epoch` while
    /// the hub may have moved on: until it catches up or rejoins the room ([`Client::rejoin`]),
    /// what it sends there is refused as too old and queued, and what others send cannot be
    /// read. Also raised when a message of a later epoch shows a commit never arrived.
    CommitFailed {
        /// The room.
        room: RoomUri,
        /// This device's epoch in the room.
        epoch: u64,
        /// Why the commit was refused.
        error: String,
    },
    /// This device rejoined a room it was behind in (a resync external commit the hub
    /// accepted): it is in `epoch` again with its history kept, and its queued messages are
    /// re-sent. What the room carried between the failure and the rejoin cannot be read.
    Rejoined {
        /// The room.
        room: RoomUri,
        /// The epoch the rejoin started.
        epoch: u64,
    },
    /// The hub refused an operation of this device.
    Refused {
        /// The room.
        room: RoomUri,
        /// The operation.
        op: OpId,
        /// The refusal.
        refusal: HubRefusal,
    },
    /// Someone is typing (or stopped).
    Typing(TypingSignal),
    /// The receipts of a message changed (a status report arrived): see
    /// [`crate::MessageView::delivered_to`] and [`crate::MessageView::read_by`].
    StatusChanged {
        /// The room.
        room: RoomUri,
        /// The message.
        message: MessageId,
    },
}

impl HubRefusal {
    pub(crate) fn of_update(outcome: &UpdateOutcome) -> Option<Self> {
        match outcome {
            UpdateOutcome::Success { .. } => None,
            UpdateOutcome::WrongEpoch { current_epoch } => Some(Self::WrongEpoch {
                current_epoch: *current_epoch,
            }),
            UpdateOutcome::NotAllowed => Some(Self::NotAllowed),
            UpdateOutcome::InvalidProposal { invalid_proposals } => Some(Self::InvalidProposal {
                count: invalid_proposals.len(),
            }),
            _ => Some(Self::NotAllowed),
        }
    }

    pub(crate) fn of_submit(outcome: &SubmitOutcome) -> Option<Self> {
        match outcome {
            SubmitOutcome::Accepted { .. } => None,
            SubmitOutcome::EpochTooOld { current_epoch } => Some(Self::EpochTooOld {
                current_epoch: *current_epoch,
            }),
            _ => Some(Self::NotAllowed),
        }
    }
}
