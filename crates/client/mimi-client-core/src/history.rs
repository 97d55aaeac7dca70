//! History for a new device: a user's existing devices hand a device added later the room
//! histories they hold, end to end encrypted between the user's own devices, within what each
//! room's history policy allows. The same request and envelope carry history to a new
//! *member* (another user) where the room's policy lets a member share: who shares, and what
//! the newcomer checks, is in `crate::history_members`.
//!
//! # How (our design; the drafts leave history sync open: architecture issue #19)
//!
//! 1. The new device, once it joined its user's rooms, leaves a **request** in the mailbox of
//!    each of its siblings at their provider ([`Client::history_request`]): its client URI,
//!    MLS credential and signature key, its **history key** (an HPKE public key of the cipher
//!    suite), the time and the rooms it asks for, signed with its MLS signing key
//!    (`SignWithLabel`, label [`REQUEST_LABEL`]).
//! 2. A sibling handles the request ([`Client::handle_history_item`]): the credential must
//!    validate against the trust store and name a *different device of the same user*, the
//!    signature must verify, and the request must be younger than [`REQUEST_TTL_SECS`].
//!    For each room asked for it answers with one **envelope**: the room's log as the view
//!    holds it (the exact content bytes, authenticated sender, device and hub timestamp of
//!    every accepted message, reaction, edit, delete and receipt, oldest first), capped by
//!    [`HistoryLimits`] (the newest entries are kept), HPKE-sealed to the history key
//!    (`EncryptWithLabel`, label [`SEAL_LABEL`], context = recipient and room), and the
//!    envelope signed by the sibling (label [`BUNDLE_LABEL`]). The envelope says
//!    [`ShareStatus::Forbidden`] with no entries where the policy forbids sharing,
//!    [`ShareStatus::NotMember`] where the requester is not (yet) in the room's MLS group as
//!    the sibling sees it: a device never receives history of a room it is not a member of.
//! 3. The new device imports each envelope ([`Client::handle_history_item`]): the sender's
//!    credential must validate and name another device (a server, or this device itself, is
//!    refused with [`HistoryError::NotOwnDevice`]), the signature must verify, the envelope must
//!    be for this device and a room it is an active member of, and the room's policy (as this
//!    device sees it) must allow sharing: by this user's role for a sibling's envelope, by the
//!    sender's role for another user's, whose device must also be a member of the room
//!    ([`HistoryError::NotASharer`] otherwise; see `crate::history_members`). The entries new to the view (by message ID) are
//!    merged in front of what the device received itself, in hub-timestamp order, and marked
//!    imported ([`crate::MessageView::imported`]).
//!
//! The provider carries requests and envelopes in the per-device mailbox of its client API and
//! sees only signed public keys and ciphertext. Everything here is sans-IO: the SDK moves the
//! items.
//!
//! # Readings
//!
//! * The history key is derived, not stored: the HPKE `DeriveKeyPair` of the device's own
//!   `SignWithLabel(signing key, "MIMI history key", client URI)` (Ed25519 signatures are
//!   deterministic and this one is never sent), so a device answers envelopes that arrive
//!   after a restart without new state. A device that re-issues its credential keeps its
//!   signing key and so its history key.
//! * Policy (room-policy `HistoryPolicy`): no component means sharing with one's own devices
//!   is allowed (the history is the user's already; what today's messengers do when a device
//!   is linked); `forbidden` means nothing is handed over; `optional` and `required` allow it
//!   when the user's role is in `roles_that_can_share`, and only messages of the last
//!   `max_time_period` seconds (0 = no limit, our reading). `automatically_share` concerns
//!   other new members (`crate::history_members`) and does not apply between a user's own
//!   devices. Both ends check.
//! * The imported entries cannot be re-authenticated by the new device (it never had the
//!   epochs' keys); it trusts them as its own sibling's verdicts, like a restored record. The
//!   content's claimed sender and room are still checked against the entry and the room.
//! * A second bundle for a room (from another sibling, or again) adds only entries whose
//!   message IDs are new; nothing is imported twice.

use std::collections::BTreeSet;

