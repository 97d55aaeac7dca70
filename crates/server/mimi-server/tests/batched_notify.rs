//! Batched notify through two real providers: a backlog of one room reaches its follower in
//! fewer requests than messages, every message exactly once and in hub order, and the room
//! goes on afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Api, Device, settle};
use common::metrics::{at, scrape};
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;

#[test]
fn a_followers_backlog_arrives_in_batches_once_each_and_in_order() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let x = Api::new(nodes[0].base_url());
    let y = Api::new(nodes[1].base_url());
    let (mut alice, mut bob, room) = runtime.block_on(async {
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 1).await;
        let mut bob = Device::register(&y, "bob", "laptop", 1).await;
        let room = alice.create_room("mimi://x.example/r/batched").await;
        let added = alice.add_users(&room, &[bob.user().clone()]).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        settle(&mut [&mut alice, &mut bob], |d| d[1].is_member(&room)).await;
        (alice, bob, room)
    });
    let hub_url = nodes[0].base_url();
    let before = runtime.block_on(scrape(&hub_url));
    let y_acks = "mimi_notify_acks_total{peer=\"y.example\"}";
    let y_items = "mimi_notify_items_acked_total{peer=\"y.example\"}";

    // The follower is down while the hub accepts a burst: the room's queue for y grows.
    nodes[1].stop();
    let texts: Vec<String> = (1..=12).map(|n| format!("backlog {n}")).collect();
    runtime.block_on(async {
        for text in &texts {
            let sent = alice.send(&room, text).await.unwrap();
            assert!(matches!(sent, SubmitOutcome::Accepted { .. }), "{sent:?}");
        }
    });
    nodes[1].restart().unwrap();

    let mut expected = texts.clone();
    expected.push("sentinel".into());
    runtime.block_on(async {
        settle(&mut [&mut alice, &mut bob], |d| {
            d[1].texts(&room).len() >= texts.len()
        })
        .await;
        // The room goes on: a sentinel from the follower's side reaches both.
        let sent = bob.send(&room, "sentinel").await.unwrap();
        assert!(matches!(sent, SubmitOutcome::Accepted { .. }), "{sent:?}");
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.texts(&room).len() >= expected.len())
        })
        .await;
        for d in [&mut alice, &mut bob] {
            d.poll(300).await;
        }
    });
    assert_eq!(bob.texts(&room), expected, "every message once, in order");
    assert_eq!(alice.texts(&room), expected);
    for d in [&alice, &bob] {
        assert!(d.failures().is_empty(), "{:?}", d.failures());
        assert!(d.seqs.windows(2).all(|w| w[0] < w[1]), "{:?}", d.seqs);
    }

    let after = runtime.block_on(scrape(&hub_url));
    let acks = at(&after, y_acks) - at(&before, y_acks);
    let items = at(&after, y_items) - at(&before, y_items);
    assert!(
        items >= texts.len() as f64,
        "the backlog was acknowledged: {items} items"
    );
    assert!(
        acks < items,
        "the backlog went out in batches: {acks} requests for {items} items"
    );
    drop(runtime);
    drop(nodes);
}
