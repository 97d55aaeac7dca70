//! Our openmls storage (`store.rs`): every kind a real group, the hub and a device write is
//! kept in its kind's codec and round-trips through the stored entries and records; a stored
//! value that does not decode is an error of openmls's load, never a panic.

use std::collections::{BTreeSet, HashMap};
use std::sync::RwLock;

use openmls::group::MlsGroup;
use openmls::prelude::GroupId;

use super::entries::{room, save};
use crate::ClientGroup;
use crate::store::BinaryStorage;
use crate::store::codec::{Codec, untag};
use crate::store::labels::LABELS;
use openmls_traits::OpenMlsProvider as _;

/// The kind (label) of a storage key: the longest label it starts with.
fn kind_of(key: &[u8]) -> &'static [u8] {
    LABELS
        .iter()
        .copied()
        .filter(|l| key.starts_with(l))
        .max_by_key(|l| l.len())
        .unwrap_or_else(|| panic!("a key of no kind: {}", String::from_utf8_lossy(key)))
}

fn name(label: &[u8]) -> String {
    String::from_utf8_lossy(label).into_owned()
}

/// Every value is tagged with its kind's codec; returns the kinds seen.
fn check_codecs(who: &str, values: &HashMap<Vec<u8>, Vec<u8>>) -> BTreeSet<String> {
    let mut kinds = BTreeSet::new();
    for (k, v) in values {
        let kind = kind_of(k);
        let (codec, _) = untag(v).unwrap();
        assert_eq!(codec, Codec::of_kind(kind), "{who}: {}", name(kind));
        kinds.insert(name(kind));
    }
    kinds
}

#[test]
fn every_kind_written_is_in_its_codec_and_round_trips() {
    let (mut net, mut db) = room(2, 4);
    net.message("alice1", "before");
    // A queued proposal (SelfRemove of u1d) in every other member's store.
    let p = net.groups.get_mut("u1d").unwrap().propose_leave().unwrap();
    net.deliver_proposal("u1d", &p);

    let mut kinds = BTreeSet::new();
    for d in ["alice1", "bob1"] {
        kinds.extend(check_codecs(d, &net.groups[d].storage_values()));
    }
    let hub = check_codecs("hub", &net.hub().storage_values());
    for k in [
        "Tree",
        "GroupContext",
        "InterimTranscriptHash",
        "ConfirmationTag",
    ] {
        assert!(hub.contains(k), "the hub stores {k}: {hub:?}");
    }
    kinds.extend(hub);
    let device = check_codecs(
        "device",
        &net.clients["bob1"].provider.storage().read_lock().unwrap(),
    );
    kinds.extend(device);
    // A device's unused KeyPackage and its private keys.
    net.kp("bob1");
    let device = check_codecs(
        "device",
        &net.clients["bob1"].provider.storage().read_lock().unwrap(),
    );
    assert!(device.contains("KeyPackage"), "{device:?}");
    kinds.extend(device);
    for k in [
        "Tree",
        "GroupContext",
        "InterimTranscriptHash",
        "ConfirmationTag",
        "GroupState",
        "MessageSecrets",
        "EpochSecrets",
        "EpochKeyPairs",
        "ResumptionPsk",
        "OwnLeafNodeIndex",
        "MlsGroupJoinConfig",
        "QueuedProposal",
        "ProposalQueueRefs",
        "KeyPackage",
    ] {
        assert!(kinds.contains(k), "{k} written somewhere: {kinds:?}");
    }
    eprintln!("kinds written: {kinds:?}");

    // The stored entries and the whole records restore the same values; the restored groups
    // carry on: the queued proposal is committed, a message goes round.
    for d in ["alice1", "bob1"] {
        save(&net, &mut db, d);
        let restored = db[d].restore(&net).unwrap();
        assert_eq!(
            restored.storage_values(),
            net.groups[d].storage_values(),
            "{d}"
        );
        let whole =
            ClientGroup::from_record(&net.groups[d].to_record().unwrap(), net.trust.clone())
                .unwrap();
        assert_eq!(
            whole.storage_values(),
            net.groups[d].storage_values(),
            "{d}"
        );
        net.groups.insert(d.to_string(), restored);
    }
    let hub =
        crate::HubGroup::from_record(&net.hub().to_record().unwrap(), net.trust.clone()).unwrap();
    assert_eq!(hub.storage_values(), net.hub().storage_values());
    let device =
        crate::ClientIdentity::from_record(&net.clients["bob1"].to_record().unwrap()).unwrap();
    assert_eq!(
        *device.provider.storage().read_lock().unwrap(),
        *net.clients["bob1"].provider.storage().read_lock().unwrap()
    );
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[], &[], &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &[]);
    assert!(!net.groups["u1d"].is_active(), "u1d left");
    net.message("bob1", "after");
    net.assert_consistent();
}

