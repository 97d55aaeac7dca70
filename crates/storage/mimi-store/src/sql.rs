//! What the SQL backends share: the statements both SQLite and PostgreSQL accept as written
//! (`$N` placeholders, `ON CONFLICT`, `RETURNING`), the shapes of their rows, and the turning
//! of rows and version checks into the trait's types and errors.
//!
//! What differs stays in the backend: how a write transaction starts (SQLite takes its write
//! lock with `BEGIN IMMEDIATE`, PostgreSQL locks rows as statements touch them) and how a claim
//! picks its KeyPackage (PostgreSQL skips rows other claimers hold, SQLite has no row locks).

use mimi_ds::follower::KeyPackageEntry;

use mimi_ds::{
    ConsentRecord, DeadLetter, DeviceEvent, FeedItem, LogEntry, OutboundItem, PeerRequest,
    PeerRequestKind, RoomHead, RoomRecord, StoreError,
};
use mimi_types::{RoomUri, UserUri};

use crate::convert::{bits_from_db, clamp, clamp_usize, counter, counter_from_db, parse_stored};

/// The two record tables with the same shape and rules.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Records {
    /// `hub_rooms`: the rooms we host.
    HubRooms,
    /// `follower_inboxes`: the rooms we follow.
    FollowerInboxes,
}

impl Records {
    /// `$1` room → (version, state).
    pub(crate) fn select(self) -> &'static str {
        match self {
            Self::HubRooms => "SELECT version, state FROM hub_rooms WHERE room = $1",
            Self::FollowerInboxes => "SELECT version, state FROM follower_inboxes WHERE room = $1",
        }
    }

    /// `$1` room, `$2` state: creates the record at version 1, or changes nothing if it exists.
    pub(crate) fn create(self) -> &'static str {
        match self {
            Self::HubRooms => {
                "INSERT INTO hub_rooms (room, version, state) VALUES ($1, 1, $2) \
                 ON CONFLICT (room) DO NOTHING"
            }
            Self::FollowerInboxes => {
                "INSERT INTO follower_inboxes (room, version, state) VALUES ($1, 1, $2) \
                 ON CONFLICT (room) DO NOTHING"
            }
        }
    }

    /// `$1` room, `$2` state, `$3` expected version: replaces the record only at that version
    /// (the check and the change are one statement).
    pub(crate) fn replace(self) -> &'static str {
        match self {
            Self::HubRooms => {
                "UPDATE hub_rooms SET version = version + 1, state = $2 \
                 WHERE room = $1 AND version = $3"
            }
            Self::FollowerInboxes => {
                "UPDATE follower_inboxes SET version = version + 1, state = $2 \
                 WHERE room = $1 AND version = $3"
            }
        }
    }
}

/// Which statement a save runs for the caller's `expected_version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionCheck {
    /// 0: the record must not exist yet ([`Records::create`]).
    Create,
    /// The stored version the record must have ([`Records::replace`]).
    Replace(i64),
    /// A version no stored record can have: the save conflicts without touching the database.
    Never,
}

impl VersionCheck {
    pub(crate) fn of(expected_version: u64) -> Self {
        match (expected_version, counter(expected_version)) {
            (0, _) => Self::Create,
            (_, Some(stored)) => Self::Replace(stored),
            (_, None) => Self::Never,
        }
    }
}

/// The error of a save whose expected version is not the stored one.
pub(crate) fn conflict(room: &RoomUri, expected_version: u64) -> StoreError {
    StoreError::Conflict {
        what: room.to_string(),
        expected: expected_version,
    }
}

/// The outcome of a save's one write statement: the new version, or a conflict if no row
/// changed.
pub(crate) fn saved(
    room: &RoomUri,
    expected_version: u64,
    rows_affected: u64,
) -> Result<u64, StoreError> {
    if rows_affected != 1 {
        return Err(conflict(room, expected_version));
    }
    expected_version
        .checked_add(1)
        .ok_or_else(|| conflict(room, expected_version))
}

