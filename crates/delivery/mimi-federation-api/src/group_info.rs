//! `POST /groupInfo/{roomId}` (draft-ietf-mimi-protocol-06 §5.6, digest §3.6).
//!
//! **Sent by** a follower **to** the hub so that a client can join by external commit.
//! **Request** [`GroupInfoRequest`], signed over [`GroupInfoRequestTbs`]; **response**
//! [`GroupInfoResponse`] with HTTP 200, signed by the hub over [`GroupInfoResponseTbs`], whose
//! payload is a [`GroupInfoRatchetTreeTbe`] HPKE-encrypted to the request's
//! `groupInfoPublicKey`. Metadata: [`crate::http::GROUP_INFO`]. Readings D9, D10, D11, D18 in
//! [`crate::defects`].

/// This endpoint's HTTP metadata (method, path, roles, statuses).
pub use crate::http::GROUP_INFO as ENDPOINT;

use mimi_types::codepoints::Ciphersuite;

use crate::codec::{Decode, Encode, Reader, Writer, closed_enum, tls_codec_bridge};
use crate::common::{IdentifierUri, Protocol};
use crate::defects::JOINING_CODE_IS_OPTIONAL;
use crate::error::{DecodeError, EncodeError};
use crate::limits::{MAX_JOINING_CODE_LEN, MAX_MLS_OBJECT_LEN, MAX_PROPOSALS};
use crate::mls::{
    Credential, ExternalSender, GroupInfo, HpkeCiphertext, HpkePublicKey, MlsMessage, Signature,
    SignaturePublicKey,
};
use crate::ratchet_tree::RatchetTreeOption;

/// The `SignWithLabel` label of [`GroupInfoRequestTbs`].
pub const GROUP_INFO_REQUEST_LABEL: &str = "GroupInfoRequestTBS";
/// The `SignWithLabel` label of [`GroupInfoResponseTbs`].
pub const GROUP_INFO_RESPONSE_LABEL: &str = "GroupInfoResponseTBS";
/// The `EncryptWithLabel` label of [`GroupInfoRatchetTreeTbe`] (context: the room ID).
pub const GROUP_INFO_ENCRYPTION_LABEL: &str = "GroupInfo and ratchet_tree encryption";

fn encode_joining_code(code: Option<&Vec<u8>>, w: &mut Writer) -> Result<(), EncodeError> {
    let put = |w: &mut Writer, code: &Vec<u8>| w.opaque("joiningCode", MAX_JOINING_CODE_LEN, code);
    if JOINING_CODE_IS_OPTIONAL {
        w.optional(code, put)
    } else {
        put(w, code.unwrap_or(&Vec::new()))
    }
}

fn decode_joining_code(r: &mut Reader<'_>) -> Result<Option<Vec<u8>>, DecodeError> {
    let get = |r: &mut Reader<'_>| Ok(r.opaque("joiningCode", MAX_JOINING_CODE_LEN)?.to_vec());
    if JOINING_CODE_IS_OPTIONAL {
        r.optional("joiningCode", get)
    } else {
        let code = get(r)?;
        Ok((!code.is_empty()).then_some(code))
    }
}

/// `GroupInfoRequestTBS`: the request without its signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct GroupInfoRequestTbs {
    /// `protocol`.
    pub protocol: Protocol,
    /// A suite the hub supports; governs the signatures and HPKE of this exchange.
    pub cipher_suite: Ciphersuite,
    /// The joining client's signature key.
    pub requesting_signature_key: SignaturePublicKey,
    /// The joining client's (possibly pseudonymous) credential.
    pub requesting_credential: Credential,
    /// The key the hub encrypts the GroupInfo and tree to.
    pub group_info_public_key: HpkePublicKey,
    /// An optional joining code.
    pub joining_code: Option<Vec<u8>>,
}

impl GroupInfoRequestTbs {
    /// An mls10 TBS.
    pub fn new(
        cipher_suite: Ciphersuite,
        requesting_signature_key: SignaturePublicKey,
        requesting_credential: Credential,
        group_info_public_key: HpkePublicKey,
        joining_code: Option<Vec<u8>>,
    ) -> Self {
        Self {
            protocol: Protocol::Mls10,
            cipher_suite,
            requesting_signature_key,
            requesting_credential,
            group_info_public_key,
            joining_code,
        }
    }

    /// The signed request.
    pub fn sign(self, signature: Signature) -> GroupInfoRequest {
        GroupInfoRequest {
            tbs: self,
            signature,
        }
    }
}

impl Encode for GroupInfoRequestTbs {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.protocol.encode_into(w)?;
        match self.protocol {
            Protocol::Mls10 => {
                w.u16(self.cipher_suite.value());
                self.requesting_signature_key.encode_into(w)?;
                self.requesting_credential.encode_into(w)?;
                self.group_info_public_key.encode_into(w)?;
                encode_joining_code(self.joining_code.as_ref(), w)
            }
        }
    }
}

