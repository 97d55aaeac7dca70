//! The split record: a state part rewritten each time and log rows appended. Restoring from
//! what a store holds after any sequence of updates equals restoring the whole record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use std::collections::BTreeMap;

use harness::Fed;
use mimi_client_core::{Client, ClientError, RECORD_VERSION, RecordUpdate, STATE_RECORD_VERSION};
use mimi_room::presets::Preset;
use mimi_types::{ClientUri, RoomUri};

/// What a store keeps: the state and each room's rows, applied as the SDK's store does.
#[derive(Default)]
struct Store {
    state: Vec<u8>,
    logs: BTreeMap<RoomUri, Vec<Vec<u8>>>,
}

impl Store {
    fn apply(&mut self, update: &RecordUpdate) {
        self.state = update.state.clone();
        for rows in &update.logs {
            let log = self.logs.entry(rows.room.clone()).or_default();
            log.truncate(rows.from as usize);
            assert_eq!(log.len() as u64, rows.from, "rows leave no gap");
            log.extend(rows.entries.iter().cloned());
        }
    }

    fn save(&mut self, client: &mut Client) -> RecordUpdate {
        let update = client.record_update().unwrap();
        self.apply(&update);
        client.record_saved(&update);
        update
    }
}

fn two() -> (Fed, ClientUri, ClientUri, RoomUri) {
    let mut fed = Fed::new(&["x.example", "y.example"]);
    let alice = fed.device("mimi://x.example/u/alice", "phone");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    let room = fed.create_room(&charlie, "mimi://y.example/r/team", Preset::Cooperative);
    fed.invite(&charlie, &room, &["mimi://x.example/u/alice"])
        .unwrap();
    (fed, alice, charlie, room)
}

fn rows(update: &RecordUpdate) -> usize {
    update.logs.iter().map(|l| l.entries.len()).sum()
}

#[test]
fn updates_carry_only_new_rows_and_restore_like_the_whole_record() {
    let (mut fed, alice, charlie, room) = two();
    let mut rng = fed.rng.clone();
    let mut store = Store::default();
    let first = store.save(fed.c(&alice));
    assert_eq!(first.state[0], STATE_RECORD_VERSION);
    assert_eq!(first.logs.len(), 1, "a room never saved is written from 0");
    assert_eq!(first.logs[0].from, 0);

    for i in 0..5 {
        fed.c(&charlie)
            .send_text(&mut rng, &room, &format!("m{i}"))
            .unwrap();
        fed.pump();
        let update = store.save(fed.c(&alice));
        assert_eq!(rows(&update), 1, "one new message, one new row");
        assert_eq!(update.logs[0].from, i);
    }
    let idle = store.save(fed.c(&alice));
    assert!(idle.logs.is_empty(), "nothing new, no rows: {idle:?}");
    // The state does not grow with the log: it holds no message content.
    let text = String::from_utf8_lossy(&idle.state);
    assert!(!text.contains("m4"), "the state holds no log entry");

    // One queued, unsent message travels in the state part.
    fed.c(&alice).send_text(&mut rng, &room, "queued").unwrap();
    store.save(fed.c(&alice));

    let whole =
        Client::from_record(&fed.clients[&alice].to_record().unwrap(), fed.trust.clone()).unwrap();
    let split = Client::from_split_record(&store.state, &store.logs, fed.trust.clone()).unwrap();
    assert_eq!(
        split.room(&room).unwrap().messages(),
        whole.room(&room).unwrap().messages()
    );
    assert_eq!(split.room(&room).unwrap().messages().len(), 5);
    assert_eq!(split.pending_ops(), whole.pending_ops());
    assert_eq!(split.cursor(), whole.cursor());
    // A restored split client continues appending where the store stopped.
    assert!(split.record_update().unwrap().logs.is_empty());
    fed.clients.insert(alice.clone(), split);
    fed.pump();
    let update = store.save(fed.c(&alice));
    assert_eq!(update.logs[0].from, 5, "{update:?}");
    assert_eq!(rows(&update), 1, "the queued message came back: {update:?}");
    let again = Client::from_split_record(&store.state, &store.logs, fed.trust.clone()).unwrap();
    assert_eq!(
        fed.transcript(&alice, &room).len(),
        again.room(&room).unwrap().messages().len()
    );
}

