//! What the hub engine does per accepted message, by room size: `HubRoom::handle_submit` on a
//! room of `n` members (decode, sender and epoch checks, replay window, hub order, the log
//! entry and the fan-out effects). Issue 15 asks for K=500 within 1.5x of K=50. The message is
//! made by a real member (`ClientGroup::protect`) outside the timed part.
//!
//! `MIMI_BENCH_N=50,500 cargo bench -p mimi-ds --bench submit`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::mls::MlsMessage;
use mimi_federation_api::submit_message::{SubmitMessageRequest, SubmitOutcome};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("hub_submit");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_millis(500));
    let sender = IdentifierUri::from_string("mimi://a.example/u/u0".to_owned()).unwrap();
    for n in common::sizes(&[50, 500]) {
        let common::Room {
            mut hub,
            mut creator,
            now,
            domain,
            ..
        } = common::room(n, "bench");
        g.bench_with_input(BenchmarkId::new("handle_submit", n), &n, |b, _| {
            b.iter_batched(
                || {
                    let bytes = creator.protect(&[0x61; 1024], &BTreeMap::new()).unwrap();
                    SubmitMessageRequest::new(
                        MlsMessage::from_bytes(bytes).unwrap(),
                        sender.clone(),
                    )
                    .unwrap()
                },
                |request| {
                    let out = hub
                        .handle_submit(now * 1000, &domain, request, None)
                        .unwrap();
                    assert!(matches!(
                        out.response.outcome,
                        SubmitOutcome::Accepted { .. }
                    ));
                    out
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
