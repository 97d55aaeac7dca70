//! Counting deliveries: in a device's decrypted timeline (each message of another sender
//! once), or, with `--skip-decryption`, in its raw feed (each application message once, by
//! the digest of the fan-out; nothing decrypted or applied).

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use mimi_federation_api::decode_exact;
use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
use mimi_sdk::Device;
use mimi_types::RoomUri;
use sha2::{Digest as _, Sha256};

use crate::workload::Shared;

/// What one device saw.
#[derive(Default)]
pub(crate) struct Tally {
    pub(crate) distinct: u64,
    pub(crate) duplicates: u64,
    pub(crate) expected: u64,
    pub(crate) delivery_ns: Vec<u64>,
    pub(crate) ack_ns: Vec<u64>,
    pub(crate) error: Option<String>,
}

/// `bench s<sender> m<index> ` then padding to `bytes`.
pub(crate) fn message_text(sender: usize, index: usize, bytes: usize) -> String {
    let mut text = format!("bench s{sender} m{index} ");
    while text.len() < bytes {
        text.push('x');
    }
    text
}

fn parse_tag(text: &str) -> Option<(usize, usize)> {
    let mut words = text.strip_prefix("bench s")?.splitn(2, " m");
    let sender = words.next()?.parse().ok()?;
    let index = words.next()?.split(' ').next()?.parse().ok()?;
    Some((sender, index))
}

/// The decrypted timeline of one device: what was counted so far.
#[derive(Default)]
pub(crate) struct Timeline {
    seen: HashSet<(usize, usize)>,
    scanned: usize,
}

impl Timeline {
    /// Counts the messages of other senders that appeared since the last scan and records
    /// their delivery latency (from the send start, or its scheduled start in open loop).
    pub(crate) fn count_new(
        &mut self,
        device: &Device,
        index: usize,
        room: &RoomUri,
        shared: &Shared,
        tally: &mut Tally,
    ) {
        let Some(view) = device.engine().room(room) else {
            return;
        };
        let messages = view.messages();
        let now = shared.now_ns();
        for message in messages.iter().skip(self.scanned) {
            let Some((s, i)) = parse_tag(&message.body.text) else {
                continue;
            };
            if s == index || !self.seen.insert((s, i)) {
                continue;
            }
            tally.distinct += 1;
            shared.delivered.fetch_add(1, Ordering::SeqCst);
            shared.last_delivery_ns.fetch_max(now, Ordering::SeqCst);
            let sent = shared
                .send_ns
                .get(s * shared.messages + i)
                .map_or(0, |a| a.load(Ordering::SeqCst));
            if sent > 0 {
                tally.delivery_ns.push(now.saturating_sub(sent - 1));
            }
        }
        self.scanned = messages.len();
    }
}

/// Counts distinct and repeated messages of other senders in the final timeline.
pub(crate) fn recount(device: &Device, index: usize, room: &RoomUri, tally: &mut Tally) {
    let Some(view) = device.engine().room(room) else {
        return;
    };
    let mut seen = HashSet::new();
    let mut duplicates = 0;
    for message in view.messages() {
        if let Some((s, i)) = parse_tag(&message.body.text)
            && s != index
            && !seen.insert((s, i))
        {
            duplicates += 1;
        }
    }
    tally.distinct = seen.len() as u64;
    tally.duplicates = duplicates;
}

/// The raw feed of one device, read without decrypting: a cursor of its own.
pub(crate) struct RawFeed {
    cursor: u64,
    seen: HashSet<[u8; 32]>,
}

impl RawFeed {
    /// Reads from where the device's own processing stopped.
    pub(crate) fn new(device: &Device) -> Self {
        Self {
            cursor: device.cursor(),
            seen: HashSet::new(),
        }
    }

    /// Fetches one page (waiting up to `wait_ms`) and counts its application messages; the
    /// latency runs from the hub's acceptance timestamp (ms) to now. Returns the page size.
    pub(crate) async fn read(
        &mut self,
        device: &Device,
        wait_ms: u64,
        shared: &Shared,
        tally: &mut Tally,
    ) -> anyhow::Result<usize> {
        let events = device
            .peek_events(self.cursor, wait_ms)
            .await
            .context("reading the raw feed")?;
        let now_unix_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        let now = shared.now_ns();
        for event in &events {
            self.cursor = self.cursor.max(event.seq);
            let Ok(fanout) = decode_exact::<FanoutMessage>(&event.payload) else {
                continue;
            };
            if !matches!(fanout.content, FanoutContent::Application { .. }) {
                continue;
            }
            if !self.seen.insert(Sha256::digest(&event.payload).into()) {
                tally.duplicates += 1;
                continue;
            }
            tally.distinct += 1;
            shared.delivered.fetch_add(1, Ordering::SeqCst);
            shared.last_delivery_ns.fetch_max(now, Ordering::SeqCst);
            let accepted_ns = fanout.timestamp.saturating_mul(1_000_000);
            tally
                .delivery_ns
                .push(now_unix_ns.saturating_sub(accepted_ns));
        }
        Ok(events.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_tags_round_trip_and_pad_to_size() {
        let text = message_text(3, 41, 1024);
        assert_eq!(text.len(), 1024);
        assert_eq!(parse_tag(&text), Some((3, 41)));
        assert_eq!(parse_tag("hello"), None);
    }
}
