//! Shared bench setup: one provider, a hub view and a room of `n` clients.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, missing_docs)]

use std::time::{SystemTime, UNIX_EPOCH};

use mimi_mls::{
    ClientGroup, ClientIdentity, ComponentChange, HubGroup, ProviderCa, ServerIdentity, TrustStore,
    Validity,
};
use mimi_room::components::{Component, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_room::presets::{Preset, RoomCreation};
use mimi_types::codepoints::ComponentId;

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(1_800_000_000)
}

pub(crate) struct Room {
    pub(crate) now: u64,
    pub(crate) trust: TrustStore,
    pub(crate) hub: HubGroup,
    pub(crate) creator: ClientGroup,
    pub(crate) others: Vec<ClientIdentity>,
    pub(crate) welcome: Option<(Vec<u8>, Vec<u8>)>,
    pub(crate) ca: ProviderCa,
}

/// A room on a.example with `n` members, each its own user; created by user 0.
pub(crate) fn room(n: usize) -> Room {
    let now = now();
    let v = Validity::starting(now - 3600, 365 * 24 * 3600);
    let ca = ProviderCa::generate("a.example".parse().unwrap(), v).unwrap();
    let mut trust = TrustStore::new();
    trust
        .pin("a.example".parse().unwrap(), ca.certificate_der())
        .unwrap();
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
    let room_uri: mimi_types::RoomUri = "mimi://a.example/r/bench".parse().unwrap();
    let state = RoomCreation::new(
        Preset::Cooperative,
        room_uri.clone(),
        creator_id.user().clone(),
    )
    .initial_state()
    .unwrap();
    let (mut creator, created) = ClientGroup::create(
        &creator_id,
        &room_uri.group_uri(),
        &hub_id.external_sender(),
        &state,
        trust.clone(),
        now,
    )
    .unwrap();
    let mut hub = HubGroup::new(
        &created.group_info,
        &created.ratchet_tree,
        trust.clone(),
        now,
    )
    .unwrap();
    let others: Vec<ClientIdentity> = (1..n).map(ident).collect();
    let mut welcome = None;
    if !others.is_empty() {
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
        let staged = hub.process(&out.commit, now).unwrap();
        hub.merge(staged, out.group_info.as_deref(), now).unwrap();
        creator.merge_pending_commit().unwrap();
        welcome = Some((out.welcome.unwrap(), out.ratchet_tree));
    }
    Room {
        now,
        trust,
        hub,
        creator,
        others,
        welcome,
        ca,
    }
}
