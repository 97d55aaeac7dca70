//! The live event streams of this provider's devices (their open WebSockets), for ephemeral
//! events that are never stored (typing indicators, see `typing`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use mimi_client_api::Event;
use mimi_types::ClientUri;
use tokio::sync::broadcast;

/// Ephemeral events a live stream may fall behind by before it skips some.
const LIVE_BACKLOG: usize = 64;

/// The live event streams of this provider's devices, for ephemeral events.
#[derive(Debug, Default)]
pub(crate) struct LiveStreams {
    senders: Mutex<BTreeMap<ClientUri, broadcast::Sender<Event>>>,
}

impl LiveStreams {
    fn sender(&self, device: &ClientUri) -> broadcast::Sender<Event> {
        let mut map = match self.senders.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        };
        map.entry(device.clone())
            .or_insert_with(|| broadcast::channel(LIVE_BACKLOG).0)
            .clone()
    }

    /// Subscribes a device's stream to its ephemeral events.
    pub(crate) fn subscribe(&self, device: &ClientUri) -> broadcast::Receiver<Event> {
        self.sender(device).subscribe()
    }

    /// Hands `event` to the device's open streams; returns how many took it.
    pub(crate) fn send(&self, device: &ClientUri, event: Event) -> usize {
        self.sender(device).send(event).unwrap_or(0)
    }
}
