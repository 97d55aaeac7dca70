//! What a UI shows of one room, built from decrypted MIMI content and the room state.
//!
//! Every accepted message goes through [`RoomView::apply`]: strict decoding and the claimed
//! `senderUri`/`roomUri` against the MLS-authenticated sender ([`ReceivedMessage::accept`]),
//! duplicate message IDs discarded, the content policy for new messages, replies and edits
//! (`content_policy.rs`: topics, links, link previews, attachments), then by kind: new
//! messages and replies are appended in hub
//! order; reactions are aggregated on their target; edits, deletes and unlikes are checked
//! with [`mimi_content::check_replacement`] and the room policy (mimi-room's view helpers) and applied to
//! their target. Anything refused is recorded as a [`Rejection`] and not shown.
//!
//! The view keeps the log of what it accepted, in order: a restored client rebuilds its view by
//! replaying it (the policy verdicts were taken when the messages arrived, so the replay does
//! not ask the policy again).
//!
//! The hub's retractions of abusive messages (hub-retracted-messages-00, authorized by the
//! caller on receipt) are logged the same way, as entries whose bytes start with
//! [`RETRACTION_MARK`] (no MIMI content starts with it: content is a CBOR array): replaying one
//! hides the messages again, so a restored record or a history import shows them removed too.

//!
//! By mechanism: this file holds the view's types, its accessors and the dispatch of
//! [`RoomView::apply`]; `replacements` applies reactions, edits, deletes and unlikes;
//! `receipts` the status reports; `retraction` the hub's retractions; `import` merges history
//! from another device of this user.

// A rejection is the cold path (one per refused message) and carries what a UI shows; boxing it
// would only obscure the matches on it.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, BTreeSet};

use mimi_content::status::MessageStatus;
use mimi_content::{
    AttachmentError, Expiration, ExternalPart, MessageId, MessageKind, MimiContent, NestedPart,
    PartBody, ReceiveError, ReceivedMessage, ReplaceError, open_attachment,
};
use mimi_room::presets::hub_service_user;
use mimi_room::view::MemberView;
use mimi_room::{Capability, Denied, RoomState};
use mimi_types::{ClientUri, RoomUri, UserUri};
use zeroize::Zeroizing;

mod import;
mod receipts;
mod replacements;
mod retraction;

use receipts::status_report;
pub(crate) use retraction::RETRACTION_MARK;
pub(crate) use retraction::Retracted;
use retraction::retraction_key;

/// An accepted application message as the view logged it (what a record replays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The authenticated sending user.
    pub(crate) sender: UserUri,
    /// The authenticated sending device.
    pub(crate) client: ClientUri,
    /// Hub acceptance time, milliseconds since the UNIX epoch.
    pub(crate) timestamp: u64,
    /// The exact content bytes.
    pub(crate) bytes: Vec<u8>,
    /// Handed over by another device of this user (history for a new device), not received
    /// from the hub by this one.
    pub(crate) imported: bool,
}

