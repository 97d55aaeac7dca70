//! State records: a small length-prefixed binary format for what the storage layer saves.
//!
//! Each record starts with a tag and version byte so a stored record from another kind or a
//! later format is refused instead of misread. openmls keeps its group state in a key-value
//! store; a record carries the whole store of one group (sorted by key, so the same state
//! always gives the same bytes).

use std::collections::BTreeMap;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::MlsError;
use crate::store::BinaryStorage;
use crate::store::codec::tag_json;
use crate::store::stale::drop_stale_proposals;

/// Record format version.
///
/// Version 3: every openmls value is tagged with its codec (`store/codec.rs`), compact binary
/// for most kinds. Version 2 records hold untagged JSON values: they read, each value tagged
/// as JSON and rewritten in its kind's codec once openmls reads it ([`Format::JsonValues`]).
/// Version 2: MLS credentials inside openmls state (KeyPackages, ratchet trees) follow RFC 9420
/// §5.3. Version 1 records (older mimi-rs) hold them with one extra length prefix; a record of
/// openmls state in version 1 is refused with [`LEGACY_CREDENTIALS`].
const FORMAT: u8 = 3;

/// The last format whose openmls values are untagged JSON.
const FORMAT_JSON_VALUES: u8 = 2;

/// How the openmls values of a record read are encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Format 3: tagged values, as this version writes them.
    Current,
    /// Format 2: untagged JSON values (migrated on read).
    JsonValues,
}

/// The last format whose openmls state carries credentials in the pre-RFC 9420 layout.
const FORMAT_LEGACY_CREDENTIALS: u8 = 1;

/// What to do with a record written before the RFC 9420 credential layout.
pub(crate) const LEGACY_CREDENTIALS: &str = "record format 1 holds MLS credentials in the pre-RFC 9420 layout of older mimi-rs releases (one extra length prefix): re-issue the device credential and its KeyPackages (`mimi device reissue`; in the SDK `Device::reissue`), and recreate rooms created with old credentials";

#[derive(Default)]
pub(crate) struct Writer {
    out: Vec<u8>,
}

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }
    pub(crate) fn bytes(&mut self, b: &[u8]) {
        self.u64(b.len() as u64);
        self.out.extend_from_slice(b);
    }
    pub(crate) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    pub(crate) fn list(&mut self, items: &[Vec<u8>]) {
        self.u64(items.len() as u64);
        for i in items {
            self.bytes(i);
        }
    }
    pub(crate) fn finish(self) -> Vec<u8> {
        self.out
    }

    /// The record followed by its SHA-256, so a damaged record is refused before openmls
    /// (which unwraps what it reads from its store) sees it.
    pub(crate) fn finish_sealed(mut self) -> Vec<u8> {
        let digest = Sha256::digest(&self.out);
        self.out.extend_from_slice(&digest);
        self.out
    }
}

/// Checks and strips the SHA-256 that [`Writer::finish_sealed`] appended.
pub(crate) fn open_sealed(record: &[u8]) -> Result<&[u8], MlsError> {
    if record.len() < 32 {
        return Err(rec("truncated record"));
    }
    let (body, digest) = record.split_at(record.len() - 32);
    if Sha256::digest(body).as_slice() != digest {
        return Err(rec("record checksum mismatch: the record is damaged"));
    }
    Ok(body)
}

pub(crate) struct Reader<'a> {
    input: &'a [u8],
}

fn rec(msg: &str) -> MlsError {
    MlsError::Record(msg.to_string())
}

fn unsupported(v: u8) -> MlsError {
    MlsError::Record(format!(
        "record format {v} is not supported (expected {FORMAT})"
    ))
}

