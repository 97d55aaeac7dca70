//! Three real providers (own runtimes, SQLite files and certificates, mutual TLS between them)
//! and real MLS devices driving them through the client API: a room hosted on x.example with
//! participants on all three, messages both ways, a removal and an external join; every device
//! receives every message it should exactly once, in hub order.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Api, Device, settle};
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;

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

#[test]
fn a_room_across_three_servers() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        let z = Api::new(nodes[2].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "bob").await;
        Device::register_user(&z, "carol").await;
        let mut alice = Device::register(&x, "alice", "phone", 3).await;
        let mut bob = Device::register(&y, "bob", "laptop", 3).await;
        let mut carol = Device::register(&z, "carol", "tablet", 3).await;

        let room = alice.create_room("mimi://x.example/r/club").await;
        let users = [bob.user().clone(), carol.user().clone()];
        ok(&alice.add_users(&room, &users).await);
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;

        // Messages from every provider, each sent once the previous one is everywhere.
        let mut expected = Vec::new();
        for (i, text) in ["hello from x", "hi from y", "hey from z", "x again"]
            .iter()
            .enumerate()
        {
            let sender = match i % 3 {
                0 => &mut alice,
                1 => &mut bob,
                _ => &mut carol,
            };
            accepted(&sender.send(&room, text).await.unwrap());
            expected.push((*text).to_owned());
            let n = expected.len();
            settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
                d.iter().all(|d| d.texts(&room).len() >= n)
            })
            .await;
        }

        // Bob, on a follower, adds Dan of z: key material goes y -> hub x -> z, the Welcome
        // x -> z.
        Device::register_user(&z, "dan").await;
        let mut dan = Device::register(&z, "dan", "phone", 2).await;
        ok(&bob.add_users(&room, &[dan.user().clone()]).await);
        settle(&mut [&mut alice, &mut bob, &mut carol, &mut dan], |d| {
            d[3].is_member(&room) && d.iter().all(|x| x.epoch(&room) == d[1].epoch(&room))
        })
        .await;
        accepted(&dan.send(&room, "dan here").await.unwrap());
        expected.push("dan here".to_owned());
        let n = expected.len();
        settle(&mut [&mut alice, &mut bob, &mut carol, &mut dan], |d| {
            d[0].texts(&room).len() >= n
                && d[1].texts(&room).len() >= n
                && d[2].texts(&room).len() >= n
                && !d[3].texts(&room).is_empty()
        })
        .await;

        // Bob, on a follower, removes Carol; then Bob and Alice write.
        ok(&bob.remove_users(&room, &[carol.user().clone()]).await);
        settle(&mut [&mut alice, &mut carol], |d| {
            !d[1].is_member(&room) && d[0].epoch(&room) >= Some(2)
        })
        .await;
        for (i, text) in ["carol is gone", "indeed"].into_iter().enumerate() {
            let sender = if i == 0 { &mut bob } else { &mut alice };
            accepted(&sender.send(&room, text).await.unwrap());
            expected.push(text.to_owned());
            let n = expected.len();
            settle(&mut [&mut alice, &mut bob, &mut dan], |d| {
                d[0].texts(&room).len() >= n
                    && d[1].texts(&room).len() >= n
                    && d[2].texts(&room).len() >= n - 4
            })
            .await;
        }

        // Alice's second device joins by external commit and reads what follows.
        let mut alice_laptop = Device::register(&x, "alice", "laptop", 1).await;
        ok(&alice_laptop.join_external(&room).await.unwrap());
        settle(
            &mut [&mut alice, &mut bob, &mut alice_laptop, &mut dan],
            |d| d.iter().all(|x| x.epoch(&room) == d[2].epoch(&room)),
        )
        .await;
        accepted(&bob.send(&room, "welcome, laptop").await.unwrap());
        expected.push("welcome, laptop".to_owned());
        let n = expected.len();
        settle(
            &mut [&mut alice, &mut bob, &mut alice_laptop, &mut dan],
            |d| {
                d[0].texts(&room).len() >= n
                    && d[1].texts(&room).len() >= n
                    && !d[2].texts(&room).is_empty()
                    && d[3].texts(&room).len() >= n - 4
            },
        )
        .await;

        // Bob's second device, on a follower, joins through the remote hub's GroupInfo
        // exchange (signed by the hub, encrypted to the device) and reads what follows.
        let mut bob_phone = Device::register(&y, "bob", "phone", 1).await;
        bob_phone.knows_hub(&alice);
        ok(&bob_phone.join_via_group_info(&room).await.unwrap());
        settle(
            &mut [
                &mut alice,
                &mut bob,
                &mut alice_laptop,
                &mut dan,
                &mut bob_phone,
            ],
            |d| d.iter().all(|x| x.epoch(&room) == d[4].epoch(&room)),
        )
        .await;
        accepted(&dan.send(&room, "hello, phone").await.unwrap());
        expected.push("hello, phone".to_owned());
        let n = expected.len();
        settle(
            &mut [
                &mut alice,
                &mut bob,
                &mut alice_laptop,
                &mut dan,
                &mut bob_phone,
            ],
            |d| {
                d[0].texts(&room).len() >= n
                    && d[1].texts(&room).len() >= n
                    && d[2].texts(&room).len() >= 2
                    && d[3].texts(&room).len() >= n - 4
                    && !d[4].texts(&room).is_empty()
            },
        )
        .await;

        // A little longer, so that any duplicate would have arrived.
        for d in [
            &mut alice,
            &mut bob,
            &mut carol,
            &mut alice_laptop,
            &mut dan,
            &mut bob_phone,
        ] {
            d.poll(300).await;
        }
        assert_eq!(alice.texts(&room), expected);
        assert_eq!(bob.texts(&room), expected);
        assert_eq!(carol.texts(&room), expected[..5].to_vec());
        assert_eq!(dan.texts(&room), expected[4..].to_vec());
        assert_eq!(
            alice_laptop.texts(&room),
            vec!["welcome, laptop".to_owned(), "hello, phone".to_owned()]
        );
        assert_eq!(bob_phone.texts(&room), vec!["hello, phone".to_owned()]);
        for d in [&alice, &bob, &carol, &alice_laptop, &dan, &bob_phone] {
            assert!(
                d.failures().is_empty(),
                "{}: {:?}",
                d.client(),
                d.failures()
            );
            let mut seqs = d.seqs.clone();
            seqs.dedup();
            assert_eq!(seqs, d.seqs, "{} got an event twice", d.client());
            assert!(d.seqs.windows(2).all(|w| w[0] < w[1]));
        }
        assert!(!carol.is_member(&room));
        assert!(alice_laptop.is_member(&room));
    });
    drop(runtime);
    drop(nodes);
}

