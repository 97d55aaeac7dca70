//! Ready-made role sets after the four examples of room-policy-03 Appendix A (digest §4.8), and
//! [`RoomCreation`] to build a room's initial [`RoomState`] from one.
//!
//! The draft's examples are prose with capability lists; these presets follow them and fill the
//! gaps the way a production messenger would (see each function). Capabilities the examples use
//! without code points (`canRevokeVoice`, `canGrantVoice`) become `canChangeUserRole` with
//! `authorized_role_changes` between the attendee and speaker roles. Every preset has role 0
//! ("no_role"), role 1 ("banned", no capabilities) and a clientless `policy_enforcer` role
//! (1–2 holders, no clients) through which the hub acts as an external sender.

use mimi_types::{RoomUri, UserUri};

use crate::capability::Capability as C;
use crate::codec::DecodeError;
use crate::components::{
    BaseRoomPolicy, JoinLinks, ParticipantList, Role, RoleData, RoleIndex, RoomMetadata,
    SingleSourceRoleChangeTargets, StateComponent, Uri, UserRolePair,
};
use crate::state::RoomState;

/// One of the example role sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Preset {
    /// A.1 cooperatively administered: members add and remove each other; admins moderate.
    Cooperative,
    /// A.2 strictly administered: only admins add and remove; outsiders join with a join code.
    StrictlyAdministered,
    /// A.3 moderated: guests, attendees and speakers; moderators grant and revoke voice.
    Moderated,
    /// A.4 multi-organization: two organizations, each administering only its own users.
    MultiOrganization,
}

impl Preset {
    /// All presets.
    pub const ALL: [Preset; 4] = [
        Preset::Cooperative,
        Preset::StrictlyAdministered,
        Preset::Moderated,
        Preset::MultiOrganization,
    ];

    /// The role definitions.
    pub fn roles(self) -> RoleData {
        match self {
            Preset::Cooperative => cooperative(),
            Preset::StrictlyAdministered => strictly_administered(),
            Preset::Moderated => moderated(),
            Preset::MultiOrganization => multi_organization(),
        }
    }

    /// The role the room's creator gets.
    pub fn creator_role(self) -> RoleIndex {
        match self {
            Preset::Cooperative => RoleIndex(4),
            Preset::StrictlyAdministered | Preset::MultiOrganization => RoleIndex(3),
            Preset::Moderated => RoleIndex(6),
        }
    }

    /// The clientless role the hub's service user holds.
    pub fn policy_enforcer_role(self) -> RoleIndex {
        match self {
            Preset::Cooperative => RoleIndex(5),
            Preset::StrictlyAdministered => RoleIndex(4),
            Preset::Moderated => RoleIndex(7),
            Preset::MultiOrganization => RoleIndex(6),
        }
    }

    /// The base room policy the preset starts with.
    pub fn base_policy(self) -> BaseRoomPolicy {
        let mut policy = BaseRoomPolicy {
            policy_component_ids: vec![RoleData::ID, BaseRoomPolicy::ID],
            ..BaseRoomPolicy::default()
        };
        if self == Preset::StrictlyAdministered {
            policy.policy_component_ids.push(JoinLinks::ID);
        }
        policy
    }
}

/// Capabilities of an ordinary member of a chat room: messaging, assets, links, calls, and
/// managing its own clients and leaving.
const MEMBER: &[C] = &[
    C::CAN_ADD_OWN_CLIENT,
    C::CAN_REMOVE_OWN_CLIENT,
    C::CAN_REMOVE_SELF,
    C::CAN_SEND_MESSAGE,
    C::CAN_RECEIVE_MESSAGE,
    C::CAN_COPY_MESSAGE,
    C::CAN_REPORT_ABUSE,
    C::CAN_REPLY_TO_MESSAGE,
    C::CAN_REACT_TO_MESSAGE,
    C::CAN_EDIT_REACTION,
    C::CAN_DELETE_OWN_REACTION,
    C::CAN_EDIT_OWN_MESSAGE,
    C::CAN_DELETE_OWN_MESSAGE,
    C::CAN_START_TOPIC,
    C::CAN_REPLY_IN_TOPIC,
    C::CAN_EDIT_OWN_TOPIC,
    C::CAN_UPLOAD_IMAGE,
    C::CAN_UPLOAD_AUDIO,
    C::CAN_UPLOAD_VIDEO,
    C::CAN_UPLOAD_ATTACHMENT,
    C::CAN_DOWNLOAD_IMAGE,
    C::CAN_DOWNLOAD_AUDIO,
    C::CAN_DOWNLOAD_VIDEO,
    C::CAN_DOWNLOAD_ATTACHMENT,
    C::CAN_SEND_LINK,
    C::CAN_SEND_LINK_PREVIEW,
    C::CAN_FOLLOW_LINK,
    C::CAN_COPY_LINK,
    C::CAN_START_CALL,
    C::CAN_JOIN_CALL,
    C::CAN_SEND_AUDIO,
    C::CAN_RECEIVE_AUDIO,
    C::CAN_SEND_VIDEO,
    C::CAN_RECEIVE_VIDEO,
    C::CAN_SHARE_SCREEN,
    C::CAN_VIEW_SHARED_SCREEN,
];

