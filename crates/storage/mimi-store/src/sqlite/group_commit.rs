//! Group commit of hub room writes on SQLite (issue 15 item 2).
//!
//! Every accepted message is a [`DsStore::write_room`](mimi_ds::DsStore::write_room): its log
//! entry and fan-out, durable before the hub answers. One transaction each costs one fsync
//! each (`synchronous = FULL`), and SQLite has one writer at a time, so under load the hub's
//! acknowledgements queue behind each other's fsyncs. Here the writes that arrive while a
//! transaction is being written join the next one: each write queues itself, the first writer
//! to find no transaction running becomes the leader and writes everything queued in one
//! `BEGIN IMMEDIATE … COMMIT`, each write inside its own savepoint (a write that conflicts is
//! rolled back alone and gets its error; the others go on), then hands every waiter its
//! result. A write is still answered only after the commit that made it durable.
//!
//! The transaction runs in a task of its own, so a caller that goes away (its HTTP client hung
//! up and the server dropped the request) cannot abandon the writes of the others half way.
//! An idle hub writes a lone message at once: there is no waiting to fill a group.

use std::sync::{Arc, Mutex};

use mimi_ds::{LogEntry, NewOutbound, StoreError};
use mimi_types::RoomUri;
use tokio::sync::oneshot;

use super::SqliteStore;

/// One queued `write_room`.
pub(super) struct Write {
    pub(super) room: RoomUri,
    pub(super) expected_version: u64,
    pub(super) state: Option<Vec<u8>>,
    pub(super) log: Vec<LogEntry>,
    pub(super) outbound: Vec<NewOutbound>,
    reply: oneshot::Sender<Result<u64, StoreError>>,
}

/// The queue and the leader's baton, shared by the clones of one store.
#[derive(Debug, Default)]
pub(super) struct GroupCommit {
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

impl GroupCommit {
    /// How writes were grouped so far.
    pub(super) fn stats(&self) -> GroupStats {
        self.stats.lock().map(|s| *s).unwrap_or_default()
    }
}

impl SqliteStore {
    /// Queues a room write and returns once the transaction that carried it committed.
    pub(super) async fn write_room_grouped(
        &self,
        room: &RoomUri,
        expected_version: u64,
        state: Option<Vec<u8>>,
        log: Vec<LogEntry>,
        outbound: Vec<NewOutbound>,
    ) -> Result<u64, StoreError> {
        let (reply, mut answer) = oneshot::channel();
        self.group
            .queue
            .lock()
            .map_err(|_| StoreError::Backend("the group commit queue is poisoned".into()))?
            .push(Write {
                room: room.clone(),
                expected_version,
                state,
                log,
                outbound,
                reply,
            });
        let baton = self.group.leader.lock().await;
        // A leader before us may have written ours already.
        if let Ok(result) = answer.try_recv() {
            return result;
        }
        let batch = match self.group.queue.lock() {
            Ok(mut queue) => std::mem::take(&mut *queue),
            Err(_) => {
                return Err(StoreError::Backend(
                    "the group commit queue is poisoned".into(),
                ));
            }
        };
        let store = self.clone();
        let written = tokio::spawn(async move { store.write_group(batch).await }).await;
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

    /// Writes `batch` in one transaction, each write in a savepoint, and answers every write.
    async fn write_group(&self, batch: Vec<Write>) {
        let n = batch.len() as u64;
        let mut owned = match self.write().await {
            Ok(tx) => tx,
            Err(e) => {
                for write in batch {
                    let _ = write.reply.send(Err(e.clone()));
                }
                return;
            }
        };
        // Statements go through `&mut **tx`, as everywhere in this store: a reborrow of the
        // owned transaction makes the future's `Send` unprovable.
        let tx = &mut owned;
        let mut results = Vec::with_capacity(batch.len());
        for write in batch {
            let Write {
                room,
                expected_version,
                state,
                log,
                outbound,
                reply,
            } = write;
            let result = match sqlx::query("SAVEPOINT room_write").execute(&mut **tx).await {
                Err(e) => Err(self.fail(e)),
                Ok(_) => {
                    let written = self
                        .write_room_tx(tx, &room, expected_version, state, log, outbound)
                        .await;
                    let undone = if written.is_ok() {
                        Ok(())
                    } else {
                        sqlx::query("ROLLBACK TO room_write")
                            .execute(&mut **tx)
                            .await
                            .map(|_| ())
                    };
                    let released = sqlx::query("RELEASE room_write").execute(&mut **tx).await;
                    match (undone, released) {
                        (Ok(()), Ok(_)) => written,
                        (Err(e), _) | (_, Err(e)) => Err(self.fail(e)),
                    }
                }
            };
            results.push((reply, result));
        }
        let committed = owned.commit().await.map_err(|e| self.fail(e));
        if let Ok(mut stats) = self.group.stats.lock() {
            stats.transactions += 1;
            stats.writes += n;
        }
        for (reply, result) in results {
            let answer = match (&committed, result) {
                (Ok(()), result) => result,
                // Nothing of this transaction is durable.
                (Err(e), _) => Err(e.clone()),
            };
            let _ = reply.send(answer);
        }
    }
}

/// Shared by the clones of a store.
pub(super) fn new_group() -> Arc<GroupCommit> {
    Arc::new(GroupCommit::default())
}
