//! A client's MLS group for one room.
//!
//! Every outgoing handshake is a PublicMessage (the hub must read it); application messages
//! are PrivateMessages. Every incoming handshake is checked before it changes state: openmls
//! verifies the MLS rules, then the new leaves' credentials are validated against the trust
//! store and the room policy authorizes the [`CommitSummary`]; only then is it merged.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use openmls::group::{MlsGroup, QueuedProposal, StagedWelcome};
use openmls::prelude::SafeAadItem;
use openmls::prelude::{
    AppDataDictionary, AppDataDictionaryExtension, AppDataUpdateOperation, AppDataUpdateProposal,
    Extension, Extensions, ExternalSender, ExternalSendersExtension, GroupId, KeyPackage,
    KeyPackageIn, LeafNodeIndex, LeafNodeParameters, Lifetime, MIXED_PLAINTEXT_WIRE_FORMAT_POLICY,
    MlsMessageBodyIn, MlsMessageIn, MlsMessageOut, OpenMlsProvider, Proposal, ProposalIn,
    ProtocolVersion, RatchetTreeIn, Sender, SignaturePublicKey,
};
use openmls_traits::storage::StorageProvider as _;
use tls_codec::{Deserialize as _, Serialize as _};

use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, GroupUri};

use crate::config::{
    CIPHERSUITE, MAX_PAST_EPOCHS, join_config, leaf_capabilities, required_capabilities,
};
use crate::credential::{TrustStore, VerifiedIdentity, claimed_leaf};
use crate::error::{CredentialError, MlsError};
use crate::identity::{ClientIdentity, ExternalSenderInfo, SigningKey, mls_credential, x509_of};
use crate::inspect::{
    GroupView, added_member, app_data_updates, components_of, member_of_credential,
    validate_leaf_facts,
};
use crate::persist::{Reader, Writer, open_sealed, read_storage, write_storage};
use crate::summary::{
    Actor, CommitSummary, ComponentChange, ComponentOp, Components, MemberChange, authorize_commit,
    normalize,
};
use crate::tracked::GroupProvider;
use mimi_room::RoomState;

mod entries;
mod newcomer;
mod receive;
mod resync;

pub use entries::GroupChanges;
pub(crate) use receive::{check_components, check_room};

const RECORD_TAG: u8 = 2;

/// Lifetime of the creator's leaf: 84 days (openmls accepts at most 84 days and an hour).
const LEAF_LIFETIME_SECS: u64 = 84 * 24 * 3600;

/// What the creator hands the hub so it can build its public view.
#[derive(Clone, Debug)]
pub struct CreatedGroup {
    /// `MLSMessage` (group_info) bytes, without the ratchet tree.
    pub group_info: Vec<u8>,
    /// TLS-encoded ratchet tree.
    pub ratchet_tree: Vec<u8>,
}

/// A commit ready to submit (`POST /update`), with what the hub forwards.
#[derive(Clone, Debug)]
pub struct OutgoingCommit {
    /// The commit `MLSMessage` (PublicMessage).
    pub commit: Vec<u8>,
    /// The Welcome `MLSMessage`, if clients were added.
    pub welcome: Option<Vec<u8>>,
    /// The new epoch's GroupInfo `MLSMessage` (for the hub to retain).
    pub group_info: Option<Vec<u8>>,
    /// The new epoch's ratchet tree (TLS-encoded), for Welcome recipients.
    pub ratchet_tree: Vec<u8>,
    /// What the commit does.
    pub summary: CommitSummary,
}

/// A decrypted application message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Sender client and user (from its validated credential).
    pub sender: MemberChange,
    /// The application data.
    pub data: Vec<u8>,
    /// Safe AAD items (e.g. `frank_aad`), by component.
    pub safe_aad: BTreeMap<ComponentId, Vec<u8>>,
    /// The epoch it was sent in.
    pub epoch: u64,
}

/// The result of processing an incoming message.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Incoming {
    /// An application message.
    Application(ReceivedMessage),
    /// A proposal, validated and queued for the next commit.
    Proposal(CommitSummary),
    /// An external sender's AppEphemeral proposal (the hub's retraction of messages), its
    /// signature verified against the group's `external_senders`; not queued (openmls 0.9.2
    /// cannot commit one, see `receive.rs`): the caller authorizes and applies it now.
    AppEphemeral {
        /// The proposer (an external sender, by its credential's domain).
        actor: Actor,
        /// Its component.
        component: ComponentId,
        /// Its data.
        data: Vec<u8>,
    },
    /// A commit, validated and merged.
    Commit {
        /// What it did.
        summary: CommitSummary,
        /// The new epoch.
        epoch: u64,
        /// Whether this client was removed by it (the group is now inactive).
        removed_me: bool,
    },
}

