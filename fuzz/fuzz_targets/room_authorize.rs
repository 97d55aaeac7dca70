//! `authorize_commit` on a cooperative room with fuzzer-chosen actor and AppDataUpdates: never
//! panics, and an accepted next state survives its own encoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimi_room::components::{Component, RoleIndex, UserRolePair};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_room::{Actor, CommitSummary, ComponentChange, MemberChange, RoomState, authorize_commit};
use mimi_types::codepoints::ComponentId;

fn room() -> Option<RoomState> {
    let alice: mimi_types::UserUri = "mimi://hub.example/u/alice".parse().ok()?;
    let bob: mimi_types::UserUri = "mimi://b.example/u/bob".parse().ok()?;
    let mut creation = RoomCreation::new(
        Preset::Cooperative,
        "mimi://hub.example/r/fuzz".parse().ok()?,
        alice.clone(),
    );
    creation.policy_enforcer = "mimi://hub.example/u/enforcer".parse().ok();
    let state = creation.initial_state().ok()?;
    let mut comps = state.components();
    let mut list = state.participants().clone();
    list.participants
        .push(UserRolePair::new(bob.clone(), RoleIndex(2)));
    comps.insert(ComponentId::PARTICIPANT_LIST, list.encode());
    RoomState::from_components(comps)
        .ok()?
        .with_members([
            MemberChange::new("mimi://hub.example/d/alice/1".parse().ok()?, alice),
            MemberChange::new("mimi://b.example/d/bob/1".parse().ok()?, bob),
        ])
        .ok()
}

fuzz_target!(|data: &[u8]| {
    let Some(state) = room() else { return };
    let Some((&selector, mut rest)) = data.split_first() else {
        return;
    };
    let actor = match selector % 4 {
        0 => Actor::Client {
            client: "mimi://hub.example/d/alice/1".parse().unwrap(),
            user: "mimi://hub.example/u/alice".parse().unwrap(),
        },
        1 => Actor::Client {
            client: "mimi://b.example/d/bob/1".parse().unwrap(),
            user: "mimi://b.example/u/bob".parse().unwrap(),
        },
        2 => Actor::Server(mimi_types::Domain::parse("hub.example").unwrap()),
        _ => Actor::Server(mimi_types::Domain::parse("b.example").unwrap()),
    };
    let mut commit = CommitSummary::new(actor);
    commit.external_join = selector & 0x80 != 0;
    // Records: (u8 component low byte, u8 len, data); len 0xff = remove.
    while rest.len() >= 2 {
        let id = ComponentId::new(0x0020 + u16::from(rest[0] % 0x14));
        if rest[1] == 0xff {
            commit.component_changes.push(ComponentChange::remove(id));
            rest = &rest[2..];
            continue;
        }
        let len = usize::from(rest[1]).min(rest.len() - 2);
        commit
            .component_changes
            .push(ComponentChange::update(id, rest[2..2 + len].to_vec()));
        rest = &rest[2 + len..];
    }
    if let Ok(staged) = authorize_commit(&state, &commit) {
        let next = staged.into_state();
        let again = RoomState::from_components(next.components()).expect("accepted state decodes");
        assert_eq!(again.components(), next.components());
    }
});
