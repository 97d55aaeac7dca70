//! `POST /notify/{roomId}` receipt at a follower, for one room (protocol-06 §5.5, §7).
//!
//! * Only the room's hub (its URI's domain) may notify; anyone else is refused.
//! * A message received before is ignored, whatever body it came in: the hub retries until it
//!   gets a 201 and may regroup its queue differently on the retry (one notify carries every
//!   queued message of a room, digest §3.5), so repeats are found per message
//!   ([`message_digest`]), not per body. A body of nothing but repeats is acknowledged and
//!   does nothing. The last [`RoomInbox::DEDUP_WINDOW`] messages are remembered.
//! * Epochs never go backwards: a commit, proposal or application message of an epoch before the
//!   current one is a replay and is dropped.
//! * A commit comes before the messages of the epoch it starts: anything of an epoch after the
//!   current one waits in a buffer until the commit that reaches that epoch arrives, then goes
//!   out in hub order.
//! * A Welcome carries no epoch: it is delivered at once to the device whose KeyPackage it names.
//!   When it comes after a time with no member here (the hub sends a provider nothing while it
//!   has no member), the commit that added ours is ahead of the last epoch we saw and waits in
//!   the buffer: the Welcome moves the inbox to that commit's epoch.
//! * Made for a provider ([`RoomInbox::for_members`]), the inbox also decides which local
//!   devices get each message: the room's [`LocalMembers`] at that point of hub order (a
//!   device joins when its Welcome or external commit arrives, and gets nothing after the
//!   commit that removes it, which it still gets). Made with [`RoomInbox::new`] it leaves
//!   that to the caller ([`Recipients::Room`]).
//! * The hub may name member devices here that a body's application messages are withheld from
//!   (their users may not receive them, `canReceiveMessage`; our `notify` extension,
//!   `mimi_federation_api::withheld`): those messages then go to the other member devices only
//!   ([`Recipients::Only`]), also when they waited in the buffer. Handshakes go to every member
//!   device whatever the hub names.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use mimi_federation_api::mls::ContentType;
use mimi_federation_api::notify::{FanoutContent, FanoutMessage, NotifyRequest};
use mimi_types::{ClientUri, Domain, RoomUri};
use sha2::{Digest, Sha256};

use mimi_federation_api::Encode as _;
use mimi_federation_api::ratchet_tree::RatchetTreeOption;

use super::members::LocalMembers;
use crate::effects::{Delivery, Recipients};

/// Why a notify body is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InboxError {
    /// The sender is not the room's hub.
    #[error("{peer} is not the hub of {room}; only the hub may notify")]
    NotTheHub {
        /// The authenticated peer.
        peer: Domain,
        /// The room.
        room: RoomUri,
    },
    /// Too many messages wait for a missing commit.
    #[error("{buffered} messages of {room} are waiting for a missing commit; refusing more")]
    BufferFull {
        /// The room.
        room: RoomUri,
        /// How many wait.
        buffered: usize,
    },
}

/// The outcome of one notify body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyReceipt {
    /// The body was received before: acknowledge, do nothing.
    pub duplicate: bool,
    /// What to hand to local devices, in order.
    pub deliveries: Vec<Delivery>,
    /// Messages dropped as replays of past epochs.
    pub dropped: usize,
    /// Welcomes naming no KeyPackage we handed out.
    pub unroutable_welcomes: usize,
}

/// The identity of a fanned-out message for duplicate detection: the SHA-256 of its encoding
/// (hub timestamp and MLS message; two distinct messages never share both). Followers that keep
/// their own window of received messages across restarts use the same digest.
pub fn message_digest(message: &FanoutMessage) -> [u8; 32] {
    let mut hasher = Sha256::new();
    match message.encode() {
        Ok(bytes) => hasher.update(&bytes),
        // Only a message too large to encode fails; such a message never came off the wire.
        Err(_) => hasher.update(format!("{message:?}").as_bytes()),
    }
    hasher.finalize().into()
}

/// The receiving state of one room at a follower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomInbox {
    room: RoomUri,
    epoch: Option<u64>,
    recent: VecDeque<[u8; 32]>,
    recent_set: BTreeSet<[u8; 32]>,
    buffered: BTreeMap<u64, Vec<(FanoutMessage, Withheld)>>,
    members: Option<LocalMembers>,
}

/// The member devices the hub withheld a message from (shared by a body's messages).
type Withheld = std::sync::Arc<BTreeSet<ClientUri>>;

impl RoomInbox {
    /// How many recent messages are remembered for duplicate detection.
    pub const DEDUP_WINDOW: usize = 4096;
    /// How many messages may wait for a missing commit.
    pub const MAX_BUFFERED: usize = 10_000;

