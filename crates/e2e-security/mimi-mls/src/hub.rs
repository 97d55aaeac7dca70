//! The hub's view of a room's MLS group: a PublicGroup, no secrets.
//!
//! [`HubGroup::process`] verifies a PublicMessage proposal or commit, validates the
//! credentials of new leaves, checks that commits include the proposals the hub accepted for
//! the epoch, asks the room policy, and returns a [`StagedHandshake`] without changing state.
//! The caller persists and then [`HubGroup::merge`]s it, or drops it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use openmls::group::ProposalStore;
use openmls::group::{PublicGroup, QueuedProposal, StagedCommit};
use openmls::prelude::Sender;
use openmls::prelude::{
    ContentType, Credential, LeafNodeIndex, MlsMessageBodyIn, MlsMessageIn, OpenMlsProvider,
    ProcessedMessageContent, Proposal, ProtocolMessage, RatchetTreeIn, WireFormat,
};
use tls_codec::{Deserialize as _, Serialize as _, VLBytes};

use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, UserUri};

use crate::client::{check_components, check_room};
use crate::committer_group_info::{ExpectedSigner, check_committer_group_info};
use crate::credential::{TrustStore, VerifiedIdentity};
use crate::error::{CredentialError, MlsError};
use crate::identity::{ServerIdentity, x509_of};
use crate::inspect::{
    CONTENT_COMMIT, GroupView, app_data_updates, components_of, hex_of, member_of_credential,
    raw_handshake, validate_leaf, validate_staged,
};
use crate::persist::{Reader, Writer, open_sealed, read_storage, write_storage};
use crate::store::StoreProvider;
use crate::summary::{
    CommitSummary, Components, MemberChange, authorize_commit, authorize_proposal,
};
use mimi_room::{RoomState, StagedRoomState};

const RECORD_TAG: u8 = 3;

/// A proposal the hub accepted in the current epoch.
#[derive(Clone, Debug)]
struct Cached {
    queued: QueuedProposal,
    message: Vec<u8>,
    accepted_at: u64,
}

/// A verified, authorized handshake waiting for the caller to merge or drop it.
pub struct StagedHandshake {
    summary: CommitSummary,
    message: Vec<u8>,
    kind: StagedKind,
}

enum StagedKind {
    Proposal(Box<QueuedProposal>),
    Commit {
        staged: Box<StagedCommit>,
        room: Box<StagedRoomState>,
        new_epoch: u64,
        /// Who must sign the committer's GroupInfo.
        signer: ExpectedSigner,
        /// The commit's confirmation tag (the MAC's bytes).
        confirmation_tag: Vec<u8>,
    },
}

impl fmt::Debug for StagedHandshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StagedHandshake")
            .field("summary", &self.summary)
            .field("commit", &self.is_commit())
            .finish_non_exhaustive()
    }
}

impl StagedHandshake {
    /// What the handshake does (sender, adds, removes, component changes, external join).
    pub fn summary(&self) -> &CommitSummary {
        &self.summary
    }

    /// Whether it is a commit (else a proposal).
    pub fn is_commit(&self) -> bool {
        matches!(self.kind, StagedKind::Commit { .. })
    }

    /// The epoch after merging (the current one for a proposal).
    pub fn new_epoch(&self) -> Option<u64> {
        match &self.kind {
            StagedKind::Commit { new_epoch, .. } => Some(*new_epoch),
            StagedKind::Proposal(_) => None,
        }
    }

    /// The message as received (to fan out).
    pub fn message(&self) -> &[u8] {
        &self.message
    }

    /// The room state after the commit (with the participant actions mimi-room authorized).
    pub fn new_room(&self) -> Option<&StagedRoomState> {
        match &self.kind {
            StagedKind::Commit { room, .. } => Some(room),
            StagedKind::Proposal(_) => None,
        }
    }
}

