//! The engine: one device of one user, its rooms, what it must send and what it received.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;

use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::mls::{ContentType, MlsMessage, RatchetTree};
use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
use mimi_federation_api::ratchet_tree::{GroupInfoOption, RatchetTreeOption};
use mimi_federation_api::submit_message::SubmitMessageRequest;
use mimi_federation_api::update::{CommitBundle, HandshakeBundle, UpdateOutcome, UpdateRequest};
use mimi_federation_api::{Encode, decode_exact};
use mimi_mls::{ClientGroup, ClientIdentity, Incoming, OutgoingCommit, TrustStore};
use mimi_types::{ClientUri, RoomUri, UserUri};
use sha2::{Digest, Sha256};

use crate::error::ClientError;
use crate::outgoing::{ClientEvent, HubRefusal, OpId, Outgoing, SendOutcome};
use crate::view::{Applied, Entry, Rejection, RoomView};

/// How many digests of processed fan-out messages a room remembers to drop repeats.
pub(crate) const SEEN_WINDOW: usize = 4096;

/// Content bytes of own messages not yet shown: wiped when dropped.
pub(crate) type Plaintext = zeroize::Zeroizing<Vec<u8>>;

pub(crate) fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// One room of this device.
pub(crate) struct Room {
    pub(crate) group: ClientGroup,
    pub(crate) view: RoomView,
    /// Own messages waiting for their fan-out, by digest of the MLS message: the content bytes
    /// of application messages, `None` for handshakes.
    pub(crate) sent: BTreeMap<[u8; 32], Option<Plaintext>>,
    /// Digests of recent fan-out messages already processed (repeats are dropped).
    pub(crate) seen: VecDeque<[u8; 32]>,
    pub(crate) seen_set: BTreeSet<[u8; 32]>,
    /// The device-stream sequence number of the last event applied.
    pub(crate) cursor: u64,
    /// Content to send again once this device reaches the hub's epoch.
    pub(crate) retry: Vec<Plaintext>,
    /// The commit of this device the hub has not answered yet.
    pub(crate) commit_in_flight: Option<OpId>,
    /// This device proposed its SelfRemove (it is leaving).
    pub(crate) leaving: bool,
    /// How many log entries the caller has stored apart (see `Client::record_update`);
    /// `None` until this room was first saved that way (its rows are then written anew).
    pub(crate) log_saved: Option<usize>,
    /// The room's record as the caller last stored it (see `Client::record_update`); `None`
    /// until first stored.
    pub(crate) part_saved: Option<Vec<u8>>,
    /// This device found itself behind the hub (a commit it could not process, or a message
    /// of a later epoch) and has not rejoined since. Not kept in the record: after a restart
    /// the next message of a later epoch finds it out again.
    pub(crate) behind: bool,
    /// The group of this device's rejoin (a resync external commit) while the hub has not
    /// answered it; it replaces `group` once the hub accepts. Not kept in the record: a device
    /// that stops in between finds itself behind again and rejoins again.
    pub(crate) rejoining: Option<ClientGroup>,
    /// The room's franking agent, validated once (not kept in the record).
    pub(crate) franking: crate::franking::AgentCache,
}

impl Room {
    pub(crate) fn new(group: ClientGroup, view: RoomView) -> Self {
        Self {
            group,
            view,
            sent: BTreeMap::new(),
            seen: VecDeque::new(),
            seen_set: BTreeSet::new(),
            cursor: 0,
            retry: Vec::new(),
            commit_in_flight: None,
            leaving: false,
            log_saved: None,
            part_saved: None,
            behind: false,
            rejoining: None,
            franking: crate::franking::AgentCache::default(),
        }
    }

    pub(crate) fn remember(&mut self, d: [u8; 32]) {
        if self.seen_set.insert(d) {
            self.seen.push_back(d);
        }
        while self.seen.len() > SEEN_WINDOW {
            if let Some(old) = self.seen.pop_front() {
                self.seen_set.remove(&old);
            }
        }
    }

    fn refresh_view(&mut self) {
        let active = self.group.is_active();
        self.view
            .set_state(self.group.room().clone(), self.group.epoch(), active);
    }
}

/// What an operation waits for (no `Debug`: it holds plaintext).
#[derive(Clone)]
pub(crate) enum PendingKind {
    Commit {
        digest: [u8; 32],
        external: bool,
    },
    Proposals {
        digests: Vec<[u8; 32]>,
    },
    Message {
        digest: [u8; 32],
        content: Plaintext,
    },
    KeyPackages,
}

