//! The blob routes: upload with a token (answered once stored, idempotent by hash, limited in
//! size), download by URL without one; the refusals with their codes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Api, Device};
use mimi_client_api::{ApiError, BlobStored, ErrorCode};
use sha2::{Digest, Sha256};

async fn upload(base: &str, token: Option<&str>, bytes: Vec<u8>) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(format!("{base}/v1/blobs"))
        .header("content-type", "application/octet-stream")
        .body(bytes);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.unwrap()
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
    nodes[0].restart();
    let base = nodes[0].base_url();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (stored, bytes, token) = runtime.block_on(async {
        let api = Api::new(base.clone());
        Device::register_user(&api, "alice").await;
        let alice = Device::register(&api, "alice", "phone", 0).await;

        let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
        let response = upload(&base, Some(&alice.token), bytes.clone()).await;
        assert_eq!(response.status().as_u16(), 201);
        let stored: BlobStored = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(stored.id, hex::encode(Sha256::digest(&bytes)));
        assert_eq!(stored.size, 4096);
        assert_eq!(stored.path, format!("/v1/blobs/{}", stored.id));

        // Idempotent: the same bytes again give the same ID.
        let again = upload(&base, Some(&alice.token), bytes.clone()).await;
        let again: BlobStored = serde_json::from_slice(&again.bytes().await.unwrap()).unwrap();
        assert_eq!(again, stored);

        // Downloaded without a token, byte for byte.
        let got = reqwest::get(format!("{base}{}", stored.path))
            .await
            .unwrap();
        assert_eq!(got.status().as_u16(), 200);
        assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());
        (stored, bytes, alice.token.clone())
    });

    // Stored durably: still there after a restart.
    nodes[0].restart();
    runtime.block_on(async {
        let got = reqwest::get(format!("{base}{}", stored.path))
            .await
            .unwrap();
        assert_eq!(got.bytes().await.unwrap().as_ref(), bytes.as_slice());

        // Too large (one byte over the limit): 413, nothing stored.
        let big = vec![1u8; 4097];
        let response = upload(&base, Some(&token), big.clone()).await;
        assert_eq!(error_of(response).await, (413, ErrorCode::TooLarge));
        let big_id = hex::encode(Sha256::digest(&big));
        let response = reqwest::get(format!("{base}/v1/blobs/{big_id}"))
            .await
            .unwrap();
        assert_eq!(error_of(response).await, (404, ErrorCode::NotFound));

        // No token, or an unknown one: 401.
        let response = upload(&base, None, vec![1, 2, 3]).await;
        assert_eq!(error_of(response).await, (401, ErrorCode::Unauthorized));
        let response = upload(&base, Some("00ff"), vec![1, 2, 3]).await;
        assert_eq!(error_of(response).await, (401, ErrorCode::Unauthorized));

        // Unknown blob: 404; not a blob ID: 400.
        let unknown = hex::encode(Sha256::digest(b"never uploaded"));
        let response = reqwest::get(format!("{base}/v1/blobs/{unknown}"))
            .await
            .unwrap();
        assert_eq!(error_of(response).await, (404, ErrorCode::NotFound));
        let response = reqwest::get(format!("{base}/v1/blobs/..%2Faccounts"))
            .await
            .unwrap();
        assert_eq!(error_of(response).await, (400, ErrorCode::BadRequest));
        let upper = stored.id.to_ascii_uppercase();
        let response = reqwest::get(format!("{base}/v1/blobs/{upper}"))
            .await
            .unwrap();
        assert_eq!(error_of(response).await, (400, ErrorCode::BadRequest));
    });
}