/// What the hub learns from an application message's cleartext header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppMessageInfo {
    /// The epoch.
    pub epoch: u64,
    /// The `authenticated_data` (a SafeAAD carrying e.g. `frank_aad`, when in use).
    pub authenticated_data: Vec<u8>,
    /// The `franking_tag` of its `frank_aad` Safe AAD item, if it carries one.
    pub frank_aad: Option<[u8; crate::franking::FRANK_LEN]>,
}

/// The hub's state for one room's group.
pub struct HubGroup {
    group: PublicGroup,
    provider: StoreProvider,
    group_info: Option<Vec<u8>>,
    cached: BTreeMap<Vec<u8>, Cached>,
    trust: TrustStore,
    room: RoomState,
}

impl fmt::Debug for HubGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubGroup")
            .field(
                "group",
                &String::from_utf8_lossy(self.group.group_id().as_slice()),
            )
            .field("epoch", &self.epoch())
            .finish_non_exhaustive()
    }
}

fn parse(bytes: &[u8]) -> Result<MlsMessageIn, MlsError> {
    MlsMessageIn::tls_deserialize_exact(bytes).map_err(|e| MlsError::Malformed(e.to_string()))
}

/// The KeyPackageRefs a Welcome is addressed to (to route it to the right providers).
pub fn welcome_key_package_refs(welcome: &[u8]) -> Result<Vec<Vec<u8>>, MlsError> {
    match parse(welcome)?.extract() {
        MlsMessageBodyIn::Welcome(w) => Ok(w
            .secrets()
            .iter()
            .map(|s| s.new_member().as_slice().to_vec())
            .collect()),
        _ => Err(MlsError::Unexpected("expected a Welcome message".into())),
    }
}

impl HubGroup {
    /// Builds the hub's view from the creator's GroupInfo and ratchet tree. Every member's
    /// credential is validated.
    pub fn new(
        group_info: &[u8],
        ratchet_tree: &[u8],
        trust: TrustStore,
        now: u64,
    ) -> Result<Self, MlsError> {
        let MlsMessageBodyIn::GroupInfo(vgi) = parse(group_info)?.extract() else {
            return Err(MlsError::Unexpected("expected a GroupInfo message".into()));
        };
        let tree = RatchetTreeIn::tls_deserialize_exact(ratchet_tree)
            .map_err(|e| MlsError::Malformed(format!("ratchet tree: {e}")))?;
        let provider = StoreProvider::default();
        let (group, _) = PublicGroup::from_external(
            provider.crypto(),
            provider.storage(),
            tree,
            vgi,
            ProposalStore::new(),
        )
        .map_err(MlsError::mls)?;
        for m in group.members() {
            let id = trust.validate(&x509_of(&m.credential)?, &m.signature_key, now)?;
            if !matches!(id, VerifiedIdentity::Client { .. }) {
                return Err(CredentialError::WrongKind { expected: "client" }.into());
            }
        }
        let room = load_room(&group)?;
        Ok(Self {
            group,
            provider,
            group_info: Some(group_info.to_vec()),
            cached: BTreeMap::new(),
            trust,
            room,
        })
    }

    /// Tests: every value of the hub's openmls store.
    #[cfg(test)]
    pub(crate) fn storage_values(&self) -> std::collections::HashMap<Vec<u8>, Vec<u8>> {
        self.provider.storage().snapshot()
    }

    /// The group ID (the group URI octets).
    pub fn group_id(&self) -> &[u8] {
        self.group.group_id().as_slice()
    }

