//! The "MIMI Role Capabilities" registry (room-policy-03 §3.2, §9; digest §4.5): 77 uint16 values.
//!
//! An open newtype: unknown values survive decoding (a role may carry capabilities a newer
//! draft defines) and grant nothing here. Names follow the IANA registry spelling (`canUnBan`,
//! not the prose's `canUnban`). Values the registry marks *reserved* have names but no defined
//! semantics; [`Capability::is_reserved`] tells them apart.

use std::io::{Read, Write};

use tls_codec::{Deserialize, Serialize, Size};

mimi_types::open_codepoint! {
    /// A role capability (`uint16 CapabilityType`).
    pub struct Capability(u16) {
        assigned {
            /// Add another, not yet listed user to the participant list (and their clients).
            CAN_ADD_PARTICIPANT = 0x0000 => "canAddParticipant",
            /// Remove another user (and all their clients) from the participant list.
            CAN_REMOVE_PARTICIPANT = 0x0001 => "canRemoveParticipant",
            /// Add one's own clients to the MLS group.
            CAN_ADD_OWN_CLIENT = 0x0002 => "canAddOwnClient",
            /// Remove one's own clients without leaving the participant list.
            CAN_REMOVE_OWN_CLIENT = 0x0003 => "canRemoveOwnClient",
            /// On role 0 only: any unlisted user may join itself.
            CAN_OPEN_JOIN = 0x0004 => "canOpenJoin",
            /// An unlisted user matching a preauthorization entry may join as its role.
            CAN_JOIN_IF_PREAUTHORIZED = 0x0005 => "canJoinIfPreauthorized",
            /// Leave the participant list (removing all own clients).
            CAN_REMOVE_SELF = 0x0006 => "canRemoveSelf",
            /// Reserved: create a join code.
            CAN_CREATE_JOIN_CODE = 0x0007 => "canCreateJoinCode",
            /// Reserved: delete a join code.
            CAN_DELETE_JOIN_CODE = 0x0008 => "canDeleteJoinCode",
            /// Join with a valid join code.
            CAN_USE_JOIN_CODE = 0x0009 => "canUseJoinCode",
            /// Move another user to role 1 ("banned") and remove their clients.
            CAN_BAN = 0x000a => "canBan",
            /// Move a user out of role 1 ("banned").
            CAN_UN_BAN = 0x000b => "canUnBan",
            /// Remove another participant's clients without changing the participant list.
            CAN_KICK = 0x000c => "canKick",
            /// Reserved: knock.
            CAN_KNOCK = 0x000d => "canKnock",
            /// Reserved: accept a knock.
            CAN_ACCEPT_KNOCK = 0x000e => "canAcceptKnock",
            /// Change another user's role.
            CAN_CHANGE_USER_ROLE = 0x000f => "canChangeUserRole",
            /// Change one's own role to the one a preauthorization entry grants.
            CAN_CHANGE_OWN_ROLE = 0x0010 => "canChangeOwnRole",
            /// Reserved: create a subgroup.
            CAN_CREATE_SUBGROUP = 0x0011 => "canCreateSubgroup",
            /// Send application messages.
            CAN_SEND_MESSAGE = 0x0100 => "canSendMessage",
            /// Receive application messages.
            CAN_RECEIVE_MESSAGE = 0x0101 => "canReceiveMessage",
            /// Copy a message.
            CAN_COPY_MESSAGE = 0x0102 => "canCopyMessage",
            /// Report abuse.
            CAN_REPORT_ABUSE = 0x0103 => "canReportAbuse",
            /// Reply to a message.
            CAN_REPLY_TO_MESSAGE = 0x0104 => "canReplyToMessage",
            /// React to a message.
            CAN_REACT_TO_MESSAGE = 0x0105 => "canReactToMessage",
            /// Edit a reaction.
            CAN_EDIT_REACTION = 0x0106 => "canEditReaction",
            /// Delete one's own reaction.
            CAN_DELETE_OWN_REACTION = 0x0107 => "canDeleteOwnReaction",
            /// Delete someone else's reaction.
            CAN_DELETE_OTHER_REACTION = 0x0108 => "canDeleteOtherReaction",
            /// Edit one's own message.
            CAN_EDIT_OWN_MESSAGE = 0x0109 => "canEditOwnMessage",
            /// Delete one's own message.
            CAN_DELETE_OWN_MESSAGE = 0x010a => "canDeleteOwnMessage",
            /// Delete someone else's message.
            CAN_DELETE_OTHER_MESSAGE = 0x010b => "canDeleteOtherMessage",
            /// Start a topic.
            CAN_START_TOPIC = 0x010c => "canStartTopic",
            /// Reply in a topic.
            CAN_REPLY_IN_TOPIC = 0x010d => "canReplyInTopic",
            /// Edit one's own topic.
            CAN_EDIT_OWN_TOPIC = 0x010e => "canEditOwnTopic",
            /// Edit someone else's topic.
            CAN_EDIT_OTHER_TOPIC = 0x010f => "canEditOtherTopic",
            /// Reserved: send a direct message inside the room.
            CAN_SEND_DIRECT_MESSAGE = 0x0110 => "canSendDirectMessage",
            /// Reserved: target a message at some members.
            CAN_TARGET_MESSAGE = 0x0111 => "canTargetMessage",
            /// Upload an image.
            CAN_UPLOAD_IMAGE = 0x0200 => "canUploadImage",
            /// Upload audio.
            CAN_UPLOAD_AUDIO = 0x0201 => "canUploadAudio",
            /// Upload video.
            CAN_UPLOAD_VIDEO = 0x0202 => "canUploadVideo",
            /// Upload an attachment.
            CAN_UPLOAD_ATTACHMENT = 0x0203 => "canUploadAttachment",
            /// Download an image.
            CAN_DOWNLOAD_IMAGE = 0x0204 => "canDownloadImage",
            /// Download audio.
            CAN_DOWNLOAD_AUDIO = 0x0205 => "canDownloadAudio",
            /// Download video.
            CAN_DOWNLOAD_VIDEO = 0x0206 => "canDownloadVideo",
            /// Download an attachment.
            CAN_DOWNLOAD_ATTACHMENT = 0x0207 => "canDownloadAttachment",
            /// Send a link.
            CAN_SEND_LINK = 0x0208 => "canSendLink",
            /// Send a link preview.
            CAN_SEND_LINK_PREVIEW = 0x0209 => "canSendLinkPreview",
            /// Follow a link.
            CAN_FOLLOW_LINK = 0x020a => "canFollowLink",
            /// Copy a link.
            CAN_COPY_LINK = 0x020b => "canCopyLink",
            /// Change the room name.
            CAN_CHANGE_ROOM_NAME = 0x0300 => "canChangeRoomName",
            /// Change the room descriptions.
            CAN_CHANGE_ROOM_DESCRIPTION = 0x0301 => "canChangeRoomDescription",
            /// Change the room avatar.
            CAN_CHANGE_ROOM_AVATAR = 0x0302 => "canChangeRoomAvatar",
            /// Change the room subject.
            CAN_CHANGE_ROOM_SUBJECT = 0x0303 => "canChangeRoomSubject",
            /// Change the room mood.
            CAN_CHANGE_ROOM_MOOD = 0x0304 => "canChangeRoomMood",
            /// Reserved: change one's own display name.
            CAN_CHANGE_OWN_NAME = 0x0380 => "canChangeOwnName",
            /// Reserved: change one's own presence.
            CAN_CHANGE_OWN_PRESENCE = 0x0381 => "canChangeOwnPresence",
            /// Reserved: change one's own mood.
            CAN_CHANGE_OWN_MOOD = 0x0382 => "canChangeOwnMood",
            /// Reserved: change one's own avatar.
            CAN_CHANGE_OWN_AVATAR = 0x0383 => "canChangeOwnAvatar",
            /// Start a call.
            CAN_START_CALL = 0x0400 => "canStartCall",
            /// Join a call.
            CAN_JOIN_CALL = 0x0401 => "canJoinCall",
            /// Send audio in a call.
            CAN_SEND_AUDIO = 0x0402 => "canSendAudio",
            /// Receive audio in a call.
            CAN_RECEIVE_AUDIO = 0x0403 => "canReceiveAudio",
            /// Send video in a call.
            CAN_SEND_VIDEO = 0x0404 => "canSendVideo",
            /// Receive video in a call.
            CAN_RECEIVE_VIDEO = 0x0405 => "canReceiveVideo",
            /// Share one's screen.
            CAN_SHARE_SCREEN = 0x0406 => "canShareScreen",
            /// View a shared screen.
            CAN_VIEW_SHARED_SCREEN = 0x0407 => "canViewSharedScreen",
            /// Reserved: create a room.
            CAN_CREATE_ROOM = 0x0500 => "canCreateRoom",
            /// Destroy the room.
            CAN_DESTROY_ROOM = 0x0501 => "canDestroyRoom",
            /// Change the membership style (base room policy, join links).
            CAN_CHANGE_ROOM_MEMBERSHIP_STYLE = 0x0502 => "canChangeRoomMembershipStyle",
            /// Change the role definitions (`roles_list`).
            CAN_CHANGE_ROLE_DEFINITIONS = 0x0503 => "canChangeRoleDefinitions",
            /// Change the preauthorized user list (`preauth_list`).
            CAN_CHANGE_PREAUTHORIZED_USER_LIST = 0x0504 => "canChangePreauthorizedUserList",
            /// Reserved: change other policy components.
            CAN_CHANGE_OTHER_POLICY_ATTRIBUTE = 0x0505 => "canChangeOtherPolicyAttribute",
            /// Reserved: change the MLS operational policy.
            CAN_CHANGE_MLS_OPERATIONAL_POLICIES = 0x0600 => "canChangeMlsOperationalPolicies",
            /// Send an MLS ReInit proposal.
            CAN_SEND_MLS_REINIT_PROPOSAL = 0x0601 => "canSendMLSReinitProposal",
            /// Reserved: send an MLS Update proposal.
            CAN_SEND_MLS_UPDATE_PROPOSAL = 0x0602 => "canSendMLSUpdateProposal",
            /// Reserved: send an MLS PSK proposal.
            CAN_SEND_MLS_PSK_PROPOSAL = 0x0603 => "canSendMLSPSKProposal",
            /// Reserved: send an MLS external proposal.
            CAN_SEND_MLS_EXTERNAL_PROPOSAL = 0x0604 => "canSendMLSExternalProposal",
            /// Reserved: send an MLS external commit.
            CAN_SEND_MLS_EXTERNAL_COMMIT = 0x0605 => "canSendMLSExternalCommit",
        }
        provisional {}
    }
}