/// A client's state in one room's MLS group.
pub struct ClientGroup {
    group: MlsGroup,
    provider: GroupProvider,
    key: SigningKey,
    me: MemberChange,
    trust: TrustStore,
    /// The room state of the current epoch (components + MLS membership).
    room: RoomState,
    /// The room state our pending commit leads to.
    pending_room: Option<RoomState>,
    /// Identities read from member credentials (validated when they joined), by credential
    /// content: saves parsing a certificate per application message.
    idents: BTreeMap<Vec<u8>, MemberChange>,
}

impl fmt::Debug for ClientGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientGroup")
            .field("client", &self.me.client)
            .field("epoch", &self.group.epoch().as_u64())
            .finish_non_exhaustive()
    }
}

pub(crate) fn parse_message(bytes: &[u8]) -> Result<MlsMessageIn, MlsError> {
    MlsMessageIn::tls_deserialize_exact(bytes).map_err(|e| MlsError::Malformed(e.to_string()))
}

fn out_bytes(m: &MlsMessageOut) -> Result<Vec<u8>, MlsError> {
    m.to_bytes().map_err(MlsError::mls)
}

fn me_of(identity: &ClientIdentity) -> MemberChange {
    MemberChange::with_kind(
        identity.client().clone(),
        identity.user().clone(),
        identity.kind(),
    )
}

/// The members of a group, from their leaves' credentials.
fn members_of(group: &MlsGroup) -> Vec<MemberChange> {
    let mut v: Vec<MemberChange> = group
        .members()
        .filter_map(|m| member_of_credential(&m.credential).ok())
        .collect();
    v.sort();
    v
}

/// The room state carried by a group: its components and its membership.
fn load_room(group: &MlsGroup) -> Result<RoomState, MlsError> {
    Ok(
        RoomState::from_components(components_of(group.extensions()))?
            .with_members(members_of(group))?,
    )
}

/// Parses and validates a KeyPackage `MLSMessage`.
pub(crate) fn parse_key_package<P: OpenMlsProvider>(
    bytes: &[u8],
    provider: &P,
) -> Result<KeyPackage, MlsError> {
    let kp_in: KeyPackageIn = match parse_message(bytes)?.extract() {
        MlsMessageBodyIn::KeyPackage(k) => k,
        _ => return Err(MlsError::Unexpected("expected a KeyPackage message".into())),
    };
    kp_in
        .validate(provider.crypto(), ProtocolVersion::Mls10)
        .map_err(MlsError::mls)
}

impl ClientGroup {
    /// Creates the MLS group of a room: group ID = the room's group URI octets; GroupContext
    /// with `required_capabilities`, `external_senders` = `hub` and `app_data_dictionary` =
    /// `components` (the room state from mimi-room).
    ///
    /// Every room franks (protocol-06 §5.4.1): its GroupContext names the hub as franking
    /// agent and lists `frank_aad` among the Safe AAD components (so every message of the
    /// room starts its `authenticated_data` with a SafeAAD; the hub's own external proposals
    /// do too, built by `external_proposal`).
    pub fn create(
        identity: &ClientIdentity,
        group_uri: &GroupUri,
        hub: &ExternalSenderInfo,
        room: &RoomState,
        trust: TrustStore,
        now: u64,
    ) -> Result<(Self, CreatedGroup), MlsError> {
        Self::create_group(identity, group_uri, hub, room, trust, now, true)
    }

    /// A room without franking (no `safe_aad`, no franking agent): tests of what Safe AAD
    /// framing would get in the way of.
    #[cfg(test)]
    pub(crate) fn create_unfranked(
        identity: &ClientIdentity,
        group_uri: &GroupUri,
        hub: &ExternalSenderInfo,
        room: &RoomState,
        trust: TrustStore,
        now: u64,
    ) -> Result<(Self, CreatedGroup), MlsError> {
        Self::create_group(identity, group_uri, hub, room, trust, now, false)
    }

