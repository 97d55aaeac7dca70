//! What every client API route shares: the bearer token's device, the JSON body and the room
//! in the path read, and the JSON answer or error (with `Retry-After` where it has one).

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mimi_client_api::ErrorCode;
use mimi_federation_api::path::room_from_path;
use mimi_types::{ClientUri, RoomUri, UserUri};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::accounts::Accounts;
use crate::error::ServerError;

/// `result` as a JSON answer: `success` with the body, or the error with its status.
pub(crate) fn reply<T: Serialize>(success: StatusCode, result: Result<T, ServerError>) -> Response {
    match result {
        Ok(body) => match serde_json::to_vec(&body) {
            Ok(json) => {
                (success, [(header::CONTENT_TYPE, "application/json")], json).into_response()
            }
            Err(e) => error_response(&ServerError::Accounts(format!("JSON: {e}"))),
        },
        Err(e) => error_response(&e),
    }
}

/// An error as the client API answers it: its status, JSON body and `Retry-After`.
pub(crate) fn error_response(err: &ServerError) -> Response {
    let body = err.to_api();
    let status =
        StatusCode::from_u16(body.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], json).into_response();
    if let Some(seconds) = err.retry_after_s() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    response
}

/// The JSON request body, or 400 saying what is wrong with it.
pub(crate) fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ServerError> {
    serde_json::from_slice(body).map_err(|e| {
        ServerError::api(
            ErrorCode::BadRequest,
            format!("the JSON body is not valid: {e}; see /openapi.json"),
        )
    })
}

/// The room in a path parameter, or 400.
pub(crate) fn room_param(raw: &str) -> Result<RoomUri, ServerError> {
    room_from_path(raw).map_err(|e| {
        ServerError::api(
            ErrorCode::BadRequest,
            format!(
                "the room in the path is not a room URI: {e}; percent-encode mimi://<domain>/r/<id>"
            ),
        )
    })
}

/// The bearer token of a request, if it has one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// The device a bearer token belongs to.
pub(crate) async fn authenticate(
    accounts: &Accounts,
    headers: &HeaderMap,
) -> Result<ClientUri, ServerError> {
    let token = bearer(headers).ok_or_else(|| {
        ServerError::api(
            ErrorCode::Unauthorized,
            "no bearer token: send `Authorization: Bearer <token>` from device registration",
        )
    })?;
    accounts.device_of_token(token).await?.ok_or_else(|| {
        ServerError::api(
            ErrorCode::Unauthorized,
            "unknown bearer token: register the device again to get a new one",
        )
    })
}

/// The user a device of ours belongs to.
pub(crate) fn user_of(device: &ClientUri) -> Result<UserUri, ServerError> {
    device
        .user_hint()
        .ok_or_else(|| ServerError::Accounts(format!("device {device} names no user")))
}
