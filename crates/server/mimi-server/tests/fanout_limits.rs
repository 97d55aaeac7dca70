//! Nothing the hub acknowledged is dropped, through real servers: a follower whose
//! `max_body_bytes` is smaller than a message's fan-out either has the message refused up front
//! by the hub (it advertises its limit in its directory), or, when the hub did not know the
//! limit yet, refuses the fan-out (413) and the item is kept as a dead letter, counted in
//! `/metrics`, and delivered once the follower takes it. In both cases a sentinel sent after
//! the large message still arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::device::{Api, Device, settle};
use mimi_client_api::ErrorCode;
use mimi_federation_api::submit_message::SubmitOutcome;

/// The follower's small limit: a room's commits and Welcomes fit, the large message does not.
const SMALL_LIMIT: usize = 32 * 1024;

fn accepted(outcome: &SubmitOutcome) {
    assert!(
        matches!(outcome, SubmitOutcome::Accepted { .. }),
        "{outcome:?}"
    );
}

fn large_text() -> String {
    "large message ".repeat(4 * 1024)
}

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

/// Scrapes `base` until `done` holds, for at most 60 s.
async fn wait_for_metrics(
    base: &str,
    done: impl Fn(&BTreeMap<String, f64>) -> bool,
) -> BTreeMap<String, f64> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let m = metrics(base).await;
        if done(&m) {
            return m;
        }
        assert!(Instant::now() < deadline, "metrics never got there: {m:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn the_hub_refuses_a_message_larger_than_a_member_provider_advertises() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation_with(dir.path(), &["x.example", "y.example"], |i, c| {
        if i == 1 {
            c.limits.max_body_bytes = SMALL_LIMIT;
        }
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 2).await;
        let mut bob = Device::register(&y, "bob", "laptop", 2).await;
        let room = alice.create_room("mimi://x.example/r/limited").await;
        alice.add_users(&room, &[bob.user().clone()]).await;
        settle(&mut [&mut alice, &mut bob], |d| d[1].is_member(&room)).await;

        // From the hub's own user: 413 with the TooLarge code, nothing accepted.
        let refused = alice.send(&room, &large_text()).await.unwrap_err();
        assert_eq!(refused.status, 413, "{refused:?}");
        let error = refused.error.unwrap();
        assert_eq!(error.code, ErrorCode::TooLarge);
        assert!(error.message.contains("y.example"), "{}", error.message);
        // From the follower's user, relayed by y to the hub: the same answer.
        let refused = bob.send(&room, &large_text()).await.unwrap_err();
        assert_eq!(refused.status, 413, "{refused:?}");
        assert_eq!(refused.error.unwrap().code, ErrorCode::TooLarge);

        accepted(&alice.send(&room, "sentinel from x").await.unwrap());
        accepted(&bob.send(&room, "sentinel from y").await.unwrap());
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.texts(&room).len() >= 2)
        })
        .await;
        for device in [&alice, &bob] {
            assert_eq!(
                device.texts(&room),
                ["sentinel from x", "sentinel from y"],
                "only the sentinels were accepted"
            );
        }
        let m = metrics(&nodes[0].base_url()).await;
        assert_eq!(at(&m, "mimi_hub_messages_accepted_total"), 2.0, "{m:#?}");
        assert_eq!(
            at(&m, "mimi_notify_dead_lettered_total{peer=\"y.example\"}"),
            0.0
        );
    });
}

#[test]
fn a_refused_fanout_is_kept_as_a_dead_letter_and_delivered_later() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = common::federation_with(dir.path(), &["x.example", "y.example"], |i, c| {
        if i == 0 {
            c.limits.dead_letter_retry_ms = 200;
        }
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let hub = nodes[0].base_url();
    let (mut alice, mut bob, room) = runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 2).await;
        let mut bob = Device::register(&y, "bob", "laptop", 2).await;
        let room = alice.create_room("mimi://x.example/r/dead-letters").await;
        alice.add_users(&room, &[bob.user().clone()]).await;
        settle(&mut [&mut alice, &mut bob], |d| d[1].is_member(&room)).await;
        accepted(&alice.send(&room, "before").await.unwrap());
        settle(&mut [&mut alice, &mut bob], |d| {
            !d[1].texts(&room).is_empty()
        })
        .await;
        (alice, bob, room)
    });

    // y lowers its limit after the hub fetched its directory: the hub does not know.
    nodes[1].config.limits.max_body_bytes = SMALL_LIMIT;
    nodes[1].restart().unwrap();
    runtime.block_on(async {
        let large = large_text();
        accepted(&alice.send(&room, &large).await.unwrap());
        accepted(&alice.send(&room, "sentinel").await.unwrap());
        settle(&mut [&mut alice, &mut bob], |d| {
            d[1].texts(&room).contains(&"sentinel".to_owned())
        })
        .await;
        assert!(
            !bob.texts(&room).contains(&large),
            "y refused the large message"
        );
        // Kept aside, and out of the queue, which drains (the sentinel's ack may come a
        // moment after bob saw it).
        wait_for_metrics(&hub, |m| {
            at(m, "mimi_dead_letters{peer=\"y.example\"}") == 1.0
                && at(m, "mimi_notify_dead_lettered_total{peer=\"y.example\"}") >= 1.0
                && at(m, "mimi_outbound_queue_depth{peer=\"y.example\"}") == 0.0
        })
        .await;
    });

    // y raises its limit again: the dead letter is offered again and taken.
    nodes[1].config.limits.max_body_bytes = 16 * 1024 * 1024;
    nodes[1].restart().unwrap();
    runtime.block_on(async {
        let large = large_text();
        settle(&mut [&mut alice, &mut bob], |d| {
            d[1].texts(&room).contains(&large)
        })
        .await;
        assert_eq!(
            bob.texts(&room).len(),
            3,
            "before, sentinel, then the large one, each once"
        );
        let m = wait_for_metrics(&hub, |m| {
            at(m, "mimi_dead_letters{peer=\"y.example\"}") == 0.0
        })
        .await;
        assert_eq!(
            at(
                &m,
                "mimi_notify_dead_letters_delivered_total{peer=\"y.example\"}"
            ),
            1.0
        );
        // And the room goes on.
        accepted(&alice.send(&room, "after").await.unwrap());
        settle(&mut [&mut alice, &mut bob], |d| {
            d[1].texts(&room).contains(&"after".to_owned())
        })
        .await;
    });
}