impl Capability {
    /// Values the registry lists as *reserved*: named, without defined semantics.
    pub const RESERVED: &'static [Self] = &[
        Self::CAN_CREATE_JOIN_CODE,
        Self::CAN_DELETE_JOIN_CODE,
        Self::CAN_KNOCK,
        Self::CAN_ACCEPT_KNOCK,
        Self::CAN_CREATE_SUBGROUP,
        Self::CAN_SEND_DIRECT_MESSAGE,
        Self::CAN_TARGET_MESSAGE,
        Self::CAN_CHANGE_OWN_NAME,
        Self::CAN_CHANGE_OWN_PRESENCE,
        Self::CAN_CHANGE_OWN_MOOD,
        Self::CAN_CHANGE_OWN_AVATAR,
        Self::CAN_CREATE_ROOM,
        Self::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE,
        Self::CAN_CHANGE_MLS_OPERATIONAL_POLICIES,
        Self::CAN_SEND_MLS_UPDATE_PROPOSAL,
        Self::CAN_SEND_MLS_PSK_PROPOSAL,
        Self::CAN_SEND_MLS_EXTERNAL_PROPOSAL,
        Self::CAN_SEND_MLS_EXTERNAL_COMMIT,
    ];

    /// Whether the registry marks this value *reserved*.
    pub fn is_reserved(self) -> bool {
        Self::RESERVED.contains(&self)
    }

    /// Whether the value is in the private-use range 0xF000–0xFFFF.
    pub const fn is_private_use(self) -> bool {
        self.value() >= 0xf000
    }
}

