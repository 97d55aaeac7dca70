//! The data model of `mimiContent` (digest §5.1), one struct per CDDL rule.

use std::collections::BTreeMap;
use std::fmt;

use rand::{CryptoRng, RngCore};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::cbor::{MapKey, Value};
use crate::codepoints::{AeadAlgorithm, Disposition, HashAlgorithm, extension_key};
use crate::message_id::MessageId;

/// A MIMI content message: the 7-element top-level array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MimiContent {
    /// Per-message random salt (16 bytes, MUST be random).
    pub salt: Salt,
    /// The first version of the message this one edits, deletes or unlikes.
    pub replaces: Option<MessageId>,
    /// Topic (thread) identifier; empty for none.
    pub topic_id: Vec<u8>,
    /// Deletion hint.
    pub expires: Option<Expiration>,
    /// The message version this one replies (or reacts) to.
    pub in_reply_to: Option<MessageId>,
    /// The extensions map (key 1 senderUri, key 2 roomUri, ...).
    pub extensions: Extensions,
    /// The body.
    pub nested_part: NestedPart,
}

/// The 16-byte per-message salt.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Salt(pub [u8; 16]);

impl Salt {
    /// Length in bytes.
    pub const LEN: usize = 16;

    /// A fresh salt from a cryptographically secure RNG.
    pub fn random<R: RngCore + CryptoRng>(rng: &mut R) -> Self {
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        Self(salt)
    }
}

impl fmt::Debug for Salt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Salt(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

/// When a message should be deleted (cooperative hint).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiration {
    /// `false`: `time` is absolute UNIX seconds; `true`: seconds after the message is read.
    pub relative: bool,
    /// Seconds (absolute or relative).
    pub time: u32,
}

/// The extensions map. Keys are non-zero integers or 1..=255-octet text strings; values any
/// CBOR up to 4 levels deep (the map itself being level 1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extensions(pub BTreeMap<MapKey, Value>);

impl Extensions {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The map with the `senderUri` (1) and `roomUri` (2) entries.
    pub fn with_uris(sender_uri: &str, room_uri: &str) -> Self {
        let mut map = Self::new();
        map.set_sender_uri(sender_uri);
        map.set_room_uri(room_uri);
        map
    }

    /// The `senderUri` entry, if present and a text string.
    pub fn sender_uri(&self) -> Option<&str> {
        self.0
            .get(&MapKey::Int(extension_key::SENDER_URI))
            .and_then(Value::as_text)
    }

    /// The `roomUri` entry, if present and a text string.
    pub fn room_uri(&self) -> Option<&str> {
        self.0
            .get(&MapKey::Int(extension_key::ROOM_URI))
            .and_then(Value::as_text)
    }

    /// Sets `senderUri`.
    pub fn set_sender_uri(&mut self, uri: &str) {
        self.insert(extension_key::SENDER_URI, Value::text(uri));
    }

    /// Sets `roomUri`.
    pub fn set_room_uri(&mut self, uri: &str) {
        self.insert(extension_key::ROOM_URI, Value::text(uri));
    }

    /// Inserts or replaces an entry (one entry per key).
    pub fn insert(&mut self, key: impl Into<MapKey>, value: Value) {
        self.0.insert(key.into(), value);
    }

    /// The entry for a key.
    pub fn get(&self, key: &MapKey) -> Option<&Value> {
        self.0.get(key)
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A body part: disposition, language, and what the cardinality says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NestedPart {
    /// How to present the part.
    pub disposition: Disposition,
    /// "" or comma-separated RFC 5646 language tags.
    pub language: String,
    /// The cardinality-specific fields.
    pub body: PartBody,
}

/// The cardinality of a [`NestedPart`] with its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartBody {
    /// Cardinality 0: no content (delete, unlike).
    Null,
    /// Cardinality 1: inline content.
    Single(SinglePart),
    /// Cardinality 2: content at a URL.
    External(Box<ExternalPart>),
    /// Cardinality 3: two or more parts.
    Multi(MultiPart),
}

impl PartBody {
    /// The cardinality value on the wire.
    pub fn cardinality(&self) -> u8 {
        match self {
            PartBody::Null => 0,
            PartBody::Single(_) => 1,
            PartBody::External(_) => 2,
            PartBody::Multi(_) => 3,
        }
    }
}

/// Inline content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinglePart {
    /// Media type with parameters, e.g. `text/plain;charset=utf-8`.
    pub content_type: String,
    /// The content bytes.
    pub content: Vec<u8>,
}

