//! How one stored value is encoded: a tag octet naming the codec, then the value.
//!
//! * [`Codec::Binary`] (tag 1): postcard, a compact serde format (bytes as themselves,
//!   integers as varints): what every kind is written in, except the two below.
//! * [`Codec::Compact`] (tag 2): serde's JSON data model in a compact binary form
//!   ([`super::compact`]: runs of empty slots and octet arrays take a few octets), what the
//!   message secrets are written in: self-describing, so `tracked/split.rs` can store each
//!   past epoch apart, and flat in the members (their secret tree has four mostly empty slots
//!   per member), written by its own serializer
//!   (`compact/ser.rs`, no `serde_json::Value` in between).
//! * [`Codec::Json`] (tag 0): serde_json, what records of format 2 hold for every kind and
//!   older records the message secrets (read with this tag, then rewritten in the codec of
//!   their kind), and what the join configuration stays in (openmls reads its past-epoch
//!   policy with an untagged enum, which needs a self-describing format; it is small).
//!
//! Every decoder consumes its whole input or fails; nothing here panics.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;
use super::compact;
use super::labels::{LABEL_MESSAGE_SECRETS, LABEL_MLS_GROUP_JOIN_CONFIG};

/// The tag of a JSON value.
pub(crate) const TAG_JSON: u8 = 0;
/// The tag of a postcard value.
pub(crate) const TAG_BINARY: u8 = 1;
/// The tag of a value in [`super::compact`].
pub(crate) const TAG_COMPACT: u8 = 2;

/// A codec of stored values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    Json,
    Binary,
    Compact,
}

impl Codec {
    /// The codec values of the kind `label` are written in.
    pub(crate) fn of_kind(label: &[u8]) -> Self {
        #[cfg(test)]
        if legacy_json::on() {
            return Self::Json;
        }
        if label == LABEL_MLS_GROUP_JOIN_CONFIG {
            Self::Json
        } else if label == LABEL_MESSAGE_SECRETS {
            Self::Compact
        } else {
            Self::Binary
        }
    }

    fn tag(self) -> u8 {
        match self {
            Self::Json => TAG_JSON,
            Self::Binary => TAG_BINARY,
            Self::Compact => TAG_COMPACT,
        }
    }

    /// The codec a tag names.
    pub(crate) fn of_tag(tag: u8) -> Result<Self, StoreError> {
        match tag {
            TAG_JSON => Ok(Self::Json),
            TAG_BINARY => Ok(Self::Binary),
            TAG_COMPACT => Ok(Self::Compact),
            t => Err(StoreError::Decode(format!("unknown value codec {t}"))),
        }
    }

    /// `value` in this codec, without the tag.
    pub(crate) fn encode_bare<T: Serialize + ?Sized>(
        self,
        value: &T,
    ) -> Result<Vec<u8>, StoreError> {
        match self {
            Self::Json => serde_json::to_vec(value).map_err(|e| StoreError::Encode(e.to_string())),
            Self::Binary => {
                postcard::to_allocvec(value).map_err(|e| StoreError::Encode(e.to_string()))
            }
            Self::Compact => {
                let mut out = Vec::new();
                compact_into(&mut out, value)?;
                Ok(out)
            }
        }
    }

    /// `value` in this codec, tagged.
    pub(crate) fn encode<T: Serialize + ?Sized>(self, value: &T) -> Result<Vec<u8>, StoreError> {
        let mut out = vec![self.tag()];
        match self {
            Self::Json => serde_json::to_writer(&mut out, value)
                .map_err(|e| StoreError::Encode(e.to_string()))?,
            Self::Binary => {
                out = postcard::to_extend(value, out)
                    .map_err(|e| StoreError::Encode(e.to_string()))?;
            }
            Self::Compact => compact_into(&mut out, value)?,
        }
        // The store keeps the value for the group's life: not the growth slack of encoding
        // (up to half of a ratchet tree's octets).
        out.shrink_to_fit();
        Ok(out)
    }

