//! The client as a secret record: everything needed to continue exactly where it stopped.
//!
//! Layout (version [`RECORD_VERSION`]): the version byte; the identity record (mimi-mls);
//! whether a last-resort KeyPackage was published; the next operation number; the stream
//! cursor; per room: its URI, the group record (mimi-mls), its cursor, the log of accepted
//! content (replayed into the view), own messages awaiting their fan-out, the digests of
//! recent fan-out messages, the messages to re-send, the commit in flight and whether this
//! device is leaving; then the pending
//! operations with their encoded requests and the send queue.
//!
//! On restore every operation not yet reported goes back to the send queue: the caller may
//! have sent it before stopping, so the hub may see it twice; repeats are dropped by digest
//! and message ID on the way back.

use std::collections::{BTreeMap, VecDeque};

use mimi_federation_api::submit_message::SubmitMessageRequest;
use mimi_federation_api::update::UpdateRequest;
use mimi_federation_api::{Encode, decode_exact};
use mimi_mls::{ClientGroup, ClientIdentity, TrustStore};
use mimi_types::{ClientUri, RoomUri, UserUri};
use zeroize::Zeroizing;

use crate::client::{Client, Pending, PendingKind, Room};
use crate::codec::{Reader, Writer};
use crate::error::ClientError;
use crate::outgoing::{KeyPackageUpload, OpId, Outgoing};
use crate::view::{Entry, RoomView};

/// The record format version this crate writes and reads.
pub const RECORD_VERSION: u8 = 1;

const OP_COMMIT: u8 = 1;
const OP_PROPOSALS: u8 = 2;
const OP_MESSAGE: u8 = 3;
const OP_KEY_PACKAGES: u8 = 4;

fn digest_of(r: &mut Reader<'_>, what: &str) -> Result<[u8; 32], ClientError> {
    let b = r.bytes(what)?;
    b.try_into()
        .map_err(|_| ClientError::Record(format!("{what} is not 32 bytes")))
}

impl Client {
    /// The whole client as a record (secret: it holds the signing key and group secrets).
    pub fn to_record(&self) -> Result<Vec<u8>, ClientError> {
        self.encode(RECORD_VERSION, LogPlace::Inline)
    }

    /// Writes the record of `version`; the rooms' logs inline or only their lengths.
    pub(crate) fn encode(&self, version: u8, logs: LogPlace) -> Result<Vec<u8>, ClientError> {
        let mut w = Writer::default();
        w.u8(version);
        w.bytes(&self.identity.to_record().map_err(ClientError::Mls)?)?;
        w.bool(self.has_last_resort);
        w.u64(self.next_op);
        w.u64(self.cursor);
        w.count(self.rooms.len())?;
        for (uri, room) in &self.rooms {
            w.str(&uri.to_string())?;
            write_room(&mut w, room, logs)?;
        }
        w.count(self.pending.len())?;
        for (op, pending) in &self.pending {
            w.u64(op.0);
            write_pending(&mut w, pending)?;
        }
        Ok(w.finish())
    }

    /// Restores a client from [`Client::to_record`] with its trust store. Operations not yet
    /// reported are queued again.
    pub fn from_record(record: &[u8], trust: TrustStore) -> Result<Self, ClientError> {
        if let Some(
            v @ (crate::incremental::STATE_RECORD_V2 | crate::incremental::STATE_RECORD_VERSION),
        ) = record.first().copied()
        {
            return Err(ClientError::Record(format!(
                "this is the state part of a split record (version {v}) without its other \
                 parts: restore it with Client::from_stored"
            )));
        }
        Self::decode(record, trust, None)
    }

