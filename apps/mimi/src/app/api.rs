//! The app's JSON API: one route per thing the page does, each run on the device by the
//! worker. Rooms and messages are named by their URIs and hex message IDs (percent-encoded in
//! paths).
//!
//! | Route | Does |
//! |---|---|
//! | `GET /api/me` | who the app runs as, and the receipt settings |
//! | `GET /api/rooms`, `POST /api/rooms` | the room list; create a room `{name, preset?}` |
//! | `GET /api/rooms/{room}` | one room: members, roles, timeline, typing |
//! | `POST /api/rooms/{room}/messages` | send `{text, markdown?, reply_to?, expires_in_s?}` |
//! | `PUT`, `DELETE /api/rooms/{room}/messages/{id}` | edit `{text}`, delete |
//! | `POST /api/rooms/{room}/messages/{id}/reactions` | react `{reaction}` |
//! | `DELETE /api/rooms/{room}/reactions/{id}` | withdraw one's reaction (its own ID) |
//! | `POST /api/rooms/{room}/files?name=&type=` | send the body as an encrypted attachment |
//! | `GET /api/rooms/{room}/messages/{id}/attachments/{n}` | download and decrypt |
//! | `POST /api/rooms/{room}/read`, `/typing`, `/invite` | read receipt, typing `{active}`, invite `{users}` |
//! | `GET /api/live` | the WebSocket of live updates ([`super::live`]) |
//! | `/api/contacts…`, `/api/users`, `/api/dm` | contact requests, user search, direct messages ([`super::people`]) |

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, body::Bytes};
use mimi_content::MessageId;
use mimi_sdk::{Device, FileInfo, SdkError};
use mimi_types::RoomUri;
use serde::Deserialize;
use serde_json::json;

use super::guard::{self, Guard};
use super::worker::{Answer, Handle, Reply};
use super::{assets, live, people, views};

/// The largest attachment the page may upload through the app (the provider has its own
/// limit, which its refusal names).
const MAX_UPLOAD: usize = 100 * 1024 * 1024;

/// An API error: a status and a sentence that says what is wrong and what to do.
#[derive(Debug)]
pub(crate) struct AppError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl AppError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn stopped() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the app's device stopped: start `mimi app` again",
        )
    }
}