use mimi_mls::{VerifiedIdentity, sign};
use mimi_room::RoomState;
use mimi_room::components::HistoryPolicy;
use mimi_types::{ClientUri, RoomUri, UserUri};
use zeroize::Zeroizing;

use crate::client::Client;
use crate::codec::Writer;
use crate::error::ClientError;
pub use crate::history_codec::ShareStatus;
use crate::history_codec::{Bundle, Envelope, Item, Request, Signed, signed_item};
use crate::outgoing::ClientEvent;
use crate::view::Entry;

/// `SignWithLabel` label of a history request.
pub const REQUEST_LABEL: &str = "MIMI history request";
/// `SignWithLabel` label of a history bundle's envelope.
pub const BUNDLE_LABEL: &str = "MIMI history bundle";
/// `EncryptWithLabel` label of a sealed history bundle.
pub const SEAL_LABEL: &str = "MIMI history bundle encryption";
/// `SignWithLabel` label whose signature seeds a device's history key (never sent).
const KEY_LABEL: &str = "MIMI history key";
/// How long a request is answered (seconds): rooms its device has not joined by then are
/// answered [`ShareStatus::NotMember`].
pub const REQUEST_TTL_SECS: u64 = 3600;
/// The largest history item a device decodes (bytes): what the provider's mailbox carries.
pub const MAX_ITEM_BYTES: usize = 1024 * 1024;

/// How much one room's bundle may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryLimits {
    /// Content bytes per room (the newest entries that fit are kept).
    pub max_bundle_bytes: usize,
    /// Entries per room (sharing and receiving alike).
    pub max_entries: usize,
}

impl Default for HistoryLimits {
    /// 768 KiB of content and 10,000 entries per room: thousands of text messages, and a
    /// sealed bundle that fits the mailbox's [`MAX_ITEM_BYTES`].
    fn default() -> Self {
        Self {
            max_bundle_bytes: 768 * 1024,
            max_entries: 10_000,
        }
    }
}

/// Why a history item was refused. Nothing of a refused item is applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// The item does not decode.
    #[error("the history item is malformed: {0}")]
    Malformed(String),
    /// The item or its bundle is larger than this device accepts.
    #[error("the history item's {what} ({size}) exceed the limit of {max}: refused")]
    TooLarge {
        /// What is counted.
        what: String,
        /// How many.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// The sender's credential does not validate against the trust store.
    #[error("the credential of the history item's sender does not validate: {0}")]
    Credential(String),
    /// The item comes from a device of another user (or claims to be from this device): only
    /// the user's own other devices may ask for or provide history.
    #[error(
        "history may only come from another device of {user}; {sender} is not one: refused \
         (if this was not expected, someone tried to forge this device's history)"
    )]
    NotOwnDevice {
        /// This device's user.
        user: UserUri,
        /// Who the credential names.
        sender: String,
    },
    /// An envelope from another user's device that may not share the room's history with
    /// this device: not a member device of the room (as this device sees it), or its user's
    /// role may not share (see `history_members`).
    #[error("{sender} may not share the history of {room}: {reason}; refused")]
    NotASharer {
        /// The room.
        room: RoomUri,
        /// The envelope's sender.
        sender: ClientUri,
        /// Why not.
        reason: String,
    },
    /// The signature over the item does not verify with the sender's key.
    #[error("the signature of the history item from {sender} does not verify: refused")]
    Signature {
        /// The claimed sender.
        sender: ClientUri,
    },
    /// The envelope is addressed to another device.
    #[error("the history bundle is for {recipient}, not this device: refused")]
    NotForThisDevice {
        /// The addressee.
        recipient: ClientUri,
    },
    /// The request is older than [`REQUEST_TTL_SECS`]: the rooms it still waits for are
    /// answered with [`Client::history_not_member`].
    #[error("the history request of {requester} is too old (made at {created}): ask again")]
    Expired {
        /// The requester.
        requester: ClientUri,
        /// When it was made.
        created: u64,
        /// The rooms it asked for.
        rooms: Vec<RoomUri>,
    },
    /// This device is not a member of the room the bundle is for.
    #[error("this device is not a member of {room}: its history is refused")]
    NotMember {
        /// The room.
        room: RoomUri,
    },
    /// The room's history policy forbids sharing (as this device sees the room).
    #[error("{room} does not allow sharing its history: {reason}")]
    Forbidden {
        /// The room.
        room: RoomUri,
        /// The policy's verdict.
        reason: String,
    },
    /// This device already answered the same device's request for the room within
    /// [`REQUEST_TTL_SECS`] (`history_room`: a bundle sent through a room reaches every member,
    /// so a member asking again and again would make this device flood the room).
    #[error(
        "{requester} already got {room}'s history from this device at {answered}: \
         asked again within the hour, refused"
    )]
    AlreadyAnswered {
        /// The room.
        room: RoomUri,
        /// The requesting device.
        requester: ClientUri,
        /// When this device answered it (UNIX seconds).
        answered: u64,
    },
    /// The bundle does not open with this device's history key.
    #[error("the history bundle does not open with this device's history key: {0}")]
    Decrypt(String),
    /// This device could not build or sign an item.
    #[error("history: {0}")]
    Internal(String),
}

