//! The routes of the client API (method and path template; `{room}` and `{user}` are
//! percent-encoded URIs, as one path segment).

/// A route: method and path template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// The path template (axum syntax).
    pub path: &'static str,
}

/// `POST /v1/accounts` ([`crate::RegisterAccount`]).
pub const REGISTER_ACCOUNT: Route = Route {
    method: "POST",
    path: "/v1/accounts",
};
/// `POST /v1/devices` ([`crate::RegisterDevice`] → [`crate::DeviceRegistered`]).
pub const REGISTER_DEVICE: Route = Route {
    method: "POST",
    path: "/v1/devices",
};
/// `POST /v1/devices/reissue` ([`crate::ReissueDevice`] → [`crate::DeviceRegistered`]): a
/// fresh credential for the calling device; its KeyPackages at the provider are removed.
pub const REISSUE_DEVICE: Route = Route {
    method: "POST",
    path: "/v1/devices/reissue",
};
/// `GET /v1/devices` (→ [`crate::DeviceList`]): the caller's user's devices.
pub const LIST_DEVICES: Route = Route {
    method: "GET",
    path: "/v1/devices",
};
/// `DELETE /v1/devices/{device}` (→ [`crate::DeviceRemoved`]): removes a device of the
/// caller's user (the caller itself: a logout): its token stops working and its KeyPackages
/// are deleted. `{device}` is the device id (the last segment of its client URI).
pub const REMOVE_DEVICE: Route = Route {
    method: "DELETE",
    path: "/v1/devices/{device}",
};
/// `POST /v1/key-packages` ([`crate::UploadKeyPackages`] → [`crate::KeyPackagesStored`]).
pub const UPLOAD_KEY_PACKAGES: Route = Route {
    method: "POST",
    path: "/v1/key-packages",
};
/// `POST /v1/rooms` ([`crate::CreateRoom`] → [`crate::RoomCreated`]).
pub const CREATE_ROOM: Route = Route {
    method: "POST",
    path: "/v1/rooms",
};
/// `GET /v1/rooms` (→ [`crate::RoomList`]).
pub const LIST_ROOMS: Route = Route {
    method: "GET",
    path: "/v1/rooms",
};
/// `GET /v1/directory` ([`crate::DirectoryQuery`] → [`crate::RoomDirectory`]): the provider's
/// room directory.
pub const ROOM_DIRECTORY: Route = Route {
    method: "GET",
    path: "/v1/directory",
};
/// `POST /v1/rooms/{room}/key-material/{user}` ([`crate::KeyMaterialFetch`] →
/// [`crate::HubAnswer`]).
pub const KEY_MATERIAL: Route = Route {
    method: "POST",
    path: "/v1/rooms/{room}/key-material/{user}",
};
/// `POST /v1/rooms/{room}/update` ([`crate::SubmitUpdate`] → [`crate::HubAnswer`]).
pub const UPDATE: Route = Route {
    method: "POST",
    path: "/v1/rooms/{room}/update",
};
/// `POST /v1/rooms/{room}/messages` ([`crate::SubmitMessage`] → [`crate::HubAnswer`]).
pub const MESSAGES: Route = Route {
    method: "POST",
    path: "/v1/rooms/{room}/messages",
};
/// `POST /v1/rooms/{room}/typing` ([`crate::SubmitMessage`] holding an encrypted typing
/// indicator → 202 `{}`): relayed by the hub to the room's live event streams, never stored.
pub const TYPING: Route = Route {
    method: "POST",
    path: "/v1/rooms/{room}/typing",
};
/// `GET /v1/rooms/{room}/external-join` (→ [`crate::ExternalJoinInfo`]).
pub const EXTERNAL_JOIN: Route = Route {
    method: "GET",
    path: "/v1/rooms/{room}/external-join",
};
/// `POST /v1/rooms/{room}/group-info` ([`crate::GroupInfoFetch`] → [`crate::HubAnswer`]).
pub const GROUP_INFO: Route = Route {
    method: "POST",
    path: "/v1/rooms/{room}/group-info",
};
/// `POST /v1/rooms/{room}/report-abuse` ([`crate::AbuseReportSubmit`]): an abuse report for the
/// room's hub (protocol-06 §5.9).
pub const REPORT_ABUSE: Route = Route {
    method: "POST",
    path: "/v1/rooms/{room}/report-abuse",
};
/// `GET /v1/events?after=N&wait_ms=M` (→ [`crate::EventsResponse`]).
pub const EVENTS: Route = Route {
    method: "GET",
    path: "/v1/events",
};
/// `GET /v1/events/ws?after=N`: the same feed as a WebSocket; each text message is one
/// [`crate::Event`] as JSON, in cursor order, pushed as events arrive. Reconnect with the last
/// cursor seen as `after`. Ephemeral events (typing indicators, `ephemeral: true`, `seq` 0)
/// arrive only here, while the stream is open.
pub const EVENTS_WS: Route = Route {
    method: "GET",
    path: "/v1/events/ws",
};
/// `POST /v1/blobs?room=<room>`: upload an attachment's ciphertext (raw body) for a room →
/// [`crate::BlobStored`]; see [`crate::blobs`].
pub const UPLOAD_BLOB: Route = Route {
    method: "POST",
    path: "/v1/blobs",
};
/// `GET /v1/assets?url=<asset URL>&max_bytes=<n>`: an attachment's bytes (raw body) through
/// this provider, for a member of the asset's room; see [`crate::blobs`].
pub const ASSETS: Route = Route {
    method: "GET",
    path: "/v1/assets",
};
/// `GET /v1/profile` (→ [`crate::ProfileView`]): the calling user's discovery profile.
pub const PROFILE: Route = Route {
    method: "GET",
    path: "/v1/profile",
};
/// `PUT /v1/profile` ([`crate::SetProfile`] → [`crate::ProfileView`]); see [`crate::discovery`].
pub const SET_PROFILE: Route = Route {
    method: "PUT",
    path: "/v1/profile",
};
/// `POST /v1/users/find` ([`crate::FindUsers`] → [`crate::UsersFound`]): here or, relayed
/// over `identifierQuery`, at another provider.
pub const FIND_USERS: Route = Route {
    method: "POST",
    path: "/v1/users/find",
};

