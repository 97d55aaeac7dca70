//! Conversation commands: text, Markdown, replies, reactions, edits, deletes, attachments.
//! Each checks the room policy for this user first, builds MIMI content with the sender and
//! room URIs, encrypts it and queues the `submitMessage`. The message shows in the view when
//! the hub's fan-out brings it back, in hub order.

use mimi_content::{
    ContentBuilder, Disposition, Expiration, MessageId, MimiContent, NestedPart, SealedAttachment,
    seal_attachment,
};
use mimi_room::Denied;
use mimi_types::RoomUri;
use rand::{CryptoRng, RngCore};

use crate::client::Client;
use crate::error::ClientError;
use crate::outgoing::OpId;

/// What a file is, for [`Client::send_attachment`].
#[derive(Debug, Clone, Default)]
pub struct FileInfo {
    /// File name.
    pub filename: String,
    /// Its media type.
    pub content_type: String,
    /// A description (alt text).
    pub description: String,
}

/// A sent attachment: the ciphertext to upload, and the message that describes it.
#[derive(Debug, Clone)]
pub struct SentAttachment {
    /// The operation of the message.
    pub op: OpId,
    /// The message ID.
    pub message_id: MessageId,
    /// The encrypted file to upload at the URL the message names.
    pub blob: Vec<u8>,
    /// The URL.
    pub url: String,
}

impl Client {
    fn not_allowed(room: &RoomUri, r: Result<(), Denied>) -> Result<(), ClientError> {
        r.map_err(|denied| ClientError::NotAllowed {
            room: room.clone(),
            denied,
        })
    }

    fn unknown_message(room: &RoomUri, id: &MessageId) -> ClientError {
        ClientError::UnknownMessage {
            room: room.clone(),
            id: id.to_string(),
        }
    }