impl<'a> Reader<'a> {
    pub(crate) fn new(input: &'a [u8]) -> Self {
        Self { input }
    }
    pub(crate) fn u8(&mut self) -> Result<u8, MlsError> {
        let (v, rest) = self
            .input
            .split_first()
            .ok_or_else(|| rec("truncated record"))?;
        self.input = rest;
        Ok(*v)
    }
    pub(crate) fn u64(&mut self) -> Result<u64, MlsError> {
        let (v, rest) = self
            .input
            .split_first_chunk::<8>()
            .ok_or_else(|| rec("truncated record"))?;
        self.input = rest;
        Ok(u64::from_be_bytes(*v))
    }
    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], MlsError> {
        let len = usize::try_from(self.u64()?).map_err(|_| rec("length out of range"))?;
        if self.input.len() < len {
            return Err(rec("truncated record"));
        }
        let (v, rest) = self.input.split_at(len);
        self.input = rest;
        Ok(v)
    }
    pub(crate) fn str(&mut self) -> Result<&'a str, MlsError> {
        std::str::from_utf8(self.bytes()?).map_err(|_| rec("text is not UTF-8"))
    }
    pub(crate) fn parse<T: FromStr>(&mut self) -> Result<T, MlsError>
    where
        T::Err: std::fmt::Display,
    {
        let s = self.str()?;
        s.parse::<T>()
            .map_err(|e| MlsError::Record(format!("{s}: {e}")))
    }
    pub(crate) fn list(&mut self) -> Result<Vec<Vec<u8>>, MlsError> {
        let n = self.u64()?;
        // Every item takes at least 8 bytes: refuse counts the input cannot hold.
        if n > (self.input.len() / 8) as u64 {
            return Err(rec("list count exceeds the record"));
        }
        (0..n).map(|_| self.bytes().map(<[u8]>::to_vec)).collect()
    }
    pub(crate) fn end(&self) -> Result<(), MlsError> {
        if self.input.is_empty() {
            Ok(())
        } else {
            Err(rec("trailing bytes after the record"))
        }
    }
    /// Reads the tag and format of a record that holds openmls state: format 1 is refused
    /// with what to do ([`LEGACY_CREDENTIALS`]).
    pub(crate) fn header(&mut self, tag: u8) -> Result<Format, MlsError> {
        match self.tag_and_format(tag)? {
            FORMAT => Ok(Format::Current),
            FORMAT_JSON_VALUES => Ok(Format::JsonValues),
            FORMAT_LEGACY_CREDENTIALS => Err(rec(LEGACY_CREDENTIALS)),
            v => Err(unsupported(v)),
        }
    }

    /// Reads the tag and format of a record without openmls state (its certificates are
    /// plain DER, the same in either layout): formats 1 to 3 all read.
    pub(crate) fn header_without_mls_state(&mut self, tag: u8) -> Result<(), MlsError> {
        match self.tag_and_format(tag)? {
            FORMAT | FORMAT_JSON_VALUES | FORMAT_LEGACY_CREDENTIALS => Ok(()),
            v => Err(unsupported(v)),
        }
    }

    fn tag_and_format(&mut self, tag: u8) -> Result<u8, MlsError> {
        let t = self.u8()?;
        if t != tag {
            return Err(MlsError::Record(format!(
                "record of kind {t}, expected kind {tag}"
            )));
        }
        self.u8()
    }
}

impl Writer {
    pub(crate) fn header(&mut self, tag: u8) {
        self.u8(tag);
        self.u8(FORMAT);
    }
}

/// Writes every key-value pair of an openmls store, sorted by key.
pub(crate) fn write_storage(w: &mut Writer, storage: &BinaryStorage) -> Result<(), MlsError> {
    let values = storage.read_lock().map_err(MlsError::mls)?;
    let sorted: BTreeMap<&Vec<u8>, &Vec<u8>> = values.iter().collect();
    w.u64(sorted.len() as u64);
    for (k, v) in sorted {
        w.bytes(k);
        w.bytes(v);
    }
    Ok(())
}

/// Reads what [`write_storage`] wrote into an (empty) store; values of a record of
/// [`Format::JsonValues`] are tagged as JSON (see `store/codec.rs`), and the queued proposals
/// openmls's memory store left behind are dropped (`store/stale.rs`).
pub(crate) fn read_storage(
    r: &mut Reader<'_>,
    storage: &BinaryStorage,
    format: Format,
) -> Result<(), MlsError> {
    let n = r.u64()?;
    let mut values = storage.write_lock().map_err(MlsError::mls)?;
    for _ in 0..n {
        let k = r.bytes()?.to_vec();
        let stored = r.bytes()?;
        let v = match format {
            Format::Current => stored.to_vec(),
            Format::JsonValues => tag_json(stored),
        };
        if values.insert(k, v).is_some() {
            return Err(rec("the record holds an MLS storage key twice"));
        }
    }
    if format == Format::JsonValues {
        drop_stale_proposals(&mut values);
    }
    Ok(())
}
