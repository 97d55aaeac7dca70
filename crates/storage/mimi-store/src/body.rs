//! The one body of every [`DsStore`](mimi_ds::DsStore) method, written once and expanded for
//! each backend by [`store_body!`].
//!
//! The backends run the same statements (`src/sql.rs`) in the same order; they differ in a
//! handful of places, which each backend supplies as items of its store type:
//!
//! * `fn fail(&self, sqlx::Error) -> StoreError`: the error message (a file, or a server);
//! * `async fn write(&self)`: how a write transaction starts (SQLite takes its write lock with
//!   `BEGIN IMMEDIATE`; PostgreSQL locks rows as statements touch them);
//! * `async fn group_transaction(&self)`: the transaction of a group commit of `write_room`s
//!   (`src/group_commit.rs`; SQLite's is a write transaction on the pool, PostgreSQL's is on a
//!   connection of its own);
//! * `group: Arc<GroupCommit>`: the queue of writes waiting for a group commit, shared by the
//!   store's clones;
//! * `async fn announce_outbound / announce_device / announce_room(&self, tx, ..)`: the
//!   wake-ups a write sends to other processes at commit (PostgreSQL's `pg_notify`; SQLite has
//!   no listeners, so they do nothing);
//! * the statements SQL spells differently: `SELECT_VERSION_FOR_APPEND` (PostgreSQL locks the
//!   room's row `FOR UPDATE`, SQLite has no row locks and holds its write lock already),
//!   `CLAIM_DROP_EXPIRED` and `CLAIM_TAKE_FRESH` (PostgreSQL skips rows other claimers hold).
//!
//! Why a declarative macro rather than code generic over `sqlx::Database`: the trait's futures
//! must be `Send`, and a generic body needs `for<'c> &'c mut DB::Connection: Executor<'c>`
//! bounds on every function plus `Encode`/`Decode`/`Type` bounds for every column type; such
//! higher-ranked bounds make sqlx's futures fail to prove `Send` ("not general enough", the
//! reason `sqlite.rs` calls `Migrator::run_direct`) and would bury each statement under a
//! screen of bounds. The macro expands the body below, as written, into a module inside each
//! backend (`Db` is the backend's `sqlx::Database`, `Store` its store type), where every type
//! is concrete: the compiler checks each backend's copy as ordinary code, and a reader reads
//! ordinary code.

