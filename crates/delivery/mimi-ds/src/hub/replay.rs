//! Replays of accepted application messages (RELIABILITY: a resent `submitMessage` must not
//! reach the room twice).
//!
//! A provider that did not see the hub's answer (a timeout, a restart) resends the same
//! request; a rogue provider may resend one on purpose. Within its epoch a byte-identical
//! MLS message passes every check again, so the hub remembers the SHA-256 of the last
//! [`ReplayWindow::CAPACITY`] application messages it accepted with their acceptance times,
//! and answers a repeat with the first answer (the same `acceptedTimestamp`) and no fan-out. A
//! repeat from an epoch the room has left is refused as `epochTooOld` by the usual check
//! before this one. The window is not part of the state record: the server refills it from
//! the room's log ([`super::HubRoom::recall_accepted`]) when it restores the room.

use std::collections::{BTreeMap, VecDeque};

use sha2::{Digest as _, Sha256};

/// The application messages a room accepted last, by digest.
#[derive(Debug, Default)]
pub(super) struct ReplayWindow {
    order: VecDeque<[u8; 32]>,
    accepted_at: BTreeMap<[u8; 32], u64>,
}

impl ReplayWindow {
    /// How many accepted messages are remembered per room.
    pub(super) const CAPACITY: usize = 1024;

    /// The digest a message is remembered by.
    pub(super) fn digest(message: &[u8]) -> [u8; 32] {
        Sha256::digest(message).into()
    }

    /// When the message with `digest` was accepted, if it is in the window.
    pub(super) fn accepted_at(&self, digest: &[u8; 32]) -> Option<u64> {
        self.accepted_at.get(digest).copied()
    }

    /// Remembers an accepted message (the oldest one leaves a full window).
    pub(super) fn remember(&mut self, digest: [u8; 32], accepted_ms: u64) {
        if self.accepted_at.contains_key(&digest) {
            return;
        }
        self.accepted_at.insert(digest, accepted_ms);
        self.order.push_back(digest);
        while self.order.len() > Self::CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.accepted_at.remove(&old);
            }
        }
    }

    /// How many messages are remembered.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.order.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_keeps_the_first_answer_and_forgets_the_oldest() {
        let mut w = ReplayWindow::default();
        let a = ReplayWindow::digest(b"a");
        w.remember(a, 5);
        w.remember(a, 9);
        assert_eq!(
            w.accepted_at(&a),
            Some(5),
            "the first acceptance time stays"
        );
        assert_eq!(w.len(), 1);
        for n in 0..ReplayWindow::CAPACITY {
            w.remember(ReplayWindow::digest(&n.to_be_bytes()), 1);
        }
        assert_eq!(w.len(), ReplayWindow::CAPACITY);
        assert_eq!(w.accepted_at(&a), None, "the oldest left the full window");
    }
}
