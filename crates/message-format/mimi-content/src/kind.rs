//! What a message does, as a client shows it (digest §5.3).

use crate::codepoints::Disposition;
use crate::model::{MimiContent, PartBody};

/// The role of a message in the conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A new message.
    Message,
    /// A reply to another message (`inReplyTo`).
    Reply,
    /// A reaction (disposition `reaction`) to the message in `inReplyTo`.
    Reaction,
    /// A new body for the message in `replaces`.
    Edit,
    /// A retraction of the message in `replaces` (null body).
    Delete,
    /// A retraction of the reaction in `replaces` (null body with disposition `reaction`).
    Unlike,
}

impl MimiContent {
    /// What this message does.
    pub fn kind(&self) -> MessageKind {
        let part = &self.nested_part;
        let reaction = part.disposition.effective() == Disposition::REACTION;
        match (self.replaces, &part.body) {
            (Some(_), PartBody::Null) if reaction => MessageKind::Unlike,
            (Some(_), PartBody::Null) => MessageKind::Delete,
            (Some(_), _) => MessageKind::Edit,
            (None, _) if self.in_reply_to.is_some() && reaction => MessageKind::Reaction,
            (None, _) if self.in_reply_to.is_some() => MessageKind::Reply,
            (None, _) => MessageKind::Message,
        }
    }
}
