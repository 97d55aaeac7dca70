//! Encrypted attachments: the ciphertext blobs a device uploads before it sends the message
//! that describes them.
//!
//! * `POST /v1/blobs?room=<percent-encoded room URI>` (bearer token of a device that is a
//!   member of the room; otherwise 403 `forbidden`, without `room` 400): the body is the raw
//!   ciphertext (`application/octet-stream`), at most the provider's `limits.max_blob_bytes`
//!   (25 MiB by default; larger is refused with 413 `too_large`). The provider answers 201
//!   only once the blob is durable, and binds it to the room: it is served only for that room.
//!   Blobs are content-addressed: the ID is the lowercase hex SHA-256 of the bytes, so
//!   uploading the same bytes again is idempotent and answers the same ID. Each device, and
//!   the provider as a whole, may keep a bounded number of bytes of blobs
//!   (`limits.blob_quota_per_device_bytes`, `limits.blob_quota_per_provider_bytes`); an upload
//!   that would exceed either is refused with 507 `quota_exceeded` and nothing is stored (a
//!   re-upload of a blob already stored costs nothing). Too many uploads at once: 429
//!   `rate_limited` with `Retry-After`. The answer's `url` is the asset URL to put in the
//!   message: `https://<provider>/v1/blobs/<id>?room=<room>`.
//! * `GET /v1/assets?url=<asset URL>&max_bytes=<n>` (bearer token of a device that is a member
//!   of the asset's room): the bytes (`application/octet-stream`), always from the device's
//!   **own** provider, which serves its own assets and fetches other providers' over mutual
//!   TLS (`GET /proxyDownload/{downloadUrl}`, only from providers it federates with: no open
//!   proxy). Not a member: 403 `forbidden`; an asset of a provider it does not federate with:
//!   403; not an asset URL: 400; no such asset in that room: 404 `not_found`; larger than
//!   `max_bytes` (the size the message names) or `limits.max_blob_bytes`: 413 `too_large`; too
//!   many downloads at once: 429 `rate_limited` with `Retry-After`.
//!
//! The receiving device checks the size and the SHA-256 named in the content before it
//! decrypts; the providers are not trusted with the bytes. It reads no more than the size the
//! content names and follows no redirect.

use serde::{Deserialize, Serialize};

/// The default largest blob a provider stores: 25 MiB.
pub const DEFAULT_MAX_BLOB_BYTES: usize = 25 * 1024 * 1024;

/// The answer to `POST /v1/blobs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobStored {
    /// The blob's ID: lowercase hex SHA-256 of its bytes.
    pub id: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where it is stored, relative to the provider's client API base URL (`/v1/blobs/{id}`).
    pub path: String,
    /// The asset URL a message names: `https://<provider>/v1/blobs/<id>?room=<room>`, fetched
    /// by members through their own providers (`GET /v1/assets`).
    pub url: String,
}

/// Whether `id` has the form of a blob ID (64 lowercase hex digits).
pub fn is_blob_id(id: &str) -> bool {
    id.len() == 64
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The lowercase hex form of a SHA-256 digest (a blob ID).
pub fn blob_id(digest: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(digest.len() * 2);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}
