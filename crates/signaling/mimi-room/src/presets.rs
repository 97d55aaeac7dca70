//! The four example role sets of room-policy-03 Appendix A (digest §4.8), transcribed role by
//! role (capabilities, constraints, `authorized_role_changes`), and [`RoomCreation`] to build a
//! room's initial [`RoomState`] from one.
//!
//! Where the examples are defective we read them as follows: `canRevokeVoice` and
//! `canGrantVoice` (A.1 group_admin) have no code point and are left out (moderators change
//! voice with `canChangeUserRole` between attendee and speaker); A.3's speaker "includes all the
//! capabilities of a speaker" (read: attendee) and its moderator "of an ordinary_user" (a role
//! A.3 does not have; read: speaker); `canUnban` is the registry's `canUnBan`. Reserved
//! capabilities the examples list (`canChangeOwnName`, `canCreateJoinCode`, ...) are kept: they
//! are registry values and grant nothing here. The creator gets the `super_admin` role; the
//! hub's service user, if given, the clientless `policy_enforcer` role through which the hub
//! acts as an external sender.

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
            Preset::Cooperative | Preset::StrictlyAdministered => RoleIndex(4),
            Preset::Moderated => RoleIndex(6),
            Preset::MultiOrganization => RoleIndex(8),
        }
    }

    /// The clientless role the hub's service user holds.
    pub fn policy_enforcer_role(self) -> RoleIndex {
        match self {
            Preset::Cooperative | Preset::StrictlyAdministered => RoleIndex(5),
            Preset::Moderated => RoleIndex(7),
            Preset::MultiOrganization => RoleIndex(9),
        }
    }

    /// The base room policy the preset starts with.
    pub fn base_policy(self) -> BaseRoomPolicy {
        let mut policy = BaseRoomPolicy {
            policy_component_ids: vec![RoleData::ID, BaseRoomPolicy::ID],
            ..BaseRoomPolicy::default()
        };
        if matches!(self, Preset::StrictlyAdministered | Preset::Moderated) {
            policy.policy_component_ids.push(JoinLinks::ID);
        }
        policy
    }
}

/// A.1 `ordinary_user`.
pub(crate) const COOP_ORDINARY: &[C] = &[
    C::CAN_ADD_PARTICIPANT,
    C::CAN_REMOVE_PARTICIPANT,
    C::CAN_ADD_OWN_CLIENT,
    C::CAN_REMOVE_OWN_CLIENT,
    C::CAN_REMOVE_SELF,
    C::CAN_SEND_MESSAGE,
    C::CAN_RECEIVE_MESSAGE,
    C::CAN_COPY_MESSAGE,
    C::CAN_REPORT_ABUSE,
    C::CAN_REPLY_TO_MESSAGE,
    C::CAN_REACT_TO_MESSAGE,
    C::CAN_DELETE_OWN_REACTION,
    C::CAN_EDIT_OWN_MESSAGE,
    C::CAN_DELETE_OWN_MESSAGE,
    C::CAN_START_TOPIC,
    C::CAN_REPLY_IN_TOPIC,
    C::CAN_EDIT_OWN_TOPIC,
    C::CAN_UPLOAD_IMAGE,
    C::CAN_UPLOAD_VIDEO,
    C::CAN_UPLOAD_AUDIO,
    C::CAN_UPLOAD_ATTACHMENT,
    C::CAN_DOWNLOAD_IMAGE,
    C::CAN_DOWNLOAD_VIDEO,
    C::CAN_DOWNLOAD_AUDIO,
    C::CAN_DOWNLOAD_ATTACHMENT,
    C::CAN_SEND_LINK,
    C::CAN_SEND_LINK_PREVIEW,
    C::CAN_FOLLOW_LINK,
    C::CAN_COPY_LINK,
    C::CAN_CHANGE_ROOM_NAME,
    C::CAN_CHANGE_ROOM_AVATAR,
    C::CAN_CHANGE_ROOM_SUBJECT,
    C::CAN_CHANGE_ROOM_MOOD,
    C::CAN_CHANGE_OWN_NAME,
    C::CAN_CHANGE_OWN_PRESENCE,
    C::CAN_CHANGE_OWN_MOOD,
    C::CAN_CHANGE_OWN_AVATAR,
];

