//! The in-memory [`DsStore`], for engine tests and the simulator.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

use super::{
    ConsentRecord, ConsentWrite, DeadLetter, DeviceEvent, DsStore, FeedItem, LogEntry, NewOutbound,
    NewPeerRequest, OutboundItem, PeerRequest, ProfileSaved, RoomHead, RoomRecord, StoreError,
};
use crate::discovery::{Profile, ProfileSearch};
use crate::follower::{Claim, KeyPackageEntry, KeyPackagePool};

/// A membership interval: the first log number, and the last one once the device left.
type Interval = (u64, Option<u64>);

#[derive(Debug, Default)]
struct Inner {
    rooms: BTreeMap<RoomUri, RoomRecord>,
    logs: BTreeMap<RoomUri, Vec<LogEntry>>,
    inboxes: BTreeMap<RoomUri, RoomRecord>,
    outbound: BTreeMap<u64, OutboundItem>,
    /// Set-aside items by id: (refusals, reason, retry_at_ms).
    aside: BTreeMap<u64, (u64, String, u64)>,
    next_outbound: u64,
    /// The follower log: seq → (room, the one device it is for or none: the room's members,
    /// payload).
    feed: BTreeMap<u64, (RoomUri, Option<ClientUri>, Vec<u8>)>,
    /// The last number of the follower log.
    feed_head: u64,
    /// Membership intervals per (device, room): (from, to or none while a member).
    intervals: BTreeMap<(ClientUri, RoomUri), Vec<Interval>>,
    pools: BTreeMap<ClientUri, KeyPackagePool>,
    claims: BTreeMap<Vec<u8>, ClientUri>,
    profiles: BTreeMap<UserUri, Profile>,
    consent: BTreeMap<UserUri, ConsentRecord>,
    peer_requests: BTreeMap<u64, PeerRequest>,
    next_peer_request: u64,
}

/// Everything in one mutex: each call is atomic.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::Backend("memory store poisoned".into()))
    }
}

fn replace(
    records: &mut BTreeMap<RoomUri, RoomRecord>,
    room: &RoomUri,
    expected_version: u64,
    state: Vec<u8>,
) -> Result<u64, StoreError> {
    let current = records.get(room).map_or(0, |r| r.version);
    if current != expected_version {
        return Err(StoreError::Conflict {
            what: room.to_string(),
            expected: expected_version,
        });
    }
    let version = current + 1;
    records.insert(room.clone(), RoomRecord { version, state });
    Ok(version)
}

fn log_head(logs: &BTreeMap<RoomUri, Vec<LogEntry>>, room: &RoomUri) -> u64 {
    logs.get(room).and_then(|l| l.last()).map_or(0, |e| e.seq)
}

impl DsStore for MemoryStore {
    async fn load_room(&self, room: &RoomUri) -> Result<Option<RoomRecord>, StoreError> {
        Ok(self.lock()?.rooms.get(room).cloned())
    }

    async fn room_head(&self, room: &RoomUri) -> Result<Option<RoomHead>, StoreError> {
        let inner = self.lock()?;
        Ok(inner.rooms.get(room).map(|record| RoomHead {
            version: record.version,
            log_head: log_head(&inner.logs, room),
        }))
    }

    async fn write_room(
        &self,
        room: &RoomUri,
        expected_version: u64,
        state: Option<Vec<u8>>,
        log: Vec<LogEntry>,
        outbound: Vec<NewOutbound>,
    ) -> Result<u64, StoreError> {
        let mut inner = self.lock()?;
        let conflict = || StoreError::Conflict {
            what: room.to_string(),
            expected: expected_version,
        };
        let mut head = log_head(&inner.logs, room);
        for entry in &log {
            if entry.seq <= head {
                return Err(conflict());
            }
            head = entry.seq;
        }
        let version = match state {
            Some(state) => replace(&mut inner.rooms, room, expected_version, state)?,
            None => {
                let current = inner.rooms.get(room).map_or(0, |r| r.version);
                if current == 0 || current != expected_version {
                    return Err(conflict());
                }
                current
            }
        };
        if !log.is_empty() {
            inner.logs.entry(room.clone()).or_default().extend(log);
        }
        for item in outbound {
            inner.next_outbound += 1;
            let id = inner.next_outbound;
            inner.outbound.insert(
                id,
                OutboundItem {
                    id,
                    to: item.to,
                    room: item.room,
                    body: item.body,
                },
            );
        }
        Ok(version)
    }

