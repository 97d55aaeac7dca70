//! `POST /reportAbuse/{roomId}` (draft-ietf-mimi-protocol-06 §5.9, digest §3.9).
//!
//! **Sent by** any provider **to** the room's hub only. **Request** [`AbuseReport`];
//! **response** no body, HTTP 201 when accepted (any error status otherwise). The hub checks each
//! [`AbusiveMessage`] against its own frank. Room policy capability `canReportAbuse` governs who
//! may report. Metadata: [`crate::http::REPORT_ABUSE`]. Readings D15, D17 in
//! [`crate::defects`].

/// This endpoint's HTTP metadata (method, path, roles, statuses).
pub use crate::http::REPORT_ABUSE as ENDPOINT;

use crate::codec::{Decode, Encode, Reader, Writer, tls_codec_bridge};
use crate::common::{AppDataDictionary, IdentifierUri};
use crate::error::{DecodeError, EncodeError};
use crate::franking::Frank;
use crate::limits::{
    MAX_ABUSIVE_MESSAGES, MAX_MESSAGE_CONTENT_LEN, MAX_MLS_OBJECT_LEN, MAX_NOTE_LEN,
};

mimi_types::open_codepoint! {
    /// `AbuseType`: the reason of a report. The draft defines only `reserved(0)` and leaves the
    /// taxonomy TODO, so the registry is open (reading D15): every value is carried, and 0 means
    /// "unspecified".
    pub struct AbuseType(u8) {
        assigned {
            /// `reserved(0)`, which we send as "unspecified".
            UNSPECIFIED = 0 => "unspecified",
        }
        provisional {}
    }
}

/// `AbusiveMessage`: one reported message with the proof the hub checks.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct AbusiveMessage {
    /// The decrypted message content (e.g. MIMI content) as the reporter received it.
    pub message_content: Vec<u8>,
    /// The hub's frank for it.
    pub frank: Frank,
    /// The hub's acceptance time, milliseconds since the UNIX epoch.
    pub accepted_timestamp: u64,
}

impl AbusiveMessage {
    /// A reported message.
    pub fn new(message_content: Vec<u8>, frank: Frank, accepted_timestamp: u64) -> Self {
        Self {
            message_content,
            frank,
            accepted_timestamp,
        }
    }
}

impl Encode for AbusiveMessage {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        w.opaque(
            "message_content",
            MAX_MESSAGE_CONTENT_LEN,
            &self.message_content,
        )?;
        self.frank.encode_into(w)?;
        w.u64(self.accepted_timestamp);
        Ok(())
    }
}

impl Decode for AbusiveMessage {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            message_content: r
                .opaque("message_content", MAX_MESSAGE_CONTENT_LEN)?
                .to_vec(),
            frank: Frank::decode_from(r)?,
            accepted_timestamp: r.u64("accepted_timestamp")?,
        })
    }
}

/// `AbuseReport`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct AbuseReport {
    /// The reporting user.
    pub reporting_user: IdentifierUri,
    /// The user reported.
    pub alleged_abuser_uri: IdentifierUri,
    /// The reason.
    pub reason_code: AbuseType,
    /// A free-text note (UTF-8).
    pub note: String,
    /// The messages reported.
    pub messages: Vec<AbusiveMessage>,
    /// `abuse_extensions`.
    pub abuse_extensions: AppDataDictionary,
}

impl AbuseReport {
    /// A report without extensions.
    pub fn new(
        reporting_user: IdentifierUri,
        alleged_abuser_uri: IdentifierUri,
        reason_code: AbuseType,
        note: impl Into<String>,
        messages: Vec<AbusiveMessage>,
    ) -> Self {
        Self {
            reporting_user,
            alleged_abuser_uri,
            reason_code,
            note: note.into(),
            messages,
            abuse_extensions: AppDataDictionary::new(),
        }
    }
}

impl Encode for AbuseReport {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.reporting_user.encode_into(w)?;
        self.alleged_abuser_uri.encode_into(w)?;
        w.u8(self.reason_code.value());
        w.opaque("note", MAX_NOTE_LEN, self.note.as_bytes())?;
        w.list(
            "messages",
            MAX_MLS_OBJECT_LEN,
            MAX_ABUSIVE_MESSAGES,
            &self.messages,
            |w, m| m.encode_into(w),
        )?;
        self.abuse_extensions.encode_into(w)
    }
}

impl Decode for AbuseReport {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            reporting_user: IdentifierUri::decode_from(r)?,
            alleged_abuser_uri: IdentifierUri::decode_from(r)?,
            reason_code: AbuseType::new(r.u8("reasonCode")?),
            note: r.text("note", MAX_NOTE_LEN)?,
            messages: r.list(
                "messages",
                MAX_MLS_OBJECT_LEN,
                MAX_ABUSIVE_MESSAGES,
                AbusiveMessage::decode_from,
            )?,
            abuse_extensions: AppDataDictionary::decode_from(r)?,
        })
    }
}

tls_codec_bridge!(AbusiveMessage, AbuseReport);
