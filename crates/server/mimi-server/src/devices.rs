//! A user's devices through the client API: list them, and remove one (another of the user's
//! devices, or the caller itself: a logout). Removing a device deletes its KeyPackages and its
//! token at this provider; taking it out of its rooms is an MLS commit by another device of
//! the user (the SDK does that first), after which the follower engine stops delivering to it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use mimi_client_api::{DeviceInfo, DeviceList, DeviceRemoved, ErrorCode};
use mimi_ds::DsStore as _;
use mimi_types::{ClientUri, Ident};

use crate::client_api::{authenticate, reply, user_of};
use crate::error::ServerError;
use crate::provider::Provider;

/// `GET /v1/devices`.
pub(crate) async fn list(State(provider): State<Arc<Provider>>, headers: HeaderMap) -> Response {
    let result = async {
        let me = authenticate(&provider, &headers).await?;
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
        let me = authenticate(&provider, &headers).await?;
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
        let key_packages_deleted = provider.store.remove_key_packages(&target).await?;
        provider.accounts.remove_device(&target).await?;
        provider.accounts.mailbox_clear(&target).await?;
        tracing::info!(
            client = %target,
            by = %me,
            key_packages_deleted,
            rooms = rooms.len(),
            "device removed: token revoked, KeyPackages deleted"
        );
        Ok(DeviceRemoved {
            client: target.to_string(),
            key_packages_deleted,
            rooms: rooms.iter().map(ToString::to_string).collect(),
        })
    }
    .await;
    reply(StatusCode::OK, result)
}
