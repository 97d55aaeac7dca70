//! Re-issuing a device's credential: for a device file whose stored MLS state holds its
//! credential in a layout this build refuses (mimi-rs releases before RFC 9420 §5.3 was
//! followed). The file's profile (provider, token) still reads; the device asks its provider
//! for a credential for a new signature key (`POST /v1/devices/reissue`, which also removes
//! its old KeyPackages there), starts a fresh client state with it, publishes fresh
//! KeyPackages, and keeps the old file beside the new one (`<file>.old-credential`). The
//! rooms of the old state are not carried over: the provider says which rooms the device was
//! in, to be recreated or re-joined by invitation.

use std::path::{Path, PathBuf};

use mimi_client_api::{DeviceRegistered, ReissueDevice, RoomList, routes};
use mimi_client_core::Client;
use mimi_mls::{ClientIdentity, SigningKey, X509Credential};
use mimi_types::{ClientUri, RoomUri, UserUri};
use reqwest::Method;

use crate::api::Api;
use crate::device::{Device, trust_store};
use crate::error::SdkError;
use crate::store::{Profile, Store, b64e};

/// What [`Device::reissue`] did.
#[derive(Debug)]
#[non_exhaustive]
pub struct Reissued {
    /// The device, with its new credential and fresh KeyPackages.
    pub device: Device,
    /// Where the old file was kept.
    pub old_file: PathBuf,
    /// The rooms the provider had the device in: recreate them, or have a member invite the
    /// user again.
    pub rooms: Vec<RoomUri>,
}

fn protocol(route: &str, reason: impl std::fmt::Display) -> SdkError {
    SdkError::Protocol {
        route: route.into(),
        reason: reason.to_string(),
    }
}

impl Device {
    /// Re-issues the credential of the device stored at `path` (see the module docs); works
    /// whether or not its state still loads.
    pub async fn reissue(path: &Path) -> Result<Reissued, SdkError> {
        let store = Store::open(path, false).await?;
        let profile = store.profile().await?;
        let cursor = store.state().await.map(|s| s.cursor).unwrap_or(0);
        store.close().await;
        let roots: Vec<Vec<u8>> = profile.bundle_der()?.into_values().collect();
        let api = Api::new(&profile.base_url, &roots, profile.server_cert.as_deref())?;
        let key = SigningKey::generate()
            .map_err(|e| SdkError::Input(format!("cannot generate a signing key: {e}")))?;
        let route = "POST /v1/devices/reissue";
        let issued: DeviceRegistered = api
            .call(
                Method::POST,
                routes::REISSUE_DEVICE.path,
                Some(&profile.token),
                Some(&ReissueDevice {
                    signature_key: key.public().to_vec(),
                }),
            )
            .await?;
        let client = ClientUri::parse(&issued.client).map_err(|e| protocol(route, e))?;
        let user = UserUri::parse(&issued.user).map_err(|e| protocol(route, e))?;
        if client.to_string() != profile.client {
            return Err(protocol(
                route,
                format!(
                    "issued for {client}, not for this device {}",
                    profile.client
                ),
            ));
        }
        let fresh = Profile {
            trust_bundle: issued
                .trust_bundle
                .iter()
                .map(|(d, c)| (d.clone(), b64e(c)))
                .collect(),
            server_signature_key: b64e(&issued.server_signature_key),
            server_credential: issued.server_credential.iter().map(|c| b64e(c)).collect(),
            ..profile
        };
        let rooms: RoomList = api
            .call(
                Method::GET,
                routes::LIST_ROOMS.path,
                Some(&fresh.token),
                None::<&()>,
            )
            .await?;
        let rooms = rooms
            .rooms
            .iter()
            .filter_map(|r| RoomUri::parse(r).ok())
            .collect();

        // The old file (and its WAL files, if any) moves aside; the new one takes its place.
        let old_file = PathBuf::from(format!("{}.old-credential", path.display()));
        let moved = |from: &Path, to: &Path| {
            std::fs::rename(from, to).map_err(|e| SdkError::Store {
                path: from.display().to_string(),
                reason: format!("cannot move it to {}: {e}", to.display()),
            })
        };
        moved(path, &old_file)?;
        for suffix in ["-wal", "-shm"] {
            let side = PathBuf::from(format!("{}{suffix}", path.display()));
            if side.exists() {
                moved(
                    &side,
                    &PathBuf::from(format!("{}{suffix}", old_file.display())),
                )?;
            }
        }
        let trust = trust_store(&fresh)?;
        let identity = ClientIdentity::from_parts(
            client,
            user,
            key,
            X509Credential::from_chain(issued.credential),
        );
        let store = Store::open(path, true).await?;
        let mut engine = Client::new(identity, trust);
        let update = engine.record_update()?;
        store.save_all(&fresh, &update, cursor).await?;
        engine.record_saved(&update);
        let mut device = Self::assemble(path.to_owned(), store, fresh, engine, cursor)?;
        device.top_up_key_packages().await?;
        Ok(Reissued {
            device,
            old_file,
            rooms,
        })
    }
}
