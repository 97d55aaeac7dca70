//! The MLS-free commit summary mimi-mls hands to [`crate::authorize_commit`], and what comes back.

use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, Domain, UserUri};

use crate::components::{Claim, RoleIndex};
use crate::denied::Denied;
use crate::state::RoomState;

/// Who committed, proposed or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A member client and the user its credential names.
    Client {
        /// The client.
        client: ClientUri,
        /// Its user.
        user: UserUri,
    },
    /// An external sender (the hub or a follower), by domain.
    Server(Domain),
}

/// One `AppDataUpdate` operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComponentOp {
    /// `update` with its data (a delta for the participant list and join links, the whole
    /// component otherwise).
    Update(Vec<u8>),
    /// `remove`.
    Remove,
}

/// One `AppDataUpdate` proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentChange {
    /// The component.
    pub component: ComponentId,
    /// The operation.
    pub op: ComponentOp,
}

impl ComponentChange {
    /// An `update` of `component` with encoded `data`.
    pub fn update(component: ComponentId, data: Vec<u8>) -> Self {
        Self {
            component,
            op: ComponentOp::Update(data),
        }
    }

    /// A `remove` of `component`.
    pub fn remove(component: ComponentId) -> Self {
        Self {
            component,
            op: ComponentOp::Remove,
        }
    }
}

/// What a client is, as its provider certifies in its credential (`readings.rs`, "Bots and
/// logging clients"): a person's device, a bot, or a logging client.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ClientKind {
    /// A person's device (no marker).
    #[default]
    Person,
    /// A bot, named as `bot_policy`'s `allowed_bots` name it.
    Bot {
        /// The bot's name (`Bot.name`).
        name: String,
        /// The bot's homepage URI (`Bot.homepage`).
        homepage: String,
    },
    /// A logging client (`logging_policy`).
    Logger,
}

impl ClientKind {
    /// Whether this is a person's device.
    pub fn is_person(&self) -> bool {
        matches!(self, Self::Person)
    }
}

/// An MLS member (client), the user its credential names, and what kind of client it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemberChange {
    /// The client.
    pub client: ClientUri,
    /// Its user.
    pub user: UserUri,
    /// Bot, logging client or a person's device, from its credential.
    pub kind: ClientKind,
}

impl MemberChange {
    /// A person's device.
    pub fn new(client: ClientUri, user: UserUri) -> Self {
        Self {
            client,
            user,
            kind: ClientKind::Person,
        }
    }

    /// A member of the given kind.
    pub fn with_kind(client: ClientUri, user: UserUri, kind: ClientKind) -> Self {
        Self { client, user, kind }
    }
}

/// The lifetimes an added client brings, in seconds (`not_after - not_before`): its
/// KeyPackage's and its X.509 credential's, held to `mls_operational_policy`'s
/// `max_kp_lifetime` and `max_credential_lifetime`. A client that joins by external commit
/// brings a credential and no KeyPackage.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct AddedLifetimes {
    /// The added client.
    pub client: ClientUri,
    /// Its KeyPackage's lifetime (`None`: an external joiner, which has none).
    pub key_package_s: Option<u64>,
    /// Its credential's validity period.
    pub credential_s: u64,
}

/// An MLS-free summary of a commit (or of a lone proposal) for authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CommitSummary {
    /// The committer (or proposer).
    pub actor: Actor,
    /// An external commit: the actor adds its own client.
    pub external_join: bool,
    /// `AppDataUpdate` proposals, in commit order.
    pub component_changes: Vec<ComponentChange>,
    /// `Add` proposals (and the joiner of an external commit).
    pub added: Vec<MemberChange>,
    /// The lifetimes of the clients `Add` proposals bring (an external joiner brings no
    /// KeyPackage and is not listed); empty where the MLS layer did not read them.
    pub added_lifetimes: Vec<AddedLifetimes>,
    /// `Remove` proposals.
    pub removed: Vec<MemberChange>,
    /// `SelfRemove` proposals.
    pub self_removed: Vec<MemberChange>,
    /// `Remove` proposals of an external sender (the hub as policy enforcer) that the commit
    /// includes by reference. They were authorized against their sender when the hub accepted
    /// them, in the same epoch and room state, and the hub obliges every commit of the epoch
    /// to include them, so the committer needs no capability for them (`readings.rs`).
    pub enforced_removed: Vec<MemberChange>,
    /// Claims of the actor's credential, matched against `preauth_list` (empty if unknown).
    pub actor_claims: Vec<Claim>,
    /// The SHA-256 digest of the join code the joiner presented (external joins with
    /// `canUseJoinCode`; the MLS layer hashes the code it finds in the commit).
    pub join_code: Option<Vec<u8>>,
    /// The time (Unix seconds) to check a join code's expiry against: the hub's clock when it
    /// authorizes; `None` where no trusted time is at hand (receiving clients, which check
    /// everything else about the code).
    pub now_s: Option<u64>,
}

impl CommitSummary {
    /// An empty summary for `actor`.
    pub fn new(actor: Actor) -> Self {
        Self {
            actor,
            external_join: false,
            component_changes: Vec::new(),
            added: Vec::new(),
            added_lifetimes: Vec::new(),
            removed: Vec::new(),
            self_removed: Vec::new(),
            enforced_removed: Vec::new(),
            actor_claims: Vec::new(),
            join_code: None,
            now_s: None,
        }
    }
}

/// One participant-list action of a commit, as authorized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParticipantAction {
    /// A user was added with a role.
    Add {
        /// The user.
        user: UserUri,
        /// Its role.
        role: RoleIndex,
    },
    /// A user was removed from the list.
    Remove {
        /// The user.
        user: UserUri,
        /// Its role before.
        from: RoleIndex,
    },
    /// A user's role changed (to 1 = ban, from 1 = unban).
    ChangeRole {
        /// The user.
        user: UserUri,
        /// Role before.
        from: RoleIndex,
        /// Role after.
        to: RoleIndex,
    },
}

impl ParticipantAction {
    /// The user the action touches.
    pub fn user(&self) -> &UserUri {
        match self {
            Self::Add { user, .. } | Self::Remove { user, .. } | Self::ChangeRole { user, .. } => {
                user
            }
        }
    }
}

/// The next room state, authorized; merge it together with the MLS commit or drop it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StagedRoomState {
    pub(crate) state: RoomState,
    pub(crate) actions: Vec<ParticipantAction>,
}

impl StagedRoomState {
    /// The next state.
    pub fn state(&self) -> &RoomState {
        &self.state
    }

    /// Takes the next state.
    pub fn into_state(self) -> RoomState {
        self.state
    }

    /// The participant-list actions the commit made, in order.
    pub fn participant_actions(&self) -> &[ParticipantAction] {
        &self.actions
    }
}

/// Checks that `client` may belong to `user`: same provider, and a `…/d/<user>/<id>` client
/// names that user.
pub(crate) fn check_client_of_user(client: &ClientUri, user: &UserUri) -> Result<(), Denied> {
    let same_domain = client.domain() == user.domain();
    let same_user = client.user_hint().is_none_or(|u| &u == user);
    if same_domain && same_user {
        Ok(())
    } else {
        Err(Denied::ClientOfForeignProvider {
            client: client.clone(),
            user: user.clone(),
        })
    }
}
