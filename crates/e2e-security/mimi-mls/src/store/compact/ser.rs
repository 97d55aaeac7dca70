//! A serde `Serializer` that writes the compact encoding directly: the octets
//! [`super::encode`] gives for `serde_json::to_value(v)`, without building that value (one
//! heap node per secret-tree slot and per octet of a secret).
//!
//! It follows `serde_json`'s value serializer: options and newtypes are their content, unit
//! and `None` are `null`, enum variants are `"name"` or `{"name": content}`, octet strings are
//! arrays of integers, a non-finite float is `null`, map keys are strings (integers and
//! booleans written as their decimal or `true`/`false`); then the encoding's rules: an object's
//! fields in name order (the last of equal names wins), a run of `null` items as [`NULLS`], a
//! non-empty array of integers 0 to 255 as [`BYTES`]. It refuses what the encoding refuses
//! (more than [`MAX_EMPTY_SLOTS`] empty slots in runs, nesting beyond [`MAX_DEPTH`], counted as
//! the encoding counts them: the items of an octet array and of a run are not nested values),
//! and a map key that is not a string, an integer or a boolean (float keys included, which
//! `serde_json` would print; it refuses an optional key, which this writes as its content).
//!
//! Items are written where they land: an array starts as raw octets while its items are
//! integers 0 to 255; a `null` item is held back and counted, and its run is written before
//! the next item (moving that item's octets) or at the array's end.

use std::fmt;

use serde::ser::{self, Serialize};

use super::{ARRAY, BYTES, FALSE, FLOAT, MAX_DEPTH, MAX_EMPTY_SLOTS, NINT, NULL, NULLS, OBJECT};
use super::{STRING, TRUE, UINT, varint};
use crate::store::StoreError;

/// Appends the compact encoding of `value` to `out`: the same octets as
/// `encode_into(out, &serde_json::to_value(value)?)`.
pub(crate) fn encode_into<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), StoreError> {
    let start = out.len();
    let mut s = Ser {
        out,
        slots: 0,
        depth: 0,
        item: false,
        raw_octet: false,
        wrote_raw: false,
    };
    let r = value.serialize(&mut s);
    if r.is_err() {
        s.out.truncate(start);
    }
    r.map_err(|e| StoreError::Encode(e.0))
}

/// An error of the serializer (a message).
#[derive(Debug)]
struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

fn too_deep() -> Error {
    Error(format!(
        "a value nested more than {MAX_DEPTH} deep exceeds the compact encoding's cap"
    ))
}

struct Ser<'a> {
    out: &'a mut Vec<u8>,
    /// Empty slots written as runs so far.
    slots: usize,
    /// The nesting of the value written next.
    depth: usize,
    /// The value written next is an item of an array (whose depth its array checks, since
    /// the items of octet arrays and runs are not counted).
    item: bool,
    /// The value written next is an item of an array of octets so far: an integer 0 to 255
    /// is written as a raw octet (and `wrote_raw` set), anything else as usual.
    raw_octet: bool,
    wrote_raw: bool,
}