fn internal(e: impl std::fmt::Display) -> HistoryError {
    HistoryError::Internal(e.to_string())
}

/// What [`Client::handle_history_item`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HistoryOutcome {
    /// A sibling's request: the envelopes to leave in its mailbox.
    Answered(HistoryAnswer),
    /// A sibling's bundle, imported.
    Imported(HistoryImport),
}

/// The answer to a sibling's history request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryAnswer {
    /// The requesting device (whose mailbox the envelopes go to).
    pub requester: ClientUri,
    /// One envelope per room answered: the room, what it says, the item to send.
    pub envelopes: Vec<(RoomUri, ShareStatus, Vec<u8>)>,
    /// Rooms asked for that the requester has not joined yet (as this device sees them)
    /// while the request is young: ask again later (keep the request).
    pub waiting: Vec<RoomUri>,
}

/// What one imported bundle did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryImport {
    /// The sibling it came from.
    pub from: ClientUri,
    /// The room.
    pub room: RoomUri,
    /// What the sibling said.
    pub status: ShareStatus,
    /// Entries merged into the view (new message IDs).
    pub imported: usize,
    /// Entries already known or that did not apply.
    pub skipped: usize,
    /// The sibling left older entries out (size cap or the policy's time limit).
    pub truncated: bool,
}

/// How far back `user` may share `room`'s history: `Ok(None)` without limit, `Ok(Some(s))` the
/// last `s` seconds, `Err` why not at all.
pub fn sharing_allowed(state: &RoomState, user: &UserUri) -> Result<Option<u32>, String> {
    match state.history_policy() {
        None => Ok(None),
        Some(HistoryPolicy::Forbidden) => Err("its history policy forbids sharing".into()),
        Some(HistoryPolicy::Optional(h) | HistoryPolicy::Required(h)) => {
            let role = state.role_of(user);
            if !h.roles_that_can_share.contains(&role) {
                return Err(format!(
                    "{user}'s role {role} is not among the roles that may share history"
                ));
            }
            Ok((h.max_time_period != 0).then_some(h.max_time_period))
        }
    }
}

/// The earliest hub timestamp (ms) a limit of `period` seconds lets through at `now` (s).
pub(crate) fn earliest_ms(now: u64, period: Option<u32>) -> u64 {
    period.map_or(0, |p| now.saturating_sub(u64::from(p)).saturating_mul(1000))
}

/// Who a verified history item comes from.
enum Origin {
    /// Another device of this user.
    Sibling,
    /// A device of another user (see `history_members`).
    Member(UserUri),
}

fn context(recipient: &ClientUri, room: &RoomUri) -> Result<Vec<u8>, ClientError> {
    let mut w = Writer::default();
    w.str(&recipient.to_string())?;
    w.str(&room.to_string())?;
    Ok(w.finish())
}

