//! The writes of the shared body (see `src/body.rs`): each multi-row call's statements inside
//! one transaction, and how that transaction ends.

/// Expands, inside the module `store_body!` makes, a module `writes` with the shared body's
/// transaction helpers for `$store` over `sqlx::$db`.
macro_rules! write_body {
    ($store:ident, $db:ident) => {
        /// The shared body's writes (see `src/body/writes.rs`).
        mod writes {
            use std::collections::BTreeSet;

            use mimi_ds::discovery::Profile;
            use mimi_ds::follower::{Claim, KeyPackageEntry};
            use mimi_ds::{
                ConsentWrite, FeedItem, LogEntry, NewOutbound, NewPeerRequest, ProfileSaved,
                RoomRecord, StoreError,
            };
            use mimi_types::{ClientUri, RoomUri};
            use sqlx::{Transaction, $db as Db};

            use super::Store;
            use $crate::convert::{bits_to_db, clamp, clamp_usize, counter, counter_from_db};
            use $crate::profiles;
            use $crate::sql::{self, KeyPackageRow, RecordRow, Records, VersionCheck};

            impl Store {
                pub(super) async fn load(
                    &self,
                    table: Records,
                    room: &RoomUri,
                ) -> Result<Option<RoomRecord>, StoreError> {
                    let row: Option<RecordRow> = sqlx::query_as(table.select())
                        .bind(room.to_string())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    row.map(|row| sql::record(row, &self.shown)).transpose()
                }

                /// Replaces a record in `tx` if it is at `expected_version`: the version check
                /// and the change are one statement. (On PostgreSQL the UPDATE locks the row:
                /// a concurrent save of the same room waits for our commit, then re-checks the
                /// version on the committed row and changes nothing; a concurrent create waits
                /// the same way on the key.)
                async fn replace(
                    &self,
                    tx: &mut Transaction<'static, Db>,
                    table: Records,
                    room: &RoomUri,
                    expected_version: u64,
                    state: Vec<u8>,
                ) -> Result<u64, StoreError> {
                    let changed = match VersionCheck::of(expected_version) {
                        VersionCheck::Create => {
                            sqlx::query(table.create())
                                .bind(room.to_string())
                                .bind(state)
                                .execute(&mut **tx)
                                .await
                        }
                        VersionCheck::Replace(expected) => {
                            sqlx::query(table.replace())
                                .bind(room.to_string())
                                .bind(state)
                                .bind(expected)
                                .execute(&mut **tx)
                                .await
                        }
                        VersionCheck::Never => return Err(sql::conflict(room, expected_version)),
                    }
                    .map_err(|e| self.fail(e))?;
                    sql::saved(room, expected_version, changed.rows_affected())
                }

                /// `write_room` in `tx`, without committing. The room's row is held from the
                /// first statement on (SQLite's write lock; PostgreSQL's row lock, taken by the
                /// state's UPDATE or by [`Store::SELECT_VERSION_FOR_APPEND`]), so no other
                /// writer appends to this room before `tx` ends.
                pub(crate) async fn write_room_tx(
                    &self,
                    tx: &mut Transaction<'static, Db>,
                    room: &RoomUri,
                    expected_version: u64,
                    state: Option<Vec<u8>>,
                    log: Vec<LogEntry>,
                    outbound: Vec<NewOutbound>,
                ) -> Result<u64, StoreError> {
                    let room_text = room.to_string();
                    let version = match state {
                        Some(state) => {
                            self.replace(tx, Records::HubRooms, room, expected_version, state)
                                .await?
                        }
                        None => {
                            let stored: Option<(i64,)> =
                                sqlx::query_as(Self::SELECT_VERSION_FOR_APPEND)
                                    .bind(&room_text)
                                    .fetch_optional(&mut **tx)
                                    .await
                                    .map_err(|e| self.fail(e))?;
                            sql::version_matches(room, expected_version, stored.map(|(v,)| v))?
                        }
                    };
                    if !log.is_empty() {
                        let (head,): (i64,) = sqlx::query_as(sql::SELECT_LOG_HEAD)
                            .bind(&room_text)
                            .fetch_one(&mut **tx)
                            .await
                            .map_err(|e| self.fail(e))?;
                        let head = counter_from_db(head, "log sequence number", &self.shown)?;
                        sql::check_log(room, expected_version, head, &log)?;
                    }
                    for entry in log {
                        sqlx::query(sql::INSERT_LOG)
                            .bind(&room_text)
                            .bind(clamp(entry.seq))
                            .bind(bits_to_db(entry.hub_ms))
                            .bind(entry.message)
                            .execute(&mut **tx)
                            .await
                            .map_err(|e| self.fail(e))?;
                    }
                    let mut destinations = BTreeSet::new();
                    for item in outbound {
                        let to = item.to.to_string();
                        sqlx::query(sql::INSERT_OUTBOUND)
                            .bind(&to)
                            .bind(item.room.to_string())
                            .bind(item.body)
                            .execute(&mut **tx)
                            .await
                            .map_err(|e| self.fail(e))?;
                        destinations.insert(to);
                    }
                    self.announce_outbound(tx, destinations).await?;
                    Ok(version)
                }

                /// `write_inbox` in `tx`, without committing.
                pub(super) async fn write_inbox_tx(
                    &self,
                    tx: &mut Transaction<'static, Db>,
                    room: &RoomUri,
                    expected_version: u64,
                    state: Vec<u8>,
                    feed: Vec<FeedItem>,
                ) -> Result<u64, StoreError> {
                    let version = self
                        .replace(tx, Records::FollowerInboxes, room, expected_version, state)
                        .await?;
                    if feed.iter().any(|i| matches!(i, FeedItem::Room(_))) {
                        self.announce_room(tx, room).await?;
                    }
                    let (last,): (i64,) = sqlx::query_as(sql::RESERVE_FEED)
                        .bind(clamp_usize(sql::feed_rows(&feed)))
                        .fetch_one(&mut **tx)
                        .await
                        .map_err(|e| self.fail(e))?;
                    let steps = sql::feed_steps(feed, last)?;
                    let room = room.to_string();
                    for step in steps {
                        match step {
                            sql::FeedStep::Insert(seq, device, payload) => {
                                if let Some(device) = &device {
                                    self.announce_device(tx, device).await?;
                                }
                                sqlx::query(sql::INSERT_FEED)
                                    .bind(seq)
                                    .bind(&room)
                                    .bind(device)
                                    .bind(payload)
                                    .execute(&mut **tx)
                                    .await
                                    .map_err(|e| self.fail(e))?;
                            }
                            sql::FeedStep::Open(device, from) => {
                                sqlx::query(sql::OPEN_INTERVAL)
                                    .bind(device)
                                    .bind(&room)
                                    .bind(from)
                                    .execute(&mut **tx)
                                    .await
                                    .map_err(|e| self.fail(e))?;
                            }
                            sql::FeedStep::Close(device, to) => {
                                for statement in [sql::DROP_EMPTY_INTERVAL, sql::CLOSE_INTERVAL] {
                                    sqlx::query(statement)
                                        .bind(&device)
                                        .bind(&room)
                                        .bind(to)
                                        .execute(&mut **tx)
                                        .await
                                        .map_err(|e| self.fail(e))?;
                                }
                            }
                        }
                    }
                    Ok(version)
                }

                /// `claim_key_package` in `tx`, without committing.
                pub(super) async fn claim_tx(
                    &self,
                    tx: &mut Transaction<'static, Db>,
                    device: &ClientUri,
                    now_ms: u64,
                ) -> Result<Claim, StoreError> {
                    let device_text = device.to_string();
                    let now = clamp(now_ms);
                    // Expired entries are dropped on the way, as KeyPackagePool::claim does.
                    sqlx::query(Self::CLAIM_DROP_EXPIRED)
                        .bind(&device_text)
                        .bind(now)
                        .execute(&mut **tx)
                        .await
                        .map_err(|e| self.fail(e))?;
                    // The oldest fresh one leaves the pool in the statement that finds it.
                    let fresh: Option<KeyPackageRow> = sqlx::query_as(Self::CLAIM_TAKE_FRESH)
                        .bind(&device_text)
                        .bind(now)
                        .fetch_optional(&mut **tx)
                        .await
                        .map_err(|e| self.fail(e))?;
                    let claim = match fresh {
                        Some(row) => Claim::Fresh(sql::entry(row)),
                        None => {
                            // Else the newest unexpired last-resort one, which stays.
                            let kept: Option<KeyPackageRow> =
                                sqlx::query_as(sql::SELECT_LAST_RESORT)
                                    .bind(&device_text)
                                    .bind(now)
                                    .fetch_optional(&mut **tx)
                                    .await
                                    .map_err(|e| self.fail(e))?;
                            kept.map_or(Claim::Exhausted, |row| Claim::LastResort(sql::entry(row)))
                        }
                    };
                    if let Claim::Fresh(entry) | Claim::LastResort(entry) = &claim {
                        sqlx::query(sql::RECORD_CLAIM)
                            .bind(entry.reference.as_slice())
                            .bind(&device_text)
                            .execute(&mut **tx)
                            .await
                            .map_err(|e| self.fail(e))?;
                    }
                    Ok(claim)
                }

                /// `save_profile` in `tx`, without committing.
                pub(super) async fn save_profile_tx(
                    &self,
                    tx: &mut Transaction<'static, Db>,
                    profile: &Profile,
                ) -> Result<ProfileSaved, StoreError> {
                    let user = profile.user.to_string();
                    let (nick, handle, display_name, folded, searchable) =
                        profiles::columns(profile);
                    if let Some(handle) = &handle {
                        let holder: Option<(String,)> = sqlx::query_as(profiles::HANDLE_HOLDER)
                            .bind(handle)
                            .bind(&user)
                            .fetch_optional(&mut **tx)
                            .await
                            .map_err(|e| self.fail(e))?;
                        if holder.is_some() {
                            return Ok(ProfileSaved::HandleTaken);
                        }
                    }
                    let written = sqlx::query(profiles::UPSERT)
                        .bind(&user)
                        .bind(nick)
                        .bind(handle)
                        .bind(display_name)
                        .bind(folded)
                        .bind(searchable)
                        .execute(&mut **tx)
                        .await;
                    match written {
                        Ok(_) => Ok(ProfileSaved::Saved),
                        Err(e) if profiles::is_taken(&e) => Ok(ProfileSaved::HandleTaken),
                        Err(e) => Err(self.fail(e)),
                    }
                }

                /// `save_consent` in `tx`, without committing.
                pub(super) async fn save_consent_tx(
                    &self,
                    tx: &mut Transaction<'static, Db>,
                    writes: Vec<ConsentWrite>,
                    requests: Vec<NewPeerRequest>,
                ) -> Result<(), StoreError> {
                    for write in writes {
                        let user = write.user.to_string();
                        let changed = match VersionCheck::of(write.expected_version) {
                            VersionCheck::Create => {
                                sqlx::query(sql::CREATE_CONSENT)
                                    .bind(&user)
                                    .bind(write.state)
                                    .execute(&mut **tx)
                                    .await
                            }
                            VersionCheck::Replace(expected) => {
                                sqlx::query(sql::REPLACE_CONSENT)
                                    .bind(&user)
                                    .bind(write.state)
                                    .bind(expected)
                                    .execute(&mut **tx)
                                    .await
                            }
                            VersionCheck::Never => {
                                return Err(sql::consent_conflict(
                                    &write.user,
                                    write.expected_version,
                                ));
                            }
                        }
                        .map_err(|e| self.fail(e))?;
                        if changed.rows_affected() != 1 {
                            return Err(sql::consent_conflict(&write.user, write.expected_version));
                        }
                    }
                    let mut destinations = BTreeSet::new();
                    for request in requests {
                        let to = request.to.to_string();
                        sqlx::query(sql::INSERT_PEER_REQUEST)
                            .bind(&to)
                            .bind(request.kind.as_str())
                            .bind(request.body)
                            .execute(&mut **tx)
                            .await
                            .map_err(|e| self.fail(e))?;
                        destinations.insert(to);
                    }
                    self.announce_outbound(tx, destinations).await
                }

                /// `ack_outbound_all` in `tx`, without committing.
                pub(super) async fn ack_all_tx(
                    &self,
                    tx: &mut Transaction<'static, Db>,
                    ids: &[u64],
                ) -> Result<(), StoreError> {
                    for id in ids.iter().filter_map(|id| counter(*id)) {
                        sqlx::query(sql::DELETE_OUTBOUND)
                            .bind(id)
                            .execute(&mut **tx)
                            .await
                            .map_err(|e| self.fail(e))?;
                    }
                    Ok(())
                }

                /// `add_key_packages` in `tx`, without committing.
                pub(super) async fn add_key_packages_tx(
                    &self,
                    tx: &mut Transaction<'static, Db>,
                    device: &ClientUri,
                    entries: Vec<KeyPackageEntry>,
                ) -> Result<(), StoreError> {
                    let device = device.to_string();
                    for entry in entries {
                        sqlx::query(sql::INSERT_KEY_PACKAGE)
                            .bind(&device)
                            .bind(entry.reference)
                            .bind(entry.key_package)
                            .bind(entry.last_resort)
                            .bind(bits_to_db(entry.not_after))
                            .bind(sql::expires_ms(entry.not_after))
                            .execute(&mut **tx)
                            .await
                            .map_err(|e| self.fail(e))?;
                    }
                    Ok(())
                }

                /// Commits `tx` if `done` is a success (a failed commit is the call's error),
                /// else rolls it back and returns `done`'s error: that is what the caller must
                /// act on, and nothing of `tx` is written either way. (A rollback that fails
                /// is queued again by sqlx when `tx` is dropped, as for any dropped
                /// transaction.)
                pub(crate) async fn finish<T>(
                    &self,
                    tx: Transaction<'static, Db>,
                    done: Result<T, StoreError>,
                ) -> Result<T, StoreError> {
                    match done {
                        Ok(value) => {
                            self.commit(tx).await?;
                            Ok(value)
                        }
                        Err(err) => {
                            let _ = self.rollback(tx).await;
                            Err(err)
                        }
                    }
                }

                pub(crate) async fn commit(
                    &self,
                    tx: Transaction<'static, Db>,
                ) -> Result<(), StoreError> {
                    tx.commit().await.map_err(|e| self.fail(e))
                }

                pub(crate) async fn rollback(
                    &self,
                    tx: Transaction<'static, Db>,
                ) -> Result<(), StoreError> {
                    tx.rollback().await.map_err(|e| self.fail(e))
                }
            }
        }
    };
}

pub(crate) use write_body;
