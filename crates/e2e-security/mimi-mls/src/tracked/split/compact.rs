//! Splitting a message-secrets value of the compact codec (`store/compact.rs`): the same
//! entries as for JSON (`split.rs`), each a compact value, found by decoding rather than by
//! scanning text.
//!
//! The shape relied on (pinned by `a_real_message_secrets_value_has_the_shape_split_relies_on`
//! in `tests/storage.rs`): an object whose field `past_epoch_trees` is an array of objects,
//! each with a field `epoch` (an integer, distinct). The main entry is the value with each of
//! those objects reduced to `{"epoch":N}`; the part of epoch N is the object without `epoch`.
//! The current epoch's `message_secrets.serialized_context` (the TLS group context, which
//! holds the room's participant list: it grows with the members, and changes only with the
//! epoch) is stored apart as well, replaced by [`APART`] in the main entry. A value of
//! another shape is stored whole.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::{context_key, past_key};
use crate::store::codec::TAG_COMPACT;
use crate::store::compact;

const TREES: &str = "past_epoch_trees";
const EPOCH: &str = "epoch";
const SECRETS: &str = "message_secrets";
const CONTEXT: &str = "serialized_context";
/// What stands in the main entry for the serialized context stored apart (a string, which
/// the context, octets, never is).
const APART: &str = "stored apart";

fn tagged(v: &Value) -> Option<Vec<u8>> {
    let mut out = vec![TAG_COMPACT];
    compact::encode_into(&mut out, v).ok()?;
    Some(out)
}

/// Decodes a tagged compact value, counting its empty slots into `slots` (shared by the parts
/// of one joined value).
fn untagged(v: &[u8], slots: &mut usize) -> Result<Value, String> {
    let bare = v
        .strip_prefix(&[TAG_COMPACT])
        .ok_or("not a compact value")?;
    compact::decode_counting(bare, slots).map_err(|e| e.to_string())
}

/// The stored entries of a compact message-secrets value (main first); `None` if it is not
/// of the shape split relies on (stored whole then). Reads the value's structure without
/// decoding it: a decryption costs the main entry, not the past epochs' members.
/// Parts `known` names are not built (their value `None`): the caller knows them unchanged.
pub(super) fn split(
    key: &[u8],
    value: &[u8],
    known: &dyn Fn(&[u8]) -> bool,
) -> Option<super::Split> {
    let bare = value.strip_prefix(&[TAG_COMPACT])?;
    let mut top = compact::object_fields(bare)?;
    let mut parts = Vec::new();
    let mut epochs = BTreeSet::new();
    let mut placeholders = Vec::new();
    let mut secrets = None;
    for (name, enc) in top.iter() {
        match *name {
            TREES => {
                for item in compact::array_items(enc)? {
                    let mut fields = compact::object_fields(item)?;
                    let at = fields.iter().position(|(n, _)| *n == EPOCH)?;
                    let (_, epoch) = fields.remove(at);
                    let epoch = compact::decode(epoch).ok()?.as_u64()?;
                    if !epochs.insert(epoch) {
                        return None;
                    }
                    let k = past_key(key, epoch);
                    let part = (!known(&k)).then(|| {
                        let mut part = vec![TAG_COMPACT];
                        part.extend(compact::object_of(&mut fields));
                        part
                    });
                    parts.push((k, part));
                    placeholders.push(compact::encode(&placeholder(epoch)).ok()?);
                }
            }
            SECRETS => {
                let fields = compact::object_fields(enc)?;
                let at = fields.iter().position(|(n, _)| *n == CONTEXT)?;
                let context = fields[at].1;
                if !matches!(compact::decode_kind(context), Some(k) if compact::is_array_kind(k)) {
                    return None;
                }
                let k = context_key(key);
                let part = (!known(&k)).then(|| [&[TAG_COMPACT][..], context].concat());
                parts.push((k, part));
                let apart = compact::encode(&Value::String(APART.into())).ok()?;
                let mut refs = fields.clone();
                refs[at].1 = &apart;
                secrets = Some(compact::object_of(&mut refs));
            }
            _ => {}
        }
    }
    let trees = compact::array_of_objects(&placeholders)?;
    let secrets = secrets?;
    (top.iter().any(|(n, _)| *n == TREES)).then_some(())?;
    for (name, enc) in top.iter_mut() {
        match *name {
            TREES => *enc = &trees,
            SECRETS => *enc = &secrets,
            _ => {}
        }
    }
    let mut main = vec![TAG_COMPACT];
    main.extend(compact::object_of(&mut top));
    let mut out = vec![(key.to_vec(), Some(main))];
    out.extend(parts);
    Some(out)
}

