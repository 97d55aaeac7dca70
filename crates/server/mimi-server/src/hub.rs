//! The hub side: rooms we host. Each request that may change a room holds it (the in-process
//! lock, and with PostgreSQL the room's row lock in the database, so that several processes of
//! one provider decide for a room one at a time), loads it, runs the engine, and saves the new
//! state with its fan-out in one transaction before answering.

use mimi_client_api::ErrorCode;
use mimi_ds::follower::VerifiedKeyMaterialRequest;
use mimi_ds::hub::{Eviction, HubRoom};
use mimi_ds::{DsStore as _, LogEntry, NewOutbound};
use mimi_ds::{Effect, RequestError};
use mimi_federation_api::group_info::GroupInfoRequest;
use mimi_federation_api::key_material::{ClientMaterial, KeyMaterialResponse};
use mimi_federation_api::notify::NotifyRequest;
use mimi_federation_api::submit_message::SubmitMessageRequest;
use mimi_federation_api::update::UpdateRequest;
use mimi_federation_api::{Encode, decode_exact};
use mimi_mls::HubGroup;
use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

use crate::error::{ServerError, bad_request};
use crate::provider::Provider;
use crate::store::{HeldRoom, Store};

fn internal(what: &str, e: impl std::fmt::Display) -> ServerError {
    ServerError::Refused(RequestError::Internal(format!("{what}: {e}")))
}

/// What a change of a held room writes (see [`Provider::save_hub`]).
struct HubChange {
    /// Whether the room's state record is written.
    state: bool,
    /// Entries appended to the room's log.
    log: Vec<LogEntry>,
    /// The engine's effects (the notifies become the fan-out).
    effects: Vec<Effect>,
}

impl HubChange {
    /// A change of the state alone (a created room, new Welcome routes).
    fn state() -> Self {
        Self {
            state: true,
            log: Vec::new(),
            effects: Vec::new(),
        }
    }
}

/// What an external join needs.
pub(crate) struct JoinInfo {
    pub(crate) group_info: Vec<u8>,
    pub(crate) ratchet_tree: Vec<u8>,
    pub(crate) pending: Vec<Vec<u8>>,
}

impl Provider {
    fn store(&self) -> &Store {
        &self.store
    }

    /// The room and its stored version; `UnknownRoom` if we do not host it. For reading only:
    /// what may change the room goes through [`Provider::hold_hub`].
    pub(crate) async fn load_hub(&self, room: &RoomUri) -> Result<(HubRoom, u64), ServerError> {
        let unknown = || RequestError::UnknownRoom(room.to_string());
        let record = self.store().load_room(room).await?.ok_or_else(unknown)?;
        let mut hub = HubRoom::from_record(room.clone(), &record.state, self.mls_trust.clone())
            .map_err(|e| internal("stored room", e))?;
        let head = self.store().room_head(room).await?.ok_or_else(unknown)?;
        hub.resume_after(head.log_head);
        Ok((hub, record.version))
    }

    /// Runs `f` on the room as stored now, for reading only: on the copy this process keeps
    /// decoded at the stored state version when there is one (left there: `f` runs under that
    /// room's lock in the cache, which holds up a change of this room, not other rooms), else
    /// on one decoded from the record. Decoding a room
    /// costs about as much as its record is large (≈ 2.6 MB at 1,000 members); the key-material
    /// relay of every add and every external join read the room this way, so they no longer
    /// decode it per request. The copy's sequence number may trail the log's: `f` must not
    /// need it. `UnknownRoom` if we do not host it.
    pub(crate) async fn peek_hub<R>(
        &self,
        room: &RoomUri,
        f: impl FnOnce(&HubRoom) -> R,
    ) -> Result<R, ServerError> {
        let unknown = || RequestError::UnknownRoom(room.to_string());
        let head = self.store().room_head(room).await?.ok_or_else(unknown)?;
        match self.hub.cache.peek(room, head.version, f) {
            Ok(result) => Ok(result),
            Err(f) => {
                let (hub, _) = self.load_hub(room).await?;
                Ok(f(&hub))
            }
        }
    }

