//! Processing incoming messages on a client: decrypt application messages; verify, validate
//! and authorize proposals and commits before queueing or merging them.

use std::collections::{BTreeMap, BTreeSet};

use openmls::prelude::{
    LeafNodeIndex, OpenMlsProvider as _, ProcessedMessageContent, Proposal, ProtocolMessage, Sender,
};

use mimi_types::codepoints::ComponentId;

use super::{ClientGroup, Incoming, ReceivedMessage, parse_message};
use crate::error::MlsError;
use crate::inspect::{
    CONTENT_COMMIT, GroupView, app_data_updates, components_of, member_of_credential,
    raw_handshake, validate_leaf, validate_staged,
};
use crate::summary::{CommitSummary, authorize_commit, authorize_proposal};

impl ClientGroup {
    /// Processes an incoming message: application messages are decrypted; proposals and
    /// commits are verified, their credentials validated and the room policy consulted before
    /// they are queued or merged. On error nothing changes.
    pub fn process(&mut self, message: &[u8], now: u64) -> Result<Incoming, MlsError> {
        if let Some(proposal) = crate::external_proposal::read_app_ephemeral(message)? {
            return self.external_app_ephemeral(&proposal);
        }
        let msg = parse_message(message)?;
        let protocol = msg
            .try_into_protocol_message()
            .map_err(|e| MlsError::Unexpected(e.to_string()))?;
        if protocol.group_id() != self.group.group_id() {
            return Err(MlsError::WrongGroup {
                expected: String::from_utf8_lossy(self.group.group_id().as_slice()).into_owned(),
                got: String::from_utf8_lossy(protocol.group_id().as_slice()).into_owned(),
            });
        }
        let is_public = protocol.is_handshake_message();
        let raw = if is_public {
            Some(raw_handshake(message)?)
        } else {
            None
        };
        let committer_before = match &protocol {
            ProtocolMessage::PublicMessage(p) => match p.sender() {
                Sender::Member(i) => self.group.public_group().leaf(*i).map(|l| {
                    (
                        l.credential().clone(),
                        l.signature_key().as_slice().to_vec(),
                    )
                }),
                _ => None,
            },
            ProtocolMessage::PrivateMessage(_) => None,
        };
        let processed = self
            .group
            .process_message(&self.provider, protocol)
            .map_err(MlsError::mls)?;
        let epoch = processed.epoch().as_u64();
        if let ProcessedMessageContent::ApplicationMessage(_) = processed.content() {
            let safe_aad = safe_aad_of(&processed);
            let key = processed.credential().serialized_content();
            let sender_member = match self.idents.get(key) {
                Some(m) => m.clone(),
                None => {
                    let m = member_of_credential(processed.credential())?;
                    self.idents.insert(key.to_vec(), m.clone());
                    m
                }
            };
            self.room.may_send(&sender_member.user)?;
            let ProcessedMessageContent::ApplicationMessage(app) = processed.into_content() else {
                return Err(MlsError::Internal("application message vanished".into()));
            };
            return Ok(Incoming::Application(ReceivedMessage {
                sender: sender_member,
                data: app.into_bytes(),
                safe_aad,
                epoch,
            }));
        }
        let cached = self.cached();
        let sender = processed.sender().clone();
        let credential = processed.credential().clone();
        let group = &self.group;
        let leaf = |i: LeafNodeIndex| group.public_group().leaf(i);
        let view = GroupView {
            leaf: &leaf,
            cached: &cached,
        };
        let actor = view.actor(&sender, &credential)?;
        match processed.into_content() {
            ProcessedMessageContent::ProposalMessage(q)
            | ProcessedMessageContent::ExternalJoinProposalMessage(q) => {
                let summary = view.summarize_proposal(actor, &q)?;
                authorize_proposal(&self.room, &summary)?;
                if let Proposal::Add(a) = q.proposal() {
                    validate_leaf(a.key_package().leaf_node(), &self.trust, now, "client")?;
                }
                self.group
                    .store_pending_proposal(self.provider.storage(), *q)
                    .map_err(MlsError::mls)?;
                Ok(Incoming::Proposal(summary))
            }
            ProcessedMessageContent::StagedCommitMessage(staged) => {
                let raw = raw
                    .ok_or_else(|| MlsError::Unexpected("commit not in a PublicMessage".into()))?;
                if raw.content_type != CONTENT_COMMIT {
                    return Err(MlsError::Unexpected("not a commit".into()));
                }
                let (summary, _) = view.summarize_commit(actor, &credential, &sender, &raw)?;
                let staged_room = authorize_commit(&self.room, &summary)?;
                check_room(&staged, &summary, &staged_room)?;
                validate_staged(&staged, committer_before.as_ref(), &self.trust, now)?;
                let removed_me = staged.self_removed();
                self.group
                    .merge_staged_commit(&self.provider, *staged)
                    .map_err(MlsError::mls)?;
                self.room = staged_room.into_state();
                Ok(Incoming::Commit {
                    summary,
                    epoch: self.epoch(),
                    removed_me,
                })
            }
            ProcessedMessageContent::UnresolvedAppDataCommit(u) => {
                let raw = raw
                    .ok_or_else(|| MlsError::Unexpected("commit not in a PublicMessage".into()))?;
                let (summary, _) = view.summarize_commit(actor, &credential, &sender, &raw)?;
                let staged_room = authorize_commit(&self.room, &summary)?;
                let new = staged_room.state().components();
                let touched: BTreeSet<ComponentId> = summary
                    .component_changes
                    .iter()
                    .map(|c| c.component)
                    .collect();
                let updates = app_data_updates(group.app_data_dictionary_updater(), &touched, &new);
                let staged = self
                    .group
                    .stage_app_data_commit(&self.provider, *u, updates)
                    .map_err(MlsError::mls)?;
                check_room(&staged, &summary, &staged_room)?;
                validate_staged(&staged, committer_before.as_ref(), &self.trust, now)?;
                let removed_me = staged.self_removed();
                self.group
                    .merge_staged_commit(&self.provider, staged)
                    .map_err(MlsError::mls)?;
                self.room = staged_room.into_state();
                Ok(Incoming::Commit {
                    summary,
                    epoch: self.epoch(),
                    removed_me,
                })
            }
            _ => Err(MlsError::Unexpected("unsupported message content".into())),
        }
    }
}

