//! The labels openmls's storage kinds are keyed by (the first octets of every key).

pub(crate) const LABEL_APPLICATION_EXPORT_TREE: &[u8] = b"ApplicationExportTree";
pub(crate) const LABEL_CONFIRMATION_TAG: &[u8] = b"ConfirmationTag";
pub(crate) const LABEL_ENCRYPTION_KEY_PAIR: &[u8] = b"EncryptionKeyPair";
pub(crate) const LABEL_EPOCH_KEY_PAIRS: &[u8] = b"EpochKeyPairs";
pub(crate) const LABEL_EPOCH_SECRETS: &[u8] = b"EpochSecrets";
pub(crate) const LABEL_GROUP_CONTEXT: &[u8] = b"GroupContext";
pub(crate) const LABEL_GROUP_STATE: &[u8] = b"GroupState";
pub(crate) const LABEL_INTERIM_TRANSCRIPT_HASH: &[u8] = b"InterimTranscriptHash";
pub(crate) const LABEL_KEY_PACKAGE: &[u8] = b"KeyPackage";
pub(crate) const LABEL_MESSAGE_SECRETS: &[u8] = b"MessageSecrets";
pub(crate) const LABEL_MLS_GROUP_JOIN_CONFIG: &[u8] = b"MlsGroupJoinConfig";
pub(crate) const LABEL_OWN_LEAF_NODE_INDEX: &[u8] = b"OwnLeafNodeIndex";
pub(crate) const LABEL_OWN_LEAF_NODES: &[u8] = b"OwnLeafNodes";
pub(crate) const LABEL_PROPOSAL_QUEUE_REFS: &[u8] = b"ProposalQueueRefs";
pub(crate) const LABEL_PSK: &[u8] = b"Psk";
pub(crate) const LABEL_QUEUED_PROPOSAL: &[u8] = b"QueuedProposal";
pub(crate) const LABEL_RESUMPTION_PSK: &[u8] = b"ResumptionPsk";
pub(crate) const LABEL_SIGNATURE_KEY_PAIR: &[u8] = b"SignatureKeyPair";
pub(crate) const LABEL_TREE: &[u8] = b"Tree";

/// Every kind: no entry is written under a key that starts with none of them (checked by
/// the tests).
#[cfg(test)]
pub(crate) const LABELS: [&[u8]; 19] = [
    LABEL_APPLICATION_EXPORT_TREE,
    LABEL_CONFIRMATION_TAG,
    LABEL_ENCRYPTION_KEY_PAIR,
    LABEL_EPOCH_KEY_PAIRS,
    LABEL_EPOCH_SECRETS,
    LABEL_GROUP_CONTEXT,
    LABEL_GROUP_STATE,
    LABEL_INTERIM_TRANSCRIPT_HASH,
    LABEL_KEY_PACKAGE,
    LABEL_MESSAGE_SECRETS,
    LABEL_MLS_GROUP_JOIN_CONFIG,
    LABEL_OWN_LEAF_NODE_INDEX,
    LABEL_OWN_LEAF_NODES,
    LABEL_PROPOSAL_QUEUE_REFS,
    LABEL_PSK,
    LABEL_QUEUED_PROPOSAL,
    LABEL_RESUMPTION_PSK,
    LABEL_SIGNATURE_KEY_PAIR,
    LABEL_TREE,
];
