//! History for a new device, driven over the provider's device mailbox: the new device asks its
//! siblings ([`Device::request_history`]); each sibling answers with one sealed bundle per room
//! and the new device imports them ([`Device::exchange_history`], which does both sides). The
//! protocol, the checks and the policy are mimi-client-core's (`history`); this only moves
//! items and persists.

use std::collections::BTreeSet;

use mimi_client_api::{
    MailboxDeleted, MailboxItems, MailboxPost, MailboxPosted, mailbox::MAILBOX_PAGE, routes,
};
use mimi_client_core::{HistoryError, HistoryImport, HistoryLimits, HistoryOutcome, ShareStatus};
use mimi_federation_api::path::encode_param;
use mimi_types::{ClientUri, RoomUri};
use reqwest::Method;

use crate::device::{Device, now_s};
use crate::error::SdkError;

/// Mailbox pages one exchange reads at most (items kept for later do not make it loop).
const MAX_PAGES: usize = 64;

/// What [`Device::request_history`] asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRequested {
    /// The rooms asked for (this device's active rooms).
    pub rooms: Vec<RoomUri>,
    /// The sibling devices asked.
    pub siblings: Vec<ClientUri>,
}

/// What one [`Device::exchange_history`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryExchange {
    /// Bundles imported by this device.
    pub imported: Vec<HistoryImport>,
    /// Rooms whose history a sibling could not hand over to this device, with why.
    pub not_shared: Vec<(RoomUri, String)>,
    /// Envelopes this device sent to siblings that asked: requester, room, what it says.
    pub answered: Vec<(ClientUri, RoomUri, ShareStatus)>,
    /// Items refused and dropped: who the provider says left it, and why.
    pub refused: Vec<(String, HistoryError)>,
}

impl HistoryExchange {
    /// The rooms a sibling answered for this device (imported, or not shared with a reason).
    pub fn rooms_answered(&self) -> BTreeSet<RoomUri> {
        self.imported
            .iter()
            .map(|i| i.room.clone())
            .chain(self.not_shared.iter().map(|(r, _)| r.clone()))
            .collect()
    }
}

impl Device {
    /// Asks every other device of this user for the history of this device's rooms: a signed
    /// request with this device's history key, left in each sibling's mailbox. The siblings
    /// answer when they next sync (or [`Device::exchange_history`]); this device takes the
    /// answers with [`Device::exchange_history`].
    pub async fn request_history(&mut self) -> Result<HistoryRequested, SdkError> {
        let rooms: Vec<RoomUri> = self
            .client
            .rooms()
            .filter(|r| self.client.room(r).is_some_and(|v| v.is_active()))
            .cloned()
            .collect();
        let item = self.client.history_request(now_s(), &rooms)?;
        let me = self.client_uri().clone();
        let mut siblings = Vec::new();
        for d in self.devices().await?.devices {
            let Ok(client) = ClientUri::parse(&d.client) else {
                continue;
            };
            if client == me {
                continue;
            }
            self.leave_item(&client, item.clone()).await?;
            siblings.push(client);
        }
        Ok(HistoryRequested { rooms, siblings })
    }

