//! The client API routes (see `mimi-client-api` for the bodies and the OpenAPI document).
//!
//! A request for a room hosted elsewhere is forwarded to its hub over mutual TLS and the hub's
//! answer returned as is.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use mimi_client_api::{
    AccountRegistered, CreateRoom, DeviceKind, DeviceRegistered, ErrorCode, Event, EventsQuery,
    EventsResponse, ExternalJoinInfo, GroupInfoFetch, HubAnswer, KeyMaterialFetch,
    KeyPackagesStored, OPENAPI_JSON, RegisterAccount, RegisterDevice, ReissueDevice, RoomCreated,
    RoomList, SubmitMessage, SubmitUpdate, UploadKeyPackages, routes,
};
use mimi_ds::DsStore as _;
use mimi_ds::follower::VerifiedKeyMaterialRequest;
use mimi_federation_api::decode_exact;
use mimi_federation_api::group_info::GroupInfoRequest;
use mimi_federation_api::http::{GROUP_INFO, KEY_MATERIAL, SUBMIT_MESSAGE, UPDATE};
use mimi_federation_api::key_material::KeyMaterialRequest;
use mimi_federation_api::path::user_from_path;
use mimi_federation_api::submit_message::SubmitMessageRequest;
use mimi_mls::{ClientKind, Validity};
use mimi_types::{ClientUri, Ident, MimiUri, RoomUri, UserUri};

use crate::accounts::Created;
use crate::auth_limits::Limited;
use crate::client_http::{authenticate, bearer, error_response, json, reply, room_param, user_of};
use crate::device_wake::DeviceWake;
use crate::error::ServerError;
use crate::error::bad_request;
use crate::provider::Provider;

/// Events returned by one feed request at most.
const MAX_EVENTS: usize = 500;

/// After pushing a page with an event larger than this, an event stream is closed (the client
/// opens it again from its cursor): a WebSocket keeps buffers the size of the largest message
/// it carried for as long as it lives, so many idle devices that once received, say, the
/// Welcome of a large room would hold half a megabyte each, on both sides.
const LARGE_EVENT_BYTES: usize = 128 * 1024;

/// The largest client API request body (JSON) for a provider whose largest federation request
/// body is `max_body_bytes`: a device's request carries a federation body (a commit bundle with
/// its GroupInfo and the room's whole ratchet tree, ≈ 300 bytes per member) in base64, 4/3 of its
/// size, plus the JSON around it. Without it axum's default of 2 MiB applied, so adding one user
/// to a room of about 5,000 members was refused with 413 before the hub saw the commit.
pub(crate) fn client_body_limit(max_body_bytes: usize) -> usize {
    max_body_bytes
        .saturating_add(2)
        .saturating_div(3)
        .saturating_mul(4)
        .saturating_add(64 * 1024)
}

/// The client API router.
pub(crate) fn router(provider: Arc<Provider>) -> Router {
    let body_limit = client_body_limit(provider.limits.max_body_bytes);
    Router::new()
        .route(routes::REGISTER_ACCOUNT.path, post(register_account))
        .route(
            routes::REGISTER_DEVICE.path,
            post(register_device).get(crate::devices::list),
        )
        .route(routes::REMOVE_DEVICE.path, delete(crate::devices::remove))
        .route(routes::REISSUE_DEVICE.path, post(reissue_device))
        .route(routes::UPLOAD_KEY_PACKAGES.path, post(upload_key_packages))
        .route(routes::CREATE_ROOM.path, post(create_room).get(list_rooms))
        .route(routes::ROOM_DIRECTORY.path, get(crate::directory::list))
        .route(routes::KEY_MATERIAL.path, post(key_material))
        .route(routes::UPDATE.path, post(update))
        .route(routes::MESSAGES.path, post(messages))
        .route(routes::TYPING.path, post(crate::typing::client_route))
        .route(routes::EXTERNAL_JOIN.path, get(external_join))
        .route(routes::GROUP_INFO.path, post(group_info))
        .route(
            routes::REPORT_ABUSE.path,
            post(crate::report_abuse::client_route),
        )
        .route(routes::EVENTS.path, get(events))
        .route(routes::EVENTS_WS.path, get(events_ws))
        // The upload reads its own body, within limits.max_blob_bytes, after the token.
        .route(routes::UPLOAD_BLOB.path, post(crate::blobs::upload))
        .route(routes::ASSETS.path, get(crate::assets::client_download))
        .route(
            routes::PROFILE.path,
            get(crate::discovery::get_profile).put(crate::discovery::set_profile),
        )
        .route(routes::FIND_USERS.path, post(crate::discovery::find_users))
        .merge(crate::contacts::routes())
        .route(routes::MAILBOX_SEND.path, post(crate::mailbox::send))
        .route(routes::MAILBOX.path, get(crate::mailbox::list))
        .route(routes::MAILBOX_DELETE.path, delete(crate::mailbox::delete))
        .route(routes::OPENAPI.path, get(openapi))
        .route(
            crate::metrics_route::PATH,
            get(crate::metrics_route::scrape),
        )
        .route(crate::health::PATH, get(crate::health::check))
        .route_layer(axum::middleware::from_fn_with_state(
            provider.clone(),
            crate::metrics_route::count_requests,
        ))
        // Bodies read whole (`Bytes`) are capped here; the blob upload streams its own.
        .layer(DefaultBodyLimit::max(body_limit))
        .fallback(not_found)
        .with_state(provider)
}

