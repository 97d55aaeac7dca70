//! A group's state as separate entries: a small head record plus openmls's storage entries,
//! of which only the changed ones are handed out after each operation.
//!
//! [`ClientGroup::changes`] gives the entries changed since the last
//! [`ClientGroup::changes_saved`] (decrypting an application message changes the message
//! secrets only; a commit the tree, context and epoch secrets) and the head record to store
//! with them: URIs, signing key, group ID and the root digest of all entries. The caller
//! stores head and entries together (one transaction); [`ClientGroup::from_entries`] checks
//! every entry against that root before openmls reads any of them.

use std::collections::BTreeMap;
use std::fmt;

use openmls::group::MlsGroup;
use openmls::prelude::{GroupId, OpenMlsProvider as _};

use mimi_room::RoomState;

use super::{ClientGroup, load_room};
use crate::credential::TrustStore;
use crate::error::MlsError;
use crate::identity::SigningKey;
use crate::persist::{Format, Reader, Writer, open_sealed};
use crate::summary::MemberChange;
use crate::tracked::{
    EntryDigest, GroupProvider, StorageChanges, TrackedStorage, entry_digest, root_digest,
};

/// The tag of a group's head record.
const HEAD_TAG: u8 = 4;

/// The entries of a group's state changed since they were last stored, with the head record
/// to store alongside (see [`ClientGroup::changes`]). Secret: entries hold group secrets.
pub struct GroupChanges {
    /// Nothing of this group is stored yet (a new or replaced group): drop every entry stored
    /// for it before, then store `upserts` (all of its entries).
    pub full: bool,
    /// Entries (key, value) to insert or replace.
    pub upserts: Vec<(Vec<u8>, Vec<u8>)>,
    /// Keys of entries to delete.
    pub deletes: Vec<Vec<u8>>,
    /// The head record (sealed): store it with the entries, replacing the one before.
    pub head: Vec<u8>,
    inner: StorageChanges,
}

impl fmt::Debug for GroupChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupChanges")
            .field("full", &self.full)
            .field("upserts", &self.upserts.len())
            .field("upsert_bytes", &self.upsert_bytes())
            .field("deletes", &self.deletes.len())
            .finish_non_exhaustive()
    }
}

impl GroupChanges {
    /// Whether no entry changed (the head record is then the one stored).
    pub fn is_empty(&self) -> bool {
        !self.full && self.upserts.is_empty() && self.deletes.is_empty()
    }

    /// The bytes of the entries to write (keys and values).
    pub fn upsert_bytes(&self) -> usize {
        self.upserts.iter().map(|(k, v)| k.len() + v.len()).sum()
    }
}

fn head_record(
    group: &ClientGroup,
    entries: &BTreeMap<Vec<u8>, EntryDigest>,
) -> Result<Vec<u8>, MlsError> {
    let mut w = Writer::default();
    w.header(HEAD_TAG);
    w.str(&group.me.client.to_string());
    w.str(&group.me.user.to_string());
    group.key.encode(&mut w)?;
    w.bytes(group.group.group_id().as_slice());
    w.u64(entries.len() as u64);
    w.bytes(&root_digest(entries));
    Ok(w.finish_sealed())
}

impl ClientGroup {
    /// The entries changed since the last [`ClientGroup::changes_saved`] (all of them for a
    /// group not stored as entries yet) and the head record to store with them. Costs the
    /// entries of the kinds that changed, not the whole group.
    pub fn changes(&self) -> Result<GroupChanges, MlsError> {
        let mut inner = self.provider.storage().changes()?;
        let head = head_record(self, &inner.after)?;
        // The entries move out (`changes_saved` needs only the digests and generation): one
        // copy of each changed entry, not two.
        Ok(GroupChanges {
            full: inner.full,
            upserts: std::mem::take(&mut inner.upserts),
            deletes: std::mem::take(&mut inner.deletes),
            head,
            inner,
        })
    }

    /// Whether [`ClientGroup::changes`] would hand out no entry.
    pub fn is_saved(&self) -> Result<bool, MlsError> {
        self.provider.storage().is_clean()
    }

    /// Reports that `changes` (from [`ClientGroup::changes`] of this group) are stored:
    /// the next changes start from them.
    pub fn changes_saved(&self, changes: &GroupChanges) -> Result<(), MlsError> {
        self.provider.storage().saved(&changes.inner)
    }

    /// Tests: every entry of openmls's store, as openmls wrote it.
    #[cfg(test)]
    pub(crate) fn storage_values(&self) -> std::collections::HashMap<Vec<u8>, Vec<u8>> {
        self.provider.storage().store().snapshot()
    }

    /// Restores a group from its head record and all its stored entries. Every entry is
    /// checked against the head's root digest first: a damaged, missing or extra entry is
    /// refused and openmls reads nothing.
    pub fn from_entries(
        head: &[u8],
        entries: Vec<(Vec<u8>, Vec<u8>)>,
        trust: TrustStore,
    ) -> Result<Self, MlsError> {
        let mut r = Reader::new(open_sealed(head)?);
        let format = r.header(HEAD_TAG)?;
        let client = r.parse()?;
        let user = r.parse()?;
        let key = SigningKey::decode(&mut r)?;
        let group_id = GroupId::from_slice(r.bytes()?);
        let count = r.u64()?;
        let root = r.bytes()?.to_vec();
        r.end()?;
        let mut digests = BTreeMap::new();
        for (k, v) in &entries {
            if digests.insert(k.clone(), entry_digest(k, v)).is_some() {
                return Err(MlsError::Record(
                    "the stored MLS state holds an entry twice".into(),
                ));
            }
        }
        if digests.len() as u64 != count || root_digest(&digests).as_slice() != root {
            return Err(MlsError::Record(format!(
                "the stored MLS state does not match its head record ({} entries stored, {count} \
                 expected): an entry is damaged, missing or left over; restore the device \
                 from a backup or join the room again",
                digests.len()
            )));
        }
        let storage = TrackedStorage::from_stored(entries, digests, format == Format::JsonValues)?;
        let provider = GroupProvider::with_storage(storage);
        let group = MlsGroup::load(provider.storage(), &group_id)
            .map_err(MlsError::mls)?
            .ok_or_else(|| {
                MlsError::Record("the stored MLS entries hold no state for the group".into())
            })?;
        let room: RoomState = load_room(&group)?;
        let kind = room.kind_of(&client).clone();
        let this = Self {
            group,
            provider,
            key,
            me: MemberChange::with_kind(client, user, kind),
            trust,
            room,
            pending_room: None,
            idents: BTreeMap::new(),
        };
        Ok(this)
    }
}
