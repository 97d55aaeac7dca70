//! `POST /update/{roomId}` (draft-ietf-mimi-protocol-06 §5.3, digest §3.3).
//!
//! **Sent by** a follower **to** the hub for every room-state or MLS change: a commit (with its
//! Welcome, GroupInfo and tree) or one or more proposals. **Request** [`UpdateRequest`]
//! ([`HandshakeBundle`]); **response** [`UpdateRoomResponse`] with HTTP 200. `success` commits
//! the hub to fan the handshake out. Metadata: [`crate::http::UPDATE`]. Readings D1, D2, D3, D19
//! in [`crate::defects`].

/// This endpoint's HTTP metadata (method, path, roles, statuses).
pub use crate::http::UPDATE as ENDPOINT;

use crate::codec::{Decode, Encode, Reader, Writer, closed_enum, tls_codec_bridge};
use crate::common::Protocol;
use crate::defects::UPDATE_REQUEST_HAS_PROTOCOL;
use crate::error::{DecodeError, EncodeError};
use crate::limits::{MAX_MLS_OBJECT_LEN, MAX_PROPOSAL_REFS, MAX_PROPOSALS, MAX_TEXT_LEN};
use crate::mls::{ContentType, MlsMessage, ProposalRef, Welcome};
use crate::ratchet_tree::{GroupInfoOption, RatchetTreeOption};

const PUBLIC_COMMIT: &str = "a PublicMessage carrying a commit";
const PUBLIC_PROPOSAL: &str = "a PublicMessage carrying a proposal";

/// A commit and what the hub needs to serve and route it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CommitBundle {
    /// The commit: a PublicMessage with content type commit.
    pub commit: MlsMessage,
    /// The Welcome for added members (without the tree).
    pub welcome: Option<Welcome>,
    /// The new epoch's GroupInfo.
    pub group_info_option: GroupInfoOption,
    /// The new epoch's ratchet tree.
    pub ratchet_tree_option: RatchetTreeOption,
}

impl CommitBundle {
    /// A commit bundle; refuses anything but a PublicMessage commit.
    pub fn new(
        commit: MlsMessage,
        welcome: Option<Welcome>,
        group_info_option: GroupInfoOption,
        ratchet_tree_option: RatchetTreeOption,
    ) -> Result<Self, DecodeError> {
        commit.expect_public("proposalOrCommit", PUBLIC_COMMIT, &[ContentType::Commit])?;
        Ok(Self {
            commit,
            welcome,
            group_info_option,
            ratchet_tree_option,
        })
    }
}

/// One or more proposals.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ProposalBundle {
    /// The first proposal: a PublicMessage with content type proposal.
    pub proposal: MlsMessage,
    /// Further proposals, each a PublicMessage proposal.
    pub more_proposals: Vec<MlsMessage>,
}

impl ProposalBundle {
    /// A proposal bundle; refuses anything but PublicMessage proposals.
    pub fn new(proposal: MlsMessage, more_proposals: Vec<MlsMessage>) -> Result<Self, DecodeError> {
        proposal.expect_public(
            "proposalOrCommit",
            PUBLIC_PROPOSAL,
            &[ContentType::Proposal],
        )?;
        check_proposals("moreProposals", &more_proposals)?;
        Ok(Self {
            proposal,
            more_proposals,
        })
    }
}

/// Refuses any element that is not a PublicMessage proposal.
pub(crate) fn check_proposals(
    what: &'static str,
    proposals: &[MlsMessage],
) -> Result<(), DecodeError> {
    proposals
        .iter()
        .try_for_each(|p| p.expect_public(what, PUBLIC_PROPOSAL, &[ContentType::Proposal]))
}

/// Decodes `MLSMessage x<V>` of PublicMessage proposals.
pub(crate) fn decode_proposals(
    what: &'static str,
    r: &mut Reader<'_>,
) -> Result<Vec<MlsMessage>, DecodeError> {
    let proposals = r.list(
        what,
        MAX_MLS_OBJECT_LEN,
        MAX_PROPOSALS,
        MlsMessage::decode_from,
    )?;
    check_proposals(what, &proposals)?;
    Ok(proposals)
}

/// Encodes `MLSMessage x<V>`.
pub(crate) fn encode_proposals(
    what: &'static str,
    proposals: &[MlsMessage],
    w: &mut Writer,
) -> Result<(), EncodeError> {
    if check_proposals(what, proposals).is_err() {
        return Err(EncodeError::Invalid {
            what,
            rule: "every element must be a PublicMessage carrying a proposal",
        });
    }
    w.list(
        what,
        MAX_MLS_OBJECT_LEN,
        MAX_PROPOSALS,
        proposals,
        |w, p| p.encode_into(w),
    )
}

/// `HandshakeBundle`: the handshake, shaped by its content type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HandshakeBundle {
    /// A commit.
    Commit(CommitBundle),
    /// Proposals.
    Proposals(ProposalBundle),
}

impl Encode for HandshakeBundle {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        match self {
            Self::Commit(bundle) => {
                if !bundle.commit.is_public(&[ContentType::Commit]) {
                    return Err(EncodeError::Invalid {
                        what: "HandshakeBundle",
                        rule: "the commit must be a PublicMessage carrying a commit",
                    });
                }
                bundle.commit.encode_into(w)?;
                w.optional(bundle.welcome.as_ref(), |w, welcome| welcome.encode_into(w))?;
                bundle.group_info_option.encode_into(w)?;
                bundle.ratchet_tree_option.encode_into(w)
            }
            Self::Proposals(bundle) => {
                if !bundle.proposal.is_public(&[ContentType::Proposal]) {
                    return Err(EncodeError::Invalid {
                        what: "HandshakeBundle",
                        rule: "the proposal must be a PublicMessage carrying a proposal",
                    });
                }
                bundle.proposal.encode_into(w)?;
                encode_proposals("moreProposals", &bundle.more_proposals, w)
            }
        }
    }
}