impl Client {
    /// This device's history key pair (see the module's readings).
    fn history_key(&self) -> Result<mimi_mls::HpkeKeyPair, HistoryError> {
        let seed = Zeroizing::new(
            sign::sign_with_label(
                self.identity.signing_key(),
                KEY_LABEL,
                self.client().to_string().as_bytes(),
            )
            .map_err(internal)?,
        );
        mimi_mls::hpke_key_pair_from_seed(&seed).map_err(internal)
    }

    /// Creates `room` like [`Client::create_room`], with a `chat_history_policy` component
    /// (no preset's roles may change it later: `canChangeOtherPolicyAttribute`).
    pub fn create_room_with_history_policy(
        &mut self,
        now: u64,
        room: &RoomUri,
        preset: mimi_room::presets::Preset,
        hub: &mimi_mls::ExternalSenderInfo,
        policy: &HistoryPolicy,
    ) -> Result<mimi_mls::CreatedGroup, ClientError> {
        use mimi_room::components::Component as _;
        use mimi_types::codepoints::ComponentId;
        let misuse = |e: mimi_room::DecodeError| ClientError::misuse(format!("room creation: {e}"));
        let initial = self
            .room_creation(preset, room)
            .initial_state()
            .map_err(misuse)?;
        let mut components = initial.components();
        components.insert(ComponentId::CHAT_HISTORY_POLICY, policy.encode());
        let state = RoomState::from_components(components).map_err(misuse)?;
        self.create_room_in_state(now, room, &state, hub)
    }

    /// A signed history request for `rooms`, to leave in each sibling device's mailbox.
    pub fn history_request(&self, now: u64, rooms: &[RoomUri]) -> Result<Vec<u8>, HistoryError> {
        let request = Request {
            requester: self.client().clone(),
            credential: self.identity.mls_credential_bytes().map_err(internal)?,
            signature_key: self.identity.signing_key().public().to_vec(),
            hpke_public: self.history_key()?.public,
            created: now,
            rooms: rooms.to_vec(),
        };
        let tbs = request.tbs().map_err(internal)?;
        let signature = sign::sign_with_label(self.identity.signing_key(), REQUEST_LABEL, &tbs)
            .map_err(internal)?;
        signed_item(tbs, &signature).map_err(internal)
    }

    /// Handles one item of this device's mailbox: a sibling's request (answered with the
    /// envelopes to send back) or a sibling's bundle (imported). `skip` names rooms of a kept
    /// request that were answered already. Refuses, with nothing applied, anything not from
    /// another device of this user (see [`HistoryError`]).
    pub fn handle_history_item(
        &mut self,
        now: u64,
        item: &[u8],
        limits: &HistoryLimits,
        skip: &BTreeSet<RoomUri>,
    ) -> Result<HistoryOutcome, HistoryError> {
        if item.len() > MAX_ITEM_BYTES {
            return Err(HistoryError::TooLarge {
                what: "bytes".into(),
                size: item.len(),
                max: MAX_ITEM_BYTES,
            });
        }
        match Item::decode(item)? {
            Item::Request(request) => self
                .answer(now, request, limits, skip)
                .map(HistoryOutcome::Answered),
            Item::Envelope(envelope) => self
                .import(now, envelope, limits)
                .map(HistoryOutcome::Imported),
        }
    }

    /// Checks that a signed item comes from another device (of this user or, for
    /// `history_members`, of another user) and says whose.
    fn check_origin(
        &self,
        now: u64,
        (claimed, credential, signature_key): (&ClientUri, &[u8], &[u8]),
        label: &str,
        tbs: &[u8],
        signature: &[u8],
    ) -> Result<Origin, HistoryError> {
        let verified = mimi_mls::verify_credential(credential, signature_key, &self.trust, now)
            .map_err(|e| HistoryError::Credential(e.to_string()))?;
        let not_own = |sender: String| HistoryError::NotOwnDevice {
            user: self.user().clone(),
            sender,
        };
        let origin = match verified {
            VerifiedIdentity::Client { client, user, .. }
                if &client == claimed && &client != self.client() =>
            {
                if &user == self.user() {
                    Origin::Sibling
                } else {
                    Origin::Member(user)
                }
            }
            VerifiedIdentity::Client { client, .. } => return Err(not_own(client.to_string())),
            VerifiedIdentity::Server(domain) => return Err(not_own(format!("server {domain}"))),
        };
        sign::verify_with_label(signature_key, label, tbs, signature).map_err(|_| {
            HistoryError::Signature {
                sender: claimed.clone(),
            }
        })?;
        Ok(origin)
    }

