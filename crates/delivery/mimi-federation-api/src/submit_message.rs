//! `POST /submitMessage/{roomId}` (draft-ietf-mimi-protocol-06 §5.4, digest §3.4).
//!
//! **Sent by** a follower **to** the hub with one application message (an MLS PrivateMessage).
//! **Request** [`SubmitMessageRequest`]; **response** [`SubmitMessageResponse`] with HTTP 200,
//! optionally carrying the hub's [`Frank`] (see [`crate::franking`]). The draft's flows write the
//! path `/submit/…`; the directory key is `submitMessage`. Metadata:
//! [`crate::http::SUBMIT_MESSAGE`]. Readings D6, D7 in [`crate::defects`].

/// This endpoint's HTTP metadata (method, path, roles, statuses).
pub use crate::http::SUBMIT_MESSAGE as ENDPOINT;

use mimi_types::codepoints::WireFormat;

use crate::codec::{Decode, Encode, Reader, Writer, closed_enum, tls_codec_bridge};
use crate::common::{IdentifierUri, Protocol};
use crate::error::{DecodeError, EncodeError};
use crate::franking::Frank;
use crate::mls::{ContentType, MlsMessage};

const PRIVATE_APPLICATION: &str = "a PrivateMessage carrying an application message";

/// Whether `message` is a PrivateMessage with application content.
pub(crate) fn is_private_application(message: &MlsMessage) -> bool {
    message.wire_format() == WireFormat::PRIVATE_MESSAGE
        && message.content_type() == Some(ContentType::Application)
}

/// `SubmitMessageRequest`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SubmitMessageRequest {
    /// `protocol`.
    pub protocol: Protocol,
    /// The message: a PrivateMessage with content type application.
    pub app_message: MlsMessage,
    /// The sender's user URI (or pseudonym); the hub checks it is an active participant.
    pub sending_uri: IdentifierUri,
}

impl SubmitMessageRequest {
    /// An mls10 request; refuses anything but a PrivateMessage application message.
    pub fn new(app_message: MlsMessage, sending_uri: IdentifierUri) -> Result<Self, DecodeError> {
        check_app_message(&app_message)?;
        Ok(Self {
            protocol: Protocol::Mls10,
            app_message,
            sending_uri,
        })
    }
}

fn check_app_message(message: &MlsMessage) -> Result<(), DecodeError> {
    if is_private_application(message) {
        Ok(())
    } else {
        Err(DecodeError::WrongMlsMessage {
            what: "appMessage",
            expected: PRIVATE_APPLICATION,
            found: message.kind(),
        })
    }
}

impl Encode for SubmitMessageRequest {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        if !is_private_application(&self.app_message) {
            return Err(EncodeError::Invalid {
                what: "SubmitMessageRequest",
                rule: "appMessage must be a PrivateMessage carrying an application message",
            });
        }
        self.protocol.encode_into(w)?;
        match self.protocol {
            Protocol::Mls10 => {
                self.app_message.encode_into(w)?;
                self.sending_uri.encode_into(w)
            }
        }
    }
}

impl Decode for SubmitMessageRequest {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let protocol = Protocol::decode_from(r)?;
        match protocol {
            Protocol::Mls10 => {
                let app_message = MlsMessage::decode_from(r)?;
                check_app_message(&app_message)?;
                Ok(Self {
                    protocol,
                    app_message,
                    sending_uri: IdentifierUri::decode_from(r)?,
                })
            }
        }
    }
}

closed_enum! {
    /// `SubmitResponseCode`.
    SubmitResponseCode, "SubmitResponseCode", reserved [] {
        /// `accepted(0)` (the select calls it `success`: reading D7).
        Accepted = 0 => "accepted",
        /// `notAllowed(1)`: policy, or an epoch newer than the hub's.
        NotAllowed = 1 => "notAllowed",
        /// `epochTooOld(2)`
        EpochTooOld = 2 => "epochTooOld",
    }
}

/// The hub's answer with its data (the `select (statusCode)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubmitOutcome {
    /// Accepted; will be fanned out.
    Accepted {
        /// Hub acceptance time, milliseconds since the UNIX epoch.
        accepted_timestamp: u64,
        /// The hub's frank, when the room franks.
        frank: Option<Frank>,
    },
    /// Refused by policy, or the message's epoch is newer than the hub's.
    NotAllowed,
    /// The hub is in a newer epoch.
    EpochTooOld {
        /// The group's current epoch.
        current_epoch: u64,
    },
}

impl SubmitOutcome {
    /// The status code.
    pub fn code(&self) -> SubmitResponseCode {
        match self {
            Self::Accepted { .. } => SubmitResponseCode::Accepted,
            Self::NotAllowed => SubmitResponseCode::NotAllowed,
            Self::EpochTooOld { .. } => SubmitResponseCode::EpochTooOld,
        }
    }
}

/// `SubmitMessageResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SubmitMessageResponse {
    /// `protocol`.
    pub protocol: Protocol,
    /// The outcome.
    pub outcome: SubmitOutcome,
}

impl SubmitMessageResponse {
    /// An mls10 response.
    pub fn new(outcome: SubmitOutcome) -> Self {
        Self {
            protocol: Protocol::Mls10,
            outcome,
        }
    }
}

impl Encode for SubmitMessageResponse {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.protocol.encode_into(w)?;
        match self.protocol {
            Protocol::Mls10 => {
                self.outcome.code().encode_into(w)?;
                match &self.outcome {
                    SubmitOutcome::Accepted {
                        accepted_timestamp,
                        frank,
                    } => {
                        w.u64(*accepted_timestamp);
                        w.optional(frank.as_ref(), |w, f| f.encode_into(w))
                    }
                    SubmitOutcome::NotAllowed => Ok(()),
                    SubmitOutcome::EpochTooOld { current_epoch } => {
                        w.u64(*current_epoch);
                        Ok(())
                    }
                }
            }
        }
    }
}

impl Decode for SubmitMessageResponse {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let protocol = Protocol::decode_from(r)?;
        let outcome = match protocol {
            Protocol::Mls10 => match SubmitResponseCode::decode_from(r)? {
                SubmitResponseCode::Accepted => SubmitOutcome::Accepted {
                    accepted_timestamp: r.u64("accepted_timestamp")?,
                    frank: r.optional("frank", Frank::decode_from)?,
                },
                SubmitResponseCode::NotAllowed => SubmitOutcome::NotAllowed,
                SubmitResponseCode::EpochTooOld => SubmitOutcome::EpochTooOld {
                    current_epoch: r.u64("currentEpoch")?,
                },
            },
        };
        Ok(Self { protocol, outcome })
    }
}

tls_codec_bridge!(
    SubmitMessageRequest,
    SubmitResponseCode,
    SubmitMessageResponse
);
