//! The byte layout of client records: big-endian integers and u32-length-prefixed byte
//! strings. The reader refuses trailing bytes and lengths past the end.

use crate::error::ClientError;

#[derive(Default)]
pub(crate) struct Writer(Vec<u8>);

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn bool(&mut self, v: bool) {
        self.u8(u8::from(v));
    }

    pub(crate) fn bytes(&mut self, v: &[u8]) -> Result<(), ClientError> {
        let len = u32::try_from(v.len()).map_err(|_| {
            ClientError::Record(format!("a field of {} bytes is too long", v.len()))
        })?;
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(v);
        Ok(())
    }

    pub(crate) fn str(&mut self, v: &str) -> Result<(), ClientError> {
        self.bytes(v.as_bytes())
    }

    pub(crate) fn count(&mut self, n: usize) -> Result<(), ClientError> {
        let n =
            u32::try_from(n).map_err(|_| ClientError::Record(format!("{n} items are too many")))?;
        self.0.extend_from_slice(&n.to_be_bytes());
        Ok(())
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.0
    }
}

pub(crate) struct Reader<'a> {
    input: &'a [u8],
}

fn short(what: &str) -> ClientError {
    ClientError::Record(format!("the record ends inside {what}"))
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self { input }
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], ClientError> {
        if self.input.len() < n {
            return Err(short(what));
        }
        let (head, tail) = self.input.split_at(n);
        self.input = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, ClientError> {
        Ok(self.take(1, what)?.first().copied().unwrap_or_default())
    }

    pub(crate) fn bool(&mut self, what: &str) -> Result<bool, ClientError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(ClientError::Record(format!(
                "{what}: {other} is not a boolean"
            ))),
        }
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64, ClientError> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    fn u32(&mut self, what: &str) -> Result<u32, ClientError> {
        let b = self.take(4, what)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_be_bytes(a))
    }

    pub(crate) fn bytes(&mut self, what: &str) -> Result<&'a [u8], ClientError> {
        let n = self.u32(what)? as usize;
        self.take(n, what)
    }

    pub(crate) fn string(&mut self, what: &str) -> Result<String, ClientError> {
        String::from_utf8(self.bytes(what)?.to_vec())
            .map_err(|_| ClientError::Record(format!("{what} is not UTF-8")))
    }

    pub(crate) fn parse<T: std::str::FromStr>(&mut self, what: &str) -> Result<T, ClientError>
    where
        T::Err: std::fmt::Display,
    {
        self.string(what)?
            .parse()
            .map_err(|e| ClientError::Record(format!("{what}: {e}")))
    }

    /// A count of items that each take at least `min_size` bytes (bounds allocations).
    pub(crate) fn count(&mut self, what: &str, min_size: usize) -> Result<usize, ClientError> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min_size.max(1)) > self.input.len() {
            return Err(short(what));
        }
        Ok(n)
    }

    /// How many bytes are left.
    pub(crate) fn remaining(&self) -> usize {
        self.input.len()
    }

    pub(crate) fn end(&self) -> Result<(), ClientError> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(ClientError::Record(format!(
                "{} trailing bytes after the record",
                self.input.len()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Reader, Writer};

    proptest! {
        #[test]
        fn decode_of_encode_is_identity(
            items in proptest::collection::vec((any::<u64>(), proptest::collection::vec(any::<u8>(), 0..64), any::<bool>(), ".{0,16}"), 0..16)
        ) {
            let mut w = Writer::default();
            w.count(items.len()).unwrap();
            for (n, bytes, flag, text) in &items {
                w.u64(*n);
                w.bytes(bytes).unwrap();
                w.bool(*flag);
                w.str(text).unwrap();
            }
            let encoded = w.finish();
            let mut r = Reader::new(&encoded);
            let count = r.count("items", 13).unwrap();
            prop_assert_eq!(count, items.len());
            for (n, bytes, flag, text) in &items {
                prop_assert_eq!(r.u64("n").unwrap(), *n);
                prop_assert_eq!(r.bytes("bytes").unwrap(), bytes.as_slice());
                prop_assert_eq!(r.bool("flag").unwrap(), *flag);
                prop_assert_eq!(&r.string("text").unwrap(), text);
            }
            prop_assert!(r.end().is_ok());
            // Any strict prefix fails somewhere instead of panicking.
            if !encoded.is_empty() {
                let cut = &encoded[..encoded.len() - 1];
                let mut r = Reader::new(cut);
                let ok = (|| -> Result<(), crate::ClientError> {
                    let n = r.count("items", 13)?;
                    for _ in 0..n {
                        r.u64("n")?;
                        r.bytes("bytes")?;
                        r.bool("flag")?;
                        r.string("text")?;
                    }
                    r.end()
                })();
                prop_assert!(ok.is_err());
            }
        }
    }
}
