//! A generic CBOR data item, as carried in extension values (`value = any`).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

/// Largest magnitude of an integer map key (digest §5.4: keys within ±(2^53−1)).
pub const MAX_SAFE_INTEGER_KEY: i64 = (1 << 53) - 1;

/// One CBOR data item in its deterministic form.
///
/// Maps are kept in deterministic (bytewise lexicographic on the encoded key) order by the
/// ordering of [`MapKey`], so encoding a `Value` is deterministic by construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// Major type 0: an unsigned integer.
    Unsigned(u64),
    /// Major type 1: the negative integer `-1 - n`.
    Negative(u64),
    /// Major type 2: a byte string.
    Bytes(Vec<u8>),
    /// Major type 3: a UTF-8 text string.
    Text(String),
    /// Major type 4: an array.
    Array(Vec<Value>),
    /// Major type 5: a map whose keys are integers, text or byte strings (digest §5.4).
    Map(BTreeMap<MapKey, Value>),
    /// Major type 6: a tagged item.
    Tag(u64, Box<Value>),
    /// `false` or `true`.
    Bool(bool),
    /// `null`.
    Null,
    /// `undefined`.
    Undefined,
    /// Any other simple value.
    Simple(SimpleValue),
    /// A floating-point number, encoded in the shortest form that keeps its value.
    Float(Float),
}

impl Value {
    /// An integer value from an `i64`.
    pub fn integer(n: i64) -> Self {
        match u64::try_from(n) {
            Ok(u) => Value::Unsigned(u),
            // -1 - n is non-negative for negative n and fits in u64.
            Err(_) => Value::Negative(!(n as u64)),
        }
    }

    /// A text value.
    pub fn text(s: impl Into<String>) -> Self {
        Value::Text(s.into())
    }

    /// The text, if this is a text string.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The bytes, if this is a byte string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The integer, if this is an integer that fits in `i128` (every CBOR integer does).
    pub fn as_integer(&self) -> Option<i128> {
        match self {
            Value::Unsigned(u) => Some(i128::from(*u)),
            Value::Negative(n) => Some(-1 - i128::from(*n)),
            _ => None,
        }
    }

    /// How many levels of arrays, maps and tags this item spans (a scalar is 0, `[1]` is 1).
    pub fn container_depth(&self) -> usize {
        match self {
            Value::Array(items) => 1 + items.iter().map(Value::container_depth).max().unwrap_or(0),
            Value::Map(map) => 1 + map.values().map(Value::container_depth).max().unwrap_or(0),
            Value::Tag(_, inner) => 1 + inner.container_depth(),
            _ => 0,
        }
    }
}

/// A map key: the only key types MIMI allows (digest §5.4).
///
/// The derived order is the deterministic encoding order of RFC 8949 §4.2.1 (bytewise on the
/// encoded key): non-negative integers ascending, then negative integers descending, then byte
/// strings, then text strings, each string kind shorter first and then bytewise.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MapKey {
    /// An integer key (within ±(2^53−1) to be valid MIMI).
    Int(i64),
    /// A byte-string key (only inside extension values, never at the top of the extensions map).
    Bytes(Vec<u8>),
    /// A text-string key.
    Text(String),
}

impl MapKey {
    /// A text key.
    pub fn text(s: impl Into<String>) -> Self {
        MapKey::Text(s.into())
    }

    fn rank(&self) -> u8 {
        match self {
            MapKey::Int(n) if *n >= 0 => 0,
            MapKey::Int(_) => 1,
            MapKey::Bytes(_) => 2,
            MapKey::Text(_) => 3,
        }
    }

    /// The key as a generic value.
    pub fn to_value(&self) -> Value {
        match self {
            MapKey::Int(n) => Value::integer(*n),
            MapKey::Bytes(b) => Value::Bytes(b.clone()),
            MapKey::Text(t) => Value::Text(t.clone()),
        }
    }
}

impl Ord for MapKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (MapKey::Int(a), MapKey::Int(b)) if *a >= 0 && *b >= 0 => a.cmp(b),
            // Encoded argument is -1 - n: ascending argument is descending value.
            (MapKey::Int(a), MapKey::Int(b)) if *a < 0 && *b < 0 => b.cmp(a),
            (MapKey::Bytes(a), MapKey::Bytes(b)) => (a.len(), a).cmp(&(b.len(), b)),
            (MapKey::Text(a), MapKey::Text(b)) => {
                (a.len(), a.as_bytes()).cmp(&(b.len(), b.as_bytes()))
            }
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for MapKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl From<i64> for MapKey {
    fn from(n: i64) -> Self {
        MapKey::Int(n)
    }
}

impl From<&str> for MapKey {
    fn from(s: &str) -> Self {
        MapKey::Text(s.to_owned())
    }
}

/// A simple value other than `false`, `true`, `null` and `undefined` (0..=19 or 32..=255).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SimpleValue(u8);

impl SimpleValue {
    /// Wraps a simple value; `None` for 20..=31 (named values and the reserved range).
    pub fn new(value: u8) -> Option<Self> {
        match value {
            0..=19 | 32..=255 => Some(Self(value)),
            _ => None,
        }
    }

    /// The raw simple value.
    pub fn value(self) -> u8 {
        self.0
    }
}

/// A floating-point number compared by its bits; every NaN is the one canonical quiet NaN
/// (encoded `0xF97E00`, the only NaN MIMI allows, digest §5.4).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Float(u64);

impl Float {
    /// Wraps a float; any NaN becomes the canonical quiet NaN.
    pub fn new(value: f64) -> Self {
        if value.is_nan() {
            Self(f64::NAN.to_bits())
        } else {
            Self(value.to_bits())
        }
    }

    /// The value.
    pub fn value(self) -> f64 {
        f64::from_bits(self.0)
    }
}

impl fmt::Debug for Float {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Float({:?})", self.value())
    }
}

impl From<f64> for Float {
    fn from(value: f64) -> Self {
        Self::new(value)
    }
}
