//! Errors of this crate, split by cause: bytes a peer sent that we refuse ([`DecodeError`]),
//! values a caller asked us to send that the protocol cannot carry ([`EncodeError`]), bad HTTP
//! path parameters ([`PathError`]) and bad directory documents ([`DirectoryError`]).

use mimi_types::UriError;

/// Why received bytes are not a valid MIMI message. Every variant names the field (`what`) so a
/// peer can be told exactly what it sent wrong; each refused rule has its own variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended inside a field.
    #[error("truncated input: {what} needs {needed} more bytes but only {remaining} remain")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input (or in the enclosing vector).
        remaining: usize,
    },
    /// Bytes were left after a complete message (or after the last element of a vector).
    #[error("{count} trailing bytes after {what}: the message must end here")]
    TrailingBytes {
        /// The message or vector that should have ended.
        what: &'static str,
        /// How many bytes were left over.
        count: usize,
    },
    /// A variable-length integer used more bytes than its value needs (RFC 9420 §2.1.2).
    #[error("non-minimal length prefix for {what}: {value} was encoded in {len_bytes} bytes")]
    NonMinimalLength {
        /// The vector whose length is wrong.
        what: &'static str,
        /// The decoded length.
        value: usize,
        /// How many bytes the prefix used.
        len_bytes: usize,
    },
    /// A variable-length integer starts with the invalid prefix `0b11` (RFC 9420 §2.1.2).
    #[error("invalid length prefix for {what}: the two high bits 0b11 are not allowed in MLS")]
    InvalidLengthPrefix {
        /// The vector whose length is wrong.
        what: &'static str,
    },
    /// A vector or the whole body is longer than this implementation accepts.
    #[error("{what} is {len} bytes long; at most {max} are accepted")]
    TooLong {
        /// The field.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The cap (see [`crate::limits`]).
        max: usize,
    },
    /// A list has more elements than this implementation accepts.
    #[error("{what} has more than {max} elements")]
    TooManyItems {
        /// The list.
        what: &'static str,
        /// The cap (see [`crate::limits`]).
        max: usize,
    },
    /// An enumeration value that the protocol does not define.
    #[error("unknown {what} value {value}: this implementation knows no such value")]
    UnknownValue {
        /// The enumeration.
        what: &'static str,
        /// The value received.
        value: u64,
    },
    /// An enumeration value the protocol reserves (usually 0).
    #[error("{what} value {value} is reserved and may not be sent")]
    ReservedValue {
        /// The enumeration.
        what: &'static str,
        /// The value received.
        value: u64,
    },
    /// An `optional<T>` presence byte other than 0 or 1.
    #[error("invalid presence byte {value} for optional {what}: must be 0 or 1")]
    InvalidOptional {
        /// The optional field.
        what: &'static str,
        /// The byte received.
        value: u8,
    },
    /// A text field is not UTF-8.
    #[error("{what} is not valid UTF-8")]
    InvalidUtf8 {
        /// The field.
        what: &'static str,
    },
    /// A list that must have at least one element is empty.
    #[error("{what} must not be empty")]
    EmptyList {
        /// The list.
        what: &'static str,
    },
    /// Components of an `AppDataDictionary` are not strictly sorted by ID.
    #[error(
        "{what}: component 0x{id:04x} is out of order or repeated; ids must be strictly increasing"
    )]
    UnsortedComponents {
        /// The dictionary.
        what: &'static str,
        /// The offending component ID.
        id: u16,
    },
    /// An MLS object has a protocol version other than mls10.
    #[error("{what} has MLS protocol version {version}; only mls10 (1) is supported")]
    UnsupportedMlsVersion {
        /// The MLS object.
        what: &'static str,
        /// The version received.
        version: u16,
    },
    /// An MLSMessage of the wrong kind for its field (e.g. a Welcome where a commit belongs).
    #[error("{what} must be {expected}, found {found}")]
    WrongMlsMessage {
        /// The field.
        what: &'static str,
        /// What the protocol requires there.
        expected: &'static str,
        /// What was received.
        found: String,
    },
    /// A KeyMaterialResponse lists clients although its user code forbids it (protocol-06 §5.2).
    #[error(
        "the clients list must be empty for user status {user_status}: only success, \
         partialSuccess and noCompatibleMaterial may carry clients"
    )]
    ClientsNotAllowed {
        /// The user status code received.
        user_status: &'static str,
    },
    /// A consent body carries an operation that its endpoint does not take (protocol-06 §5.7).
    #[error("{endpoint} does not take consent operation {operation}")]
    WrongConsentOperation {
        /// The endpoint.
        endpoint: &'static str,
        /// The operation received.
        operation: &'static str,
    },
    /// A body that must carry at least one message is empty.
    #[error("empty {what}: at least one element is required")]
    EmptyBody {
        /// The body.
        what: &'static str,
    },
}

