//! openmls storage that remembers what each operation changed, so a group's state can be
//! stored as separate entries and only the changed entries written after an event.
//!
//! [`TrackedStorage`] wraps our binary store ([`BinaryStorage`]): every method delegates to
//! it, and every writer or deleter first marks the kind of entry it touches (openmls's
//! storage label). At export time ([`TrackedStorage::changes`]) the entries of the marked
//! kinds are compared with the digests of what was last stored; only those that differ are
//! handed out, with the keys that are gone. Reading a group costs nothing extra, except that a
//! value of an older record is rewritten in its kind's codec in memory when openmls reads it
//! (not marked as changed: it is stored in the new codec with the next write of its kind, or
//! when the group is stored whole, as it is after loading an older record).
//!
//! Integrity: every entry is bound by a digest (SHA-256 over its key and value) and the set of
//! entries by a root digest kept in the group's head record, so a damaged, missing or extra
//! entry is refused before openmls reads it (and a value that does not decode is an error of
//! the store, never a panic).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use openmls_rust_crypto::RustCrypto;
use openmls_traits::OpenMlsProvider;
use sha2::{Digest, Sha256};

use crate::error::MlsError;
use crate::store::BinaryStorage;
use crate::store::codec::{TAG_COMPACT, tag_json};
use crate::store::stale::drop_stale_proposals;

mod delegate;
mod split;

use crate::store::labels::*;

/// The digest of one entry: SHA-256 over the key's length, the key and the value.
pub(crate) type EntryDigest = [u8; 32];

pub(crate) fn entry_digest(key: &[u8], value: &[u8]) -> EntryDigest {
    let mut h = Sha256::new();
    h.update((key.len() as u64).to_be_bytes());
    h.update(key);
    h.update(value);
    h.finalize().into()
}

/// The root digest of a set of entries (their digests in key order).
pub(crate) fn root_digest(entries: &BTreeMap<Vec<u8>, EntryDigest>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((entries.len() as u64).to_be_bytes());
    for d in entries.values() {
        h.update(d);
    }
    h.finalize().into()
}

/// What changed since the entries were last stored.
#[derive(Default)]
struct Marks {
    /// Every entry counts as changed: nothing of this group is stored yet.
    all: bool,
    /// The kinds written or deleted since, with the generation of their last mark.
    kinds: BTreeMap<&'static [u8], u64>,
    /// The generation of `all`.
    all_gen: u64,
    /// Counts marks.
    generation: u64,
}

/// Our binary store with change marks (see the module documentation).
#[derive(Default)]
pub(crate) struct TrackedStorage {
    inner: BinaryStorage,
    marks: Mutex<Marks>,
    /// The digests of the entries as last stored by the caller.
    stored: Mutex<BTreeMap<Vec<u8>, EntryDigest>>,
    /// The digests of message-secrets parts (compact ones) as the value in memory holds them
    /// now: a write of the message secrets keeps those whose octets it left as they were, so
    /// a received message does not hash the serialized context and the past epochs again.
    part_digests: Mutex<BTreeMap<Vec<u8>, EntryDigest>>,
}

/// The entries of a group's state that changed, to store together (one transaction).
pub(crate) struct StorageChanges {
    /// Everything is new: drop whatever was stored for this group before.
    pub(crate) full: bool,
    /// Entries to insert or replace.
    pub(crate) upserts: Vec<(Vec<u8>, Vec<u8>)>,
    /// Keys to delete.
    pub(crate) deletes: Vec<Vec<u8>>,
    /// The digests of all entries once these changes are stored.
    pub(crate) after: BTreeMap<Vec<u8>, EntryDigest>,
    /// The mark generation these changes include.
    pub(crate) generation: u64,
}

fn lock<T>(m: &Mutex<T>) -> Result<std::sync::MutexGuard<'_, T>, MlsError> {
    m.lock()
        .map_err(|_| MlsError::Internal("storage marks lock poisoned".into()))
}

impl TrackedStorage {
    /// A store whose every entry counts as changed (a group not stored yet).
    pub(crate) fn new_unsaved() -> Self {
        let s = Self::default();
        if let Ok(mut m) = s.marks.lock() {
            m.all = true;
        }
        s
    }