/// An operation produced and not yet reported by [`Client::mark_sent`].
#[derive(Clone)]
pub(crate) struct Pending {
    pub(crate) request: Outgoing,
    pub(crate) kind: PendingKind,
}

/// One device of one user: the client engine, sans-IO (STYLE.md point 2).
///
/// * Push what the provider delivers with [`Client::handle_delivery`] (in-process) or
///   [`Client::handle_event`] (the device stream: a sequence number and an encoded
///   `FanoutMessage`).
/// * Call commands ([`Client::create_room`], [`Client::invite`], [`Client::send_text`], ...);
///   each queues a request and returns its [`OpId`].
/// * Drain [`Client::poll_request`] and send each request; report every answer with
///   [`Client::mark_sent`]. A commit is merged only when the hub accepted it (or its fan-out
///   came back); a refused one is discarded and reported.
/// * Drain [`Client::poll_event`] for the UI; read rooms through [`Client::room`].
///
/// Time enters as `now` (seconds since the UNIX epoch); randomness through the caller's RNG.
pub struct Client {
    pub(crate) identity: ClientIdentity,
    pub(crate) trust: TrustStore,
    pub(crate) rooms: BTreeMap<RoomUri, Room>,
    pub(crate) queue: VecDeque<OpId>,
    pub(crate) pending: BTreeMap<OpId, Pending>,
    pub(crate) next_op: u64,
    pub(crate) events: VecDeque<ClientEvent>,
    pub(crate) has_last_resort: bool,
    pub(crate) cursor: u64,
    /// Commits merged because their fan-out came back before the hub's answer was reported:
    /// the later report is accepted without effect.
    pub(crate) completed: BTreeSet<OpId>,
    /// Franks verified since the caller last took them ([`Client::take_franks`]).
    pub(crate) franks: Vec<crate::franking::KeptFrank>,
    /// The identity revision the caller last stored (see `Client::record_update`).
    pub(crate) identity_saved: Option<u64>,
    /// The rooms the caller's stored state lists.
    pub(crate) rooms_saved: BTreeSet<RoomUri>,
    /// The latest time the caller gave (UNIX seconds, 0: none yet; see [`Client::tick`]).
    pub(crate) clock: u64,
    /// Rooms and users this device's user agreed to share the room's history with, where the
    /// room does not share automatically ([`Client::share_history`]; not persisted).
    pub(crate) history_shares: BTreeSet<(RoomUri, UserUri)>,
    /// Other users' history requests that arrived through a room and wait for this user's
    /// agreement (`history_room`), by room and requesting device.
    pub(crate) history_waiting: BTreeMap<(RoomUri, ClientUri), crate::history_room::Waiting>,
    /// When this device last sent a history bundle through a room to another user's device,
    /// by room and requesting device (`history_room`: at most one answer per hour).
    pub(crate) history_answered: BTreeMap<(RoomUri, ClientUri), u64>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("client", self.identity.client())
            .field("rooms", &self.rooms.keys().collect::<Vec<_>>())
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A device with its identity (from its provider's CA) and the trust store it validates
    /// other members' credentials with.
    pub fn new(identity: ClientIdentity, trust: TrustStore) -> Self {
        Self {
            identity,
            trust,
            rooms: BTreeMap::new(),
            queue: VecDeque::new(),
            pending: BTreeMap::new(),
            next_op: 1,
            events: VecDeque::new(),
            has_last_resort: false,
            cursor: 0,
            completed: BTreeSet::new(),
            franks: Vec::new(),
            identity_saved: None,
            rooms_saved: BTreeSet::new(),
            clock: 0,
            history_shares: BTreeSet::new(),
            history_waiting: BTreeMap::new(),
            history_answered: BTreeMap::new(),
        }
    }

    /// This device.
    pub fn client(&self) -> &ClientUri {
        self.identity.client()
    }

    /// Its user.
    pub fn user(&self) -> &UserUri {
        self.identity.user()
    }

    /// Its identity (signing key, credential).
    pub fn identity(&self) -> &ClientIdentity {
        &self.identity
    }

    /// The rooms this device has (active or not).
    pub fn rooms(&self) -> impl Iterator<Item = &RoomUri> {
        self.rooms.keys()
    }

    /// What a UI shows of `room`.
    pub fn room(&self, room: &RoomUri) -> Option<&RoomView> {
        self.rooms.get(room).map(|r| &r.view)
    }

    /// The MLS group of `room`.
    pub fn group(&self, room: &RoomUri) -> Option<&ClientGroup> {
        self.rooms.get(room).map(|r| &r.group)
    }

    /// The device-stream sequence number of the last event applied (resume after it).
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// The last event applied in `room`.
    pub fn room_cursor(&self, room: &RoomUri) -> Option<u64> {
        self.rooms.get(room).map(|r| r.cursor)
    }

    /// The next request to send, in the order they were produced.
    pub fn poll_request(&mut self) -> Option<Outgoing> {
        while let Some(op) = self.queue.pop_front() {
            if let Some(p) = self.pending.get(&op) {
                return Some(p.request.clone());
            }
        }
        None
    }

    /// Operations sent (or queued) and not yet reported.
    pub fn pending_ops(&self) -> Vec<OpId> {
        self.pending.keys().copied().collect()
    }

    /// The next event for the UI.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    pub(crate) fn new_op(&mut self) -> OpId {
        let op = OpId(self.next_op);
        self.next_op += 1;
        op
    }