/// Why something received was not shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// The MLS layer refused the message (bad signature, policy refusal of a commit, ...).
    #[error("MLS refused a message: {0}")]
    Mls(String),
    /// The content is not valid MIMI content.
    #[error("invalid content from {sender}: {error}")]
    InvalidContent {
        /// The authenticated sender.
        sender: UserUri,
        /// What is wrong.
        error: String,
    },
    /// The message's frank is missing or does not verify (protocol-06 §5.4.1): the hub did
    /// not vouch for it as this sender's message in this room, so it is not shown.
    #[error("the frank of a message from {sender} does not verify: {error}")]
    Frank {
        /// The authenticated sender.
        sender: UserUri,
        /// What is wrong.
        error: String,
    },
    /// The content claims a sender other than the MLS-authenticated one.
    #[error("content claims sender {claimed} but {authenticated} sent it")]
    SenderMismatch {
        /// The claimed `senderUri`.
        claimed: String,
        /// The authenticated sender.
        authenticated: UserUri,
    },
    /// The content claims another room.
    #[error("content from {sender} claims room {claimed}")]
    RoomMismatch {
        /// The authenticated sender.
        sender: UserUri,
        /// The claimed `roomUri`.
        claimed: String,
    },
    /// An edit, delete or unlike names a message this view does not have (or that is not of
    /// the right kind, or already deleted).
    #[error("{sender} refers to unknown message {target}")]
    UnknownTarget {
        /// The sender.
        sender: UserUri,
        /// The target.
        target: MessageId,
    },
    /// An edit, delete or unlike that the content rules refuse (e.g. another user's edit).
    #[error("{sender} may not replace {target}: {error}")]
    Replacement {
        /// The sender.
        sender: UserUri,
        /// The target.
        target: MessageId,
        /// The rule broken.
        error: ReplaceError,
    },
    /// A status report (delivery/read receipt) refused: its sender is not a participant, or
    /// the room's `status_notification_policy` forbids what it reports.
    #[error("status report from {sender} refused: {error}")]
    Status {
        /// The sender.
        sender: UserUri,
        /// Why.
        error: String,
    },
    /// A new message whose expiry breaks the room's `message_expiration_policy` (see
    /// `expiry.rs`: forbidden, missing where required, or outside min..max).
    #[error("message from {sender} refused by the room's expiration policy: {error}")]
    Expiration {
        /// The sender.
        sender: UserUri,
        /// What the policy asks.
        error: String,
    },
    /// The room policy does not give the sender the capability.
    #[error("{sender} is not allowed: {denied}")]
    NotAllowed {
        /// The sender.
        sender: UserUri,
        /// The policy's verdict.
        denied: Denied,
    },
}

/// An attachment as the UI lists it; [`AttachmentView::open`] checks and decrypts a download.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentView {
    /// File name.
    pub filename: String,
    /// Media type of the file.
    pub content_type: String,
    /// Size of the stored (encrypted) object.
    pub size: u64,
    /// Description.
    pub description: String,
    /// Where to download it.
    pub url: String,
    part: ExternalPart,
}

impl AttachmentView {
    /// Checks downloaded bytes (size, hash) and decrypts them.
    pub fn open(&self, downloaded: &[u8]) -> Result<Zeroizing<Vec<u8>>, AttachmentError> {
        open_attachment(&self.part, downloaded)
    }

    /// The external part (with its key): for re-sharing.
    pub fn part(&self) -> &ExternalPart {
        &self.part
    }
}

/// The body a UI renders.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    /// The text of the parts to render, joined by newlines.
    pub text: String,
    /// Whether `text` is GFM-MIMI Markdown.
    pub markdown: bool,
    /// Attachments.
    pub attachments: Vec<AttachmentView>,
}

/// One message in the timeline, with edits, deletes and reactions applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageView {
    /// The message ID of its first version.
    pub id: MessageId,
    /// The authenticated sending user.
    pub sender: UserUri,
    /// The sending device.
    pub client: ClientUri,
    /// Hub acceptance time of the first version (ms since the UNIX epoch).
    pub timestamp: u64,
    /// [`MessageKind::Message`] or [`MessageKind::Reply`].
    pub kind: MessageKind,
    /// The message it replies to.
    pub in_reply_to: Option<MessageId>,
    /// Topic ID (empty for none).
    pub topic: Vec<u8>,
    /// The current body (empty once deleted).
    pub body: Body,
    /// How many times it was edited.
    pub edits: u32,
    /// Whether it was deleted (a tombstone).
    pub deleted: bool,
    /// Set when the hub retracted it (then `deleted` too): "removed by the provider".
    pub retracted: Option<Retracted>,
    /// Its expiry hint.
    pub expires: Option<Expiration>,
    /// Reactions: reaction text → users who reacted with it.
    pub reactions: BTreeMap<String, BTreeSet<UserUri>>,
    /// The latest status each other user reported for it (status reports, see
    /// [`crate::Client::send_status`]); the sender's own reports are not counted.
    pub statuses: BTreeMap<UserUri, MessageStatus>,
    /// The users it was delivered to: every reported status but `error` and unknown ones
    /// (`read`, `unread`, `expired`, `deleted`, `hidden` all imply delivery).
    pub delivered_to: BTreeSet<UserUri>,
    /// The users whose latest status for it is `read`.
    pub read_by: BTreeSet<UserUri>,
    /// Handed over by another device of this user when this device was added (history for
    /// a new device), not received from the hub by this device.
    pub imported: bool,
    original: MimiContent,
}

