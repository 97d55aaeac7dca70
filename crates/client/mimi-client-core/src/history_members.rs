//! History for a new member (another user): where the room's `chat_history_policy` lets a
//! member's role share, that member's device hands the newcomer's devices the room's log, in
//! the envelopes and over the transport of `crate::history` (a request carrying the newcomer
//! device's history key; one HPKE-sealed, signed envelope per room).
//!
//! # Readings (room-policy `HistoryPolicy`; the draft says who may share, not how)
//!
//! * Another user's new devices get history only where the room has a history policy of
//!   `optional` or `required`: a room without the component shares only with its members' own
//!   new devices (`crate::history`), and `forbidden` shares with nobody.
//! * The sharer is a member device whose *user's role* is in `roles_that_can_share`, at the
//!   epoch the deciding device sees ([`member_sharing_allowed`]); only messages of the last
//!   `max_time_period` seconds go (0 = no limit), capped by [`HistoryLimits`].
//! * A sharer cannot seal to a device whose history key it does not know, so the newcomer's
//!   device asks first ([`Client::history_sharers`] names whom, [`Client::history_request`]
//!   makes the request). With `automatically_share`, one member answers on its own, without
//!   its user: the **designated sharer**, the first member device (in client URI order, the
//!   order every member's view of the group gives) of a user other than the newcomer whose
//!   role may share ([`designated_sharer`]), so that the newcomer gets one copy, not one per
//!   member. Without `automatically_share`, the newcomer asks every eligible device and one
//!   answers once its user agreed ([`Client::share_history`], `mimi room share-history`); the
//!   request waits for that (up to `REQUEST_TTL_SECS`). Requests and envelopes travel
//!   through the room itself (`history_room`). A user's agreement also makes its
//!   device answer where it is not the designated sharer.
//! * The newcomer accepts an envelope from another user only when its sender is, as the
//!   newcomer sees the room, a member device whose user's role may share under the room's
//!   policy; a removed member, a non-member, or a role outside `roles_that_can_share` is
//!   refused ([`HistoryError::NotASharer`]), and entries older than `max_time_period` are
//!   dropped. The room of every entry is the envelope's (the view computes message IDs and
//!   checks each content's room against it).
//! * The draft gives no way to re-authenticate old messages: the newcomer never had the
//!   epochs' keys. It trusts the sharer's account of the room, as its own sibling's: a rogue
//!   sharer with a sharing role can make up entries claimed from others. The entries are marked
//!   imported and the `ClientEvent::HistoryImported` names the sharer, so a client can show
//!   whose account the older part of the timeline is.

use mimi_room::RoomState;
use mimi_room::components::HistoryPolicy;
use mimi_types::{ClientUri, RoomUri, UserUri};

use crate::client::Client;
use crate::history::{HistoryError, HistoryLimits, ShareStatus, earliest_ms, newest_fitting};
use crate::history_codec::{Bundle, Request};

/// How far back `user` may share `room`'s history with *another* user's new devices:
/// `Ok(None)` without limit, `Ok(Some(s))` the last `s` seconds, `Err` why not at all.
pub fn member_sharing_allowed(state: &RoomState, user: &UserUri) -> Result<Option<u32>, String> {
    if state.history_policy().is_none() {
        return Err(
            "the room has no history policy: its history goes only to its members' \
                    own new devices"
                .into(),
        );
    }
    crate::history::sharing_allowed(state, user)
}

/// Whether the room's policy shares with new members without their sharer's user.
pub(crate) fn shares_automatically(state: &RoomState) -> bool {
    matches!(
        state.history_policy(),
        Some(HistoryPolicy::Optional(h) | HistoryPolicy::Required(h)) if h.automatically_share
    )
}

/// The member devices (`members`: client and user, as the group lists them) that may share
/// the room's history with a new device of `newcomer`, in client URI order.
fn eligible<'a>(
    state: &'a RoomState,
    members: &'a [mimi_room::MemberChange],
    newcomer: &'a UserUri,
) -> impl Iterator<Item = &'a ClientUri> + 'a {
    members
        .iter()
        .filter(move |m| &m.user != newcomer && member_sharing_allowed(state, &m.user).is_ok())
        .map(|m| &m.client)
}

