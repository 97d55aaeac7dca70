//! Message status reports (draft-mahy-mimi-message-status-01, digest §5.7), media type
//! `application/mimi-message-status`:
//!
//! ```cddl
//! MessageStatusReport = [ * PerMessageStatus ]
//! PerMessageStatus = [ messageId: bstr .size 32, status: 0..255 ]
//! ```

use crate::cbor::{self, Value, Writer};
use crate::codec::{fixed_array, message_id, uint};
use crate::error::{DecodeError, ShapeError};
use crate::message_id::MessageId;

/// The media type of a status report.
pub const MEDIA_TYPE: &str = mimi_types::codepoints::media_type::MIMI_MESSAGE_STATUS;

mimi_types::open_codepoint! {
    /// A message's status for the reporting user (7..=255 unknown).
    pub struct MessageStatus(u8) {
        assigned {
            /// Not read (again).
            UNREAD = 0 => "unread",
            /// Delivered to a client.
            DELIVERED = 1 => "delivered",
            /// Read.
            READ = 2 => "read",
            /// Expired.
            EXPIRED = 3 => "expired",
            /// Deleted.
            DELETED = 4 => "deleted",
            /// Hidden.
            HIDDEN = 5 => "hidden",
            /// Could not be processed.
            ERROR = 6 => "error",
        }
        provisional {}
    }
}

/// The status of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerMessageStatus {
    /// The message.
    pub message_id: MessageId,
    /// Its status.
    pub status: MessageStatus,
}

/// A report about messages of one room.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageStatusReport {
    /// One entry per message.
    pub statuses: Vec<PerMessageStatus>,
}

impl MessageStatusReport {
    /// A report with these entries.
    pub fn new(statuses: Vec<PerMessageStatus>) -> Self {
        Self { statuses }
    }

    /// Adds an entry.
    pub fn push(&mut self, message_id: MessageId, status: MessageStatus) {
        self.statuses.push(PerMessageStatus { message_id, status });
    }

    /// Deterministic CBOR.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.array(self.statuses.len());
        for entry in &self.statuses {
            w.array(2);
            w.bytes(&entry.message_id.0);
            w.unsigned(entry.status.value().into());
        }
        w.finish()
    }

    /// Decodes a report; the bytes must be deterministic CBOR with nothing after it.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let Value::Array(items) = cbor::decode(bytes)? else {
            return Err(ShapeError::WrongType {
                field: "MessageStatusReport",
                expected: "an array",
            }
            .into());
        };
        let statuses = items
            .into_iter()
            .map(|item| {
                let [id, status] = fixed_array::<2>(item, "PerMessageStatus")?;
                Ok(PerMessageStatus {
                    message_id: message_id(id, "messageId")?,
                    status: MessageStatus::new(uint(status, "status", u8::MAX.into())? as u8),
                })
            })
            .collect::<Result<Vec<_>, ShapeError>>()?;
        Ok(Self { statuses })
    }
}
