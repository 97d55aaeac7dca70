//! The transport of history between users (`history_members`): requests and envelopes travel
//! through the room itself, as MLS application messages of our own kind, never shown.
//!
//! # Readings (our design; the drafts leave history sync open: architecture issue #19)
//!
//! * A history item between users is an MLS `PrivateMessage` of the room's group whose
//!   application data is [`HISTORY_PREFIX`] followed by the item of `history_codec` (the same
//!   signed request and signed, sealed envelope as between a user's own devices). The `0xff`
//!   first byte cannot start MIMI content (a CBOR array), so no member mistakes it for a
//!   message; it never enters the timeline or the log, so a sibling's history does not
//!   carry it either. The hub orders, stores and fans it out like any message: it reaches
//!   members on every provider (and members offline now, later), and only members. No new
//!   route or server surface is needed, and the provider sees ciphertext only.
//! * MLS authenticates the sending member device to every receiver; an item is refused
//!   ([`ClientEvent::HistoryRefused`]) where the device it names (the request's requester,
//!   the envelope's sender) is not that device, or where an envelope names another room
//!   than the one that carried it. A request asks for the carrying room only.
//! * Every member receives every item. A request of a device of this device's own user is
//!   left alone (siblings answer through the provider's device mailbox, `history`); any
//!   other member's request is answered as `history_members` decides (the designated sharer
//!   on its own where `automatically_share`, otherwise once this user agreed). An envelope
//!   for another device is left alone: it is sealed to that device's history key and does
//!   not open here.
//! * A request that waits for this user's agreement is kept (in memory; the SDK stores it with
//!   the agreements, [`Client::waiting_history_requests`]) for [`crate::REQUEST_TTL_SECS`],
//!   at most [`MAX_WAITING`] of them; [`Client::share_history`] answers the kept requests of
//!   the user it names.
//! * A device answers another user's device at most once per room within
//!   [`crate::REQUEST_TTL_SECS`] ([`HistoryError::AlreadyAnswered`]): each bundle reaches
//!   every member, so a member re-asking would otherwise make the sharer flood the room. The
//!   record is in memory, at most [`MAX_ANSWERED`] entries (a restarted device answers anew).
//! * Size: a room message is fanned out to every member, so a bundle sent through the room
//!   is capped lower than the mailbox's ([`ROOM_HISTORY_LIMITS`]: the newest 256 KiB of
//!   content, at most 2,000 entries; the envelope says when older entries were left out),
//!   and a received item over [`MAX_ROOM_ITEM_BYTES`] is refused.

use std::collections::{BTreeMap, BTreeSet};

use mimi_types::{ClientUri, RoomUri, UserUri};
use zeroize::Zeroizing;

use crate::client::Client;
use crate::error::ClientError;
use crate::history::{HistoryError, HistoryLimits, REQUEST_TTL_SECS};
use crate::history_codec::Item;
use crate::outgoing::{ClientEvent, OpId};
use crate::view::Entry;

/// The application data of a history item sent through a room starts with these bytes.
pub const HISTORY_PREFIX: &[u8] = b"\xffmimi-rs history v1:";

/// What one room's bundle carries when it travels through the room.
pub const ROOM_HISTORY_LIMITS: HistoryLimits = HistoryLimits {
    max_bundle_bytes: 256 * 1024,
    max_entries: 2_000,
};

/// The largest history item a device takes from a room (bytes): a bundle within
/// [`ROOM_HISTORY_LIMITS`], sealed and signed, fits.
pub const MAX_ROOM_ITEM_BYTES: usize = 512 * 1024;

/// How many requests wait for this user's agreement at most (the oldest go first).
pub const MAX_WAITING: usize = 256;

/// How many answered requests a device remembers at most (the oldest go first).
pub const MAX_ANSWERED: usize = 4096;

/// A request of another user's device that waits for this user's agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Waiting {
    pub(crate) user: UserUri,
    pub(crate) created: u64,
    pub(crate) item: Vec<u8>,
}

impl Client {
    /// Whether this device, having just joined `room`, asks the room's members for its
    /// history on its own: the room's policy shares automatically and a member may share.
    pub fn asks_history_on_join(&self, room: &RoomUri) -> bool {
        self.rooms.get(room).is_some_and(|r| {
            r.group.is_active() && crate::history_members::shares_automatically(r.group.room())
        }) && !self.history_sharers(room).is_empty()
    }

