//! Scale-out: provider y.example runs as TWO `mimi serve` processes on one PostgreSQL database
//! (a fresh one per run), x.example and z.example as one process each on SQLite; x and z list
//! both of y's federation addresses. A room hosted on y has a device on each y process, one on x
//! and one on z. All four send a burst while the two on y also commit (topic changes); in the
//! middle of the burst the first y process is SIGKILLed and stays down for a while, then comes
//! back. Afterwards: no acknowledged message lost, none delivered twice (device views and the
//! stored device feeds), the same order and the same epoch on every device, and the surviving y
//! process sent fan-out while the other was down.
//!
//! Reads the PostgreSQL server's URL from `MIMI_TEST_DATABASE_URL` and creates a database of its
//! own there; without the variable it says on stderr that it is skipped and passes.
//!
//! Knobs (environment): `MIMI_SCALE_MESSAGES` (default 600).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Proc, device, knob, member, scrape, settle, texts};
use mimi_sdk::{Device, Preset};
use mimi_server::free_loopback_addr;
use mimi_server::local::{LocalOptions, write_federation};
use mimi_store::{PostgresConfig, PostgresStore, SqliteStore};
use mimi_types::{Domain, RoomUri};
use sqlx::Connection as _;

const PG_URL_ENV: &str = "MIMI_TEST_DATABASE_URL";

/// A fresh database on the test server, dropped at the end (a failed run leaves it behind).
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    async fn create(admin: &str) -> Self {
        let name = format!(
            "mimi_scale_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        );
        execute(admin, &format!("CREATE DATABASE {name}")).await;
        let (base, query) = admin.split_once('?').unwrap_or((admin, ""));
        let scheme_end = base.find("://").unwrap() + 3;
        let authority_end = base[scheme_end..]
            .find('/')
            .map_or(base.len(), |slash| scheme_end + slash);
        let mut url = format!("{}/{name}", &base[..authority_end]);
        if !query.is_empty() {
            url = format!("{url}?{query}");
        }
        Self {
            admin: admin.to_owned(),
            name,
            url,
        }
    }

    async fn drop_now(&self) {
        execute(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        )
        .await;
    }
}

async fn execute(url: &str, statement: &str) {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {PG_URL_ENV}: {e}"));
    sqlx::raw_sql(statement)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{statement}: {e}"));
    conn.close().await.unwrap();
}

/// Sets the topic, retrying (a concurrent commit may win the epoch, the process may be down)
/// for at most a minute.
async fn commit_topic(d: &mut Device, room: &RoomUri, topic: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if d.set_topic(room, topic).await.is_ok() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = d.sync(0).await;
    }
    false
}

fn metric(addr: std::net::SocketAddr, name: &str) -> f64 {
    scrape(addr).get(name).copied().unwrap_or(0.0)
}

