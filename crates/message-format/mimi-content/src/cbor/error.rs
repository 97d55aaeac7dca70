//! Why a byte string is not deterministic, well-formed MIMI CBOR.

/// A refusal of the strict CBOR reader. `at` is the byte offset of the offending item.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CborError {
    /// The input ended inside an item.
    #[error("CBOR input ends inside the item at byte {at}: the message is truncated")]
    Truncated {
        /// Offset of the incomplete item.
        at: usize,
    },
    /// Bytes follow the single top-level item.
    #[error("{remaining} trailing bytes after the CBOR item, at byte {at}: send exactly one item")]
    TrailingBytes {
        /// Offset of the first extra byte.
        at: usize,
        /// How many bytes follow the item.
        remaining: usize,
    },
    /// Additional information 28, 29 or 30 (reserved, not well-formed).
    #[error("reserved additional information in the header at byte {at}: not well-formed CBOR")]
    ReservedAdditionalInfo {
        /// Offset of the header.
        at: usize,
    },
    /// An indefinite-length string, array or map (forbidden by RFC 8949 §4.2.1).
    #[error("indefinite-length item at byte {at}: deterministic CBOR needs definite lengths")]
    IndefiniteLength {
        /// Offset of the header.
        at: usize,
    },
    /// A "break" outside an indefinite-length item.
    #[error("unexpected break (0xFF) at byte {at}")]
    UnexpectedBreak {
        /// Offset of the break.
        at: usize,
    },
    /// An integer encoded in more bytes than needed.
    #[error("integer at byte {at} is not in its shortest form (RFC 8949 §4.2.1)")]
    NonMinimalInteger {
        /// Offset of the header.
        at: usize,
    },
    /// A string, array or map length encoded in more bytes than needed.
    #[error("length at byte {at} is not in its shortest form (RFC 8949 §4.2.1)")]
    NonMinimalLength {
        /// Offset of the header.
        at: usize,
    },
    /// A tag number encoded in more bytes than needed.
    #[error("tag number at byte {at} is not in its shortest form (RFC 8949 §4.2.1)")]
    NonMinimalTag {
        /// Offset of the header.
        at: usize,
    },
    /// A float that a shorter float encoding represents exactly.
    #[error("float at byte {at} is not in the shortest form that keeps its value")]
    NonShortestFloat {
        /// Offset of the header.
        at: usize,
    },
    /// A NaN other than the half-precision quiet NaN `0xF97E00`.
    #[error("NaN at byte {at} is not the canonical 0xF97E00")]
    NonCanonicalNaN {
        /// Offset of the header.
        at: usize,
    },
    /// A two-byte simple value below 32 (not well-formed) or a one-byte 24..=31.
    #[error("invalid simple value {value} at byte {at}")]
    InvalidSimpleValue {
        /// Offset of the header.
        at: usize,
        /// The simple value.
        value: u8,
    },
    /// A text string that is not valid UTF-8.
    #[error("text string at byte {at} is not valid UTF-8")]
    InvalidUtf8 {
        /// Offset of the string header.
        at: usize,
    },
    /// Map keys out of bytewise-lexicographic order of their encodings.
    #[error(
        "map key at byte {at} sorts before the previous key: keys must be in deterministic order"
    )]
    UnsortedMapKeys {
        /// Offset of the key.
        at: usize,
    },
    /// The same key twice in one map.
    #[error("map key at byte {at} repeats the previous key: one entry per key")]
    DuplicateMapKey {
        /// Offset of the key.
        at: usize,
    },
    /// A map key that is not an integer, text or byte string.
    #[error("map key at byte {at} is not an integer, text or byte string")]
    MapKeyType {
        /// Offset of the key.
        at: usize,
    },
    /// An integer map key outside ±(2^53−1).
    #[error("integer map key at byte {at} is outside ±(2^53−1)")]
    MapKeyOutOfRange {
        /// Offset of the key.
        at: usize,
    },
    /// Arrays, maps and tags nested deeper than the reader allows.
    #[error("CBOR nested deeper than {limit} levels at byte {at}")]
    TooDeep {
        /// Offset of the item that is too deep.
        at: usize,
        /// The limit.
        limit: usize,
    },
    /// A bignum tag (2 or 3) whose content is not a byte string.
    #[error("bignum tag at byte {at} does not wrap a byte string")]
    BignumNotBytes {
        /// Offset of the tag.
        at: usize,
    },
    /// A bignum with leading zero bytes.
    #[error("bignum at byte {at} has leading zero bytes")]
    BignumLeadingZero {
        /// Offset of the tag.
        at: usize,
    },
    /// A bignum whose value fits in a plain integer (major type 0 or 1).
    #[error("bignum at byte {at} fits in a plain integer: encode it as one")]
    BignumFitsInInteger {
        /// Offset of the tag.
        at: usize,
    },
}