    /// Asks the members of `room` that may share its history (see
    /// `history_members`) for it, through the room: queues a signed request with this
    /// device's history key. Refused where the room's policy lets no other member share.
    pub fn request_room_history(&mut self, now: u64, room: &RoomUri) -> Result<OpId, HistoryError> {
        self.tick(now);
        let r = self
            .rooms
            .get(room)
            .filter(|r| r.group.is_active())
            .ok_or_else(|| HistoryError::NotMember { room: room.clone() })?;
        let forbidden = |reason: &str| HistoryError::Forbidden {
            room: room.clone(),
            reason: reason.to_owned(),
        };
        match r.group.room().history_policy() {
            None => {
                return Err(forbidden(
                    "it has no history policy, so only its members' own devices share its \
                     history (ask one of your other devices: `mimi device add`)",
                ));
            }
            Some(mimi_room::components::HistoryPolicy::Forbidden) => {
                return Err(forbidden("its history policy forbids sharing"));
            }
            Some(_) => {}
        }
        if self.history_sharers(room).is_empty() {
            return Err(forbidden(
                "no other member's role is among the roles that may share history",
            ));
        }
        let item = self.history_request(now, std::slice::from_ref(room))?;
        self.send_history_item(room, &item)
            .map_err(|e| HistoryError::Internal(e.to_string()))
    }

    /// Sends a history item (a request or an envelope, as `history_codec` encodes it) through
    /// `room` as it is. [`Client::request_room_history`] and the answers use it; a tool may
    /// re-send an item. Nothing checks the item here: receivers do.
    pub fn send_history_item(&mut self, room: &RoomUri, item: &[u8]) -> Result<OpId, ClientError> {
        self.may_send(room)?;
        let mut payload = Zeroizing::new(HISTORY_PREFIX.to_vec());
        payload.extend_from_slice(item);
        self.queue_message(room, payload)
    }

    /// The users this device's user agreed to share each room's history with.
    pub fn history_consents(&self) -> Vec<(RoomUri, UserUri)> {
        self.history_shares.iter().cloned().collect()
    }

    /// Other users' requests that wait for this user's agreement: room, user, the request.
    pub fn waiting_history_requests(&self) -> Vec<(RoomUri, UserUri, Vec<u8>)> {
        self.history_waiting
            .iter()
            .map(|((room, _), w)| (room.clone(), w.user.clone(), w.item.clone()))
            .collect()
    }

    /// Restores agreements and waiting requests the caller stored (from
    /// [`Client::history_consents`] and [`Client::waiting_history_requests`]). A request
    /// that does not decode is dropped.
    pub fn restore_history_sharing(
        &mut self,
        consents: Vec<(RoomUri, UserUri)>,
        waiting: Vec<(RoomUri, UserUri, Vec<u8>)>,
    ) {
        self.history_shares.extend(consents);
        for (room, user, item) in waiting {
            if let Ok(Item::Request(signed)) = Item::decode(&item) {
                let waiting = Waiting {
                    user,
                    created: signed.body.created,
                    item,
                };
                self.history_waiting
                    .insert((room, signed.body.requester), waiting);
            }
        }
    }

    /// Answers the kept requests of `user`'s devices in `room` (after this user agreed):
    /// how many envelopes were queued.
    pub(crate) fn answer_waiting(&mut self, room: &RoomUri, user: &UserUri) -> usize {
        let now = self.clock;
        let kept: Vec<(ClientUri, Vec<u8>)> = self
            .history_waiting
            .iter()
            .filter(|((r, _), w)| r == room && &w.user == user)
            .map(|((_, from), w)| (from.clone(), w.item.clone()))
            .collect();
        let mut sent = 0;
        for (from, item) in kept {
            match self.answer_in_room(now, room, user, &item) {
                Ok(n) => sent += n,
                Err(error) => {
                    self.history_waiting.remove(&(room.clone(), from.clone()));
                    self.events.push_back(ClientEvent::HistoryRefused {
                        room: room.clone(),
                        from,
                        error,
                    });
                }
            }
        }
        sent
    }

    /// Takes a history item another member's device sent through `room` (the log entry its
    /// application message would have been).
    pub(crate) fn handle_room_history(&mut self, room: &RoomUri, entry: &Entry) {
        if &entry.client == self.client() {
            // Our own item, back from the hub.
            return;
        }
        let Some(item) = entry.bytes.strip_prefix(HISTORY_PREFIX) else {
            return;
        };
        let now = self.clock;
        if let Err(error) = self.room_history_item(now, room, entry, item) {
            self.events.push_back(ClientEvent::HistoryRefused {
                room: room.clone(),
                from: entry.client.clone(),
                error,
            });
        }
    }

