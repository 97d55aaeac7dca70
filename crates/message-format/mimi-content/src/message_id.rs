//! Message IDs (draft-ietf-mimi-content-08 §3.3, digest §5.2), and the -07 algorithm for peers
//! that still use it.
//!
//! ```text
//! -08: 0x01 || SHA-256( u16be(len sender) || sender || u16be(len room) || room || cbor || salt )[0..31]
//! -07: 0x01 || SHA-256( sender || room || cbor || salt )[0..31]
//! ```
//!
//! `cbor` is the exact serialized content (hash the received bytes, never a re-encoding) and
//! the URIs are their octets as carried.

use std::fmt;

use mimi_types::{RoomUri, UserUri};
use sha2::{Digest, Sha256};

use crate::codepoints::HashAlgorithm;
use crate::error::ValidationError;
use crate::model::{MimiContent, Salt};

/// A 32-byte MIMI message ID: one hash-algorithm octet and 31 hash octets.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub [u8; 32]);

impl MessageId {
    /// Length in bytes.
    pub const LEN: usize = 32;

    /// The hash algorithm named by the first octet. Receivers discard messages whose own ID
    /// names an algorithm they do not know.
    pub fn hash_alg(&self) -> HashAlgorithm {
        HashAlgorithm::new(self.0[0])
    }

    /// The ID bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({self})")
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Why a message ID cannot be computed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageIdError {
    /// A URI longer than the 16-bit length prefix can express.
    #[error("{which} URI is {len} octets; message IDs allow at most 65535")]
    UriTooLong {
        /// "sender" or "room".
        which: &'static str,
        /// Its length.
        len: usize,
    },
    /// The bytes do not start like MIMI content (a 7-element array whose first item is a
    /// 16-byte salt), so there is no salt to hash.
    #[error("bytes do not start with a MIMI content array and 16-byte salt (0x87 0x50 ...)")]
    NotMimiContent,
    /// The content to encode is invalid.
    #[error("content is invalid: {0}")]
    Invalid(#[from] ValidationError),
}

fn length_prefix(which: &'static str, uri: &[u8]) -> Result<[u8; 2], MessageIdError> {
    u16::try_from(uri.len())
        .map(u16::to_be_bytes)
        .map_err(|_| MessageIdError::UriTooLong {
            which,
            len: uri.len(),
        })
}

/// The salt of encoded MIMI content, read from its first bytes.
pub fn salt_of(content_cbor: &[u8]) -> Result<Salt, MessageIdError> {
    match content_cbor {
        [0x87, 0x50, rest @ ..] => rest
            .get(..Salt::LEN)
            .and_then(|s| <[u8; 16]>::try_from(s).ok())
            .map(Salt)
            .ok_or(MessageIdError::NotMimiContent),
        _ => Err(MessageIdError::NotMimiContent),
    }
}

fn finish(hasher: Sha256) -> MessageId {
    let hash = hasher.finalize();
    let mut id = [0u8; 32];
    id[0] = HashAlgorithm::SHA_256.value();
    id[1..].copy_from_slice(&hash[..31]);
    MessageId(id)
}

/// The -08 message ID of encoded content, from the sender and room URI octets.
pub fn message_id(
    sender_uri: &[u8],
    room_uri: &[u8],
    content_cbor: &[u8],
) -> Result<MessageId, MessageIdError> {
    let salt = salt_of(content_cbor)?;
    let mut hasher = Sha256::new();
    hasher.update(length_prefix("sender", sender_uri)?);
    hasher.update(sender_uri);
    hasher.update(length_prefix("room", room_uri)?);
    hasher.update(room_uri);
    hasher.update(content_cbor);
    hasher.update(salt.0);
    Ok(finish(hasher))
}

/// The -08 message ID with MIMI URI types.
pub fn message_id_for(
    sender: &UserUri,
    room: &RoomUri,
    content_cbor: &[u8],
) -> Result<MessageId, MessageIdError> {
    message_id(
        sender.to_string().as_bytes(),
        room.to_string().as_bytes(),
        content_cbor,
    )
}

/// The message ID as draft-ietf-mimi-content-07 and earlier computed it (no length prefixes).
/// Only for interoperating with peers that have not moved to -08; ambiguous by construction.
pub fn message_id_draft07(
    sender_uri: &[u8],
    room_uri: &[u8],
    content_cbor: &[u8],
) -> Result<MessageId, MessageIdError> {
    let salt = salt_of(content_cbor)?;
    let mut hasher = Sha256::new();
    hasher.update(sender_uri);
    hasher.update(room_uri);
    hasher.update(content_cbor);
    hasher.update(salt.0);
    Ok(finish(hasher))
}

impl MimiContent {
    /// Encodes the content and computes its -08 message ID. Returns both: send exactly these
    /// bytes.
    pub fn encode_with_id(
        &self,
        sender_uri: &[u8],
        room_uri: &[u8],
    ) -> Result<(Vec<u8>, MessageId), MessageIdError> {
        let bytes = self.encode()?;
        let id = message_id(sender_uri, room_uri, &bytes)?;
        Ok((bytes, id))
    }
}
