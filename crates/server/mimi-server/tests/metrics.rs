//! `GET /metrics` after some traffic across three servers: the request, fan-out, latency and
//! hub counters moved, and the text is Prometheus exposition format.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Api, Device, settle};
use common::metrics::{at, scrape};

#[test]
fn metrics_count_requests_fanout_latency_and_hub_messages() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let hub = nodes[0].base_url();
        let before = scrape(&hub).await;
        assert_eq!(at(&before, "mimi_hub_messages_accepted_total"), 0.0);

        let x = Api::new(hub.clone());
        let y = Api::new(nodes[1].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 2).await;
        let mut bob = Device::register(&y, "bob", "laptop", 2).await;
        let room = alice.create_room("mimi://x.example/r/metered").await;
        alice.add_users(&room, &[bob.user().clone()]).await;
        settle(&mut [&mut alice, &mut bob], |d| d[1].is_member(&room)).await;
        for text in ["one", "two", "three"] {
            alice.send(&room, text).await.unwrap();
        }
        bob.send(&room, "from y").await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.texts(&room).len() >= 4)
        })
        .await;
        // An unknown route and a refused request are counted too.
        let r = x
            .http
            .get(format!("{hub}/no/such/route"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);

        // Once every fan-out is acknowledged the queues are empty (the follower may have
        // answered a moment after the devices saw the messages).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let after = loop {
            let m = scrape(&hub).await;
            let depth: f64 = m
                .iter()
                .filter(|(k, _)| k.starts_with("mimi_outbound_queue_depth{"))
                .map(|(_, v)| v)
                .sum();
            if depth == 0.0 {
                break m;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "queues not drained: {m:#?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        assert_eq!(at(&after, "mimi_hub_messages_accepted_total"), 4.0);
        let created = "mimi_http_requests_total{route=\"/v1/rooms\",status=\"201\"}";
        assert_eq!(at(&after, created), 1.0, "{after:#?}");
        assert!(
            after.iter().any(
                |(k, v)| k.starts_with("mimi_http_requests_total{route=\"/v1/rooms/")
                    && k.ends_with("status=\"200\"}")
                    && *v >= 3.0
            ),
            "{after:#?}"
        );
        assert!(
            at(
                &after,
                "mimi_http_requests_total{route=\"unmatched\",status=\"404\"}"
            ) >= 1.0,
            "{after:#?}"
        );
        let y_peer = "{peer=\"y.example\"}";
        let sends = at(&after, &format!("mimi_notify_sends_total{y_peer}"));
        let acks = at(&after, &format!("mimi_notify_acks_total{y_peer}"));
        let items = at(&after, &format!("mimi_notify_items_acked_total{y_peer}"));
        // The add (commit + Welcome) and four messages reached y, in as many requests or
        // fewer (a request carries every queued message of the room).
        assert!(items >= 6.0, "{after:#?}");
        assert!(acks >= 1.0 && acks <= items, "{after:#?}");
        assert!(sends >= acks);
        assert!(at(&after, "mimi_notify_items_acked_total{peer=\"x.example\"}") >= 5.0);
        assert!(after.contains_key("mimi_outbound_queue_depth{peer=\"z.example\"}"));
        let latency = at(&after, "mimi_fanout_latency_seconds_count");
        assert!(latency >= 10.0, "{after:#?}");
        assert_eq!(
            latency,
            at(&after, "mimi_fanout_latency_seconds_bucket{le=\"+Inf\"}")
        );
        assert!(at(&after, "mimi_fanout_latency_seconds_sum") > 0.0);

        assert_eq!(
            at(&after, &format!("mimi_outbound_queue_depth{y_peer}")),
            0.0
        );

        // y forwarded bob's message to the hub and counts its own client requests.
        let y_metrics = scrape(&nodes[1].base_url()).await;
        assert!(
            y_metrics
                .keys()
                .any(|k| k.starts_with("mimi_http_requests_total{")),
            "{y_metrics:#?}"
        );
        assert_eq!(at(&y_metrics, "mimi_hub_messages_accepted_total"), 0.0);
    });
}
