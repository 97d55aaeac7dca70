//! The federation routes refuse what a peer may not do, with the status the draft gives, over
//! real mutual TLS: a notify from a provider that is not the room's hub, key material for a
//! user of another provider outside a room we host, updates and messages for rooms we do not
//! host, undecodable bodies. The directory advertises exactly the routed endpoints.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::client_as;
use mimi_federation_api::path::encode_param;

#[test]
fn peers_are_refused_what_they_may_not_do() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let y_to_x = client_as(&nodes[1].config, &nodes[0].config);
        let x = nodes[0].domain.clone();
        let post = |path: String, body: Vec<u8>| {
            let client = y_to_x.clone();
            let x = x.clone();
            async move { client.post(&x, &path, body).await.unwrap() }
        };

        // y is not the hub of a room on x: its notify is refused (after decoding).
        let room = encode_param(&"mimi://x.example/r/a");
        let body = some_notify();
        let r = post(format!("/notify/{room}"), body).await;
        assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
        assert!(String::from_utf8_lossy(&r.body).contains("not the hub"));

        // Undecodable notify body.
        let r = post(format!("/notify/{room}"), vec![0xff; 3]).await;
        assert_eq!(r.status, 400);

        // Rooms x does not host.
        for endpoint in ["update", "submitMessage"] {
            let r = post(format!("/{endpoint}/{room}"), vec![0; 4]).await;
            assert_eq!(
                r.status,
                404,
                "{endpoint}: {}",
                String::from_utf8_lossy(&r.body)
            );
        }

        // A path parameter that is no room.
        let r = post("/update/not-a-room".into(), vec![]).await;
        assert_eq!(r.status, 400);

        // Key material: an undecodable request.
        let user = encode_param(&"mimi://x.example/u/alice");
        let r = post(format!("/keyMaterial/{user}"), vec![1, 2, 3]).await;
        assert_eq!(r.status, 400);
    });
    drop(runtime);
    drop(nodes);
}

/// The directory a server publishes lists exactly the endpoints it routes (digest §2.2): every
/// advertised endpoint answers (a path parameter that is no URI gets its handler's 400, never
/// the router's 404), and the draft's endpoints it does not serve are neither advertised nor
/// routed.
#[test]
fn the_directory_advertises_exactly_the_served_endpoints() {
    use std::collections::BTreeSet;

    use mimi_federation_api::http::ENDPOINTS;

    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let y_to_x = client_as(&nodes[1].config, &nodes[0].config);
        let x = nodes[0].domain.clone();
        let directory = y_to_x.directory(&x).await.unwrap();
        let advertised: BTreeSet<&str> = directory.endpoints.keys().map(String::as_str).collect();
        assert_eq!(
            advertised,
            BTreeSet::from([
                "groupInfo",
                "identifierQuery",
                "keyMaterial",
                "notify",
                "proxyDownload",
                "requestConsent",
                "reportAbuse",
                "submitMessage",
                "update",
                "updateConsent"
            ]),
            "{}",
            directory.to_json()
        );
        // Besides the endpoints, only our body limit (which hubs use to refuse fan-out a
        // follower would refuse).
        assert_eq!(
            directory
                .other
                .keys()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            [mimi_federation_api::directory::MAX_BODY_BYTES_KEY],
            "{}",
            directory.to_json()
        );
        assert!(directory.max_body_bytes().is_some());

        let base = format!("https://{x}");
        for (key, template) in &directory.endpoints {
            let url = template.expand_encoded("not-a-uri");
            let path = url.strip_prefix(&base).unwrap();
            let get = mimi_federation_api::http::endpoint(key)
                .is_some_and(|e| e.method == mimi_federation_api::http::Method::Get);
            let r = if get {
                y_to_x.get(&x, path).await.unwrap()
            } else {
                y_to_x.post(&x, path, vec![0xff; 3]).await.unwrap()
            };
            assert_eq!(
                r.status,
                400,
                "{key} at {path}: {}",
                String::from_utf8_lossy(&r.body)
            );
        }

        // Every endpoint of the draft is served (and so advertised).
        let unserved: Vec<_> = ENDPOINTS
            .iter()
            .filter(|e| e.path_param.is_some() && !advertised.contains(e.directory_key))
            .map(|e| e.directory_key)
            .collect();
        assert!(unserved.is_empty(), "{unserved:?}");
    });
    drop(runtime);
    drop(nodes);
}

