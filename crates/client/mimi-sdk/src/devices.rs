//! The user's devices: list them, remove one (out of every room this device shares with it,
//! then its token and KeyPackages at the provider), and log this device out.

use mimi_client_api::{DeviceList, DeviceRemoved, routes};
use mimi_types::{ClientUri, Ident, RoomUri};
use reqwest::Method;

use crate::device::{Device, now_s};
use crate::error::SdkError;

/// What removing a device did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedDevice {
    /// The device.
    pub client: ClientUri,
    /// The rooms it was removed from by this device's commits.
    pub rooms: Vec<RoomUri>,
    /// Rooms it could not be removed from here (with why): the provider still delivers
    /// them to it until a member removes it.
    pub not_removed: Vec<(RoomUri, String)>,
    /// Its KeyPackages the provider deleted.
    pub key_packages_deleted: usize,
    /// Rooms the user's provider hosts where it was still a member: there the hub proposed
    /// its removal as the room's policy enforcer, and the members' next commit takes it out.
    pub hub_removals: Vec<RoomUri>,
}

impl Device {
    /// The user's devices at the provider (this one marked `current`).
    pub async fn devices(&self) -> Result<DeviceList, SdkError> {
        self.api
            .call(
                Method::GET,
                routes::LIST_DEVICES.path,
                Some(self.token()),
                None::<&()>,
            )
            .await
    }

    /// Removes the user's device `device_id` (not this one; see [`Device::logout`]): a commit
    /// removing its client in every room this device shares with it, then the provider
    /// revokes its token and deletes its KeyPackages.
    pub async fn remove_device(&mut self, device_id: &str) -> Result<RemovedDevice, SdkError> {
        let id = Ident::parse(device_id)
            .map_err(|e| SdkError::Input(format!("{device_id:?} is not a device id: {e}")))?;
        let target = ClientUri::of_user(self.user(), id);
        if &target == self.client_uri() {
            return Err(SdkError::Input(
                "this is the device you are using: log it out instead (mimi account logout)".into(),
            ));
        }
        let mut rooms = Vec::new();
        let mut not_removed = Vec::new();
        for room in self.engine().rooms_with(&target) {
            let done = match self.client.remove_own_device(now_s(), &room, &target) {
                Ok(op) => self.run_op(op).await,
                Err(e) => Err(e.into()),
            };
            match done {
                Ok(()) => rooms.push(room),
                Err(e) => not_removed.push((room, e.to_string())),
            }
        }
        let removed = self.revoke(device_id).await?;
        let hub_removals = rooms_of_answer(&removed.hub_removals)?;
        // Where the hub proposed the removal, a member commits it: no longer "not removed".
        not_removed.retain(|(room, _)| !hub_removals.contains(room));
        Ok(RemovedDevice {
            client: target,
            rooms,
            not_removed,
            key_packages_deleted: removed.key_packages_deleted,
            hub_removals,
        })
    }

    /// Logs this device out: it leaves every room (its SelfRemove, which other members'
    /// devices commit; the user stays a participant), then the provider revokes its token
    /// and deletes its KeyPackages. The device file stays (its history remains readable
    /// offline); nothing can be sent or fetched with it any more.
    pub async fn logout(&mut self) -> Result<Vec<RoomUri>, SdkError> {
        let me = self.client_uri().clone();
        let mut left = Vec::new();
        for room in self.engine().rooms_with(&me) {
            match self.client.leave_device(&room) {
                Ok(op) => {
                    self.run_op(op).await?;
                    left.push(room);
                }
                Err(mimi_client_core::ClientError::Leaving { .. }) => left.push(room),
                Err(e) => return Err(e.into()),
            }
        }
        let id = me.device_id().to_string();
        self.revoke(&id).await?;
        Ok(left)
    }

    async fn revoke(&self, device_id: &str) -> Result<DeviceRemoved, SdkError> {
        let path = routes::REMOVE_DEVICE.path.replace(
            "{device}",
            &mimi_federation_api::path::encode_param(&device_id),
        );
        self.api
            .call(Method::DELETE, &path, Some(self.token()), None::<&()>)
            .await
    }
}

/// The room URIs of a provider's answer.
fn rooms_of_answer(rooms: &[String]) -> Result<Vec<RoomUri>, SdkError> {
    rooms
        .iter()
        .map(|r| {
            r.parse().map_err(|e| SdkError::Protocol {
                route: routes::REMOVE_DEVICE.path.into(),
                reason: format!("hub_removals names {r:?}, not a room URI: {e}"),
            })
        })
        .collect()
}
