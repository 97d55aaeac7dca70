//! The blob routes: upload with the token of a room member (answered once stored, idempotent
//! by hash, limited in size), download through the own provider with a member's token; the
//! refusals with their codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Api, Device};
use mimi_client_api::{ApiError, BlobStored, ErrorCode};
use mimi_federation_api::path::encode_param;
use sha2::{Digest, Sha256};

/// The room each test's devices share blobs in (every device creates its own such room).
const ROOM: &str = "mimi://x.example/r/files";

async fn upload(base: &str, token: Option<&str>, bytes: Vec<u8>) -> reqwest::Response {
    upload_in(base, token, ROOM, bytes).await
}

/// A device's own room to share blobs in.
async fn own_room(device: &mut Device) -> String {
    let name = format!("mimi://x.example/r/{}", device.client().device_id());
    device.create_room(&name).await;
    name
}

async fn upload_in(
    base: &str,
    token: Option<&str>,
    room: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/v1/blobs?room={}", encode_param(&room)))
        .header("content-type", "application/octet-stream")
        .body(bytes);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
}

/// `GET /v1/assets` of `url` with `token`.
fn asset_request(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    url: &str,
) -> reqwest::RequestBuilder {
    client
        .get(format!("{base}/v1/assets?url={}", encode_param(&url)))
        .bearer_auth(token)
}

async fn download(base: &str, token: &str, url: &str) -> reqwest::Response {
    asset_request(&reqwest::Client::new(), base, token, url)
        .send()
        .await
        .unwrap()
}

/// The asset URL of blob `id` in [`ROOM`].
fn asset_url(id: &str) -> String {
    format!(
        "https://x.example/v1/blobs/{id}?room={}",
        encode_param(&ROOM)
    )
}

async fn error_of(response: reqwest::Response) -> (u16, ErrorCode) {
    let status = response.status().as_u16();
    let error: ApiError = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert!(!error.message.is_empty());
    (status, error.code)
}

#[test]
fn blobs_are_stored_by_hash_and_served_by_url() {
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    // A small limit, to test it without megabytes.
    nodes[0].config.limits.max_blob_bytes = 4096;
    nodes[0].restart().unwrap();
    let base = nodes[0].base_url();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (stored, bytes, token) = runtime.block_on(async {
        let api = Api::new(base.clone());
        Device::register_user(&api, "alice").await;
        let mut alice = Device::register(&api, "alice", "phone", 0).await;
        alice.create_room(ROOM).await;

        // Without a room, or for a room the device is not in: refused, nothing stored.
        let response = reqwest::Client::new()
            .post(format!("{base}/v1/blobs"))
            .bearer_auth(&alice.token)
            .body(vec![1u8, 2, 3])
            .send()
            .await
            .unwrap();
        assert_eq!(error_of(response).await, (400, ErrorCode::BadRequest));
        let elsewhere = upload_in(
            &base,
            Some(&alice.token),
            "mimi://x.example/r/other",
            vec![1],
        )
        .await;
        assert_eq!(error_of(elsewhere).await, (403, ErrorCode::Forbidden));

        let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
        let response = upload(&base, Some(&alice.token), bytes.clone()).await;
        assert_eq!(response.status().as_u16(), 201);
        let stored: BlobStored = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(stored.id, hex::encode(Sha256::digest(&bytes)));
        assert_eq!(stored.size, 4096);
        assert_eq!(stored.path, format!("/v1/blobs/{}", stored.id));
        assert_eq!(stored.url, asset_url(&stored.id));

        // Idempotent: the same bytes again give the same ID.
        let again = upload(&base, Some(&alice.token), bytes.clone()).await;
        let again: BlobStored = serde_json::from_slice(&again.bytes().await.unwrap()).unwrap();
        assert_eq!(again, stored);

        // Downloaded by a member through its provider, byte for byte; not without a token.
        let got = download(&base, &alice.token, &stored.url).await;
        assert_eq!(got.status().as_u16(), 200);
        assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());
        (stored, bytes, alice.token.clone())
    });

    // Stored durably: still there after a restart.
    nodes[0].restart().unwrap();
    runtime.block_on(async {
        let got = download(&base, &token, &stored.url).await;
        assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());
        let anonymous = reqwest::get(format!(
            "{base}/v1/assets?url={}",
            encode_param(&stored.url)
        ))
        .await
        .unwrap();
        assert_eq!(error_of(anonymous).await, (401, ErrorCode::Unauthorized));

        // Too large (one byte over the limit): 413, nothing stored.
        let big = vec![1u8; 4097];
        let response = upload(&base, Some(&token), big.clone()).await;
        assert_eq!(error_of(response).await, (413, ErrorCode::TooLarge));
        let big_id = hex::encode(Sha256::digest(&big));
        let response = download(&base, &token, &asset_url(&big_id)).await;
        assert_eq!(error_of(response).await, (404, ErrorCode::NotFound));

        // No token, or an unknown one: 401.
        let response = upload(&base, None, vec![1, 2, 3]).await;
        assert_eq!(error_of(response).await, (401, ErrorCode::Unauthorized));
        let response = upload(&base, Some("00ff"), vec![1, 2, 3]).await;
        assert_eq!(error_of(response).await, (401, ErrorCode::Unauthorized));

        // Unknown blob: 404; not a blob ID: 400.
        let unknown = hex::encode(Sha256::digest(b"never uploaded"));
        let response = download(&base, &token, &asset_url(&unknown)).await;
        assert_eq!(error_of(response).await, (404, ErrorCode::NotFound));
        let response = download(&base, &token, &asset_url("..%2Faccounts")).await;
        assert_eq!(error_of(response).await, (400, ErrorCode::BadRequest));
        let upper = stored.id.to_ascii_uppercase();
        let response = download(&base, &token, &asset_url(&upper)).await;
        assert_eq!(error_of(response).await, (400, ErrorCode::BadRequest));
    });
}

