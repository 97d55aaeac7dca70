//! The room every mimi-ds bench starts from: a provider a.example with its CA, a room created
//! by user `u0` and grown to `n` members (one device each) by one commit adding `n - 1`
//! KeyPackages, accepted by the hub engine. Built outside the timed parts.

// Each bench uses its own part of this module.
#![allow(dead_code)]

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mimi_ds::hub::HubRoom;
use mimi_federation_api::decode_exact;
use mimi_federation_api::mls::{MlsMessage, RatchetTree};
use mimi_federation_api::ratchet_tree::{GroupInfoOption, RatchetTreeOption};
use mimi_federation_api::update::{CommitBundle, HandshakeBundle, UpdateOutcome, UpdateRequest};
use mimi_mls::{
    ClientGroup, ClientIdentity, ComponentChange, HubGroup, OutgoingCommit, ProviderCa,
    ServerIdentity, TrustStore, Validity,
};
use mimi_room::components::{Component as _, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_types::codepoints::ComponentId;
use mimi_types::{Domain, RoomUri};

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The room sizes to run: `MIMI_BENCH_N` (comma-separated), else `default`.
pub(crate) fn sizes(default: &[usize]) -> Vec<usize> {
    match std::env::var("MIMI_BENCH_N") {
        Ok(v) => v.split(',').filter_map(|x| x.parse().ok()).collect(),
        Err(_) => default.to_vec(),
    }
}

/// The phone of user `name` at a.example.
pub(crate) fn ident(ca: &ProviderCa, v: Validity, name: &str) -> ClientIdentity {
    ClientIdentity::new(
        ca,
        format!("mimi://a.example/d/{name}/phone").parse().unwrap(),
        format!("mimi://a.example/u/{name}").parse().unwrap(),
        v,
    )
    .unwrap()
}

/// The commit bundle a client sends the hub for `out`.
pub(crate) fn bundle(out: &OutgoingCommit) -> CommitBundle {
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

/// The hub engine accepts `out` (panics on a refusal).
pub(crate) fn accept(hub: &mut HubRoom, now: u64, domain: &Domain, out: &OutgoingCommit) {
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

/// A grown room: the hub engine and the creator's group after the commit adding everyone.
pub(crate) struct Room {
    pub(crate) now: u64,
    pub(crate) domain: Domain,
    pub(crate) trust: TrustStore,
    pub(crate) ca: ProviderCa,
    pub(crate) validity: Validity,
    pub(crate) uri: RoomUri,
    pub(crate) hub: HubRoom,
    pub(crate) creator: ClientGroup,
    /// Users `u1` .. `u{n-1}`, in the order they were added.
    pub(crate) others: Vec<ClientIdentity>,
    /// The commit that added them (its Welcome lets a member join).
    pub(crate) added: OutgoingCommit,
    /// Making the identities and KeyPackages, the creator's commit, the hub's acceptance.
    pub(crate) timings: [Duration; 3],
}

/// The room `mimi://a.example/r/NAME` with `n` members.
pub(crate) fn room(n: usize, name: &str) -> Room {
    let start = Instant::now();
    let now = now();
    let v = Validity::starting(now - 3600, 365 * 24 * 3600);
    let domain: Domain = "a.example".parse().unwrap();
    let ca = ProviderCa::generate(domain.clone(), v).unwrap();
    let mut trust = TrustStore::new();
    trust.pin(domain.clone(), ca.certificate_der()).unwrap();
    let hub_id = ServerIdentity::new(&ca, v).unwrap();
    let creator_id = ident(&ca, v, "u0");
    let uri: RoomUri = format!("mimi://a.example/r/{name}").parse().unwrap();
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
    let added = creator.commit(&[change], &kps, &[], now).unwrap();
    let committed = start.elapsed();
    accept(&mut hub, now, &domain, &added);
    creator.merge_pending_commit().unwrap();
    let accepted = start.elapsed();
    Room {
        now,
        domain,
        trust,
        ca,
        validity: v,
        uri,
        hub,
        creator,
        others,
        added,
        timings: [made, committed - made, accepted - committed],
    }
}
