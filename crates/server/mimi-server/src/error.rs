//! Why the server failed to start or to serve a request, split by cause.

use mimi_client_api::{ApiError, ErrorCode};

/// A server failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// Writing a new provider failed.
    #[error("init: {0}")]
    Init(String),
    /// A key or certificate file is missing or wrong.
    #[error("{what}: {reason}; run `mimi init` or fix the path in the configuration")]
    Keys {
        /// Which file.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// The delivery-service store failed.
    #[error("store: {0}")]
    Store(#[from] mimi_ds::StoreError),
    /// The store could not be opened.
    #[error("store: {0}")]
    StoreOpen(#[from] mimi_store::OpenError),
    /// The PostgreSQL store could not be connected.
    #[error("store: {0}")]
    StoreConnect(#[from] mimi_store::ConnectError),
    /// The accounts database failed.
    #[error("accounts database: {0}; check the data directory")]
    Accounts(String),
    /// A listener could not be bound.
    #[error("cannot listen on {addr}: {source}; is another server running there?")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[from] mimi_transport::TransportError),
    /// An engine refused the request.
    #[error("{0}")]
    Refused(#[from] mimi_ds::RequestError),
    /// A peer provider could not be reached or answered with an error.
    #[error("{peer} answered HTTP {status}: {message}")]
    Peer {
        /// The peer.
        peer: mimi_types::Domain,
        /// Its status (0: not reached).
        status: u16,
        /// Its message.
        message: String,
    },
    /// A client API refusal.
    #[error("{0}")]
    Api(ApiError),
    /// Too many requests of one kind from one account or address (429 with `Retry-After`).
    #[error("{what}; retry in {} s", retry_after.as_secs().max(1))]
    RateLimited {
        /// What was limited, for the client.
        what: String,
        /// When the next request may pass.
        retry_after: std::time::Duration,
    },
}

impl ServerError {
    /// A client API refusal.
    pub(crate) fn api(code: ErrorCode, message: impl Into<String>) -> Self {
        Self::Api(ApiError::new(code, message))
    }

    /// The `Retry-After` a refusal carries, in whole seconds (at least 1).
    pub(crate) fn retry_after_s(&self) -> Option<u64> {
        let ms = match self {
            Self::RateLimited { retry_after, .. } => {
                u64::try_from(retry_after.as_millis()).unwrap_or(u64::MAX)
            }
            Self::Refused(mimi_ds::RequestError::RateLimited { retry_in_ms }) => *retry_in_ms,
            _ => return None,
        };
        Some(ms.div_ceil(1000).max(1))
    }

    /// The body a client sees.
    pub(crate) fn to_api(&self) -> ApiError {
        match self {
            Self::Api(e) => e.clone(),
            Self::RateLimited { .. } => ApiError::new(ErrorCode::RateLimited, self.to_string()),
            Self::Refused(e) => {
                let code = match e.http_status() {
                    400 => ErrorCode::BadRequest,
                    403 => ErrorCode::Forbidden,
                    404 => ErrorCode::NotFound,
                    429 => ErrorCode::RateLimited,
                    _ => ErrorCode::Internal,
                };
                ApiError::new(code, e.to_string())
            }
            // A hub's refusals that the client can act on keep their meaning.
            Self::Peer { status: 403, .. } => ApiError::new(ErrorCode::Forbidden, self.to_string()),
            Self::Peer { status: 413, .. } => ApiError::new(ErrorCode::TooLarge, self.to_string()),
            Self::Peer { status: 429, .. } => {
                ApiError::new(ErrorCode::RateLimited, format!("{self}; retry later"))
            }
            Self::Peer { .. } => {
                ApiError::new(ErrorCode::PeerUnavailable, format!("{self}; retry later"))
            }
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError::new(
                    ErrorCode::Internal,
                    "the server failed; retry later, and tell its operator if it persists",
                )
            }
        }
    }

    /// The HTTP status a failure maps to.
    pub(crate) fn http_status(&self) -> u16 {
        match self {
            Self::Refused(e) => e.http_status(),
            Self::Api(e) => e.code.http_status(),
            Self::RateLimited { .. } => 429,
            Self::Peer {
                status: status @ (403 | 413 | 429),
                ..
            } => *status,
            Self::Peer { .. } => 502,
            _ => 500,
        }
    }
}

impl From<sqlx::Error> for ServerError {
    fn from(e: sqlx::Error) -> Self {
        Self::Accounts(e.to_string())
    }
}

/// A request body or parameter that does not decode (400), naming what and how to fix it.
pub(crate) fn bad_request(what: &str, e: impl std::fmt::Display) -> ServerError {
    ServerError::api(
        ErrorCode::BadRequest,
        format!("{what} does not decode: {e}; send the TLS-encoded structure"),
    )
}
