//! A device's wake-up: woken when something is stored for the device (by the follower, the
//! outbound worker, or another process of this provider), waited on by its event streams.
//!
//! It counts its wake-ups, so that a stream that asks for more right after a page that held
//! everything there was (the usual case: a long-polling client asks again at once) can wait
//! without reading the store again when nothing was woken since. This is sound because every
//! write for a device is durable before its wake-up: a read that starts after the count was
//! taken sees every write woken before it, and a write it missed wakes after it, changing the
//! count.
//!
//! A device being removed has its wake-up marked as such (and woken) before its row is
//! deleted: its streams send nothing more and wait for the removal to end, then end if it was
//! done and go on if it failed (see [`DeviceWakes::removing`]).
//!
//! [`DeviceWakes`] keeps the wake-ups by device. Only a stream makes an entry; a writer wakes
//! an entry that exists and makes none (no entry: no stream to wake, and a stream that starts
//! later reads the store from its fresh, undrained wake-up). Entries no stream holds any more
//! are dropped in batches (see [`DeviceWakes::subscribe`]), so the map follows the devices
//! streaming now, not every device ever woken.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use mimi_types::ClientUri;

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

use crate::hub_cache::locked;

/// One device's wake-up (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct DeviceWake {
    notify: Notify,
    wakes: AtomicU64,
    /// The cursor a read of the store found nothing after, and the wake count taken before
    /// that read started.
    drained: Mutex<Option<(u64, u64)>>,
    /// Removals of the device that began and have not ended: while any runs, its streams send
    /// nothing and wait.
    removing: AtomicU32,
    /// A removal of the device was done: its streams end.
    removed: AtomicBool,
}

impl DeviceWake {
    /// Wakes the device's streams: call after what was stored for it is durable.
    pub(crate) fn wake(&self) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// A future that completes at the next wake-up (enable it before [`DeviceWake::count`]
    /// and the read of the store, so a wake-up between them is not missed).
    pub(crate) fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }

    /// The wake count now: take it before reading the store.
    pub(crate) fn count(&self) -> u64 {
        self.wakes.load(Ordering::SeqCst)
    }

    /// Records that a read of the store, started at wake count `count`, found nothing after
    /// `cursor` (it returned less than a full page, ending at `cursor`).
    pub(crate) fn drained(&self, cursor: u64, count: u64) {
        let mut drained = locked(&self.drained);
        *drained = Some((cursor, count));
    }

    /// Whether a read after `cursor` would find nothing now: a read found nothing after it
    /// and nothing was woken since that read started.
    pub(crate) fn is_drained(&self, cursor: u64) -> bool {
        let drained = *locked(&self.drained);
        drained == Some((cursor, self.count()))
    }

    /// Whether the device's removal began (or is done): a stream of it sends nothing now.
    pub(crate) fn is_removing(&self) -> bool {
        self.removed.load(Ordering::SeqCst) || self.removing.load(Ordering::SeqCst) > 0
    }

    /// Whether the device was removed, once a removal that began has ended: a stream asks
    /// before sending anything, and ends if so. While a removal runs this waits for it (a
    /// removal that fails leaves the device streaming).
    pub(crate) async fn removed(&self) -> bool {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.removed.load(Ordering::SeqCst) {
                return true;
            }
            if self.removing.load(Ordering::SeqCst) == 0 {
                return false;
            }
            notified.await;
        }
    }
}

/// Wake-up maps smaller than this are never swept.
const MIN_SWEEP: usize = 1024;

#[derive(Debug)]
struct Map {
    by_device: BTreeMap<ClientUri, Arc<DeviceWake>>,
    /// The size at which the next [`DeviceWakes::subscribe`] sweeps: twice what the last sweep
    /// kept, so sweeping costs O(1) per entry made, amortised.
    sweep_at: usize,
}

impl Default for Map {
    fn default() -> Self {
        Self {
            by_device: BTreeMap::new(),
            sweep_at: MIN_SWEEP,
        }
    }
}

/// The wake-ups of the devices with open streams (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct DeviceWakes {
    map: Mutex<Map>,
}

