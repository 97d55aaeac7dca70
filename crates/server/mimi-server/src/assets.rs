//! Attachment downloads, always through the member's own provider (decisions in
//! `mimi_ds::assets`):
//!
//! * `GET /v1/assets?url=<asset URL>&max_bytes=<n>` (client API, the token of a device that is
//!   a member of the asset's room): the asset from this provider's own blobs, or fetched from
//!   the asset's provider, which must be a pinned peer, over mutual TLS with
//!   `GET /proxyDownload/{downloadUrl}`; streamed to the device as it arrives, refused with
//!   413 `too_large` when the asset is larger than `max_bytes` (the size the message names) or
//!   `limits.max_blob_bytes`, and cut short if a peer sends more than it announced.
//! * `GET /proxyDownload/{downloadUrl}` (federation): our own asset, bound to the URL's room,
//!   for a peer with a participant in that room; streamed chunk by chunk.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mimi_client_api::ErrorCode;
use mimi_ds::assets::{AssetRefusal, AssetUrl, may_request, may_serve_peer};
use mimi_federation_api::proxy_download::DownloadUrl;
use mimi_transport::PeerDomain;
use mimi_transport::client::PeerStream;
use serde::Deserialize;

use crate::blobs::chunks;
use crate::client_http::{authenticate, error_response};
use crate::error::ServerError;
use crate::provider::Provider;
use crate::transfers::download_permit;

/// The longest error body read from a peer.
const MAX_PEER_ERROR: usize = 16 * 1024;

fn refused(e: &AssetRefusal) -> ServerError {
    let code = match e.http_status() {
        400 => ErrorCode::BadRequest,
        404 => ErrorCode::NotFound,
        _ => ErrorCode::Forbidden,
    };
    ServerError::api(code, e.to_string())
}

fn too_large(size: u64, cap: u64) -> ServerError {
    ServerError::api(
        ErrorCode::TooLarge,
        format!(
            "the asset has {size} bytes, more than the {cap} this download allows (the size \
             the message names, at most limits.max_blob_bytes)"
        ),
    )
}

/// `GET /v1/assets`.
#[derive(Debug, Deserialize)]
pub(crate) struct AssetQuery {
    url: String,
    max_bytes: Option<u64>,
}

fn bytes_response(size: Option<u64>, body: Body) -> Response {
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream")],
        body,
    )
        .into_response();
    if let Some(size) = size {
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, header::HeaderValue::from(size));
    }
    response
}

/// Our own asset, `size` checked against `cap`, streamed from storage.
async fn local(
    provider: Arc<Provider>,
    asset: &AssetUrl,
    cap: u64,
) -> Result<Response, ServerError> {
    if !provider
        .accounts
        .blob_in_room(&asset.blob, &asset.room)
        .await?
    {
        return Err(refused(&AssetRefusal::Unknown {
            blob: asset.blob.clone(),
            room: asset.room.clone(),
        }));
    }
    let permit = download_permit(&provider.client.blob_transfers)?;
    let size = provider
        .accounts
        .blob_size(&asset.blob)
        .await?
        .ok_or_else(|| {
            refused(&AssetRefusal::Unknown {
                blob: asset.blob.clone(),
                room: asset.room.clone(),
            })
        })?;
    if size > cap {
        return Err(too_large(size, cap));
    }
    let body = Body::from_stream(chunks(provider, asset.blob.clone(), size, permit));
    Ok(bytes_response(Some(size), body))
}

/// What a peer's refusal means to our device.
async fn peer_refusal(asset: &AssetUrl, mut stream: PeerStream) -> ServerError {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = stream.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_PEER_ERROR {
            break;
        }
    }
    body.truncate(MAX_PEER_ERROR);
    let message = format!(
        "{} refused the asset: {}",
        asset.provider,
        String::from_utf8_lossy(&body).trim()
    );
    tracing::info!(peer = %asset.provider, status = stream.status, %message, "proxyDownload refused");
    match stream.status {
        403 => ServerError::api(ErrorCode::Forbidden, message),
        404 => ServerError::api(ErrorCode::NotFound, message),
        413 => ServerError::api(ErrorCode::TooLarge, message),
        status => ServerError::Peer {
            peer: asset.provider.clone(),
            status,
            message,
        },
    }
}

