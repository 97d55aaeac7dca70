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

    /// The canonical form of an account name (a user ID at its provider), which a provider
    /// registers and looks users up by, so that `ALICE`, `%61lice` and `alice` are one user:
    ///
    /// 1. percent-encoded unreserved characters (`A-Z a-z 0-9 - . _ ~`) are decoded
    ///    (RFC 3986 §6.2.2.2);
    /// 2. ASCII letters are lowercased (user names are case-insensitive);
    /// 3. the remaining percent-encodings are written with uppercase hex digits (§6.2.2.1).
    ///
    /// The result is again a valid identifier, and canonical forms are fixed points. URIs
    /// themselves are still compared and hashed as written: this is applied where a name
    /// enters a provider (registration, login, key-material and invite lookups), so the
    /// URIs in credentials, participant lists and message IDs are canonical already.
    #[must_use]
    pub fn canonical(&self) -> Self {
        let bytes = self.0.as_bytes();
        let mut out = String::with_capacity(bytes.len());
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            let hex = (b == b'%')
                .then(|| bytes.get(i + 1..i + 3))
                .flatten()
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(decoded) if is_unreserved(decoded) => {
                    out.push(char::from(decoded.to_ascii_lowercase()));
                    i += 3;
                }
                Some(decoded) => {
                    out.push_str(&format!("%{decoded:02X}"));
                    i += 3;
                }
                None => {
                    out.push(char::from(b.to_ascii_lowercase()));
                    i += 1;
                }
            }
        }
        // Decoding only shortens and lowercasing keeps pchars: still valid. A dot segment
        // ("%2E") cannot come out of a valid identifier's canonical form unless it was one
        // already spelled with encodings; keep the original then.
        Self::parse(&out).unwrap_or_else(|_| self.clone())
    }
}

/// RFC 3986 `unreserved`.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::Ident;

    fn canonical(s: &str) -> String {
        Ident::parse(s).unwrap().canonical().to_string()
    }

    #[test]
    fn account_names_are_case_and_encoding_insensitive() {
        for spelled in ["alice", "ALICE", "Alice", "%61lice", "%41LICE", "al%69ce"] {
            assert_eq!(canonical(spelled), "alice", "{spelled}");
        }
        // Reserved and non-ASCII octets stay encoded, with uppercase hex.
        assert_eq!(canonical("a%2fb"), "a%2Fb");
        assert_eq!(canonical("Ren%c3%a9"), "ren%C3%A9");
        // Other pchars are kept; canonical forms are fixed points.
        assert_eq!(canonical("Bob+Work@Home"), "bob+work@home");
        for s in ["alice", "a%2Fb", "ren%C3%A9", "x.y_z~1"] {
            assert_eq!(canonical(s), s);
        }
        // A name that would become a dot segment keeps its spelling.
        assert_eq!(canonical("%2E"), "%2E");
    }
}
