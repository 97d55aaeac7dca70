//! The strict reader: every rule of deterministic CBOR (RFC 8949 §4.2.1) and of MIMI's extra
//! restrictions (digest §5.4) that concerns the encoding itself is checked here, and only here.
//!
//! Item headers are parsed by `ciborium-ll`; this module checks each header's raw bytes against
//! the canonical encoding of the same header (which catches every non-shortest integer, length,
//! tag and float), refuses indefinite lengths, checks UTF-8, map key order and uniqueness on the
//! raw key encodings, bignum form and nesting depth, and requires the input to be exactly one
//! item.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use ciborium_ll::{Decoder, Header};

use super::error::CborError;
use super::value::{Float, MAX_SAFE_INTEGER_KEY, MapKey, SimpleValue, Value};
use super::write::header_bytes;

/// How many levels of arrays, maps and tags the reader accepts. MIMI content needs at most 8
/// (four levels of NestedParts) and extensions at most 5; deeper input is refused here before
/// it can exhaust the stack. The MIMI limits themselves are checked by validation, so that each
/// gets its own error.
pub const MAX_DEPTH: usize = 16;

/// Decodes exactly one deterministic CBOR item that fills the whole input.
pub fn decode(input: &[u8]) -> Result<Value, CborError> {
    let mut reader = Reader { input, pos: 0 };
    let value = reader.item(0)?;
    if reader.pos != input.len() {
        return Err(CborError::TrailingBytes {
            at: reader.pos,
            remaining: input.len() - reader.pos,
        });
    }
    Ok(value)
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

/// The canonical NaN: half-precision quiet NaN.
const CANONICAL_NAN: [u8; 3] = [0xf9, 0x7e, 0x00];

impl<'a> Reader<'a> {
    /// Reads one header and checks that it is well-formed, definite and in shortest form.
    fn header(&mut self) -> Result<Header, CborError> {
        let at = self.pos;
        let rest = self.input.get(at..).unwrap_or_default();
        let mut decoder = Decoder::from(rest);
        let header = match decoder.pull() {
            Ok(header) => header,
            Err(ciborium_ll::Error::Io(_)) => return Err(CborError::Truncated { at }),
            Err(ciborium_ll::Error::Syntax(_)) => {
                return Err(CborError::ReservedAdditionalInfo { at });
            }
        };
        let len = decoder.offset();
        let raw = rest.get(..len).ok_or(CborError::Truncated { at })?;
        self.pos += len;
        match header {
            Header::Break => return Err(CborError::UnexpectedBreak { at }),
            Header::Bytes(None) | Header::Text(None) | Header::Array(None) | Header::Map(None) => {
                return Err(CborError::IndefiniteLength { at });
            }
            Header::Simple(value) if raw.len() == 2 && value < 32 => {
                return Err(CborError::InvalidSimpleValue { at, value });
            }
            Header::Float(f) if f.is_nan() => {
                if raw != CANONICAL_NAN {
                    return Err(CborError::NonCanonicalNaN { at });
                }
                return Ok(header);
            }
            _ => {}
        }
        if header_bytes(header).as_slice() != raw {
            return Err(match header {
                Header::Positive(_) | Header::Negative(_) => CborError::NonMinimalInteger { at },
                Header::Tag(_) => CborError::NonMinimalTag { at },
                Header::Float(_) => CborError::NonShortestFloat { at },
                Header::Simple(value) => CborError::InvalidSimpleValue { at, value },
                _ => CborError::NonMinimalLength { at },
            });
        }
        Ok(header)
    }

    /// The next `len` bytes of content.
    fn take(&mut self, len: usize, at: usize) -> Result<&'a [u8], CborError> {
        let end = self
            .pos
            .checked_add(len)
            .ok_or(CborError::Truncated { at })?;
        let bytes = self
            .input
            .get(self.pos..end)
            .ok_or(CborError::Truncated { at })?;
        self.pos = end;
        Ok(bytes)
    }

    fn text(&mut self, len: usize, at: usize) -> Result<String, CborError> {
        let bytes = self.take(len, at)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| CborError::InvalidUtf8 { at })
    }

    /// A capacity hint bounded by the remaining input (each item takes at least one byte).
    fn capacity(&self, count: usize) -> usize {
        count.min(self.input.len().saturating_sub(self.pos))
    }

    fn item(&mut self, depth: usize) -> Result<Value, CborError> {
        let at = self.pos;
        let header = self.header()?;
        let enter = |depth: usize| {
            if depth >= MAX_DEPTH {
                Err(CborError::TooDeep {
                    at,
                    limit: MAX_DEPTH,
                })
            } else {
                Ok(depth + 1)
            }
        };
        Ok(match header {
            Header::Positive(n) => Value::Unsigned(n),
            Header::Negative(n) => Value::Negative(n),
            Header::Bytes(Some(len)) => Value::Bytes(self.take(len, at)?.to_vec()),
            Header::Text(Some(len)) => Value::Text(self.text(len, at)?),
            Header::Array(Some(count)) => {
                let inner = enter(depth)?;
                let mut items = Vec::with_capacity(self.capacity(count));
                for _ in 0..count {
                    items.push(self.item(inner)?);
                }
                Value::Array(items)
            }
            Header::Map(Some(count)) => {
                let inner = enter(depth)?;
                let mut map = BTreeMap::new();
                let mut previous: Option<&'a [u8]> = None;
                for _ in 0..count {
                    let key_at = self.pos;
                    let key = self.key()?;
                    let raw_key = self.input.get(key_at..self.pos).unwrap_or_default();
                    if let Some(previous) = previous {
                        match previous.cmp(raw_key) {
                            Ordering::Less => {}
                            Ordering::Equal => {
                                return Err(CborError::DuplicateMapKey { at: key_at });
                            }
                            Ordering::Greater => {
                                return Err(CborError::UnsortedMapKeys { at: key_at });
                            }
                        }
                    }
                    previous = Some(raw_key);
                    let value = self.item(inner)?;
                    map.insert(key, value);
                }
                Value::Map(map)
            }
            Header::Tag(tag) => {
                let inner = enter(depth)?;
                let content = self.item(inner)?;
                if tag == ciborium_ll::tag::BIGPOS || tag == ciborium_ll::tag::BIGNEG {
                    check_bignum(&content, at)?;
                }
                Value::Tag(tag, Box::new(content))
            }
            Header::Simple(ciborium_ll::simple::FALSE) => Value::Bool(false),
            Header::Simple(ciborium_ll::simple::TRUE) => Value::Bool(true),
            Header::Simple(ciborium_ll::simple::NULL) => Value::Null,
            Header::Simple(ciborium_ll::simple::UNDEFINED) => Value::Undefined,
            Header::Simple(value) => Value::Simple(
                SimpleValue::new(value).ok_or(CborError::InvalidSimpleValue { at, value })?,
            ),
            Header::Float(f) => Value::Float(Float::new(f)),
            // `header()` refuses breaks and indefinite lengths.
            Header::Break
            | Header::Bytes(None)
            | Header::Text(None)
            | Header::Array(None)
            | Header::Map(None) => return Err(CborError::IndefiniteLength { at }),
        })
    }

    /// A map key: an integer within ±(2^53−1), a text or a byte string.
    fn key(&mut self) -> Result<MapKey, CborError> {
        let at = self.pos;
        let max = MAX_SAFE_INTEGER_KEY as u64;
        match self.header()? {
            Header::Positive(n) if n <= max => Ok(MapKey::Int(n as i64)),
            // -1 - n >= -(2^53 - 1)  <=>  n <= 2^53 - 2
            Header::Negative(n) if n < max => Ok(MapKey::Int(-1 - n as i64)),
            Header::Positive(_) | Header::Negative(_) => Err(CborError::MapKeyOutOfRange { at }),
            Header::Bytes(Some(len)) => Ok(MapKey::Bytes(self.take(len, at)?.to_vec())),
            Header::Text(Some(len)) => Ok(MapKey::Text(self.text(len, at)?)),
            _ => Err(CborError::MapKeyType { at }),
        }
    }
}

/// Bignums (tags 2 and 3) only when the value does not fit a plain integer, without leading
/// zeros (RFC 8949 §3.4.3 preferred serialization, required by §4.2.1).
fn check_bignum(content: &Value, at: usize) -> Result<(), CborError> {
    let Value::Bytes(bytes) = content else {
        return Err(CborError::BignumNotBytes { at });
    };
    if bytes.first() == Some(&0) {
        return Err(CborError::BignumLeadingZero { at });
    }
    if bytes.len() <= 8 {
        return Err(CborError::BignumFitsInInteger { at });
    }
    Ok(())
}
