//! Why an engine refuses a request outright (as opposed to answering it with a protocol code).

use mimi_types::Domain;

/// A refusal the caller turns into an HTTP error status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// A field does not decode or is not the right kind of identifier (400).
    #[error("malformed {field}: {reason}")]
    Malformed {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// The request is about a user of another provider (404).
    #[error("{0} is not a user of this provider")]
    NotOurUser(String),
    /// The peer acts for a user of another domain and is not the room's hub (403).
    #[error(
        "{peer} may not act for {user}: a provider acts only for its own users, or as the room's hub"
    )]
    ActingForForeignUser {
        /// The authenticated peer.
        peer: Domain,
        /// The user it claimed to act for.
        user: String,
    },
    /// A device submitted a handshake through its provider's client API that another member
    /// signed (403).
    #[error(
        "{device} may submit only its own handshakes, not {actor}'s; sign with this device's key"
    )]
    NotOwnHandshake {
        /// The submitting device.
        device: String,
        /// Who the handshake is from.
        actor: String,
    },
    /// A signed request whose signature or credential does not verify (403).
    #[error("request not authenticated: {0}")]
    Unauthenticated(String),
    /// A hub-only request for a room whose hub is not the peer, or not us (403).
    #[error("{peer} is not the hub of {room}")]
    NotTheHub {
        /// The authenticated peer (or we, for requests that must reach the hub).
        peer: Domain,
        /// The room.
        room: String,
    },
    /// The user is not a participant of the room the request names (403).
    #[error("{user} is not a participant of {room}; only participants may act in its name")]
    NotAParticipant {
        /// The user the request is for.
        user: String,
        /// The room.
        room: String,
    },
    /// The request names another provider than us (421 Misdirected Request), e.g. an
    /// `identifierQuery` whose path names another domain.
    #[error("{named} is not this provider; send the request to {named}'s own provider")]
    WrongProvider {
        /// The provider the request names.
        named: String,
    },
    /// We host no such room (404).
    #[error("no such room: {0}")]
    UnknownRoom(String),
    /// Too many requests from this peer (429).
    #[error("too many requests; retry in {retry_in_ms} ms")]
    RateLimited {
        /// When to retry.
        retry_in_ms: u64,
    },
    /// A consent book holds as many waiting requests as it takes (from this requester, or in
    /// all), or as many contacts (403: a policy refusal, final until the user answers; not
    /// 429, which a sender would retry).
    #[error("consent: {0}")]
    TooManyPending(String),
    /// The room's policy does not let the hub do what it was asked to (403): e.g. the room
    /// gives the hub's service user no role that may remove clients.
    #[error("the room's policy refuses the hub this: {0}")]
    PolicyRefused(String),
    /// The room's server access list (`server_policy`) keeps the provider from this (403).
    #[error("{0}")]
    ServerNotAllowed(mimi_room::Denied),
    /// Our own state is inconsistent (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl RequestError {
    pub(crate) fn malformed(field: &'static str, reason: impl std::fmt::Display) -> Self {
        Self::Malformed {
            field,
            reason: reason.to_string(),
        }
    }

    /// The HTTP status this refusal maps to.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::Malformed { .. } => 400,
            Self::ActingForForeignUser { .. }
            | Self::NotOwnHandshake { .. }
            | Self::NotTheHub { .. }
            | Self::NotAParticipant { .. }
            | Self::TooManyPending(_)
            | Self::PolicyRefused(_)
            | Self::ServerNotAllowed(_)
            | Self::Unauthenticated(_) => 403,
            Self::NotOurUser(_) | Self::UnknownRoom(_) => 404,
            Self::WrongProvider { .. } => 421,
            Self::RateLimited { .. } => 429,
            Self::Internal(_) => 500,
        }
    }
}