    /// Holds the room for a change (see the module documentation) and loads it: the room, its
    /// stored state version and the hold, which [`Provider::save_hub`] or [`Store::release`]
    /// ends. The room comes from the cache if it was kept at the stored state version (an
    /// application message appends to the log without moving that version), else from its
    /// record; either way its sequence number continues after the log's last entry, which this
    /// or another process wrote. `UnknownRoom` if we do not host it.
    async fn hold_hub(&self, room: &RoomUri) -> Result<(HubRoom, u64, HeldRoom), ServerError> {
        let (mut held, head) = self.store().hold_room(room).await?;
        let Some(head) = head else {
            Store::release(held).await?;
            return Err(RequestError::UnknownRoom(room.to_string()).into());
        };
        let (mut hub, known) = match self.hub.cache.take(room, head.version) {
            Some(hub) => {
                let known = hub.next_seq().saturating_sub(1);
                (hub, known)
            }
            None => match self.decode_held(&mut held, room, head.version).await {
                Ok(hub) => (hub, 0),
                Err(e) => {
                    Store::release(held).await?;
                    return Err(e);
                }
            },
        };
        if let Err(e) = self.recall_log(room, &mut hub, known, head.log_head).await {
            Store::release(held).await?;
            return Err(e);
        }
        hub.resume_after(head.log_head);
        Ok((hub, head.version, held))
    }

    /// Feeds the room's replay window the log entries after `known` (what this copy of the room
    /// has seen: 0 when just decoded), at most the window's size: a resent message that this
    /// or another process accepted is then answered without a second fan-out.
    async fn recall_log(
        &self,
        room: &RoomUri,
        hub: &mut HubRoom,
        known: u64,
        log_head: u64,
    ) -> Result<(), ServerError> {
        if log_head <= known {
            return Ok(());
        }
        let window = HubRoom::REPLAY_WINDOW;
        let after = known.max(log_head.saturating_sub(window as u64));
        let entries = self.store().room_log(room, after, window).await?;
        hub.recall_accepted(&entries);
        Ok(())
    }

    /// Reads and decodes the state record of a held room at `version`.
    async fn decode_held(
        &self,
        held: &mut HeldRoom,
        room: &RoomUri,
        version: u64,
    ) -> Result<HubRoom, ServerError> {
        let record = self
            .store()
            .load_held(held, room)
            .await?
            .filter(|record| record.version == version)
            .ok_or_else(|| {
                internal(
                    "stored room",
                    "its state changed while held; is another process using this SQLite file?",
                )
            })?;
        HubRoom::from_record(room.clone(), &record.state, self.mls_trust.clone())
            .map_err(|e| internal("stored room", e))
    }

    /// Releases a held room the engine left unchanged, keeping it decoded.
    async fn release_hub(
        &self,
        held: HeldRoom,
        room: &RoomUri,
        version: u64,
        hub: HubRoom,
    ) -> Result<(), ServerError> {
        Store::release(held).await?;
        self.hub.cache.put(room, version, hub);
        Ok(())
    }

    /// Writes the held room with its fan-out atomically, then wakes the outbound workers: its
    /// state record only if `change.state` (a commit, proposals, new routes), its log entries
    /// and the fan-out always. An application message thus writes its log entry and one notify
    /// per follower provider, whatever the number of members.
    async fn save_hub(
        &self,
        held: HeldRoom,
        room: &RoomUri,
        version: u64,
        hub: HubRoom,
        change: HubChange,
    ) -> Result<(), ServerError> {
        let state = if change.state {
            Some(hub.to_record().map_err(|e| internal("room record", e))?)
        } else {
            None
        };
        let directory = change.state.then(|| hub.directory_entry());
        let mut outbound = Vec::new();
        for effect in change.effects {
            match effect {
                Effect::Notify {
                    to,
                    room,
                    message,
                    withheld,
                } => {
                    let body = NotifyRequest::new(vec![message])
                        .encode()
                        .map_err(|e| internal("notify body", e))?;
                    let body = mimi_ds::queue_notify(body, &withheld);
                    outbound.push(NewOutbound { to, room, body });
                }
            }
        }
        for item in &outbound {
            // Before the save, so the worker woken after it finds the time (a failed save
            // leaves an entry that is never acknowledged; the map is bounded).
            self.metrics.fanout_saved(&item.to, &item.body);
        }
        let destinations: std::collections::BTreeSet<Domain> =
            outbound.iter().map(|o| o.to.clone()).collect();
        let saved = self
            .store()
            .write_held(held, room, version, state, change.log, outbound)
            .await?;
        self.hub.cache.put(room, saved, hub);
        for to in &destinations {
            self.wake_outbound(to);
        }
        if let Some(entry) = directory
            && let Err(e) = self
                .accounts
                .set_directory_entry(room, entry.as_ref())
                .await
        {
            // The room is saved; its directory entry follows at its next commit.
            tracing::warn!(%room, error = %e, "room directory entry not updated");
        }
        Ok(())
    }

