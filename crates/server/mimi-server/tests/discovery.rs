//! Discovery (`identifierQuery`, protocol-06 §5.8) through real servers over mutual TLS: users
//! set a handle and a display name and choose what is searchable; a search finds and reveals
//! only that, here and (relayed by one's own provider) at another provider; an unknown
//! identifier answers `notFound`; searches are limited per user and per peer (429); a rogue
//! provider's malformed, oversized and misdirected queries and a rogue user's bad requests are
//! refused with their specific codes, and a room message sent afterwards still arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::client_as;
use common::device::{Api, Device, Refused, settle};
use mimi_client_api::{ErrorCode, FindUsers, ProfileView, SetProfile, UsersFound};
use mimi_federation_api::Encode as _;
use mimi_federation_api::decode_exact;
use mimi_federation_api::identifier_query::{
    IdentifierQueryCode, IdentifierRequest, IdentifierResponse, QueryElement, SearchKind,
};
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;

async fn set_profile(
    d: &Device,
    handle: Option<&str>,
    name: Option<&str>,
    searchable: Option<&[&str]>,
) -> Result<ProfileView, Refused> {
    let body = SetProfile {
        handle: handle.map(str::to_owned),
        display_name: name.map(str::to_owned),
        searchable: searchable.map(|s| s.iter().map(|f| (*f).to_owned()).collect()),
    };
    d.api
        .call(
            reqwest::Method::PUT,
            "/v1/profile",
            Some(&d.token),
            Some(&body),
        )
        .await
}

async fn find(
    d: &Device,
    by: &str,
    value: &str,
    provider: Option<&str>,
) -> Result<UsersFound, Refused> {
    let body = FindUsers {
        by: by.to_owned(),
        value: value.to_owned(),
        provider: provider.map(str::to_owned),
    };
    d.api
        .call(
            reqwest::Method::POST,
            "/v1/users/find",
            Some(&d.token),
            Some(&body),
        )
        .await
}

fn refused_with(r: Result<impl std::fmt::Debug, Refused>, status: u16, code: ErrorCode) {
    let refused = r.unwrap_err();
    assert_eq!(refused.status, status, "{refused:?}");
    assert_eq!(
        refused.error.as_ref().map(|e| e.code),
        Some(code),
        "{refused:?}"
    );
}

