//! Values a receiver derives for every message rather than reading them from the content
//! (`implied.cddl`, digest §5.1): message ID, hub timestamp, MLS group, sender leaf, URIs.

use std::collections::BTreeMap;

use crate::cbor::{self, MapKey, Value, Writer};
use crate::codec::{bytes, fixed_array, message_id, text, uint};
use crate::error::{DecodeError, ShapeError};
use crate::message_id::MessageId;

/// RFC 9581 extended time tag.
const EXTENDED_TIME_TAG: u64 = 1001;

/// The hub's accepted timestamp.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Timestamp {
    /// Milliseconds since the UNIX epoch.
    Millis(u64),
    /// RFC 9581 extended time (tag 1001) with its map.
    Extended(BTreeMap<MapKey, Value>),
}

/// `MessageDerivedValues`: what a receiving client knows about a message besides its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageDerivedValues {
    /// The message ID.
    pub message_id: MessageId,
    /// When the hub accepted the message.
    pub hub_accepted_timestamp: Timestamp,
    /// The MLS group ID.
    pub mls_group_id: Vec<u8>,
    /// The sender's leaf index.
    pub sender_leaf_index: u32,
    /// The sending client's URI.
    pub sender_client_url: String,
    /// The sending user's URI ("From").
    pub sender_user_url: String,
    /// The room URI ("To").
    pub room_url: String,
}

impl MessageDerivedValues {
    /// Deterministic CBOR.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.array(7);
        w.bytes(&self.message_id.0);
        match &self.hub_accepted_timestamp {
            Timestamp::Millis(ms) => w.unsigned(*ms),
            Timestamp::Extended(map) => {
                w.value(&Value::Tag(
                    EXTENDED_TIME_TAG,
                    Box::new(Value::Map(map.clone())),
                ));
            }
        }
        w.bytes(&self.mls_group_id);
        w.unsigned(self.sender_leaf_index.into());
        w.text(&self.sender_client_url);
        w.text(&self.sender_user_url);
        w.text(&self.room_url);
        w.finish()
    }

    /// Decodes derived values; strict like every decoder here.
    pub fn decode(input: &[u8]) -> Result<Self, DecodeError> {
        let [id, timestamp, group, leaf, client, user, room] =
            fixed_array::<7>(cbor::decode(input)?, "MessageDerivedValues")?;
        let hub_accepted_timestamp = match timestamp {
            Value::Unsigned(ms) => Timestamp::Millis(ms),
            Value::Tag(EXTENDED_TIME_TAG, inner) => match *inner {
                Value::Map(map) => Timestamp::Extended(map),
                _ => return Err(wrong("hubAcceptedTimestamp", "a map inside tag 1001").into()),
            },
            _ => return Err(wrong("hubAcceptedTimestamp", "milliseconds or tag 1001").into()),
        };
        Ok(Self {
            message_id: message_id(id, "messageId")?,
            hub_accepted_timestamp,
            mls_group_id: bytes(group, "mlsGroupId")?,
            sender_leaf_index: uint(leaf, "senderLeafIndex", u32::MAX.into())? as u32,
            sender_client_url: text(client, "senderClientUrl")?,
            sender_user_url: text(user, "senderUserUrl")?,
            room_url: text(room, "roomUrl")?,
        })
    }
}

fn wrong(field: &'static str, expected: &'static str) -> ShapeError {
    ShapeError::WrongType { field, expected }
}
