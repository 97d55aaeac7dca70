//! In-process tests: three providers, a hub view and their clients.

mod agents;
mod compact_secrets;
mod credentials;
mod direct;
mod entries;
mod flows;
mod fuzz;
mod join_codes;
mod legacy_entries;
mod refusals;
mod rfc_credentials;
mod roster;
mod servers;
mod storage;
mod vectors;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, Domain, GroupUri, RoomUri, UserUri};

use mimi_room::RoomState;
use mimi_room::components::{Component, ParticipantListUpdate, RoleIndex, UserRolePair};
use mimi_room::presets::{Preset, RoomCreation};

use crate::{
    ClientGroup, ClientIdentity, ComponentChange, HubGroup, Incoming, OutgoingCommit, ProviderCa,
    ServerIdentity, TrustStore, Validity,
};

/// openmls checks leaf lifetimes against the system clock, so MLS tests use it too.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(1_800_000_000)
}

pub(crate) const YEAR: u64 = 365 * 24 * 3600;
pub(crate) const KP_LIFETIME: u64 = 30 * 24 * 3600;

pub(crate) fn domain(s: &str) -> Domain {
    s.parse().unwrap()
}

pub(crate) struct Provider {
    pub(crate) ca: ProviderCa,
}

/// The network: three providers (a.example hosts the room), the hub's identity and view.
pub(crate) struct Net {
    pub(crate) now: u64,
    pub(crate) providers: BTreeMap<String, Provider>,
    pub(crate) trust: TrustStore,
    pub(crate) hub_id: ServerIdentity,
    pub(crate) hub: Option<HubGroup>,
    pub(crate) clients: BTreeMap<String, ClientIdentity>,
    pub(crate) groups: BTreeMap<String, ClientGroup>,
    pub(crate) room: RoomUri,
}

pub(crate) const PL: ComponentId = ComponentId::PARTICIPANT_LIST;

/// A test user's URI by name: alice on a.example, bob on b.example, others on c.example.
pub(crate) fn user(name: &str) -> UserUri {
    let d = match name {
        "alice" => "a.example",
        "bob" | "bert" => "b.example",
        _ => "c.example",
    };
    format!("mimi://{d}/u/{name}").parse().unwrap()
}

/// The initial room state of `preset` for `creator`, plus `safe_aad` requiring `frank_aad`.
pub(crate) fn initial_room(preset: Preset, room: &RoomUri, creator: &str) -> RoomState {
    room_with(preset, room, creator, true, false)
}

/// The initial room state, optionally with `safe_aad` and with the hub's policy enforcer.
pub(crate) fn room_with(
    preset: Preset,
    room: &RoomUri,
    creator: &str,
    safe_aad: bool,
    enforcer: bool,
) -> RoomState {
    let mut creation = RoomCreation::new(preset, room.clone(), user(creator));
    if enforcer {
        creation.policy_enforcer = Some("mimi://a.example/u/hub-enforcer".parse().unwrap());
    }
    let mut c = creation.initial_state().unwrap().components();
    if safe_aad {
        // ComponentsList { component_ids<V> } = [0x0020]
        c.insert(ComponentId::SAFE_AAD, vec![0x02, 0x00, 0x20]);
    }
    RoomState::from_components(c).unwrap()
}

/// A participant-list update adding `names` as ordinary users (role 2).
pub(crate) fn pl_add(names: &[&str]) -> ComponentChange {
    let update = ParticipantListUpdate {
        added_participants: names
            .iter()
            .map(|n| UserRolePair::new(user(n), RoleIndex(2)))
            .collect(),
        ..Default::default()
    };
    ComponentChange::update(PL, update.encode())
}

impl Net {
    pub(crate) fn new() -> Self {
        let now = now();
        let validity = Validity::starting(now - 3600, 10 * YEAR);
        let mut providers = BTreeMap::new();
        let mut trust = TrustStore::new();
        for d in ["a.example", "b.example", "c.example"] {
            let ca = ProviderCa::generate(domain(d), validity).unwrap();
            trust.pin(domain(d), ca.certificate_der()).unwrap();
            providers.insert(d.to_string(), Provider { ca });
        }
        let hub_id = ServerIdentity::new(&providers["a.example"].ca, validity).unwrap();
        Self {
            now,
            providers,
            trust,
            hub_id,
            hub: None,
            clients: BTreeMap::new(),
            groups: BTreeMap::new(),
            room: "mimi://a.example/r/clubhouse".parse().unwrap(),
        }
    }

    pub(crate) fn group_uri(&self) -> GroupUri {
        self.room.group_uri()
    }

    /// A client named `user/device` on `d`.
    pub(crate) fn add_client(&mut self, d: &str, user: &str, device: &str) {
        let user_uri: UserUri = format!("mimi://{d}/u/{user}").parse().unwrap();
        let client: ClientUri = format!("mimi://{d}/d/{user}/{device}").parse().unwrap();
        let validity = Validity::starting(self.now - 3600, YEAR);
        let id = ClientIdentity::new(&self.providers[d].ca, client, user_uri, validity).unwrap();
        self.clients.insert(device.to_string(), id);
    }

    pub(crate) fn kp(&self, device: &str) -> Vec<u8> {
        self.clients[device]
            .key_package(self.now, KP_LIFETIME, false)
            .unwrap()
            .message
    }

    pub(crate) fn hub(&self) -> &HubGroup {
        self.hub.as_ref().unwrap()
    }

    pub(crate) fn hub_mut(&mut self) -> &mut HubGroup {
        self.hub.as_mut().unwrap()
    }