/// `$1` room → (version,) of the hub room's state (SQLite: the write lock of `BEGIN
/// IMMEDIATE` keeps it; PostgreSQL appends `FOR UPDATE`, see [`SELECT_VERSION_LOCKED`]).
pub(crate) const SELECT_VERSION: &str = "SELECT version FROM hub_rooms WHERE room = $1";

/// [`SELECT_VERSION`], locking the room's row until the transaction ends (PostgreSQL), so
/// appends to one room are serialized across processes. Locking a row does not rewrite it.
pub(crate) const SELECT_VERSION_LOCKED: &str =
    "SELECT version FROM hub_rooms WHERE room = $1 FOR UPDATE";

/// `$1` room → (version, log head) of a hub room: its state's version without the state, and
/// the last sequence number in its log (0 if none).
pub(crate) const SELECT_HEAD: &str = "SELECT version, \
     (SELECT COALESCE(MAX(seq), 0) FROM hub_room_log WHERE room = $1) \
     FROM hub_rooms WHERE room = $1";

/// `$1` room → (last sequence number in the room's log, 0 if none,): one probe of the
/// (room, seq) key.
pub(crate) const SELECT_LOG_HEAD: &str =
    "SELECT COALESCE(MAX(seq), 0) FROM hub_room_log WHERE room = $1";

/// `$1` room, `$2` seq, `$3` hub_ms, `$4` message.
pub(crate) const INSERT_LOG: &str =
    "INSERT INTO hub_room_log (room, seq, hub_ms, message) VALUES ($1, $2, $3, $4)";

/// `$1` room, `$2` after, `$3` limit → [`LogRow`]s, oldest first.
pub(crate) const SELECT_LOG: &str = "SELECT seq, hub_ms, message FROM hub_room_log \
     WHERE room = $1 AND seq > $2 ORDER BY seq LIMIT $3";

/// Whether `log` may follow a room log whose last sequence number is `head`: each entry's
/// sequence number above the one before. Otherwise another writer appended first, or the
/// caller's room is stale: [`StoreError::Conflict`].
pub(crate) fn check_log(
    room: &RoomUri,
    expected_version: u64,
    head: u64,
    log: &[LogEntry],
) -> Result<(), StoreError> {
    let mut last = head;
    for entry in log {
        if entry.seq <= last || counter(entry.seq).is_none() {
            return Err(conflict(room, expected_version));
        }
        last = entry.seq;
    }
    Ok(())
}

/// The outcome of checking the stored version (`None`: the room does not exist) for an
/// append that leaves the state alone.
pub(crate) fn version_matches(
    room: &RoomUri,
    expected_version: u64,
    stored: Option<i64>,
) -> Result<u64, StoreError> {
    match (stored, counter(expected_version)) {
        (Some(stored), Some(expected)) if expected > 0 && stored == expected => {
            Ok(expected_version)
        }
        _ => Err(conflict(room, expected_version)),
    }
}

/// `$1` destination, `$2` room, `$3` body.
pub(crate) const INSERT_OUTBOUND: &str =
    "INSERT INTO outbound (destination, room, body) VALUES ($1, $2, $3)";

/// `$1` destination, `$2` limit → [`OutboundRow`]s, oldest first (set-aside items excluded).
pub(crate) const SELECT_PENDING: &str = "SELECT id, destination, room, body FROM outbound \
     WHERE destination = $1 AND retry_at_ms IS NULL ORDER BY id LIMIT $2";

/// `$1` id.
pub(crate) const DELETE_OUTBOUND: &str = "DELETE FROM outbound WHERE id = $1";

/// `$1` id, `$2` reason, `$3` retry_at_ms: sets a refused item aside (a dead letter).
pub(crate) const SET_ASIDE_OUTBOUND: &str = "UPDATE outbound SET refused_reason = $2, \
     refusals = refusals + 1, retry_at_ms = $3 WHERE id = $1";

/// `$1` destination, `$2` due by (ms), `$3` limit → [`DeadLetterRow`]s, oldest item first.
pub(crate) const SELECT_DEAD_LETTERS: &str = "SELECT id, destination, room, body, refusals, \
     refused_reason, retry_at_ms FROM outbound \
     WHERE destination = $1 AND retry_at_ms IS NOT NULL AND retry_at_ms <= $2 \
     ORDER BY id LIMIT $3";

