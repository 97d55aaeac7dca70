//! The client record in parts, for storage that writes only what changed.
//!
//! The whole record ([`Client::to_record`]) grows with every message shown and with every
//! member of every room: writing it after each event costs O(history + rooms × members). The
//! split record (version [`STATE_RECORD_VERSION`]) keeps apart:
//!
//! * the state part: counters, the stream cursor, the list of rooms and the pending
//!   operations (small; rewritten each time);
//! * the identity record (mimi-mls, ≈28 KB with its KeyPackages): handed out only when it
//!   changed (KeyPackages made or consumed);
//! * per room, its record (the MLS group's head record, the room's cursor, log length, own
//!   messages in flight, recent digests, retries) and its MLS state as separate entries
//!   (mimi-mls [`GroupChanges`]): handed out only when that room changed, and then only the
//!   entries that changed (a received message changes the message secrets, not the tree);
//! * each room's log of accepted content, one row per entry, append-only.
//!
//! [`Client::record_update`] hands out what changed; the caller stores it in one transaction
//! (with its stream cursor) and then reports [`Client::record_saved`]. [`Client::from_stored`]
//! restores from what the store holds ([`StoredRecord`], which also applies updates the way a
//! store must), and refuses parts that were not saved together: a log whose length disagrees
//! with its room's record, MLS entries that do not match the group's head record (named by
//! room), a room or identity record that is missing. A room that replaced an earlier one of
//! the same URI (a new join) starts its rows at 0 and its MLS entries afresh.
//!
//! Older layouts read: the whole record (version 1) and the state part of version 2 (state,
//! identity and groups in one record, logs apart); everything is then handed out by the next
//! update, which migrates the store (and drops parts of the current layout left beside an
//! older state, e.g. after a downgrade).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use mimi_mls::{ClientGroup, ClientIdentity, GroupChanges, TrustStore};
use mimi_types::RoomUri;

use crate::client::Client;
use crate::codec::{Reader, Writer};
use crate::error::ClientError;
use crate::outgoing::OpId;
use crate::record::{
    LogPlace, read_pending, read_room_data, write_entry, write_pending, write_room_data,
};

/// The version byte of the state part of a split record.
pub const STATE_RECORD_VERSION: u8 = 3;

/// The state part of version 2: identity and groups inside, logs apart.
pub(crate) const STATE_RECORD_V2: u8 = 2;

/// What to store so that the stored split record equals the client: see
/// [`Client::record_update`].
#[derive(Default)]
pub struct RecordUpdate {
    /// The state part (version [`STATE_RECORD_VERSION`]): replaces the stored one. Secret.
    pub state: Vec<u8>,
    /// The identity record, when it changed: replaces the stored one. Secret.
    pub identity: Option<Vec<u8>>,
    /// Rooms whose record or MLS state changed.
    pub rooms: Vec<RoomPart>,
    /// Rooms stored before and gone since: drop their record, MLS entries and log rows.
    pub removed: Vec<RoomUri>,
    /// Log rows to store, per room.
    pub logs: Vec<LogRows>,
    identity_revision: u64,
}

/// One room's changed parts: its record replaces the stored one, its MLS entries change as
/// [`GroupChanges`] says (with `full`, every entry stored for the room goes first).
pub struct RoomPart {
    /// The room.
    pub room: RoomUri,
    /// The room's record (secret: it holds the group's signing key).
    pub record: Vec<u8>,
    /// The MLS entries that changed.
    pub mls: GroupChanges,
}

impl std::fmt::Debug for RoomPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomPart")
            .field("room", &self.room)
            .field("record_bytes", &self.record.len())
            .field("mls", &self.mls)
            .finish()
    }
}

impl std::fmt::Debug for RecordUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordUpdate")
            .field("state_bytes", &self.state.len())
            .field("identity_bytes", &self.identity.as_ref().map(Vec::len))
            .field("rooms", &self.rooms)
            .field("removed", &self.removed)
            .field("logs", &self.logs)
            .finish()
    }
}

impl RecordUpdate {
    /// The bytes this update writes (state, identity, room records, MLS entries, log rows):
    /// what a store writes per event, for measurements.
    pub fn bytes(&self) -> usize {
        self.state.len()
            + self.identity.as_ref().map_or(0, Vec::len)
            + self
                .rooms
                .iter()
                .map(|r| r.record.len() + r.mls.upsert_bytes())
                .sum::<usize>()
            + self
                .logs
                .iter()
                .flat_map(|l| &l.entries)
                .map(Vec::len)
                .sum::<usize>()
    }
}

/// What a store holds of a client (see the module documentation), and how an update changes
/// it: a store keeps these parts as rows and applies [`RecordUpdate`]s the same way.
#[derive(Clone, Default)]
pub struct StoredRecord {
    /// The state part.
    pub state: Vec<u8>,
    /// The identity record (absent in the older layouts).
    pub identity: Option<Vec<u8>>,
    /// Each room's record.
    pub rooms: BTreeMap<RoomUri, Vec<u8>>,
    /// Each room's MLS entries, by key.
    pub mls: BTreeMap<RoomUri, BTreeMap<Vec<u8>, Vec<u8>>>,
    /// Each room's log rows, in order.
    pub logs: BTreeMap<RoomUri, Vec<Vec<u8>>>,
}