/// Listening-only capabilities (a moderated room's guest).
const LISTENER: &[C] = &[
    C::CAN_ADD_OWN_CLIENT,
    C::CAN_REMOVE_OWN_CLIENT,
    C::CAN_REMOVE_SELF,
    C::CAN_RECEIVE_MESSAGE,
    C::CAN_REACT_TO_MESSAGE,
    C::CAN_EDIT_REACTION,
    C::CAN_DELETE_OWN_REACTION,
    C::CAN_DOWNLOAD_IMAGE,
    C::CAN_DOWNLOAD_AUDIO,
    C::CAN_DOWNLOAD_VIDEO,
    C::CAN_DOWNLOAD_ATTACHMENT,
    C::CAN_FOLLOW_LINK,
    C::CAN_JOIN_CALL,
    C::CAN_RECEIVE_AUDIO,
    C::CAN_RECEIVE_VIDEO,
    C::CAN_VIEW_SHARED_SCREEN,
];

/// Room-metadata capabilities except the description (which the cooperative preset keeps for
/// admins).
const METADATA_LIGHT: &[C] = &[
    C::CAN_CHANGE_ROOM_NAME,
    C::CAN_CHANGE_ROOM_AVATAR,
    C::CAN_CHANGE_ROOM_SUBJECT,
    C::CAN_CHANGE_ROOM_MOOD,
];

/// Moderation capabilities.
const MODERATION: &[C] = &[
    C::CAN_BAN,
    C::CAN_UN_BAN,
    C::CAN_KICK,
    C::CAN_CHANGE_USER_ROLE,
    C::CAN_DELETE_OTHER_MESSAGE,
    C::CAN_DELETE_OTHER_REACTION,
    C::CAN_EDIT_OTHER_TOPIC,
];

/// Room administration capabilities.
const ADMINISTRATION: &[C] = &[
    C::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE,
    C::CAN_CHANGE_PREAUTHORIZED_USER_LIST,
    C::CAN_CHANGE_ROLE_DEFINITIONS,
    C::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE,
    C::CAN_DESTROY_ROOM,
];

/// The hub's policy enforcer: removes, bans, changes roles and policy, re-initialises; never
/// adds anyone and has no clients.
const ENFORCER: &[C] = &[
    C::CAN_REMOVE_PARTICIPANT,
    C::CAN_BAN,
    C::CAN_UN_BAN,
    C::CAN_KICK,
    C::CAN_CHANGE_USER_ROLE,
    C::CAN_CHANGE_ROLE_DEFINITIONS,
    C::CAN_CHANGE_PREAUTHORIZED_USER_LIST,
    C::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE,
    C::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE,
    C::CAN_CHANGE_MLS_OPERATIONAL_POLICIES,
    C::CAN_DESTROY_ROOM,
    C::CAN_SEND_MLS_REINIT_PROPOSAL,
];

struct RoleBuilder(Role);

impl RoleBuilder {
    fn new(index: u32, name: &str, description: &str) -> Self {
        Self(Role::new(index, name, description))
    }

    fn caps(mut self, sets: &[&[C]]) -> Self {
        for set in sets {
            for c in *set {
                if !self.0.role_capabilities.contains(c) {
                    self.0.role_capabilities.push(*c);
                }
            }
        }
        self
    }

