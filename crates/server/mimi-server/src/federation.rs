//! The federation routes (behind mutual TLS: the handlers get the authenticated peer).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::handler::Handler;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on, post};
use mimi_ds::follower::VerifiedKeyMaterialRequest;
use mimi_federation_api::defects::ACCEPTED_STATUS;
use mimi_federation_api::http::{self, Endpoint};
use mimi_federation_api::key_material::KeyMaterialRequest;
use mimi_federation_api::path::{consent_peer_from_path, room_from_path, user_from_path};
use mimi_federation_api::{Encode, decode_exact};
use mimi_transport::PeerDomain;
use mimi_types::RoomUri;

use crate::error::ServerError;
use crate::error::bad_request;
use crate::peer_http::{answer, refuse, status};
use crate::provider::Provider;

/// The protocol endpoints this server answers, with their handlers. The router routes exactly
/// these (method and nominal path from each [`Endpoint`]) and the directory advertises exactly
/// these, so the two cannot drift: an endpoint is advertised once it has a handler here.
fn table() -> Vec<(&'static Endpoint, MethodRouter<Arc<Provider>>)> {
    vec![
        routed(&http::UPDATE, update),
        routed(&http::SUBMIT_MESSAGE, submit),
        routed(&http::NOTIFY, notify),
        routed(&http::GROUP_INFO, group_info),
        routed(&http::KEY_MATERIAL, key_material),
        routed(&http::IDENTIFIER_QUERY, crate::discovery::identifier_query),
        routed(&http::REQUEST_CONSENT, request_consent),
        routed(&http::UPDATE_CONSENT, update_consent),
        routed(&http::REPORT_ABUSE, report_abuse),
        routed(&http::PROXY_DOWNLOAD, crate::assets::proxy_download),
    ]
}

fn routed<H, T>(
    endpoint: &'static Endpoint,
    handler: H,
) -> (&'static Endpoint, MethodRouter<Arc<Provider>>)
where
    H: Handler<T, Arc<Provider>>,
    T: 'static,
{
    let method = match endpoint.method {
        http::Method::Get => MethodFilter::GET,
        _ => MethodFilter::POST,
    };
    (endpoint, on(method, handler))
}

/// The federation routes at their nominal paths, and the protocol endpoints among them (for
/// the directory). The ephemeral-message extension route (typing) is not a directory entry.
pub(crate) fn router(provider: Arc<Provider>) -> (Router, Vec<&'static Endpoint>) {
    let mut router = Router::new();
    let mut served = Vec::new();
    for (endpoint, handler) in table() {
        router = router.route(endpoint.path_template, handler);
        served.push(endpoint);
    }
    let router = router
        .route(
            mimi_federation_api::defects::EPHEMERAL_PATH,
            post(crate::typing::federation_route),
        )
        .with_state(provider);
    (router, served)
}

fn room_param(raw: &str) -> Result<RoomUri, ServerError> {
    room_from_path(raw).map_err(|e| bad_request("the room in the path", e))
}

async fn update(
    State(provider): State<Arc<Provider>>,
    Extension(peer): Extension<PeerDomain>,
    Path(room): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let room = room_param(&room)?;
        provider.hub_update(&peer.0, &room, &body, None).await
    }
    .await;
    result.map_or_else(|e| refuse(&peer, &e), answer)
}

async fn submit(
    State(provider): State<Arc<Provider>>,
    Extension(peer): Extension<PeerDomain>,
    Path(room): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let room = room_param(&room)?;
        provider.hub_submit(&peer.0, &room, &body).await
    }
    .await;
    result.map_or_else(|e| refuse(&peer, &e), answer)
}

async fn group_info(
    State(provider): State<Arc<Provider>>,
    Extension(peer): Extension<PeerDomain>,
    Path(room): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let room = room_param(&room)?;
        provider.hub_group_info(&peer.0, &room, &body).await
    }
    .await;
    result.map_or_else(|e| refuse(&peer, &e), answer)
}

async fn notify(
    State(provider): State<Arc<Provider>>,
    Extension(peer): Extension<PeerDomain>,
    Path(room): Path<String>,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let room = room_param(&room)?;
        let withheld = crate::withheld::withheld_devices(&headers)?;
        provider
            .receive_notify(&peer.0, &room, &body, withheld)
            .await
    }
    .await;
    match result {
        Ok(()) => status(ACCEPTED_STATUS).into_response(),
        Err(e) => refuse(&peer, &e),
    }
}

async fn request_consent(
    State(provider): State<Arc<Provider>>,
    Extension(peer): Extension<PeerDomain>,
    Path(target): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let path = consent_peer_from_path(&target)
            .map_err(|e| bad_request("the target in the path", e))?;
        provider
            .receive_request_consent(&peer.0, &path, &body)
            .await
    }
    .await;
    match result {
        Ok(()) => status(ACCEPTED_STATUS).into_response(),
        Err(e) => refuse(&peer, &e),
    }
}

async fn update_consent(
    State(provider): State<Arc<Provider>>,
    Extension(peer): Extension<PeerDomain>,
    Path(requester): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let path = consent_peer_from_path(&requester)
            .map_err(|e| bad_request("the requester in the path", e))?;
        provider.receive_update_consent(&peer.0, &path, &body).await
    }
    .await;
    match result {
        Ok(()) => status(ACCEPTED_STATUS).into_response(),
        Err(e) => refuse(&peer, &e),
    }
}

async fn report_abuse(
    State(provider): State<Arc<Provider>>,
    Extension(peer): Extension<PeerDomain>,
    Path(room): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let room = room_param(&room)?;
        crate::report_abuse::federation(&provider, &peer.0, &room, &body).await
    }
    .await;
    match result {
        Ok(()) => status(ACCEPTED_STATUS).into_response(),
        Err(e) => refuse(&peer, &e),
    }
}

async fn key_material(
    State(provider): State<Arc<Provider>>,
    Extension(peer): Extension<PeerDomain>,
    Path(user): Path<String>,
    body: Bytes,
) -> Response {
    let result = async {
        let target = user_from_path(&user).map_err(|e| bad_request("the user in the path", e))?;
        let request: KeyMaterialRequest =
            decode_exact(&body).map_err(|e| bad_request("KeyMaterialRequest", e))?;
        let named = request
            .tbs
            .target_user
            .to_user()
            .map_err(|e| bad_request("targetUser", e))?;
        if named != target {
            return Err(bad_request(
                "targetUser",
                format!("{named} differs from the path's {target}"),
            ));
        }
        let verified =
            VerifiedKeyMaterialRequest::verify(&request, &provider.mls_trust, Provider::now_ms())?;
        let room = request
            .tbs
            .room()
            .map(|r| r.to_room())
            .transpose()
            .map_err(|e| bad_request("roomId", e))?;
        match room {
            // A room we host: the hub's checks (a participant, the room open, its server
            // policy) come first, also where the target is our own user.
            Some(room) if room.hub_domain() == &provider.domain => {
                provider
                    .key_material_via_hub(&peer.0, &room, &body, &verified, &target)
                    .await
            }
            _ if target.domain() == &provider.domain => provider
                .answer_key_material(&peer.0, &verified)
                .await?
                .encode()
                .map_err(|e| bad_request("KeyMaterialResponse", e)),
            _ => Err(mimi_ds::RequestError::NotOurUser(target.to_string()).into()),
        }
    }
    .await;
    result.map_or_else(|e| refuse(&peer, &e), answer)
}