    fn room_history_item(
        &mut self,
        now: u64,
        room: &RoomUri,
        entry: &Entry,
        item: &[u8],
    ) -> Result<(), HistoryError> {
        if item.len() > MAX_ROOM_ITEM_BYTES {
            return Err(HistoryError::TooLarge {
                what: "bytes".into(),
                size: item.len(),
                max: MAX_ROOM_ITEM_BYTES,
            });
        }
        match Item::decode(item)? {
            Item::Request(signed) => {
                let request = &signed.body;
                if request.requester != entry.client {
                    return Err(HistoryError::Malformed(format!(
                        "{} sent a history request naming {}: a device asks for itself only",
                        entry.client, request.requester
                    )));
                }
                if request.rooms.as_slice() != std::slice::from_ref(room) {
                    return Err(HistoryError::Malformed(
                        "a history request sent through a room asks for that room only".into(),
                    ));
                }
                if &entry.sender == self.user() {
                    // A sibling: it asks through the provider's device mailbox.
                    return Ok(());
                }
                self.answer_in_room(now, room, &entry.sender, item)
                    .map(|_| ())
            }
            Item::Envelope(signed) => {
                if &signed.body.recipient != self.client() {
                    // Sealed to another device: it does not open here.
                    return Ok(());
                }
                if signed.body.sender != entry.client {
                    return Err(HistoryError::NotASharer {
                        room: room.clone(),
                        sender: entry.client.clone(),
                        reason: format!("it sent an envelope signed as {}", signed.body.sender),
                    });
                }
                if &signed.body.room != room {
                    return Err(HistoryError::NotASharer {
                        room: room.clone(),
                        sender: entry.client.clone(),
                        reason: format!(
                            "its envelope is for {}, not the room that carried it",
                            signed.body.room
                        ),
                    });
                }
                self.import(now, signed, &ROOM_HISTORY_LIMITS).map(|_| ())
            }
        }
    }

    /// Answers a request of `user`'s device through `room`: queues the envelopes, keeps the
    /// request where it waits for this user's agreement. How many envelopes were queued.
    fn answer_in_room(
        &mut self,
        now: u64,
        room: &RoomUri,
        user: &UserUri,
        item: &[u8],
    ) -> Result<usize, HistoryError> {
        let Item::Request(signed) = Item::decode(item)? else {
            return Err(HistoryError::Malformed("not a history request".into()));
        };
        let created = signed.body.created;
        let requester = signed.body.requester.clone();
        let key = (room.clone(), requester);
        if let Some(&answered) = self.history_answered.get(&key)
            && now < answered.saturating_add(REQUEST_TTL_SECS)
        {
            return Err(HistoryError::AlreadyAnswered {
                room: room.clone(),
                requester: key.1,
                answered,
            });
        }
        let answer = match self.answer(now, signed, &ROOM_HISTORY_LIMITS, &BTreeSet::new()) {
            Ok(a) => a,
            Err(e) => {
                self.history_waiting.remove(&key);
                return Err(e);
            }
        };
        let mut sent = 0;
        for (_, _, envelope) in &answer.envelopes {
            self.send_history_item(room, envelope)
                .map_err(|e| HistoryError::Internal(e.to_string()))?;
            sent += 1;
        }
        if sent > 0 {
            self.remember_answer(now, key.clone());
        }
        if answer.waiting.is_empty() {
            self.history_waiting.remove(&key);
        } else {
            trim_and_cap(
                &mut self.history_waiting,
                MAX_WAITING,
                |w| w.created.saturating_add(REQUEST_TTL_SECS) >= now,
                |w| w.created,
            );
            self.history_waiting.insert(
                key,
                Waiting {
                    user: user.clone(),
                    created,
                    item: item.to_vec(),
                },
            );
        }
        Ok(sent)
    }

    /// Records that this device answered `key`'s device, forgetting expired records and, past
    /// [`MAX_ANSWERED`], the oldest.
    fn remember_answer(&mut self, now: u64, key: (RoomUri, ClientUri)) {
        trim_and_cap(
            &mut self.history_answered,
            MAX_ANSWERED,
            |at| now < at.saturating_add(REQUEST_TTL_SECS),
            |at| *at,
        );
        self.history_answered.insert(key, now);
    }
}

/// Makes room for one more entry in a bounded record ([`MAX_WAITING`], [`MAX_ANSWERED`]):
/// forgets the entries `keep` refuses (the expired ones), then, where `cap` or more remain,
/// the oldest by `at`.
pub(crate) fn trim_and_cap<K: Ord + Clone, V>(
    map: &mut BTreeMap<K, V>,
    cap: usize,
    keep: impl Fn(&V) -> bool,
    at: impl Fn(&V) -> u64,
) {
    map.retain(|_, v| keep(v));
    if map.len() >= cap
        && let Some(oldest) = map
            .iter()
            .min_by_key(|(_, v)| at(v))
            .map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
}
