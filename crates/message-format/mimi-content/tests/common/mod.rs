//! Shared helpers of the integration tests: the vector-file reader and a deterministic RNG.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use rand::{CryptoRng, RngCore};

/// `testing/vectors/content/` in the repository.
pub(crate) fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../testing/vectors/content")
}

/// The text of one vector file.
pub(crate) fn read_vector(name: &str) -> String {
    let path = vector_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The fields of a vector file: `key: value  # comment` lines, and blocks (`key:` followed by
/// lines up to a blank line) whose lines are joined without whitespace (hex blocks).
pub(crate) fn fields(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(first) = line.chars().next() else {
            continue;
        };
        if !first.is_ascii_lowercase() {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        if key.contains(char::is_whitespace) && !key.contains('(') {
            continue;
        }
        let key = key.split_whitespace().next().unwrap_or_default().to_owned();
        let value = value.split('#').next().unwrap_or_default().trim();
        if value.is_empty() {
            let mut block = String::new();
            while let Some(next) = lines.peek() {
                if next.trim().is_empty() {
                    break;
                }
                block.push_str(next.trim());
                lines.next();
            }
            out.insert(key, block);
        } else {
            out.insert(key, value.to_owned());
        }
    }
    out
}

/// A field as bytes (hex).
pub(crate) fn hex_field(fields: &BTreeMap<String, String>, key: &str) -> Vec<u8> {
    let value = fields
        .get(key)
        .unwrap_or_else(|| panic!("vector has no {key}"));
    hex::decode(value).unwrap_or_else(|e| panic!("{key} is not hex: {e}"))
}

/// The names of the draft -08 example files with a message ID.
pub(crate) fn content_vectors() -> Vec<(String, BTreeMap<String, String>)> {
    let mut names: Vec<_> = std::fs::read_dir(vector_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("mimi-content-08-") && n.ends_with(".txt"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let f = fields(&read_vector(&n));
            (n, f)
        })
        .filter(|(_, f)| f.contains_key("message_id"))
        .collect()
}

/// A deterministic RNG for tests (splitmix64); marked cryptographic only so the builders accept
/// it. Never use outside tests.
pub(crate) struct TestRng(pub(crate) u64);

impl RngCore for TestRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl CryptoRng for TestRng {}
