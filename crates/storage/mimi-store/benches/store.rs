//! Store costs, the same cases on each backend:
//!
//! * `sqlite/…`: a temp file with the production durability settings (WAL,
//!   `synchronous=FULL`): every write below includes its fsync;
//! * `postgres/…`: the server `MIMI_TEST_DATABASE_URL` names (skipped, with a note, when it is
//!   unset), in a schema of its own dropped afterwards; every write waits for the server's
//!   commit (its `synchronous_commit` setting, `on` by default).

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use criterion::Criterion;
use mimi_ds::follower::{Claim, KeyPackageEntry};
use mimi_ds::{DsStore, NewDeviceEvent, NewOutbound};
use mimi_store::{PostgresConfig, PostgresStore, SqliteStore};
use mimi_types::{ClientUri, Domain, RoomUri};
use sqlx::Connection;
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn room() -> RoomUri {
    RoomUri::parse("mimi://hub.example/r/bench").unwrap()
}

fn device(name: &str) -> ClientUri {
    ClientUri::parse(&format!("mimi://z.example/d/diana/{name}")).unwrap()
}

fn save_room<S: DsStore>(c: &mut Criterion, rt: &Runtime, store: &S, backend: &str) {
    let r = room();
    let state = vec![7u8; 2048];
    let item = |to: &str| NewOutbound {
        to: Domain::parse(to).unwrap(),
        room: r.clone(),
        body: vec![1u8; 512],
    };
    let mut version = 0;
    c.bench_function(
        &format!("{backend}/save_room (2 KiB state, 2 outbound items)"),
        |b| {
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
        },
    );
}

fn claim_key_package<S: DsStore>(c: &mut Criterion, rt: &Runtime, store: &S, backend: &str) {
    let d = device("claimed");
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
    c.bench_function(
        &format!("{backend}/claim_key_package (fresh, pool of <= 1000)"),
        |b| {
            b.iter(
                || match rt.block_on(store.claim_key_package(&d, 0)).unwrap() {
                    Claim::Fresh(_) => {}
                    Claim::Exhausted => refill(&mut next),
                    other => panic!("unexpected {other:?}"),
                },
            );
        },
    );
}

fn device_events<S: DsStore>(c: &mut Criterion, rt: &Runtime, store: &S, backend: &str) {
    let r = RoomUri::parse("mimi://hub.example/r/inbox").unwrap();
    let d = device("reader");
    let events: Vec<NewDeviceEvent> = (0..1000)
        .map(|_| NewDeviceEvent {
            device: d.clone(),
            room: r.clone(),
            payload: vec![5u8; 512],
        })
        .collect();
    rt.block_on(store.save_inbox(&r, 0, vec![], events))
        .unwrap();
    c.bench_function(
        &format!("{backend}/device_events (page of 100 from 1000)"),
        |b| {
            b.iter(|| {
                let page = rt.block_on(store.device_events(&d, 450, 100)).unwrap();
                assert_eq!(page.len(), 100);
            });
        },
    );
}

fn all_cases<S: DsStore>(c: &mut Criterion, rt: &Runtime, store: &S, backend: &str) {
    save_room(c, rt, store, backend);
    claim_key_package(c, rt, store, backend);
    device_events(c, rt, store, backend);
}

fn sqlite(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let store = rt.block_on(SqliteStore::open_in(dir.path())).unwrap();
    all_cases(c, &rt, &store, "sqlite");
    rt.block_on(store.close());
}

async fn execute(url: &str, statement: &str) {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(statement).execute(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

fn postgres(c: &mut Criterion) {
    let Ok(admin) = std::env::var("MIMI_TEST_DATABASE_URL") else {
        eprintln!("postgres/*: skipped, set MIMI_TEST_DATABASE_URL to measure PostgreSQL");
        return;
    };
    let rt = runtime();
    let schema = format!("mimi_bench_{}", std::process::id());
    rt.block_on(execute(&admin, &format!("CREATE SCHEMA {schema}")));
    let separator = if admin.contains('?') { '&' } else { '?' };
    let url = format!("{admin}{separator}options[search_path]={schema}");
    let store = rt
        .block_on(PostgresStore::connect(&url, &PostgresConfig::default()))
        .unwrap();
    all_cases(c, &rt, &store, "postgres");
    rt.block_on(store.close());
    rt.block_on(execute(&admin, &format!("DROP SCHEMA {schema} CASCADE")));
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    sqlite(&mut c);
    postgres(&mut c);
    c.final_summary();
}