    fn changes(mut self, entries: &[(u32, &[u32])]) -> Self {
        self.0.authorized_role_changes = entries
            .iter()
            .map(|(from, to)| SingleSourceRoleChangeTargets::new(*from, to))
            .collect();
        self
    }

    fn participants(mut self, min: u32, max: Option<u32>) -> Self {
        self.0.minimum_participants_constraint = min;
        self.0.maximum_participants_constraint = max;
        self
    }

    fn active(mut self, min: u32, max: Option<u32>) -> Self {
        self.0.minimum_active_participants_constraint = min;
        self.0.maximum_active_participants_constraint = max;
        self
    }

    fn build(self) -> Role {
        self.0
    }
}

fn no_role(caps: &[C], joins_to: &[u32]) -> Role {
    let b = RoleBuilder::new(0, "no_role", "not in the participant list").caps(&[caps]);
    if joins_to.is_empty() {
        b.build()
    } else {
        b.changes(&[(0, joins_to)]).build()
    }
}

fn banned() -> Role {
    RoleBuilder::new(1, "banned", "banned from the room").build()
}

fn enforcer(index: u32, changes: &[(u32, &[u32])]) -> Role {
    RoleBuilder::new(
        index,
        "policy_enforcer",
        "the hub, acting as an external sender",
    )
    .caps(&[ENFORCER])
    .changes(changes)
    .participants(0, Some(2))
    .active(0, Some(0))
    .build()
}

/// A.1: 0 no_role, 1 banned, 2 ordinary_user (adds and removes ordinary users, light metadata),
/// 3 group_admin (+ moderation, description), 4 super_admin (+ administration; at least one),
/// 5 policy_enforcer.
pub fn cooperative() -> RoleData {
    let roles = vec![
        no_role(&[], &[]),
        banned(),
        RoleBuilder::new(
            2,
            "ordinary_user",
            "a member who may invite and remove members",
        )
        .caps(&[
            MEMBER,
            &[C::CAN_ADD_PARTICIPANT, C::CAN_REMOVE_PARTICIPANT],
            METADATA_LIGHT,
            &[C::CAN_JOIN_IF_PREAUTHORIZED],
        ])
        .changes(&[(0, &[2]), (2, &[0])])
        .build(),
        RoleBuilder::new(3, "group_admin", "moderates the room")
            .caps(&[
                MEMBER,
                &[C::CAN_ADD_PARTICIPANT, C::CAN_REMOVE_PARTICIPANT],
                METADATA_LIGHT,
                &[C::CAN_CHANGE_ROOM_DESCRIPTION],
                MODERATION,
                &[C::CAN_JOIN_IF_PREAUTHORIZED],
            ])
            .changes(&[(0, &[2, 3]), (1, &[0, 2]), (2, &[0, 1, 3]), (3, &[0, 1, 2])])
            .build(),
        RoleBuilder::new(4, "super_admin", "administers the room")
            .caps(&[
                MEMBER,
                &[C::CAN_ADD_PARTICIPANT, C::CAN_REMOVE_PARTICIPANT],
                METADATA_LIGHT,
                &[C::CAN_CHANGE_ROOM_DESCRIPTION],
                MODERATION,
                ADMINISTRATION,
            ])
            .changes(&[
                (0, &[2, 3, 4]),
                (1, &[0, 2, 3]),
                (2, &[0, 1, 3, 4]),
                (3, &[0, 1, 2, 4]),
                (4, &[0, 2, 3]),
            ])
            .participants(1, None)
            .build(),
        enforcer(
            5,
            &[
                (1, &[0, 2]),
                (2, &[0, 1, 3]),
                (3, &[0, 1, 2]),
                (4, &[0, 1, 3]),
            ],
        ),
    ];
    RoleData { roles }
}