    /// Creates a room we host from its creator's GroupInfo and tree.
    pub(crate) async fn create_room(
        &self,
        room: &RoomUri,
        group_info: &[u8],
        ratchet_tree: &[u8],
    ) -> Result<u64, ServerError> {
        if room.hub_domain() != &self.domain {
            return Err(ServerError::api(
                ErrorCode::BadRequest,
                format!(
                    "{room} is not hosted here; create rooms under mimi://{}/r/...",
                    self.domain
                ),
            ));
        }
        let exists = || {
            ServerError::api(
                ErrorCode::AlreadyExists,
                format!("{room} exists already; choose another room id"),
            )
        };
        let _lock = self.hub.locks.lock(room).await;
        let (held, head) = self.store().hold_room(room).await?;
        if head.is_some() {
            Store::release(held).await?;
            return Err(exists());
        }
        let now_s = Provider::now_ms() / 1000;
        let group = HubGroup::new(group_info, ratchet_tree, self.mls_trust.clone(), now_s)
            .map_err(|e| {
                ServerError::api(
                    ErrorCode::BadRequest,
                    format!("the GroupInfo and tree do not make a valid MIMI room: {e}"),
                )
            })?;
        // One fixed-membership room per set of users: such a room carries the id they give.
        group.room().check_fixed_room_id(room).map_err(|e| {
            ServerError::api(
                ErrorCode::BadRequest,
                format!("{room} cannot be created: {e}"),
            )
        })?;
        let epoch = group.epoch();
        let hub = HubRoom::new(room.clone(), group);
        match self.save_hub(held, room, 0, hub, HubChange::state()).await {
            // Another process of this provider created it meanwhile.
            Err(ServerError::Store(mimi_ds::StoreError::Conflict { .. })) => Err(exists()),
            Err(e) => Err(e),
            Ok(()) => Ok(epoch),
        }
    }

    /// `update` at the hub: returns the encoded `UpdateRoomResponse`. `acting` is the local
    /// device that submitted it through the client API: each handshake must then be its own.
    pub(crate) async fn hub_update(
        &self,
        peer: &Domain,
        room: &RoomUri,
        body: &[u8],
        acting: Option<&ClientUri>,
    ) -> Result<Vec<u8>, ServerError> {
        let _lock = self.hub.locks.lock(room).await;
        let (mut hub, version, held) = self.hold_hub(room).await?;
        if let Err(e) = hub.admit_newcomer_peer(peer, Provider::now_ms()) {
            self.release_hub(held, room, version, hub).await?;
            return Err(e.into());
        }
        // A device acting through the client API may submit only its own handshakes: the
        // engine checks that on its one MLS validation of the request.
        let checked = decode_exact(body).map_err(|e| bad_request("UpdateRequest", e));
        let request: UpdateRequest = match checked {
            Ok(request) => request,
            Err(e) => {
                Store::release(held).await?;
                return Err(e);
            }
        };
        let output = match hub.handle_update_as(
            Provider::now_ms(),
            peer,
            request,
            acting,
            Some(&self.server),
        ) {
            Ok(output) => output,
            Err(e) => {
                Store::release(held).await?;
                return Err(e.into());
            }
        };
        let resynced = output.resynced.clone();
        if output.changed {
            let change = HubChange {
                state: output.state_changed,
                log: output.log,
                effects: output.effects,
            };
            self.save_hub(held, room, version, hub, change).await?;
        } else {
            self.release_hub(held, room, version, hub).await?;
        }
        if let Some(client) = resynced {
            self.metrics.hub_resync();
            tracing::warn!(
                %room,
                %client,
                "a member device rejoined the room (resync): it could not follow the room's \
                 commits (a lost commit, or one it refused that this hub accepted)"
            );
        }
        output
            .response
            .encode()
            .map_err(|e| internal("UpdateRoomResponse", e))
    }

    /// The hub as policy enforcer: proposes removing `clients` from a room we host (e.g. a
    /// revoked device of one of our users), fanned out like a member's proposal; the room's
    /// next commit must include it.
    pub(crate) async fn hub_evict(
        &self,
        room: &RoomUri,
        clients: &[ClientUri],
    ) -> Result<Eviction, ServerError> {
        let _lock = self.hub.locks.lock(room).await;
        let (mut hub, version, held) = self.hold_hub(room).await?;
        let output = match hub.evict(Provider::now_ms(), &self.server, clients) {
            Ok(output) => output,
            Err(e) => {
                Store::release(held).await?;
                return Err(e.into());
            }
        };
        if output.changed {
            let change = HubChange {
                state: output.state_changed,
                log: output.log,
                effects: output.effects,
            };
            self.save_hub(held, room, version, hub, change).await?;
        } else {
            self.release_hub(held, room, version, hub).await?;
        }
        Ok(output.response)
    }