/// Any path without a route: 404, counted in the metrics as route `unmatched`.
async fn not_found(State(provider): State<Arc<Provider>>) -> Response {
    provider.metrics.request("unmatched", 404);
    error_response(&ServerError::api(
        ErrorCode::NotFound,
        "no such route; the routes are listed in /openapi.json",
    ))
}

fn ident(field: &str, value: &str) -> Result<Ident, ServerError> {
    Ident::parse(value).map_err(|e| {
        ServerError::api(
            ErrorCode::BadRequest,
            format!("{field} {value:?} is not a valid identifier: {e}"),
        )
    })
}

/// The user an account name names here, in canonical form ([`Ident::canonical`]: `ALICE`
/// and `%61lice` are `alice`), for registration and login alike.
fn account(provider: &Provider, user_id: &str) -> Result<UserUri, ServerError> {
    Ok(UserUri::new(
        provider.domain.clone(),
        ident("user_id", user_id)?.canonical(),
    ))
}

/// Counts a registration or login attempt for `user` from `source`, or refuses it (429 with
/// `Retry-After`) before any password hash runs.
fn auth_attempt(
    provider: &Provider,
    user: &UserUri,
    source: SocketAddr,
) -> Result<(), ServerError> {
    let limited = match provider.client.auth_limits.lock() {
        Ok(mut limits) => limits.attempt(&user.to_string(), source.ip(), Instant::now()),
        Err(poisoned) => {
            poisoned
                .into_inner()
                .attempt(&user.to_string(), source.ip(), Instant::now())
        }
    };
    limited.map_err(|limited| {
        provider.metrics.auth_rate_limited(limited.kind());
        let what = match limited {
            Limited::Account(_) => format!("too many registration or login attempts for {user}"),
            Limited::Source(_) => "too many registration or login attempts from your address".into(),
        };
        tracing::info!(%user, source = %source.ip(), kind = limited.kind(), "registration or login rate-limited");
        ServerError::RateLimited {
            what,
            retry_after: limited.retry_after(),
        }
    })
}

async fn register_account(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(source): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let result = async {
        let request: RegisterAccount = json(&body)?;
        let user = account(&provider, &request.user_id)?;
        // Names starting with `_` are the provider's service users (the hub's policy
        // enforcer, `mimi_room::presets::HUB_SERVICE_USER`), never a person's.
        if request.user_id.starts_with('_') {
            return Err(ServerError::api(
                ErrorCode::BadRequest,
                format!(
                    "user ids starting with '_' are reserved for the provider's services; \
                     choose another than {:?}",
                    request.user_id
                ),
            ));
        }
        if request.password.chars().count() < 8 {
            return Err(ServerError::api(
                ErrorCode::BadRequest,
                "the password is too short: use at least 8 characters",
            ));
        }
        auth_attempt(&provider, &user, source)?;
        // Hashed whether or not the name is free: the answer's timing says nothing more.
        let hash = provider.client.passwords.hash(&request.password).await?;
        match provider.accounts.add_user(&user, &hash).await? {
            Created::Exists => Err(ServerError::api(
                ErrorCode::AlreadyExists,
                format!("{user} exists already; choose another user id"),
            )),
            _ => Ok(AccountRegistered {
                user: user.to_string(),
            }),
        }
    }
    .await;
    reply(StatusCode::CREATED, result)
}

