//! Our openmls storage: openmls's entities kept in memory as compact binary values.
//!
//! [`BinaryStorage`] implements openmls's `StorageProvider` itself (no openmls memory store
//! inside). Keys are built as openmls's memory store builds them (the kind's label, the JSON of
//! the key, the storage version), so the entries of older records keep their keys; values are
//! tagged with their codec ([`codec`]): postcard for every kind but two (the message secrets
//! in a compact self-describing form, the join configuration in JSON). A ratchet tree so
//! takes about its TLS size instead of four times it as JSON with bytes as numbers.
//!
//! Reads never panic: a value that does not decode (damaged, or of another kind) is an error.
//! A value in the JSON of an older record is decoded with that codec and rewritten in its
//! kind's codec the first time openmls reads it (records of that format are stored again
//! whole after loading, see `persist.rs`).

use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use openmls_traits::storage::CURRENT_VERSION;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub(crate) mod codec;
pub(crate) mod compact;
pub(crate) mod labels;
mod provider;
pub(crate) mod stale;

use codec::Codec;

/// What went wrong in [`BinaryStorage`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// A value could not be encoded.
    #[error("MLS storage: cannot encode a value: {0}")]
    Encode(String),
    /// A stored value does not decode as the kind openmls asked for.
    #[error("MLS storage: a stored value does not decode: {0}")]
    Decode(String),
    /// A lock was poisoned by a panic elsewhere.
    #[error("MLS storage lock poisoned")]
    Poisoned,
}

/// Storage keys and their tagged values.
pub(crate) type Values = HashMap<Vec<u8>, Vec<u8>>;

/// openmls's entities, each under its key as a tagged value (see the module documentation).
#[derive(Default)]
pub(crate) struct BinaryStorage {
    pub(crate) values: RwLock<Values>,
}

/// Says how many entries there are, never what they hold (private keys among them).
impl std::fmt::Debug for BinaryStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.values.read().map(|v| v.len()).ok();
        f.debug_struct("BinaryStorage")
            .field("entries", &entries)
            .finish()
    }
}

/// The storage key of an entity: its kind's label, the key's bytes, the storage version.
pub(crate) fn storage_key(label: &[u8], key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(label.len() + key.len() + 2);
    k.extend_from_slice(label);
    k.extend_from_slice(key);
    k.extend_from_slice(&CURRENT_VERSION.to_be_bytes());
    k
}

/// The bytes of an openmls key (its JSON, as openmls's memory store writes it).
pub(crate) fn key_bytes<K: Serialize + ?Sized>(key: &K) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(key).map_err(|e| StoreError::Encode(e.to_string()))
}

