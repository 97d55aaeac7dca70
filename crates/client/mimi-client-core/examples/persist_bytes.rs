//! What one device writes to its store per received message, in rooms of several sizes:
//! before (the state record of version 2, rewritten whole: identity, every group's whole
//! openmls state, room data) and now (the parts that changed: state part, the room's record,
//! its changed MLS entries, the new log row). Bytes are deterministic, so a debug build
//! measures them as well as a release one:
//!
//! ```text
//! cargo run -p mimi-client-core --example persist_bytes -- 10 50 200
//! ```
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/harness/mod.rs"]
mod harness;

use harness::Fed;
use mimi_client_core::{Client, StoredRecord};
use mimi_room::presets::Preset;

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("room sizes are numbers"))
        .collect();
    let sizes = if sizes.is_empty() {
        vec![10, 50, 200]
    } else {
        sizes
    };
    println!(
        "| members | before: state record v2 | now: written | of which MLS entries | room record | state part | log row | identity |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for n in sizes {
        let n = n.max(2);
        let mut fed = Fed::new(&["x.example", "y.example"]);
        let creator = fed.device("mimi://y.example/u/u0", "d");
        let reader = fed.device("mimi://x.example/u/reader", "d");
        let mut users = vec!["mimi://x.example/u/reader".to_string()];
        for i in 1..n - 1 {
            let d = if i % 2 == 0 { "x.example" } else { "y.example" };
            let u = format!("mimi://{d}/u/u{i}");
            fed.device(&u, "d");
            users.push(u);
        }
        let room = fed.create_room(&creator, "mimi://y.example/r/bench", Preset::Cooperative);
        let names: Vec<&str> = users.iter().map(String::as_str).collect();
        fed.invite(&creator, &room, &names).unwrap();
        assert_eq!(fed.client(&reader).room(&room).unwrap().members().len(), n);

        let mut stored = StoredRecord::default();
        let first = fed.client(&reader).record_update().unwrap();
        stored.apply(&first);
        fed.c(&reader).record_saved(&first);

        let mut rng = fed.rng.clone();
        fed.c(&creator)
            .send_text(&mut rng, &room, "a short message of the usual size")
            .unwrap();
        fed.pump();
        let update = fed.client(&reader).record_update().unwrap();

        // Before: the version 2 state record is the whole record with each log replaced by
        // its length (the same 8 octets as the log's count).
        let whole = fed.client(&reader).to_record().unwrap();
        let fresh = Client::from_record(&whole, fed.trust())
            .unwrap()
            .record_update()
            .unwrap();
        let log_bytes: usize = fresh
            .logs
            .iter()
            .flat_map(|l| &l.entries)
            .map(Vec::len)
            .sum();
        let before = whole.len() - log_bytes;
        let mls: usize = update.rooms.iter().map(|r| r.mls.upsert_bytes()).sum();
        let record: usize = update.rooms.iter().map(|r| r.record.len()).sum();
        let rows: usize = update
            .logs
            .iter()
            .flat_map(|l| &l.entries)
            .map(Vec::len)
            .sum();
        println!(
            "| {n} | {before} | {} | {mls} | {record} | {} | {rows} | {} |",
            update.bytes(),
            update.state.len(),
            update.identity.as_ref().map_or(0, Vec::len),
        );
    }
}
