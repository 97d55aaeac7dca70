//! Building the messages a client sends: text, Markdown, replies, reactions, edits, deletes,
//! unlikes, expiring messages, mentions, attachments and multipart alternatives.

use mimi_types::codepoints::media_type;
use mimi_types::{RoomUri, UserUri};
use rand::{CryptoRng, RngCore};

use crate::cbor::{MapKey, Value};
use crate::codepoints::Disposition;
use crate::error::ValidationError;
use crate::message_id::MessageId;
use crate::model::{
    Expiration, Extensions, ExternalPart, MimiContent, MultiPart, NestedPart, PartBody,
    PartSemantics, Salt, SinglePart,
};
use crate::text::gfm_mimi_escape_html;

impl NestedPart {
    /// A single part with the given disposition, content type and content.
    pub fn single(
        disposition: Disposition,
        content_type: impl Into<String>,
        content: impl Into<Vec<u8>>,
    ) -> Self {
        NestedPart {
            disposition,
            language: String::new(),
            body: PartBody::Single(SinglePart {
                content_type: content_type.into(),
                content: content.into(),
            }),
        }
    }

    /// Plain UTF-8 text to render.
    pub fn text(text: &str) -> Self {
        Self::single(Disposition::RENDER, media_type::TEXT_PLAIN, text)
    }

    /// GFM-MIMI Markdown to render; HTML tags are escaped as the No-HTML extension requires.
    pub fn markdown(markdown: &str) -> Self {
        Self::single(
            Disposition::RENDER,
            media_type::TEXT_MARKDOWN_GFM_MIMI,
            gfm_mimi_escape_html(markdown),
        )
    }

    /// A reaction: one emoji (or short text) with disposition `reaction`.
    pub fn reaction(reaction: &str) -> Self {
        Self::single(Disposition::REACTION, media_type::TEXT_PLAIN, reaction)
    }

    /// A part without content (for deletes and unlikes).
    pub fn null(disposition: Disposition) -> Self {
        NestedPart {
            disposition,
            language: String::new(),
            body: PartBody::Null,
        }
    }

    /// An external part (e.g. a sealed attachment) with disposition `attachment`.
    pub fn attachment(part: ExternalPart) -> Self {
        Self::external(Disposition::ATTACHMENT, part)
    }

    /// An external part with a disposition.
    pub fn external(disposition: Disposition, part: ExternalPart) -> Self {
        NestedPart {
            disposition,
            language: String::new(),
            body: PartBody::External(Box::new(part)),
        }
    }

    /// A multipart with the given semantics.
    pub fn multi(
        disposition: Disposition,
        semantics: PartSemantics,
        parts: Vec<NestedPart>,
    ) -> Self {
        NestedPart {
            disposition,
            language: String::new(),
            body: PartBody::Multi(MultiPart { semantics, parts }),
        }
    }

    /// Alternatives, in the sender's order of preference (chooseOne).
    pub fn alternatives(parts: Vec<NestedPart>) -> Self {
        Self::multi(Disposition::RENDER, PartSemantics::ChooseOne, parts)
    }

    /// Several reactions at once (processAll of reaction parts).
    pub fn reactions<'a>(reactions: impl IntoIterator<Item = &'a str>) -> Self {
        let parts = reactions.into_iter().map(Self::reaction).collect();
        Self::multi(Disposition::REACTION, PartSemantics::ProcessAll, parts)
    }

    /// Sets the language ("" or comma-separated RFC 5646 tags).
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = language.into();
        self
    }
}

/// Builds a [`MimiContent`]; [`ContentBuilder::build`] draws the salt and validates.
#[derive(Clone, Debug)]
#[must_use]
pub struct ContentBuilder {
    replaces: Option<MessageId>,
    topic_id: Vec<u8>,
    expires: Option<Expiration>,
    in_reply_to: Option<MessageId>,
    extensions: Extensions,
    body: NestedPart,
}

impl ContentBuilder {
    /// A new message with this body.
    pub fn new(body: NestedPart) -> Self {
        ContentBuilder {
            replaces: None,
            topic_id: Vec::new(),
            expires: None,
            in_reply_to: None,
            extensions: Extensions::new(),
            body,
        }
    }

    /// A reply to one version of a message.
    pub fn reply(in_reply_to: MessageId, body: NestedPart) -> Self {
        Self::new(body).in_reply_to(in_reply_to)
    }

    /// A reaction to a message.
    pub fn reaction(to: MessageId, reaction: &str) -> Self {
        Self::reply(to, NestedPart::reaction(reaction))
    }

    /// An edit: new body for the message whose *first* version is `original`.
    pub fn edit(original: MessageId, body: NestedPart) -> Self {
        Self::new(body).replaces(original)
    }

    /// A delete (retraction) of the message whose first version is `original`. If the deleted
    /// message was a reply, keep its `inReplyTo` with [`ContentBuilder::in_reply_to`].
    pub fn delete(original: MessageId) -> Self {
        Self::new(NestedPart::null(Disposition::RENDER)).replaces(original)
    }

    /// Removes one's reaction `reaction` (which replied to `reacted_to`).
    pub fn unlike(reaction: MessageId, reacted_to: MessageId) -> Self {
        Self::new(NestedPart::null(Disposition::REACTION))
            .replaces(reaction)
            .in_reply_to(reacted_to)
    }

    /// Sets `replaces`.
    pub fn replaces(mut self, original: MessageId) -> Self {
        self.replaces = Some(original);
        self
    }

    /// Sets `inReplyTo`.
    pub fn in_reply_to(mut self, id: MessageId) -> Self {
        self.in_reply_to = Some(id);
        self
    }

    /// Sets the topic ID.
    pub fn topic(mut self, topic_id: impl Into<Vec<u8>>) -> Self {
        self.topic_id = topic_id.into();
        self
    }

    /// Expires at an absolute time (UNIX seconds).
    pub fn expires_at(mut self, unix_seconds: u32) -> Self {
        self.expires = Some(Expiration {
            relative: false,
            time: unix_seconds,
        });
        self
    }

    /// Expires a number of seconds after it is read.
    pub fn expires_after_read(mut self, seconds: u32) -> Self {
        self.expires = Some(Expiration {
            relative: true,
            time: seconds,
        });
        self
    }

    /// Sets the `senderUri` and `roomUri` extensions (as the draft's examples do).
    pub fn uris(mut self, sender: &UserUri, room: &RoomUri) -> Self {
        self.extensions.set_sender_uri(&sender.to_string());
        self.extensions.set_room_uri(&room.to_string());
        self
    }

    /// Sets the `senderUri` and `roomUri` extensions from URI strings.
    pub fn uri_strings(mut self, sender_uri: &str, room_uri: &str) -> Self {
        self.extensions.set_sender_uri(sender_uri);
        self.extensions.set_room_uri(room_uri);
        self
    }

    /// Adds an extension entry (replacing any entry with the same key).
    pub fn extension(mut self, key: impl Into<MapKey>, value: Value) -> Self {
        self.extensions.insert(key, value);
        self
    }

    /// Draws a fresh salt and returns the validated content.
    pub fn build<R: RngCore + CryptoRng>(
        self,
        rng: &mut R,
    ) -> Result<MimiContent, ValidationError> {
        let content = MimiContent {
            salt: Salt::random(rng),
            replaces: self.replaces,
            topic_id: self.topic_id,
            expires: self.expires,
            in_reply_to: self.in_reply_to,
            extensions: self.extensions,
            nested_part: self.body,
        };
        content.validate()?;
        Ok(content)
    }
}
