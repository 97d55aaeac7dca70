//! Hub rooms kept decoded between requests.
//!
//! Restoring a hub room from its record (the openmls public group with every member's
//! credential) costs far more than the request it serves: ≈2 ms at 50 members and ≈20 ms at
//! 500 (`cargo bench -p mimi-mls --bench hub -- record`), where checking and ordering an
//! application message takes microseconds. So a room saved by this process is kept here
//! with the stored state version its save produced, and the next request that holds the room
//! takes it back instead of decoding, if the stored state version is still that one. Another
//! process of the provider writing the room's state (PostgreSQL) moves the version on, and the
//! entry is then ignored: the record stays the truth, this is only a shortcut to what decoding
//! it would give. Appending to the room's log (an application message, by this process or
//! another) leaves the state version alone and the entry valid: the hub takes the room's next
//! sequence number from the log's head, read with the version, not from the entry.
//!
//! A room is taken out while a request works on it and put back only after a successful
//! save, or when the engine said it changed nothing: a failed save or an engine error leaves no
//! entry, and the next request decodes the record.
//!
//! Requests that only read the room (the key-material relay of every add, `groupInfo`, the
//! external-join info) peek at the kept copy without taking it out
//! ([`VersionCache::peek`], `Provider::peek_hub`): in a room of 5,000 members decoding costs
//! ≈ 0.3 s (`cargo bench --workspace --bench hub -- record_restore` with `MIMI_BENCH_N=5000`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use mimi_ds::hub::HubRoom;
use mimi_types::RoomUri;

/// How many rooms stay decoded at most; beyond it an arbitrary one is dropped (and decoded
/// again when next used).
const CAPACITY: usize = 1024;

/// Decoded hub rooms by the stored version they match.
pub(crate) type HubCache = VersionCache<HubRoom>;

/// One room's kept value and the stored version it is valid at, behind the room's own lock.
type Entry<T> = Arc<Mutex<Option<(u64, T)>>>;

/// Values by room, each valid only at the stored version it was kept with.
///
/// Two locks: the map's, held only to find, insert or remove a room's entry (never while a
/// value is worked on), and each entry's own, held while a [`VersionCache::peek`] runs on the
/// value or a [`VersionCache::take`] moves it out. So a long peek at one room (a `groupInfo`
/// of a large room) holds up only that room: a take of the same room waits for the peek to
/// end (it gets the value the peek saw, never one half read), every other room goes on.
pub(crate) struct VersionCache<T> {
    rooms: Mutex<HashMap<RoomUri, Entry<T>>>,
}

impl<T> Default for VersionCache<T> {
    fn default() -> Self {
        Self {
            rooms: Mutex::new(HashMap::new()),
        }
    }
}

