//! The stored form of a hub room's *state*: what changes only when the room does (its public
//! MLS group, the Welcome routes, and the sequence number the next event gets as of the save).
//! Accepted events themselves are appended to the room's log ([`crate::LogEntry`]), whose head
//! moves the sequence number on without rewriting this record
//! ([`HubRoom::resume_after`]).
//!
//! Format version 2 (written): `2 || text room || bytes HubGroup record || u64 next_seq ||
//! u32 n || (bytes KeyPackageRef || text domain)^n`, with the codec of [`crate::record`]
//! (`text`/`bytes`: `u32` length, then the octets). Decoding checks that the record names the
//! room it is stored under.
//!
//! Format version 1 (read, never written; the server's format before the log existed): `1 ||
//! bytes HubGroup record || u64 next_seq || u32 n || (bytes ref || bytes domain)^n`. It is read
//! as is and written as version 2 at the room's next state change.
//!
//! Both are pinned under `testing/vectors/ds/` (see `tests/hub_record_kat.rs`).

use std::collections::BTreeMap;

use mimi_mls::{HubGroup, TrustStore};
use mimi_types::{Domain, RoomUri};

use super::HubRoom;
use crate::record::{Reader, RecordError, Writer};

/// The format version [`HubRoom::to_record`] writes.
pub const HUB_RECORD_VERSION: u8 = 2;

const WHAT: &str = "hub room";

impl HubRoom {
    /// The room's state record (see the module documentation).
    pub fn to_record(&self) -> Result<Vec<u8>, RecordError> {
        let group = self.group.to_record().map_err(|e| RecordError::Part {
            what: WHAT,
            detail: format!("MLS group: {e}"),
        })?;
        let mut w = Writer::new(WHAT, HUB_RECORD_VERSION);
        w.bytes(self.room.to_string().as_bytes())?;
        w.bytes(&group)?;
        w.u64(self.next_seq);
        w.count(self.routes.len())?;
        for (reference, domain) in &self.routes {
            w.bytes(reference)?;
            w.bytes(domain.as_str().as_bytes())?;
        }
        Ok(w.finish())
    }

    /// Restores `room` from its state record, of format version 1 or 2. The sequence number is
    /// the one of the save: move it past the room's log with [`HubRoom::resume_after`].
    pub fn from_record(
        room: RoomUri,
        record: &[u8],
        trust: TrustStore,
    ) -> Result<Self, RecordError> {
        let (version, mut r) = Reader::open(WHAT, record, &[1, HUB_RECORD_VERSION])?;
        if version >= 2 {
            let written = r.text()?;
            if written != room.to_string() {
                return Err(RecordError::WrongRoom {
                    what: WHAT,
                    stored: room.to_string(),
                    written: written.to_owned(),
                });
            }
        }
        let group = HubGroup::from_record(r.bytes()?, trust).map_err(|e| RecordError::Part {
            what: WHAT,
            detail: format!("MLS group: {e}"),
        })?;
        let next_seq = r.u64()?;
        let count = r.u32()?;
        let mut routes = BTreeMap::new();
        for _ in 0..count {
            let reference = r.bytes()?.to_vec();
            let domain = Domain::parse(r.text()?).map_err(|_| r.malformed("route domain"))?;
            routes.insert(reference, domain);
        }
        r.end()?;
        Ok(Self::from_parts(room, group, next_seq, routes))
    }
}