/// The octets each part of a compact message-secrets value is made of, by part key: the
/// serialized context's encoding, each past epoch's item (its part is the item without its
/// epoch, its key names the epoch). Two values whose sources for a key are the same octets
/// give the same part under it. `None` if the value is not compact or not of that shape.
pub(super) fn sources<'v>(key: &[u8], value: &'v [u8]) -> Option<BTreeMap<Vec<u8>, &'v [u8]>> {
    let bare = value.strip_prefix(&[TAG_COMPACT])?;
    let mut out = BTreeMap::new();
    for (name, enc) in compact::object_fields(bare)? {
        match name {
            TREES => {
                for item in compact::array_items(enc)? {
                    let fields = compact::object_fields(item)?;
                    let (_, epoch) = fields.iter().find(|(n, _)| *n == EPOCH)?;
                    let epoch = compact::decode(epoch).ok()?.as_u64()?;
                    out.insert(past_key(key, epoch), item);
                }
            }
            SECRETS => {
                let fields = compact::object_fields(enc)?;
                let (_, context) = fields.iter().find(|(n, _)| *n == CONTEXT)?;
                out.insert(context_key(key), *context);
            }
            _ => {}
        }
    }
    Some(out)
}

fn placeholder(epoch: u64) -> Value {
    let mut m = Map::new();
    m.insert(EPOCH.into(), epoch.into());
    Value::Object(m)
}

/// The epoch of a placeholder `{"epoch":N}`.
fn placeholder_epoch(v: &Value) -> Option<u64> {
    let o = v.as_object()?;
    (o.len() == 1).then_some(())?;
    o.get(EPOCH)?.as_u64()
}

