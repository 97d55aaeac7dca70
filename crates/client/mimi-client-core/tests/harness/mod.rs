//! The client-core tests' federation: the testkit's simulator (`mimi_testkit::Network`: the
//! real hub and follower engines of mimi-ds, these client engines, no faults) with the short
//! calls these tests use. `pump` sends what every device queued and delivers all fan-out.

#![allow(dead_code, unreachable_pub)]

use mimi_client_core::{Client, ClientError, OpId, Outgoing};
use mimi_ds::hub::HubRoom;
use mimi_ds::{Delivery, Effect, Recipients};
use mimi_mls::{ServerIdentity, TrustStore};
use mimi_room::presets::Preset;
use mimi_testkit::{Intercepted, Network};
use mimi_types::{ClientUri, Domain, RoomUri, UserUri};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Steps after which the simulator is taken as stuck.
const MAX_STEPS: usize = 100_000;

pub struct Fed {
    /// The simulator.
    pub net: Network,
    /// Randomness for the tests' message contents.
    pub rng: StdRng,
}

pub fn user(s: &str) -> UserUri {
    s.parse().unwrap()
}

impl Fed {
    pub fn new(domains: &[&str]) -> Self {
        let mut net = Network::new(7, domains).unwrap();
        net.leave_events_in_engines();
        Self {
            net,
            rng: StdRng::seed_from_u64(7),
        }
    }

    /// Virtual time, seconds since the UNIX epoch.
    pub fn now(&self) -> u64 {
        self.net.now_s()
    }

    /// Moves virtual time on.
    pub fn advance(&mut self, seconds: u64) {
        self.net.advance(seconds);
    }

    /// The trust store of the federation.
    pub fn trust(&self) -> TrustStore {
        self.net.trust().clone()
    }

    /// A new device of `user`, with KeyPackages uploaded.
    pub fn device(&mut self, user_uri: &str, device: &str) -> ClientUri {
        self.net.add_device(&user(user_uri), device).unwrap()
    }

    pub fn c(&mut self, client: &ClientUri) -> &mut Client {
        self.net.device_mut(client).unwrap().client_mut()
    }

    pub fn client(&self, client: &ClientUri) -> &Client {
        self.net.device(client).unwrap().client()
    }

    /// The hub engine of `room`.
    pub fn hub(&self, room: &RoomUri) -> &HubRoom {
        self.net
            .provider(room.hub_domain())
            .unwrap()
            .hub_room(room)
            .unwrap()
    }

    pub fn hub_mut(&mut self, room: &RoomUri) -> &mut HubRoom {
        self.net.hub_room_mut(room).unwrap()
    }

    /// The server identity of `domain`.
    pub fn server(&self, domain: &Domain) -> &ServerIdentity {
        self.net.provider(domain).unwrap().server()
    }

    pub fn create_room(&mut self, creator: &ClientUri, room: &str, preset: Preset) -> RoomUri {
        self.net.create_room(creator, room, preset).unwrap()
    }

    /// Like [`Fed::create_room`], with a `chat_history_policy` component.
    pub fn create_room_with_history_policy(
        &mut self,
        creator: &ClientUri,
        room: &str,
        preset: Preset,
        policy: &mimi_room::components::HistoryPolicy,
    ) -> RoomUri {
        self.net
            .create_room_by(creator, room, |client, now, room, hub| {
                client.create_room_with_history_policy(now, room, preset, hub, policy)
            })
            .unwrap()
    }

    /// One KeyPackage per device of `user`, claimed through the room's hub (asked for by a
    /// member device of the room).
    pub fn key_packages(&mut self, room: &RoomUri, user: &UserUri) -> Vec<Vec<u8>> {
        let actor = self
            .net
            .devices()
            .find(|(_, d)| d.is_member(room))
            .map(|(c, _)| c.clone())
            .unwrap();
        let kps = self
            .net
            .key_material(&actor, user, room)
            .unwrap()
            .into_iter()
            .map(|(_, kp)| kp)
            .collect();
        for device in self.net.devices_of(user) {
            self.net.top_up_key_packages(&device).unwrap();
        }
        kps
    }

    /// Sends every queued request of every device and delivers the fan-out, until nothing is
    /// left.
    pub fn pump(&mut self) {
        self.net.settle(MAX_STEPS).unwrap();
        self.no_errors();
    }

    /// Panics if a device met an error: an error answer of a hub, a request the simulator
    /// does not carry, a delivery its engine failed on, an outcome it could not take (a hub's
    /// refusal inside an answer is not an error: see [`Fed::refusals`]). The tests that
    /// provoke such errors read them with [`Fed::refusals`] after calling the network directly.
    #[track_caller]
    fn no_errors(&self) {
        for (client, device) in self.net.devices() {
            assert!(
                device.errors().is_empty(),
                "{client} met errors: {:?}",
                device.errors()
            );
        }
    }

    /// Sends one request of `from` (taken with `poll_request`) and reports the outcome; its
    /// fan-out is delivered after, and nothing else is sent.
    pub fn send(&mut self, from: &ClientUri, request: Outgoing) {
        self.net
            .hand_in(Intercepted {
                actor: from.clone(),
                request,
            })
            .unwrap();
        self.net.flush(MAX_STEPS).unwrap();
        self.no_errors();
    }

    /// Delivers the fan-out of requests a test handed to a hub engine itself.
    pub fn deliver(&mut self, effects: Vec<Effect>) {
        let mut by_hub: Vec<(Domain, Vec<Effect>)> = Vec::new();
        for effect in effects {
            let Effect::Notify { room, .. } = &effect;
            let hub = room.hub_domain().clone();
            match by_hub.last_mut() {
                Some((h, list)) if *h == hub => list.push(effect),
                _ => by_hub.push((hub, vec![effect])),
            }
        }
        for (hub, effects) in by_hub {
            self.net.enqueue(hub, effects).unwrap();
        }
        self.net.flush(MAX_STEPS).unwrap();
        self.no_errors();
    }

    /// What went wrong reporting outcomes to the devices (hub refusals first), by device.
    pub fn refusals(&self) -> Vec<(ClientUri, OpId, String)> {
        let mut out = Vec::new();
        for (client, device) in self.net.devices() {
            for (op, error) in device.refusals() {
                out.push((client.clone(), *op, error.clone()));
            }
            for error in device.errors() {
                out.push((client.clone(), OpId(u64::MAX), error.clone()));
            }
        }
        out
    }

    pub fn clear_refusals(&mut self) {
        let clients: Vec<ClientUri> = self.net.devices().map(|(c, _)| c.clone()).collect();
        for client in clients {
            self.net.device_mut(&client).unwrap().clear_refusals();
        }
    }

    /// Every delivery handed to a device, in order.
    pub fn delivered(&self) -> &[(ClientUri, Delivery)] {
        self.net.delivered()
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
        let now = self.now();
        self.c(actor).invite(now, room, &invitees)?;
        self.pump();
        Ok(())
    }

    /// The texts of a device's timeline, "sender-name: text" (deleted as "<deleted>").
    pub fn transcript(&self, client: &ClientUri, room: &RoomUri) -> Vec<String> {
        let Some(view) = self.client(client).room(room) else {
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