/// The binary tree is far smaller than openmls's JSON of it (bytes as numbers).
#[test]
fn the_tree_is_stored_compactly() {
    let (net, _) = room(8, 0);
    let values = net.groups["bob1"].storage_values();
    let (k, tree) = values.iter().find(|(k, _)| kind_of(k) == b"Tree").unwrap();
    let exported = net.groups["bob1"].ratchet_tree().unwrap();
    eprintln!(
        "10 members: tree entry {} octets, TLS ratchet tree {} octets ({})",
        tree.len(),
        exported.len(),
        name(k)
    );
    assert!(
        tree.len() < exported.len() * 2,
        "{} vs {}",
        tree.len(),
        exported.len()
    );
}

/// Each kind openmls reads when loading a group, damaged four ways (cut short, an octet too
/// many, an unknown codec tag, empty): the load fails with an error.
#[test]
fn a_value_that_does_not_decode_is_an_error_not_a_panic() {
    let (net, _) = room(1, 2);
    let values = net.groups["bob1"].storage_values();
    let gid = GroupId::from_slice(net.groups["bob1"].group_id());
    let load = |values: HashMap<Vec<u8>, Vec<u8>>| {
        let storage = BinaryStorage {
            values: RwLock::new(values),
        };
        MlsGroup::load(&storage, &gid).map(|g| g.is_some())
    };
    assert!(matches!(load(values.clone()), Ok(true)));
    let mut tried = BTreeSet::new();
    for (k, v) in &values {
        let kind = name(kind_of(k));
        if !matches!(
            kind.as_str(),
            "Tree"
                | "GroupContext"
                | "InterimTranscriptHash"
                | "ConfirmationTag"
                | "GroupState"
                | "MessageSecrets"
                | "EpochSecrets"
                | "ResumptionPsk"
                | "OwnLeafNodeIndex"
                | "MlsGroupJoinConfig"
        ) {
            continue;
        }
        let short = v[..v.len() - 1].to_vec();
        let mut long = v.clone();
        long.push(7);
        let mut tag = v.clone();
        tag[0] = 7;
        for (how, bad) in [
            ("short", short),
            ("long", long),
            ("tag", tag),
            ("empty", vec![]),
        ] {
            let mut damaged = values.clone();
            damaged.insert(k.clone(), bad);
            assert!(load(damaged).is_err(), "{kind} {how} loads");
        }
        tried.insert(kind);
    }
    assert_eq!(tried.len(), 10, "{tried:?}");
}

/// The fields of a JSON object, sorted.
fn fields(v: &serde_json::Value) -> Vec<&str> {
    let mut f: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    f.sort_unstable();
    f
}

/// openmls's `MessageSecretsStore` as `tracked/split/compact.rs` and the compact codec rely
/// on it (a past-epoch array of objects with an `epoch`, the secret tree's per-member slots
/// as arrays that are mostly empty): an openmls upgrade that changes it fails here rather
/// than storing the message secrets whole or large.
#[test]
fn a_real_message_secrets_value_has_the_shape_split_relies_on() {
    use crate::store::compact;

    let (mut net, _) = room(5, 4);
    net.message("alice1", "hello");
    let values = net.groups["bob1"].storage_values();
    let (_, v) = values
        .iter()
        .find(|(k, _)| kind_of(k) == b"MessageSecrets")
        .unwrap();
    let (codec, bare) = untag(v).unwrap();
    assert_eq!(codec, Codec::Compact);
    let v = compact::decode(bare).unwrap();
    assert_eq!(
        fields(&v),
        ["max_epochs", "message_secrets", "past_epoch_trees"]
    );
    let secrets_fields = [
        "added_at",
        "confirmation_key",
        "membership_key",
        "secret_tree",
        "sender_data_secret",
        "serialized_context",
    ];
    let tree_fields = [
        "application_sender_ratchets",
        "handshake_sender_ratchets",
        "leaf_nodes",
        "own_index",
        "parent_nodes",
        "size",
    ];
    let check_secrets = |s: &serde_json::Value, what: &str| {
        assert_eq!(fields(s), secrets_fields, "{what}");
        let tree = &s["secret_tree"];
        assert_eq!(fields(tree), tree_fields, "{what}");
        // Eight leaves for seven members: a slot per leaf, most of them empty.
        for slots in [
            "leaf_nodes",
            "parent_nodes",
            "handshake_sender_ratchets",
            "application_sender_ratchets",
        ] {
            let a = tree[slots].as_array().unwrap();
            assert_eq!(a.len(), 8, "{what} {slots}");
            assert!(
                a.iter().filter(|s| s.is_null()).count() >= 4,
                "{what} {slots}"
            );
        }
    };
    check_secrets(&v["message_secrets"], "current epoch");
    let past = v["past_epoch_trees"].as_array().unwrap();
    assert_eq!(past.len(), crate::config::MAX_PAST_EPOCHS);
    for p in past {
        assert_eq!(fields(p), ["epoch", "leaves", "message_secrets"]);
        assert!(p["epoch"].is_u64(), "{}", p["epoch"]);
        assert_eq!(p["leaves"].as_array().unwrap().len(), 7);
        check_secrets(&p["message_secrets"], "past epoch");
    }
}