async fn register_device(
    State(provider): State<Arc<Provider>>,
    ConnectInfo(source): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let result = async {
        let request: RegisterDevice = json(&body)?;
        let user = account(&provider, &request.user_id)?;
        auth_attempt(&provider, &user, source)?;
        // An unknown user's password is checked against a dummy hash: the same work.
        let stored = provider.accounts.password_hash(&user).await?;
        let passwords = &provider.client.passwords;
        if !passwords.verify(&request.password, stored.clone()).await? {
            return Err(ServerError::api(
                ErrorCode::WrongPassword,
                "wrong user id or password; check both and retry",
            ));
        }
        // A password stored at another cost than new hashes get is hashed again now, so every
        // stored hash comes to cost what the unknown-user dummy costs (a login's timing then
        // says nothing about when the account was made).
        if let Some(stored) = stored.filter(|s| passwords.is_stale(s)) {
            let fresh = passwords.hash(&request.password).await?;
            provider
                .accounts
                .replace_password_hash(&user, &stored, &fresh)
                .await?;
        }
        let client = ClientUri::of_user(&user, ident("device_id", &request.device_id)?);
        let now_s = Provider::now_ms() / 1000;
        let days = provider.limits.device_credential_days;
        let validity = Validity::starting(now_s.saturating_sub(3600), days * 24 * 3600);
        let kind = match &request.kind {
            None => ClientKind::Person,
            Some(DeviceKind::Bot { name, homepage }) => ClientKind::Bot {
                name: name.clone(),
                homepage: homepage.clone(),
            },
            Some(DeviceKind::Logger) => ClientKind::Logger,
        };
        let credential = provider
            .ca
            .issue_client_as(&client, &user, &kind, &request.signature_key, validity)
            .map_err(|e| {
                ServerError::api(
                    ErrorCode::BadRequest,
                    format!("cannot certify the signature key: {e}"),
                )
            })?;
        let token = provider
            .accounts
            .add_device(&user, &client, &kind)
            .await?
            .ok_or_else(|| {
                ServerError::api(
                    ErrorCode::AlreadyExists,
                    format!("{client} is registered already; choose another device id"),
                )
            })?;
        Ok(DeviceRegistered {
            client: client.to_string(),
            user: user.to_string(),
            token,
            credential: credential.chain().to_vec(),
            trust_bundle: provider.trust_bundle.clone(),
            server_signature_key: provider.server.signing_key().public().to_vec(),
            server_credential: provider.server.credential().chain().to_vec(),
        })
    }
    .await;
    reply(StatusCode::CREATED, result)
}

/// A fresh credential for the calling device (a stored credential in a refused old layout),
/// marked as the device was registered (a bot or a logger stays one): its old KeyPackages
/// name a key it no longer has, so they are removed.
async fn reissue_device(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let client = authenticate(&provider.accounts, &headers).await?;
        let user = user_of(&client)?;
        let request: ReissueDevice = json(&body)?;
        let now_s = Provider::now_ms() / 1000;
        let days = provider.limits.device_credential_days;
        let validity = Validity::starting(now_s.saturating_sub(3600), days * 24 * 3600);
        // The same marker as before: a bot stays that bot, a logger a logger.
        let kind = provider.accounts.device_kind(&client).await?;
        let credential = provider
            .ca
            .issue_client_as(&client, &user, &kind, &request.signature_key, validity)
            .map_err(|e| {
                ServerError::api(
                    ErrorCode::BadRequest,
                    format!("cannot certify the signature key: {e}"),
                )
            })?;
        let removed = provider.store.remove_key_packages(&client).await?;
        tracing::info!(%client, removed, "device credential re-issued; its KeyPackages removed");
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_owned();
        Ok(DeviceRegistered {
            client: client.to_string(),
            user: user.to_string(),
            token,
            credential: credential.chain().to_vec(),
            trust_bundle: provider.trust_bundle.clone(),
            server_signature_key: provider.server.signing_key().public().to_vec(),
            server_credential: provider.server.credential().chain().to_vec(),
        })
    }
    .await;
    reply(StatusCode::OK, result)
}

