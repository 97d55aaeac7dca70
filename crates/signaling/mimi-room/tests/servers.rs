//! The room's server access list (`server_policy`, ours): each rule with its negative case,
//! asserting the exact [`Denied`] reason, and the allowed case beside it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mimi_room::components::*;
use mimi_room::presets::{Preset, RoomCreation};
use mimi_room::{
    Actor, CommitSummary, ComponentChange, Denied, MemberChange, RoomState, authorize_commit,
};
use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, Domain, UserUri};

fn u(s: &str) -> UserUri {
    s.parse().unwrap()
}
fn c(s: &str) -> ClientUri {
    s.parse().unwrap()
}
fn m(client: &str, user: &str) -> MemberChange {
    MemberChange::new(c(client), u(user))
}
fn d(s: &str) -> Domain {
    Domain::parse(s).unwrap()
}

const ALICE: &str = "mimi://hub.example/u/alice";
const ALICE_PHONE: &str = "mimi://hub.example/d/alice/phone";
const BOB: &str = "mimi://b.example/u/bob";
const BOB_LAPTOP: &str = "mimi://b.example/d/bob/laptop";
const BOB_PHONE: &str = "mimi://b.example/d/bob/phone";
const CATHY: &str = "mimi://c.example/u/cathy";
const CATHY_TAB: &str = "mimi://c.example/d/cathy/tab";
const DAVE: &str = "mimi://d.example/u/dave";
const DAVE_PC: &str = "mimi://d.example/d/dave/pc";

/// A cooperative room on hub.example: Alice super_admin (4) and Bob ordinary (2), one client
/// each; role 0 may open-join into role 2.
fn room() -> RoomState {
    let creation = RoomCreation::new(
        Preset::Cooperative,
        "mimi://hub.example/r/room".parse().unwrap(),
        u(ALICE),
    );
    let state = creation.initial_state().unwrap();
    let mut comps = state.components();
    let mut list = state.participants().clone();
    list.participants
        .push(UserRolePair::new(u(BOB), RoleIndex(2)));
    comps.insert(ComponentId::PARTICIPANT_LIST, list.encode());
    let mut roles = state.roles().clone();
    roles.roles[0].role_capabilities = vec![mimi_room::Capability::CAN_OPEN_JOIN];
    roles.roles[0].authorized_role_changes = vec![SingleSourceRoleChangeTargets::new(0, &[2])];
    comps.insert(ComponentId::ROLES_LIST, roles.encode());
    RoomState::from_components(comps)
        .unwrap()
        .with_members([m(ALICE_PHONE, ALICE), m(BOB_LAPTOP, BOB)])
        .unwrap()
}

fn deny_list(entries: &[(&str, ServerCapabilities)]) -> ServerPolicy {
    entries.iter().fold(
        ServerPolicy {
            mode: ServerPolicyMode::DenyListed,
            entries: Vec::new(),
        },
        |p, (domain, caps)| p.with_entry(&d(domain), *caps),
    )
}

fn with_policy(state: &RoomState, policy: &ServerPolicy) -> RoomState {
    let mut comps = state.components();
    comps.insert(ComponentId::SERVER_POLICY, policy.encode());
    RoomState::from_components(comps)
        .unwrap()
        .with_members(
            state
                .members()
                .iter()
                .map(|(c, u)| MemberChange::new(c.clone(), u.clone())),
        )
        .unwrap()
}

fn by(client: &str, user: &str) -> CommitSummary {
    CommitSummary::new(Actor::Client {
        client: c(client),
        user: u(user),
    })
}

fn set_policy(policy: &ServerPolicy) -> ComponentChange {
    ComponentChange::update(ComponentId::SERVER_POLICY, policy.encode())
}

fn add(user: &str, role: u32) -> ComponentChange {
    let update = ParticipantListUpdate {
        added_participants: vec![UserRolePair::new(u(user), RoleIndex(role))],
        ..Default::default()
    };
    ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode())
}

fn not_allowed(domain: &str, capability: ServerCapabilities) -> Denied {
    Denied::ProviderNotAllowed {
        domain: d(domain),
        capability,
    }
}

#[test]
fn without_the_component_every_provider_may_do_everything() {
    let s = room();
    assert!(s.server_policy().is_none());
    assert_eq!(
        s.server_capabilities(&d("c.example")),
        ServerCapabilities::ALL
    );
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(add(CATHY, 2));
    commit.added.push(m(CATHY_TAB, CATHY));
    authorize_commit(&s, &commit).unwrap();
}

