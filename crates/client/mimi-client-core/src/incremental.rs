//! The client record in two parts, for storage that writes only what changed.
//!
//! The whole record ([`Client::to_record`]) grows with every message shown: writing it after
//! each event costs O(history). The split record keeps the part that grows (each room's log of
//! accepted content, append-only) apart as rows, one per entry, and everything else in a
//! state record of version [`STATE_RECORD_VERSION`], the same layout as version 1 with each
//! log replaced by its length.
//!
//! [`Client::record_update`] hands out the state and the log rows not saved yet;
//! the caller stores both in one transaction (with its stream cursor) and then reports
//! [`Client::record_saved`]. [`Client::from_split_record`] restores from the state and the
//! stored rows, and refuses a state whose log lengths disagree with the rows (they were not
//! saved together). A room that replaced an earlier one of the same URI (a new join) starts
//! its rows at 0, so its stale rows are overwritten.

use std::collections::BTreeMap;

use mimi_mls::TrustStore;
use mimi_types::RoomUri;

use crate::client::Client;
use crate::codec::Writer;
use crate::error::ClientError;
use crate::record::{LogPlace, write_entry};

/// The version byte of the state part of a split record.
pub const STATE_RECORD_VERSION: u8 = 2;

/// What to store so that the stored split record equals the client: see
/// [`Client::record_update`].
#[derive(Clone)]
pub struct RecordUpdate {
    /// The state part (version [`STATE_RECORD_VERSION`]): replaces the stored one. Secret.
    pub state: Vec<u8>,
    /// Log rows to store, per room.
    pub logs: Vec<LogRows>,
}

impl std::fmt::Debug for RecordUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordUpdate")
            .field("state_bytes", &self.state.len())
            .field("logs", &self.logs)
            .finish()
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
    /// The state part and the log rows not yet reported saved by [`Client::record_saved`].
    /// Store them together (one transaction), then report them.
    pub fn record_update(&self) -> Result<RecordUpdate, ClientError> {
        let state = self.encode(STATE_RECORD_VERSION, LogPlace::Apart)?;
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
        Ok(RecordUpdate { state, logs })
    }

    /// Reports that `update` (from [`Client::record_update`], no change to the client since)
    /// is stored: the next update carries only rows added after it.
    pub fn record_saved(&mut self, update: &RecordUpdate) {
        for rows in &update.logs {
            if let Some(room) = self.rooms.get_mut(&rows.room) {
                let saved = usize::try_from(rows.from)
                    .unwrap_or(usize::MAX)
                    .saturating_add(rows.entries.len());
                room.log_saved = Some(saved);
            }
        }
    }

    /// Restores a client from a stored split record: the state part and, per room, its log
    /// rows in order. A version 1 whole record (stored before the split) is read too, with no
    /// rows; its logs are then written anew by the next [`Client::record_update`]. Rows of
    /// rooms the state does not name (a room removed since) are ignored.
    pub fn from_split_record(
        state: &[u8],
        logs: &BTreeMap<RoomUri, Vec<Vec<u8>>>,
        trust: TrustStore,
    ) -> Result<Self, ClientError> {
        match state.first() {
            Some(&STATE_RECORD_VERSION) => Self::decode(state, trust, Some(logs)),
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