/// A.1 `group_admin` on top of `ordinary_user` (`canRevokeVoice` and `canGrantVoice` have no
/// code point and are left out).
const COOP_GROUP_ADMIN: &[C] = &[
    C::CAN_BAN,
    C::CAN_UN_BAN,
    C::CAN_KICK,
    C::CAN_CHANGE_USER_ROLE,
    C::CAN_DELETE_OTHER_MESSAGE,
    C::CAN_EDIT_OTHER_TOPIC,
    C::CAN_CHANGE_ROOM_DESCRIPTION,
];

/// A.1 `super_admin` on top of `group_admin`.
const COOP_SUPER_ADMIN: &[C] = &[
    C::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE,
    C::CAN_CHANGE_PREAUTHORIZED_USER_LIST,
    C::CAN_DESTROY_ROOM,
];

/// A.2 `ordinary_user`.
const STRICT_ORDINARY: &[C] = &[
    C::CAN_ADD_OWN_CLIENT,
    C::CAN_JOIN_IF_PREAUTHORIZED,
    C::CAN_REMOVE_OWN_CLIENT,
    C::CAN_REMOVE_SELF,
    C::CAN_CHANGE_OWN_ROLE,
    C::CAN_SEND_MESSAGE,
    C::CAN_RECEIVE_MESSAGE,
    C::CAN_COPY_MESSAGE,
    C::CAN_REPORT_ABUSE,
    C::CAN_REACT_TO_MESSAGE,
    C::CAN_DELETE_OWN_REACTION,
    C::CAN_EDIT_OWN_MESSAGE,
    C::CAN_DELETE_OWN_MESSAGE,
    C::CAN_START_TOPIC,
    C::CAN_REPLY_IN_TOPIC,
    C::CAN_UPLOAD_IMAGE,
    C::CAN_UPLOAD_VIDEO,
    C::CAN_UPLOAD_AUDIO,
    C::CAN_UPLOAD_ATTACHMENT,
    C::CAN_DOWNLOAD_IMAGE,
    C::CAN_DOWNLOAD_VIDEO,
    C::CAN_DOWNLOAD_AUDIO,
    C::CAN_DOWNLOAD_ATTACHMENT,
    C::CAN_SEND_LINK,
    C::CAN_SEND_LINK_PREVIEW,
    C::CAN_FOLLOW_LINK,
    C::CAN_COPY_LINK,
    C::CAN_CHANGE_OWN_NAME,
    C::CAN_CHANGE_OWN_PRESENCE,
    C::CAN_CHANGE_OWN_MOOD,
    C::CAN_CHANGE_OWN_AVATAR,
];

/// A.2 `group_admin` on top of `ordinary_user` (A.3's `moderator` adds the same on top of
/// `speaker`, less the room description).
const STRICT_GROUP_ADMIN: &[C] = &[
    C::CAN_ADD_PARTICIPANT,
    C::CAN_REMOVE_PARTICIPANT,
    C::CAN_BAN,
    C::CAN_UN_BAN,
    C::CAN_KICK,
    C::CAN_CHANGE_USER_ROLE,
    C::CAN_CREATE_JOIN_CODE,
    C::CAN_DELETE_JOIN_CODE,
    C::CAN_DELETE_OTHER_REACTION,
    C::CAN_DELETE_OTHER_MESSAGE,
    C::CAN_EDIT_OWN_TOPIC,
    C::CAN_EDIT_OTHER_TOPIC,
    C::CAN_CHANGE_ROOM_DESCRIPTION,
    C::CAN_CHANGE_ROOM_NAME,
    C::CAN_CHANGE_ROOM_AVATAR,
    C::CAN_CHANGE_ROOM_SUBJECT,
    C::CAN_CHANGE_ROOM_MOOD,
];

/// A.2 and A.3 `super_admin` on top of the admin or moderator role.
const SUPER_ADMIN_EXTRA: &[C] = &[
    C::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE,
    C::CAN_CHANGE_ROLE_DEFINITIONS,
    C::CAN_CHANGE_PREAUTHORIZED_USER_LIST,
    C::CAN_DESTROY_ROOM,
    C::CAN_SEND_MLS_REINIT_PROPOSAL,
];

