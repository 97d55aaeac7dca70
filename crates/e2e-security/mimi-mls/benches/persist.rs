//! Issue #16: what a client pays to persist a room's MLS state after one received application
//! message, at 10, 100 and 1,000 members (target: flat, 1,000 within 1.5× of 10).
//!
//! `persist`: the changed entries and head record (`ClientGroup::changes`) and reporting them
//! stored (`changes_saved`), after the message was processed (not timed). `receive_and_persist`:
//! processing the message too. The rows `…_past_epochs` are a receiver that has seen
//! [`PAST_EPOCHS`] commits since it joined, so openmls keeps that many past epochs' secrets
//! and member lists in the value it writes per message.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mimi_mls::{ClientGroup, Incoming};

fn receiver(room: &mut common::Room) -> ClientGroup {
    let (welcome, tree) = room.welcome.take().unwrap();
    let g = ClientGroup::join_from_welcome(
        &room.others[0],
        &welcome,
        &tree,
        room.trust.clone(),
        room.now,
    )
    .unwrap();
    let all = g.changes().unwrap();
    g.changes_saved(&all).unwrap();
    g
}

/// Commits (self-updates of the creator) the receiver processes before the measured messages.
const PAST_EPOCHS: usize = 3;

/// The creator commits `n` self-updates and `bob` processes them; then all is saved.
fn past_epochs(room: &mut common::Room, bob: &mut ClientGroup, n: usize) {
    for _ in 0..n {
        let out = room.creator.self_update(room.now).unwrap();
        let staged = room.hub.process(&out.commit, room.now).unwrap();
        room.hub
            .merge(staged, out.group_info.as_deref(), room.now)
            .unwrap();
        room.creator.merge_pending_commit().unwrap();
        bob.process(&out.commit, room.now).unwrap();
    }
    persist(bob);
}

fn receive(room: &mut common::Room, bob: &mut ClientGroup) {
    let ct = room.creator.protect(b"hello", &BTreeMap::new()).unwrap();
    match bob.process(&ct, room.now).unwrap() {
        Incoming::Application(_) => {}
        other => panic!("expected an application message, got {other:?}"),
    }
}

fn persist(bob: &ClientGroup) -> usize {
    let c = bob.changes().unwrap();
    bob.changes_saved(&c).unwrap();
    c.upsert_bytes()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("persist_after_one_received_message");
    g.sample_size(30).measurement_time(Duration::from_secs(4));
    for n in [10usize, 100, 1000] {
        let mut room = common::room(n);
        let mut bob = receiver(&mut room);
        for (past, suffix) in [(0, ""), (PAST_EPOCHS, "_past_epochs")] {
            past_epochs(&mut room, &mut bob, past);
            receive(&mut room, &mut bob);
            eprintln!(
                "{n} members, {past} past epochs: {} octets written per received message",
                persist(&bob)
            );
            rows(&mut g, &mut room, &mut bob, n, suffix);
        }
    }
    g.finish();
}

fn rows(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    room: &mut common::Room,
    bob: &mut ClientGroup,
    n: usize,
    suffix: &str,
) {
    g.bench_function(BenchmarkId::new(format!("persist{suffix}"), n), |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                receive(room, bob);
                let start = Instant::now();
                std::hint::black_box(persist(bob));
                spent += start.elapsed();
            }
            spent
        });
    });
    g.bench_function(
        BenchmarkId::new(format!("receive_and_persist{suffix}"), n),
        |b| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let ct = room.creator.protect(b"hello", &BTreeMap::new()).unwrap();
                    let start = Instant::now();
                    std::hint::black_box(bob.process(&ct, room.now).unwrap());
                    std::hint::black_box(persist(bob));
                    spent += start.elapsed();
                }
                spent
            });
        },
    );
}

criterion_group!(benches, bench);
criterion_main!(benches);
