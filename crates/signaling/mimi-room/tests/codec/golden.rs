//! Pinned vectors and the drafts' documented layouts.

use std::path::PathBuf;

use crate::common::*;
use mimi_room::components::*;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../testing/vectors/room")
}

/// Compares `bytes` with the pinned vector `name`; writes it (and fails) if it is missing.
fn golden(name: &str, bytes: &[u8]) -> Vec<u8> {
    let path = vectors_dir().join(format!("{name}.hex"));
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let pinned = hex::decode(text.trim()).expect("vector file is hex");
            assert_eq!(
                hex::encode(bytes),
                hex::encode(&pinned),
                "encoding of {name} differs from the pinned vector {}",
                path.display()
            );
            pinned
        }
        Err(_) => {
            std::fs::create_dir_all(vectors_dir()).unwrap();
            std::fs::write(&path, format!("{}\n", hex::encode(bytes))).unwrap();
            panic!(
                "golden vector {} was missing and has been written; check it in and rerun",
                path.display()
            );
        }
    }
}

#[test]
fn every_component_matches_its_pinned_vector_and_round_trips() {
    let mut missing = Vec::new();
    for (name, bytes, codec) in samples() {
        let Ok(pinned) = std::panic::catch_unwind(|| golden(name, &bytes)) else {
            missing.push(name);
            continue;
        };
        assert_eq!(
            codec(&pinned).unwrap(),
            pinned,
            "{name} re-encodes differently"
        );
    }
    assert!(
        missing.is_empty(),
        "vectors written or mismatched: {missing:?}"
    );
}

#[test]
fn participant_list_vector_is_the_documented_layout() {
    // varint vector length, then per entry: varint-length user URI, uint32 role.
    let list = ParticipantList {
        participants: vec![UserRolePair::new(
            user("mimi://a.example/u/al"),
            RoleIndex(2),
        )],
    };
    let uri = b"mimi://a.example/u/al";
    let mut expected = vec![(1 + uri.len() + 4) as u8, uri.len() as u8];
    expected.extend_from_slice(uri);
    expected.extend_from_slice(&[0, 0, 0, 2]);
    assert_eq!(list.encode(), expected);
}

#[test]
fn hub_retracted_range_layout_is_the_drafts() {
    // uint64 timestamp; IdentityUri remover (varint length + text); optional<uint8> absent;
    // IdentityUri sender; optional<uint64> present.
    let v = HubRetractedRange {
        hub_retracted_timestamp: 1,
        remover_uri: user("mimi://h.example/u/e"),
        reason_code: None,
        abusive_sender_uri: user("mimi://b.example/u/m"),
        starting_timestamp: Some(2),
    };
    let mut expected = 1u64.to_be_bytes().to_vec();
    expected.push(20);
    expected.extend_from_slice(b"mimi://h.example/u/e");
    expected.push(0);
    expected.push(20);
    expected.extend_from_slice(b"mimi://b.example/u/m");
    expected.push(1);
    expected.extend_from_slice(&2u64.to_be_bytes());
    assert_eq!(v.encode(), expected);
}
