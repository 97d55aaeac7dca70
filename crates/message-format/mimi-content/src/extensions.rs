//! Typed access to the extensions of draft-mimi-content-more-extensions-00 (digest §5.8):
//! senderTimestamp (3), externalMessageId (4), subject (5), lastSeen (256). The keys are only
//! suggested by an individual draft, so decoding never refuses content over them; the getters
//! report a malformed value as an error instead.

use std::collections::BTreeMap;

use crate::cbor::{MapKey, Value};
use crate::codepoints::extension_key;
use crate::error::ShapeError;
use crate::message_id::MessageId;
use crate::model::Extensions;

/// Longest subject in octets.
pub const MAX_SUBJECT_LEN: usize = 4096;

/// The sender's clock when sending: seconds and an optional fraction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SenderTimestamp {
    /// UNIX seconds.
    pub seconds: u64,
    /// Sub-second precision, if any.
    pub fraction: Option<Fraction>,
}

/// A sub-second fraction of a [`SenderTimestamp`] (map keys -3, -6, -9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fraction {
    /// Milliseconds, 0..=999.
    Millis(u16),
    /// Microseconds, 0..=999_999.
    Micros(u32),
    /// Nanoseconds, 0..=999_999_999.
    Nanos(u32),
}

/// A message ID of another messaging system.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalMessageId {
    /// The native ID.
    pub id: Vec<u8>,
    /// Whose ID it is.
    pub scope: ExternalScope,
}

/// The scope of an [`ExternalMessageId`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExternalScope {
    /// An IANA Private Enterprise Number (> 0).
    Pen(u64),
    /// A domain name or a URI.
    Text(String),
}

/// The `lastSeen` list: MIMI IDs or external IDs, never mixed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LastSeen {
    /// MIMI message IDs.
    Mimi(Vec<MessageId>),
    /// External message IDs.
    External(Vec<ExternalMessageId>),
}

fn wrong(field: &'static str, expected: &'static str) -> ShapeError {
    ShapeError::WrongType { field, expected }
}

impl SenderTimestamp {
    fn to_value(self) -> Value {
        let mut map = BTreeMap::from([(MapKey::Int(1), Value::Unsigned(self.seconds))]);
        match self.fraction {
            None => {}
            Some(Fraction::Millis(n)) => {
                map.insert(MapKey::Int(-3), Value::Unsigned(n.into()));
            }
            Some(Fraction::Micros(n)) => {
                map.insert(MapKey::Int(-6), Value::Unsigned(n.into()));
            }
            Some(Fraction::Nanos(n)) => {
                map.insert(MapKey::Int(-9), Value::Unsigned(n.into()));
            }
        }
        Value::Map(map)
    }

    fn from_value(value: &Value) -> Result<Self, ShapeError> {
        const FIELD: &str = "senderTimestamp";
        let Value::Map(map) = value else {
            return Err(wrong(FIELD, "a map"));
        };
        let mut seconds = None;
        let mut fraction = None;
        for (key, value) in map {
            let Value::Unsigned(n) = value else {
                return Err(wrong(FIELD, "unsigned integers"));
            };
            let n = *n;
            let (limit, make): (u64, fn(u64) -> Fraction) = match key {
                MapKey::Int(1) => {
                    seconds = Some(n);
                    continue;
                }
                MapKey::Int(-3) => (999, |n| Fraction::Millis(n as u16)),
                MapKey::Int(-6) => (999_999, |n| Fraction::Micros(n as u32)),
                MapKey::Int(-9) => (999_999_999, |n| Fraction::Nanos(n as u32)),
                _ => return Err(wrong(FIELD, "keys 1 and one of -3, -6, -9")),
            };
            if n > limit || fraction.is_some() {
                return Err(wrong(FIELD, "one fraction within its range"));
            }
            fraction = Some(make(n));
        }
        let seconds = seconds.ok_or(wrong(FIELD, "a map with key 1 (seconds)"))?;
        Ok(Self { seconds, fraction })
    }
}

impl ExternalMessageId {
    fn to_value(&self) -> Value {
        let scope = match &self.scope {
            ExternalScope::Pen(pen) => Value::Unsigned(*pen),
            ExternalScope::Text(text) => Value::Text(text.clone()),
        };
        Value::Array(vec![Value::Bytes(self.id.clone()), scope])
    }