/// Why a value cannot be encoded: it breaks a rule the decoder would enforce, so sending it would
/// make the peer refuse it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A field is longer than the protocol or this implementation allows.
    #[error("{what} is {len} bytes long; at most {max} can be sent")]
    TooLong {
        /// The field.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The cap (see [`crate::limits`]).
        max: usize,
    },
    /// A list has too many elements.
    #[error("{what} has {count} elements; at most {max} can be sent")]
    TooManyItems {
        /// The list.
        what: &'static str,
        /// Its length.
        count: usize,
        /// The cap (see [`crate::limits`]).
        max: usize,
    },
    /// A list that must have at least one element is empty.
    #[error("{what} must not be empty")]
    EmptyList {
        /// The list.
        what: &'static str,
    },
    /// The value breaks a protocol rule (the message says which).
    #[error("cannot encode {what}: {rule}")]
    Invalid {
        /// The message or field.
        what: &'static str,
        /// The rule it breaks.
        rule: &'static str,
    },
}

/// Why an HTTP path parameter is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PathError {
    /// The parameter is empty.
    #[error("empty path parameter: expected a percent-encoded MIMI URI")]
    Empty,
    /// Percent-decoding produced bytes that are not UTF-8.
    #[error("the path parameter does not percent-decode to UTF-8")]
    InvalidUtf8,
    /// The parameter is not a valid MIMI URI of the expected kind.
    #[error("invalid URI in path parameter: {0}")]
    Uri(#[from] UriError),
    /// The parameter is not a valid domain.
    #[error("invalid domain in path parameter: {0}")]
    Domain(#[from] mimi_types::DomainError),
    /// The download URL is not an `https://` URL.
    #[error("download URL {0:?} must be an absolute https:// URL")]
    NotHttps(String),
}

/// Why a directory document (`/.well-known/mimi-protocol-directory`) is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryError {
    /// The document is not JSON, even after repairing the draft example's known typos.
    #[error("the directory document is not valid JSON: {0}")]
    Json(String),
    /// The document is larger than [`crate::limits::MAX_DIRECTORY_LEN`].
    #[error("the directory document is {0} bytes long; at most {max} are accepted", max = crate::limits::MAX_DIRECTORY_LEN)]
    TooLong(usize),
    /// An endpoint URL template is not an `https://` URL.
    #[error("directory entry {key:?}: {template:?} must be an absolute https:// URL")]
    NotHttps {
        /// The directory key.
        key: String,
        /// The template received.
        template: String,
    },
    /// An endpoint URL template has no `{parameter}` or more than one, or an unclosed brace.
    #[error("directory entry {key:?}: {template:?} must contain exactly one {{parameter}}")]
    BadPlaceholder {
        /// The directory key.
        key: String,
        /// The template received.
        template: String,
    },
    /// An endpoint the caller needs is missing from the peer's directory.
    #[error("the peer's directory has no {0:?} endpoint")]
    MissingEndpoint(&'static str),
}
