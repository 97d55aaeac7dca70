//! Consent (protocol-06 §5.7, issue 17) through three real providers whose users need consent
//! (`[consent] default_policy = "contacts"`): a stranger's KeyPackages cannot be claimed
//! (`noConsent`); after the target accepts they can, per room (`noConsentForThisRoom` for
//! another room) or for any room; after a block they cannot; all of it survives a restart of
//! the target's provider. Requests and answers travel between the providers over mutual TLS
//! (`requestConsent`, `updateConsent`) through the outbound queue. A rogue provider speaking
//! for another provider's user, and a rogue member flooding requests, are refused with their
//! codes, each followed by a sentinel message that must still arrive. The target's provider
//! on PostgreSQL too (with `MIMI_TEST_DATABASE_URL`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::client_as;
use common::device::{Api, Device, settle};
use mimi_client_api::{Contacts, ErrorCode};
use mimi_federation_api::consent::{ConsentAction, ConsentEntry, ConsentScope};
use mimi_federation_api::key_material::KeyMaterialUserCode;
use mimi_federation_api::path::encode_param;
use mimi_federation_api::request_consent::RequestConsentRequest;
use mimi_federation_api::update::UpdateOutcome;
use mimi_federation_api::update_consent::UpdateConsentRequest;
use mimi_federation_api::{Encode, IdentifierUri};
use mimi_types::{RoomUri, UserUri};

