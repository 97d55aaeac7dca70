//! Direct messages: a fixed-membership room of two users (room-policy §5 `fixed_membership`,
//! "1:1 DMs"). The participants are set at creation: the initial state lists both users and
//! the hub's service user, and nobody holds `canAddParticipant`, so nobody can be added or
//! removed later, and nobody may change the base policy (no role holds
//! `canChangeRoomMembershipStyle`) or grant `canAddParticipant` again (`check_consistency`
//! refuses it in a fixed room). How the second user's devices get in is our reading
//! ([`crate::readings`], "Who may do what"): the creator's establishing commit adds them by
//! KeyPackage.

use mimi_types::{RoomUri, UserUri};
use sha2::{Digest as _, Sha256};

use crate::capability::Capability as C;
use crate::codec::DecodeError;
use crate::components::{
    BaseRoomPolicy, ParticipantList, RoleData, RoleIndex, RoomMetadata, StateComponent as _, Uri,
    UserRolePair,
};
use crate::denied::Denied;
use crate::presets::{
    COOP_ORDINARY, ENFORCER, ENFORCER_LIMITS, NO_CLIENTS, NO_LIMITS, banned, role,
};
use crate::state::RoomState;

/// The role both users of a direct-message room hold.
pub const DIRECT_PARTICIPANT_ROLE: RoleIndex = RoleIndex(2);
/// The clientless role of the hub's service user in a direct-message room.
pub const DIRECT_ENFORCER_ROLE: RoleIndex = RoleIndex(3);

/// The capabilities a direct-message participant lacks compared with A.1's `ordinary_user`:
/// those that change who is in the room.
const NOT_IN_DIRECT: &[C] = &[
    C::CAN_ADD_PARTICIPANT,
    C::CAN_REMOVE_PARTICIPANT,
    C::CAN_REMOVE_SELF,
];

/// The role set of a direct-message room: 0 no_role, 1 banned, 2 direct_participant (A.1's
/// `ordinary_user` without adding, removing or leaving), 3 policy_enforcer (the hub: it may
/// ban and take out revoked devices, never add).
pub fn direct_roles() -> RoleData {
    let participant: Vec<C> = COOP_ORDINARY
        .iter()
        .copied()
        .filter(|c| !NOT_IN_DIRECT.contains(c))
        .collect();
    RoleData {
        roles: vec![
            role(
                0,
                "no_role",
                "not in the participant list",
                &[],
                NO_CLIENTS,
                &[],
            ),
            banned(),
            role(
                DIRECT_PARTICIPANT_ROLE.0,
                "direct_participant",
                "one of the two users of a direct message",
                &[&participant],
                NO_LIMITS,
                &[],
            ),
            role(
                DIRECT_ENFORCER_ROLE.0,
                "policy_enforcer",
                "the hub, acting as an external sender",
                &[ENFORCER],
                ENFORCER_LIMITS,
                &[(1, &[2]), (2, &[1])],
            ),
        ],
    }
}

/// The prefix of the ids of fixed-membership rooms ([`fixed_room_id`]).
pub const FIXED_ROOM_PREFIX: &str = "dm-";

