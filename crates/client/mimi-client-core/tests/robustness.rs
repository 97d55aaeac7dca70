//! The decoders of this crate fed random and mutated inputs (deterministic seed): the client
//! record, and device-stream events. Nothing panics; a record that decodes encodes again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use harness::Fed;
use mimi_client_core::Client;
use mimi_federation_api::Encode;
use mimi_room::presets::Preset;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn mutate(rng: &mut StdRng, valid: &[u8]) -> Vec<u8> {
    let mut out = valid.to_vec();
    match rng.gen_range(0..4) {
        0 if !out.is_empty() => {
            for _ in 0..rng.gen_range(1..4) {
                let i = rng.gen_range(0..out.len());
                out[i] ^= 1 << rng.gen_range(0..8);
            }
        }
        1 => out.truncate(rng.gen_range(0..=out.len())),
        2 => {
            let at = rng.gen_range(0..=out.len());
            let extra: Vec<u8> = (0..rng.gen_range(1..16)).map(|_| rng.r#gen()).collect();
            out.splice(at..at, extra);
        }
        _ => {
            // A length field made huge.
            if out.len() > 8 {
                let i = rng.gen_range(0..out.len() - 4);
                out[i..i + 4].copy_from_slice(&[0xff, 0xff, 0xff, 0xf0]);
            }
        }
    }
    out
}

#[test]
fn client_records_never_panic() {
    let mut fed = Fed::new(&["x.example", "y.example"]);
    let alice = fed.device("mimi://x.example/u/alice", "phone");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    let room = fed.create_room(&charlie, "mimi://y.example/r/team", Preset::Cooperative);
    fed.invite(&charlie, &room, &["mimi://x.example/u/alice"])
        .unwrap();
    let mut rng = fed.rng.clone();
    fed.c(&alice).send_text(&mut rng, &room, "hello").unwrap();
    fed.pump();
    fed.c(&alice).send_text(&mut rng, &room, "queued").unwrap();
    let valid = fed.client(&alice).to_record().unwrap();
    let mut rng = StdRng::seed_from_u64(0x00c1_1e47);
    let mut accepted = 0;
    for i in 0..1500 {
        let input = if i % 10 == 0 {
            (0..rng.gen_range(0..64)).map(|_| rng.r#gen()).collect()
        } else {
            mutate(&mut rng, &valid)
        };
        if let Ok(client) = Client::from_record(&input, fed.trust()) {
            accepted += 1;
            let _ = client.to_record();
        }
    }
    // Flipping bits in content or digests can still decode; most mutations must not.
    assert!(accepted < 1500);
}

#[test]
fn stream_events_never_panic() {
    let mut fed = Fed::new(&["x.example", "y.example"]);
    let alice = fed.device("mimi://x.example/u/alice", "phone");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    let room = fed.create_room(&charlie, "mimi://y.example/r/team", Preset::Cooperative);
    fed.invite(&charlie, &room, &["mimi://x.example/u/alice"])
        .unwrap();
    let mut rng = fed.rng.clone();
    fed.c(&charlie).send_text(&mut rng, &room, "hello").unwrap();
    fed.pump();
    let payloads: Vec<Vec<u8>> = fed
        .delivered()
        .iter()
        .filter(|(d, _)| d == &alice)
        .map(|(_, d)| d.message.encode().unwrap())
        .collect();
    assert!(!payloads.is_empty());
    let now = fed.now();
    let mut rng = StdRng::seed_from_u64(0x5eed);
    for seq in 1..3000u64 {
        let valid = &payloads[rng.gen_range(0..payloads.len())];
        let input = mutate(&mut rng, valid);
        let _ = fed.c(&alice).handle_event(now, 1000 + seq, &room, &input);
    }
    // Whatever arrived, the timeline holds at most the one real message, never a forgery.
    let view = fed.client(&alice).room(&room).unwrap();
    assert!(view.messages().len() <= 1);
}
