//! The crash test: three `mimi serve` processes from `mimi init --dev-federation` on
//! 127.0.0.1, a room hosted on one with members on all three, a burst of messages from devices
//! on every provider while one provider process is killed with SIGKILL at random points (seeded)
//! and started again from the same configuration and data. Afterwards, with everything up:
//! no acknowledged message is lost, none is delivered twice to any device, and every device
//! shows the same order.
//!
//! A send that fails (provider down, or the hub behind it down) is retried as a new message
//! with its own text: a send without an answer may or may not have been accepted, so only
//! messages whose submit was answered with success are "acknowledged".
//!
//! Knobs (environment): `MIMI_CRASH_MESSAGES` (default 2000), `MIMI_CRASH_KILLS` (default 5),
//! `MIMI_CRASH_SEED` (default 8).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Proc, device, knob, member, scrape, settle, texts};
use mimi_ds::DsStore as _;
use mimi_sdk::Preset;
use mimi_server::DevProvider;
use mimi_server::local::{LocalOptions, write_federation};
use mimi_store::SqliteStore;
use mimi_types::Domain;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn start(dir: &Path) -> (Vec<DevProvider>, Vec<Arc<Mutex<Proc>>>) {
    let domains = ["x.example", "y.example", "z.example"].map(|d| Domain::parse(d).unwrap());
    let providers = write_federation(dir, &LocalOptions::new(domains)).unwrap();
    let procs: Vec<_> = providers
        .iter()
        .map(|p| {
            let mut proc = Proc {
                config: p.config_path.clone(),
                client_addr: p.config.client_listen,
                log: dir.join(format!("{}.log", p.config.domain)),
                child: None,
            };
            proc.spawn();
            proc
        })
        .collect();
    for p in &procs {
        p.wait_listening();
    }
    (
        providers,
        procs.into_iter().map(|p| Arc::new(Mutex::new(p))).collect(),
    )
}

struct Outcome {
    /// The hub's outbound queues (all destinations) when the burst ended.
    backlog: f64,
    /// (count, sum in seconds) of the hub's fan-out latency histogram at the end.
    latency: (f64, f64),
    feed_events: usize,
    burst: Duration,
    kills: usize,
    acknowledged: usize,
    attempts: usize,
    settle: Duration,
}

