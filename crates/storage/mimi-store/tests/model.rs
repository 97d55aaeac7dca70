//! Model-based check: random sequences of calls give the same answers from the SQLite store (and
//! the PostgreSQL one, when `MIMI_TEST_DATABASE_URL` is set) as from mimi-ds's in-memory store,
//! the reference behaviour of the trait.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{device, domain, event, key_package, outbound, room};
use mimi_ds::{DsStore, FeedItem, MemoryStore};
use mimi_store::{PostgresConfig, PostgresStore, SqliteStore};
use proptest::prelude::*;

const ROOMS: [&str; 2] = ["a", "b"];
const DOMAINS: [&str; 2] = ["x.example", "z.example"];
const DEVICES: [&str; 2] = ["phone", "laptop"];

#[derive(Debug, Clone)]
enum Op {
    /// `version`: None = the current one, Some(v) = a guess (often stale).
    SaveRoom(usize, Option<u64>, Vec<(usize, u8)>),
    Pending(usize, usize),
    /// Acks the n-th pending item of a destination (or an id nobody has).
    Ack(usize, usize),
    SaveInbox(usize, Option<u64>, Vec<(usize, u8)>),
    /// Follower-log items: (kind: room message, device item, join, leave; device; payload).
    WriteInbox(usize, Option<u64>, Vec<(u8, usize, u8)>),
    Events(usize, u64, usize),
    AddKeyPackages(usize, Vec<(u32, bool, u64)>),
    Claim(usize, u64),
    ClaimedBy(u32),
    Fresh(usize, u64),
}

fn op() -> impl Strategy<Value = Op> {
    let version = prop_oneof![Just(None), (0u64..4).prop_map(Some)];
    let items = prop::collection::vec((0..2usize, any::<u8>()), 0..3);
    // not_after in seconds; clocks in ms around the boundaries 10 s and 20 s.
    let not_after = prop_oneof![Just(10u64), Just(20), Just(u64::MAX)];
    let now = prop_oneof![Just(0u64), Just(9_999), Just(10_000), Just(20_000)];
    prop_oneof![
        (0..2usize, version.clone(), items.clone()).prop_map(|(r, v, i)| Op::SaveRoom(r, v, i)),
        (0..2usize, 0..4usize).prop_map(|(d, l)| Op::Pending(d, l)),
        (0..2usize, 0..3usize).prop_map(|(d, n)| Op::Ack(d, n)),
        (0..2usize, version.clone(), items).prop_map(|(r, v, i)| Op::SaveInbox(r, v, i)),
        (
            0..2usize,
            version,
            prop::collection::vec((0u8..4, 0..2usize, any::<u8>()), 0..6)
        )
            .prop_map(|(r, v, i)| Op::WriteInbox(r, v, i)),
        (0..2usize, 0u64..8, 0..6usize).prop_map(|(d, c, l)| Op::Events(d, c, l)),
        (
            0..2usize,
            prop::collection::vec((0u32..6, any::<bool>(), not_after), 0..4)
        )
            .prop_map(|(d, e)| Op::AddKeyPackages(d, e)),
        (0..2usize, now.clone()).prop_map(|(d, n)| Op::Claim(d, n)),
        (0u32..6).prop_map(Op::ClaimedBy),
        (0..2usize, now).prop_map(|(d, n)| Op::Fresh(d, n)),
    ]
}

