//! A room's hub: it orders, authorizes and fans out everything in the room
//! (protocol-06 §5.3–§5.6, §7; digest §3.3–§3.6, §3.12).
//!
//! [`HubRoom`] wraps the room's public MLS view ([`mimi_mls::HubGroup`]) with what the hub adds:
//! the hub sequence number, the KeyPackageRef → provider routes learned while relaying key
//! material, and the fan-out. Each `handle_*` call takes `now` and the authenticated peer, and
//! returns the response and the [`Effect`]s. The room is changed in place only when the answer
//! is a success: the caller persists the room and the effects in one transaction, then answers
//! and executes the effects. If persisting fails, the caller drops this value and reloads the
//! room from storage.
//!
//! Fan-out goes to every provider with members in the room, **including the hub's own
//! provider** (which delivers to its local devices through its follower inbox), in hub order. A
//! commit also goes to providers whose last member it removes, so their devices learn of it. A
//! Welcome goes only to the providers that own the KeyPackages it names.

mod abuse;
mod directory;
mod enforcer;
mod franking;
mod group_info;
mod record;
mod replay;
#[cfg(test)]
mod withheld_cap;

use std::collections::{BTreeMap, BTreeSet};

use mimi_federation_api::mls::RatchetTree;
use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
use mimi_federation_api::ratchet_tree::GroupInfoOption;
use mimi_federation_api::ratchet_tree::RatchetTreeOption;
use mimi_federation_api::submit_message::{
    SubmitMessageRequest, SubmitMessageResponse, SubmitOutcome,
};
use mimi_federation_api::update::{
    HandshakeBundle, UpdateOutcome, UpdateRequest, UpdateRoomResponse,
};
use mimi_federation_api::{Encode as _, decode_exact};
use mimi_mls::{Actor, AppMessageInfo, HubGroup, MlsError, ServerIdentity, StagedHandshake};
use mimi_types::{ClientUri, Domain, RoomUri, UserUri};

pub use abuse::AbuseReportOutcome;
pub use directory::DirectoryEntry;
pub use enforcer::Eviction;
pub use franking::FrankRefusal;
pub use group_info::GROUP_INFO_ENCRYPTION_LABEL;
pub use record::HUB_RECORD_VERSION;

use crate::effects::Effect;
use crate::error::RequestError;
use crate::store::LogEntry;

/// What a `handle_*` call returns.
#[derive(Debug)]
pub struct HubOutput<R> {
    /// The body to answer with.
    pub response: R,
    /// Effects to execute after persisting (empty unless the request succeeded).
    pub effects: Vec<Effect>,
    /// Whether the room changed (and must be persisted before answering): its state, its log,
    /// or both.
    pub changed: bool,
    /// Whether the room's state changed (a commit or proposals): its record
    /// ([`HubRoom::to_record`]) must be written. An application message leaves it alone.
    pub state_changed: bool,
    /// What to append to the room's log, in order, in the same transaction.
    pub log: Vec<LogEntry>,
    /// A member device that rejoined by external commit, removing its own old leaf (a
    /// resync): it could not follow the room, having lost a commit or refused one the hub
    /// accepted. This is how a device's failure reaches the hub; operators should watch it.
    pub resynced: Option<ClientUri>,
}

impl<R> HubOutput<R> {
    fn refused(response: R) -> Self {
        Self::unchanged(response, Vec::new())
    }

    /// An answer that changes nothing stored.
    fn unchanged(response: R, effects: Vec<Effect>) -> Self {
        Self {
            response,
            effects,
            changed: false,
            state_changed: false,
            log: Vec::new(),
            resynced: None,
        }
    }
}

/// The hub's state for one room.
#[derive(Debug)]
pub struct HubRoom {
    room: RoomUri,
    group: HubGroup,
    next_seq: u64,
    routes: BTreeMap<Vec<u8>, Domain>,
    /// Application messages accepted last (not stored: refilled from the log).
    replays: replay::ReplayWindow,
    /// The providers with a member device, kept with the group (every accepted handshake is
    /// fanned out to them).
    domains: BTreeSet<Domain>,
    /// Those of `domains` with a member device whose user may receive application messages
    /// (`canReceiveMessage`): accepted application messages go only to them.
    readers: BTreeSet<Domain>,
    /// For each of `readers`, its member devices whose users may not receive application
    /// messages (only readers with such devices): named with each application message sent
    /// there, so that the follower withholds it from them.
    withheld: BTreeMap<Domain, Vec<ClientUri>>,
}

