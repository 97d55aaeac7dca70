//! The client engine end to end through the real hub and follower engines: one text message
//! sent by one device and shown by three others (encrypt, hub, fan-out, decrypt, view), and
//! a mid-conversation client record written and restored.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/harness/mod.rs"]
mod harness;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use harness::Fed;
use mimi_client_core::Client;
use mimi_room::presets::Preset;

fn conversation() -> (Fed, mimi_types::ClientUri, mimi_types::RoomUri) {
    let mut fed = Fed::new(&["x.example", "y.example", "z.example"]);
    let alice = fed.device("mimi://x.example/u/alice", "phone");
    fed.device("mimi://x.example/u/bob", "laptop");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    fed.device("mimi://z.example/u/diana", "tablet");
    let room = fed.create_room(&charlie, "mimi://y.example/r/bench", Preset::Cooperative);
    fed.invite(
        &charlie,
        &room,
        &[
            "mimi://x.example/u/alice",
            "mimi://x.example/u/bob",
            "mimi://z.example/u/diana",
        ],
    )
    .unwrap();
    (fed, alice, room)
}

fn bench(c: &mut Criterion) {
    let (mut fed, alice, room) = conversation();
    let mut rng = fed.rng.clone();
    c.bench_function("send_and_show_to_4_devices", |b| {
        b.iter(|| {
            fed.c(&alice)
                .send_text(&mut rng, &room, "a short message of the usual size")
                .unwrap();
            fed.pump();
            fed.net.clear_delivered();
            while fed.c(&alice).poll_event().is_some() {}
        });
    });
    let record = fed.client(&alice).to_record().unwrap();
    let messages = fed.client(&alice).room(&room).unwrap().messages().len();
    c.bench_function(&format!("record_restore_{messages}_messages"), |b| {
        b.iter(|| Client::from_record(black_box(&record), fed.trust()).unwrap());
    });
    c.bench_function(&format!("record_write_{messages}_messages"), |b| {
        b.iter(|| black_box(fed.client(&alice).to_record().unwrap()));
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
