//! The hub's franking (protocol-06 §5.4.1, digest §3.4.1): a `Frank` for every accepted
//! application message that carries a `frank_aad` tag in a room whose franking agent is this
//! hub, and the check of a reported message against the frank the hub issued for it (§5.9).

use mimi_federation_api::Encode as _;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::franking::{Frank, FrankingIntegrityTbs, ServerFrankingContext};
use mimi_federation_api::mls::Signature;
use mimi_federation_api::report_abuse::AbusiveMessage;
use mimi_mls::franking::{FRANK_LEN, Franker, franking_tag, macs_equal};
use mimi_types::codepoints::DEFAULT_CIPHERSUITE;

use super::HubRoom;
use crate::error::RequestError;

/// Why a reported message does not match a frank this hub issued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrankRefusal {
    /// The reported content is not MIMI content (or lacks its `senderUri` / `roomUri`).
    #[error("the reported content does not decode as MIMI content with senderUri and roomUri: {0}")]
    Content(String),
    /// The content names another room.
    #[error("the reported content names room {0}, not this one")]
    OtherRoom(String),
    /// The content's sender is not the reported user.
    #[error("the reported content was sent by {sender}, not by the reported {reported}")]
    OtherSender {
        /// The content's `senderUri`.
        sender: String,
        /// The report's `allegedAbuserUri`.
        reported: String,
    },
    /// Another cipher suite than the room's.
    #[error("the frank names cipher suite {0}, not the room's")]
    Suite(u16),
    /// `server_frank` differs from what this hub computes for the content.
    #[error("the frank does not match the reported content, sender, room and time")]
    Mismatch,
    /// The frank's signature is not this hub's.
    #[error("the frank's signature is not this hub's")]
    Signature,
}

fn context(
    sender: &IdentifierUri,
    room: &str,
    accepted_timestamp: u64,
) -> Result<ServerFrankingContext, RequestError> {
    let room_uri = IdentifierUri::from_string(room.to_owned())
        .map_err(|e| RequestError::Internal(format!("room URI: {e}")))?;
    Ok(ServerFrankingContext::new(
        sender.clone(),
        room_uri,
        accepted_timestamp,
    ))
}

fn sign(
    franker: &Franker,
    server_frank: [u8; FRANK_LEN],
    context: ServerFrankingContext,
) -> Result<Signature, RequestError> {
    let tbs = FrankingIntegrityTbs::new(server_frank, DEFAULT_CIPHERSUITE, context)
        .encode()
        .map_err(|e| RequestError::Internal(format!("FrankingIntegrityTBS: {e}")))?;
    let signature = franker
        .sign(&tbs)
        .map_err(|e| RequestError::Internal(format!("franking signature: {e}")))?;
    Signature::from_bytes(signature)
        .map_err(|e| RequestError::Internal(format!("franking signature: {e}")))
}

impl HubRoom {
    /// The frank of a message accepted at `accepted_timestamp` from `sender` with `tag` in
    /// its `frank_aad`: none when the message carries no tag, the hub franks with no key, or
    /// the room's franking agent is not this hub.
    pub(super) fn frank(
        &self,
        franker: Option<&Franker>,
        tag: Option<&[u8; FRANK_LEN]>,
        sender: &IdentifierUri,
        accepted_timestamp: u64,
    ) -> Result<Option<Frank>, RequestError> {
        let (Some(franker), Some(tag)) = (franker, tag) else {
            return Ok(None);
        };
        if !self.group().franks_with(franker.public_key()) {
            return Ok(None);
        }
        let context = context(sender, &self.room().to_string(), accepted_timestamp)?;
        let encoded = context
            .encode()
            .map_err(|e| RequestError::Internal(format!("ServerFrankingContext: {e}")))?;
        let server_frank = franker
            .server_frank(tag, &encoded)
            .map_err(|e| RequestError::Internal(format!("server_frank: {e}")))?;
        let signature = sign(franker, server_frank, context)?;
        Ok(Some(Frank::new(
            server_frank,
            DEFAULT_CIPHERSUITE,
            signature,
        )))
    }

    /// Checks a reported message against the frank this hub issued for it: the content names
    /// this room and the reported sender, and `server_frank` and the signature are what this
    /// hub computes for that content, sender, room and acceptance time.
    pub fn verify_reported(
        &self,
        franker: &Franker,
        alleged_abuser: &str,
        message: &AbusiveMessage,
    ) -> Result<(), FrankRefusal> {
        let content = mimi_content::MimiContent::decode(&message.message_content)
            .map_err(|e| FrankRefusal::Content(e.to_string()))?;
        let (Some(sender), Some(room)) = (
            content.extensions.sender_uri(),
            content.extensions.room_uri(),
        ) else {
            return Err(FrankRefusal::Content("senderUri or roomUri missing".into()));
        };
        if room != self.room().to_string() {
            return Err(FrankRefusal::OtherRoom(room.to_owned()));
        }
        if sender != alleged_abuser {
            return Err(FrankRefusal::OtherSender {
                sender: sender.to_owned(),
                reported: alleged_abuser.to_owned(),
            });
        }
        if message.frank.franking_signature_ciphersuite != DEFAULT_CIPHERSUITE {
            return Err(FrankRefusal::Suite(
                message.frank.franking_signature_ciphersuite.value(),
            ));
        }
        let tag = franking_tag(&content.salt.0, &message.message_content)
            .map_err(|e| FrankRefusal::Content(e.to_string()))?;
        let sender = IdentifierUri::from_string(sender.to_owned())
            .map_err(|e| FrankRefusal::Content(e.to_string()))?;
        let context = context(&sender, room, message.accepted_timestamp)
            .map_err(|_| FrankRefusal::Mismatch)?;
        let encoded = context.encode().map_err(|_| FrankRefusal::Mismatch)?;
        let expected = franker
            .server_frank(&tag, &encoded)
            .map_err(|_| FrankRefusal::Mismatch)?;
        if !macs_equal(&expected, &message.frank.server_frank) {
            return Err(FrankRefusal::Mismatch);
        }
        let tbs = FrankingIntegrityTbs::new(expected, DEFAULT_CIPHERSUITE, context)
            .encode()
            .map_err(|_| FrankRefusal::Signature)?;
        mimi_mls::sign::verify_with_label(
            franker.public_key(),
            mimi_mls::sign::FRANKING_INTEGRITY,
            &tbs,
            message.frank.franking_integrity_signature.as_bytes(),
        )
        .map_err(|_| FrankRefusal::Signature)
    }
}
