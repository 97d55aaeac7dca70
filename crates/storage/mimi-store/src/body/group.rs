//! The shared body's group commit (see `src/group_commit.rs` for what it promises): one
//! transaction for every queued room write, each write in a savepoint of its own.

/// Expands, inside the module `store_body!` makes, a module `group` with `write_room`'s way to
/// the database for `$store` over `sqlx::$db`.
macro_rules! group_body {
    ($store:ident, $db:ident) => {
        /// The shared body's group commit (see `src/body/group.rs`).
        mod group {
            use mimi_ds::{LogEntry, NewOutbound, StoreError};
            use mimi_types::RoomUri;

            use super::Store;
            use $crate::group_commit::{GroupStats, Write};

            impl Store {
                /// How hub room writes were grouped into transactions since this store was
                /// opened or connected (shared by its clones; other processes' stores count
                /// their own).
                pub fn group_stats(&self) -> GroupStats {
                    self.group.stats()
                }

                /// Queues a room write and returns once the transaction that carried it
                /// committed.
                pub(crate) async fn write_room_grouped(
                    &self,
                    room: &RoomUri,
                    expected_version: u64,
                    state: Option<Vec<u8>>,
                    log: Vec<LogEntry>,
                    outbound: Vec<NewOutbound>,
                ) -> Result<u64, StoreError> {
                    let store = self.clone();
                    self.group
                        .write(
                            room,
                            expected_version,
                            state,
                            log,
                            outbound,
                            |batch| async move { store.write_group(batch).await },
                        )
                        .await
                }

                /// Writes `batch` in one transaction, in room order, each write in a
                /// savepoint, and answers every write once the transaction ended.
                async fn write_group(&self, mut batch: Vec<Write>) {
                    let n = batch.len();
                    // Stable: one room's writes keep their order of arrival.
                    batch.sort_by_cached_key(|write| write.room.to_string());
                    let mut owned = match self.group_transaction().await {
                        Ok(tx) => tx,
                        Err(e) => {
                            for write in batch {
                                let _ = write.reply.send(Err(e.clone()));
                            }
                            return;
                        }
                    };
                    // Statements go through `&mut **tx`, as everywhere in this store: a
                    // reborrow of the owned transaction makes the future's `Send` unprovable.
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
                        let result =
                            match sqlx::query("SAVEPOINT room_write").execute(&mut **tx).await {
                                Err(e) => Err(self.fail(e)),
                                Ok(_) => {
                                    let written = self
                                        .write_room_tx(
                                            tx,
                                            &room,
                                            expected_version,
                                            state,
                                            log,
                                            outbound,
                                        )
                                        .await;
                                    let undone = if written.is_ok() {
                                        Ok(())
                                    } else {
                                        sqlx::query("ROLLBACK TO SAVEPOINT room_write")
                                            .execute(&mut **tx)
                                            .await
                                            .map(|_| ())
                                    };
                                    let released = sqlx::query("RELEASE SAVEPOINT room_write")
                                        .execute(&mut **tx)
                                        .await;
                                    match (undone, released) {
                                        (Ok(()), Ok(_)) => written,
                                        (Err(e), _) | (_, Err(e)) => Err(self.fail(e)),
                                    }
                                }
                            };
                        results.push((reply, result));
                    }
                    let committed = owned.commit().await.map_err(|e| self.fail(e));
                    self.group.record(n);
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
        }
    };
}

pub(crate) use group_body;