impl Ser<'_> {
    /// Starts a value: checks its depth (unless it is an array's item).
    fn enter(&mut self) -> Result<(), Error> {
        self.raw_octet = false;
        if std::mem::take(&mut self.item) || self.depth <= MAX_DEPTH {
            Ok(())
        } else {
            Err(too_deep())
        }
    }

    /// Inlined: the octets of secrets and of the serialized context come one call each.
    #[inline(always)]
    fn uint(&mut self, u: u64) -> Result<(), Error> {
        if self.raw_octet
            && let Ok(b) = u8::try_from(u)
        {
            self.raw_octet = false;
            self.item = false;
            self.wrote_raw = true;
            self.out.push(b);
            return Ok(());
        }
        self.uint_item(u)
    }

    fn uint_item(&mut self, u: u64) -> Result<(), Error> {
        self.enter()?;
        self.out.push(UINT);
        varint(self.out, u);
        Ok(())
    }

    fn int(&mut self, i: i64) -> Result<(), Error> {
        match u64::try_from(i) {
            Ok(u) => self.uint(u),
            Err(_) => {
                self.enter()?;
                self.out.push(NINT);
                // Negative: -1 - i is in 0..=i64::MAX.
                varint(self.out, (-1 - i) as u64);
                Ok(())
            }
        }
    }

    fn float(&mut self, f: f64) -> Result<(), Error> {
        self.enter()?;
        if f.is_finite() {
            self.out.push(FLOAT);
            self.out.extend_from_slice(&f.to_be_bytes());
        } else {
            self.out.push(NULL);
        }
        Ok(())
    }

    fn null(&mut self) -> Result<(), Error> {
        self.enter()?;
        self.out.push(NULL);
        Ok(())
    }

    fn string(&mut self, s: &str) -> Result<(), Error> {
        self.enter()?;
        self.out.push(STRING);
        self.name(s);
        Ok(())
    }

    fn name(&mut self, s: &str) {
        varint(self.out, s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }

    /// Adds a run of `n` empty slots to the count, refusing beyond the cap.
    fn count_slots(&mut self, n: usize) -> Result<(), Error> {
        self.slots = self.slots.saturating_add(n);
        if self.slots > MAX_EMPTY_SLOTS {
            return Err(Error(format!(
                "more than {MAX_EMPTY_SLOTS} empty slots exceed the compact encoding's cap"
            )));
        }
        Ok(())
    }
}

/// Rewrites the length after the kind octet at `kind_at` (items from `items_at` on).
fn set_len(out: &mut Vec<u8>, kind_at: usize, items_at: usize, n: usize) {
    let mut len = Vec::with_capacity(10);
    varint(&mut len, n as u64);
    out.splice(kind_at + 1..items_at, len);
}

/// What one item of an array turned out to be, from its octets.
enum Item {
    Null,
    Octet(u8),
    Other,
}

fn classify(enc: &[u8]) -> Item {
    match *enc {
        [NULL] => Item::Null,
        [UINT, b] if b < 0x80 => Item::Octet(b),
        [UINT, b, 1] if b >= 0x80 => Item::Octet((b & 0x7f) | 0x80),
        _ => Item::Other,
    }
}

/// An array being written.
struct Seq<'s, 'a> {
    ser: &'s mut Ser<'a>,
    /// Where its kind octet is.
    kind_at: usize,
    /// Where its items start.
    items_at: usize,
    /// The length written after the kind octet, if known at the start.
    declared: Option<usize>,
    count: usize,
    /// Every item so far is an integer 0 to 255, written as a raw octet.
    octets: bool,
    /// `null` items held back (not written yet).
    nulls: usize,
    /// Its items nest deeper than the cap.
    deep: bool,
    /// It is the content of a tuple variant: an object of one field around it.
    variant: bool,
}

impl<'s, 'a> Seq<'s, 'a> {
    fn start(ser: &'s mut Ser<'a>, len: Option<usize>, variant: bool) -> Result<Self, Error> {
        ser.enter()?;
        let kind_at = ser.out.len();
        ser.out.push(ARRAY);
        if let Some(n) = len {
            varint(ser.out, n as u64);
        }
        let items_at = ser.out.len();
        let deep = ser.depth + 1 > MAX_DEPTH;
        Ok(Self {
            ser,
            kind_at,
            items_at,
            declared: len,
            count: 0,
            octets: true,
            nulls: 0,
            deep,
            variant,
        })
    }

    /// The run of held-back `null` items, as written.
    fn run(&mut self) -> Result<Vec<u8>, Error> {
        let n = std::mem::take(&mut self.nulls);
        if n == 1 {
            if self.deep {
                return Err(too_deep());
            }
            return Ok(vec![NULL]);
        }
        self.ser.count_slots(n)?;
        let mut r = vec![NULLS];
        varint(&mut r, n as u64);
        Ok(r)
    }