    fn create_group(
        identity: &ClientIdentity,
        group_uri: &GroupUri,
        hub: &ExternalSenderInfo,
        room: &RoomState,
        trust: TrustStore,
        now: u64,
        franking: bool,
    ) -> Result<(Self, CreatedGroup), MlsError> {
        let mut components = room.components();
        if franking {
            components
                .entry(ComponentId::SAFE_AAD)
                .or_insert_with(crate::franking::safe_aad_component);
            if let std::collections::btree_map::Entry::Vacant(e) =
                components.entry(ComponentId::FRANKING_SIGNATURE_KEY)
            {
                e.insert(crate::franking::franking_agent_data(hub)?);
            }
        }
        let room = RoomState::from_components(components)?.with_members([me_of(identity)])?;
        let components = room.components();
        match trust.validate(&hub.credential, &hub.signature_key, now)? {
            VerifiedIdentity::Server(_) => {}
            VerifiedIdentity::Client { .. } => {
                return Err(CredentialError::WrongKind { expected: "server" }.into());
            }
        }
        let mut dict = AppDataDictionary::new();
        for (id, data) in &components {
            dict.insert(id.value(), data.clone());
        }
        let extensions = Extensions::from_vec(vec![
            Extension::RequiredCapabilities(required_capabilities()),
            Extension::ExternalSenders(ExternalSendersExtension::from(vec![ExternalSender::new(
                SignaturePublicKey::from(hub.signature_key.clone()),
                mls_credential(&hub.credential)?,
            )])),
            Extension::AppDataDictionary(AppDataDictionaryExtension::new(dict)),
        ])
        .map_err(MlsError::mls)?;
        let provider = GroupProvider::unsaved();
        let key = identity.signing_key().duplicate()?;
        let group = MlsGroup::builder()
            .with_group_id(GroupId::from_slice(group_uri.to_string().as_bytes()))
            .ciphersuite(CIPHERSUITE)
            .with_capabilities(leaf_capabilities())
            .with_group_context_extensions(extensions)
            .with_wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
            .max_past_epochs(MAX_PAST_EPOCHS)
            .use_ratchet_tree_extension(false)
            .lifetime(Lifetime::init(now, now.saturating_add(LEAF_LIFETIME_SECS)))
            .build(&provider, &key.pair, identity.credential_with_key()?)
            .map_err(MlsError::mls)?;
        let this = Self {
            group,
            provider,
            key,
            me: me_of(identity),
            trust,
            room,
            pending_room: None,
            idents: BTreeMap::new(),
        };
        let created = CreatedGroup {
            group_info: this.group_info()?,
            ratchet_tree: this.ratchet_tree()?,
        };
        Ok((this, created))
    }

    /// Joins from a Welcome (and the ratchet tree the hub forwards). Every member's credential
    /// is validated before the group is accepted.
    pub fn join_from_welcome(
        identity: &ClientIdentity,
        welcome: &[u8],
        ratchet_tree: &[u8],
        trust: TrustStore,
        now: u64,
    ) -> Result<Self, MlsError> {
        let MlsMessageBodyIn::Welcome(welcome) = parse_message(welcome)?.extract() else {
            return Err(MlsError::Unexpected("expected a Welcome message".into()));
        };
        let provider = GroupProvider::unsaved();
        let mut found = false;
        for s in welcome.secrets() {
            let r = s.new_member();
            if let Some(bundle) = identity.take_key_package(&r)? {
                provider
                    .storage()
                    .write_key_package(&r, &bundle)
                    .map_err(MlsError::mls)?;
                found = true;
            }
        }
        if !found {
            return Err(MlsError::Misuse(
                "the Welcome names none of this client's KeyPackages".into(),
            ));
        }
        let tree = RatchetTreeIn::tls_deserialize_exact(ratchet_tree)
            .map_err(|e| MlsError::Malformed(format!("ratchet tree: {e}")))?;
        let staged =
            StagedWelcome::new_from_welcome(&provider, &join_config(), welcome, Some(tree))
                .map_err(MlsError::mls)?;
        // The membership is read from the credentials as they are validated (one pass).
        let mut members = Vec::new();
        for m in staged.members() {
            match trust.validate(&x509_of(&m.credential)?, &m.signature_key, now)? {
                VerifiedIdentity::Client { client, user, kind } => {
                    members.push(MemberChange::with_kind(client, user, kind));
                }
                VerifiedIdentity::Server(_) => {
                    return Err(CredentialError::WrongKind { expected: "client" }.into());
                }
            }
        }
        members.sort();
        let group = staged.into_group(&provider).map_err(MlsError::mls)?;
        let room =
            RoomState::from_components(components_of(group.extensions()))?.with_members(members)?;
        Ok(Self {
            group,
            provider,
            key: identity.signing_key().duplicate()?,
            me: me_of(identity),
            trust,
            room,
            pending_room: None,
            idents: BTreeMap::new(),
        })
    }

    /// Joins by external commit from the hub's GroupInfo, ratchet tree and pending proposals
    /// (`POST /groupInfo`). Returns the group (already in the new epoch) and the commit to
    /// submit; if the hub refuses it, drop the group.
    pub fn join_external(
        identity: &ClientIdentity,
        group_info: &[u8],
        ratchet_tree: &[u8],
        pending_proposals: &[Vec<u8>],
        trust: TrustStore,
        now: u64,
    ) -> Result<(Self, OutgoingCommit), MlsError> {
        Self::join_external_as(
            identity,
            group_info,
            ratchet_tree,
            pending_proposals,
            trust,
            now,
            None,
        )
    }