/// A.3 `guest`.
const GUEST: &[C] = &[
    C::CAN_REMOVE_SELF,
    C::CAN_RECEIVE_MESSAGE,
    C::CAN_COPY_MESSAGE,
    C::CAN_REACT_TO_MESSAGE,
    C::CAN_DELETE_OWN_REACTION,
    C::CAN_FOLLOW_LINK,
    C::CAN_COPY_LINK,
    C::CAN_DOWNLOAD_IMAGE,
    C::CAN_DOWNLOAD_VIDEO,
    C::CAN_DOWNLOAD_AUDIO,
];

/// A.3 `attendee` on top of `guest`.
const ATTENDEE_EXTRA: &[C] = &[
    C::CAN_ADD_OWN_CLIENT,
    C::CAN_JOIN_IF_PREAUTHORIZED,
    C::CAN_REMOVE_OWN_CLIENT,
    C::CAN_CHANGE_OWN_ROLE,
    C::CAN_REPORT_ABUSE,
    C::CAN_REPLY_IN_TOPIC,
    C::CAN_DOWNLOAD_ATTACHMENT,
    C::CAN_CHANGE_OWN_NAME,
    C::CAN_CHANGE_OWN_PRESENCE,
    C::CAN_CHANGE_OWN_AVATAR,
];

/// A.3 `speaker` on top of `attendee`.
const SPEAKER_EXTRA: &[C] = &[
    C::CAN_SEND_MESSAGE,
    C::CAN_EDIT_OWN_MESSAGE,
    C::CAN_DELETE_OWN_MESSAGE,
    C::CAN_START_TOPIC,
    C::CAN_UPLOAD_IMAGE,
    C::CAN_UPLOAD_VIDEO,
    C::CAN_UPLOAD_AUDIO,
    C::CAN_UPLOAD_ATTACHMENT,
    C::CAN_SEND_LINK,
    C::CAN_SEND_LINK_PREVIEW,
];

/// A.4 `org_b_user` (and `org_c_user`).
const ORG_USER: &[C] = &[
    C::CAN_REMOVE_SELF,
    C::CAN_ADD_OWN_CLIENT,
    C::CAN_REMOVE_OWN_CLIENT,
    C::CAN_SEND_MESSAGE,
    C::CAN_RECEIVE_MESSAGE,
    C::CAN_COPY_MESSAGE,
    C::CAN_REPORT_ABUSE,
    C::CAN_REPLY_IN_TOPIC,
    C::CAN_REACT_TO_MESSAGE,
    C::CAN_DELETE_OWN_REACTION,
    C::CAN_EDIT_OWN_MESSAGE,
    C::CAN_SEND_LINK,
    C::CAN_SEND_LINK_PREVIEW,
    C::CAN_FOLLOW_LINK,
    C::CAN_COPY_LINK,
    C::CAN_DOWNLOAD_IMAGE,
    C::CAN_DOWNLOAD_VIDEO,
    C::CAN_DOWNLOAD_AUDIO,
    C::CAN_DOWNLOAD_ATTACHMENT,
    C::CAN_CHANGE_OWN_NAME,
    C::CAN_CHANGE_OWN_PRESENCE,
    C::CAN_CHANGE_OWN_AVATAR,
];

/// A.4 `org_b_admin` (and `org_c_admin`) on top of the organization user.
const ORG_ADMIN_EXTRA: &[C] = &[
    C::CAN_DELETE_OWN_MESSAGE,
    C::CAN_START_TOPIC,
    C::CAN_UPLOAD_IMAGE,
    C::CAN_UPLOAD_VIDEO,
    C::CAN_UPLOAD_AUDIO,
    C::CAN_UPLOAD_ATTACHMENT,
    C::CAN_ADD_PARTICIPANT,
    C::CAN_REMOVE_PARTICIPANT,
    C::CAN_BAN,
    C::CAN_KICK,
    C::CAN_CHANGE_USER_ROLE,
];