/// A.2: 0 no_role (may join with a join code as ordinary_user), 1 banned, 2 ordinary_user
/// (messaging only), 3 admin (adds, removes, moderates, all metadata, administration; at least
/// one), 4 policy_enforcer.
pub fn strictly_administered() -> RoleData {
    let roles = vec![
        no_role(&[C::CAN_USE_JOIN_CODE], &[2]),
        banned(),
        RoleBuilder::new(2, "ordinary_user", "a member")
            .caps(&[MEMBER, &[C::CAN_JOIN_IF_PREAUTHORIZED]])
            .changes(&[(2, &[0])])
            .build(),
        RoleBuilder::new(3, "admin", "administers the room")
            .caps(&[
                MEMBER,
                &[C::CAN_ADD_PARTICIPANT, C::CAN_REMOVE_PARTICIPANT],
                METADATA_LIGHT,
                &[C::CAN_CHANGE_ROOM_DESCRIPTION],
                MODERATION,
                ADMINISTRATION,
                &[C::CAN_JOIN_IF_PREAUTHORIZED],
            ])
            .changes(&[(0, &[2, 3]), (1, &[0, 2]), (2, &[0, 1, 3]), (3, &[0, 1, 2])])
            .participants(1, None)
            .build(),
        enforcer(4, &[(1, &[0, 2]), (2, &[0, 1]), (3, &[0, 1, 2])]),
    ];
    RoleData { roles }
}

/// A.3: 0 no_role (open join as guest), 1 banned, 2 guest (read and react), 3 attendee (+ report,
/// copy; may take a preauthorized role itself), 4 speaker (may send; at most 10), 5 moderator
/// (grants and revokes voice, moderates; at least one), 6 super_admin (+ metadata, administration;
/// at least one), 7 policy_enforcer.
pub fn moderated() -> RoleData {
    let attendee_extra: &[C] = &[
        C::CAN_REPORT_ABUSE,
        C::CAN_COPY_MESSAGE,
        C::CAN_COPY_LINK,
        C::CAN_CHANGE_OWN_ROLE,
    ];
    let roles = vec![
        no_role(&[C::CAN_OPEN_JOIN], &[2]),
        banned(),
        RoleBuilder::new(2, "guest", "reads and reacts")
            .caps(&[LISTENER])
            .changes(&[(2, &[0])])
            .build(),
        RoleBuilder::new(3, "attendee", "reads, reacts and reports")
            .caps(&[LISTENER, attendee_extra, &[C::CAN_JOIN_IF_PREAUTHORIZED]])
            .changes(&[(3, &[0])])
            .build(),
        RoleBuilder::new(4, "speaker", "may speak")
            .caps(&[
                MEMBER,
                &[C::CAN_CHANGE_OWN_ROLE, C::CAN_JOIN_IF_PREAUTHORIZED],
            ])
            .changes(&[(4, &[0])])
            .participants(0, Some(10))
            .build(),
        RoleBuilder::new(5, "moderator", "grants voice and moderates")
            .caps(&[
                MEMBER,
                &[C::CAN_ADD_PARTICIPANT, C::CAN_REMOVE_PARTICIPANT],
                &[C::CAN_CHANGE_ROOM_SUBJECT, C::CAN_CHANGE_ROOM_MOOD],
                MODERATION,
            ])
            .changes(&[
                (0, &[2, 3, 4]),
                (1, &[0, 2]),
                (2, &[0, 1, 3, 4]),
                (3, &[0, 1, 2, 4]),
                (4, &[0, 1, 2, 3]),
                (5, &[0]),
            ])
            .participants(1, None)
            .build(),
        RoleBuilder::new(6, "super_admin", "administers the room")
            .caps(&[
                MEMBER,
                &[C::CAN_ADD_PARTICIPANT, C::CAN_REMOVE_PARTICIPANT],
                METADATA_LIGHT,
                &[C::CAN_CHANGE_ROOM_DESCRIPTION],
                MODERATION,
                ADMINISTRATION,
            ])
            .changes(&[
                (0, &[2, 3, 4, 5, 6]),
                (1, &[0, 2, 3]),
                (2, &[0, 1, 3, 4, 5, 6]),
                (3, &[0, 1, 2, 4, 5, 6]),
                (4, &[0, 1, 2, 3, 5, 6]),
                (5, &[0, 1, 2, 3, 4, 6]),
                (6, &[0, 5]),
            ])
            .participants(1, None)
            .build(),
        enforcer(
            7,
            &[
                (1, &[0, 2]),
                (2, &[0, 1, 3, 4]),
                (3, &[0, 1, 2, 4]),
                (4, &[0, 1, 2, 3]),
                (5, &[0, 1, 2, 3, 4]),
                (6, &[0, 1, 5]),
            ],
        ),
    ];
    RoleData { roles }
}

