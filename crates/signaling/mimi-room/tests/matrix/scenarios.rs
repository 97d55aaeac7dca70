//! The matrix dimensions: a scenario per capability, the actor's origins, and a case (one cell).

use crate::common::*;

// ---- the matrix dimensions --------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scenario {
    AddParticipant,
    RemoveParticipant,
    AddOwnClient,
    RemoveOwnClient,
    OpenJoin,
    JoinIfPreauthorized,
    UseJoinCode,
    RemoveSelf,
    Ban,
    UnBan,
    Kick,
    ChangeUserRole,
    ChangeOwnRole,
    ChangeRoomName,
    ChangeRoomDescription,
    ChangeRoomAvatar,
    ChangeRoomSubject,
    ChangeRoomMood,
    ChangeRoleDefinitions,
    ChangePreauthorizedUserList,
    ChangeRoomMembershipStyle,
    ChangeServerPolicy,
    ChangeOtherPolicyAttribute,
    ChangeMlsOperationalPolicies,
    DestroyRoom,
    SendMessage,
    ReceiveMessage,
    StartTopic,
    ReplyInTopic,
    SendLink,
    SendLinkPreview,
    DownloadImage,
    DownloadAudio,
    DownloadVideo,
    DownloadAttachment,
}

pub(crate) use Scenario as S;

pub(crate) const SCENARIOS: &[Scenario] = &[
    S::AddParticipant,
    S::RemoveParticipant,
    S::AddOwnClient,
    S::RemoveOwnClient,
    S::OpenJoin,
    S::JoinIfPreauthorized,
    S::UseJoinCode,
    S::RemoveSelf,
    S::Ban,
    S::UnBan,
    S::Kick,
    S::ChangeUserRole,
    S::ChangeOwnRole,
    S::ChangeRoomName,
    S::ChangeRoomDescription,
    S::ChangeRoomAvatar,
    S::ChangeRoomSubject,
    S::ChangeRoomMood,
    S::ChangeRoleDefinitions,
    S::ChangePreauthorizedUserList,
    S::ChangeRoomMembershipStyle,
    S::ChangeServerPolicy,
    S::ChangeOtherPolicyAttribute,
    S::ChangeMlsOperationalPolicies,
    S::DestroyRoom,
    S::SendMessage,
    S::ReceiveMessage,
    S::StartTopic,
    S::ReplyInTopic,
    S::SendLink,
    S::SendLinkPreview,
    S::DownloadImage,
    S::DownloadAudio,
    S::DownloadVideo,
    S::DownloadAttachment,
];

impl Scenario {
    pub(crate) fn is_join(self) -> bool {
        matches!(self, S::OpenJoin | S::JoinIfPreauthorized | S::UseJoinCode)
    }

    /// An act judged by the acting user's listing and role alone: receiving, and what a
    /// message carries (end-to-end encrypted, so judged by the clients, never a commit).
    pub(crate) fn is_user_act(self) -> bool {
        matches!(
            self,
            S::ReceiveMessage
                | S::StartTopic
                | S::ReplyInTopic
                | S::SendLink
                | S::SendLinkPreview
                | S::DownloadImage
                | S::DownloadAudio
                | S::DownloadVideo
                | S::DownloadAttachment
        )
    }

    /// The capability whose scenario this is (every enforceable capability appears).
    pub(crate) fn capability(self) -> &'static str {
        match self {
            S::AddParticipant => "add",
            S::RemoveParticipant => "rmp",
            S::AddOwnClient => "aoc",
            S::RemoveOwnClient => "roc",
            S::OpenJoin => "open",
            S::JoinIfPreauthorized => "pre",
            S::UseJoinCode => "code",
            S::RemoveSelf => "self",
            S::Ban => "ban",
            S::UnBan => "unban",
            S::Kick => "kick",
            S::ChangeUserRole => "cur",
            S::ChangeOwnRole => "cor",
            S::ChangeRoomName => "name",
            S::ChangeRoomDescription => "desc",
            S::ChangeRoomAvatar => "avatar",
            S::ChangeRoomSubject => "subject",
            S::ChangeRoomMood => "mood",
            S::ChangeRoleDefinitions => "roles",
            S::ChangePreauthorizedUserList => "preauth",
            S::ChangeRoomMembershipStyle | S::ChangeServerPolicy => "style",
            S::ChangeOtherPolicyAttribute => "other",
            S::ChangeMlsOperationalPolicies => "mls",
            S::DestroyRoom => "destroy",
            S::SendMessage => "send",
            S::ReceiveMessage => "recv",
            S::StartTopic => "topic",
            S::ReplyInTopic => "rit",
            S::SendLink => "link",
            S::SendLinkPreview => "preview",
            S::DownloadImage => "dimg",
            S::DownloadAudio => "daud",
            S::DownloadVideo => "dvid",
            S::DownloadAttachment => "datt",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A client of a user of the hub's provider.
    LocalClient,
    /// A client of a user of a follower.
    FollowerClient,
    /// A follower's client claiming to be a user of a third provider.
    ClientClaimingThirdProvider,
    /// The hub as external sender (it holds the policy enforcer role), for a hub user.
    HubServer,
    /// A follower as external sender, for its own user.
    FollowerServer,
    /// A follower as external sender, for a user of a third provider.
    FollowerServerForThirdProvider,
}

pub(crate) const ORIGINS: &[Origin] = &[
    Origin::LocalClient,
    Origin::FollowerClient,
    Origin::ClientClaimingThirdProvider,
    Origin::HubServer,
    Origin::FollowerServer,
    Origin::FollowerServerForThirdProvider,
];

pub(crate) const HUB: &str = "hub.example";
pub(crate) const FOLLOWER: &str = "f.example";
pub(crate) const THIRD: &str = "x.example";

impl Origin {
    pub(crate) fn actor_user_domain(self) -> &'static str {
        match self {
            Origin::LocalClient | Origin::HubServer => HUB,
            Origin::FollowerClient | Origin::FollowerServer => FOLLOWER,
            Origin::ClientClaimingThirdProvider | Origin::FollowerServerForThirdProvider => THIRD,
        }
    }

    pub(crate) fn server(self) -> Option<&'static str> {
        match self {
            Origin::HubServer => Some(HUB),
            Origin::FollowerServer | Origin::FollowerServerForThirdProvider => Some(FOLLOWER),
            _ => None,
        }
    }
}

pub(crate) struct Case {
    pub(crate) preset: Preset,
    pub(crate) scenario: Scenario,
    pub(crate) role: u32,
    pub(crate) origin: Origin,
    pub(crate) at_limit: bool,
}