/// A peer's asset over mutual TLS, streamed as it arrives, at most `cap` bytes.
async fn remote(
    provider: Arc<Provider>,
    asset: &AssetUrl,
    cap: u64,
) -> Result<Response, ServerError> {
    let url = DownloadUrl::new(&asset.to_url())
        .map_err(|e| ServerError::api(ErrorCode::BadRequest, e.to_string()))?;
    let unreachable = |e: mimi_transport::TransportError| ServerError::Peer {
        peer: asset.provider.clone(),
        status: 0,
        message: e.to_string(),
    };
    let path = provider
        .federation
        .endpoint_path(
            &asset.provider,
            &mimi_federation_api::http::PROXY_DOWNLOAD,
            &url,
        )
        .await
        .map_err(unreachable)?;
    let permit = download_permit(&provider.client.blob_transfers)?;
    let stream = provider
        .federation
        .get_stream(&asset.provider, &path)
        .await
        .map_err(unreachable)?;
    if !stream.is_success() {
        return Err(peer_refusal(asset, stream).await);
    }
    if let Some(size) = stream.content_length
        && size > cap
    {
        return Err(too_large(size, cap));
    }
    let announced = stream.content_length;
    let peer = asset.provider.clone();
    let body = futures_util::stream::try_unfold(
        (stream, 0u64, permit),
        move |(mut stream, read, permit)| {
            let peer = peer.clone();
            async move {
                let Some(chunk) = stream.chunk().await.map_err(|e| ServerError::Peer {
                    peer: peer.clone(),
                    status: 0,
                    message: e.to_string(),
                })?
                else {
                    return Ok(None);
                };
                let read = read.saturating_add(chunk.len() as u64);
                if read > cap || announced.is_some_and(|n| read > n) {
                    tracing::warn!(%peer, read, cap, "a peer sent more of an asset than allowed; cut short");
                    return Err(too_large(read, cap));
                }
                Ok(Some((chunk, (stream, read, permit))))
            }
        },
    );
    Ok(bytes_response(announced, Body::from_stream(body)))
}

/// `GET /v1/assets?url=...&max_bytes=...`.
pub(crate) async fn client_download(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Query(query): Query<AssetQuery>,
) -> Response {
    let result = async {
        let device = authenticate(&provider.accounts, &headers).await?;
        let asset = AssetUrl::parse(&query.url).map_err(|e| refused(&e))?;
        let member = provider
            .accounts
            .rooms_of(&device)
            .await?
            .contains(&asset.room);
        may_request(&provider.domain, &asset, member, |d| {
            provider.federation.knows(d)
        })
        .map_err(|e| refused(&e))?;
        let limit = provider.limits.max_blob_bytes as u64;
        let cap = query.max_bytes.map_or(limit, |n| n.min(limit));
        if asset.provider == provider.domain {
            local(provider.clone(), &asset, cap).await
        } else {
            remote(provider.clone(), &asset, cap).await
        }
    }
    .await;
    result.unwrap_or_else(|e| error_response(&e))
}

/// `GET /proxyDownload/{downloadUrl}` from a peer.
pub(crate) async fn proxy_download(
    State(provider): State<Arc<Provider>>,
    Extension(peer): Extension<PeerDomain>,
    Path(raw): Path<String>,
) -> Response {
    let result = async {
        let url = DownloadUrl::from_path(&raw)
            .map_err(|e| crate::error::bad_request("the downloadUrl in the path", e))?;
        let asset = AssetUrl::parse(url.as_str()).map_err(|e| refused(&e))?;
        let bound = asset.provider == provider.domain
            && provider
                .accounts
                .blob_in_room(&asset.blob, &asset.room)
                .await?;
        let members = provider.room_members(&asset.room).await?;
        may_serve_peer(&provider.domain, &peer.0, &asset, bound, members.as_ref())
            .map_err(|e| refused(&e))?;
        let cap = provider.limits.max_blob_bytes as u64;
        local(provider.clone(), &asset, cap).await
    }
    .await;
    result.unwrap_or_else(|e| crate::peer_http::refuse(&peer, &e))
}