    pub(crate) fn answer(
        &mut self,
        now: u64,
        signed: Signed<Request>,
        limits: &HistoryLimits,
        skip: &BTreeSet<RoomUri>,
    ) -> Result<HistoryAnswer, HistoryError> {
        let request = &signed.body;
        let origin = self.check_origin(
            now,
            (
                &request.requester,
                &request.credential,
                &request.signature_key,
            ),
            REQUEST_LABEL,
            &signed.tbs,
            &signed.signature,
        )?;
        if now > request.created.saturating_add(REQUEST_TTL_SECS) {
            return Err(HistoryError::Expired {
                requester: request.requester.clone(),
                created: request.created,
                rooms: request.rooms.clone(),
            });
        }
        let mut envelopes = Vec::new();
        let mut waiting = Vec::new();
        let rooms: BTreeSet<&RoomUri> = request.rooms.iter().collect();
        for room in rooms {
            if skip.contains(room) {
                continue;
            }
            if let Origin::Member(user) = &origin {
                match self.member_bundle(now, request, user, room, limits) {
                    Ok(Some(bundle)) => {
                        let item = self.seal(request, &bundle)?;
                        envelopes.push((room.clone(), bundle.status, item));
                    }
                    Ok(None) => {}
                    Err(()) => waiting.push(room.clone()),
                }
                continue;
            }
            let bundle = match self.rooms.get(room) {
                Some(r) if r.group.is_active() => {
                    let member = r.group.room().members().contains_key(&request.requester);
                    if !member {
                        waiting.push(room.clone());
                        continue;
                    }
                    match sharing_allowed(r.group.room(), self.user()) {
                        Err(_) => empty_bundle(room, ShareStatus::Forbidden),
                        Ok(period) => {
                            let earliest = earliest_ms(now, period);
                            let (entries, truncated) =
                                newest_fitting(r.view.log(), earliest, limits);
                            Bundle {
                                room: room.clone(),
                                status: ShareStatus::Shared,
                                truncated,
                                entries,
                            }
                        }
                    }
                }
                _ => empty_bundle(room, ShareStatus::Unknown),
            };
            let item = self.seal(request, &bundle)?;
            envelopes.push((room.clone(), bundle.status, item));
        }
        Ok(HistoryAnswer {
            requester: request.requester.clone(),
            envelopes,
            waiting,
        })
    }

    /// Answers the rooms a kept request still waits for as [`ShareStatus::NotMember`] (the
    /// request expired before its device joined them).
    pub fn history_not_member(
        &self,
        item: &[u8],
        rooms: &[RoomUri],
    ) -> Result<Vec<(RoomUri, Vec<u8>)>, HistoryError> {
        let Item::Request(signed) = Item::decode(item)? else {
            return Err(HistoryError::Malformed("not a history request".to_owned()));
        };
        rooms
            .iter()
            .map(|room| {
                let bundle = empty_bundle(room, ShareStatus::NotMember);
                Ok((room.clone(), self.seal(&signed.body, &bundle)?))
            })
            .collect()
    }

    pub(crate) fn seal(&self, request: &Request, bundle: &Bundle) -> Result<Vec<u8>, HistoryError> {
        let plain = Zeroizing::new(bundle.encode().map_err(internal)?);
        let (kem_output, ciphertext) = mimi_mls::encrypt_with_label(
            &request.hpke_public,
            SEAL_LABEL,
            &context(&request.requester, &bundle.room).map_err(internal)?,
            &plain,
        )
        .map_err(|e| {
            HistoryError::Malformed(format!("the requester's history key is not usable: {e}"))
        })?;
        let envelope = Envelope {
            sender: self.client().clone(),
            credential: self.identity.mls_credential_bytes().map_err(internal)?,
            signature_key: self.identity.signing_key().public().to_vec(),
            recipient: request.requester.clone(),
            room: bundle.room.clone(),
            kem_output,
            ciphertext,
        };
        let tbs = envelope.tbs().map_err(internal)?;
        let signature = sign::sign_with_label(self.identity.signing_key(), BUNDLE_LABEL, &tbs)
            .map_err(internal)?;
        signed_item(tbs, &signature).map_err(internal)
    }

