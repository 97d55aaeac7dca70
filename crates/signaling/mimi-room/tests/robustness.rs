//! Stable-toolchain stand-in for fuzzing: every decoder, `RoomState::from_components` and
//! `authorize_commit` get thousands of random and mutated inputs (fixed seed) and must return,
//! never panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use mimi_room::components::{Component, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_room::{Actor, CommitSummary, ComponentChange, MemberChange, RoomState, authorize_commit};
use mimi_types::codepoints::ComponentId;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn mutate(rng: &mut StdRng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..rng.gen_range(1..4) {
        match rng.gen_range(0..6) {
            0 if !out.is_empty() => {
                let i = rng.gen_range(0..out.len());
                out[i] ^= 1 << rng.gen_range(0..8);
            }
            1 if !out.is_empty() => {
                let i = rng.gen_range(0..out.len());
                out[i] = rng.r#gen();
            }
            2 => {
                let i = rng.gen_range(0..=out.len());
                out.insert(i, rng.r#gen());
            }
            3 if !out.is_empty() => {
                let i = rng.gen_range(0..out.len());
                out.remove(i);
            }
            4 => out.truncate(rng.gen_range(0..=out.len())),
            _ => {
                // Inflate a length prefix: set a byte to a varint marker.
                if !out.is_empty() {
                    let i = rng.gen_range(0..out.len());
                    out[i] = [0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0, 0xff][rng.gen_range(0..7)];
                }
            }
        }
    }
    out
}

fn random_bytes(rng: &mut StdRng) -> Vec<u8> {
    let len = rng.gen_range(0..64);
    (0..len).map(|_| rng.r#gen()).collect()
}

#[test]
fn decoders_never_panic_on_random_or_mutated_input() {
    let mut rng = StdRng::seed_from_u64(0x6d69_6d69_726f_6f6d);
    let samples = common::samples();
    let mut accepted = 0;
    for _ in 0..400 {
        for (_, bytes, codec) in &samples {
            let input = if rng.gen_bool(0.8) {
                mutate(&mut rng, bytes)
            } else {
                random_bytes(&mut rng)
            };
            if let Ok(reencoded) = codec(&input) {
                // Whatever decodes must re-encode to exactly the input (canonical encodings).
                assert_eq!(reencoded, input);
                accepted += 1;
            }
        }
    }
    assert!(accepted > 0, "no mutated input decoded at all");
}

fn room() -> RoomState {
    let alice: mimi_types::UserUri = "mimi://hub.example/u/alice".parse().unwrap();
    let bob: mimi_types::UserUri = "mimi://b.example/u/bob".parse().unwrap();
    let mut creation = RoomCreation::new(
        Preset::Cooperative,
        "mimi://hub.example/r/fuzz".parse().unwrap(),
        alice.clone(),
    );
    creation.policy_enforcer = Some("mimi://hub.example/u/enforcer".parse().unwrap());
    let state = creation.initial_state().unwrap();
    let mut comps = state.components();
    let mut list = state.participants().clone();
    list.participants
        .push(UserRolePair::new(bob.clone(), RoleIndex(2)));
    comps.insert(ComponentId::PARTICIPANT_LIST, list.encode());
    RoomState::from_components(comps)
        .unwrap()
        .with_members([
            MemberChange::new("mimi://hub.example/d/alice/1".parse().unwrap(), alice),
            MemberChange::new("mimi://b.example/d/bob/1".parse().unwrap(), bob),
        ])
        .unwrap()
}

#[test]
fn room_state_and_authorizer_never_panic_on_mutated_components() {
    let mut rng = StdRng::seed_from_u64(7);
    let state = room();
    let base = state.components();
    let ids: Vec<ComponentId> = base.keys().copied().collect();
    let update = ParticipantListUpdate {
        changed_role_participants: vec![],
        removed_indices: vec![1],
        added_participants: vec![UserRolePair::new(
            "mimi://d.example/u/dave".parse().unwrap(),
            RoleIndex(2),
        )],
    }
    .encode();
    let actors = [
        Actor::Client {
            client: "mimi://hub.example/d/alice/1".parse().unwrap(),
            user: "mimi://hub.example/u/alice".parse().unwrap(),
        },
        Actor::Client {
            client: "mimi://b.example/d/bob/1".parse().unwrap(),
            user: "mimi://b.example/u/bob".parse().unwrap(),
        },
        Actor::Server(mimi_types::Domain::parse("hub.example").unwrap()),
        Actor::Server(mimi_types::Domain::parse("b.example").unwrap()),
    ];
    for i in 0..3000 {
        // Mutate one stored component and decode the whole state.
        let mut comps = base.clone();
        let id = ids[rng.gen_range(0..ids.len())];
        let mutated = mutate(&mut rng, &comps[&id]);
        comps.insert(id, mutated);
        let _ = RoomState::from_components(comps);

        // Authorize a commit carrying mutated updates.
        let mut commit = CommitSummary::new(actors[i % actors.len()].clone());
        for _ in 0..rng.gen_range(1..4) {
            let (component, data) = if rng.gen_bool(0.5) {
                (ComponentId::PARTICIPANT_LIST, mutate(&mut rng, &update))
            } else {
                let id = ids[rng.gen_range(0..ids.len())];
                (id, mutate(&mut rng, &base[&id]))
            };
            commit
                .component_changes
                .push(ComponentChange::update(component, data));
        }
        if rng.gen_bool(0.3) {
            commit
                .component_changes
                .push(ComponentChange::remove(ComponentId::new(
                    rng.gen_range(0x20..0x32),
                )));
        }
        if rng.gen_bool(0.3) {
            commit.added.push(MemberChange::new(
                "mimi://d.example/d/dave/1".parse().unwrap(),
                "mimi://d.example/u/dave".parse().unwrap(),
            ));
        }
        if let Ok(staged) = authorize_commit(&state, &commit) {
            // An accepted next state always survives its own encoding.
            let next = staged.into_state();
            let again = RoomState::from_components(next.components()).unwrap();
            assert_eq!(again.components(), next.components());
        }
    }
}