/// The host organization's extras (A.4 `org_a_user` and `org_a_admin`).
const HOST_ORG_EXTRA: &[C] = &[C::CAN_CHANGE_OWN_ROLE, C::CAN_JOIN_IF_PREAUTHORIZED];

/// A.4 `super_admin` on top of `org_a_admin`.
const MULTI_SUPER_ADMIN_EXTRA: &[C] = &[
    C::CAN_UN_BAN,
    C::CAN_DELETE_OTHER_REACTION,
    C::CAN_DELETE_OTHER_MESSAGE,
    C::CAN_EDIT_OWN_TOPIC,
    C::CAN_EDIT_OTHER_TOPIC,
    C::CAN_CHANGE_ROOM_DESCRIPTION,
    C::CAN_CHANGE_ROOM_NAME,
    C::CAN_CHANGE_ROOM_AVATAR,
    C::CAN_CHANGE_ROOM_SUBJECT,
    C::CAN_CHANGE_ROOM_MOOD,
    C::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE,
    C::CAN_CHANGE_ROLE_DEFINITIONS,
    C::CAN_CHANGE_PREAUTHORIZED_USER_LIST,
    C::CAN_DESTROY_ROOM,
    C::CAN_SEND_MLS_REINIT_PROPOSAL,
];

/// Every example's `policy_enforcer`: removes, bans, unbans, changes roles and policy,
/// destroys and re-initialises; never adds anyone and has no clients. "Removes" includes
/// removing clients without a participant-list change (`canKick`): the hub takes out revoked
/// devices (our reading, `readings.rs`). It also deletes others' messages and reactions, so
/// that members accept the hub's retraction of abusive messages
/// (hub-retracted-messages-00; our reading, `readings.rs`).
pub(crate) const ENFORCER: &[C] = &[
    C::CAN_REMOVE_PARTICIPANT,
    C::CAN_KICK,
    C::CAN_DELETE_OTHER_MESSAGE,
    C::CAN_DELETE_OTHER_REACTION,
    C::CAN_CHANGE_USER_ROLE,
    C::CAN_BAN,
    C::CAN_UN_BAN,
    C::CAN_CHANGE_ROLE_DEFINITIONS,
    C::CAN_CHANGE_PREAUTHORIZED_USER_LIST,
    C::CAN_CHANGE_MLS_OPERATIONAL_POLICIES,
    C::CAN_DESTROY_ROOM,
    C::CAN_SEND_MLS_REINIT_PROPOSAL,
];

