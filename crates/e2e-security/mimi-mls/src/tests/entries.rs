//! A group's state as separate entries: what each operation changes, restore, damage.

use std::collections::BTreeMap;

use mimi_room::presets::Preset;

use super::{Net, pl_add};
use crate::{ClientGroup, GroupChanges};

/// One device's stored entries and head record (what the SDK keeps in SQLite).
#[derive(Default, Clone)]
pub(super) struct Stored {
    head: Vec<u8>,
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Stored {
    fn apply(&mut self, c: &GroupChanges) {
        if c.full {
            self.entries.clear();
        }
        for k in &c.deletes {
            assert!(self.entries.remove(k).is_some(), "deletes only stored keys");
        }
        for (k, v) in &c.upserts {
            self.entries.insert(k.clone(), v.clone());
        }
        self.head = c.head.clone();
    }

    pub(super) fn restore(&self, net: &Net) -> Result<ClientGroup, crate::MlsError> {
        ClientGroup::from_entries(
            &self.head,
            self.entries.clone().into_iter().collect(),
            net.trust.clone(),
        )
    }

    fn bytes(&self) -> usize {
        self.entries.iter().map(|(k, v)| k.len() + v.len()).sum()
    }
}

/// Saves what changed in `device`'s group; returns the changes.
pub(super) fn save(net: &Net, db: &mut BTreeMap<String, Stored>, device: &str) -> GroupChanges {
    let g = &net.groups[device];
    let c = g.changes().unwrap();
    db.entry(device.to_string()).or_default().apply(&c);
    g.changes_saved(&c).unwrap();
    assert!(g.changes().unwrap().is_empty(), "saved means clean");
    c
}

fn kinds(c: &GroupChanges) -> Vec<String> {
    let mut v: Vec<String> = c
        .upserts
        .iter()
        .map(|(k, _)| {
            String::from_utf8_lossy(&k[..k.iter().position(|b| !b.is_ascii_alphabetic()).unwrap()])
                .into_owned()
        })
        .collect();
    v.dedup();
    v
}

/// A room of alice1, bob1 and `others` more members, after `commits` self-updates (so
/// openmls keeps past epochs' secrets), every group saved.
pub(super) fn room(others: usize, commits: usize) -> (Net, BTreeMap<String, Stored>) {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    let mut names = vec!["bob".to_string()];
    let mut devices = vec!["bob1".to_string()];
    for i in 0..others {
        net.add_client("c.example", &format!("u{i}"), &format!("u{i}d"));
        names.push(format!("u{i}"));
        devices.push(format!("u{i}d"));
    }
    net.create("alice1", Preset::Cooperative);
    let kps: Vec<Vec<u8>> = devices.iter().map(|d| net.kp(d)).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&names)], &kps, &[], net.now)
        .unwrap();
    let joiners: Vec<&str> = devices.iter().map(String::as_str).collect();
    net.deliver_commit("alice1", &out, &joiners);
    for _ in 0..commits {
        let now = net.now;
        let out = net
            .groups
            .get_mut("alice1")
            .unwrap()
            .self_update(now)
            .unwrap();
        net.deliver_commit("alice1", &out, &[]);
    }
    let mut db = BTreeMap::new();
    for d in ["alice1", "bob1"] {
        let c = save(&net, &mut db, d);
        assert!(c.full, "a group never stored hands out everything");
    }
    (net, db)
}

#[test]
fn a_received_message_changes_the_message_secrets_only() {
    let (mut net, mut db) = room(3, 4);
    net.message("alice1", "hello");
    let c = save(&net, &mut db, "bob1");
    assert!(!c.full && c.deletes.is_empty(), "{c:?}");
    assert_eq!(kinds(&c), ["MessageSecrets"], "{c:?}");
    assert_eq!(c.upserts.len(), 1, "past epochs are untouched: {c:?}");
    // The sender's own state changes the same way.
    let c = save(&net, &mut db, "alice1");
    assert_eq!(kinds(&c), ["MessageSecrets"], "{c:?}");
    // Nothing happened: nothing to write.
    assert!(net.groups["bob1"].changes().unwrap().is_empty());
}

#[test]
fn a_commit_changes_the_epoch_state_and_moves_past_epochs() {
    let (mut net, mut db) = room(3, 4);
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .self_update(now)
        .unwrap();
    net.deliver_commit("alice1", &out, &[]);
    let c = save(&net, &mut db, "bob1");
    let k = kinds(&c);
    for expected in ["Tree", "GroupContext", "MessageSecrets", "EpochSecrets"] {
        assert!(k.iter().any(|x| x == expected), "{expected} in {k:?}");
    }
    assert!(
        !c.deletes.is_empty(),
        "the oldest past epoch's part goes: {c:?}"
    );
}

#[test]
fn stored_entries_restore_the_group_exactly() {
    let (mut net, mut db) = room(2, 4);
    for round in 0..3 {
        net.message("alice1", "one");
        net.message("bob1", "two");
        let now = net.now;
        let out = net
            .groups
            .get_mut("bob1")
            .unwrap()
            .self_update(now)
            .unwrap();
        net.deliver_commit("bob1", &out, &[]);
        for d in ["alice1", "bob1"] {
            save(&net, &mut db, d);
            let restored = db[d].restore(&net).unwrap();
            assert!(restored.changes().unwrap().is_empty(), "round {round}");
            // What the entries hold is exactly what openmls wrote: every kind it changed
            // was marked and stored.
            let a = net.groups[d].storage_values();
            let b = restored.storage_values();
            for k in a.keys() {
                assert!(
                    crate::store::labels::LABELS
                        .iter()
                        .any(|l| k.starts_with(l)),
                    "an entry of a kind the wrapper does not mark: {}",
                    String::from_utf8_lossy(k)
                );
            }
            assert_eq!(a, b, "{d} after round {round}");
            assert_eq!(
                restored.changes().unwrap().head,
                net.groups[d].changes().unwrap().head
            );
            net.groups.insert(d.to_string(), restored);
        }
        net.assert_consistent();
    }
    net.message("alice1", "after restores");
}

