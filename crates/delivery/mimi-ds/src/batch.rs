//! Grouping a follower's queued fan-out into notify bodies.
//!
//! One `notify` request may carry several `FanoutMessage`s of one room, in hub order
//! (protocol-06 §5.5, digest §3.5). When a follower's queue holds several items of a room, the
//! hub sends them as one request: one round trip and one durable write at the follower instead
//! of one per message. An idle room's single item goes out at once as it was queued (no
//! waiting to fill a batch). Items of different rooms never share a body (the room is in the
//! path), and a room's items stay in queue order, within and across batches. The follower
//! finds repeats per message ([`crate::follower::message_digest`]), so a resend that groups
//! the queue differently delivers nothing twice. Items join a batch only if they name the same
//! withheld devices ([`crate::read_queued`]): the batch's one header names them for all its
//! application messages, and the room state a list was computed at may change between items.

use mimi_federation_api::notify::NotifyRequest;
use mimi_federation_api::{Encode as _, decode_exact};
use mimi_types::{ClientUri, RoomUri};

use crate::queued::read_queued;
use crate::store::OutboundItem;

/// One notify body for one room, standing for queued items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyBatch {
    /// The room (the request's path).
    pub room: RoomUri,
    /// The queued items it carries, in queue order: acknowledge them all once it is delivered.
    pub ids: Vec<u64>,
    /// The encoded `NotifyRequest`.
    pub body: Vec<u8>,
    /// The follower's member devices the body's application messages are withheld from, for
    /// the `notify` extension header (empty: no header).
    pub withheld: Vec<ClientUri>,
}

impl NotifyBatch {
    /// One queued item alone, as it goes out: its body and header. An item whose envelope
    /// cannot be read goes out as queued, for the follower to refuse.
    pub fn single(item: &OutboundItem) -> Self {
        let (body, withheld) = match read_queued(&item.body) {
            Ok(queued) => (queued.body.to_vec(), queued.withheld),
            Err(_) => (item.body.clone(), Vec::new()),
        };
        Self {
            room: item.room.clone(),
            ids: vec![item.id],
            body,
            withheld,
        }
    }
}

/// A batch being filled.
struct Open {
    room: RoomUri,
    ids: Vec<u64>,
    /// The first item's body as queued, sent as is while the batch holds one item.
    first_body: Vec<u8>,
    withheld: Vec<ClientUri>,
    request: NotifyRequest,
    bytes: usize,
    /// Whether another item may still join (an undecodable item is sent alone, as queued).
    open: bool,
}

impl Open {
    fn finish(self) -> NotifyBatch {
        let body = if self.ids.len() == 1 {
            self.first_body
        } else {
            // Each message came off a body that encoded, so the sum encodes too; if it did
            // not, the items would be sent one by one (see `batch_notifies`' caller).
            self.request.encode().unwrap_or(self.first_body)
        };
        NotifyBatch {
            room: self.room,
            ids: self.ids,
            body,
            withheld: self.withheld,
        }
    }
}

/// Groups `items` (one destination's queue, in id order) into notify bodies of at most
/// `max_messages` messages and about `max_bytes` bytes (the sum of the queued bodies; a
/// single item larger than that is sent alone). Batches come in the order of their first
/// item.
pub fn batch_notifies(
    items: &[OutboundItem],
    max_messages: usize,
    max_bytes: usize,
) -> Vec<NotifyBatch> {
    let mut batches: Vec<Open> = Vec::new();
    for item in items {
        let queued = read_queued(&item.body).ok();
        let decoded = queued
            .as_ref()
            .and_then(|q| decode_exact::<NotifyRequest>(q.body).ok());
        let withheld = queued.as_ref().map(|q| q.withheld.clone());
        let joins = decoded.as_ref().and_then(|request| {
            let open = batches
                .iter_mut()
                .rev()
                .find(|b| b.room == item.room)
                .filter(|b| b.open && Some(&b.withheld) == withheld.as_ref())?;
            let fits = open.request.messages.len() + request.messages.len() <= max_messages
                && open.bytes.saturating_add(item.body.len()) <= max_bytes;
            fits.then_some(open)
        });
        match (joins, decoded) {
            (Some(open), Some(request)) => {
                open.ids.push(item.id);
                open.bytes += item.body.len();
                open.request.messages.extend(request.messages);
            }
            (_, decoded) => {
                let open = decoded.is_some();
                // As `NotifyBatch::single` sends it, from the envelope read above.
                let first_body = queued
                    .as_ref()
                    .map_or_else(|| item.body.clone(), |q| q.body.to_vec());
                batches.push(Open {
                    room: item.room.clone(),
                    ids: vec![item.id],
                    first_body,
                    withheld: withheld.unwrap_or_default(),
                    request: decoded.unwrap_or_else(|| NotifyRequest::new(Vec::new())),
                    bytes: item.body.len(),
                    open,
                });
            }
        }
    }
    batches.into_iter().map(Open::finish).collect()
}

#[cfg(test)]
mod tests {
    use mimi_federation_api::codec::Writer;
    use mimi_federation_api::mls::MlsMessage;
    use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
    use mimi_types::Domain;

    use super::*;