/// The Safe AAD items of a processed message, by component.
impl ClientGroup {
    /// An external sender's AppEphemeral proposal (hub-retracted-messages-00): openmls 0.9.2
    /// refuses every external proposal but Add, Remove and GroupContextExtensions, and would
    /// need the proposal type in every member's capabilities to commit one, so this verifies it
    /// itself, as RFC 9420 §6.2 asks of any external proposal: this group, this epoch, a sender
    /// index into the GroupContext's `external_senders`, and that sender's signature over
    /// `FramedContentTBS` (no GroupContext for an external sender). It is not queued: the
    /// caller authorizes it against the room (`mimi_room::authorize_hub_retraction`) and
    /// applies it on receipt (our reading, `mimi-federation-api`'s defects).
    fn external_app_ephemeral(
        &self,
        proposal: &crate::external_proposal::ExternalAppEphemeral,
    ) -> Result<Incoming, MlsError> {
        if proposal.group_id != self.group.group_id().as_slice() {
            return Err(MlsError::WrongGroup {
                expected: String::from_utf8_lossy(self.group.group_id().as_slice()).into_owned(),
                got: String::from_utf8_lossy(&proposal.group_id).into_owned(),
            });
        }
        let epoch = self.group.epoch().as_u64();
        if proposal.epoch != epoch {
            return Err(MlsError::Unexpected(format!(
                "an external AppEphemeral proposal of epoch {} arrived in epoch {epoch}",
                proposal.epoch
            )));
        }
        let sender = usize::try_from(proposal.sender_index)
            .ok()
            .and_then(|i| {
                self.group
                    .extensions()
                    .external_senders()
                    .and_then(|s| s.get(i).cloned())
            })
            .ok_or_else(|| {
                MlsError::Unexpected(format!(
                    "an external AppEphemeral proposal names external sender {}, which the \
                     group does not have",
                    proposal.sender_index
                ))
            })?;
        // openmls keeps an external sender's fields to itself: read them from its encoding
        // (`SignaturePublicKey signature_key; Credential credential;`).
        let encoded =
            tls_codec::Serialize::tls_serialize_detached(&sender).map_err(MlsError::mls)?;
        let mut rest = encoded.as_slice();
        let key = <tls_codec::VLBytes as tls_codec::Deserialize>::tls_deserialize(&mut rest)
            .map_err(MlsError::mls)?;
        let credential =
            <openmls::prelude::Credential as tls_codec::DeserializeBytes>::tls_deserialize_exact_bytes(
                rest,
            )
            .map_err(MlsError::mls)?;
        proposal.verify(key.as_slice())?;
        let actor =
            match crate::credential::claimed_identity(&crate::identity::x509_of(&credential)?)? {
                crate::VerifiedIdentity::Server(d) => crate::summary::Actor::Server(d),
                crate::VerifiedIdentity::Client { .. } => {
                    return Err(crate::CredentialError::WrongKind { expected: "server" }.into());
                }
            };
        Ok(Incoming::AppEphemeral {
            actor,
            component: ComponentId::new(proposal.component_id),
            data: proposal.data.clone(),
        })
    }
}

pub(super) fn safe_aad_of(
    processed: &openmls::prelude::ProcessedMessage,
) -> BTreeMap<ComponentId, Vec<u8>> {
    processed
        .safe_aad()
        .map(|s| {
            s.items()
                .iter()
                .map(|i| (ComponentId::new(i.component_id()), i.data().to_vec()))
                .collect()
        })
        .unwrap_or_default()
}

/// The staged GroupContext must carry exactly the room components the policy computed. A
/// commit without AppDataUpdate proposals cannot change them (GroupContextExtensions
/// proposals are refused), so only commits with component changes are compared.
pub(crate) fn check_room(
    staged: &openmls::group::StagedCommit,
    summary: &CommitSummary,
    room: &mimi_room::StagedRoomState,
) -> Result<(), MlsError> {
    if summary.component_changes.is_empty() {
        return Ok(());
    }
    check_components(staged, &room.state().components())
}

/// The staged GroupContext must carry exactly `expected`, the room components the policy
/// computed (already encoded by the caller: [`check_room`] without encoding them again).
pub(crate) fn check_components(
    staged: &openmls::group::StagedCommit,
    expected: &crate::summary::Components,
) -> Result<(), MlsError> {
    if components_of(staged.group_context().extensions()) == *expected {
        Ok(())
    } else {
        Err(MlsError::RoomStateMismatch)
    }
}