#[test]
fn a_group_from_a_whole_record_is_stored_whole() {
    let (net, _) = room(1, 0);
    let rec = net.groups["bob1"].to_record().unwrap();
    let g = ClientGroup::from_record(&rec, net.trust.clone()).unwrap();
    let c = g.changes().unwrap();
    assert!(c.full);
    let mut s = Stored::default();
    s.apply(&c);
    g.changes_saved(&c).unwrap();
    let back = s.restore(&net).unwrap();
    assert_eq!(back.to_record().unwrap(), rec);
}

#[test]
fn damaged_missing_or_extra_entries_are_refused() {
    let (net, db) = room(2, 4);
    let s = &db["bob1"];
    assert!(s.restore(&net).is_ok());
    let keys: Vec<Vec<u8>> = s.entries.keys().cloned().collect();
    assert!(keys.len() > 5);
    for k in &keys {
        // A flipped bit in the value.
        let mut bad = s.clone();
        let v = bad.entries.get_mut(k).unwrap();
        let i = v.len() / 2;
        v[i] ^= 0x01;
        let e = bad.restore(&net).unwrap_err().to_string();
        assert!(e.contains("does not match its head record"), "{e}");
        // A missing entry.
        let mut bad = s.clone();
        bad.entries.remove(k);
        assert!(bad.restore(&net).is_err());
    }
    let mut bad = s.clone();
    bad.entries.insert(b"Tree-extra".to_vec(), b"{}".to_vec());
    assert!(bad.restore(&net).is_err());
    let mut bad = s.clone();
    let n = bad.head.len();
    bad.head[n / 2] ^= 1;
    assert!(bad.restore(&net).is_err());
    // Another device's head over these entries.
    let mut bad = s.clone();
    bad.head = db["alice1"].head.clone();
    assert!(bad.restore(&net).is_err());
}

/// Bytes written after one received message, at 10 and at 40 members: the main entry of the
/// current epoch's message secrets only, flat in the members (its secret tree's empty slots
/// take a few octets in all, the serialized group context is stored apart), nothing that
/// holds credentials or leaves (the whole state grows by about 8 KB per member).
#[test]
fn bytes_written_per_received_message_barely_grow_with_members() {
    let mut per = Vec::new();
    for others in [8, 38] {
        let (mut net, mut db) = room(others, 4);
        net.message("alice1", "hello");
        let c = save(&net, &mut db, "bob1");
        let whole = net.groups["bob1"].to_record().unwrap().len();
        eprintln!(
            "{} members: {} bytes written per received message; stored entries {} bytes; whole record {} bytes",
            others + 2,
            c.upsert_bytes(),
            db["bob1"].bytes(),
            whole
        );
        per.push((c.upsert_bytes(), whole));
    }
    let (small, _) = per[0];
    let (large, whole_large) = per[1];
    // 30 more members: a few octets more (two more levels of the secret tree), within 1.5×.
    assert!(large * 2 <= small * 3, "{per:?}");
    assert!(large <= small + 30 * 16, "{per:?}");
    assert!(large * 20 < whole_large, "{per:?}");
}

/// Entries stored before the message secrets had the compact codec (JSON, past epochs split
/// as text) restore; reading them rewrites them in memory only (nothing to store), and the
/// next received message stores the message secrets compact, past epochs and all.
#[test]
fn entries_with_json_message_secrets_restore_and_are_stored_compact_with_the_next_write() {
    use crate::store::codec::{TAG_COMPACT, TAG_JSON, legacy_json};
    use crate::store::labels::LABEL_MESSAGE_SECRETS;

    let secrets = |s: &Stored| -> Vec<(Vec<u8>, Vec<u8>)> {
        s.entries
            .iter()
            .filter(|(k, _)| k.starts_with(LABEL_MESSAGE_SECRETS))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let (mut net, mut db) = legacy_json::with(|| room(2, 4));
    let old = secrets(&db["bob1"]);
    assert!(old.len() > 1, "past epochs stored apart");
    assert_eq!(old[0].1[0], TAG_JSON);
    let restored = db["bob1"].restore(&net).unwrap();
    assert!(restored.changes().unwrap().is_empty());
    net.groups.insert("bob1".into(), restored);
    net.message("alice1", "hello");
    let c = save(&net, &mut db, "bob1");
    assert_eq!(kinds(&c), ["MessageSecrets"], "{c:?}");
    let new = secrets(&db["bob1"]);
    assert_eq!(new.len(), old.len() + 1, "the serialized context apart too");
    for (k, v) in &new {
        assert_eq!(v[0], TAG_COMPACT, "{}", String::from_utf8_lossy(k));
    }
    let again = db["bob1"].restore(&net).unwrap();
    assert_eq!(again.storage_values(), net.groups["bob1"].storage_values());
    net.groups.insert("bob1".into(), again);
    net.message("alice1", "again");
    net.message("bob1", "back");
}