/// This process's resident memory, in bytes (Linux), if it can be read.
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Bytes that do not repeat (so no layer can compress them), `seed` apart.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[test]
fn many_readers_of_a_large_blob_are_streamed_and_capped() {
    const READERS: usize = 30;
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    nodes[0].config.limits.blob_downloads_at_once = READERS as u32;
    nodes[0].restart().unwrap();
    let base = nodes[0].base_url();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let api = Api::new(base.clone());
        Device::register_user(&api, "alice").await;
        let mut alice = Device::register(&api, "alice", "phone", 0).await;
        alice.create_room(ROOM).await;
        // The largest blob the default limit allows.
        let bytes = noise(mimi_client_api::blobs::DEFAULT_MAX_BLOB_BYTES, 1);
        let response = upload(&base, Some(&alice.token), bytes.clone()).await;
        assert_eq!(response.status().as_u16(), 201);
        let stored: BlobStored = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        let client = reqwest::Client::new();
        let get = || asset_request(&client, &base, &alice.token, &stored.url).send();
        // One whole download, so that what one costs is in the baseline.
        let whole = get().await.unwrap();
        assert_eq!(
            whole.content_length(),
            Some(bytes.len() as u64),
            "the length is announced before the streamed body"
        );
        assert_eq!(whole.bytes().await.unwrap().as_ref(), bytes.as_slice());
        drop(bytes);
        let before = resident_bytes();

        // As many readers as allowed, each taking the first bytes and then stalling.
        let mut readers = Vec::new();
        for _ in 0..READERS {
            let mut response = get().await.unwrap();
            assert_eq!(response.status().as_u16(), 200);
            assert!(!response.chunk().await.unwrap().unwrap().is_empty());
            readers.push(response);
        }
        let after = resident_bytes();
        // Held whole per reader, this would be 30 x 25 MiB = 750 MiB more; streamed, each
        // reader holds a chunk and the socket buffers.
        if let (Some(before), Some(after)) = (before, after) {
            let grown = after.saturating_sub(before);
            eprintln!("{READERS} stalled readers: resident memory grew by {grown} bytes");
            assert!(
                grown < 200 * 1024 * 1024,
                "{READERS} stalled readers grew the process by {grown} bytes"
            );
        }

        // One more is refused while they hold their permits: 429 with Retry-After.
        let refused = get().await.unwrap();
        assert!(refused.headers().contains_key("retry-after"));
        let (status, code) = error_of(refused).await;
        assert_eq!((status, code), (429, ErrorCode::RateLimited));

        // The readers go away; their permits come back and a whole download works again.
        drop(readers);
        let mut attempts = 0;
        let again = loop {
            let response = get().await.unwrap();
            if response.status().as_u16() != 429 || attempts == 100 {
                break response;
            }
            attempts += 1;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(again.status().as_u16(), 200);
        let got = again.bytes().await.unwrap();
        assert_eq!(hex::encode(Sha256::digest(&got)), stored.id);
    });
}

