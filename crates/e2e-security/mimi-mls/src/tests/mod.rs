//! In-process tests: three providers, a hub view and their clients.

mod credentials;
mod flows;
mod fuzz;
mod refusals;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, Domain, GroupUri, RoomUri, UserUri};

use crate::{
    ClientGroup, ClientIdentity, ComponentChange, ComponentOp, Components, HubGroup, Incoming,
    OutgoingCommit, ProviderCa, ReplaceComponents, ServerIdentity, TrustStore, Validity,
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

/// The initial room components: safe_aad requiring frank_aad, and a participant list.
pub(crate) fn initial_components(users: &str) -> Components {
    let mut c = Components::new();
    // ComponentsList { component_ids<V> } = [0x0020]
    c.insert(ComponentId::SAFE_AAD, vec![0x02, 0x00, 0x20]);
    c.insert(PL, users.as_bytes().to_vec());
    c
}

pub(crate) fn pl_update(users: &str) -> ComponentChange {
    ComponentChange {
        component: PL,
        op: ComponentOp::Update(users.as_bytes().to_vec()),
    }
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

    pub(crate) fn create(&mut self, creator: &str, components: Components) {
        let (g, created) = ClientGroup::create(
            &self.clients[creator],
            &self.group_uri(),
            &self.hub_id.external_sender(),
            &components,
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
        let staged = self
            .hub()
            .process(&out.commit, &ReplaceComponents, self.now)
            .unwrap();
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
            let r = g.process(&out.commit, &ReplaceComponents, now).unwrap();
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
        let staged = self
            .hub()
            .process(proposal, &ReplaceComponents, now)
            .unwrap();
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
            match g.process(proposal, &ReplaceComponents, now).unwrap() {
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
        let info = self
            .hub()
            .check_application(&ct, &me.user, &ReplaceComponents)
            .unwrap();
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
            match g.process(&ct, &ReplaceComponents, now).unwrap() {
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