impl Decode for GroupInfoRequestTbs {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let protocol = Protocol::decode_from(r)?;
        match protocol {
            Protocol::Mls10 => Ok(Self {
                protocol,
                cipher_suite: Ciphersuite::new(r.u16("cipher_suite")?),
                requesting_signature_key: SignaturePublicKey::decode_from(r)?,
                requesting_credential: Credential::decode_from(r)?,
                group_info_public_key: HpkePublicKey::decode_from(r)?,
                joining_code: decode_joining_code(r)?,
            }),
        }
    }
}

/// `GroupInfoRequest`: the TBS fields followed by the signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct GroupInfoRequest {
    /// Every field but the signature, in wire order.
    pub tbs: GroupInfoRequestTbs,
    /// `SignWithLabel(requestingSignatureKey, "GroupInfoRequestTBS", tbs)`.
    pub signature: Signature,
}

impl GroupInfoRequest {
    /// A signed request.
    pub fn new(tbs: GroupInfoRequestTbs, signature: Signature) -> Self {
        tbs.sign(signature)
    }
}

impl Encode for GroupInfoRequest {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.tbs.encode_into(w)?;
        self.signature.encode_into(w)
    }
}

impl Decode for GroupInfoRequest {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            tbs: GroupInfoRequestTbs::decode_from(r)?,
            signature: Signature::decode_from(r)?,
        })
    }
}

closed_enum! {
    /// `GroupInfoCode`.
    GroupInfoCode, "GroupInfoCode", reserved [0] {
        /// `success(1)`
        Success = 1 => "success",
        /// `notAuthorized(2)` (also used to hide a room's existence).
        NotAuthorized = 2 => "notAuthorized",
        /// `noSuchRoom(3)`
        NoSuchRoom = 3 => "noSuchRoom",
    }
}

/// The hub-signed part of a successful answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct GroupInfoSuccess {
    /// The suite of the request.
    pub cipher_suite: Ciphersuite,
    /// The hub's entry in the group's `external_senders`.
    pub hub_sender: ExternalSender,
    /// `EncryptWithLabel(groupInfoPublicKey, GROUP_INFO_ENCRYPTION_LABEL, room_id, tbe)`.
    pub encrypted_groupinfo_and_tree: HpkeCiphertext,
    /// `SignWithLabel(hub_sender.signature_key, "GroupInfoResponseTBS", …)`.
    pub signature: Signature,
}

impl GroupInfoSuccess {
    /// A successful answer.
    pub fn new(
        cipher_suite: Ciphersuite,
        hub_sender: ExternalSender,
        encrypted_groupinfo_and_tree: HpkeCiphertext,
        signature: Signature,
    ) -> Self {
        Self {
            cipher_suite,
            hub_sender,
            encrypted_groupinfo_and_tree,
            signature,
        }
    }
}

/// The hub's answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GroupInfoOutcome {
    /// `success` with the encrypted GroupInfo.
    Success(GroupInfoSuccess),
    /// `notAuthorized`.
    NotAuthorized,
    /// `noSuchRoom`.
    NoSuchRoom,
}

impl GroupInfoOutcome {
    /// The status code.
    pub fn code(&self) -> GroupInfoCode {
        match self {
            Self::Success(_) => GroupInfoCode::Success,
            Self::NotAuthorized => GroupInfoCode::NotAuthorized,
            Self::NoSuchRoom => GroupInfoCode::NoSuchRoom,
        }
    }
}

/// `GroupInfoResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct GroupInfoResponse {
    /// The field the draft names `version` (reading D10).
    pub protocol: Protocol,
    /// The room (`opaque room_id<V>`, reading D11).
    pub room_id: IdentifierUri,
    /// The outcome.
    pub outcome: GroupInfoOutcome,
}

impl GroupInfoResponse {
    /// An mls10 response.
    pub fn new(room_id: IdentifierUri, outcome: GroupInfoOutcome) -> Self {
        Self {
            protocol: Protocol::Mls10,
            room_id,
            outcome,
        }
    }

    /// What the hub signed, for a successful answer.
    pub fn tbs(&self) -> Option<GroupInfoResponseTbs> {
        match &self.outcome {
            GroupInfoOutcome::Success(success) => Some(GroupInfoResponseTbs {
                protocol: self.protocol,
                room_id: self.room_id.clone(),
                status: GroupInfoCode::Success,
                cipher_suite: success.cipher_suite,
                hub_sender: success.hub_sender.clone(),
                encrypted_groupinfo_and_tree: success.encrypted_groupinfo_and_tree.clone(),
            }),
            _ => None,
        }
    }
}

impl Encode for GroupInfoResponse {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.protocol.encode_into(w)?;
        self.room_id.encode_into(w)?;
        self.outcome.code().encode_into(w)?;
        match (&self.outcome, self.protocol) {
            (GroupInfoOutcome::Success(success), Protocol::Mls10) => {
                w.u16(success.cipher_suite.value());
                success.hub_sender.encode_into(w)?;
                success.encrypted_groupinfo_and_tree.encode_into(w)?;
                success.signature.encode_into(w)
            }
            _ => Ok(()),
        }
    }
}

