//! Client API refusals, each with its code: no or unknown token, wrong password, duplicate
//! names, unknown room, not a member, acting for someone else, malformed bodies; and the
//! OpenAPI document.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::future::Future;

use common::device::{Api, Device, Refused};
use mimi_client_api::{
    CreateRoom, DeviceRegistered, ErrorCode, HubAnswer, RegisterAccount, RegisterDevice, RoomList,
    SubmitUpdate, UploadKeyPackages,
};
use mimi_federation_api::path::encode_param;
use reqwest::Method;

fn ok_update(outcome: &mimi_federation_api::update::UpdateOutcome) {
    assert!(
        matches!(
            outcome,
            mimi_federation_api::update::UpdateOutcome::Success { .. }
        ),
        "{outcome:?}"
    );
}

fn code(result: Result<serde_json::Value, Refused>) -> (u16, ErrorCode) {
    let refused = result.expect_err("the request should have been refused");
    let error = refused.error.expect("a JSON error body");
    assert!(!error.message.is_empty());
    (refused.status, error.code)
}

struct One {
    _dir: tempfile::TempDir,
    nodes: Vec<common::Node>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Drop for One {
    fn drop(&mut self) {
        drop(self.runtime.take());
        self.nodes.clear();
    }
}

fn one_provider() -> One {
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    One {
        _dir: dir,
        nodes,
        runtime: Some(tokio::runtime::Runtime::new().unwrap()),
    }
}

impl One {
    fn run<F: Future<Output = ()>>(&self, f: impl FnOnce(Api, Api) -> F) {
        let x = Api::new(self.nodes[0].base_url());
        let y = Api::new(self.nodes[1].base_url());
        self.runtime.as_ref().unwrap().block_on(f(x, y));
    }
}

#[test]
fn requests_without_a_valid_token_are_unauthorized() {
    one_provider().run(|x, _| async move {
        let none = x
            .call::<serde_json::Value>(Method::GET, "/v1/rooms", None, None::<&()>)
            .await;
        assert_eq!(code(none), (401, ErrorCode::Unauthorized));
        let wrong = x
            .call::<serde_json::Value>(Method::GET, "/v1/rooms", Some("00ff"), None::<&()>)
            .await;
        assert_eq!(code(wrong), (401, ErrorCode::Unauthorized));
        let upload = x
            .call::<serde_json::Value>(
                Method::POST,
                "/v1/key-packages",
                None,
                Some(&UploadKeyPackages {
                    key_packages: vec![],
                }),
            )
            .await;
        assert_eq!(code(upload), (401, ErrorCode::Unauthorized));
    });
}

#[test]
fn wrong_password_and_unknown_user_are_refused_alike() {
    one_provider().run(|x, _| async move {
        Device::register_user(&x, "alice").await;
        let register = |user: &str, password: &str| RegisterDevice {
            user_id: user.into(),
            password: password.into(),
            device_id: "phone".into(),
            signature_key: vec![1; 32],
            kind: None,
        };
        let wrong = x
            .call::<serde_json::Value>(
                Method::POST,
                "/v1/devices",
                None,
                Some(&register("alice", "not-the-password")),
            )
            .await;
        assert_eq!(code(wrong), (401, ErrorCode::WrongPassword));
        let unknown = x
            .call::<serde_json::Value>(
                Method::POST,
                "/v1/devices",
                None,
                Some(&register("mallory", "whatever-it-is")),
            )
            .await;
        assert_eq!(code(unknown), (401, ErrorCode::WrongPassword));
    });
}

#[test]
fn registration_refusals_name_their_cause() {
    one_provider().run(|x, _| async move {
        Device::register_user(&x, "alice").await;
        let again = x
            .call::<serde_json::Value>(
                Method::POST,
                "/v1/accounts",
                None,
                Some(&RegisterAccount {
                    user_id: "alice".into(),
                    password: "another-password".into(),
                }),
            )
            .await;
        assert_eq!(code(again), (409, ErrorCode::AlreadyExists));
        let short = x
            .call::<serde_json::Value>(
                Method::POST,
                "/v1/accounts",
                None,
                Some(&RegisterAccount {
                    user_id: "bob".into(),
                    password: "short".into(),
                }),
            )
            .await;
        assert_eq!(code(short), (400, ErrorCode::BadRequest));
        let bad_id = x
            .call::<serde_json::Value>(
                Method::POST,
                "/v1/accounts",
                None,
                Some(&RegisterAccount {
                    user_id: "a/b".into(),
                    password: "long-enough-password".into(),
                }),
            )
            .await;
        assert_eq!(code(bad_id), (400, ErrorCode::BadRequest));
        let not_json = x
            .call::<serde_json::Value>(Method::POST, "/v1/accounts", None, Some(&"just a string"))
            .await;
        assert_eq!(code(not_json), (400, ErrorCode::BadRequest));
        let _alice = Device::register(&x, "alice", "phone", 0).await;
        let twice = x
            .call::<serde_json::Value>(
                Method::POST,
                "/v1/devices",
                None,
                Some(&RegisterDevice {
                    user_id: "alice".into(),
                    password: "alice-password".into(),
                    device_id: "phone".into(),
                    signature_key: vec![1; 32],
                    kind: None,
                }),
            )
            .await;
        assert_eq!(code(twice), (409, ErrorCode::AlreadyExists));
        let bad_key = x
            .call::<serde_json::Value>(
                Method::POST,
                "/v1/devices",
                None,
                Some(&RegisterDevice {
                    user_id: "alice".into(),
                    password: "alice-password".into(),
                    device_id: "tablet".into(),
                    signature_key: vec![1; 5],
                    kind: None,
                }),
            )
            .await;
        assert_eq!(code(bad_key), (400, ErrorCode::BadRequest));
    });
}

#[test]
fn user_names_are_one_account_whatever_their_case_or_encoding() {
    one_provider().run(|x, y| async move {
        Device::register_user(&x, "alice").await;
        for spelled in ["ALICE", "%61lice", "Al%69ce"] {
            let again = x
                .call::<serde_json::Value>(
                    Method::POST,
                    "/v1/accounts",
                    None,
                    Some(&RegisterAccount {
                        user_id: spelled.into(),
                        password: "another-password".into(),
                    }),
                )
                .await;
            assert_eq!(code(again), (409, ErrorCode::AlreadyExists), "{spelled}");
        }
        // Logging in by another spelling reaches Alice's account, under its canonical name.
        let key = mimi_mls::SigningKey::generate().unwrap();
        let registered: DeviceRegistered = x
            .call(
                Method::POST,
                "/v1/devices",
                None,
                Some(&RegisterDevice {
                    user_id: "%41LICE".into(),
                    password: "alice-password".into(),
                    device_id: "phone".into(),
                    signature_key: key.public().to_vec(),
                    kind: None,
                }),
            )
            .await
            .unwrap();
        assert_eq!(registered.user, "mimi://x.example/u/alice");
        assert_eq!(registered.client, "mimi://x.example/d/alice/phone");

        // Key material for "BOB" of another provider is Bob's.
        Device::register_user(&y, "bob").await;
        let _bob = Device::register(&y, "bob", "laptop", 1).await;
        let mut carol = {
            Device::register_user(&x, "carol").await;
            Device::register(&x, "carol", "phone", 0).await
        };
        let room = carol.create_room("mimi://x.example/r/names").await;
        let shouted = mimi_types::UserUri::parse("mimi://y.example/u/BOB").unwrap();
        let material = carol.key_material(&room, &shouted).await.unwrap();
        assert_eq!(material.len(), 1, "Bob's one device");
    });
}

#[test]
fn unknown_rooms_are_not_found_here_and_at_a_remote_hub() {
    one_provider().run(|x, _| async move {
        Device::register_user(&x, "alice").await;
        let alice = Device::register(&x, "alice", "phone", 0).await;
        for room in ["mimi://x.example/r/nope", "mimi://y.example/r/nope"] {
            let path = format!("/v1/rooms/{}/update", encode_param(&room));
            let result = x
                .call::<HubAnswer>(
                    Method::POST,
                    &path,
                    Some(&alice.token),
                    Some(&SubmitUpdate {
                        request: vec![0, 1],
                        external_join: false,
                    }),
                )
                .await;
            let refused = result.expect_err("refused");
            let error = refused.error.unwrap();
            if room.contains("x.example") {
                assert_eq!((refused.status, error.code), (404, ErrorCode::NotFound));
                assert!(error.message.contains("no such room"), "{}", error.message);
            } else {
                // The remote hub refused: the answer says so.
                assert_eq!(
                    (refused.status, error.code),
                    (502, ErrorCode::PeerUnavailable)
                );
                assert!(error.message.contains("y.example"), "{}", error.message);
            }
        }
        let path = format!(
            "/v1/rooms/{}/external-join",
            encode_param(&"mimi://x.example/r/nope")
        );
        let missing = x
            .call::<serde_json::Value>(Method::GET, &path, Some(&alice.token), None::<&()>)
            .await;
        assert_eq!(code(missing), (404, ErrorCode::NotFound));
    });
}

#[test]
fn non_members_and_impostors_are_forbidden() {
    one_provider().run(|x, _| async move {
        Device::register_user(&x, "alice").await;
        Device::register_user(&x, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 1).await;
        let bob = Device::register(&x, "bob", "phone", 1).await;
        let room = alice.create_room("mimi://x.example/r/private").await;

        // Bob is no participant: no GroupInfo for an external join.
        let path = format!("/v1/rooms/{}/external-join", encode_param(&room));
        let join = x
            .call::<serde_json::Value>(Method::GET, &path, Some(&bob.token), None::<&()>)
            .await;
        assert_eq!(code(join), (403, ErrorCode::Forbidden));

        // Key material signed by Alice's device but sent with Bob's token.
        let own_token = std::mem::replace(&mut alice.token, bob.token.clone());
        let result = alice.key_material(&room, bob.user()).await;
        let refused = result.expect_err("refused");
        assert_eq!(
            (refused.status, refused.error.unwrap().code),
            (403, ErrorCode::Forbidden)
        );
        // A message claiming Alice as sender, sent with Bob's token.
        let sent = alice.send(&room, "not me").await.expect_err("refused");
        assert_eq!(
            (sent.status, sent.error.unwrap().code),
            (403, ErrorCode::Forbidden)
        );
        // Alice's commit, submitted with Bob's token.
        let commit = alice.self_update(&room).await.expect_err("refused");
        assert_eq!(
            (commit.status, commit.error.unwrap().code),
            (403, ErrorCode::Forbidden)
        );
        // A GroupInfo request carrying Alice's credential, sent with Bob's token.
        let join = alice.join_via_group_info(&room).await.expect_err("refused");
        assert_eq!(
            (join.status, join.error.unwrap().code),
            (403, ErrorCode::Forbidden)
        );
        alice.token = own_token;
        // With her own token, the same kind of commit goes through.
        ok_update(&alice.self_update(&room).await.unwrap());

        // KeyPackages of Alice's device uploaded with Bob's token.
        let kp = alice
            .identity()
            .key_package(common::device::now_s(), 3600, false)
            .unwrap();
        let upload = x
            .call::<serde_json::Value>(
                Method::POST,
                "/v1/key-packages",
                Some(&bob.token),
                Some(&UploadKeyPackages {
                    key_packages: vec![kp.message],
                }),
            )
            .await;
        assert_eq!(code(upload), (403, ErrorCode::Forbidden));

        // A room hosted elsewhere cannot be created here; an existing one not twice.
        for (name, expected) in [
            ("mimi://y.example/r/theirs", (400, ErrorCode::BadRequest)),
            (
                "mimi://x.example/r/private",
                (409, ErrorCode::AlreadyExists),
            ),
        ] {
            let create = x
                .call::<serde_json::Value>(
                    Method::POST,
                    "/v1/rooms",
                    Some(&alice.token),
                    Some(&CreateRoom {
                        room: name.into(),
                        group_info: vec![],
                        ratchet_tree: vec![],
                    }),
                )
                .await;
            assert_eq!(code(create), expected, "{name}");
        }

        // Alice lists her room; Bob none.
        let list: RoomList = x
            .call(Method::GET, "/v1/rooms", Some(&alice.token), None::<&()>)
            .await
            .unwrap();
        assert_eq!(list.rooms, vec![room.to_string()]);
        let list: RoomList = x
            .call(Method::GET, "/v1/rooms", Some(&bob.token), None::<&()>)
            .await
            .unwrap();
        assert!(list.rooms.is_empty());
    });
}

#[test]
fn the_openapi_document_is_served() {
    one_provider().run(|x, _| async move {
        let doc: serde_json::Value = x
            .call(Method::GET, "/openapi.json", None, None::<&()>)
            .await
            .unwrap();
        for route in mimi_client_api::routes::ALL {
            assert!(doc["paths"][route.path].is_object(), "{}", route.path);
        }
    });
}
