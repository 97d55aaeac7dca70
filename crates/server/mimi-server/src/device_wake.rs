//! A device's wake-up: woken when something is stored for the device (by the follower, the
//! outbound worker, or another process of this provider), waited on by its event streams.
//!
//! It counts its wake-ups, so that a stream that asks for more right after a page that held
//! everything there was (the usual case: a long-polling client asks again at once) can wait
//! without reading the store again when nothing was woken since. This is sound because every
//! write for a device is durable before its wake-up: a read that starts after the count was
//! taken sees every write woken before it, and a write it missed wakes after it, changing the
//! count.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

/// One device's wake-up (see the module documentation).
#[derive(Debug, Default)]
pub(crate) struct DeviceWake {
    notify: Notify,
    wakes: AtomicU64,
    /// The cursor a read of the store found nothing after, and the wake count taken before
    /// that read started.
    drained: Mutex<Option<(u64, u64)>>,
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
        let mut drained = self.drained.lock().unwrap_or_else(|p| p.into_inner());
        *drained = Some((cursor, count));
    }

    /// Whether a read after `cursor` would find nothing now: a read found nothing after it
    /// and nothing was woken since that read started.
    pub(crate) fn is_drained(&self, cursor: u64) -> bool {
        let drained = *self.drained.lock().unwrap_or_else(|p| p.into_inner());
        drained == Some((cursor, self.count()))
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
        let wake = std::sync::Arc::new(DeviceWake::default());
        let notified = wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        wake.wake();
        tokio::time::timeout(std::time::Duration::from_secs(5), notified)
            .await
            .unwrap_or_else(|_| panic!("the wake-up was lost"));
    }
}