/// Expands the shared body for `$store` (a type of the calling module) over the
/// `sqlx::$db` database, as a module `ds_store` inside the calling module.
macro_rules! store_body {
    ($store:ident, $db:ident) => {
        /// The shared body of the trait's methods (see `src/body.rs`).
        mod ds_store {
            use mimi_ds::discovery::{Profile, ProfileSearch};
            use mimi_ds::follower::{Claim, KeyPackageEntry};
            use mimi_ds::{
                ConsentRecord, ConsentWrite, DeadLetter, DeviceEvent, DsStore, FeedItem, LogEntry,
                NewOutbound, NewPeerRequest, OutboundItem, PeerRequest, ProfileSaved, RoomHead,
                RoomRecord, StoreError,
            };
            use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

            use super::$store as Store;
            use $crate::convert::{clamp, clamp_usize, counter, parse_stored};
            use $crate::profiles;
            use $crate::sql::{
                self, DeadLetterRow, EventRow, LogRow, OutboundRow, PeerRequestRow, RecordRow,
                Records,
            };

            $crate::body::writes::write_body!($store, $db);
            $crate::body::group::group_body!($store, $db);

            impl DsStore for Store {
                async fn load_room(
                    &self,
                    room: &RoomUri,
                ) -> Result<Option<RoomRecord>, StoreError> {
                    self.load(Records::HubRooms, room).await
                }

                async fn room_head(&self, room: &RoomUri) -> Result<Option<RoomHead>, StoreError> {
                    let row: Option<(i64, i64)> = sqlx::query_as(sql::SELECT_HEAD)
                        .bind(room.to_string())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    row.map(|(version, head)| sql::room_head(version, head, &self.shown))
                        .transpose()
                }

                async fn write_room(
                    &self,
                    room: &RoomUri,
                    expected_version: u64,
                    state: Option<Vec<u8>>,
                    log: Vec<LogEntry>,
                    outbound: Vec<NewOutbound>,
                ) -> Result<u64, StoreError> {
                    self.write_room_grouped(room, expected_version, state, log, outbound)
                        .await
                }

                async fn room_log(
                    &self,
                    room: &RoomUri,
                    after: u64,
                    limit: usize,
                ) -> Result<Vec<LogEntry>, StoreError> {
                    let rows: Vec<LogRow> = sqlx::query_as(sql::SELECT_LOG)
                        .bind(room.to_string())
                        .bind(clamp(after))
                        .bind(clamp_usize(limit))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    rows.into_iter()
                        .map(|row| sql::log_entry(row, &self.shown))
                        .collect()
                }

                async fn pending_outbound(
                    &self,
                    to: &Domain,
                    limit: usize,
                ) -> Result<Vec<OutboundItem>, StoreError> {
                    let rows: Vec<OutboundRow> = sqlx::query_as(sql::SELECT_PENDING)
                        .bind(to.to_string())
                        .bind(clamp_usize(limit))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    rows.into_iter()
                        .map(|row| sql::outbound_item(row, &self.shown))
                        .collect()
                }

                async fn ack_outbound(&self, id: u64) -> Result<(), StoreError> {
                    let Some(id) = counter(id) else {
                        return Ok(());
                    };
                    sqlx::query(sql::DELETE_OUTBOUND)
                        .bind(id)
                        .execute(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    Ok(())
                }

                async fn ack_outbound_all(&self, ids: &[u64]) -> Result<(), StoreError> {
                    let mut tx = self.write().await?;
                    let done = self.ack_all_tx(&mut tx, ids).await;
                    self.finish(tx, done).await
                }

                async fn set_aside_outbound(
                    &self,
                    id: u64,
                    reason: &str,
                    retry_at_ms: u64,
                ) -> Result<(), StoreError> {
                    let Some(id) = counter(id) else {
                        return Ok(());
                    };
                    sqlx::query(sql::SET_ASIDE_OUTBOUND)
                        .bind(id)
                        .bind(reason)
                        .bind(clamp(retry_at_ms))
                        .execute(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    Ok(())
                }

                async fn dead_letters(
                    &self,
                    to: &Domain,
                    due_by_ms: u64,
                    limit: usize,
                ) -> Result<Vec<DeadLetter>, StoreError> {
                    let rows: Vec<DeadLetterRow> = sqlx::query_as(sql::SELECT_DEAD_LETTERS)
                        .bind(to.to_string())
                        .bind(clamp(due_by_ms))
                        .bind(clamp_usize(limit))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    rows.into_iter()
                        .map(|row| sql::dead_letter(row, &self.shown))
                        .collect()
                }

                async fn load_inbox(
                    &self,
                    room: &RoomUri,
                ) -> Result<Option<RoomRecord>, StoreError> {
                    self.load(Records::FollowerInboxes, room).await
                }

                async fn write_inbox(
                    &self,
                    room: &RoomUri,
                    expected_version: u64,
                    state: Vec<u8>,
                    feed: Vec<FeedItem>,
                ) -> Result<u64, StoreError> {
                    let mut tx = self.write().await?;
                    let done = self
                        .write_inbox_tx(&mut tx, room, expected_version, state, feed)
                        .await;
                    self.finish(tx, done).await
                }

                async fn device_events(
                    &self,
                    device: &ClientUri,
                    cursor: u64,
                    limit: usize,
                ) -> Result<Vec<DeviceEvent>, StoreError> {
                    let rows: Vec<EventRow> = sqlx::query_as(sql::SELECT_EVENTS)
                        .bind(device.to_string())
                        .bind(clamp(cursor))
                        .bind(clamp_usize(limit))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    rows.into_iter()
                        .map(|row| sql::device_event(row, &self.shown))
                        .collect()
                }

                async fn add_key_packages(
                    &self,
                    device: &ClientUri,
                    entries: Vec<KeyPackageEntry>,
                ) -> Result<(), StoreError> {
                    let mut tx = self.write().await?;
                    let done = self.add_key_packages_tx(&mut tx, device, entries).await;
                    self.finish(tx, done).await
                }

                async fn claim_key_package(
                    &self,
                    device: &ClientUri,
                    now_ms: u64,
                ) -> Result<Claim, StoreError> {
                    let mut tx = self.write().await?;
                    let done = self.claim_tx(&mut tx, device, now_ms).await;
                    self.finish(tx, done).await
                }

                async fn claimed_by(
                    &self,
                    reference: &[u8],
                ) -> Result<Option<ClientUri>, StoreError> {
                    let row: Option<(String,)> = sqlx::query_as(sql::SELECT_CLAIMED_BY)
                        .bind(reference)
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    row.map(|(device,)| parse_stored(&device, "claiming device", &self.shown))
                        .transpose()
                }

                async fn fresh_key_packages(
                    &self,
                    device: &ClientUri,
                    now_ms: u64,
                ) -> Result<usize, StoreError> {
                    let (count,): (i64,) = sqlx::query_as(sql::COUNT_FRESH)
                        .bind(device.to_string())
                        .bind(clamp(now_ms))
                        .fetch_one(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    sql::key_package_count(count, &self.shown)
                }

                async fn save_profile(
                    &self,
                    profile: &Profile,
                ) -> Result<ProfileSaved, StoreError> {
                    let mut tx = self.write().await?;
                    match self.save_profile_tx(&mut tx, profile).await {
                        // A taken handle changes nothing.
                        Ok(ProfileSaved::Saved) => self.finish(tx, Ok(ProfileSaved::Saved)).await,
                        Ok(other) => {
                            self.rollback(tx).await?;
                            Ok(other)
                        }
                        Err(err) => self.finish(tx, Err(err)).await,
                    }
                }

                async fn profile(&self, user: &UserUri) -> Result<Option<Profile>, StoreError> {
                    let row: Option<profiles::ProfileRow> = sqlx::query_as(profiles::SELECT)
                        .bind(user.to_string())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    row.map(|row| profiles::profile(row, &self.shown))
                        .transpose()
                }

                async fn find_profiles(
                    &self,
                    search: &ProfileSearch,
                    limit: usize,
                ) -> Result<Vec<Profile>, StoreError> {
                    let (statement, value) = profiles::search(search);
                    let rows: Vec<profiles::ProfileRow> = sqlx::query_as(&statement)
                        .bind(value)
                        .bind(clamp_usize(limit))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    rows.into_iter()
                        .map(|row| profiles::profile(row, &self.shown))
                        .collect()
                }

                async fn load_consent(
                    &self,
                    user: &UserUri,
                ) -> Result<Option<ConsentRecord>, StoreError> {
                    let row: Option<RecordRow> = sqlx::query_as(sql::SELECT_CONSENT)
                        .bind(user.to_string())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    row.map(|row| sql::consent_record(row, &self.shown))
                        .transpose()
                }

                async fn save_consent(
                    &self,
                    writes: Vec<ConsentWrite>,
                    requests: Vec<NewPeerRequest>,
                ) -> Result<(), StoreError> {
                    let mut tx = self.write().await?;
                    let done = self.save_consent_tx(&mut tx, writes, requests).await;
                    self.finish(tx, done).await
                }

                async fn pending_peer_requests(
                    &self,
                    to: &Domain,
                    limit: usize,
                ) -> Result<Vec<PeerRequest>, StoreError> {
                    let rows: Vec<PeerRequestRow> = sqlx::query_as(sql::SELECT_PEER_REQUESTS)
                        .bind(to.to_string())
                        .bind(clamp_usize(limit))
                        .fetch_all(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    rows.into_iter()
                        .map(|row| sql::peer_request(row, &self.shown))
                        .collect()
                }

                async fn ack_peer_request(&self, id: u64) -> Result<(), StoreError> {
                    let Some(id) = counter(id) else {
                        return Ok(());
                    };
                    sqlx::query(sql::DELETE_PEER_REQUEST)
                        .bind(id)
                        .execute(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    Ok(())
                }

                async fn remove_key_packages(
                    &self,
                    device: &ClientUri,
                ) -> Result<usize, StoreError> {
                    let done = sqlx::query(sql::DELETE_KEY_PACKAGES)
                        .bind(device.to_string())
                        .execute(&self.pool)
                        .await
                        .map_err(|e| self.fail(e))?;
                    Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
                }
            }
        }
    };
}

pub(crate) mod group;
pub(crate) mod writes;

pub(crate) use store_body;