async fn upload_key_packages(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let device = authenticate(&provider.accounts, &headers).await?;
        let request: UploadKeyPackages = json(&body)?;
        let (stored, fresh) = provider
            .store_key_packages(&device, &request.key_packages)
            .await?;
        Ok(KeyPackagesStored { stored, fresh })
    }
    .await;
    reply(StatusCode::OK, result)
}

async fn create_room(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        authenticate(&provider.accounts, &headers).await?;
        let request: CreateRoom = json(&body)?;
        let room = RoomUri::parse(&request.room).map_err(|e| {
            ServerError::api(
                ErrorCode::BadRequest,
                format!("{:?} is not a room URI: {e}", request.room),
            )
        })?;
        let epoch = provider
            .create_room(&room, &request.group_info, &request.ratchet_tree)
            .await?;
        // The creator's device is in the tree it sent: it is the room's first member here.
        provider.start_members(&room, &request.ratchet_tree).await?;
        Ok(RoomCreated {
            room: room.to_string(),
            epoch,
        })
    }
    .await;
    reply(StatusCode::CREATED, result)
}

async fn list_rooms(State(provider): State<Arc<Provider>>, headers: HeaderMap) -> Response {
    let result = async {
        let device = authenticate(&provider.accounts, &headers).await?;
        let rooms = provider.accounts.rooms_of(&device).await?;
        Ok(RoomList {
            rooms: rooms.iter().map(ToString::to_string).collect(),
        })
    }
    .await;
    reply(StatusCode::OK, result)
}

async fn key_material(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Path((room, user)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let result = async {
        let device = authenticate(&provider.accounts, &headers).await?;
        let room = room_param(&room)?;
        let target = user_from_path(&user).map_err(|e| bad_request("the user in the path", e))?;
        let fetch: KeyMaterialFetch = json(&body)?;
        let request: KeyMaterialRequest =
            decode_exact(&fetch.request).map_err(|e| bad_request("KeyMaterialRequest", e))?;
        let verified =
            VerifiedKeyMaterialRequest::verify(&request, &provider.mls_trust, Provider::now_ms())?;
        let requester = verified.requester();
        if *requester != user_of(&device)? {
            return Err(ServerError::api(
                ErrorCode::Forbidden,
                format!("the request is signed for {requester}, not for your user"),
            ));
        }
        let named_room = request.tbs.room().map(|r| r.to_room()).transpose();
        let named_target = request.tbs.target_user.to_user();
        if !matches!(named_room, Ok(Some(ref r)) if *r == room)
            || !matches!(named_target, Ok(ref t) if *t == target)
        {
            return Err(ServerError::api(
                ErrorCode::BadRequest,
                "the request names another room or user than the path",
            ));
        }
        let response = if room.hub_domain() == &provider.domain {
            let us = provider.domain.clone();
            provider
                .key_material_via_hub(&us, &room, &fetch.request, &verified, &target)
                .await?
        } else {
            provider
                .post_to_peer(room.hub_domain(), &KEY_MATERIAL, &target, fetch.request)
                .await?
        };
        Ok(HubAnswer { response })
    }
    .await;
    reply(StatusCode::OK, result)
}

async fn update(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Path(room): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let device = authenticate(&provider.accounts, &headers).await?;
        let room = room_param(&room)?;
        let request: SubmitUpdate = json(&body)?;
        // An external join makes the device a member only once the hub fans its commit out
        // (the follower inbox decides, in hub order); nothing is granted here.
        let response = if room.hub_domain() == &provider.domain {
            let us = provider.domain.clone();
            provider
                .hub_update(&us, &room, &request.request, Some(&device))
                .await?
        } else {
            provider
                .post_to_peer(room.hub_domain(), &UPDATE, &room, request.request)
                .await?
        };
        Ok(HubAnswer { response })
    }
    .await;
    reply(StatusCode::OK, result)
}

