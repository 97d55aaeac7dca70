//! Direct messages: a fixed-membership room of this user and one other (`mimi_room::direct`),
//! at most one per pair on each hub. The room's id is derived from the pair
//! ([`direct_room_uri`]), so a second creation of the same pair's room on the same hub is
//! refused as an existing room id, and either user's device can name the other's room
//! without asking anyone.

use mimi_mls::{CreatedGroup, ExternalSenderInfo};
use mimi_room::direct::{DirectCreation, fixed_room_id};
use mimi_room::presets::hub_service_user;
use mimi_types::{Domain, RoomUri, UserUri};

use crate::client::Client;
use crate::error::ClientError;
use crate::outgoing::OpId;
use crate::view::RoomView;

/// The direct-message room of `a` and `b` on the hub `hub`: `mimi://<hub>/r/<id>` with the id
/// `mimi_room::direct::fixed_room_id` gives the pair (`dm-` and a hash of the two canonical
/// user URIs, sorted). The same for either order of the pair; the hub refuses a
/// fixed-membership room under any other id.
pub fn direct_room_uri(hub: &Domain, a: &UserUri, b: &UserUri) -> Result<RoomUri, ClientError> {
    let id = fixed_room_id(&[a, b]);
    RoomUri::parse(&format!("mimi://{hub}/r/{id}"))
        .map_err(|e| ClientError::misuse(format!("direct room id: {e}")))
}

impl RoomView {
    /// The other user, if this is a direct-message room (fixed membership, this user and
    /// exactly one other).
    pub fn direct_peer(&self) -> Option<&UserUri> {
        self.state().direct_peer(self.me())
    }
}

impl Client {
    /// This device's direct-message room with `peer`, if it is in one: a room this device is
    /// an active member of whose fixed participants are this user and `peer`. Where there
    /// are several (one on each user's hub, created at the same time), the one named after
    /// the pair on the lowest hub domain, then the lowest room URI.
    pub fn direct_room_with(&self, peer: &UserUri) -> Option<RoomUri> {
        let mut found: Vec<&RoomUri> = self
            .rooms
            .iter()
            .filter(|(_, r)| r.group.is_active() && r.view.direct_peer() == Some(peer))
            .map(|(uri, _)| uri)
            .collect();
        found.sort_by_key(|uri| (uri.hub_domain().to_string(), uri.to_string()));
        found.first().map(|uri| (*uri).clone())
    }

    /// Creates this user's direct-message room with `peer` on this device's provider
    /// ([`direct_room_uri`]): both users listed, membership fixed, this device its only
    /// member. Returns the room and what the hub needs to start it; then fetch `peer`'s
    /// KeyPackages through the hub and [`Client::bring_in_direct_peer`].
    pub fn create_direct_room(
        &mut self,
        now: u64,
        peer: &UserUri,
        hub: &ExternalSenderInfo,
    ) -> Result<(RoomUri, CreatedGroup), ClientError> {
        if peer == self.user() {
            return Err(ClientError::misuse(
                "a direct message needs another user: you cannot message yourself privately",
            ));
        }
        let room = direct_room_uri(self.user().domain(), self.user(), peer)?;
        let state = DirectCreation {
            room: room.clone(),
            creator: self.user().clone(),
            peer: peer.clone(),
            policy_enforcer: hub_service_user(room.hub_domain()),
        }
        .initial_state()
        .map_err(|e| ClientError::misuse(format!("direct room: {e}")))?;
        let created = self.create_room_in_state(now, &room, &state, hub)?;
        Ok((room, created))
    }

    /// Whether `room` is a direct-message room whose other user has no device in the group
    /// yet (so this device's next step is [`Client::bring_in_direct_peer`]). `None` if it is
    /// not a direct-message room of this device.
    pub fn direct_peer_missing(&self, room: &RoomUri) -> Option<&UserUri> {
        let view = self.room(room)?;
        let peer = view.direct_peer()?;
        view.state().clients_of(peer).is_empty().then_some(peer)
    }

    /// Adds every device of the other user of the direct-message room `room` (their
    /// KeyPackages, fetched through the hub) in the establishing commit: allowed only while
    /// no other user has a device in the group (`mimi_room::readings`, fixed membership).
    pub fn bring_in_direct_peer(
        &mut self,
        now: u64,
        room: &RoomUri,
        key_packages: &[Vec<u8>],
    ) -> Result<OpId, ClientError> {
        if self.direct_peer_missing(room).is_none() {
            return Err(ClientError::misuse(format!(
                "{room} is not a direct-message room waiting for the other user's devices"
            )));
        }
        if key_packages.is_empty() {
            return Err(ClientError::misuse(
                "no KeyPackage of the other user to add",
            ));
        }
        self.commit(now, room, &[], key_packages, &[])
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_pair_names_one_room_in_either_order() {
        let hub: Domain = "a.example".parse().unwrap();
        let alice: UserUri = "mimi://a.example/u/alice".parse().unwrap();
        let bob: UserUri = "mimi://b.example/u/bob".parse().unwrap();
        let cathy: UserUri = "mimi://b.example/u/cathy".parse().unwrap();
        let ab = direct_room_uri(&hub, &alice, &bob).unwrap();
        assert_eq!(ab, direct_room_uri(&hub, &bob, &alice).unwrap());
        assert_ne!(ab, direct_room_uri(&hub, &alice, &cathy).unwrap());
        assert_ne!(
            ab,
            direct_room_uri(&"b.example".parse().unwrap(), &alice, &bob).unwrap()
        );
        assert!(ab.to_string().starts_with("mimi://a.example/r/dm-"));
    }
}
