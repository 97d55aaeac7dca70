//! How a ratchet tree and a GroupInfo travel (draft-mahy-mls-ratchet-tree-options-03, used by
//! protocol-06 §5.3, §5.5, §5.6): `RatchetTreeOption`, `GroupInfoOption`, `PartialGroupInfo`.

use crate::codec::{Decode, Encode, Reader, Writer, closed_enum, tls_codec_bridge};
use crate::error::{DecodeError, EncodeError};
use crate::limits::{MAX_EXTENSIONS, MAX_MLS_OBJECT_LEN, MAX_URL_LEN};
use crate::mls::{Extension, GroupInfo, RatchetTree, Signature};

closed_enum! {
    /// `RatchetTreeRepresentation`.
    RatchetTreeRepresentation, "RatchetTreeRepresentation", reserved [0] {
        /// `full(1)`
        Full = 1 => "full",
        /// `httpsUri(2)` (the select calls it `httpsUrl`: reading D14).
        HttpsUri = 2 => "httpsUri",
        /// `outOfBand(3)`
        OutOfBand = 3 => "outOfBand",
        /// `distributionService(4)`
        DistributionService = 4 => "distributionService",
    }
}

/// `RatchetTreeOption`: the tree itself, where to fetch it, or who rebuilds it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RatchetTreeOption {
    /// `full`: the whole tree (`Node ratchet_tree<V>`).
    Full(RatchetTree),
    /// `httpsUri`: an HTTPS URL to download it from, and the tree's signature.
    HttpsUri {
        /// The URL (UTF-8 text).
        url: String,
        /// `tree_signature`.
        tree_signature: Signature,
    },
    /// `outOfBand`: the tree is known otherwise; its signature.
    OutOfBand {
        /// `tree_signature`.
        tree_signature: Signature,
    },
    /// `distributionService`: the hub rebuilds the tree from the handshakes it saw.
    DistributionService,
}

impl RatchetTreeOption {
    /// The representation code.
    pub fn representation(&self) -> RatchetTreeRepresentation {
        match self {
            Self::Full(_) => RatchetTreeRepresentation::Full,
            Self::HttpsUri { .. } => RatchetTreeRepresentation::HttpsUri,
            Self::OutOfBand { .. } => RatchetTreeRepresentation::OutOfBand,
            Self::DistributionService => RatchetTreeRepresentation::DistributionService,
        }
    }
}

impl Encode for RatchetTreeOption {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.representation().encode_into(w)?;
        match self {
            Self::Full(tree) => tree.encode_into(w),
            Self::HttpsUri {
                url,
                tree_signature,
            } => {
                w.opaque("ratchet_tree_url", MAX_URL_LEN, url.as_bytes())?;
                tree_signature.encode_into(w)
            }
            Self::OutOfBand { tree_signature } => tree_signature.encode_into(w),
            Self::DistributionService => Ok(()),
        }
    }
}

impl Decode for RatchetTreeOption {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match RatchetTreeRepresentation::decode_from(r)? {
            RatchetTreeRepresentation::Full => Self::Full(RatchetTree::decode_from(r)?),
            RatchetTreeRepresentation::HttpsUri => Self::HttpsUri {
                url: r.text("ratchet_tree_url", MAX_URL_LEN)?,
                tree_signature: Signature::decode_from(r)?,
            },
            RatchetTreeRepresentation::OutOfBand => Self::OutOfBand {
                tree_signature: Signature::decode_from(r)?,
            },
            RatchetTreeRepresentation::DistributionService => Self::DistributionService,
        })
    }
}

closed_enum! {
    /// `RatchetTreePresence`: whether the ratchet_tree extension was in the previous and the
    /// current epoch's GroupInfo.
    RatchetTreePresence, "RatchetTreePresence", reserved [] {
        /// `no_ratchet_tree(0)`: in neither.
        NoRatchetTree = 0 => "no_ratchet_tree",
        /// `present(1)`: in both.
        Present = 1 => "present",
        /// `removed(2)`: in the previous only.
        Removed = 2 => "removed",
        /// `added(3)`: in the current only.
        Added = 3 => "added",
    }
}

/// `PartialGroupInfo`: what the hub needs to rebuild the new GroupInfo from the previous one and
/// a PublicMessage commit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct PartialGroupInfo {
    /// `ratchet_tree_presence`.
    pub ratchet_tree_presence: RatchetTreePresence,
    /// The GroupInfo extensions other than `ratchet_tree`.
    pub group_info_extensions: Vec<Extension>,
    /// The committer's GroupInfo signature.
    pub signature: Signature,
}

impl PartialGroupInfo {
    /// A partial GroupInfo.
    pub fn new(
        ratchet_tree_presence: RatchetTreePresence,
        group_info_extensions: Vec<Extension>,
        signature: Signature,
    ) -> Self {
        Self {
            ratchet_tree_presence,
            group_info_extensions,
            signature,
        }
    }
}

impl Encode for PartialGroupInfo {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.ratchet_tree_presence.encode_into(w)?;
        w.list(
            "group_info_extensions",
            MAX_MLS_OBJECT_LEN,
            MAX_EXTENSIONS,
            &self.group_info_extensions,
            |w, e| e.encode_into(w),
        )?;
        self.signature.encode_into(w)
    }
}

impl Decode for PartialGroupInfo {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            ratchet_tree_presence: RatchetTreePresence::decode_from(r)?,
            group_info_extensions: r.list(
                "group_info_extensions",
                MAX_MLS_OBJECT_LEN,
                MAX_EXTENSIONS,
                Extension::decode_from,
            )?,
            signature: Signature::decode_from(r)?,
        })
    }
}

closed_enum! {
    /// `GroupInfoRepresentation`.
    GroupInfoRepresentation, "GroupInfoRepresentation", reserved [0] {
        /// `full(1)`
        Full = 1 => "full",
        /// `partial(2)`
        Partial = 2 => "partial",
    }
}

/// `GroupInfoOption`: the committer's new GroupInfo, whole or partial.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GroupInfoOption {
    /// `full`: the GroupInfo without its ratchet_tree extension.
    Full(GroupInfo),
    /// `partial`: the hub rebuilds it.
    Partial(PartialGroupInfo),
}

impl GroupInfoOption {
    /// The representation code.
    pub fn representation(&self) -> GroupInfoRepresentation {
        match self {
            Self::Full(_) => GroupInfoRepresentation::Full,
            Self::Partial(_) => GroupInfoRepresentation::Partial,
        }
    }
}

impl Encode for GroupInfoOption {
    fn encode_into(&self, w: &mut Writer) -> Result<(), EncodeError> {
        self.representation().encode_into(w)?;
        match self {
            Self::Full(group_info) => group_info.encode_into(w),
            Self::Partial(partial) => partial.encode_into(w),
        }
    }
}

impl Decode for GroupInfoOption {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match GroupInfoRepresentation::decode_from(r)? {
            GroupInfoRepresentation::Full => Self::Full(GroupInfo::decode_from(r)?),
            GroupInfoRepresentation::Partial => Self::Partial(PartialGroupInfo::decode_from(r)?),
        })
    }
}

tls_codec_bridge!(
    RatchetTreeRepresentation,
    RatchetTreeOption,
    RatchetTreePresence,
    PartialGroupInfo,
    GroupInfoRepresentation,
    GroupInfoOption
);
