//! The page's people: contact requests and consent (protocol-06 §5.7, as `mimi contacts`) and
//! user search at a provider (identifierQuery, as `mimi user find`).
//!
//! | Route | Does |
//! |---|---|
//! | `GET /api/contacts` | the user's policy, requests waiting, contacts, blocked, own requests |
//! | `POST /api/contacts/{accept,block,request}` | answer or make a request `{user}` |
//! | `GET /api/users?q=&provider=` | find users by handle, nick or name (`provider`: a domain) |
//! | `POST /api/dm` | open (or create) the direct-message room with `{user}`, as `mimi dm` |

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use mimi_sdk::Device;
use mimi_types::UserUri;
use serde::Deserialize;
use serde_json::json;

use super::api::{AppError, respond};
use super::views;
use super::worker::{Handle, Reply};

/// The JSON of a user's contacts, users shown as `user@domain`.
fn contacts_json(contacts: &mimi_sdk::Contacts) -> serde_json::Value {
    let short = |uri: &str| {
        UserUri::parse(uri)
            .map(|u| views::short_user(&u))
            .unwrap_or_else(|_| uri.to_owned())
    };
    json!({
        "policy": contacts.policy,
        "requests": contacts.requests.iter().map(|r| json!({
            "user": short(&r.user), "room": r.room, "received_ms": r.received_ms,
        })).collect::<Vec<_>>(),
        "contacts": contacts.contacts.iter().map(|c| json!({
            "user": short(&c.user), "rooms": c.rooms,
        })).collect::<Vec<_>>(),
        "blocked": contacts.blocked.iter().map(|u| short(u)).collect::<Vec<_>>(),
        "asked": contacts.asked.iter().map(|a| json!({
            "user": short(&a.user), "room": a.room, "status": a.status,
        })).collect::<Vec<_>>(),
    })
}

pub(crate) async fn contacts(State(worker): State<Handle>) -> Response {
    respond(
        worker
            .run(|w| {
                Box::pin(async move {
                    let contacts = w.device.contacts().await?;
                    Ok(Reply::Json(contacts_json(&contacts)))
                })
            })
            .await,
    )
}

#[derive(Deserialize)]
pub(crate) struct Someone {
    user: String,
}

fn someone(device: &Device, text: &str) -> Result<UserUri, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "name the person (user@domain)",
        ));
    }
    crate::client_cmd::users(device, &[text.to_owned()])?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::new(axum::http::StatusCode::BAD_REQUEST, "name the person"))
}

/// `POST /api/contacts/{action}`: `accept`, `block` or `request`.
pub(crate) async fn contact_action(
    State(worker): State<Handle>,
    Path(action): Path<String>,
    Json(body): Json<Someone>,
) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let user = someone(&w.device, &body.user)?;
                    let contacts = match action.as_str() {
                        "accept" => w.device.accept_contact(&user, None).await?,
                        "block" => w.device.block_contact(&user).await?,
                        "request" => w.device.request_consent(&user, None).await?,
                        other => {
                            return Err(AppError::new(
                                axum::http::StatusCode::NOT_FOUND,
                                format!(
                                    "no contact action {other:?}: use accept, block or request"
                                ),
                            ));
                        }
                    };
                    Ok(Reply::Json(contacts_json(&contacts)))
                })
            })
            .await,
    )
}

#[derive(Deserialize)]
pub(crate) struct Search {
    #[serde(default)]
    q: String,
    #[serde(default)]
    provider: Option<String>,
}

/// `GET /api/users?q=&provider=`.
pub(crate) async fn find(State(worker): State<Handle>, Query(search): Query<Search>) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let q = search.q.trim().to_owned();
                    if q.is_empty() {
                        return Err(AppError::new(
                            axum::http::StatusCode::BAD_REQUEST,
                            "type a handle, user id or name to look for",
                        ));
                    }
                    let provider = search
                        .provider
                        .as_deref()
                        .map(str::trim)
                        .filter(|p| !p.is_empty());
                    let found = w.device.find_users("any", &q, provider).await?;
                    let users: Vec<serde_json::Value> = found
                        .users
                        .iter()
                        .map(|u| {
                            let short = UserUri::parse(&u.user)
                                .map(|uri| views::short_user(&uri))
                                .unwrap_or_else(|_| u.user.clone());
                            json!({
                                "user": short,
                                "handle": u.handle,
                                "display_name": u.display_name,
                            })
                        })
                        .collect();
                    Ok(Reply::Json(json!({
                        "provider": found.provider,
                        "code": found.code,
                        "users": users,
                    })))
                })
            })
            .await,
    )
}

/// `POST /api/dm`: the direct-message room with `{user}`, opened or created (a stranger is
/// asked for consent instead, and the answer says so).
pub(crate) async fn direct(State(worker): State<Handle>, Json(body): Json<Someone>) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let user = someone(&w.device, &body.user)?;
                    let room = w.device.open_direct(&user).await?;
                    Ok(Reply::Json(json!({
                        "room": room.to_string(),
                        "with": views::short_user(&user),
                    })))
                })
            })
            .await,
    )
}
