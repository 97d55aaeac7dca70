//! SQLite store costs on a temp file with the production durability settings (WAL,
//! `synchronous=FULL`): every write below includes its fsync.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::{Criterion, criterion_group, criterion_main};
use mimi_ds::follower::{Claim, KeyPackageEntry};
use mimi_ds::{DsStore, NewDeviceEvent, NewOutbound};
use mimi_store::SqliteStore;
use mimi_types::{ClientUri, Domain, RoomUri};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn room() -> RoomUri {
    RoomUri::parse("mimi://hub.example/r/bench").unwrap()
}

fn device() -> ClientUri {
    ClientUri::parse("mimi://z.example/d/diana/phone").unwrap()
}

fn save_room(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = rt.block_on(SqliteStore::open_in(dir.path())).unwrap();
    let r = room();
    let state = vec![7u8; 2048];
    let item = |to: &str| NewOutbound {
        to: Domain::parse(to).unwrap(),
        room: r.clone(),
        body: vec![1u8; 512],
    };
    let mut version = 0;
    c.bench_function("save_room (2 KiB state, 2 outbound items)", |b| {
        b.iter(|| {
            version = rt
                .block_on(store.save_room(
                    &r,
                    version,
                    state.clone(),
                    vec![item("x.example"), item("z.example")],
                ))
                .unwrap();
        });
    });
}

fn claim_key_package(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = rt.block_on(SqliteStore::open_in(dir.path())).unwrap();
    let d = device();
    let mut next = 0u32;
    let refill = |next: &mut u32| {
        let entries: Vec<KeyPackageEntry> = (*next..*next + 1000)
            .map(|n| KeyPackageEntry {
                key_package: vec![3u8; 300],
                reference: n.to_be_bytes().to_vec(),
                last_resort: false,
                not_after: 4_000_000_000,
            })
            .collect();
        *next += 1000;
        rt.block_on(store.add_key_packages(&d, entries)).unwrap();
    };
    refill(&mut next);
    c.bench_function("claim_key_package (fresh, pool of <= 1000)", |b| {
        b.iter(
            || match rt.block_on(store.claim_key_package(&d, 0)).unwrap() {
                Claim::Fresh(_) => {}
                Claim::Exhausted => refill(&mut next),
                other => panic!("unexpected {other:?}"),
            },
        );
    });
}

fn device_events(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = rt.block_on(SqliteStore::open_in(dir.path())).unwrap();
    let (r, d) = (room(), device());
    let events: Vec<NewDeviceEvent> = (0..1000)
        .map(|_| NewDeviceEvent {
            device: d.clone(),
            room: r.clone(),
            payload: vec![5u8; 512],
        })
        .collect();
    rt.block_on(store.save_inbox(&r, 0, vec![], events))
        .unwrap();
    c.bench_function("device_events (page of 100 from 1000)", |b| {
        b.iter(|| {
            let page = rt.block_on(store.device_events(&d, 450, 100)).unwrap();
            assert_eq!(page.len(), 100);
        });
    });
}

criterion_group!(benches, save_room, claim_key_package, device_events);
criterion_main!(benches);
