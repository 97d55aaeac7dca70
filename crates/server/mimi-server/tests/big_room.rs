//! A room far larger than the other tests' (issue 16 item 3), through real servers: hub x, follower
//! y. Besides a handful of live devices, the room holds `MIMI_BIG_ROOM_N` members (default 1,000)
//! added in one commit by KeyPackage: generated identities with credentials from their own
//! provider's CA, half on each provider, with no account or device behind them (their Welcome
//! goes nowhere). Then one user is added, messages flow, a member's stale commit (built before
//! the removal that follows) is refused, one user and one generated member are removed, and a
//! sentinel message must still reach every remaining live device and not the removed one.
//!
//! The 5,000-member case is `#[ignore]`d (minutes in a debug build on 2 cores); run it with
//! `cargo test --workspace --release --test big_room -- --ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Api, Device, now_s, settle};
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;
use mimi_mls::{ClientIdentity, ProviderCa, Validity};
use mimi_types::{ClientUri, UserUri};

fn ok(outcome: &UpdateOutcome) {
    assert!(
        matches!(outcome, UpdateOutcome::Success { .. }),
        "{outcome:?}"
    );
}

fn accepted(outcome: &SubmitOutcome) {
    assert!(
        matches!(outcome, SubmitOutcome::Accepted { .. }),
        "{outcome:?}"
    );
}

/// `count` generated members on `node`'s provider: their users and one KeyPackage each.
fn generated(node: &common::Node, count: usize) -> (Vec<UserUri>, Vec<Vec<u8>>) {
    let config = &node.config;
    let ca =
        ProviderCa::from_record(&std::fs::read(config.resolve(&config.mls.ca)).unwrap()).unwrap();
    let now = now_s();
    let validity = Validity::starting(now - 60, 24 * 3600);
    let domain = node.domain.as_str();
    let mut users = Vec::with_capacity(count);
    let mut key_packages = Vec::with_capacity(count);
    for i in 0..count {
        let user = UserUri::parse(&format!("mimi://{domain}/u/member{i}")).unwrap();
        let client = ClientUri::parse(&format!("mimi://{domain}/d/member{i}/phone")).unwrap();
        let identity = ClientIdentity::new(&ca, client, user.clone(), validity).unwrap();
        key_packages.push(identity.key_package(now, 24 * 3600, false).unwrap().message);
        users.push(user);
    }
    (users, key_packages)
}

fn big_room(n: usize) {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        for (api, user) in [(&x, "alice"), (&y, "bob"), (&y, "dave")] {
            Device::register_user(api, user).await;
        }
        let mut alice = Device::register(&x, "alice", "phone", 1).await;
        let mut bob = Device::register(&y, "bob", "laptop", 1).await;
        let mut dave = Device::register(&y, "dave", "phone", 1).await;
        let room = alice.create_room("mimi://x.example/r/stadium").await;
        ok(&alice.add_users(&room, &[bob.user().clone()]).await);
        settle(&mut [&mut alice, &mut bob], |d| d[1].is_member(&room)).await;

        // The crowd: n generated members, half on each provider, in one commit.
        let (mut users, mut key_packages) = generated(&nodes[0], n / 2);
        let (more_users, more_key_packages) = generated(&nodes[1], n - n / 2);
        users.extend(more_users);
        key_packages.extend(more_key_packages);
        ok(&alice
            .add_with_key_packages(&room, &users, &key_packages)
            .await);
        settle(&mut [&mut alice, &mut bob], |d| {
            d[1].epoch(&room) == d[0].epoch(&room)
        })
        .await;
        let participants = |d: &Device| d.group(&room).room().participants().participants.len();
        // Alice, Bob, the crowd, and the hub's service user the client engine lists as the
        // room's policy enforcer (a participant without clients).
        assert_eq!(participants(&alice), n + 3);
        assert_eq!(participants(&bob), n + 3);

        // One user added to the big room; everyone live talks.
        ok(&alice.add_users(&room, &[dave.user().clone()]).await);
        settle(&mut [&mut alice, &mut bob, &mut dave], |d| {
            d[2].is_member(&room) && d[1].epoch(&room) == d[0].epoch(&room)
        })
        .await;
        assert_eq!(dave.group(&room).members().len(), n + 3);
        accepted(&dave.send(&room, "hello, crowd").await.unwrap());
        accepted(&bob.send(&room, "hello, dave").await.unwrap());
        settle(&mut [&mut alice, &mut bob, &mut dave], |d| {
            d.iter().all(|d| d.texts(&room).len() == 2)
        })
        .await;

        // Bob's commit, built now, goes stale when Alice removes Dave and one generated member.
        let stale = bob.group_copy(&room).self_update(now_s()).unwrap();
        ok(&alice
            .remove_users(&room, &[dave.user().clone(), users[0].clone()])
            .await);
        settle(&mut [&mut alice, &mut bob, &mut dave], |d| {
            !d[2].is_member(&room) && d[1].epoch(&room) == d[0].epoch(&room)
        })
        .await;
        assert_eq!(participants(&alice), n + 2);
        assert_eq!(participants(&bob), n + 2);
        let refused = bob.submit_commit(&room, stale, false).await;
        assert!(
            matches!(refused, UpdateOutcome::WrongEpoch { .. }),
            "a commit of a past epoch: {refused:?}"
        );

        // The sentinel reaches the live members that remain, and not the removed one.
        accepted(&bob.send(&room, "after").await.unwrap());
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.texts(&room).len() == 3)
        })
        .await;
        assert_eq!(alice.texts(&room), ["hello, crowd", "hello, dave", "after"]);
        dave.poll(200).await;
        assert_eq!(dave.texts(&room), ["hello, crowd", "hello, dave"]);
        for device in [&alice, &bob, &dave] {
            assert_eq!(
                device.failures(),
                Vec::<String>::new(),
                "{}",
                device.client()
            );
        }
    });
}

