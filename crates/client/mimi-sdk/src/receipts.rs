//! Delivery and read receipts on a device: after each page of events, one `delivered` report
//! per room for the new messages of other users in that page (unless the user turned delivery
//! reports off); [`Device::mark_read`] reports `read` for everything unread from others
//! (unless the user turned read receipts off). Both settings live in the device's profile.
//!
//! A room whose `status_notification_policy` forbids a kind gets none of it; one that requires
//! a kind gets it even where the user turned it off (the room's rule wins, as the policy
//! draft says). Reports are not timeline messages ([`mimi_client_core::ClientEvent::Timeline`]
//! is never raised for them), so a report never causes another: no loops.

use std::collections::BTreeMap;

use mimi_client_core::ClientEvent;
use mimi_content::MessageId;
use mimi_content::status::MessageStatus;
use mimi_types::RoomUri;
use rand::rngs::OsRng;

use crate::device::Device;
use crate::error::SdkError;

impl Device {
    /// Whether this device sends read receipts ([`Device::mark_read`]).
    pub fn read_receipts(&self) -> bool {
        !self.profile.no_read_receipts
    }

    /// Whether this device reports delivery of the messages it receives.
    pub fn delivery_reports(&self) -> bool {
        !self.profile.no_delivery_reports
    }

    /// Turns read receipts on or off for this device (kept in its profile).
    pub async fn set_read_receipts(&mut self, on: bool) -> Result<(), SdkError> {
        self.profile.no_read_receipts = !on;
        self.store.save_profile(&self.profile).await
    }

    /// Turns delivery reports on or off for this device (kept in its profile).
    pub async fn set_delivery_reports(&mut self, on: bool) -> Result<(), SdkError> {
        self.profile.no_delivery_reports = !on;
        self.store.save_profile(&self.profile).await
    }

    /// Whether to report `status` in `room` given the user's setting `on`.
    fn reports(&self, room: &RoomUri, status: MessageStatus, on: bool) -> bool {
        self.client.status_allowed(room, status)
            && (on || self.client.status_required(room, status))
    }

    /// Marks `room` read: one `read` report for every message of other users this user has
    /// not read yet. Returns how many messages it covered (0, and nothing sent, when there
    /// are none or when read receipts are off).
    pub async fn mark_read(&mut self, room: &RoomUri) -> Result<usize, SdkError> {
        let unread = self.history(room)?.unread_from_others();
        if unread.is_empty() || !self.reports(room, MessageStatus::READ, self.read_receipts()) {
            return Ok(0);
        }
        let statuses: Vec<_> = unread.iter().map(|id| (*id, MessageStatus::READ)).collect();
        let (op, _) = self.client.send_status(&mut OsRng, room, &statuses)?;
        self.run_op(op).await?;
        Ok(unread.len())
    }

    /// After a page of events (those from `from` on): one `delivered` report per room for the
    /// new messages of others. Best effort: a failure becomes a notice, the page stays applied.
    pub(crate) async fn report_delivered(&mut self, from: usize) {
        let me = self.client.user().clone();
        let mut new: BTreeMap<RoomUri, Vec<MessageId>> = BTreeMap::new();
        for event in self.events.iter().skip(from) {
            if let ClientEvent::Timeline { room, message } = event {
                new.entry(room.clone()).or_default().push(*message);
            }
        }
        for (room, ids) in new {
            // Not where the policy forbids them, the user turned them off, or this device may
            // not send (leaving, or a role without canSendMessage): silently none.
            if !self.reports(&room, MessageStatus::DELIVERED, self.delivery_reports())
                || self.client.may_send(&room).is_err()
            {
                continue;
            }
            let Some(view) = self.client.room(&room) else {
                continue;
            };
            let mut statuses: Vec<(MessageId, MessageStatus)> = Vec::new();
            for id in ids {
                let fresh = view
                    .message(&id)
                    .is_some_and(|m| m.sender != me && !m.deleted && !m.delivered_to.contains(&me));
                if fresh && !statuses.iter().any(|(s, _)| *s == id) {
                    statuses.push((id, MessageStatus::DELIVERED));
                }
            }
            if statuses.is_empty() {
                continue;
            }
            let sent = match self.client.send_status(&mut OsRng, &room, &statuses) {
                Ok((op, _)) => self.run_op(op).await,
                Err(e) => Err(e.into()),
            };
            if let Err(e) = sent {
                tracing::debug!(%room, error = %e, "delivery report not sent");
                self.notices.push(format!(
                    "{room}: the delivery report could not be sent: {e}"
                ));
            }
        }
    }
}
