//! Unauthenticated exhaustion, through a real server: a burst of wrong passwords for one
//! account meets 429 with `Retry-After` (another account still logs in); registrations from one
//! address meet 429 (another address still registers); a login for an unknown user runs the
//! password hash like one for a known user (counted, never timed); the hash semaphore bounds
//! how many run at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;

use common::device::{Api, Device};
use mimi_client_api::{ApiError, ErrorCode, RegisterAccount, RegisterDevice};
use mimi_mls::SigningKey;

async fn metrics(base: &str) -> BTreeMap<String, f64> {
    let api = Api::new(base.to_owned());
    let text = api
        .http
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse::<f64>().unwrap())
        })
        .collect()
}

fn at(m: &BTreeMap<String, f64>, key: &str) -> f64 {
    m.get(key).copied().unwrap_or(0.0)
}

/// A client whose requests come from `source` (any 127.0.0.0/8 address is loopback).
fn client_from(source: &str) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .local_address(source.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// `POST path` with a JSON body: (status, `Retry-After` seconds, error).
async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    body: &impl serde::Serialize,
) -> (u16, Option<u64>, Option<ApiError>) {
    let response = http
        .post(format!("{base}{path}"))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    let error = serde_json::from_slice(&response.bytes().await.unwrap()).ok();
    (status, retry_after, error)
}

fn login(user: &str, password: &str, device: &str) -> RegisterDevice {
    RegisterDevice {
        user_id: user.into(),
        password: password.into(),
        device_id: device.into(),
        signature_key: SigningKey::generate().unwrap().public().to_vec(),
        kind: None,
    }
}

fn account(user: &str) -> RegisterAccount {
    RegisterAccount {
        user_id: user.into(),
        password: format!("{user}-password"),
    }
}

#[test]
fn a_burst_of_wrong_passwords_meets_429_with_retry_after() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let base = nodes[0].base_url();
        let x = Api::new(base.clone());
        Device::register_user(&x, "alice").await;
        Device::register_user(&x, "bob").await;
        let http = client_from("127.0.0.1");
        let mut wrong = 0;
        let limited = loop {
            let (status, retry_after, error) = post(
                &http,
                &base,
                "/v1/devices",
                &login("alice", "not-it-at-all", "d"),
            )
            .await;
            if status == 429 {
                assert_eq!(error.unwrap().code, ErrorCode::RateLimited);
                break retry_after;
            }
            assert_eq!(status, 401, "a wrong password");
            assert_eq!(error.unwrap().code, ErrorCode::WrongPassword);
            wrong += 1;
            assert!(wrong <= 15, "no 429 after {wrong} wrong passwords");
        };
        assert!(wrong >= 5, "the limit let only {wrong} attempts through");
        let retry_after = limited.expect("a 429 says when to retry");
        assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
        let m = metrics(&base).await;
        assert!(
            at(&m, "mimi_auth_rate_limited_total{kind=\"account\"}") >= 1.0,
            "{m:#?}"
        );

        // Sentinel: another account, same address, logs in.
        let (status, _, error) = post(
            &http,
            &base,
            "/v1/devices",
            &login("bob", "bob-password", "phone"),
        )
        .await;
        assert_eq!(status, 201, "{error:?}");
    });
}

