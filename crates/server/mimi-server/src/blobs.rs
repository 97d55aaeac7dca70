//! Attachment blobs: `POST /v1/blobs` and `GET /v1/blobs/{id}` (see `mimi_client_api::blobs`
//! for the contract).
//!
//! The ciphertexts live in a `blobs` table of the accounts database (SQLite or PostgreSQL),
//! not on the local file system, so that every process of a provider sharing that database
//! serves them. A blob is
//! keyed by the hex SHA-256 of its bytes (computed here, never taken from the client), written
//! with `ON CONFLICT DO NOTHING` (a re-upload is idempotent) and acknowledged only after the
//! insert committed (the accounts database syncs fully on commit).

use std::sync::Arc;

use crate::accounts::{Accounts, Pool};
use crate::client_api::{authenticate, error_response, reply};
use crate::error::ServerError;
use crate::provider::Provider;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mimi_client_api::blobs::{blob_id, is_blob_id};
use mimi_client_api::{BlobStored, ErrorCode};
use mimi_types::ClientUri;
use sha2::{Digest, Sha256};

/// The SQLite table, created with the accounts tables.
pub(crate) const SQLITE_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, \
     bytes BLOB NOT NULL, size INTEGER NOT NULL, uploaded_by TEXT NOT NULL, \
     uploaded_ms INTEGER NOT NULL)";

/// The same table in PostgreSQL.
pub(crate) const POSTGRES_SCHEMA: &str = "CREATE TABLE IF NOT EXISTS blobs (id TEXT PRIMARY KEY, \
     bytes BYTEA NOT NULL, size BIGINT NOT NULL, uploaded_by TEXT NOT NULL, \
     uploaded_ms BIGINT NOT NULL)";

/// Runs the same statement on either backend.
macro_rules! on_backend {
    ($accounts:expr, $pool:ident => $body:expr) => {
        match $accounts.pool() {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

impl Accounts {
    /// Stores `bytes` under their hash (idempotent); returns the ID.
    pub async fn put_blob(
        &self,
        bytes: &[u8],
        uploaded_by: &ClientUri,
        now_ms: u64,
    ) -> Result<String, ServerError> {
        let id = blob_id(&Sha256::digest(bytes));
        let size = i64::try_from(bytes.len())
            .map_err(|_| ServerError::Accounts("blob size does not fit".into()))?;
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let statement = "INSERT INTO blobs (id, bytes, size, uploaded_by, uploaded_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";
        on_backend!(self, pool => sqlx::query(statement)
            .bind(&id)
            .bind(bytes)
            .bind(size)
            .bind(uploaded_by.to_string())
            .bind(now)
            .execute(pool)
            .await
            .map(drop))?;
        Ok(id)
    }

    /// The bytes of blob `id`, if stored.
    pub async fn blob(&self, id: &str) -> Result<Option<Vec<u8>>, ServerError> {
        let statement = "SELECT bytes FROM blobs WHERE id = $1";
        let row: Option<(Vec<u8>,)> = on_backend!(self, pool => sqlx::query_as(statement)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|(bytes,)| bytes))
    }
}

fn too_large(limit: usize) -> ServerError {
    ServerError::api(
        ErrorCode::TooLarge,
        format!(
            "the blob is larger than this provider accepts ({limit} bytes); send a smaller file"
        ),
    )
}

/// `POST /v1/blobs`. The route carries a body limit of `limits.max_blob_bytes`
/// ([`axum::extract::DefaultBodyLimit`]); a body over it arrives here as a 413 rejection.
pub(crate) async fn upload(
    State(provider): State<Arc<Provider>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let device = authenticate(&provider, &headers).await?;
        let limit = provider.limits.max_blob_bytes;
        let announced = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|n| n > limit as u64) {
            return Err(too_large(limit));
        }
        let bytes = body.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large(limit)
            } else {
                ServerError::api(
                    ErrorCode::BadRequest,
                    format!("the upload could not be read: {e}; send it again"),
                )
            }
        })?;
        let id = provider
            .accounts
            .put_blob(&bytes, &device, Provider::now_ms())
            .await?;
        Ok(BlobStored {
            path: format!("/v1/blobs/{id}"),
            id,
            size: bytes.len() as u64,
        })
    }
    .await;
    reply(StatusCode::CREATED, result)
}

/// `GET /v1/blobs/{id}` (no token: the URL is the capability).
pub(crate) async fn download(
    State(provider): State<Arc<Provider>>,
    Path(id): Path<String>,
) -> Response {
    let result = async {
        if !is_blob_id(&id) {
            return Err(ServerError::api(
                ErrorCode::BadRequest,
                "a blob ID is 64 lowercase hex digits (the SHA-256 of the blob)",
            ));
        }
        provider.accounts.blob(&id).await?.ok_or_else(|| {
            ServerError::api(
                ErrorCode::NotFound,
                format!("no blob {id} here; the uploader's provider serves it"),
            )
        })
    }
    .await;
    match result {
        Ok(bytes) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/octet-stream")],
            bytes,
        )
            .into_response(),
        Err(e) => error_response(&e),
    }
}
