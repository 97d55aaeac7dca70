//! The MLS parameters of a MIMI group (digest §4.1 recommendation).
//!
//! * Ciphersuite `MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519` (0x0001).
//! * Leaves support `app_data_dictionary`, `app_data_update`, `self_remove` and X.509
//!   credentials; the GroupContext requires them (`required_capabilities`).
//! * GroupContext `external_senders` = the hub; `app_data_dictionary` = the room state.
//! * Handshakes go out as PublicMessage (the hub must read them); application messages are
//!   always PrivateMessage.

use openmls::prelude::{
    Capabilities, Ciphersuite, CredentialType, ExtensionType, MIXED_PLAINTEXT_WIRE_FORMAT_POLICY,
    MlsGroupJoinConfig, ProposalType, RequiredCapabilitiesExtension, SenderRatchetConfiguration,
};

/// The one ciphersuite we create groups with.
pub(crate) const CIPHERSUITE: Ciphersuite =
    Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;

/// How many past epochs a client keeps secrets for (late application messages).
pub(crate) const MAX_PAST_EPOCHS: usize = 3;

/// Leaf capabilities every MIMI client advertises.
pub(crate) fn leaf_capabilities() -> Capabilities {
    Capabilities::new(
        None,
        Some(&[CIPHERSUITE]),
        // LastResort: a last-resort KeyPackage carries that extension, and a KeyPackage's
        // extensions must be listed in its leaf's capabilities or it fails validation.
        Some(&[ExtensionType::AppDataDictionary, ExtensionType::LastResort]),
        Some(&[ProposalType::AppDataUpdate, ProposalType::SelfRemove]),
        Some(&[CredentialType::X509]),
    )
}

/// The GroupContext `required_capabilities` of a MIMI group.
pub(crate) fn required_capabilities() -> RequiredCapabilitiesExtension {
    RequiredCapabilitiesExtension::new(
        &[ExtensionType::AppDataDictionary],
        &[ProposalType::AppDataUpdate, ProposalType::SelfRemove],
        &[CredentialType::X509],
    )
}

/// The join configuration (Welcome and external join).
pub(crate) fn join_config() -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(MIXED_PLAINTEXT_WIRE_FORMAT_POLICY)
        .max_past_epochs(MAX_PAST_EPOCHS)
        .sender_ratchet_configuration(SenderRatchetConfiguration::new(16, 1000))
        .use_ratchet_tree_extension(false)
        .build()
}
