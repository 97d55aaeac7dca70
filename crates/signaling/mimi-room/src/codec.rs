//! Shared codec plumbing: the strict decode entry point, the decode error, and `with` helpers
//! for field types the TLS presentation language spells differently from Rust.

use std::io::{Read, Write};

use mimi_types::UserUri;
use mimi_types::codepoints::{ComponentId, CredentialType};
use tls_codec::{Deserialize, Serialize, Size};

/// Why bytes could not be decoded into a room-state component.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The TLS presentation-language structure is malformed (bad length, truncated input, an
    /// enum value outside a closed enum, a non-minimal varint length, ...).
    #[error("malformed {what}: {detail}; the sender produced an invalid encoding")]
    Malformed {
        /// The structure being decoded.
        what: &'static str,
        /// The codec's description of the problem.
        detail: String,
    },
    /// Bytes remain after a complete structure was read.
    #[error(
        "{what} is followed by {extra} trailing bytes; a component must be exactly one structure"
    )]
    TrailingBytes {
        /// The structure being decoded.
        what: &'static str,
        /// How many bytes were left over.
        extra: usize,
    },
    /// The structure decoded but breaks a rule of its definition.
    #[error("invalid {what}: {reason}")]
    Invalid {
        /// The structure being decoded.
        what: &'static str,
        /// The rule that is broken.
        reason: String,
    },
    /// A component this crate does not manage appeared where a room-state component was expected.
    #[error("component {0} is not a room-state component mimi-room understands")]
    UnknownComponent(ComponentId),
    /// A component that every MIMI room must carry is absent.
    #[error("required component {0} is missing from the room state")]
    MissingComponent(ComponentId),
}

impl DecodeError {
    pub(crate) fn invalid(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            what,
            reason: reason.into(),
        }
    }
}

/// Decodes exactly one `T` from `bytes`: no trailing bytes, no codec error.
pub(crate) fn decode_exact<T: Deserialize>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, DecodeError> {
    let mut reader = bytes;
    let value = T::tls_deserialize(&mut reader).map_err(|e| DecodeError::Malformed {
        what,
        detail: describe(&e),
    })?;
    if !reader.is_empty() {
        return Err(DecodeError::TrailingBytes {
            what,
            extra: reader.len(),
        });
    }
    Ok(value)
}

/// Encodes `value`. Encoding our own in-memory values only fails past the 2^30-byte varint
/// limit, which no room state reaches; such a value encodes as empty and fails to decode.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    value.tls_serialize_detached().unwrap_or_default()
}

fn describe(e: &tls_codec::Error) -> String {
    match e {
        tls_codec::Error::EndOfStream => "input ends before the structure does".to_owned(),
        tls_codec::Error::InvalidVectorLength => {
            "a vector length is invalid or not minimally encoded".to_owned()
        }
        tls_codec::Error::UnknownValue(v) => format!("value {v} is not allowed in a closed enum"),
        other => other.to_string(),
    }
}

fn io_err(e: std::io::Error) -> tls_codec::Error {
    tls_codec::Error::EncodingError(e.to_string())
}

/// `enum { false(0), true(1) } bool;` of room-policy: one byte, other values refused.
pub(crate) mod tls_bool {
    use super::*;

    pub(crate) fn tls_serialized_len(_: &bool) -> usize {
        1
    }

    pub(crate) fn tls_serialize<W: Write>(v: &bool, w: &mut W) -> Result<usize, tls_codec::Error> {
        w.write_all(&[u8::from(*v)]).map_err(io_err)?;
        Ok(1)
    }

    pub(crate) fn tls_deserialize<R: Read>(r: &mut R) -> Result<bool, tls_codec::Error> {
        match u8::tls_deserialize(r)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(tls_codec::Error::DecodingError(format!(
                "bool must be 0 or 1, found {other}"
            ))),
        }
    }
}

/// `opaque x<V>` holding UTF-8 text without NUL characters.
pub(crate) mod utf8 {
    use super::*;

    pub(crate) fn tls_serialized_len(v: &str) -> usize {
        v.as_bytes().tls_serialized_len()
    }

    pub(crate) fn tls_serialize<W: Write>(v: &str, w: &mut W) -> Result<usize, tls_codec::Error> {
        tls_codec::VLByteSlice(v.as_bytes()).tls_serialize(w)
    }

