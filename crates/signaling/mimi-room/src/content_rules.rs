//! What a message's content may carry beyond attachments: topics (`canStartTopic`,
//! `canReplyInTopic`), links (`canSendLink`) and link previews (`canSendLinkPreview`, the room's
//! `link_preview_policy`).
//!
//! Content is end-to-end encrypted, so the hub cannot see any of it: the sending client refuses
//! what these rules refuse, and every receiving client refuses such a message (does not show
//! it). mimi-room knows nothing of MIMI content; the client engine reads the facts (the topic,
//! the text of the parts, the parts' dispositions) and asks these rules. Our readings are in
//! `readings.rs` ("Content").

use mimi_types::UserUri;

use crate::capability::Capability;
use crate::components::Optionality;
use crate::denied::Denied;
use crate::state::RoomState;

/// The URI schemes whose URIs make a text "contain a link" (`canSendLink`), lowercase.
pub const LINK_SCHEMES: [&str; 3] = ["http", "https", "mimi"];

/// Whether `text` contains a link: a URI of one of [`LINK_SCHEMES`], written as the scheme
/// (any ASCII case), `://`, and at least one character that is neither whitespace nor a
/// control character, where the scheme does not continue a word (the character before it, if
/// any, is not an ASCII letter, digit, `+`, `-` or `.`: the characters a scheme is made of).
/// Markdown links (`[text](https://…)`, `<https://…>`) and mentions (`mimi://…/u/…`) are
/// links too; a bare domain (`example.com`) is not.
pub fn contains_link(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let sep = from + found;
        from = sep + 3;
        let after = text[sep + 3..].chars().next();
        if after.is_none_or(|c| c.is_whitespace() || c.is_control()) {
            continue;
        }
        let start = bytes[..sep]
            .iter()
            .rposition(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
            .map_or(0, |i| i + 1);
        let scheme = &text[start..sep];
        if LINK_SCHEMES.iter().any(|s| scheme.eq_ignore_ascii_case(s)) {
            return true;
        }
    }
    false
}

/// Where a message stands in a topic, as its receiver (or sender) judges from the messages it
/// has: the first with its topic ID starts the topic, the others reply in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicAct {
    /// No message this view has carries the topic ID yet.
    Start,
    /// An earlier message carries it.
    Reply,
}

impl TopicAct {
    /// The capability the act needs.
    pub fn capability(self) -> Capability {
        match self {
            Self::Start => Capability::CAN_START_TOPIC,
            Self::Reply => Capability::CAN_REPLY_IN_TOPIC,
        }
    }
}

impl RoomState {
    /// Whether `user` may send a message in a topic: starting it (`canStartTopic`) or
    /// replying in it (`canReplyInTopic`).
    pub fn may_topic(&self, user: &UserUri, act: TopicAct) -> Result<(), Denied> {
        self.require_listed_capability(user, act.capability())
    }

    /// Whether `user` may send text containing a link ([`contains_link`], `canSendLink`).
    pub fn may_send_link(&self, user: &UserUri) -> Result<(), Denied> {
        self.require_listed_capability(user, Capability::CAN_SEND_LINK)
    }

    /// Whether `user` may send a link preview (a part with disposition `preview`): the room's
    /// `link_preview_policy` must not forbid sending previews, and the role must hold
    /// `canSendLinkPreview`.
    pub fn may_send_link_preview(&self, user: &UserUri) -> Result<(), Denied> {
        if self
            .link_preview_policy()
            .is_some_and(|p| p.send_link_previews == Optionality::Forbidden)
        {
            return Err(Denied::LinkPreviewsForbidden);
        }
        self.require_listed_capability(user, Capability::CAN_SEND_LINK_PREVIEW)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_uris_of_the_web_and_mimi_schemes() {
        for linked in [
            "see https://example.com/x",
            "HTTP://EXAMPLE.COM",
            "(http://a)",
            "[Alice](mimi://example.com/u/alice)",
            "<https://example.com>",
            "https://x",
            "a\nmimi://x.example/r/room and more",
        ] {
            assert!(contains_link(linked), "{linked:?}");
        }
        for plain in [
            "",
            "no links here",
            "example.com/path",
            "https:// spaced",
            "https://",
            "ftp://example.com",
            "xhttps://example.com",
            "git+https://example.com",
            "mailto:alice@example.com",
            "ünicode://x",
        ] {
            assert!(!contains_link(plain), "{plain:?}");
        }
    }
}
