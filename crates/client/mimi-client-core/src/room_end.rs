//! Ending a room (`canDestroyRoom`, issue 18): the commit that sets the room's `room_ended`
//! marker (`mimi_room::components::RoomEnded`), which `mimi-room` checks here first and the hub
//! and every member again. Once a member has merged it, every later send, commit or join in
//! the room is refused ([`mimi_room::Denied::RoomEnded`]).

use mimi_room::ComponentChange;
use mimi_room::components::{Component, RoomEnded};
use mimi_types::codepoints::ComponentId;
use mimi_types::{RoomUri, UserUri};

use crate::client::Client;
use crate::error::ClientError;
use crate::outgoing::OpId;

impl Client {
    /// Ends `room` for good: one commit setting `room_ended` in this user's name. Refused here
    /// ([`ClientError::NotAllowed`], nothing sent) when this user's role lacks
    /// `canDestroyRoom` or the room has already ended. The hub fans the commit out to every
    /// member, then refuses everything else in the room and keeps its id taken.
    pub fn destroy_room(&mut self, now: u64, room: &RoomUri) -> Result<OpId, ClientError> {
        let marker = RoomEnded {
            ended_by: self.user().clone(),
        };
        let change = ComponentChange::update(ComponentId::ROOM_ENDED, marker.encode());
        self.commit(now, room, &[change], &[], &[])
    }

    /// Who ended `room`, if this device has seen the commit that ended it.
    pub fn room_ended_by(&self, room: &RoomUri) -> Option<&UserUri> {
        self.room(room)
            .and_then(|v| v.state().ended())
            .map(|e| &e.ended_by)
    }
}