/// Runs one op on a store and renders the answer for comparison.
async fn apply<S: DsStore>(store: &S, op: &Op) -> String {
    match op {
        Op::SaveRoom(r, version, items) => {
            let current = store.load_room(&room(ROOMS[*r])).await.unwrap();
            let expected = version.unwrap_or(current.map_or(0, |c| c.version));
            let items = items
                .iter()
                .map(|(d, b)| outbound(DOMAINS[*d], ROOMS[*r], &[*b]))
                .collect();
            let res = store
                .save_room(&room(ROOMS[*r]), expected, vec![*r as u8], items)
                .await;
            format!("{res:?} {:?}", store.load_room(&room(ROOMS[*r])).await)
        }
        Op::Pending(d, limit) => {
            format!(
                "{:?}",
                store.pending_outbound(&domain(DOMAINS[*d]), *limit).await
            )
        }
        Op::Ack(d, n) => {
            let pending = store
                .pending_outbound(&domain(DOMAINS[*d]), 10)
                .await
                .unwrap();
            let id = pending.get(*n).map_or(999, |i| i.id);
            format!("{:?}", store.ack_outbound(id).await)
        }
        Op::SaveInbox(r, version, items) => {
            let current = store.load_inbox(&room(ROOMS[*r])).await.unwrap();
            let expected = version.unwrap_or(current.map_or(0, |c| c.version));
            let events = items
                .iter()
                .map(|(d, p)| event(DEVICES[*d], ROOMS[*r], &[*p]))
                .collect();
            let res = store
                .save_inbox(&room(ROOMS[*r]), expected, vec![*r as u8], events)
                .await;
            format!("{res:?} {:?}", store.load_inbox(&room(ROOMS[*r])).await)
        }
        Op::WriteInbox(r, version, items) => {
            let current = store.load_inbox(&room(ROOMS[*r])).await.unwrap();
            let expected = version.unwrap_or(current.map_or(0, |c| c.version));
            let feed = items
                .iter()
                .map(|(kind, d, p)| match kind {
                    0 => FeedItem::Room(vec![*p]),
                    1 => FeedItem::Device {
                        device: device(DEVICES[*d]),
                        payload: vec![*p],
                    },
                    2 => FeedItem::Join(device(DEVICES[*d])),
                    _ => FeedItem::Leave(device(DEVICES[*d])),
                })
                .collect();
            let res = store
                .write_inbox(&room(ROOMS[*r]), expected, vec![*r as u8], feed)
                .await;
            format!("{res:?} {:?}", store.load_inbox(&room(ROOMS[*r])).await)
        }
        Op::Events(d, cursor, limit) => format!(
            "{:?}",
            store
                .device_events(&device(DEVICES[*d]), *cursor, *limit)
                .await
        ),
        Op::AddKeyPackages(d, entries) => {
            let entries = entries
                .iter()
                .map(|(n, last_resort, not_after)| key_package(*n, *last_resort, *not_after))
                .collect();
            format!(
                "{:?}",
                store.add_key_packages(&device(DEVICES[*d]), entries).await
            )
        }
        Op::Claim(d, now) => format!(
            "{:?}",
            store.claim_key_package(&device(DEVICES[*d]), *now).await
        ),
        Op::ClaimedBy(n) => format!(
            "{:?}",
            store.claimed_by(format!("ref-{n}").as_bytes()).await
        ),
        Op::Fresh(d, now) => format!(
            "{:?}",
            store.fresh_key_packages(&device(DEVICES[*d]), *now).await
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_answers_like_the_memory_store(ops in prop::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = tempfile::tempdir().unwrap();
        rt.block_on(async {
            let sqlite = SqliteStore::open_in(dir.path()).await.unwrap();
            let memory = MemoryStore::new();
            for (step, op) in ops.iter().enumerate() {
                let want = apply(&memory, op).await;
                let got = apply(&sqlite, op).await;
                prop_assert_eq!(got, want, "step {} {:?}", step, op);
            }
            sqlite.close().await;
            Ok(())
        })?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The same model check on PostgreSQL (each case in a fresh schema); skipped visibly
    /// without `MIMI_TEST_DATABASE_URL`.
    #[test]
    fn postgres_answers_like_the_memory_store(ops in prop::collection::vec(op(), 1..40)) {
        let Some(admin) = common::pg_url("postgres_answers_like_the_memory_store") else {
            return Ok(());
        };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let schema = common::PgSchema::create(&admin).await;
            let postgres = PostgresStore::connect(&schema.url, &PostgresConfig::default())
                .await
                .unwrap();
            let memory = MemoryStore::new();
            for (step, op) in ops.iter().enumerate() {
                let want = apply(&memory, op).await;
                let got = apply(&postgres, op).await;
                prop_assert_eq!(got, want, "step {} {:?}", step, op);
            }
            postgres.close().await;
            schema.drop().await;
            Ok(())
        })?;
    }
}