    fn from_value(value: &Value) -> Result<Self, ShapeError> {
        const FIELD: &str = "externalMessageId";
        let expected = "[bstr, PEN or domain or URI]";
        let Value::Array(items) = value else {
            return Err(wrong(FIELD, expected));
        };
        match items.as_slice() {
            [Value::Bytes(id), Value::Unsigned(pen)] if *pen > 0 => Ok(Self {
                id: id.clone(),
                scope: ExternalScope::Pen(*pen),
            }),
            [Value::Bytes(id), Value::Text(text)] => Ok(Self {
                id: id.clone(),
                scope: ExternalScope::Text(text.clone()),
            }),
            _ => Err(wrong(FIELD, expected)),
        }
    }
}

impl Extensions {
    fn entry(&self, key: i64) -> Option<&Value> {
        self.0.get(&MapKey::Int(key))
    }

    /// The `senderTimestamp` (suggested key 3).
    pub fn sender_timestamp(&self) -> Result<Option<SenderTimestamp>, ShapeError> {
        self.entry(extension_key::SENDER_TIMESTAMP)
            .map(SenderTimestamp::from_value)
            .transpose()
    }

    /// Sets `senderTimestamp`.
    pub fn set_sender_timestamp(&mut self, timestamp: SenderTimestamp) {
        self.insert(extension_key::SENDER_TIMESTAMP, timestamp.to_value());
    }

    /// The `externalMessageId` (suggested key 4).
    pub fn external_message_id(&self) -> Result<Option<ExternalMessageId>, ShapeError> {
        self.entry(extension_key::EXTERNAL_MESSAGE_ID)
            .map(ExternalMessageId::from_value)
            .transpose()
    }

    /// Sets `externalMessageId`.
    pub fn set_external_message_id(&mut self, id: &ExternalMessageId) {
        self.insert(extension_key::EXTERNAL_MESSAGE_ID, id.to_value());
    }

    /// The `subject` (suggested key 5), 1..=4096 octets.
    pub fn subject(&self) -> Result<Option<&str>, ShapeError> {
        match self.entry(extension_key::SUBJECT) {
            None => Ok(None),
            Some(Value::Text(s)) if !s.is_empty() && s.len() <= MAX_SUBJECT_LEN => Ok(Some(s)),
            Some(_) => Err(wrong("subject", "a text string of 1..=4096 octets")),
        }
    }

    /// Sets `subject` (refused if empty or longer than 4096 octets).
    pub fn set_subject(&mut self, subject: &str) -> Result<(), ShapeError> {
        if subject.is_empty() || subject.len() > MAX_SUBJECT_LEN {
            return Err(wrong("subject", "a text string of 1..=4096 octets"));
        }
        self.insert(extension_key::SUBJECT, Value::text(subject));
        Ok(())
    }

    /// The `lastSeen` list (suggested key 256).
    pub fn last_seen(&self) -> Result<Option<LastSeen>, ShapeError> {
        const FIELD: &str = "lastSeen";
        let Some(value) = self.entry(extension_key::LAST_SEEN) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(wrong(FIELD, "an array"));
        };
        if items.iter().all(|v| matches!(v, Value::Bytes(_))) {
            let ids = items
                .iter()
                .map(|v| {
                    v.as_bytes()
                        .and_then(|b| <[u8; 32]>::try_from(b).ok())
                        .map(MessageId)
                        .ok_or(ShapeError::MessageIdLength {
                            field: FIELD,
                            found: v.as_bytes().map_or(0, <[u8]>::len),
                        })
                })
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Some(LastSeen::Mimi(ids)));
        }
        let ids = items
            .iter()
            .map(ExternalMessageId::from_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| wrong(FIELD, "message IDs or external message IDs, not mixed"))?;
        Ok(Some(LastSeen::External(ids)))
    }

    /// Sets `lastSeen`.
    pub fn set_last_seen(&mut self, last_seen: &LastSeen) {
        let items = match last_seen {
            LastSeen::Mimi(ids) => ids.iter().map(|id| Value::Bytes(id.0.to_vec())).collect(),
            LastSeen::External(ids) => ids.iter().map(ExternalMessageId::to_value).collect(),
        };
        self.insert(extension_key::LAST_SEEN, Value::Array(items));
    }
}
