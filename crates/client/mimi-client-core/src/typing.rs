//! Typing indicators: ephemeral MLS application messages that are relayed to live streams
//! only, never stored by a provider and never part of the conversation.
//!
//! Our reading (the content draft leaves ephemeral messages open): a typing indicator is an
//! MLS `PrivateMessage` of the room's group whose application data is [`TYPING_PREFIX`]
//! followed by one byte, `1` (started typing) or `0` (stopped). The `0xff` first byte cannot
//! start MIMI content (a CBOR array), so it is never mistaken for a message.
//!
//! * Sending ([`Client::typing_message`]) encrypts with the group's real sender ratchet, so a
//!   generation is never used twice; the caller persists the record **before** sending, as
//!   after any command.
//! * Receiving ([`Client::handle_typing_message`]) decrypts on a throwaway copy of the group:
//!   the device's stored ratchets do not move, so a typing indicator that overtakes stored
//!   messages can never push them out of the out-of-order window, and losing one costs
//!   nothing. Only application messages are looked at; a handshake on this path is ignored.

use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::mls::{ContentType, MlsMessage};
use mimi_federation_api::submit_message::SubmitMessageRequest;
use mimi_mls::{ClientGroup, Incoming};
use mimi_types::RoomUri;

use crate::client::Client;
use crate::error::ClientError;
use crate::outgoing::{ClientEvent, TypingSignal};

/// The application data of a typing indicator starts with these bytes; one byte follows:
/// `1` started, `0` stopped.
pub const TYPING_PREFIX: &[u8] = b"\xffmimi-rs typing v1:";

impl Client {
    /// A typing indicator for `room` (`active`: started or stopped typing), encrypted for the
    /// group, as the `SubmitMessageRequest` the caller posts to its provider's typing route.
    /// Nothing is queued: the signal is best-effort. The record changed (the sender ratchet
    /// moved): persist it before sending.
    pub fn typing_message(
        &mut self,
        room: &RoomUri,
        active: bool,
    ) -> Result<SubmitMessageRequest, ClientError> {
        self.may_send(room)?;
        let user = self.user().clone();
        let r = self.active_room(room)?;
        let mut payload = TYPING_PREFIX.to_vec();
        payload.push(u8::from(active));
        let ciphertext = r
            .group
            .protect(&payload, &std::collections::BTreeMap::new())
            .map_err(|e| ClientError::mls(room, e))?;
        SubmitMessageRequest::new(
            MlsMessage::from_bytes(ciphertext).map_err(ClientError::wire)?,
            IdentifierUri::from_string(user.to_string()).map_err(ClientError::wire)?,
        )
        .map_err(ClientError::wire)
    }

    /// Takes a relayed typing indicator (the MLS message bytes) for `room`. If it decrypts as
    /// a typing indicator of another device of the room, queues [`ClientEvent::Typing`] and
    /// returns it; anything else (not a member, another epoch, not a typing payload, a
    /// handshake, this device's own) is dropped and `None` returned. Changes nothing that
    /// is persisted.
    pub fn handle_typing_message(
        &mut self,
        now: u64,
        room: &RoomUri,
        message: &[u8],
    ) -> Option<TypingSignal> {
        let r = self.rooms.get(room).filter(|r| r.group.is_active())?;
        let parsed = MlsMessage::from_bytes(message.to_vec()).ok()?;
        if parsed.content_type() != Some(ContentType::Application)
            || parsed.epoch() != Some(r.group.epoch())
        {
            return None;
        }
        let record = r.group.to_record().ok()?;
        let mut copy = ClientGroup::from_record(&record, self.trust.clone()).ok()?;
        let Ok(Incoming::Application(m)) = copy.process(message, now) else {
            return None;
        };
        let active = match m.data.strip_prefix(TYPING_PREFIX) {
            Some([1]) => true,
            Some([0]) => false,
            _ => return None,
        };
        if m.sender.client == *self.identity.client() {
            return None;
        }
        let signal = TypingSignal {
            room: room.clone(),
            user: m.sender.user,
            client: m.sender.client,
            active,
        };
        self.events.push_back(ClientEvent::Typing(signal.clone()));
        Some(signal)
    }
}