    /// A room we have heard nothing of yet.
    pub fn new(room: RoomUri) -> Self {
        Self {
            room,
            epoch: None,
            recent: VecDeque::new(),
            recent_set: BTreeSet::new(),
            buffered: BTreeMap::new(),
            members: None,
        }
    }

    /// A room whose deliveries go to `members`' devices only (see the module documentation).
    pub fn for_members(room: RoomUri, members: LocalMembers) -> Self {
        Self {
            members: Some(members),
            ..Self::new(room)
        }
    }

    /// The member devices at this provider, if this inbox decides them.
    pub fn members(&self) -> Option<&LocalMembers> {
        self.members.as_ref()
    }

    /// The room.
    pub fn room(&self) -> &RoomUri {
        &self.room
    }

    /// The current epoch, once known.
    pub fn epoch(&self) -> Option<u64> {
        self.epoch
    }

    /// Messages waiting for a commit.
    pub fn buffered(&self) -> usize {
        self.buffered.values().map(Vec::len).sum()
    }

    /// Receives a notify body from `peer`, decoded. `welcome_target` maps a KeyPackageRef to
    /// the local device it was claimed for. Messages received before (by [`message_digest`])
    /// are skipped; [`NotifyReceipt::duplicate`] says that every message was.
    pub fn receive(
        &mut self,
        peer: &Domain,
        request: NotifyRequest,
        welcome_target: &dyn Fn(&[u8]) -> Option<ClientUri>,
    ) -> Result<NotifyReceipt, InboxError> {
        self.receive_withholding(peer, request, BTreeSet::new(), welcome_target)
    }

    /// [`RoomInbox::receive`] for a body whose application messages the hub withheld from
    /// the member devices `withheld` (see the module documentation). The caller has checked
    /// that they are devices of this provider; one that is no member here changes nothing.
    pub fn receive_withholding(
        &mut self,
        peer: &Domain,
        request: NotifyRequest,
        withheld: BTreeSet<ClientUri>,
        welcome_target: &dyn Fn(&[u8]) -> Option<ClientUri>,
    ) -> Result<NotifyReceipt, InboxError> {
        if peer != self.room.hub_domain() {
            return Err(InboxError::NotTheHub {
                peer: peer.clone(),
                room: self.room.clone(),
            });
        }
        let mut fresh = Vec::with_capacity(request.messages.len());
        let mut seen = BTreeSet::new();
        for message in request.messages {
            let digest = message_digest(&message);
            // A repeat within the body itself counts as one.
            if !self.recent_set.contains(&digest) && seen.insert(digest) {
                fresh.push((digest, message));
            }
        }
        if fresh.is_empty() {
            return Ok(NotifyReceipt {
                duplicate: true,
                ..NotifyReceipt::default()
            });
        }
        if self.buffered() + fresh.len() > Self::MAX_BUFFERED {
            return Err(InboxError::BufferFull {
                room: self.room.clone(),
                buffered: self.buffered(),
            });
        }
        let mut receipt = NotifyReceipt::default();
        let withheld = Withheld::new(withheld);
        for (digest, message) in fresh {
            self.remember(digest);
            self.accept(message, &withheld, welcome_target, &mut receipt);
        }
        Ok(receipt)
    }

    fn remember(&mut self, digest: [u8; 32]) {
        self.recent.push_back(digest);
        self.recent_set.insert(digest);
        while self.recent.len() > Self::DEDUP_WINDOW {
            if let Some(old) = self.recent.pop_front() {
                self.recent_set.remove(&old);
            }
        }
    }

    fn accept(
        &mut self,
        message: FanoutMessage,
        withheld: &Withheld,
        welcome_target: &dyn Fn(&[u8]) -> Option<ClientUri>,
        receipt: &mut NotifyReceipt,
    ) {
        if let FanoutContent::Welcome { .. } = &message.content {
            if self.route_welcome(message, welcome_target, receipt) {
                // The Welcome's tree is that of the epoch the buffered commit starts.
                if self.first_buffered_commit().is_some()
                    && let Some(members) = &mut self.members
                {
                    members.skip_next_commit();
                }
                self.resync_after_gap(welcome_target, receipt);
            }
            return;
        }
        let mls = message.content.message();
        let Some(epoch) = mls.epoch() else {
            receipt.dropped += 1;
            return;
        };
        let is_commit = mls.content_type() == Some(ContentType::Commit);
        let current = *self.epoch.get_or_insert(epoch);
        if epoch < current {
            receipt.dropped += 1;
            return;
        }
        if epoch > current {
            self.buffered
                .entry(epoch)
                .or_default()
                .push((message, Withheld::clone(withheld)));
            return;
        }
        self.deliver(message, withheld, receipt);
        if is_commit {
            self.advance(current + 1, welcome_target, receipt);
        }
    }