/// `$1` n → the last of `n` numbers reserved in the follower log for a write's messages
/// (`last - n + 1 ..= last`; `n` may be 0). The counter row stays locked until the transaction
/// ends, so numbers are handed out in commit order across rooms and processes.
pub(crate) const RESERVE_FEED: &str =
    "UPDATE feed_head SET last_seq = last_seq + $1 WHERE id = 1 RETURNING last_seq";

/// `$1` seq, `$2` room, `$3` device (NULL: the room's members), `$4` payload.
pub(crate) const INSERT_FEED: &str =
    "INSERT INTO feed_log (seq, room, device, payload) VALUES ($1, $2, $3, $4)";

/// `$1` device, `$2` room, `$3` from: opens an interval unless one is open (the partial
/// unique index on open intervals makes the insert a no-op then).
pub(crate) const OPEN_INTERVAL: &str = "INSERT INTO feed_members (device, room, from_seq) \
     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// `$1` device, `$2` room, `$3` the last number so far: drops the open interval if no
/// message of the room is in it yet (it would be empty).
pub(crate) const DROP_EMPTY_INTERVAL: &str = "DELETE FROM feed_members \
     WHERE device = $1 AND room = $2 AND to_seq IS NULL AND from_seq > $3";

/// `$1` device, `$2` room, `$3` the last number so far: closes the open interval there.
pub(crate) const CLOSE_INTERVAL: &str = "UPDATE feed_members SET to_seq = $3 \
     WHERE device = $1 AND room = $2 AND to_seq IS NULL";

/// `$1` device, `$2` cursor, `$3` limit → [`EventRow`]s, oldest first: the log rows of the
/// rooms whose intervals of the device cover them (one range of the (room, seq) index per
/// interval that ends after the cursor), the rows for the device alone, and the device's
/// events from before the log (schema 1's per-device streams, all numbered below the log).
pub(crate) const SELECT_EVENTS: &str = "SELECT seq, room, payload FROM ( \
     SELECT l.seq AS seq, l.room AS room, l.payload AS payload \
       FROM feed_members m JOIN feed_log l \
         ON l.room = m.room AND l.device IS NULL AND l.seq >= m.from_seq \
        AND (m.to_seq IS NULL OR l.seq <= m.to_seq) \
      WHERE m.device = $1 AND l.seq > $2 AND (m.to_seq IS NULL OR m.to_seq > $2) \
     UNION ALL \
     SELECT seq, room, payload FROM feed_log WHERE device = $1 AND seq > $2 \
     UNION ALL \
     SELECT seq, room, payload FROM device_events WHERE device = $1 AND seq > $2 \
     ) AS stream ORDER BY seq LIMIT $3";

/// `$1` device, `$2` reference, `$3` key package, `$4` last resort, `$5` not_after (bits),
/// `$6` expires_ms ([`expires_ms`]); a reference the device already has is ignored.
pub(crate) const INSERT_KEY_PACKAGE: &str = "INSERT INTO key_packages \
     (device, reference, key_package, last_resort, not_after, expires_ms) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (device, reference) DO NOTHING";

/// `$1` device, `$2` now (ms) → the newest unexpired last-resort [`KeyPackageRow`], which a
/// claim hands out and keeps.
pub(crate) const SELECT_LAST_RESORT: &str = "SELECT key_package, reference, last_resort, \
     not_after FROM key_packages \
     WHERE device = $1 AND last_resort = TRUE AND expires_ms > $2 ORDER BY id DESC LIMIT 1";

/// `$1` reference, `$2` device: who claimed a KeyPackage, for Welcome routing.
pub(crate) const RECORD_CLAIM: &str = "INSERT INTO key_package_claims (reference, device) \
     VALUES ($1, $2) ON CONFLICT (reference) DO UPDATE SET device = excluded.device";

/// `$1` reference → (device,).
pub(crate) const SELECT_CLAIMED_BY: &str =
    "SELECT device FROM key_package_claims WHERE reference = $1";

