//! The rooms, actors and commit builders every rule test uses.

pub(crate) use mimi_room::components::*;
pub(crate) use mimi_room::presets::{Preset, RoomCreation};
pub(crate) use mimi_room::{
    Actor, Capability, CommitSummary, ComponentChange, Denied, MemberChange, RoomState,
    authorize_commit,
};
pub(crate) use mimi_types::codepoints::{ComponentId, CredentialType};
pub(crate) use mimi_types::{ClientUri, Domain, UserUri};

pub(crate) fn u(s: &str) -> UserUri {
    s.parse().unwrap()
}
pub(crate) fn c(s: &str) -> ClientUri {
    s.parse().unwrap()
}
pub(crate) fn m(client: &str, user: &str) -> MemberChange {
    MemberChange::new(c(client), u(user))
}

pub(crate) const ALICE: &str = "mimi://hub.example/u/alice";
pub(crate) const ALICE_PHONE: &str = "mimi://hub.example/d/alice/phone";
pub(crate) const ENFORCER: &str = "mimi://hub.example/u/enforcer";
pub(crate) const BOB: &str = "mimi://b.example/u/bob";
pub(crate) const BOB_LAPTOP: &str = "mimi://b.example/d/bob/laptop";
pub(crate) const BOB_PHONE: &str = "mimi://b.example/d/bob/phone";
pub(crate) const CATHY: &str = "mimi://c.example/u/cathy";
pub(crate) const CATHY_TAB: &str = "mimi://c.example/d/cathy/tab";
pub(crate) const DAVE: &str = "mimi://d.example/u/dave";
pub(crate) const DAVE_PC: &str = "mimi://d.example/d/dave/pc";
pub(crate) const EVE: &str = "mimi://b.example/u/eve";
pub(crate) const EVE_PC: &str = "mimi://b.example/d/eve/pc";

/// A room of `preset` created by Alice (hub.example) with the hub's enforcer, plus Bob as
/// `bob_role` and Cathy as `cathy_role`, each with one client.
pub(crate) fn room_with(preset: Preset, bob_role: u32, cathy_role: u32) -> RoomState {
    let mut creation = RoomCreation::new(
        preset,
        "mimi://hub.example/r/room".parse().unwrap(),
        u(ALICE),
    );
    creation.policy_enforcer = Some(u(ENFORCER));
    let state = creation.initial_state().unwrap();
    let mut comps = state.components();
    let mut list = state.participants().clone();
    list.participants
        .push(UserRolePair::new(u(BOB), RoleIndex(bob_role)));
    list.participants
        .push(UserRolePair::new(u(CATHY), RoleIndex(cathy_role)));
    comps.insert(ComponentId::PARTICIPANT_LIST, list.encode());
    RoomState::from_components(comps)
        .unwrap()
        .with_members([
            m(ALICE_PHONE, ALICE),
            m(BOB_LAPTOP, BOB),
            m(CATHY_TAB, CATHY),
        ])
        .unwrap()
}

/// Cooperative room: Alice super_admin (4), Enforcer (5), Bob ordinary (2), Cathy group_admin (3).
pub(crate) fn room() -> RoomState {
    room_with(Preset::Cooperative, 2, 3)
}

pub(crate) fn with_component<T: StateComponent>(state: &RoomState, value: &T) -> RoomState {
    let mut comps = state.components();
    comps.insert(T::ID, value.encode());
    RoomState::from_components(comps)
        .unwrap()
        .with_members(
            state.members().iter().map(|(c, u)| {
                MemberChange::with_kind(c.clone(), u.clone(), state.kind_of(c).clone())
            }),
        )
        .unwrap()
}

pub(crate) fn by(client: &str, user: &str) -> CommitSummary {
    CommitSummary::new(Actor::Client {
        client: c(client),
        user: u(user),
    })
}

pub(crate) fn server(domain: &str) -> CommitSummary {
    CommitSummary::new(Actor::Server(Domain::parse(domain).unwrap()))
}

pub(crate) fn plu(
    changes: &[(u32, u32)],
    removes: &[u32],
    adds: &[(&str, u32)],
) -> ComponentChange {
    let update = ParticipantListUpdate {
        changed_role_participants: changes
            .iter()
            .map(|(i, r)| UserIndexRolePair {
                user_index: *i,
                role_index: RoleIndex(*r),
            })
            .collect(),
        removed_indices: removes.to_vec(),
        added_participants: adds
            .iter()
            .map(|(user, r)| UserRolePair::new(u(user), RoleIndex(*r)))
            .collect(),
    };
    ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode())
}

pub(crate) fn idx(state: &RoomState, user: &str) -> u32 {
    state.participants().index_of(&u(user)).unwrap() as u32
}

pub(crate) fn denied(state: &RoomState, commit: &CommitSummary) -> Denied {
    authorize_commit(state, commit).unwrap_err()
}

pub(crate) fn missing(capability: Capability, role: u32) -> Denied {
    Denied::MissingCapability {
        capability,
        role: RoleIndex(role),
    }
}

pub(crate) fn with_policy(state: &RoomState, f: impl FnOnce(&mut BaseRoomPolicy)) -> RoomState {
    let mut policy = state.base_policy();
    f(&mut policy);
    with_component(state, &policy)
}

pub(crate) fn join(client: &str, user: &str, role: u32) -> CommitSummary {
    let mut commit = by(client, user);
    commit.external_join = true;
    commit
        .component_changes
        .push(plu(&[], &[], &[(user, role)]));
    commit.added.push(m(client, user));
    commit
}
