//! Rooms of thousands (issue 16 item 3, P3 in PERFORMANCE.md): what adding one user to a room
//! of `n` members and removing one cost each party.
//!
//! - `client_add_one` / `client_remove_one`: the committer's client building the commit
//!   (`ClientGroup::commit`: participant-list change + Add, or + Remove), discarded after.
//! - `hub_add_one` / `hub_remove_one`: the hub engine's whole `HubRoom::handle_update` on that
//!   commit bundle (MLS validation, credentials, policy, merge with the GroupInfo check,
//!   fan-out and, for an add, the Welcome with the new epoch's tree), on a fresh copy of the
//!   room restored outside the timed part.
//! - `hub_process_add_one`: the hub's validation alone (`HubGroup::process`, nothing merged);
//!   `mimi-mls`'s `hub` bench sets it beside raw openmls (only `mimi-mls` names openmls).
//! - `receiver_add_one` / `receiver_remove_one`: another member processing the commit
//!   (`ClientGroup::process`), on a fresh copy restored outside the timed part.
//! - `receiver_message`: a member decrypting a 1 KiB application message.
//!
//! The room is built once per `n` (one commit adding every member by KeyPackage), outside the
//! timed part; nothing is cached on disk.
//!
//! `MIMI_BENCH_N=1000,5000 cargo bench --workspace --bench bigroom`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use mimi_ds::hub::HubRoom;
use mimi_federation_api::decode_exact;
use mimi_federation_api::mls::{MlsMessage, RatchetTree};
use mimi_federation_api::ratchet_tree::{GroupInfoOption, RatchetTreeOption};
use mimi_federation_api::update::{CommitBundle, HandshakeBundle, UpdateOutcome, UpdateRequest};
use mimi_mls::{
    ClientGroup, ClientIdentity, ComponentChange, HubGroup, Incoming, OutgoingCommit, ProviderCa,
    ServerIdentity, TrustStore, Validity,
};
use mimi_room::components::{Component as _, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, Domain, RoomUri};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn sizes() -> Vec<usize> {
    match std::env::var("MIMI_BENCH_N") {
        Ok(v) => v.split(',').filter_map(|x| x.parse().ok()).collect(),
        Err(_) => vec![1000, 5000],
    }
}

struct Big {
    now: u64,
    domain: Domain,
    trust: TrustStore,
    ca: ProviderCa,
    uri: RoomUri,
    hub: HubRoom,
    creator: ClientGroup,
    receiver: ClientGroup,
    validity: Validity,
}

fn ident(ca: &ProviderCa, v: Validity, name: &str) -> ClientIdentity {
    ClientIdentity::new(
        ca,
        format!("mimi://a.example/d/{name}/phone").parse().unwrap(),
        format!("mimi://a.example/u/{name}").parse().unwrap(),
        v,
    )
    .unwrap()
}

fn bundle(out: &OutgoingCommit) -> CommitBundle {
    let group_info = MlsMessage::from_bytes(out.group_info.clone().unwrap())
        .unwrap()
        .to_group_info()
        .unwrap();
    let tree = decode_exact::<RatchetTree>(&out.ratchet_tree).unwrap();
    CommitBundle::new(
        MlsMessage::from_bytes(out.commit.clone()).unwrap(),
        out.welcome
            .clone()
            .map(|w| MlsMessage::from_bytes(w).unwrap().to_welcome().unwrap()),
        GroupInfoOption::Full(group_info),
        RatchetTreeOption::Full(tree),
    )
    .unwrap()
}

fn accept(hub: &mut HubRoom, now: u64, domain: &Domain, out: &OutgoingCommit) {
    let answer = hub
        .handle_update(
            now * 1000,
            domain,
            UpdateRequest::new(HandshakeBundle::Commit(bundle(out))),
        )
        .unwrap();
    assert!(
        matches!(answer.response.outcome, UpdateOutcome::Success { .. }),
        "{:?}",
        answer.response
    );
}

