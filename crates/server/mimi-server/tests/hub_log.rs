//! The hub keeps a room's state apart from its message log: an accepted application message
//! is appended to the log (with its fan-out) and leaves the room's state record — the MLS
//! group with every member's credential — unwritten, so what a message costs the hub does not
//! grow with the room. Two real providers over mutual TLS, the hub's real SQLite file read
//! beside the running server, and a restart of the hub: its sequence numbers continue after
//! the log, not after the older state record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::device::{Api, Device, settle};
use mimi_ds::DsStore as _;
use mimi_federation_api::decode_exact;
use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
use mimi_federation_api::submit_message::SubmitOutcome;
use mimi_federation_api::update::UpdateOutcome;
use mimi_store::SqliteStore;

#[test]
fn application_messages_append_to_the_log_and_leave_the_room_state_alone() {
    common::logs();
    let dir = tempfile::tempdir().unwrap();
    let mut nodes = common::federation(dir.path(), &["x.example", "y.example"]);
    let hub_file = nodes[0].config.data_dir().join(mimi_store::FILE_NAME);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (mut alice, mut bob, room, before) = runtime.block_on(async {
        let x = Api::new(nodes[0].base_url());
        let y = Api::new(nodes[1].base_url());
        Device::register_user(&x, "alice").await;
        Device::register_user(&y, "bob").await;
        let mut alice = Device::register(&x, "alice", "phone", 3).await;
        let mut bob = Device::register(&y, "bob", "laptop", 3).await;
        let room = alice.create_room("mimi://x.example/r/log").await;
        let added = alice.add_users(&room, &[bob.user().clone()]).await;
        assert!(matches!(added, UpdateOutcome::Success { .. }), "{added:?}");
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.is_member(&room))
        })
        .await;

        let store = SqliteStore::open(&hub_file).await.unwrap();
        let before = store.room_head(&room).await.unwrap().unwrap();
        assert!(before.log_head >= 1, "the commit that added bob is logged");
        let state = store.load_room(&room).await.unwrap().unwrap().state;

        for i in 0..5 {
            let sender = if i % 2 == 0 { &mut alice } else { &mut bob };
            let sent = sender.send(&room, &format!("m{i}")).await.unwrap();
            assert!(matches!(sent, SubmitOutcome::Accepted { .. }), "{sent:?}");
        }
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| d.texts(&room).len() == 5)
        })
        .await;

        let after = store.room_head(&room).await.unwrap().unwrap();
        assert_eq!(
            after.version, before.version,
            "an application message must not rewrite the room's state"
        );
        assert_eq!(store.load_room(&room).await.unwrap().unwrap().state, state);
        assert_eq!(after.log_head, before.log_head + 5);
        let log = store.room_log(&room, before.log_head, 100).await.unwrap();
        let seqs: Vec<u64> = log.iter().map(|e| e.seq).collect();
        let expected: Vec<u64> = (1..=5).map(|n| before.log_head + n).collect();
        assert_eq!(seqs, expected);
        for entry in &log {
            let message: FanoutMessage = decode_exact(&entry.message).unwrap();
            assert_eq!(message.timestamp, entry.hub_ms);
            assert!(matches!(message.content, FanoutContent::Application { .. }));
        }
        store.close().await;
        (alice, bob, room, before)
    });

    // The hub restarts: its state record still carries the sequence number of the commit;
    // the next message must come after the log's last entry, and arrive.
    nodes[0].restart().unwrap();
    runtime.block_on(async {
        let sent = bob.send(&room, "after the restart").await.unwrap();
        assert!(matches!(sent, SubmitOutcome::Accepted { .. }), "{sent:?}");
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter()
                .all(|d| d.texts(&room).last().map(String::as_str) == Some("after the restart"))
        })
        .await;
        for d in [&mut alice, &mut bob] {
            d.poll(300).await;
        }
        let expected: Vec<String> = (0..5)
            .map(|i| format!("m{i}"))
            .chain(["after the restart".to_owned()])
            .collect();
        for d in [&alice, &bob] {
            assert_eq!(
                d.texts(&room),
                expected,
                "each message exactly once, in order"
            );
            assert!(d.failures().is_empty(), "{:?}", d.failures());
            assert!(d.seqs.windows(2).all(|w| w[0] < w[1]), "{:?}", d.seqs);
        }
        let store = SqliteStore::open(&hub_file).await.unwrap();
        let head = store.room_head(&room).await.unwrap().unwrap();
        assert_eq!(
            (head.version, head.log_head),
            (before.version, before.log_head + 6)
        );
        store.close().await;
    });
    drop(runtime);
    drop(nodes);
}