impl HubRoom {
    /// How many accepted application messages a room remembers to answer repeats (see
    /// [`HubRoom::recall_accepted`]).
    pub const REPLAY_WINDOW: usize = replay::ReplayWindow::CAPACITY;

    /// A room whose group the hub has just seen created.
    pub fn new(room: RoomUri, group: HubGroup) -> Self {
        let Fanout {
            domains,
            readers,
            withheld,
        } = domains_of(group.room());
        Self {
            room,
            group,
            next_seq: 1,
            routes: BTreeMap::new(),
            replays: replay::ReplayWindow::default(),
            domains,
            readers,
            withheld,
        }
    }

    /// Reassembles a room from its parts (as stored).
    pub fn from_parts(
        room: RoomUri,
        group: HubGroup,
        next_seq: u64,
        routes: BTreeMap<Vec<u8>, Domain>,
    ) -> Self {
        let Fanout {
            domains,
            readers,
            withheld,
        } = domains_of(group.room());
        Self {
            room,
            group,
            next_seq,
            routes,
            replays: replay::ReplayWindow::default(),
            domains,
            readers,
            withheld,
        }
    }

    /// The room.
    pub fn room(&self) -> &RoomUri {
        &self.room
    }

    /// The room's public MLS view.
    pub fn group(&self) -> &HubGroup {
        &self.group
    }

    /// The hub sequence number the next accepted event gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Moves the sequence number past `log_head`, the last sequence number in the room's log
    /// (0 for an empty log): a room restored from its state record, or kept decoded while this
    /// or another process appended to the log, continues after the log's last event.
    pub fn resume_after(&mut self, log_head: u64) {
        self.next_seq = self.next_seq.max(log_head.saturating_add(1));
    }