/// The quota limits of [`check_quotas_and_upload_cap`].
fn quota_limits(config: &mut mimi_server::Config) {
    config.limits.max_blob_bytes = 8192;
    config.limits.blob_quota_per_device_bytes = 10_000;
    config.limits.blob_quota_per_provider_bytes = 25_000;
    config.limits.blob_uploads_at_once = 1;
}

#[test]
fn uploads_are_capped_at_once_and_by_quota() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation_with(dir.path(), &["x.example", "y.example"], |i, c| {
        if i == 0 {
            quota_limits(c);
        }
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(check_quotas_and_upload_cap(&nodes[0]));
}

#[test]
fn blobs_on_postgres_are_chunked_streamed_and_within_quota() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(common::PgDatabase::create(
        "blobs_on_postgres_are_chunked_streamed_and_within_quota",
    )) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = database.url.clone();
    let mut nodes = common::federation_with(dir.path(), &["x.example", "y.example"], |i, c| {
        if i == 0 {
            quota_limits(c);
            c.database.url = Some(url.clone());
        }
    });
    runtime.block_on(check_quotas_and_upload_cap(&nodes[0]));
    // A blob of several chunks, streamed back byte for byte.
    nodes[0].config.limits = mimi_server::config::Limits::default();
    nodes[0].restart().unwrap();
    let base = nodes[0].base_url();
    runtime.block_on(async {
        let api = Api::new(base.clone());
        let mut carol = Device::register(&api, "alice", "tablet", 0).await;
        let room = own_room(&mut carol).await;
        let bytes = noise(600 * 1024 + 7, 9);
        let response = upload_in(&base, Some(&carol.token), &room, bytes.clone()).await;
        assert_eq!(response.status().as_u16(), 201);
        let stored: BlobStored = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        let got = download(&base, &carol.token, &stored.url).await;
        assert_eq!(got.content_length(), Some(bytes.len() as u64));
        assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());
    });
    drop(nodes);
    runtime.block_on(database.drop_now());
}