#[test]
fn a_follower_that_was_down_gets_its_backlog_and_the_hub_survives_a_restart() {
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
        let room = alice.create_room("mimi://x.example/r/durable").await;
        ok(&alice.add_users(&room, &[bob.user().clone()]).await);
        settle(&mut [&mut alice, &mut bob], |d| d[1].is_member(&room)).await;
        (alice, bob, room)
    });

    // The follower goes down; the hub accepts messages meanwhile, then restarts itself.
    nodes[1].stop();
    let texts = [
        "while you were out 1",
        "while you were out 2",
        "while you were out 3",
    ];
    runtime.block_on(async {
        for text in texts {
            accepted(&alice.send(&room, text).await.unwrap());
        }
    });
    nodes[0].restart().unwrap();
    nodes[1].restart().unwrap();

    runtime.block_on(async {
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.texts(&room).len() >= texts.len())
        })
        .await;
        accepted(&bob.send(&room, "back").await.unwrap());
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.texts(&room).len() > texts.len())
        })
        .await;
        for d in [&mut alice, &mut bob] {
            d.poll(300).await;
        }
    });
    let mut expected: Vec<String> = texts.iter().map(|t| (*t).to_owned()).collect();
    expected.push("back".into());
    assert_eq!(alice.texts(&room), expected);
    assert_eq!(bob.texts(&room), expected);
    for d in [&alice, &bob] {
        assert!(d.failures().is_empty(), "{:?}", d.failures());
        assert!(d.seqs.windows(2).all(|w| w[0] < w[1]), "{:?}", d.seqs);
    }
    drop(runtime);
    drop(nodes);
}

/// A provider whose last member left, and which is added back epochs later, delivers again:
/// the Welcome for its new member moves its `RoomInbox` past the gap.
#[test]
fn a_provider_added_back_after_a_gap_delivers_again() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let nodes = common::federation(dir.path(), &["x.example", "y.example", "z.example"]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        let z = Api::new(nodes[2].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "bob").await;
        Device::register_user(&z, "carol").await;
        Device::register_user(&z, "dan").await;
        let mut alice = Device::register(&x, "alice", "phone", 1).await;
        let mut bob = Device::register(&y, "bob", "phone", 1).await;
        let mut carol = Device::register(&z, "carol", "phone", 1).await;
        let mut dan = Device::register(&z, "dan", "phone", 1).await;
        let room = alice.create_room("mimi://x.example/r/gap").await;
        ok(&alice.add_users(&room, &[carol.user().clone()]).await);
        settle(&mut [&mut alice, &mut carol], |d| d[1].is_member(&room)).await;
        ok(&alice.remove_users(&room, &[carol.user().clone()]).await);
        settle(&mut [&mut alice, &mut carol], |d| !d[1].is_member(&room)).await;
        // z has no member for this epoch change.
        ok(&alice.add_users(&room, &[bob.user().clone()]).await);
        settle(&mut [&mut alice, &mut bob], |d| d[1].is_member(&room)).await;
        ok(&alice.add_users(&room, &[dan.user().clone()]).await);
        settle(&mut [&mut alice, &mut bob, &mut dan], |d| {
            d[2].is_member(&room)
        })
        .await;
        accepted(&alice.send(&room, "after the gap").await.unwrap());
        settle(&mut [&mut alice, &mut bob, &mut dan], |d| {
            d.iter().all(|d| d.texts(&room).len() == 1)
        })
        .await;
    });
    drop(runtime);
    drop(nodes);
}