impl From<SdkError> for AppError {
    fn from(e: SdkError) -> Self {
        let status = match &e {
            _ if e.is_not_member() => StatusCode::FORBIDDEN,
            SdkError::Unreachable { .. }
            | SdkError::UntrustedServer { .. }
            | SdkError::Protocol { .. } => StatusCode::BAD_GATEWAY,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        Self::new(status, e.to_string())
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        Self::bad(format!("{e:#}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.message}))).into_response()
    }
}

pub(crate) fn respond(answer: Answer) -> Response {
    match answer {
        Ok(Reply::Json(value)) => Json(value).into_response(),
        Ok(Reply::File { bytes, filename }) => {
            // Never rendered by the browser as a page of this origin: a download, sandboxed.
            let mut response = bytes.into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("sandbox"),
            );
            let encoded: String = filename
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            if let Ok(value) =
                HeaderValue::from_str(&format!("attachment; filename*=UTF-8''{encoded}"))
            {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(e) => e.into_response(),
    }
}

/// The web app: the page, its API and live updates, behind the guard.
pub(crate) fn router(worker: Handle, guard: Guard) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/app.js", get(assets::script))
        .route("/app.css", get(assets::style))
        .route("/api/me", get(me))
        .route("/api/rooms", get(rooms).post(create_room))
        .route("/api/rooms/{room}", get(room))
        .route("/api/rooms/{room}/messages", post(send))
        .route("/api/rooms/{room}/messages/{id}", put(edit).delete(remove))
        .route("/api/rooms/{room}/messages/{id}/reactions", post(react))
        .route("/api/rooms/{room}/reactions/{id}", delete(unreact))
        .route(
            "/api/rooms/{room}/messages/{id}/attachments/{index}",
            get(download),
        )
        .route(
            "/api/rooms/{room}/files",
            post(upload).layer(DefaultBodyLimit::max(MAX_UPLOAD)),
        )
        .route("/api/rooms/{room}/read", post(read))
        .route("/api/rooms/{room}/typing", post(typing))
        .route("/api/rooms/{room}/invite", post(invite))
        .route("/api/contacts", get(people::contacts))
        .route("/api/contacts/{action}", post(people::contact_action))
        .route("/api/users", get(people::find))
        .route("/api/dm", post(people::direct))
        .route(live::PATH, get(live::upgrade))
        .fallback(not_found)
        .with_state(worker)
        .layer(axum::middleware::from_fn_with_state(guard, guard::check))
}

async fn not_found() -> Response {
    AppError::new(
        StatusCode::NOT_FOUND,
        "no such page or route: the app's routes are under /api (see `mimi app --help`)",
    )
    .into_response()
}

/// The room `text` names (a URI), if this device knows it.
fn room_of(device: &Device, text: &str) -> Result<RoomUri, AppError> {
    let room = RoomUri::parse(text)
        .map_err(|e| AppError::bad(format!("{text:?} is not a room URI: {e}")))?;
    device.history(&room)?;
    Ok(room)
}

/// A message ID in hex.
fn message_id(text: &str) -> Result<MessageId, AppError> {
    let bad = || AppError::bad(format!("{text:?} is not a message ID (64 hex digits)"));
    if text.len() != 64 || !text.is_ascii() {
        return Err(bad());
    }
    let mut id = [0u8; 32];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(MessageId(id))
}

fn sent(id: MessageId) -> Answer {
    Ok(Reply::Json(json!({"id": id.to_string()})))
}

async fn me(State(worker): State<Handle>) -> Response {
    respond(
        worker
            .run(|w| {
                Box::pin(async move {
                    let d = &w.device;
                    Ok(Reply::Json(json!({
                        "user": views::short_user(d.user()),
                        "uri": d.user().to_string(),
                        "device": d.client_uri().to_string(),
                        "read_receipts": d.read_receipts(),
                        "delivery_reports": d.delivery_reports(),
                    })))
                })
            })
            .await,
    )
}

async fn rooms(State(worker): State<Handle>) -> Response {
    respond(
        worker
            .run(|w| {
                Box::pin(async move {
                    let d = &w.device;
                    Ok(Reply::Json(views::rooms(&d.rooms(), d.user(), &w.seen)))
                })
            })
            .await,
    )
}

#[derive(Deserialize)]
struct CreateRoom {
    name: String,
    #[serde(default)]
    preset: Option<String>,
}

/// A room identifier made of a display name: lowercase letters, digits and dashes.
fn room_id(name: &str) -> String {
    let mut id = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            id.push(c);
        } else if !id.ends_with('-') {
            id.push('-');
        }
    }
    id.trim_matches('-').to_owned()
}

async fn create_room(State(worker): State<Handle>, Json(body): Json<CreateRoom>) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let name = body.name.trim().to_owned();
                    let id = room_id(&name);
                    if id.is_empty() {
                        return Err(AppError::bad(
                            "give the room a name with at least one letter or digit",
                        ));
                    }
                    let preset =
                        crate::client_cmd::preset(body.preset.as_deref().unwrap_or("cooperative"))?;
                    let room = w.device.room_uri(&id)?;
                    if w.device.history(&room).is_ok() {
                        return Err(AppError::new(
                            StatusCode::CONFLICT,
                            format!("you have a room {room} already: pick another name"),
                        ));
                    }
                    w.device.create_room(&room, preset).await?;
                    if name != id {
                        w.device.rename(&room, &name).await?;
                    }
                    Ok(Reply::Json(json!({"room": room.to_string()})))
                })
            })
            .await,
    )
}

async fn room(State(worker): State<Handle>, Path(room): Path<String>) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let r = room_of(&w.device, &room)?;
                    let typing = w.typing_in(&r);
                    let view = w.device.history(&r)?;
                    Ok(Reply::Json(views::room(view, w.device.user(), typing)))
                })
            })
            .await,
    )
}

#[derive(Deserialize)]
struct Send {
    text: String,
    #[serde(default)]
    markdown: bool,
    #[serde(default)]
    reply_to: Option<String>,
    #[serde(default)]
    expires_in_s: Option<u32>,
}

async fn send(
    State(worker): State<Handle>,
    Path(room): Path<String>,
    Json(body): Json<Send>,
) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let r = room_of(&w.device, &room)?;
                    if body.text.trim().is_empty() {
                        return Err(AppError::bad("the message is empty: write something first"));
                    }
                    let id = match (&body.reply_to, body.expires_in_s) {
                        (Some(to), None) => w.device.reply(&r, message_id(to)?, &body.text).await?,
                        (None, Some(seconds)) => {
                            let at = views::now_s().saturating_add(u64::from(seconds));
                            let at = u32::try_from(at).map_err(|_| {
                                AppError::bad("that expiry is too far away: pick a shorter one")
                            })?;
                            w.device.send_expiring(&r, &body.text, at).await?
                        }
                        (Some(_), Some(_)) => {
                            return Err(AppError::bad(
                                "a reply cannot expire here: send it without an expiry",
                            ));
                        }
                        (None, None) if body.markdown => {
                            w.device.send_markdown(&r, &body.text).await?
                        }
                        (None, None) => w.device.send_text(&r, &body.text).await?,
                    };
                    sent(id)
                })
            })
            .await,
    )
}

#[derive(Deserialize)]
struct Edit {
    text: String,
}

async fn edit(
    State(worker): State<Handle>,
    Path((room, id)): Path<(String, String)>,
    Json(body): Json<Edit>,
) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let r = room_of(&w.device, &room)?;
                    let id = w.device.edit(&r, message_id(&id)?, &body.text).await?;
                    sent(id)
                })
            })
            .await,
    )
}

