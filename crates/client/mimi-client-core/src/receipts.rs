//! Delivery and read receipts: message status reports (draft-mahy-mimi-message-status,
//! digest §5.7) sent and received as MLS application messages.
//!
//! Our reading (the draft does not say how a report travels): a report is a MIMI content
//! message of its own (sender and room URIs, a fresh salt, so a message ID like any other)
//! whose nested part is one single part of content type `application/mimi-message-status`
//! carrying a `MessageStatusReport`, as phnx-im does. It neither replies to nor replaces
//! anything. Receivers never show it in the timeline: the view records, per message, the latest
//! status each other user reported ([`crate::MessageView::statuses`], `delivered_to`,
//! `read_by`) and the client raises [`crate::ClientEvent::StatusChanged`].
//!
//! * Entries about messages the view does not have, and a user's reports about their own
//!   messages, are ignored; a report from a user who is not a participant is refused
//!   ([`crate::Rejection::Status`]).
//! * `status_notification_policy`: where it forbids delivery notifications, `delivered` (and
//!   `unread`) reports are not sent ([`ClientError::StatusForbidden`]) and received ones are
//!   refused; where it forbids read receipts, the same for `read`. Other statuses are
//!   allowed.
//! * `delivered` never moves a message back from `read`; `unread` does.
//! * Reports are logged like any accepted content, so a restored client rebuilds the
//!   aggregates by replaying its log (no record format change).

use mimi_content::status::{MEDIA_TYPE, MessageStatus, MessageStatusReport};
use mimi_content::{ContentBuilder, Disposition, MessageId, NestedPart};
use mimi_mls::ComponentChange;
use mimi_room::RoomState;
use mimi_room::components::{Component as _, Optionality, StatusNotificationPolicy};
use mimi_types::RoomUri;
use mimi_types::codepoints::ComponentId;
use rand::{CryptoRng, RngCore};

use crate::client::Client;
use crate::error::ClientError;
use crate::outgoing::OpId;

/// Whether `state`'s `status_notification_policy` lets members report `status`.
pub(crate) fn status_allowed(state: &RoomState, status: MessageStatus) -> bool {
    let Some(policy) = state.status_notification_policy() else {
        return true;
    };
    let rule = match status {
        MessageStatus::DELIVERED | MessageStatus::UNREAD => policy.delivery_notifications,
        MessageStatus::READ => policy.read_receipts,
        _ => return true,
    };
    rule != Optionality::Forbidden
}

/// Whether `state`'s `status_notification_policy` requires members to report `status`.
pub(crate) fn status_required(state: &RoomState, status: MessageStatus) -> bool {
    let Some(policy) = state.status_notification_policy() else {
        return false;
    };
    let rule = match status {
        MessageStatus::DELIVERED | MessageStatus::UNREAD => policy.delivery_notifications,
        MessageStatus::READ => policy.read_receipts,
        _ => return false,
    };
    rule == Optionality::Required
}

impl Client {
    /// Whether `room`'s policy lets this device report `status` (false if not a member).
    pub fn status_allowed(&self, room: &RoomUri, status: MessageStatus) -> bool {
        self.room(room)
            .is_some_and(|v| v.is_active() && status_allowed(v.state(), status))
    }

    /// Whether `room`'s policy requires members to report `status`.
    pub fn status_required(&self, room: &RoomUri, status: MessageStatus) -> bool {
        self.room(room)
            .is_some_and(|v| status_required(v.state(), status))
    }

    /// Sends one status report about messages of `room` (see the module docs for the
    /// format). Every message must be known to this view; the room's policy must allow every
    /// status ([`ClientError::StatusForbidden`] otherwise, nothing queued). Returns the
    /// operation and the report's message ID.
    pub fn send_status<R: RngCore + CryptoRng>(
        &mut self,
        rng: &mut R,
        room: &RoomUri,
        statuses: &[(MessageId, MessageStatus)],
    ) -> Result<(OpId, MessageId), ClientError> {
        if statuses.is_empty() {
            return Err(ClientError::misuse("a status report about no message"));
        }
        let view = self
            .room(room)
            .filter(|v| v.is_active())
            .ok_or_else(|| ClientError::NotMember { room: room.clone() })?;
        let mut report = MessageStatusReport::default();
        for (id, status) in statuses {
            if view.message(id).is_none() {
                return Err(ClientError::UnknownMessage {
                    room: room.clone(),
                    id: id.to_string(),
                });
            }
            if !status_allowed(view.state(), *status) {
                return Err(ClientError::StatusForbidden {
                    room: room.clone(),
                    status: status.name().unwrap_or("unknown").to_owned(),
                });
            }
            report.push(*id, *status);
        }
        let part = NestedPart::single(Disposition::SESSION, MEDIA_TYPE, report.encode());
        self.send_content(rng, room, ContentBuilder::new(part))
    }

    /// Sets `room`'s `status_notification_policy` (a commit; the room policy decides who may:
    /// `canChangeOtherPolicyAttribute`, which no preset role holds until the role definitions
    /// give it, see [`Client::update_components`]).
    pub fn set_status_policy(
        &mut self,
        now: u64,
        room: &RoomUri,
        policy: &StatusNotificationPolicy,
    ) -> Result<OpId, ClientError> {
        let change =
            ComponentChange::update(ComponentId::STATUS_NOTIFICATION_POLICY, policy.encode());
        self.commit(now, room, &[change], &[], &[])
    }

    /// Commits room component changes as given (e.g. new role definitions); the room policy
    /// checks them like any commit. For administration tools and tests: the named commands
    /// build the usual changes.
    pub fn update_components(
        &mut self,
        now: u64,
        room: &RoomUri,
        changes: &[ComponentChange],
    ) -> Result<OpId, ClientError> {
        self.commit(now, room, changes, &[], &[])
    }
}