#[test]
fn users_are_found_only_by_what_they_made_searchable_here_and_elsewhere() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        for (api, user) in [(&x, "alice"), (&x, "dave"), (&y, "bob"), (&y, "carol")] {
            Device::register_user(api, user).await;
        }
        let alice = Device::register(&x, "alice", "phone", 1).await;
        let dave = Device::register(&x, "dave", "phone", 1).await;
        let bob = Device::register(&y, "bob", "phone", 1).await;
        let carol = Device::register(&y, "carol", "phone", 1).await;

        // Nobody is searchable before choosing to be.
        let view = set_profile(&alice, Some("Alice.Smith"), Some("Alice Smith"), None)
            .await
            .unwrap();
        assert_eq!(view.handle.as_deref(), Some("alice.smith"));
        assert!(view.searchable.is_empty());
        let none = find(&dave, "handle", "alice.smith", None).await.unwrap();
        assert_eq!(none.code, "notFound", "{none:?}");

        let view = set_profile(&alice, None, None, Some(&["handle", "name"]))
            .await
            .unwrap();
        assert_eq!(view.searchable, ["handle", "name"]);
        assert_eq!(view.display_name.as_deref(), Some("Alice Smith"), "kept");
        set_profile(&bob, Some("bobby"), Some("Bob Jones"), Some(&["name"]))
            .await
            .unwrap();

        // Local: by handle, both fields revealed.
        let found = find(&dave, "handle", "im:alice.smith@x.example", None)
            .await
            .unwrap();
        assert_eq!(found.code, "success", "{found:?}");
        assert_eq!(found.users.len(), 1);
        assert_eq!(found.users[0].user, "mimi://x.example/u/alice");
        assert_eq!(found.users[0].handle.as_deref(), Some("alice.smith"));
        assert_eq!(found.users[0].display_name.as_deref(), Some("Alice Smith"));

        // Remote, relayed by y over mutual TLS.
        let found = find(&carol, "name", "smith", Some("x.example"))
            .await
            .unwrap();
        assert_eq!(
            (found.code.as_str(), found.provider.as_str()),
            ("success", "x.example")
        );
        assert_eq!(found.users[0].user, "mimi://x.example/u/alice");

        // Bob's handle is not searchable: not found by it, and not revealed by a name match.
        let by_handle = find(&alice, "handle", "bobby", Some("y.example"))
            .await
            .unwrap();
        assert_eq!(by_handle.code, "notFound", "{by_handle:?}");
        let by_any = find(&carol, "any", "bobby", None).await.unwrap();
        assert_eq!(by_any.code, "notFound", "{by_any:?}");
        let by_name = find(&alice, "name", "JONES", Some("y.example"))
            .await
            .unwrap();
        assert_eq!(by_name.code, "success", "{by_name:?}");
        assert_eq!(by_name.users[0].user, "mimi://y.example/u/bob");
        assert_eq!(by_name.users[0].handle, None, "the handle is not revealed");
        assert_eq!(by_name.users[0].display_name.as_deref(), Some("Bob Jones"));
        // Nobody made the nick searchable.
        let by_nick = find(&carol, "nick", "alice", Some("x.example"))
            .await
            .unwrap();
        assert_eq!(by_nick.code, "notFound");

        // Unknown identifiers: the draft's notFound, locally and remotely.
        let unknown = find(&carol, "handle", "nobody.here", Some("x.example"))
            .await
            .unwrap();
        assert_eq!(
            (unknown.code.as_str(), unknown.users.len()),
            ("notFound", 0)
        );
        let unknown = find(&dave, "handle", "im:alice.smith@y.example", None)
            .await
            .unwrap();
        assert_eq!(unknown.code, "notFound", "a handle at another provider");

        // A handle belongs to one user.
        refused_with(
            set_profile(&dave, Some("ALICE.smith"), None, None).await,
            409,
            ErrorCode::AlreadyExists,
        );
        // Too short to search by substring: ambiguous, not a list of everyone.
        let short = find(&dave, "any", "al", None).await.unwrap();
        assert_eq!(short.code, "ambiguous");
    });
    drop(runtime);

    // The profiles are durable: after a restart x still finds alice.
    nodes[0].restart().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        Device::register_user(&x, "erin").await;
        let erin = Device::register(&x, "erin", "phone", 1).await;
        let found = find(&erin, "handle", "alice.smith", None).await.unwrap();
        assert_eq!(found.code, "success", "{found:?}");
    });
}

#[test]
fn searches_are_limited_per_user_and_per_peer() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation_with(dir.path(), &["x.example", "y.example"], |i, c| {
        if i == 0 {
            c.limits.identifier_queries_per_user = 3;
        } else {
            c.limits.identifier_queries_per_peer = 2;
        }
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        for (api, user) in [(&x, "alice"), (&x, "ivy"), (&y, "bob")] {
            Device::register_user(api, user).await;
        }
        let alice = Device::register(&x, "alice", "phone", 1).await;
        let ivy = Device::register(&x, "ivy", "phone", 1).await;
        let bob = Device::register(&y, "bob", "phone", 1).await;
        set_profile(&bob, Some("bobby"), None, Some(&["handle"]))
            .await
            .unwrap();

        // Per user at x: three searches a minute, the fourth refused before anything is asked.
        for _ in 0..3 {
            find(&alice, "nick", "someone", None).await.unwrap();
        }
        refused_with(
            find(&alice, "nick", "someone", None).await,
            429,
            ErrorCode::RateLimited,
        );

        // Per peer at y: x may relay two a minute; the third is y's 429, passed on by x.
        for _ in 0..2 {
            let found = find(&ivy, "handle", "bobby", Some("y.example"))
                .await
                .unwrap();
            assert_eq!(found.code, "success");
        }
        let refused = find(&ivy, "handle", "bobby", Some("y.example"))
            .await
            .unwrap_err();
        assert_eq!(refused.status, 429, "{refused:?}");
        assert_eq!(refused.error.unwrap().code, ErrorCode::RateLimited);

        // Sentinel: y's own user is not shut out by x's limit.
        let found = find(&bob, "handle", "bobby", None).await.unwrap();
        assert_eq!(found.code, "success");
    });
}