    #[inline]
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let mut at = self.ser.out.len();
        self.ser.depth += 1;
        self.ser.item = true;
        self.ser.raw_octet = self.octets;
        let r = value.serialize(&mut *self.ser);
        self.ser.depth -= 1;
        self.ser.item = false;
        self.ser.raw_octet = false;
        r?;
        self.count += 1;
        if std::mem::take(&mut self.ser.wrote_raw) {
            return Ok(());
        }
        let item = classify(&self.ser.out[at..]);
        if self.octets {
            if let Item::Octet(b) = item {
                self.ser.out.truncate(at);
                self.ser.out.push(b);
                return Ok(());
            }
            // Not an octet array after all: the octets so far become integer items.
            self.octets = false;
            if at > self.items_at {
                if self.deep {
                    return Err(too_deep());
                }
                let tail = self.ser.out.split_off(at);
                let raw = self.ser.out.split_off(self.items_at);
                for b in raw {
                    self.ser.out.push(UINT);
                    varint(self.ser.out, u64::from(b));
                }
                at = self.ser.out.len();
                self.ser.out.extend_from_slice(&tail);
            }
        }
        match item {
            Item::Null => {
                self.ser.out.truncate(at);
                self.nulls += 1;
            }
            Item::Octet(_) | Item::Other => {
                if self.deep {
                    return Err(too_deep());
                }
                if self.nulls > 0 {
                    let run = self.run()?;
                    self.ser.out.splice(at..at, run);
                }
            }
        }
        Ok(())
    }

    fn end(mut self) -> Result<(), Error> {
        if self.octets {
            if self.count > 0 {
                self.ser.out[self.kind_at] = BYTES;
            }
        } else if self.nulls > 0 {
            let run = self.run()?;
            self.ser.out.extend_from_slice(&run);
        }
        match self.declared {
            Some(n) if n == self.count => {}
            Some(_) => set_len(self.ser.out, self.kind_at, self.items_at, self.count),
            None => set_len(self.ser.out, self.kind_at, self.kind_at + 1, self.count),
        }
        if self.variant {
            self.ser.depth -= 1;
        }
        Ok(())
    }
}

/// An object being written: its fields where they land, put in name order at the end.
struct Obj<'s, 'a> {
    ser: &'s mut Ser<'a>,
    kind_at: usize,
    fields_at: usize,
    declared: Option<usize>,
    /// Each field: where its name (length and octets) starts, where its value starts.
    fields: Vec<(usize, usize)>,
    /// A key written by `serialize_key`, waiting for its value.
    key: Option<String>,
    variant: bool,
}

impl<'s, 'a> Obj<'s, 'a> {
    fn start(ser: &'s mut Ser<'a>, len: Option<usize>, variant: bool) -> Result<Self, Error> {
        ser.enter()?;
        let kind_at = ser.out.len();
        ser.out.push(OBJECT);
        if let Some(n) = len {
            varint(ser.out, n as u64);
        }
        let fields_at = ser.out.len();
        Ok(Self {
            ser,
            kind_at,
            fields_at,
            declared: len,
            fields: Vec::with_capacity(len.unwrap_or(0)),
            key: None,
            variant,
        })
    }

    fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<(), Error> {
        let name_at = self.ser.out.len();
        self.ser.name(name);
        let value_at = self.ser.out.len();
        self.ser.depth += 1;
        let r = value.serialize(&mut *self.ser);
        self.ser.depth -= 1;
        r?;
        self.fields.push((name_at, value_at));
        Ok(())
    }