/// A notify body with one application message of a room mimi://x.example/r/a.
fn some_notify() -> Vec<u8> {
    use mimi_federation_api::notify::{FanoutContent, FanoutMessage, NotifyRequest};

    let (mut group, _) = eve_group("mimi://x.example/r/a");
    let bytes = group.protect(b"hi", &Default::default()).unwrap();
    let message = mimi_federation_api::mls::MlsMessage::from_bytes(bytes).unwrap();
    let fanout = FanoutMessage::new(
        common::device::now_s() * 1000,
        FanoutContent::Application {
            message,
            frank: None,
        },
    );
    mimi_federation_api::Encode::encode(&NotifyRequest::new(vec![fanout])).unwrap()
}

/// A group Eve of y.example made up under `room`'s group ID (her provider's CA, not the one
/// the federation pins), and her user.
fn eve_group(room: &str) -> (mimi_mls::ClientGroup, mimi_types::UserUri) {
    use mimi_types::{ClientUri, Domain, UserUri};

    let domain = Domain::parse("y.example").unwrap();
    let now = common::device::now_s();
    let validity = mimi_mls::Validity::starting(now - 60, 3600);
    let ca = mimi_mls::ProviderCa::generate(domain, validity).unwrap();
    let user = UserUri::parse("mimi://y.example/u/eve").unwrap();
    let client = ClientUri::parse("mimi://y.example/d/eve/phone").unwrap();
    let identity = mimi_mls::ClientIdentity::new(&ca, client, user.clone(), validity).unwrap();
    let server = mimi_mls::ServerIdentity::new(&ca, validity).unwrap();
    let mut trust = mimi_mls::TrustStore::new();
    trust
        .pin(ca.domain().clone(), ca.certificate_der())
        .unwrap();
    let room = mimi_types::RoomUri::parse(room).unwrap();
    let state = mimi_room::presets::RoomCreation::new(
        mimi_room::presets::Preset::Cooperative,
        room.clone(),
        user.clone(),
    )
    .initial_state()
    .unwrap();
    let (group, _) = mimi_mls::ClientGroup::create(
        &identity,
        &room.group_uri(),
        &server.external_sender(),
        &state,
        trust,
        now,
    )
    .unwrap();
    (group, user)
}

#[test]
fn a_stranger_cannot_tell_a_room_it_has_no_part_in_from_no_room() {
    use common::device::{Api, Device, commit_request, settle};
    use mimi_federation_api::Encode as _;
    use mimi_federation_api::submit_message::{SubmitMessageRequest, SubmitOutcome};

    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        Device::register_user(&x, "alice").await;
        let mut alice = Device::register(&x, "alice", "phone", 0).await;
        let secret = "mimi://x.example/r/secret";
        // The same length as `secret`: groupInfo echoes the room ID, length included.
        let nothing = "mimi://x.example/r/absent";
        let room = alice.create_room(secret).await;

        // y has no participant in the room. Its requests, decodable and not, for the room
        // and for a room that does not exist, get the same answer (the room named aside).
        let y_to_x = client_as(&nodes[1].config, &nodes[0].config);
        let (mut group, eve) = eve_group(secret);
        let message = group.protect(b"hello?", &Default::default()).unwrap();
        let submit = SubmitMessageRequest::new(
            mimi_federation_api::mls::MlsMessage::from_bytes(message).unwrap(),
            mimi_federation_api::common::IdentifierUri::from_string(eve.to_string()).unwrap(),
        )
        .unwrap()
        .encode()
        .unwrap();
        let update = commit_request(&group.self_update(common::device::now_s()).unwrap())
            .encode()
            .unwrap();
        let requests = [
            ("submitMessage", submit),
            ("submitMessage", vec![0; 4]),
            ("update", update),
            ("update", vec![0; 4]),
            ("groupInfo", vec![0; 4]),
            ("reportAbuse", vec![0; 4]),
        ];
        for (endpoint, body) in requests {
            let mut answers = Vec::new();
            for target in [secret, nothing] {
                let path = format!("/{endpoint}/{}", encode_param(&target));
                let r = y_to_x
                    .post(&nodes[0].domain, &path, body.clone())
                    .await
                    .unwrap();
                let text = String::from_utf8_lossy(&r.body).replace(target, "ROOM");
                answers.push((r.status, text));
            }
            assert_eq!(answers[0], answers[1], "{endpoint}");
            // groupInfo answers both with the draft's notAuthorized (which protocol-06 §5.6
            // lets the hub give instead of noSuchRoom); the others with 404.
            let status = if endpoint == "groupInfo" { 200 } else { 404 };
            assert_eq!(answers[0].0, status, "{endpoint}: {}", answers[0].1);
        }

        // The sentinel: the room works as before.
        let sent = alice.send(&room, "still private").await.unwrap();
        assert!(matches!(sent, SubmitOutcome::Accepted { .. }), "{sent:?}");
        settle(&mut [&mut alice], |d| {
            d[0].texts(&room) == ["still private"]
        })
        .await;
    });
    drop(runtime);
    drop(nodes);
}
