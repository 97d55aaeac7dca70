//! Encode, decode and message ID of the draft's "original" example.
#![allow(missing_docs)] // criterion_group! generates undocumented items

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mimi_content::{MimiContent, message_id};

const ORIGINAL: &str =
    include_str!("../../../../testing/vectors/content/mimi-content-08-original.txt");

/// The hex after `cbor_hex:` up to the next blank line.
fn original_bytes() -> Vec<u8> {
    let hex: String = ORIGINAL
        .split("cbor_hex:")
        .nth(1)
        .unwrap_or_default()
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    hex::decode(hex.trim()).unwrap_or_default()
}

fn field(name: &str) -> &'static str {
    ORIGINAL
        .lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(':')))
        .map(str::trim)
        .unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let bytes = original_bytes();
    let content = match MimiContent::decode(&bytes) {
        Ok(content) => content,
        Err(e) => {
            eprintln!("original example does not decode: {e}");
            return;
        }
    };
    let sender = field("sender_uri");
    let room = field("room_uri");
    c.bench_function("original/decode", |b| {
        b.iter(|| MimiContent::decode(black_box(&bytes)))
    });
    c.bench_function("original/encode", |b| {
        b.iter(|| black_box(&content).encode())
    });
    c.bench_function("original/message_id", |b| {
        b.iter(|| message_id(sender.as_bytes(), room.as_bytes(), black_box(&bytes)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
