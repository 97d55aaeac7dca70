//! A small in-test federation: the real hub and follower engines of mimi-ds, and
//! `mimi_client_core::Client`s, moving requests and fan-out synchronously.

#![allow(dead_code, unreachable_pub)]

use std::collections::{BTreeMap, VecDeque};
use std::time::{SystemTime, UNIX_EPOCH};

use mimi_client_core::{Client, ClientError, KeyPackageUpload, OpId, Outgoing, SendOutcome};
use mimi_ds::follower::RoomInbox;
use mimi_ds::hub::HubRoom;
use mimi_ds::{Delivery, Effect, Recipients};
use mimi_federation_api::notify::NotifyRequest;
use mimi_federation_api::{Encode, decode_exact};
use mimi_mls::{ClientIdentity, HubGroup, ProviderCa, ServerIdentity, TrustStore, Validity};
use mimi_room::presets::Preset;
use mimi_types::{ClientUri, Domain, Ident, RoomUri, UserUri};
use rand::SeedableRng;
use rand::rngs::StdRng;

const YEAR: u64 = 365 * 24 * 3600;

pub struct Fed {
    pub now: u64,
    pub trust: TrustStore,
    pub cas: BTreeMap<Domain, ProviderCa>,
    pub servers: BTreeMap<Domain, ServerIdentity>,
    pub hubs: BTreeMap<RoomUri, HubRoom>,
    pub inboxes: BTreeMap<(Domain, RoomUri), RoomInbox>,
    pub claims: BTreeMap<Vec<u8>, ClientUri>,
    pub pools: BTreeMap<ClientUri, VecDeque<KeyPackageUpload>>,
    pub clients: BTreeMap<ClientUri, Client>,
    /// Every delivery handed to a device, in order (for replaying duplicates).
    pub delivered: Vec<(ClientUri, Delivery)>,
    /// Errors `mark_sent` returned (hub refusals).
    pub refusals: Vec<(ClientUri, OpId, String)>,
    pub rng: StdRng,
    /// Devices that receive through a device stream (`handle_event` with sequence numbers).
    pub streamed: BTreeMap<ClientUri, Vec<(u64, RoomUri, Vec<u8>)>>,
}

pub fn user(s: &str) -> UserUri {
    s.parse().unwrap()
}

impl Fed {
    pub fn new(domains: &[&str]) -> Self {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let validity = Validity::starting(now - 3600, 10 * YEAR);
        let mut trust = TrustStore::new();
        let mut cas = BTreeMap::new();
        let mut servers = BTreeMap::new();
        for d in domains {
            let domain = Domain::parse(d).unwrap();
            let ca = ProviderCa::generate(domain.clone(), validity).unwrap();
            trust.pin(domain.clone(), ca.certificate_der()).unwrap();
            servers.insert(domain.clone(), ServerIdentity::new(&ca, validity).unwrap());
            cas.insert(domain, ca);
        }
        Self {
            now,
            trust,
            cas,
            servers,
            hubs: BTreeMap::new(),
            inboxes: BTreeMap::new(),
            claims: BTreeMap::new(),
            pools: BTreeMap::new(),
            clients: BTreeMap::new(),
            delivered: Vec::new(),
            refusals: Vec::new(),
            rng: StdRng::seed_from_u64(7),
            streamed: BTreeMap::new(),
        }
    }

    /// A new device of `user`, with KeyPackages uploaded.
    pub fn device(&mut self, user_uri: &str, device: &str) -> ClientUri {
        let user = user(user_uri);
        let client = ClientUri::of_user(&user, Ident::parse(device).unwrap());
        let ca = &self.cas[user.domain()];
        let identity = ClientIdentity::new(
            ca,
            client.clone(),
            user,
            Validity::starting(self.now - 3600, YEAR),
        )
        .unwrap();
        let mut c = Client::new(identity, self.trust.clone());
        let n = c.key_packages_needed(0);
        c.generate_key_packages(self.now, n).unwrap();
        self.clients.insert(client.clone(), c);
        self.pump();
        client
    }