/// `mutex` locked, a poisoned lock taken as it is.
pub(crate) fn locked<V>(mutex: &Mutex<V>) -> MutexGuard<'_, V> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl<T> VersionCache<T> {
    fn rooms(&self) -> MutexGuard<'_, HashMap<RoomUri, Entry<T>>> {
        locked(&self.rooms)
    }

    /// Takes the room out if it is kept at exactly `version` (the stored one); drops a stale
    /// entry. Waits while a peek at the same room runs.
    pub(crate) fn take(&self, room: &RoomUri, version: u64) -> Option<T> {
        let entry = self.rooms().remove(room)?;
        let kept = locked(&entry).take();
        match kept {
            Some((kept, value)) if kept == version => Some(value),
            _ => None,
        }
    }

    /// Runs `f` on the room kept at exactly `version`, leaving it kept; hands `f` back if
    /// there is none. `f` runs under the room's own lock, not the map's: other rooms are not
    /// held up, and a take of this room waits until `f` returns.
    pub(crate) fn peek<R, F: FnOnce(&T) -> R>(
        &self,
        room: &RoomUri,
        version: u64,
        f: F,
    ) -> Result<R, F> {
        let Some(entry) = self.rooms().get(room).cloned() else {
            return Err(f);
        };
        let slot = locked(&entry);
        match &*slot {
            Some((kept, value)) if *kept == version => Ok(f(value)),
            _ => Err(f),
        }
    }

    /// Keeps `value` as the room at stored version `version`.
    pub(crate) fn put(&self, room: &RoomUri, version: u64, value: T) {
        let entry = Arc::new(Mutex::new(Some((version, value))));
        let mut rooms = self.rooms();
        if rooms.len() >= CAPACITY && !rooms.contains_key(room) {
            let victim = rooms.keys().next().cloned();
            if let Some(victim) = victim {
                rooms.remove(&victim);
            }
        }
        rooms.insert(room.clone(), entry);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    fn room(i: usize) -> RoomUri {
        format!("mimi://hub.example/r/room{i}").parse().unwrap()
    }

    #[test]
    fn a_room_comes_back_only_at_the_version_it_was_kept_with() {
        let cache = VersionCache::default();
        cache.put(&room(1), 7, "seven");
        assert_eq!(cache.take(&room(1), 7), Some("seven"));
        // Taken out: a second take finds nothing until it is put back.
        assert_eq!(cache.take(&room(1), 7), None);
        cache.put(&room(1), 8, "eight");
        // Another process saved version 9: the entry is stale, dropped, and not handed out.
        assert_eq!(cache.take(&room(1), 9), None);
        assert_eq!(cache.take(&room(1), 8), None);
        assert_eq!(cache.take(&room(2), 1), None);
    }

    #[test]
    fn a_peek_reads_the_room_kept_at_its_version_and_leaves_it_kept() {
        let cache = VersionCache::default();
        cache.put(&room(1), 7, "seven");
        assert_eq!(cache.peek(&room(1), 7, |v| v.len()).ok(), Some(5));
        assert!(cache.peek(&room(1), 8, |v| v.len()).is_err());
        assert!(cache.peek(&room(2), 7, |v| v.len()).is_err());
        // Still kept, at its version.
        assert_eq!(cache.take(&room(1), 7), Some("seven"));
    }

    #[test]
    fn the_cache_stays_within_its_capacity() {
        let cache = VersionCache::default();
        for i in 0..CAPACITY + 10 {
            cache.put(&room(i), 1, i);
        }
        assert_eq!(cache.rooms().len(), CAPACITY);
        // The last one put is kept; re-putting a kept room evicts nothing.
        cache.put(&room(CAPACITY + 9), 2, 0);
        assert_eq!(cache.rooms().len(), CAPACITY);
        assert_eq!(cache.take(&room(CAPACITY + 9), 2), Some(0));
    }

    /// Room 1's peek is stopped inside its closure (waiting on a channel) while room 2 is put,
    /// taken, peeked at and put back: all of that completes before room 1's peek is let go.
    /// A take of room 1 meanwhile waits for the peek, then gets the value.
    #[test]
    fn a_busy_peek_holds_up_only_its_own_room() {
        let cache = VersionCache::default();
        cache.put(&room(1), 1, 10usize);
        cache.put(&room(2), 1, 20usize);
        let (inside_tx, inside_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let (other_done_tx, other_done_rx) = mpsc::channel();
        let (took_tx, took_rx) = mpsc::channel();
        std::thread::scope(|s| {
            let cache = &cache;
            let busy = s.spawn(move || {
                cache
                    .peek(&room(1), 1, |v| {
                        inside_tx.send(()).unwrap();
                        release_rx.recv().unwrap();
                        *v
                    })
                    .ok()
            });
            inside_rx.recv().unwrap();
            s.spawn(move || {
                let value = cache.take(&room(2), 1);
                cache.put(&room(2), 2, value.unwrap_or_default() + 1);
                let peeked = cache.peek(&room(2), 2, |v| *v).ok();
                cache.put(&room(3), 1, 30);
                other_done_tx.send(peeked).unwrap();
            });
            s.spawn(move || took_tx.send(cache.take(&room(1), 1)).unwrap());
            // Only a guard against hanging: with one lock for every room this never arrives.
            let other = other_done_rx.recv_timeout(Duration::from_secs(30));
            assert!(
                took_rx.try_recv().is_err(),
                "room 1 was taken while its peek ran"
            );
            release_tx.send(()).unwrap();
            assert_eq!(
                other,
                Ok(Some(21)),
                "room 2's work waited for room 1's peek"
            );
            assert_eq!(busy.join().unwrap(), Some(10));
            assert_eq!(took_rx.recv().unwrap(), Some(10));
        });
        assert_eq!(cache.take(&room(3), 1), Some(30));
    }
}
