//! P3: the hub path (decode, PublicGroup validation, credential checks, mimi-room authorize)
//! beside raw openmls `PublicGroup::process_message` on the same group and commit: a self
//! update (`mimi_hub`, `raw_openmls`), adding one user by KeyPackage (`*_add_one`) and
//! removing one (`*_remove_one`), each with its participant-list change.
//!
//! `MIMI_BENCH_N=1000,5000 cargo bench --workspace --bench hub` (default 10, 100, 1000).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use mimi_mls::{ClientIdentity, ComponentChange, Validity};
use mimi_room::components::{Component as _, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_types::codepoints::ComponentId;
use openmls::group::{ProposalStore, PublicGroup};
use openmls::prelude::{MlsMessageBodyIn, MlsMessageIn, OpenMlsProvider, RatchetTreeIn};
use openmls_rust_crypto::OpenMlsRustCrypto;
use tls_codec::Deserialize as _;

fn raw_public_group(gi: &[u8], tree: &[u8], provider: &OpenMlsRustCrypto) -> PublicGroup {
    let MlsMessageBodyIn::GroupInfo(vgi) =
        MlsMessageIn::tls_deserialize_exact(gi).unwrap().extract()
    else {
        panic!("not a GroupInfo")
    };
    let tree = RatchetTreeIn::tls_deserialize_exact(tree).unwrap();
    PublicGroup::from_external(
        provider.crypto(),
        provider.storage(),
        tree,
        vgi,
        ProposalStore::new(),
    )
    .unwrap()
    .0
}

fn bench_sizes() -> Vec<usize> {
    match std::env::var("MIMI_BENCH_N") {
        Ok(v) => v.split(',').filter_map(|x| x.parse().ok()).collect(),
        Err(_) => vec![10, 100, 1000],
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("hub_commit");
    g.sample_size(20);
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_millis(500));
    for n in bench_sizes() {
        let mut room = common::room(n);
        let provider = OpenMlsRustCrypto::default();
        let raw = raw_public_group(
            room.hub.group_info().unwrap(),
            &room.hub.ratchet_tree().unwrap(),
            &provider,
        );
        let now = room.now;
        let commit = room.creator.self_update(now).unwrap().commit;
        room.creator.discard_pending_commit().unwrap();
        let (add, remove) = add_and_remove(&mut room, n);
        g.bench_with_input(BenchmarkId::new("mimi_hub", n), &commit, |b, commit| {
            b.iter(|| room.hub.process(commit, now).unwrap())
        });
        let summary = room.hub.process(&commit, now).unwrap().summary().clone();
        g.bench_with_input(
            BenchmarkId::new("room_authorize_only", n),
            &summary,
            |b, s| b.iter(|| mimi_room::authorize_commit(room.hub.room(), s).unwrap()),
        );
        g.bench_with_input(BenchmarkId::new("room_components_only", n), &n, |b, _| {
            b.iter(|| room.hub.room().components())
        });
        // What a hub server pays per request when it keeps the room only as a record: restore
        // the hub view, and write it back.
        let record = room.hub.to_record().unwrap();
        g.bench_with_input(
            BenchmarkId::new("record_restore", n),
            &record,
            |b, record| {
                b.iter(|| mimi_mls::HubGroup::from_record(record, room.trust.clone()).unwrap())
            },
        );
        g.bench_with_input(BenchmarkId::new("record_write", n), &n, |b, _| {
            b.iter(|| room.hub.to_record().unwrap())
        });
        g.bench_with_input(BenchmarkId::new("raw_openmls", n), &commit, |b, commit| {
            b.iter(|| {
                let m = MlsMessageIn::tls_deserialize_exact(commit.as_slice()).unwrap();
                raw.process_message(provider.crypto(), m.try_into_protocol_message().unwrap())
                    .unwrap()
            })
        });
        for (name, commit) in [("add_one", &add), ("remove_one", &remove)] {
            g.bench_with_input(
                BenchmarkId::new(format!("mimi_hub_{name}"), n),
                commit,
                |b, commit| b.iter(|| room.hub.process(commit, now).unwrap()),
            );
            g.bench_with_input(
                BenchmarkId::new(format!("raw_openmls_{name}"), n),
                commit,
                |b, commit| {
                    b.iter(|| {
                        let m = MlsMessageIn::tls_deserialize_exact(commit.as_slice()).unwrap();
                        raw.process_message(
                            provider.crypto(),
                            m.try_into_protocol_message().unwrap(),
                        )
                        .unwrap()
                    })
                },
            );
        }
    }
    g.finish();
}

/// The creator's commits adding a new user by KeyPackage and removing the last member added
/// (each with its participant-list change), both left uncommitted.
fn add_and_remove(room: &mut common::Room, n: usize) -> (Vec<u8>, Vec<u8>) {
    let now = room.now;
    let v = Validity::starting(now - 3600, 365 * 24 * 3600);
    let newbie = ClientIdentity::new(
        &room.ca,
        "mimi://a.example/d/newbie/phone".parse().unwrap(),
        "mimi://a.example/u/newbie".parse().unwrap(),
        v,
    )
    .unwrap();
    let kp = newbie
        .key_package(now, 30 * 24 * 3600, false)
        .unwrap()
        .message;
    let add = ParticipantListUpdate {
        added_participants: vec![UserRolePair::new(newbie.user().clone(), RoleIndex(2))],
        ..Default::default()
    };
    let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, add.encode());
    let add = room
        .creator
        .commit(&[change], &[kp], &[], now)
        .unwrap()
        .commit;
    room.creator.discard_pending_commit().unwrap();
    let last = n.saturating_sub(1).max(1);
    let user = format!("mimi://a.example/u/u{last}");
    let Some(index) = room
        .creator
        .room()
        .participants()
        .participants
        .iter()
        .position(|p| p.user.to_string() == user)
    else {
        return (add, Vec::new());
    };
    let remove = ParticipantListUpdate {
        removed_indices: vec![index as u32],
        ..Default::default()
    };
    let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, remove.encode());
    let client = format!("mimi://a.example/d/u{last}/phone").parse().unwrap();
    let remove = room
        .creator
        .commit(&[change], &[], &[client], now)
        .unwrap()
        .commit;
    room.creator.discard_pending_commit().unwrap();
    (add, remove)
}

criterion_group!(benches, bench);
criterion_main!(benches);
