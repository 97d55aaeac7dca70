//! A device of the simulated federation: the real client engine (`mimi_client_core::Client`,
//! the one the SDK drives) and what the simulator saw it do.

use mimi_client_core::{Client, ClientEvent, OpId};
use mimi_content::MessageId;
use mimi_ds::Delivery;
use mimi_federation_api::Encode;
use mimi_mls::ClientGroup;
use mimi_types::{ClientUri, RoomUri};

/// One device: its client engine, the events it raised (drained after every request and
/// delivery), what went wrong and what its hub refused.
pub struct Device {
    pub(crate) client: Client,
    pub(crate) events: Vec<ClientEvent>,
    pub(crate) errors: Vec<String>,
    pub(crate) refusals: Vec<(OpId, String)>,
    /// Set when the device receives through its device stream: every event it was handed,
    /// (sequence number, room, encoded `FanoutMessage`).
    pub(crate) stream: Option<Vec<(u64, RoomUri, Vec<u8>)>>,
    /// Whether the simulator drains the engine's events into [`Device::events`]; when not,
    /// they stay in the engine for the test to poll.
    pub(crate) drain: bool,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("client", self.client.client())
            .field("rooms", &self.client.rooms().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Device {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            events: Vec::new(),
            errors: Vec::new(),
            refusals: Vec::new(),
            stream: None,
            drain: true,
        }
    }

    /// The client engine.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The client engine, to issue any command; send what it queues with
    /// [`crate::Network::run`] or [`crate::Network::pump`].
    pub fn client_mut(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Every event the client raised, in order.
    pub fn events(&self) -> &[ClientEvent] {
        &self.events
    }

    /// The hub's refusals of this device's requests (a lost commit race, a message too old).
    pub fn refusals(&self) -> &[(OpId, String)] {
        &self.refusals
    }

    /// Errors the engine returned for a delivery or for an outcome reported to it (other
    /// than a hub refusal).
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// The timeline of `room`, in hub order: (sending device, text).
    pub fn messages(&self, room: &RoomUri) -> Vec<(ClientUri, String)> {
        self.client.room(room).map_or_else(Vec::new, |view| {
            view.messages()
                .iter()
                .map(|m| (m.client.clone(), m.body.text.clone()))
                .collect()
        })
    }

    /// The IDs of the messages of the timeline of `room`, in hub order.
    pub fn message_ids(&self, room: &RoomUri) -> Vec<MessageId> {
        self.client.room(room).map_or_else(Vec::new, |view| {
            view.messages().iter().map(|m| m.id).collect()
        })
    }

    /// The texts of the timeline of `room`, in hub order.
    pub fn texts(&self, room: &RoomUri) -> Vec<String> {
        self.messages(room).into_iter().map(|(_, t)| t).collect()
    }

    /// What went wrong (a test asserts there is nothing): errors the engine returned for a
    /// delivery or a report, messages it rejected, commits it could not apply.
    pub fn failures(&self) -> Vec<String> {
        let rejected = self.events.iter().filter_map(|e| match e {
            ClientEvent::Rejected { room, rejection } => Some(format!("{room}: {rejection}")),
            ClientEvent::CommitFailed { room, epoch, error } => {
                Some(format!("{room} at epoch {epoch}: {error}"))
            }
            _ => None,
        });
        self.errors.iter().cloned().chain(rejected).collect()
    }

    /// Whether it is an active member of `room`.
    pub fn is_member(&self, room: &RoomUri) -> bool {
        self.client.group(room).is_some_and(ClientGroup::is_active)
    }

    /// Its group in `room`.
    pub fn group(&self, room: &RoomUri) -> Option<&ClientGroup> {
        self.client.group(room)
    }

    /// From now on the device receives through a device stream (`Client::handle_event`, with
    /// sequence numbers), as the SDK does, instead of message by message.
    pub fn use_stream(&mut self) {
        self.stream.get_or_insert_with(Vec::new);
    }

    /// The events of its device stream so far, if it uses one.
    pub fn stream(&self) -> Option<&[(u64, RoomUri, Vec<u8>)]> {
        self.stream.as_deref()
    }

    /// Forgets the hub's refusals and the errors seen so far.
    pub fn clear_refusals(&mut self) {
        self.refusals.clear();
        self.errors.clear();
    }

    /// Hands one delivery of its provider to the engine.
    pub(crate) fn receive(
        &mut self,
        now_s: u64,
        addressed_to: Option<&ClientUri>,
        delivery: &Delivery,
    ) {
        let room = &delivery.room;
        let result = match &mut self.stream {
            Some(stream) => match delivery.message.encode() {
                Ok(payload) => {
                    let seq = stream.len() as u64 + 1;
                    stream.push((seq, room.clone(), payload.clone()));
                    self.client
                        .handle_event(now_s, seq, room, &payload)
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e.to_string()),
            },
            None => self
                .client
                .handle_delivery(now_s, room, addressed_to, &delivery.message)
                .map_err(|e| e.to_string()),
        };
        if let Err(e) = result {
            self.errors.push(format!("{room}: {e}"));
        }
        self.drain_events();
    }

    /// Moves the client's new events into [`Device::events`].
    pub(crate) fn drain_events(&mut self) {
        if !self.drain {
            return;
        }
        while let Some(event) = self.client.poll_event() {
            self.events.push(event);
        }
    }
}