/// The room id (the last segment of the room URI) of the fixed-membership room of `users`:
/// `dm-` and the hex of the first 16 octets of SHA-256 over a label and the users' URIs,
/// sorted and deduplicated, each followed by a zero octet. The same for any order of the
/// users, so each hub holds at most one such room per set of users
/// ([`RoomState::check_fixed_room_id`]).
pub fn fixed_room_id(users: &[&UserUri]) -> String {
    let mut sorted: Vec<String> = users.iter().map(ToString::to_string).collect();
    sorted.sort();
    sorted.dedup();
    let mut hash = Sha256::new();
    hash.update(b"mimi-rs direct room\0");
    for user in &sorted {
        hash.update(user.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("{FIXED_ROOM_PREFIX}{hex}")
}

/// What a direct-message room is created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectCreation {
    /// The room (on the creator's provider).
    pub room: RoomUri,
    /// The user who creates it.
    pub creator: UserUri,
    /// The other user.
    pub peer: UserUri,
    /// The hub's service user (on the hub's domain).
    pub policy_enforcer: UserUri,
}

impl DirectCreation {
    /// The initial room state: both users and the hub's service user listed, membership
    /// fixed, no MLS members yet (add the creator's client with [`RoomState::with_members`]).
    pub fn initial_state(&self) -> Result<RoomState, DecodeError> {
        if self.creator == self.peer {
            return Err(DecodeError::invalid(
                "direct room",
                "a direct message needs two different users",
            ));
        }
        if self.policy_enforcer.domain() != self.room.hub_domain()
            || self.policy_enforcer == self.creator
            || self.policy_enforcer == self.peer
        {
            return Err(DecodeError::invalid(
                "direct room",
                format!(
                    "the policy enforcer {} must be a service user of the hub's domain",
                    self.policy_enforcer
                ),
            ));
        }
        let participants = vec![
            UserRolePair::new(self.creator.clone(), DIRECT_PARTICIPANT_ROLE),
            UserRolePair::new(self.peer.clone(), DIRECT_PARTICIPANT_ROLE),
            UserRolePair::new(self.policy_enforcer.clone(), DIRECT_ENFORCER_ROLE),
        ];
        let mut state = RoomState::new(ParticipantList { participants }, direct_roles())?;
        state.metadata = Some(RoomMetadata {
            room_uri: Uri::new(self.room.to_string())?,
            ..RoomMetadata::default()
        });
        state.base_policy = Some(BaseRoomPolicy {
            fixed_membership: true,
            policy_component_ids: vec![RoleData::ID, BaseRoomPolicy::ID],
            ..BaseRoomPolicy::default()
        });
        state.check_consistency()?;
        Ok(state)
    }
}

impl RoomState {
    /// The users a fixed-membership room was made for: its listed users that hold a role
    /// with clients (not the hub's clientless service user) and are not banned. `None` if
    /// the room's membership is not fixed.
    pub fn fixed_participants(&self) -> Option<Vec<&UserUri>> {
        if !self.base_policy().fixed_membership {
            return None;
        }
        Some(
            self.participants()
                .participants
                .iter()
                .filter(|p| {
                    p.role_index != RoleIndex::BANNED
                        && self
                            .roles()
                            .role(p.role_index)
                            .is_some_and(|r| !r.is_clientless())
                })
                .map(|p| &p.user)
                .collect(),
        )
    }

    /// The other user, if this is a direct-message room of `me`: fixed membership, and
    /// exactly `me` and one other user among [`RoomState::fixed_participants`].
    pub fn direct_peer(&self, me: &UserUri) -> Option<&UserUri> {
        match self.fixed_participants()?.as_slice() {
            [a, b] if *a == me => Some(*b),
            [a, b] if *b == me => Some(*a),
            _ => None,
        }
    }

    /// Whether a room created in this state may be named `room`: a fixed-membership room
    /// must carry the id its fixed participants give ([`fixed_room_id`]), so that the hub's
    /// refusal of an existing room id leaves one such room per set of users (room-policy §5,
    /// "only one fixed-membership room per unique participant set"). Other rooms may be
    /// named freely. The hub asks this when a room is created.
    pub fn check_fixed_room_id(&self, room: &RoomUri) -> Result<(), Denied> {
        let Some(users) = self.fixed_participants() else {
            return Ok(());
        };
        let expected = fixed_room_id(&users);
        if room.id().as_str() == expected {
            Ok(())
        } else {
            Err(Denied::FixedRoomMisnamed { expected })
        }
    }

    /// Whether `actor`'s commit may add clients of `target` although no role may hold
    /// `canAddParticipant`: the room's membership is fixed, `target` is listed with a role
    /// that has clients, and the commit establishes the room (no user but the actor has a
    /// client in the group yet, so `target` has none). This is how the creator brings in the
    /// devices of the users listed at creation (our reading in [`crate::readings`]).
    pub(crate) fn establishes_fixed_participant(&self, actor: &UserUri, target: &UserUri) -> bool {
        self.base_policy().fixed_membership
            && actor != target
            && self.members().values().all(|u| u == actor)
            && self
                .fixed_participants()
                .is_some_and(|users| users.contains(&target))
    }
}