impl Decode for GroupInfoResponse {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let protocol = Protocol::decode_from(r)?;
        let room_id = IdentifierUri::decode_from(r)?;
        let outcome = match (GroupInfoCode::decode_from(r)?, protocol) {
            (GroupInfoCode::Success, Protocol::Mls10) => {
                GroupInfoOutcome::Success(GroupInfoSuccess {
                    cipher_suite: Ciphersuite::new(r.u16("cipher_suite")?),
                    hub_sender: ExternalSender::decode_from(r)?,
                    encrypted_groupinfo_and_tree: HpkeCiphertext::decode_from(r)?,
                    signature: Signature::decode_from(r)?,
                })
            }
            (GroupInfoCode::NotAuthorized, _) => GroupInfoOutcome::NotAuthorized,
            (GroupInfoCode::NoSuchRoom, _) => GroupInfoOutcome::NoSuchRoom,
        };
        Ok(Self {
            protocol,
            room_id,
            outcome,
        })
    }
}

/// `GroupInfoResponseTBS`: what the hub signs in a successful answer.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct GroupInfoResponseTbs {
    /// `version` (the protocol, reading D10).
    pub protocol: Protocol,
    /// The room.
    pub room_id: IdentifierUri,
    /// The status (success when signed by [`GroupInfoResponse::tbs`]).
    pub status: GroupInfoCode,
    /// The suite.
    pub cipher_suite: Ciphersuite,
    /// The hub's external sender entry.
    pub hub_sender: ExternalSender,
    /// The encrypted GroupInfo and tree.
    pub encrypted_groupinfo_and_tree: HpkeCiphertext,
}

impl Encode for GroupInfoResponseTbs {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.protocol.encode_into(w)?;
        self.room_id.encode_into(w)?;
        self.status.encode_into(w)?;
        match self.protocol {
            Protocol::Mls10 => {
                w.u16(self.cipher_suite.value());
                self.hub_sender.encode_into(w)?;
                self.encrypted_groupinfo_and_tree.encode_into(w)
            }
        }
    }
}

impl Decode for GroupInfoResponseTbs {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let protocol = Protocol::decode_from(r)?;
        let room_id = IdentifierUri::decode_from(r)?;
        let status = GroupInfoCode::decode_from(r)?;
        match protocol {
            Protocol::Mls10 => Ok(Self {
                protocol,
                room_id,
                status,
                cipher_suite: Ciphersuite::new(r.u16("cipher_suite")?),
                hub_sender: ExternalSender::decode_from(r)?,
                encrypted_groupinfo_and_tree: HpkeCiphertext::decode_from(r)?,
            }),
        }
    }
}

/// `PendingProposal`: a proposal the hub accepted in the current epoch.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PendingProposal {
    /// The proposal (an MLSMessage).
    pub proposal: MlsMessage,
    /// When the hub accepted it, milliseconds since the UNIX epoch.
    pub hub_accepted_time: u64,
}

impl PendingProposal {
    /// A pending proposal.
    pub fn new(proposal: MlsMessage, hub_accepted_time: u64) -> Self {
        Self {
            proposal,
            hub_accepted_time,
        }
    }
}

impl Encode for PendingProposal {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.proposal.encode_into(w)?;
        w.u64(self.hub_accepted_time);
        Ok(())
    }
}

impl Decode for PendingProposal {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            proposal: MlsMessage::decode_from(r)?,
            hub_accepted_time: r.u64("hub_accepted_time")?,
        })
    }
}

/// `GroupInfoRatchetTreeTBE`: the plaintext the hub encrypts to the joiner.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct GroupInfoRatchetTreeTbe {
    /// The GroupInfo, without an embedded ratchet_tree.
    pub group_info: GroupInfo,
    /// How to get the tree.
    pub ratchet_tree_option: RatchetTreeOption,
    /// Valid proposals the hub accepted in the current epoch.
    pub pending_proposals: Vec<PendingProposal>,
}

impl GroupInfoRatchetTreeTbe {
    /// A TBE.
    pub fn new(
        group_info: GroupInfo,
        ratchet_tree_option: RatchetTreeOption,
        pending_proposals: Vec<PendingProposal>,
    ) -> Self {
        Self {
            group_info,
            ratchet_tree_option,
            pending_proposals,
        }
    }
}

impl Encode for GroupInfoRatchetTreeTbe {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.group_info.encode_into(w)?;
        self.ratchet_tree_option.encode_into(w)?;
        w.list(
            "pending_proposals",
            MAX_MLS_OBJECT_LEN,
            MAX_PROPOSALS,
            &self.pending_proposals,
            |w, p| p.encode_into(w),
        )
    }
}

impl Decode for GroupInfoRatchetTreeTbe {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            group_info: GroupInfo::decode_from(r)?,
            ratchet_tree_option: RatchetTreeOption::decode_from(r)?,
            pending_proposals: r.list(
                "pending_proposals",
                MAX_MLS_OBJECT_LEN,
                MAX_PROPOSALS,
                PendingProposal::decode_from,
            )?,
        })
    }
}

tls_codec_bridge!(
    GroupInfoRequestTbs,
    GroupInfoRequest,
    GroupInfoCode,
    GroupInfoResponse,
    GroupInfoResponseTbs,
    PendingProposal,
    GroupInfoRatchetTreeTbe
);