    /// Decodes a value in this codec without its tag: all of `bytes` or an error.
    pub(crate) fn decode_bare<T: DeserializeOwned>(self, bytes: &[u8]) -> Result<T, StoreError> {
        match self {
            Self::Json => {
                serde_json::from_slice(bytes).map_err(|e| StoreError::Decode(e.to_string()))
            }
            Self::Binary => {
                let (v, rest) = postcard::take_from_bytes(bytes)
                    .map_err(|e| StoreError::Decode(e.to_string()))?;
                if rest.is_empty() {
                    Ok(v)
                } else {
                    Err(StoreError::Decode(format!(
                        "{} octet(s) after the stored value",
                        rest.len()
                    )))
                }
            }
            Self::Compact => serde_json::from_value(compact::decode(bytes)?)
                .map_err(|e| StoreError::Decode(e.to_string())),
        }
    }
}

/// Appends `value` in the compact codec, written directly (`compact/ser.rs`); in tests also
/// through `serde_json::Value`, the two compared (see [`value_path`]).
fn compact_into<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Result<(), StoreError> {
    let start = out.len();
    let r = compact::ser::encode_into(out, value);
    #[cfg(test)]
    value_path::compare(&r.as_ref().map(|_| &out[start..]), value);
    #[cfg(not(test))]
    let _ = start;
    r
}

/// Tests: every value written in the compact codec is also encoded the older way
/// (`compact::encode(&serde_json::to_value(v))`) and the two compared; a difference fails
/// the test that wrote it, and [`value_path::compared`] counts the comparisons.
#[cfg(test)]
pub(crate) mod value_path {
    #![allow(clippy::panic)]

    use std::cell::Cell;

    use serde::Serialize;

    use crate::store::StoreError;
    use crate::store::compact;

    thread_local! {
        static COMPARED: Cell<usize> = const { Cell::new(0) };
    }

    /// How many values this thread wrote in the compact codec (each compared).
    pub(crate) fn compared() -> usize {
        COMPARED.with(Cell::get)
    }

    pub(super) fn compare<T: Serialize + ?Sized>(direct: &Result<&[u8], &StoreError>, v: &T) {
        let older = serde_json::to_value(v)
            .map_err(|e| StoreError::Encode(e.to_string()))
            .and_then(|v| compact::encode(&v));
        match (direct, &older) {
            (Ok(d), Ok(o)) if d == &o.as_slice() => {}
            (Err(_), Err(_)) => {}
            _ => panic!(
                "the direct compact serializer and the Value path disagree: {direct:?} / {older:?}"
            ),
        }
        COMPARED.with(|c| c.set(c.get() + 1));
    }
}

/// A value of a record of the older format (bare JSON), tagged as such.
pub(crate) fn tag_json(bare: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(bare.len() + 1);
    v.push(TAG_JSON);
    v.extend_from_slice(bare);
    v
}

/// Splits a stored value into its codec and its bare encoding.
pub(crate) fn untag(value: &[u8]) -> Result<(Codec, &[u8]), StoreError> {
    let (tag, rest) = value
        .split_first()
        .ok_or_else(|| StoreError::Decode("empty stored value".into()))?;
    Ok((Codec::of_tag(*tag)?, rest))
}

/// Decodes a tagged value: the value and the codec it was in.
pub(crate) fn decode<T: DeserializeOwned>(value: &[u8]) -> Result<(T, Codec), StoreError> {
    let (codec, bare) = untag(value)?;
    Ok((codec.decode_bare(bare)?, codec))
}

/// Tests: writing every kind in JSON, as openmls's memory store did (records of format 2,
/// see `tests/legacy_entries.rs`).
#[cfg(test)]
pub(crate) mod legacy_json {
    use std::cell::Cell;

    thread_local! {
        static ON: Cell<bool> = const { Cell::new(false) };
    }

    /// Whether this thread writes every kind in JSON.
    pub(crate) fn on() -> bool {
        ON.with(Cell::get)
    }

    /// Runs `f` with every kind written in JSON on this thread.
    pub(crate) fn with<T>(f: impl FnOnce() -> T) -> T {
        ON.with(|c| c.set(true));
        let out = f();
        ON.with(|c| c.set(false));
        out
    }
}
