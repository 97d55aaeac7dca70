//! Hub retraction of abusive messages (draft-mahy-mimi-hub-retracted-messages-00; digest §5.9):
//! the data of the hub's AppEphemeral proposals `hub_retracted_messages` (0x0050) and
//! `hub_retracted_range` (0x0051).
//!
//! ```text
//! uint8[32] MessageId;
//!
//! struct {
//!     uint64 hub_retracted_timestamp;
//!     IdentityUri remover_uri;
//!     optional<AbuseType> reason_code;       /* AbuseType: uint8 (protocol-06 §5.9) */
//!     MessageId retracted_messages<V>;
//! } HubRetractedMessagesComponent;
//!
//! struct {
//!     uint64 hub_retracted_timestamp;
//!     IdentityUri remover_uri;
//!     optional<AbuseType> reason_code;
//!     IdentityUri abusive_sender_uri;
//!     optional<uint64> starting_timestamp;
//! } HubRetractedRangeComponent;
//! ```
//!
//! The -00 text carries no signature of its own inside these structs (an earlier editor's copy
//! had a `signature` over a `…ComponentTBS` struct): the proposal's MLS signature by the
//! external sender is what members verify (see the crate's `readings`). Our readings where the
//! draft is silent: timestamps are milliseconds since the UNIX epoch, as every MIMI content
//! timestamp; both URIs are MIMI user URIs in canonical form; a list names at least one message,
//! and no message twice.

use mimi_types::UserUri;
use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::tls_component;
use crate::codec::{DecodeError, user_uri};

/// A MIMI content message ID (`uint8[32] MessageId`).
pub type RetractedMessageId = [u8; 32];

/// `HubRetractedMessagesComponent`: specific messages, by MIMI message ID.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct HubRetractedMessages {
    /// When the hub retracted them (milliseconds since the UNIX epoch).
    pub hub_retracted_timestamp: u64,
    /// Who retracted them: the hub's service user.
    #[tls_codec(with = "user_uri")]
    pub remover_uri: UserUri,
    /// Why (an `AbuseType` of protocol-06 §5.9), if said.
    pub reason_code: Option<u8>,
    /// The retracted messages.
    pub retracted_messages: Vec<RetractedMessageId>,
}

tls_component!(HubRetractedMessages, "HubRetractedMessagesComponent");

impl HubRetractedMessages {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        if self.retracted_messages.is_empty() {
            return Err(DecodeError::invalid(
                "HubRetractedMessagesComponent",
                "retracted_messages names no message",
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        if !self.retracted_messages.iter().all(|m| seen.insert(*m)) {
            return Err(DecodeError::invalid(
                "HubRetractedMessagesComponent",
                "retracted_messages names a message twice",
            ));
        }
        Ok(())
    }
}

/// `HubRetractedRangeComponent`: every message of one sender, from a time on.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct HubRetractedRange {
    /// When the hub retracted them (milliseconds since the UNIX epoch).
    pub hub_retracted_timestamp: u64,
    /// Who retracted them: the hub's service user.
    #[tls_codec(with = "user_uri")]
    pub remover_uri: UserUri,
    /// Why (an `AbuseType` of protocol-06 §5.9), if said.
    pub reason_code: Option<u8>,
    /// Whose messages.
    #[tls_codec(with = "user_uri")]
    pub abusive_sender_uri: UserUri,
    /// From when on (hub timestamps, milliseconds, inclusive); absent: all of them.
    pub starting_timestamp: Option<u64>,
}

tls_component!(HubRetractedRange, "HubRetractedRangeComponent");

impl HubRetractedRange {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        Ok(())
    }

    /// Whether a message of `sender` accepted by the hub at `timestamp_ms` falls in the range.
    pub fn covers(&self, sender: &UserUri, timestamp_ms: u64) -> bool {
        sender == &self.abusive_sender_uri
            && self
                .starting_timestamp
                .is_none_or(|from| timestamp_ms >= from)
    }
}

/// One hub retraction, either form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubRetraction {
    /// `hub_retracted_messages`.
    Messages(HubRetractedMessages),
    /// `hub_retracted_range`.
    Range(HubRetractedRange),
}

impl HubRetraction {
    /// The component ID its AppEphemeral proposal carries.
    pub fn component_id(&self) -> mimi_types::codepoints::ComponentId {
        use mimi_types::codepoints::ComponentId;
        match self {
            Self::Messages(_) => ComponentId::HUB_RETRACTED_MESSAGES,
            Self::Range(_) => ComponentId::HUB_RETRACTED_RANGE,
        }
    }

    /// The proposal's data.
    pub fn encode(&self) -> Vec<u8> {
        use super::Component as _;
        match self {
            Self::Messages(m) => m.encode(),
            Self::Range(r) => r.encode(),
        }
    }

    /// Decodes an AppEphemeral proposal's data by its component ID; `None` for another
    /// component.
    pub fn decode(
        component: mimi_types::codepoints::ComponentId,
        data: &[u8],
    ) -> Option<Result<Self, DecodeError>> {
        use super::Component as _;
        use mimi_types::codepoints::ComponentId;
        if component == ComponentId::HUB_RETRACTED_MESSAGES {
            Some(HubRetractedMessages::decode(data).map(Self::Messages))
        } else if component == ComponentId::HUB_RETRACTED_RANGE {
            Some(HubRetractedRange::decode(data).map(Self::Range))
        } else {
            None
        }
    }

    /// The same retraction made by `remover` at `at_ms` (what the hub fills in when it sends
    /// an operator's request).
    pub fn stamped(mut self, remover: UserUri, at_ms: u64) -> Self {
        match &mut self {
            Self::Messages(m) => {
                m.remover_uri = remover;
                m.hub_retracted_timestamp = at_ms;
            }
            Self::Range(r) => {
                r.remover_uri = remover;
                r.hub_retracted_timestamp = at_ms;
            }
        }
        self
    }

    /// Who retracted.
    pub fn remover(&self) -> &UserUri {
        match self {
            Self::Messages(m) => &m.remover_uri,
            Self::Range(r) => &r.remover_uri,
        }
    }

    /// When the hub retracted.
    pub fn timestamp(&self) -> u64 {
        match self {
            Self::Messages(m) => m.hub_retracted_timestamp,
            Self::Range(r) => r.hub_retracted_timestamp,
        }
    }

    /// The reason, if said.
    pub fn reason_code(&self) -> Option<u8> {
        match self {
            Self::Messages(m) => m.reason_code,
            Self::Range(r) => r.reason_code,
        }
    }
}
