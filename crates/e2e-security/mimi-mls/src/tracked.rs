//! openmls storage that remembers what each operation changed, so a group's state can be
//! stored as separate entries and only the changed entries written after an event.
//!
//! [`TrackedStorage`] wraps openmls's in-memory store: every method delegates to it, and every
//! writer or deleter first marks the kind of entry it touches (openmls's storage label). At
//! export time ([`TrackedStorage::changes`]) the entries of the marked kinds are compared with
//! the digests of what was last stored; only those that differ are handed out, with the keys
//! that are gone. Reading a group costs nothing extra.
//!
//! Integrity: every entry is bound by a digest (SHA-256 over its key and value) and the set of
//! entries by a root digest kept in the group's head record, so a damaged, missing or extra
//! entry is refused before openmls (whose memory store unwraps what it parses) reads it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use openmls_rust_crypto::{MemoryStorage, RustCrypto};
use openmls_traits::OpenMlsProvider;
use openmls_traits::storage::{CURRENT_VERSION, StorageProvider, traits};
use sha2::{Digest, Sha256};

use crate::error::MlsError;

const LABEL_APPLICATION_EXPORT_TREE: &[u8] = b"ApplicationExportTree";
const LABEL_CONFIRMATION_TAG: &[u8] = b"ConfirmationTag";
const LABEL_ENCRYPTION_KEY_PAIR: &[u8] = b"EncryptionKeyPair";
const LABEL_EPOCH_KEY_PAIRS: &[u8] = b"EpochKeyPairs";
const LABEL_EPOCH_SECRETS: &[u8] = b"EpochSecrets";
const LABEL_GROUP_CONTEXT: &[u8] = b"GroupContext";
const LABEL_GROUP_STATE: &[u8] = b"GroupState";
const LABEL_INTERIM_TRANSCRIPT_HASH: &[u8] = b"InterimTranscriptHash";
const LABEL_KEY_PACKAGE: &[u8] = b"KeyPackage";
const LABEL_MESSAGE_SECRETS: &[u8] = b"MessageSecrets";
const LABEL_MLS_GROUP_JOIN_CONFIG: &[u8] = b"MlsGroupJoinConfig";
const LABEL_OWN_LEAF_NODE_INDEX: &[u8] = b"OwnLeafNodeIndex";
const LABEL_OWN_LEAF_NODES: &[u8] = b"OwnLeafNodes";
const LABEL_PROPOSAL_QUEUE_REFS: &[u8] = b"ProposalQueueRefs";
const LABEL_PSK: &[u8] = b"Psk";
const LABEL_QUEUED_PROPOSAL: &[u8] = b"QueuedProposal";
const LABEL_RESUMPTION_PSK: &[u8] = b"ResumptionPsk";
const LABEL_SIGNATURE_KEY_PAIR: &[u8] = b"SignatureKeyPair";
const LABEL_TREE: &[u8] = b"Tree";

/// Every kind the wrapper marks: openmls's memory store writes no entry whose key starts
/// with none of them (checked by the tests).
#[cfg(test)]
pub(crate) const LABELS: [&[u8]; 19] = [
    LABEL_APPLICATION_EXPORT_TREE,
    LABEL_CONFIRMATION_TAG,
    LABEL_ENCRYPTION_KEY_PAIR,
    LABEL_EPOCH_KEY_PAIRS,
    LABEL_EPOCH_SECRETS,
    LABEL_GROUP_CONTEXT,
    LABEL_GROUP_STATE,
    LABEL_INTERIM_TRANSCRIPT_HASH,
    LABEL_KEY_PACKAGE,
    LABEL_MESSAGE_SECRETS,
    LABEL_MLS_GROUP_JOIN_CONFIG,
    LABEL_OWN_LEAF_NODE_INDEX,
    LABEL_OWN_LEAF_NODES,
    LABEL_PROPOSAL_QUEUE_REFS,
    LABEL_PSK,
    LABEL_QUEUED_PROPOSAL,
    LABEL_RESUMPTION_PSK,
    LABEL_SIGNATURE_KEY_PAIR,
    LABEL_TREE,
];

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

