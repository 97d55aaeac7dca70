//! A provider's room directory (issue 18: open join "with a per-provider room directory"):
//! what the hub says of a room it hosts to users who search for rooms. The drafts define
//! `discoverable` (room-policy §5, the base policy: "whether the room may be found by
//! search") but no directory protocol; ours is a client-API listing of the rooms a provider
//! hosts whose base policy says `discoverable`, never of others.

use mimi_room::components::RoleIndex;
use mimi_types::RoomUri;

use super::HubRoom;

/// A discoverable room as the directory lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DirectoryEntry {
    /// The room.
    pub room: RoomUri,
    /// Its display name (the metadata's `room_name`).
    pub name: String,
    /// Its topic (the metadata's `room_subject`).
    pub topic: String,
    /// Listed participants with a role that may have clients (not banned, not the hub's
    /// service user).
    pub participants: u64,
    /// Whether anyone may join without an invite or link (role 0 holds `canOpenJoin` and
    /// membership is not fixed): `mimi room join ROOM` then works.
    pub open: bool,
}

impl HubRoom {
    /// The room's directory entry, if its base policy makes it discoverable and it has not
    /// ended ([`HubRoom::check_open`]).
    pub fn directory_entry(&self) -> Option<DirectoryEntry> {
        let state = self.group().room();
        let base = state.base_policy();
        if !base.discoverable || self.check_open().is_err() {
            return None;
        }
        let metadata = state.metadata().cloned().unwrap_or_default();
        let participants = state
            .participants()
            .participants
            .iter()
            .filter(|p| {
                p.role_index != RoleIndex::BANNED
                    && state
                        .roles()
                        .role(p.role_index)
                        .is_some_and(|r| !r.is_clientless())
            })
            .count();
        let open = !base.fixed_membership
            && state
                .roles()
                .role(RoleIndex::NO_ROLE)
                .is_some_and(|r| r.has(mimi_room::Capability::CAN_OPEN_JOIN));
        Some(DirectoryEntry {
            room: self.room().clone(),
            name: metadata.room_name,
            topic: metadata.room_subject,
            participants: u64::try_from(participants).unwrap_or(u64::MAX),
            open,
        })
    }
}
