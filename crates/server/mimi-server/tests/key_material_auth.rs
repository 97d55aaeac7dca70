//! A key-material request is authenticated once, where it enters, by the engine
//! (`VerifiedKeyMaterialRequest::verify`), through two real servers: a device of the room's hub
//! provider posts requests to the client API that are signed with the wrong key, or signed by
//! another user, or name another user than they are signed for; each is refused (403) and
//! claims no KeyPackage. A genuine request after them gets every KeyPackage it asks for.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Api, Device, Refused};
use mimi_client_api::{ErrorCode, HubAnswer, KeyMaterialFetch};
use mimi_federation_api::Encode;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::key_material::KeyMaterialRequestTbs;
use mimi_federation_api::mls::{Credential, RequiredCapabilities, Signature, SignaturePublicKey};
use mimi_federation_api::path::encode_param;
use mimi_mls::{SigningKey, sign};
use mimi_types::codepoints::DEFAULT_CIPHERSUITE;
use mimi_types::{RoomUri, UserUri};

/// The capabilities every test device asks for (as `common::device` does).
fn required_capabilities() -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&[0x02, 0x00, 0x06]);
    out.extend_from_slice(&[0x04, 0x00, 0x08, 0x00, 0x0a]);
    out.extend_from_slice(&[0x02, 0x00, 0x02]);
    out
}

/// A request for `target`'s KeyPackages in `room`, naming `requester` as the requesting user,
/// carrying `signer`'s credential and key, and signed with `signing_key`.
fn request(
    requester: &UserUri,
    signer: &Device,
    signing_key: &SigningKey,
    target: &UserUri,
    room: &RoomUri,
) -> Vec<u8> {
    let tbs = KeyMaterialRequestTbs::new(
        IdentifierUri::from_string(requester.to_string()).unwrap(),
        IdentifierUri::from_string(target.to_string()).unwrap(),
        IdentifierUri::from_string(room.to_string()).unwrap(),
        vec![DEFAULT_CIPHERSUITE],
        RequiredCapabilities::from_bytes(required_capabilities()).unwrap(),
        SignaturePublicKey::from_bytes(signer.identity().signing_key().public().to_vec()).unwrap(),
        Credential::from_bytes(signer.identity().mls_credential_bytes().unwrap()).unwrap(),
    );
    let signature = sign::sign_with_label(
        signing_key,
        sign::KEY_MATERIAL_REQUEST,
        &tbs.encode().unwrap(),
    )
    .unwrap();
    tbs.sign(Signature::from_bytes(signature).unwrap())
        .encode()
        .unwrap()
}

/// Posts `request` with `device`'s token to the client API's key-material route.
async fn post(
    device: &Device,
    room: &RoomUri,
    target: &UserUri,
    request: Vec<u8>,
) -> Result<HubAnswer, Refused> {
    let path = format!(
        "/v1/rooms/{}/key-material/{}",
        encode_param(room),
        encode_param(target)
    );
    device
        .api
        .call(
            reqwest::Method::POST,
            &path,
            Some(&device.token),
            Some(&KeyMaterialFetch { request }),
        )
        .await
}

fn assert_forbidden(refused: Refused, says: &str, case: &str) {
    assert_eq!(refused.status, 403, "{case}: {refused:?}");
    let error = refused.error.unwrap();
    assert_eq!(error.code, ErrorCode::Forbidden, "{case}");
    assert!(
        error.message.contains(says),
        "{case}: {:?} does not say {says:?}",
        error.message
    );
}

#[test]
fn unauthenticated_key_material_requests_are_refused_once_and_claim_nothing() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        for user in ["alice", "carol"] {
            Device::register_user(&x, user).await;
        }
        Device::register_user(&y, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 1).await;
        let carol = Device::register(&x, "carol", "phone", 1).await;
        // Each of Bob's devices has two fresh KeyPackages and no last-resort one: a refused
        // request that claimed one would leave the second genuine claim below short.
        let bob_phone = Device::register(&y, "bob", "phone", 2).await;
        let bob_tablet = Device::register(&y, "bob", "tablet", 2).await;
        let bob = bob_phone.user().clone();
        assert_eq!(bob_tablet.user(), &bob);
        let room = alice.create_room("mimi://x.example/r/keys").await;

        // Alice's credential and key, but a signature by another key.
        let stranger = SigningKey::generate().unwrap();
        let forged = request(alice.user(), &alice, &stranger, &bob, &room);
        let refused = post(&alice, &room, &bob, forged).await.unwrap_err();
        assert_forbidden(refused, "not authenticated", "forged signature");

        // Carol's credential and key, claiming to request as Alice.
        let impostor = request(
            alice.user(),
            &carol,
            carol.identity().signing_key(),
            &bob,
            &room,
        );
        let refused = post(&alice, &room, &bob, impostor).await.unwrap_err();
        assert_forbidden(refused, "not authenticated", "another user's credential");

        // Carol's genuine request, handed in with Alice's token.
        let carols = request(
            carol.user(),
            &carol,
            carol.identity().signing_key(),
            &bob,
            &room,
        );
        let refused = post(&alice, &room, &bob, carols).await.unwrap_err();
        assert_forbidden(refused, "not for your user", "someone else's request");

        // Sentinel: Alice's genuine requests get one KeyPackage per device of Bob, twice over
        // (each device had two: none went to a refused request).
        for claim in 0..2 {
            let got = alice.key_material(&room, &bob).await.unwrap();
            assert_eq!(got.len(), 2, "genuine claim {claim}");
        }
    });
}
