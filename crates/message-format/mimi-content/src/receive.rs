//! Accepting a received message: decode strictly, compute the message ID from the exact bytes,
//! and check the content's claimed sender and room against the authenticated ones.

use crate::error::DecodeError;
use crate::message_id::{MessageId, MessageIdError, message_id};
use crate::model::MimiContent;

/// A message that passed [`ReceivedMessage::accept`]: valid content, its ID computed from the
/// received bytes, and URIs consistent with the authenticated sender and room.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The decoded, validated content.
    pub content: MimiContent,
    /// The -08 message ID of the received bytes.
    pub id: MessageId,
    /// The exact received bytes (hash and store these, never a re-encoding).
    pub bytes: Vec<u8>,
}

/// Why a received message is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReceiveError {
    /// The bytes are not valid MIMI content.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The message ID cannot be computed.
    #[error(transparent)]
    MessageId(#[from] MessageIdError),
    /// The content's `senderUri` extension names someone other than the authenticated sender.
    #[error("content claims sender {claimed:?} but was sent by {authenticated:?}")]
    SenderUriMismatch {
        /// The `senderUri` in the content.
        claimed: String,
        /// The authenticated sender.
        authenticated: String,
    },
    /// The content's `roomUri` extension names another room.
    #[error("content claims room {claimed:?} but arrived in {actual:?}")]
    RoomUriMismatch {
        /// The `roomUri` in the content.
        claimed: String,
        /// The room it arrived in.
        actual: String,
    },
    /// The ID duplicates a message the receiver already has (replay); discard.
    #[error("message {0} is a duplicate")]
    Duplicate(MessageId),
}

impl ReceivedMessage {
    /// Decodes `bytes` received from `sender_uri` (authenticated by MLS) in `room_uri`.
    /// `is_known` says whether a message ID has been seen already (duplicates are discarded).
    pub fn accept(
        bytes: Vec<u8>,
        sender_uri: &str,
        room_uri: &str,
        is_known: impl FnOnce(&MessageId) -> bool,
    ) -> Result<Self, ReceiveError> {
        let content = MimiContent::decode(&bytes)?;
        if let Some(claimed) = content.extensions.sender_uri()
            && claimed != sender_uri
        {
            return Err(ReceiveError::SenderUriMismatch {
                claimed: claimed.to_owned(),
                authenticated: sender_uri.to_owned(),
            });
        }
        if let Some(claimed) = content.extensions.room_uri()
            && claimed != room_uri
        {
            return Err(ReceiveError::RoomUriMismatch {
                claimed: claimed.to_owned(),
                actual: room_uri.to_owned(),
            });
        }
        let id = message_id(sender_uri.as_bytes(), room_uri.as_bytes(), &bytes)?;
        if is_known(&id) {
            return Err(ReceiveError::Duplicate(id));
        }
        Ok(Self { content, id, bytes })
    }
}
