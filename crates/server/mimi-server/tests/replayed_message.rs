//! Issue 20 (LOW): a byte-identical `submitMessage` replayed within its epoch was accepted and
//! fanned out again. Through two real providers: a member's device resends an accepted message
//! through its provider, and its provider resends the same request straight to the hub over
//! mutual TLS, and again after the hub restarted. Each repeat gets the first answer (the same
//! acceptance time) and nothing more is fanned out or counted; a sentinel then reaches both
//! devices, which each show every message exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::client_as;
use common::device::{Api, Device, settle};
use common::metrics::{at, scrape};
use mimi_federation_api::path::encode_param;
use mimi_federation_api::submit_message::{SubmitMessageResponse, SubmitOutcome};
use mimi_federation_api::update::UpdateOutcome;
use mimi_federation_api::{Encode as _, decode_exact};

fn accepted_at(outcome: &SubmitOutcome) -> u64 {
    match outcome {
        SubmitOutcome::Accepted {
            accepted_timestamp, ..
        } => *accepted_timestamp,
        other => panic!("not accepted: {other:?}"),
    }
}

#[test]
fn a_replayed_message_gets_the_first_answer_and_no_second_fanout() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let hub_url = nodes[0].base_url();
    let accepted = "mimi_hub_messages_accepted_total";
    let (mut alice, mut bob, room, request, first) = runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 1).await;
        let mut bob = Device::register(&y, "bob", "laptop", 1).await;
        let room = alice.create_room("mimi://x.example/r/replay").await;
        let added = alice.add_users(&room, &[bob.user().clone()]).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        settle(&mut [&mut alice, &mut bob], |d| d[1].is_member(&room)).await;
        let before = at(&scrape(&hub_url).await, accepted);

        let request = bob.protect(&room, "said once");
        let first = accepted_at(&bob.submit(&room, &request).await.unwrap());
        // The rogue member: the same request again through its provider.
        let again = accepted_at(&bob.submit(&room, &request).await.unwrap());
        assert_eq!(again, first, "the repeat gets the first answer");
        // The rogue provider: the same request straight to the hub.
        let y_to_x = client_as(&nodes[1].config, &nodes[0].config);
        let path = format!("/submitMessage/{}", encode_param(&room));
        let direct = y_to_x
            .post(&nodes[0].domain, &path, request.encode().unwrap())
            .await
            .unwrap();
        assert!(direct.is_success(), "HTTP {}", direct.status);
        let response: SubmitMessageResponse = decode_exact(&direct.body).unwrap();
        assert_eq!(accepted_at(&response.outcome), first);
        let after = at(&scrape(&hub_url).await, accepted);
        assert_eq!(after - before, 1.0, "one message accepted, not three");
        (alice, bob, room, request, first)
    });

    // The hub restarts: it finds the message in the room's log.
    nodes[0].restart().unwrap();
    runtime.block_on(async {
        let again = accepted_at(&bob.submit(&room, &request).await.unwrap());
        assert_eq!(again, first, "a repeat after the hub's restart");
        assert_eq!(
            at(&scrape(&hub_url).await, accepted),
            0.0,
            "nothing accepted since the restart"
        );

        // The sentinel, then every device shows each message once.
        alice.send(&room, "sentinel").await.unwrap();
        let expected = ["said once".to_owned(), "sentinel".to_owned()];
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.texts(&room).len() >= expected.len())
        })
        .await;
        for d in [&mut alice, &mut bob] {
            d.poll(300).await;
        }
        for d in [&alice, &bob] {
            assert_eq!(d.texts(&room), expected, "{}", d.client());
            assert!(d.failures().is_empty(), "{:?}", d.failures());
            // The engine drops a repeated message silently: count arrivals in the feed.
            assert_eq!(d.arrivals.len(), expected.len(), "{}", d.client());
            assert!(d.repeats().is_empty(), "{}: {:?}", d.client(), d.repeats());
        }
    });
    drop(runtime);
    drop(nodes);
}
