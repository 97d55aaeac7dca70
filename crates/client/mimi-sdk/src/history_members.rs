//! History for new members (other users), carried through the room itself: the newcomer's
//! device asks ([`Device::request_room_history`], or on its own when it joins a room whose
//! policy shares automatically), a member's device answers while it syncs (on its own where
//! it is the designated sharer, otherwise once its user agreed with
//! [`Device::share_history`]), and the newcomer imports while it syncs
//! (`ClientEvent::HistoryImported` names the sharer, `ClientEvent::HistoryRefused` says what
//! was refused). The decisions are mimi-client-core's (`history_members`, `history_room`);
//! this sends, and keeps the user's agreements and the requests waiting for one in the
//! device's profile so that they survive a restart.

use mimi_client_core::Client;
use mimi_types::{RoomUri, UserUri};

use crate::device::{Device, now_s};
use crate::error::SdkError;
use crate::store::{Profile, b64d, b64e};

impl Device {
    /// Asks the members of `room` that may share its history for it (through the room).
    /// Refused where the room's history policy lets no other member share with this user.
    pub async fn request_room_history(&mut self, room: &RoomUri) -> Result<(), SdkError> {
        self.client.request_room_history(now_s(), room)?;
        self.persist().await?;
        self.drive().await
    }

    /// This user agrees to share `room`'s history with `user`'s devices (where the room does
    /// not share automatically); requests of theirs that waited are answered now. Returns how
    /// many envelopes were sent. Refused where this user's role may not share.
    pub async fn share_history(
        &mut self,
        room: &RoomUri,
        user: &UserUri,
    ) -> Result<usize, SdkError> {
        let sent = self.client.share_history(now_s(), room, user)?;
        // The agreement and the requests it answered are saved before anything is sent;
        // sending changes neither.
        self.save_history_sharing().await?;
        self.persist().await?;
        self.drive().await?;
        Ok(sent)
    }

    /// Sends a history item (request or envelope bytes) through `room` as it is: for tools
    /// that re-send one. Receivers check it.
    pub async fn send_history_item(&mut self, room: &RoomUri, item: &[u8]) -> Result<(), SdkError> {
        self.client.send_history_item(room, item)?;
        self.persist().await?;
        self.drive().await
    }

    /// Asks for the history of the rooms just joined whose policy shares automatically;
    /// returns a sentence for each that could not be asked.
    pub(crate) fn ask_history_on_join(&mut self, rooms: &[RoomUri]) -> Vec<String> {
        let mut notices = Vec::new();
        for room in rooms {
            if self.client.asks_history_on_join(room)
                && let Err(e) = self.client.request_room_history(now_s(), room)
            {
                notices.push(format!("{room}: its history could not be asked for: {e}"));
            }
        }
        notices
    }

    /// Writes the user's agreements and the waiting requests to the profile if they changed.
    pub(crate) async fn save_history_sharing(&mut self) -> Result<(), SdkError> {
        let consents: Vec<[String; 2]> = self
            .client
            .history_consents()
            .into_iter()
            .map(|(room, user)| [room.to_string(), user.to_string()])
            .collect();
        let waiting: Vec<[String; 3]> = self
            .client
            .waiting_history_requests()
            .into_iter()
            .map(|(room, user, item)| [room.to_string(), user.to_string(), b64e(&item)])
            .collect();
        if consents == self.profile.history_consents && waiting == self.profile.history_waiting {
            return Ok(());
        }
        self.profile.history_consents = consents;
        self.profile.history_waiting = waiting;
        self.store.save_profile(&self.profile).await
    }
}

/// Gives the engine the agreements and waiting requests the profile holds (an entry that does
/// not parse is dropped).
pub(crate) fn restore(profile: &Profile, client: &mut Client) {
    let consents = profile
        .history_consents
        .iter()
        .filter_map(|[room, user]| Some((RoomUri::parse(room).ok()?, UserUri::parse(user).ok()?)))
        .collect();
    let waiting = profile
        .history_waiting
        .iter()
        .filter_map(|[room, user, item]| {
            Some((
                RoomUri::parse(room).ok()?,
                UserUri::parse(user).ok()?,
                b64d(item).ok()?,
            ))
        })
        .collect();
    client.restore_history_sharing(consents, waiting);
}
