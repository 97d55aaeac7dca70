//! The client API of a mimi-rs provider: what a user's device sends to its own provider.
//!
//! Types only: JSON bodies (MLS and MIMI wire bytes travel as standard base64 strings), the
//! route table and the hand-written OpenAPI document served at [`routes::OPENAPI`]. The server
//! (`mimi-server`) implements the routes; a client SDK calls them.
//!
//! Authentication: registering an account or a device uses the user's password; every other
//! route takes the device's bearer token (`Authorization: Bearer <token>`). Errors are an
//! [`ApiError`] body `{code, message}` whose message says what to do.
//!
//! MLS stays on the device: the server sees only encoded requests (`UpdateRequest`,
//! `SubmitMessageRequest`, `KeyMaterialRequest`) the device built and signed.

pub mod b64;
pub mod blobs;
mod contacts;
pub mod discovery;
mod error;
mod events;
pub mod mailbox;
mod registration;
mod rooms;
pub mod routes;

pub use blobs::BlobStored;
pub use contacts::{
    AskedContact, Contact, ContactAction, ContactRequest, Contacts, SetContactPolicy,
};
pub use discovery::{FindUsers, FoundUser, ProfileView, SetProfile, UsersFound};
pub use error::{ApiError, ErrorCode};
pub use events::{Event, EventsQuery, EventsResponse};
pub use mailbox::{MailboxDeleted, MailboxItem, MailboxItems, MailboxPost, MailboxPosted};
pub use registration::{
    AccountRegistered, DeviceInfo, DeviceKind, DeviceList, DeviceRegistered, DeviceRemoved,
    KeyPackagesStored, RegisterAccount, RegisterDevice, ReissueDevice, UploadKeyPackages,
};
pub use rooms::{
    AbuseReportSubmit, CreateRoom, DirectoryQuery, DirectoryRoom, ExternalJoinInfo, GroupInfoFetch,
    HubAnswer, KeyMaterialFetch, RoomCreated, RoomDirectory, RoomList, SubmitMessage, SubmitUpdate,
};

/// The OpenAPI 3.1 document of this API.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

#[cfg(test)]
mod tests;
