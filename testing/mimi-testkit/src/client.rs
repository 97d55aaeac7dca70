//! A device: a real mimi-mls client with its groups and what it has seen.

use std::collections::BTreeMap;

use mimi_ds::{Delivery, Recipients};
use mimi_federation_api::Encode;
use mimi_federation_api::mls::ContentType;
use mimi_federation_api::notify::FanoutContent;
use mimi_federation_api::ratchet_tree::RatchetTreeOption;
use mimi_mls::{ClientGroup, ClientIdentity, Incoming, TrustStore};
use mimi_types::{ClientUri, RoomUri};
use sha2::{Digest, Sha256};

/// Something a device saw, in the order it saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceEvent {
    /// It joined the room from a Welcome (or created it).
    Joined {
        /// The room.
        room: RoomUri,
        /// The epoch it joined at.
        epoch: u64,
    },
    /// It decrypted an application message.
    Message {
        /// The room.
        room: RoomUri,
        /// The sending device.
        sender: ClientUri,
        /// The plaintext.
        data: Vec<u8>,
    },
    /// It processed a commit.
    Commit {
        /// The room.
        room: RoomUri,
        /// The epoch the commit started.
        epoch: u64,
        /// Whether the commit removed this device.
        removed_me: bool,
    },
    /// It processed a proposal.
    Proposal {
        /// The room.
        room: RoomUri,
    },
    /// Processing failed (a test asserts there are none).
    Failed {
        /// The room.
        room: RoomUri,
        /// What went wrong.
        error: String,
    },
}

/// One device of the simulated federation.
pub struct SimDevice {
    pub(crate) identity: ClientIdentity,
    pub(crate) groups: BTreeMap<RoomUri, ClientGroup>,
    /// What this device sent (by digest): the plaintext of its application messages, shown
    /// when the hub's fan-out brings them back in hub order; `None` for handshakes.
    pub(crate) sent: BTreeMap<[u8; 32], Option<Vec<u8>>>,
    pub(crate) events: Vec<DeviceEvent>,
}

impl std::fmt::Debug for SimDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimDevice")
            .field("client", self.identity.client())
            .field("rooms", &self.groups.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

pub(crate) fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl SimDevice {
    pub(crate) fn new(identity: ClientIdentity) -> Self {
        Self {
            identity,
            groups: BTreeMap::new(),
            sent: BTreeMap::new(),
            events: Vec::new(),
        }
    }

    /// Everything the device saw.
    pub fn events(&self) -> &[DeviceEvent] {
        &self.events
    }

    /// The messages it decrypted in `room`, in order: (sender, plaintext).
    pub fn messages(&self, room: &RoomUri) -> Vec<(ClientUri, Vec<u8>)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                DeviceEvent::Message {
                    room: r,
                    sender,
                    data,
                } if r == room => Some((sender.clone(), data.clone())),
                _ => None,
            })
            .collect()
    }

    /// Failures it met.
    pub fn failures(&self) -> Vec<&DeviceEvent> {
        self.events
            .iter()
            .filter(|e| matches!(e, DeviceEvent::Failed { .. }))
            .collect()
    }

    /// Whether it is an active member of `room`.
    pub fn is_member(&self, room: &RoomUri) -> bool {
        self.groups.get(room).is_some_and(ClientGroup::is_active)
    }

    /// Its group in `room`.
    pub fn group(&self, room: &RoomUri) -> Option<&ClientGroup> {
        self.groups.get(room)
    }

    /// Handles one delivery from its provider.
    pub(crate) fn handle(&mut self, delivery: Delivery, trust: &TrustStore, now_s: u64) {
        let room = delivery.room.clone();
        let result = match (&delivery.to, &delivery.message.content) {
            (
                Recipients::Client(_),
                FanoutContent::Welcome {
                    message,
                    ratchet_tree_option,
                },
            ) => self.join(&room, message.as_bytes(), ratchet_tree_option, trust, now_s),
            (Recipients::Room, content) => self.process(&room, content, now_s),
            _ => Ok(()),
        };
        if let Err(error) = result {
            self.events.push(DeviceEvent::Failed { room, error });
        }
    }

    fn join(
        &mut self,
        room: &RoomUri,
        welcome: &[u8],
        tree: &RatchetTreeOption,
        trust: &TrustStore,
        now_s: u64,
    ) -> Result<(), String> {
        if self.is_member(room) {
            return Ok(());
        }
        let RatchetTreeOption::Full(tree) = tree else {
            return Err("a Welcome without its ratchet tree".into());
        };
        let tree = tree.encode().map_err(|e| e.to_string())?;
        let group =
            ClientGroup::join_from_welcome(&self.identity, welcome, &tree, trust.clone(), now_s)
                .map_err(|e| e.to_string())?;
        self.events.push(DeviceEvent::Joined {
            room: room.clone(),
            epoch: group.epoch(),
        });
        self.groups.insert(room.clone(), group);
        Ok(())
    }

    fn process(
        &mut self,
        room: &RoomUri,
        content: &FanoutContent,
        now_s: u64,
    ) -> Result<(), String> {
        let Some(group) = self.groups.get_mut(room) else {
            return Ok(());
        };
        if !group.is_active() {
            return Ok(());
        }
        let mut messages = vec![content.message()];
        if let FanoutContent::Proposal { more_proposals, .. } = content {
            messages.extend(more_proposals.iter());
        }
        for message in messages {
            if let Some(own) = self.sent.get(&digest(message.as_bytes())) {
                if let Some(data) = own {
                    self.events.push(DeviceEvent::Message {
                        room: room.clone(),
                        sender: self.identity.client().clone(),
                        data: data.clone(),
                    });
                }
                continue;
            }
            // A handshake of a past epoch is one this device already moved past (its own
            // commit, merged when the hub accepted it). An application message of a past
            // epoch is still read: the hub accepted it before the commit, and MLS keeps past
            // epochs' secrets for this.
            let is_handshake = message.content_type() != Some(ContentType::Application);
            if is_handshake && message.epoch().is_some_and(|e| e < group.epoch()) {
                continue;
            }
            match group
                .process(message.as_bytes(), now_s)
                .map_err(|e| e.to_string())?
            {
                Incoming::Application(m) => self.events.push(DeviceEvent::Message {
                    room: room.clone(),
                    sender: m.sender.client,
                    data: m.data,
                }),
                Incoming::Proposal(_) => self
                    .events
                    .push(DeviceEvent::Proposal { room: room.clone() }),
                Incoming::Commit {
                    epoch, removed_me, ..
                } => self.events.push(DeviceEvent::Commit {
                    room: room.clone(),
                    epoch,
                    removed_me,
                }),
                _ => {}
            }
        }
        Ok(())
    }
}
