//! A user's devices through the client API: list them, and remove one (another of the user's
//! devices, or the caller itself: a logout). Removing a device deletes its KeyPackages and its
//! token at this provider; taking it out of its rooms is an MLS commit by another device of
//! the user (the SDK does that first), after which the follower engine stops delivering to it.
//! Where the device is still a member of a room this provider hosts (no other device of the
//! user was there to commit, or it logged itself out), the hub proposes its removal as the
//! room's policy enforcer, and the room's members commit it. In rooms hosted elsewhere it
//! stays until a member removes it: protocol-06 has no route by which a follower asks the hub.
//!
//! The removed device's open event streams end at once (a WebSocket closes with
//! `client_api::REMOVED_CLOSE_CODE`, a waiting long poll answers 401): nothing reaches it after
//! the removal is durable.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mimi_client_api::{DeviceInfo, DeviceList, DeviceRemoved, ErrorCode};
use mimi_ds::DsStore as _;
use mimi_types::{ClientUri, Ident, RoomUri};

use crate::client_http::{authenticate, reply, user_of};
use crate::device_wake::DeviceWake;
use crate::error::ServerError;
use crate::provider::Provider;

/// `GET /v1/devices`.
pub(crate) async fn list(State(provider): State<Arc<Provider>>, headers: HeaderMap) -> Response {
    let result = async {
        let me = authenticate(&provider.accounts, &headers).await?;
        let user = user_of(&me)?;
        let mut devices = Vec::new();
        for client in provider.accounts.devices_of(&user).await? {
            let rooms = provider.accounts.rooms_of(&client).await?;
            devices.push(DeviceInfo {
                current: client == me,
                client: client.to_string(),
                rooms: rooms.iter().map(ToString::to_string).collect(),
            });
        }
        Ok(DeviceList { devices })
    }
    .await;
    reply(StatusCode::OK, result)
}

/// `DELETE /v1/devices/{device}`.
pub(crate) async fn remove(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Path(device): Path<String>,
    _body: Bytes,
) -> Response {
    let result = async {
        let me = authenticate(&provider.accounts, &headers).await?;
        let user = user_of(&me)?;
        let id = Ident::parse(&device).map_err(|e| {
            ServerError::api(
                ErrorCode::BadRequest,
                format!("{device:?} is not a device id: {e}"),
            )
        })?;
        let target = ClientUri::of_user(&user, id);
        // Only the caller's own user's devices exist for it: another user's device id names
        // a device of this user, which is then unknown.
        if !provider.accounts.devices_of(&user).await?.contains(&target) {
            return Err(ServerError::api(
                ErrorCode::NotFound,
                format!("{user} has no device {device}"),
            ));
        }
        let rooms = provider.accounts.rooms_of(&target).await?;
        // The device's streams stop sending before its row goes, so none sends anything after
        // the removal is durable; they end once the row is gone, and go on if that failed (see
        // `device_wake`). It runs as a task of its own, the hub's evictions included: a caller
        // that goes away midway cannot leave the device's streams waiting on a removal that
        // never ends, nor the device in rooms this provider hosts.
        let removal = {
            let (provider, target) = (provider.clone(), target.clone());
            tokio::spawn(async move {
                let mut ending = RemovalEnding {
                    provider: &provider,
                    device: &target,
                    marked: provider.device_wakeups.removing(&target),
                    done: false,
                };
                let key_packages_deleted = provider.store.remove_key_packages(&target).await?;
                provider.accounts.remove_device(&target).await?;
                // The row is gone: the device is removed whatever follows, and its rooms are
                // left even if its mailbox could not be cleared (the items of a device that is
                // gone are never read).
                ending.done = true;
                if let Err(e) = provider.accounts.mailbox_clear(&target).await {
                    tracing::warn!(client = %target, error = %e, "clearing a removed device's mailbox failed");
                }
                drop(ending);
                let hub_removals = evict_where_hub(&provider, &target, &rooms).await;
                Ok::<_, ServerError>((key_packages_deleted, rooms, hub_removals))
            })
        };
        let (key_packages_deleted, rooms, hub_removals) = removal.await.map_err(|e| {
            ServerError::api(
                ErrorCode::Internal,
                format!("removing {target} stopped midway ({e}); list the devices and try again"),
            )
        })??;
        tracing::info!(
            client = %target,
            by = %me,
            key_packages_deleted,
            rooms = rooms.len(),
            hub_removals = hub_removals.len(),
            "device removed: token revoked, KeyPackages deleted"
        );
        Ok(DeviceRemoved {
            client: target.to_string(),
            key_packages_deleted,
            rooms: rooms.iter().map(ToString::to_string).collect(),
            hub_removals: hub_removals.iter().map(ToString::to_string).collect(),
        })
    }
    .await;
    reply(StatusCode::OK, result)
}

/// Ends a device's removal in its wake-ups when dropped ([`DeviceWakes::removal_ended`]):
/// when the removal returns, fails, or its task panics, so that its streams never wait on a
/// removal that ended. `done` once the device's row is gone.
///
/// [`DeviceWakes::removal_ended`]: crate::device_wake::DeviceWakes::removal_ended
struct RemovalEnding<'a> {
    provider: &'a Provider,
    device: &'a ClientUri,
    marked: Arc<DeviceWake>,
    done: bool,
}

impl Drop for RemovalEnding<'_> {
    fn drop(&mut self) {
        self.provider
            .device_wakeups
            .removal_ended(self.device, &self.marked, self.done);
    }
}

/// Has the hub propose removing `device` from each of `rooms` that this provider hosts and
/// where it is still a member; returns the rooms where it did. A room that refuses (its policy
/// gives the hub no role that may remove clients) is logged and skipped: the device's token is
/// revoked either way.
async fn evict_where_hub(
    provider: &Provider,
    device: &ClientUri,
    rooms: &[RoomUri],
) -> Vec<RoomUri> {
    let mut proposed = Vec::new();
    for room in rooms.iter().filter(|r| r.hub_domain() == &provider.domain) {
        match provider.hub_evict(room, std::slice::from_ref(device)).await {
            Ok(eviction) if !eviction.proposed.is_empty() => proposed.push(room.clone()),
            Ok(_) => {}
            Err(e) => tracing::warn!(
                %room,
                client = %device,
                error = %e,
                "the hub could not propose removing a revoked device; a member must remove it"
            ),
        }
    }
    proposed
}
