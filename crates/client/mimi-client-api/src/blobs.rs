//! Encrypted attachments: the ciphertext blobs a device uploads before it sends the message
//! that describes them.
//!
//! * `POST /v1/blobs` (bearer token): the body is the raw ciphertext
//!   (`application/octet-stream`), at most the provider's `limits.max_blob_bytes` (25 MiB by
//!   default; larger is refused with 413 `too_large`). The provider answers 201 only once the
//!   blob is durable. Blobs are content-addressed: the ID is the lowercase hex SHA-256 of the
//!   bytes, so uploading the same bytes again is idempotent and answers the same ID.
//!   Each device, and the provider as a whole, may keep a bounded number of bytes of blobs
//!   (`limits.blob_quota_per_device_bytes`, `limits.blob_quota_per_provider_bytes`); an upload
//!   that would exceed either is refused with 507 `quota_exceeded` and nothing is stored (a
//!   re-upload of a blob already stored costs nothing). Too many uploads at once: 429
//!   `rate_limited` with `Retry-After`.
//! * `GET /v1/blobs/{id}`: the bytes (`application/octet-stream`, with `Content-Length`),
//!   or 404 `not_found`; too many downloads at once: 429 `rate_limited` with `Retry-After`.
//!   **No token**: the download URL is a capability. The ID is the hash of a ciphertext made
//!   with a fresh random key, so it cannot be guessed without the bytes, and the key to read
//!   them travels only in the end-to-end encrypted message. This is what lets a member on
//!   another provider download from the uploader's provider, whose accounts it has no token
//!   for: the attachment URL in the content points at the uploader's provider.
//!
//! The receiving device checks the size and the SHA-256 named in the content before it
//! decrypts; the provider is not trusted with the bytes. It reads no more than the size the
//! content names, follows no redirect, and fetches only from provider hosts it knows.

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
    /// Where to download it, relative to the provider's client API base URL
    /// (`/v1/blobs/{id}`).
    pub path: String,
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
