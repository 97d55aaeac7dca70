//! Where attachment blobs live: the accounts database (SQLite or PostgreSQL), not the local
//! file system, so that every process of a provider sharing that database serves them.
//!
//! A blob is keyed by the hex SHA-256 of its bytes (computed here, never taken from the
//! client). Its row in `blobs` names its size and uploader; its bytes are rows of
//! `blob_chunks`, [`CHUNK_BYTES`] each, so that a download reads one chunk at a time and a
//! slow reader holds one chunk in memory, not the blob. An upload is one transaction: the
//! `blobs` row (`ON CONFLICT DO NOTHING`: a re-upload of stored bytes is idempotent and costs
//! no quota), the quota check over the stored sizes including it, then the chunks; it is
//! acknowledged only after the commit (the accounts database syncs fully on commit). In
//! PostgreSQL the transaction first takes an advisory lock, so that concurrent uploads of
//! several processes cannot together pass a quota that each alone would not.
//!
//! Each upload binds the blob to the room it was shared in (`blob_rooms`, in the upload's
//! transaction); it is served only for that room.
//!
//! Blobs stored before the chunked layout kept their bytes in `blobs.bytes`; opening the
//! database moves them into one chunk each (read whole when served, as before) and leaves the
//! column empty. New rows write it empty.

use mimi_types::{ClientUri, RoomUri};
use sha2::{Digest, Sha256};

use crate::accounts::{Accounts, Pool, on_pool};
use crate::error::ServerError;
use mimi_client_api::ErrorCode;
use mimi_client_api::blobs::blob_id;

/// The bytes of one stored chunk (the last one of a blob may be shorter).
pub(crate) const CHUNK_BYTES: usize = 256 * 1024;

/// The advisory lock PostgreSQL uploads take ("mimi" and "blob" in ASCII).
const UPLOAD_LOCK: (i32, i32) = (0x6d69_6d69, 0x626c_6f62);

/// How many bytes of blobs may be stored (0: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Quotas {
    /// Per uploading device.
    pub(crate) per_device: u64,
    /// For the whole provider.
    pub(crate) per_provider: u64,
}

