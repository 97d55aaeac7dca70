//! The follower side: our users' KeyPackages and key-material answers, and `notify` receipt
//! (each accepted message is written once to the follower log, with the inbox record and the
//! member devices' interval changes, in one `write_inbox` call before the 201; a device's
//! stream is a cursor over that log).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use mimi_client_api::ErrorCode;
use mimi_ds::follower::{
    Claim, InboxError, KeyMaterialContext, KeyPackageEntry, KeyPackagePool, LocalMembers,
    RequesterLimiter, RoomInbox, VerifiedKeyMaterialRequest, answer_key_material, feed_items,
    message_digest,
};
use mimi_ds::{DsStore as _, FeedItem, Recipients, RequestError};
use mimi_federation_api::decode_exact;
use mimi_federation_api::key_material::{KeyMaterialResponse, KeyMaterialUserCode};
use mimi_federation_api::mls::MlsMessage;
use mimi_federation_api::notify::{FanoutContent, NotifyRequest};
use mimi_types::{ClientUri, Domain, RoomUri};

use crate::error::ServerError;
use crate::error::bad_request;
use crate::provider::Provider;

/// The inbox record: the receiving state itself is in memory (`RoomInbox` has no record form
/// yet), so what is stored is the room's member devices here (the engine's [`LocalMembers`],
/// who gets the room's messages) and the digests ([`message_digest`]) of the last
/// [`KEPT_DIGESTS`] messages applied. After a restart the digests still catch the hub's resend
/// of messages whose 201 was lost in the crash, however it groups them into bodies. (Records
/// written before notify bodies were batched hold body digests, which match no message and
/// age out.)
///
/// v4 has the shape of v3 and says, besides, that the store's membership intervals of the room
/// (the follower log, [`mimi_ds::FeedItem`]) are open for exactly the member devices it holds:
/// every v4 record is written in the same transaction as the intervals. A v3 (or older) record
/// was written before the follower log existed, when the store had no intervals for the room,
/// so the first write after it opens them for whoever gets its first message.
const INBOX_TAG: &[u8] = b"mimi-server inbox v4\n";
/// The record before the follower log (same shape as v4; no intervals in the store).
const INBOX_TAG_V3: &[u8] = b"mimi-server inbox v3\n";
/// The record before member devices were kept in it (digests only).
const INBOX_TAG_V2: &[u8] = b"mimi-server inbox v2\n";
/// How many message digests the stored record keeps: a hub resends at most what it had sent
/// and not had acknowledged, one batch per follower (`outbound::BATCH` items), so four
/// batches' worth is plenty.
const KEPT_DIGESTS: usize = 256;

/// What an inbox record holds.
#[derive(Debug, Default)]
struct InboxRecord {
    /// `None` in a record written before member devices were kept.
    members: Option<LocalMembers>,
    digests: VecDeque<[u8; 32]>,
    /// The store's open membership intervals of the room are those of `members` (a v4
    /// record); otherwise the store has none for the room.
    intervals: bool,
}

fn digests_of(rest: &[u8]) -> VecDeque<[u8; 32]> {
    rest.chunks_exact(32)
        .filter_map(|c| <[u8; 32]>::try_from(c).ok())
        .collect()
}

/// Reads a stored inbox record (an unknown or older record yields what it can).
fn stored_record(record: &[u8]) -> InboxRecord {
    if let Some(rest) = record.strip_prefix(INBOX_TAG_V2) {
        return InboxRecord {
            members: None,
            digests: digests_of(rest),
            intervals: false,
        };
    }
    let (rest, intervals) = match (
        record.strip_prefix(INBOX_TAG),
        record.strip_prefix(INBOX_TAG_V3),
    ) {
        (Some(rest), _) => (rest, true),
        (None, Some(rest)) => (rest, false),
        (None, None) => return InboxRecord::default(),
    };
    let Some((len, rest)) = rest.split_first_chunk::<4>() else {
        return InboxRecord::default();
    };
    let len = usize::try_from(u32::from_be_bytes(*len)).unwrap_or(usize::MAX);
    let (Some(members), Some(digests)) = (rest.get(..len), rest.get(len..)) else {
        return InboxRecord::default();
    };
    let members = LocalMembers::from_record(members).ok();
    InboxRecord {
        intervals: intervals && members.is_some(),
        members,
        digests: digests_of(digests),
    }
}