    fn end(self) -> Result<(), Error> {
        let out = &mut *self.ser.out;
        let end = out.len();
        // Each field's name and whole span.
        let spans: Vec<(&[u8], usize, usize)> = self
            .fields
            .iter()
            .enumerate()
            .map(|(i, &(name_at, value_at))| {
                let stop = self.fields.get(i + 1).map_or(end, |f| f.0);
                (name_of(&out[name_at..value_at]), name_at, stop)
            })
            .collect();
        let sorted = spans.windows(2).all(|w| w[0].0 < w[1].0);
        let mut count = spans.len();
        if !sorted {
            // Stable: of equal names the last written comes last, and is the one kept.
            let mut order: Vec<usize> = (0..spans.len()).collect();
            order.sort_by(|a, b| spans[*a].0.cmp(spans[*b].0));
            let keep: Vec<usize> = order
                .iter()
                .enumerate()
                .filter(|(n, i)| {
                    order
                        .get(n + 1)
                        .is_none_or(|next| spans[*next].0 != spans[**i].0)
                })
                .map(|(_, i)| *i)
                .collect();
            count = keep.len();
            let mut body = Vec::with_capacity(end - self.fields_at);
            for i in keep {
                body.extend_from_slice(&out[spans[i].1..spans[i].2]);
            }
            drop(spans);
            out.truncate(self.fields_at);
            out.extend_from_slice(&body);
        } else {
            drop(spans);
        }
        match self.declared {
            Some(n) if n == count => {}
            Some(_) => set_len(out, self.kind_at, self.fields_at, count),
            None => set_len(out, self.kind_at, self.kind_at + 1, count),
        }
        if self.variant {
            self.ser.depth -= 1;
        }
        Ok(())
    }
}

/// The octets of a field's name from its encoding (length, then octets).
fn name_of(enc: &[u8]) -> &[u8] {
    let skip = enc
        .iter()
        .position(|b| b & 0x80 == 0)
        .map_or(enc.len(), |i| i + 1);
    &enc[skip..]
}

/// Opens an object of one field named `variant` and moves into its value.
fn variant_field(ser: &mut Ser<'_>, variant: &str) -> Result<(), Error> {
    ser.enter()?;
    ser.out.push(OBJECT);
    varint(ser.out, 1);
    ser.name(variant);
    ser.depth += 1;
    Ok(())
}

impl<'s, 'a> ser::Serializer for &'s mut Ser<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Seq<'s, 'a>;
    type SerializeTuple = Seq<'s, 'a>;
    type SerializeTupleStruct = Seq<'s, 'a>;
    type SerializeTupleVariant = Seq<'s, 'a>;
    type SerializeMap = Obj<'s, 'a>;
    type SerializeStruct = Obj<'s, 'a>;
    type SerializeStructVariant = Obj<'s, 'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.enter()?;
        self.out.push(if v { TRUE } else { FALSE });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.int(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.int(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.int(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.int(v)
    }

    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        if let Ok(u) = u64::try_from(v) {
            self.uint(u)
        } else if let Ok(i) = i64::try_from(v) {
            self.int(i)
        } else {
            Err(Error(format!("number {v} out of range")))
        }
    }

    #[inline]
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.uint(v.into())
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.uint(v.into())
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.uint(v.into())
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.uint(v)
    }

    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        let u = u64::try_from(v).map_err(|_| Error(format!("number {v} out of range")))?;
        self.uint(u)
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        self.float(v.into())
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.float(v)
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.string(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.string(v)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        self.enter()?;
        self.out.push(if v.is_empty() { ARRAY } else { BYTES });
        varint(self.out, v.len() as u64);
        self.out.extend_from_slice(v);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.null()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.null()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), Error> {
        self.null()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.string(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        variant_field(self, variant)?;
        let r = value.serialize(&mut *self);
        self.depth -= 1;
        r
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Seq<'s, 'a>, Error> {
        Seq::start(self, len, false)
    }

    fn serialize_tuple(self, len: usize) -> Result<Seq<'s, 'a>, Error> {
        Seq::start(self, Some(len), false)
    }

    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'s, 'a>, Error> {
        Seq::start(self, Some(len), false)
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Seq<'s, 'a>, Error> {
        variant_field(self, variant)?;
        Seq::start(self, Some(len), true)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Obj<'s, 'a>, Error> {
        Obj::start(self, len, false)
    }

    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Obj<'s, 'a>, Error> {
        Obj::start(self, Some(len), false)
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Obj<'s, 'a>, Error> {
        variant_field(self, variant)?;
        Obj::start(self, Some(len), true)
    }
}

impl ser::SerializeSeq for Seq<'_, '_> {
    type Ok = ();
    type Error = Error;

    #[inline]
    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        Seq::end(self)
    }
}

impl ser::SerializeTuple for Seq<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        Seq::end(self)
    }
}

impl ser::SerializeTupleStruct for Seq<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        Seq::end(self)
    }
}

