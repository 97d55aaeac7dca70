//! Delivery and read receipts in the view: status reports (`application/mimi-message-status`)
//! are checked against the room's `status_notification_policy` and recorded on the messages
//! they name.

use mimi_content::status::{MessageStatus, MessageStatusReport};
use mimi_content::{MessageId, MessageKind, MimiContent, PartBody};
use mimi_types::UserUri;
use std::collections::BTreeSet;

use super::{Rejection, RoomView};

impl RoomView {
    /// Whether `sender` may send `report` here: a participant, and nothing the room's
    /// `status_notification_policy` forbids.
    pub(super) fn may_report(
        &self,
        sender: &UserUri,
        report: &MessageStatusReport,
    ) -> Result<(), Rejection> {
        let refuse = |error: &str| Rejection::Status {
            sender: sender.clone(),
            error: error.to_owned(),
        };
        if self.state.participants().index_of(sender).is_none() {
            return Err(refuse("the sender is not a participant of the room"));
        }
        for entry in &report.statuses {
            if !crate::receipts::status_allowed(&self.state, entry.status) {
                return Err(refuse(&format!(
                    "the room's status_notification_policy forbids {} reports",
                    entry.status
                )));
            }
        }
        Ok(())
    }

    /// Records `reporter`'s statuses on the messages this view has (others are ignored, as
    /// are reports about the reporter's own messages). `delivered` never moves a message back
    /// from `read` (a device reporting delivery after another device of the user read it);
    /// `unread` does. Returns the messages whose statuses changed.
    pub(super) fn apply_report(
        &mut self,
        reporter: &UserUri,
        report: &MessageStatusReport,
    ) -> Vec<MessageId> {
        let mut changed = BTreeSet::new();
        for entry in &report.statuses {
            let Some(m) = self
                .by_id
                .get(&entry.message_id)
                .and_then(|i| self.messages.get_mut(*i))
            else {
                continue;
            };
            if &m.sender == reporter {
                continue;
            }
            let previous = m.statuses.get(reporter).copied();
            if previous == Some(entry.status)
                || (entry.status == MessageStatus::DELIVERED
                    && previous == Some(MessageStatus::READ))
            {
                continue;
            }
            m.statuses.insert(reporter.clone(), entry.status);
            m.delivered_to = m
                .statuses
                .iter()
                .filter(|(_, s)| implies_delivery(**s))
                .map(|(u, _)| u.clone())
                .collect();
            m.read_by = m
                .statuses
                .iter()
                .filter(|(_, s)| **s == MessageStatus::READ)
                .map(|(u, _)| u.clone())
                .collect();
            changed.insert(m.id);
        }
        changed.into_iter().collect()
    }

    /// The live messages of other users this user has not read (per the receipts of any of
    /// this user's devices that came back from the hub), in timeline order.
    pub fn unread_from_others(&self) -> Vec<MessageId> {
        self.messages
            .iter()
            .filter(|m| !m.deleted && m.sender != self.me && !m.read_by.contains(&self.me))
            .map(|m| m.id)
            .collect()
    }
}

/// Whether a reported status means the message reached the user.
fn implies_delivery(status: MessageStatus) -> bool {
    status.value() < MessageStatus::ERROR.value()
}

/// The status report `content` carries, if it is one: a MIMI content message whose nested
/// part is a single part of type `application/mimi-message-status` (see
/// [`crate::Client::send_status`]). `Some(Err)` for a report that does not decode or that
/// replies to or replaces a message.
pub(super) fn status_report(content: &MimiContent) -> Option<Result<MessageStatusReport, String>> {
    let PartBody::Single(single) = &content.nested_part.body else {
        return None;
    };
    let media = single.content_type.split(';').next().unwrap_or("").trim();
    if !media.eq_ignore_ascii_case(mimi_content::status::MEDIA_TYPE) {
        return None;
    }
    if content.kind() != MessageKind::Message {
        return Some(Err(
            "a status report must not reply to, react to or replace a message".into(),
        ));
    }
    Some(MessageStatusReport::decode(&single.content).map_err(|e| e.to_string()))
}