    pub fn c(&mut self, client: &ClientUri) -> &mut Client {
        self.clients.get_mut(client).unwrap()
    }

    pub fn create_room(&mut self, creator: &ClientUri, room: &str, preset: Preset) -> RoomUri {
        let room: RoomUri = room.parse().unwrap();
        let hub = self.servers[room.hub_domain()].external_sender();
        let now = self.now;
        let created = self
            .c(creator)
            .create_room(now, &room, preset, &hub)
            .unwrap();
        self.host(&room, &created);
        room
    }

    /// Like [`Fed::create_room`], with a `chat_history_policy` component.
    pub fn create_room_with_history_policy(
        &mut self,
        creator: &ClientUri,
        room: &str,
        preset: Preset,
        policy: &mimi_room::components::HistoryPolicy,
    ) -> RoomUri {
        let room: RoomUri = room.parse().unwrap();
        let hub = self.servers[room.hub_domain()].external_sender();
        let now = self.now;
        let created = self
            .c(creator)
            .create_room_with_history_policy(now, &room, preset, &hub, policy)
            .unwrap();
        self.host(&room, &created);
        room
    }

    /// The room's hub takes the group its creator made.
    fn host(&mut self, room: &RoomUri, created: &mimi_mls::CreatedGroup) {
        let group = HubGroup::new(
            &created.group_info,
            &created.ratchet_tree,
            self.trust.clone(),
            self.now,
        )
        .unwrap();
        self.hubs
            .insert(room.clone(), HubRoom::new(room.clone(), group));
    }

    /// One KeyPackage per device of `user` (claimed, routed through the room's hub).
    pub fn key_packages(&mut self, room: &RoomUri, user: &UserUri) -> Vec<Vec<u8>> {
        let devices: Vec<ClientUri> = self
            .clients
            .keys()
            .filter(|c| c.user_hint().as_ref() == Some(user))
            .cloned()
            .collect();
        let mut out = Vec::new();
        for d in devices {
            let pool = self.pools.entry(d.clone()).or_default();
            let pick = pool
                .iter()
                .position(|k| !k.last_resort)
                .and_then(|i| pool.remove(i))
                .or_else(|| pool.front().cloned());
            if let Some(kp) = pick {
                self.claims.insert(kp.reference.clone(), d.clone());
                self.hubs
                    .get_mut(room)
                    .unwrap()
                    .record_routes(user.domain(), [kp.reference.clone()]);
                out.push(kp.message);
            }
        }
        out
    }

    /// Sends every queued request of every device, answers it, and delivers the fan-out,
    /// until nothing is left.
    pub fn pump(&mut self) {
        loop {
            let mut progressed = false;
            let ids: Vec<ClientUri> = self.clients.keys().cloned().collect();
            for id in ids {
                while let Some(request) = self.c(&id).poll_request() {
                    progressed = true;
                    self.send(&id, request);
                }
            }
            if !progressed {
                break;
            }
        }
    }

    /// Sends one request of `from` and reports the outcome; fan-out is delivered after.
    pub fn send(&mut self, from: &ClientUri, request: Outgoing) {
        let now_ms = self.now * 1000;
        let peer = from.domain().clone();
        let (op, outcome, effects) = match request {
            Outgoing::KeyPackages { op, key_packages } => {
                self.pools
                    .entry(from.clone())
                    .or_default()
                    .extend(key_packages);
                (op, SendOutcome::Uploaded, Vec::new())
            }
            Outgoing::Commit { op, room, request } | Outgoing::Proposals { op, room, request } => {
                let request = decode_exact(&request.encode().unwrap()).unwrap();
                let out = self
                    .hubs
                    .get_mut(&room)
                    .unwrap()
                    .handle_update(now_ms, &peer, request)
                    .unwrap();
                (op, SendOutcome::Update(out.response.outcome), out.effects)
            }
            Outgoing::Message {
                op, room, request, ..
            } => {
                let request = decode_exact(&request.encode().unwrap()).unwrap();
                let franker = self.servers[room.hub_domain()].franker().unwrap();
                let out = self
                    .hubs
                    .get_mut(&room)
                    .unwrap()
                    .handle_submit(now_ms, &peer, request, Some(&franker))
                    .unwrap();
                (op, SendOutcome::Submit(out.response.outcome), out.effects)
            }
            other => panic!("unexpected request {other:?}"),
        };
        if let Err(e) = self.c(from).mark_sent(op, outcome) {
            self.refusals.push((from.clone(), op, e.to_string()));
        }
        self.deliver(effects);
    }