    /// Builds, encodes and queues content as given. Returns the operation and the message ID.
    /// The named commands check what they send against the room's policy first (new messages
    /// its expiration policy, [`Client::expiry_for`]; new messages and edits its content
    /// policy, `content_policy.rs`); this checks only `canSendMessage`.
    pub fn send_content<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        content: ContentBuilder,
    ) -> Result<(OpId, MessageId), ClientError> {
        let user = self.user().clone();
        self.may_send(room)?;
        let content = content
            .uris(&user, room)
            .build(rng)
            .map_err(|e| ClientError::Content(e.to_string()))?;
        self.queue_content(room, &content)
    }

    /// Encodes built content (this user's and the room's URIs already set) and queues it.
    pub(crate) fn queue_content(
        &mut self,
        room: &RoomUri,
        content: &MimiContent,
    ) -> Result<(OpId, MessageId), ClientError> {
        let user = self.user().clone();
        let (bytes, id) = content
            .encode_with_id(user.to_string().as_bytes(), room.to_string().as_bytes())
            .map_err(|e| ClientError::Content(e.to_string()))?;
        let op = self.queue_message(room, zeroize::Zeroizing::new(bytes))?;
        Ok((op, id))
    }

    /// Sends plain text.
    pub fn send_text<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        text: &str,
    ) -> Result<(OpId, MessageId), ClientError> {
        self.send_new(rng, room, ContentBuilder::new(NestedPart::text(text)), None)
    }

    /// Sends GFM-MIMI Markdown.
    pub fn send_markdown<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        markdown: &str,
    ) -> Result<(OpId, MessageId), ClientError> {
        self.send_new(
            rng,
            room,
            ContentBuilder::new(NestedPart::markdown(markdown)),
            None,
        )
    }

    /// Sends text that expires at `expires_at` (UNIX seconds), if the room's expiration
    /// policy allows that ([`Client::expiry_for`]).
    pub fn send_expiring<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        text: &str,
        expires_at: u32,
    ) -> Result<(OpId, MessageId), ClientError> {
        let expires = Expiration {
            relative: false,
            time: expires_at,
        };
        self.send_new(
            rng,
            room,
            ContentBuilder::new(NestedPart::text(text)),
            Some(expires),
        )
    }

    /// Replies to a message (`canReplyToMessage`).
    pub fn reply<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        to: MessageId,
        text: &str,
    ) -> Result<(OpId, MessageId), ClientError> {
        let me = self.user().clone();
        let r = self.active_room(room)?;
        Self::not_allowed(room, r.view.state().may_reply(&me))?;
        if r.view.message(&to).is_none() {
            return Err(Self::unknown_message(room, &to));
        }
        self.send_new(
            rng,
            room,
            ContentBuilder::reply(to, NestedPart::text(text)),
            None,
        )
    }

    /// Reacts to a message (`canReactToMessage`). The returned ID names the reaction (for
    /// [`Client::unreact`]).
    pub fn react<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        to: MessageId,
        reaction: &str,
    ) -> Result<(OpId, MessageId), ClientError> {
        let r = self.active_room(room)?;
        Self::not_allowed(room, r.view.may_react())?;
        if r.view.message(&to).is_none_or(|m| m.deleted) {
            return Err(Self::unknown_message(room, &to));
        }
        self.send_content(rng, room, ContentBuilder::reaction(to, reaction))
    }

    /// Withdraws this user's reaction `reaction` (`canDeleteOwnReaction`).
    pub fn unreact<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        reaction: MessageId,
    ) -> Result<(OpId, MessageId), ClientError> {
        let me = self.user().clone();
        let r = self.active_room(room)?;
        let target = r
            .view
            .reaction_of(&reaction, &me)
            .ok_or_else(|| Self::unknown_message(room, &reaction))?;
        Self::not_allowed(room, r.view.state().may_delete_reaction(&me, &me))?;
        self.send_content(rng, room, ContentBuilder::unlike(reaction, target))
    }

    /// A replacement builder keeping what a replacement must keep of the original (topic,
    /// `inReplyTo`, expiry).
    fn replacement(original: &MimiContent, builder: ContentBuilder) -> ContentBuilder {
        let mut builder = builder.topic(original.topic_id.clone());
        if let Some(to) = original.in_reply_to {
            builder = builder.in_reply_to(to);
        }
        match original.expires {
            Some(e) if e.relative => builder.expires_after_read(e.time),
            Some(e) => builder.expires_at(e.time),
            None => builder,
        }
    }

    /// Edits one of this user's messages (`canEditOwnMessage`).
    pub fn edit<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        message: MessageId,
        text: &str,
    ) -> Result<(OpId, MessageId), ClientError> {
        let r = self.active_room(room)?;
        let view = r
            .view
            .message(&message)
            .filter(|m| !m.deleted)
            .ok_or_else(|| Self::unknown_message(room, &message))?;
        Self::not_allowed(room, r.view.may_edit(view))?;
        let original = r
            .view
            .original(&message)
            .ok_or_else(|| Self::unknown_message(room, &message))?;
        let builder = Self::replacement(
            original,
            ContentBuilder::edit(message, NestedPart::text(text)),
        );
        self.send_checked(rng, room, builder)
    }

    /// Deletes a message: one's own (`canDeleteOwnMessage`) or another's
    /// (`canDeleteOtherMessage`). The view keeps a tombstone.
    pub fn delete<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        message: MessageId,
    ) -> Result<(OpId, MessageId), ClientError> {
        let r = self.active_room(room)?;
        let view = r
            .view
            .message(&message)
            .filter(|m| !m.deleted)
            .ok_or_else(|| Self::unknown_message(room, &message))?;
        Self::not_allowed(room, r.view.may_delete(view))?;
        let original = r
            .view
            .original(&message)
            .ok_or_else(|| Self::unknown_message(room, &message))?;
        let builder = Self::replacement(original, ContentBuilder::delete(message));
        self.send_content(rng, room, builder)
    }

    /// Whether this device may send to `room` now (an active member, not leaving, whose role
    /// has `canSendMessage`): the check every send makes, for callers with work to do first (an
    /// upload).
    pub fn may_send(&self, room: &RoomUri) -> Result<(), ClientError> {
        match self.rooms.get(room) {
            Some(r) if r.group.is_active() && r.leaving => {
                Err(ClientError::Leaving { room: room.clone() })
            }
            Some(r) if r.group.is_active() => Self::not_allowed(room, r.view.may_send()),
            _ => Err(ClientError::NotMember { room: room.clone() }),
        }
    }

    /// Whether this user may send an attachment of `content_type` whose encrypted object is
    /// `size` bytes to `room`: its role's upload capability for the kind and the room's
    /// `asset_policy` ([`mimi_room::RoomState::may_attach`]); for callers that upload first.
    pub fn may_attach(
        &self,
        room: &RoomUri,
        content_type: &str,
        size: u64,
    ) -> Result<(), ClientError> {
        let view = self
            .room(room)
            .ok_or_else(|| ClientError::NotMember { room: room.clone() })?;
        Self::not_allowed(
            room,
            view.state().may_attach(self.user(), content_type, size),
        )
    }

    /// Whether the room's `asset_policy` lets this user's attachment be stored at `url`
    /// (its upload location and `upload_domains`,
    /// [`mimi_room::RoomState::may_host_asset`]): for callers that know where the upload will
    /// land and must not upload where the message would then be refused.
    pub fn may_host_asset(&self, room: &RoomUri, url: &str) -> Result<(), ClientError> {
        let view = self
            .room(room)
            .ok_or_else(|| ClientError::NotMember { room: room.clone() })?;
        Self::not_allowed(room, view.state().may_host_asset(self.user(), url))
    }

    /// Encrypts a file (AES-128-GCM, fresh key) and sends a message describing it. `url`
    /// receives the SHA-256 of the ciphertext and returns where the caller will upload the
    /// blob (providers store blobs by hash). Returns the blob to upload. The message is queued
    /// at once: a caller that must upload first uses [`seal_attachment`] and
    /// [`Client::send_sealed_attachment`] instead.
    pub fn send_attachment<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        file: &[u8],
        info: &FileInfo,
        url: impl FnOnce(&[u8]) -> String,
    ) -> Result<SentAttachment, ClientError> {
        self.may_send(room)?;
        let sealed: SealedAttachment = seal_attachment(rng, file, &[])?;
        let url = url(&sealed.content_hash);
        let (op, message_id) = self.send_sealed_attachment(rng, room, &sealed, info, &url)?;
        Ok(SentAttachment {
            op,
            message_id,
            blob: sealed.ciphertext,
            url,
        })
    }

    /// Sends a message describing an attachment already sealed (with
    /// [`mimi_content::seal_attachment`]) and uploaded to `url`.
    pub fn send_sealed_attachment<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        sealed: &SealedAttachment,
        info: &FileInfo,
        url: &str,
    ) -> Result<(OpId, MessageId), ClientError> {
        self.may_send(room)?;
        self.may_attach(room, &info.content_type, sealed.ciphertext.len() as u64)?;
        let part = sealed.external_part(
            url.to_owned(),
            info.content_type.clone(),
            info.filename.clone(),
            info.description.clone(),
        );
        let body = NestedPart::external(Disposition::ATTACHMENT, part);
        self.send_new(rng, room, ContentBuilder::new(body), None)
    }
}

impl Client {
    /// Checks and decrypts a downloaded attachment: the `index`-th attachment of `message`,
    /// if this user's role may download it ([`Client::may_download`]).
    pub fn open_attachment(
        &self,
        room: &RoomUri,
        message: &MessageId,
        index: usize,
        downloaded: &[u8],
    ) -> Result<zeroize::Zeroizing<Vec<u8>>, ClientError> {
        self.may_download(room, message, index)?;
        let view = self
            .room(room)
            .ok_or_else(|| ClientError::NotMember { room: room.clone() })?;
        let attachment = view
            .message(message)
            .and_then(|m| m.body.attachments.get(index))
            .ok_or_else(|| Self::unknown_message(room, message))?;
        Ok(attachment.open(downloaded)?)
    }
}
