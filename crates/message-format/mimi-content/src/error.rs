//! Errors of decoding and validating MIMI content, split by cause.

use crate::cbor::CborError;

/// Why received bytes are not acceptable MIMI content (the peer misbehaved).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes are not deterministic, well-formed CBOR.
    #[error("invalid CBOR: {0}")]
    Cbor(#[from] CborError),
    /// The CBOR does not have the shape the CDDL requires.
    #[error("not MIMI content: {0}")]
    Shape(#[from] ShapeError),
    /// The content breaks a rule of the draft.
    #[error("invalid MIMI content: {0}")]
    Invalid(#[from] ValidationError),
}

/// The CBOR item does not match the CDDL of MIMI content or of a status report.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ShapeError {
    /// An array has the wrong number of elements.
    #[error("{what} must be an array of {expected} elements, found {found}")]
    ArrayLength {
        /// The structure.
        what: &'static str,
        /// The length the CDDL requires.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// A field has the wrong CBOR type.
    #[error("{field} must be {expected}")]
    WrongType {
        /// The field.
        field: &'static str,
        /// What the CDDL requires.
        expected: &'static str,
    },
    /// An integer field is larger than its `.size` allows.
    #[error("{field} is {found}, larger than its maximum {max}")]
    OutOfRange {
        /// The field.
        field: &'static str,
        /// The value found.
        found: u64,
        /// The maximum.
        max: u64,
    },
    /// The salt is not exactly 16 bytes.
    #[error("salt must be exactly 16 bytes, found {found}")]
    SaltLength {
        /// Length found.
        found: usize,
    },
    /// A message ID is not exactly 32 bytes.
    #[error("{field} must be a 32-byte message ID, found {found} bytes")]
    MessageIdLength {
        /// The field.
        field: &'static str,
        /// Length found.
        found: usize,
    },
    /// A cardinality other than 0..=3.
    #[error(
        "unknown part cardinality {0}: must be 0 (null), 1 (single), 2 (external) or 3 (multi)"
    )]
    UnknownCardinality(u64),
    /// A partSemantics other than 0..=2 (the draft treats it as malicious).
    #[error("unknown partSemantics {0}: must be 0 (chooseOne), 1 (singleUnit) or 2 (processAll)")]
    UnknownPartSemantics(u64),
    /// A NestedPart array whose length does not match its cardinality.
    #[error("a part of cardinality {cardinality} must have {expected} elements, found {found}")]
    PartLength {
        /// The cardinality.
        cardinality: u8,
        /// Elements required.
        expected: usize,
        /// Elements found.
        found: usize,
    },
}

/// A rule of draft-ietf-mimi-content-08 (digest §5.4, §7.1) that the content breaks. `part` is
/// the depth-first `partIndex` of the offending part.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// The salt is all zeros, so it was not generated randomly.
    #[error("salt is all zeros: generate it with a cryptographically secure RNG")]
    SaltNotRandom,
    /// NestedParts nest deeper than 4 levels.
    #[error("parts nest {depth} levels deep; at most {limit} are allowed")]
    NestingTooDeep {
        /// Depth found (the root part is level 1).
        depth: usize,
        /// The limit.
        limit: usize,
    },
    /// More body parts than receivers accept.
    #[error("{count} body parts; at most {limit} are allowed")]
    TooManyParts {
        /// Parts found.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A MultiPart with fewer than two parts.
    #[error("part {part} is a multipart with {found} parts; at least 2 are required")]
    TooFewParts {
        /// Index of the multipart.
        part: usize,
        /// Parts found.
        found: usize,
    },
    /// The topic ID is longer than receivers accept.
    #[error("topicId is {len} bytes; at most {limit} are allowed")]
    TopicIdTooLong {
        /// Length found.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// An extension value nests deeper than 4 levels (the extensions map being level 1).
    #[error("extension {key} nests {depth} levels deep; at most {limit} are allowed")]
    ExtensionsTooDeep {
        /// The key, printed.
        key: String,
        /// Depth found, counting the extensions map as level 1.
        depth: usize,
        /// The limit.
        limit: usize,
    },
    /// Extension key 0 (reserved).
    #[error("extension key 0 is reserved")]
    ExtensionKeyReserved,
    /// A text extension key that is empty or longer than 255 octets.
    #[error("text extension key of {len} octets; it must be 1..=255 octets")]
    ExtensionKeyTextLength {
        /// Length found.
        len: usize,
    },
    /// A byte-string key at the top of the extensions map (only int or tstr allowed).
    #[error("extension keys must be integers or text strings, not byte strings")]
    ExtensionKeyBytes,
    /// An integer map key outside ±(2^53−1).
    #[error("integer map key {key} is outside ±(2^53−1)")]
    MapKeyOutOfRange {
        /// The key.
        key: i64,
    },
    /// A registered extension with a value of the wrong type.
    #[error("extension {key} must be {expected}")]
    ExtensionValueType {
        /// The key.
        key: i64,
        /// What the registry requires.
        expected: &'static str,
    },
    /// A `cid:` reference to a part that does not exist.
    #[error("part {part} references cid:{target}@local.invalid, which does not exist")]
    CidTargetMissing {
        /// The part containing the reference.
        part: usize,
        /// The referenced partIndex.
        target: usize,
    },
    /// A `cid:` reference to a part that is not a SinglePart or ExternalPart.
    #[error(
        "part {part} references cid:{target}@local.invalid, which is not a single or external part"
    )]
    CidTargetNotLeaf {
        /// The part containing the reference.
        part: usize,
        /// The referenced partIndex.
        target: usize,
    },
    /// Several reactions concatenated in one text part.
    #[error(
        "part {part} holds several reactions in one text part; send a processAll multipart or separate messages"
    )]
    ConcatenatedReactions {
        /// The reaction part.
        part: usize,
    },
    /// A UTF-8 text part whose content is not UTF-8.
    #[error("part {part} declares UTF-8 text but its content is not valid UTF-8")]
    TextNotUtf8 {
        /// The part.
        part: usize,
    },
    /// An unencrypted external part (encAlg 0) with a key, nonce or aad.
    #[error("part {part} is not encrypted (encAlg 0) but carries a key, nonce or aad")]
    UnencryptedPartHasKeyMaterial {
        /// The part.
        part: usize,
    },
    /// An AEAD key of the wrong length for its algorithm.
    #[error("part {part} has a {found}-byte key; its algorithm needs {expected}")]
    KeyLength {
        /// The part.
        part: usize,
        /// Length required.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// An AEAD nonce of the wrong length for its algorithm.
    #[error("part {part} has a {found}-byte nonce; its algorithm needs {expected}")]
    NonceLength {
        /// The part.
        part: usize,
        /// Length required.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// A content hash of the wrong length for its algorithm.
    #[error("part {part} has a {found}-byte content hash; its algorithm gives {expected}")]
    ContentHashLength {
        /// The part.
        part: usize,
        /// Length required.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// An absolute expiry more than a year in the past.
    #[error("message expired at {expires}, more than a year before now ({now})")]
    ExpiryFarInPast {
        /// The absolute expiry (UNIX seconds).
        expires: u64,
        /// Now (UNIX seconds).
        now: u64,
    },
    /// An expiry more than a year in the future.
    #[error("message expires at {expires}, more than a year after now ({now})")]
    ExpiryFarInFuture {
        /// The expiry (UNIX seconds; relative expiries are counted from now).
        expires: u64,
        /// Now (UNIX seconds).
        now: u64,
    },
}