#[test]
fn a_room_of_a_thousand_grows_talks_and_shrinks() {
    let n = std::env::var("MIMI_BIG_ROOM_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    big_room(n);
}

#[test]
#[ignore = "minutes in a debug build; run with --release --ignored"]
fn a_room_of_five_thousand_grows_talks_and_shrinks() {
    big_room(5000);
}

/// A device's update request carries the room's whole ratchet tree in base64 (≈ 2 MiB of JSON
/// at 5,000 members): the client API reads bodies as large as a federation request allows (in
/// base64, with room for the JSON), not axum's default of 2 MiB, and refuses larger ones with 413.
#[test]
fn client_api_takes_update_bodies_as_large_as_the_federation_allows() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        Device::register_user(&x, "alice").await;
        let mut alice = Device::register(&x, "alice", "phone", 1).await;
        let room = alice.create_room("mimi://x.example/r/big").await;
        let path = format!(
            "/v1/rooms/{}/update",
            mimi_federation_api::path::encode_param(&room)
        );
        let max_body = nodes[0].config.limits.max_body_bytes;
        let post = |request: Vec<u8>| {
            let x = x.clone();
            let token = alice.token.clone();
            let path = path.clone();
            async move {
                x.call::<serde_json::Value>(
                    reqwest::Method::POST,
                    &path,
                    Some(&token),
                    Some(&mimi_client_api::SubmitUpdate {
                        request,
                        external_join: false,
                    }),
                )
                .await
                .unwrap_err()
                .status
            }
        };
        // 3 MiB of a malformed request: read, decoded, refused as malformed (400), not 413.
        assert_eq!(post(vec![0xff; 3 << 20]).await, 400);
        // A federation body's worth is read too.
        assert_eq!(post(vec![0xff; max_body]).await, 400);
        // Beyond what any federation request may carry: refused before the body is read. The
        // server answers 413 and closes the connection without reading on, so a client still
        // writing the body may see the connection closed instead of the answer; either way the
        // body was not taken (taking it would have given 400, as above).
        let oversized = serde_json::to_vec(&mimi_client_api::SubmitUpdate {
            request: vec![0xff; max_body + (max_body / 2)],
            external_join: false,
        })
        .unwrap();
        let sent = x
            .http
            .post(format!("{}{path}", x.base))
            .header("authorization", format!("Bearer {}", alice.token))
            .header("content-type", "application/json")
            .body(oversized)
            .send()
            .await;
        match sent {
            Ok(response) => assert_eq!(response.status().as_u16(), 413),
            Err(e) => assert!(
                e.is_request() || e.is_body(),
                "the oversized request failed otherwise than by the server closing: {e}"
            ),
        }
        // The sentinel: the room still takes an ordinary request.
        accepted(&alice.send(&room, "still here").await.unwrap());
    });
}
