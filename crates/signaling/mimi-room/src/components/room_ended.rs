//! The end of a room: component `room_ended` (ours, private-use 0x8a03; the drafts name
//! `canDestroyRoom` but define no act that destroys a room, see `readings`).
//!
//! ```text
//! struct { IdentityUri ended_by; } RoomEnded;
//! ```
//!
//! A member whose role holds `canDestroyRoom` sets it with an `AppDataUpdate` in a commit; the
//! commit is authorized like every other policy change (sender, hub, every receiver), and
//! `ended_by` must be the committing user. Once a room state carries it, nothing more is
//! authorized in the room: no commit, proposal, application message or join.

use mimi_types::UserUri;
use mimi_types::codepoints::ComponentId;
use tls_codec::{TlsDeserialize, TlsSerialize, TlsSize};

use super::tls_component;
use crate::codec::{DecodeError, user_uri};

/// `RoomEnded`: who ended the room.
#[derive(Debug, Clone, PartialEq, Eq, TlsSerialize, TlsDeserialize, TlsSize)]
pub struct RoomEnded {
    /// The user whose commit ended the room.
    #[tls_codec(with = "user_uri")]
    pub ended_by: UserUri,
}

tls_component!(RoomEnded, "RoomEnded", ComponentId::ROOM_ENDED);

impl RoomEnded {
    pub(crate) fn validate(&self) -> Result<(), DecodeError> {
        Ok(())
    }
}