/// Polls `device`'s contacts until `done` holds, for at most 20 s.
async fn contacts_until(device: &Device, done: impl Fn(&Contacts) -> bool) -> Contacts {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let contacts = device.contacts().await;
        if done(&contacts) {
            return contacts;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} never got there: {contacts:#?}",
            device.user()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn status(device: &Device, room: &RoomUri, target: &UserUri) -> KeyMaterialUserCode {
    device
        .key_material_response(room, target)
        .await
        .unwrap()
        .user_status
}

fn asked_status(contacts: &Contacts, user: &UserUri) -> Vec<String> {
    contacts
        .asked
        .iter()
        .filter(|a| a.user == user.to_string())
        .map(|a| a.status.clone())
        .collect()
}

#[test]
fn consent_decides_who_may_claim_key_packages_and_survives_a_restart() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = common::federation_with(
        dir.path(),
        &["x.example", "y.example", "z.example"],
        |_, config| config.consent.default_policy = "contacts".into(),
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (bob, alice, carol) = runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        let z = Api::new(nodes[2].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "carol").await;
        Device::register_user(&z, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 2).await;
        let mut carol = Device::register(&y, "carol", "phone", 2).await;
        let bob = Device::register(&z, "bob", "phone", 12).await;
        let one = alice.create_room("mimi://x.example/r/one").await;
        let two = alice.create_room("mimi://x.example/r/two").await;

        // A stranger: noConsent, and nothing is handed out.
        assert_eq!(
            status(&alice, &one, bob.user()).await,
            KeyMaterialUserCode::NoConsent
        );
        assert!(
            alice
                .key_material(&one, bob.user())
                .await
                .unwrap()
                .is_empty()
        );

        // Alice asks; the request reaches Bob's provider through the outbound queue.
        let mine = alice.contact("request", bob.user(), None).await.unwrap();
        assert_eq!(asked_status(&mine, bob.user()), ["asked"]);
        let seen = contacts_until(&bob, |c| !c.requests.is_empty()).await;
        assert_eq!(seen.requests.len(), 1);
        assert_eq!(seen.requests[0].user, alice.user().to_string());
        assert_eq!(seen.requests[0].room, None);
        assert_eq!(seen.policy, "contacts");
        assert!(!seen.own_policy);
        // Asking consented to Bob (the bilateral grant reached Alice's book at x).
        assert!(
            mine.contacts
                .iter()
                .any(|c| c.user == bob.user().to_string())
        );

        // Bob accepts for room one only: one works, two gets noConsentForThisRoom.
        let after = bob
            .contact("accept", alice.user(), Some(&one))
            .await
            .unwrap();
        // Her request was for any room: it still waits.
        assert_eq!(after.requests.len(), 1, "{after:#?}");
        assert_eq!(
            after.contacts[0].rooms,
            Some(vec!["mimi://x.example/r/one".to_owned()])
        );
        assert_eq!(alice.key_material(&one, bob.user()).await.unwrap().len(), 1);
        assert_eq!(
            status(&alice, &two, bob.user()).await,
            KeyMaterialUserCode::NoConsentForThisRoom
        );
        // The grant reached Alice's provider: her request shows it.
        contacts_until(&alice, |c| {
            asked_status(c, bob.user()).contains(&"granted".to_owned())
        })
        .await;

        // Any room: two works too. Then Bob blocks Alice: nothing works, and she is told.
        let after = bob.contact("accept", alice.user(), None).await.unwrap();
        assert!(after.requests.is_empty(), "{after:#?}");
        assert_eq!(after.contacts[0].rooms, None);
        assert_eq!(alice.key_material(&two, bob.user()).await.unwrap().len(), 1);
        let blocked = bob.contact("block", alice.user(), None).await.unwrap();
        assert_eq!(blocked.blocked, [alice.user().to_string()]);
        assert!(blocked.contacts.is_empty());
        for room in [&one, &two] {
            assert_eq!(
                status(&alice, room, bob.user()).await,
                KeyMaterialUserCode::NoConsent
            );
        }
        contacts_until(&alice, |c| {
            asked_status(c, bob.user()).iter().all(|s| s == "revoked")
        })
        .await;
        // A blocked user's new request is dropped without a trace.
        alice.contact("request", bob.user(), None).await.unwrap();

        // Carol, a stranger on y, asks for room-less consent and waits (Bob does not answer).
        let carols = carol.create_room("mimi://y.example/r/carols").await;
        assert_eq!(
            status(&carol, &carols, bob.user()).await,
            KeyMaterialUserCode::NoConsent
        );
        carol.contact("request", bob.user(), None).await.unwrap();
        contacts_until(&bob, |c| c.requests.len() == 1).await;
        (bob, alice, (carol, carols))
    });

    // Bob's provider restarts: the block, the waiting request and the policy are stored.
    nodes[2].restart().unwrap();
    runtime.block_on(async {
        let bob_user = bob.user().clone();
        let (carol, carols) = carol;
        let view = bob.contacts().await;
        assert_eq!(view.blocked, [alice.user().to_string()], "{view:#?}");
        assert_eq!(view.requests.len(), 1, "{view:#?}");
        assert_eq!(view.requests[0].user, carol.user().to_string());
        let one = RoomUri::parse("mimi://x.example/r/one").unwrap();
        assert_eq!(
            status(&alice, &one, &bob_user).await,
            KeyMaterialUserCode::NoConsent
        );

        // Bob's policy: anyone on y.example. Carol (y) may now claim; Alice stays blocked.
        let set = bob
            .contact_policy(Some("providers:y.example"))
            .await
            .unwrap();
        assert_eq!(
            (set.policy.as_str(), set.own_policy),
            ("providers:y.example", true)
        );
        assert!(
            !carol
                .key_material(&carols, &bob_user)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            status(&alice, &one, &bob_user).await,
            KeyMaterialUserCode::NoConsent
        );
        let refused = bob.contact_policy(Some("everyone")).await.unwrap_err();
        assert_eq!(refused.status, 400);
        bob.contact_policy(None).await.unwrap();
        assert_eq!(
            status(&carol, &carols, &bob_user).await,
            KeyMaterialUserCode::NoConsent
        );
    });
}

fn id(s: &str) -> IdentifierUri {
    IdentifierUri::from_string(s.to_owned()).unwrap()
}

fn request_body(requester: &str, target: &str, room: Option<&str>) -> Vec<u8> {
    RequestConsentRequest::new(ConsentEntry::new(
        ConsentAction::Request,
        ConsentScope::new(id(requester), id(target), room.map(id)),
    ))
    .unwrap()
    .encode()
    .unwrap()
}

/// A room with Alice (x), Carol (y) and Bob (z) in a federation where anyone may add anyone,
/// and the sentinel helper: a message from Alice that every device must see.
struct Room {
    room: RoomUri,
    alice: Device,
    carol: Device,
    bob: Device,
}