    pub(crate) fn tls_deserialize<R: Read>(r: &mut R) -> Result<String, tls_codec::Error> {
        let bytes = Vec::<u8>::tls_deserialize(r)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| tls_codec::Error::DecodingError("text is not valid UTF-8".to_owned()))?;
        if text.contains('\0') {
            return Err(tls_codec::Error::DecodingError(
                "text contains a NUL character".to_owned(),
            ));
        }
        Ok(text)
    }
}

/// `opaque user<V>` holding a canonical MIMI user URI.
pub(crate) mod user_uri {
    use super::*;

    pub(crate) fn tls_serialized_len(v: &UserUri) -> usize {
        let len = v.text_len();
        // The variable-length header (RFC 9000 §16 sizes, as tls_codec writes them) + text.
        let header = match len {
            0..=0x3f => 1,
            0x40..=0x3fff => 2,
            0x4000..=0x3fff_ffff => 4,
            _ => 8,
        };
        header + len
    }

    pub(crate) fn tls_serialize<W: Write>(
        v: &UserUri,
        w: &mut W,
    ) -> Result<usize, tls_codec::Error> {
        utf8::tls_serialize(&v.to_string(), w)
    }

    pub(crate) fn tls_deserialize<R: Read>(r: &mut R) -> Result<UserUri, tls_codec::Error> {
        let text = utf8::tls_deserialize(r)?;
        let uri = UserUri::parse(&text).map_err(|e| {
            tls_codec::Error::DecodingError(format!("not a MIMI user URI ({e}): {text:?}"))
        })?;
        if uri.text_len() != text.len() || uri.to_string() != text {
            return Err(tls_codec::Error::DecodingError(format!(
                "user URI {text:?} is not in canonical form (expected {uri})"
            )));
        }
        Ok(uri)
    }
}

/// `CredentialType` (uint16), an open registry.
pub(crate) mod credential_type {
    use super::*;

    pub(crate) fn tls_serialized_len(_: &CredentialType) -> usize {
        2
    }

    pub(crate) fn tls_serialize<W: Write>(
        v: &CredentialType,
        w: &mut W,
    ) -> Result<usize, tls_codec::Error> {
        v.value().tls_serialize(w)
    }

    pub(crate) fn tls_deserialize<R: Read>(r: &mut R) -> Result<CredentialType, tls_codec::Error> {
        Ok(CredentialType::new(u16::tls_deserialize(r)?))
    }
}

/// `ComponentID component_ids<V>` (uint16 each), an open registry.
pub(crate) mod component_ids {
    use super::*;

    fn raw(v: &[ComponentId]) -> Vec<u16> {
        v.iter().map(|c| c.value()).collect()
    }

    pub(crate) fn tls_serialized_len(v: &[ComponentId]) -> usize {
        raw(v).tls_serialized_len()
    }

    pub(crate) fn tls_serialize<W: Write>(
        v: &[ComponentId],
        w: &mut W,
    ) -> Result<usize, tls_codec::Error> {
        raw(v).tls_serialize(w)
    }

    pub(crate) fn tls_deserialize<R: Read>(
        r: &mut R,
    ) -> Result<Vec<ComponentId>, tls_codec::Error> {
        Ok(Vec::<u16>::tls_deserialize(r)?
            .into_iter()
            .map(ComponentId::new)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The computed size of a user URI field equals what serializing it writes, on both
    /// sides of each variable-length header size.
    #[test]
    fn user_uri_size_matches_its_encoding() {
        for id_len in [1, 40, 50, 60, 200, 255] {
            let id = "a".repeat(id_len);
            for domain in ["a.example", "a-much-longer-provider-name.example.com"] {
                let user = UserUri::parse(&format!("mimi://{domain}/u/{id}")).unwrap();
                assert_eq!(user.text_len(), user.to_string().len());
                let mut out = Vec::new();
                let written = user_uri::tls_serialize(&user, &mut out).unwrap();
                assert_eq!(written, out.len());
                assert_eq!(user_uri::tls_serialized_len(&user), out.len(), "{user}");
                let back = user_uri::tls_deserialize(&mut out.as_slice()).unwrap();
                assert_eq!(back, user);
            }
        }
    }
}