    /// Has the hub retract messages in `room` (hub-retracted-messages-00): the signed proposal
    /// is logged and queued for every member provider in one save.
    pub(crate) async fn hub_retract(
        &self,
        room: &RoomUri,
        retraction: &mimi_room::components::HubRetraction,
    ) -> Result<(), ServerError> {
        let _lock = self.hub.locks.lock(room).await;
        let (mut hub, version, held) = self.hold_hub(room).await?;
        let output = match hub.retract(Provider::now_ms(), &self.server, retraction) {
            Ok(output) => output,
            Err(e) => {
                Store::release(held).await?;
                return Err(e.into());
            }
        };
        let change = HubChange {
            state: output.state_changed,
            log: output.log,
            effects: output.effects,
        };
        self.save_hub(held, room, version, hub, change).await?;
        Ok(())
    }

    /// `submitMessage` at the hub: returns the encoded `SubmitMessageResponse`.
    pub(crate) async fn hub_submit(
        &self,
        peer: &Domain,
        room: &RoomUri,
        body: &[u8],
    ) -> Result<Vec<u8>, ServerError> {
        let _lock = self.hub.locks.lock(room).await;
        let (mut hub, version, held) = self.hold_hub(room).await?;
        if let Err(e) = hub.admit_peer(peer) {
            self.release_hub(held, room, version, hub).await?;
            return Err(e.into());
        }
        let request: SubmitMessageRequest = match decode_exact(body) {
            Ok(request) => request,
            Err(e) => {
                Store::release(held).await?;
                return Err(bad_request("SubmitMessageRequest", e));
            }
        };
        let output =
            match hub.handle_submit(Provider::now_ms(), peer, request, Some(&self.hub.franker)) {
                Ok(output) => output,
                Err(e) => {
                    Store::release(held).await?;
                    return Err(e.into());
                }
            };
        if let Err(e) = self.check_fanout_size(&output.effects) {
            // The engine advanced the room in place: drop it (the next request reloads).
            drop(hub);
            Store::release(held).await?;
            return Err(e);
        }
        if output.changed {
            let change = HubChange {
                state: output.state_changed,
                log: output.log,
                effects: output.effects,
            };
            self.save_hub(held, room, version, hub, change).await?;
            self.metrics.hub_accepted();
        } else {
            self.release_hub(held, room, version, hub).await?;
        }
        output
            .response
            .encode()
            .map_err(|e| internal("SubmitMessageResponse", e))
    }

