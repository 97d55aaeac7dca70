//! The error body of every failed request.

use serde::{Deserialize, Serialize};

/// What kind of failure, so a client can react without parsing the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// The body or a parameter is malformed (400).
    BadRequest,
    /// No bearer token, or an unknown one (401).
    Unauthorized,
    /// Wrong user id or password (401).
    WrongPassword,
    /// The device may not do this (403): for example it is not a member of the room.
    Forbidden,
    /// No such room, user or device (404).
    NotFound,
    /// The account, device or room exists already (409).
    AlreadyExists,
    /// The body is larger than the provider accepts (413), e.g. a blob over its limit.
    TooLarge,
    /// Too many requests (429): retry later.
    RateLimited,
    /// Storing this would exceed a storage quota of the provider (507), e.g. the attachment
    /// blobs one device or the whole provider may keep; the message says which and what to do.
    QuotaExceeded,
    /// Another provider could not be reached or refused (502).
    PeerUnavailable,
    /// The server failed (500).
    Internal,
}

impl ErrorCode {
    /// The HTTP status of this code.
    pub fn http_status(self) -> u16 {
        match self {
            Self::BadRequest => 400,
            Self::Unauthorized | Self::WrongPassword => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::AlreadyExists => 409,
            Self::TooLarge => 413,
            Self::RateLimited => 429,
            Self::QuotaExceeded => 507,
            Self::PeerUnavailable => 502,
            Self::Internal => 500,
        }
    }
}

/// `{code, message}`: the message says what is wrong and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The kind of failure.
    pub code: ErrorCode,
    /// What is wrong and what to do.
    pub message: String,
}

impl ApiError {
    /// An error body.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for ApiError {}
