//! Encode and decode throughput of the busiest bodies: a notify with a franked application
//! message, a submitMessage request, and a key material response with KeyPackages.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mimi_federation_api::codec::Writer;
use mimi_federation_api::franking::Frank;
use mimi_federation_api::key_material::{
    ClientKeyMaterial, ClientMaterial, KeyMaterialResponse, KeyMaterialUserCode,
};
use mimi_federation_api::mls::{KeyPackage, MlsMessage, Signature};
use mimi_federation_api::notify::{FanoutContent, FanoutMessage, NotifyRequest};
use mimi_federation_api::submit_message::SubmitMessageRequest;
use mimi_federation_api::{Encode, IdentifierUri, decode_exact};
use mimi_types::codepoints::DEFAULT_CIPHERSUITE;

fn opaque(w: &mut Writer, bytes: &[u8]) {
    w.opaque("bench", usize::MAX, bytes).unwrap();
}

fn private_message(len: usize) -> MlsMessage {
    let mut w = Writer::new();
    w.u16(1);
    w.u16(2);
    opaque(&mut w, b"mimi://a.example/g/clubhouse");
    w.u64(42);
    w.u8(1);
    opaque(&mut w, &[0; 36]);
    opaque(&mut w, &[1; 16]);
    opaque(&mut w, &vec![2; len]);
    MlsMessage::from_bytes(w.into_bytes()).unwrap()
}

fn key_package(seed: u8) -> KeyPackage {
    let mut w = Writer::new();
    w.u16(1);
    w.u16(1);
    opaque(&mut w, &[seed; 32]);
    opaque(&mut w, &[seed; 32]);
    opaque(&mut w, &[seed; 32]);
    w.u16(1);
    opaque(&mut w, b"mimi://b.example/d/bob/phone");
    for list in [&[0u8, 1][..], &[0, 1], &[], &[0, 8], &[0, 1]] {
        opaque(&mut w, list);
    }
    w.u8(1);
    w.u64(0);
    w.u64(u64::MAX);
    opaque(&mut w, &[]);
    opaque(&mut w, &[seed; 64]);
    opaque(&mut w, &[]);
    opaque(&mut w, &[seed; 64]);
    KeyPackage::from_bytes(w.into_bytes()).unwrap()
}

fn bench(c: &mut Criterion) {
    let frank = Frank::new(
        [7; 32],
        DEFAULT_CIPHERSUITE,
        Signature::from_bytes(vec![3; 64]).unwrap(),
    );
    let notify = NotifyRequest::new(
        (0..16)
            .map(|i| {
                FanoutMessage::new(
                    i,
                    FanoutContent::Application {
                        message: private_message(1024),
                        frank: Some(frank.clone()),
                    },
                )
            })
            .collect(),
    );
    let notify_bytes = notify.encode().unwrap();
    let submit = SubmitMessageRequest::new(
        private_message(1024),
        IdentifierUri::from_string("mimi://c.example/u/cathy").unwrap(),
    )
    .unwrap();
    let submit_bytes = submit.encode().unwrap();
    let key_material = KeyMaterialResponse::new(
        KeyMaterialUserCode::Success,
        IdentifierUri::from_string("mimi://b.example/u/bob").unwrap(),
        (0..8)
            .map(|i| {
                ClientKeyMaterial::new(
                    IdentifierUri::from_string(format!("mimi://b.example/d/bob/{i}")).unwrap(),
                    ClientMaterial::Success(key_package(i)),
                )
            })
            .collect(),
    );
    let key_material_bytes = key_material.encode().unwrap();

    let mut group = c.benchmark_group("federation");
    group.throughput(Throughput::Bytes(notify_bytes.len() as u64));
    group.bench_function("notify_16x1KiB/decode", |b| {
        b.iter(|| decode_exact::<NotifyRequest>(black_box(&notify_bytes)).unwrap())
    });
    group.bench_function("notify_16x1KiB/encode", |b| {
        b.iter(|| black_box(&notify).encode().unwrap())
    });
    group.throughput(Throughput::Bytes(submit_bytes.len() as u64));
    group.bench_function("submit_message_1KiB/decode", |b| {
        b.iter(|| decode_exact::<SubmitMessageRequest>(black_box(&submit_bytes)).unwrap())
    });
    group.throughput(Throughput::Bytes(key_material_bytes.len() as u64));
    group.bench_function("key_material_8_clients/decode", |b| {
        b.iter(|| decode_exact::<KeyMaterialResponse>(black_box(&key_material_bytes)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
