//! The client API's contacts routes (`/v1/contacts…`): a user's consent book as JSON, and the
//! actions on it (see `mimi_client_api::Contacts`). The work is the `consent` module's.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use mimi_client_api::{
    AskedContact, Contact, ContactAction, ContactRequest, Contacts, ErrorCode, SetContactPolicy,
    routes,
};
use mimi_ds::follower::consent::{GrantScope, Outgoing};
use mimi_ds::follower::{ConsentPolicy, UserConsent};
use mimi_types::{RoomUri, UserUri};

use crate::client_http::{authenticate, json, reply, user_of};
use crate::error::ServerError;
use crate::provider::Provider;

/// The contacts routes.
pub(crate) fn routes() -> Router<Arc<Provider>> {
    Router::new()
        .route(routes::CONTACTS.path, get(view))
        .route(routes::CONTACT_REQUEST.path, post(request))
        .route(routes::CONTACT_ACCEPT.path, post(accept))
        .route(routes::CONTACT_BLOCK.path, post(block))
        .route(routes::CONTACT_POLICY.path, post(policy))
}

fn contacts(provider: &Provider, book: &UserConsent) -> Contacts {
    let text = |room: &Option<RoomUri>| room.as_ref().map(ToString::to_string);
    Contacts {
        policy: book
            .policy()
            .unwrap_or(&provider.follower.consent_policy)
            .to_string(),
        own_policy: book.policy().is_some(),
        requests: book
            .incoming()
            .iter()
            .map(|((user, room), at)| ContactRequest {
                user: user.to_string(),
                room: text(room),
                received_ms: *at,
            })
            .collect(),
        contacts: book
            .granted()
            .iter()
            .map(|(user, scope)| Contact {
                user: user.to_string(),
                rooms: match scope {
                    GrantScope::Rooms(rooms) => {
                        Some(rooms.iter().map(ToString::to_string).collect())
                    }
                    GrantScope::AnyRoom => None,
                },
            })
            .collect(),
        blocked: book.blocked().iter().map(ToString::to_string).collect(),
        asked: book
            .outgoing()
            .iter()
            .map(|((user, room), state)| {
                let (status, detail) = match state {
                    Outgoing::Asked { .. } => ("asked", None),
                    Outgoing::Granted { .. } => ("granted", None),
                    Outgoing::Revoked { .. } => ("revoked", None),
                    Outgoing::Refused { reason } => ("refused", Some(reason.clone())),
                };
                AskedContact {
                    user: user.to_string(),
                    room: text(room),
                    status: status.into(),
                    detail,
                }
            })
            .collect(),
    }
}

fn bad(message: String) -> ServerError {
    ServerError::api(ErrorCode::BadRequest, message)
}

/// The action's user and room, parsed.
fn parse(action: &ContactAction) -> Result<(UserUri, Option<RoomUri>), ServerError> {
    let user = UserUri::parse(&action.user).map_err(|e| {
        bad(format!(
            "user {:?} is not a user URI ({e}); write mimi://domain/u/name",
            action.user
        ))
    })?;
    let room = action
        .room
        .as_deref()
        .map(|r| {
            RoomUri::parse(r).map_err(|e| {
                bad(format!(
                    "room {r:?} is not a room URI ({e}); write mimi://domain/r/name"
                ))
            })
        })
        .transpose()?;
    Ok((user.canonical(), room))
}

async fn view(State(provider): State<Arc<Provider>>, headers: HeaderMap) -> Response {
    let result = async {
        let user = user_of(&authenticate(&provider.accounts, &headers).await?)?;
        let book = provider.consent_view(&user).await?;
        Ok(contacts(&provider, &book))
    }
    .await;
    reply(StatusCode::OK, result)
}

async fn request(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let user = user_of(&authenticate(&provider.accounts, &headers).await?)?;
        let (target, room) = parse(&json(&body)?)?;
        let book = provider.consent_ask(&user, &target, room.as_ref()).await?;
        Ok(contacts(&provider, &book))
    }
    .await;
    reply(StatusCode::OK, result)
}

async fn accept(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let user = user_of(&authenticate(&provider.accounts, &headers).await?)?;
        let (requester, room) = parse(&json(&body)?)?;
        let book = provider
            .consent_accept(&user, &requester, room.as_ref())
            .await?;
        Ok(contacts(&provider, &book))
    }
    .await;
    reply(StatusCode::OK, result)
}

async fn block(State(provider): State<Arc<Provider>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let user = user_of(&authenticate(&provider.accounts, &headers).await?)?;
        let (requester, _) = parse(&json(&body)?)?;
        let book = provider.consent_block(&user, &requester).await?;
        Ok(contacts(&provider, &book))
    }
    .await;
    reply(StatusCode::OK, result)
}

async fn policy(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let user = user_of(&authenticate(&provider.accounts, &headers).await?)?;
        let set: SetContactPolicy = json(&body)?;
        let policy = set
            .policy
            .as_deref()
            .map(ConsentPolicy::parse)
            .transpose()
            .map_err(|e| bad(e.to_string()))?;
        let book = provider.consent_set_policy(&user, policy).await?;
        Ok(contacts(&provider, &book))
    }
    .await;
    reply(StatusCode::OK, result)
}