/// Quotas per device and per provider, and one upload at once, on `node` (configured with
/// [`quota_limits`]).
async fn check_quotas_and_upload_cap(node: &common::Node) {
    let base = node.base_url();
    let addr = node.client_addr;
    {
        let api = Api::new(base.clone());
        Device::register_user(&api, "alice").await;
        let mut phone = Device::register(&api, "alice", "phone", 0).await;
        let mut laptop = Device::register(&api, "alice", "laptop", 0).await;
        Device::register_user(&api, "bob").await;
        let mut bob = Device::register(&api, "bob", "bobphone", 0).await;
        let phone_room = own_room(&mut phone).await;
        let laptop_room = own_room(&mut laptop).await;
        let bob_room = own_room(&mut bob).await;
        let url_of = |bytes: &[u8]| {
            format!(
                "https://x.example/v1/blobs/{}?room={}",
                hex::encode(Sha256::digest(bytes)),
                encode_param(&phone_room)
            )
        };
        let upload = |token: &str, bytes: Vec<u8>| {
            let room = if token == phone.token {
                phone_room.clone()
            } else if token == laptop.token {
                laptop_room.clone()
            } else {
                bob_room.clone()
            };
            let token = token.to_owned();
            let base = base.clone();
            async move { upload_in(&base, Some(&token), &room, bytes).await }
        };

        // Per device: 6,000 then 6,000 more would pass 10,000.
        let first = noise(6000, 2);
        let response = upload(&phone.token, first.clone()).await;
        assert_eq!(response.status().as_u16(), 201);
        let second = noise(6000, 3);
        let response = upload(&phone.token, second.clone()).await;
        let status = response.status().as_u16();
        let error: ApiError = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!((status, error.code), (507, ErrorCode::QuotaExceeded));
        assert!(
            error.message.contains("blob_quota_per_device_bytes")
                && error.message.contains("operator"),
            "{}",
            error.message
        );
        // Nothing of it was stored.
        let response = download(&base, &phone.token, &url_of(&second)).await;
        assert_eq!(error_of(response).await, (404, ErrorCode::NotFound));
        // Uploading stored bytes again costs nothing, even at the quota.
        let response = upload(&phone.token, first.clone()).await;
        assert_eq!(response.status().as_u16(), 201);
        // Sentinel: up to the quota exactly still passes.
        let fits = noise(4000, 4);
        let response = upload(&phone.token, fits.clone()).await;
        assert_eq!(response.status().as_u16(), 201);
        let got = download(&base, &phone.token, &url_of(&fits)).await;
        assert_eq!(got.bytes().await.unwrap().as_ref(), fits.as_slice());

        // Per provider: 10,000 stored; 8,000 and 7,000 more reach 25,000, one byte more
        // does not pass.
        let response = upload(&laptop.token, noise(8000, 5)).await;
        assert_eq!(response.status().as_u16(), 201);
        let response = upload(&bob.token, noise(7001, 6)).await;
        let status = response.status().as_u16();
        let error: ApiError = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!((status, error.code), (507, ErrorCode::QuotaExceeded));
        assert!(
            error.message.contains("blob_quota_per_provider_bytes"),
            "{}",
            error.message
        );
        let response = upload(&bob.token, noise(7000, 6)).await;
        assert_eq!(response.status().as_u16(), 201);

        // At once: an upload whose body is still coming holds the one permit (the server
        // asks for the body with 100 Continue only after it took the permit)...
        let token = bob.token.clone();
        let held_path = format!("/v1/blobs?room={}", encode_param(&bob_room));
        let held = tokio::task::spawn_blocking(move || {
            use std::io::{Read as _, Write as _};
            let mut tcp = std::net::TcpStream::connect(addr).unwrap();
            write!(
                tcp,
                "POST {held_path} HTTP/1.1\r\nHost: x.example\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/octet-stream\r\nContent-Length: 100\r\n\
                 Expect: 100-continue\r\n\r\n"
            )
            .unwrap();
            let mut seen = Vec::new();
            let mut byte = [0u8; 1];
            while !seen.ends_with(b"\r\n\r\n") {
                assert_eq!(tcp.read(&mut byte).unwrap(), 1);
                seen.push(byte[0]);
            }
            assert!(seen.starts_with(b"HTTP/1.1 100"), "{seen:?}");
            tcp
        })
        .await
        .unwrap();
        // ... so another is refused with 429 and Retry-After.
        let refused = upload(&laptop.token, vec![1, 2, 3]).await;
        assert!(refused.headers().contains_key("retry-after"));
        assert_eq!(error_of(refused).await, (429, ErrorCode::RateLimited));
        // Sentinel: once that upload is abandoned, the next one passes (bytes stored already:
        // the provider is at its quota).
        drop(held);
        let mut attempts = 0;
        let response = loop {
            let response = upload(&laptop.token, fits.clone()).await;
            if response.status().as_u16() != 429 || attempts == 100 {
                break response;
            }
            attempts += 1;
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        assert_eq!(response.status().as_u16(), 201);
    }
}

#[test]
fn a_blob_of_the_one_row_layout_is_moved_into_chunks_and_served() {
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let base = nodes[0].base_url();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let token = runtime.block_on(async {
        let api = Api::new(base.clone());
        Device::register_user(&api, "alice").await;
        let mut alice = Device::register(&api, "alice", "phone", 0).await;
        alice.create_room(ROOM).await;
        alice.token.clone()
    });
    nodes[0].stop();
    let bytes = noise(300 * 1024, 11);
    let id = hex::encode(Sha256::digest(&bytes));
    runtime.block_on(async {
        // As the earlier layout stored it: the bytes in the blobs row.
        let file = nodes[0].config.data_dir().join("accounts.sqlite3");
        let options = sqlx::sqlite::SqliteConnectOptions::new().filename(file);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        sqlx::query(
            "INSERT INTO blobs (id, bytes, size, uploaded_by, uploaded_ms) \
             VALUES ($1, $2, $3, 'mimi://x.example/d/alice/phone', 0)",
        )
        .bind(&id)
        .bind(&bytes)
        .bind(bytes.len() as i64)
        .execute(&pool)
        .await
        .unwrap();
        sqlx::query("DELETE FROM blob_chunks")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query("INSERT INTO blob_rooms (id, room) VALUES ($1, $2)")
            .bind(&id)
            .bind(ROOM)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    });
    nodes[0].restart().unwrap();
    runtime.block_on(async {
        let got = download(&base, &token, &asset_url(&id)).await;
        assert_eq!(got.status().as_u16(), 200);
        assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());
    });
}
