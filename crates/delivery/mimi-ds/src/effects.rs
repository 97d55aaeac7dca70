//! What an engine asks its caller to do once the new state is durable.

use mimi_federation_api::notify::FanoutMessage;
use mimi_types::{ClientUri, Domain, RoomUri};

/// An action for the caller, executed after the state change that produced it is persisted.
///
/// Deliberately exhaustive: a caller matches every effect, so a new kind of effect does not
/// compile until every driver (the server, the testkit) carries it out. Each kind of effect
/// comes only from the calls that can produce it: a room change ([`crate::hub::HubOutput`])
/// yields fan-out, nothing else; an accepted abuse report is not an effect but the
/// [`crate::hub::AbuseReportOutcome::Accepted`] answer itself, so no driver meets an effect it
/// cannot carry out. Deliveries to this provider's own devices are not effects:
/// [`crate::follower::RoomInbox`] returns them in its receipt, in hub order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Send `message` in a `notify` for `room` to follower `to`, behind everything queued for `to`
    /// before it.
    Notify {
        /// The follower.
        to: Domain,
        /// The room.
        room: RoomUri,
        /// The fanout message.
        message: FanoutMessage,
        /// The member devices at `to` that an application `message` is withheld from: those
        /// whose users may not receive it (`canReceiveMessage`), named to the follower in our
        /// `notify` extension (`mimi_federation_api::withheld`). Empty for every other
        /// message, and usually for application messages too.
        withheld: Vec<ClientUri>,
    },
}

/// A message for this provider's own devices (from a follower inbox's receipt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The room.
    pub room: RoomUri,
    /// Who gets it: every local device in the room, the devices named, or one device (a
    /// Welcome).
    pub to: Recipients,
    /// The message as the hub fanned it out.
    pub message: FanoutMessage,
}

/// The local devices a [`Delivery`] is for.
///
/// Exhaustive, like [`Effect`]: a driver hands every kind of delivery to its devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    /// Every local device that is a member of the room.
    Room,
    /// One device (a Welcome for its KeyPackage).
    Client(ClientUri),
    /// These devices (the room's member devices here, as the inbox decided at this point of
    /// hub order; possibly none).
    Devices(Vec<ClientUri>),
    /// These member devices only, each on its own: an application message the hub withheld
    /// from the room's other member devices here (their users may not receive it,
    /// `canReceiveMessage`). The room's member devices do not change at it.
    Only(Vec<ClientUri>),
}