fn inbox_record(members: Option<&LocalMembers>, digests: &VecDeque<[u8; 32]>) -> Vec<u8> {
    let members = members.map(LocalMembers::to_record).unwrap_or_default();
    let mut out = INBOX_TAG.to_vec();
    out.extend_from_slice(
        &u32::try_from(members.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    out.extend_from_slice(&members);
    for d in digests {
        out.extend_from_slice(d);
    }
    out
}

impl Provider {
    /// Stores KeyPackages a device uploaded (each checked and bound to the device).
    pub(crate) async fn store_key_packages(
        &self,
        device: &ClientUri,
        messages: &[Vec<u8>],
    ) -> Result<(usize, usize), ServerError> {
        let now_ms = Provider::now_ms();
        let mut entries = Vec::new();
        for (i, message) in messages.iter().enumerate() {
            let (published, identity) =
                mimi_mls::inspect_key_package(message, &self.mls_trust, now_ms / 1000).map_err(
                    |e| {
                        ServerError::api(
                            ErrorCode::BadRequest,
                            format!("KeyPackage {i} is not acceptable: {e}"),
                        )
                    },
                )?;
            let owner = match &identity {
                mimi_mls::VerifiedIdentity::Client { client, .. } => Some(client),
                _ => None,
            };
            if owner != Some(device) {
                return Err(ServerError::api(
                    ErrorCode::Forbidden,
                    format!("KeyPackage {i} is not for {device}; upload only your own"),
                ));
            }
            let bare = MlsMessage::from_bytes(message.clone())
                .and_then(|m| m.to_key_package())
                .map_err(|e| bad_request("KeyPackage", e))?;
            entries.push(KeyPackageEntry {
                key_package: bare.into_bytes(),
                reference: published.reference,
                last_resort: published.last_resort,
                not_after: published.not_after,
            });
        }
        let stored = entries.len();
        self.store.add_key_packages(device, entries).await?;
        let fresh = self.store.fresh_key_packages(device, now_ms).await?;
        Ok((stored, fresh))
    }

    /// Answers a key-material request for one of our users: the engine decides (peer, consent,
    /// rate), the store claims each device's KeyPackage atomically.
    pub(crate) async fn answer_key_material(
        &self,
        peer: &Domain,
        verified: &VerifiedKeyMaterialRequest<'_>,
    ) -> Result<KeyMaterialResponse, ServerError> {
        let request = verified.request();
        let target = request
            .tbs
            .target_user
            .to_user()
            .map_err(|e| bad_request("targetUser", e))?;
        let now_ms = Provider::now_ms();
        let ctx = KeyMaterialContext {
            now_ms,
            peer,
            our_domain: &self.domain,
        };
        // Users are known by their canonical account names (`ALICE` is `alice`).
        let account = target.canonical();
        let devices = if target.domain() == &self.domain && self.accounts.has_user(&account).await?
        {
            Some(self.accounts.devices_of(&account).await?)
        } else {
            None
        };
        let book = if devices.is_some() {
            self.consent_book(&account).await?
        } else {
            None
        };
        // First pass with empty pools: the engine's checks and the requester's rate.
        let mut empty: Option<BTreeMap<ClientUri, KeyPackagePool>> = devices.as_ref().map(|d| {
            d.iter()
                .map(|c| (c.clone(), KeyPackagePool::new()))
                .collect()
        });
        let checked = {
            let mut limiter = self
                .follower
                .key_material_limiter
                .lock()
                .map_err(|_| RequestError::Internal("limiter lock poisoned".into()))?;
            answer_key_material(
                ctx,
                verified,
                empty.as_mut(),
                book.as_ref(),
                &self.follower.consent_policy,
                &mut limiter,
            )?
        };
        let Some(devices) = devices else {
            return Ok(checked.response);
        };
        if matches!(
            checked.response.user_status,
            KeyMaterialUserCode::UserUnknown
                | KeyMaterialUserCode::NoConsent
                | KeyMaterialUserCode::NoConsentForThisRoom
        ) {
            return Ok(checked.response);
        }
        // Second pass over what the store claimed.
        let mut pools = BTreeMap::new();
        for device in devices {
            let mut pool = KeyPackagePool::new();
            match self.store.claim_key_package(&device, now_ms).await? {
                Claim::Fresh(entry) | Claim::LastResort(entry) => {
                    pool.add(entry);
                }
                Claim::Exhausted => {}
            }
            pools.insert(device, pool);
        }
        let mut unlimited = RequesterLimiter::new(u32::MAX, 1);
        let grant = answer_key_material(
            ctx,
            verified,
            Some(&mut pools),
            book.as_ref(),
            &self.follower.consent_policy,
            &mut unlimited,
        )?;
        if !grant.last_resort.is_empty() {
            self.metrics.last_resort_claimed(grant.last_resort.len());
            let requester = request.tbs.requesting_user.as_str();
            for device in &grant.last_resort {
                tracing::warn!(
                    %device,
                    requester,
                    %peer,
                    "handed out the last-resort KeyPackage of {device}: it has no fresh one left. \
                     The device should upload more; if this repeats, {requester} may be draining it"
                );
            }
        }
        Ok(grant.response)
    }

    /// Starts the member devices of a room created here: its creator's tree names them.
    pub(crate) async fn start_members(
        &self,
        room: &RoomUri,
        ratchet_tree: &[u8],
    ) -> Result<(), ServerError> {
        let mut members = LocalMembers::new(self.domain.clone());
        members
            .start_from_tree(ratchet_tree)
            .map_err(|e| bad_request("the ratchet tree", e))?;
        let _lock = self.follower.inbox_locks.lock(room).await;
        if self.store.load_inbox(room).await?.is_some() {
            return Ok(());
        }
        let record = inbox_record(Some(&members), &VecDeque::new());
        let feed = members.devices().into_iter().map(FeedItem::Join).collect();
        self.store.write_inbox(room, 0, record, feed).await?;
        for device in members.devices() {
            self.accounts.join(room, &device).await?;
        }
        Ok(())
    }

    /// The room's members as this provider follows them (its stored roster), if it follows
    /// the room.
    pub(crate) async fn room_members(
        &self,
        room: &RoomUri,
    ) -> Result<Option<LocalMembers>, ServerError> {
        let stored = self.store.load_inbox(room).await?;
        Ok(stored.and_then(|r| stored_record(&r.state).members))
    }

    /// `notify` receipt from `peer` for `room`, whose application messages the hub withholds
    /// from our member devices `withheld` (our `notify` extension; empty without it).
    pub(crate) async fn receive_notify(
        &self,
        peer: &Domain,
        room: &RoomUri,
        body: &[u8],
        withheld: BTreeSet<ClientUri>,
    ) -> Result<(), ServerError> {
        let request: NotifyRequest = decode_exact(body).map_err(|e| bad_request("notify", e))?;
        crate::withheld::check_own_devices(&withheld, &self.domain)?;
        let mut targets = BTreeMap::new();
        for message in &request.messages {
            if let FanoutContent::Welcome { message, .. } = &message.content {
                let refs =
                    mimi_mls::welcome_key_package_refs(message.as_bytes()).unwrap_or_default();
                for reference in refs {
                    if let Some(client) = self.store.claimed_by(&reference).await? {
                        targets.insert(reference, client);
                    }
                }
            }
        }
        let _lock = self.follower.inbox_locks.lock(room).await;
        let stored = self.store.load_inbox(room).await?;
        let version = stored.as_ref().map_or(0, |r| r.version);
        let record = stored
            .as_ref()
            .map(|r| stored_record(&r.state))
            .unwrap_or_default();
        let mut digests = record.digests;
        let intervals = record.intervals;
        let mut request = request;
        let mut fresh = Vec::with_capacity(request.messages.len());
        if peer == room.hub_domain() {
            // Applied before (perhaps before a restart, perhaps in a body grouped
            // differently): skip those messages; a body of nothing else is acknowledged.
            request.messages.retain(|message| {
                let digest = message_digest(message);
                let new = !digests.contains(&digest) && !fresh.contains(&digest);
                if new {
                    fresh.push(digest);
                }
                new
            });
            if request.messages.is_empty() {
                return Ok(());
            }
        }
        // The inbox this process kept, if it saved the stored version itself; else (another
        // process of this provider saved since, or none kept) a fresh one with the stored
        // member devices, as after a restart.
        let kept = self
            .follower
            .inboxes
            .lock()
            .ok()
            .and_then(|m| m.get(room).cloned())
            .filter(|(saved_at, _)| *saved_at == version)
            .map(|(_, inbox)| inbox);
        let mut inbox = match kept {
            Some(inbox) => inbox,
            None => {
                let members = match record.members {
                    Some(members) => members,
                    // A record from before member devices were kept: those the accounts
                    // database lists, until the room's tree is known.
                    None => LocalMembers::with_unplaced(
                        self.domain.clone(),
                        self.accounts.members(room).await?,
                    ),
                };
                RoomInbox::for_members(room.clone(), members)
            }
        };
        let before: BTreeSet<ClientUri> = inbox
            .members()
            .map(LocalMembers::devices)
            .unwrap_or_default();
        let receipt = inbox
            .receive_withholding(peer, request, withheld, &|r: &[u8]| targets.get(r).cloned())
            .map_err(|e| match e {
                InboxError::NotTheHub { .. } => {
                    ServerError::api(ErrorCode::Forbidden, e.to_string())
                }
                other => ServerError::api(ErrorCode::RateLimited, other.to_string()),
            })?;
        if receipt.duplicate {
            return Ok(());
        }
        let after: BTreeSet<ClientUri> = inbox
            .members()
            .map(LocalMembers::devices)
            .unwrap_or_default();
        // The accounts database mirrors the members (room lists): joins before the save
        // that delivers to them, departures after it.
        for device in after.difference(&before) {
            self.accounts.join(room, device).await?;
        }
        for delivery in &receipt.deliveries {
            match &delivery.to {
                Recipients::Client(client) => self.accounts.join(room, client).await?,
                // Room members joined above, with the inbox's member changes.
                Recipients::Room | Recipients::Devices(_) | Recipients::Only(_) => {}
            }
        }
        // Each message once for the room, the member changes between them (the engine's
        // decision, kept as intervals), Welcomes for their device alone.
        let open = if intervals {
            before.clone()
        } else {
            BTreeSet::new()
        };
        let feed = feed_items(&open, &receipt.deliveries, &after)?;
        digests.extend(fresh);
        while digests.len() > KEPT_DIGESTS {
            digests.pop_front();
        }
        let saved = self
            .store
            .write_inbox(
                room,
                version,
                inbox_record(inbox.members(), &digests),
                feed.items,
            )
            .await?;
        // Wake at once: what was stored is durable, and nothing after this may keep it from
        // its devices (a failure below, or this request dropped with its peer's connection;
        // the peer's retry is then a duplicate, which wakes nobody).
        for device in &feed.woken {
            self.wake_device(device);
        }
        if let Ok(mut inboxes) = self.follower.inboxes.lock() {
            inboxes.insert(room.clone(), (saved, inbox));
        }
        for device in before.difference(&after) {
            self.accounts.leave(room, device).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbox_records_keep_members_and_digests_and_tolerate_anything_else() {
        let digests: VecDeque<[u8; 32]> = [[1u8; 32], [2u8; 32]].into_iter().collect();
        let domain = Domain::parse("x.example").unwrap();
        let device: ClientUri = "mimi://x.example/d/alice/phone".parse().unwrap();
        let members = LocalMembers::with_unplaced(domain, [device.clone()]);
        let read = stored_record(&inbox_record(Some(&members), &digests));
        assert_eq!(read.digests, digests);
        assert_eq!(read.members.as_ref(), Some(&members));
        assert!(
            read.intervals,
            "a v4 record says the store's intervals match"
        );
        assert!(read.members.unwrap().contains(&device));
        // A v3 record: the same members and digests, but no intervals in the store yet.
        let mut v3 = INBOX_TAG_V3.to_vec();
        v3.extend_from_slice(&inbox_record(Some(&members), &digests)[INBOX_TAG.len()..]);
        let read = stored_record(&v3);
        assert_eq!(read.members.as_ref(), Some(&members));
        assert_eq!(read.digests, digests);
        assert!(!read.intervals);
        // A v2 record: digests, no members (the caller falls back to the accounts list).
        let mut v2 = INBOX_TAG_V2.to_vec();
        v2.extend_from_slice(&[1u8; 32]);
        let read = stored_record(&v2);
        assert_eq!(read.digests.len(), 1);
        assert!(read.members.is_none());
        assert!(stored_record(b"mimi-server inbox v1").digests.is_empty());
        assert!(stored_record(b"").digests.is_empty());
        let mut torn = inbox_record(None, &digests);
        torn.pop();
        assert_eq!(stored_record(&torn).digests.len(), 1);
    }
}