impl std::fmt::Debug for StoredRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredRecord")
            .field("state_bytes", &self.state.len())
            .field("rooms", &self.rooms.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl StoredRecord {
    /// Applies `update` as a store must (all of it, in one transaction).
    pub fn apply(&mut self, update: &RecordUpdate) {
        self.state = update.state.clone();
        if let Some(id) = &update.identity {
            self.identity = Some(id.clone());
        }
        for room in &update.removed {
            self.rooms.remove(room);
            self.mls.remove(room);
            self.logs.remove(room);
        }
        for part in &update.rooms {
            self.rooms.insert(part.room.clone(), part.record.clone());
            let entries = self.mls.entry(part.room.clone()).or_default();
            if part.mls.full {
                entries.clear();
            }
            for k in &part.mls.deletes {
                entries.remove(k);
            }
            for (k, v) in &part.mls.upserts {
                entries.insert(k.clone(), v.clone());
            }
        }
        for rows in &update.logs {
            let log = self.logs.entry(rows.room.clone()).or_default();
            log.truncate(usize::try_from(rows.from).unwrap_or(usize::MAX));
            log.extend(rows.entries.iter().cloned());
        }
    }
}

/// New log rows of one room: the stored rows numbered `from` and above are replaced by
/// `entries` (numbered `from`, `from + 1`, ...).
#[derive(Clone)]
pub struct LogRows {
    /// The room.
    pub room: RoomUri,
    /// The number of the first entry.
    pub from: u64,
    /// The encoded entries (secret: they hold message content).
    pub entries: Vec<Vec<u8>>,
}

impl std::fmt::Debug for LogRows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogRows")
            .field("room", &self.room)
            .field("from", &self.from)
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl Client {
    /// What changed since the last [`Client::record_saved`]: the state part, the identity
    /// record if it changed, the parts of the rooms that changed, the rooms gone and the log
    /// rows not stored yet. Store them together (one transaction), then report them.
    pub fn record_update(&self) -> Result<RecordUpdate, ClientError> {
        let state = self.encode_state()?;
        let identity_revision = self.identity.revision();
        let identity = if self.identity_saved == Some(identity_revision) {
            None
        } else {
            Some(self.identity.to_record().map_err(ClientError::Mls)?)
        };
        let mut rooms = Vec::new();
        for (uri, room) in &self.rooms {
            let mls = room.group.changes().map_err(ClientError::Mls)?;
            let mut w = Writer::default();
            w.bytes(&mls.head)?;
            write_room_data(&mut w, room, LogPlace::Apart)?;
            let record = w.finish();
            if mls.is_empty() && room.part_saved.as_deref() == Some(record.as_slice()) {
                continue;
            }
            rooms.push(RoomPart {
                room: uri.clone(),
                record,
                mls,
            });
        }
        let removed = self
            .rooms_saved
            .iter()
            .filter(|u| !self.rooms.contains_key(*u))
            .cloned()
            .collect();
        let mut logs = Vec::new();
        for (uri, room) in &self.rooms {
            let log = room.view.log();
            let from = room.log_saved.unwrap_or(0);
            if room.log_saved.is_some() && from >= log.len() {
                continue;
            }
            let mut entries = Vec::with_capacity(log.len().saturating_sub(from));
            for e in log.iter().skip(from) {
                let mut w = Writer::default();
                write_entry(&mut w, e)?;
                entries.push(w.finish());
            }
            logs.push(LogRows {
                room: uri.clone(),
                from: from as u64,
                entries,
            });
        }
        Ok(RecordUpdate {
            state,
            identity,
            rooms,
            removed,
            logs,
            identity_revision,
        })
    }

    /// Reports that `update` (from [`Client::record_update`], no change to the client since)
    /// is stored: the next update carries only what changed after it.
    pub fn record_saved(&mut self, update: &RecordUpdate) {
        if update.identity.is_some() {
            self.identity_saved = Some(update.identity_revision);
        }
        for part in &update.rooms {
            if let Some(room) = self.rooms.get_mut(&part.room) {
                // Should the group refuse (a poisoned lock), its marks stay and the next
                // update hands its entries out again: nothing is lost.
                if room.group.changes_saved(&part.mls).is_ok() {
                    room.part_saved = Some(part.record.clone());
                }
            }
        }
        self.rooms_saved = self.rooms.keys().cloned().collect::<BTreeSet<_>>();
        for rows in &update.logs {
            if let Some(room) = self.rooms.get_mut(&rows.room) {
                let saved = usize::try_from(rows.from)
                    .unwrap_or(usize::MAX)
                    .saturating_add(rows.entries.len());
                room.log_saved = Some(saved);
            }
        }
    }

    fn encode_state(&self) -> Result<Vec<u8>, ClientError> {
        let mut w = Writer::default();
        w.u8(STATE_RECORD_VERSION);
        w.bool(self.has_last_resort);
        w.u64(self.next_op);
        w.u64(self.cursor);
        w.count(self.rooms.len())?;
        for uri in self.rooms.keys() {
            w.str(&uri.to_string())?;
        }
        w.count(self.pending.len())?;
        for (op, pending) in &self.pending {
            w.u64(op.0);
            write_pending(&mut w, pending)?;
        }
        Ok(w.finish())
    }

    /// Restores a client from what a store holds: the split record of version
    /// [`STATE_RECORD_VERSION`], or an older layout (a whole record of version 1, or the
    /// state part of version 2 with its log rows) whose parts are then all handed out by the
    /// next [`Client::record_update`]. Operations not yet reported are queued again.
    pub fn from_stored(stored: &StoredRecord, trust: TrustStore) -> Result<Self, ClientError> {
        if stored.state.first() != Some(&STATE_RECORD_VERSION) {
            // An older layout. Parts of the current layout beside it are left-overs (an older
            // release wrote the state after a newer one had migrated the file): the next
            // update writes every part anew and drops the rooms the state does not list.
            let mut client = Self::from_split_record(&stored.state, &stored.logs, trust)?;
            client.rooms_saved = stored
                .rooms
                .keys()
                .chain(stored.mls.keys())
                .cloned()
                .collect();
            return Ok(client);
        }
        let mut r = Reader::new(&stored.state);
        r.u8("version")?;
        let identity = stored.identity.as_deref().ok_or_else(|| {
            ClientError::Record("the device file holds no identity record".into())
        })?;
        let identity = ClientIdentity::from_record(identity).map_err(ClientError::Mls)?;
        let identity_revision = identity.revision();
        // An identity record of an older format counts as not stored: the next update writes
        // it in the current one.
        let current = identity.is_current_format();
        let mut client = Client::new(identity, trust);
        client.identity_saved = current.then_some(identity_revision);
        client.has_last_resort = r.bool("last resort")?;
        client.next_op = r.u64("next op")?;
        client.cursor = r.u64("cursor")?;
        let rooms = r.count("rooms", 8)?;
        for _ in 0..rooms {
            let uri: RoomUri = r.parse("room")?;
            if client.rooms.contains_key(&uri) {
                return Err(ClientError::Record(format!("room {uri} is listed twice")));
            }
            let record = stored.rooms.get(&uri).ok_or_else(|| {
                ClientError::Record(format!(
                    "the device file holds no record of room {uri}: the file is damaged"
                ))
            })?;
            let mut rr = Reader::new(record);
            let head = rr.bytes("group head")?;
            let entries = stored
                .mls
                .get(&uri)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default();
            let group = ClientGroup::from_entries(head, entries, client.trust.clone())
                .map_err(|e| ClientError::Record(format!("the MLS state of room {uri}: {e}")))?;
            let rows = stored.logs.get(&uri).map(Vec::as_slice).unwrap_or_default();
            let mut room = read_room_data(&mut rr, &uri, client.user(), group, Some(rows))
                .map_err(|e| ClientError::Record(format!("the record of room {uri}: {e}")))?;
            rr.end()
                .map_err(|e| ClientError::Record(format!("the record of room {uri}: {e}")))?;
            room.part_saved = Some(record.clone());
            client.rooms.insert(uri, room);
        }
        let ops = r.count("operations", 9)?;
        let mut pending = BTreeMap::new();
        for _ in 0..ops {
            let op = OpId(r.u64("operation")?);
            if op.0 >= client.next_op {
                return Err(ClientError::Record(format!(
                    "operation {op} is not below the next operation number"
                )));
            }
            pending.insert(op, read_pending(&mut r, op)?);
        }
        r.end()?;
        client.queue = pending.keys().copied().collect::<VecDeque<_>>();
        client.pending = pending;
        client.rooms_saved = client.rooms.keys().cloned().collect();
        Ok(client)
    }

    /// Restores a client from a stored split record of version 2 (the layout before
    /// [`STATE_RECORD_VERSION`]): the state part and, per room, its log rows in order. A
    /// version 1 whole record (stored before the split) is read too, with no rows. Everything
    /// is then handed out by the next [`Client::record_update`]. Rows of rooms the state does
    /// not name (a room removed since) are ignored. [`Client::from_stored`] reads every
    /// layout.
    pub fn from_split_record(
        state: &[u8],
        logs: &BTreeMap<RoomUri, Vec<Vec<u8>>>,
        trust: TrustStore,
    ) -> Result<Self, ClientError> {
        match state.first() {
            Some(&STATE_RECORD_V2) => Self::decode(state, trust, Some(logs)),
            Some(&STATE_RECORD_VERSION) => Err(ClientError::Record(format!(
                "a state record of version {STATE_RECORD_VERSION} needs its other parts: \
                 restore it with Client::from_stored"
            ))),
            Some(&crate::record::RECORD_VERSION) => {
                let rows: usize = logs.values().map(Vec::len).sum();
                if rows > 0 {
                    return Err(ClientError::Record(format!(
                        "a whole record (version 1) comes with {rows} stored log rows: the \
                         device file mixes two formats"
                    )));
                }
                Self::decode(state, trust, None)
            }
            _ => Self::decode(state, trust, Some(logs)),
        }
    }
}
