//! Golden vectors: one pinned encoding per wire type under `testing/vectors/federation/`.
//!
//! Each file holds the lowercase hex of a sample value's encoding. A missing file is written
//! from the current encoder and the test fails, saying so: review and commit it. An existing file
//! must decode and re-encode to exactly its bytes, and must equal today's encoding of the sample.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../testing/vectors/federation")
}

#[test]
fn every_wire_type_matches_its_pinned_vector() {
    let dir = vector_dir();
    let mut written = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    for sample in common::samples() {
        assert!(
            names.insert(sample.name),
            "duplicate sample {}",
            sample.name
        );
        let path = dir.join(format!("{}.hex", sample.name));
        let Ok(text) = std::fs::read_to_string(&path) else {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, format!("{}\n", hex::encode(&sample.bytes))).unwrap();
            written.push(sample.name);
            continue;
        };
        let pinned = hex::decode(text.trim()).unwrap_or_else(|e| panic!("{}: {e}", sample.name));
        let reencoded = (sample.decode)(&pinned)
            .unwrap_or_else(|e| panic!("{}: pinned vector no longer decodes: {e}", sample.name));
        assert_eq!(
            reencoded, pinned,
            "{}: pinned vector does not re-encode",
            sample.name
        );
        assert_eq!(
            sample.bytes, pinned,
            "{}: the encoder's output changed; if on purpose, delete the file and rerun",
            sample.name
        );
    }
    assert!(
        written.is_empty(),
        "golden vectors were missing and have been written (review and commit them): {written:?}"
    );
}

#[test]
fn draft_directory_example_is_pinned() {
    assert!(
        vector_dir()
            .join("draft-06-directory-example.json")
            .exists()
    );
}