    /// A store holding `entries` as stored (nothing changed). The caller has checked them
    /// against their root digest; the message-secrets parts are joined back here. `legacy`:
    /// the entries are of record format 2 (untagged JSON values): each value is tagged as
    /// JSON, the queued proposals openmls's memory store left behind are dropped
    /// (`store/stale.rs`), and every entry counts as changed (the group is stored again whole,
    /// in the current format).
    pub(crate) fn from_stored(
        entries: Vec<(Vec<u8>, Vec<u8>)>,
        digests: BTreeMap<Vec<u8>, EntryDigest>,
        legacy: bool,
    ) -> Result<Self, MlsError> {
        let mut parts = BTreeMap::new();
        let mut mains = Vec::new();
        for (k, v) in entries {
            if split::is_part(&k) {
                parts.insert(k, v);
            } else {
                mains.push((k, v));
            }
        }
        let s = if legacy {
            Self::new_unsaved()
        } else {
            Self::default()
        };
        {
            let mut values = s.inner.write_lock().map_err(MlsError::mls)?;
            for (k, v) in mains {
                let v = if k.starts_with(LABEL_MESSAGE_SECRETS) {
                    split::join(&k, &v, &mut parts).map_err(|e| {
                        MlsError::Record(format!("the stored MLS message secrets: {e}"))
                    })?
                } else {
                    v
                };
                let v = if legacy { tag_json(&v) } else { v };
                values.insert(k, v);
            }
            if legacy {
                drop_stale_proposals(&mut values);
            }
        }
        if !parts.is_empty() {
            return Err(MlsError::Record(format!(
                "{} stored part(s) of MLS message secrets belong to no entry",
                parts.len()
            )));
        }
        if !legacy {
            *lock(&s.stored)? = digests;
        }
        Ok(s)
    }

    /// The store underneath (records of the whole store read and write it).
    pub(crate) fn store(&self) -> &BinaryStorage {
        &self.inner
    }

    /// Marks every entry as changed (restored from a whole record: none of it is stored as
    /// entries yet).
    pub(crate) fn mark_all(&self) -> Result<(), MlsError> {
        let mut m = lock(&self.marks)?;
        m.generation += 1;
        m.all = true;
        m.all_gen = m.generation;
        Ok(())
    }

