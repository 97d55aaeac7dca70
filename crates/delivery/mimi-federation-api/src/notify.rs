//! `POST /notify/{roomId}` (draft-ietf-mimi-protocol-06 §5.5, digest §3.5).
//!
//! **Sent by** the hub **to** each follower with participants, in acceptance order. **Request**
//! [`NotifyRequest`]: one or more [`FanoutMessage`]s concatenated (no outer length); **response**
//! no body, HTTP 201. A follower MUST answer 201 to a byte-identical repeat and SHOULD process it
//! once. Metadata: [`crate::http::NOTIFY`]. Reading D8 in [`crate::defects`].

/// This endpoint's HTTP metadata (method, path, roles, statuses).
pub use crate::http::NOTIFY as ENDPOINT;

use mimi_types::codepoints::WireFormat;

use crate::codec::{Decode, Encode, Reader, Writer, tls_codec_bridge};
use crate::common::Protocol;
use crate::defects::FANOUT_HAS_PROTOCOL;
use crate::error::{DecodeError, EncodeError};
use crate::franking::Frank;
use crate::limits::MAX_FANOUT_MESSAGES;
use crate::mls::{ContentType, MlsMessage};
use crate::ratchet_tree::RatchetTreeOption;
use crate::submit_message::is_private_application;
use crate::update::{decode_proposals, encode_proposals};

/// What a fanout message carries, by the message's wire format and content type (reading D8).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FanoutContent {
    /// A PrivateMessage application message, with the hub's frank if any.
    Application {
        /// The PrivateMessage.
        message: MlsMessage,
        /// `optional<Frank>`.
        frank: Option<Frank>,
    },
    /// A Welcome (MLSMessage with wire format mls_welcome), sent only to the new members'
    /// providers.
    Welcome {
        /// The Welcome.
        message: MlsMessage,
        /// How to get the tree.
        ratchet_tree_option: RatchetTreeOption,
    },
    /// A PublicMessage proposal and the proposals that came with it.
    Proposal {
        /// The proposal.
        message: MlsMessage,
        /// Equal to the `moreProposals` of the `UpdateRequest` it came in.
        more_proposals: Vec<MlsMessage>,
    },
    /// A PublicMessage commit, with the hub's re-issued proposals after an external commit.
    Commit {
        /// The commit.
        message: MlsMessage,
        /// The hub's replacement proposals for the new epoch.
        external_proposals: Vec<MlsMessage>,
    },
}

impl FanoutContent {
    /// The MLS message.
    pub fn message(&self) -> &MlsMessage {
        match self {
            Self::Application { message, .. }
            | Self::Welcome { message, .. }
            | Self::Proposal { message, .. }
            | Self::Commit { message, .. } => message,
        }
    }
}

/// `FanoutMessage`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct FanoutMessage {
    /// Hub acceptance time, milliseconds since the UNIX epoch.
    pub timestamp: u64,
    /// The message and its companions.
    pub content: FanoutContent,
}

impl FanoutMessage {
    /// A fanout message.
    pub fn new(timestamp: u64, content: FanoutContent) -> Self {
        Self { timestamp, content }
    }
}

/// The shape a message must take in a fanout, or why it cannot be fanned out.
fn shape(message: &MlsMessage) -> Result<Shape, String> {
    if message.wire_format() == WireFormat::WELCOME {
        Ok(Shape::Welcome)
    } else if is_private_application(message) {
        Ok(Shape::Application)
    } else if message.is_public(&[ContentType::Proposal]) {
        Ok(Shape::Proposal)
    } else if message.is_public(&[ContentType::Commit]) {
        Ok(Shape::Commit)
    } else {
        Err(message.kind())
    }
}

#[derive(PartialEq, Eq)]
enum Shape {
    Application,
    Welcome,
    Proposal,
    Commit,
}

const FANOUT_EXPECTED: &str = "a PrivateMessage application message, a Welcome, or a \
                               PublicMessage proposal or commit";

