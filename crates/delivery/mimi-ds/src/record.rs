//! The one codec of the engines' stored records: big-endian integers and `u32`-length-prefixed
//! byte strings, read by a reader that refuses truncated fields and must end exactly at the end
//! of the record. Each record form (see [`crate::hub::HubRoom::to_record`]) starts with its
//! version byte and is described where it is built.

/// Why a stored record does not load.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The bytes are not a record of ours.
    #[error("{what} record: {detail}; the database may be corrupt or written by another program")]
    Malformed {
        /// The record's kind.
        what: &'static str,
        /// What is wrong.
        detail: &'static str,
    },
    /// The record was written by a build that knows a newer format.
    #[error(
        "{what} record: format version {found} is not known to this build (it reads up to \
         {known}); run the build that wrote it, or a newer one"
    )]
    UnknownVersion {
        /// The record's kind.
        what: &'static str,
        /// The version found.
        found: u8,
        /// The newest version this build reads.
        known: u8,
    },
    /// The record belongs to another room than the one it is stored under.
    #[error(
        "{what} record: stored under {stored} but written for {written}; the database was edited"
    )]
    WrongRoom {
        /// The record's kind.
        what: &'static str,
        /// The room it is stored under.
        stored: String,
        /// The room the record names.
        written: String,
    },
    /// A part the record embeds does not restore.
    #[error("{what} record: {detail}")]
    Part {
        /// The record's kind.
        what: &'static str,
        /// Why.
        detail: String,
    },
}

/// Writes a record.
#[derive(Debug)]
pub(crate) struct Writer {
    what: &'static str,
    out: Vec<u8>,
}

impl Writer {
    /// A record of kind `what` (for errors) at format `version`.
    pub(crate) fn new(what: &'static str, version: u8) -> Self {
        Self {
            what,
            out: vec![version],
        }
    }

    pub(crate) fn u32(&mut self, value: u32) {
        self.out.extend_from_slice(&value.to_be_bytes());
    }

    pub(crate) fn u64(&mut self, value: u64) {
        self.out.extend_from_slice(&value.to_be_bytes());
    }

    /// A count of items, as a `u32`.
    pub(crate) fn count(&mut self, n: usize) -> Result<(), RecordError> {
        let n = u32::try_from(n).map_err(|_| self.malformed("over 2^32 items"))?;
        self.u32(n);
        Ok(())
    }

    /// A `u32`-length-prefixed byte string.
    pub(crate) fn bytes(&mut self, bytes: &[u8]) -> Result<(), RecordError> {
        self.count(bytes.len())
            .map_err(|_| self.malformed("field over 4 GiB"))?;
        self.out.extend_from_slice(bytes);
        Ok(())
    }

    fn malformed(&self, detail: &'static str) -> RecordError {
        RecordError::Malformed {
            what: self.what,
            detail,
        }
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// Reads a record.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    what: &'static str,
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads the version byte of a record of kind `what`, which must be one of `known`
    /// (ascending; the last is the newest).
    pub(crate) fn open(
        what: &'static str,
        record: &'a [u8],
        known: &[u8],
    ) -> Result<(u8, Self), RecordError> {
        let mut reader = Self { what, rest: record };
        let version = reader.take(1)?[0];
        if !known.contains(&version) {
            return Err(RecordError::UnknownVersion {
                what,
                found: version,
                known: known.last().copied().unwrap_or(0),
            });
        }
        Ok((version, reader))
    }

    pub(crate) fn malformed(&self, detail: &'static str) -> RecordError {
        RecordError::Malformed {
            what: self.what,
            detail,
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], RecordError> {
        if self.rest.len() < n {
            return Err(self.malformed("truncated"));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    pub(crate) fn u32(&mut self) -> Result<u32, RecordError> {
        let mut a = [0u8; 4];
        a.copy_from_slice(self.take(4)?);
        Ok(u32::from_be_bytes(a))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, RecordError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(a))
    }

    /// A `u32`-length-prefixed byte string.
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], RecordError> {
        let len = usize::try_from(self.u32()?).map_err(|_| self.malformed("length"))?;
        self.take(len)
    }

    /// A length-prefixed UTF-8 string.
    pub(crate) fn text(&mut self) -> Result<&'a str, RecordError> {
        let bytes = self.bytes()?;
        std::str::from_utf8(bytes).map_err(|_| self.malformed("text is not UTF-8"))
    }

    /// Ends the record: nothing may follow.
    pub(crate) fn end(self) -> Result<(), RecordError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.malformed("trailing bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_and_the_reader_ends_exactly() {
        let mut w = Writer::new("test", 3);
        w.u32(7);
        w.u64(u64::MAX);
        w.bytes(b"abc").unwrap();
        let record = w.finish();
        let (version, mut r) = Reader::open("test", &record, &[1, 3]).unwrap();
        assert_eq!(version, 3);
        assert_eq!(r.u32().unwrap(), 7);
        assert_eq!(r.u64().unwrap(), u64::MAX);
        assert_eq!(r.text().unwrap(), "abc");
        r.end().unwrap();
    }

    #[test]
    fn unknown_versions_truncation_and_trailing_bytes_are_refused() {
        assert!(matches!(
            Reader::open("test", &[4], &[1, 3]),
            Err(RecordError::UnknownVersion {
                found: 4,
                known: 3,
                ..
            })
        ));
        assert!(Reader::open("test", &[], &[1]).is_err());
        let (_, mut r) = Reader::open("test", &[1, 0, 0, 0, 9, 1], &[1]).unwrap();
        assert!(matches!(r.bytes(), Err(RecordError::Malformed { .. })));
        let (_, r) = Reader::open("test", &[1, 0], &[1]).unwrap();
        assert!(r.end().is_err());
    }
}