impl Decode for HandshakeBundle {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let message = MlsMessage::decode_from(r)?;
        if message.is_public(&[ContentType::Commit]) {
            Ok(Self::Commit(CommitBundle {
                commit: message,
                welcome: r.optional("welcome", Welcome::decode_from)?,
                group_info_option: GroupInfoOption::decode_from(r)?,
                ratchet_tree_option: RatchetTreeOption::decode_from(r)?,
            }))
        } else if message.is_public(&[ContentType::Proposal]) {
            Ok(Self::Proposals(ProposalBundle {
                proposal: message,
                more_proposals: decode_proposals("moreProposals", r)?,
            }))
        } else {
            Err(DecodeError::WrongMlsMessage {
                what: "proposalOrCommit",
                expected: "a PublicMessage carrying a proposal or a commit",
                found: message.kind(),
            })
        }
    }
}

/// `UpdateRequest`: a [`HandshakeBundle`] for an mls10 room (no protocol byte: reading D2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct UpdateRequest {
    /// The handshake.
    pub bundle: HandshakeBundle,
}

impl UpdateRequest {
    /// A request.
    pub fn new(bundle: HandshakeBundle) -> Self {
        Self { bundle }
    }
}

impl Encode for UpdateRequest {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        if UPDATE_REQUEST_HAS_PROTOCOL {
            Protocol::Mls10.encode_into(w)?;
        }
        self.bundle.encode_into(w)
    }
}

impl Decode for UpdateRequest {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        if UPDATE_REQUEST_HAS_PROTOCOL {
            Protocol::decode_from(r)?;
        }
        Ok(Self {
            bundle: HandshakeBundle::decode_from(r)?,
        })
    }
}

closed_enum! {
    /// `UpdateResponseCode`.
    UpdateResponseCode, "UpdateResponseCode", reserved [] {
        /// `success(0)`
        Success = 0 => "success",
        /// `wrongEpoch(1)`
        WrongEpoch = 1 => "wrongEpoch",
        /// `notAllowed(2)`
        NotAllowed = 2 => "notAllowed",
        /// `invalidProposal(3)`
        InvalidProposal = 3 => "invalidProposal",
    }
}

/// The hub's answer with its data (the `select (responseCode)`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UpdateOutcome {
    /// Accepted; will be fanned out.
    Success {
        /// Hub acceptance time, milliseconds since the UNIX epoch.
        accepted_timestamp: u64,
    },
    /// The hub is in another epoch.
    WrongEpoch {
        /// The group's current epoch.
        current_epoch: u64,
    },
    /// Refused by policy or authorization.
    NotAllowed,
    /// Some proposals are invalid.
    InvalidProposal {
        /// The offending proposals.
        invalid_proposals: Vec<ProposalRef>,
    },
}

impl UpdateOutcome {
    /// The response code.
    pub fn code(&self) -> UpdateResponseCode {
        match self {
            Self::Success { .. } => UpdateResponseCode::Success,
            Self::WrongEpoch { .. } => UpdateResponseCode::WrongEpoch,
            Self::NotAllowed => UpdateResponseCode::NotAllowed,
            Self::InvalidProposal { .. } => UpdateResponseCode::InvalidProposal,
        }
    }
}

/// `UpdateRoomResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct UpdateRoomResponse {
    /// A human-readable description (UTF-8, reading D3); may be empty.
    pub error_description: String,
    /// The outcome.
    pub outcome: UpdateOutcome,
}

impl UpdateRoomResponse {
    /// A response.
    pub fn new(outcome: UpdateOutcome, error_description: impl Into<String>) -> Self {
        Self {
            error_description: error_description.into(),
            outcome,
        }
    }
}

impl Encode for UpdateRoomResponse {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.outcome.code().encode_into(w)?;
        w.opaque(
            "errorDescription",
            MAX_TEXT_LEN,
            self.error_description.as_bytes(),
        )?;
        match &self.outcome {
            UpdateOutcome::Success { accepted_timestamp } => w.u64(*accepted_timestamp),
            UpdateOutcome::WrongEpoch { current_epoch } => w.u64(*current_epoch),
            UpdateOutcome::NotAllowed => {}
            UpdateOutcome::InvalidProposal { invalid_proposals } => w.list(
                "invalidProposals",
                MAX_MLS_OBJECT_LEN,
                MAX_PROPOSAL_REFS,
                invalid_proposals,
                |w, p| p.encode_into(w),
            )?,
        }
        Ok(())
    }
}

impl Decode for UpdateRoomResponse {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let code = UpdateResponseCode::decode_from(r)?;
        let error_description = r.text("errorDescription", MAX_TEXT_LEN)?;
        let outcome = match code {
            UpdateResponseCode::Success => UpdateOutcome::Success {
                accepted_timestamp: r.u64("accepted_timestamp")?,
            },
            UpdateResponseCode::WrongEpoch => UpdateOutcome::WrongEpoch {
                current_epoch: r.u64("currentEpoch")?,
            },
            UpdateResponseCode::NotAllowed => UpdateOutcome::NotAllowed,
            UpdateResponseCode::InvalidProposal => UpdateOutcome::InvalidProposal {
                invalid_proposals: r.list(
                    "invalidProposals",
                    MAX_MLS_OBJECT_LEN,
                    MAX_PROPOSAL_REFS,
                    ProposalRef::decode_from,
                )?,
            },
        };
        Ok(Self {
            error_description,
            outcome,
        })
    }
}

tls_codec_bridge!(
    HandshakeBundle,
    UpdateRequest,
    UpdateResponseCode,
    UpdateRoomResponse
);