/// A room on a.example with `n` members, one device each (user `u0` created it, `u1` is the
/// receiver), built by one commit adding `n - 1` KeyPackages.
fn build(n: usize) -> Big {
    let start = Instant::now();
    let now = now();
    let v = Validity::starting(now - 3600, 365 * 24 * 3600);
    let domain: Domain = "a.example".parse().unwrap();
    let ca = ProviderCa::generate(domain.clone(), v).unwrap();
    let mut trust = TrustStore::new();
    trust.pin(domain.clone(), ca.certificate_der()).unwrap();
    let hub_id = ServerIdentity::new(&ca, v).unwrap();
    let creator_id = ident(&ca, v, "u0");
    let uri: RoomUri = "mimi://a.example/r/big".parse().unwrap();
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
    let group = HubGroup::new(
        &created.group_info,
        &created.ratchet_tree,
        trust.clone(),
        now,
    )
    .unwrap();
    let mut hub = HubRoom::new(uri.clone(), group);
    let others: Vec<ClientIdentity> = (1..n).map(|i| ident(&ca, v, &format!("u{i}"))).collect();
    let kps: Vec<Vec<u8>> = others
        .iter()
        .map(|c| c.key_package(now, 30 * 24 * 3600, false).unwrap().message)
        .collect();
    let made = start.elapsed();
    let update = ParticipantListUpdate {
        added_participants: others
            .iter()
            .map(|c| UserRolePair::new(c.user().clone(), RoleIndex(2)))
            .collect(),
        ..Default::default()
    };
    let change = ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode());
    let out = creator.commit(&[change], &kps, &[], now).unwrap();
    let committed = start.elapsed();
    accept(&mut hub, now, &domain, &out);
    creator.merge_pending_commit().unwrap();
    let hub_done = start.elapsed();
    let receiver = ClientGroup::join_from_welcome(
        &others[0],
        out.welcome.as_ref().unwrap(),
        &out.ratchet_tree,
        trust.clone(),
        now,
    )
    .unwrap();
    eprintln!(
        "n={n}: identities+KeyPackages {:.1?}, creator's commit adding {} {:.1?} \
         (commit {} B, Welcome {} B, tree {} B), hub {:.1?}, receiver's join {:.1?}",
        made,
        n - 1,
        committed - made,
        out.commit.len(),
        out.welcome.as_ref().map_or(0, Vec::len),
        out.ratchet_tree.len(),
        hub_done - committed,
        start.elapsed() - hub_done,
    );
    Big {
        now,
        domain,
        trust,
        ca,
        uri,
        hub,
        creator,
        receiver,
        validity: v,
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("big_room");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    g.warm_up_time(Duration::from_millis(300));
    for n in sizes() {
        let mut big = build(n);
        let now = big.now;
        let newbie = ident(&big.ca, big.validity, "newbie");
        let kp = newbie
            .key_package(now, 30 * 24 * 3600, false)
            .unwrap()
            .message;
        let add = ComponentChange::update(
            ComponentId::PARTICIPANT_LIST,
            ParticipantListUpdate {
                added_participants: vec![UserRolePair::new(newbie.user().clone(), RoleIndex(2))],
                ..Default::default()
            }
            .encode(),
        );
        // The last member added: user u{n-1}.
        let victim_user = format!("mimi://a.example/u/u{}", n - 1);
        let index = big
            .creator
            .room()
            .participants()
            .participants
            .iter()
            .position(|p| p.user.to_string() == victim_user)
            .unwrap() as u32;
        let victim: ClientUri = format!("mimi://a.example/d/u{}/phone", n - 1)
            .parse()
            .unwrap();
        let remove = ComponentChange::update(
            ComponentId::PARTICIPANT_LIST,
            ParticipantListUpdate {
                removed_indices: vec![index],
                ..Default::default()
            }
            .encode(),
        );

        // (a) the committer's client.
        g.bench_with_input(BenchmarkId::new("client_add_one", n), &n, |b, _| {
            b.iter(|| {
                let out = big
                    .creator
                    .commit(
                        std::slice::from_ref(&add),
                        std::slice::from_ref(&kp),
                        &[],
                        now,
                    )
                    .unwrap();
                big.creator.discard_pending_commit().unwrap();
                out
            })
        });
        g.bench_with_input(BenchmarkId::new("client_remove_one", n), &n, |b, _| {
            b.iter(|| {
                let out = big
                    .creator
                    .commit(
                        std::slice::from_ref(&remove),
                        &[],
                        std::slice::from_ref(&victim),
                        now,
                    )
                    .unwrap();
                big.creator.discard_pending_commit().unwrap();
                out
            })
        });

        let add_out = big
            .creator
            .commit(
                std::slice::from_ref(&add),
                std::slice::from_ref(&kp),
                &[],
                now,
            )
            .unwrap();
        big.creator.discard_pending_commit().unwrap();
        let remove_out = big
            .creator
            .commit(
                std::slice::from_ref(&remove),
                &[],
                std::slice::from_ref(&victim),
                now,
            )
            .unwrap();
        big.creator.discard_pending_commit().unwrap();
        eprintln!(
            "n={n}: add-one commit {} B, Welcome {} B, tree {} B, GroupInfo {} B; remove-one commit {} B",
            add_out.commit.len(),
            add_out.welcome.as_ref().map_or(0, Vec::len),
            add_out.ratchet_tree.len(),
            add_out.group_info.as_ref().map_or(0, Vec::len),
            remove_out.commit.len(),
        );

        // (b) the hub.
        let hub_record = big.hub.to_record().unwrap();
        let restore =
            || HubRoom::from_record(big.uri.clone(), &hub_record, big.trust.clone()).unwrap();
        let t = Instant::now();
        drop(restore());
        eprintln!(
            "n={n}: hub record {} B, restored in {:.1?}",
            hub_record.len(),
            t.elapsed()
        );
        g.bench_with_input(BenchmarkId::new("hub_process_add_one", n), &n, |b, _| {
            b.iter(|| big.hub.group().process(&add_out.commit, now).unwrap())
        });
        for (name, out) in [("hub_add_one", &add_out), ("hub_remove_one", &remove_out)] {
            let request = UpdateRequest::new(HandshakeBundle::Commit(bundle(out)));
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter_batched(
                    || (restore(), request.clone()),
                    |(mut hub, request)| {
                        let answer = hub.handle_update(now * 1000, &big.domain, request).unwrap();
                        assert!(matches!(
                            answer.response.outcome,
                            UpdateOutcome::Success { .. }
                        ));
                        (hub, answer)
                    },
                    BatchSize::PerIteration,
                )
            });
        }

        // (c) a receiving member.
        let receiver_record = big.receiver.to_record().unwrap();
        let t = Instant::now();
        drop(ClientGroup::from_record(&receiver_record, big.trust.clone()).unwrap());
        eprintln!(
            "n={n}: receiver record {} B, restored in {:.1?}",
            receiver_record.len(),
            t.elapsed()
        );
        for (name, out) in [
            ("receiver_add_one", &add_out),
            ("receiver_remove_one", &remove_out),
        ] {
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter_batched(
                    || ClientGroup::from_record(&receiver_record, big.trust.clone()).unwrap(),
                    |mut receiver| {
                        let incoming = receiver.process(&out.commit, now).unwrap();
                        assert!(matches!(incoming, Incoming::Commit { .. }));
                        receiver
                    },
                    BatchSize::PerIteration,
                )
            });
        }
        g.bench_with_input(BenchmarkId::new("receiver_message", n), &n, |b, _| {
            b.iter_batched(
                || {
                    big.creator
                        .protect(&[0x61; 1024], &BTreeMap::new())
                        .unwrap()
                },
                |message| {
                    let incoming = big.receiver.process(&message, now).unwrap();
                    assert!(matches!(incoming, Incoming::Application(_)));
                },
                BatchSize::SmallInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
