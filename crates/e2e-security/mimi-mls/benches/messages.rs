//! P5: a client's 1 KiB application message, encrypt and decrypt, through mimi-mls beside raw
//! openmls `MlsGroup::create_message` / `process_message`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use mimi_mls::ClientGroup;
use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage, MlsGroup, MlsGroupCreateConfig,
    MlsGroupJoinConfig, MlsMessageBodyIn, MlsMessageIn, ProcessedMessageContent, StagedWelcome,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use tls_codec::{Deserialize as _, Serialize as _};

const CS: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

struct Raw {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    group: MlsGroup,
}

fn raw_pair() -> (Raw, Raw) {
    let mk = |name: &str| {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(CS.signature_algorithm()).unwrap();
        let cred = CredentialWithKey {
            credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
            signature_key: signer.public().into(),
        };
        (provider, signer, cred)
    };
    let (pa, sa, ca) = mk("alice");
    let (pb, sb, cb) = mk("bob");
    let kp_b = KeyPackage::builder().build(CS, &pb, &sb, cb).unwrap();
    let config = MlsGroupCreateConfig::builder().ciphersuite(CS).build();
    let mut ga = MlsGroup::new(&pa, &sa, &config, ca).unwrap();
    let (_, welcome, _) = ga
        .add_members(&pa, &sa, &[kp_b.key_package().clone()])
        .unwrap();
    ga.merge_pending_commit(&pa).unwrap();
    let MlsMessageBodyIn::Welcome(welcome) =
        MlsMessageIn::tls_deserialize_exact(welcome.tls_serialize_detached().unwrap())
            .unwrap()
            .extract()
    else {
        panic!("not a Welcome")
    };
    let gb = StagedWelcome::new_from_welcome(
        &pb,
        &MlsGroupJoinConfig::default(),
        welcome,
        Some(ga.export_ratchet_tree().into()),
    )
    .unwrap()
    .into_group(&pb)
    .unwrap();
    (
        Raw {
            provider: pa,
            signer: sa,
            group: ga,
        },
        Raw {
            provider: pb,
            signer: sb,
            group: gb,
        },
    )
}

fn mimi_pair() -> (ClientGroup, ClientGroup, u64) {
    let room = common::room(2);
    let now = room.now;
    let (w, tree) = room.welcome.clone().unwrap();
    let bob = ClientGroup::join_from_welcome(&room.others[0], &w, &tree, room.trust.clone(), now)
        .unwrap();
    (room.creator, bob, now)
}

fn bench(c: &mut Criterion) {
    let payload = vec![0x5a; 1024];
    let none = BTreeMap::new();
    let mut g = c.benchmark_group("app_message_1k");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_millis(500));

    let (mut a, mut b, now) = mimi_pair();
    g.bench_function("mimi_decrypt", |bch| {
        bch.iter_batched(
            || a.protect(&payload, &none).unwrap(),
            |ct| b.process(&ct, now).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("mimi_encrypt", |bch| {
        bch.iter(|| a.protect(&payload, &none).unwrap())
    });

    let (mut ra, mut rb) = raw_pair();
    g.bench_function("raw_decrypt", |bch| {
        bch.iter_batched(
            || {
                ra.group
                    .create_message(&ra.provider, &ra.signer, &payload)
                    .unwrap()
                    .tls_serialize_detached()
                    .unwrap()
            },
            |ct| {
                let m = MlsMessageIn::tls_deserialize_exact(ct.as_slice()).unwrap();
                let p = rb
                    .group
                    .process_message(&rb.provider, m.try_into_protocol_message().unwrap())
                    .unwrap();
                assert!(matches!(
                    p.into_content(),
                    ProcessedMessageContent::ApplicationMessage(_)
                ));
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("raw_encrypt", |bch| {
        bch.iter(|| {
            ra.group
                .create_message(&ra.provider, &ra.signer, &payload)
                .unwrap()
                .tls_serialize_detached()
                .unwrap()
        })
    });
    let _ = &mut rb;
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
