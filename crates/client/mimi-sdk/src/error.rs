//! Why an SDK call failed, split by cause.

use mimi_client_api::ApiError;
use mimi_client_core::{ClientError, HubRefusal};
use mimi_types::{RoomUri, UserUri};

/// An SDK call that failed. One variant per cause; each message says what to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SdkError {
    /// The provider could not be reached at all.
    #[error(
        "cannot reach the provider at {url}: {reason}. Check that the server runs (`mimi serve`), \
         that the URL and port are right, and that nothing blocks the connection"
    )]
    Unreachable {
        /// The URL called.
        url: String,
        /// What the transport said.
        reason: String,
    },
    /// The provider's TLS certificate did not verify.
    #[error(
        "the provider at {url} presented a TLS certificate this device does not trust: {reason}. \
         If it is the provider's own (e.g. self-signed) certificate, pin it: \
         `--server-cert FILE.pem` in the CLI (from `mimi init --client-tls`: client-tls-cert.pem), \
         `Credentials::server_cert` in the SDK; otherwise check the URL"
    )]
    UntrustedServer {
        /// The URL called.
        url: String,
        /// What the verification said.
        reason: String,
    },
    /// The provider answered with an error body.
    #[error("the provider refused {route} (HTTP {status}): {error}")]
    Api {
        /// The route called.
        route: String,
        /// The HTTP status.
        status: u16,
        /// Its `{code, message}` body.
        error: ApiError,
    },
    /// The provider answered something that is not the client API.
    #[error("unexpected answer from {route}: {reason}")]
    Protocol {
        /// The route called.
        route: String,
        /// What was wrong with it.
        reason: String,
    },
    /// An attachment URL this device does not fetch from (an unknown host, a redirect, not
    /// http(s)); nothing was downloaded.
    #[error("not fetching the attachment at {url}: {reason}")]
    AttachmentUrl {
        /// The URL the message names.
        url: String,
        /// Why it is refused and what to do.
        reason: String,
    },
    /// The user does not exist, or has no device with a KeyPackage to be added with.
    #[error(
        "unknown user {user}: no such account, or none of its devices has a KeyPackage; \
         check the address (user@domain)"
    )]
    UnknownUser {
        /// The user.
        user: UserUri,
    },
    /// The user's provider says they have not consented to being added by this user (to this
    /// room, with `for_room`).
    #[error(
        "{} has not consented to being added by you{}; ask them first \
         (`mimi contacts request {}`)",
        at(user),
        if *for_room { " to this room" } else { "" },
        at(user)
    )]
    NoConsent {
        /// The user.
        user: UserUri,
        /// Whether they consented for other rooms only (`noConsentForThisRoom`).
        for_room: bool,
    },
    /// An invite found no consent, so a consent request was sent instead: nothing else
    /// changed.
    #[error("asked {} for consent; invite again once they accept", at(user))]
    ConsentRequested {
        /// The user asked.
        user: UserUri,
    },
    /// The room's hub refused the operation.
    #[error("the hub of {room} refused: {refusal}")]
    Refused {
        /// The room.
        room: RoomUri,
        /// The refusal.
        refusal: HubRefusal,
    },
    /// The room's hub did not accept the message and it is **not sent**: it stays queued on
    /// this device and is re-sent once the device catches up with the room (if the room's
    /// commits cannot be processed, only after the device rejoins it).
    #[error(
        "not sent: the hub of {room} did not accept the message, which is queued on this device: \
         {refusal}"
    )]
    Queued {
        /// The room.
        room: RoomUri,
        /// Why the hub did not accept it.
        refusal: HubRefusal,
    },
    /// The client engine refused (not a member, not allowed by role, unknown message, ...).
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A history item (for a new device) was refused.
    #[error(transparent)]
    History(#[from] mimi_client_core::HistoryError),
    /// The device store (SQLite file) failed.
    #[error("device store {path}: {reason}")]
    Store {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
    /// The profile directory has no device, or several, or the device exists already.
    #[error("profile: {0}")]
    Profile(String),
    /// A value given by the caller is malformed.
    #[error("invalid input: {0}")]
    Input(String),
}

/// `mimi://b.example/u/bob` as `bob@b.example`.
fn at(user: &UserUri) -> String {
    format!("{}@{}", user.id().as_str(), user.domain())
}

impl SdkError {
    /// Whether the engine refused because this device is not a member of the room.
    pub fn is_not_member(&self) -> bool {
        matches!(self, Self::Client(ClientError::NotMember { .. }))
    }

    /// The capability the room policy found missing, if that is why the call failed.
    pub fn missing_capability(&self) -> Option<mimi_room::Capability> {
        match self {
            Self::Client(e) => e.missing_capability(),
            _ => None,
        }
    }

    /// The API error code, if the provider answered with one.
    pub fn api_code(&self) -> Option<mimi_client_api::ErrorCode> {
        match self {
            Self::Api { error, .. } => Some(error.code),
            _ => None,
        }
    }
}
