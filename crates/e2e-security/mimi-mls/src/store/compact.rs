//! A compact binary encoding of serde's JSON data model, for the kinds that need a
//! self-describing format (the message secrets, see `codec.rs`).
//!
//! openmls's `SecretTree` keeps four slots per member (leaf and parent nodes, handshake and
//! application ratchets, `Vec<Option<..>>`), almost all empty: in JSON that is a `null` per
//! slot, and every secret an array of numbers. Here a run of empty slots is one item
//! ([`NULLS`] and its length) and an array of octets is the octets themselves ([`BYTES`]), so
//! the encoding of the message secrets grows with the slots in use, not with the members.
//!
//! An encoding is a [`serde_json::Value`] written depth first: a kind octet, then for
//! integers their LEB128, for strings and octet arrays their length then content, for arrays
//! their (expanded) length then items, for objects their number of fields then each field's
//! name (length, UTF-8) and value, fields in name order (the same value always gives the same
//! octets). Decoding consumes the whole input or fails. Every value takes at least one octet
//! of the encoding, except the empty slots of a run: decoding refuses more than
//! [`MAX_EMPTY_SLOTS`] of those in all, and more than [`MAX_DEPTH`] levels of nesting, so a
//! small damaged or crafted value cannot expand into a large one. Encoding refuses what
//! decoding would.

use serde_json::{Map, Number, Value};

use super::StoreError;

pub(crate) mod ser;

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const UINT: u8 = 3;
const NINT: u8 = 4;
const FLOAT: u8 = 5;
const STRING: u8 = 6;
pub(crate) const ARRAY: u8 = 7;
pub(crate) const OBJECT: u8 = 8;
/// An array of integers 0 to 255, as octets.
const BYTES: u8 = 9;
/// Inside an array: a run of `null` items, then its length.
pub(crate) const NULLS: u8 = 10;

/// The most empty slots the runs of one encoding may expand to (about 128 MiB decoded): the
/// message secrets of a group of 2^18 leaves (four slots per leaf, in the current epoch and
/// three past ones) reach it.
pub(crate) const MAX_EMPTY_SLOTS: usize = 1 << 22;
/// The deepest nesting one encoding may hold (openmls's message secrets: about 8).
pub(crate) const MAX_DEPTH: usize = 32;

fn bad(what: impl std::fmt::Display) -> StoreError {
    StoreError::Decode(format!("compact value: {what}"))
}

/// The encoding of `value` (see the module documentation).
pub(crate) fn encode(value: &Value) -> Result<Vec<u8>, StoreError> {
    let mut out = Vec::new();
    encode_into(&mut out, value)?;
    Ok(out)
}

/// Appends the encoding of `value` to `out`.
pub(crate) fn encode_into(out: &mut Vec<u8>, value: &Value) -> Result<(), StoreError> {
    let mut e = Encoder { out, slots: 0 };
    e.value(value, 0)
}

struct Encoder<'a> {
    out: &'a mut Vec<u8>,
    /// Empty slots written as runs so far.
    slots: usize,
}