    /// Takes this device's mailbox: answers siblings' history requests (sealed bundles to
    /// their mailboxes, as the rooms' policies allow) and imports siblings' bundles into the
    /// timelines (persisted before the item is deleted). Items not from another device of
    /// this user, or otherwise refused, are dropped and listed in
    /// [`HistoryExchange::refused`]. A request whose device has not joined some rooms yet is
    /// kept (for an hour) and answered for them when it has.
    pub async fn exchange_history(&mut self) -> Result<HistoryExchange, SdkError> {
        let limits = HistoryLimits::default();
        let mut done = HistoryExchange::default();
        let mut kept = BTreeSet::new();
        for _ in 0..MAX_PAGES {
            let page: MailboxItems = self
                .api
                .call(
                    Method::GET,
                    routes::MAILBOX.path,
                    Some(self.token()),
                    None::<&()>,
                )
                .await?;
            let fresh: Vec<_> = page
                .items
                .into_iter()
                .filter(|i| !kept.contains(&i.id))
                .collect();
            if fresh.is_empty() {
                break;
            }
            for item in fresh {
                let skip = self
                    .history_served
                    .get(&item.id)
                    .cloned()
                    .unwrap_or_default();
                let outcome = self
                    .client
                    .handle_history_item(now_s(), &item.item, &limits, &skip);
                let mut keep = false;
                match outcome {
                    Ok(HistoryOutcome::Answered(answer)) => {
                        for (room, status, envelope) in answer.envelopes {
                            self.leave_item(&answer.requester, envelope).await?;
                            self.history_served
                                .entry(item.id)
                                .or_default()
                                .insert(room.clone());
                            done.answered.push((answer.requester.clone(), room, status));
                        }
                        keep = !answer.waiting.is_empty();
                    }
                    Ok(HistoryOutcome::Imported(import)) => {
                        self.persist().await?;
                        self.collect_events();
                        match import.status {
                            ShareStatus::Shared => done.imported.push(import),
                            other => done.not_shared.push((import.room, other.to_string())),
                        }
                    }
                    Ok(_) => {}
                    Err(HistoryError::Expired { rooms, .. }) => {
                        // Rooms its device never joined in time: say so, so it stops waiting.
                        let rooms: Vec<RoomUri> =
                            rooms.into_iter().filter(|r| !skip.contains(r)).collect();
                        let requester = ClientUri::parse(&item.from).ok();
                        if let (Some(requester), Ok(envelopes)) = (
                            requester,
                            self.client.history_not_member(&item.item, &rooms),
                        ) {
                            for (room, envelope) in envelopes {
                                self.leave_item(&requester, envelope).await?;
                                done.answered.push((
                                    requester.clone(),
                                    room,
                                    ShareStatus::NotMember,
                                ));
                            }
                        }
                    }
                    Err(
                        ref e @ (HistoryError::Forbidden { ref room, .. }
                        | HistoryError::NotMember { ref room }),
                    ) => {
                        done.not_shared.push((room.clone(), e.to_string()));
                    }
                    Err(e) => {
                        tracing::warn!(from = %item.from, error = %e, "history item refused");
                        done.refused.push((item.from.clone(), e));
                    }
                }
                if keep {
                    kept.insert(item.id);
                } else {
                    self.history_served.remove(&item.id);
                    let path = routes::MAILBOX_DELETE
                        .path
                        .replace("{item}", &item.id.to_string());
                    let _: MailboxDeleted = self
                        .api
                        .call(Method::DELETE, &path, Some(self.token()), None::<&()>)
                        .await?;
                }
            }
            if kept.len() >= MAILBOX_PAGE {
                break;
            }
        }
        Ok(done)
    }

    /// Creates `room` like [`Device::create_room`], with a history policy (e.g.
    /// `HistoryPolicy::Forbidden`: no device hands the room's history to another).
    pub async fn create_room_with_history_policy(
        &mut self,
        room: &RoomUri,
        preset: crate::Preset,
        policy: &mimi_room::components::HistoryPolicy,
    ) -> Result<(), SdkError> {
        let created = self.client.create_room_with_history_policy(
            now_s(),
            room,
            preset,
            &self.hub,
            policy,
        )?;
        self.publish_room(room, created).await
    }

    /// Leaves `item` in the mailbox of `to`, another device of this user.
    async fn leave_item(&self, to: &ClientUri, item: Vec<u8>) -> Result<(), SdkError> {
        let path = routes::MAILBOX_SEND
            .path
            .replace("{device}", &encode_param(&to.device_id().to_string()));
        let _: MailboxPosted = self
            .api
            .call(
                Method::POST,
                &path,
                Some(self.token()),
                Some(&MailboxPost { item }),
            )
            .await?;
        Ok(())
    }
}
