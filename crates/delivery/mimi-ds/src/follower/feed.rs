//! What a follower writes for one notify: the inbox's deliveries turned into the steps of the
//! follower log ([`FeedItem`]): each message of the room once, the per-device items (Welcomes)
//! once for their device, and the changes of the room's member devices between them.
//!
//! The engine decided, for every message, which local devices get it ([`Recipients::Devices`],
//! the room's [`super::LocalMembers`] at that point of hub order). The store keeps that
//! decision as membership intervals, so a change is written once instead of a row per device
//! per message: before each message, the devices that were not members and now get it join,
//! and those that were and do not any more leave (their interval ends with the message before,
//! the last one they got, such as the commit that removed them). After the last message, the
//! members are brought to what the inbox holds then (a device whose Welcome just arrived
//! joins; one removed by the last commit leaves after it). A message withheld from some member
//! devices ([`Recipients::Only`]) is written once for each device that gets it, and the
//! members do not change at it: nothing of it is stored for the others.

use std::collections::BTreeSet;

use mimi_federation_api::Encode as _;
use mimi_types::ClientUri;

use crate::RequestError;
use crate::effects::{Delivery, Recipients};
use crate::store::FeedItem;

/// The steps to write for one notify, and the devices that got something (to wake).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Feed {
    /// In order, for [`crate::DsStore::write_inbox`].
    pub items: Vec<FeedItem>,
    /// The devices that got at least one message or item of this write.
    pub woken: BTreeSet<ClientUri>,
}

/// Turns `deliveries` (a [`super::RoomInbox`]'s, in order) into the steps of the follower log.
///
/// `before`: the room's member devices whose intervals are open in the store before this write
/// (empty for a room the store has no intervals of yet); `after`: the inbox's member devices
/// after the deliveries. [`Recipients::Room`] (an inbox that does not decide members) goes to
/// whoever is a member in the store at that point.
pub fn feed_items(
    before: &BTreeSet<ClientUri>,
    deliveries: &[Delivery],
    after: &BTreeSet<ClientUri>,
) -> Result<Feed, RequestError> {
    let mut feed = Feed::default();
    let mut open = before.clone();
    for delivery in deliveries {
        let payload = delivery
            .message
            .encode()
            .map_err(|e| RequestError::Internal(format!("fanout message: {e}")))?;
        match &delivery.to {
            Recipients::Client(client) => {
                feed.woken.insert(client.clone());
                feed.items.push(FeedItem::Device {
                    device: client.clone(),
                    payload,
                });
            }
            Recipients::Devices(devices) => {
                let now: BTreeSet<ClientUri> = devices.iter().cloned().collect();
                move_members(&mut feed.items, &mut open, &now);
                feed.woken.extend(now);
                feed.items.push(FeedItem::Room(payload));
            }
            Recipients::Only(devices) => {
                for device in devices {
                    feed.woken.insert(device.clone());
                    feed.items.push(FeedItem::Device {
                        device: device.clone(),
                        payload: payload.clone(),
                    });
                }
            }
            Recipients::Room => {
                feed.woken.extend(open.iter().cloned());
                feed.items.push(FeedItem::Room(payload));
            }
        }
    }
    move_members(&mut feed.items, &mut open, after);
    Ok(feed)
}

/// Appends the leaves and joins that take the open set to `to`.
fn move_members(
    items: &mut Vec<FeedItem>,
    open: &mut BTreeSet<ClientUri>,
    to: &BTreeSet<ClientUri>,
) {
    for gone in open.difference(to) {
        items.push(FeedItem::Leave(gone.clone()));
    }
    for new in to.difference(open) {
        items.push(FeedItem::Join(new.clone()));
    }
    if open != to {
        open.clone_from(to);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use mimi_federation_api::codec::Writer;
    use mimi_federation_api::mls::MlsMessage;
    use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
    use mimi_types::RoomUri;

    fn device(name: &str) -> ClientUri {
        format!("mimi://z.example/d/diana/{name}").parse().unwrap()
    }

    fn delivery(to: Recipients, n: u8) -> Delivery {
        let mut w = Writer::new();
        w.u16(1); // version mls10
        w.u16(2); // PrivateMessage
        w.opaque("group_id", usize::MAX, b"g").unwrap();
        w.u64(1); // epoch
        w.u8(1); // content type: application
        w.opaque("authenticated_data", usize::MAX, b"").unwrap();
        w.opaque("encrypted_sender_data", usize::MAX, b"s").unwrap();
        w.opaque("ciphertext", usize::MAX, &[n]).unwrap();
        let message = FanoutMessage::new(
            u64::from(n),
            FanoutContent::Application {
                message: MlsMessage::from_bytes(w.into_bytes()).unwrap(),
                frank: None,
            },
        );
        Delivery {
            room: RoomUri::parse("mimi://hub.example/r/a").unwrap(),
            to,
            message,
        }
    }

    /// Each item as a word: "room", "to D", "join D", "leave D".
    fn kinds(items: &[FeedItem]) -> Vec<String> {
        items
            .iter()
            .map(|i| match i {
                FeedItem::Room(_) => "room".to_string(),
                FeedItem::Device { device, .. } => format!("to {device}"),
                FeedItem::Join(d) => format!("join {d}"),
                FeedItem::Leave(d) => format!("leave {d}"),
            })
            .collect()
    }

    #[test]
    fn membership_changes_are_written_between_messages_not_per_message() {
        let (a, b, c) = (device("a"), device("b"), device("c"));
        let before: BTreeSet<_> = [a.clone(), b.clone()].into();
        let deliveries = [
            delivery(Recipients::Devices(vec![a.clone(), b.clone()]), 1),
            delivery(Recipients::Devices(vec![a.clone(), b.clone()]), 2),
            // b is removed by this commit (it still gets it), c's Welcome follows.
            delivery(Recipients::Client(c.clone()), 3),
            delivery(Recipients::Devices(vec![a.clone()]), 4),
        ];
        let after: BTreeSet<_> = [a.clone(), c.clone()].into();
        let feed = feed_items(&before, &deliveries, &after).unwrap();
        let kinds = kinds(&feed.items);
        assert_eq!(
            kinds,
            [
                "room".to_string(),
                "room".to_string(),
                format!("to {c}"),
                format!("leave {b}"),
                "room".to_string(),
                format!("join {c}"),
            ]
        );
        assert_eq!(feed.woken, [a, b, c].into());
    }

    #[test]
    fn a_withheld_message_is_stored_only_for_the_devices_that_get_it() {
        let (a, b) = (device("a"), device("b"));
        let members: BTreeSet<_> = [a.clone(), b.clone()].into();
        let deliveries = [
            delivery(Recipients::Devices(vec![a.clone(), b.clone()]), 1),
            // Withheld from b (its user may not receive it).
            delivery(Recipients::Only(vec![a.clone()]), 2),
            delivery(Recipients::Devices(vec![a.clone(), b.clone()]), 3),
        ];
        let feed = feed_items(&members, &deliveries, &members).unwrap();
        let kinds = kinds(&feed.items);
        assert_eq!(
            kinds,
            ["room".to_string(), format!("to {a}"), "room".to_string()],
            "no membership change, nothing for b"
        );
    }
}
