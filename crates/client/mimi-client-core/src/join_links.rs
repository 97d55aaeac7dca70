//! Join links (room-policy-03 `join_links`, our [`JoinCodeTerms`]): an admin creates one for a
//! role, with an expiry and a number of uses, lists and revokes them; the room keeps only the
//! code's SHA-256, so the code is shown once, when the link is made.

use mimi_mls::{ComponentChange, join_code_digest};
use mimi_room::components::{Component as _, JoinCodeTerms, JoinLinksUpdate, RoleIndex};
use mimi_types::RoomUri;
use mimi_types::codepoints::ComponentId;
use rand::{CryptoRng, RngCore};

use crate::client::Client;
use crate::error::ClientError;
use crate::outgoing::OpId;

/// The length of a generated join code, in random octets.
pub const JOIN_CODE_LEN: usize = 18;

/// A link this device made: the code to hand out and the terms the room keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJoinLink {
    /// The code (show it once; the room keeps only its digest).
    pub code: Vec<u8>,
    /// The terms.
    pub terms: JoinCodeTerms,
}

impl Client {
    /// Makes a join link for `role`, expiring at `not_after` (Unix seconds, 0: never) and good
    /// for `uses` joins (0: unlimited), in a commit (`canChangeRoomMembershipStyle` in our
    /// reading). The code is random; keep the returned code, the room keeps only its digest.
    /// The link must keep the room's `join_link_policy` (single use where links are not
    /// `multiuser`; expiring within its `expiration` from `now`), else
    /// [`ClientError::NotAllowed`] and nothing is sent.
    pub fn create_join_link(
        &mut self,
        rng: &mut (impl RngCore + CryptoRng),
        now: u64,
        room: &RoomUri,
        role: RoleIndex,
        not_after: u64,
        uses: u32,
    ) -> Result<(OpId, NewJoinLink), ClientError> {
        let mut code = vec![0u8; JOIN_CODE_LEN];
        rng.fill_bytes(&mut code);
        let terms = JoinCodeTerms {
            code_digest: join_code_digest(&code),
            role_index: role,
            not_after,
            uses_left: uses,
        };
        // The room's join_link_policy, with this device's clock for the lifetime (the hub
        // checks it by its own; other members, without a trusted clock, the rest).
        if let Some(policy) = self.active_room(room)?.group.room().join_link_policy() {
            mimi_room::check_link_policy(policy, &terms.to_link(), Some(now)).map_err(
                |denied| ClientError::NotAllowed {
                    room: room.clone(),
                    denied,
                },
            )?;
        }
        let update = JoinLinksUpdate {
            removed_indices: Vec::new(),
            added_links: vec![terms.to_link()],
        };
        let change = ComponentChange::update(ComponentId::JOIN_LINKS, update.encode());
        let op = self.commit(now, room, &[change], &[], &[])?;
        Ok((op, NewJoinLink { code, terms }))
    }

    /// The room's join links with our terms, by index in `join_links`.
    pub fn join_links(
        &mut self,
        room: &RoomUri,
    ) -> Result<Vec<(usize, JoinCodeTerms)>, ClientError> {
        let r = self.active_room(room)?;
        Ok(r.group
            .room()
            .join_links()
            .map(|l| l.terms())
            .unwrap_or_default())
    }

    /// Revokes the join link at `index` of `join_links` (`canChangeRoomMembershipStyle`).
    pub fn revoke_join_link(
        &mut self,
        now: u64,
        room: &RoomUri,
        index: usize,
    ) -> Result<OpId, ClientError> {
        let count = {
            let r = self.active_room(room)?;
            r.group.room().join_links().map_or(0, |l| l.links.len())
        };
        let index = u32::try_from(index)
            .ok()
            .filter(|i| (*i as usize) < count)
            .ok_or_else(|| {
                ClientError::misuse(format!(
                    "{room} has no join link {index} (it has {count}); list them with `mimi room link list`"
                ))
            })?;
        let update = JoinLinksUpdate {
            removed_indices: vec![index],
            added_links: Vec::new(),
        };
        let change = ComponentChange::update(ComponentId::JOIN_LINKS, update.encode());
        self.commit(now, room, &[change], &[], &[])
    }
}

/// The text of a join link to hand out: the room URI, then `#join=` and the code in lowercase
/// hex (`mimi://hub.example/r/club#join=4f3a…`). Only the code is secret.
pub fn format_join_link(room: &RoomUri, code: &[u8]) -> String {
    let hex: String = code.iter().map(|b| format!("{b:02x}")).collect();
    format!("{room}#join={hex}")
}

/// Reads a join link made by [`format_join_link`]: the room and the code. A bare room URI is
/// a room without a code (an open join).
pub fn parse_join_link(link: &str) -> Result<(RoomUri, Option<Vec<u8>>), ClientError> {
    let bad = |why: &str| {
        ClientError::misuse(format!(
            "{link:?} is not a join link ({why}); a link looks like mimi://hub.example/r/club#join=<hex code>, or give a room URI to join an open room"
        ))
    };
    let (room, code) = match link.split_once("#join=") {
        Some((room, hex)) => {
            if hex.is_empty() || hex.len() % 2 != 0 {
                return Err(bad("the code is not an even number of hex digits"));
            }
            let code = (0..hex.len())
                .step_by(2)
                .map(|i| {
                    hex.get(i..i + 2)
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                })
                .collect::<Option<Vec<u8>>>()
                .ok_or_else(|| bad("the code is not hex"))?;
            (room, Some(code))
        }
        None => (link, None),
    };
    let room: RoomUri = room.parse().map_err(|_| bad("no room URI before #join="))?;
    Ok((room, code))
}
