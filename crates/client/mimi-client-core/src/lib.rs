//! The MIMI client engine, sans-IO: one device of one user, its rooms, sending and receiving
//! end-to-end encrypted MIMI content, and what a UI shows.
//!
//! It builds on mimi-mls (the MLS group of each room), mimi-content (MIMI content: building,
//! accepting, message IDs, edits and deletes, attachments) and mimi-room (participants, roles,
//! "who may do what"), and speaks the wire types of mimi-federation-api. No sockets, no tasks,
//! no clock, no database: time enters as `now` (seconds since the UNIX epoch), randomness
//! through the caller's `RngCore + CryptoRng`, and requests leave as values.
//!
//! # The push/pull surface (STYLE.md point 2)
//!
//! 1. Push what the provider delivers: [`Client::handle_delivery`] (a room's decoded
//!    `FanoutMessage`, with the device a Welcome is addressed to) or [`Client::handle_event`]
//!    (a device-stream event: sequence number, room, encoded `FanoutMessage`).
//! 2. Call commands: [`Client::create_room`], [`Client::invite`], [`Client::remove`],
//!    [`Client::leave`], [`Client::set_role`], [`Client::rename`], [`Client::send_text`],
//!    [`Client::reply`], [`Client::react`], [`Client::edit`], [`Client::delete`],
//!    [`Client::send_attachment`], [`Client::join_external`], ... Each returns an [`OpId`].
//! 3. Pull requests with [`Client::poll_request`] and send them in that order; report each
//!    answer with [`Client::mark_sent`]. Retries and transport stay with the caller.
//! 4. Drain [`Client::poll_event`] and read [`Client::room`] ([`RoomView`]).
//! 5. Persist with [`Client::to_record`] after each step; restore with
//!    [`Client::from_record`] and resume the device stream after [`Client::cursor`]. Or
//!    persist incrementally: [`Client::record_update`] hands out a small state record and
//!    the log rows added since the last [`Client::record_saved`]; restore with
//!    [`Client::from_split_record`].
//!
//! # Readings where the issue or the drafts are silent
//!
//! * One commit per room is in flight at a time (a second is API misuse until the first is
//!   reported). It is merged when the hub accepts it, or when its fan-out comes back (the
//!   answer was lost; the late report is then accepted without effect); if another member's
//!   commit of the same epoch arrives first, ours is discarded and the hub's `wrongEpoch` is
//!   reported.
//! * A message the hub refuses as `epochTooOld` is re-encrypted and re-sent once this device
//!   has processed the commit it missed (same content bytes, same message ID).
//! * Own messages show when the hub's fan-out brings them back (hub order), recognised by the
//!   digest of the MLS message, like the testkit's devices.
//! * The view refuses (and records as a [`Rejection`]): content whose `senderUri`/`roomUri`
//!   disagree with the MLS-authenticated sender, edits by anyone but the author (and without
//!   `canEditOwnMessage`), deletes without `canDeleteOwnMessage`/`canDeleteOtherMessage`,
//!   replies and reactions without their capability, replacements of unknown targets.
//! * The view's record is the log of accepted content; a restore replays it without asking the
//!   policy again (the verdicts were taken on arrival). Rejections are not persisted.
//! * Typing indicators are ephemeral MLS application messages ([`Client::typing_message`],
//!   [`Client::handle_typing_message`]): relayed to live streams only, never stored, decrypted
//!   on a copy of the group so that nothing persistent moves.
//! * Delivery and read receipts are MIMI content messages whose nested part is a single
//!   `application/mimi-message-status` part ([`Client::send_status`]; the module `receipts`
//!   documents the reading): never shown in the timeline, aggregated per message
//!   ([`MessageView::delivered_to`], [`MessageView::read_by`]) and announced with
//!   [`ClientEvent::StatusChanged`]; the room's `status_notification_policy` is honoured both
//!   ways.
//! * `leave` proposes the participant-list removal and this device's SelfRemove; another member
//!   commits them ([`Client::commit_pending`], prompted by [`ClientEvent::ProposalsPending`]).
//!   The user's other devices, seeing a sibling's SelfRemove, propose theirs: a participant
//!   whose clients remain could not be removed. `ban` sets role 1 and removes the devices in
//!   one commit.
//! * Invitees get role 2 (`ordinary_user` in every preset) unless [`Invitee::role`] says
//!   otherwise.
//! * Direct messages (module `dm`): a fixed-membership room of this user and one other,
//!   named after the pair ([`direct_room_uri`]) on the creator's provider;
//!   [`Client::direct_room_with`] finds it, [`Client::create_direct_room`] makes it with both
//!   users listed, and [`Client::bring_in_direct_peer`] adds the other user's devices in the
//!   establishing commit.
//! * History for a new device (module `history`, our design; the drafts leave history sync
//!   open): the new device leaves a signed request with its history key (HPKE) in its
//!   siblings' mailboxes ([`Client::history_request`]); a sibling answers each room with an
//!   envelope, signed by it, holding the room's log HPKE-sealed to that key, or saying that the
//!   policy forbids sharing or that the requester is not a member
//!   ([`Client::handle_history_item`]); the new device imports it only from another device of
//!   its own user (credential and signature checked) for a room it is a member of, merges the
//!   new message IDs in front of its own timeline in hub-timestamp order and marks them
//!   ([`MessageView::imported`]). No `chat_history_policy` component means a user may share
//!   with their own devices; `forbidden` hands nothing over; `optional`/`required` need the
//!   user's role among `roles_that_can_share` and keep `max_time_period` (0: no limit). An
//!   imported log entry is stored with the top bit of its timestamp set, so records written
//!   before keep their bytes.
//! * History for a new member (modules `history_members`, `history_room`): the same request
//!   and envelope travel between users through the room itself, as MLS application messages
//!   starting with [`HISTORY_PREFIX`] that never reach the timeline
//!   ([`Client::request_room_history`], [`Client::share_history`]); a refused item is announced
//!   with [`ClientEvent::HistoryRefused`].
//! * The record is pinned by stability vectors (`testing/vectors/client/record-v1.hex`, and
//!   the split record's state and rows, `state-v2.hex`, `state-v2-log.hex`; regenerated when
//!   mimi-mls's records moved to X.509 credentials per RFC 9420 §5.3, the record before that,
//!   `legacy-record-v1-pre-rfc9420-credentials.hex`, must be refused with what to do). On
//!   restore, operations not yet reported are queued again (at-least-once: a repeat the hub
//!   fans out twice is dropped by digest and message ID).