/// openmls's memory store with change marks (see the module documentation).
#[derive(Default)]
pub(crate) struct TrackedStorage {
    inner: MemoryStorage,
    marks: Mutex<Marks>,
    /// The digests of the entries as last stored by the caller.
    stored: Mutex<BTreeMap<Vec<u8>, EntryDigest>>,
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
    /// against their root digest; the message-secrets parts are joined back here.
    pub(crate) fn from_stored(
        entries: Vec<(Vec<u8>, Vec<u8>)>,
        digests: BTreeMap<Vec<u8>, EntryDigest>,
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
        let s = Self::default();
        {
            let mut values = s
                .inner
                .values
                .write()
                .map_err(|_| MlsError::Internal("storage lock poisoned".into()))?;
            for (k, v) in mains {
                let v = if k.starts_with(LABEL_MESSAGE_SECRETS) {
                    split::join(&k, &v, &mut parts).ok_or_else(|| {
                        MlsError::Record(
                            "the stored MLS message secrets lack the part of a past epoch".into(),
                        )
                    })?
                } else {
                    v
                };
                values.insert(k, v);
            }
        }
        if !parts.is_empty() {
            return Err(MlsError::Record(format!(
                "{} stored part(s) of MLS message secrets belong to no entry",
                parts.len()
            )));
        }
        *lock(&s.stored)? = digests;
        Ok(s)
    }