pub(crate) type Changes<'a> = &'a [(u32, &'a [u32])];

/// Builds a role: capabilities (concatenated sets, first occurrence kept), constraints
/// `(min, max, min_active, max_active)` and authorized role changes.
pub(crate) fn role(
    index: u32,
    name: &str,
    description: &str,
    caps: &[&[C]],
    limits: (u32, Option<u32>, u32, Option<u32>),
    changes: Changes<'_>,
) -> Role {
    let mut role = Role::new(index, name, description);
    for set in caps {
        for c in *set {
            if !role.role_capabilities.contains(c) {
                role.role_capabilities.push(*c);
            }
        }
    }
    role.minimum_participants_constraint = limits.0;
    role.maximum_participants_constraint = limits.1;
    role.minimum_active_participants_constraint = limits.2;
    role.maximum_active_participants_constraint = limits.3;
    role.authorized_role_changes = changes
        .iter()
        .map(|(from, to)| SingleSourceRoleChangeTargets::new(*from, to))
        .collect();
    role
}

pub(crate) const NO_LIMITS: (u32, Option<u32>, u32, Option<u32>) = (0, None, 0, None);
pub(crate) const NO_CLIENTS: (u32, Option<u32>, u32, Option<u32>) = (0, None, 0, Some(0));
pub(crate) const ENFORCER_LIMITS: (u32, Option<u32>, u32, Option<u32>) = (1, Some(2), 0, Some(0));

pub(crate) fn banned() -> Role {
    role(1, "banned", "banned from the room", &[], NO_CLIENTS, &[])
}

fn enforcer(index: u32, changes: Changes<'_>) -> Role {
    role(
        index,
        "policy_enforcer",
        "the hub, acting as an external sender",
        &[ENFORCER],
        ENFORCER_LIMITS,
        changes,
    )
}

/// A.1 cooperatively administered room: 0 no_role, 1 banned, 2 ordinary_user (adds and removes
/// ordinary users), 3 group_admin (at least one), 4 super_admin, 5 policy_enforcer.
pub fn cooperative() -> RoleData {
    let admin: &[&[C]] = &[COOP_ORDINARY, COOP_GROUP_ADMIN];
    let sup: &[&[C]] = &[COOP_ORDINARY, COOP_GROUP_ADMIN, COOP_SUPER_ADMIN];
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
                2,
                "ordinary_user",
                "a member who may invite and remove ordinary members",
                &[COOP_ORDINARY],
                NO_LIMITS,
                &[(0, &[2]), (2, &[0])],
            ),
            role(
                3,
                "group_admin",
                "moderates the room",
                admin,
                (1, None, 0, None),
                &[
                    (0, &[1, 2, 3]),
                    (1, &[0, 2, 3]),
                    (2, &[0, 1, 3]),
                    (3, &[0, 1, 2]),
                ],
            ),
            role(
                4,
                "super_admin",
                "administers the room",
                sup,
                NO_LIMITS,
                &[
                    (0, &[1, 2, 3, 4]),
                    (1, &[0, 2, 3, 4]),
                    (2, &[0, 1, 3, 4]),
                    (3, &[0, 1, 2, 4]),
                    (4, &[0, 1, 2, 3]),
                ],
            ),
            enforcer(
                5,
                &[
                    (0, &[1]),
                    (1, &[0]),
                    (2, &[0, 1]),
                    (3, &[0, 1]),
                    (4, &[0, 1]),
                ],
            ),
        ],
    }
}

/// A.2 strictly administered room: 0 no_role (joins with a join code as ordinary_user),
/// 1 banned, 2 ordinary_user, 3 group_admin (adds and removes; at least one), 4 super_admin,
/// 5 policy_enforcer.
pub fn strictly_administered() -> RoleData {
    RoleData {
        roles: vec![
            role(
                0,
                "no_role",
                "not in the participant list",
                &[&[C::CAN_USE_JOIN_CODE]],
                NO_CLIENTS,
                &[(0, &[2])],
            ),
            banned(),
            role(
                2,
                "ordinary_user",
                "a member",
                &[STRICT_ORDINARY],
                NO_LIMITS,
                &[(0, &[2]), (2, &[0])],
            ),
            role(
                3,
                "group_admin",
                "administers membership and moderates",
                &[STRICT_ORDINARY, STRICT_GROUP_ADMIN],
                (1, None, 0, None),
                &[
                    (0, &[1, 2, 3]),
                    (1, &[0, 2, 3]),
                    (2, &[0, 1, 3]),
                    (3, &[0, 1, 2]),
                ],
            ),
            role(
                4,
                "super_admin",
                "administers the room",
                &[STRICT_ORDINARY, STRICT_GROUP_ADMIN, SUPER_ADMIN_EXTRA],
                NO_LIMITS,
                &[
                    (0, &[1, 2, 3, 4]),
                    (1, &[0, 2, 3, 4]),
                    (2, &[0, 1, 3, 4]),
                    (3, &[0, 1, 2, 4]),
                    (4, &[0, 1, 2, 3]),
                ],
            ),
            enforcer(
                5,
                &[
                    (0, &[1]),
                    (1, &[0]),
                    (2, &[0, 1]),
                    (3, &[0, 1]),
                    (4, &[0, 1]),
                ],
            ),
        ],
    }
}