mod client;
mod codec;
mod commands;
mod content_policy;
mod dm;
mod error;
mod expiry;
mod franking;
mod history;
mod history_codec;
mod history_members;
mod history_room;
mod incremental;
mod join_links;
mod messaging;
mod outgoing;
mod policy;
mod policy_assets;
mod policy_bots;
mod receipts;
mod record;
mod room_end;
mod servers;
mod typing;
mod view;

pub use client::Client;
pub use commands::{
    DEFAULT_MEMBER_ROLE, Invitee, KEY_PACKAGE_LIFETIME_SECS, KEY_PACKAGE_TARGET, RoomOptions,
};
pub use dm::direct_room_uri;
pub use error::ClientError;
pub use expiry::CLOCK_SLACK_S;
pub use franking::KeptFrank;
pub use history::{
    BUNDLE_LABEL, HistoryAnswer, HistoryError, HistoryImport, HistoryLimits, HistoryOutcome,
    MAX_ITEM_BYTES, REQUEST_LABEL, REQUEST_TTL_SECS, SEAL_LABEL, ShareStatus, sharing_allowed,
};
pub use history_members::{designated_sharer, member_sharing_allowed};
pub use history_room::{
    HISTORY_PREFIX, MAX_ANSWERED, MAX_ROOM_ITEM_BYTES, MAX_WAITING, ROOM_HISTORY_LIMITS,
};
pub use incremental::{LogRows, RecordUpdate, RoomPart, STATE_RECORD_VERSION, StoredRecord};
pub use join_links::{JOIN_CODE_LEN, NewJoinLink, format_join_link, parse_join_link};
pub use messaging::{FileInfo, SentAttachment};
pub use outgoing::{
    ClientEvent, HubRefusal, KeyPackageUpload, OpId, Outgoing, SendOutcome, TypingSignal,
};
pub use policy::{Choice, POLICY_KEYS, PolicySetting, RoleEdit, parse_capability};
pub use policy_assets::describe as describe_asset_policy;
pub use policy_bots::BotEntry;
pub use record::RECORD_VERSION;
pub use servers::{ServerAccess, ServerMode, ServerStanding};
pub use typing::TYPING_PREFIX;
pub use view::{AttachmentView, Body, MessageView, Rejection, RoomView};