/// `GET /v1/contacts` (→ [`crate::Contacts`]): the caller's consent (see [`crate::Contacts`]).
pub const CONTACTS: Route = Route {
    method: "GET",
    path: "/v1/contacts",
};
/// `POST /v1/contacts/requests` ([`crate::ContactAction`] → [`crate::Contacts`]): ask a user
/// for consent to add them to rooms (also consents to them).
pub const CONTACT_REQUEST: Route = Route {
    method: "POST",
    path: "/v1/contacts/requests",
};
/// `POST /v1/contacts/accept` ([`crate::ContactAction`] → [`crate::Contacts`]): consent to a
/// user, for one room or any.
pub const CONTACT_ACCEPT: Route = Route {
    method: "POST",
    path: "/v1/contacts/accept",
};
/// `POST /v1/contacts/block` ([`crate::ContactAction`] → [`crate::Contacts`]): withdraw all
/// consent from a user and refuse them from now on.
pub const CONTACT_BLOCK: Route = Route {
    method: "POST",
    path: "/v1/contacts/block",
};
/// `POST /v1/contacts/policy` ([`crate::SetContactPolicy`] → [`crate::Contacts`]): who else may
/// add the caller to rooms.
pub const CONTACT_POLICY: Route = Route {
    method: "POST",
    path: "/v1/contacts/policy",
};
/// `POST /v1/devices/{device}/mailbox` ([`crate::MailboxPost`] → [`crate::MailboxPosted`]):
/// leaves an item for another device of the caller's user (see [`crate::mailbox`]).
pub const MAILBOX_SEND: Route = Route {
    method: "POST",
    path: "/v1/devices/{device}/mailbox",
};
/// `GET /v1/mailbox` (→ [`crate::MailboxItems`]): the caller's mailbox, oldest first.
pub const MAILBOX: Route = Route {
    method: "GET",
    path: "/v1/mailbox",
};
/// `DELETE /v1/mailbox/{item}` (→ [`crate::MailboxDeleted`]): removes a handled item.
pub const MAILBOX_DELETE: Route = Route {
    method: "DELETE",
    path: "/v1/mailbox/{item}",
};
/// `GET /openapi.json`: the OpenAPI document.
pub const OPENAPI: Route = Route {
    method: "GET",
    path: "/openapi.json",
};

/// Every route.
pub const ALL: &[Route] = &[
    REGISTER_ACCOUNT,
    REGISTER_DEVICE,
    REISSUE_DEVICE,
    LIST_DEVICES,
    REMOVE_DEVICE,
    UPLOAD_KEY_PACKAGES,
    CREATE_ROOM,
    LIST_ROOMS,
    ROOM_DIRECTORY,
    KEY_MATERIAL,
    UPDATE,
    MESSAGES,
    TYPING,
    EXTERNAL_JOIN,
    GROUP_INFO,
    REPORT_ABUSE,
    EVENTS,
    EVENTS_WS,
    UPLOAD_BLOB,
    ASSETS,
    PROFILE,
    SET_PROFILE,
    FIND_USERS,
    CONTACTS,
    CONTACT_REQUEST,
    CONTACT_ACCEPT,
    CONTACT_BLOCK,
    CONTACT_POLICY,
    MAILBOX_SEND,
    MAILBOX,
    MAILBOX_DELETE,
    OPENAPI,
];

/// A route's path with `{room}` and `{user}` replaced by already percent-encoded values.
pub fn fill(route: &Route, room: Option<&str>, user: Option<&str>) -> String {
    let mut path = route.path.to_owned();
    if let Some(room) = room {
        path = path.replace("{room}", room);
    }
    if let Some(user) = user {
        path = path.replace("{user}", user);
    }
    path
}