/// Runs the upload transaction on either backend: `$tx` is the open transaction.
macro_rules! upload_in {
    ($tx:ident, $id:expr, $room:expr, $bytes:expr, $by:expr, $now:expr, $quotas:expr, $domain:expr) => {{
        let size = i64::try_from($bytes.len())
            .map_err(|_| ServerError::Accounts("blob size does not fit".into()))?;
        let inserted = sqlx::query(
            "INSERT INTO blobs (id, bytes, size, uploaded_by, uploaded_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind($id)
        .bind(Vec::<u8>::new())
        .bind(size)
        .bind($by.to_string())
        .bind($now)
        .execute(&mut *$tx)
        .await?
        .rows_affected();
        if inserted == 1 {
            let (device_total,): (i64,) = sqlx::query_as(
                "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM blobs \
                 WHERE uploaded_by = $1",
            )
            .bind($by.to_string())
            .fetch_one(&mut *$tx)
            .await?;
            let (provider_total,): (i64,) =
                sqlx::query_as("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM blobs")
                    .fetch_one(&mut *$tx)
                    .await?;
            check_quota($quotas, $domain, size, device_total, provider_total)?;
            for (seq, chunk) in $bytes.chunks(CHUNK_BYTES).enumerate() {
                let seq = i32::try_from(seq)
                    .map_err(|_| ServerError::Accounts("too many blob chunks".into()))?;
                sqlx::query("INSERT INTO blob_chunks (id, seq, bytes) VALUES ($1, $2, $3)")
                    .bind($id)
                    .bind(seq)
                    .bind(chunk)
                    .execute(&mut *$tx)
                    .await?;
            }
        }
        sqlx::query("INSERT INTO blob_rooms (id, room) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind($id)
            .bind($room.to_string())
            .execute(&mut *$tx)
            .await?;
        $tx.commit().await?;
        Ok::<(), ServerError>(())
    }};
}

/// Refuses an upload of `size` bytes that brought the stored totals (including it) over a
/// quota; an error dropped before the commit rolls the transaction back.
fn check_quota(
    quotas: Quotas,
    domain: &str,
    size: i64,
    device_total: i64,
    provider_total: i64,
) -> Result<(), ServerError> {
    let over = |total: i64, quota: u64| quota > 0 && u64::try_from(total).unwrap_or(0) > quota;
    if over(device_total, quotas.per_device) {
        let before = device_total.saturating_sub(size);
        return Err(ServerError::api(
            ErrorCode::QuotaExceeded,
            format!(
                "this device has {before} bytes of attachments stored at {domain}; another \
                 {size} would pass its quota of {} bytes (limits.blob_quota_per_device_bytes). \
                 Nothing was stored: send a smaller file, or ask the operator of {domain} to \
                 remove old blobs or raise the quota",
                quotas.per_device
            ),
        ));
    }
    if over(provider_total, quotas.per_provider) {
        return Err(ServerError::api(
            ErrorCode::QuotaExceeded,
            format!(
                "{domain} stores as many bytes of attachments as it allows ({} bytes, \
                 limits.blob_quota_per_provider_bytes). Nothing was stored: ask its operator \
                 to remove old blobs or raise the quota",
                quotas.per_provider
            ),
        ));
    }
    Ok(())
}

impl Accounts {
    /// Stores `bytes` under their hash, uploaded by `uploaded_by` for `room`, unless that
    /// passes a quota (`domain` names this provider in the refusal); idempotent. Returns the ID.
    pub(crate) async fn put_blob(
        &self,
        room: &RoomUri,
        bytes: &[u8],
        uploaded_by: &ClientUri,
        now_ms: u64,
        quotas: Quotas,
        domain: &str,
    ) -> Result<String, ServerError> {
        let id = blob_id(&Sha256::digest(bytes));
        let now = i64::try_from(now_ms).unwrap_or(i64::MAX);
        match self.pool() {
            Pool::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                upload_in!(tx, &id, room, bytes, uploaded_by, now, quotas, domain)?;
            }
            Pool::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
                    .bind(UPLOAD_LOCK.0)
                    .bind(UPLOAD_LOCK.1)
                    .execute(&mut *tx)
                    .await?;
                upload_in!(tx, &id, room, bytes, uploaded_by, now, quotas, domain)?;
            }
        }
        Ok(id)
    }

    /// Whether blob `id` was shared in `room`.
    pub(crate) async fn blob_in_room(&self, id: &str, room: &RoomUri) -> Result<bool, ServerError> {
        let statement = "SELECT id FROM blob_rooms WHERE id = $1 AND room = $2";
        let row: Option<(String,)> = on_pool!(self, pool => {
            sqlx::query_as(statement)
                .bind(id)
                .bind(room.to_string())
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.is_some())
    }

    /// The size of blob `id`, if stored.
    pub(crate) async fn blob_size(&self, id: &str) -> Result<Option<u64>, ServerError> {
        let statement = "SELECT size FROM blobs WHERE id = $1";
        let row: Option<(i64,)> = on_pool!(self, pool => {
            sqlx::query_as(statement)
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(|(size,)| u64::try_from(size).unwrap_or(0)))
    }

    /// Chunk `seq` of blob `id`, if stored.
    pub(crate) async fn blob_chunk(
        &self,
        id: &str,
        seq: i32,
    ) -> Result<Option<Vec<u8>>, ServerError> {
        let statement = "SELECT bytes FROM blob_chunks WHERE id = $1 AND seq = $2";
        let row: Option<(Vec<u8>,)> = on_pool!(self, pool => {
            sqlx::query_as(statement)
                .bind(id)
                .bind(seq)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(|(bytes,)| bytes))
    }
}