    pub(crate) fn enqueue(&mut self, request: Outgoing, kind: PendingKind) -> OpId {
        let op = request.op();
        self.pending.insert(op, Pending { request, kind });
        self.queue.push_back(op);
        op
    }

    /// Like [`Client::active_room`], and refuses with [`ClientError::Leaving`] while this
    /// device's own leave is pending (what sends or changes the room).
    pub(crate) fn staying_room(&mut self, room: &RoomUri) -> Result<&mut Room, ClientError> {
        let r = self.active_room(room)?;
        if r.leaving {
            return Err(ClientError::Leaving { room: room.clone() });
        }
        Ok(r)
    }

    /// Whether operation `op` (pending) is an external join: the provider must be told when
    /// the commit is sent. Kept in the record, so it survives a restart.
    pub fn is_external_join(&self, op: OpId) -> bool {
        self.pending
            .get(&op)
            .is_some_and(|p| matches!(p.kind, PendingKind::Commit { external: true, .. }))
    }

    /// Forgets `room` after its creation failed at the provider (the hub never accepted it):
    /// only a room this device created and never used is dropped, with its `Joined` event.
    /// Anything else is API misuse.
    pub fn discard_created_room(&mut self, room: &RoomUri) -> Result<(), ClientError> {
        let unused = self.rooms.get(room).is_some_and(|r| {
            r.cursor == 0
                && r.sent.is_empty()
                && r.commit_in_flight.is_none()
                && r.view.messages().is_empty()
                && r.group.epoch() == 0
        }) && !self.pending.values().any(|p| {
            matches!(&p.request, Outgoing::Commit { room: r, .. }
                | Outgoing::Proposals { room: r, .. }
                | Outgoing::Message { room: r, .. } if r == room)
        });
        if !unused {
            return Err(ClientError::misuse(format!(
                "{room} is not a room this device just created; it cannot be discarded"
            )));
        }
        self.rooms.remove(room);
        self.events
            .retain(|e| !matches!(e, ClientEvent::Joined { room: r } if r == room));
        Ok(())
    }

    pub(crate) fn active_room(&mut self, room: &RoomUri) -> Result<&mut Room, ClientError> {
        match self.rooms.get_mut(room) {
            Some(r) if r.group.is_active() => Ok(r),
            _ => Err(ClientError::NotMember { room: room.clone() }),
        }
    }

    /// Queues a prepared commit (`POST /update`).
    pub(crate) fn queue_commit(
        &mut self,
        room: &RoomUri,
        out: &OutgoingCommit,
        external: bool,
    ) -> Result<OpId, ClientError> {
        let request = commit_request(out)?;
        let op = self.new_op();
        let d = digest(&out.commit);
        let r = self.active_room(room)?;
        r.commit_in_flight = Some(op);
        r.sent.insert(d, None);
        Ok(self.enqueue(
            Outgoing::Commit {
                op,
                room: room.clone(),
                request,
            },
            PendingKind::Commit {
                digest: d,
                external,
            },
        ))
    }