/// A.3 moderated room: 0 no_role (joins with a join code as guest or attendee), 1 banned,
/// 2 guest, 3 attendee, 4 speaker, 5 moderator (at least one), 6 super_admin,
/// 7 policy_enforcer. The draft's speaker "includes speaker" and moderator "includes
/// ordinary_user" (a role A.3 lacks): read as attendee and speaker.
pub fn moderated() -> RoleData {
    let attendee: &[&[C]] = &[GUEST, ATTENDEE_EXTRA];
    let speaker: &[&[C]] = &[GUEST, ATTENDEE_EXTRA, SPEAKER_EXTRA];
    let mut moderator_caps: Vec<C> = STRICT_GROUP_ADMIN.to_vec();
    moderator_caps.retain(|c| *c != C::CAN_CHANGE_ROOM_DESCRIPTION);
    let moderator: &[&[C]] = &[GUEST, ATTENDEE_EXTRA, SPEAKER_EXTRA, &moderator_caps];
    let sup: &[&[C]] = &[
        GUEST,
        ATTENDEE_EXTRA,
        SPEAKER_EXTRA,
        &moderator_caps,
        &[C::CAN_CHANGE_ROOM_DESCRIPTION],
        SUPER_ADMIN_EXTRA,
    ];
    RoleData {
        roles: vec![
            role(
                0,
                "no_role",
                "not in the participant list",
                &[&[C::CAN_USE_JOIN_CODE]],
                NO_LIMITS,
                &[(0, &[2, 3])],
            ),
            banned(),
            role(
                2,
                "guest",
                "reads and reacts",
                &[GUEST],
                NO_LIMITS,
                &[(0, &[2]), (2, &[0])],
            ),
            role(
                3,
                "attendee",
                "reads, reacts, replies in topics, reports",
                attendee,
                NO_LIMITS,
                &[(0, &[3]), (3, &[0])],
            ),
            role(
                4,
                "speaker",
                "may speak",
                speaker,
                NO_LIMITS,
                &[(0, &[4]), (4, &[0])],
            ),
            role(
                5,
                "moderator",
                "grants and revokes voice and moderates",
                moderator,
                (1, None, 0, None),
                &[
                    (0, &[1, 2, 3, 4, 5]),
                    (1, &[0, 2, 3, 4, 5]),
                    (2, &[0, 1, 3, 4, 5]),
                    (3, &[0, 1, 2, 4, 5]),
                    (4, &[0, 1, 2, 3, 5]),
                    (5, &[0, 1, 2, 3, 4]),
                ],
            ),
            role(
                6,
                "super_admin",
                "administers the room",
                sup,
                NO_LIMITS,
                &[
                    (0, &[1, 2, 3, 4, 5, 6]),
                    (1, &[0, 2, 3, 4, 5, 6]),
                    (2, &[0, 1, 3, 4, 5, 6]),
                    (3, &[0, 1, 2, 4, 5, 6]),
                    (4, &[0, 1, 2, 3, 5, 6]),
                    (5, &[0, 1, 2, 3, 4, 6]),
                    (6, &[0, 1, 2, 3, 4, 5]),
                ],
            ),
            enforcer(
                7,
                &[
                    (0, &[1]),
                    (1, &[0]),
                    (2, &[0, 1]),
                    (3, &[0, 1]),
                    (4, &[0, 1]),
                    (5, &[0, 1]),
                    (6, &[0, 1]),
                ],
            ),
        ],
    }
}