    /// Joins as a user who is not yet a participant, by external commit: with `code` (a join
    /// link's code; the joiner gets the role the code grants and uses it up by one) or, without
    /// one, by open join (the first role role 0 may hand out). The room policy is checked here
    /// first, so a refused join fails with its reason before anything is sent. A user who is
    /// already a participant joins as [`ClientGroup::join_external`] does (a new device).
    pub fn join_as_newcomer(
        identity: &ClientIdentity,
        group_info: &[u8],
        ratchet_tree: &[u8],
        pending_proposals: &[Vec<u8>],
        code: Option<&[u8]>,
        trust: TrustStore,
        now: u64,
    ) -> Result<(Self, OutgoingCommit), MlsError> {
        Self::join_external_as(
            identity,
            group_info,
            ratchet_tree,
            pending_proposals,
            trust,
            now,
            Some(code),
        )
    }

    fn join_external_as(
        identity: &ClientIdentity,
        group_info: &[u8],
        ratchet_tree: &[u8],
        pending_proposals: &[Vec<u8>],
        trust: TrustStore,
        now: u64,
        newcomer: Option<Option<&[u8]>>,
    ) -> Result<(Self, OutgoingCommit), MlsError> {
        let MlsMessageBodyIn::GroupInfo(vgi) = parse_message(group_info)?.extract() else {
            return Err(MlsError::Unexpected("expected a GroupInfo message".into()));
        };
        let tree = RatchetTreeIn::tls_deserialize_exact(ratchet_tree)
            .map_err(|e| MlsError::Malformed(format!("ratchet tree: {e}")))?;
        let mut proposals = Vec::new();
        for p in pending_proposals {
            match parse_message(p)?.extract() {
                MlsMessageBodyIn::PublicMessage(m) => proposals.push(m),
                _ => {
                    return Err(MlsError::Unexpected(
                        "pending proposals must be PublicMessages".into(),
                    ));
                }
            }
        }
        let provider = GroupProvider::unsaved();
        let key = identity.signing_key().duplicate()?;
        let params = LeafNodeParameters::builder()
            .with_capabilities(leaf_capabilities())
            .build();
        let me = me_of(identity);
        // What the joiner brings for `max_credential_lifetime` (it has no KeyPackage).
        let lifetimes = crate::inspect::joiner_lifetimes(me.client.clone(), identity.credential())?;
        let newcomer = match newcomer {
            Some(code) => newcomer::NewcomerJoin::plan(&vgi, &me, code, now)?,
            None => None,
        };
        // The next room state of a newcomer's join (its own changes authorized against the
        // room the GroupInfo describes), so the commit carries the new dictionary.
        let next_room = match &newcomer {
            Some(n) => {
                let before =
                    RoomState::from_components(components_of(vgi.group_context().extensions()))?;
                let mut summary = n.summary(&me);
                summary.added_lifetimes.push(lifetimes.clone());
                Some(authorize_commit(&before, &summary)?.into_state())
            }
            None => None,
        };
        let mut builder = MlsGroup::external_commit_builder()
            .with_ratchet_tree(tree)
            .with_config(join_config())
            .with_proposals(proposals);
        if let Some(n) = &newcomer
            && !n.aad.is_empty()
        {
            builder = builder.with_aad(n.aad.clone());
        }
        let mut initial = builder
            .build_group(&provider, vgi, identity.credential_with_key()?)
            .map_err(MlsError::mls)?
            .leaf_node_parameters(params);
        if let Some(n) = &newcomer {
            for p in n.proposals() {
                initial = initial.add_app_data_update_proposal(p);
            }
        }
        let mut stage = initial
            .load_psks(provider.storage())
            .map_err(MlsError::mls)?
            .create_group_info(true);
        if let (Some(n), Some(next)) = (&newcomer, &next_room) {
            let touched: BTreeSet<ComponentId> = n.changes.iter().map(|c| c.component).collect();
            let updates = app_data_updates(
                stage.app_data_dictionary_updater(),
                &touched,
                &next.components(),
            );
            stage.with_app_data_dictionary_updates(updates);
        }
        let (group, bundle) = stage
            .build(provider.rand(), provider.crypto(), &key.pair, |_| true)
            .map_err(MlsError::mls)?
            .finalize(&provider)
            .map_err(MlsError::mls)?;
        let room = load_room(&group)?;
        let this = Self {
            group,
            provider,
            key,
            me: me_of(identity),
            trust,
            room,
            pending_room: None,
            idents: BTreeMap::new(),
        };
        let own = this.group.own_leaf_index();
        for m in this.group.members() {
            if m.index == own {
                continue;
            }
            let id = this
                .trust
                .validate(&x509_of(&m.credential)?, &m.signature_key, now)?;
            if !matches!(id, VerifiedIdentity::Client { .. }) {
                return Err(CredentialError::WrongKind { expected: "client" }.into());
            }
        }
        let mut summary = match &newcomer {
            Some(n) => n.summary(&this.me),
            None => {
                let mut summary = CommitSummary::new(Actor::Client {
                    client: this.me.client.clone(),
                    user: this.me.user.clone(),
                });
                summary.external_join = true;
                summary.added.push(this.me.clone());
                crate::summary::fill_claims(&mut summary);
                summary
            }
        };
        summary.added_lifetimes.push(lifetimes);
        let (commit, welcome, gi) = bundle.into_messages();
        let out = OutgoingCommit {
            commit: out_bytes(&commit)?,
            welcome: welcome.as_ref().map(out_bytes).transpose()?,
            group_info: gi.as_ref().map(out_bytes).transpose()?,
            ratchet_tree: this.ratchet_tree()?,
            summary,
        };
        Ok((this, out))
    }

