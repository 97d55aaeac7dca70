//! Our openmls storage: openmls's entities kept in memory as compact binary values.
//!
//! [`BinaryStorage`] implements openmls's `StorageProvider` itself (no openmls memory store
//! inside). Keys are built as openmls's memory store builds them (the kind's label, the JSON of
//! the key, the storage version), so the entries of older records keep their keys; values are
//! tagged with their codec ([`codec`]): postcard for every kind but two. A ratchet tree so
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
pub(crate) mod labels;
mod provider;

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
#[derive(Debug, Default)]
pub(crate) struct BinaryStorage {
    pub(crate) values: RwLock<Values>,
}

/// The storage key of an entity: its kind's label, the key's bytes, the storage version.
fn storage_key(label: &[u8], key: &[u8]) -> Vec<u8> {
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
    /// rewritten in that codec.
    fn read<V: Serialize + DeserializeOwned>(
        &self,
        label: &[u8],
        key: &[u8],
    ) -> Result<Option<V>, StoreError> {
        let k = storage_key(label, key);
        let (value, codec) = {
            let values = self.read_lock()?;
            let Some(stored) = values.get(&k) else {
                return Ok(None);
            };
            codec::decode::<V>(stored).map_err(|e| in_kind(label, e))?
        };
        let wanted = Codec::of_kind(label);
        if codec != wanted {
            let v = wanted.encode(&value)?;
            self.write_lock()?.insert(k, v);
        }
        Ok(Some(value))
    }

    /// Removes the value under (`label`, `key`).
    fn delete(&self, label: &[u8], key: &[u8]) -> Result<(), StoreError> {
        self.write_lock()?.remove(&storage_key(label, key));
        Ok(())
    }

    /// The items of the list under (`label`, `key`), each encoded bare in its kind's codec
    /// (a list of an older codec is converted, decoding its items as `V`).
    fn list_items<V: Serialize + DeserializeOwned>(
        &self,
        label: &[u8],
        key: &[u8],
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let values = self.read_lock()?;
        let Some(stored) = values.get(&storage_key(label, key)) else {
            return Ok(Vec::new());
        };
        let (items, codec) =
            codec::decode::<Vec<Vec<u8>>>(stored).map_err(|e| in_kind(label, e))?;
        let wanted = Codec::of_kind(label);
        if codec == wanted {
            return Ok(items);
        }
        items
            .iter()
            .map(|i| {
                let v: V = codec.decode_bare(i).map_err(|e| in_kind(label, e))?;
                wanted.encode_bare(&v)
            })
            .collect()
    }

    fn write_list(&self, label: &[u8], key: &[u8], items: &[Vec<u8>]) -> Result<(), StoreError> {
        self.write(label, key, items)
    }

    /// Appends `item` to the list under (`label`, `key`).
    fn append<V: Serialize + DeserializeOwned>(
        &self,
        label: &[u8],
        key: &[u8],
        item: &V,
    ) -> Result<(), StoreError> {
        let mut items = self.list_items::<V>(label, key)?;
        items.push(Codec::of_kind(label).encode_bare(item)?);
        self.write_list(label, key, &items)
    }

    /// Removes the first item equal to `item` from the list under (`label`, `key`).
    fn remove_item<V: Serialize + DeserializeOwned>(
        &self,
        label: &[u8],
        key: &[u8],
        item: &V,
    ) -> Result<(), StoreError> {
        let mut items = self.list_items::<V>(label, key)?;
        let gone = Codec::of_kind(label).encode_bare(item)?;
        if let Some(pos) = items.iter().position(|i| *i == gone) {
            items.remove(pos);
        }
        self.write_list(label, key, &items)
    }

    /// The items of the list under (`label`, `key`), decoded.
    fn read_list<V: Serialize + DeserializeOwned>(
        &self,
        label: &[u8],
        key: &[u8],
    ) -> Result<Vec<V>, StoreError> {
        let codec = Codec::of_kind(label);
        self.list_items::<V>(label, key)?
            .iter()
            .map(|i| codec.decode_bare(i).map_err(|e| in_kind(label, e)))
            .collect()
    }
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
