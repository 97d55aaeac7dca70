//! Queued proposals that openmls's memory store left behind, dropped when a record of that
//! store's format (2, JSON values) is read.
//!
//! openmls 0.9 clears a group's proposal queue after every commit it stages or merges
//! (`StorageProvider::clear_proposal_queue`). The memory store of openmls_memory_storage 0.6
//! deleted the list of references (`ProposalQueueRefs`) but removed each proposal under the
//! bare JSON of `(group id, proposal reference)`, without the `QueuedProposal` label and the
//! storage version its entries are keyed by: the proposals themselves stayed, one per proposal
//! ever received, read by nothing (openmls reads queued proposals only through the list of
//! references). A `QueuedProposal` entry whose reference is in no list of its group is one of
//! those; entries that a list names are kept.

use std::collections::BTreeSet;

use openmls_traits::storage::CURRENT_VERSION;
use serde_json::Value;

use super::Values;
use super::codec::{Codec, decode};
use super::labels::{LABEL_PROPOSAL_QUEUE_REFS, LABEL_QUEUED_PROPOSAL};

/// The JSON inside a key of kind `label` (between the label and the storage version).
fn key_json(label: &[u8], key: &[u8]) -> Option<Value> {
    let inner = key
        .strip_prefix(label)?
        .strip_suffix(&CURRENT_VERSION.to_be_bytes())?;
    serde_json::from_slice(inner).ok()
}

/// Drops the queued proposals of `values` (tagged JSON values, as read from a record of
/// format 2) that no list of references names; returns how many. An entry whose key or
/// list does not parse is kept (openmls reports it if it ever reads it).
pub(crate) fn drop_stale_proposals(values: &mut Values) -> usize {
    let mut named: BTreeSet<(String, String)> = BTreeSet::new();
    let mut unreadable_list = false;
    for (k, v) in values.iter() {
        let Some(group) = key_json(LABEL_PROPOSAL_QUEUE_REFS, k) else {
            continue;
        };
        let Ok((items, Codec::Json)) = decode::<Vec<Vec<u8>>>(v) else {
            unreadable_list = true;
            continue;
        };
        for item in items {
            match serde_json::from_slice::<Value>(&item) {
                Ok(r) => {
                    named.insert((group.to_string(), r.to_string()));
                }
                Err(_) => unreadable_list = true,
            }
        }
    }
    if unreadable_list {
        // Which proposals it names is unknown: keep them all.
        return 0;
    }
    let stale: Vec<Vec<u8>> = values
        .keys()
        .filter(|k| {
            let Some(Value::Array(pair)) = key_json(LABEL_QUEUED_PROPOSAL, k) else {
                return false;
            };
            match pair.as_slice() {
                [group, r] => !named.contains(&(group.to_string(), r.to_string())),
                _ => false,
            }
        })
        .cloned()
        .collect();
    for k in &stale {
        values.remove(k);
    }
    stale.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::codec::tag_json;

    fn key(label: &[u8], json: &str) -> Vec<u8> {
        [label, json.as_bytes(), &CURRENT_VERSION.to_be_bytes()].concat()
    }

    fn refs(items: &[&str]) -> Vec<u8> {
        let items: Vec<Vec<u8>> = items.iter().map(|i| i.as_bytes().to_vec()).collect();
        tag_json(&serde_json::to_vec(&items).unwrap())
    }

    #[test]
    fn proposals_no_list_names_are_dropped_named_ones_kept() {
        let g = r#"{"value":{"vec":[1,2]}}"#;
        let h = r#"{"value":{"vec":[3]}}"#;
        let named = key(LABEL_QUEUED_PROPOSAL, &format!("[{g},[5,5]]"));
        let stale = key(LABEL_QUEUED_PROPOSAL, &format!("[{g},[6,6]]"));
        let other_group = key(LABEL_QUEUED_PROPOSAL, &format!("[{h},[5,5]]"));
        let odd = key(LABEL_QUEUED_PROPOSAL, "not json");
        let tree = key(b"Tree", g);
        let mut values = Values::new();
        values.insert(key(LABEL_PROPOSAL_QUEUE_REFS, g), refs(&["[5,5]"]));
        for k in [&named, &stale, &other_group, &odd, &tree] {
            values.insert(k.clone(), tag_json(b"{}"));
        }
        assert_eq!(drop_stale_proposals(&mut values), 2);
        assert!(values.contains_key(&named));
        assert!(!values.contains_key(&stale), "its reference was cleared");
        assert!(!values.contains_key(&other_group), "its group has no list");
        assert!(values.contains_key(&odd) && values.contains_key(&tree));
        assert_eq!(drop_stale_proposals(&mut values), 0);
    }

    #[test]
    fn a_list_that_does_not_read_keeps_every_proposal() {
        let g = r#"{"value":{"vec":[1]}}"#;
        let p = key(LABEL_QUEUED_PROPOSAL, &format!("[{g},[6]]"));
        for list in [tag_json(b"[[1,2"), refs(&["[5"]), vec![1, 0]] {
            let mut values = Values::new();
            values.insert(key(LABEL_PROPOSAL_QUEUE_REFS, g), list);
            values.insert(p.clone(), tag_json(b"{}"));
            assert_eq!(drop_stale_proposals(&mut values), 0);
            assert!(values.contains_key(&p));
        }
    }
}
