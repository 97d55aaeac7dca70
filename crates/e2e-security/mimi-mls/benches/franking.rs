//! P7: what franking adds per message: the sender's tag over 1 KiB of content, the hub's
//! frank (HMAC and an Ed25519 signature over the ~90-byte FrankingIntegrityTBS), and a
//! receiver's check of the signature.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use mimi_mls::franking::franking_tag;
use mimi_mls::{ProviderCa, ServerIdentity, Validity, sign};
use mimi_types::Domain;

fn bench(c: &mut Criterion) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ca = ProviderCa::generate(
        Domain::parse("x.example").unwrap(),
        Validity::starting(now - 60, 3600),
    )
    .unwrap();
    let server = ServerIdentity::new(&ca, Validity::starting(now - 60, 3600)).unwrap();
    let franker = server.franker().unwrap();
    let content = vec![0x61u8; 1024];
    let salt = [7u8; 16];
    let tag = franking_tag(&salt, &content).unwrap();
    // About the size of an encoded ServerFrankingContext and FrankingIntegrityTBS.
    let context = vec![0x2fu8; 60];
    let tbs = vec![0x2fu8; 94];
    let signature = franker.sign(&tbs).unwrap();

    let mut g = c.benchmark_group("franking");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_millis(500));
    g.bench_function("sender_tag_1KiB", |b| {
        b.iter(|| franking_tag(&salt, &content).unwrap())
    });
    g.bench_function("hub_frank", |b| {
        b.iter(|| {
            let frank = franker.server_frank(&tag, &context).unwrap();
            let _ = frank;
            franker.sign(&tbs).unwrap()
        })
    });
    g.bench_function("receiver_verify", |b| {
        b.iter(|| {
            sign::verify_with_label(
                franker.public_key(),
                sign::FRANKING_INTEGRITY,
                &tbs,
                &signature,
            )
            .unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
