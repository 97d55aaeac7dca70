//! Benchmarks: decoding a large participant list and authorizing a commit in a large room.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use mimi_room::components::{
    Component, ParticipantList, ParticipantListUpdate, RoleIndex, UserRolePair,
};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_room::{Actor, CommitSummary, ComponentChange, MemberChange, RoomState, authorize_commit};
use mimi_types::codepoints::ComponentId;

const USERS: usize = 1_000;

fn big_room() -> RoomState {
    let alice: mimi_types::UserUri = "mimi://hub.example/u/alice".parse().unwrap();
    let creation = RoomCreation::new(
        Preset::Cooperative,
        "mimi://hub.example/r/big".parse().unwrap(),
        alice.clone(),
    );
    let state = creation.initial_state().unwrap();
    let mut list = state.participants().clone();
    let mut members = vec![MemberChange::new(
        "mimi://hub.example/d/alice/1".parse().unwrap(),
        alice,
    )];
    for i in 0..USERS {
        let user: mimi_types::UserUri = format!("mimi://b.example/u/user{i}").parse().unwrap();
        members.push(MemberChange::new(
            format!("mimi://b.example/d/user{i}/1").parse().unwrap(),
            user.clone(),
        ));
        list.participants
            .push(UserRolePair::new(user, RoleIndex(2)));
    }
    let mut comps = state.components();
    comps.insert(ComponentId::PARTICIPANT_LIST, list.encode());
    RoomState::from_components(comps)
        .unwrap()
        .with_members(members)
        .unwrap()
}

fn benches(c: &mut Criterion) {
    let state = big_room();
    let list_bytes = state.participants().encode();
    c.bench_function("decode participant list (1000 users)", |b| {
        b.iter(|| ParticipantList::decode(black_box(&list_bytes)).unwrap())
    });
    c.bench_function("encode participant list (1000 users)", |b| {
        b.iter(|| black_box(state.participants()).encode())
    });
    let add = ParticipantListUpdate {
        added_participants: vec![UserRolePair::new(
            "mimi://d.example/u/dave".parse().unwrap(),
            RoleIndex(2),
        )],
        ..ParticipantListUpdate::default()
    };
    let mut commit = CommitSummary::new(Actor::Client {
        client: "mimi://hub.example/d/alice/1".parse().unwrap(),
        user: "mimi://hub.example/u/alice".parse().unwrap(),
    });
    commit.component_changes.push(ComponentChange::update(
        ComponentId::PARTICIPANT_LIST,
        add.encode(),
    ));
    commit.added.push(MemberChange::new(
        "mimi://d.example/d/dave/1".parse().unwrap(),
        "mimi://d.example/u/dave".parse().unwrap(),
    ));
    c.bench_function("authorize add in a 1000-user room", |b| {
        b.iter(|| authorize_commit(black_box(&state), black_box(&commit)).unwrap())
    });
    let alice: mimi_types::UserUri = "mimi://hub.example/u/alice".parse().unwrap();
    c.bench_function("may_send in a 1000-user room", |b| {
        b.iter(|| state.may_send(black_box(&alice)).unwrap())
    });
}

criterion_group!(room_benches, benches);
criterion_main!(room_benches);
