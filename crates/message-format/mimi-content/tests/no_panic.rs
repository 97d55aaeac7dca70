//! Stable-toolchain fuzzing: every decoder over thousands of random and mutated inputs
//! (deterministic seed). No decoder may panic, and whatever is accepted must re-encode to
//! exactly the input (the decoders accept only the deterministic encoding).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{TestRng, content_vectors, fields, hex_field, read_vector};
use mimi_content::cbor;
use mimi_content::status::MessageStatusReport;
use mimi_content::{MessageDerivedValues, MimiContent, message_id, message_id_draft07};
use rand::{Rng, RngCore};

fn seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = content_vectors()
        .iter()
        .map(|(_, f)| hex_field(f, "cbor_hex"))
        .collect();
    let status = fields(&read_vector("mimi-message-status-01-report.txt"));
    seeds.push(hex_field(&status, "cbor_hex"));
    let implied = fields(&read_vector("mimi-content-08-implied-original.txt"));
    seeds.push(hex_field(&implied, "committed_cbor_hex"));
    let depth = fields(&read_vector("mimi-content-08-extensions-depth-example.txt"));
    seeds.push(hex_field(&depth, "cbor_hex"));
    seeds
}

/// Runs every decoder; accepted input must be canonical.
fn exercise(input: &[u8]) {
    if let Ok(value) = cbor::decode(input) {
        assert_eq!(cbor::encode(&value), input, "generic CBOR not canonical");
    }
    if let Ok(content) = MimiContent::decode(input) {
        assert_eq!(content.encode().unwrap(), input, "content not canonical");
        let _ = content.check_expiry(1_700_000_000);
        let _ = content.nested_part.part_at(3);
    }
    if let Ok(report) = MessageStatusReport::decode(input) {
        assert_eq!(report.encode(), input, "status report not canonical");
    }
    if let Ok(derived) = MessageDerivedValues::decode(input) {
        assert_eq!(derived.encode(), input, "derived values not canonical");
    }
    let _ = message_id(b"mimi://a.example/u/a", b"mimi://a.example/r/r", input);
    let _ = message_id_draft07(b"s", b"r", input);
}

/// Iterations per test: 4000, or `MIMI_FUZZ_ITERATIONS` for a longer local run.
fn iterations() -> usize {
    std::env::var("MIMI_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4000)
}

fn mutate(rng: &mut TestRng, input: &mut Vec<u8>, donor: &[u8]) {
    for _ in 0..rng.gen_range(1..=4) {
        let len = input.len();
        match rng.gen_range(0..7) {
            0 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.gen_range(0..len);
                input[i] = rng.r#gen();
            }
            2 => {
                let i = rng.gen_range(0..=len);
                input.insert(i, rng.r#gen());
            }
            3 if len > 0 => {
                input.remove(rng.gen_range(0..len));
            }
            4 => input.truncate(rng.gen_range(0..=len)),
            5 if len > 1 => {
                let a = rng.gen_range(0..len);
                let b = rng.gen_range(a..len);
                let chunk = input[a..=b].to_vec();
                let at = rng.gen_range(0..=input.len());
                input.splice(at..at, chunk);
            }
            _ if !donor.is_empty() => {
                let a = rng.gen_range(0..donor.len());
                let b = rng.gen_range(a..donor.len());
                let at = rng.gen_range(0..=input.len());
                let end = rng.gen_range(at..=input.len());
                input.splice(at..end, donor[a..=b].iter().copied());
            }
            _ => {}
        }
    }
}

#[test]
fn mutated_valid_encodings_never_panic() {
    let seeds = seeds();
    for seed in &seeds {
        exercise(seed);
    }
    let mut rng = TestRng(0x5eed);
    for _ in 0..iterations() {
        let mut input = seeds[rng.gen_range(0..seeds.len())].clone();
        let donor = &seeds[rng.gen_range(0..seeds.len())];
        mutate(&mut rng, &mut input, donor);
        exercise(&input);
    }
}

#[test]
fn random_inputs_never_panic() {
    let mut rng = TestRng(0xf022);
    // Bytes biased towards CBOR heads of every major type and the special additional-info values.
    const HEADS: [u8; 16] = [
        0x00, 0x18, 0x1b, 0x20, 0x40, 0x58, 0x60, 0x78, 0x80, 0x87, 0x9f, 0xa1, 0xbf, 0xc2, 0xf9,
        0xff,
    ];
    for _ in 0..iterations() {
        let len = rng.gen_range(0..48);
        let mut input = vec![0u8; len];
        rng.fill_bytes(&mut input);
        for byte in input.iter_mut() {
            if rng.gen_bool(0.5) {
                *byte = HEADS[rng.gen_range(0..HEADS.len())];
            }
        }
        exercise(&input);
    }
}
