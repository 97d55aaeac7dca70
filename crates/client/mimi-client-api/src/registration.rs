//! Accounts, devices and KeyPackages.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `POST /v1/accounts`: a new user of this provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterAccount {
    /// The user id (the last segment of `mimi://<domain>/u/<user_id>`).
    pub user_id: String,
    /// The password (at least 8 characters), stored as an Argon2id hash.
    pub password: String,
}

/// `POST /v1/devices`: a new device of an existing user, authenticated by the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterDevice {
    /// The user id.
    pub user_id: String,
    /// The user's password.
    pub password: String,
    /// The device id (the last segment of its client URI).
    pub device_id: String,
    /// The device's Ed25519 MLS signature public key (32 bytes), which the provider CA
    /// certifies.
    #[serde(with = "crate::b64")]
    pub signature_key: Vec<u8>,
    /// A bot or a logging client: the provider marks the device's credential so (absent: a
    /// person's device).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<DeviceKind>,
}

/// What a device is, when it is not a person's: the marker its credential carries, which
/// rooms' `bot_policy` and `logging_policy` judge it by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum DeviceKind {
    /// A bot, with the name and homepage rooms list allowed bots by.
    Bot {
        /// The bot's name.
        name: String,
        /// The bot's homepage URI.
        homepage: String,
    },
    /// A logging client.
    Logger,
}

/// The answer to [`RegisterDevice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRegistered {
    /// The device's client URI.
    pub client: String,
    /// The user URI.
    pub user: String,
    /// The bearer token for every other route. Shown once: keep it.
    pub token: String,
    /// The X.509 credential chain (DER, leaf first) the provider CA issued for the key.
    #[serde(with = "crate::b64::list")]
    pub credential: Vec<Vec<u8>>,
    /// The MLS trust bundle: each federated domain and its CA certificate (DER).
    #[serde(with = "crate::b64::map")]
    pub trust_bundle: BTreeMap<String, Vec<u8>>,
    /// This provider's MLS server signature key: the external sender of rooms it hosts.
    #[serde(with = "crate::b64")]
    pub server_signature_key: Vec<u8>,
    /// This provider's MLS server credential chain (DER, leaf first).
    #[serde(with = "crate::b64::list")]
    pub server_credential: Vec<Vec<u8>>,
}

/// `POST /v1/devices/reissue`: a fresh credential for the calling device (bearer token), for a
/// new signature key: what a device whose stored credential is in a refused (old) layout
/// does. Its KeyPackages at the provider are removed (upload new ones); the answer is a
/// [`DeviceRegistered`] with the same token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReissueDevice {
    /// The device's new public signature key.
    #[serde(with = "crate::b64")]
    pub signature_key: Vec<u8>,
}

/// `POST /v1/key-packages`: KeyPackages of the calling device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadKeyPackages {
    /// Each an `MLSMessage` of wire format `mls_key_package`, with the device's credential.
    #[serde(with = "crate::b64::list")]
    pub key_packages: Vec<Vec<u8>>,
}

/// The answer to [`UploadKeyPackages`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPackagesStored {
    /// How many were accepted.
    pub stored: usize,
    /// Unclaimed fresh KeyPackages the device now has.
    pub fresh: usize,
}

/// The answer to [`RegisterAccount`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRegistered {
    /// The user URI.
    pub user: String,
}

/// One device of the caller's user ([`DeviceList`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Its client URI.
    pub client: String,
    /// Whether it is the calling device.
    pub current: bool,
    /// The rooms this provider delivers to it.
    pub rooms: Vec<String>,
}

/// `GET /v1/devices`: the caller's user's devices, sorted by client URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceList {
    /// The devices.
    pub devices: Vec<DeviceInfo>,
}

/// The answer to `DELETE /v1/devices/{device}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRemoved {
    /// The removed device's client URI.
    pub client: String,
    /// How many of its KeyPackages were deleted.
    pub key_packages_deleted: usize,
    /// The rooms this provider still delivered to it (they stop once the room's commit that
    /// removes it arrives; remove it from them first, see the SDK's `remove_device`).
    pub rooms: Vec<String>,
    /// Those of `rooms` this provider hosts, where its hub proposed removing the device as
    /// the room's policy enforcer (a member's next commit takes it out).
    #[serde(default)]
    pub hub_removals: Vec<String>,
}
