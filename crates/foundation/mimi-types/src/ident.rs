//! The identifier segments of MIMI URIs (user IDs, device IDs, room names, ...).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::error::UriError;

/// One path segment of a MIMI URI after its kind: a user ID, a device ID, a room name.
///
/// It holds RFC 3986 `pchar`s only (unreserved, sub-delims, `:`, `@`, and well-formed
/// percent-encodings) and is kept exactly as written: no decoding or re-encoding, because message
/// IDs hash the URI's octets. Identifiers are case-sensitive.
///
/// The text is shared ([`Arc`]): URIs are cloned often (room states, member maps) and a clone
/// costs a reference count, not an allocation.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ident(Arc<str>);

impl Ident {
    /// The longest identifier segment accepted, in bytes.
    pub const MAX_LEN: usize = 255;

    /// Validates one identifier segment.
    pub fn parse(segment: &str) -> Result<Self, UriError> {
        if segment.is_empty() {
            return Err(UriError::EmptySegment);
        }
        if segment == "." || segment == ".." {
            return Err(UriError::DotSegment(segment.to_owned()));
        }
        if segment.len() > Self::MAX_LEN {
            return Err(UriError::IdTooLong {
                len: segment.len(),
                max: Self::MAX_LEN,
            });
        }
        let bytes = segment.as_bytes();
        for (at, ch) in segment.char_indices() {
            if ch == '%' {
                let well_formed = bytes
                    .get(at + 1..at + 3)
                    .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit));
                if !well_formed {
                    return Err(UriError::BadPercentEncoding {
                        at,
                        ident: segment.to_owned(),
                    });
                }
            } else if !is_pchar(ch) {
                return Err(UriError::InvalidIdChar {
                    ch,
                    at,
                    ident: segment.to_owned(),
                });
            }
        }
        Ok(Self(segment.into()))
    }

    /// The segment as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// RFC 3986 `pchar` minus `%` (percent-encodings are checked separately).
fn is_pchar(ch: char) -> bool {
    ch.is_ascii_alphanumeric()
        || matches!(
            ch,
            '-' | '.'
                | '_'
                | '~'
                | '!'
                | '$'
                | '&'
                | '\''
                | '('
                | ')'
                | '*'
                | '+'
                | ','
                | ';'
                | '='
                | ':'
                | '@'
        )
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ident({})", self.0)
    }
}

impl FromStr for Ident {
    type Err = UriError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for Ident {
    fn as_ref(&self) -> &str {
        &self.0
    }
}