    /// The memory store underneath (records of the whole store read and write it).
    pub(crate) fn memory(&self) -> &MemoryStorage {
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
        let values = self
            .inner
            .values
            .read()
            .map_err(|_| MlsError::Internal("storage lock poisoned".into()))?;
        let of_kinds = |k: &[u8]| all || kinds.iter().any(|l| k.starts_with(l));
        let mut produced = BTreeMap::new();
        for (k, v) in values.iter() {
            if !of_kinds(k) {
                continue;
            }
            if k.starts_with(LABEL_MESSAGE_SECRETS) {
                produced.extend(split::split(k, v));
            } else {
                produced.insert(k.clone(), v.clone());
            }
        }
        let mut after = if all { BTreeMap::new() } else { stored.clone() };
        let mut upserts = Vec::new();
        let mut deletes = Vec::new();
        if !all {
            for k in stored.keys() {
                if of_kinds(k) && !produced.contains_key(k) {
                    deletes.push(k.clone());
                    after.remove(k);
                }
            }
        }
        for (k, v) in produced {
            let d = entry_digest(&k, &v);
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

impl StorageProvider<CURRENT_VERSION> for TrackedStorage {
    type Error = <MemoryStorage as StorageProvider<CURRENT_VERSION>>::Error;

    fn write_mls_join_config<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        MlsGroupJoinConfig: traits::MlsGroupJoinConfig<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        config: &MlsGroupJoinConfig,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_MLS_GROUP_JOIN_CONFIG]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_mls_join_config::<
            GroupId,
            MlsGroupJoinConfig,
        >(&self.inner, group_id, config)
    }

    fn append_own_leaf_node<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        LeafNode: traits::LeafNode<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        leaf_node: &LeafNode,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_OWN_LEAF_NODES]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::append_own_leaf_node::<GroupId, LeafNode>(
            &self.inner,
            group_id,
            leaf_node,
        )
    }

    fn queue_proposal<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ProposalRef: traits::ProposalRef<CURRENT_VERSION>,
        QueuedProposal: traits::QueuedProposal<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        proposal_ref: &ProposalRef,
        proposal: &QueuedProposal,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_QUEUED_PROPOSAL, LABEL_PROPOSAL_QUEUE_REFS]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::queue_proposal::<
            GroupId,
            ProposalRef,
            QueuedProposal,
        >(&self.inner, group_id, proposal_ref, proposal)
    }

    fn write_tree<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        TreeSync: traits::TreeSync<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        tree: &TreeSync,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_TREE]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_tree::<GroupId, TreeSync>(
            &self.inner,
            group_id,
            tree,
        )
    }

    fn write_interim_transcript_hash<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        InterimTranscriptHash: traits::InterimTranscriptHash<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        interim_transcript_hash: &InterimTranscriptHash,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_INTERIM_TRANSCRIPT_HASH]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_interim_transcript_hash::<
            GroupId,
            InterimTranscriptHash,
        >(&self.inner, group_id, interim_transcript_hash)
    }

    fn write_context<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        GroupContext: traits::GroupContext<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        group_context: &GroupContext,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_GROUP_CONTEXT]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_context::<GroupId, GroupContext>(
            &self.inner,
            group_id,
            group_context,
        )
    }

    fn write_confirmation_tag<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ConfirmationTag: traits::ConfirmationTag<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        confirmation_tag: &ConfirmationTag,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_CONFIRMATION_TAG]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_confirmation_tag::<
            GroupId,
            ConfirmationTag,
        >(&self.inner, group_id, confirmation_tag)
    }

    fn write_group_state<
        GroupState: traits::GroupState<CURRENT_VERSION>,
        GroupId: traits::GroupId<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        group_state: &GroupState,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_GROUP_STATE]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_group_state::<GroupState, GroupId>(
            &self.inner,
            group_id,
            group_state,
        )
    }

    fn write_message_secrets<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        MessageSecrets: traits::MessageSecrets<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        message_secrets: &MessageSecrets,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_MESSAGE_SECRETS]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_message_secrets::<
            GroupId,
            MessageSecrets,
        >(&self.inner, group_id, message_secrets)
    }

    fn write_resumption_psk_store<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ResumptionPskStore: traits::ResumptionPskStore<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        resumption_psk_store: &ResumptionPskStore,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_RESUMPTION_PSK]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_resumption_psk_store::<
            GroupId,
            ResumptionPskStore,
        >(&self.inner, group_id, resumption_psk_store)
    }

    fn write_own_leaf_index<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        LeafNodeIndex: traits::LeafNodeIndex<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        own_leaf_index: &LeafNodeIndex,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_OWN_LEAF_NODE_INDEX]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_own_leaf_index::<
            GroupId,
            LeafNodeIndex,
        >(&self.inner, group_id, own_leaf_index)
    }

    fn write_group_epoch_secrets<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        GroupEpochSecrets: traits::GroupEpochSecrets<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        group_epoch_secrets: &GroupEpochSecrets,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_EPOCH_SECRETS]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_group_epoch_secrets::<
            GroupId,
            GroupEpochSecrets,
        >(&self.inner, group_id, group_epoch_secrets)
    }

    fn write_application_export_tree<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ApplicationExportTree: traits::ApplicationExportTree<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        application_export_tree: &ApplicationExportTree,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_APPLICATION_EXPORT_TREE]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_application_export_tree::<
            GroupId,
            ApplicationExportTree,
        >(&self.inner, group_id, application_export_tree)
    }

    fn write_signature_key_pair<
        SignaturePublicKey: traits::SignaturePublicKey<CURRENT_VERSION>,
        SignatureKeyPair: traits::SignatureKeyPair<CURRENT_VERSION>,
    >(
        &self,
        public_key: &SignaturePublicKey,
        signature_key_pair: &SignatureKeyPair,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_SIGNATURE_KEY_PAIR]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_signature_key_pair::<
            SignaturePublicKey,
            SignatureKeyPair,
        >(&self.inner, public_key, signature_key_pair)
    }

    fn write_encryption_key_pair<
        EncryptionKey: traits::EncryptionKey<CURRENT_VERSION>,
        HpkeKeyPair: traits::HpkeKeyPair<CURRENT_VERSION>,
    >(
        &self,
        public_key: &EncryptionKey,
        key_pair: &HpkeKeyPair,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_ENCRYPTION_KEY_PAIR]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_encryption_key_pair::<
            EncryptionKey,
            HpkeKeyPair,
        >(&self.inner, public_key, key_pair)
    }

    fn write_encryption_epoch_key_pairs<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        EpochKey: traits::EpochKey<CURRENT_VERSION>,
        HpkeKeyPair: traits::HpkeKeyPair<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        epoch: &EpochKey,
        leaf_index: u32,
        key_pairs: &[HpkeKeyPair],
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_EPOCH_KEY_PAIRS]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_encryption_epoch_key_pairs::<
            GroupId,
            EpochKey,
            HpkeKeyPair,
        >(&self.inner, group_id, epoch, leaf_index, key_pairs)
    }

    fn write_key_package<
        HashReference: traits::HashReference<CURRENT_VERSION>,
        KeyPackage: traits::KeyPackage<CURRENT_VERSION>,
    >(
        &self,
        hash_ref: &HashReference,
        key_package: &KeyPackage,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_KEY_PACKAGE]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_key_package::<
            HashReference,
            KeyPackage,
        >(&self.inner, hash_ref, key_package)
    }

    fn write_psk<
        PskId: traits::PskId<CURRENT_VERSION>,
        PskBundle: traits::PskBundle<CURRENT_VERSION>,
    >(
        &self,
        psk_id: &PskId,
        psk: &PskBundle,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_PSK]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::write_psk::<PskId, PskBundle>(
            &self.inner,
            psk_id,
            psk,
        )
    }

    fn mls_group_join_config<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        MlsGroupJoinConfig: traits::MlsGroupJoinConfig<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<MlsGroupJoinConfig>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::mls_group_join_config::<
            GroupId,
            MlsGroupJoinConfig,
        >(&self.inner, group_id)
    }

    fn own_leaf_nodes<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        LeafNode: traits::LeafNode<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Vec<LeafNode>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::own_leaf_nodes::<GroupId, LeafNode>(
            &self.inner,
            group_id,
        )
    }

    fn queued_proposal_refs<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ProposalRef: traits::ProposalRef<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Vec<ProposalRef>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::queued_proposal_refs::<
            GroupId,
            ProposalRef,
        >(&self.inner, group_id)
    }

    fn queued_proposals<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ProposalRef: traits::ProposalRef<CURRENT_VERSION>,
        QueuedProposal: traits::QueuedProposal<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Vec<(ProposalRef, QueuedProposal)>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::queued_proposals::<
            GroupId,
            ProposalRef,
            QueuedProposal,
        >(&self.inner, group_id)
    }

    fn tree<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        TreeSync: traits::TreeSync<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<TreeSync>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::tree::<GroupId, TreeSync>(
            &self.inner,
            group_id,
        )
    }

    fn group_context<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        GroupContext: traits::GroupContext<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<GroupContext>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::group_context::<GroupId, GroupContext>(
            &self.inner,
            group_id,
        )
    }

    fn interim_transcript_hash<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        InterimTranscriptHash: traits::InterimTranscriptHash<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<InterimTranscriptHash>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::interim_transcript_hash::<
            GroupId,
            InterimTranscriptHash,
        >(&self.inner, group_id)
    }

    fn confirmation_tag<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ConfirmationTag: traits::ConfirmationTag<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<ConfirmationTag>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::confirmation_tag::<
            GroupId,
            ConfirmationTag,
        >(&self.inner, group_id)
    }

    fn group_state<
        GroupState: traits::GroupState<CURRENT_VERSION>,
        GroupId: traits::GroupId<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<GroupState>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::group_state::<GroupState, GroupId>(
            &self.inner,
            group_id,
        )
    }

    fn message_secrets<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        MessageSecrets: traits::MessageSecrets<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<MessageSecrets>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::message_secrets::<
            GroupId,
            MessageSecrets,
        >(&self.inner, group_id)
    }

    fn resumption_psk_store<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ResumptionPskStore: traits::ResumptionPskStore<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<ResumptionPskStore>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::resumption_psk_store::<
            GroupId,
            ResumptionPskStore,
        >(&self.inner, group_id)
    }

    fn own_leaf_index<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        LeafNodeIndex: traits::LeafNodeIndex<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<LeafNodeIndex>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::own_leaf_index::<GroupId, LeafNodeIndex>(
            &self.inner,
            group_id,
        )
    }

    fn group_epoch_secrets<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        GroupEpochSecrets: traits::GroupEpochSecrets<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<GroupEpochSecrets>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::group_epoch_secrets::<
            GroupId,
            GroupEpochSecrets,
        >(&self.inner, group_id)
    }

    fn signature_key_pair<
        SignaturePublicKey: traits::SignaturePublicKey<CURRENT_VERSION>,
        SignatureKeyPair: traits::SignatureKeyPair<CURRENT_VERSION>,
    >(
        &self,
        public_key: &SignaturePublicKey,
    ) -> Result<Option<SignatureKeyPair>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::signature_key_pair::<
            SignaturePublicKey,
            SignatureKeyPair,
        >(&self.inner, public_key)
    }

    fn encryption_key_pair<
        HpkeKeyPair: traits::HpkeKeyPair<CURRENT_VERSION>,
        EncryptionKey: traits::EncryptionKey<CURRENT_VERSION>,
    >(
        &self,
        public_key: &EncryptionKey,
    ) -> Result<Option<HpkeKeyPair>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::encryption_key_pair::<
            HpkeKeyPair,
            EncryptionKey,
        >(&self.inner, public_key)
    }

    fn encryption_epoch_key_pairs<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        EpochKey: traits::EpochKey<CURRENT_VERSION>,
        HpkeKeyPair: traits::HpkeKeyPair<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        epoch: &EpochKey,
        leaf_index: u32,
    ) -> Result<Vec<HpkeKeyPair>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::encryption_epoch_key_pairs::<
            GroupId,
            EpochKey,
            HpkeKeyPair,
        >(&self.inner, group_id, epoch, leaf_index)
    }

    fn key_package<
        KeyPackageRef: traits::HashReference<CURRENT_VERSION>,
        KeyPackage: traits::KeyPackage<CURRENT_VERSION>,
    >(
        &self,
        hash_ref: &KeyPackageRef,
    ) -> Result<Option<KeyPackage>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::key_package::<KeyPackageRef, KeyPackage>(
            &self.inner,
            hash_ref,
        )
    }

    fn psk<PskBundle: traits::PskBundle<CURRENT_VERSION>, PskId: traits::PskId<CURRENT_VERSION>>(
        &self,
        psk_id: &PskId,
    ) -> Result<Option<PskBundle>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::psk::<PskBundle, PskId>(
            &self.inner,
            psk_id,
        )
    }

    fn application_export_tree<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ApplicationExportTree: traits::ApplicationExportTree<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<Option<ApplicationExportTree>, Self::Error> {
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::application_export_tree::<
            GroupId,
            ApplicationExportTree,
        >(&self.inner, group_id)
    }

    fn remove_proposal<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ProposalRef: traits::ProposalRef<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        proposal_ref: &ProposalRef,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_QUEUED_PROPOSAL, LABEL_PROPOSAL_QUEUE_REFS]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::remove_proposal::<GroupId, ProposalRef>(
            &self.inner,
            group_id,
            proposal_ref,
        )
    }

    fn delete_own_leaf_nodes<GroupId: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_OWN_LEAF_NODES]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_own_leaf_nodes::<GroupId>(
            &self.inner,
            group_id,
        )
    }

    fn delete_group_config<GroupId: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_MLS_GROUP_JOIN_CONFIG]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_group_config::<GroupId>(
            &self.inner,
            group_id,
        )
    }

    fn delete_tree<GroupId: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_TREE]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_tree::<GroupId>(
            &self.inner,
            group_id,
        )
    }

    fn delete_confirmation_tag<GroupId: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_CONFIRMATION_TAG]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_confirmation_tag::<GroupId>(
            &self.inner,
            group_id,
        )
    }

    fn delete_group_state<GroupId: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_GROUP_STATE]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_group_state::<GroupId>(
            &self.inner,
            group_id,
        )
    }

    fn delete_context<GroupId: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_GROUP_CONTEXT]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_context::<GroupId>(
            &self.inner,
            group_id,
        )
    }

    fn delete_interim_transcript_hash<GroupId: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_INTERIM_TRANSCRIPT_HASH]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_interim_transcript_hash::<GroupId>(
            &self.inner,
            group_id,
        )
    }

    fn delete_message_secrets<GroupId: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_MESSAGE_SECRETS]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_message_secrets::<GroupId>(
            &self.inner,
            group_id,
        )
    }

    fn delete_all_resumption_psk_secrets<GroupId: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_RESUMPTION_PSK]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_all_resumption_psk_secrets::<
            GroupId,
        >(&self.inner, group_id)
    }

    fn delete_own_leaf_index<GroupId: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_OWN_LEAF_NODE_INDEX]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_own_leaf_index::<GroupId>(
            &self.inner,
            group_id,
        )
    }

    fn delete_group_epoch_secrets<GroupId: traits::GroupId<CURRENT_VERSION>>(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_EPOCH_SECRETS]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_group_epoch_secrets::<GroupId>(
            &self.inner,
            group_id,
        )
    }

    fn clear_proposal_queue<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ProposalRef: traits::ProposalRef<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_QUEUED_PROPOSAL, LABEL_PROPOSAL_QUEUE_REFS]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::clear_proposal_queue::<
            GroupId,
            ProposalRef,
        >(&self.inner, group_id)
    }

    fn delete_signature_key_pair<
        SignaturePublicKey: traits::SignaturePublicKey<CURRENT_VERSION>,
    >(
        &self,
        public_key: &SignaturePublicKey,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_SIGNATURE_KEY_PAIR]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_signature_key_pair::<
            SignaturePublicKey,
        >(&self.inner, public_key)
    }

    fn delete_encryption_key_pair<EncryptionKey: traits::EncryptionKey<CURRENT_VERSION>>(
        &self,
        public_key: &EncryptionKey,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_ENCRYPTION_KEY_PAIR]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_encryption_key_pair::<
            EncryptionKey,
        >(&self.inner, public_key)
    }

    fn delete_encryption_epoch_key_pairs<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        EpochKey: traits::EpochKey<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        epoch: &EpochKey,
        leaf_index: u32,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_EPOCH_KEY_PAIRS]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_encryption_epoch_key_pairs::<
            GroupId,
            EpochKey,
        >(&self.inner, group_id, epoch, leaf_index)
    }

    fn delete_key_package<KeyPackageRef: traits::HashReference<CURRENT_VERSION>>(
        &self,
        hash_ref: &KeyPackageRef,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_KEY_PACKAGE]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_key_package::<KeyPackageRef>(
            &self.inner,
            hash_ref,
        )
    }

    fn delete_psk<PskKey: traits::PskId<CURRENT_VERSION>>(
        &self,
        psk_id: &PskKey,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_PSK]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_psk::<PskKey>(
            &self.inner,
            psk_id,
        )
    }

    fn delete_application_export_tree<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ApplicationExportTree: traits::ApplicationExportTree<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        self.touch(&[LABEL_APPLICATION_EXPORT_TREE]);
        <MemoryStorage as StorageProvider<CURRENT_VERSION>>::delete_application_export_tree::<
            GroupId,
            ApplicationExportTree,
        >(&self.inner, group_id)
    }
}