    /// Encrypts content bytes for `room` and queues the `submitMessage`.
    pub(crate) fn queue_message(
        &mut self,
        room: &RoomUri,
        content: Plaintext,
    ) -> Result<OpId, ClientError> {
        let user = self.identity.user().clone();
        let message_id = if content.starts_with(crate::history_room::HISTORY_PREFIX) {
            // A history item (`history_room`) is no MIMI content and has no message ID: its
            // digest names it.
            mimi_content::MessageId(digest(&content))
        } else {
            mimi_content::message_id_for(&user, room, &content)
                .map_err(|e| ClientError::Content(e.to_string()))?
        };
        let op = self.new_op();
        let r = self.active_room(room)?;
        let aad = crate::franking::sender_aad(&r.group, &content);
        let ciphertext = r
            .group
            .protect(&content, &aad)
            .map_err(|e| ClientError::mls(room, e))?;
        let d = digest(&ciphertext);
        r.sent.insert(d, Some(content.clone()));
        let request = SubmitMessageRequest::new(
            MlsMessage::from_bytes(ciphertext).map_err(ClientError::wire)?,
            IdentifierUri::from_string(user.to_string()).map_err(ClientError::wire)?,
        )
        .map_err(ClientError::wire)?;
        Ok(self.enqueue(
            Outgoing::Message {
                op,
                room: room.clone(),
                request,
                message_id,
            },
            PendingKind::Message { digest: d, content },
        ))
    }

    /// Reports what became of request `op`. A commit the hub accepted is merged; a refused
    /// one is discarded and the refusal returned as [`ClientError::HubRefused`] (also queued
    /// as a [`ClientEvent::Refused`]). A message refused as `epochTooOld` is re-sent
    /// automatically once this device has caught up, so that is not an error, but it was not
    /// sent either: a [`ClientEvent::Resent`] names the operation carrying it again, or, if
    /// this device is still behind, a [`ClientEvent::Queued`] says it waits.
    pub fn mark_sent(&mut self, op: OpId, outcome: SendOutcome) -> Result<(), ClientError> {
        if !self.pending.contains_key(&op) && self.completed.remove(&op) {
            return Ok(());
        }
        let pending = self
            .pending
            .remove(&op)
            .ok_or_else(|| ClientError::misuse(format!("operation {op} is not pending")))?;
        self.queue.retain(|o| *o != op);
        let room = match &pending.request {
            Outgoing::Commit { room, .. }
            | Outgoing::Proposals { room, .. }
            | Outgoing::Message { room, .. } => Some(room.clone()),
            _ => None,
        };
        let refusal = match (&pending.kind, &outcome) {
            (_, SendOutcome::Abandoned) => Some(HubRefusal::Abandoned),
            (
                PendingKind::Commit { .. } | PendingKind::Proposals { .. },
                SendOutcome::Update(u),
            ) => HubRefusal::of_update(u),
            (PendingKind::Message { .. }, SendOutcome::Submit(s)) => HubRefusal::of_submit(s),
            (PendingKind::KeyPackages, SendOutcome::Uploaded) => None,
            _ => {
                self.pending.insert(op, pending);
                return Err(ClientError::misuse(format!(
                    "operation {op} cannot have the outcome {outcome:?}"
                )));
            }
        };
        let Some(room) = room else {
            return Ok(());
        };
        match refusal {
            None => self.succeeded(&room, op, &pending.kind),
            Some(refusal) => self.refused(&room, op, &pending.kind, refusal),
        }
    }

    fn succeeded(
        &mut self,
        room: &RoomUri,
        op: OpId,
        kind: &PendingKind,
    ) -> Result<(), ClientError> {
        if let PendingKind::Commit { external, .. } = kind {
            let Some(r) = self.rooms.get_mut(room) else {
                return Ok(());
            };
            if r.commit_in_flight == Some(op) {
                r.commit_in_flight = None;
                let was_ended = r.group.room().ended().is_some();
                let rejoined = match r.rejoining.take() {
                    Some(group) => {
                        r.group = group;
                        r.behind = false;
                        true
                    }
                    None => false,
                };
                r.group
                    .merge_pending_commit()
                    .map_err(|e| ClientError::mls(room, e))?;
                r.refresh_view();
                let epoch = r.group.epoch();
                if rejoined {
                    self.events.push_back(ClientEvent::Rejoined {
                        room: room.clone(),
                        epoch,
                    });
                } else if *external {
                    self.events
                        .push_back(ClientEvent::Joined { room: room.clone() });
                }
                self.events.push_back(ClientEvent::RoomChanged {
                    room: room.clone(),
                    epoch,
                });
                if let Some(ended) = newly_ended(was_ended, room, r) {
                    self.events.push_back(ended);
                }
                self.resend(room)?;
            }
        }
        Ok(())
    }

