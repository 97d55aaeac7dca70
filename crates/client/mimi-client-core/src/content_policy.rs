//! The room policy on what a message's content carries, which the hub cannot see (content is
//! end-to-end encrypted): topics, links, link previews and attachments. One check, run by the
//! sending client before it queues a message ([`Client::send_checked`]) and by every receiving
//! client before it shows one (`view.rs RoomView::apply`), so both judge alike.
//!
//! The facts come from the content: its topic ID (new messages and replies; an edit keeps its
//! original's), every text part of its body (`text/…` single parts, any depth: a link is
//! [`mimi_room::contains_link`]), every part with disposition `preview`, and every external
//! part (its media type, size and URL). The rules are mimi-room's (`content_rules.rs`,
//! `assets.rs`); readings in `mimi_room::readings` ("Content").

use mimi_content::{
    ContentBuilder, Disposition, MessageId, MessageKind, MimiContent, NestedPart, PartBody,
};
use mimi_room::{Denied, RoomState, TopicAct, contains_link};
use mimi_types::{RoomUri, UserUri};
use rand::{CryptoRng, RngCore};

use crate::client::Client;
use crate::error::ClientError;
use crate::outgoing::OpId;

/// Whether `sender` may send `content` in a room of `state`. `topic_known`: whether a message
/// the judging view already has carries the content's topic ID (then the message replies in
/// the topic, otherwise it starts it).
pub(crate) fn check_content(
    state: &RoomState,
    sender: &UserUri,
    content: &MimiContent,
    topic_known: bool,
) -> Result<(), Denied> {
    let kind = content.kind();
    if matches!(kind, MessageKind::Message | MessageKind::Reply) && !content.topic_id.is_empty() {
        let act = if topic_known {
            TopicAct::Reply
        } else {
            TopicAct::Start
        };
        state.may_topic(sender, act)?;
    }
    if !matches!(
        kind,
        MessageKind::Message | MessageKind::Reply | MessageKind::Edit
    ) {
        return Ok(());
    }
    let mut link = false;
    let mut preview = false;
    let mut externals = Vec::new();
    content.nested_part.walk(&mut |_, _, part: &NestedPart| {
        preview |= part.disposition == Disposition::PREVIEW;
        match &part.body {
            PartBody::Single(single) if is_text(&single.content_type) => {
                link |= contains_link(&String::from_utf8_lossy(&single.content));
            }
            PartBody::External(external) => externals.push(external),
            _ => {}
        }
    });
    if link {
        state.may_send_link(sender)?;
    }
    if preview {
        state.may_send_link_preview(sender)?;
    }
    for external in externals {
        state.may_attach(sender, &external.content_type, external.size)?;
        state.may_host_asset(sender, &external.url)?;
    }
    Ok(())
}

fn is_text(content_type: &str) -> bool {
    content_type
        .trim_start()
        .get(..5)
        .is_some_and(|t| t.eq_ignore_ascii_case("text/"))
}

impl Client {
    /// Builds content with this user's and the room's URIs, checks it against the room's
    /// content policy ([`check_content`]) and queues it. What every named command that sends
    /// new content or an edit goes through; [`Client::send_content`] checks only
    /// `canSendMessage`.
    pub(crate) fn send_checked<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        builder: ContentBuilder,
    ) -> Result<(OpId, MessageId), ClientError> {
        self.may_send(room)?;
        let user = self.user().clone();
        let content = builder
            .uris(&user, room)
            .build(rng)
            .map_err(|e| ClientError::Content(e.to_string()))?;
        let r = self.active_room(room)?;
        let topic_known = r.view.knows_topic(&content.topic_id);
        check_content(r.view.state(), &user, &content, topic_known).map_err(|denied| {
            ClientError::NotAllowed {
                room: room.clone(),
                denied,
            }
        })?;
        self.queue_content(room, &content)
    }

    /// Sends plain text in the topic `topic` (opaque bytes, e.g. a name or the ID of the
    /// topic's first message): starting it (`canStartTopic`) where no message this device has
    /// carries that topic yet, replying in it (`canReplyInTopic`) otherwise.
    pub fn send_in_topic<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        topic: &[u8],
        text: &str,
    ) -> Result<(OpId, MessageId), ClientError> {
        if topic.is_empty() {
            return Err(ClientError::misuse("a topic ID must not be empty"));
        }
        self.send_new(
            rng,
            room,
            ContentBuilder::new(NestedPart::text(text)).topic(topic.to_vec()),
            None,
        )
    }

    /// Whether this user may download the `index`-th attachment of `message` in `room`: its
    /// role's download capability for the attachment's kind (`canDownloadImage`, `…Audio`,
    /// `…Video`, `…Attachment`, by media type as for uploads), and the room's `asset_policy`
    /// allowing the one path this client fetches by, its provider's proxy
    /// (`RoomState::may_download_by_proxy`). Asked before anything is fetched
    /// ([`Client::open_attachment`] asks again).
    pub fn may_download(
        &self,
        room: &RoomUri,
        message: &MessageId,
        index: usize,
    ) -> Result<(), ClientError> {
        let view = self
            .room(room)
            .ok_or_else(|| ClientError::NotMember { room: room.clone() })?;
        let attachment = view
            .message(message)
            .and_then(|m| m.body.attachments.get(index))
            .ok_or_else(|| ClientError::UnknownMessage {
                room: room.clone(),
                id: message.to_string(),
            })?;
        let state = view.state();
        state
            .may_download(self.user(), &attachment.content_type)
            .and_then(|()| state.may_download_by_proxy())
            .map_err(|denied| ClientError::NotAllowed {
                room: room.clone(),
                denied,
            })
    }
}
