//! The one strict codec of this crate: the TLS presentation language as MLS uses it (RFC 9420
//! §2.1), with caps.
//!
//! * Integers are big-endian and fixed width.
//! * `opaque x<V>` and `T x<V>` carry a variable-length-integer byte length: 1, 2 or 4 bytes, the
//!   shortest that fits (a longer one is refused), the prefix `0b11` refused, at most `2^30 - 1`.
//! * Each vector has a cap (see [`crate::limits`]) checked before anything is read or allocated.
//! * `optional<T>` is a presence byte that must be 0 or 1.
//! * A decoder consumes its whole input: [`decode_exact`] refuses trailing bytes, and so does
//!   every vector whose elements end before its declared length.
//!
//! Why not the `tls_codec` primitives directly: their vector decoders have no caps and (0.5) their
//! byte-slice decoder `debug_assert`s on truncated input, i.e. panics in test builds. Every wire
//! type here still implements `tls_codec`'s `Serialize`, `Size` and `DeserializeBytes` through
//! this codec, so the MLS layer can use either interface.

use crate::error::{DecodeError, EncodeError};
use crate::limits::{MAX_BODY_LEN, MAX_MLS_VECTOR_LEN};

/// A cursor over received bytes. Every read checks bounds; nothing panics.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A reader over `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The unread bytes.
    pub fn rest(&self) -> &'a [u8] {
        self.buf
    }

    /// Fails unless everything was read.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes {
                what,
                count: self.buf.len(),
            })
        }
    }

    /// Reads `n` raw bytes.
    pub fn take(&mut self, what: &'static str, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::Truncated {
                what,
                needed: n,
                remaining: self.buf.len(),
            });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    /// Reads a fixed-size array (`opaque x[N]`).
    pub fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(what, N)?);
        Ok(out)
    }

    /// Reads a `uint8`.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.array::<1>(what)?[0])
    }

    /// Reads a `uint16`.
    pub fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }

    /// Reads a `uint32`.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// Reads a `uint64`.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array(what)?))
    }

    /// Reads an MLS variable-length integer (RFC 9420 §2.1.2), refusing the `0b11` prefix and
    /// non-minimal encodings.
    pub fn varint(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let first = self.u8(what)?;
        let (len_bytes, mut value) = match first >> 6 {
            0 => (1, usize::from(first & 0x3f)),
            1 => (2, usize::from(first & 0x3f)),
            2 => (4, usize::from(first & 0x3f)),
            _ => return Err(DecodeError::InvalidLengthPrefix { what }),
        };
        for byte in self.take(what, len_bytes - 1)? {
            value = (value << 8) | usize::from(*byte);
        }
        if varint_len(value) != len_bytes {
            return Err(DecodeError::NonMinimalLength {
                what,
                value,
                len_bytes,
            });
        }
        Ok(value)
    }

    /// Reads a vector's length prefix and returns a reader over exactly its content, refusing
    /// content longer than `max` before reading it.
    pub fn vector(&mut self, what: &'static str, max: usize) -> Result<Reader<'a>, DecodeError> {
        let len = self.varint(what)?;
        if len > max {
            return Err(DecodeError::TooLong { what, len, max });
        }
        Ok(Reader::new(self.take(what, len)?))
    }

    /// Reads `opaque x<V>` of at most `max` bytes.
    pub fn opaque(&mut self, what: &'static str, max: usize) -> Result<&'a [u8], DecodeError> {
        Ok(self.vector(what, max)?.buf)
    }

    /// Reads `opaque x<V>` holding UTF-8 text of at most `max` bytes.
    pub fn text(&mut self, what: &'static str, max: usize) -> Result<String, DecodeError> {
        let bytes = self.opaque(what, max)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| DecodeError::InvalidUtf8 { what })
    }

    /// Reads `T x<V>`: a vector of at most `max_bytes` bytes and `max_items` elements, each
    /// decoded with `item`. Elements must end exactly at the vector's end.
    pub fn list<T>(
        &mut self,
        what: &'static str,
        max_bytes: usize,
        max_items: usize,
        mut item: impl FnMut(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<Vec<T>, DecodeError> {
        let mut sub = self.vector(what, max_bytes)?;
        let mut out = Vec::new();
        while !sub.is_empty() {
            if out.len() == max_items {
                return Err(DecodeError::TooManyItems {
                    what,
                    max: max_items,
                });
            }
            out.push(item(&mut sub)?);
        }
        Ok(out)
    }

    /// Reads an `optional<T>` presence byte.
    pub fn present(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(DecodeError::InvalidOptional { what, value }),
        }
    }

    /// Reads `optional<T>`.
    pub fn optional<T>(
        &mut self,
        what: &'static str,
        item: impl FnOnce(&mut Reader<'a>) -> Result<T, DecodeError>,
    ) -> Result<Option<T>, DecodeError> {
        if self.present(what)? {
            item(self).map(Some)
        } else {
            Ok(None)
        }
    }
}

/// How many bytes the MLS variable-length integer of `value` takes (5 means "too large").
pub(crate) const fn varint_len(value: usize) -> usize {
    if value <= 0x3f {
        1
    } else if value <= 0x3fff {
        2
    } else if value <= 0x3fff_ffff {
        4
    } else {
        5
    }
}

/// An output buffer with the same rules as [`Reader`].
#[derive(Debug, Clone, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing was written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Writes raw bytes (a fixed-size array or an already-encoded MLS object).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Writes a `uint8`.
    pub fn u8(&mut self, value: u8) {
        self.buf.push(value);
    }

    /// Writes a `uint16`.
    pub fn u16(&mut self, value: u16) {
        self.raw(&value.to_be_bytes());
    }

    /// Writes a `uint32`.
    pub fn u32(&mut self, value: u32) {
        self.raw(&value.to_be_bytes());
    }

    /// Writes a `uint64`.
    pub fn u64(&mut self, value: u64) {
        self.raw(&value.to_be_bytes());
    }

    /// Writes a minimal MLS variable-length integer.
    fn varint(&mut self, what: &'static str, value: usize) -> Result<(), EncodeError> {
        // Truncating casts are exact here: each arm's range fits the target width.
        match varint_len(value) {
            1 => self.u8(value as u8),
            2 => self.u16(0x4000 | value as u16),
            4 => self.u32(0x8000_0000 | value as u32),
            _ => {
                return Err(EncodeError::TooLong {
                    what,
                    len: value,
                    max: MAX_MLS_VECTOR_LEN,
                });
            }
        }
        Ok(())
    }

    /// Writes a vector whose content `body` writes, refusing content longer than `max`.
    pub fn vector(
        &mut self,
        what: &'static str,
        max: usize,
        body: impl FnOnce(&mut Writer) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        let mut inner = Writer::new();
        body(&mut inner)?;
        let len = inner.buf.len();
        if len > max.min(MAX_MLS_VECTOR_LEN) {
            return Err(EncodeError::TooLong {
                what,
                len,
                max: max.min(MAX_MLS_VECTOR_LEN),
            });
        }
        self.varint(what, len)?;
        self.raw(&inner.buf);
        Ok(())
    }

    /// Writes `opaque x<V>`.
    pub fn opaque(
        &mut self,
        what: &'static str,
        max: usize,
        bytes: &[u8],
    ) -> Result<(), EncodeError> {
        self.vector(what, max, |w| {
            w.raw(bytes);
            Ok(())
        })
    }

    /// Writes `T x<V>` with at most `max_items` elements.
    pub fn list<T>(
        &mut self,
        what: &'static str,
        max_bytes: usize,
        max_items: usize,
        items: &[T],
        mut item: impl FnMut(&mut Writer, &T) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        if items.len() > max_items {
            return Err(EncodeError::TooManyItems {
                what,
                count: items.len(),
                max: max_items,
            });
        }
        self.vector(what, max_bytes, |w| {
            items.iter().try_for_each(|value| item(w, value))
        })
    }

    /// Writes `optional<T>`.
    pub fn optional<T>(
        &mut self,
        value: Option<&T>,
        item: impl FnOnce(&mut Writer, &T) -> Result<(), EncodeError>,
    ) -> Result<(), EncodeError> {
        match value {
            Some(value) => {
                self.u8(1);
                item(self, value)
            }
            None => {
                self.u8(0);
                Ok(())
            }
        }
    }
}

/// A value with a TLS-PL encoding.
pub trait Encode {
    /// Appends the encoding to `w`.
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError>;

    /// The encoding as a new buffer.
    fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::new();
        self.encode_into(&mut w)?;
        Ok(w.into_bytes())
    }
}

