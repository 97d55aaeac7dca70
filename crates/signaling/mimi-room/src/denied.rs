//! [`Denied`]: why a commit, proposal or message is refused. One variant per rule.

use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, Domain, UserUri};

use crate::capability::Capability;
use crate::codec::DecodeError;
use crate::components::RoleIndex;

/// A refusal by room policy, naming the missing capability or the violated rule.
///
/// The hub answers `notAllowed` for these (or `invalidProposal` for the `Malformed…` and index
/// variants, which mean the sender produced a broken update).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Denied {
    // --- the actor ---------------------------------------------------------------------------
    /// The actor's client URI does not belong to the user its credential names (other provider,
    /// or a `…/d/<user>/<id>` URI naming another user).
    #[error(
        "client {client} cannot act as {user}: a client acts only for a user of its own provider"
    )]
    ClientNotOfUser {
        /// The client.
        client: ClientUri,
        /// The user it claims.
        user: UserUri,
    },
    /// The committing client is not in the group (and the commit is not an external join).
    #[error("client {client} is not a member of the group; join first")]
    ActorNotMember {
        /// The client.
        client: ClientUri,
    },
    /// The actor's user was removed or banned: it may only remove its own clients.
    #[error("{user} holds {role} and may only remove its own clients")]
    ActorBlocked {
        /// The user.
        user: UserUri,
        /// Its role (0 or 1).
        role: RoleIndex,
    },
    /// A server (external sender) tried an external join; only clients join.
    #[error("server {domain} cannot join the group itself")]
    ServerCannotJoin {
        /// The server's domain.
        domain: Domain,
    },
    /// The room was ended (`room_ended`, by a holder of `canDestroyRoom`): nothing more
    /// happens in it.
    #[error("the room was ended by {ended_by}; nothing more can be sent, changed or joined there")]
    RoomEnded {
        /// Who ended it.
        ended_by: UserUri,
    },
    /// The room is not persistent (`persistent_room` false) and every client left in its group
    /// has asked to leave or been proposed for removal: nobody is left to commit, so the hub
    /// ended it.
    #[error(
        "the room ended when its last participants left (it is not persistent); create a new room"
    )]
    RoomEmptied,
    /// A `room_ended` marker names someone other than the committing user, or is removed.
    #[error("room_ended must name the committing user and cannot be removed")]
    RoomEndedMismatch,
    /// A server tried to send an application message (only clients send them).
    #[error("server {domain} cannot send application messages")]
    ServerCannotSend {
        /// The server's domain.
        domain: Domain,
    },
    /// A server tried to act for a user of another provider.
    #[error("server {actor} may not act for {user}, a user of another provider")]
    ForeignUser {
        /// The server's domain.
        actor: Domain,
        /// The user.
        user: UserUri,
    },
    /// The room's `server_policy` does not give the provider this capability.
    #[error(
        "the room's server policy does not let provider {domain} {capability}; a room admin can allow it with `mimi room servers allow`"
    )]
    ProviderNotAllowed {
        /// The provider.
        domain: Domain,
        /// The capability it lacks.
        capability: crate::components::ServerCapabilities,
    },
    /// A server without a clientless service role in the room tried an action that needs one.
    #[error(
        "server {domain} holds no role in this room; only a listed clientless role (such as the hub's policy enforcer) lets a server act on others"
    )]
    NoServerRole {
        /// The server's domain.
        domain: Domain,
    },

    // --- component changes -------------------------------------------------------------------
    /// The commit changes a component this room does not know (mls-extensions: invalid).
    #[error("component {0} is unknown to MIMI rooms")]
    UnknownComponent(ComponentId),
    /// A component has both `remove` and `update`, or several `remove`s, in one commit.
    #[error("component {0} needs exactly one remove or one or more updates in a commit")]
    InvalidComponentOps(ComponentId),
    /// `remove` of a component the room does not have.
    #[error("component {0} cannot be removed: the room does not have it")]
    RemoveOfAbsentComponent(ComponentId),
    /// `remove` of a component every room needs.
    #[error("component {0} is required and cannot be removed")]
    RequiredComponentRemoved(ComponentId),
    /// An update's bytes do not decode.
    #[error("update of component {component} is malformed: {error}")]
    MalformedUpdate {
        /// The component.
        component: ComponentId,
        /// The decode error.
        error: DecodeError,
    },
    /// An index in a delta update is out of range or repeated.
    #[error(
        "update of component {component} uses index {index}, which is out of range or repeated"
    )]
    InvalidIndex {
        /// The component.
        component: ComponentId,
        /// The index.
        index: u32,
    },
    /// More than one room-metadata update in a commit.
    #[error("at most one room-metadata update is allowed per commit")]
    MultipleMetadataUpdates,
    /// The metadata update changes `room_uri`.
    #[error("room_uri cannot change")]
    RoomUriChanged,
    /// `roles_list` changes in the same commit as participant-list changes.
    #[error("role definitions cannot change in a commit that changes the participant list")]
    RolesWithParticipantChange,
    /// `preauth_list` changes with participant-list changes other than removals.
    #[error(
        "the preauthorized list cannot change in a commit that adds participants or changes roles"
    )]
    PreauthWithParticipantChange,
    /// The state after the update breaks a cross-component rule.
    #[error("the resulting room state is invalid: {0}")]
    InvalidResultingState(DecodeError),

    // --- participant-list actions ------------------------------------------------------------
    /// A user is touched more than once by the participant-list changes of one commit.
    #[error("{user} is changed more than once in one commit")]
    UserTouchedTwice {
        /// The user.
        user: UserUri,
    },
    /// The acting role lacks a capability.
    #[error("{role} lacks {capability}")]
    MissingCapability {
        /// The missing capability.
        capability: Capability,
        /// The role that lacks it.
        role: RoleIndex,
    },
    /// A hub retraction names a remover other than the user its proposer acts as.
    #[error(
        "the retraction names {remover} as remover, but its proposer acts as {actor}: a \
         retraction must name the proposer's own (service) user"
    )]
    RetractionRemover {
        /// The remover the retraction names.
        remover: UserUri,
        /// The user the proposer acts as.
        actor: UserUri,
    },
    /// The acting role has no `authorized_role_changes` entry for this move.
    #[error("the acting role may not move a user from {from} to {to}")]
    RoleChangeNotAuthorized {
        /// Source role (0 = adding).
        from: RoleIndex,
        /// Target role (0 = removing).
        to: RoleIndex,
    },
    /// The target role is not defined in `roles_list`.
    #[error("{0} is not defined in roles_list")]
    UndefinedRole(RoleIndex),
    /// Ban or unban without a role 1 named "banned".
    #[error("ban and unban need role 1 named \"banned\" in roles_list")]
    BannedRoleUndefined,
    /// The user is banned.
    #[error("{user} is banned")]
    UserBanned {
        /// The user.
        user: UserUri,
    },
    /// The user is not in the participant list.
    #[error("{user} is not a participant")]
    NotParticipant {
        /// The user.
        user: UserUri,
    },
    /// An add names a user who is already listed.
    #[error("{user} is already in the participant list")]
    AlreadyListed {
        /// The user.
        user: UserUri,
    },
    /// The preauthorization entry that matches the requester grants another role (or none does).
    #[error("the requester is not preauthorized for {role}")]
    NotPreauthorized {
        /// The role requested.
        role: RoleIndex,
    },
    /// A join code that is not one of the room's join links.
    #[error(
        "the join code is not valid for this room (unknown, revoked or used up): ask a room admin for a new link"
    )]
    InvalidJoinCode,
    /// A join code past its expiry.
    #[error("the join code expired at {not_after} (Unix seconds): ask a room admin for a new link")]
    JoinCodeExpired {
        /// When it expired.
        not_after: u64,
    },
    /// An attachment whose media type the room's `asset_policy` does not permit.
    #[error(
        "the room's asset policy does not permit {media_type:?} attachments: send another kind \
         of file or ask a room admin"
    )]
    MediaTypeNotPermitted {
        /// The attachment's content type.
        media_type: String,
    },
    /// An attachment larger than the room's `asset_policy` allows for its kind.
    #[error("the {kind} is {size} bytes; the room's asset policy allows at most {max}")]
    AssetTooLarge {
        /// `image`, `audio`, `video` or `attachment`.
        kind: &'static str,
        /// Its size (the stored, encrypted object).
        size: u64,
        /// The limit.
        max: u64,
    },
    /// An attachment stored at a host the room's `asset_policy` upload domains do not list.
    #[error(
        "the room's asset policy lets attachments be stored only at {allowed:?}, not at {url}: \
         upload to one of those hosts or ask a room admin"
    )]
    AssetHostNotAllowed {
        /// The attachment's URL.
        url: String,
        /// The hosts the policy allows for this sender (may be empty).
        allowed: Vec<String>,
    },
    /// A download in a room whose `asset_policy` does not allow the one way our clients
    /// fetch assets: through their own provider, which we read as `hubProxy` (`readings.rs`).
    #[error(
        "the room's asset policy allows downloads only by {allowed:?}; this client fetches \
         assets through its provider's proxy (hubProxy) only, so it will not fetch this one: \
         ask a room admin to allow hubProxy"
    )]
    DownloadTypeNotAllowed {
        /// The download types the policy allows (the draft's names).
        allowed: Vec<&'static str>,
    },
    /// A link preview in a room whose `link_preview_policy` forbids sending previews.
    #[error("the room's link preview policy forbids sending link previews")]
    LinkPreviewsForbidden,
    /// A new join link allows more than one use where the room's `join_link_policy` is not
    /// `multiuser`.
    #[error(
        "the room's join links are for one user each (join_link_policy: multiuser off): a new \
         link must allow exactly one use, not {uses_left} (0: unlimited)"
    )]
    JoinLinkNotSingleUse {
        /// The uses the new link allows (0: unlimited).
        uses_left: u32,
    },
    /// A new join link outlives the room's `join_link_policy.expiration`.
    #[error(
        "the room's join links live at most {expiration} s (join_link_policy): a new link must \
         expire within that time, not at {not_after} (Unix seconds; 0: never)"
    )]
    JoinLinkLifetime {
        /// The new link's expiry (0: never).
        not_after: u64,
        /// The policy's lifetime, seconds.
        expiration: u32,
    },
    /// The presented code grants another role than the one requested.
    #[error("the join code grants {granted}, not {requested}")]
    JoinCodeRole {
        /// The role the code grants.
        granted: RoleIndex,
        /// The role requested.
        requested: RoleIndex,
    },
    /// A join with a limited-use code that does not consume one use of it in the same commit.
    #[error(
        "a join with a limited-use code must replace its join_links entry by one with a use fewer (or remove it at its last use) in the same commit"
    )]
    JoinCodeNotConsumed,
    /// An external commit (a join, a new device, a rejoin) in a room whose
    /// `mls_operational_policy` says `external_commit_allowed = false`.
    #[error(
        "the room does not allow external commits (mls_operational_policy): join by invitation"
    )]
    ExternalCommitsNotAllowed,
    /// An external sender's proposal (the hub's removals or retractions) in a room whose
    /// `mls_operational_policy` says `external_proposal_allowed = false`.
    #[error("the room does not allow external proposals (mls_operational_policy)")]
    ExternalProposalsNotAllowed,
    /// Adds or removals in a fixed-membership room.
    #[error("the room has fixed membership: participants cannot be added or removed")]
    FixedMembership,
    /// A fixed-membership room created under an id other than the one its participants
    /// name (our rule for one fixed-membership room per participant set on a hub).
    #[error(
        "a fixed-membership room must be named {expected} after its participants (one such room per set of users)"
    )]
    FixedRoomMisnamed {
        /// The room id its participants give.
        expected: String,
    },
    /// A role would exceed its maximum number of participants.
    #[error("{role} would exceed its maximum of {limit} participants")]
    RoleMaxParticipants {
        /// The role.
        role: RoleIndex,
        /// The limit.
        limit: u32,
    },
    /// A role would fall below its minimum number of participants.
    #[error("{role} would fall below its minimum of {limit} participants")]
    RoleMinParticipants {
        /// The role.
        role: RoleIndex,
        /// The limit.
        limit: u32,
    },
    /// A role would exceed its maximum number of active participants.
    #[error("{role} would exceed its maximum of {limit} active participants")]
    RoleMaxActive {
        /// The role.
        role: RoleIndex,
        /// The limit.
        limit: u32,
    },
    /// A role would fall below its minimum number of active participants.
    #[error("{role} would fall below its minimum of {limit} active participants")]
    RoleMinActive {
        /// The role.
        role: RoleIndex,
        /// The limit.
        limit: u32,
    },
    /// More non-banned participants than `max_users`.
    #[error("the room would exceed its maximum of {limit} users")]
    MaxUsersExceeded {
        /// The limit.
        limit: u32,
    },
    /// More clients than `max_clients`.
    #[error("the group would exceed its maximum of {limit} clients")]
    MaxClientsExceeded {
        /// The limit.
        limit: u32,
    },
    /// A second client for a user in a room without `multi_device`.
    #[error("{user} would have more than one client, and the room is not multi-device")]
    MultiDeviceForbidden {
        /// The user.
        user: UserUri,
    },

    // --- MLS membership ----------------------------------------------------------------------
    /// A client added or removed under a user of another provider.
    #[error("client {client} cannot belong to {user}: they are of different providers")]
    ClientOfForeignProvider {
        /// The client.
        client: ClientUri,
        /// The user.
        user: UserUri,
    },
    /// An added client is already in the group.
    #[error("client {client} is already in the group")]
    ClientAlreadyMember {
        /// The client.
        client: ClientUri,
    },
    /// A removed client is not in the group (under that user).
    #[error("client {client} is not in the group as a client of that user")]
    ClientNotMember {
        /// The client.
        client: ClientUri,
    },
    /// A client is added for a user who, after the commit, is not an active participant.
    #[error("client {client} cannot be added: {user} is not a participant after this commit")]
    ClientForNonParticipant {
        /// The client.
        client: ClientUri,
        /// Its user.
        user: UserUri,
    },
    /// A removed or banned user keeps clients after the commit.
    #[error("{user} is removed or banned but keeps clients; remove all of them in the same commit")]
    ClientsRemain {
        /// The user.
        user: UserUri,
    },
    /// Clients of a user unbanned in this commit are added in the same commit.
    #[error("{user} is unbanned in this commit; unbanning does not authorize adding clients")]
    ClientAddAfterUnban {
        /// The user.
        user: UserUri,
    },
    /// An added client's KeyPackage lives longer than `mls_operational_policy` allows.
    #[error(
        "the KeyPackage of {client} is valid for {lifetime_s} s; the room's operational policy \
         allows at most {max_s} s (max_kp_lifetime): the client needs a shorter-lived one"
    )]
    KeyPackageLifetime {
        /// The client.
        client: ClientUri,
        /// Its KeyPackage's lifetime.
        lifetime_s: u64,
        /// The policy's limit.
        max_s: u64,
    },
    /// An added client's credential is valid longer than `mls_operational_policy` allows.
    #[error(
        "the credential of {client} is valid for {lifetime_s} s; the room's operational policy \
         allows at most {max_s} s (max_credential_lifetime)"
    )]
    CredentialLifetime {
        /// The client.
        client: ClientUri,
        /// Its credential's validity period.
        lifetime_s: u64,
        /// The policy's limit.
        max_s: u64,
    },
    /// An external join that does not add the joiner's client.
    #[error("an external join must add the joining client itself")]
    ExternalJoinWithoutJoiner,
    /// An external join that adds a client other than the joiner's.
    #[error("an external join may only add the joining client, not {client}")]
    ExternalJoinAddsOthers {
        /// The other client.
        client: ClientUri,
    },

    // --- bots and logging clients (`agents.rs`) -------------------------------------------
    /// A logging client in a room whose `logging_policy` forbids logging.
    #[error("{client} is a logging client, and the room forbids logging (logging_policy)")]
    LoggingForbidden {
        /// The logging client.
        client: ClientUri,
    },
    /// A logging client that the room's `logging_clients` do not name (neither the client nor
    /// its user).
    #[error("{client} is a logging client that the room's logging_policy does not list")]
    LoggerNotListed {
        /// The logging client.
        client: ClientUri,
    },
    /// The room requires logging and none of its listed logging clients is a member yet.
    #[error(
        "the room requires logging (logging_policy) and none of its listed logging clients is a \
         member: nothing may be sent until one joins"
    )]
    LoggerRequired,
    /// A bot that the room's `bot_policy` does not allow.
    #[error("{client} is the bot {bot}, which the room's bot_policy does not allow")]
    BotNotAllowed {
        /// The bot's client.
        client: ClientUri,
        /// The name and homepage its credential gives, as `"name" <homepage>`.
        bot: String,
    },
    /// A bot's user does not hold the role its `allowed_bots` entry gives it.
    #[error("{user} is an allowed bot and must hold {required} (bot_policy), not {held}")]
    BotRole {
        /// The bot's user.
        user: UserUri,
        /// The entry's `bot_role_index`.
        required: RoleIndex,
        /// The role it would hold.
        held: RoleIndex,
    },
}