impl BinaryStorage {
    pub(crate) fn read_lock(&self) -> Result<RwLockReadGuard<'_, Values>, StoreError> {
        self.values.read().map_err(|_| StoreError::Poisoned)
    }

    pub(crate) fn write_lock(&self) -> Result<RwLockWriteGuard<'_, Values>, StoreError> {
        self.values.write().map_err(|_| StoreError::Poisoned)
    }

    /// A copy of every entry (for the tests; empty if the lock was poisoned).
    #[cfg(test)]
    pub(crate) fn snapshot(&self) -> Values {
        self.read_lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Stores `value` under (`label`, `key`) in the codec of its kind.
    fn write<V: Serialize + ?Sized>(
        &self,
        label: &[u8],
        key: &[u8],
        value: &V,
    ) -> Result<(), StoreError> {
        let v = Codec::of_kind(label).encode(value)?;
        self.write_lock()?.insert(storage_key(label, key), v);
        Ok(())
    }

    /// Reads the value under (`label`, `key`); one in another codec than its kind's is
    /// rewritten in that codec (unless it changed meanwhile).
    fn read<V: Serialize + DeserializeOwned>(
        &self,
        label: &[u8],
        key: &[u8],
    ) -> Result<Option<V>, StoreError> {
        let k = storage_key(label, key);
        let wanted = Codec::of_kind(label);
        let (value, older) = {
            let values = self.read_lock()?;
            let Some(stored) = values.get(&k) else {
                return Ok(None);
            };
            let (value, codec) = codec::decode::<V>(stored).map_err(|e| in_kind(label, e))?;
            let older = (codec != wanted).then(|| stored.clone());
            (value, older)
        };
        if let Some(older) = older {
            let v = wanted.encode(&value)?;
            replace_if_unchanged(&mut *self.write_lock()?, k, &older, v);
        }
        Ok(Some(value))
    }

    /// Removes the value under (`label`, `key`).
    fn delete(&self, label: &[u8], key: &[u8]) -> Result<(), StoreError> {
        self.write_lock()?.remove(&storage_key(label, key));
        Ok(())
    }

    /// Appends `item` to the list under (`label`, `key`), in one write.
    fn append<V: Serialize + DeserializeOwned>(
        &self,
        label: &[u8],
        key: &[u8],
        item: &V,
    ) -> Result<(), StoreError> {
        let k = storage_key(label, key);
        let codec = Codec::of_kind(label);
        let mut values = self.write_lock()?;
        let (mut items, _) = list_items::<V>(&values, label, &k)?;
        items.push(codec.encode_bare(item)?);
        values.insert(k, codec.encode(&items)?);
        Ok(())
    }

    /// Removes the first item equal to `item` from the list under (`label`, `key`), in one
    /// write; a list left empty is removed, an absent one stays absent.
    fn remove_item<V: Serialize + DeserializeOwned>(
        &self,
        label: &[u8],
        key: &[u8],
        item: &V,
    ) -> Result<(), StoreError> {
        let k = storage_key(label, key);
        let codec = Codec::of_kind(label);
        let mut values = self.write_lock()?;
        if !values.contains_key(&k) {
            return Ok(());
        }
        let (mut items, _) = list_items::<V>(&values, label, &k)?;
        let gone = codec.encode_bare(item)?;
        if let Some(pos) = items.iter().position(|i| *i == gone) {
            items.remove(pos);
        }
        if items.is_empty() {
            values.remove(&k);
        } else {
            values.insert(k, codec.encode(&items)?);
        }
        Ok(())
    }

    /// The items of the list under (`label`, `key`), decoded; a list of an older codec is
    /// rewritten in its kind's (unless it changed meanwhile).
    fn read_list<V: Serialize + DeserializeOwned>(
        &self,
        label: &[u8],
        key: &[u8],
    ) -> Result<Vec<V>, StoreError> {
        let k = storage_key(label, key);
        let codec = Codec::of_kind(label);
        let (items, older) = {
            let values = self.read_lock()?;
            list_items::<V>(&values, label, &k)?
        };
        let decoded = items
            .iter()
            .map(|i| codec.decode_bare(i).map_err(|e| in_kind(label, e)))
            .collect::<Result<Vec<V>, _>>()?;
        if let Some(older) = older {
            let v = codec.encode(&items)?;
            replace_if_unchanged(&mut *self.write_lock()?, k, &older, v);
        }
        Ok(decoded)
    }
}

/// Replaces the value under `k` with `new` if it still is `old` (a value rewritten in its
/// kind's codec must not undo a write or delete made since it was read).
fn replace_if_unchanged(values: &mut Values, k: Vec<u8>, old: &[u8], new: Vec<u8>) {
    if values.get(&k).is_some_and(|v| v.as_slice() == old) {
        values.insert(k, new);
    }
}

/// A list's items, each encoded bare in its kind's codec, and the stored bytes when the list
/// was in an older codec.
type ListItems = (Vec<Vec<u8>>, Option<Vec<u8>>);