    /// The current epoch.
    pub fn epoch(&self) -> u64 {
        self.group.group_context().epoch().as_u64()
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

    /// The room components in the GroupContext.
    pub fn components(&self) -> Components {
        components_of(self.group.group_context().extensions())
    }

    /// The GroupInfo of the current epoch, if the last committer supplied one.
    pub fn group_info(&self) -> Option<&[u8]> {
        self.group_info.as_deref()
    }

    /// The current ratchet tree, TLS-encoded (written from the tree's nodes, not from a copy
    /// of them: `tree_wire.rs`).
    pub fn ratchet_tree(&self) -> Result<Vec<u8>, MlsError> {
        crate::tree_wire::encode(self.group.treesync())
    }

    /// The current ratchet tree's nodes: [`HubGroup::ratchet_tree`] without its length
    /// prefix (what a `RatchetTreeOption` carries).
    pub fn ratchet_tree_nodes(&self) -> Result<Vec<u8>, MlsError> {
        crate::tree_wire::nodes(self.group.treesync())
    }

    /// Tests: the tree as openmls exports and encodes it.
    #[cfg(test)]
    pub(crate) fn ratchet_tree_by_openmls(&self) -> Vec<u8> {
        self.group
            .export_ratchet_tree()
            .tls_serialize_detached()
            .unwrap_or_default()
    }

    /// Proposals accepted in this epoch: the message and the hub acceptance time.
    pub fn pending_proposals(&self) -> Vec<(Vec<u8>, u64)> {
        self.cached
            .values()
            .map(|c| (c.message.clone(), c.accepted_at))
            .collect()
    }

    /// The clients whose removal an external sender (the hub as policy enforcer) proposed in
    /// this epoch, in proposal order of the cache.
    pub fn enforced_removals(&self) -> Vec<ClientUri> {
        self.cached
            .values()
            .filter(|c| matches!(c.queued.sender(), Sender::External(_)))
            .filter_map(|c| match c.queued.proposal() {
                Proposal::Remove(r) => self
                    .group
                    .leaf(r.removed())
                    .and_then(|leaf| member_of_credential(leaf.credential()).ok())
                    .map(|m| m.client),
                _ => None,
            })
            .collect()
    }

    /// The clients whose removal anyone proposed in this epoch (a Remove, or their own
    /// SelfRemove): a second removal of the same leaf would make the epoch's commit invalid.
    pub fn pending_removals(&self) -> Vec<ClientUri> {
        self.cached
            .values()
            .filter_map(|c| match (c.queued.proposal(), c.queued.sender()) {
                (Proposal::Remove(r), _) => Some(r.removed()),
                (Proposal::SelfRemove, Sender::Member(i)) => Some(*i),
                _ => None,
            })
            .filter_map(|leaf| self.group.leaf(leaf))
            .filter_map(|leaf| member_of_credential(leaf.credential()).ok())
            .map(|m| m.client)
            .collect()
    }

    /// Whether `client` has a leaf in the group (the room state's membership follows every
    /// merged commit: no credential is parsed).
    pub fn has_member(&self, client: &ClientUri) -> bool {
        self.room.members().contains_key(client)
    }

    pub(crate) fn leaf_of(&self, client: &ClientUri) -> Result<LeafNodeIndex, MlsError> {
        crate::inspect::leaf_index_of(self.group.members(), client)
    }

    /// Verifies and authorizes a handshake (`POST /update`): a PublicMessage proposal or
    /// commit for the current epoch. Nothing changes until [`HubGroup::merge`].
    pub fn process(&self, message: &[u8], now: u64) -> Result<StagedHandshake, MlsError> {
        let protocol = match parse(message)?.extract() {
            MlsMessageBodyIn::PublicMessage(p) => ProtocolMessage::from(p),
            _ => {
                return Err(MlsError::Unexpected(
                    "handshakes must be PublicMessages".into(),
                ));
            }
        };
        if protocol.group_id() != self.group.group_id() {
            return Err(MlsError::WrongGroup {
                expected: String::from_utf8_lossy(self.group_id()).into_owned(),
                got: String::from_utf8_lossy(protocol.group_id().as_slice()).into_owned(),
            });
        }
        let current_epoch = self.epoch();
        let got = protocol.epoch().as_u64();
        if got != current_epoch {
            return Err(MlsError::WrongEpoch {
                current: current_epoch,
                got,
            });
        }
        let raw = raw_handshake(message)?;
        let committer_before = match &protocol {
            ProtocolMessage::PublicMessage(p) => match p.sender() {
                Sender::Member(i) => self.group.leaf(*i).map(|l| {
                    (
                        l.credential().clone(),
                        l.signature_key().as_slice().to_vec(),
                    )
                }),
                _ => None,
            },
            ProtocolMessage::PrivateMessage(_) => None,
        };
        let confirmation_tag = match &protocol {
            ProtocolMessage::PublicMessage(p) => match p.confirmation_tag() {
                Some(tag) => {
                    let encoded = tag.tls_serialize_detached().map_err(MlsError::mls)?;
                    VLBytes::tls_deserialize_exact(encoded)
                        .map_err(MlsError::mls)?
                        .as_slice()
                        .to_vec()
                }
                None => Vec::new(),
            },
            ProtocolMessage::PrivateMessage(_) => Vec::new(),
        };
        let processed = self
            .group
            .process_message(self.provider.crypto(), protocol)
            .map_err(MlsError::mls)?;
        let cached: BTreeMap<Vec<u8>, QueuedProposal> = self
            .cached
            .iter()
            .map(|(k, c)| (k.clone(), c.queued.clone()))
            .collect();
        let group = &self.group;
        let leaf = |i: LeafNodeIndex| group.leaf(i);
        let view = GroupView {
            leaf: &leaf,
            cached: &cached,
        };
        let sender = processed.sender().clone();
        let credential = processed.credential().clone();
        let actor = view.actor(&sender, &credential)?;
        if let Sender::External(_) = &sender {
            // The verified signer must be one of the group's external senders: openmls checked
            // the signature; the credential must also be a valid server credential.
            self.validate_server(processed.credential(), now)?;
        }
        let content = processed.into_content();
        let (summary, kind) = match content {
            ProcessedMessageContent::ProposalMessage(q)
            | ProcessedMessageContent::ExternalJoinProposalMessage(q) => {
                let summary = view.summarize_proposal(actor, &q)?;
                if let Proposal::Add(a) = q.proposal() {
                    validate_leaf(a.key_package().leaf_node(), &self.trust, now, "client")?;
                }
                authorize_proposal(&self.room, &summary)?;
                (summary, StagedKind::Proposal(q))
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                let summary = self.commit_summary(&view, actor, &credential, &sender, &raw)?;
                let room = authorize_commit(&self.room, &at_hub_clock(&summary, now))?;
                check_room(&staged, &summary, &room)?;
                validate_staged(&staged, committer_before.as_ref(), &self.trust, now)?;
                let signer = self.expected_signer(&sender, &staged, committer_before.as_ref())?;
                (
                    summary,
                    StagedKind::Commit {
                        staged,
                        room: Box::new(room),
                        new_epoch: current_epoch + 1,
                        signer,
                        confirmation_tag,
                    },
                )
            }
            ProcessedMessageContent::UnresolvedAppDataCommit(u) => {
                let summary = self.commit_summary(&view, actor, &credential, &sender, &raw)?;
                let room = authorize_commit(&self.room, &at_hub_clock(&summary, now))?;
                let new = room.state().components();
                let touched: BTreeSet<ComponentId> = summary
                    .component_changes
                    .iter()
                    .map(|c| c.component)
                    .collect();
                let updates =
                    app_data_updates(self.group.app_data_dictionary_updater(), &touched, &new);
                let staged = self
                    .group
                    .stage_app_data_commit(self.provider.crypto(), *u, updates)
                    .map_err(MlsError::mls)?;
                // `check_room` with the components encoded above (the participant list of a
                // large room is most of them).
                if !summary.component_changes.is_empty() {
                    check_components(&staged, &new)?;
                }
                validate_staged(&staged, committer_before.as_ref(), &self.trust, now)?;
                let signer = self.expected_signer(&sender, &staged, committer_before.as_ref())?;
                (
                    summary,
                    StagedKind::Commit {
                        staged: Box::new(staged),
                        room: Box::new(room),
                        new_epoch: current_epoch + 1,
                        signer,
                        confirmation_tag,
                    },
                )
            }
            ProcessedMessageContent::ApplicationMessage(_) => {
                return Err(MlsError::Unexpected(
                    "application messages must be PrivateMessages".into(),
                ));
            }
            _ => return Err(MlsError::Unexpected("unsupported message content".into())),
        };
        Ok(StagedHandshake {
            summary,
            message: message.to_vec(),
            kind,
        })
    }

    fn commit_summary(
        &self,
        view: &GroupView<'_>,
        actor: crate::summary::Actor,
        committer: &Credential,
        sender: &Sender,
        raw: &crate::inspect::RawHandshake,
    ) -> Result<CommitSummary, MlsError> {
        if raw.content_type != CONTENT_COMMIT {
            return Err(MlsError::Unexpected("not a commit".into()));
        }
        let (summary, refs) = view.summarize_commit(actor, committer, sender, raw)?;
        // An external commit can carry only SelfRemove proposals by reference (RFC 9420
        // §12.4.3.2 with mls-extensions; openmls 0.9.2 takes only those from the pending list):
        // other cached proposals die with the epoch and their senders must send them again.
        let external = matches!(sender, Sender::NewMemberCommit);
        let missing = self
            .cached
            .iter()
            .filter(|(k, c)| {
                !refs.contains(*k)
                    && (!external || matches!(c.queued.proposal(), Proposal::SelfRemove))
            })
            .count();
        if missing > 0 {
            return Err(MlsError::MissingCachedProposals { missing });
        }
        Ok(summary)
    }

    /// The committer's leaf in the new epoch, whose key must sign its GroupInfo: the leaf of
    /// the update path (or, for a member's commit without one, its unchanged leaf), at the
    /// member's index, or for an external commit at the leftmost leaf left blank once the
    /// commit's removals apply (RFC 9420 §12.4.3.2, §7.7).
    fn expected_signer(
        &self,
        sender: &Sender,
        staged: &StagedCommit,
        committer_before: Option<&(Credential, Vec<u8>)>,
    ) -> Result<ExpectedSigner, MlsError> {
        let signature_key = match (staged.update_path_leaf_node(), committer_before) {
            (Some(leaf), _) => leaf.signature_key().as_slice().to_vec(),
            (None, Some((_, key))) => key.clone(),
            (None, None) => {
                return Err(MlsError::Unexpected(
                    "an external commit must carry an update path".into(),
                ));
            }
        };
        let leaf = match sender {
            Sender::Member(i) => i.u32(),
            Sender::NewMemberCommit => {
                let occupied: BTreeSet<u32> = self.group.members().map(|m| m.index.u32()).collect();
                let mut freed: BTreeSet<u32> = staged
                    .remove_proposals()
                    .map(|r| r.remove_proposal().removed().u32())
                    .collect();
                for q in staged.queued_proposals() {
                    if let (Proposal::SelfRemove, Sender::Member(i)) = (q.proposal(), q.sender()) {
                        freed.insert(i.u32());
                    }
                }
                let end = occupied.iter().next_back().map_or(0, |last| last + 1);
                (0..end)
                    .find(|i| !occupied.contains(i) || freed.contains(i))
                    .unwrap_or(end)
            }
            _ => {
                return Err(MlsError::Unexpected(
                    "commits come from members or new members".into(),
                ));
            }
        };
        Ok(ExpectedSigner {
            leaf,
            signature_key,
        })
    }

    fn validate_server(&self, credential: &Credential, now: u64) -> Result<(), MlsError> {
        let x = x509_of(credential)?;
        let leaf_key = crate::credential::certified_key(&x)?;
        match self.trust.validate(&x, &leaf_key, now)? {
            VerifiedIdentity::Server(_) => Ok(()),
            VerifiedIdentity::Client { .. } => {
                Err(CredentialError::WrongKind { expected: "server" }.into())
            }
        }
    }

    /// Applies a staged handshake: a proposal is cached for the epoch; a commit advances the
    /// epoch, clears the cache and retains `group_info`, the committer's GroupInfo for the new
    /// epoch, which a commit requires: it must be for this group and epoch, carry the new
    /// GroupContext, be signed by the committer's leaf of the new epoch and carry the commit's
    /// confirmation tag (the hub cannot compute that tag; without this check an altered commit
    /// would be fanned out and refused by every member). On error nothing is merged and the
    /// staged handshake is dropped: process it again.
    pub fn merge(
        &mut self,
        staged: StagedHandshake,
        group_info: Option<&[u8]>,
        now: u64,
    ) -> Result<(), MlsError> {
        match staged.kind {
            StagedKind::Proposal(q) => {
                let key = q.proposal_reference_ref().as_slice().to_vec();
                self.group
                    .add_proposal(self.provider.storage(), (*q).clone())
                    .map_err(MlsError::mls)?;
                self.cached.insert(
                    key,
                    Cached {
                        queued: *q,
                        message: staged.message,
                        accepted_at: now,
                    },
                );
            }
            StagedKind::Commit {
                staged: sc,
                room,
                new_epoch,
                signer,
                confirmation_tag,
            } => {
                let Some(group_info) = group_info else {
                    return Err(MlsError::GroupInfoMissing);
                };
                let gi = self.check_group_info(group_info, new_epoch, &sc)?;
                check_committer_group_info(group_info, &signer, &confirmation_tag)?;
                self.group
                    .merge_commit(self.provider.storage(), *sc)
                    .map_err(MlsError::mls)?;
                self.cached.clear();
                self.group_info = Some(gi);
                self.room = room.into_state();
            }
        }
        Ok(())
    }

    /// A committer's GroupInfo must be for this group and the new epoch, and carry exactly
    /// the GroupContext the commit leads to (else external joins from it would fail).
    fn check_group_info(
        &self,
        bytes: &[u8],
        epoch: u64,
        staged: &StagedCommit,
    ) -> Result<Vec<u8>, MlsError> {
        match parse(bytes)?.extract() {
            MlsMessageBodyIn::GroupInfo(g) => {
                if g.group_id() != self.group.group_id() {
                    return Err(MlsError::WrongGroup {
                        expected: String::from_utf8_lossy(self.group_id()).into_owned(),
                        got: String::from_utf8_lossy(g.group_id().as_slice()).into_owned(),
                    });
                }
                if g.epoch().as_u64() != epoch {
                    return Err(MlsError::GroupInfoEpoch {
                        expected: epoch,
                        got: g.epoch().as_u64(),
                    });
                }
                if g.group_context() != staged.group_context() {
                    return Err(MlsError::GroupInfoMismatch);
                }
                Ok(bytes.to_vec())
            }
            _ => Err(MlsError::Unexpected("expected a GroupInfo message".into())),
        }
    }

    /// Builds a hub-originated AppEphemeral proposal of `component` with `data` (the hub's
    /// retraction of messages, hub-retracted-messages-00), signed with the hub's
    /// external-sender key, for the current epoch. It is not run through
    /// [`HubGroup::process`] (openmls 0.9.2 refuses external AppEphemeral proposals, and no
    /// commit needs to include it): fan it out as it is.
    pub fn propose_app_ephemeral(
        &self,
        hub: &ServerIdentity,
        component: ComponentId,
        data: &[u8],
    ) -> Result<Vec<u8>, MlsError> {
        let index = self.external_sender_index(hub)?;
        let aad = crate::external_proposal::empty_authenticated_data(
            self.group.group_context().safe_aad_required(),
        );
        crate::external_proposal::app_ephemeral(
            self.group.group_id().as_slice(),
            self.group.group_context().epoch().as_u64(),
            index,
            &aad,
            component.value(),
            data,
            hub.signing_key(),
        )
    }

    fn external_sender_index(&self, hub: &ServerIdentity) -> Result<u32, MlsError> {
        let senders = self
            .group
            .group_context()
            .extensions()
            .external_senders()
            .ok_or_else(|| MlsError::Misuse("the group has no external senders".into()))?;
        let me = openmls::prelude::ExternalSender::new(
            openmls::prelude::SignaturePublicKey::from(hub.signing_key().public().to_vec()),
            crate::identity::mls_credential(hub.credential())?,
        );
        let index = senders.iter().position(|s| s == &me).ok_or_else(|| {
            MlsError::Misuse("this server is not an external sender of the group".into())
        })?;
        u32::try_from(index).map_err(|_| MlsError::Internal("sender index".into()))
    }

    /// Builds hub-originated Remove proposals for `clients` (e.g. a banned user's), signed
    /// with the hub's external-sender key. Run each through [`HubGroup::process`] and
    /// [`HubGroup::merge`] like any other proposal, then fan it out.
    pub fn propose_remove(
        &self,
        hub: &ServerIdentity,
        clients: &[ClientUri],
    ) -> Result<Vec<Vec<u8>>, MlsError> {
        let senders = self
            .group
            .group_context()
            .extensions()
            .external_senders()
            .ok_or_else(|| MlsError::Misuse("the group has no external senders".into()))?;
        let me = openmls::prelude::ExternalSender::new(
            openmls::prelude::SignaturePublicKey::from(hub.signing_key().public().to_vec()),
            crate::identity::mls_credential(hub.credential())?,
        );
        let index = senders.iter().position(|s| s == &me).ok_or_else(|| {
            MlsError::Misuse("this server is not an external sender of the group".into())
        })?;
        let index = u32::try_from(index).map_err(|_| MlsError::Internal("sender index".into()))?;
        // Built here, not by openmls (which cannot give an external proposal the SafeAAD
        // prefix a franked room requires): see `external_proposal`.
        let aad = crate::external_proposal::empty_authenticated_data(
            self.group.group_context().safe_aad_required(),
        );
        let mut out = Vec::new();
        for c in clients {
            let leaf = self.leaf_of(c)?;
            out.push(crate::external_proposal::remove(
                self.group.group_id().as_slice(),
                self.group.group_context().epoch().as_u64(),
                index,
                &aad,
                leaf.u32(),
                hub.signing_key(),
            )?);
        }
        Ok(out)
    }

    /// Checks an application message (`POST /submitMessage`) from its cleartext header: a
    /// PrivateMessage of content type application, for this group and the current epoch,
    /// from a user who has clients in the group and whom the room policy lets send.
    pub fn check_application(
        &self,
        message: &[u8],
        sending_user: &UserUri,
    ) -> Result<AppMessageInfo, MlsError> {
        let msg = parse(message)?;
        if msg.wire_format() != WireFormat::PrivateMessage {
            return Err(MlsError::Unexpected(
                "application messages must be PrivateMessages".into(),
            ));
        }
        let MlsMessageBodyIn::PrivateMessage(pm) = msg.extract() else {
            return Err(MlsError::Unexpected("expected a PrivateMessage".into()));
        };
        if pm.content_type() != ContentType::Application {
            return Err(MlsError::Unexpected(
                "submitMessage carries application messages only".into(),
            ));
        }
        if pm.group_id() != self.group.group_id() {
            return Err(MlsError::WrongGroup {
                expected: String::from_utf8_lossy(self.group_id()).into_owned(),
                got: String::from_utf8_lossy(pm.group_id().as_slice()).into_owned(),
            });
        }
        self.room.may_send(sending_user)?;
        if !self.room.members().values().any(|u| u == sending_user) {
            return Err(MlsError::NotParticipant {
                user: sending_user.to_string(),
            });
        }
        let current = self.epoch();
        let got = pm.epoch().as_u64();
        if got < current {
            return Err(MlsError::EpochTooOld { current, got });
        }
        if got > current {
            return Err(MlsError::EpochTooNew { current, got });
        }
        Ok(AppMessageInfo {
            epoch: got,
            frank_aad: crate::franking::frank_aad_of(pm.aad()),
            authenticated_data: pm.aad().to_vec(),
        })
    }

    /// Whether `key` is this room's franking agent key (the room franks and names it).
    pub fn franks_with(&self, key: &[u8]) -> bool {
        let listed = self
            .room
            .plumbing(ComponentId::SAFE_AAD)
            .is_some_and(crate::franking::lists_frank_aad);
        listed
            && self
                .room
                .plumbing(ComponentId::FRANKING_SIGNATURE_KEY)
                .and_then(crate::franking::agent_signature_key)
                .is_some_and(|k| k == key)
    }

    /// The hub's state as a record (openmls public-group state, retained GroupInfo, cached
    /// proposals), to save atomically with the rest of a request's effects.
    pub fn to_record(&self) -> Result<Vec<u8>, MlsError> {
        let mut w = Writer::default();
        w.header(RECORD_TAG);
        w.bytes(self.group.group_id().as_slice());
        match &self.group_info {
            Some(g) => {
                w.u8(1);
                w.bytes(g);
            }
            None => w.u8(0),
        }
        w.u64(self.cached.len() as u64);
        for (k, c) in &self.cached {
            w.bytes(k);
            w.bytes(&c.message);
            w.u64(c.accepted_at);
        }
        write_storage(&mut w, self.provider.storage())?;
        Ok(w.finish_sealed())
    }

    /// Restores the hub's state from [`HubGroup::to_record`].
    pub fn from_record(record: &[u8], trust: TrustStore) -> Result<Self, MlsError> {
        let mut r = Reader::new(open_sealed(record)?);
        let format = r.header(RECORD_TAG)?;
        let group_id = openmls::prelude::GroupId::from_slice(r.bytes()?);
        let group_info = match r.u8()? {
            0 => None,
            1 => Some(r.bytes()?.to_vec()),
            t => return Err(MlsError::Record(format!("bad GroupInfo flag {t}"))),
        };
        let n = r.u64()?;
        let mut entries = Vec::new();
        for _ in 0..n {
            let k = r.bytes()?.to_vec();
            let m = r.bytes()?.to_vec();
            let t = r.u64()?;
            entries.push((k, m, t));
        }
        let provider = StoreProvider::default();
        read_storage(&mut r, provider.storage(), format)?;
        r.end()?;
        let group = PublicGroup::load(provider.storage(), &group_id)
            .map_err(MlsError::mls)?
            .ok_or_else(|| MlsError::Record("the record holds no state for its group".into()))?;
        let queued: BTreeMap<Vec<u8>, QueuedProposal> = group
            .queued_proposals(provider.storage())
            .map_err(MlsError::mls)?
            .into_iter()
            .map(|(r, q)| (r.as_slice().to_vec(), q))
            .collect();
        let mut cached = BTreeMap::new();
        for (k, message, accepted_at) in entries {
            let q = queued.get(&k).cloned().ok_or_else(|| {
                MlsError::Record(format!("cached proposal {} missing from state", hex_of(&k)))
            })?;
            cached.insert(
                k,
                Cached {
                    queued: q,
                    message,
                    accepted_at,
                },
            );
        }
        let room = load_room(&group)?;
        Ok(Self {
            group,
            provider,
            group_info,
            cached,
            trust,
            room,
        })
    }
}

/// The members of a public group, from their leaves' credentials.
fn members_of(group: &PublicGroup) -> Vec<MemberChange> {
    let mut v: Vec<MemberChange> = group
        .members()
        .filter_map(|m| member_of_credential(&m.credential).ok())
        .collect();
    v.sort();
    v
}

/// The room state carried by a public group: its components and its membership.
fn load_room(group: &PublicGroup) -> Result<RoomState, MlsError> {
    Ok(
        RoomState::from_components(components_of(group.group_context().extensions()))?
            .with_members(members_of(group))?,
    )
}

/// The summary as the hub authorizes it: with its own clock for join codes' expiry (the
/// summary it hands back stays the committer's).
fn at_hub_clock(summary: &CommitSummary, now: u64) -> CommitSummary {
    let mut at = summary.clone();
    at.now_s = Some(now);
    at
}
