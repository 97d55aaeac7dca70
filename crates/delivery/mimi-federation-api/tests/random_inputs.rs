//! Stable-toolchain stand-in for the fuzz targets: every decoder gets thousands of random and
//! mutated inputs (deterministic seed) and must never panic. Whatever it accepts must re-encode
//! to exactly the input: strict decoding means one encoding per value.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use mimi_federation_api::directory::Directory;

/// splitmix64: small, deterministic, good enough to drive mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        self.next() as u8
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(7) {
            0 if !out.is_empty() => {
                let at = rng.below(out.len());
                out[at] = rng.byte();
            }
            1 if !out.is_empty() => {
                let at = rng.below(out.len());
                out[at] ^= 1 << rng.below(8);
            }
            2 => {
                let at = rng.below(out.len() + 1);
                out.insert(at, rng.byte());
            }
            3 if !out.is_empty() => {
                let at = rng.below(out.len());
                out.remove(at);
            }
            4 => {
                let at = rng.below(out.len() + 1);
                out.truncate(at);
            }
            5 if !out.is_empty() => {
                // Interesting length-prefix bytes.
                let at = rng.below(out.len());
                out[at] = [0x00, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xff][rng.below(8)];
            }
            _ => {
                let at = rng.below(out.len() + 1);
                let chunk: Vec<u8> = (0..rng.below(16)).map(|_| rng.byte()).collect();
                out.splice(at..at, chunk);
            }
        }
    }
    out
}

#[test]
fn decoders_never_panic_on_random_or_mutated_input() {
    let samples = common::samples();
    let mut rng = Rng(0x4d49_4d49_2d66_6564);
    let mut accepted = 0usize;
    for sample in &samples {
        let decode = sample.decode;
        for round in 0..3000 {
            let input = if round % 3 == 0 {
                (0..rng.below(200)).map(|_| rng.byte()).collect()
            } else {
                mutate(&mut rng, &sample.bytes)
            };
            if let Ok(reencoded) = decode(&input) {
                accepted += 1;
                assert_eq!(
                    reencoded, input,
                    "{}: accepted a non-canonical input",
                    sample.name
                );
            }
        }
        // Every sample's own encoding, and every other sample's, must not panic either.
        for other in &samples {
            let _ = decode(&other.bytes);
        }
    }
    // Mutations that keep a valid encoding exist (e.g. a changed timestamp byte).
    assert!(accepted > 0);
}

#[test]
fn directory_parser_never_panics() {
    let base = Directory::nominal("https://mimi.a.example/v1")
        .unwrap()
        .to_json()
        .into_bytes();
    let mut rng = Rng(7);
    for round in 0..3000 {
        let input = if round % 3 == 0 {
            (0..rng.below(200)).map(|_| rng.byte()).collect()
        } else {
            mutate(&mut rng, &base)
        };
        let _ = Directory::from_json(&input);
    }
}

#[test]
fn mls_walker_never_panics_on_mutated_real_objects() {
    use mimi_federation_api::decode_exact;
    use mimi_federation_api::mls::{Credential, MlsMessage, RatchetTree};
    let objects = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../testing/vectors/federation/openmls/openmls-0.9.2-objects.txt"
    ));
    let mut rng = Rng(0x006f_7065_6e6d_6c73);
    for line in objects
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (_, hex) = line.split_once(' ').unwrap();
        let bytes = hex::decode(hex).unwrap();
        for _ in 0..500 {
            let input = mutate(&mut rng, &bytes);
            if let Ok(m) = MlsMessage::from_bytes(input.clone()) {
                assert_eq!(m.as_bytes(), input.as_slice());
            }
            let _ = Credential::from_bytes(input.clone());
            let _ = decode_exact::<RatchetTree>(&input);
        }
    }
}