#[test]
fn rogue_queries_are_refused_and_the_room_goes_on() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "bob").await;
        Device::register_user(&y, "mallory").await;
        let mut alice = Device::register(&x, "alice", "phone", 3).await;
        let mut bob = Device::register(&y, "bob", "phone", 3).await;
        let mallory = Device::register(&y, "mallory", "phone", 1).await;
        set_profile(&bob, Some("bobby"), Some("Bob"), Some(&["handle"]))
            .await
            .unwrap();
        let room = alice.create_room("mimi://x.example/r/found").await;
        let added = alice.add_users(&room, &[bob.user().clone()]).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;

        // A rogue provider z, over real mutual TLS to y.
        let z_to_y = client_as(&nodes[2].config, &nodes[1].config);
        let y_domain = nodes[1].domain.clone();
        let query = IdentifierRequest::new(vec![QueryElement::new(SearchKind::Handle, "bobby")])
            .encode()
            .unwrap();
        let ok = z_to_y
            .post(&y_domain, "/identifierQuery/y.example", query.clone())
            .await
            .unwrap();
        assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
        let answer: IdentifierResponse = decode_exact(&ok.body).unwrap();
        assert_eq!(answer.response_code, IdentifierQueryCode::Success);
        assert_eq!(answer.found_profiles[0].fields.len(), 1, "only the handle");

        // Malformed: not an IdentifierRequest; trailing bytes; no elements at all.
        for body in [vec![0xff; 3], [query.clone(), vec![0]].concat(), vec![0, 0]] {
            let r = z_to_y
                .post(&y_domain, "/identifierQuery/y.example", body)
                .await
                .unwrap();
            assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(&r.body));
        }
        // Oversized: refused before decoding.
        let r = z_to_y
            .post(
                &y_domain,
                "/identifierQuery/y.example",
                vec![0; 64 * 1024 + 1],
            )
            .await
            .unwrap();
        assert_eq!(r.status, 413, "{}", String::from_utf8_lossy(&r.body));
        // Misdirected: the path names another provider.
        let r = z_to_y
            .post(&y_domain, "/identifierQuery/x.example", query.clone())
            .await
            .unwrap();
        assert_eq!(r.status, 421, "{}", String::from_utf8_lossy(&r.body));
        assert!(String::from_utf8_lossy(&r.body).contains("x.example is not this provider"));
        // Unsupported search field: the draft's code, not an HTTP error.
        let email = IdentifierRequest::new(vec![QueryElement::new(SearchKind::Email, "b@y")]);
        let r = z_to_y
            .post(
                &y_domain,
                "/identifierQuery/y.example",
                email.encode().unwrap(),
            )
            .await
            .unwrap();
        let answer: IdentifierResponse = decode_exact(&r.body).unwrap();
        assert_eq!(answer.response_code, IdentifierQueryCode::UnsupportedField);

        // A rogue user of y: an unknown search, an oversized value, a bad handle, an unknown
        // searchable field, another user's handle, a provider that is no domain.
        refused_with(
            find(&mallory, "email", "b@y", None).await,
            400,
            ErrorCode::BadRequest,
        );
        refused_with(
            find(&mallory, "any", &"a".repeat(2000), None).await,
            413,
            ErrorCode::TooLarge,
        );
        refused_with(
            set_profile(&mallory, Some("-bad handle"), None, None).await,
            400,
            ErrorCode::BadRequest,
        );
        refused_with(
            set_profile(&mallory, None, None, Some(&["email"])).await,
            400,
            ErrorCode::BadRequest,
        );
        refused_with(
            set_profile(&mallory, Some("bobby"), None, None).await,
            409,
            ErrorCode::AlreadyExists,
        );
        refused_with(
            find(&mallory, "handle", "bobby", Some("not a domain")).await,
            400,
            ErrorCode::BadRequest,
        );

        // Sentinel: the room goes on.
        let sent = alice.send(&room, "sentinel after rogue queries").await;
        assert!(
            matches!(sent, Ok(SubmitOutcome::Accepted { .. })),
            "{sent:?}"
        );
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| {
                d.texts(&room)
                    .contains(&"sentinel after rogue queries".to_owned())
            })
        })
        .await;
        let found = find(&mallory, "handle", "bobby", None).await.unwrap();
        assert_eq!(found.code, "success");
    });
}