    /// A participant-list update removing `names` (by their current index).
    pub(crate) fn pl_remove(&self, names: &[&str]) -> ComponentChange {
        let list = &self.hub().room().participants().participants;
        let update = ParticipantListUpdate {
            removed_indices: names
                .iter()
                .map(|n| list.iter().position(|p| p.user == user(n)).unwrap() as u32)
                .collect(),
            ..Default::default()
        };
        ComponentChange::update(PL, update.encode())
    }

    pub(crate) fn create(&mut self, creator: &str, preset: Preset) {
        let creator_user = self.clients[creator].user().to_string();
        let name = creator_user.rsplit('/').next().unwrap().to_string();
        let room = initial_room(preset, &self.room, &name);
        self.create_with(creator, room);
    }

    /// Creates the group; a room state without `safe_aad` makes an unfranked room.
    pub(crate) fn create_with(&mut self, creator: &str, room: RoomState) {
        let create = if room.plumbing(ComponentId::SAFE_AAD).is_some() {
            ClientGroup::create
        } else {
            ClientGroup::create_unfranked
        };
        let (g, created) = create(
            &self.clients[creator],
            &self.group_uri(),
            &self.hub_id.external_sender(),
            &room,
            self.trust.clone(),
            self.now,
        )
        .unwrap();
        self.hub = Some(
            HubGroup::new(
                &created.group_info,
                &created.ratchet_tree,
                self.trust.clone(),
                self.now,
            )
            .unwrap(),
        );
        self.groups.insert(creator.to_string(), g);
    }

    /// Hub accepts `out` from `committer`, everyone else processes it, Welcome recipients
    /// join. Returns each member's processing result.
    pub(crate) fn deliver_commit(
        &mut self,
        committer: &str,
        out: &OutgoingCommit,
        joiners: &[&str],
    ) -> BTreeMap<String, Incoming> {
        let staged = self.hub().process(&out.commit, self.now).unwrap();
        assert_eq!(staged.summary(), &out.summary, "hub and committer agree");
        let now = self.now;
        self.hub_mut()
            .merge(staged, out.group_info.as_deref(), now)
            .unwrap();
        self.groups
            .get_mut(committer)
            .unwrap()
            .merge_pending_commit()
            .unwrap();
        let mut results = BTreeMap::new();
        let names: Vec<String> = self.groups.keys().cloned().collect();
        for name in names {
            if name == committer {
                continue;
            }
            let g = self.groups.get_mut(&name).unwrap();
            if !g.is_active() {
                continue;
            }
            let r = g.process(&out.commit, now).unwrap();
            results.insert(name, r);
        }
        if let Some(w) = &out.welcome {
            let refs = crate::welcome_key_package_refs(w).unwrap();
            assert_eq!(refs.len(), joiners.len());
            for j in joiners {
                let g = ClientGroup::join_from_welcome(
                    &self.clients[*j],
                    w,
                    &out.ratchet_tree,
                    self.trust.clone(),
                    now,
                )
                .unwrap();
                self.groups.insert(j.to_string(), g);
            }
        }
        results
    }

    /// Hub accepts a proposal from `from`; every other active member queues it.
    pub(crate) fn deliver_proposal(&mut self, from: &str, proposal: &[u8]) {
        let now = self.now;
        let staged = self.hub().process(proposal, now).unwrap();
        assert!(!staged.is_commit());
        self.hub_mut().merge(staged, None, now).unwrap();
        let names: Vec<String> = self.groups.keys().cloned().collect();
        for name in names {
            if name == from {
                continue;
            }
            let g = self.groups.get_mut(&name).unwrap();
            if !g.is_active() {
                continue;
            }
            match g.process(proposal, now).unwrap() {
                Incoming::Proposal(_) => {}
                other => panic!("expected a proposal, got {other:?}"),
            }
        }
    }

    /// `from` sends a message; the hub checks it; every other active member decrypts it.
    pub(crate) fn message(&mut self, from: &str, text: &str) {
        let now = self.now;
        let g = self.groups.get_mut(from).unwrap();
        let me = g.me().clone();
        let mut aad = BTreeMap::new();
        aad.insert(
            ComponentId::FRANK_AAD,
            text.as_bytes().iter().rev().copied().collect(),
        );
        let ct = g.protect(text.as_bytes(), &aad).unwrap();
        let info = self.hub().check_application(&ct, &me.user).unwrap();
        assert!(
            !info.authenticated_data.is_empty(),
            "SafeAAD visible to the hub"
        );
        let names: Vec<String> = self.groups.keys().cloned().collect();
        for name in names {
            if name == from {
                continue;
            }
            let g = self.groups.get_mut(&name).unwrap();
            if !g.is_active() {
                continue;
            }
            match g.process(&ct, now).unwrap() {
                Incoming::Application(m) => {
                    assert_eq!(m.data, text.as_bytes(), "{name} decrypts");
                    assert_eq!(m.sender, me);
                    assert_eq!(m.safe_aad, aad, "{name} reads the frank_aad");
                }
                other => panic!("expected an application message, got {other:?}"),
            }
        }
    }

    /// Every active client and the hub agree on epoch, members and components.
    pub(crate) fn assert_consistent(&self) {
        let hub = self.hub();
        for (name, g) in &self.groups {
            if !g.is_active() {
                continue;
            }
            assert_eq!(g.epoch(), hub.epoch(), "{name} epoch");
            assert_eq!(g.members(), hub.members(), "{name} members");
            assert_eq!(g.components(), hub.components(), "{name} components");
        }
    }

    pub(crate) fn active(&self) -> Vec<String> {
        self.groups
            .iter()
            .filter(|(_, g)| g.is_active())
            .map(|(k, _)| k.clone())
            .collect()
    }
}
