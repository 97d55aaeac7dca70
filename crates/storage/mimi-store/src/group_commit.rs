//! Group commit of hub room writes, on both backends (issue 15 item 2).
//!
//! Every accepted message is a [`DsStore::write_room`](mimi_ds::DsStore::write_room): its log
//! entry and fan-out, durable before the hub answers. One transaction each costs one commit
//! (one fsync: SQLite's `synchronous = FULL`, PostgreSQL's `synchronous_commit = on`) and, on
//! PostgreSQL, a few round trips each, so under load the hub's acknowledgements queue behind
//! each other's commits. Here the writes that arrive while a transaction is being written join
//! the next one: each write queues itself, the first writer to find no transaction running
//! becomes the leader and writes everything queued in one transaction, each write inside its
//! own savepoint, then hands every waiter its result. A write is still answered only after the
//! commit that made it durable.
//!
//! * **A write that fails fails alone.** A stale version, a log that does not continue the
//!   room's, or a statement error is rolled back to the write's savepoint and answered with its
//!   error; the others go on. So there is nothing to retry: the writes beside a failed one are
//!   committed with the group.
//! * **A failed commit fails every write of the group**, each with the commit's error, and
//!   none is acknowledged. They are not retried one by one: a commit fails for the database's
//!   reasons (the connection or the server went away, the disk is full), which a retry a moment
//!   later meets again, and after a lost connection the commit may even have happened, which
//!   only the caller can find out (a retried write at its old version then conflicts, as a lone
//!   write's retry would).
//! * **Writes are applied in room order** (writes to one room in their order of arrival): on
//!   PostgreSQL each write locks its room's row until the group commits, and two processes'
//!   groups that lock their rooms in one order cannot deadlock.
//!
//! The body (`write_group`, in `src/body/group.rs`) is expanded for each backend with the rest
//! of the store's body; what differs is where the group's transaction comes from
//! (`group_transaction`: SQLite's `BEGIN IMMEDIATE` on the pool; PostgreSQL's own connection,
//! so that writers holding every pooled connection in [`crate::LockedRoom`]s cannot starve
//! the leader of one).
//!
//! The transaction runs in a task of its own, so a caller that goes away (its HTTP client hung
//! up and the server dropped the request) cannot abandon the writes of the others half way.
//! An idle hub writes a lone message at once: there is no waiting to fill a group.

use std::future::Future;
use std::sync::{Arc, Mutex};

use mimi_ds::{LogEntry, NewOutbound, StoreError};
use mimi_types::RoomUri;
use tokio::sync::oneshot;

/// One queued `write_room`.
pub(crate) struct Write {
    pub(crate) room: RoomUri,
    pub(crate) expected_version: u64,
    pub(crate) state: Option<Vec<u8>>,
    pub(crate) log: Vec<LogEntry>,
    pub(crate) outbound: Vec<NewOutbound>,
    pub(crate) reply: oneshot::Sender<Result<u64, StoreError>>,
}

/// The queue and the leader's baton, shared by the clones of one store.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    queue: Mutex<Vec<Write>>,
    leader: tokio::sync::Mutex<()>,
    stats: Mutex<GroupStats>,
}

/// How writes were grouped since the store was opened.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GroupStats {
    /// Transactions committed (or rolled back) for room writes.
    pub transactions: u64,
    /// Room writes they carried.
    pub writes: u64,
}

impl std::fmt::Debug for Write {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Write")
            .field("room", &self.room)
            .field("expected_version", &self.expected_version)
            .finish_non_exhaustive()
    }
}

fn poisoned() -> StoreError {
    StoreError::Backend("the group commit queue is poisoned".into())
}

impl GroupCommit {
    /// Shared by the clones of a store.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// How writes were grouped so far.
    pub(crate) fn stats(&self) -> GroupStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }

    /// Counts one transaction that carried `writes` writes.
    pub(crate) fn record(&self, writes: usize) {
        if let Ok(mut stats) = self.stats.lock() {
            stats.transactions += 1;
            stats.writes += writes as u64;
        }
    }

    /// Queues a room write and returns once the transaction that carried it committed: the
    /// writer that finds no transaction running takes everything queued and writes it with
    /// `write_group` (in a task of its own), which answers every write it was given.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn write<F, Fut>(
        &self,
        room: &RoomUri,
        expected_version: u64,
        state: Option<Vec<u8>>,
        log: Vec<LogEntry>,
        outbound: Vec<NewOutbound>,
        write_group: F,
    ) -> Result<u64, StoreError>
    where
        F: FnOnce(Vec<Write>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (reply, mut answer) = oneshot::channel();
        self.queue.lock().map_err(|_| poisoned())?.push(Write {
            room: room.clone(),
            expected_version,
            state,
            log,
            outbound,
            reply,
        });
        let baton = self.leader.lock().await;
        // A leader before us may have written ours already.
        if let Ok(result) = answer.try_recv() {
            return result;
        }
        let batch = std::mem::take(&mut *self.queue.lock().map_err(|_| poisoned())?);
        let written = tokio::spawn(write_group(batch)).await;
        drop(baton);
        if let Err(e) = written {
            return Err(StoreError::Backend(format!(
                "the group commit task failed ({e}); this write was not acknowledged"
            )));
        }
        answer.await.unwrap_or_else(|_| {
            Err(StoreError::Backend(
                "the group commit ended without an answer for this write; nothing was acknowledged"
                    .into(),
            ))
        })
    }
}