    fn refused(
        &mut self,
        room: &RoomUri,
        op: OpId,
        kind: &PendingKind,
        refusal: HubRefusal,
    ) -> Result<(), ClientError> {
        if let Some(r) = self.rooms.get_mut(room) {
            match kind {
                PendingKind::Commit { digest, external } => {
                    r.sent.remove(digest);
                    if r.commit_in_flight == Some(op) {
                        r.commit_in_flight = None;
                        if r.rejoining.take().is_some() {
                            // A refused rejoin: this device stays behind, with its history.
                        } else if *external {
                            self.rooms.remove(room);
                        } else {
                            r.group
                                .discard_pending_commit()
                                .map_err(|e| ClientError::mls(room, e))?;
                        }
                    }
                }
                PendingKind::Proposals { digests } => {
                    for d in digests {
                        r.sent.remove(d);
                    }
                    r.leaving = false;
                }
                PendingKind::Message { digest, content } => {
                    r.sent.remove(digest);
                    if let HubRefusal::EpochTooOld { current_epoch } = refusal {
                        r.retry.push(content.clone());
                        let resent = if r.group.epoch() >= current_epoch {
                            self.resend(room)?
                        } else {
                            Vec::new()
                        };
                        // The content just parked is the last one re-sent.
                        let event = match resent.last() {
                            Some(as_op) => ClientEvent::Resent {
                                room: room.clone(),
                                op,
                                as_op: *as_op,
                            },
                            None => ClientEvent::Queued {
                                room: room.clone(),
                                op,
                                refusal,
                            },
                        };
                        self.events.push_back(event);
                        return Ok(());
                    }
                }
                PendingKind::KeyPackages => {}
            }
        }
        self.events.push_back(ClientEvent::Refused {
            room: room.clone(),
            op,
            refusal: refusal.clone(),
        });
        Err(ClientError::HubRefused {
            room: room.clone(),
            op,
            refusal,
        })
    }

    /// Sends again the messages the hub found too old, now that the room moved on; returns
    /// their new operations, in order.
    fn resend(&mut self, room: &RoomUri) -> Result<Vec<OpId>, ClientError> {
        let retry = match self.rooms.get_mut(room) {
            Some(r) if r.group.is_active() => std::mem::take(&mut r.retry),
            _ => return Ok(Vec::new()),
        };
        let mut ops = Vec::with_capacity(retry.len());
        for content in retry {
            ops.push(self.queue_message(room, content)?);
        }
        Ok(ops)
    }

    /// Handles one message of `room` that this device's provider delivers, in hub order.
    /// `addressed_to` is the device a Welcome is for (a Welcome is addressed to one
    /// KeyPackage's device; other messages go to every member device and carry `None`). A
    /// Welcome for another device is API misuse; a Welcome addressed to no one is ignored.
    pub fn handle_delivery(
        &mut self,
        now: u64,
        room: &RoomUri,
        addressed_to: Option<&ClientUri>,
        message: &FanoutMessage,
    ) -> Result<(), ClientError> {
        self.tick(now);
        match (addressed_to, &message.content) {
            (
                Some(to),
                FanoutContent::Welcome {
                    message,
                    ratchet_tree_option,
                },
            ) => {
                if to != self.identity.client() {
                    return Err(ClientError::misuse(format!(
                        "a Welcome for {to} was handed to {}",
                        self.identity.client()
                    )));
                }
                self.join(now, room, message, ratchet_tree_option);
                Ok(())
            }
            (None, FanoutContent::Welcome { .. }) => Ok(()),
            (_, _) => {
                self.process(now, room, message);
                Ok(())
            }
        }
    }

    /// Handles one event of the device stream: its sequence number (the resume cursor) and
    /// the encoded `FanoutMessage`. Events at or before the room's cursor were applied
    /// already and are skipped.
    pub fn handle_event(
        &mut self,
        now: u64,
        seq: u64,
        room: &RoomUri,
        payload: &[u8],
    ) -> Result<(), ClientError> {
        if self.rooms.get(room).is_some_and(|r| seq <= r.cursor) {
            return Ok(());
        }
        let message: FanoutMessage = decode_exact(payload).map_err(ClientError::wire)?;
        // The stream is this device's own: a Welcome in it is addressed to this device.
        let me = self.identity.client().clone();
        self.handle_delivery(now, room, Some(&me), &message)?;
        if let Some(r) = self.rooms.get_mut(room) {
            r.cursor = r.cursor.max(seq);
        }
        self.cursor = self.cursor.max(seq);
        Ok(())
    }