    pub fn deliver(&mut self, effects: Vec<Effect>) {
        for effect in effects {
            match effect {
                Effect::Notify {
                    to, room, message, ..
                } => {
                    let body = NotifyRequest::new(vec![message]).encode().unwrap();
                    let request: NotifyRequest = decode_exact(&body).unwrap();
                    let claims = self.claims.clone();
                    let inbox = self
                        .inboxes
                        .entry((to.clone(), room.clone()))
                        .or_insert_with(|| RoomInbox::new(room.clone()));
                    let receipt = inbox
                        .receive(room.hub_domain(), request, &|r: &[u8]| {
                            claims.get(r).cloned()
                        })
                        .unwrap();
                    for d in receipt.deliveries {
                        self.hand_off(&to, d);
                    }
                }
            }
        }
    }

    fn hand_off(&mut self, domain: &Domain, delivery: Delivery) {
        let now = self.now;
        let targets: Vec<ClientUri> = match &delivery.to {
            Recipients::Client(c) => vec![c.clone()],
            _ => self
                .clients
                .iter()
                .filter(|(c, client)| c.domain() == domain && client.room(&delivery.room).is_some())
                .map(|(c, _)| c.clone())
                .collect(),
        };
        for t in targets {
            if let Some(stream) = self.streamed.get_mut(&t) {
                let seq = stream.len() as u64 + 1;
                let payload = delivery.message.encode().unwrap();
                stream.push((seq, delivery.room.clone(), payload.clone()));
                if let Some(client) = self.clients.get_mut(&t) {
                    client
                        .handle_event(now, seq, &delivery.room, &payload)
                        .unwrap();
                }
            } else if let Some(client) = self.clients.get_mut(&t) {
                hand(client, now, &delivery).unwrap();
            }
            self.delivered.push((t.clone(), delivery.clone()));
        }
    }

    /// Invites users (every device of each) with `actor`, and pumps.
    pub fn invite(
        &mut self,
        actor: &ClientUri,
        room: &RoomUri,
        users: &[&str],
    ) -> Result<(), ClientError> {
        let mut invitees = Vec::new();
        for u in users {
            let u = user(u);
            let kps = self.key_packages(room, &u);
            invitees.push(mimi_client_core::Invitee::new(u, kps));
        }
        let now = self.now;
        self.c(actor).invite(now, room, &invitees)?;
        self.pump();
        Ok(())
    }

    /// The texts of a device's timeline, "sender-name: text" (deleted as "<deleted>").
    pub fn transcript(&self, client: &ClientUri, room: &RoomUri) -> Vec<String> {
        let Some(view) = self.clients[client].room(room) else {
            return Vec::new();
        };
        view.messages()
            .iter()
            .map(|m| {
                let name = m.sender.to_string();
                let name = name.rsplit('/').next().unwrap_or_default().to_owned();
                if m.deleted {
                    format!("{name}: <deleted>")
                } else if !m.body.attachments.is_empty() {
                    format!("{name}: [file {}]", m.body.attachments[0].filename)
                } else {
                    format!("{name}: {}", m.body.text)
                }
            })
            .collect()
    }
}

/// Hands a follower engine's delivery to a client engine: a Welcome goes to the device it is
/// addressed to, anything else to every member device.
pub fn hand(client: &mut Client, now: u64, delivery: &Delivery) -> Result<(), ClientError> {
    let addressed_to = match &delivery.to {
        Recipients::Client(c) => Some(c),
        _ => None,
    };
    client.handle_delivery(now, &delivery.room, addressed_to, &delivery.message)
}
