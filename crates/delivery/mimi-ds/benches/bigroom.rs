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
//! - `joiner`: a member joining from the Welcome of the commit that built the room (with its
//!   ratchet tree: every member's credential validated) and writing its group record, as each
//!   device of `mimi bench` does while the room forms; the identity holding the KeyPackage is
//!   restored outside the timed part. Credentials the process validated before (here: the
//!   creator's and the hub's, as in `mimi bench`, where they share the process) are not
//!   checked against their CA again (`mimi-mls` `cert_cache.rs`).
//!
//! The room is built once per `n` (one commit adding every member by KeyPackage), outside the
//! timed part; nothing is cached on disk.
//!
//! `MIMI_BENCH_N=1000,5000 cargo bench --workspace --bench bigroom`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::{Room, bundle, ident, sizes};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use mimi_ds::hub::HubRoom;
use mimi_federation_api::update::{HandshakeBundle, UpdateOutcome, UpdateRequest};
use mimi_mls::{ClientGroup, ClientIdentity, ComponentChange, Incoming};
use mimi_room::components::{Component as _, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_types::ClientUri;
use mimi_types::codepoints::ComponentId;

/// The grown room and user `u1`'s group: the receiver.
struct Big {
    room: Room,
    receiver: ClientGroup,
}

/// A room on a.example with `n` members, one device each (user `u0` created it, `u1` is the
/// receiver), built by one commit adding `n - 1` KeyPackages.
fn build(n: usize) -> Big {
    let room = common::room(n, "big");
    let start = Instant::now();
    let receiver = ClientGroup::join_from_welcome(
        &room.others[0],
        room.added.welcome.as_ref().unwrap(),
        &room.added.ratchet_tree,
        room.trust.clone(),
        room.now,
    )
    .unwrap();
    let [made, committed, accepted] = room.timings;
    eprintln!(
        "n={n}: identities+KeyPackages {:.1?}, creator's commit adding {} {:.1?} \
         (commit {} B, Welcome {} B, tree {} B), hub {:.1?}, receiver's join {:.1?}",
        made,
        n - 1,
        committed,
        room.added.commit.len(),
        room.added.welcome.as_ref().map_or(0, Vec::len),
        room.added.ratchet_tree.len(),
        accepted,
        start.elapsed(),
    );
    Big { room, receiver }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("big_room");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(4));
    g.warm_up_time(Duration::from_millis(300));
    for n in sizes(&[1000, 5000]) {
        let Big {
            room:
                Room {
                    now,
                    domain,
                    trust,
                    ca,
                    validity,
                    uri,
                    hub,
                    mut creator,
                    others,
                    added,
                    ..
                },
            mut receiver,
        } = build(n);
        let newbie = ident(&ca, validity, "newbie");
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
        let index = creator
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
                let out = creator
                    .commit(
                        std::slice::from_ref(&add),
                        std::slice::from_ref(&kp),
                        &[],
                        now,
                    )
                    .unwrap();
                creator.discard_pending_commit().unwrap();
                out
            })
        });
        g.bench_with_input(BenchmarkId::new("client_remove_one", n), &n, |b, _| {
            b.iter(|| {
                let out = creator
                    .commit(
                        std::slice::from_ref(&remove),
                        &[],
                        std::slice::from_ref(&victim),
                        now,
                    )
                    .unwrap();
                creator.discard_pending_commit().unwrap();
                out
            })
        });

        let add_out = creator
            .commit(
                std::slice::from_ref(&add),
                std::slice::from_ref(&kp),
                &[],
                now,
            )
            .unwrap();
        creator.discard_pending_commit().unwrap();
        let remove_out = creator
            .commit(
                std::slice::from_ref(&remove),
                &[],
                std::slice::from_ref(&victim),
                now,
            )
            .unwrap();
        creator.discard_pending_commit().unwrap();
        eprintln!(
            "n={n}: add-one commit {} B, Welcome {} B, tree {} B, GroupInfo {} B; remove-one commit {} B",
            add_out.commit.len(),
            add_out.welcome.as_ref().map_or(0, Vec::len),
            add_out.ratchet_tree.len(),
            add_out.group_info.as_ref().map_or(0, Vec::len),
            remove_out.commit.len(),
        );

        // (b) the hub.
        let hub_record = hub.to_record().unwrap();
        let restore = || HubRoom::from_record(uri.clone(), &hub_record, trust.clone()).unwrap();
        let t = Instant::now();
        drop(restore());
        eprintln!(
            "n={n}: hub record {} B, restored in {:.1?}",
            hub_record.len(),
            t.elapsed()
        );
        g.bench_with_input(BenchmarkId::new("hub_process_add_one", n), &n, |b, _| {
            b.iter(|| hub.group().process(&add_out.commit, now).unwrap())
        });
        for (name, out) in [("hub_add_one", &add_out), ("hub_remove_one", &remove_out)] {
            let request = UpdateRequest::new(HandshakeBundle::Commit(bundle(out)));
            g.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
                b.iter_batched(
                    || (restore(), request.clone()),
                    |(mut hub, request)| {
                        let answer = hub.handle_update(now * 1000, &domain, request).unwrap();
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
        let receiver_record = receiver.to_record().unwrap();
        let t = Instant::now();
        drop(ClientGroup::from_record(&receiver_record, trust.clone()).unwrap());
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
                    || ClientGroup::from_record(&receiver_record, trust.clone()).unwrap(),
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
                || creator.protect(&[0x61; 1024], &BTreeMap::new()).unwrap(),
                |message| {
                    let incoming = receiver.process(&message, now).unwrap();
                    assert!(matches!(incoming, Incoming::Application(_)));
                },
                BatchSize::SmallInput,
            )
        });

        // (d) a joining member.
        let joiner_record = others[1].to_record().unwrap();
        let welcome = added.welcome.clone().unwrap();
        g.bench_with_input(BenchmarkId::new("joiner", n), &n, |b, _| {
            b.iter_batched(
                || ClientIdentity::from_record(&joiner_record).unwrap(),
                |identity| {
                    let group = ClientGroup::join_from_welcome(
                        &identity,
                        &welcome,
                        &added.ratchet_tree,
                        trust.clone(),
                        now,
                    )
                    .unwrap();
                    group.to_record().unwrap()
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