impl Encode for FanoutMessage {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        let expected = match &self.content {
            FanoutContent::Application { .. } => Shape::Application,
            FanoutContent::Welcome { .. } => Shape::Welcome,
            FanoutContent::Proposal { .. } => Shape::Proposal,
            FanoutContent::Commit { .. } => Shape::Commit,
        };
        if shape(self.content.message()).ok() != Some(expected) {
            return Err(EncodeError::Invalid {
                what: "FanoutMessage",
                rule: "the message's wire format and content type must match its variant",
            });
        }
        w.u64(self.timestamp);
        if FANOUT_HAS_PROTOCOL {
            Protocol::Mls10.encode_into(w)?;
        }
        self.content.message().encode_into(w)?;
        match &self.content {
            FanoutContent::Application { frank, .. } => {
                w.optional(frank.as_ref(), |w, f| f.encode_into(w))
            }
            FanoutContent::Welcome {
                ratchet_tree_option,
                ..
            } => ratchet_tree_option.encode_into(w),
            FanoutContent::Proposal { more_proposals, .. } => {
                encode_proposals("moreProposals", more_proposals, w)
            }
            FanoutContent::Commit {
                external_proposals, ..
            } => encode_proposals("externalProposals", external_proposals, w),
        }
    }
}

impl Decode for FanoutMessage {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let timestamp = r.u64("timestamp")?;
        if FANOUT_HAS_PROTOCOL {
            Protocol::decode_from(r)?;
        }
        let message = MlsMessage::decode_from(r)?;
        let content = match shape(&message) {
            Ok(Shape::Application) => FanoutContent::Application {
                message,
                frank: r.optional("frank", Frank::decode_from)?,
            },
            Ok(Shape::Welcome) => FanoutContent::Welcome {
                message,
                ratchet_tree_option: RatchetTreeOption::decode_from(r)?,
            },
            Ok(Shape::Proposal) => FanoutContent::Proposal {
                message,
                more_proposals: decode_proposals("moreProposals", r)?,
            },
            Ok(Shape::Commit) => FanoutContent::Commit {
                message,
                external_proposals: decode_proposals("externalProposals", r)?,
            },
            Err(found) => {
                return Err(DecodeError::WrongMlsMessage {
                    what: "FanoutMessage.message",
                    expected: FANOUT_EXPECTED,
                    found,
                });
            }
        };
        Ok(Self { timestamp, content })
    }
}

/// A notify body: one or more fanout messages for the same room, concatenated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct NotifyRequest {
    /// The messages, in hub order; never empty.
    pub messages: Vec<FanoutMessage>,
}

impl NotifyRequest {
    /// A notify body.
    pub fn new(messages: Vec<FanoutMessage>) -> Self {
        Self { messages }
    }
}

impl Encode for NotifyRequest {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        if self.messages.is_empty() {
            return Err(EncodeError::EmptyList {
                what: "notify body",
            });
        }
        if self.messages.len() > MAX_FANOUT_MESSAGES {
            return Err(EncodeError::TooManyItems {
                what: "notify body",
                count: self.messages.len(),
                max: MAX_FANOUT_MESSAGES,
            });
        }
        self.messages.iter().try_for_each(|m| m.encode_into(w))
    }
}

impl Decode for NotifyRequest {
    /// Reads fanout messages until the input ends: use it through [`crate::decode_exact`].
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut messages = Vec::new();
        while !r.is_empty() {
            if messages.len() == MAX_FANOUT_MESSAGES {
                return Err(DecodeError::TooManyItems {
                    what: "notify body",
                    max: MAX_FANOUT_MESSAGES,
                });
            }
            messages.push(FanoutMessage::decode_from(r)?);
        }
        if messages.is_empty() {
            return Err(DecodeError::EmptyBody {
                what: "notify body",
            });
        }
        Ok(Self { messages })
    }
}

tls_codec_bridge!(FanoutMessage, NotifyRequest);