    /// This client's URIs.
    pub fn me(&self) -> &MemberChange {
        &self.me
    }

    /// The MLS group ID (the group URI octets).
    pub fn group_id(&self) -> &[u8] {
        self.group.group_id().as_slice()
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.group.epoch().as_u64()
    }

    /// Whether this client is still a member.
    pub fn is_active(&self) -> bool {
        self.group.is_active()
    }

    /// Whether proposals of this epoch wait to be committed (cached, not yet in a commit).
    pub fn has_pending_proposals(&self) -> bool {
        self.group.pending_proposals().next().is_some()
    }

    /// The members (client and user of each leaf), sorted: the room state's membership, which
    /// every merged commit updates, so no credential is parsed (thousands in a large room).
    pub fn members(&self) -> Vec<MemberChange> {
        crate::inspect::member_changes(&self.room)
    }

    /// The room state of the current epoch (participants, roles, policy, membership).
    pub fn room(&self) -> &RoomState {
        &self.room
    }

    /// The room's franking agent (`FrankingAgentData`) when its messages are franked: the
    /// GroupContext names one and its `safe_aad` component lists `frank_aad`.
    pub fn franking_agent(&self) -> Option<&[u8]> {
        let listed = self
            .room
            .plumbing(ComponentId::SAFE_AAD)
            .is_some_and(crate::franking::lists_frank_aad);
        if listed {
            self.room.plumbing(ComponentId::FRANKING_SIGNATURE_KEY)
        } else {
            None
        }
    }

    /// The room components in the GroupContext.
    pub fn components(&self) -> Components {
        components_of(self.group.extensions())
    }

    /// This client's leaf index (tests build GroupInfos naming it).
    #[cfg(test)]
    pub(crate) fn own_leaf_index(&self) -> u32 {
        self.group.own_leaf_index().u32()
    }

    /// The current GroupInfo `MLSMessage` (with `external_pub`, without the tree).
    pub fn group_info(&self) -> Result<Vec<u8>, MlsError> {
        let gi = self
            .group
            .export_group_info(self.provider.crypto(), &self.key.pair, false)
            .map_err(MlsError::mls)?;
        out_bytes(&gi)
    }

    /// The current ratchet tree, TLS-encoded.
    pub fn ratchet_tree(&self) -> Result<Vec<u8>, MlsError> {
        self.group
            .export_ratchet_tree()
            .tls_serialize_detached()
            .map_err(MlsError::mls)
    }

    fn leaf_of(&self, client: &ClientUri) -> Result<LeafNodeIndex, MlsError> {
        crate::inspect::leaf_index_of(self.group.members(), client)
    }

    fn cached(&self) -> BTreeMap<Vec<u8>, QueuedProposal> {
        self.group
            .pending_proposals()
            .map(|q| (q.proposal_reference_ref().as_slice().to_vec(), q.clone()))
            .collect()
    }

    /// Commits `changes` (AppDataUpdate), adds `key_packages` and removes `remove` in one
    /// commit, with the pending proposals. The commit is pending until
    /// [`ClientGroup::merge_pending_commit`] (after the hub accepted it) or
    /// [`ClientGroup::discard_pending_commit`].
    pub fn commit(
        &mut self,
        changes: &[ComponentChange],
        key_packages: &[Vec<u8>],
        remove: &[ClientUri],
        now: u64,
    ) -> Result<OutgoingCommit, MlsError> {
        self.commit_inner(changes, key_packages, remove, false, now)
    }

    /// Not for applications: what a rogue member's modified client sends, so that tests
    /// through real servers can show that the hub and every member refuse it. Like
    /// [`ClientGroup::commit`] (no removals), but neither the added credentials nor the room
    /// policy are checked here, and each update replaces its component in the group context
    /// as it is (a participant-list update included).
    /// Only with the `test-support` feature.
    #[cfg(any(test, feature = "test-support"))]
    pub fn rogue_commit(
        &mut self,
        changes: &[ComponentChange],
        key_packages: &[Vec<u8>],
        now: u64,
    ) -> Result<OutgoingCommit, MlsError> {
        self.commit_unchecked(changes, key_packages, true, now)
    }

