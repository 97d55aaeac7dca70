//! A group stored as entries in record format 2 (untagged openmls JSON values, as a device of
//! state record version 3 stored each room before mimi-mls had its own codecs), pinned under
//! `testing/vectors/client/group-entries-v2.hex`: it restores, drops the queued proposals
//! openmls's memory store left behind, hands out all of its entries in the current codecs
//! once, and decrypts a message it had not read.
//!
//! Regenerate on purpose with
//! `cargo test -p mimi-mls regenerate_group_entries_of_format_2 -- --ignored`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use super::entries::room;
use super::vectors::{hex, unhex};
use crate::store::codec::{Codec, TAG_JSON, legacy_json, untag};
use crate::store::labels::{
    LABEL_MESSAGE_SECRETS, LABEL_PROPOSAL_QUEUE_REFS, LABEL_QUEUED_PROPOSAL,
};
use crate::tracked::{entry_digest, root_digest};
use crate::{ClientGroup, Incoming, TrustStore};

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../testing/vectors/client/group-entries-v2.hex")
}

const TEXT: &str = "sent after the room was stored";

/// A head record of format 2 over `entries`: `head` (of format 3) with its format octet,
/// root digest and seal replaced.
fn head_of_format_2(head: &[u8], entries: &BTreeMap<Vec<u8>, Vec<u8>>) -> Vec<u8> {
    let mut body = head[..head.len() - 32].to_vec();
    assert_eq!(body[1], 3, "a head of format 3");
    body[1] = 2;
    let digests = entries
        .iter()
        .map(|(k, v)| (k.clone(), entry_digest(k, v)))
        .collect();
    let n = body.len();
    body[n - 32..].copy_from_slice(&root_digest(&digests));
    let seal = Sha256::digest(&body);
    body.extend_from_slice(&seal);
    body
}

#[test]
#[ignore = "rewrites the pinned group entries of format 2; run on purpose"]
fn regenerate_group_entries_of_format_2() {
    let out = legacy_json::with(|| {
        let (mut net, _) = room(2, 2);
        // u0d leaves through a proposal alice commits: openmls clears the queue, and the
        // memory store left the proposal itself behind.
        let p = net.groups.get_mut("u0d").unwrap().propose_leave().unwrap();
        net.deliver_proposal("u0d", &p);
        let now = net.now;
        let c = net
            .groups
            .get_mut("alice1")
            .unwrap()
            .commit(&[], &[], &[], now)
            .unwrap();
        net.deliver_commit("alice1", &c, &[]);
        net.message("alice1", "before");
        // A message bob reads after loading (none can be sent while a proposal is queued).
        let message = net
            .groups
            .get_mut("alice1")
            .unwrap()
            .protect(TEXT.as_bytes(), &BTreeMap::new())
            .unwrap();
        // u1d's leave stays queued.
        let p = net.groups.get_mut("u1d").unwrap().propose_leave().unwrap();
        net.deliver_proposal("u1d", &p);
        let bob = &net.groups["bob1"];
        let epoch = bob.epoch();
        let whole = ClientGroup::from_record(&bob.to_record().unwrap(), net.trust.clone()).unwrap();
        let changes = whole.changes().unwrap();
        assert!(changes.full);
        let entries: BTreeMap<Vec<u8>, Vec<u8>> = changes
            .upserts
            .iter()
            .map(|(k, v)| {
                // Values carry the JSON tag, a past epoch's part of the message secrets none.
                let v = match v.split_first() {
                    Some((&TAG_JSON, bare)) => bare.to_vec(),
                    _ => v.clone(),
                };
                (k.clone(), v)
            })
            .collect();
        let head = head_of_format_2(&changes.head, &entries);
        let mut out = String::from(
            "# A group (bob1's) stored as entries of mimi-mls record format 2: a head, then\n\
             # every entry (key, value), then an application message sent after it was stored.\n",
        );
        out.push_str(&format!("epoch {epoch}\n"));
        out.push_str(&format!("head {}\n", hex(&head)));
        for (k, v) in &entries {
            out.push_str(&format!("entry {} {}\n", hex(k), hex(v)));
        }
        out.push_str(&format!("message {}\n", hex(&message)));
        out
    });
    std::fs::write(path(), out).unwrap();
}

struct Pinned {
    epoch: u64,
    head: Vec<u8>,
    entries: Vec<(Vec<u8>, Vec<u8>)>,
    message: Vec<u8>,
}