impl MessageView {
    /// Whether an absolute expiry is at or before `now_s` (seconds). Relative expiries
    /// ("after reading") are the reader's to apply.
    pub fn is_expired(&self, now_s: u64) -> bool {
        self.expires
            .is_some_and(|e| !e.relative && u64::from(e.time) <= now_s)
    }
}

/// What an applied message changed, for the event a UI gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Applied {
    /// A timeline message (new, or the target of an edit, delete or reaction).
    Timeline(MessageId),
    /// A status report: the messages whose receipts changed (possibly none).
    Status(Vec<MessageId>),
    /// A hub retraction: the timeline messages it hid (possibly none).
    Retracted(Vec<MessageId>),
}

/// A reaction, kept so an unlike can be checked against it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Reaction {
    target: MessageId,
    reactor: UserUri,
    texts: Vec<String>,
    content: MimiContent,
    removed: bool,
    /// Hub acceptance time.
    timestamp: u64,
}

/// What a UI shows of one room.
#[derive(Debug, Clone)]
pub struct RoomView {
    room: RoomUri,
    me: UserUri,
    state: RoomState,
    epoch: u64,
    active: bool,
    messages: Vec<MessageView>,
    by_id: BTreeMap<MessageId, usize>,
    reactions: BTreeMap<MessageId, Reaction>,
    known: BTreeSet<MessageId>,
    /// The topic IDs of the timeline messages (a message with another starts a topic).
    topics: BTreeSet<Vec<u8>>,
    rejections: Vec<Rejection>,
    duplicates: u64,
    log: Vec<Entry>,
}

impl RoomView {
    /// An empty view of `room` for `me`, with the room state of the current epoch.
    pub(crate) fn new(room: RoomUri, me: UserUri, state: RoomState, epoch: u64) -> Self {
        Self {
            room,
            me,
            state,
            epoch,
            active: true,
            messages: Vec::new(),
            by_id: BTreeMap::new(),
            reactions: BTreeMap::new(),
            known: BTreeSet::new(),
            topics: BTreeSet::new(),
            rejections: Vec::new(),
            duplicates: 0,
            log: Vec::new(),
        }
    }

    /// The room.
    pub fn room(&self) -> &RoomUri {
        &self.room
    }

    /// The user this view is for.
    pub(crate) fn me(&self) -> &UserUri {
        &self.me
    }

    /// The MLS epoch the view reflects.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Whether this device is still a member.
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// The room's display name.
    pub fn name(&self) -> &str {
        self.state.metadata().map_or("", |m| m.room_name.as_str())
    }

    /// The room's topic (the metadata subject).
    pub fn topic(&self) -> &str {
        self.state
            .metadata()
            .map_or("", |m| m.room_subject.as_str())
    }

    /// The room state of the current epoch.
    pub fn state(&self) -> &RoomState {
        &self.state
    }

    /// The participants with their roles and devices, in list order; not the hub's service
    /// user (see [`RoomView::enforcer`]), which is no person.
    pub fn members(&self) -> Vec<MemberView> {
        let enforcer = hub_service_user(self.room.hub_domain());
        self.state
            .member_views()
            .into_iter()
            .filter(|m| m.user != enforcer)
            .collect()
    }

    /// The hub's service user and its role, if the room lists it: the hub acts through it as
    /// the room's policy enforcer (e.g. removing a revoked device).
    pub fn enforcer(&self) -> Option<MemberView> {
        let enforcer = hub_service_user(self.room.hub_domain());
        self.state
            .member_views()
            .into_iter()
            .find(|m| m.user == enforcer)
    }

    /// The capabilities this user holds in the room.
    pub fn my_capabilities(&self) -> BTreeSet<Capability> {
        self.state.capabilities_of(&self.me)
    }

    /// Whether this user may send messages.
    pub fn may_send(&self) -> Result<(), Denied> {
        self.state.may_send(&self.me)
    }