    /// Moves to `epoch` and releases what waited for it, in hub order.
    fn advance(
        &mut self,
        epoch: u64,
        welcome_target: &dyn Fn(&[u8]) -> Option<ClientUri>,
        receipt: &mut NotifyReceipt,
    ) {
        self.epoch = Some(epoch);
        // Replays of epochs now past can be dropped.
        let stale: Vec<u64> = self.buffered.range(..epoch).map(|(e, _)| *e).collect();
        for e in stale {
            receipt.dropped += self.buffered.remove(&e).map_or(0, |v| v.len());
        }
        if let Some(waiting) = self.buffered.remove(&epoch) {
            for (message, withheld) in waiting {
                self.accept(message, &withheld, welcome_target, receipt);
            }
        }
    }

    /// A Welcome for one of our devices after a time with no member here: the hub sent us
    /// nothing while we had no member, so the commit that added ours is of a later epoch than
    /// the last one we saw, and waits in the buffer. That gap is real, not a reordering: jump
    /// to the earliest buffered commit and release what follows it.
    fn resync_after_gap(
        &mut self,
        welcome_target: &dyn Fn(&[u8]) -> Option<ClientUri>,
        receipt: &mut NotifyReceipt,
    ) {
        if let Some(epoch) = self.first_buffered_commit() {
            self.epoch = Some(epoch);
            if let Some(waiting) = self.buffered.remove(&epoch) {
                for (message, withheld) in waiting {
                    self.accept(message, &withheld, welcome_target, receipt);
                }
            }
        }
    }

    /// The epoch of the earliest buffered commit.
    fn first_buffered_commit(&self) -> Option<u64> {
        self.buffered.iter().find_map(|(epoch, messages)| {
            messages
                .iter()
                .any(|(m, _)| m.content.message().content_type() == Some(ContentType::Commit))
                .then_some(*epoch)
        })
    }

    /// Hands a Welcome to the devices whose KeyPackages it names; whether any is ours.
    fn route_welcome(
        &mut self,
        message: FanoutMessage,
        welcome_target: &dyn Fn(&[u8]) -> Option<ClientUri>,
        receipt: &mut NotifyReceipt,
    ) -> bool {
        let refs = mimi_mls::welcome_key_package_refs(message.content.message().as_bytes())
            .unwrap_or_default();
        let mut routed = false;
        for reference in refs {
            if let Some(client) = welcome_target(&reference) {
                if let Some(members) = &mut self.members {
                    let tree = match &message.content {
                        FanoutContent::Welcome {
                            ratchet_tree_option: RatchetTreeOption::Full(tree),
                            ..
                        } => tree.encode().ok(),
                        _ => None,
                    };
                    let started = tree.is_some_and(|t| members.start_from_tree(&t).is_ok());
                    if !started || !members.contains(&client) {
                        members.add_unplaced(client.clone());
                    }
                }
                routed = true;
                receipt.deliveries.push(Delivery {
                    room: self.room.clone(),
                    to: Recipients::Client(client),
                    message: message.clone(),
                });
            }
        }
        if !routed {
            receipt.unroutable_welcomes += 1;
        }
        routed
    }

    fn deliver(
        &mut self,
        message: FanoutMessage,
        withheld: &Withheld,
        receipt: &mut NotifyReceipt,
    ) {
        let Some(members) = &mut self.members else {
            receipt.deliveries.push(Delivery {
                room: self.room.clone(),
                to: Recipients::Room,
                message,
            });
            return;
        };
        let recipients = match &message.content {
            FanoutContent::Commit {
                message: commit,
                external_proposals,
            } => {
                let recipients = members.commit(commit.as_bytes());
                // The hub's replacement proposals are of the epoch the commit starts.
                for p in external_proposals {
                    members.proposal(p.as_bytes());
                }
                recipients
            }
            FanoutContent::Proposal {
                message: proposal,
                more_proposals,
            } => {
                members.proposal(proposal.as_bytes());
                for p in more_proposals {
                    members.proposal(p.as_bytes());
                }
                members.devices()
            }
            FanoutContent::Application { .. } => {
                let devices = members.devices();
                if devices.iter().any(|d| withheld.contains(d)) {
                    let to = devices.difference(withheld).cloned().collect();
                    receipt.deliveries.push(Delivery {
                        room: self.room.clone(),
                        to: Recipients::Only(to),
                        message,
                    });
                    return;
                }
                devices
            }
            _ => members.devices(),
        };
        receipt.deliveries.push(Delivery {
            room: self.room.clone(),
            to: Recipients::Devices(recipients.into_iter().collect()),
            message,
        });
    }
}