    fn touch(&self, kinds: &[&'static [u8]]) {
        // A poisoned lock (a panic elsewhere while marking) marks everything, so nothing is
        // lost: the next export hands out every entry.
        match self.marks.lock() {
            Ok(mut m) => {
                m.generation += 1;
                let g = m.generation;
                for k in kinds {
                    m.kinds.insert(k, g);
                }
            }
            Err(poisoned) => {
                let mut m = poisoned.into_inner();
                m.generation += 1;
                m.all = true;
                m.all_gen = m.generation;
            }
        }
    }

    /// After the message-secrets value under `key` was written (`new`, replacing `old`):
    /// keeps the digests of the parts whose octets are the same in both, forgets the others.
    fn keep_part_digests(
        &self,
        key: &[u8],
        old: Option<&[u8]>,
        new: Option<&Vec<u8>>,
    ) -> Result<(), crate::store::StoreError> {
        let mut digests = self
            .part_digests
            .lock()
            .map_err(|_| crate::store::StoreError::Poisoned)?;
        let old = old.and_then(|v| split::sources(key, v));
        let new = new.and_then(|v| split::sources(key, v));
        match (old, new) {
            (Some(old), Some(new)) => digests.retain(|k, _| {
                !k.starts_with(key)
                    || matches!((old.get(k), new.get(k)), (Some(a), Some(b)) if a == b)
            }),
            _ => digests.retain(|k, _| !k.starts_with(key)),
        }
        Ok(())
    }

    /// Forgets every part digest (the message secrets were deleted).
    fn forget_part_digests(&self) {
        match self.part_digests.lock() {
            Ok(mut d) => d.clear(),
            Err(poisoned) => poisoned.into_inner().clear(),
        }
    }

    /// The digest of the entry (`k`, `v`), from the part digests if it is a compact
    /// message-secrets part whose digest is known (checked again in tests).
    fn digest_of(
        &self,
        parts: &mut BTreeMap<Vec<u8>, EntryDigest>,
        k: &[u8],
        v: &[u8],
    ) -> EntryDigest {
        let cacheable = v.first() == Some(&TAG_COMPACT) && split::is_part(k);
        if cacheable && let Some(d) = parts.get(k) {
            #[cfg(test)]
            assert_eq!(*d, entry_digest(k, v), "a stale part digest");
            return *d;
        }
        let d = entry_digest(k, v);
        if cacheable {
            parts.insert(k.to_vec(), d);
        }
        d
    }

    /// Whether anything changed since the last [`TrackedStorage::saved`].
    pub(crate) fn is_clean(&self) -> Result<bool, MlsError> {
        let m = lock(&self.marks)?;
        Ok(!m.all && m.kinds.is_empty())
    }

    /// The entries changed since the last [`TrackedStorage::saved`]: O(entries of the kinds
    /// touched), not O(group).
    pub(crate) fn changes(&self) -> Result<StorageChanges, MlsError> {
        let (all, kinds, generation) = {
            let m = lock(&self.marks)?;
            let kinds: BTreeSet<&'static [u8]> = m.kinds.keys().copied().collect();
            (m.all, kinds, m.generation)
        };
        let stored = lock(&self.stored)?;
        let values = self.inner.read_lock().map_err(MlsError::mls)?;
        let of_kinds = |k: &[u8]| all || kinds.iter().any(|l| k.starts_with(l));
        let mut parts = lock(&self.part_digests)?;
        // A compact part whose digest is known and stored as is: not built, not hashed.
        let known = |k: &[u8]| !all && parts.get(k).is_some_and(|d| stored.get(k) == Some(d));
        let mut produced = BTreeMap::new();
        let mut unchanged = BTreeSet::new();
        for (k, v) in values.iter() {
            if !of_kinds(k) {
                continue;
            }
            if k.starts_with(LABEL_MESSAGE_SECRETS) {
                for (k, v) in split::split(k, v, &known) {
                    match v {
                        Some(v) => {
                            produced.insert(k, v);
                        }
                        None => {
                            unchanged.insert(k);
                        }
                    }
                }
            } else {
                produced.insert(k.clone(), v.clone());
            }
        }
        let mut after = if all { BTreeMap::new() } else { stored.clone() };
        let mut upserts = Vec::new();
        let mut deletes = Vec::new();
        if !all {
            for k in stored.keys() {
                if of_kinds(k) && !produced.contains_key(k) && !unchanged.contains(k) {
                    deletes.push(k.clone());
                    after.remove(k);
                }
            }
        }
        for (k, v) in produced {
            let d = self.digest_of(&mut parts, &k, &v);
            let same = !all && stored.get(&k) == Some(&d);
            after.insert(k.clone(), d);
            if !same {
                upserts.push((k, v));
            }
        }
        upserts.sort();
        deletes.sort();
        Ok(StorageChanges {
            full: all,
            upserts,
            deletes,
            after,
            generation,
        })
    }

    /// Reports that `changes` are stored: marks made after them stay.
    pub(crate) fn saved(&self, changes: &StorageChanges) -> Result<(), MlsError> {
        // The digests first: should the marks then fail, they stay and are handed out again.
        *lock(&self.stored)? = changes.after.clone();
        let mut m = lock(&self.marks)?;
        if m.all && m.all_gen <= changes.generation {
            m.all = false;
        }
        m.kinds.retain(|_, g| *g > changes.generation);
        Ok(())
    }
}

/// The openmls provider of a client group: the Rust crypto provider with [`TrackedStorage`].
#[derive(Default)]
pub(crate) struct GroupProvider {
    crypto: RustCrypto,
    storage: TrackedStorage,
}

impl GroupProvider {
    /// A provider for a group that is not stored yet.
    pub(crate) fn unsaved() -> Self {
        Self {
            crypto: RustCrypto::default(),
            storage: TrackedStorage::new_unsaved(),
        }
    }

    /// A provider over stored entries.
    pub(crate) fn with_storage(storage: TrackedStorage) -> Self {
        Self {
            crypto: RustCrypto::default(),
            storage,
        }
    }
}

impl OpenMlsProvider for GroupProvider {
    type CryptoProvider = RustCrypto;
    type RandProvider = RustCrypto;
    type StorageProvider = TrackedStorage;

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