    fn reject(&mut self, room: &RoomUri, rejection: Rejection) {
        if let Some(r) = self.rooms.get_mut(room) {
            r.view.rejected(rejection.clone());
        }
        self.events.push_back(ClientEvent::Rejected {
            room: room.clone(),
            rejection,
        });
    }

    fn join(&mut self, now: u64, room: &RoomUri, welcome: &MlsMessage, tree: &RatchetTreeOption) {
        if self.rooms.get(room).is_some_and(|r| r.group.is_active()) {
            return;
        }
        let result = (|| {
            let RatchetTreeOption::Full(tree) = tree else {
                return Err("a Welcome without its ratchet tree".to_owned());
            };
            let tree = tree.encode().map_err(|e| e.to_string())?;
            ClientGroup::join_from_welcome(
                &self.identity,
                welcome.as_bytes(),
                &tree,
                self.trust.clone(),
                now,
            )
            .map_err(|e| e.to_string())
        })();
        let group = match result {
            Ok(g) => g,
            Err(e) => {
                self.events.push_back(ClientEvent::Rejected {
                    room: room.clone(),
                    rejection: Rejection::Mls(e),
                });
                return;
            }
        };
        let state = group.room().clone();
        let epoch = group.epoch();
        match self.rooms.get_mut(room) {
            // Re-invited after a removal: keep the history.
            Some(r) => {
                r.group = group;
                r.leaving = false;
                r.commit_in_flight = None;
                r.refresh_view();
            }
            None => {
                let view = RoomView::new(room.clone(), self.user().clone(), state, epoch);
                self.rooms.insert(room.clone(), Room::new(group, view));
            }
        }
        self.events
            .push_back(ClientEvent::Joined { room: room.clone() });
    }

    fn process(&mut self, now: u64, room: &RoomUri, fanout: &FanoutMessage) {
        if let FanoutContent::Application { message, frank } = &fanout.content {
            self.process_one(now, room, message, fanout.timestamp, frank.as_ref());
            return;
        }
        let mut messages = vec![fanout.content.message()];
        match &fanout.content {
            FanoutContent::Proposal { more_proposals, .. } => messages.extend(more_proposals),
            // The hub's re-issued proposals belong to the epoch the commit starts.
            FanoutContent::Commit {
                external_proposals, ..
            } => messages.extend(external_proposals),
            _ => {}
        }
        for message in messages {
            self.process_one(now, room, message, fanout.timestamp, None);
        }
    }

