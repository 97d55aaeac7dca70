//! Direct messages: open the one room this user shares with another, or create it
//! (`mimi_client_core` `dm.rs` decides; this drives the requests).

use mimi_client_api::ErrorCode;
use mimi_client_core::direct_room_uri;
use mimi_types::{RoomUri, UserUri};

use crate::device::{Device, now_s};
use crate::error::SdkError;

impl Device {
    /// The direct-message room of this user and `peer`, opened or created:
    ///
    /// 1. a direct-message room with `peer` this device is in (if `peer`'s devices are not
    ///    in it yet, this device adds them now);
    /// 2. else the room `peer` made with this user on their provider, which this device joins
    ///    by external commit (this user is listed in it);
    /// 3. else this user's room with `peer` on this provider: created here (or, if another
    ///    device of this user created it, joined), then `peer`'s devices are added.
    ///
    /// A `peer` who has not consented to this user is asked for consent for this room instead
    /// ([`SdkError::ConsentRequested`]); the room exists then, and the same call once they
    /// accept brings their devices in.
    pub async fn open_direct(&mut self, peer: &UserUri) -> Result<RoomUri, SdkError> {
        if peer == self.user() {
            return Err(SdkError::Input(
                "a direct message needs another user: you cannot message yourself privately".into(),
            ));
        }
        // What the provider holds first: a Welcome into the room may be waiting.
        self.sync(0).await?;
        if let Some(room) = self.client.direct_room_with(peer) {
            self.bring_in_direct_peer(&room).await?;
            return Ok(room);
        }
        if peer.domain() != self.domain() {
            let theirs = direct_room_uri(peer.domain(), self.user(), peer)?;
            if self.join_direct(&theirs, peer).await? {
                return Ok(theirs);
            }
        }
        let (room, created) = self.client.create_direct_room(now_s(), peer, &self.hub)?;
        match self.publish_room(&room, created).await {
            Ok(()) => {}
            Err(e) if e.api_code() == Some(ErrorCode::AlreadyExists) => {
                // Another device of this user made it: this one joins as a listed user.
                if !self.join_direct(&room, peer).await? {
                    return Err(SdkError::Input(format!(
                        "{room} exists but is not a direct-message room of you and {peer}"
                    )));
                }
            }
            Err(e) => return Err(e),
        }
        self.bring_in_direct_peer(&room).await?;
        Ok(room)
    }

    /// Joins `room` by external commit if its hub lets this user in as a listed participant
    /// and it is a direct-message room with `peer`. `false` if the hub has no such room for
    /// us (a refusal of the GroupInfo exchange, or no room of that id here).
    async fn join_direct(&mut self, room: &RoomUri, peer: &UserUri) -> Result<bool, SdkError> {
        match self.join_external(room).await {
            Ok(()) => {}
            Err(SdkError::Protocol { .. }) => return Ok(false),
            Err(e) if e.api_code().is_some() => return Ok(false),
            Err(e) => return Err(e),
        }
        let view = self.history(room)?;
        if view.direct_peer() == Some(peer) {
            Ok(true)
        } else {
            Err(SdkError::Input(format!(
                "{room} is not a direct-message room of you and {peer}; leave it with `mimi room leave`"
            )))
        }
    }

    /// Adds `room`'s other user's devices if none is in the room yet (the establishing
    /// commit). Their consent decides as for an invite. If a commit of the same epoch wins
    /// (the other user's device joining meanwhile), this device catches up and looks again, at
    /// most three times.
    async fn bring_in_direct_peer(&mut self, room: &RoomUri) -> Result<(), SdkError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let Some(peer) = self.client.direct_peer_missing(room).cloned() else {
                return Ok(());
            };
            let key_packages = match self.key_material(room, &peer).await {
                Err(SdkError::NoConsent { user, .. }) => {
                    self.request_consent(&user, Some(room)).await?;
                    return Err(SdkError::ConsentRequested { user });
                }
                other => other?,
            };
            let op = self
                .client
                .bring_in_direct_peer(now_s(), room, &key_packages)?;
            match self.run_op(op).await {
                Err(SdkError::Refused {
                    refusal: mimi_client_core::HubRefusal::WrongEpoch { .. },
                    ..
                }) if attempt < 3 => {
                    self.sync(CATCH_UP_WAIT_MS).await?;
                }
                other => return other,
            }
        }
    }
}

/// How long to wait for the commit that overtook ours before looking again.
const CATCH_UP_WAIT_MS: u64 = 2_000;