/// A value with a strict TLS-PL decoder.
pub trait Decode: Sized {
    /// Reads one value from `r`, leaving what follows it.
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// Decodes a complete message: refuses inputs over [`MAX_BODY_LEN`] and any trailing byte. Use it
/// for every body received from the network.
pub fn decode_exact<T: Decode>(bytes: &[u8]) -> Result<T, DecodeError> {
    if bytes.len() > MAX_BODY_LEN {
        return Err(DecodeError::TooLong {
            what: "message body",
            len: bytes.len(),
            max: MAX_BODY_LEN,
        });
    }
    let mut r = Reader::new(bytes);
    let value = T::decode_from(&mut r)?;
    r.finish("message")?;
    Ok(value)
}

impl From<DecodeError> for tls_codec::Error {
    fn from(e: DecodeError) -> Self {
        match e {
            DecodeError::Truncated { .. } => Self::EndOfStream,
            DecodeError::TrailingBytes { .. } => Self::TrailingData,
            DecodeError::UnknownValue { value, .. } => Self::UnknownValue(value),
            DecodeError::NonMinimalLength { .. } | DecodeError::InvalidLengthPrefix { .. } => {
                Self::InvalidVectorLength
            }
            other => Self::DecodingError(other.to_string()),
        }
    }
}

impl From<EncodeError> for tls_codec::Error {
    fn from(e: EncodeError) -> Self {
        Self::EncodingError(e.to_string())
    }
}

/// Implements `tls_codec`'s `Size`, `Serialize` and `DeserializeBytes` for wire types through
/// [`Encode`] and [`Decode`], so the strict rules hold on that interface too.
macro_rules! tls_codec_bridge {
    ($($ty:ty),* $(,)?) => {$(
        impl tls_codec::Size for $ty {
            fn tls_serialized_len(&self) -> usize {
                $crate::codec::Encode::encode(self).map(|b| b.len()).unwrap_or(0)
            }
        }

        impl tls_codec::Serialize for $ty {
            fn tls_serialize<W: std::io::Write>(
                &self,
                writer: &mut W,
            ) -> Result<usize, tls_codec::Error> {
                let bytes = $crate::codec::Encode::encode(self)?;
                writer.write_all(&bytes)?;
                Ok(bytes.len())
            }
        }

        impl tls_codec::DeserializeBytes for $ty {
            fn tls_deserialize_bytes(bytes: &[u8]) -> Result<(Self, &[u8]), tls_codec::Error> {
                let mut r = $crate::codec::Reader::new(bytes);
                let value = <$ty as $crate::codec::Decode>::decode_from(&mut r)?;
                Ok((value, r.rest()))
            }
        }
    )*};
}
pub(crate) use tls_codec_bridge;

/// Declares a closed `uint8` enumeration of the protocol: unknown values are refused with
/// [`DecodeError::UnknownValue`], reserved ones with [`DecodeError::ReservedValue`].
macro_rules! closed_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal, reserved [$($reserved:literal),*] {
            $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $text:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every value, in code-point order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)*];

            /// The code point.
            pub const fn value(self) -> u8 {
                match self { $(Self::$variant => $value,)* }
            }

            /// The draft's name of the value.
            pub const fn name(self) -> &'static str {
                match self { $(Self::$variant => $text,)* }
            }

            /// The value of a code point, refusing reserved and unknown ones.
            pub fn from_value(value: u8) -> Result<Self, $crate::error::DecodeError> {
                match value {
                    $( $value => Ok(Self::$variant), )*
                    $( $reserved => Err($crate::error::DecodeError::ReservedValue {
                        what: $what,
                        value: u64::from(value),
                    }), )*
                    _ => Err($crate::error::DecodeError::UnknownValue {
                        what: $what,
                        value: u64::from(value),
                    }),
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                write!(f, "{}({})", self.name(), self.value())
            }
        }

        impl $crate::codec::Encode for $name {
            fn encode_into(
                &self,
                w: &mut $crate::codec::Writer,
            ) -> Result<(), $crate::error::EncodeError> {
                w.u8(self.value());
                Ok(())
            }
        }

        impl $crate::codec::Decode for $name {
            fn decode_from(
                r: &mut $crate::codec::Reader<'_>,
            ) -> Result<Self, $crate::error::DecodeError> {
                Self::from_value(r.u8($what)?)
            }
        }
    };
}
pub(crate) use closed_enum;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_boundaries_round_trip() {
        for value in [0usize, 63, 64, 16383, 16384, (1 << 30) - 1] {
            let mut w = Writer::new();
            w.varint("x", value).unwrap();
            let bytes = w.into_bytes();
            assert_eq!(bytes.len(), varint_len(value));
            let mut r = Reader::new(&bytes);
            assert_eq!(r.varint("x").unwrap(), value);
            assert!(r.is_empty());
        }
    }

    #[test]
    fn varint_refuses_non_minimal_and_0b11() {
        assert_eq!(
            Reader::new(&[0x40, 0x05]).varint("v"),
            Err(DecodeError::NonMinimalLength {
                what: "v",
                value: 5,
                len_bytes: 2
            })
        );
        assert_eq!(
            Reader::new(&[0x80, 0, 0, 0x05]).varint("v"),
            Err(DecodeError::NonMinimalLength {
                what: "v",
                value: 5,
                len_bytes: 4
            })
        );
        assert_eq!(
            Reader::new(&[0xc0, 0, 0, 0, 0, 0, 0, 1]).varint("v"),
            Err(DecodeError::InvalidLengthPrefix { what: "v" })
        );
    }

    #[test]
    fn vector_cap_is_checked_before_reading() {
        // Claims 1000 bytes, has none: the cap fires first.
        let mut r = Reader::new(&[0x43, 0xe8]);
        assert_eq!(
            r.vector("v", 10).unwrap_err(),
            DecodeError::TooLong {
                what: "v",
                len: 1000,
                max: 10
            }
        );
        let mut w = Writer::new();
        assert!(matches!(
            w.opaque("v", 2, &[1, 2, 3]),
            Err(EncodeError::TooLong { .. })
        ));
    }

    #[test]
    fn optional_refuses_bad_presence_byte() {
        assert_eq!(
            Reader::new(&[2]).present("o"),
            Err(DecodeError::InvalidOptional {
                what: "o",
                value: 2
            })
        );
    }

    #[test]
    fn list_refuses_too_many_items_and_overrun() {
        let mut r = Reader::new(&[3, 1, 2, 3]);
        assert_eq!(
            r.list("l", 10, 2, |r| r.u8("e")).unwrap_err(),
            DecodeError::TooManyItems { what: "l", max: 2 }
        );
        // An element that crosses the vector's end is truncated, not read from what follows.
        let mut r = Reader::new(&[1, 0, 0]);
        assert!(matches!(
            r.list("l", 10, 10, |r| r.u16("e")).unwrap_err(),
            DecodeError::Truncated { what: "e", .. }
        ));
    }
}