/// A.4 multi-organization administered room: 0 no_role, 1 banned, 2 org_a_user, 3 org_b_user,
/// 4 org_c_user, 5 org_a_admin, 6 org_b_admin, 7 org_c_admin (at most 3 each, at least one
/// active), 8 super_admin (at least one, active), 9 policy_enforcer. Organization admins move
/// users only among their organization's roles and no_role, and may ban but not unban.
pub fn multi_organization() -> RoleData {
    let org_admin_limits = (1, Some(3), 1, None);
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
                2,
                "org_a_user",
                "a user of the host organization",
                &[ORG_USER, HOST_ORG_EXTRA],
                NO_LIMITS,
                &[(0, &[2]), (2, &[0])],
            ),
            role(
                3,
                "org_b_user",
                "a user of organization B",
                &[ORG_USER],
                NO_LIMITS,
                &[(0, &[3]), (3, &[0])],
            ),
            role(
                4,
                "org_c_user",
                "a user of organization C",
                &[ORG_USER],
                NO_LIMITS,
                &[(0, &[4]), (4, &[0])],
            ),
            role(
                5,
                "org_a_admin",
                "administers the host organization's users",
                &[ORG_USER, ORG_ADMIN_EXTRA, HOST_ORG_EXTRA],
                NO_LIMITS,
                &[(0, &[2, 5]), (2, &[0, 1, 5]), (5, &[0, 1, 2])],
            ),
            role(
                6,
                "org_b_admin",
                "administers organization B's users",
                &[ORG_USER, ORG_ADMIN_EXTRA],
                org_admin_limits,
                &[(0, &[3, 6]), (3, &[0, 1, 6]), (6, &[0, 1, 3])],
            ),
            role(
                7,
                "org_c_admin",
                "administers organization C's users",
                &[ORG_USER, ORG_ADMIN_EXTRA],
                org_admin_limits,
                &[(0, &[4, 7]), (4, &[0, 1, 7]), (7, &[0, 1, 4])],
            ),
            role(
                8,
                "super_admin",
                "administers the room",
                &[
                    ORG_USER,
                    ORG_ADMIN_EXTRA,
                    HOST_ORG_EXTRA,
                    MULTI_SUPER_ADMIN_EXTRA,
                ],
                (1, None, 1, None),
                &[
                    (0, &[1, 2, 3, 4, 5, 6, 7, 8]),
                    (1, &[0, 2, 3, 4, 5, 6, 7, 8]),
                    (2, &[0, 1, 5, 8]),
                    (3, &[0, 1, 6]),
                    (4, &[0, 1, 7]),
                    (5, &[0, 1, 2, 8]),
                    (6, &[0, 1, 3]),
                    (7, &[0, 1, 4]),
                    (8, &[0, 1, 2, 5]),
                ],
            ),
            enforcer(
                9,
                &[
                    (0, &[1]),
                    (1, &[0]),
                    (3, &[0, 1]),
                    (4, &[0, 1]),
                    (5, &[0, 1]),
                    (6, &[0, 1]),
                    (7, &[0, 1]),
                    (8, &[0, 1]),
                ],
            ),
        ],
    }
}

/// The local part of a hub's service user, the participant through whose clientless
/// `policy_enforcer` role the hub acts in a room. Providers refuse to register user ids that
/// start with `_`, so no person can hold it.
pub const HUB_SERVICE_USER: &str = "_policy-enforcer";

/// The service user of the hub at `hub` (`mimi://<hub>/u/_policy-enforcer`).
pub fn hub_service_user(hub: &mimi_types::Domain) -> UserUri {
    // The constant is a valid identifier segment (checked by a test).
    let id = mimi_types::Ident::parse(HUB_SERVICE_USER).unwrap_or_else(|_| unreachable!());
    UserUri::new(hub.clone(), id)
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
    /// The base room policy; [`Preset::base_policy`] if `None`.
    pub base_policy: Option<BaseRoomPolicy>,
    /// Capabilities added to the preset's roles (role, capability): the room's own role set,
    /// e.g. `canJoinIfPreauthorized` for a role preauthorized users join as, or
    /// `canChangeRoleDefinitions`, which no example role set grants.
    pub grants: Vec<(RoleIndex, C)>,
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
            base_policy: None,
            grants: Vec::new(),
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
        let mut roles = self.preset.roles();
        for (index, capability) in &self.grants {
            let role = roles
                .roles
                .iter_mut()
                .find(|r| r.role_index == *index)
                .ok_or_else(|| {
                    DecodeError::invalid(
                        "room creation",
                        format!("the preset defines no role {index} to grant {capability}"),
                    )
                })?;
            if !role.role_capabilities.contains(capability) {
                role.role_capabilities.push(*capability);
            }
            role.validate()?;
        }
        let mut state = RoomState::new(ParticipantList { participants }, roles)?;
        state.metadata = Some(RoomMetadata {
            room_uri: Uri::new(self.room.to_string())?,
            room_name: self.name.clone(),
            ..RoomMetadata::default()
        });
        state.base_policy = Some(
            self.base_policy
                .clone()
                .unwrap_or_else(|| self.preset.base_policy()),
        );
        if matches!(
            self.preset,
            Preset::StrictlyAdministered | Preset::Moderated
        ) {
            state.join_links = Some(JoinLinks::default());
        }
        state.check_consistency()?;
        Ok(state)
    }
}
