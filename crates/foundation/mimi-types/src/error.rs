//! Errors of identifier parsing, each naming the part of the input that is wrong.

use crate::uri::UriKind;

/// Why a string is not a valid MIMI URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UriError {
    /// The input was empty.
    #[error("empty identifier: a MIMI URI looks like mimi://example.com/u/alice")]
    Empty,
    /// The input has no `scheme:` prefix.
    #[error("missing scheme: a MIMI URI starts with \"mimi://\", as in mimi://example.com/u/alice")]
    MissingScheme,
    /// The scheme is not `mimi`.
    #[error("unsupported scheme {0:?}: MIMI identifiers use the \"mimi\" scheme")]
    WrongScheme(String),
    /// `mimi:` is not followed by `//authority`.
    #[error("missing authority: \"mimi:\" must be followed by \"//<provider domain>\"")]
    MissingAuthority,
    /// The authority carries `userinfo@`.
    #[error("user information ({0:?} before '@') is not allowed in the domain part of a MIMI URI")]
    UserInfo(String),
    /// The authority carries a port.
    #[error("a port (\":{0}\") is not allowed: a provider is named by its domain alone")]
    Port(String),
    /// The URI has a `?query`.
    #[error("a query (\"?...\") is not allowed in a MIMI URI")]
    Query,
    /// The URI has a `#fragment`.
    #[error("a fragment (\"#...\") is not allowed in a MIMI URI")]
    Fragment,
    /// The authority is not a valid domain name.
    #[error("invalid provider domain: {0}")]
    Domain(#[from] DomainError),
    /// The first path segment is not one of the known kinds.
    #[error("unknown identifier kind {0:?}: the first path segment must be u, p, d, r, g or t")]
    UnknownKind(String),
    /// A URI of one kind was given where another was expected.
    #[error("expected a {expected} URI, found a {found} URI")]
    WrongKind {
        /// The kind the caller asked for.
        expected: UriKind,
        /// The kind the input has.
        found: UriKind,
    },
    /// The kind segment is not followed by an identifier.
    #[error("the {0} URI has no identifier after its kind segment")]
    MissingId(UriKind),
    /// More path segments than the kind allows.
    #[error("too many path segments for a {0} URI")]
    TooManySegments(UriKind),
    /// An empty path segment (`//` or a trailing `/`).
    #[error("empty path segment: remove the doubled or trailing '/'")]
    EmptySegment,
    /// A `.` or `..` segment, which URI processing would remove.
    #[error("the path segment {0:?} is not allowed: dot segments are rewritten by URI processing")]
    DotSegment(String),
    /// A character outside RFC 3986 `pchar`.
    #[error(
        "character {ch:?} at byte {at} of identifier {ident:?} is not allowed; percent-encode it"
    )]
    InvalidIdChar {
        /// The offending character.
        ch: char,
        /// Its byte offset in the identifier.
        at: usize,
        /// The identifier segment.
        ident: String,
    },
    /// A `%` not followed by two hexadecimal digits.
    #[error(
        "bad percent-encoding at byte {at} of identifier {ident:?}: '%' must be followed by two hex digits"
    )]
    BadPercentEncoding {
        /// Byte offset of the `%`.
        at: usize,
        /// The identifier segment.
        ident: String,
    },
    /// An identifier segment longer than [`crate::Ident::MAX_LEN`].
    #[error("identifier is {len} bytes long; at most {max} are allowed")]
    IdTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// Why a string is not a valid provider domain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DomainError {
    /// No domain at all.
    #[error("the domain is empty")]
    Empty,
    /// Longer than 253 octets in ASCII form.
    #[error("the domain is {0} octets long; at most 253 are allowed")]
    TooLong(usize),
    /// Two dots in a row, or a leading or trailing dot.
    #[error("the domain has an empty label (a leading, trailing or doubled '.')")]
    EmptyLabel,
    /// A label longer than 63 octets.
    #[error("the label {label:?} is {len} octets long; at most 63 are allowed")]
    LabelTooLong {
        /// The label.
        label: String,
        /// Its length.
        len: usize,
    },
    /// A label that starts or ends with `-`.
    #[error("the label {0:?} starts or ends with '-'")]
    HyphenAtLabelEdge(String),
    /// A character that may not appear in a host name.
    #[error("character {0:?} is not allowed in a domain name (letters, digits, '-' and '.')")]
    InvalidChar(char),
    /// An IP address (or IP literal) instead of a domain name.
    #[error("{0:?} is an IP address: MIMI providers are named by domain names")]
    IpAddress(String),
    /// An internationalised name that IDNA (UTS #46, strict) refuses.
    #[error("{0:?} is not a valid internationalised domain name")]
    Idna(String),
}
