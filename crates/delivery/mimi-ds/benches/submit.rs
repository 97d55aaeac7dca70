//! What the hub engine does per accepted message, by room size: `HubRoom::handle_submit` on a
//! room of `n` members (decode, sender and epoch checks, replay window, hub order, the log
//! entry and the fan-out effects). Issue 15 asks for K=500 within 1.5x of K=50. The message is
//! made by a real member (`ClientGroup::protect`) outside the timed part.
//!
//! `MIMI_BENCH_N=50,500 cargo bench -p mimi-ds --bench submit`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use mimi_ds::hub::HubRoom;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::decode_exact;
use mimi_federation_api::mls::{MlsMessage, RatchetTree};
use mimi_federation_api::ratchet_tree::{GroupInfoOption, RatchetTreeOption};
use mimi_federation_api::submit_message::{SubmitMessageRequest, SubmitOutcome};
use mimi_federation_api::update::{CommitBundle, HandshakeBundle, UpdateOutcome, UpdateRequest};
use mimi_mls::{
    ClientGroup, ClientIdentity, ComponentChange, HubGroup, ProviderCa, ServerIdentity, TrustStore,
    Validity,
};
use mimi_room::components::{Component as _, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_types::codepoints::ComponentId;
use mimi_types::{Domain, RoomUri};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sizes() -> Vec<usize> {
    match std::env::var("MIMI_BENCH_N") {
        Ok(v) => v.split(',').filter_map(|x| x.parse().ok()).collect(),
        Err(_) => vec![50, 500],
    }
}

/// A room hosted on a.example with `n` members (one device each), its creator's group, and
/// the engine that accepted the commit adding them.
fn room(n: usize) -> (HubRoom, ClientGroup, u64) {
    let now = now();
    let v = Validity::starting(now - 3600, 365 * 24 * 3600);
    let domain: Domain = "a.example".parse().unwrap();
    let ca = ProviderCa::generate(domain.clone(), v).unwrap();
    let mut trust = TrustStore::new();
    trust.pin(domain.clone(), ca.certificate_der()).unwrap();
    let hub_id = ServerIdentity::new(&ca, v).unwrap();
    let ident = |i: usize| {
        ClientIdentity::new(
            &ca,
            format!("mimi://a.example/d/u{i}/phone").parse().unwrap(),
            format!("mimi://a.example/u/u{i}").parse().unwrap(),
            v,
        )
        .unwrap()
    };
    let creator_id = ident(0);
    let uri: RoomUri = "mimi://a.example/r/bench".parse().unwrap();
    let state = RoomCreation::new(Preset::Cooperative, uri.clone(), creator_id.user().clone())
        .initial_state()
        .unwrap();
    let (mut creator, created) = ClientGroup::create(
        &creator_id,
        &uri.group_uri(),
        &hub_id.external_sender(),
        &state,
        trust.clone(),
        now,
    )
    .unwrap();
    let group = HubGroup::new(&created.group_info, &created.ratchet_tree, trust, now).unwrap();
    let mut hub = HubRoom::new(uri, group);
    let others: Vec<ClientIdentity> = (1..n).map(ident).collect();
    let kps: Vec<Vec<u8>> = others
        .iter()
        .map(|c| c.key_package(now, 30 * 24 * 3600, false).unwrap().message)
        .collect();
    let update = ParticipantListUpdate {
        added_participants: others
            .iter()
            .map(|c| UserRolePair::new(c.user().clone(), RoleIndex(2)))
            .collect(),
        ..Default::default()
    };
    let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode());
    let out = creator.commit(&[change], &kps, &[], now).unwrap();
    let group_info = MlsMessage::from_bytes(out.group_info.clone().unwrap())
        .unwrap()
        .to_group_info()
        .unwrap();
    let tree = decode_exact::<RatchetTree>(&out.ratchet_tree).unwrap();
    let bundle = CommitBundle::new(
        MlsMessage::from_bytes(out.commit.clone()).unwrap(),
        None,
        GroupInfoOption::Full(group_info),
        RatchetTreeOption::Full(tree),
    )
    .unwrap();
    let answer = hub
        .handle_update(
            now * 1000,
            &domain,
            UpdateRequest::new(HandshakeBundle::Commit(bundle)),
        )
        .unwrap();
    assert!(matches!(
        answer.response.outcome,
        UpdateOutcome::Success { .. }
    ));
    creator.merge_pending_commit().unwrap();
    (hub, creator, now)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("hub_submit");
    g.sample_size(30);
    g.measurement_time(Duration::from_secs(3));
    g.warm_up_time(Duration::from_millis(500));
    let domain: Domain = "a.example".parse().unwrap();
    let sender = IdentifierUri::from_string("mimi://a.example/u/u0".to_owned()).unwrap();
    for n in sizes() {
        let (mut hub, mut creator, now) = room(n);
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
