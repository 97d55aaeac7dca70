//! Saves of one room through several stores (each its own pool) at once: they are serialized,
//! a conflicting save writes nothing, and the follower log numbers every winning save's items
//! once, in commit order, on every backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{TestDb, TestStore, device, domain, event, on_both_backends, outbound, room};

on_both_backends!(concurrent_saves_through_several_pools_serialize_per_room);

async fn concurrent_saves_through_several_pools_serialize_per_room<S: TestStore>(db: &TestDb) {
    let mut stores = Vec::new();
    for _ in 0..4 {
        stores.push(S::open(db).await);
    }
    let hub = room("busy");
    // 16 writers, 5 saves each: read, save at the read version, retry on conflict. Each save
    // queues one outbound item and appends events for two devices in opposite orders (a
    // deadlock if counter rows were locked in event order).
    let tasks: Vec<_> = (0..16usize)
        .map(|writer| {
            let store = stores[writer % 4].clone();
            let hub = hub.clone();
            tokio::spawn(async move {
                let mut conflicts = 0;
                for n in 0..5u8 {
                    loop {
                        let version = store
                            .load_room(&hub)
                            .await
                            .unwrap()
                            .map_or(0, |r| r.version);
                        let body = vec![writer as u8, n];
                        match store
                            .save_room(
                                &hub,
                                version,
                                body.clone(),
                                vec![outbound("x.example", "busy", &body)],
                            )
                            .await
                        {
                            Ok(_) => break,
                            Err(mimi_ds::StoreError::Conflict { .. }) => conflicts += 1,
                            Err(err) => panic!("{err}"),
                        }
                    }
                    let inbox = room(&format!("inbox-{writer}"));
                    let version = store
                        .load_inbox(&inbox)
                        .await
                        .unwrap()
                        .map_or(0, |r| r.version);
                    let (first, second) = if writer % 2 == 0 {
                        ("phone", "laptop")
                    } else {
                        ("laptop", "phone")
                    };
                    store
                        .save_inbox(
                            &inbox,
                            version,
                            vec![n],
                            vec![
                                event(first, "busy", &[writer as u8, n]),
                                event(second, "busy", &[writer as u8, n]),
                            ],
                        )
                        .await
                        .unwrap();
                }
                conflicts
            })
        })
        .collect();
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await.unwrap();
    }
    let store = &stores[0];
    assert_eq!(store.load_room(&hub).await.unwrap().unwrap().version, 80);
    // Exactly the winning saves queued their item, each once, in save order.
    let items = store
        .pending_outbound(&domain("x.example"), 1000)
        .await
        .unwrap();
    assert_eq!(
        items.len(),
        80,
        "{conflicts} conflicting saves must queue nothing"
    );
    assert!(items.windows(2).all(|w| w[0].id < w[1].id));
    let bodies: BTreeSet<_> = items.iter().map(|i| i.body.clone()).collect();
    assert_eq!(bodies.len(), 80);
    // The follower log numbers every winning save's two items once, in commit order: each
    // device's stream has 80 increasing numbers, and the two streams use 1..=160 exactly.
    let mut all = Vec::new();
    for name in ["phone", "laptop"] {
        let events = store.device_events(&device(name), 0, 1000).await.unwrap();
        let seqs: Vec<u64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs.len(), 80, "{name}'s stream lost items");
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{name}: {seqs:?}");
        all.extend(seqs);
    }
    all.sort_unstable();
    assert_eq!(all, (1..=160).collect::<Vec<_>>(), "the log has gaps");
    for store in stores {
        store.close().await;
    }
}