    /// Like [`ClientGroup::commit`] but without validating the added credentials, so tests
    /// can check that receivers and the hub refuse them.
    /// With `skip_policy` the room policy is not asked either (updates replace components).
    /// Only with the `test-support` feature.
    #[cfg(any(test, feature = "test-support"))]
    pub(crate) fn commit_unchecked(
        &mut self,
        changes: &[ComponentChange],
        key_packages: &[Vec<u8>],
        skip_policy: bool,
        now: u64,
    ) -> Result<OutgoingCommit, MlsError> {
        let (summary, kps, removals, app_proposals) =
            self.prepare_commit(changes, key_packages, &[], false, now)?;
        if skip_policy {
            self.commit_without_policy(summary, kps, removals, app_proposals)
        } else {
            self.commit_with_policy(summary, kps, removals, app_proposals, false)
        }
    }

    /// A commit that only refreshes this client's leaf (and commits pending proposals).
    pub fn self_update(&mut self, now: u64) -> Result<OutgoingCommit, MlsError> {
        self.commit_inner(&[], &[], &[], true, now)
    }

    fn commit_inner(
        &mut self,
        changes: &[ComponentChange],
        key_packages: &[Vec<u8>],
        remove: &[ClientUri],
        force_update: bool,
        now: u64,
    ) -> Result<OutgoingCommit, MlsError> {
        let (summary, kps, removals, app_proposals) =
            self.prepare_commit(changes, key_packages, remove, true, now)?;
        self.commit_with_policy(summary, kps, removals, app_proposals, force_update)
    }

    /// What a commit of `changes`, `key_packages` and `remove` holds: its summary (pending
    /// proposals first, then ours), the parsed key packages, the removed leaves and our
    /// AppDataUpdate proposals.
    #[allow(clippy::type_complexity)]
    fn prepare_commit(
        &self,
        changes: &[ComponentChange],
        key_packages: &[Vec<u8>],
        remove: &[ClientUri],
        check_key_packages: bool,
        now: u64,
    ) -> Result<
        (
            CommitSummary,
            Vec<KeyPackage>,
            Vec<LeafNodeIndex>,
            Vec<Proposal>,
        ),
        MlsError,
    > {
        // Each added member's certificate is parsed once: validated (or, for rogue commits,
        // only read) together with the identity and lifetimes the summary needs.
        let mut kps = Vec::new();
        let mut added = Vec::new();
        for b in key_packages {
            let kp = parse_key_package(b, &self.provider)?;
            let life = kp.life_time();
            let (not_before, not_after) = (life.not_before(), life.not_after());
            if check_key_packages {
                let facts = validate_leaf_facts(kp.leaf_node(), &self.trust, now, "client")?;
                added.push(added_member(facts, not_before, not_after)?);
            } else if let Ok(m) = x509_of(kp.leaf_node().credential())
                .and_then(|x| claimed_leaf(&x))
                .map_err(MlsError::from)
                .and_then(|facts| added_member(facts, not_before, not_after))
            {
                added.push(m);
            }
            kps.push(kp);
        }
        let mut removals = Vec::new();
        for c in remove {
            removals.push(self.leaf_of(c)?);
        }
        let app_proposals: Vec<Proposal> = changes
            .iter()
            .map(|c| {
                Proposal::AppDataUpdate(Box::new(match &c.op {
                    ComponentOp::Update(b) => {
                        AppDataUpdateProposal::update(c.component.value(), b.clone())
                    }
                    ComponentOp::Remove => AppDataUpdateProposal::remove(c.component.value()),
                }))
            })
            .collect();

        // The summary: pending proposals first (they come first in the commit), then ours.
        let actor = Actor::Client {
            client: self.me.client.clone(),
            user: self.me.user.clone(),
        };
        let mut summary = CommitSummary::new(actor);
        let cached = self.cached();
        {
            let group = &self.group;
            let leaf = |i: LeafNodeIndex| group.public_group().leaf(i);
            let view = GroupView {
                leaf: &leaf,
                cached: &cached,
            };
            let own = Sender::Member(group.own_leaf_index());
            let mut inline: Vec<ProposalIn> = cached
                .values()
                .map(|q| q.proposal().clone().into())
                .collect();
            let senders: Vec<Sender> = cached.values().map(|q| q.sender().clone()).collect();
            for (p, s) in inline.drain(..).zip(senders) {
                view.add_committed_proposal(&mut summary, &p, &s)?;
            }
            for p in &app_proposals {
                view.add_proposal(&mut summary, &p.clone().into(), &own)?;
            }
            for (m, lifetimes) in added {
                summary.added_lifetimes.push(lifetimes);
                summary.added.push(m);
            }
            for i in &removals {
                summary.removed.push(view.member_at(*i)?);
            }
        }
        normalize(&mut summary);
        Ok((summary, kps, removals, app_proposals))
    }