/// The items of the list under storage key `k` (see [`ListItems`]; the items of a list of an
/// older codec are converted, decoding each as `V`).
fn list_items<V: Serialize + DeserializeOwned>(
    values: &Values,
    label: &[u8],
    k: &[u8],
) -> Result<ListItems, StoreError> {
    let Some(stored) = values.get(k) else {
        return Ok((Vec::new(), None));
    };
    let (items, codec) = codec::decode::<Vec<Vec<u8>>>(stored).map_err(|e| in_kind(label, e))?;
    let wanted = Codec::of_kind(label);
    if codec == wanted {
        return Ok((items, None));
    }
    let converted = items
        .iter()
        .map(|i| {
            let v: V = codec.decode_bare(i).map_err(|e| in_kind(label, e))?;
            wanted.encode_bare(&v)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((converted, Some(stored.clone())))
}

/// Names the kind of the value that failed to decode.
fn in_kind(label: &[u8], e: StoreError) -> StoreError {
    match e {
        StoreError::Decode(m) => {
            StoreError::Decode(format!("{} entry: {m}", String::from_utf8_lossy(label)))
        }
        e => e,
    }
}

/// An openmls provider with [`BinaryStorage`]: the Rust crypto provider and our store (the
/// hub's public groups and a device's KeyPackages).
#[derive(Default)]
pub(crate) struct StoreProvider {
    crypto: openmls_rust_crypto::RustCrypto,
    storage: BinaryStorage,
}

impl openmls_traits::OpenMlsProvider for StoreProvider {
    type CryptoProvider = openmls_rust_crypto::RustCrypto;
    type RandProvider = openmls_rust_crypto::RustCrypto;
    type StorageProvider = BinaryStorage;

    fn storage(&self) -> &Self::StorageProvider {
        &self.storage
    }

    fn crypto(&self) -> &Self::CryptoProvider {
        &self.crypto
    }

    fn rand(&self) -> &Self::RandProvider {
        &self.crypto
    }
}

#[cfg(test)]
mod tests {
    use super::codec::{TAG_BINARY, TAG_JSON};
    use super::labels::LABEL_PROPOSAL_QUEUE_REFS;
    use super::*;

    /// A kind stored as a list, in postcard.
    const LIST: &[u8] = LABEL_PROPOSAL_QUEUE_REFS;

    /// A list as a record of the older format holds it: JSON of the items' JSON.
    fn json_list(items: &[u32]) -> Vec<u8> {
        let bare: Vec<Vec<u8>> = items
            .iter()
            .map(|i| Codec::Json.encode_bare(i).unwrap())
            .collect();
        Codec::Json.encode(&bare).unwrap()
    }

    fn stored(store: &BinaryStorage, k: &[u8]) -> Option<Vec<u8>> {
        store.read_lock().unwrap().get(k).cloned()
    }

    #[test]
    fn a_list_of_the_older_codec_reads_and_is_rewritten_in_its_kinds() {
        let store = BinaryStorage::default();
        let k = storage_key(LIST, b"g");
        store
            .write_lock()
            .unwrap()
            .insert(k.clone(), json_list(&[7, 8]));
        assert_eq!(stored(&store, &k).unwrap()[0], TAG_JSON);
        assert_eq!(store.read_list::<u32>(LIST, b"g").unwrap(), vec![7, 8]);
        assert_eq!(stored(&store, &k).unwrap()[0], TAG_BINARY, "rewritten");
        assert_eq!(store.read_list::<u32>(LIST, b"g").unwrap(), vec![7, 8]);

        // Appending to, and removing from, a list of the older codec convert it as well.
        store
            .write_lock()
            .unwrap()
            .insert(k.clone(), json_list(&[1]));
        store.append(LIST, b"g", &2u32).unwrap();
        assert_eq!(stored(&store, &k).unwrap()[0], TAG_BINARY);
        assert_eq!(store.read_list::<u32>(LIST, b"g").unwrap(), vec![1, 2]);
        store.remove_item(LIST, b"g", &1u32).unwrap();
        assert_eq!(store.read_list::<u32>(LIST, b"g").unwrap(), vec![2]);
        store.remove_item(LIST, b"g", &2u32).unwrap();
        assert_eq!(stored(&store, &k), None, "a list left empty is removed");
        store.remove_item(LIST, b"g", &3u32).unwrap();
        assert_eq!(
            stored(&store, &k),
            None,
            "removing from no list writes none"
        );
        assert!(store.read_list::<u32>(LIST, b"g").unwrap().is_empty());
    }

    #[test]
    fn a_damaged_list_is_an_error_for_every_list_operation() {
        let store = BinaryStorage::default();
        let k = storage_key(LIST, b"g");
        let cut = json_list(&[1, 2])[..4].to_vec();
        for bad in [vec![], vec![9], vec![TAG_BINARY, 5], cut] {
            store.write_lock().unwrap().insert(k.clone(), bad.clone());
            assert!(store.read_list::<u32>(LIST, b"g").is_err(), "{bad:?}");
            assert!(store.append(LIST, b"g", &1u32).is_err(), "{bad:?}");
            assert!(store.remove_item(LIST, b"g", &1u32).is_err(), "{bad:?}");
            assert_eq!(stored(&store, &k), Some(bad), "left as it was");
        }
    }

    #[test]
    fn a_value_rewritten_after_reading_never_undoes_a_later_write_or_delete() {
        let mut values = Values::new();
        values.insert(b"k".to_vec(), b"written since".to_vec());
        replace_if_unchanged(&mut values, b"k".to_vec(), b"read", b"converted".to_vec());
        assert_eq!(values[b"k".as_slice()], b"written since");
        replace_if_unchanged(
            &mut values,
            b"gone".to_vec(),
            b"read",
            b"converted".to_vec(),
        );
        assert!(!values.contains_key(b"gone".as_slice()), "deleted since");
        values.insert(b"k".to_vec(), b"read".to_vec());
        replace_if_unchanged(&mut values, b"k".to_vec(), b"read", b"converted".to_vec());
        assert_eq!(values[b"k".as_slice()], b"converted");
    }
}