impl Encoder<'_> {
    fn value(&mut self, v: &Value, depth: usize) -> Result<(), StoreError> {
        if depth > MAX_DEPTH {
            return Err(StoreError::Encode(format!(
                "a value nested more than {MAX_DEPTH} deep exceeds the compact encoding's cap"
            )));
        }
        match v {
            Value::Null => self.out.push(NULL),
            Value::Bool(false) => self.out.push(FALSE),
            Value::Bool(true) => self.out.push(TRUE),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    self.out.push(UINT);
                    varint(self.out, u);
                } else if let Some(i) = n.as_i64() {
                    // Negative (non-negative integers are u64): -1 - i is in 0..=i64::MAX.
                    self.out.push(NINT);
                    varint(self.out, (-1 - i) as u64);
                } else if let Some(f) = n.as_f64() {
                    self.out.push(FLOAT);
                    self.out.extend_from_slice(&f.to_be_bytes());
                } else {
                    return Err(StoreError::Encode(format!("unsupported number {n}")));
                }
            }
            Value::String(s) => {
                self.out.push(STRING);
                self.str(s);
            }
            Value::Array(items) => {
                if let Some(octets) = octets(items) {
                    self.out.push(BYTES);
                    varint(self.out, items.len() as u64);
                    self.out.extend_from_slice(&octets);
                    return Ok(());
                }
                self.out.push(ARRAY);
                varint(self.out, items.len() as u64);
                let mut i = 0;
                while i < items.len() {
                    let run = items[i..].iter().take_while(|v| v.is_null()).count();
                    if run > 1 {
                        self.slots = self.slots.saturating_add(run);
                        if self.slots > MAX_EMPTY_SLOTS {
                            return Err(StoreError::Encode(format!(
                                "more than {MAX_EMPTY_SLOTS} empty slots exceed the compact encoding's cap"
                            )));
                        }
                        self.out.push(NULLS);
                        varint(self.out, run as u64);
                        i += run;
                    } else {
                        self.value(&items[i], depth + 1)?;
                        i += 1;
                    }
                }
            }
            Value::Object(fields) => {
                self.out.push(OBJECT);
                varint(self.out, fields.len() as u64);
                let mut sorted: Vec<(&String, &Value)> = fields.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(b.0));
                for (name, v) in sorted {
                    self.str(name);
                    self.value(v, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    fn str(&mut self, s: &str) {
        varint(self.out, s.len() as u64);
        self.out.extend_from_slice(s.as_bytes());
    }
}

/// The items as octets, if the array is not empty and all are integers 0 to 255.
fn octets(items: &[Value]) -> Option<Vec<u8>> {
    if items.is_empty() {
        return None;
    }
    items
        .iter()
        .map(|v| v.as_u64().and_then(|u| u8::try_from(u).ok()))
        .collect()
}

/// Appends `v` as a varint (seven bits per octet, low first, the high bit set on all but the
/// last).
pub(crate) fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Decodes an encoding: all of `input` or an error.
pub(crate) fn decode(input: &[u8]) -> Result<Value, StoreError> {
    decode_counting(input, &mut 0)
}

/// [`decode`], adding the empty slots it expands to `slots`: the decodings of the parts of
/// one value share [`MAX_EMPTY_SLOTS`] (so that parts stored apart cannot each expand to the
/// cap).
pub(crate) fn decode_counting(input: &[u8], slots: &mut usize) -> Result<Value, StoreError> {
    let mut d = Decoder {
        input,
        slots: *slots,
    };
    let v = d.value(0)?;
    if !d.input.is_empty() {
        return Err(bad(format!("{} octet(s) after the value", d.input.len())));
    }
    *slots = d.slots;
    Ok(v)
}

/// The fields of an encoded object, each name with its value's encoding, read without
/// decoding the values (for splitting a large value cheaply); `None` if `enc` is not exactly
/// one encoded object.
pub(crate) fn object_fields(enc: &[u8]) -> Option<Vec<(&str, &[u8])>> {
    let mut d = Decoder {
        input: enc,
        slots: 0,
    };
    if d.octet().ok()? != OBJECT {
        return None;
    }
    let n = d.varint().ok()?;
    let mut fields = Vec::new();
    for _ in 0..n {
        let len = d.varint().ok()?;
        let name = std::str::from_utf8(d.take(len).ok()?).ok()?;
        let start = d.input;
        d.skip(1).ok()?;
        fields.push((name, &start[..start.len() - d.input.len()]));
    }
    d.input.is_empty().then_some(fields)
}

/// The items of an encoded array that holds no run of empty slots, each item's encoding;
/// `None` if `enc` is not exactly one such array.
pub(crate) fn array_items(enc: &[u8]) -> Option<Vec<&[u8]>> {
    let mut d = Decoder {
        input: enc,
        slots: 0,
    };
    if d.octet().ok()? != ARRAY {
        return None;
    }
    let n = d.varint().ok()?;
    let mut items = Vec::new();
    for _ in 0..n {
        if d.input.first() == Some(&NULLS) {
            return None;
        }
        let start = d.input;
        d.skip(1).ok()?;
        items.push(&start[..start.len() - d.input.len()]);
    }
    d.input.is_empty().then_some(items)
}

/// The kind octet of an encoding.
pub(crate) fn decode_kind(enc: &[u8]) -> Option<u8> {
    enc.first().copied()
}

/// Whether a kind octet is that of an array (octets or not).
pub(crate) fn is_array_kind(kind: u8) -> bool {
    kind == ARRAY || kind == BYTES
}

/// The encoding of an object of encoded fields (names distinct, in any order): what
/// [`encode`] gives for the object they decode to.
pub(crate) fn object_of(fields: &mut [(&str, &[u8])]) -> Vec<u8> {
    fields.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = vec![OBJECT];
    varint(&mut out, fields.len() as u64);
    for (name, v) in fields.iter() {
        varint(&mut out, name.len() as u64);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(v);
    }
    out
}

/// The encoding of an array of encoded items that are objects: what [`encode`] gives for
/// the array they decode to.
pub(crate) fn array_of_objects(items: &[Vec<u8>]) -> Option<Vec<u8>> {
    let mut out = vec![ARRAY];
    varint(&mut out, items.len() as u64);
    for i in items {
        (i.first() == Some(&OBJECT)).then_some(())?;
        out.extend_from_slice(i);
    }
    Some(out)
}

struct Decoder<'a> {
    input: &'a [u8],
    /// Empty slots expanded from runs so far.
    slots: usize,
}