    /// The commit `summary` describes, once the room policy allows it.
    fn commit_with_policy(
        &mut self,
        summary: CommitSummary,
        kps: Vec<KeyPackage>,
        removals: Vec<LeafNodeIndex>,
        app_proposals: Vec<Proposal>,
        force_update: bool,
    ) -> Result<OutgoingCommit, MlsError> {
        let staged_room = authorize_commit(&self.room, &summary)?;
        let new = staged_room.state().components();
        let touched: BTreeSet<ComponentId> = summary
            .component_changes
            .iter()
            .map(|c| c.component)
            .collect();

        let mut stage = self
            .group
            .commit_builder()
            .add_proposals(app_proposals)
            .propose_adds(kps)
            .propose_removals(removals)
            .force_self_update(force_update)
            .load_psks(self.provider.storage())
            .map_err(MlsError::mls)?
            .create_group_info(true);
        if !touched.is_empty() {
            let updates = app_data_updates(stage.app_data_dictionary_updater(), &touched, &new);
            stage.with_app_data_dictionary_updates(updates);
        }
        let bundle = stage
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.key.pair,
                |_| true,
            )
            .map_err(MlsError::mls)?
            .stage_commit(&self.provider)
            .map_err(MlsError::mls)?;
        let ratchet_tree = self.pending_ratchet_tree()?;
        let (commit, welcome, gi) = bundle.into_messages();
        self.pending_room = Some(staged_room.into_state());
        Ok(OutgoingCommit {
            commit: out_bytes(&commit)?,
            welcome: welcome.as_ref().map(out_bytes).transpose()?,
            group_info: gi.as_ref().map(out_bytes).transpose()?,
            ratchet_tree,
            summary,
        })
    }

    /// The ratchet tree of the epoch this client's pending commit leads to (TLS-encoded; empty
    /// without one), for the hub.
    fn pending_ratchet_tree(&self) -> Result<Vec<u8>, MlsError> {
        Ok(match self.group.pending_commit() {
            Some(p) => p
                .export_ratchet_tree(self.provider.crypto(), self.group.export_ratchet_tree())
                .map_err(MlsError::mls)?
                .map(|t| t.tls_serialize_detached())
                .transpose()
                .map_err(MlsError::mls)?
                .unwrap_or_default(),
            None => Vec::new(),
        })
    }

    /// The commit with updates that replace components, no policy (rogue commits only).
    #[cfg(any(test, feature = "test-support"))]
    fn commit_without_policy(
        &mut self,
        summary: CommitSummary,
        kps: Vec<KeyPackage>,
        removals: Vec<LeafNodeIndex>,
        app_proposals: Vec<Proposal>,
    ) -> Result<OutgoingCommit, MlsError> {
        let mut new = self.components();
        let mut touched = BTreeSet::new();
        for c in &summary.component_changes {
            touched.insert(c.component);
            match &c.op {
                ComponentOp::Update(b) => {
                    new.insert(c.component, b.clone());
                }
                ComponentOp::Remove => {
                    new.remove(&c.component);
                }
            }
        }
        let mut stage = self
            .group
            .commit_builder()
            .add_proposals(app_proposals)
            .propose_adds(kps)
            .propose_removals(removals)
            .load_psks(self.provider.storage())
            .map_err(MlsError::mls)?
            .create_group_info(true);
        if !touched.is_empty() {
            let updates = app_data_updates(stage.app_data_dictionary_updater(), &touched, &new);
            stage.with_app_data_dictionary_updates(updates);
        }
        let bundle = stage
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.key.pair,
                |_| true,
            )
            .map_err(MlsError::mls)?
            .stage_commit(&self.provider)
            .map_err(MlsError::mls)?;
        let (commit, welcome, gi) = bundle.into_messages();
        Ok(OutgoingCommit {
            commit: out_bytes(&commit)?,
            welcome: welcome.as_ref().map(out_bytes).transpose()?,
            group_info: gi.as_ref().map(out_bytes).transpose()?,
            ratchet_tree: self.pending_ratchet_tree()?,
            summary,
        })
    }

    /// Tests only: a commit of `proposal` (by value) and nothing else, built by openmls without
    /// any of our checks (openmls's own proposal filter still applies).
    #[cfg(test)]
    pub(crate) fn commit_raw_proposal(
        &mut self,
        proposal: Proposal,
    ) -> Result<OutgoingCommit, MlsError> {
        let bundle = self
            .group
            .commit_builder()
            .add_proposal(proposal)
            .load_psks(self.provider.storage())
            .map_err(MlsError::mls)?
            .create_group_info(true)
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.key.pair,
                |_| true,
            )
            .map_err(MlsError::mls)?
            .stage_commit(&self.provider)
            .map_err(MlsError::mls)?;
        let (commit, welcome, gi) = bundle.into_messages();
        let actor = Actor::Client {
            client: self.me.client.clone(),
            user: self.me.user.clone(),
        };
        Ok(OutgoingCommit {
            commit: out_bytes(&commit)?,
            welcome: welcome.as_ref().map(out_bytes).transpose()?,
            group_info: gi.as_ref().map(out_bytes).transpose()?,
            ratchet_tree: Vec::new(),
            summary: CommitSummary::new(actor),
        })
    }

    /// Applies this client's pending commit (the hub accepted it).
    pub fn merge_pending_commit(&mut self) -> Result<(), MlsError> {
        self.group
            .merge_pending_commit(&self.provider)
            .map_err(MlsError::mls)?;
        self.room = match self.pending_room.take() {
            Some(r) => r,
            None => load_room(&self.group)?,
        };
        Ok(())
    }

    /// Drops this client's pending commit (the hub refused it).
    pub fn discard_pending_commit(&mut self) -> Result<(), MlsError> {
        self.pending_room = None;
        self.group
            .clear_pending_commit(self.provider.storage())
            .map_err(MlsError::mls)
    }

    /// Proposes AppDataUpdates as standalone proposals (e.g. the participant-list removal
    /// that goes with a leave). Returns one `MLSMessage` per change.
    pub fn propose_components(
        &mut self,
        changes: &[ComponentChange],
    ) -> Result<Vec<Vec<u8>>, MlsError> {
        let mut out = Vec::new();
        for c in changes {
            let op = match &c.op {
                ComponentOp::Update(b) => AppDataUpdateOperation::Update(b.clone().into()),
                ComponentOp::Remove => AppDataUpdateOperation::Remove,
            };
            let (m, _) = self
                .group
                .propose_app_data_update(&self.provider, &self.key.pair, c.component.value(), op)
                .map_err(MlsError::mls)?;
            out.push(out_bytes(&m)?);
        }
        Ok(out)
    }

    /// Proposes that this client leave (a SelfRemove proposal, committed by another member).
    pub fn propose_leave(&mut self) -> Result<Vec<u8>, MlsError> {
        let m = self
            .group
            .leave_group_via_self_remove(&self.provider, &self.key.pair)
            .map_err(MlsError::mls)?;
        out_bytes(&m)
    }

    /// Encrypts an application message (PrivateMessage). `safe_aad` items (e.g. `frank_aad`)
    /// go in the authenticated data as a SafeAAD, sorted by component.
    pub fn protect(
        &mut self,
        plaintext: &[u8],
        safe_aad: &BTreeMap<ComponentId, Vec<u8>>,
    ) -> Result<Vec<u8>, MlsError> {
        if !safe_aad.is_empty() {
            let items = safe_aad
                .iter()
                .map(|(k, v)| SafeAadItem::new(k.value(), v.clone()))
                .collect();
            self.group.set_safe_aad(items).map_err(MlsError::mls)?;
        }
        let m = self
            .group
            .create_message(&self.provider, &self.key.pair, plaintext)
            .map_err(MlsError::mls)?;
        out_bytes(&m)
    }

    /// The group as a secret record (signing key, URIs, openmls state), for the storage layer.
    pub fn to_record(&self) -> Result<Vec<u8>, MlsError> {
        let mut w = Writer::default();
        w.header(RECORD_TAG);
        w.str(&self.me.client.to_string());
        w.str(&self.me.user.to_string());
        self.key.encode(&mut w)?;
        w.bytes(self.group.group_id().as_slice());
        write_storage(&mut w, self.provider.storage().store())?;
        Ok(w.finish_sealed())
    }

    /// Restores a group from [`ClientGroup::to_record`] with the client's trust store.
    pub fn from_record(record: &[u8], trust: TrustStore) -> Result<Self, MlsError> {
        let mut r = Reader::new(open_sealed(record)?);
        let format = r.header(RECORD_TAG)?;
        let client = r.parse()?;
        let user = r.parse()?;
        let key = SigningKey::decode(&mut r)?;
        let group_id = GroupId::from_slice(r.bytes()?);
        let provider = GroupProvider::default();
        read_storage(&mut r, provider.storage().store(), format)?;
        // Restored from a whole record: none of it is stored as entries yet.
        provider.storage().mark_all()?;
        r.end()?;
        let group = MlsGroup::load(provider.storage(), &group_id)
            .map_err(MlsError::mls)?
            .ok_or_else(|| MlsError::Record("the record holds no state for its group".into()))?;
        let room = load_room(&group)?;
        let kind = room.kind_of(&client).clone();
        Ok(Self {
            group,
            provider,
            key,
            me: MemberChange::with_kind(client, user, kind),
            trust,
            room,
            pending_room: None,
            idents: BTreeMap::new(),
        })
    }
}