async fn messages(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Path(room): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let device = authenticate(&provider.accounts, &headers).await?;
        let room = room_param(&room)?;
        let request: SubmitMessage = json(&body)?;
        let submit: SubmitMessageRequest =
            decode_exact(&request.request).map_err(|e| bad_request("SubmitMessageRequest", e))?;
        let sender = match submit.sending_uri.parse() {
            Ok(MimiUri::User(user)) => Some(user),
            Ok(MimiUri::Client(client)) => client.user_hint(),
            _ => None,
        };
        if sender != Some(user_of(&device)?) {
            return Err(ServerError::api(
                ErrorCode::Forbidden,
                "sendingUri must be your own user URI",
            ));
        }
        let response = if room.hub_domain() == &provider.domain {
            let us = provider.domain.clone();
            provider.hub_submit(&us, &room, &request.request).await?
        } else {
            provider
                .post_to_peer(room.hub_domain(), &SUBMIT_MESSAGE, &room, request.request)
                .await?
        };
        Ok(HubAnswer { response })
    }
    .await;
    reply(StatusCode::OK, result)
}

async fn external_join(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Path(room): Path<String>,
) -> Response {
    let result = async {
        let device = authenticate(&provider.accounts, &headers).await?;
        let room = room_param(&room)?;
        if room.hub_domain() != &provider.domain {
            return Err(ServerError::api(
                ErrorCode::NotFound,
                format!(
                    "external joins are served for rooms hosted here only for now; {room} is hosted by {}",
                    room.hub_domain()
                ),
            ));
        }
        let info = provider.join_info(&room, &user_of(&device)?).await?;
        Ok(ExternalJoinInfo {
            group_info: info.group_info,
            ratchet_tree: info.ratchet_tree,
            pending_proposals: info.pending,
        })
    }
    .await;
    reply(StatusCode::OK, result)
}

async fn group_info(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Path(room): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let device = authenticate(&provider.accounts, &headers).await?;
        let room = room_param(&room)?;
        let fetch: GroupInfoFetch = json(&body)?;
        let request: GroupInfoRequest =
            decode_exact(&fetch.request).map_err(|e| bad_request("GroupInfoRequest", e))?;
        // The request must carry this device's own credential.
        let named = mimi_mls::verify_credential(
            request.tbs.requesting_credential.as_bytes(),
            request.tbs.requesting_signature_key.as_bytes(),
            &provider.mls_trust,
            Provider::now_ms() / 1000,
        );
        if !matches!(named, Ok(mimi_mls::VerifiedIdentity::Client { ref client, .. }) if *client == device)
        {
            return Err(ServerError::api(
                ErrorCode::Forbidden,
                "the GroupInfo request must carry your own device's credential",
            ));
        }
        let response = if room.hub_domain() == &provider.domain {
            let us = provider.domain.clone();
            provider.hub_group_info(&us, &room, &fetch.request).await?
        } else {
            provider
                .post_to_peer(room.hub_domain(), &GROUP_INFO, &room, fetch.request)
                .await?
        };
        Ok(HubAnswer { response })
    }
    .await;
    reply(StatusCode::OK, result)
}