    /// Whether this user may edit `message`.
    pub fn may_edit(&self, message: &MessageView) -> Result<(), Denied> {
        self.state.may_edit_message(&self.me, &message.sender)
    }

    /// Whether this user may delete `message`.
    pub fn may_delete(&self, message: &MessageView) -> Result<(), Denied> {
        self.state.may_delete_message(&self.me, &message.sender)
    }

    /// Whether this user may react.
    pub fn may_react(&self) -> Result<(), Denied> {
        self.state.may_react(&self.me)
    }

    /// Whether a timeline message of this view carries the topic ID `topic` (a new message in
    /// it replies in the topic, `canReplyInTopic`; otherwise it starts it, `canStartTopic`).
    pub fn knows_topic(&self, topic: &[u8]) -> bool {
        self.topics.contains(topic)
    }

    /// The timeline in hub order (deleted messages stay as tombstones).
    pub fn messages(&self) -> &[MessageView] {
        &self.messages
    }

    /// A message by the ID of its first version.
    pub fn message(&self, id: &MessageId) -> Option<&MessageView> {
        self.by_id.get(id).and_then(|i| self.messages.get(*i))
    }

    /// Messages whose absolute expiry has not passed at `now_s`.
    pub fn visible_messages(&self, now_s: u64) -> impl Iterator<Item = &MessageView> {
        self.messages.iter().filter(move |m| !m.is_expired(now_s))
    }

    /// What was received and refused, in order.
    pub fn rejections(&self) -> &[Rejection] {
        &self.rejections
    }

    /// How many duplicate message IDs were discarded.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// The reaction `id` of this view, if it is one of `user`'s that still stands: its target.
    pub(crate) fn reaction_of(&self, id: &MessageId, user: &UserUri) -> Option<MessageId> {
        self.reactions
            .get(id)
            .filter(|r| &r.reactor == user && !r.removed)
            .map(|r| r.target)
    }

    /// The content of a message's first version.
    pub(crate) fn original(&self, id: &MessageId) -> Option<&MimiContent> {
        self.message(id).map(|m| &m.original)
    }

    pub(crate) fn log(&self) -> &[Entry] {
        &self.log
    }

    pub(crate) fn rejected(&mut self, rejection: Rejection) {
        self.rejections.push(rejection);
    }

    /// Takes the room state of a new epoch.
    pub(crate) fn set_state(&mut self, state: RoomState, epoch: u64, active: bool) {
        self.state = state;
        self.epoch = epoch;
        self.active = active;
    }

