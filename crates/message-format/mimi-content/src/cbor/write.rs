//! The deterministic writer: shortest-form heads (by `ciborium-ll`'s encoder), definite
//! lengths, map keys in encoded order (by the order of [`MapKey`]), canonical NaN.

use std::convert::Infallible;

use ciborium_ll::{Encoder, Header};

use super::value::{MapKey, Value};

/// Appends to a `Vec` without a fallible `std::io` layer.
struct Sink<'a>(&'a mut Vec<u8>);

impl ciborium_io::Write for Sink<'_> {
    type Error = Infallible;

    fn write_all(&mut self, data: &[u8]) -> Result<(), Self::Error> {
        self.0.extend_from_slice(data);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

fn push_header(out: &mut Vec<u8>, header: Header) {
    match Encoder::from(Sink(out)).push(header) {
        Ok(()) => {}
        Err(never) => match never {},
    }
}

/// The canonical (shortest) encoding of one header, on the stack (at most 9 bytes).
pub(crate) struct HeaderBytes {
    buf: [u8; 9],
    len: usize,
}

impl HeaderBytes {
    /// The encoded header.
    pub(crate) fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl ciborium_io::Write for &mut HeaderBytes {
    type Error = Infallible;

    fn write_all(&mut self, data: &[u8]) -> Result<(), Self::Error> {
        // A header is at most 9 bytes; excess input cannot occur and is dropped.
        let end = (self.len + data.len()).min(self.buf.len());
        let n = end - self.len;
        self.buf[self.len..end].copy_from_slice(&data[..n]);
        self.len = end;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// The canonical (shortest) encoding of one header.
pub(crate) fn header_bytes(header: Header) -> HeaderBytes {
    let mut out = HeaderBytes {
        buf: [0; 9],
        len: 0,
    };
    match Encoder::from(&mut out).push(header) {
        Ok(()) => {}
        Err(never) => match never {},
    }
    out
}

/// Builds a deterministic encoding item by item.
#[derive(Default)]
pub(crate) struct Writer {
    out: Vec<u8>,
}

impl Writer {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.out
    }

    pub(crate) fn unsigned(&mut self, n: u64) {
        push_header(&mut self.out, Header::Positive(n));
    }

    pub(crate) fn bool(&mut self, b: bool) {
        let simple = if b {
            ciborium_ll::simple::TRUE
        } else {
            ciborium_ll::simple::FALSE
        };
        push_header(&mut self.out, Header::Simple(simple));
    }

    pub(crate) fn null(&mut self) {
        push_header(&mut self.out, Header::Simple(ciborium_ll::simple::NULL));
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        push_header(&mut self.out, Header::Bytes(Some(bytes.len())));
        self.out.extend_from_slice(bytes);
    }

    pub(crate) fn text(&mut self, text: &str) {
        push_header(&mut self.out, Header::Text(Some(text.len())));
        self.out.extend_from_slice(text.as_bytes());
    }

    pub(crate) fn array(&mut self, len: usize) {
        push_header(&mut self.out, Header::Array(Some(len)));
    }

    fn key(&mut self, key: &MapKey) {
        match key {
            MapKey::Int(n) => self.integer(*n),
            MapKey::Bytes(b) => self.bytes(b),
            MapKey::Text(t) => self.text(t),
        }
    }

    fn integer(&mut self, n: i64) {
        match u64::try_from(n) {
            Ok(u) => push_header(&mut self.out, Header::Positive(u)),
            Err(_) => push_header(&mut self.out, Header::Negative(!(n as u64))),
        }
    }

    /// A map whose keys are already in deterministic order (a `BTreeMap<MapKey, _>`).
    pub(crate) fn map<'v>(
        &mut self,
        entries: impl ExactSizeIterator<Item = (&'v MapKey, &'v Value)>,
    ) {
        push_header(&mut self.out, Header::Map(Some(entries.len())));
        for (key, value) in entries {
            self.key(key);
            self.value(value);
        }
    }

    pub(crate) fn value(&mut self, value: &Value) {
        match value {
            Value::Unsigned(n) => self.unsigned(*n),
            Value::Negative(n) => push_header(&mut self.out, Header::Negative(*n)),
            Value::Bytes(b) => self.bytes(b),
            Value::Text(t) => self.text(t),
            Value::Array(items) => {
                self.array(items.len());
                for item in items {
                    self.value(item);
                }
            }
            Value::Map(map) => self.map(map.iter()),
            Value::Tag(tag, inner) => {
                push_header(&mut self.out, Header::Tag(*tag));
                self.value(inner);
            }
            Value::Bool(b) => self.bool(*b),
            Value::Null => self.null(),
            Value::Undefined => {
                push_header(
                    &mut self.out,
                    Header::Simple(ciborium_ll::simple::UNDEFINED),
                );
            }
            Value::Simple(s) => push_header(&mut self.out, Header::Simple(s.value())),
            Value::Float(f) => {
                let f = f.value();
                if f.is_nan() {
                    self.out.extend_from_slice(&[0xf9, 0x7e, 0x00]);
                } else {
                    push_header(&mut self.out, Header::Float(f));
                }
            }
        }
    }
}

/// Encodes one item deterministically.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut writer = Writer::new();
    writer.value(value);
    writer.finish()
}
