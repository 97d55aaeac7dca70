//! The client's split record as a store hands it back (`Client::from_stored`: the state part,
//! the identity, each room's record, MLS entries and log rows): never panics, whatever the
//! parts hold; what it accepts hands out an update again.
//!
//! The input is read twice. Whole, as the state part alone (the seeds from
//! `testing/vectors/client/` are whole records and state parts of the older layouts). Then as
//! chunks, each a big-endian u16 length and that many bytes: the state part, the identity
//! (absent when empty), one room's record, one log row, then (key, value) pairs of that room's
//! MLS entries.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mimi_client_core::{Client, StoredRecord};
use mimi_mls::TrustStore;
use mimi_types::RoomUri;

fn chunks(mut data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while let [hi, lo, rest @ ..] = data {
        let len = usize::from(u16::from_be_bytes([*hi, *lo])).min(rest.len());
        let (chunk, tail) = rest.split_at(len);
        out.push(chunk);
        data = tail;
    }
    out
}

fn restore(stored: &StoredRecord) {
    if let Ok(client) = Client::from_stored(stored, TrustStore::new()) {
        let _ = client.record_update();
    }
}

fuzz_target!(|data: &[u8]| {
    restore(&StoredRecord {
        state: data.to_vec(),
        ..StoredRecord::default()
    });

    let parts = chunks(data);
    let Ok(room) = RoomUri::parse("mimi://a.example/r/fuzz") else {
        return;
    };
    let part = |i: usize| parts.get(i).map(|p| p.to_vec());
    let mut stored = StoredRecord {
        state: part(0).unwrap_or_default(),
        identity: part(1).filter(|p| !p.is_empty()),
        ..StoredRecord::default()
    };
    if let Some(record) = part(2) {
        stored.rooms.insert(room.clone(), record);
    }
    if let Some(row) = part(3) {
        stored.logs.insert(room.clone(), vec![row]);
    }
    let entries = stored.mls.entry(room).or_default();
    for pair in parts.get(4..).unwrap_or_default().chunks(2) {
        if let [key, value] = pair {
            entries.insert(key.to_vec(), value.to_vec());
        }
    }
    restore(&stored);
});