impl<'a> Decoder<'a> {
    fn octet(&mut self) -> Result<u8, StoreError> {
        let (b, rest) = self.input.split_first().ok_or_else(|| bad("truncated"))?;
        self.input = rest;
        Ok(*b)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], StoreError> {
        let n = usize::try_from(n)
            .ok()
            .filter(|n| *n <= self.input.len())
            .ok_or_else(|| bad("a length exceeds the value"))?;
        let (v, rest) = self.input.split_at(n);
        self.input = rest;
        Ok(v)
    }

    fn varint(&mut self) -> Result<u64, StoreError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.octet()?;
            let part = u64::from(b & 0x7f);
            if shift == 63 && part > 1 {
                return Err(bad("an integer overflows 64 bits"));
            }
            v |= part << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("an integer overflows 64 bits"))
    }

    fn string(&mut self) -> Result<String, StoreError> {
        let n = self.varint()?;
        let s = self.take(n)?;
        String::from_utf8(s.to_vec()).map_err(|_| bad("a string is not UTF-8"))
    }

    /// Moves past one encoded value without building it (checking bounds and nesting only).
    fn skip(&mut self, depth: usize) -> Result<(), StoreError> {
        if depth > MAX_DEPTH {
            return Err(bad(format!("it nests deeper than {MAX_DEPTH} (the cap)")));
        }
        match self.octet()? {
            NULL | FALSE | TRUE => {}
            UINT | NINT => {
                self.varint()?;
            }
            FLOAT => {
                self.take(8)?;
            }
            STRING | BYTES => {
                let n = self.varint()?;
                self.take(n)?;
            }
            ARRAY => {
                let n = self.varint()?;
                let mut i = 0u64;
                while i < n {
                    if self.input.first() == Some(&NULLS) {
                        self.input = &self.input[1..];
                        let run = self.varint()?;
                        if run < 2 || run > n - i {
                            return Err(bad(
                                "a run of empty slots is shorter than 2 or overruns its array",
                            ));
                        }
                        i += run;
                    } else {
                        self.skip(depth + 1)?;
                        i += 1;
                    }
                }
            }
            OBJECT => {
                let n = self.varint()?;
                for _ in 0..n {
                    let len = self.varint()?;
                    self.take(len)?;
                    self.skip(depth + 1)?;
                }
            }
            k => return Err(bad(format!("unknown kind {k}"))),
        }
        Ok(())
    }

    fn value(&mut self, depth: usize) -> Result<Value, StoreError> {
        if depth > MAX_DEPTH {
            return Err(bad(format!("it nests deeper than {MAX_DEPTH} (the cap)")));
        }
        let kind = self.octet()?;
        Ok(match kind {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            UINT => Value::Number(self.varint()?.into()),
            NINT => {
                let m = self.varint()?;
                let m = i64::try_from(m).map_err(|_| bad("a negative integer overflows"))?;
                Value::Number((-1 - m).into())
            }
            FLOAT => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                let f = f64::from_be_bytes(a);
                Value::Number(Number::from_f64(f).ok_or_else(|| bad("a number is not finite"))?)
            }
            STRING => Value::String(self.string()?),
            BYTES => {
                let n = self.varint()?;
                if n == 0 {
                    return Err(bad("an empty octet array (written as an array)"));
                }
                let b = self.take(n)?;
                Value::Array(b.iter().map(|o| Value::from(*o)).collect())
            }
            ARRAY => {
                let n = self.varint()?;
                let n = usize::try_from(n).map_err(|_| bad("an array is too long"))?;
                // Not allocated ahead: every item but those of runs takes an octet at least.
                let mut items = Vec::new();
                while items.len() < n {
                    if self.input.first() == Some(&NULLS) {
                        self.input = &self.input[1..];
                        let run = self.varint()?;
                        let run = usize::try_from(run)
                            .ok()
                            .filter(|r| *r > 1 && *r <= n - items.len())
                            .ok_or_else(|| {
                                bad("a run of empty slots is shorter than 2 or overruns its array")
                            })?;
                        self.slots = self.slots.saturating_add(run);
                        if self.slots > MAX_EMPTY_SLOTS {
                            return Err(bad(format!(
                                "its runs expand to more than {MAX_EMPTY_SLOTS} empty slots (the cap)"
                            )));
                        }
                        items.resize(items.len() + run, Value::Null);
                    } else {
                        items.push(self.value(depth + 1)?);
                    }
                }
                Value::Array(items)
            }
            OBJECT => {
                let n = self.varint()?;
                let mut fields = Map::new();
                let mut last: Option<String> = None;
                for _ in 0..n {
                    let name = self.string()?;
                    if last.as_ref().is_some_and(|l| *l >= name) {
                        return Err(bad(format!("field {name:?} is out of order or repeated")));
                    }
                    let v = self.value(depth + 1)?;
                    fields.insert(name.clone(), v);
                    last = Some(name);
                }
                Value::Object(fields)
            }
            NULLS => return Err(bad("a run of empty slots outside an array")),
            k => return Err(bad(format!("unknown kind {k}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round(v: Value) -> Vec<u8> {
        let e = encode(&v).unwrap();
        assert_eq!(decode(&e).unwrap(), v, "{e:?}");
        e
    }

    #[test]
    fn every_kind_of_value_round_trips() {
        round(json!(null));
        round(json!([
            true,
            false,
            0,
            1,
            300,
            u64::MAX,
            -1,
            i64::MIN,
            1.5,
            -0.25
        ]));
        round(json!({"b": "β", "a": [], "c": {}, "d": [null], "e": [null, null, 1, null]}));
        round(json!([0, 255, 7]));
        round(json!([0, 256, 7]));
        round(json!([[1, 2], null, null, null, [3], "x", null]));
    }

    #[test]
    fn empty_slots_and_octets_take_a_few_octets_whatever_their_number() {
        let slots = |n: usize| json!({"leaf_nodes": vec![Value::Null; n], "secret": vec![7u8; 32]});
        let small = round(slots(16)).len();
        let large = round(slots(1 << 17)).len();
        assert!(large <= small + 4, "{small} {large}");
        assert!(small < 80, "{small}");
    }

    #[test]
    fn the_same_value_gives_the_same_octets_whatever_its_field_order() {
        let a: Value = serde_json::from_str(r#"{"z":1,"a":[1,2],"m":null}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"a":[1,2],"m":null,"z":1}"#).unwrap();
        assert_eq!(encode(&a).unwrap(), encode(&b).unwrap());
    }

    #[test]
    fn a_value_that_would_expand_beyond_the_cap_is_refused() {
        // A run of empty slots of 2^40 items: seven octets that would be terabytes.
        let mut bomb = vec![ARRAY];
        varint(&mut bomb, 1 << 40);
        bomb.push(NULLS);
        varint(&mut bomb, 1 << 40);
        let e = decode(&bomb).unwrap_err().to_string();
        assert!(e.contains("expand to more than"), "{e}");
        // Just over the cap, in two runs of two arrays.
        let half = MAX_EMPTY_SLOTS as u64 / 2;
        let mut over = vec![ARRAY, 2, ARRAY];
        varint(&mut over, half);
        over.push(NULLS);
        varint(&mut over, half);
        over.push(ARRAY);
        varint(&mut over, half + 1);
        over.push(NULLS);
        varint(&mut over, half + 1);
        let e = decode(&over).unwrap_err().to_string();
        assert!(e.contains("expand to more than"), "{e}");
        // An octet array or an array claiming more than the input holds.
        let mut big = vec![BYTES];
        varint(&mut big, 1 << 30);
        assert!(
            decode(&big)
                .unwrap_err()
                .to_string()
                .contains("length exceeds")
        );
        let mut long = vec![ARRAY];
        varint(&mut long, 1 << 40);
        assert!(decode(&long).is_err());
        // Arrays nested beyond the depth cap.
        let deep = [ARRAY, 1].repeat(MAX_DEPTH + 2);
        let e = decode(&deep).unwrap_err().to_string();
        assert!(e.contains("nests deeper"), "{e}");
        // Encoding refuses what decoding would.
        let wide = Value::Array(vec![Value::Null; MAX_EMPTY_SLOTS + 1]);
        assert!(encode(&wide).is_err());
        let mut deep = json!("x");
        for _ in 0..=MAX_DEPTH {
            deep = json!([deep]);
        }
        assert!(encode(&deep).is_err());
        // Just under both caps reads.
        round(Value::Array(vec![Value::Null; MAX_EMPTY_SLOTS]));
    }

    #[test]
    fn damaged_encodings_are_errors_naming_what_is_wrong() {
        let good = encode(&json!({"a": [1, null, null, "x"], "b": -3})).unwrap();
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = good.clone();
        long.push(0);
        assert!(
            decode(&long)
                .unwrap_err()
                .to_string()
                .contains("after the value")
        );
        let cases: [(&[u8], &str); 9] = [
            (&[42], "unknown kind 42"),
            (&[NULLS, 2], "outside an array"),
            (&[ARRAY, 2, NULLS, 3], "overruns"),
            (&[ARRAY, 2, NULLS, 1, NULL], "overruns"),
            (&[STRING, 1, 0xff], "not UTF-8"),
            (&[STRING, 5, b'a'], "length exceeds"),
            (&[OBJECT, 2, 1, b'b', NULL, 1, b'a', NULL], "out of order"),
            (&[BYTES, 0], "empty octet array"),
            (
                &[
                    UINT, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
                ],
                "overflows",
            ),
        ];
        for (bytes, what) in cases {
            let e = decode(bytes).unwrap_err().to_string();
            assert!(e.contains(what), "{bytes:?}: {e}");
        }
        let nan = [&[FLOAT][..], &f64::NAN.to_be_bytes()].concat();
        assert!(decode(&nan).unwrap_err().to_string().contains("not finite"));
    }

    #[test]
    fn fields_and_items_read_without_decoding_rebuild_the_same_octets() {
        let v = json!({"b": [{"x": 1}, {"y": [1, 2]}], "a": "s", "c": [null, null, 3]});
        let enc = encode(&v).unwrap();
        let mut fields = object_fields(&enc).unwrap();
        assert_eq!(
            fields.iter().map(|f| f.0).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        assert_eq!(decode(fields[0].1).unwrap(), json!("s"));
        let items = array_items(fields[1].1).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(decode(items[1]).unwrap(), json!({"y": [1, 2]}));
        let owned: Vec<Vec<u8>> = items.iter().map(|i| i.to_vec()).collect();
        assert_eq!(array_of_objects(&owned).unwrap(), fields[1].1);
        assert!(array_items(fields[2].1).is_none(), "a run of empty slots");
        fields.reverse();
        assert_eq!(object_of(&mut fields), enc);
        assert_eq!(array_of_objects(&[]).unwrap(), encode(&json!([])).unwrap());
        assert!(array_of_objects(&[encode(&json!(1)).unwrap()]).is_none());
        // Damaged: never a panic, never a partial answer.
        for cut in 0..enc.len() {
            assert!(object_fields(&enc[..cut]).is_none(), "cut at {cut}");
        }
        let mut long = enc.clone();
        long.push(NULL);
        assert!(object_fields(&long).is_none());
        assert!(object_fields(&encode(&json!([1])).unwrap()).is_none());
        let deep = [OBJECT, 1, 1, b'a'].repeat(MAX_DEPTH + 2);
        assert!(object_fields(&deep).is_none());
    }
}