#[test]
fn adding_a_user_or_client_of_a_denied_provider_is_refused() {
    let s = with_policy(
        &room(),
        &deny_list(&[("c.example", ServerCapabilities::NONE)]),
    );
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(add(CATHY, 2));
    commit.added.push(m(CATHY_TAB, CATHY));
    assert_eq!(
        authorize_commit(&s, &commit).unwrap_err(),
        not_allowed("c.example", ServerCapabilities::JOIN)
    );
    // The list entry alone is refused as well.
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(add(CATHY, 2));
    assert_eq!(
        authorize_commit(&s, &commit).unwrap_err(),
        not_allowed("c.example", ServerCapabilities::JOIN)
    );
    // Another provider is still let in.
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(add(DAVE, 2));
    commit.added.push(m(DAVE_PC, DAVE));
    authorize_commit(&s, &commit).unwrap();
}

#[test]
fn a_user_of_a_denied_provider_cannot_join() {
    let s = with_policy(
        &room(),
        &deny_list(&[("d.example", ServerCapabilities::SUBMIT)]),
    );
    let mut join = by(DAVE_PC, DAVE);
    join.external_join = true;
    join.component_changes.push(add(DAVE, 2));
    join.added.push(m(DAVE_PC, DAVE));
    assert_eq!(
        authorize_commit(&s, &join).unwrap_err(),
        not_allowed("d.example", ServerCapabilities::JOIN)
    );
    // The same join into the open room without the entry succeeds.
    authorize_commit(&room(), &join).unwrap();
}

#[test]
fn a_provider_without_submit_may_neither_send_nor_commit_but_may_leave() {
    let policy = deny_list(&[("b.example", ServerCapabilities::JOIN)]);
    let s = with_policy(&room(), &policy);
    let bob = Actor::Client {
        client: c(BOB_LAPTOP),
        user: u(BOB),
    };
    assert_eq!(
        s.authorize_message(&bob).unwrap_err(),
        not_allowed("b.example", ServerCapabilities::SUBMIT)
    );
    assert_eq!(
        s.may_send(&u(BOB)).unwrap_err(),
        not_allowed("b.example", ServerCapabilities::SUBMIT)
    );
    s.may_send(&u(ALICE)).unwrap();
    // A commit adding someone: refused for the committer's provider.
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.component_changes.push(add(DAVE, 2));
    assert_eq!(
        authorize_commit(&s, &commit).unwrap_err(),
        not_allowed("b.example", ServerCapabilities::SUBMIT)
    );
    // Adding his own second device is a commit too.
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.added.push(m(BOB_PHONE, BOB));
    assert_eq!(
        authorize_commit(&s, &commit).unwrap_err(),
        not_allowed("b.example", ServerCapabilities::SUBMIT)
    );
    // Leaving (removing his own client) stays possible.
    let mut leave = by(BOB_LAPTOP, BOB);
    leave.self_removed.push(m(BOB_LAPTOP, BOB));
    authorize_commit(&s, &leave).unwrap();
}

#[test]
fn denying_a_provider_with_users_in_the_room_is_refused_unless_they_go() {
    let s = room();
    let deny_b = deny_list(&[("b.example", ServerCapabilities::NONE)]);
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(set_policy(&deny_b));
    match authorize_commit(&s, &commit).unwrap_err() {
        Denied::InvalidResultingState(e) => {
            let text = e.to_string();
            assert!(
                text.contains("b.example") && text.contains("remove or ban"),
                "{text}"
            );
        }
        other => panic!("expected the resulting state refused, got {other:?}"),
    }
    // Removing Bob (entry and client) in the same commit makes the deny valid.
    let mut commit = by(ALICE_PHONE, ALICE);
    let bob_index = s.participants().index_of(&u(BOB)).unwrap() as u32;
    let update = ParticipantListUpdate {
        removed_indices: vec![bob_index],
        ..Default::default()
    };
    commit.component_changes.push(ComponentChange::update(
        ComponentId::PARTICIPANT_LIST,
        update.encode(),
    ));
    commit.component_changes.push(set_policy(&deny_b));
    commit.removed.push(m(BOB_LAPTOP, BOB));
    let next = authorize_commit(&s, &commit).unwrap().into_state();
    assert_eq!(
        next.server_capabilities(&d("b.example")),
        ServerCapabilities::NONE
    );
    // Denying only `submit` leaves Bob a read-only member.
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(set_policy(&deny_list(&[(
        "b.example",
        ServerCapabilities::JOIN,
    )])));
    authorize_commit(&s, &commit).unwrap();
}

#[test]
fn the_hub_keeps_every_capability() {
    let s = room();
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(set_policy(&deny_list(&[(
        "hub.example",
        ServerCapabilities::JOIN,
    )])));
    assert!(matches!(
        authorize_commit(&s, &commit).unwrap_err(),
        Denied::InvalidResultingState(e) if e.to_string().contains("hub")
    ));
    // An allow-list that does not name the hub still lets it (and its users) do everything.
    let allow_b = ServerPolicy {
        mode: ServerPolicyMode::AllowListed,
        entries: Vec::new(),
    }
    .with_entry(&d("b.example"), ServerCapabilities::ALL);
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(set_policy(&allow_b));
    let next = authorize_commit(&s, &commit).unwrap().into_state();
    assert_eq!(
        next.server_capabilities(&d("hub.example")),
        ServerCapabilities::ALL
    );
    assert_eq!(
        next.server_capabilities(&d("c.example")),
        ServerCapabilities::NONE
    );
    next.may_send(&u(ALICE)).unwrap();
}

