//! The split record: a state part rewritten each time, the identity and each room's parts
//! only when they changed (MLS state as separate entries), log rows appended. Restoring from
//! what a store holds after any sequence of updates equals restoring the whole record.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use std::collections::BTreeMap;

use harness::Fed;
use mimi_client_core::{
    Client, ClientError, RECORD_VERSION, RecordUpdate, STATE_RECORD_VERSION, StoredRecord,
};
use mimi_room::presets::Preset;
use mimi_types::{ClientUri, RoomUri};

/// What a store keeps, applied as the SDK's store does.
#[derive(Default)]
struct Store {
    rec: StoredRecord,
}

impl Store {
    fn apply(&mut self, update: &RecordUpdate) {
        for rows in &update.logs {
            let have = self.rec.logs.get(&rows.room).map_or(0, Vec::len) as u64;
            assert!(rows.from <= have, "rows leave no gap");
        }
        self.rec.apply(update);
    }

    fn save(&mut self, client: &mut Client) -> RecordUpdate {
        let update = client.record_update().unwrap();
        self.apply(&update);
        client.record_saved(&update);
        update
    }

    fn restore(&self, trust: mimi_mls::TrustStore) -> Result<Client, ClientError> {
        Client::from_stored(&self.rec, trust)
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

    let whole = Client::from_record(&fed.client(&alice).to_record().unwrap(), fed.trust()).unwrap();
    let split = store.restore(fed.trust()).unwrap();
    assert_eq!(
        split.room(&room).unwrap().messages(),
        whole.room(&room).unwrap().messages()
    );
    assert_eq!(split.room(&room).unwrap().messages().len(), 5);
    assert_eq!(split.pending_ops(), whole.pending_ops());
    assert_eq!(split.cursor(), whole.cursor());
    // A restored split client continues appending where the store stopped.
    assert!(split.record_update().unwrap().logs.is_empty());
    *fed.c(&alice) = split;
    fed.pump();
    let update = store.save(fed.c(&alice));
    assert_eq!(update.logs[0].from, 5, "{update:?}");
    assert_eq!(rows(&update), 1, "the queued message came back: {update:?}");
    let again = store.restore(fed.trust()).unwrap();
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
    let restored = store.restore(fed.trust()).unwrap();
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
    let trust = fed.trust();

    let restore = |rec: &StoredRecord| Client::from_stored(rec, trust.clone());
    let mut short = store.rec.clone();
    short.logs.get_mut(&room).unwrap().pop();
    let err = restore(&short).unwrap_err();
    assert!(matches!(err, ClientError::Record(_)), "{err}");
    assert!(err.to_string().contains("not saved together"), "{err}");

    let mut damaged = store.rec.clone();
    damaged.logs.get_mut(&room).unwrap()[1].push(0);
    let err = restore(&damaged).unwrap_err();
    assert!(err.to_string().contains("log entry 1"), "{err}");

    // The state part alone is not a whole record.
    let err = Client::from_record(&store.rec.state, trust.clone()).unwrap_err();
    assert!(err.to_string().contains("from_stored"), "{err}");

    // Rows of a room the state does not name are left-overs of a removed room: ignored.
    let mut extra = store.rec.clone();
    extra
        .logs
        .insert("mimi://y.example/r/gone".parse().unwrap(), vec![vec![1]]);
    let restored = restore(&extra).unwrap();
    assert_eq!(restored.room(&room).unwrap().messages().len(), 2);

    let mut wrong = store.rec.clone();
    wrong.state[0] = 9;
    wrong.identity = None;
    wrong.rooms.clear();
    wrong.mls.clear();
    let err = restore(&wrong).unwrap_err();
    assert!(err.to_string().contains("version 9"), "{err}");

    // A damaged, missing or extra MLS entry, or a missing room or identity record: refused
    // with an error naming the room, never a panic.
    let keys: Vec<Vec<u8>> = store.rec.mls[&room].keys().cloned().collect();
    assert!(keys.len() > 5, "{keys:?}");
    for k in &keys {
        let mut bad = store.rec.clone();
        let v = bad.mls.get_mut(&room).unwrap().get_mut(k).unwrap();
        let i = v.len() / 2;
        v[i] = 0x07;
        let err = restore(&bad).unwrap_err().to_string();
        assert!(err.contains(&room.to_string()), "{err}");
        assert!(err.contains("does not match its head record"), "{err}");
        let mut bad = store.rec.clone();
        bad.mls.get_mut(&room).unwrap().remove(k);
        let err = restore(&bad).unwrap_err().to_string();
        assert!(err.contains(&room.to_string()), "{err}");
    }
    let mut bad = store.rec.clone();
    bad.mls
        .get_mut(&room)
        .unwrap()
        .insert(b"Tree extra".to_vec(), b"[]".to_vec());
    assert!(
        restore(&bad)
            .unwrap_err()
            .to_string()
            .contains(&room.to_string())
    );
    let mut bad = store.rec.clone();
    bad.rooms.clear();
    let err = restore(&bad).unwrap_err().to_string();
    assert!(
        err.contains("no record of room") && err.contains(&room.to_string()),
        "{err}"
    );
    // A flipped octet in the group's head record, a truncated room record.
    let mut bad = store.rec.clone();
    bad.rooms.get_mut(&room).unwrap()[20] ^= 1;
    let err = restore(&bad).unwrap_err().to_string();
    assert!(err.contains(&room.to_string()), "{err}");
    let mut bad = store.rec.clone();
    bad.rooms.get_mut(&room).unwrap().pop();
    let err = restore(&bad).unwrap_err().to_string();
    assert!(err.contains(&room.to_string()), "{err}");
    let mut bad = store.rec.clone();
    bad.identity = None;
    assert!(
        restore(&bad)
            .unwrap_err()
            .to_string()
            .contains("no identity record")
    );
    let mut bad = store.rec.clone();
    let id = bad.identity.as_mut().unwrap();
    id[40] ^= 1;
    assert!(restore(&bad).is_err());
}

/// Only what changed is handed out: a received message writes the room's record and its
/// message-secrets entry, never the identity, the tree or another room.
#[test]
fn a_received_message_writes_its_room_and_message_secrets_only() {
    let (mut fed, alice, charlie, room) = two();
    let other = fed.create_room(&charlie, "mimi://y.example/r/other", Preset::Cooperative);
    fed.invite(&charlie, &other, &["mimi://x.example/u/alice"])
        .unwrap();
    fed.pump();
    let mut rng = fed.rng.clone();
    let mut store = Store::default();
    let first = store.save(fed.c(&alice));
    assert!(
        first.identity.is_some(),
        "a client never stored writes its identity"
    );
    assert_eq!(first.rooms.len(), 2);
    assert!(first.rooms.iter().all(|r| r.mls.full));
    let idle = store.save(fed.c(&alice));
    assert!(idle.identity.is_none() && idle.rooms.is_empty(), "{idle:?}");

    fed.c(&charlie).send_text(&mut rng, &room, "hello").unwrap();
    fed.pump();
    let update = store.save(fed.c(&alice));
    assert!(update.identity.is_none(), "{update:?}");
    assert_eq!(update.rooms.len(), 1, "{update:?}");
    let part = &update.rooms[0];
    assert_eq!(part.room, room);
    assert!(!part.mls.full && part.mls.deletes.is_empty(), "{update:?}");
    assert_eq!(part.mls.upserts.len(), 1, "{update:?}");
    assert!(part.mls.upserts[0].0.starts_with(b"MessageSecrets"));
    // A third of everything stored at first: the tree and the rest of the state are binary
    // now (mimi-mls store.rs), the message secrets entry stays JSON (stored split by epoch).
    assert!(
        update.bytes() < first.bytes() / 3,
        "{update:?} vs {first:?}"
    );

    // A fresh KeyPackage changes the identity, and only that.
    let now = fed.now();
    fed.c(&alice).generate_key_packages(now, 1).unwrap();
    let update = store.save(fed.c(&alice));
    assert!(update.identity.is_some(), "{update:?}");
    assert!(update.rooms.is_empty(), "{update:?}");

    let restored = store.restore(fed.trust()).unwrap();
    assert!(restored.record_update().unwrap().rooms.is_empty());
    assert_eq!(restored.room(&room).unwrap().messages().len(), 1);
}

#[test]
fn a_whole_record_of_version_1_is_read_and_its_log_then_written_as_rows() {
    let (mut fed, alice, charlie, room) = two();
    let mut rng = fed.rng.clone();
    fed.c(&charlie).send_text(&mut rng, &room, "a").unwrap();
    fed.pump();
    let whole = fed.client(&alice).to_record().unwrap();
    assert_eq!(whole[0], RECORD_VERSION);
    let trust = fed.trust();
    let mut restored = Client::from_split_record(&whole, &BTreeMap::new(), trust.clone()).unwrap();
    assert_eq!(restored.room(&room).unwrap().messages().len(), 1);
    let mut store = Store::default();
    let update = store.save(&mut restored);
    assert_eq!((update.logs[0].from, rows(&update)), (0, 1));
    let again = store.restore(trust.clone()).unwrap();
    assert_eq!(again.room(&room).unwrap().messages().len(), 1);

    // A whole record with rows beside it mixes formats: refused.
    let err = Client::from_split_record(&whole, &store.rec.logs, trust).unwrap_err();
    assert!(err.to_string().contains("mixes two formats"), "{err}");
}

/// An older release wrote its state into a file migrated before (a downgrade): the parts of
/// the current layout beside it are left-overs, replaced by the next update, and rooms the
/// state does not list are dropped.
#[test]
fn parts_left_beside_an_older_state_are_replaced_and_dropped() {
    let (mut fed, alice, charlie, room) = two();
    let mut rng = fed.rng.clone();
    fed.c(&charlie).send_text(&mut rng, &room, "a").unwrap();
    fed.pump();
    let mut store = Store::default();
    store.save(fed.c(&alice));
    let gone: RoomUri = "mimi://y.example/r/gone".parse().unwrap();
    store.rec.rooms.insert(gone.clone(), vec![1, 2, 3]);
    store.rec.mls.insert(
        gone.clone(),
        BTreeMap::from([(b"k".to_vec(), b"v".to_vec())]),
    );
    store.rec.state = fed.client(&alice).to_record().unwrap();
    store.rec.logs.clear();
    let mut restored = store.restore(fed.trust()).unwrap();
    let update = store.save(&mut restored);
    assert!(update.identity.is_some(), "{update:?}");
    assert_eq!(update.removed, vec![gone.clone()]);
    assert!(update.rooms.iter().all(|r| r.mls.full), "{update:?}");
    assert!(!store.rec.rooms.contains_key(&gone) && !store.rec.mls.contains_key(&gone));
    let again = store.restore(fed.trust()).unwrap();
    assert_eq!(again.room(&room).unwrap().messages().len(), 1);
    assert!(again.record_update().unwrap().rooms.is_empty());
}