#[test]
fn an_update_not_reported_saved_is_handed_out_again() {
    let (mut fed, alice, charlie, room) = two();
    let mut rng = fed.rng.clone();
    let mut store = Store::default();
    store.save(fed.c(&alice));
    fed.c(&charlie).send_text(&mut rng, &room, "a").unwrap();
    fed.pump();
    let lost = fed.c(&alice).record_update().unwrap();
    assert_eq!(rows(&lost), 1);
    // The write failed (not reported): the next update still carries the row.
    fed.c(&charlie).send_text(&mut rng, &room, "b").unwrap();
    fed.pump();
    let update = store.save(fed.c(&alice));
    assert_eq!(rows(&update), 2);
    assert_eq!(update.logs[0].from, lost.logs[0].from);
    let restored = Client::from_split_record(&store.state, &store.logs, fed.trust.clone()).unwrap();
    assert_eq!(restored.room(&room).unwrap().messages().len(), 2);
}

#[test]
fn a_state_and_rows_not_saved_together_are_refused() {
    let (mut fed, alice, charlie, room) = two();
    let mut rng = fed.rng.clone();
    let mut store = Store::default();
    fed.c(&charlie).send_text(&mut rng, &room, "a").unwrap();
    fed.c(&charlie).send_text(&mut rng, &room, "b").unwrap();
    fed.pump();
    store.save(fed.c(&alice));
    let trust = fed.trust.clone();

    let mut short = store.logs.clone();
    short.get_mut(&room).unwrap().pop();
    let err = Client::from_split_record(&store.state, &short, trust.clone()).unwrap_err();
    assert!(matches!(err, ClientError::Record(_)), "{err}");
    assert!(err.to_string().contains("not saved together"), "{err}");

    let mut damaged = store.logs.clone();
    damaged.get_mut(&room).unwrap()[1].push(0);
    let err = Client::from_split_record(&store.state, &damaged, trust.clone()).unwrap_err();
    assert!(err.to_string().contains("log entry 1"), "{err}");

    // The state part alone is not a whole record.
    let err = Client::from_record(&store.state, trust.clone()).unwrap_err();
    assert!(err.to_string().contains("from_split_record"), "{err}");

    // Rows of a room the state does not name are left-overs of a removed room: ignored.
    let mut extra = store.logs.clone();
    extra.insert("mimi://y.example/r/gone".parse().unwrap(), vec![vec![1]]);
    let restored = Client::from_split_record(&store.state, &extra, trust.clone()).unwrap();
    assert_eq!(restored.room(&room).unwrap().messages().len(), 2);

    let mut wrong = store.state.clone();
    wrong[0] = 9;
    let err = Client::from_split_record(&wrong, &store.logs, trust).unwrap_err();
    assert!(err.to_string().contains("version 9"), "{err}");
}

#[test]
fn a_whole_record_of_version_1_is_read_and_its_log_then_written_as_rows() {
    let (mut fed, alice, charlie, room) = two();
    let mut rng = fed.rng.clone();
    fed.c(&charlie).send_text(&mut rng, &room, "a").unwrap();
    fed.pump();
    let whole = fed.clients[&alice].to_record().unwrap();
    assert_eq!(whole[0], RECORD_VERSION);
    let trust = fed.trust.clone();
    let mut restored = Client::from_split_record(&whole, &BTreeMap::new(), trust.clone()).unwrap();
    assert_eq!(restored.room(&room).unwrap().messages().len(), 1);
    let mut store = Store::default();
    let update = store.save(&mut restored);
    assert_eq!((update.logs[0].from, rows(&update)), (0, 1));
    let again = Client::from_split_record(&store.state, &store.logs, trust.clone()).unwrap();
    assert_eq!(again.room(&room).unwrap().messages().len(), 1);

    // A whole record with rows beside it mixes formats: refused.
    let err = Client::from_split_record(&whole, &store.logs, trust).unwrap_err();
    assert!(err.to_string().contains("mixes two formats"), "{err}");
}