#[test]
fn registrations_are_limited_per_address_hashes_run_for_unknown_users_and_are_bounded() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation_with(dir.path(), &["x.example"], |_, c| {
        c.limits.auth_attempts_per_source = 12;
        c.limits.password_hash_concurrency = 1;
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let base = nodes[0].base_url();
        let from_one = client_from("127.0.0.1");
        let from_two = client_from("127.0.0.2");

        // Eight registrations at once from one address: all pass, one hash at a time.
        let burst: Vec<_> = (0..8)
            .map(|n| {
                let (http, base) = (from_one.clone(), base.clone());
                tokio::spawn(async move {
                    post(&http, &base, "/v1/accounts", &account(&format!("user{n}"))).await
                })
            })
            .collect();
        for task in burst {
            let (status, _, error) = task.await.unwrap();
            assert_eq!(status, 201, "{error:?}");
        }
        let m = metrics(&base).await;
        assert_eq!(at(&m, "mimi_password_hashes_total"), 8.0, "{m:#?}");
        assert_eq!(at(&m, "mimi_password_hash_peak_concurrency"), 1.0, "{m:#?}");

        // An unknown user's login runs the hash, as a known user's wrong password does.
        let (status, _, _) = post(
            &from_one,
            &base,
            "/v1/devices",
            &login("nobody", "x-password", "d"),
        )
        .await;
        assert_eq!(status, 401);
        let unknown = metrics(&base).await;
        assert_eq!(
            at(&unknown, "mimi_password_hashes_total"),
            9.0,
            "{unknown:#?}"
        );
        let (status, _, _) = post(
            &from_one,
            &base,
            "/v1/devices",
            &login("user0", "x-password", "d"),
        )
        .await;
        assert_eq!(status, 401);
        let known = metrics(&base).await;
        assert_eq!(at(&known, "mimi_password_hashes_total"), 10.0, "{known:#?}");

        // Address one has used 10 of its 12 per minute: the burst goes over.
        let mut refused = None;
        for n in 0..8 {
            let (status, retry_after, error) = post(
                &from_one,
                &base,
                "/v1/accounts",
                &account(&format!("late{n}")),
            )
            .await;
            if status == 429 {
                assert_eq!(error.unwrap().code, ErrorCode::RateLimited);
                refused = Some(retry_after.expect("Retry-After"));
                break;
            }
            assert_eq!(status, 201, "{error:?}");
        }
        assert!(refused.is_some(), "address one was never limited");
        let m = metrics(&base).await;
        assert_eq!(
            at(&m, "mimi_auth_rate_limited_total{kind=\"source\"}"),
            1.0,
            "{m:#?}"
        );
        let hashes = at(&m, "mimi_password_hashes_total");

        // The refusal ran no hash; sentinel: another address registers and logs in.
        let (status, _, error) = post(&from_two, &base, "/v1/accounts", &account("carol")).await;
        assert_eq!(status, 201, "{error:?}");
        let (status, _, error) = post(
            &from_two,
            &base,
            "/v1/devices",
            &login("carol", "carol-password", "phone"),
        )
        .await;
        assert_eq!(status, 201, "{error:?}");
        let m = metrics(&base).await;
        assert_eq!(at(&m, "mimi_password_hashes_total"), hashes + 2.0, "{m:#?}");
    });
}

#[test]
fn a_login_stores_a_password_hashed_at_an_old_cost_again_at_the_new_one() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = common::federation_with(dir.path(), &["x.example"], |_, c| {
        c.limits.password_hash_memory_kib = 64;
        c.limits.password_hash_iterations = 1;
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let base = nodes[0].base_url();
    let http = client_from("127.0.0.1");
    runtime.block_on(async {
        let (status, _, error) = post(&http, &base, "/v1/accounts", &account("alice")).await;
        assert_eq!(status, 201, "{error:?}");
    });

    // The operator raises the cost; alice's stored hash is of the old one.
    nodes[0].config.limits.password_hash_memory_kib = 19_456;
    nodes[0].config.limits.password_hash_iterations = 2;
    nodes[0].restart().unwrap();
    runtime.block_on(async {
        // A wrong password stores nothing: one run (the verification).
        let (status, _, _) = post(
            &http,
            &base,
            "/v1/devices",
            &login("alice", "x-password", "phone"),
        )
        .await;
        assert_eq!(status, 401);
        assert_eq!(at(&metrics(&base).await, "mimi_password_hashes_total"), 1.0);
        // The right one: verified at the old cost, then hashed again at the new one.
        let (status, _, error) = post(
            &http,
            &base,
            "/v1/devices",
            &login("alice", "alice-password", "phone"),
        )
        .await;
        assert_eq!(status, 201, "{error:?}");
        assert_eq!(at(&metrics(&base).await, "mimi_password_hashes_total"), 3.0);
        // Once: the next login only verifies.
        let (status, _, error) = post(
            &http,
            &base,
            "/v1/devices",
            &login("alice", "alice-password", "tablet"),
        )
        .await;
        assert_eq!(status, 201, "{error:?}");
        assert_eq!(at(&metrics(&base).await, "mimi_password_hashes_total"), 4.0);
    });

    // Back at the old cost, the password stored at the new one still verifies (and is stored
    // again at the old cost: a login's cost always converges on the configured one).
    nodes[0].config.limits.password_hash_memory_kib = 64;
    nodes[0].config.limits.password_hash_iterations = 1;
    nodes[0].restart().unwrap();
    runtime.block_on(async {
        let (status, _, error) = post(
            &http,
            &base,
            "/v1/devices",
            &login("alice", "alice-password", "laptop"),
        )
        .await;
        assert_eq!(status, 201, "{error:?}");
        assert_eq!(at(&metrics(&base).await, "mimi_password_hashes_total"), 2.0);
    });
}
