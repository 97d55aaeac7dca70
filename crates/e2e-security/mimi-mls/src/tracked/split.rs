//! Splitting openmls's message-secrets entry.
//!
//! openmls stores a group's message secrets as one JSON value: the current epoch's secrets
//! and, for each of the past epochs it keeps, that epoch's secrets and its member list
//! (credentials included). Decrypting one message rewrites that value, so stored whole it
//! would cost O(members × past epochs) per message. It is stored as a main entry (the value
//! with each past epoch reduced to `{"epoch":N}`) and one entry per past epoch (the rest of
//! that epoch's object), which changes only when a commit moves the epochs along or a late
//! message of that epoch is read. A value of another shape is stored whole.
//!
//! The message secrets are written in the compact codec (`store/compact.rs`), split by
//! [`compact`] (which also stores the current epoch's serialized group context apart); the
//! JSON split here reads and stores what older versions wrote (and a JSON
//! value openmls has not read again yet).

mod compact;

use crate::store::codec::TAG_COMPACT;
/// The suffix of a past epoch's entry key (after the main key), then the epoch (8 octets).
const PAST: &[u8] = b"\x00past-epoch";
/// The suffix of the entry key of the current epoch's serialized context (compact values).
const CONTEXT: &[u8] = b"\x00serialized-context";
const TREES: &[u8] = b"\"past_epoch_trees\":[";
const EPOCH: &[u8] = b"{\"epoch\":";

/// The end (exclusive) of the JSON value starting at `i`, if it is well formed as far as
/// nesting and strings go.
fn value_end(s: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        let c = *s.get(i)?;
        match c {
            b'"' => {
                i += 1;
                loop {
                    match *s.get(i)? {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            b',' | b':' if depth > 0 => i += 1,
            b',' => return Some(i),
            _ => i += 1,
        }
        if depth == 0 && matches!(s.get(i), None | Some(b',' | b'}' | b']')) {
            return Some(i);
        }
    }
}

/// Where the past-epoch array of a message-secrets value starts and ends, and its
/// elements' spans.
struct Trees {
    start: usize,
    end: usize,
    items: Vec<(usize, usize)>,
}

fn trees(v: &[u8]) -> Option<Trees> {
    let start = v.windows(TREES.len()).position(|w| w == TREES)? + TREES.len();
    let mut items = Vec::new();
    let mut i = start;
    loop {
        match v.get(i)? {
            b']' => {
                return Some(Trees {
                    start,
                    end: i,
                    items,
                });
            }
            b',' => i += 1,
            _ => {
                let end = value_end(v, i)?;
                items.push((i, end));
                i = end;
            }
        }
    }
}

pub(super) fn past_key(main: &[u8], epoch: u64) -> Vec<u8> {
    let mut k = main.to_vec();
    k.extend_from_slice(PAST);
    k.extend_from_slice(&epoch.to_be_bytes());
    k
}

pub(super) fn context_key(main: &[u8]) -> Vec<u8> {
    [main, CONTEXT].concat()
}

/// An element `{"epoch":N,REST}`: N and REST.
fn element(e: &[u8]) -> Option<(u64, &[u8])> {
    let rest = e.strip_prefix(EPOCH)?;
    let comma = rest.iter().position(|c| *c == b',')?;
    let epoch: u64 = std::str::from_utf8(&rest[..comma]).ok()?.parse().ok()?;
    let body = rest.get(comma + 1..rest.len().checked_sub(1)?)?;
    (rest.last() == Some(&b'}')).then_some((epoch, body))
}

/// The octets each part of a compact message-secrets value is made of, by part key (see
/// [`compact::sources`]); `None` for a value of another codec or shape.
pub(super) fn sources<'v>(
    key: &[u8],
    value: &'v [u8],
) -> Option<std::collections::BTreeMap<Vec<u8>, &'v [u8]>> {
    compact::sources(key, value)
}

/// Entries split from a message-secrets entry: each key with its value, `None` for a part
/// not built (known unchanged).
pub(super) type Split = Vec<(Vec<u8>, Option<Vec<u8>>)>;

/// The stored entries of one message-secrets entry (main first); of a compact value, the
/// parts `known` names are not built (their value `None`: the caller knows them unchanged).
pub(super) fn split(key: &[u8], value: &[u8], known: &dyn Fn(&[u8]) -> bool) -> Split {
    let built = |v: Vec<(Vec<u8>, Vec<u8>)>| v.into_iter().map(|(k, v)| (k, Some(v))).collect();
    let whole = || vec![(key.to_vec(), Some(value.to_vec()))];
    if value.first() == Some(&TAG_COMPACT) {
        return compact::split(key, value, known).unwrap_or_else(whole);
    }
    built(split_json(key, value))
}

/// [`split`] of a JSON value (every part built).
fn split_json(key: &[u8], value: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let whole = || vec![(key.to_vec(), value.to_vec())];
    let Some(Trees { start, end, items }) = trees(value) else {
        return whole();
    };
    let mut main = value[..start].to_vec();
    let mut parts = Vec::new();
    for (n, (a, b)) in items.iter().enumerate() {
        let Some((epoch, body)) = element(&value[*a..*b]) else {
            return whole();
        };
        if n > 0 {
            main.push(b',');
        }
        main.extend_from_slice(EPOCH);
        main.extend_from_slice(epoch.to_string().as_bytes());
        main.push(b'}');
        parts.push((past_key(key, epoch), body.to_vec()));
    }
    main.extend_from_slice(&value[end..]);
    let mut out = vec![(key.to_vec(), main)];
    out.extend(parts);
    out
}

/// Whether `key` names a part of a message-secrets entry (a past epoch, or the current
/// epoch's serialized context).
pub(super) fn is_part(key: &[u8]) -> bool {
    (key.len() > PAST.len() + 8 && key[key.len() - 8 - PAST.len()..key.len() - 8] == *PAST)
        || (key.len() > CONTEXT.len() && key.ends_with(CONTEXT))
}

/// Joins a main entry with its parts (taken out of `parts`): the value openmls wrote, or
/// what is wrong.
pub(super) fn join(
    key: &[u8],
    main: &[u8],
    parts: &mut std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
) -> Result<Vec<u8>, String> {
    if main.first() == Some(&TAG_COMPACT) {
        return compact::join(key, main, parts);
    }
    join_json(key, main, parts).ok_or_else(|| "the part of a past epoch is missing".into())
}

/// [`join`] for a main entry in JSON.
fn join_json(
    key: &[u8],
    main: &[u8],
    parts: &mut std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
) -> Option<Vec<u8>> {
    let Some(Trees { start, end, items }) = trees(main) else {
        return Some(main.to_vec());
    };
    let mut out = main[..start].to_vec();
    for (n, (a, b)) in items.iter().enumerate() {
        let e = &main[*a..*b];
        if n > 0 {
            out.push(b',');
        }
        let epoch: Option<u64> = e
            .strip_prefix(EPOCH)
            .and_then(|r| r.strip_suffix(b"}"))
            .and_then(|n| std::str::from_utf8(n).ok())
            .and_then(|n| n.parse().ok());
        match epoch {
            Some(epoch) => {
                let body = parts.remove(&past_key(key, epoch))?;
                out.extend_from_slice(EPOCH);
                out.extend_from_slice(epoch.to_string().as_bytes());
                out.push(b',');
                out.extend_from_slice(&body);
                out.push(b'}');
            }
            None => out.extend_from_slice(e),
        }
    }
    out.extend_from_slice(&main[end..]);
    Some(out)
}