#[test]
fn an_allow_list_keeps_unlisted_providers_out() {
    let allow_b = ServerPolicy {
        mode: ServerPolicyMode::AllowListed,
        entries: Vec::new(),
    }
    .with_entry(&d("b.example"), ServerCapabilities::ALL);
    let s = with_policy(&room(), &allow_b);
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(add(DAVE, 2));
    commit.added.push(m(DAVE_PC, DAVE));
    assert_eq!(
        authorize_commit(&s, &commit).unwrap_err(),
        not_allowed("d.example", ServerCapabilities::JOIN)
    );
    let mut commit = by(ALICE_PHONE, ALICE);
    commit
        .component_changes
        .push(add("mimi://b.example/u/eve", 2));
    authorize_commit(&s, &commit).unwrap();
}

#[test]
fn changing_the_list_needs_can_change_room_membership_style() {
    let s = room();
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.component_changes.push(set_policy(&deny_list(&[(
        "c.example",
        ServerCapabilities::NONE,
    )])));
    assert_eq!(
        authorize_commit(&s, &commit).unwrap_err(),
        Denied::MissingCapability {
            capability: mimi_room::Capability::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE,
            role: RoleIndex(2),
        }
    );
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(set_policy(&deny_list(&[(
        "c.example",
        ServerCapabilities::NONE,
    )])));
    let next = authorize_commit(&s, &commit).unwrap().into_state();
    // Removing it opens the room to everyone again (same capability).
    let mut remove = by(BOB_LAPTOP, BOB);
    remove
        .component_changes
        .push(ComponentChange::remove(ComponentId::SERVER_POLICY));
    assert!(matches!(
        authorize_commit(&next, &remove).unwrap_err(),
        Denied::MissingCapability { .. }
    ));
    let mut remove = by(ALICE_PHONE, ALICE);
    remove
        .component_changes
        .push(ComponentChange::remove(ComponentId::SERVER_POLICY));
    let open = authorize_commit(&next, &remove).unwrap().into_state();
    assert!(open.server_policy().is_none());
}

#[test]
fn a_server_actor_needs_submit() {
    let s = with_policy(
        &room(),
        &deny_list(&[("b.example", ServerCapabilities::JOIN)]),
    );
    let mut commit = CommitSummary::new(Actor::Server(d("b.example")));
    commit.removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(
        authorize_commit(&s, &commit).unwrap_err(),
        not_allowed("b.example", ServerCapabilities::SUBMIT)
    );
}

#[test]
fn server_level_membership_is_derived_from_users_and_clients() {
    let s = room();
    let domains: Vec<&str> = s.provider_domains().iter().map(|d| d.as_str()).collect();
    assert_eq!(domains, ["b.example", "hub.example"]);
}

#[test]
fn the_codec_is_strict() {
    let policy = deny_list(&[
        ("c.example", ServerCapabilities::NONE),
        ("b.example", ServerCapabilities::JOIN),
    ]);
    assert_eq!(ServerPolicy::decode(&policy.encode()).unwrap(), policy);
    assert_eq!(policy.entries[0].domain.domain.as_str(), "b.example");
    // Unsorted or repeated entries, unknown bits and unknown modes are refused.
    let mut unsorted = policy.clone();
    unsorted.entries.reverse();
    assert!(ServerPolicy::decode(&unsorted.encode()).is_err());
    let mut twice = policy.clone();
    twice.entries.push(twice.entries[1].clone());
    assert!(ServerPolicy::decode(&twice.encode()).is_err());
    let mut bits = policy.clone();
    bits.entries[0].capabilities = ServerCapabilities { bits: 0x08 };
    assert!(ServerPolicy::decode(&bits.encode()).is_err());
    let mut bytes = policy.encode();
    bytes[0] = 2;
    assert!(ServerPolicy::decode(&bytes).is_err());
    // Trailing bytes.
    let mut bytes = policy.encode();
    bytes.push(0);
    assert!(ServerPolicy::decode(&bytes).is_err());
}

#[test]
fn capability_lists_parse_and_print() {
    assert_eq!(
        ServerCapabilities::parse_list("join, submit").unwrap(),
        ServerCapabilities::JOIN.with(ServerCapabilities::SUBMIT)
    );
    assert_eq!(
        ServerCapabilities::parse_list("all").unwrap(),
        ServerCapabilities::ALL
    );
    assert_eq!(
        ServerCapabilities::ALL.to_string(),
        "join,keymaterial,submit"
    );
    assert_eq!(ServerCapabilities::NONE.to_string(), "none");
    let e = ServerCapabilities::parse_list("fly").unwrap_err();
    assert!(e.contains("join, keymaterial, submit"), "{e}");
}