/// `$1` device: removes all its KeyPackages (a re-issued credential).
pub(crate) const DELETE_KEY_PACKAGES: &str = "DELETE FROM key_packages WHERE device = $1";

/// `$1` device, `$2` now (ms) → (count,) of unexpired fresh KeyPackages.
pub(crate) const COUNT_FRESH: &str = "SELECT COUNT(*) FROM key_packages \
     WHERE device = $1 AND last_resort = FALSE AND expires_ms > $2";

/// `$1` user → (version, state) of the user's consent book.
pub(crate) const SELECT_CONSENT: &str =
    "SELECT version, state FROM consent_books WHERE user_uri = $1";

/// `$1` user, `$2` state: creates the book at version 1, or changes nothing if it exists.
pub(crate) const CREATE_CONSENT: &str = "INSERT INTO consent_books (user_uri, version, state) \
     VALUES ($1, 1, $2) ON CONFLICT (user_uri) DO NOTHING";

/// `$1` user, `$2` state, `$3` expected version: replaces the book only at that version.
pub(crate) const REPLACE_CONSENT: &str = "UPDATE consent_books SET version = version + 1, \
     state = $2 WHERE user_uri = $1 AND version = $3";

/// `$1` destination, `$2` endpoint, `$3` body.
pub(crate) const INSERT_PEER_REQUEST: &str =
    "INSERT INTO peer_requests (destination, endpoint, body) VALUES ($1, $2, $3)";

/// `$1` destination, `$2` limit → [`PeerRequestRow`]s, oldest first.
pub(crate) const SELECT_PEER_REQUESTS: &str = "SELECT id, destination, endpoint, body \
     FROM peer_requests WHERE destination = $1 ORDER BY id LIMIT $2";

/// `$1` id.
pub(crate) const DELETE_PEER_REQUEST: &str = "DELETE FROM peer_requests WHERE id = $1";

/// A peer request row: (id, destination, endpoint, body).
pub(crate) type PeerRequestRow = (i64, String, String, Vec<u8>);

pub(crate) fn peer_request(row: PeerRequestRow, shown: &str) -> Result<PeerRequest, StoreError> {
    let (id, to, endpoint, body) = row;
    Ok(PeerRequest {
        id: counter_from_db(id, "peer request id", shown)?,
        to: parse_stored(&to, "peer request destination", shown)?,
        kind: PeerRequestKind::parse(&endpoint).ok_or_else(|| {
            StoreError::Backend(format!(
                "database {shown}: peer request {id} names an unknown endpoint {endpoint:?}; \
                 it was written by a newer build or edited"
            ))
        })?,
        body,
    })
}

pub(crate) fn consent_record(row: RecordRow, shown: &str) -> Result<ConsentRecord, StoreError> {
    let (version, state) = row;
    Ok(ConsentRecord {
        version: counter_from_db(version, "consent book version", shown)?,
        state,
    })
}

/// The error of a consent save whose expected version is not the stored one.
pub(crate) fn consent_conflict(user: &UserUri, expected_version: u64) -> StoreError {
    StoreError::Conflict {
        what: user.to_string(),
        expected: expected_version,
    }
}

/// One statement of a follower-log write, numbers assigned.
#[derive(Debug)]
pub(crate) enum FeedStep {
    /// [`INSERT_FEED`]: (seq, device or none, payload).
    Insert(i64, Option<String>, Vec<u8>),
    /// [`OPEN_INTERVAL`]: (device, from).
    Open(String, i64),
    /// [`DROP_EMPTY_INTERVAL`] then [`CLOSE_INTERVAL`]: (device, the last number so far).
    Close(String, i64),
}

/// How many log rows `feed` writes (the count to reserve with [`RESERVE_FEED`]).
pub(crate) fn feed_rows(feed: &[FeedItem]) -> usize {
    feed.iter()
        .filter(|i| matches!(i, FeedItem::Room(_) | FeedItem::Device { .. }))
        .count()
}