/// Joins a compact main entry with its parts (taken out of `parts`): the value openmls
/// wrote, or what is wrong.
pub(super) fn join(
    key: &[u8],
    main: &[u8],
    parts: &mut BTreeMap<Vec<u8>, Vec<u8>>,
) -> Result<Vec<u8>, String> {
    // One budget of empty slots for the main entry and all its parts.
    let mut slots = 0;
    let mut v = untagged(main, &mut slots).map_err(|e| format!("the main entry: {e}"))?;
    if let Some(context) = v
        .get_mut(SECRETS)
        .and_then(|s| s.get_mut(CONTEXT))
        .filter(|c| c.as_str() == Some(APART))
    {
        let part = parts
            .remove(&context_key(key))
            .ok_or("the part of the serialized context is missing")?;
        let apart = untagged(&part, &mut slots)
            .map_err(|e| format!("the part of the serialized context: {e}"))?;
        if !apart.is_array() {
            return Err("the part of the serialized context is not an array".into());
        }
        *context = apart;
    }
    let Some(trees) = v.get_mut(TREES).and_then(Value::as_array_mut) else {
        return tagged(&v)
            .ok_or_else(|| "the joined value exceeds the compact encoding's caps".into());
    };
    for t in trees.iter_mut() {
        let Some(epoch) = placeholder_epoch(t) else {
            continue;
        };
        let part = parts
            .remove(&past_key(key, epoch))
            .ok_or_else(|| format!("the part of past epoch {epoch} is missing"))?;
        let Value::Object(mut rest) = untagged(&part, &mut slots)
            .map_err(|e| format!("the part of past epoch {epoch}: {e}"))?
        else {
            return Err(format!("the part of past epoch {epoch} is not an object"));
        };
        rest.insert(EPOCH.into(), epoch.into());
        *t = Value::Object(rest);
    }
    tagged(&v).ok_or_else(|| "the joined value exceeds the compact encoding's caps".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every part built.
    fn split(key: &[u8], value: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
        let all = super::split(key, value, &|_| false)?;
        Some(all.into_iter().map(|(k, v)| (k, v.unwrap())).collect())
    }

    #[test]
    fn known_parts_are_not_built() {
        let v = enc(&value());
        let known = past_key(b"K", 4);
        let some = super::split(b"K", &v, &|k| k == known.as_slice()).unwrap();
        let all = split(b"K", &v).unwrap();
        assert_eq!(some.len(), all.len());
        for ((k, v), (ka, va)) in some.iter().zip(&all) {
            assert_eq!(k, ka);
            assert_eq!(v.as_ref(), (*k != known).then_some(va), "{k:?}");
        }
    }

    fn enc(v: &Value) -> Vec<u8> {
        tagged(v).unwrap()
    }

    fn value() -> Value {
        json!({
            "max_epochs": 3,
            "message_secrets": {
                "secret_tree": {"leaf_nodes": [null, null, {"secret": [1, 2]}]},
                "serialized_context": [0, 1, 2, 3]
            },
            "past_epoch_trees": [
                {"epoch": 4, "message_secrets": {"a": [9, 9]}, "leaves": [{"index": 0}]},
                {"epoch": 5, "message_secrets": {"a": [8]}, "leaves": []}
            ]
        })
    }

    #[test]
    fn split_then_join_gives_back_the_value_and_its_octets() {
        let v = enc(&value());
        let entries = split(b"K", &v).unwrap();
        assert_eq!(entries.len(), 4);
        assert_eq!(entries[0].0, b"K");
        let main = untagged(&entries[0].1, &mut 0).unwrap();
        assert_eq!(
            main["past_epoch_trees"],
            json!([{"epoch": 4}, {"epoch": 5}])
        );
        assert_eq!(main["message_secrets"]["serialized_context"], APART);
        let mut parts: BTreeMap<_, _> = entries[1..].iter().cloned().collect();
        assert!(parts.contains_key(&past_key(b"K", 4)));
        assert_eq!(
            untagged(&parts[&context_key(b"K")], &mut 0).unwrap(),
            json!([0, 1, 2, 3])
        );
        for k in parts.keys() {
            assert!(super::super::is_part(k), "{k:?}");
        }
        assert_eq!(join(b"K", &entries[0].1, &mut parts).unwrap(), v);
        assert!(parts.is_empty());
    }

    /// The main entry and its parts share one cap of empty slots: parts that each stay under
    /// it cannot together expand to several times it.
    #[test]
    fn the_parts_of_one_value_share_the_cap_of_empty_slots() {
        let v = enc(&value());
        let entries = split(b"K", &v).unwrap();
        // A past epoch's part of three quarters of the cap in one run of empty slots:
        // {"pad": [null × n]}.
        let n = (compact::MAX_EMPTY_SLOTS / 4 * 3) as u64;
        let mut padded = vec![TAG_COMPACT, compact::OBJECT];
        compact::varint(&mut padded, 1);
        compact::varint(&mut padded, 3);
        padded.extend_from_slice(b"pad");
        padded.push(compact::ARRAY);
        compact::varint(&mut padded, n);
        padded.push(compact::NULLS);
        compact::varint(&mut padded, n);
        assert!(
            untagged(&padded, &mut 0).is_ok(),
            "one part alone is under the cap"
        );
        let mut parts: BTreeMap<_, _> = entries[1..].iter().cloned().collect();
        for epoch in [4, 5] {
            parts.insert(past_key(b"K", epoch), padded.clone());
        }
        let e = join(b"K", &entries[0].1, &mut parts).unwrap_err();
        assert!(e.contains("part of past epoch 5"), "{e}");
    }

    #[test]
    fn values_of_another_shape_are_stored_whole() {
        for other in [
            json!({"message_secrets": {}}),
            json!({"past_epoch_trees": [], "message_secrets": {}}),
            json!({"past_epoch_trees": [], "message_secrets": {"serialized_context": "x"}}),
            json!({"past_epoch_trees": [], "message_secrets": []}),
            json!({"past_epoch_trees": {}}),
            json!({"past_epoch_trees": [3]}),
            json!({"past_epoch_trees": [{"leaves": []}]}),
            json!({"past_epoch_trees": [{"epoch": "4"}]}),
            json!({"past_epoch_trees": [{"epoch": 4}, {"epoch": 4}]}),
            json!([1, 2]),
        ] {
            assert!(split(b"K", &enc(&other)).is_none(), "{other}");
        }
        assert!(split(b"K", b"\x00{}").is_none(), "not compact");
        assert!(split(b"K", &[TAG_COMPACT, 42]).is_none(), "damaged");
        // A main entry without past epochs joins to itself.
        let plain = enc(&json!({"past": 1}));
        assert_eq!(join(b"K", &plain, &mut BTreeMap::new()).unwrap(), plain);
        // Without past epochs, the context still goes apart.
        let current =
            json!({"past_epoch_trees": [], "message_secrets": {"serialized_context": [7]}});
        let entries = split(b"K", &enc(&current)).unwrap();
        assert_eq!(entries.len(), 2);
        let mut parts: BTreeMap<_, _> = entries[1..].iter().cloned().collect();
        assert_eq!(
            join(b"K", &entries[0].1, &mut parts).unwrap(),
            enc(&current)
        );
    }

    #[test]
    fn a_missing_or_damaged_part_is_an_error_naming_it() {
        let entries = split(b"K", &enc(&value())).unwrap();
        let main = &entries[0].1;
        let all: BTreeMap<_, _> = entries[1..].iter().cloned().collect();

        let mut parts = all.clone();
        parts.remove(&past_key(b"K", 5));
        let e = join(b"K", main, &mut parts).unwrap_err();
        assert!(e.contains("past epoch 5 is missing"), "{e}");

        let mut parts = all.clone();
        parts.insert(past_key(b"K", 4), vec![TAG_COMPACT, 99]);
        let e = join(b"K", main, &mut parts).unwrap_err();
        assert!(
            e.contains("past epoch 4") && e.contains("unknown kind 99"),
            "{e}"
        );

        let mut parts = all.clone();
        parts.insert(past_key(b"K", 4), enc(&json!([1])));
        let e = join(b"K", main, &mut parts).unwrap_err();
        assert!(e.contains("not an object"), "{e}");

        let e = join(b"K", &main[..main.len() - 1], &mut all.clone()).unwrap_err();
        assert!(e.contains("main entry"), "{e}");

        let mut parts = all.clone();
        parts.remove(&context_key(b"K"));
        let e = join(b"K", main, &mut parts).unwrap_err();
        assert!(e.contains("serialized context is missing"), "{e}");

        let mut parts = all.clone();
        parts.insert(context_key(b"K"), enc(&json!({"a": 1})));
        let e = join(b"K", main, &mut parts).unwrap_err();
        assert!(e.contains("serialized context is not an array"), "{e}");
    }
}