/// Content stored at a URL, optionally encrypted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalPart {
    /// Media type ("" if unknown).
    pub content_type: String,
    /// Where to download the (encrypted) object.
    pub url: String,
    /// UNIX seconds after which the URL stops working; 0 for never.
    pub expires: u32,
    /// Size of the object at the URL in octets; 0 if unknown.
    pub size: u64,
    /// AEAD algorithm; [`AeadAlgorithm::NONE`] if not encrypted.
    pub enc_alg: AeadAlgorithm,
    /// The AEAD key.
    pub key: AttachmentKey,
    /// The AEAD nonce.
    pub nonce: Vec<u8>,
    /// The AEAD additional data (usually empty).
    pub aad: Vec<u8>,
    /// Hash algorithm of `content_hash`.
    pub hash_alg: HashAlgorithm,
    /// Hash of the object at the URL (the encrypted bytes, as downloaded).
    pub content_hash: Vec<u8>,
    /// Human-readable description.
    pub description: String,
    /// Suggested file name.
    pub filename: String,
}

/// Secret AEAD key bytes of an [`ExternalPart`]: zeroised on drop, never printed.
#[derive(Clone, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct AttachmentKey(pub Vec<u8>);

impl AttachmentKey {
    /// The key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for AttachmentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AttachmentKey({} bytes, redacted)", self.0.len())
    }
}

/// Two or more parts with their combined meaning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MultiPart {
    /// How the parts relate.
    pub semantics: PartSemantics,
    /// The parts (at least two).
    pub parts: Vec<NestedPart>,
}

/// `partSemantics`. Unknown values are refused (the draft calls them malicious).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PartSemantics {
    /// 0: alternatives, the receiver picks one (≈ multipart/alternative).
    ChooseOne,
    /// 1: process all or none (≈ multipart/related).
    SingleUnit,
    /// 2: process every part (≈ multipart/mixed).
    ProcessAll,
}

impl PartSemantics {
    /// The wire value.
    pub fn value(self) -> u8 {
        match self {
            PartSemantics::ChooseOne => 0,
            PartSemantics::SingleUnit => 1,
            PartSemantics::ProcessAll => 2,
        }
    }

    /// The semantics of a wire value, if known.
    pub fn from_value(value: u64) -> Option<Self> {
        match value {
            0 => Some(PartSemantics::ChooseOne),
            1 => Some(PartSemantics::SingleUnit),
            2 => Some(PartSemantics::ProcessAll),
            _ => None,
        }
    }
}

impl NestedPart {
    /// Visits this part and every part inside it depth-first, with its `partIndex` (the root
    /// is 0) and its nesting level (the root is 1).
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(usize, usize, &'a NestedPart)) {
        fn go<'a>(
            part: &'a NestedPart,
            level: usize,
            next: &mut usize,
            visit: &mut impl FnMut(usize, usize, &'a NestedPart),
        ) {
            let index = *next;
            *next += 1;
            visit(index, level, part);
            if let PartBody::Multi(multi) = &part.body {
                for child in &multi.parts {
                    go(child, level + 1, next, visit);
                }
            }
        }
        let mut next = 0;
        go(self, 1, &mut next, visit);
    }

    /// The part with a given depth-first `partIndex`.
    pub fn part_at(&self, index: usize) -> Option<&NestedPart> {
        let mut found = None;
        self.walk(&mut |i, _, part| {
            if i == index {
                found = Some(part);
            }
        });
        found
    }
}