impl Size for Capability {
    fn tls_serialized_len(&self) -> usize {
        2
    }
}

impl Serialize for Capability {
    fn tls_serialize<W: Write>(&self, writer: &mut W) -> Result<usize, tls_codec::Error> {
        self.value().tls_serialize(writer)
    }
}

impl Deserialize for Capability {
    fn tls_deserialize<R: Read>(bytes: &mut R) -> Result<Self, tls_codec::Error> {
        Ok(Self::new(u16::tls_deserialize(bytes)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_has_77_distinct_values() {
        assert_eq!(Capability::KNOWN.len(), 77);
        let mut values: Vec<u16> = Capability::KNOWN.iter().map(|c| c.value()).collect();
        values.sort_unstable();
        values.dedup();
        assert_eq!(values.len(), 77);
    }

    #[test]
    fn names_and_values_match_the_registry() {
        assert_eq!(Capability::CAN_UN_BAN.value(), 0x000b);
        assert_eq!(Capability::CAN_UN_BAN.name(), Some("canUnBan"));
        assert_eq!(Capability::CAN_VIEW_SHARED_SCREEN.value(), 0x0407);
        assert_eq!(Capability::CAN_SEND_MLS_EXTERNAL_COMMIT.value(), 0x0605);
        assert!(Capability::CAN_KNOCK.is_reserved());
        assert!(!Capability::CAN_KICK.is_reserved());
        assert!(Capability::new(0xf001).is_private_use());
        assert_eq!(Capability::new(0x0700).to_string(), "unknown (0x0700)");
    }
}