#[test]
fn one_provider_as_two_processes_on_postgres_survives_a_kill_with_nothing_lost() {
    let admin = match std::env::var(PG_URL_ENV) {
        Ok(url) if !url.is_empty() => url,
        _ => {
            eprintln!(
                "SKIPPED one_provider_as_two_processes_on_postgres_survives_a_kill_with_nothing_lost: \
                 {PG_URL_ENV} is not set; set it to run against a real PostgreSQL, e.g. \
                 {PG_URL_ENV}=postgres://postgres@127.0.0.1:5432/postgres"
            );
            return;
        }
    };
    let total = knob("MIMI_SCALE_MESSAGES", 600);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let database = runtime.block_on(Database::create(&admin));
    let dir = tempfile::tempdir().unwrap();
    let servers = dir.path().join("servers");
    let y = Domain::parse("y.example").unwrap();
    let domains = ["x.example", "y.example", "z.example"].map(|d| Domain::parse(d).unwrap());
    let providers = write_federation(&servers, &LocalOptions::new(domains)).unwrap();

    // y on PostgreSQL, as two processes with listeners of their own and the same keys.
    let mut y1 = providers[1].config.clone();
    y1.database.url = Some(database.url.clone());
    y1.database.max_connections = 6;
    y1.save(&providers[1].config_path).unwrap();
    let mut y2 = y1.clone();
    y2.federation_listen = free_loopback_addr().unwrap();
    y2.client_listen = free_loopback_addr().unwrap();
    let y2_path = providers[1].config_path.with_file_name("mimi-2.toml");
    y2.save(&y2_path).unwrap();
    // x and z list both addresses of y.
    for i in [0, 2] {
        let mut config = providers[i].config.clone();
        config.peers.get_mut(&y).unwrap().addresses =
            vec![y1.federation_listen, y2.federation_listen];
        config.save(&providers[i].config_path).unwrap();
    }

    let proc = |config: std::path::PathBuf, client_addr, name: &str| Proc {
        config,
        client_addr,
        log: dir.path().join(format!("{name}.log")),
        child: None,
    };
    let procs: Vec<Arc<Mutex<Proc>>> = vec![
        proc(
            providers[0].config_path.clone(),
            providers[0].config.client_listen,
            "x",
        ),
        proc(providers[1].config_path.clone(), y1.client_listen, "y1"),
        proc(y2_path, y2.client_listen, "y2"),
        proc(
            providers[2].config_path.clone(),
            providers[2].config.client_listen,
            "z",
        ),
    ]
    .into_iter()
    .map(|p| Arc::new(Mutex::new(p)))
    .collect();
    for p in &procs {
        p.lock().unwrap().spawn();
    }
    for p in &procs {
        p.lock().unwrap().wait_listening();
    }
    let urls: Vec<String> = procs
        .iter()
        .map(|p| format!("http://{}", p.lock().unwrap().client_addr))
        .collect();

    runtime.block_on(async {
        let profiles = dir.path().join("profiles");
        // Devices on y1, y2 (two accounts of y, in the one shared database), x and z.
        let placement = [("alice", 1), ("anna", 2), ("bob", 0), ("carol", 3)];
        let mut devices = Vec::new();
        for (user, at) in placement {
            devices.push(device(&urls[at], &profiles.join(user), user).await);
        }
        let room = devices[0].room_uri("scale").unwrap();
        devices[0]
            .create_room(&room, Preset::Cooperative)
            .await
            .unwrap();
        let others: Vec<_> = devices[1..].iter().map(|d| d.user().clone()).collect();
        devices[0].invite(&room, &others).await.unwrap();
        settle(&mut devices, Duration::from_secs(60), |d| member(d, &room))
            .await
            .unwrap();

        // The killer: SIGKILL y1 a third into the burst; start it again once two thirds are
        // acknowledged (or after 20 s), so that its device can finish.
        let acked_count = Arc::new(AtomicUsize::new(0));
        let counter = acked_count.clone();
        let y1_proc = procs[1].clone();
        let killer = tokio::spawn(async move {
            while counter.load(Ordering::Relaxed) < total / 3 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            y1_proc.lock().unwrap().kill();
            let at_kill = counter.load(Ordering::Relaxed);
            let down = Instant::now();
            while counter.load(Ordering::Relaxed) < total * 2 / 3
                && down.elapsed() < Duration::from_secs(20)
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let at_restart = counter.load(Ordering::Relaxed);
            let p = y1_proc.clone();
            tokio::task::spawn_blocking(move || {
                let mut p = p.lock().unwrap();
                p.spawn();
                p.wait_listening();
            })
            .await
            .unwrap();
            (at_kill, at_restart)
        });

        // The burst: one task per device; the two y devices also change the topic now and then.
        let started = Instant::now();
        let per_device = total.div_ceil(devices.len());
        let mut tasks = Vec::new();
        for (n, mut d) in devices.into_iter().enumerate() {
            let room = room.clone();
            let counter = acked_count.clone();
            tasks.push(tokio::spawn(async move {
                let (mut acked, mut attempts, mut commits) = (Vec::new(), 0usize, 0usize);
                let deadline = Instant::now() + Duration::from_secs(240);
                for i in 0..per_device {
                    if n < 2 && i % 40 == 20 {
                        let topic = format!("topic d{n} m{i}");
                        assert!(
                            commit_topic(&mut d, &room, &topic).await,
                            "device {n} could not commit for a minute"
                        );
                        commits += 1;
                    }
                    let mut try_no = 0;
                    loop {
                        let text = format!("d{n}-m{i}-t{try_no}");
                        attempts += 1;
                        match d.send_text(&room, &text).await {
                            Ok(_) => {
                                acked.push(text);
                                counter.fetch_add(1, Ordering::Relaxed);
                                break;
                            }
                            Err(e) => {
                                assert!(
                                    Instant::now() < deadline,
                                    "device {n} could not send for 4 minutes: {e}"
                                );
                                try_no += 1;
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                let _ = d.sync(0).await;
                            }
                        }
                    }
                }
                (d, acked, attempts, commits)
            }));
        }
        let mut devices = Vec::new();
        let (mut acked, mut attempts, mut commits) = (Vec::new(), 0, 0);
        for t in tasks {
            let (d, a, n, c) = t.await.unwrap();
            devices.push(d);
            acked.extend(a);
            attempts += n;
            commits += c;
        }
        let burst = started.elapsed();
        let (at_kill, at_restart) = killer.await.unwrap();
        assert!(
            at_restart > at_kill,
            "nothing was acknowledged while y1 was down ({at_kill} at the kill)"
        );

        let acked_set: BTreeSet<String> = acked.iter().cloned().collect();
        let settled = settle(&mut devices, Duration::from_secs(180), |d| {
            let shown: BTreeSet<String> = texts(d, &room).into_iter().collect();
            acked_set.is_subset(&shown)
        })
        .await;
        // A little longer, so that any repeat would have arrived, and every commit.
        for d in &mut devices {
            let _ = d.sync(300).await;
        }
        let histories: Vec<Vec<String>> = devices.iter().map(|d| texts(d, &room)).collect();
        if let Err(stuck) = settled {
            for (d, h) in devices.iter().zip(&histories) {
                let shown: BTreeSet<&String> = h.iter().collect();
                let missing: Vec<_> = acked
                    .iter()
                    .filter(|t| !shown.contains(t))
                    .take(10)
                    .collect();
                eprintln!(
                    "{}: {} shown, missing e.g. {missing:?}",
                    d.client_uri(),
                    h.len()
                );
            }
            panic!("acknowledged messages lost (not settled in 180 s): {stuck}");
        }
        for (d, h) in devices.iter().zip(&histories) {
            let mut seen = BTreeMap::new();
            for t in h {
                *seen.entry(t).or_insert(0usize) += 1;
            }
            let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
            assert!(twice.is_empty(), "{} got twice: {twice:?}", d.client_uri());
        }
        let common: BTreeSet<&String> = histories
            .iter()
            .map(|h| h.iter().collect::<BTreeSet<_>>())
            .reduce(|a, b| a.intersection(&b).copied().collect())
            .unwrap_or_default();
        let orders: Vec<Vec<&String>> = histories
            .iter()
            .map(|h| h.iter().filter(|t| common.contains(t)).collect())
            .collect();
        for (d, order) in devices.iter().zip(&orders).skip(1) {
            if let Some(i) = order.iter().zip(&orders[0]).position(|(a, b)| a != b) {
                panic!(
                    "{} shows another order than {} from position {i}",
                    d.client_uri(),
                    devices[0].client_uri()
                );
            }
        }
        // Every commit everywhere: one epoch and one topic on every device.
        let views: Vec<(u64, String)> = devices
            .iter()
            .map(|d| {
                let view = d.engine().room(&room).unwrap();
                (view.epoch(), view.topic().to_owned())
            })
            .collect();
        assert!(views.windows(2).all(|w| w[0] == w[1]), "{views:?}");

        // The surviving y process sent fan-out to x while the other was down (it took the
        // lease), and counted acknowledgements.
        let y2_client = procs[2].lock().unwrap().client_addr;
        assert!(
            metric(y2_client, "mimi_notify_acks_total{peer=\"x.example\"}") > 0.0,
            "y2 never sent x its fan-out: {:?}",
            scrape(y2_client)
        );

        // Below the devices' own repeat filter: no stored feed holds one event twice.
        for p in &procs {
            p.lock().unwrap().kill();
        }
        let mut feed_events = 0;
        for d in &devices {
            let payloads = if d.domain() == &y {
                let store = PostgresStore::connect(&database.url, &PostgresConfig::default())
                    .await
                    .unwrap();
                let payloads = feed(&store, d).await;
                store.close().await;
                payloads
            } else {
                let provider = providers
                    .iter()
                    .find(|p| &p.config.domain == d.domain())
                    .unwrap();
                let store = SqliteStore::open_in(provider.config.data_dir())
                    .await
                    .unwrap();
                let payloads = feed(&store, d).await;
                store.close().await;
                payloads
            };
            assert!(payloads >= acked.len(), "{}", d.client_uri());
            feed_events += payloads;
        }
        eprintln!(
            "two y processes on PostgreSQL: {} acknowledged of {attempts} attempts and {commits} \
             topic commits in a burst of {:.1} s; y1 killed at {at_kill} acknowledged, back at \
             {at_restart}; {feed_events} events in the device feeds, none twice",
            acked.len(),
            burst.as_secs_f64()
        );
        assert!(acked.len() >= total.div_ceil(4) * 4);
        database.drop_now().await;
    });
    drop(procs);
}

/// The number of events in `device`'s stored feed, asserting none is there twice.
async fn feed(store: &impl mimi_ds::DsStore, device: &Device) -> usize {
    let (mut cursor, mut payloads) = (0, BTreeSet::new());
    loop {
        let events = store
            .device_events(device.client_uri(), cursor, 1000)
            .await
            .unwrap();
        let Some(last) = events.last() else { break };
        cursor = last.seq;
        for e in events {
            assert!(
                payloads.insert(e.payload),
                "{}'s feed holds event {} twice",
                device.client_uri(),
                e.seq
            );
        }
    }
    payloads.len()
}