impl ser::SerializeTupleVariant for Seq<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.element(value)
    }

    fn end(self) -> Result<(), Error> {
        Seq::end(self)
    }
}

/// A map key as `serde_json` writes it: a string, an integer or a boolean as text.
fn key_text<T: Serialize + ?Sized>(key: &T) -> Result<String, Error> {
    match serde_json::to_value(key).map_err(|e| Error(e.to_string()))? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
        _ => Err(Error(
            "a map key is not a string, an integer or a boolean".into(),
        )),
    }
}

impl ser::SerializeMap for Obj<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(key_text(key)?);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error("a map value without its key".into()))?;
        self.field(&key, value)
    }

    fn end(self) -> Result<(), Error> {
        Obj::end(self)
    }
}

impl ser::SerializeStruct for Obj<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Error> {
        Obj::end(self)
    }
}

impl ser::SerializeStructVariant for Obj<'_, '_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Error> {
        Obj::end(self)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::Serialize;
    use serde_json::{Value, json};

    use super::super::{decode, encode};
    use super::*;

    /// The direct encoding of `v`, checked against the Value path.
    fn same<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
        let mut direct = vec![];
        encode_into(&mut direct, v).unwrap();
        let older = encode(&serde_json::to_value(v).unwrap()).unwrap();
        assert_eq!(direct, older, "{}", serde_json::to_string(v).unwrap());
        direct
    }

    #[derive(Serialize)]
    struct Fields {
        zeta: u8,
        alpha: Option<Option<u32>>,
        mid: Vec<Option<Vec<u8>>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        skipped: Option<u8>,
        e: Kind,
        #[serde(with = "serde_bytes_like")]
        raw: Vec<u8>,
    }

    #[derive(Serialize)]
    enum Kind {
        Unit,
        New(i64),
        Tuple(u8, String),
        Struct { b: bool, a: f64 },
    }

    /// An octet string serialized with `serialize_bytes`.
    mod serde_bytes_like {
        pub(super) fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(v)
        }
    }

    #[derive(Serialize)]
    struct Flat {
        a: u8,
        #[serde(flatten)]
        rest: BTreeMap<String, u8>,
    }

    #[test]
    fn the_direct_encoding_is_the_value_paths_on_edge_cases() {
        same(&json!(null));
        same(&Vec::<u8>::new());
        same(&Vec::<Value>::new());
        same(&vec![0u8, 127, 128, 255]);
        same(&vec![1u16, 255, 256, 7]);
        same(&vec![300u16, 1, 2]);
        same(&vec![-1i32, 5]);
        same(&vec![5i32, -1]);
        same(&vec![None::<u8>; 1]);
        same(&vec![None::<u8>; 5]);
        same(&vec![Some(3u8), None, None, Some(4)]);
        same(&vec![None, Some(3u8), None]);
        same(&vec![None, None, Some(300u16), None, None]);
        same(&vec![Some(Some(1u8)), Some(None), None]);
        same(&vec![vec![None::<u8>; 3], vec![], vec![Some(1)]]);
        same(&vec![1.5f64, f64::NAN, 2.0]);
        same(&vec![f32::INFINITY, 0.1f32]);
        same(&(
            1u8,
            "x",
            'β',
            true,
            (),
            -7i8,
            u64::MAX,
            i64::MIN,
            u128::from(u64::MAX),
        ));
        same(&vec![Kind::Unit, Kind::New(-3), Kind::Tuple(9, "t".into())]);
        same(&Kind::Struct { b: false, a: -0.5 });
        same(&Fields {
            zeta: 1,
            alpha: Some(None),
            mid: vec![None, Some(vec![]), Some(vec![1, 2]), None, None],
            skipped: None,
            e: Kind::New(1),
            raw: vec![],
        });
        same(&Fields {
            zeta: 200,
            alpha: Some(Some(70_000)),
            mid: vec![],
            skipped: Some(3),
            e: Kind::Tuple(0, String::new()),
            raw: vec![9; 40],
        });
        let mut map = HashMap::new();
        for k in [3u32, 1, 20, 100] {
            map.insert(k, vec![k; 2]);
        }
        same(&map);
        let strings: BTreeMap<&str, Option<u8>> = [("b", None), ("a", Some(1)), ("", None)].into();
        same(&strings);
        same(&BTreeMap::<bool, u8>::from([(true, 1), (false, 0)]));
        // Fields and map keys of equal names: the last written wins, as in the Value's map.
        same(&Flat {
            a: 1,
            rest: [("a".to_string(), 2), ("b".to_string(), 3)].into(),
        });
        // Integers that look like octets next to others, at every position.
        same(&vec![json!(1), json!("x"), json!(2)]);
        same(&json!({"a": [0, 255, null, null], "b": [[1, 2], [3, 256]], "c": {}}));
    }

    #[test]
    fn the_direct_encoding_refuses_what_the_encoding_refuses() {
        let refused = |v: &Value| {
            let mut out = vec![7];
            let direct = encode_into(&mut out, v);
            assert!(direct.is_err(), "{v}");
            assert!(encode(v).is_err(), "{v}");
            assert_eq!(out, [7], "nothing written on an error");
        };
        let nest = |mut v: Value, n: usize| {
            for _ in 0..n {
                v = json!([v]);
            }
            v
        };
        // Nesting: at the cap reads, beyond it is refused; octet arrays and runs count as
        // the encoding counts them.
        for inner in [json!("x"), json!([]), json!({}), json!(null), json!(300)] {
            same(&nest(inner.clone(), MAX_DEPTH));
            refused(&nest(inner, MAX_DEPTH + 1));
        }
        same(&nest(json!([1, 2]), MAX_DEPTH));
        same(&nest(json!([null, null]), MAX_DEPTH));
        refused(&nest(json!([1, -1]), MAX_DEPTH));
        refused(&nest(json!([null, 1]), MAX_DEPTH));
        refused(&nest(json!({"a": 1}), MAX_DEPTH));
        same(&nest(json!({"a": 1}), MAX_DEPTH - 1));
        // Empty slots: up to the cap, in one run or several.
        same(&vec![None::<u8>; MAX_EMPTY_SLOTS]);
        refused(&Value::Array(vec![Value::Null; MAX_EMPTY_SLOTS + 1]));
        let half = vec![None::<u8>; MAX_EMPTY_SLOTS / 2 + 1];
        let two = vec![half.clone(), half];
        let mut out = vec![];
        assert!(encode_into(&mut out, &two).is_err());
        // A map key that is neither a string, an integer nor a boolean.
        let mut out = vec![];
        assert!(encode_into(&mut out, &BTreeMap::from([(vec![1u8], 1u8)])).is_err());
        assert!(out.is_empty());
    }

    #[test]
    fn what_the_direct_encoding_writes_decodes_to_the_value() {
        let v = json!({"b": [null, null, {"x": [1, 2, 3]}, null], "a": -1, "c": "s"});
        assert_eq!(decode(&same(&v)).unwrap(), v);
    }
}