/// The statements of a write given the `last` number [`RESERVE_FEED`] returned for
/// [`feed_rows`] rows. An item this store does not know is refused (nothing is written).
pub(crate) fn feed_steps(feed: Vec<FeedItem>, last: i64) -> Result<Vec<FeedStep>, StoreError> {
    let mut head = last - clamp_usize(feed_rows(&feed));
    let mut steps = Vec::with_capacity(feed.len());
    for item in feed {
        steps.push(match item {
            FeedItem::Room(payload) => {
                head += 1;
                FeedStep::Insert(head, None, payload)
            }
            FeedItem::Device { device, payload } => {
                head += 1;
                FeedStep::Insert(head, Some(device.to_string()), payload)
            }
            FeedItem::Join(device) => FeedStep::Open(device.to_string(), head + 1),
            FeedItem::Leave(device) => FeedStep::Close(device.to_string(), head),
            other => {
                return Err(StoreError::Backend(format!(
                    "this store cannot write the follower-log item {other:?}; \
                     update mimi-store to the version of mimi-ds in use"
                )));
            }
        });
    }
    Ok(steps)
}

/// A log row: (seq, hub_ms, message).
pub(crate) type LogRow = (i64, i64, Vec<u8>);

pub(crate) fn log_entry(row: LogRow, shown: &str) -> Result<LogEntry, StoreError> {
    let (seq, hub_ms, message) = row;
    Ok(LogEntry {
        seq: counter_from_db(seq, "log sequence number", shown)?,
        hub_ms: bits_from_db(hub_ms),
        message,
    })
}

/// A room's head from its stored version and log head.
pub(crate) fn room_head(version: i64, log_head: i64, shown: &str) -> Result<RoomHead, StoreError> {
    Ok(RoomHead {
        version: counter_from_db(version, "record version", shown)?,
        log_head: counter_from_db(log_head, "log sequence number", shown)?,
    })
}

/// A record row: (version, state).
pub(crate) type RecordRow = (i64, Vec<u8>);

/// An outbound row: (id, destination, room, body).
pub(crate) type OutboundRow = (i64, String, String, Vec<u8>);

/// A dead-letter row: (id, destination, room, body, refusals, refused_reason, retry_at_ms).
pub(crate) type DeadLetterRow = (
    i64,
    String,
    String,
    Vec<u8>,
    i64,
    Option<String>,
    Option<i64>,
);

/// A device event row: (seq, room, payload).
pub(crate) type EventRow = (i64, String, Vec<u8>);

/// A KeyPackage row: (key_package, reference, last_resort, not_after bits).
pub(crate) type KeyPackageRow = (Vec<u8>, Vec<u8>, bool, i64);

/// The instant a KeyPackage expires, in the milliseconds the caller's clock uses, clamped to
/// the signed range (`not_after` is in seconds).
pub(crate) fn expires_ms(not_after: u64) -> i64 {
    clamp(not_after.saturating_mul(1000))
}

/// `shown` names the database in messages.
pub(crate) fn record(row: RecordRow, shown: &str) -> Result<RoomRecord, StoreError> {
    let (version, state) = row;
    Ok(RoomRecord {
        version: counter_from_db(version, "record version", shown)?,
        state,
    })
}

pub(crate) fn outbound_item(row: OutboundRow, shown: &str) -> Result<OutboundItem, StoreError> {
    let (id, to, room, body) = row;
    Ok(OutboundItem {
        id: counter_from_db(id, "outbound id", shown)?,
        to: parse_stored(&to, "outbound destination", shown)?,
        room: parse_stored(&room, "outbound room", shown)?,
        body,
    })
}

pub(crate) fn dead_letter(row: DeadLetterRow, shown: &str) -> Result<DeadLetter, StoreError> {
    let (id, to, room, body, refusals, reason, retry_at_ms) = row;
    Ok(DeadLetter {
        item: outbound_item((id, to, room, body), shown)?,
        refusals: counter_from_db(refusals, "outbound refusals", shown)?,
        reason: reason.unwrap_or_default(),
        retry_at_ms: counter_from_db(retry_at_ms.unwrap_or(0), "outbound retry time", shown)?,
    })
}