    fn process_one(
        &mut self,
        now: u64,
        room: &RoomUri,
        message: &MlsMessage,
        timestamp: u64,
        frank: Option<&mimi_federation_api::franking::Frank>,
    ) {
        let me = self.identity.client().clone();
        let user = self.identity.user().clone();
        let Some(r) = self.rooms.get_mut(room) else {
            return;
        };
        if !r.group.is_active() {
            return;
        }
        let d = digest(message.as_bytes());
        if r.seen_set.contains(&d) {
            return;
        }
        if let Some(own) = r.sent.remove(&d) {
            r.remember(d);
            match own {
                Some(content) => {
                    let entry = Entry {
                        sender: user,
                        client: me,
                        timestamp,
                        bytes: content.to_vec(),
                        imported: false,
                    };
                    self.apply(room, entry);
                }
                None => {
                    // Our commit came back: the hub accepted it even if its answer is lost.
                    if let Some(op) = r.commit_in_flight
                        && self.pending.get(&op).is_some_and(
                            |p| matches!(p.kind, PendingKind::Commit { digest, .. } if digest == d),
                        )
                    {
                        // Polled requests will still be reported; queued ones never will be.
                        let polled = !self.queue.contains(&op);
                        let _ = self.mark_sent(
                            op,
                            SendOutcome::Update(UpdateOutcome::Success {
                                accepted_timestamp: timestamp,
                            }),
                        );
                        if polled {
                            self.completed.insert(op);
                        }
                    }
                }
            }
            return;
        }
        let is_handshake = message.content_type() != Some(ContentType::Application);
        if is_handshake && message.epoch().is_some_and(|e| e < r.group.epoch()) {
            r.remember(d);
            return;
        }
        // Another member's commit for this epoch won: ours will be refused. (Not a rejoin's:
        // what the hub ordered before it was for epochs this device never reached.)
        if message.content_type() == Some(ContentType::Commit)
            && r.rejoining.is_none()
            && let Some(op) = r.commit_in_flight.take()
        {
            let _ = r.group.discard_pending_commit();
            if let Some(Pending {
                kind: PendingKind::Commit { digest, .. },
                ..
            }) = self.pending.get(&op)
            {
                r.sent.remove(digest);
            }
        }
        let ahead = message.epoch().is_some_and(|e| e > r.group.epoch());
        let was_ended = r.group.room().ended().is_some();
        let result = r.group.process(message.as_bytes(), now);
        r.remember(d);
        let is_commit = message.content_type() == Some(ContentType::Commit);
        match result {
            // While this device rejoins, what the hub ordered before its rejoin cannot be read
            // and needs no new report.
            Err(e) if r.rejoining.is_some() => r.view.rejected(Rejection::Mls(e.to_string())),
            // A commit this device refuses, or a message of a later epoch (a commit it never
            // got), leaves it behind the hub: say so, naming the room. Every refused commit is
            // reported (each is a chance to rejoin); a later epoch only when first found.
            Err(e) if is_commit || (ahead && !r.behind) => {
                let epoch = r.group.epoch();
                let error = match message.epoch() {
                    Some(got) if ahead && !is_commit => format!(
                        "a message of epoch {got} arrived while this device is in epoch \
                         {epoch}: a commit did not reach it"
                    ),
                    _ => e.to_string(),
                };
                r.view.rejected(Rejection::Mls(error.clone()));
                r.behind = true;
                self.events.push_back(ClientEvent::CommitFailed {
                    room: room.clone(),
                    epoch,
                    error,
                });
            }
            Err(e) => self.reject(room, Rejection::Mls(e.to_string())),
            Ok(Incoming::Application(m)) => {
                let checked = crate::franking::check(
                    &mut r.franking,
                    &r.group,
                    &self.trust,
                    room,
                    &m,
                    crate::franking::HubFrank {
                        frank,
                        accepted_timestamp: timestamp,
                    },
                    now,
                );
                match checked {
                    Err(rejection) => {
                        self.reject(room, *rejection);
                        return;
                    }
                    Ok(Some(frank)) => {
                        let id = mimi_content::message_id_for(&m.sender.user, room, &m.data);
                        if let (Ok(message), Ok(frank)) = (id, frank.encode()) {
                            self.franks.push(crate::franking::KeptFrank {
                                room: room.clone(),
                                message,
                                frank,
                                accepted_timestamp: timestamp,
                            });
                        }
                    }
                    Ok(None) => {}
                }
                let entry = Entry {
                    sender: m.sender.user,
                    client: m.sender.client,
                    timestamp,
                    bytes: m.data,
                    imported: false,
                };
                self.apply(room, entry);
            }
            Ok(Incoming::Proposal(summary)) => {
                // Another device of this user leaves: this one follows, or the user's
                // participant-list removal could never be committed (its clients remain).
                let sibling_leaves = summary
                    .self_removed
                    .iter()
                    .any(|m| m.user == user && m.client != me);
                if sibling_leaves && !r.leaving {
                    let _ = self.propose_self_remove(room);
                }
                self.events
                    .push_back(ClientEvent::ProposalsPending { room: room.clone() });
            }
            Ok(Incoming::AppEphemeral {
                actor,
                component,
                data,
            }) => {
                let Some(decoded) = mimi_room::components::HubRetraction::decode(component, &data)
                else {
                    // An AppEphemeral component we do not know: nothing to do (mls-extensions:
                    // unknown components are ignored).
                    return;
                };
                let retraction = match decoded {
                    Ok(r) => r,
                    Err(e) => {
                        self.reject(room, Rejection::Mls(format!("hub retraction: {e}")));
                        return;
                    }
                };
                let all_reactions = match &retraction {
                    mimi_room::components::HubRetraction::Messages(m) => {
                        r.view.all_reactions(&m.retracted_messages)
                    }
                    mimi_room::components::HubRetraction::Range(_) => false,
                };
                if let Err(denied) = mimi_room::authorize_hub_retraction(
                    r.group.room(),
                    &actor,
                    &retraction,
                    all_reactions,
                ) {
                    self.reject(
                        room,
                        Rejection::NotAllowed {
                            sender: retraction.remover().clone(),
                            denied,
                        },
                    );
                    return;
                }
                let mimi_room::Actor::Server(domain) = &actor else {
                    return;
                };
                let Ok(client) = format!("mimi://{domain}/d/_hub").parse::<ClientUri>() else {
                    return;
                };
                let mut bytes = vec![crate::view::RETRACTION_MARK];
                bytes.extend_from_slice(&component.value().to_be_bytes());
                bytes.extend_from_slice(&data);
                let entry = Entry {
                    sender: retraction.remover().clone(),
                    client,
                    timestamp,
                    bytes,
                    imported: false,
                };
                self.apply(room, entry);
            }
            Ok(Incoming::Commit {
                epoch,
                removed_me,
                summary,
            }) => {
                r.refresh_view();
                for added in summary
                    .added
                    .iter()
                    .filter(|m| m.user == user && m.client != me)
                {
                    self.events.push_back(ClientEvent::SiblingJoined {
                        room: room.clone(),
                        client: added.client.clone(),
                    });
                }
                if removed_me {
                    r.sent.clear();
                    r.retry.clear();
                    self.events
                        .push_back(ClientEvent::Removed { room: room.clone() });
                } else {
                    self.events.push_back(ClientEvent::RoomChanged {
                        room: room.clone(),
                        epoch,
                    });
                    if let Some(ended) = newly_ended(was_ended, room, r) {
                        self.events.push_back(ended);
                    }
                    let _ = self.resend(room);
                }
            }
            Ok(_) => {}
        }
    }