async fn events(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
) -> Response {
    let result = async {
        let device = authenticate(&provider.accounts, &headers).await?;
        let token = bearer(&headers).unwrap_or_default();
        let wait = Duration::from_millis(query.wait_ms.min(provider.limits.max_wait_ms));
        let wakeup = stream_wakeup(&provider, &headers, &device).await?;
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = wakeup.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let waiting = tokio::time::Instant::now() < deadline;
            // The store is read once more when the wait ends, whatever the wake-ups say.
            let stored = if waiting {
                events_after(&provider, &device, &wakeup, query.after).await?
            } else {
                read_events(&provider, &device, &wakeup, query.after).await?
            };
            // A removal that began is waited for, within the poll's wait: if it runs past
            // that, the poll answers with nothing (what was read is read again next time).
            match tokio::time::timeout_at(deadline, wakeup.removed()).await {
                Ok(true) => return Err(removed(&device)),
                Ok(false) => {}
                Err(_) => {
                    return Ok(EventsResponse {
                        events: Vec::new(),
                        next: query.after,
                    });
                }
            }
            if !stored.is_empty() || !waiting {
                if !stored.is_empty() && !is_registered(&provider, &device, token, &wakeup).await? {
                    return Err(removed(&device));
                }
                let next = stored.last().map_or(query.after, |e| e.seq);
                let events = stored
                    .into_iter()
                    .map(|e| Event {
                        seq: e.seq,
                        room: e.room.to_string(),
                        payload: e.payload,
                        ephemeral: false,
                    })
                    .collect();
                return Ok(EventsResponse { events, next });
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }
    .await;
    reply(StatusCode::OK, result)
}

async fn events_ws(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Query(query): Query<EventsQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let opened = async {
        let device = authenticate(&provider.accounts, &headers).await?;
        let wakeup = stream_wakeup(&provider, &headers, &device).await?;
        Ok::<_, ServerError>((device, wakeup))
    };
    let token = bearer(&headers).unwrap_or_default().to_owned();
    match opened.await {
        Ok((device, wakeup)) => upgrade.on_upgrade(move |socket| {
            let stream = Stream {
                provider,
                device,
                token,
                wakeup,
            };
            stream_events(stream, query.after, socket)
        }),
        Err(e) => error_response(&e),
    }
}

/// The WebSocket close code of a stream whose device was removed (private use range: 4000 +
/// the HTTP status its requests now get).
pub(crate) const REMOVED_CLOSE_CODE: u16 = 4401;

/// The refusal of a removed device's stream.
fn removed(device: &ClientUri) -> ServerError {
    ServerError::api(
        ErrorCode::Unauthorized,
        format!(
            "{device} was removed: its event streams end and its token no longer works; \
             register the device again"
        ),
    )
}

/// `device`'s wake-up, held for a stream, once `headers` are found valid again: a removal
/// that began before it was taken either marked it (the stream waits for the removal to end,
/// and ends if it was done) or has deleted the device's row, and then the token fails here.
/// (Where this process owns the accounts, the token cache answers this second look.)
async fn stream_wakeup(
    provider: &Provider,
    headers: &HeaderMap,
    device: &ClientUri,
) -> Result<Arc<DeviceWake>, ServerError> {
    let wakeup = provider.device_wakeup(device);
    if authenticate(&provider.accounts, headers).await? != *device {
        return Err(removed(device));
    }
    match tokio::time::timeout(REMOVAL_WAIT, wakeup.removed()).await {
        Ok(false) => Ok(wakeup),
        Ok(true) => Err(removed(device)),
        // The removal outlasted the wait (a slow database): the client tries again later.
        Err(_) => Err(ServerError::RateLimited {
            what: format!("{device} is being removed"),
            retry_after: REMOVAL_WAIT,
        }),
    }
}

/// Whether `device`, authenticated by `token`, is still registered: ask after reading a
/// page of its events and before handing it out. A removal by this process marked its
/// wake-up before deleting the device's row (waited for here); one by another process
/// sharing the accounts (PostgreSQL) is read there, by the stream's own token.
async fn is_registered(
    provider: &Provider,
    device: &ClientUri,
    token: &str,
    wakeup: &DeviceWake,
) -> Result<bool, ServerError> {
    Ok(!wakeup.removed().await && !provider.accounts.revoked_elsewhere(token, device).await?)
}

/// A WebSocket event stream: the device, the token it opened with, its wake-up.
struct Stream {
    provider: Arc<Provider>,
    device: ClientUri,
    token: String,
    wakeup: Arc<DeviceWake>,
}

impl Stream {
    /// Whether the stream goes on ([`is_registered`]); if not, it was closed (the device was
    /// removed) or must be (the check failed: the client opens it again).
    async fn may_go_on(&self, socket: &mut WebSocket) -> bool {
        let Self {
            provider,
            device,
            token,
            wakeup,
        } = self;
        match is_registered(provider, device, token, wakeup).await {
            Ok(true) => true,
            Ok(false) => {
                close_removed(socket, device).await;
                false
            }
            Err(e) => {
                tracing::error!(%device, error = %e, "checking the device failed; closing the stream");
                false
            }
        }
    }
}

/// Closes a removed device's stream with [`REMOVED_CLOSE_CODE`] and the reason.
async fn close_removed(socket: &mut WebSocket, device: &ClientUri) {
    tracing::info!(%device, "the device was removed; closing its event stream");
    let frame = axum::extract::ws::CloseFrame {
        code: REMOVED_CLOSE_CODE,
        reason: "this device was removed; register it again".into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// The device's stored events after `after` (a page of at most [`MAX_EVENTS`]), noting in
/// its wake-up when the page held everything there was.
async fn read_events(
    provider: &Provider,
    device: &ClientUri,
    wakeup: &DeviceWake,
    after: u64,
) -> Result<Vec<mimi_ds::DeviceEvent>, ServerError> {
    let count = wakeup.count();
    let stored = provider
        .store
        .device_events(device, after, MAX_EVENTS)
        .await?;
    if stored.len() < MAX_EVENTS {
        wakeup.drained(stored.last().map_or(after, |e| e.seq), count);
    }
    Ok(stored)
}

/// [`read_events`], except that right after a read that found nothing after `after`, with
/// nothing woken since (a client asking again at once after a page that held everything), the
/// store is not read: nothing was stored since.
async fn events_after(
    provider: &Provider,
    device: &ClientUri,
    wakeup: &DeviceWake,
    after: u64,
) -> Result<Vec<mimi_ds::DeviceEvent>, ServerError> {
    if wakeup.is_drained(after) {
        return Ok(Vec::new());
    }
    read_events(provider, device, wakeup, after).await
}

/// How long a stream that opens waits for a removal of its device that is running.
const REMOVAL_WAIT: Duration = Duration::from_secs(5);

/// The interval of a WebSocket stream's keep-alive pings (and of its checks that the device
/// is still registered, and of its reads of the store whatever the wake-ups say).
const KEEP_ALIVE: Duration = Duration::from_secs(25);

/// Pushes the device's events after `after` as they are stored, and its ephemeral events
/// (typing indicators) as they are relayed, until the client goes away or the device is
/// removed (then closed with [`REMOVED_CLOSE_CODE`]: nothing more is sent once the removal
/// began).
async fn stream_events(stream: Stream, mut after: u64, mut socket: WebSocket) {
    let Stream {
        provider,
        device,
        wakeup,
        ..
    } = &stream;
    let mut live = provider.client.live.subscribe(device);
    // The store is read when the stream opens and at every keep-alive ping whatever the
    // wake-ups say, so a wake-up that went missing costs at most a ping's interval. A ping
    // is due an interval after the last one, whatever else the stream does meanwhile.
    let mut must_read = true;
    let mut keep_alive = tokio::time::Instant::now() + KEEP_ALIVE;
    loop {
        let notified = wakeup.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if wakeup.removed().await {
            close_removed(&mut socket, device).await;
            return;
        }
        let read = if must_read {
            read_events(provider, device, wakeup, after).await
        } else {
            events_after(provider, device, wakeup, after).await
        };
        must_read = false;
        let stored = match read {
            Ok(stored) => stored,
            Err(e) => {
                tracing::error!(%device, error = %e, "reading events failed; closing the stream");
                return;
            }
        };
        let got = !stored.is_empty();
        if got && !stream.may_go_on(&mut socket).await {
            return;
        }
        let mut large = false;
        for e in stored {
            after = e.seq;
            let event = Event {
                seq: e.seq,
                room: e.room.to_string(),
                payload: e.payload,
                ephemeral: false,
            };
            let Ok(text) = serde_json::to_string(&event) else {
                return;
            };
            large |= text.len() > LARGE_EVENT_BYTES;
            if socket.send(Message::Text(text.into())).await.is_err() {
                return;
            }
        }
        if large {
            let _ = socket.send(Message::Close(None)).await;
            return;
        }
        if got {
            continue;
        }
        tokio::select! {
            () = &mut notified => {}
            ephemeral = live.recv() => match ephemeral {
                Ok(_) if wakeup.is_removing() => {}
                Ok(event) => {
                    let Ok(text) = serde_json::to_string(&event) else {
                        return;
                    };
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                // Fell behind: ephemeral events are best-effort, skip what was missed.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            () = tokio::time::sleep_until(keep_alive) => {
                // After a stall the next ping is an interval away, not a burst to catch up.
                keep_alive = tokio::time::Instant::now() + KEEP_ALIVE;
                // A stream of a device another process removed ends here at the latest.
                if !stream.may_go_on(&mut socket).await {
                    return;
                }
                if socket.send(Message::Ping(Bytes::new())).await.is_err() {
                    return;
                }
                must_read = true;
            }
        }
    }
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}