/// A.4: 0 no_role, 1 banned, 2 org_a_user, 3 org_a_admin, 4 org_b_user, 5 org_b_admin,
/// 6 policy_enforcer. Each organization's admins add, remove, ban and promote only within their
/// organization's roles; unbanning is left to the policy enforcer (a banned user has no
/// organization in the list).
pub fn multi_organization() -> RoleData {
    let org = |user: u32, admin: u32, label: &str| {
        let user_role = RoleBuilder::new(
            user,
            &format!("{label}_user"),
            "a member of the organization",
        )
        .caps(&[MEMBER, &[C::CAN_JOIN_IF_PREAUTHORIZED]])
        .changes(&[(user, &[0])])
        .build();
        let admin_role = RoleBuilder::new(
            admin,
            &format!("{label}_admin"),
            "administers the organization's users",
        )
        .caps(&[
            MEMBER,
            &[C::CAN_ADD_PARTICIPANT, C::CAN_REMOVE_PARTICIPANT],
            &[C::CAN_BAN, C::CAN_KICK, C::CAN_CHANGE_USER_ROLE],
            &[C::CAN_DELETE_OTHER_MESSAGE, C::CAN_DELETE_OTHER_REACTION],
            METADATA_LIGHT,
            &[C::CAN_JOIN_IF_PREAUTHORIZED],
        ])
        .changes(&[
            (0, &[user, admin]),
            (user, &[0, 1, admin]),
            (admin, &[0, 1, user]),
        ])
        .participants(1, None)
        .build();
        (user_role, admin_role)
    };
    let (a_user, a_admin) = org(2, 3, "org_a");
    let (b_user, b_admin) = org(4, 5, "org_b");
    let roles = vec![
        no_role(&[], &[]),
        banned(),
        a_user,
        a_admin,
        b_user,
        b_admin,
        enforcer(
            6,
            &[
                (1, &[0, 2, 4]),
                (2, &[0, 1]),
                (3, &[0, 1, 2]),
                (4, &[0, 1]),
                (5, &[0, 1, 4]),
            ],
        ),
    ];
    RoleData { roles }
}

/// What a room is created with: a preset, the room, the creator, and optionally the hub's
/// policy-enforcer service user.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoomCreation {
    /// The role set.
    pub preset: Preset,
    /// The room.
    pub room: RoomUri,
    /// The creator (gets [`Preset::creator_role`]).
    pub creator: UserUri,
    /// The hub's service user (gets [`Preset::policy_enforcer_role`]); must be on the hub's
    /// domain.
    pub policy_enforcer: Option<UserUri>,
    /// The room's display name.
    pub name: String,
}

impl RoomCreation {
    /// A creation request without enforcer and with an empty name.
    pub fn new(preset: Preset, room: RoomUri, creator: UserUri) -> Self {
        Self {
            preset,
            room,
            creator,
            policy_enforcer: None,
            name: String::new(),
        }
    }

    /// The initial room state (no MLS members yet: add the creator's client with
    /// [`RoomState::with_members`]).
    pub fn initial_state(&self) -> Result<RoomState, DecodeError> {
        let mut participants = vec![UserRolePair::new(
            self.creator.clone(),
            self.preset.creator_role(),
        )];
        if let Some(enforcer) = &self.policy_enforcer {
            if enforcer.domain() != self.room.hub_domain() {
                return Err(DecodeError::invalid(
                    "room creation",
                    format!("the policy enforcer {enforcer} is not on the hub's domain"),
                ));
            }
            if enforcer == &self.creator {
                return Err(DecodeError::invalid(
                    "room creation",
                    "the creator cannot also be the policy enforcer",
                ));
            }
            participants.push(UserRolePair::new(
                enforcer.clone(),
                self.preset.policy_enforcer_role(),
            ));
        }
        let mut state = RoomState::new(ParticipantList { participants }, self.preset.roles())?;
        state.metadata = Some(RoomMetadata {
            room_uri: Uri::new(self.room.to_string())?,
            room_name: self.name.clone(),
            ..RoomMetadata::default()
        });
        state.base_policy = Some(self.preset.base_policy());
        if self.preset == Preset::StrictlyAdministered {
            state.join_links = Some(JoinLinks::default());
        }
        state.check_consistency()?;
        Ok(state)
    }
}