/// The whole scenario with provider `victim` (0 = the hub x.example) killed `kills` times.
fn crash_scenario(victim: usize) -> Outcome {
    let total = knob("MIMI_CRASH_MESSAGES", 2000);
    let kills = knob("MIMI_CRASH_KILLS", 5);
    let seed = knob("MIMI_CRASH_SEED", 8) as u64 + victim as u64;
    let dir = tempfile::tempdir().unwrap();
    let (providers, procs) = start(&dir.path().join("servers"));
    let urls: Vec<String> = providers
        .iter()
        .map(|p| format!("http://{}", p.config.client_listen))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime.block_on(async {
        let profiles = dir.path().join("profiles");
        // Two devices on the hub, one on each follower.
        let placement = [("alice", 0), ("anna", 0), ("bob", 1), ("carol", 2)];
        let mut devices = Vec::new();
        for (user, at) in placement {
            devices.push(device(&urls[at], &profiles.join(user), user).await);
        }
        let room = devices[0].room_uri("crash").unwrap();
        devices[0]
            .create_room(&room, Preset::Cooperative)
            .await
            .unwrap();
        let others: Vec<_> = devices[1..].iter().map(|d| d.user().clone()).collect();
        devices[0].invite(&room, &others).await.unwrap();
        settle(&mut devices, Duration::from_secs(60), |d| member(d, &room))
            .await
            .unwrap();

        // The killer: at seeded random points of the burst (by acknowledged count, plus a
        // random delay) SIGKILL the victim and start it again after a random pause.
        let acked_count = Arc::new(AtomicUsize::new(0));
        let mut rng = StdRng::seed_from_u64(seed);
        let mut points: Vec<usize> = (0..kills)
            .map(|_| rng.gen_range(total / 20..total * 9 / 10))
            .collect();
        points.sort_unstable();
        let victim_proc = procs[victim].clone();
        let counter = acked_count.clone();
        let killer = tokio::spawn(async move {
            let mut done = 0;
            for point in points {
                while counter.load(Ordering::Relaxed) < point {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                tokio::time::sleep(Duration::from_millis(rng.gen_range(0..50))).await;
                victim_proc.lock().unwrap().kill();
                done += 1;
                tokio::time::sleep(Duration::from_millis(rng.gen_range(50..600))).await;
                let p = victim_proc.clone();
                tokio::task::spawn_blocking(move || {
                    let mut p = p.lock().unwrap();
                    p.spawn();
                    p.wait_listening();
                })
                .await
                .unwrap();
            }
            done
        });

        // The burst: one task per device, each sending its share, retrying failures as new
        // messages with their own text.
        let started = Instant::now();
        let per_device = total.div_ceil(devices.len());
        let mut tasks = Vec::new();
        for (n, mut d) in devices.into_iter().enumerate() {
            let room = room.clone();
            let counter = acked_count.clone();
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                let mut attempts = 0usize;
                let deadline = Instant::now() + Duration::from_secs(240);
                for i in 0..per_device {
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
                            }
                        }
                    }
                }
                (d, acked, attempts)
            }));
        }
        let mut devices = Vec::new();
        let mut acked = Vec::new();
        let mut attempts = 0;
        for t in tasks {
            let (d, a, n) = t.await.unwrap();
            devices.push(d);
            acked.extend(a);
            attempts += n;
        }
        let burst = started.elapsed();
        let kills_done = killer.await.unwrap();
        let backlog: f64 = scrape(procs[0].lock().unwrap().client_addr)
            .iter()
            .filter(|(k, _)| k.starts_with("mimi_outbound_queue_depth{"))
            .map(|(_, v)| v)
            .sum();

        // Everything is up again: let it settle.
        let acked_set: BTreeSet<String> = acked.iter().cloned().collect();
        let settle_time = settle(&mut devices, Duration::from_secs(180), |d| {
            let shown: BTreeSet<String> = texts(d, &room).into_iter().collect();
            acked_set.is_subset(&shown)
        })
        .await;
        // A little longer, so that any repeat would have arrived.
        for d in &mut devices {
            let _ = d.sync(300).await;
        }
        let histories: Vec<Vec<String>> = devices.iter().map(|d| texts(d, &room)).collect();
        let settle_time = match settle_time {
            Ok(t) => t,
            Err(stuck) => {
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
        };

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
                    "{} shows another order than {} from position {i}: {:?} vs {:?}",
                    d.client_uri(),
                    devices[0].client_uri(),
                    &order[i..(i + 5).min(order.len())],
                    &orders[0][i..(i + 5).min(orders[0].len())],
                );
            }
        }
        // The hub's metrics saw the burst (its counters restart with the process, so only
        // since its last start when it was the victim).
        let metrics = scrape(procs[0].lock().unwrap().client_addr);
        assert!(
            metrics.contains_key("mimi_hub_messages_accepted_total"),
            "{metrics:?}"
        );
        if victim != 0 {
            let failures = format!(
                "mimi_notify_failures_total{{peer=\"{}\"}}",
                providers[victim].config.domain
            );
            assert!(
                metrics.get(&failures).copied().unwrap_or(0.0) > 0.0,
                "the hub never failed to reach the killed follower: {metrics:?}"
            );
        }
        let latency = (
            metrics
                .get("mimi_fanout_latency_seconds_count")
                .copied()
                .unwrap_or(0.0),
            metrics
                .get("mimi_fanout_latency_seconds_sum")
                .copied()
                .unwrap_or(0.0),
        );

        // Below the device's own repeat filter: no device's stored feed holds one fan-out
        // message twice. Read from each provider's store, with the servers stopped.
        for p in &procs {
            p.lock().unwrap().kill();
        }
        let mut feed_events = 0;
        for d in &devices {
            let provider = providers
                .iter()
                .find(|p| &p.config.domain == d.domain())
                .unwrap();
            let store = SqliteStore::open_in(provider.config.data_dir())
                .await
                .unwrap();
            let (mut cursor, mut payloads) = (0, BTreeSet::new());
            loop {
                let events = store
                    .device_events(d.client_uri(), cursor, 1000)
                    .await
                    .unwrap();
                let Some(last) = events.last() else { break };
                cursor = last.seq;
                for e in events {
                    feed_events += 1;
                    assert!(
                        payloads.insert(e.payload),
                        "{}'s feed holds event {} twice",
                        d.client_uri(),
                        e.seq
                    );
                }
            }
            assert!(payloads.len() >= acked.len(), "{}", d.client_uri());
            store.close().await;
        }
        Outcome {
            backlog,
            latency,
            feed_events,
            burst,
            kills: kills_done,
            acknowledged: acked.len(),
            attempts,
            settle: settle_time,
        }
    });
    drop(procs);
    outcome
}

fn report(what: &str, o: &Outcome) {
    eprintln!(
        "{what}: {} acknowledged of {} attempts in a burst of {:.1} s with {} kills; hub fan-out backlog {} at its end; settled in {:.1} s; {} events in the device feeds, none twice; hub fan-out latency: {} samples, mean {:.3} s",
        o.acknowledged,
        o.attempts,
        o.burst.as_secs_f64(),
        o.kills,
        o.backlog,
        o.settle.as_secs_f64(),
        o.feed_events,
        o.latency.0,
        o.latency.1 / o.latency.0.max(1.0)
    );
}

#[test]
fn hub_killed_during_a_burst_loses_nothing_acknowledged() {
    let o = crash_scenario(0);
    report("hub killed", &o);
    assert!(o.kills >= knob("MIMI_CRASH_KILLS", 5));
    assert!(o.acknowledged >= knob("MIMI_CRASH_MESSAGES", 2000));
}

#[test]
fn follower_killed_during_a_burst_loses_nothing_acknowledged() {
    let o = crash_scenario(1);
    report("follower killed", &o);
    assert!(o.kills >= knob("MIMI_CRASH_KILLS", 5));
    assert!(o.acknowledged >= knob("MIMI_CRASH_MESSAGES", 2000));
}