impl Room {
    async fn new(nodes: &[common::Node]) -> Self {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        let z = Api::new(nodes[2].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "carol").await;
        Device::register_user(&y, "mallory").await;
        Device::register_user(&z, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 2).await;
        let mut carol = Device::register(&y, "carol", "phone", 2).await;
        let mut bob = Device::register(&z, "bob", "phone", 2).await;
        let room = alice.create_room("mimi://x.example/r/sentinels").await;
        let users = [carol.user().clone(), bob.user().clone()];
        assert!(matches!(
            alice.add_users(&room, &users).await,
            UpdateOutcome::Success { .. }
        ));
        settle(&mut [&mut alice, &mut carol, &mut bob], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;
        Self {
            room,
            alice,
            carol,
            bob,
        }
    }

    async fn sentinel(&mut self, text: &str) {
        common::sentinel(
            &mut [&mut self.alice, &mut self.carol, &mut self.bob],
            &self.room,
            text,
        )
        .await;
    }
}

#[test]
fn a_rogue_provider_cannot_speak_for_another_providers_users() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut room = Room::new(&nodes).await;
        let y_to_z = client_as(&nodes[1].config, &nodes[2].config);
        let z = nodes[2].domain.clone();
        let bob = "mimi://z.example/u/bob";
        let post = |endpoint: &str, user: &str, body: Vec<u8>| {
            let client = y_to_z.clone();
            let z = z.clone();
            let path = format!("/{endpoint}/{}", encode_param(&user));
            async move { client.post(&z, &path, body).await.unwrap() }
        };

        // y asks in the name of x's Alice: 403, and nothing reaches Bob.
        let r = post(
            "requestConsent",
            bob,
            request_body("mimi://x.example/u/alice", bob, None),
        )
        .await;
        assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
        assert!(String::from_utf8_lossy(&r.body).contains("may not act for"));
        assert!(room.bob.contacts().await.requests.is_empty());

        // y grants in the name of x's Alice, to Bob: 403.
        let grant = UpdateConsentRequest::new(ConsentEntry::new(
            ConsentAction::Grant {
                client_key_packages: Vec::new(),
            },
            ConsentScope::new(id(bob), id("mimi://x.example/u/alice"), None),
        ))
        .unwrap()
        .encode()
        .unwrap();
        let r = post("updateConsent", bob, grant).await;
        assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));

        // A target that is not z's user, and one z has no account for: 404.
        let elsewhere = "mimi://x.example/u/bob";
        let r = post(
            "requestConsent",
            elsewhere,
            request_body("mimi://y.example/u/carol", elsewhere, None),
        )
        .await;
        assert_eq!(r.status, 404, "{}", String::from_utf8_lossy(&r.body));
        let nobody = "mimi://z.example/u/nobody";
        let r = post(
            "requestConsent",
            nobody,
            request_body("mimi://y.example/u/carol", nobody, None),
        )
        .await;
        assert_eq!(r.status, 404, "{}", String::from_utf8_lossy(&r.body));
        // A body naming another target than the path, and one that does not decode: 400.
        let r = post(
            "requestConsent",
            "mimi://z.example/u/other",
            request_body("mimi://y.example/u/carol", bob, None),
        )
        .await;
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
        let r = post("requestConsent", bob, vec![1, 0xff, 3]).await;
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
        // updateConsent carrying a request operation: 400.
        let r = post(
            "updateConsent",
            bob,
            request_body("mimi://z.example/u/bob", "mimi://y.example/u/carol", None),
        )
        .await;
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));

        room.sentinel("sentinel after the rogue provider").await;

        // The same request in its own user's name is taken (201).
        let r = post(
            "requestConsent",
            bob,
            request_body("mimi://y.example/u/mallory", bob, None),
        )
        .await;
        assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
        let view = room.bob.contacts().await;
        assert_eq!(view.requests.len(), 1);
        assert_eq!(view.requests[0].user, "mimi://y.example/u/mallory");
    });
}