pub(crate) fn device_event(row: EventRow, shown: &str) -> Result<DeviceEvent, StoreError> {
    let (seq, room, payload) = row;
    Ok(DeviceEvent {
        seq: counter_from_db(seq, "event sequence number", shown)?,
        room: parse_stored(&room, "event room", shown)?,
        payload,
    })
}

pub(crate) fn entry(row: KeyPackageRow) -> KeyPackageEntry {
    let (key_package, reference, last_resort, not_after) = row;
    KeyPackageEntry {
        key_package,
        reference,
        last_resort,
        not_after: bits_from_db(not_after),
    }
}

/// A `COUNT(*)` of KeyPackages as the trait's `usize`.
pub(crate) fn key_package_count(count: i64, shown: &str) -> Result<usize, StoreError> {
    let count = counter_from_db(count, "KeyPackage count", shown)?;
    usize::try_from(count).map_err(|_| {
        StoreError::Backend(format!(
            "database {shown} counts {count} KeyPackages, more than this platform can index"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_checks() {
        assert_eq!(VersionCheck::of(0), VersionCheck::Create);
        assert_eq!(VersionCheck::of(5), VersionCheck::Replace(5));
        assert_eq!(VersionCheck::of(u64::MAX), VersionCheck::Never);
    }

    #[test]
    fn a_save_that_changed_no_row_conflicts() {
        let room: RoomUri = "mimi://hub.example/r/a".parse().unwrap();
        assert_eq!(saved(&room, 3, 1).unwrap(), 4);
        assert!(matches!(
            saved(&room, 3, 0),
            Err(StoreError::Conflict { expected: 3, .. })
        ));
        assert!(matches!(
            saved(&room, u64::MAX, 1),
            Err(StoreError::Conflict { .. })
        ));
    }

    #[test]
    fn log_entries_must_continue_above_the_head() {
        let room: RoomUri = "mimi://hub.example/r/a".parse().unwrap();
        let entry = |seq| LogEntry {
            seq,
            hub_ms: 0,
            message: Vec::new(),
        };
        assert!(check_log(&room, 1, 2, &[entry(3), entry(4)]).is_ok());
        assert!(check_log(&room, 1, 2, &[]).is_ok());
        for bad in [
            vec![entry(2)],
            vec![entry(3), entry(3)],
            vec![entry(u64::MAX)],
        ] {
            assert!(matches!(
                check_log(&room, 1, 2, &bad),
                Err(StoreError::Conflict { .. })
            ));
        }
        assert_eq!(version_matches(&room, 3, Some(3)).unwrap(), 3);
        assert!(version_matches(&room, 3, Some(4)).is_err());
        assert!(version_matches(&room, 0, None).is_err());
        assert!(version_matches(&room, 0, Some(0)).is_err());
        assert!(version_matches(&room, u64::MAX, Some(3)).is_err());
    }

    #[test]
    fn feed_steps_number_rows_from_the_reserved_range() {
        let device: mimi_types::ClientUri = "mimi://z.example/d/diana/phone".parse().unwrap();
        let feed = vec![
            FeedItem::Leave(device.clone()),
            FeedItem::Room(b"a".to_vec()),
            FeedItem::Device {
                device: device.clone(),
                payload: b"w".to_vec(),
            },
            FeedItem::Join(device.clone()),
            FeedItem::Room(b"b".to_vec()),
            FeedItem::Leave(device.clone()),
        ];
        assert_eq!(feed_rows(&feed), 3);
        let steps: Vec<String> = feed_steps(feed, 7)
            .unwrap()
            .iter()
            .map(|s| match s {
                FeedStep::Insert(seq, d, _) => format!("insert {seq} {}", d.is_some()),
                FeedStep::Open(_, from) => format!("open {from}"),
                FeedStep::Close(_, to) => format!("close {to}"),
            })
            .collect();
        assert_eq!(
            steps,
            [
                "close 4",
                "insert 5 false",
                "insert 6 true",
                "open 7",
                "insert 7 false",
                "close 7"
            ]
        );
    }
}
