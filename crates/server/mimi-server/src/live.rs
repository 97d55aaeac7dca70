//! The live event streams of this provider's devices (their open WebSockets), for ephemeral
//! events that are never stored (typing indicators, see `typing`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use mimi_client_api::Event;
use mimi_types::ClientUri;
use tokio::sync::broadcast;

use crate::hub_cache::locked;

/// Ephemeral events a live stream may fall behind by before it skips some.
const LIVE_BACKLOG: usize = 64;

/// Sender maps smaller than this are never swept.
const MIN_SWEEP: usize = 1024;

#[derive(Debug)]
struct Senders {
    by_device: BTreeMap<ClientUri, broadcast::Sender<Event>>,
    /// The size at which the next subscription drops the senders nobody listens to: twice
    /// what the last sweep kept (O(1) per subscription, amortised).
    sweep_at: usize,
}

impl Default for Senders {
    fn default() -> Self {
        Self {
            by_device: BTreeMap::new(),
            sweep_at: MIN_SWEEP,
        }
    }
}

/// The live event streams of this provider's devices, for ephemeral events. Only a stream
/// makes an entry (sending to a device without one reaches nobody and keeps nothing), and
/// entries without receivers are swept as the map grows.
#[derive(Debug, Default)]
pub(crate) struct LiveStreams {
    senders: Mutex<Senders>,
}

impl LiveStreams {
    fn lock(&self) -> std::sync::MutexGuard<'_, Senders> {
        locked(&self.senders)
    }

    /// Subscribes a device's stream to its ephemeral events.
    pub(crate) fn subscribe(&self, device: &ClientUri) -> broadcast::Receiver<Event> {
        let mut senders = self.lock();
        if senders.by_device.len() >= senders.sweep_at {
            senders
                .by_device
                .retain(|_, sender| sender.receiver_count() > 0);
            senders.sweep_at = senders.by_device.len().saturating_mul(2).max(MIN_SWEEP);
        }
        senders
            .by_device
            .entry(device.clone())
            .or_insert_with(|| broadcast::channel(LIVE_BACKLOG).0)
            .subscribe()
    }

    /// Hands `event` to the device's open streams; returns how many took it.
    pub(crate) fn send(&self, device: &ClientUri, event: Event) -> usize {
        match self.lock().by_device.get(device) {
            Some(sender) => sender.send(event).unwrap_or(0),
            None => 0,
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().by_device.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(i: usize) -> ClientUri {
        format!("mimi://x.example/d/alice/d{i}")
            .parse()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn event() -> Event {
        Event {
            seq: 0,
            room: "mimi://x.example/r/a".into(),
            payload: Vec::new(),
            ephemeral: true,
        }
    }

    #[test]
    fn sending_keeps_nothing_and_closed_streams_are_swept() {
        let live = LiveStreams::default();
        assert_eq!(live.send(&device(0), event()), 0);
        assert_eq!(live.len(), 0, "a send to nobody makes no entry");
        let mut open = live.subscribe(&device(0));
        for i in 1..=MIN_SWEEP {
            drop(live.subscribe(&device(i)));
        }
        assert!(live.len() <= 2, "closed streams swept: {}", live.len());
        assert_eq!(live.send(&device(0), event()), 1);
        assert_eq!(open.try_recv().ok(), Some(event()));
    }
}