#[test]
fn a_rogue_member_flooding_consent_requests_is_bounded() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation_with(
        dir.path(),
        &["x.example", "y.example", "z.example"],
        |_, config| config.consent.requests_per_requester = 7,
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut room = Room::new(&nodes).await;
        let y = Api::new(nodes[1].base_url());
        let mallory = Device::register(&y, "mallory", "phone", 1).await;
        let bob = room.bob.user().clone();

        // Seven per-room requests pass Mallory's own provider; the eighth is rate-limited.
        for n in 0..7 {
            let r = RoomUri::parse(&format!("mimi://y.example/r/flood{n}")).unwrap();
            mallory.contact("request", &bob, Some(&r)).await.unwrap();
        }
        let r = RoomUri::parse("mimi://y.example/r/flood7").unwrap();
        let refused = mallory
            .contact("request", &bob, Some(&r))
            .await
            .unwrap_err();
        assert_eq!(refused.status, 429, "{refused:?}");
        assert_eq!(refused.error.unwrap().code, ErrorCode::RateLimited);

        // Bob's provider keeps four of them waiting and refuses the rest (403), which
        // Mallory's provider records as refused; it does not retry them.
        let mine = contacts_until(&mallory, |c| {
            asked_status(c, &bob)
                .iter()
                .filter(|s| *s == "refused")
                .count()
                == 3
        })
        .await;
        let detail = mine
            .asked
            .iter()
            .find_map(|a| a.detail.clone())
            .unwrap_or_default();
        assert!(
            detail.contains("403") && detail.contains("waiting"),
            "{detail}"
        );
        let waiting = room.bob.contacts().await;
        assert_eq!(waiting.requests.len(), 4, "{waiting:#?}");

        // More of the flood straight from y's provider: z counted Mallory's requests itself,
        // so it refuses (429) whatever y's own limit.
        let y_to_z = client_as(&nodes[1].config, &nodes[2].config);
        let path = format!("/requestConsent/{}", encode_param(&bob));
        let body = request_body(
            "mimi://y.example/u/mallory",
            &bob.to_string(),
            Some("mimi://y.example/r/flood-direct"),
        );
        let r = y_to_z.post(&nodes[2].domain, &path, body).await.unwrap();
        assert_eq!(r.status, 429, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(room.bob.contacts().await.requests.len(), 4);

        // Another user's request still gets through, and the room goes on.
        let carol = room.carol.user().clone();
        room.carol.contact("request", &bob, None).await.unwrap();
        contacts_until(&room.bob, |c| {
            c.requests.iter().any(|r| r.user == carol.to_string())
        })
        .await;
        room.sentinel("sentinel after the flood").await;
    });
}

/// The same decisions with the target's provider on PostgreSQL: the request arrives, the
/// per-room grant is stored in the database and still decides after a restart; the asking
/// provider (SQLite) queued and sent through its outbound worker. Skipped without
/// `MIMI_TEST_DATABASE_URL`.
#[test]
fn consent_on_postgres_is_stored_and_survives_a_restart() {
    common::logs();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(common::PgDatabase::create(
        "consent_on_postgres_is_stored_and_survives_a_restart",
    )) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = database.url.clone();
    let mut nodes = common::federation_with(dir.path(), &["x.example", "y.example"], |i, c| {
        c.consent.default_policy = "contacts".into();
        if i == 1 {
            c.database.url = Some(url.clone());
        }
    });
    let (alice, bob, one, two) = runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 1).await;
        let bob = Device::register(&y, "bob", "phone", 6).await;
        let one = alice.create_room("mimi://x.example/r/pg-one").await;
        let two = alice.create_room("mimi://x.example/r/pg-two").await;
        assert_eq!(
            status(&alice, &one, bob.user()).await,
            KeyMaterialUserCode::NoConsent
        );
        alice
            .contact("request", bob.user(), Some(&one))
            .await
            .unwrap();
        let seen = contacts_until(&bob, |c| !c.requests.is_empty()).await;
        assert_eq!(
            seen.requests[0].room.as_deref(),
            Some(one.to_string().as_str())
        );
        bob.contact("accept", alice.user(), Some(&one))
            .await
            .unwrap();
        (alice, bob, one, two)
    });
    nodes[1].restart().unwrap();
    runtime.block_on(async {
        let view = bob.contacts().await;
        assert!(view.requests.is_empty(), "{view:#?}");
        assert_eq!(
            view.contacts[0].rooms,
            Some(vec![one.to_string()]),
            "{view:#?}"
        );
        assert_eq!(alice.key_material(&one, bob.user()).await.unwrap().len(), 1);
        assert_eq!(
            status(&alice, &two, bob.user()).await,
            KeyMaterialUserCode::NoConsentForThisRoom
        );
    });
    nodes.clear();
    runtime.block_on(database.drop_now());
}