    pub(crate) fn import(
        &mut self,
        now: u64,
        signed: Signed<Envelope>,
        limits: &HistoryLimits,
    ) -> Result<HistoryImport, HistoryError> {
        let envelope = &signed.body;
        let origin = self.check_origin(
            now,
            (
                &envelope.sender,
                &envelope.credential,
                &envelope.signature_key,
            ),
            BUNDLE_LABEL,
            &signed.tbs,
            &signed.signature,
        )?;
        if &envelope.recipient != self.client() {
            return Err(HistoryError::NotForThisDevice {
                recipient: envelope.recipient.clone(),
            });
        }
        let room = envelope.room.clone();
        let period = match (&origin, self.rooms.get(&room)) {
            (Origin::Member(user), _) => self.check_member_sharer(&room, &envelope.sender, user)?,
            (Origin::Sibling, Some(r)) if r.group.is_active() => {
                sharing_allowed(r.group.room(), self.user()).map_err(|reason| {
                    HistoryError::Forbidden {
                        room: room.clone(),
                        reason,
                    }
                })?
            }
            _ => return Err(HistoryError::NotMember { room }),
        };
        let key = self.history_key()?;
        let plain = mimi_mls::decrypt_with_label(
            &key.private,
            SEAL_LABEL,
            &context(self.client(), &room).map_err(internal)?,
            &envelope.kem_output,
            &envelope.ciphertext,
        )
        .map_err(|e| HistoryError::Decrypt(e.to_string()))?;
        let bundle = Bundle::decode(&plain, limits.max_entries)?;
        if bundle.room != room {
            return Err(HistoryError::Malformed(format!(
                "the sealed bundle is for {} but its envelope names {room}",
                bundle.room
            )));
        }
        let total = bundle.entries.len();
        let earliest = earliest_ms(now, period);
        let entries: Vec<Entry> = bundle
            .entries
            .into_iter()
            .filter(|e| e.timestamp >= earliest)
            .collect();
        let (imported, _) = match self.rooms.get_mut(&room) {
            Some(r) => {
                let done = r.view.import(entries);
                if done.0 > 0 {
                    // The log changed in front: its stored rows are written anew.
                    r.log_saved = None;
                }
                done
            }
            None => (0, 0),
        };
        if imported > 0 {
            self.events.push_back(ClientEvent::HistoryImported {
                room: room.clone(),
                from: envelope.sender.clone(),
                entries: imported,
            });
        }
        Ok(HistoryImport {
            from: envelope.sender.clone(),
            room,
            status: bundle.status,
            imported,
            skipped: total.saturating_sub(imported),
            truncated: bundle.truncated,
        })
    }
}

fn empty_bundle(room: &RoomUri, status: ShareStatus) -> Bundle {
    Bundle {
        room: room.clone(),
        status,
        truncated: false,
        entries: Vec::new(),
    }
}

/// The newest entries of `log` at or after `earliest` (ms) within `limits`, oldest first, and
/// whether any were left out.
pub(crate) fn newest_fitting(
    log: &[Entry],
    earliest: u64,
    limits: &HistoryLimits,
) -> (Vec<Entry>, bool) {
    let mut bytes = 0usize;
    let mut out = Vec::new();
    let mut truncated = false;
    for e in log.iter().rev() {
        if e.timestamp < earliest {
            truncated = true;
            break;
        }
        let size = e.bytes.len();
        if out.len() >= limits.max_entries || bytes.saturating_add(size) > limits.max_bundle_bytes {
            truncated = true;
            break;
        }
        bytes += size;
        out.push(e.clone());
    }
    out.reverse();
    (out, truncated)
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
