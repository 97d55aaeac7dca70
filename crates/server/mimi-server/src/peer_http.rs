//! What every federation route shares: the protocol answer, and a refusal with its status
//! (and `Retry-After`), logged with the peer.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use mimi_federation_api::defects::PROTOCOL_ANSWER_STATUS;
use mimi_transport::PeerDomain;
use mimi_types::codepoints::media_type::MIMI_TLS_BODY;

use crate::error::ServerError;

/// `code` as a status (500 if it is none).
pub(crate) fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// A refusal with its status (and `Retry-After` where it has one), logged with the peer.
pub(crate) fn refuse(peer: &PeerDomain, err: &ServerError) -> Response {
    let code = err.http_status();
    tracing::warn!(peer = %peer.0, status = code, error = %err, "federation request refused");
    let mut response = (status(code), format!("{err}\n")).into_response();
    if let Some(seconds) = err.retry_after_s() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    response
}

/// A protocol answer, or the refusal with its status.
pub(crate) fn respond(peer: &PeerDomain, result: Result<Vec<u8>, ServerError>) -> Response {
    result.map_or_else(|e| refuse(peer, &e), answer)
}

/// A protocol answer (a TLS-encoded body).
pub(crate) fn answer(body: Vec<u8>) -> Response {
    (
        status(PROTOCOL_ANSWER_STATUS),
        [(header::CONTENT_TYPE, MIMI_TLS_BODY)],
        body,
    )
        .into_response()
}