    async fn room_log(
        &self,
        room: &RoomUri,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LogEntry>, StoreError> {
        Ok(self
            .lock()?
            .logs
            .get(room)
            .map(|log| {
                log.iter()
                    .filter(|e| e.seq > after)
                    .take(limit)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn pending_outbound(
        &self,
        to: &Domain,
        limit: usize,
    ) -> Result<Vec<OutboundItem>, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .outbound
            .values()
            .filter(|item| &item.to == to && !inner.aside.contains_key(&item.id))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn ack_outbound(&self, id: u64) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        inner.outbound.remove(&id);
        inner.aside.remove(&id);
        Ok(())
    }

    async fn set_aside_outbound(
        &self,
        id: u64,
        reason: &str,
        retry_at_ms: u64,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        if !inner.outbound.contains_key(&id) {
            return Ok(());
        }
        let refusals = inner.aside.get(&id).map_or(0, |a| a.0).saturating_add(1);
        inner
            .aside
            .insert(id, (refusals, reason.to_owned(), retry_at_ms));
        Ok(())
    }

    async fn dead_letters(
        &self,
        to: &Domain,
        due_by_ms: u64,
        limit: usize,
    ) -> Result<Vec<DeadLetter>, StoreError> {
        let inner = self.lock()?;
        Ok(inner
            .aside
            .iter()
            .filter(|(_, (_, _, at))| *at <= due_by_ms)
            .filter_map(|(id, (refusals, reason, at))| {
                let item = inner.outbound.get(id).filter(|i| &i.to == to)?;
                Some(DeadLetter {
                    item: item.clone(),
                    refusals: *refusals,
                    reason: reason.clone(),
                    retry_at_ms: *at,
                })
            })
            .take(limit)
            .collect())
    }

    async fn load_inbox(&self, room: &RoomUri) -> Result<Option<RoomRecord>, StoreError> {
        Ok(self.lock()?.inboxes.get(room).cloned())
    }

    async fn write_inbox(
        &self,
        room: &RoomUri,
        expected_version: u64,
        state: Vec<u8>,
        feed: Vec<FeedItem>,
    ) -> Result<u64, StoreError> {
        let mut guard = self.lock()?;
        let inner = &mut *guard;
        let version = replace(&mut inner.inboxes, room, expected_version, state)?;
        for item in feed {
            match item {
                FeedItem::Room(payload) => {
                    inner.feed_head += 1;
                    inner
                        .feed
                        .insert(inner.feed_head, (room.clone(), None, payload));
                }
                FeedItem::Device { device, payload } => {
                    inner.feed_head += 1;
                    inner
                        .feed
                        .insert(inner.feed_head, (room.clone(), Some(device), payload));
                }
                FeedItem::Join(device) => {
                    let intervals = inner.intervals.entry((device, room.clone())).or_default();
                    if !intervals.last().is_some_and(|(_, to)| to.is_none()) {
                        intervals.push((inner.feed_head + 1, None));
                    }
                }
                FeedItem::Leave(device) => {
                    if let Some(intervals) = inner.intervals.get_mut(&(device, room.clone()))
                        && let Some(last) = intervals.last_mut()
                        && last.1.is_none()
                    {
                        if last.0 > inner.feed_head {
                            // Left before any message: an empty interval is none.
                            intervals.pop();
                        } else {
                            last.1 = Some(inner.feed_head);
                        }
                    }
                }
            }
        }
        Ok(version)
    }

    async fn device_events(
        &self,
        device: &ClientUri,
        cursor: u64,
        limit: usize,
    ) -> Result<Vec<DeviceEvent>, StoreError> {
        let inner = self.lock()?;
        let covers = |room: &RoomUri, seq: u64| {
            inner
                .intervals
                .get(&(device.clone(), room.clone()))
                .is_some_and(|intervals| {
                    intervals
                        .iter()
                        .any(|(from, to)| *from <= seq && to.is_none_or(|to| seq <= to))
                })
        };
        Ok(inner
            .feed
            .range((Bound::Excluded(cursor), Bound::Unbounded))
            .filter(|(seq, (room, to, _))| match to {
                Some(to) => to == device,
                None => covers(room, **seq),
            })
            .take(limit)
            .map(|(seq, (room, _, payload))| DeviceEvent {
                seq: *seq,
                room: room.clone(),
                payload: payload.clone(),
            })
            .collect())
    }

    async fn add_key_packages(
        &self,
        device: &ClientUri,
        entries: Vec<KeyPackageEntry>,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        let pool = inner.pools.entry(device.clone()).or_default();
        for entry in entries {
            pool.add(entry);
        }
        Ok(())
    }

    async fn claim_key_package(
        &self,
        device: &ClientUri,
        now_ms: u64,
    ) -> Result<Claim, StoreError> {
        let mut inner = self.lock()?;
        let claim = inner
            .pools
            .get_mut(device)
            .map_or(Claim::Exhausted, |pool| pool.claim(now_ms));
        if let Claim::Fresh(entry) | Claim::LastResort(entry) = &claim {
            inner.claims.insert(entry.reference.clone(), device.clone());
        }
        Ok(claim)
    }

    async fn claimed_by(&self, reference: &[u8]) -> Result<Option<ClientUri>, StoreError> {
        Ok(self.lock()?.claims.get(reference).cloned())
    }

    async fn fresh_key_packages(
        &self,
        device: &ClientUri,
        now_ms: u64,
    ) -> Result<usize, StoreError> {
        Ok(self
            .lock()?
            .pools
            .get(device)
            .map_or(0, |pool| pool.fresh_count(now_ms)))
    }

    async fn save_profile(&self, profile: &Profile) -> Result<ProfileSaved, StoreError> {
        let mut inner = self.lock()?;
        let taken = profile.handle.as_ref().is_some_and(|handle| {
            inner
                .profiles
                .values()
                .any(|p| p.user != profile.user && p.handle.as_ref() == Some(handle))
        });
        if taken {
            return Ok(ProfileSaved::HandleTaken);
        }
        inner.profiles.insert(profile.user.clone(), profile.clone());
        Ok(ProfileSaved::Saved)
    }

    async fn profile(&self, user: &UserUri) -> Result<Option<Profile>, StoreError> {
        Ok(self.lock()?.profiles.get(user).cloned())
    }

    async fn find_profiles(
        &self,
        search: &ProfileSearch,
        limit: usize,
    ) -> Result<Vec<Profile>, StoreError> {
        Ok(self
            .lock()?
            .profiles
            .values()
            .filter(|p| search.matches(p))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn load_consent(&self, user: &UserUri) -> Result<Option<ConsentRecord>, StoreError> {
        Ok(self.lock()?.consent.get(user).cloned())
    }

    async fn save_consent(
        &self,
        writes: Vec<ConsentWrite>,
        requests: Vec<NewPeerRequest>,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock()?;
        for write in &writes {
            let current = inner.consent.get(&write.user).map_or(0, |r| r.version);
            if current != write.expected_version {
                return Err(StoreError::Conflict {
                    what: write.user.to_string(),
                    expected: write.expected_version,
                });
            }
        }
        for write in writes {
            inner.consent.insert(
                write.user,
                ConsentRecord {
                    version: write.expected_version + 1,
                    state: write.state,
                },
            );
        }
        for request in requests {
            inner.next_peer_request += 1;
            let id = inner.next_peer_request;
            inner.peer_requests.insert(
                id,
                PeerRequest {
                    id,
                    to: request.to,
                    kind: request.kind,
                    body: request.body,
                },
            );
        }
        Ok(())
    }

    async fn pending_peer_requests(
        &self,
        to: &Domain,
        limit: usize,
    ) -> Result<Vec<PeerRequest>, StoreError> {
        Ok(self
            .lock()?
            .peer_requests
            .values()
            .filter(|r| &r.to == to)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn ack_peer_request(&self, id: u64) -> Result<(), StoreError> {
        self.lock()?.peer_requests.remove(&id);
        Ok(())
    }

    async fn remove_key_packages(&self, device: &ClientUri) -> Result<usize, StoreError> {
        Ok(self
            .lock()?
            .pools
            .remove(device)
            .map_or(0, |pool| pool.entries().len()))
    }
}