    /// Reads a record: version 1 with the logs inline (`apart` is `None`), or the state part
    /// of a split record with the logs `apart`, per room.
    pub(crate) fn decode(
        record: &[u8],
        trust: TrustStore,
        apart: Option<&BTreeMap<RoomUri, Vec<Vec<u8>>>>,
    ) -> Result<Self, ClientError> {
        let mut r = Reader::new(record);
        let version = r.u8("version")?;
        let expected = match apart {
            None => RECORD_VERSION,
            Some(_) => crate::incremental::STATE_RECORD_V2,
        };
        if version != expected {
            return Err(ClientError::Record(format!(
                "record version {version} is not supported here (this build reads {RECORD_VERSION} \
                 whole and {} or {} split)",
                crate::incremental::STATE_RECORD_V2,
                crate::incremental::STATE_RECORD_VERSION
            )));
        }
        let identity =
            ClientIdentity::from_record(r.bytes("identity")?).map_err(ClientError::Mls)?;
        let mut client = Client::new(identity, trust);
        client.has_last_resort = r.bool("last resort")?;
        client.next_op = r.u64("next op")?;
        client.cursor = r.u64("cursor")?;
        let rooms = r.count("rooms", 8)?;
        for _ in 0..rooms {
            let uri: RoomUri = r.parse("room")?;
            let rows = apart.map(|logs| logs.get(&uri).map(Vec::as_slice).unwrap_or_default());
            let room = read_room(&mut r, &uri, client.user(), &client.trust, rows)?;
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
        Ok(client)
    }
}

/// Where a record keeps the rooms' logs.
#[derive(Clone, Copy)]
pub(crate) enum LogPlace {
    /// Every entry inside the record (version 1).
    Inline,
    /// Only each log's length: the entries are stored apart, one row each (version 2).
    Apart,
}

/// The top bit of a log entry's timestamp marks an entry imported from another device of the
/// user (history for a new device). A hub timestamp in milliseconds never reaches it, so
/// records written before history sharing read unchanged.
const IMPORTED: u64 = 1 << 63;

/// One log entry as stored (inline, or as one row of a split record).
pub(crate) fn write_entry(w: &mut Writer, e: &Entry) -> Result<(), ClientError> {
    w.str(&e.sender.to_string())?;
    w.str(&e.client.to_string())?;
    let imported = if e.imported { IMPORTED } else { 0 };
    w.u64((e.timestamp & !IMPORTED) | imported);
    w.bytes(&e.bytes)
}

fn read_entry(r: &mut Reader<'_>) -> Result<Entry, ClientError> {
    let sender: UserUri = r.parse("sender")?;
    let client: ClientUri = r.parse("client")?;
    let stamp = r.u64("timestamp")?;
    let bytes = r.bytes("content")?.to_vec();
    Ok(Entry {
        sender,
        client,
        timestamp: stamp & !IMPORTED,
        bytes,
        imported: stamp & IMPORTED != 0,
    })
}

fn replay(room: &mut Room, entry: Entry) -> Result<(), ClientError> {
    room.view
        .apply(entry, false)
        .map(|_| ())
        .map_err(|e| ClientError::Record(format!("a logged message no longer applies: {e}")))
}

fn write_room(w: &mut Writer, room: &Room, logs: LogPlace) -> Result<(), ClientError> {
    w.bytes(&room.group.to_record().map_err(ClientError::Mls)?)?;
    write_room_data(w, room, logs)
}

/// A room's record without its group: cursor, log (or its length), own messages in flight,
/// recent digests, retries, the commit in flight and whether it is leaving.
pub(crate) fn write_room_data(
    w: &mut Writer,
    room: &Room,
    logs: LogPlace,
) -> Result<(), ClientError> {
    w.u64(room.cursor);
    let log = room.view.log();
    match logs {
        LogPlace::Inline => {
            w.count(log.len())?;
            for e in log {
                write_entry(w, e)?;
            }
        }
        LogPlace::Apart => w.u64(log.len() as u64),
    }
    w.count(room.sent.len())?;
    for (d, content) in &room.sent {
        w.bytes(d)?;
        match content {
            Some(c) => {
                w.bool(true);
                w.bytes(c)?;
            }
            None => w.bool(false),
        }
    }
    w.count(room.seen.len())?;
    for d in &room.seen {
        w.bytes(d)?;
    }
    w.count(room.retry.len())?;
    for c in &room.retry {
        w.bytes(c)?;
    }
    match room.commit_in_flight {
        Some(op) => {
            w.bool(true);
            w.u64(op.0);
        }
        None => w.bool(false),
    }
    w.bool(room.leaving);
    Ok(())
}

fn read_room(
    r: &mut Reader<'_>,
    uri: &RoomUri,
    me: &UserUri,
    trust: &TrustStore,
    apart: Option<&[Vec<u8>]>,
) -> Result<Room, ClientError> {
    let group =
        ClientGroup::from_record(r.bytes("group")?, trust.clone()).map_err(ClientError::Mls)?;
    read_room_data(r, uri, me, group, apart)
}

/// Reads what [`write_room_data`] wrote, around the room's restored group.
pub(crate) fn read_room_data(
    r: &mut Reader<'_>,
    uri: &RoomUri,
    me: &UserUri,
    group: ClientGroup,
    apart: Option<&[Vec<u8>]>,
) -> Result<Room, ClientError> {
    let view = RoomView::new(uri.clone(), me.clone(), group.room().clone(), group.epoch());
    let mut room = Room::new(group, view);
    room.view.set_state(
        room.group.room().clone(),
        room.group.epoch(),
        room.group.is_active(),
    );
    room.cursor = r.u64("room cursor")?;
    match apart {
        None => {
            let entries = r.count("log", 28)?;
            for _ in 0..entries {
                let entry = read_entry(r)?;
                replay(&mut room, entry)?;
            }
        }
        Some(rows) => {
            let expected = r.u64("log length")?;
            if rows.len() as u64 != expected {
                return Err(ClientError::Record(format!(
                    "the record's state counts {expected} log entries in {uri} but {} were \
                     stored: the state and its log were not saved together",
                    rows.len()
                )));
            }
            for (i, row) in rows.iter().enumerate() {
                let mut rr = Reader::new(row);
                let entry = read_entry(&mut rr)
                    .and_then(|e| rr.end().map(|()| e))
                    .map_err(|e| ClientError::Record(format!("log entry {i} of {uri}: {e}")))?;
                replay(&mut room, entry)?;
            }
            room.log_saved = Some(rows.len());
        }
    }
    let sent = r.count("sent", 37)?;
    for _ in 0..sent {
        let d = digest_of(r, "sent digest")?;
        let content = if r.bool("sent kind")? {
            Some(Zeroizing::new(r.bytes("sent content")?.to_vec()))
        } else {
            None
        };
        room.sent.insert(d, content);
    }
    let seen = r.count("seen", 36)?;
    for _ in 0..seen {
        let d = digest_of(r, "seen digest")?;
        room.remember(d);
    }
    let retry = r.count("retry", 4)?;
    for _ in 0..retry {
        room.retry
            .push(Zeroizing::new(r.bytes("retry content")?.to_vec()));
    }
    if r.bool("commit in flight")? {
        room.commit_in_flight = Some(OpId(r.u64("commit op")?));
    }
    room.leaving = r.bool("leaving")?;
    Ok(room)
}

pub(crate) fn write_pending(w: &mut Writer, pending: &Pending) -> Result<(), ClientError> {
    match (&pending.request, &pending.kind) {
        (Outgoing::Commit { room, request, .. }, PendingKind::Commit { digest, external }) => {
            w.u8(OP_COMMIT);
            w.str(&room.to_string())?;
            w.bytes(&request.encode().map_err(ClientError::wire)?)?;
            w.bytes(digest)?;
            w.bool(*external);
        }
        (Outgoing::Proposals { room, request, .. }, PendingKind::Proposals { digests }) => {
            w.u8(OP_PROPOSALS);
            w.str(&room.to_string())?;
            w.bytes(&request.encode().map_err(ClientError::wire)?)?;
            w.count(digests.len())?;
            for d in digests {
                w.bytes(d)?;
            }
        }
        (Outgoing::Message { room, request, .. }, PendingKind::Message { digest, content }) => {
            w.u8(OP_MESSAGE);
            w.str(&room.to_string())?;
            w.bytes(&request.encode().map_err(ClientError::wire)?)?;
            w.bytes(digest)?;
            w.bytes(content)?;
        }
        (Outgoing::KeyPackages { key_packages, .. }, PendingKind::KeyPackages) => {
            w.u8(OP_KEY_PACKAGES);
            w.count(key_packages.len())?;
            for k in key_packages {
                w.bytes(&k.message)?;
                w.bytes(&k.reference)?;
                w.bool(k.last_resort);
                w.u64(k.not_after);
            }
        }
        _ => {
            return Err(ClientError::Record(
                "internal: a pending operation whose request and kind disagree".into(),
            ));
        }
    }
    Ok(())
}

pub(crate) fn read_pending(r: &mut Reader<'_>, op: OpId) -> Result<Pending, ClientError> {
    let tag = r.u8("operation kind")?;
    if tag == OP_KEY_PACKAGES {
        let n = r.count("key packages", 17)?;
        let mut key_packages = Vec::new();
        for _ in 0..n {
            key_packages.push(KeyPackageUpload {
                message: r.bytes("key package")?.to_vec(),
                reference: r.bytes("reference")?.to_vec(),
                last_resort: r.bool("last resort")?,
                not_after: r.u64("not after")?,
            });
        }
        return Ok(Pending {
            request: Outgoing::KeyPackages { op, key_packages },
            kind: PendingKind::KeyPackages,
        });
    }
    let room: RoomUri = r.parse("operation room")?;
    let body = r.bytes("request")?;
    match tag {
        OP_COMMIT => {
            let request: UpdateRequest = decode_exact(body).map_err(ClientError::wire)?;
            let digest = digest_of(r, "commit digest")?;
            let external = r.bool("external")?;
            Ok(Pending {
                request: Outgoing::Commit { op, room, request },
                kind: PendingKind::Commit { digest, external },
            })
        }
        OP_PROPOSALS => {
            let request: UpdateRequest = decode_exact(body).map_err(ClientError::wire)?;
            let n = r.count("proposal digests", 36)?;
            let mut digests = Vec::new();
            for _ in 0..n {
                digests.push(digest_of(r, "proposal digest")?);
            }
            Ok(Pending {
                request: Outgoing::Proposals { op, room, request },
                kind: PendingKind::Proposals { digests },
            })
        }
        OP_MESSAGE => {
            let request: SubmitMessageRequest = decode_exact(body).map_err(ClientError::wire)?;
            let digest = digest_of(r, "message digest")?;
            let content = Zeroizing::new(r.bytes("message content")?.to_vec());
            let sender = request
                .sending_uri
                .to_user()
                .map_err(|e| ClientError::Record(format!("sending URI: {e}")))?;
            let message_id = mimi_content::message_id_for(&sender, &room, &content)
                .map_err(|e| ClientError::Record(format!("message ID: {e}")))?;
            Ok(Pending {
                request: Outgoing::Message {
                    op,
                    room,
                    request,
                    message_id,
                },
                kind: PendingKind::Message { digest, content },
            })
        }
        other => Err(ClientError::Record(format!(
            "operation kind {other} is unknown"
        ))),
    }
}