    fn apply(&mut self, room: &RoomUri, entry: Entry) {
        // History requests and envelopes between users travel as room messages of our own
        // kind: they never reach the timeline.
        if entry.bytes.starts_with(crate::history_room::HISTORY_PREFIX) {
            self.handle_room_history(room, &entry);
            return;
        }
        let Some(r) = self.rooms.get_mut(room) else {
            return;
        };
        match r.view.apply(entry, true) {
            Ok(Some(Applied::Timeline(message))) => self.events.push_back(ClientEvent::Timeline {
                room: room.clone(),
                message,
            }),
            Ok(Some(Applied::Retracted(messages))) => {
                for message in messages {
                    self.events.push_back(ClientEvent::Timeline {
                        room: room.clone(),
                        message,
                    });
                }
            }
            Ok(Some(Applied::Status(messages))) => {
                for message in messages {
                    self.events.push_back(ClientEvent::StatusChanged {
                        room: room.clone(),
                        message,
                    });
                }
            }
            Ok(None) => {}
            Err(rejection) => self.reject(room, rejection),
        }
    }
}

/// [`ClientEvent::RoomEnded`] where the commit just merged into `r` ended `room`, which
/// was open before it (`was_ended` false): the event comes once per room, from whichever path
/// merged the ending commit (our own commit accepted, or another member's received).
fn newly_ended(was_ended: bool, room: &RoomUri, r: &Room) -> Option<ClientEvent> {
    if was_ended {
        return None;
    }
    r.group.room().ended().map(|ended| ClientEvent::RoomEnded {
        room: room.clone(),
        ended_by: ended.ended_by.clone(),
    })
}

/// The `update` request carrying a prepared commit.
pub(crate) fn commit_request(out: &OutgoingCommit) -> Result<UpdateRequest, ClientError> {
    let commit = MlsMessage::from_bytes(out.commit.clone()).map_err(ClientError::wire)?;
    let welcome = match &out.welcome {
        Some(w) => Some(
            MlsMessage::from_bytes(w.clone())
                .and_then(|m| m.to_welcome())
                .map_err(ClientError::wire)?,
        ),
        None => None,
    };
    let group_info = match &out.group_info {
        Some(g) => MlsMessage::from_bytes(g.clone())
            .and_then(|m| m.to_group_info())
            .map_err(ClientError::wire)?,
        None => return Err(ClientError::Wire("the commit carries no GroupInfo".into())),
    };
    let tree = decode_exact::<RatchetTree>(&out.ratchet_tree).map_err(ClientError::wire)?;
    let bundle = CommitBundle::new(
        commit,
        welcome,
        GroupInfoOption::Full(group_info),
        RatchetTreeOption::Full(tree),
    )
    .map_err(ClientError::wire)?;
    Ok(UpdateRequest::new(HandshakeBundle::Commit(bundle)))
}
