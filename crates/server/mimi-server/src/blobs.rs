//! Attachment blobs: `POST /v1/blobs?room=` (see `mimi_client_api::blobs` for the contract;
//! storage and quotas are in `crate::blob_store`, downloads in `crate::assets`).
//!
//! Memory is bounded per transfer and in the number of transfers: a download is streamed from
//! the database one chunk at a time as the reader takes it (a reader that stalls holds one
//! chunk, not the blob), an upload is read only after its token was checked and at most
//! `limits.max_blob_bytes` of it; at most `limits.blob_downloads_at_once` downloads and
//! `limits.blob_uploads_at_once` uploads run at once, more get 429 with `Retry-After`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use futures_util::StreamExt as _;
use mimi_client_api::{BlobStored, ErrorCode};
use mimi_ds::assets::{AssetRefusal, AssetUrl};
use serde::Deserialize;
use tokio::sync::OwnedSemaphorePermit;

use crate::blob_store::Quotas;
use crate::client_http::{authenticate, reply, room_param};
use crate::error::ServerError;
use crate::provider::Provider;
use crate::transfers::upload_permit;

/// `POST /v1/blobs?room=<room>`.
#[derive(Debug, Deserialize)]
pub(crate) struct UploadQuery {
    room: Option<String>,
}

fn too_large(limit: usize) -> ServerError {
    ServerError::api(
        ErrorCode::TooLarge,
        format!(
            "the blob is larger than this provider accepts ({limit} bytes); send a smaller file"
        ),
    )
}

/// Reads `body`, refusing it as soon as it passes `limit` bytes.
async fn read_limited(body: Body, limit: usize) -> Result<Vec<u8>, ServerError> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ServerError::api(
                ErrorCode::BadRequest,
                format!("the upload could not be read: {e}; send it again"),
            )
        })?;
        if bytes.len().saturating_add(chunk.len()) > limit {
            return Err(too_large(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// `POST /v1/blobs`: token first, then a transfer permit, then the body (at most
/// `limits.max_blob_bytes`), then the store with its quotas.
pub(crate) async fn upload(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Response {
    let result = async {
        let device = authenticate(&provider.accounts, &headers).await?;
        let room = query.room.as_deref().ok_or_else(|| {
            ServerError::api(
                ErrorCode::BadRequest,
                "name the room the attachment is for: POST /v1/blobs?room=<percent-encoded room URI>",
            )
        })?;
        let room = room_param(room)?;
        if !provider.accounts.rooms_of(&device).await?.contains(&room) {
            return Err(ServerError::api(
                ErrorCode::Forbidden,
                AssetRefusal::NotAMember(room).to_string(),
            ));
        }
        let limit = provider.limits.max_blob_bytes;
        let announced = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > limit as u64) {
            return Err(too_large(limit));
        }
        let _permit = upload_permit(&provider.client.blob_transfers)?;
        let bytes = read_limited(body, limit).await?;
        let quotas = Quotas {
            per_device: provider.limits.blob_quota_per_device_bytes,
            per_provider: provider.limits.blob_quota_per_provider_bytes,
        };
        let id = provider
            .accounts
            .put_blob(
                &room,
                &bytes,
                &device,
                Provider::now_ms(),
                quotas,
                provider.domain.as_str(),
            )
            .await?;
        Ok(BlobStored {
            path: format!("/v1/blobs/{id}"),
            url: AssetUrl::new(provider.domain.clone(), id.clone(), room).to_url(),
            id,
            size: bytes.len() as u64,
        })
    }
    .await;
    reply(StatusCode::CREATED, result)
}

/// The chunks of blob `id` (`size` bytes), read one at a time as the body is sent; a chunk
/// missing from storage ends the body with an error (the reader sees it cut short).
pub(crate) fn chunks(
    provider: Arc<Provider>,
    id: String,
    size: u64,
    permit: OwnedSemaphorePermit,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, ServerError>> + Send + 'static {
    let state = (provider, id, 0i32, 0u64, permit);
    futures_util::stream::try_unfold(state, move |(provider, id, seq, sent, permit)| async move {
        if sent >= size {
            return Ok(None);
        }
        let chunk = provider.accounts.blob_chunk(&id, seq).await?;
        let chunk = chunk.filter(|c| !c.is_empty()).ok_or_else(|| {
            tracing::error!(%id, seq, "a stored blob lacks a chunk");
            ServerError::Accounts(format!("blob {id} lacks chunk {seq}"))
        })?;
        let sent = sent.saturating_add(chunk.len() as u64);
        Ok(Some((
            chunk,
            (provider, id, seq.saturating_add(1), sent, permit),
        )))
    })
}