    /// Remembers the application messages of `entries` (the room's log, oldest first, as
    /// [`HubRoom::handle_submit`] wrote it) for replay detection: call it with the log's last
    /// entries when the room is restored, and with what another process appended when a kept
    /// copy falls behind the log. Entries that are not application messages are skipped.
    pub fn recall_accepted<'a>(&mut self, entries: impl IntoIterator<Item = &'a LogEntry>) {
        for entry in entries {
            if let Ok(message) = decode_exact::<FanoutMessage>(&entry.message)
                && let FanoutContent::Application { message, .. } = &message.content
            {
                self.replays.remember(
                    replay::ReplayWindow::digest(message.as_bytes()),
                    entry.hub_ms,
                );
            }
        }
    }

    /// Takes the next sequence number for an accepted event and its log entry.
    fn accept(&mut self, message: &FanoutMessage) -> Result<LogEntry, RequestError> {
        let seq = self.next_seq;
        self.next_seq = seq
            .checked_add(1)
            .ok_or_else(|| RequestError::Internal("the room's sequence numbers ran out".into()))?;
        let bytes = message
            .encode()
            .map_err(|e| RequestError::Internal(format!("fanout message: {e}")))?;
        Ok(LogEntry {
            seq,
            hub_ms: message.timestamp,
            message: bytes,
        })
    }

    /// Whether the room is still open, or why it is over: a member holding `canDestroyRoom`
    /// ended it ([`mimi_room::Denied::RoomEnded`], the `room_ended` marker every member
    /// checks), or the room is not persistent and every client in its group is leaving
    /// ([`mimi_room::Denied::RoomEmptied`], [`mimi_room::RoomState::emptied`]). An ended room
    /// takes no update, submit or GroupInfo request, is listed in no directory and takes no
    /// newcomers. The hub keeps its record as the tombstone: the room's id stays taken.
    pub fn check_open(&self) -> Result<(), mimi_room::Denied> {
        let room = self.group.room();
        room.check_not_ended()?;
        if !room.base_policy().persistent_room {
            let leaving = self.group.pending_removals();
            if room.emptied(&leaving.iter().collect()) {
                return Err(mimi_room::Denied::RoomEmptied);
            }
        }
        Ok(())
    }

    /// KeyPackageRef → provider routes for Welcomes not yet seen.
    pub fn routes(&self) -> &BTreeMap<Vec<u8>, Domain> {
        &self.routes
    }

    /// Every provider with a member in the room (the hub's own included).
    ///
    /// Kept with the group and recomputed when a handshake changes it, so that an accepted
    /// message does not pay for the room's size: reading the group's leaves parses every
    /// member's X.509 credential, which cost each message about 1.8 ms at 500 members
    /// (`benches/submit.rs`).
    pub fn member_domains(&self) -> BTreeSet<Domain> {
        self.domains.clone()
    }

    /// The member providers that get accepted application messages: those with a member
    /// device whose user's role holds `canReceiveMessage` (room-policy §3: the hub withholds
    /// fan-out from the others; handshakes still reach every member provider). Within a
    /// provider that gets them, its devices of users without the capability are named with
    /// each message ([`HubRoom::withheld_at`]) and its follower withholds it from them.
    pub fn reader_domains(&self) -> &BTreeSet<Domain> {
        &self.readers
    }

    /// Whether `peer` may learn anything of this room: the hub itself, a provider with a
    /// member device, or one with a listed participant (who may bring a new device). Anyone
    /// else gets exactly what a room we do not host gets ([`RequestError::UnknownRoom`]), so
    /// that a stranger learns neither that the room exists nor its epoch. Callers ask this
    /// before looking at the request.
    pub fn admit_peer(&self, peer: &Domain) -> Result<(), RequestError> {
        let known = peer == self.room.hub_domain()
            || self.member_domains().contains(peer)
            || self
                .group
                .room()
                .participants()
                .participants
                .iter()
                .any(|p| p.user.domain() == peer);
        if known {
            Ok(())
        } else {
            Err(RequestError::UnknownRoom(self.room.to_string()))
        }
    }

    /// [`HubRoom::admit_peer`] widened for a room that takes newcomers (open join, or a join
    /// link that has not expired at `now_ms`), and for a provider whose users the room
    /// preauthorizes: any such peer may then ask for `groupInfo` and send
    /// an `update`, whose newcomer join the engine authorizes in full (its code or open join).
    /// A room that takes nobody new stays hidden from strangers.
    pub fn admit_newcomer_peer(&self, peer: &Domain, now_ms: u64) -> Result<(), RequestError> {
        self.admit_peer(peer).or_else(|hidden| {
            let preauthorized = self
                .group
                .room()
                .preauth()
                .is_some_and(|p| p.names_provider(peer));
            if preauthorized || self.takes_newcomers(now_ms / 1000) {
                Ok(())
            } else {
                Err(hidden)
            }
        })
    }

    fn takes_newcomers(&self, now_s: u64) -> bool {
        let room = self.group.room();
        let open = room
            .roles()
            .role(mimi_room::components::RoleIndex::NO_ROLE)
            .is_some_and(|r| {
                r.has(mimi_room::Capability::CAN_OPEN_JOIN)
                    || r.has(mimi_room::Capability::CAN_USE_JOIN_CODE)
                        && room.join_links().is_some_and(|l| {
                            l.links.iter().any(|link| {
                                mimi_room::components::JoinCodeTerms::from_link(link)
                                    .is_none_or(|t| !t.expired_at(now_s))
                            })
                        })
            });
        open && !room.base_policy().fixed_membership && self.check_open().is_ok()
    }

    /// Remembers that KeyPackages handed out by `provider` (relayed through this hub) may be
    /// named by a later Welcome.
    pub fn record_routes<I: IntoIterator<Item = Vec<u8>>>(&mut self, provider: &Domain, refs: I) {
        for reference in refs {
            self.routes.insert(reference, provider.clone());
        }
    }

    /// The hub relays a key-material request naming this room only for a participant of the
    /// room: otherwise any user of any peer could use any room we host to reach the target
    /// provider as "the hub", past the target's check that a peer acts only for its own users.
    /// The room's `server_policy` must also let the requester's provider ask
    /// ([`RequestError::ServerNotAllowed`]; see [`HubRoom::check_key_material_target`]), and the
    /// room must not have ended ([`HubRoom::check_open`]; [`RequestError::PolicyRefused`]).
    pub fn check_key_material_requester(&self, requester: &UserUri) -> Result<(), RequestError> {
        // An ended (or emptied) room takes nobody new: KeyPackages for it could only feed an
        // add the hub would refuse, and claiming them would use up the target's supply.
        self.check_open()
            .map_err(|denied| RequestError::PolicyRefused(denied.to_string()))?;
        self.group
            .room()
            .require_server(
                requester.domain(),
                mimi_room::components::ServerCapabilities::KEY_MATERIAL,
            )
            .map_err(RequestError::ServerNotAllowed)?;
        let participant = self
            .group
            .room()
            .participants()
            .participants
            .iter()
            .any(|p| &p.user == requester);
        if participant {
            Ok(())
        } else {
            Err(RequestError::NotAParticipant {
                user: requester.to_string(),
                room: self.room.to_string(),
            })
        }
    }

    /// Whether the hub relays a key-material request for `target`: the room's `server_policy`
    /// must let the target's provider take part (`join`) and exchange key material
    /// (`keyMaterial`); otherwise nothing is claimed there ([`RequestError::ServerNotAllowed`]).
    pub fn check_key_material_target(&self, target: &UserUri) -> Result<(), RequestError> {
        use mimi_room::components::ServerCapabilities;
        let room = self.group.room();
        room.require_server(target.domain(), ServerCapabilities::JOIN)
            .and_then(|()| room.require_server(target.domain(), ServerCapabilities::KEY_MATERIAL))
            .map_err(RequestError::ServerNotAllowed)
    }

    /// `POST /update/{roomId}`: a commit bundle or proposals. Exactly one commit per epoch is
    /// accepted: the first valid one; later ones for the same epoch get `wrongEpoch`.
    pub fn handle_update(
        &mut self,
        now_ms: u64,
        peer: &Domain,
        request: UpdateRequest,
    ) -> Result<HubOutput<UpdateRoomResponse>, RequestError> {
        self.handle_update_as(now_ms, peer, request, None, None)
    }

    /// [`HubRoom::handle_update`] for a request that `acting`, a device of the hub's own
    /// provider, handed in through its client API: each handshake must then be that device's
    /// own ([`RequestError::NotOwnHandshake`] otherwise), checked on the one MLS validation
    /// the update gets. With the hub's external-sender identity (`enforcer`), removals the
    /// hub proposed that an external commit lets lapse are re-issued in the new epoch and
    /// stapled to the commit's fan-out (`externalProposals`, digest §3.5).
    pub fn handle_update_as(
        &mut self,
        now_ms: u64,
        peer: &Domain,
        request: UpdateRequest,
        acting: Option<&ClientUri>,
        enforcer: Option<&ServerIdentity>,
    ) -> Result<HubOutput<UpdateRoomResponse>, RequestError> {
        let now_s = now_ms / 1000;
        if let Err(over) = self.check_open() {
            return Ok(HubOutput::refused(UpdateRoomResponse::new(
                UpdateOutcome::NotAllowed,
                over.to_string(),
            )));
        }
        match request.bundle {
            HandshakeBundle::Commit(bundle) => {
                let staged = match self.group.process(bundle.commit.as_bytes(), now_s) {
                    Ok(staged) => staged,
                    Err(err) => return Ok(HubOutput::refused(update_refusal(&err))),
                };
                check_actor(peer, acting, &staged)?;
                let resynced = resynced_client(staged.summary());
                // An external commit cannot include the hub's pending removals: they lapse
                // with the epoch, and the hub proposes them again in the next.
                let lapsed = if staged.summary().external_join {
                    self.group.enforced_removals()
                } else {
                    Vec::new()
                };
                let before = self.member_domains();
                // The committer's full GroupInfo is required: the hub checks the commit's
                // confirmation tag against it (it cannot compute the tag itself, and members
                // refuse a commit whose tag is wrong) and serves it for external joins. A
                // partial GroupInfo would have to be rebuilt from the tree (not supported), so
                // such a commit is refused like one without any (`notAllowed`).
                let group_info = match &bundle.group_info_option {
                    GroupInfoOption::Full(gi) => Some(
                        gi.to_mls_message()
                            .map_err(|e| RequestError::malformed("groupInfo", e))?
                            .into_bytes(),
                    ),
                    _ => None,
                };
                if let Err(err) = self.group.merge(staged, group_info.as_deref(), now_s) {
                    return Ok(HubOutput::refused(update_refusal(&err)));
                }
                self.refresh_fanout();
                let after = self.member_domains();
                let external_proposals = match enforcer {
                    Some(hub) if !lapsed.is_empty() => self.repropose(now_ms, hub, &lapsed)?,
                    _ => Vec::new(),
                };
                let mut effects = Vec::new();
                let commit = FanoutMessage::new(
                    now_ms,
                    FanoutContent::Commit {
                        message: bundle.commit,
                        external_proposals,
                    },
                );
                let entry = self.accept(&commit)?;
                for to in before.union(&after) {
                    effects.push(self.notify(to, commit.clone()));
                }
                if let Some(welcome) = bundle.welcome {
                    let mut targets = BTreeSet::new();
                    for reference in welcome.new_members() {
                        if let Some(provider) = self.routes.remove(reference.as_bytes()) {
                            targets.insert(provider);
                        }
                    }
                    let message = welcome
                        .to_mls_message()
                        .map_err(|e| RequestError::malformed("welcome", e))?;
                    // The joiners need the tree of the epoch the Welcome starts: the hub has
                    // just merged the commit, so its tree is exactly that one.
                    let tree = self
                        .group
                        .ratchet_tree_nodes()
                        .map_err(|e| RequestError::Internal(format!("ratchet tree: {e}")))?;
                    let tree = RatchetTree::from_bytes(tree)
                        .map_err(|e| RequestError::Internal(format!("ratchet tree: {e}")))?;
                    let fanout = FanoutMessage::new(
                        now_ms,
                        FanoutContent::Welcome {
                            message,
                            ratchet_tree_option: RatchetTreeOption::Full(tree),
                        },
                    );
                    for to in &targets {
                        effects.push(self.notify(to, fanout.clone()));
                    }
                }
                Ok(HubOutput {
                    response: UpdateRoomResponse::new(
                        UpdateOutcome::Success {
                            accepted_timestamp: now_ms,
                        },
                        "",
                    ),
                    effects,
                    changed: true,
                    state_changed: true,
                    log: vec![entry],
                    resynced,
                })
            }
            HandshakeBundle::Proposals(bundle) => {
                let mut all = vec![bundle.proposal.clone()];
                all.extend(bundle.more_proposals.iter().cloned());
                let mut staged = Vec::with_capacity(all.len());
                for proposal in &all {
                    match self.group.process(proposal.as_bytes(), now_s) {
                        Ok(s) => {
                            check_actor(peer, acting, &s)?;
                            staged.push(s);
                        }
                        Err(err) => return Ok(HubOutput::refused(update_refusal(&err))),
                    }
                }
                for s in staged {
                    if let Err(err) = self.group.merge(s, None, now_s) {
                        return Ok(HubOutput::refused(update_refusal(&err)));
                    }
                }
                self.refresh_fanout();
                let fanout = FanoutMessage::new(
                    now_ms,
                    FanoutContent::Proposal {
                        message: bundle.proposal,
                        more_proposals: bundle.more_proposals,
                    },
                );
                let entry = self.accept(&fanout)?;
                let effects = self
                    .member_domains()
                    .iter()
                    .map(|to| self.notify(to, fanout.clone()))
                    .collect();
                Ok(HubOutput {
                    response: UpdateRoomResponse::new(
                        UpdateOutcome::Success {
                            accepted_timestamp: now_ms,
                        },
                        "",
                    ),
                    effects,
                    changed: true,
                    state_changed: true,
                    log: vec![entry],
                    resynced: None,
                })
            }
            _ => Err(RequestError::malformed(
                "bundle",
                "unsupported handshake bundle",
            )),
        }
    }

    /// `POST /submitMessage/{roomId}`: an application message from a participant allowed to
    /// send, in the current epoch.
    ///
    /// With a `franker`, a message carrying a `frank_aad` tag in a room whose franking agent
    /// is this hub is franked (§5.4.1): the frank is in the answer and in the fan-out.
    pub fn handle_submit(
        &mut self,
        now_ms: u64,
        peer: &Domain,
        request: SubmitMessageRequest,
        franker: Option<&mimi_mls::franking::Franker>,
    ) -> Result<HubOutput<SubmitMessageResponse>, RequestError> {
        let info = match self.check_message(peer, &request)? {
            Ok(info) => info,
            Err(refused) => return Ok(HubOutput::refused(SubmitMessageResponse::new(refused))),
        };
        let tag = info.frank_aad.as_ref();
        let digest = replay::ReplayWindow::digest(request.app_message.as_bytes());
        if let Some(accepted_timestamp) = self.replays.accepted_at(&digest) {
            // A repeat of an accepted message: the first answer again (its frank is computed
            // anew, the same bytes), nothing fanned out.
            let frank = self.frank(franker, tag, &request.sending_uri, accepted_timestamp)?;
            return Ok(HubOutput::unchanged(
                SubmitMessageResponse::new(SubmitOutcome::Accepted {
                    accepted_timestamp,
                    frank,
                }),
                Vec::new(),
            ));
        }
        let frank = self.frank(franker, tag, &request.sending_uri, now_ms)?;
        let fanout = FanoutMessage::new(
            now_ms,
            FanoutContent::Application {
                message: request.app_message,
                frank: frank.clone(),
            },
        );
        let entry = self.accept(&fanout)?;
        self.replays.remember(digest, now_ms);
        let effects = self
            .readers
            .iter()
            .map(|to| self.notify_application(to, fanout.clone()))
            .collect();
        Ok(HubOutput {
            response: SubmitMessageResponse::new(SubmitOutcome::Accepted {
                accepted_timestamp: now_ms,
                frank,
            }),
            effects,
            changed: true,
            state_changed: false,
            log: vec![entry],
            resynced: None,
        })
    }

    /// An ephemeral message (a typing indicator, never stored): checked as
    /// [`HubRoom::handle_submit`] checks a message (the peer acts for its own user, who is a
    /// participant allowed to send, in the current epoch), but nothing is ordered, franked or
    /// remembered, so a copy of the room that other readers share serves. `None` if it may be
    /// relayed, else the refusal `handle_submit` would answer.
    pub fn check_ephemeral(
        &self,
        peer: &Domain,
        request: &SubmitMessageRequest,
    ) -> Result<Option<SubmitOutcome>, RequestError> {
        Ok(self.check_message(peer, request)?.err())
    }

    /// What `handle_submit` and `check_ephemeral` check of a message before accepting it:
    /// the message's details, or the refusal to answer.
    fn check_message(
        &self,
        peer: &Domain,
        request: &SubmitMessageRequest,
    ) -> Result<Result<AppMessageInfo, SubmitOutcome>, RequestError> {
        let sender = sending_user(request)?;
        if sender.domain() != peer {
            return Err(RequestError::ActingForForeignUser {
                peer: peer.clone(),
                user: sender.to_string(),
            });
        }
        if self.check_open().is_err() {
            return Ok(Err(SubmitOutcome::NotAllowed));
        }
        match self
            .group
            .check_application(request.app_message.as_bytes(), &sender)
        {
            Ok(info) => Ok(Ok(info)),
            Err(MlsError::EpochTooOld { current, .. }) => Ok(Err(SubmitOutcome::EpochTooOld {
                current_epoch: current,
            })),
            Err(_) => Ok(Err(SubmitOutcome::NotAllowed)),
        }
    }

    fn notify(&self, to: &Domain, message: FanoutMessage) -> Effect {
        Effect::Notify {
            to: to.clone(),
            room: self.room.clone(),
            message,
            withheld: Vec::new(),
        }
    }

    /// The notify of an accepted application message for `to`, naming the member devices
    /// there it is withheld from ([`HubRoom::withheld_at`]).
    fn notify_application(&self, to: &Domain, message: FanoutMessage) -> Effect {
        Effect::Notify {
            to: to.clone(),
            room: self.room.clone(),
            message,
            withheld: self.withheld_at(to).to_vec(),
        }
    }

    /// The member devices of provider `to` whose users may not receive application messages
    /// (`canReceiveMessage`) in the current epoch: the hub names them with each application
    /// message it sends `to`, whose follower then withholds it from them (our `notify`
    /// extension, `mimi_federation_api::withheld`). Empty for most providers.
    pub fn withheld_at(&self, to: &Domain) -> &[ClientUri] {
        self.withheld.get(to).map_or(&[], Vec::as_slice)
    }

    /// Recomputes who gets fan-out after the group changed.
    fn refresh_fanout(&mut self) {
        let Fanout {
            domains,
            readers,
            withheld,
        } = domains_of(self.group.room());
        self.domains = domains;
        self.readers = readers;
        self.withheld = withheld;
    }
}