    /// A queued item of `room` holding one application message tagged `tag` (its timestamp).
    fn item(id: u64, room: &str, tag: u64) -> OutboundItem {
        let mut w = Writer::new();
        w.u16(1); // version mls10
        w.u16(2); // PrivateMessage
        w.opaque("group_id", usize::MAX, b"g").unwrap();
        w.u64(1); // epoch
        w.u8(1); // content type: application
        w.opaque("authenticated_data", usize::MAX, b"").unwrap();
        w.opaque("encrypted_sender_data", usize::MAX, b"s").unwrap();
        w.opaque("ciphertext", usize::MAX, &tag.to_be_bytes())
            .unwrap();
        let message = MlsMessage::from_bytes(w.into_bytes()).unwrap();
        let fanout = FanoutMessage::new(
            tag,
            FanoutContent::Application {
                message,
                frank: None,
            },
        );
        OutboundItem {
            id,
            to: Domain::parse("follower.example").unwrap(),
            room: format!("mimi://hub.example/r/{room}").parse().unwrap(),
            body: NotifyRequest::new(vec![fanout]).encode().unwrap(),
        }
    }

    fn tags(batch: &NotifyBatch) -> Vec<u64> {
        decode_exact::<NotifyRequest>(&batch.body)
            .unwrap()
            .messages
            .iter()
            .map(|m| m.timestamp)
            .collect()
    }

    #[test]
    fn a_single_item_goes_out_as_queued() {
        let one = item(1, "a", 10);
        let batches = batch_notifies(std::slice::from_ref(&one), 64, 1 << 20);
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].ids, [1]);
        assert_eq!(batches[0].body, one.body, "not re-encoded");
    }

    #[test]
    fn a_rooms_items_share_one_body_in_order_and_rooms_stay_apart() {
        let items = [
            item(1, "a", 10),
            item(2, "b", 20),
            item(3, "a", 11),
            item(4, "a", 12),
            item(5, "b", 21),
        ];
        let batches = batch_notifies(&items, 64, 1 << 20);
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].ids, [1, 3, 4]);
        assert_eq!(tags(&batches[0]), [10, 11, 12]);
        assert_eq!(batches[0].room, items[0].room);
        assert_eq!(batches[1].ids, [2, 5]);
        assert_eq!(tags(&batches[1]), [20, 21]);
        assert_eq!(batches[1].room, items[1].room);
    }

    #[test]
    fn batches_respect_the_message_and_byte_caps() {
        let items: Vec<OutboundItem> = (1..=5).map(|i| item(i, "a", i)).collect();
        let by_count = batch_notifies(&items, 2, 1 << 20);
        let ids: Vec<Vec<u64>> = by_count.iter().map(|b| b.ids.clone()).collect();
        assert_eq!(ids, [vec![1, 2], vec![3, 4], vec![5]]);
        // Room for two items' bodies, not three.
        let cap = items[0].body.len() * 2 + 1;
        let by_bytes = batch_notifies(&items, 64, cap);
        let ids: Vec<Vec<u64>> = by_bytes.iter().map(|b| b.ids.clone()).collect();
        assert_eq!(ids, [vec![1, 2], vec![3, 4], vec![5]]);
        for batch in &by_bytes {
            assert!(batch.body.len() <= cap);
        }
        // An item larger than the cap alone still goes out, alone.
        let alone = batch_notifies(&items[..2], 64, 1);
        assert_eq!(alone.len(), 2);
    }

    #[test]
    fn items_naming_different_withheld_devices_do_not_share_a_body() {
        let carol: ClientUri = "mimi://follower.example/d/carol/phone".parse().unwrap();
        let withheld = |mut i: OutboundItem| {
            i.body = crate::queue_notify(i.body, std::slice::from_ref(&carol));
            i
        };
        let items = [
            withheld(item(1, "a", 10)),
            withheld(item(2, "a", 11)),
            // A role change: from here on nothing is withheld.
            item(3, "a", 12),
            item(4, "a", 13),
        ];
        let batches = batch_notifies(&items, 64, 1 << 20);
        let ids: Vec<Vec<u64>> = batches.iter().map(|b| b.ids.clone()).collect();
        assert_eq!(ids, [vec![1, 2], vec![3, 4]]);
        assert_eq!(batches[0].withheld, std::slice::from_ref(&carol));
        assert_eq!(
            tags(&batches[0]),
            [10, 11],
            "the body is bare, without the envelope"
        );
        assert!(batches[1].withheld.is_empty());
        // Alone, an item goes out as its bare body with its devices.
        let single = NotifyBatch::single(&items[0]);
        assert_eq!(single.withheld, [carol]);
        assert_eq!(single.body, item(1, "a", 10).body);
    }

    #[test]
    fn an_undecodable_item_is_sent_alone_as_queued_and_does_not_split_its_room() {
        let mut bad = item(2, "a", 0);
        bad.body = vec![0xff, 0x00];
        let items = [item(1, "a", 10), bad.clone(), item(3, "a", 11)];
        let batches = batch_notifies(&items, 64, 1 << 20);
        let ids: Vec<Vec<u64>> = batches.iter().map(|b| b.ids.clone()).collect();
        assert_eq!(ids, [vec![1], vec![2], vec![3]], "queue order kept");
        assert_eq!(batches[1].body, bad.body);
    }
}