async fn remove(
    State(worker): State<Handle>,
    Path((room, id)): Path<(String, String)>,
) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let r = room_of(&w.device, &room)?;
                    let id = w.device.delete(&r, message_id(&id)?).await?;
                    sent(id)
                })
            })
            .await,
    )
}

#[derive(Deserialize)]
struct React {
    reaction: String,
}

async fn react(
    State(worker): State<Handle>,
    Path((room, id)): Path<(String, String)>,
    Json(body): Json<React>,
) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let r = room_of(&w.device, &room)?;
                    if body.reaction.trim().is_empty() {
                        return Err(AppError::bad("pick a reaction (e.g. 👍)"));
                    }
                    let id = w.device.react(&r, message_id(&id)?, &body.reaction).await?;
                    sent(id)
                })
            })
            .await,
    )
}

async fn unreact(
    State(worker): State<Handle>,
    Path((room, id)): Path<(String, String)>,
) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let r = room_of(&w.device, &room)?;
                    let id = w.device.unreact(&r, message_id(&id)?).await?;
                    sent(id)
                })
            })
            .await,
    )
}

#[derive(Deserialize)]
struct UploadQuery {
    name: String,
    #[serde(default, rename = "type")]
    content_type: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

async fn upload(
    State(worker): State<Handle>,
    Path(room): Path<String>,
    Query(query): Query<UploadQuery>,
    bytes: Bytes,
) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let r = room_of(&w.device, &room)?;
                    let info = FileInfo {
                        filename: query.name,
                        content_type: query
                            .content_type
                            .filter(|t| !t.is_empty())
                            .unwrap_or_else(|| "application/octet-stream".into()),
                        description: query.description.unwrap_or_default(),
                    };
                    let id = w.device.send_file(&r, &bytes, &info).await?;
                    sent(id)
                })
            })
            .await,
    )
}

async fn download(
    State(worker): State<Handle>,
    Path((room, id, index)): Path<(String, String, usize)>,
) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let r = room_of(&w.device, &room)?;
                    let id = message_id(&id)?;
                    let filename = w
                        .device
                        .history(&r)?
                        .message(&id)
                        .and_then(|m| m.body.attachments.get(index))
                        .map(|a| a.filename.clone())
                        .ok_or_else(|| {
                            AppError::new(
                                StatusCode::NOT_FOUND,
                                format!("message {id} has no attachment {index}"),
                            )
                        })?;
                    let bytes = w.device.download(&r, id, index).await?;
                    Ok(Reply::File {
                        bytes: bytes.to_vec(),
                        filename,
                    })
                })
            })
            .await,
    )
}

async fn read(State(worker): State<Handle>, Path(room): Path<String>) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let r = room_of(&w.device, &room)?;
                    let unread = w.device.history(&r)?.unread_from_others();
                    let count = w.device.mark_read(&r).await?;
                    w.seen.entry(r).or_default().extend(unread);
                    Ok(Reply::Json(json!({"messages": count})))
                })
            })
            .await,
    )
}

#[derive(Deserialize)]
struct Typing {
    active: bool,
}

async fn typing(
    State(worker): State<Handle>,
    Path(room): Path<String>,
    Json(body): Json<Typing>,
) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let r = room_of(&w.device, &room)?;
                    w.device.typing(&r, body.active).await?;
                    Ok(Reply::Json(json!({})))
                })
            })
            .await,
    )
}

#[derive(Deserialize)]
struct Invite {
    users: Vec<String>,
}

async fn invite(
    State(worker): State<Handle>,
    Path(room): Path<String>,
    Json(body): Json<Invite>,
) -> Response {
    respond(
        worker
            .run(move |w| {
                Box::pin(async move {
                    let r = room_of(&w.device, &room)?;
                    let texts: Vec<String> = body
                        .users
                        .iter()
                        .map(|u| u.trim().to_owned())
                        .filter(|u| !u.is_empty())
                        .collect();
                    if texts.is_empty() {
                        return Err(AppError::bad("name someone to invite (user@domain)"));
                    }
                    let users = crate::client_cmd::users(&w.device, &texts)?;
                    w.device.invite(&r, &users).await?;
                    Ok(Reply::Json(json!({
                        "invited": users.iter().map(views::short_user).collect::<Vec<_>>(),
                    })))
                })
            })
            .await,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_ids_are_made_of_names() {
        assert_eq!(room_id("Book club"), "book-club");
        assert_eq!(room_id("  Über  Café!! "), "ber-caf");
        assert_eq!(room_id("🙂"), "");
    }

    #[test]
    fn message_ids_are_64_hex_digits() {
        let id = "ab".repeat(32);
        assert_eq!(message_id(&id).unwrap().to_string(), id);
        assert_eq!(
            message_id("abcd").unwrap_err().status,
            StatusCode::BAD_REQUEST
        );
        assert!(message_id(&"zz".repeat(32)).is_err());
        assert!(message_id(&"é".repeat(32)).is_err());
    }
}