/// The user a submitMessage names (a user URI, or a client URI of the `/d/<user>/<id>` form).
fn sending_user(request: &SubmitMessageRequest) -> Result<UserUri, RequestError> {
    let uri = request
        .sending_uri
        .parse()
        .map_err(|e| RequestError::malformed("sendingUri", e))?;
    match uri {
        mimi_types::MimiUri::User(user) => Ok(user),
        mimi_types::MimiUri::Client(client) => client
            .user_hint()
            .ok_or_else(|| RequestError::malformed("sendingUri", "the client URI names no user")),
        other => Err(RequestError::malformed(
            "sendingUri",
            format!("expected a user URI, found a {} URI", other.kind()),
        )),
    }
}

/// Who gets a room's fan-out, from its room state's member map (client → user, kept with the
/// epoch; no credential is parsed).
struct Fanout {
    /// The providers with a member device.
    domains: BTreeSet<Domain>,
    /// Those of them with a member device whose user may receive application messages.
    readers: BTreeSet<Domain>,
    /// For each reader, its member devices whose users may not (only readers with some).
    withheld: BTreeMap<Domain, Vec<ClientUri>>,
}

/// The fan-out of a room in state `room`. A provider with more devices to withhold than one
/// notify may name (`mimi_federation_api::withheld::MAX_WITHHELD`) is no reader: it gets no
/// application message, rather than its follower handing them to devices that may not have
/// them (tested in `hub/withheld_cap.rs`).
fn domains_of(room: &mimi_room::RoomState) -> Fanout {
    let receiving = room.receiving_users();
    let mut fanout = Fanout {
        domains: BTreeSet::new(),
        readers: BTreeSet::new(),
        withheld: BTreeMap::new(),
    };
    let mut not_receiving: BTreeMap<Domain, Vec<ClientUri>> = BTreeMap::new();
    // Clone a domain only when it is new to a set: a room of thousands has few providers.
    for (client, user) in room.members() {
        let domain = client.domain();
        if !fanout.domains.contains(domain) {
            fanout.domains.insert(domain.clone());
        }
        if receiving.contains(user) {
            if !fanout.readers.contains(domain) {
                fanout.readers.insert(domain.clone());
            }
        } else {
            not_receiving
                .entry(domain.clone())
                .or_default()
                .push(client.clone());
        }
    }
    for (domain, devices) in not_receiving {
        if !fanout.readers.contains(&domain) {
            continue;
        }
        if devices.len() > mimi_federation_api::withheld::MAX_WITHHELD {
            fanout.readers.remove(&domain);
        } else {
            fanout.withheld.insert(domain, devices);
        }
    }
    fanout
}