/// The device that shares the room's history with a new device of `newcomer` on its own where
/// the room shares automatically: the first eligible member device (see the module's readings).
pub fn designated_sharer(
    state: &RoomState,
    members: &[mimi_room::MemberChange],
    newcomer: &UserUri,
) -> Option<ClientUri> {
    let mut sorted = members.to_vec();
    sorted.sort_by(|a, b| a.client.cmp(&b.client));
    eligible(state, &sorted, newcomer).next().cloned()
}

impl Client {
    /// The devices of other users this device asks for `room`'s history (with
    /// [`Client::request_room_history`], through the room): the designated sharer where
    /// the room shares automatically, every member device that may share otherwise, none where
    /// the policy shares with nobody or this device is not an active member.
    pub fn history_sharers(&self, room: &RoomUri) -> Vec<ClientUri> {
        let Some(r) = self.rooms.get(room).filter(|r| r.group.is_active()) else {
            return Vec::new();
        };
        let state = r.group.room();
        let members = r.group.members();
        if shares_automatically(state) {
            return designated_sharer(state, &members, self.user())
                .into_iter()
                .collect();
        }
        eligible(state, &members, self.user()).cloned().collect()
    }

    /// This device's user agrees to share `room`'s history with `user`'s new devices (where
    /// the room does not share automatically, a member's device answers a newcomer only after
    /// this), and answers the requests of `user`'s devices that arrived through the room and
    /// waited for it (`history_room`): returns how many envelopes were queued. Refused where
    /// this user's role may not share with other users.
    pub fn share_history(
        &mut self,
        now: u64,
        room: &RoomUri,
        user: &UserUri,
    ) -> Result<usize, HistoryError> {
        self.tick(now);
        let r = self
            .rooms
            .get(room)
            .filter(|r| r.group.is_active())
            .ok_or_else(|| HistoryError::NotMember { room: room.clone() })?;
        member_sharing_allowed(r.group.room(), self.user()).map_err(|reason| {
            HistoryError::Forbidden {
                room: room.clone(),
                reason,
            }
        })?;
        if user == self.user() {
            return Err(HistoryError::Internal(
                "a user's own devices get history without agreement".into(),
            ));
        }
        self.history_shares.insert((room.clone(), user.clone()));
        Ok(self.answer_waiting(room, user))
    }

    /// The envelope for one room of another user's request, `Ok(None)` where nothing is sent
    /// (the policy or this user's role forbids it, or another device shares), `Err(())` where
    /// the request waits (its device has not joined yet, or this user has not agreed).
    pub(crate) fn member_bundle(
        &self,
        now: u64,
        request: &Request,
        requester: &UserUri,
        room: &RoomUri,
        limits: &HistoryLimits,
    ) -> Result<Option<Bundle>, ()> {
        let Some(r) = self.rooms.get(room).filter(|r| r.group.is_active()) else {
            return Ok(None);
        };
        let state = r.group.room();
        if !state.members().contains_key(&request.requester) {
            return Err(());
        }
        let Ok(period) = member_sharing_allowed(state, self.user()) else {
            return Ok(None);
        };
        let agreed = self
            .history_shares
            .contains(&(room.clone(), requester.clone()));
        if !agreed {
            if !shares_automatically(state) {
                return Err(());
            }
            let members = r.group.members();
            if designated_sharer(state, &members, requester).as_ref() != Some(self.client()) {
                return Ok(None);
            }
        }
        let (entries, truncated) = newest_fitting(r.view.log(), earliest_ms(now, period), limits);
        Ok(Some(Bundle {
            room: room.clone(),
            status: ShareStatus::Shared,
            truncated,
            entries,
        }))
    }

    /// Checks that `sender`, a device of another user, may share `room`'s history with this
    /// device: it is a member device of the room and its user's role may share. Returns how
    /// far back.
    pub(crate) fn check_member_sharer(
        &self,
        room: &RoomUri,
        sender: &ClientUri,
        user: &UserUri,
    ) -> Result<Option<u32>, HistoryError> {
        let r = self
            .rooms
            .get(room)
            .filter(|r| r.group.is_active())
            .ok_or_else(|| HistoryError::NotMember { room: room.clone() })?;
        let refused = |reason: String| HistoryError::NotASharer {
            room: room.clone(),
            sender: sender.clone(),
            reason,
        };
        if r.group.room().members().get(sender) != Some(user) {
            return Err(refused("it is not a member device of the room".into()));
        }
        member_sharing_allowed(r.group.room(), user).map_err(refused)
    }
}