fn pinned() -> Pinned {
    let text = std::fs::read_to_string(path()).unwrap();
    let mut p = Pinned {
        epoch: 0,
        head: Vec::new(),
        entries: Vec::new(),
        message: Vec::new(),
    };
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let mut words = line.split(' ');
        match (words.next(), words.next(), words.next()) {
            (Some("epoch"), Some(n), None) => p.epoch = n.parse().unwrap(),
            (Some("head"), Some(h), None) => p.head = unhex(h),
            (Some("entry"), Some(k), Some(v)) => p.entries.push((unhex(k), unhex(v))),
            (Some("message"), Some(m), None) => p.message = unhex(m),
            _ => panic!("a line of no kind: {line}"),
        }
    }
    p
}

fn of_kind<'a>(entries: impl Iterator<Item = &'a Vec<u8>>, label: &[u8]) -> usize {
    entries.filter(|k| k.starts_with(label)).count()
}

#[test]
fn pinned_group_entries_of_format_2_restore_and_migrate() {
    let p = pinned();
    assert_eq!(p.head[1], 2, "a head of format 2");
    let keys = || p.entries.iter().map(|(k, _)| k);
    assert_eq!(
        of_kind(keys(), LABEL_QUEUED_PROPOSAL),
        2,
        "one stale, one queued"
    );
    assert_eq!(of_kind(keys(), LABEL_PROPOSAL_QUEUE_REFS), 1);
    for (k, v) in &p.entries {
        assert!(v.first() != Some(&TAG_JSON), "untagged JSON: {}", hex(k));
    }

    let g = ClientGroup::from_entries(&p.head, p.entries.clone(), TrustStore::new()).unwrap();
    assert_eq!(g.epoch(), p.epoch);
    assert!(g.has_pending_proposals(), "the queued proposal is kept");
    let values = g.storage_values();
    assert_eq!(
        of_kind(values.keys(), LABEL_QUEUED_PROPOSAL),
        1,
        "the proposal openmls cleared is dropped"
    );

    // Everything is handed out once, in the current codecs (the message secrets compact,
    // past epochs apart).
    let c = g.changes().unwrap();
    assert!(c.full);
    assert!(
        of_kind(c.upserts.iter().map(|(k, _)| k), LABEL_MESSAGE_SECRETS) > 1,
        "past epochs stored apart"
    );
    for (k, v) in &c.upserts {
        let kind = crate::store::labels::LABELS
            .iter()
            .copied()
            .filter(|l| k.starts_with(l))
            .max_by_key(|l| l.len())
            .unwrap();
        let (codec, _) = untag(v).unwrap();
        if kind == LABEL_MESSAGE_SECRETS {
            assert_eq!(codec, Codec::Compact, "{}", hex(k));
        } else if matches!(
            kind,
            b"Tree" | b"GroupContext" | b"GroupState" | b"EpochSecrets"
        ) {
            assert_eq!(codec, Codec::Binary, "{}", String::from_utf8_lossy(kind));
        } else {
            // A value openmls did not read at load (epoch key pairs) stays JSON until it is.
            assert!(
                codec == Codec::of_kind(kind) || codec == Codec::Json,
                "{} in {codec:?}",
                String::from_utf8_lossy(kind)
            );
        }
    }
    g.changes_saved(&c).unwrap();
    assert!(g.changes().unwrap().is_empty());

    // Stored in the current format it restores to the same values, and both decrypt.
    let restored =
        ClientGroup::from_entries(&c.head, c.upserts.clone(), TrustStore::new()).unwrap();
    assert_eq!(restored.storage_values(), g.storage_values());
    assert!(restored.changes().unwrap().is_empty());
    for mut g in [g, restored] {
        match g.process(&p.message, super::now()).unwrap() {
            Incoming::Application(m) => assert_eq!(m.data, TEXT.as_bytes()),
            other => panic!("expected the message, got {other:?}"),
        }
    }
}

#[test]
fn pinned_group_entries_of_format_2_refuse_damage() {
    let p = pinned();
    for i in [0, p.entries.len() / 2, p.entries.len() - 1] {
        let mut entries = p.entries.clone();
        let v = &mut entries[i].1;
        let n = v.len() / 2;
        v[n] ^= 1;
        let e = ClientGroup::from_entries(&p.head, entries, TrustStore::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not match its head record"), "{e}");
    }
}