impl DeviceWakes {
    fn lock(&self) -> std::sync::MutexGuard<'_, Map> {
        locked(&self.map)
    }

    /// The wake-up of `device` for a stream, made if missing: hold it for the stream's life.
    /// Every clone of an entry is made here, under the lock, so an entry whose only holder is
    /// the map has no stream, and dropping it loses no wake-up: the next stream gets a fresh
    /// one, which is not drained and so reads the store.
    pub(crate) fn subscribe(&self, device: &ClientUri) -> Arc<DeviceWake> {
        let mut map = self.lock();
        if map.by_device.len() >= map.sweep_at {
            map.by_device.retain(|_, wake| Arc::strong_count(wake) > 1);
            map.sweep_at = map.by_device.len().saturating_mul(2).max(MIN_SWEEP);
        }
        map.by_device.entry(device.clone()).or_default().clone()
    }

    /// Wakes `device`'s streams, if it has any: call after what was stored for it is durable.
    pub(crate) fn wake(&self, device: &ClientUri) {
        if let Some(wake) = self.lock().by_device.get(device) {
            wake.wake();
        }
    }

    /// Wakes every device's streams.
    pub(crate) fn wake_all(&self) {
        let all: Vec<Arc<DeviceWake>> = self.lock().by_device.values().cloned().collect();
        for wake in all {
            wake.wake();
        }
    }

    /// Marks `device`'s removal begun, before its row is deleted: its open streams, and a
    /// stream that subscribes until [`DeviceWakes::removal_ended`], send nothing and wait for
    /// the removal to end. Hold what it returns until then (held, the entry is not swept),
    /// and call that whatever comes of the removal.
    pub(crate) fn removing(&self, device: &ClientUri) -> Arc<DeviceWake> {
        let wake = self.subscribe(device);
        wake.removing.fetch_add(1, Ordering::SeqCst);
        wake.wake();
        wake
    }

    /// The removal of `device` marked by [`DeviceWakes::removing`] ended (call once per
    /// call of that). Done: its streams end, and the marked entry is dropped so that a stream
    /// that subscribes from now on gets a fresh one (it must authenticate after subscribing:
    /// with the device's row gone, that fails). Not done (it failed), and no other removal of
    /// it running: its streams go on with the entry, which stays the device's.
    pub(crate) fn removal_ended(&self, device: &ClientUri, marked: &Arc<DeviceWake>, done: bool) {
        if done {
            marked.removed.store(true, Ordering::SeqCst);
        }
        marked.removing.fetch_sub(1, Ordering::SeqCst);
        marked.wake();
        if !done {
            return;
        }
        let mut map = self.lock();
        if map
            .by_device
            .get(device)
            .is_some_and(|wake| Arc::ptr_eq(wake, marked))
        {
            map.by_device.remove(device);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().by_device.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drained_cursor_stays_drained_until_a_wake_up() {
        let wake = DeviceWake::default();
        assert!(!wake.is_drained(0), "nothing was read yet");
        let count = wake.count();
        wake.drained(7, count);
        assert!(wake.is_drained(7));
        assert!(!wake.is_drained(6), "another cursor was not read");
        assert!(!wake.is_drained(8), "another cursor was not read");
        wake.wake();
        assert!(!wake.is_drained(7), "something was stored since the read");
    }

    #[test]
    fn a_read_that_started_before_a_wake_up_does_not_drain() {
        let wake = DeviceWake::default();
        let count = wake.count();
        // A write is stored and woken while the read runs: the read may have missed it.
        wake.wake();
        wake.drained(3, count);
        assert!(!wake.is_drained(3));
    }

    #[tokio::test]
    async fn an_enabled_waiter_sees_a_wake_up() {
        let wake = Arc::new(DeviceWake::default());
        let notified = wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        wake.wake();
        tokio::time::timeout(std::time::Duration::from_secs(5), notified)
            .await
            .unwrap_or_else(|_| panic!("the wake-up was lost"));
    }

    fn device(i: usize) -> ClientUri {
        format!("mimi://x.example/d/alice/d{i}")
            .parse()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_entry_no_stream_holds_is_swept_and_a_held_one_kept() {
        let wakes = DeviceWakes::default();
        let held = wakes.subscribe(&device(0));
        for i in 1..MIN_SWEEP {
            drop(wakes.subscribe(&device(i)));
        }
        assert_eq!(wakes.len(), MIN_SWEEP, "nothing swept below the threshold");
        let again = wakes.subscribe(&device(MIN_SWEEP));
        assert_eq!(wakes.len(), 2, "only the held entries are left");
        wakes.wake(&device(0));
        assert_eq!(held.count(), 1, "the held entry is the one woken");
        // The threshold follows what is kept: the map stays within twice the streams held.
        for i in 0..10 * MIN_SWEEP {
            drop(wakes.subscribe(&device(MIN_SWEEP + 1 + i)));
            assert!(wakes.len() <= MIN_SWEEP, "{}", wakes.len());
        }
        drop(again);
    }

    #[test]
    fn a_writer_makes_no_entry() {
        let wakes = DeviceWakes::default();
        wakes.wake(&device(1));
        wakes.wake_all();
        assert_eq!(wakes.len(), 0);
    }

    #[test]
    fn a_wake_between_count_and_read_is_seen_across_a_sweep() {
        let wakes = DeviceWakes::default();
        // A stream takes its count, then its read runs while a write is stored and woken, and
        // every other entry is swept meanwhile.
        let stream = wakes.subscribe(&device(0));
        let count = stream.count();
        for i in 1..=MIN_SWEEP {
            drop(wakes.subscribe(&device(i)));
        }
        wakes.wake(&device(0));
        stream.drained(5, count);
        assert!(
            !stream.is_drained(5),
            "the write woken during the read is read"
        );
        // Once no stream holds it, the entry may go; a later stream starts undrained.
        stream.drained(5, stream.count());
        drop(stream);
        for i in 0..2 * MIN_SWEEP {
            drop(wakes.subscribe(&device(MIN_SWEEP + 1 + i)));
        }
        let later = wakes.subscribe(&device(0));
        assert!(!later.is_drained(5), "a fresh wake-up reads the store");
    }

    /// What a spawned `removed()` returned, within 5 s (a lost wake-up fails the test).
    async fn settled(waiting: tokio::task::JoinHandle<bool>) -> bool {
        tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
            .await
            .unwrap_or_else(|_| panic!("the waiting stream was not woken"))
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Whether `wake.removed()` is still waiting after a moment.
    async fn waits(wake: &DeviceWake) -> bool {
        tokio::time::timeout(std::time::Duration::from_millis(50), wake.removed())
            .await
            .is_err()
    }

    #[tokio::test]
    async fn a_removal_holds_open_and_opening_streams_until_it_ends() {
        let wakes = DeviceWakes::default();
        let open = wakes.subscribe(&device(0));
        let other = wakes.subscribe(&device(1));
        assert!(!open.removed().await, "a device streams before any removal");
        let marked = wakes.removing(&device(0));
        assert!(open.is_removing());
        assert_eq!(open.count(), 1, "the open stream is woken");
        assert!(waits(&open).await, "the open stream waits for the removal");
        let opened = wakes.subscribe(&device(0));
        assert!(opened.is_removing(), "opened meanwhile");
        assert!(!other.is_removing(), "another device streams on");
        assert!(!other.removed().await);
        // The waiting stream learns the outcome when the removal ends.
        let waiting = {
            let open = open.clone();
            tokio::spawn(async move { open.removed().await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "it waits for the removal");
        wakes.removal_ended(&device(0), &marked, true);
        assert!(settled(waiting).await);
        assert!(opened.removed().await);
        assert!(
            !wakes.subscribe(&device(0)).is_removing(),
            "a fresh entry after"
        );
    }

    #[tokio::test]
    async fn a_removal_that_failed_leaves_the_streams_going_on_and_woken() {
        let wakes = DeviceWakes::default();
        let open = wakes.subscribe(&device(0));
        let marked = wakes.removing(&device(0));
        let waiting = {
            let open = open.clone();
            tokio::spawn(async move { open.removed().await })
        };
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert!(!waiting.is_finished(), "it waits for the removal");
        wakes.removal_ended(&device(0), &marked, false);
        assert!(
            !settled(waiting).await,
            "the device was not removed: its stream goes on"
        );
        assert!(!open.is_removing());
        // The entry stays the device's: a later write still wakes the open stream.
        let before = open.count();
        wakes.wake(&device(0));
        assert_eq!(open.count(), before + 1, "the open stream is still woken");
        assert!(Arc::ptr_eq(&open, &wakes.subscribe(&device(0))));
    }

    #[tokio::test]
    async fn a_failed_removal_does_not_release_streams_another_removal_holds() {
        let wakes = DeviceWakes::default();
        let open = wakes.subscribe(&device(0));
        let first = wakes.removing(&device(0));
        let second = wakes.removing(&device(0));
        wakes.removal_ended(&device(0), &first, false);
        assert!(open.is_removing(), "the second removal still runs");
        assert!(waits(&open).await, "the stream still waits");
        wakes.removal_ended(&device(0), &second, true);
        assert!(
            open.removed().await,
            "the second removal was done: the stream ends"
        );
    }
}
