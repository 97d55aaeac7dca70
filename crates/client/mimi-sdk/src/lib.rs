//! The MIMI client SDK: an async driver of [`mimi_client_core::Client`] over a provider's
//! client API ([`mimi_client_api`]), with one SQLite file per device.
//!
//! A [`Device`] owns the sans-IO engine and:
//!
//! * registers accounts and devices ([`Device::register_account`],
//!   [`Device::register_device`]) and keeps KeyPackages topped up
//!   ([`Device::top_up_key_packages`], also after each join);
//! * executes the engine's requests in order against the client API and reports each answer
//!   with `mark_sent` exactly once;
//! * pulls the device's event feed ([`Device::sync`], [`Device::listen`]; WebSocket or long-poll) and
//!   feeds `handle_event`; proposals other members leave pending (a leave) are committed;
//! * offers the room and message operations ([`Device::create_room`], [`Device::invite`],
//!   [`Device::send_text`], [`Device::reply`], [`Device::react`], [`Device::edit`], ...) and
//!   the room view ([`Device::history`]); opens or creates the direct-message room with a
//!   user ([`Device::open_direct`]);
//! * joins a new device to its user's rooms by external commit ([`Device::join_external`]):
//!   through the provider for rooms hosted there, through the hub's GroupInfo exchange for
//!   rooms hosted elsewhere (the hub's answer must carry a server credential of the room's
//!   hub domain that chains to the trust bundle).
//!
//! Durability: the client record and the feed cursor are written together after every step
//! (a command, an answer, a fetched page of events), in one SQLite transaction, and only what
//! changed: a small state record and the new entries of each room's log. So a device dropped at any point and opened again ([`Device::open`]) resumes exactly where
//! it stopped: the feed resumes after the stored cursor, and requests not yet answered are
//! sent again (repeats are dropped by the hub's and the engine's digests).
//!
//! The feed arrives over the provider's WebSocket route where it offers one (plain `http`
//! providers; `https` ones are long-polled), else by long-poll; a zero wait always long-polls,
//! so "catch up now" is exact.
//!
//! Attachments: [`Device::send_file`] encrypts the file, uploads the ciphertext to this
//! device's provider for the room (`POST /v1/blobs?room=`) and sends a message naming its
//! asset URL, size, SHA-256 and key; [`Device::download`] asks its own provider for the asset
//! (`GET /v1/assets`, with its token; the provider fetches other providers' assets over
//! mutual TLS, for members of the room only), checks size and hash, and decrypts. No redirect
//! is followed, and reading stops as soon as more bytes arrive than the message names.
//!
//! Discovery: [`Device::set_profile`] sets the user's handle, display name and which of them
//! (and the nick) others may search; [`Device::find_users`] searches this provider or, relayed
//! by it, another.
//!
//! History for a new device: [`Device::request_history`] leaves a signed request in each
//! sibling device's mailbox at the provider (`POST /v1/devices/{device}/mailbox`);
//! [`Device::exchange_history`] takes this device's mailbox (`GET /v1/mailbox`), answers
//! siblings' requests with sealed bundles and imports siblings' bundles. [`Device::sync`] runs
//! the exchange by itself when it sees another device of the user join a room. The engine
//! (mimi-client-core's `history`) checks origin, membership and the rooms' history policies.
//!
//! Typing indicators ([`Device::typing`]) are encrypted ephemeral messages: they arrive only
//! on the WebSocket feed while it is open, are shown as [`ClientEvent::Typing`] and never
//! move the cursor or the stored state.
//!
//! A request the
//! provider cannot be reached for is reported to the engine as abandoned (its change is
//! discarded) and the error names the URL. Consequence: if the hub did accept a commit whose
//! answer was lost, the commit is discarded here although the room moved on; sending again
//! after a transport failure is the caller's choice.

mod api;
mod blob_fetch;
mod commands;
mod device;
mod devices;
mod directory;
mod discovery;
mod dm;
mod error;
mod history;
mod history_members;
mod join;
mod join_links;
mod policy;
mod receipts;
mod reissue;
mod report;
mod store;
mod ws;

pub use device::{Credentials, Device, device_path, devices_in};
pub use devices::RemovedDevice;
pub use error::SdkError;
pub use history::{HistoryExchange, HistoryRequested};
pub use mimi_client_api::{
    AskedContact, Contact, ContactRequest, Contacts, DeviceKind, DirectoryRoom, Event, FoundUser,
    ProfileView, RoomDirectory, SetProfile, UsersFound,
};
pub use mimi_client_core::{
    BotEntry, ClientEvent, FileInfo, HistoryError, HistoryImport, MessageView, PolicySetting,
    RoleEdit, RoomOptions, RoomView, ServerAccess, ServerMode, ServerStanding, ShareStatus,
};
pub use mimi_room::presets::Preset;
pub use reissue::Reissued;