    /// Refuses a message whose fan-out a member provider would refuse as too large (413), so
    /// that the sender hears it now rather than the message being accepted and never reaching
    /// that provider's users. Fan-out to ourselves has no HTTP limit.
    fn check_fanout_size(&self, effects: &[Effect]) -> Result<(), ServerError> {
        for effect in effects {
            let Effect::Notify {
                to, room, message, ..
            } = effect;
            if to == &self.domain {
                continue;
            }
            let size = NotifyRequest::new(vec![message.clone()])
                .encode()
                .map_err(|e| internal("notify body", e))?
                .len();
            let limit = self.body_limit_of(to);
            if size > limit {
                tracing::info!(%room, peer = %to, size, limit, "message refused: larger than a member provider accepts");
                return Err(ServerError::api(
                    ErrorCode::TooLarge,
                    format!(
                        "the message would reach {to} as {size} bytes, more than the {limit} it \
                         accepts; send a smaller message (large content as an attachment)"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `groupInfo` at the hub: returns the encoded `GroupInfoResponse` (signed by our server
    /// identity, encrypted to the joiner).
    pub(crate) async fn hub_group_info(
        &self,
        peer: &Domain,
        room: &RoomUri,
        body: &[u8],
    ) -> Result<Vec<u8>, ServerError> {
        // A room we do not host and one the peer may not learn of answer alike: notAuthorized.
        let refusal = || {
            HubRoom::group_info_refusal(room)?
                .encode()
                .map_err(|e| internal("GroupInfoResponse", e))
        };
        let lock = self.hub.locks.lock(room).await;
        let peeked = self
            .peek_hub(room, |hub| {
                hub.admit_newcomer_peer(peer, Provider::now_ms()).ok()?;
                Some(
                    decode_exact::<GroupInfoRequest>(body)
                        .map_err(|e| bad_request("GroupInfoRequest", e))
                        .and_then(|request| {
                            hub.handle_group_info(
                                Provider::now_ms(),
                                peer,
                                &request,
                                &self.mls_trust,
                                &self.server,
                            )
                            .map_err(ServerError::from)
                        }),
                )
            })
            .await;
        drop(lock);
        let answer = match peeked {
            Err(ServerError::Refused(RequestError::UnknownRoom(_))) => return refusal(),
            other => other?,
        };
        let Some(answer) = answer else {
            return refusal();
        };
        answer?
            .encode()
            .map_err(|e| internal("GroupInfoResponse", e))
    }

    /// Key material for a room we host: answered by the target's provider (us or a peer), and
    /// the KeyPackageRefs handed out remembered as Welcome routes. The request was
    /// authenticated once, by whoever took it in (the federation or client API route).
    pub(crate) async fn key_material_via_hub(
        &self,
        peer: &Domain,
        room: &RoomUri,
        request_bytes: &[u8],
        verified: &VerifiedKeyMaterialRequest<'_>,
        target: &UserUri,
    ) -> Result<Vec<u8>, ServerError> {
        let requester = verified.requester();
        if requester.domain() != peer {
            return Err(RequestError::ActingForForeignUser {
                peer: peer.clone(),
                user: requester.to_string(),
            }
            .into());
        }
        // The room must exist, its hub know the requester's provider, and the requester be one
        // of its participants, before anything is claimed.
        self.peek_hub(room, |hub| {
            hub.admit_peer(peer)?;
            hub.check_key_material_requester(requester)?;
            hub.check_key_material_target(target)
        })
        .await??;
        let response_bytes = if target.domain() == &self.domain {
            self.answer_key_material(&self.domain.clone(), verified)
                .await?
                .encode()
                .map_err(|e| internal("KeyMaterialResponse", e))?
        } else {
            self.post_to_peer(
                target.domain(),
                &mimi_federation_api::http::KEY_MATERIAL,
                target,
                request_bytes.to_vec(),
            )
            .await?
        };
        let response: KeyMaterialResponse = decode_exact(&response_bytes)
            .map_err(|e| bad_request("the target provider's KeyMaterialResponse", e))?;
        let now_s = Provider::now_ms() / 1000;
        let mut refs = Vec::new();
        for client in &response.clients {
            if let ClientMaterial::Success(kp) = &client.material {
                let message = kp
                    .to_mls_message()
                    .map_err(|e| bad_request("KeyPackage", e))?
                    .into_bytes();
                let (published, _) =
                    mimi_mls::inspect_key_package(&message, &self.mls_trust, now_s).map_err(
                        |e| ServerError::Peer {
                            peer: target.domain().clone(),
                            status: 200,
                            message: format!("handed out an invalid KeyPackage: {e}"),
                        },
                    )?;
                refs.push(published.reference);
            }
        }
        if !refs.is_empty() {
            let _lock = self.hub.locks.lock(room).await;
            let (mut hub, version, held) = self.hold_hub(room).await?;
            hub.record_routes(target.domain(), refs);
            self.save_hub(held, room, version, hub, HubChange::state())
                .await?;
        }
        Ok(response_bytes)
    }

    /// What a new device of `user`, a participant who is not banned, needs to join `room` by
    /// external commit (the same engine check as the federation `groupInfo` route).
    pub(crate) async fn join_info(
        &self,
        room: &RoomUri,
        user: &UserUri,
    ) -> Result<JoinInfo, ServerError> {
        let _lock = self.hub.locks.lock(room).await;
        self.peek_hub(room, |hub| Self::join_info_of(hub, room, user))
            .await?
    }

    /// What [`Provider::join_info`] answers, from the room.
    fn join_info_of(
        hub: &HubRoom,
        room: &RoomUri,
        user: &UserUri,
    ) -> Result<JoinInfo, ServerError> {
        if let Err(denied) = hub.may_join_new_device(user) {
            return Err(ServerError::api(
                ErrorCode::Forbidden,
                format!("{user} may not join {room} with a new device: {denied}"),
            ));
        }
        let group = hub.group();
        let group_info = group
            .group_info()
            .ok_or_else(|| {
                ServerError::api(
                    ErrorCode::NotFound,
                    "the hub has no GroupInfo for this epoch; retry after the next commit",
                )
            })?
            .to_vec();
        let ratchet_tree = group
            .ratchet_tree()
            .map_err(|e| internal("ratchet tree", e))?;
        let pending = group
            .pending_proposals()
            .into_iter()
            .map(|(m, _)| m)
            .collect();
        Ok(JoinInfo {
            group_info,
            ratchet_tree,
            pending,
        })
    }
}
