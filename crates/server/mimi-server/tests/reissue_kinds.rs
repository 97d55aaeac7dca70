//! Issue 18, a re-issued credential keeps what the device is: a bot device (`kind: bot` with a
//! name and homepage) and a logging device registered through a real `mimi serve` get, from
//! `POST /v1/devices/reissue`, a credential that carries the same marker as their first one
//! (else a bot or logger would turn into an ordinary device that rooms' `bot_policy` and
//! `logging_policy` no longer see); a person's device stays a person's device.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Api, Device, now_s};
use mimi_client_api::{DeviceKind, DeviceRegistered, RegisterDevice, ReissueDevice};
use mimi_mls::{ClientKind, SigningKey, TrustStore, VerifiedIdentity, X509Credential};
use reqwest::Method;

/// The kind `registered`'s credential certifies for `key`, validated against its trust bundle.
fn kind_of(registered: &DeviceRegistered, key: &SigningKey) -> ClientKind {
    let mut trust = TrustStore::new();
    for (domain, ca) in &registered.trust_bundle {
        trust.pin(domain.parse().unwrap(), ca).unwrap();
    }
    let credential = X509Credential::from_chain(registered.credential.clone());
    match trust.validate(&credential, key.public(), now_s()).unwrap() {
        VerifiedIdentity::Client { client, kind, .. } => {
            assert_eq!(client.to_string(), registered.client);
            kind
        }
        other => panic!("not a client credential: {other:?}"),
    }
}

/// Registers `device_id` of `user_id` as `kind`; re-issues its credential for a new key; returns
/// the kinds of the first and the re-issued credential.
async fn register_and_reissue(
    api: &Api,
    user_id: &str,
    device_id: &str,
    kind: Option<DeviceKind>,
) -> (ClientKind, ClientKind) {
    Device::register_user(api, user_id).await;
    let key = SigningKey::generate().unwrap();
    let registered: DeviceRegistered = api
        .call(
            Method::POST,
            "/v1/devices",
            None,
            Some(&RegisterDevice {
                user_id: user_id.into(),
                password: format!("{user_id}-password"),
                device_id: device_id.into(),
                signature_key: key.public().to_vec(),
                kind,
            }),
        )
        .await
        .unwrap();
    let first = kind_of(&registered, &key);
    let new_key = SigningKey::generate().unwrap();
    let reissued: DeviceRegistered = api
        .call(
            Method::POST,
            "/v1/devices/reissue",
            Some(&registered.token),
            Some(&ReissueDevice {
                signature_key: new_key.public().to_vec(),
            }),
        )
        .await
        .unwrap();
    assert_eq!(reissued.client, registered.client);
    assert_ne!(reissued.credential, registered.credential);
    (first, kind_of(&reissued, &new_key))
}

#[test]
fn a_reissued_bot_or_logger_keeps_its_marker_and_a_person_stays_a_person() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let api = Api::new(nodes[0].base_url());
        let standup = ClientKind::Bot {
            name: "Standup".into(),
            homepage: "https://bots.example/standup".into(),
        };
        let bot = DeviceKind::Bot {
            name: "Standup".into(),
            homepage: "https://bots.example/standup".into(),
        };
        assert_eq!(
            register_and_reissue(&api, "standup", "bot", Some(bot)).await,
            (standup.clone(), standup)
        );
        assert_eq!(
            register_and_reissue(&api, "lou", "logger", Some(DeviceKind::Logger)).await,
            (ClientKind::Logger, ClientKind::Logger)
        );
        assert_eq!(
            register_and_reissue(&api, "alice", "phone", None).await,
            (ClientKind::Person, ClientKind::Person)
        );
    });
}