/// Splitting openmls's message-secrets entry.
///
/// openmls stores a group's message secrets as one JSON value: the current epoch's secrets
/// and, for each of the past epochs it keeps, that epoch's secrets and its member list
/// (credentials included). Decrypting one message rewrites that value, so stored whole it
/// would cost O(members × past epochs) per message. It is stored as a main entry (the value
/// with each past epoch reduced to `{"epoch":N}`) and one entry per past epoch (the rest of
/// that epoch's object), which changes only when a commit moves the epochs along or a late
/// message of that epoch is read. A value of another shape is stored whole.
mod split {
    /// The suffix of a past epoch's entry key (after the main key), then the epoch (8 octets).
    const PAST: &[u8] = b"\x00past-epoch";
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

    fn past_key(main: &[u8], epoch: u64) -> Vec<u8> {
        let mut k = main.to_vec();
        k.extend_from_slice(PAST);
        k.extend_from_slice(&epoch.to_be_bytes());
        k
    }

    /// An element `{"epoch":N,REST}`: N and REST.
    fn element(e: &[u8]) -> Option<(u64, &[u8])> {
        let rest = e.strip_prefix(EPOCH)?;
        let comma = rest.iter().position(|c| *c == b',')?;
        let epoch: u64 = std::str::from_utf8(&rest[..comma]).ok()?.parse().ok()?;
        let body = rest.get(comma + 1..rest.len().checked_sub(1)?)?;
        (rest.last() == Some(&b'}')).then_some((epoch, body))
    }

    /// The stored entries of one message-secrets entry (main first).
    pub(super) fn split(key: &[u8], value: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
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

    /// Whether `key` names a past epoch's part of a message-secrets entry.
    pub(super) fn is_part(key: &[u8]) -> bool {
        key.len() > PAST.len() + 8 && key[key.len() - 8 - PAST.len()..key.len() - 8] == *PAST
    }

    /// Joins a main entry with its parts (taken out of `parts`): the value openmls wrote.
    pub(super) fn join(
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
}