/// A device acting through its provider's client API may hand in only handshakes it signed.
fn check_actor(
    peer: &Domain,
    acting: Option<&ClientUri>,
    staged: &StagedHandshake,
) -> Result<(), RequestError> {
    if let Some(device) = acting {
        let own =
            matches!(&staged.summary().actor, Actor::Client { client, .. } if client == device);
        if !own {
            let actor = match &staged.summary().actor {
                Actor::Client { client, .. } => client.to_string(),
                Actor::Server(domain) => domain.to_string(),
            };
            return Err(RequestError::NotOwnHandshake {
                device: device.to_string(),
                actor,
            });
        }
    }
    let (domain, who) = match &staged.summary().actor {
        Actor::Client { client, .. } => (client.domain(), client.to_string()),
        Actor::Server(domain) => (domain, domain.to_string()),
    };
    if domain == peer {
        Ok(())
    } else {
        Err(RequestError::ActingForForeignUser {
            peer: peer.clone(),
            user: who,
        })
    }
}

/// The `update` answer for a handshake the group refused.
fn update_refusal(err: &MlsError) -> UpdateRoomResponse {
    let outcome = match err {
        MlsError::WrongEpoch { current, .. } => UpdateOutcome::WrongEpoch {
            current_epoch: *current,
        },
        MlsError::MissingCachedProposals { .. } => UpdateOutcome::InvalidProposal {
            invalid_proposals: Vec::new(),
        },
        _ => UpdateOutcome::NotAllowed,
    };
    UpdateRoomResponse::new(outcome, err.to_string())
}

/// The client of an external commit that removes the committer's own old leaf (RFC 9420
/// §12.4.3.2: a member resynchronising), if the commit is one.
fn resynced_client(summary: &mimi_mls::CommitSummary) -> Option<ClientUri> {
    match &summary.actor {
        Actor::Client { client, .. }
            if summary.external_join && summary.removed.iter().any(|m| m.client == *client) =>
        {
            Some(client.clone())
        }
        _ => None,
    }
}