    /// Applies an accepted application message. `check_policy` is false when replaying a log
    /// whose verdicts were already taken. Returns what the UI should refresh, or `None` for a
    /// duplicate.
    pub(crate) fn apply(
        &mut self,
        entry: Entry,
        check_policy: bool,
    ) -> Result<Option<Applied>, Rejection> {
        if entry.bytes.first() == Some(&RETRACTION_MARK) {
            return self.apply_retraction(entry);
        }
        let sender_uri = entry.sender.to_string();
        let received = match ReceivedMessage::accept(
            entry.bytes.clone(),
            &sender_uri,
            &self.room.to_string(),
            |id| self.known.contains(id),
        ) {
            Ok(r) => r,
            Err(ReceiveError::Duplicate(_)) => {
                self.duplicates += 1;
                return Ok(None);
            }
            Err(ReceiveError::SenderUriMismatch { claimed, .. }) => {
                return Err(Rejection::SenderMismatch {
                    claimed,
                    authenticated: entry.sender,
                });
            }
            Err(ReceiveError::RoomUriMismatch { claimed, .. }) => {
                return Err(Rejection::RoomMismatch {
                    sender: entry.sender,
                    claimed,
                });
            }
            Err(other) => {
                return Err(Rejection::InvalidContent {
                    sender: entry.sender,
                    error: other.to_string(),
                });
            }
        };
        let id = received.id;
        let content = received.content;
        if let Some(report) = status_report(&content) {
            let report = report.map_err(|error| Rejection::InvalidContent {
                sender: entry.sender.clone(),
                error,
            })?;
            if check_policy {
                self.may_report(&entry.sender, &report)?;
            }
            let changed = self.apply_report(&entry.sender, &report);
            self.known.insert(id);
            self.log.push(entry);
            return Ok(Some(Applied::Status(changed)));
        }
        if check_policy {
            let topic_known = self.knows_topic(&content.topic_id);
            self.allowed(
                &entry.sender,
                crate::content_policy::check_content(
                    &self.state,
                    &entry.sender,
                    &content,
                    topic_known,
                ),
            )?;
        }
        let affected = match content.kind() {
            MessageKind::Message | MessageKind::Reply => {
                if check_policy && content.kind() == MessageKind::Reply {
                    self.allowed(&entry.sender, self.state.may_reply(&entry.sender))?;
                }
                if check_policy {
                    crate::expiry::check_expiry(
                        self.state.message_expiration(),
                        content.expires,
                        entry.timestamp / 1000,
                        crate::expiry::CLOCK_SLACK_S,
                    )
                    .map_err(|error| Rejection::Expiration {
                        sender: entry.sender.clone(),
                        error,
                    })?;
                }
                self.push_message(id, &entry, content);
                id
            }
            MessageKind::Reaction => {
                if check_policy {
                    self.allowed(&entry.sender, self.state.may_react(&entry.sender))?;
                }
                self.react(id, &entry, content)
            }
            MessageKind::Edit => self.edit(&entry, &content, check_policy)?,
            MessageKind::Delete => self.delete(&entry, &content, check_policy)?,
            MessageKind::Unlike => self.unlike(&entry, &content, check_policy)?,
        };
        self.known.insert(id);
        self.log.push(entry);
        Ok(Some(Applied::Timeline(affected)))
    }

    fn allowed(&self, sender: &UserUri, verdict: Result<(), Denied>) -> Result<(), Rejection> {
        verdict.map_err(|denied| Rejection::NotAllowed {
            sender: sender.clone(),
            denied,
        })
    }

    fn push_message(&mut self, id: MessageId, entry: &Entry, content: MimiContent) {
        let view = MessageView {
            id,
            sender: entry.sender.clone(),
            client: entry.client.clone(),
            timestamp: entry.timestamp,
            kind: content.kind(),
            in_reply_to: content.in_reply_to,
            topic: content.topic_id.clone(),
            body: body_of(&content.nested_part),
            edits: 0,
            deleted: false,
            retracted: None,
            expires: content.expires,
            reactions: BTreeMap::new(),
            statuses: BTreeMap::new(),
            delivered_to: BTreeSet::new(),
            read_by: BTreeSet::new(),
            imported: entry.imported,
            original: content,
        };
        if !view.topic.is_empty() {
            self.topics.insert(view.topic.clone());
        }
        self.by_id.insert(id, self.messages.len());
        self.messages.push(view);
    }
}

/// Whether this client renders a leaf part.
fn understands(part: &NestedPart) -> bool {
    match &part.body {
        PartBody::Single(single) => {
            let ct = single.content_type.to_ascii_lowercase();
            ct.starts_with("text/plain") || ct.starts_with("text/markdown")
        }
        PartBody::External(_) => true,
        PartBody::Null | PartBody::Multi(_) => false,
    }
}

fn body_of(part: &NestedPart) -> Body {
    let mut body = Body::default();
    let mut texts = Vec::new();
    for index in part.select_parts(understands) {
        match part.part_at(index).map(|p| &p.body) {
            Some(PartBody::Single(single)) => {
                if single
                    .content_type
                    .to_ascii_lowercase()
                    .starts_with("text/markdown")
                {
                    body.markdown = true;
                }
                texts.push(String::from_utf8_lossy(&single.content).into_owned());
            }
            Some(PartBody::External(external)) => body.attachments.push(AttachmentView {
                filename: external.filename.clone(),
                content_type: external.content_type.clone(),
                size: external.size,
                description: external.description.clone(),
                url: external.url.clone(),
                part: (**external).clone(),
            }),
            _ => {}
        }
    }
    body.text = texts.join("\n");
    body
}

#[cfg(test)]
mod tests;
