//! Finds where an MLS object ends, without interpreting it.
//!
//! MLS structures (RFC 9420) are self-delimiting, not length-prefixed: to keep an `MLSMessage`,
//! `KeyPackage`, `Welcome` or `GroupInfo` opaque inside a MIMI body we still have to walk its
//! structure to find its last byte. These functions walk it with the crate's strict reader (caps,
//! minimal lengths) and return the few cleartext facts MIMI needs (wire format, content type,
//! epoch, the KeyPackageRefs a Welcome is for). They check structure only: no signature, no
//! semantics. Variants whose layout we cannot know (an unknown proposal, credential or sender
//! type) are refused, because their end cannot be found.

use mimi_types::codepoints::{CredentialType, ProposalType, WireFormat};

use crate::codec::Reader;
use crate::error::DecodeError;
use crate::limits::{
    MAX_CREDENTIAL_LEN, MAX_KEY_LEN, MAX_MLS_OBJECT_LEN, MAX_REF_LEN, MAX_SIGNATURE_LEN,
};
use crate::mls::ContentType;

/// `ProtocolVersion mls10`.
const MLS10: u16 = 1;

/// What [`mls_message`] learned about an `MLSMessage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MessageFacts {
    pub(crate) wire_format: WireFormat,
    pub(crate) content_type: Option<ContentType>,
    pub(crate) epoch: Option<u64>,
}

fn version(r: &mut Reader<'_>, what: &'static str) -> Result<(), DecodeError> {
    match r.u16(what)? {
        MLS10 => Ok(()),
        version => Err(DecodeError::UnsupportedMlsVersion { what, version }),
    }
}

fn opaque(r: &mut Reader<'_>, what: &'static str) -> Result<(), DecodeError> {
    r.opaque(what, MAX_MLS_OBJECT_LEN).map(drop)
}

/// A vector of fixed-width `uint16` code points.
fn u16_list(r: &mut Reader<'_>, what: &'static str) -> Result<(), DecodeError> {
    let mut sub = r.vector(what, MAX_MLS_OBJECT_LEN)?;
    while !sub.is_empty() {
        sub.u16(what)?;
    }
    Ok(())
}

/// `Extension extensions<V>`.
pub(crate) fn extensions(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    let mut sub = r.vector("extensions", MAX_MLS_OBJECT_LEN)?;
    while !sub.is_empty() {
        sub.u16("extension type")?;
        opaque(&mut sub, "extension data")?;
    }
    Ok(())
}

/// `Credential` (RFC 9420 §5.3; multi-credentials of mls-extensions).
pub(crate) fn credential(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    let credential_type = CredentialType::new(r.u16("credential type")?);
    match credential_type {
        CredentialType::BASIC => r.opaque("basic identity", MAX_CREDENTIAL_LEN).map(drop),
        CredentialType::X509 => {
            let mut sub = r.vector("x509 certificates", MAX_CREDENTIAL_LEN)?;
            while !sub.is_empty() {
                sub.opaque("x509 certificate", MAX_CREDENTIAL_LEN)?;
            }
            Ok(())
        }
        CredentialType::MULTI | CredentialType::WEAK_MULTI => r
            .opaque("credential bindings", MAX_CREDENTIAL_LEN)
            .map(drop),
        other => Err(DecodeError::UnknownValue {
            what: "credential type",
            value: u64::from(other.value()),
        }),
    }
}

/// `Capabilities` (RFC 9420 §7.2).
pub(crate) fn capabilities(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    u16_list(r, "capabilities versions")?;
    u16_list(r, "capabilities cipher suites")?;
    u16_list(r, "capabilities extensions")?;
    u16_list(r, "capabilities proposals")?;
    u16_list(r, "capabilities credentials")
}

/// `RequiredCapabilities` (RFC 9420 §11.1).
pub(crate) fn required_capabilities(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    u16_list(r, "required extension types")?;
    u16_list(r, "required proposal types")?;
    u16_list(r, "required credential types")
}

/// `ExternalSender` (RFC 9420 §12.1.8.1).
pub(crate) fn external_sender(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    r.opaque("external sender signature key", MAX_KEY_LEN)?;
    credential(r)
}

/// `LeafNode` (RFC 9420 §7.2).
fn leaf_node(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    r.opaque("leaf encryption key", MAX_KEY_LEN)?;
    r.opaque("leaf signature key", MAX_KEY_LEN)?;
    credential(r)?;
    capabilities(r)?;
    match r.u8("leaf node source")? {
        1 => {
            r.u64("lifetime not_before")?;
            r.u64("lifetime not_after")?;
        }
        2 => {}
        3 => opaque(r, "leaf parent hash")?,
        value => {
            return Err(DecodeError::UnknownValue {
                what: "leaf node source",
                value: u64::from(value),
            });
        }
    }
    extensions(r)?;
    r.opaque("leaf signature", MAX_SIGNATURE_LEN).map(drop)
}

/// `KeyPackage` (RFC 9420 §10).
pub(crate) fn key_package(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    version(r, "KeyPackage")?;
    r.u16("KeyPackage cipher suite")?;
    r.opaque("KeyPackage init key", MAX_KEY_LEN)?;
    leaf_node(r)?;
    extensions(r)?;
    r.opaque("KeyPackage signature", MAX_SIGNATURE_LEN)
        .map(drop)
}

/// `GroupInfo` (RFC 9420 §12.4.3).
pub(crate) fn group_info(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    version(r, "GroupContext")?;
    r.u16("GroupContext cipher suite")?;
    opaque(r, "GroupContext group_id")?;
    r.u64("GroupContext epoch")?;
    opaque(r, "GroupContext tree_hash")?;
    opaque(r, "GroupContext confirmed_transcript_hash")?;
    extensions(r)?;
    extensions(r)?;
    r.opaque("GroupInfo confirmation tag", MAX_SIGNATURE_LEN)?;
    r.u32("GroupInfo signer")?;
    r.opaque("GroupInfo signature", MAX_SIGNATURE_LEN).map(drop)
}

/// `HPKECiphertext` (RFC 9420 §5.1.3).
pub(crate) fn hpke_ciphertext(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    r.opaque("HPKE kem_output", MAX_KEY_LEN)?;
    opaque(r, "HPKE ciphertext")
}

/// `Welcome` (RFC 9420 §12.4.3.1); returns the `KeyPackageRef` of each new member.
pub(crate) fn welcome(r: &mut Reader<'_>) -> Result<Vec<Vec<u8>>, DecodeError> {
    r.u16("Welcome cipher suite")?;
    let mut refs = Vec::new();
    let mut secrets = r.vector("Welcome secrets", MAX_MLS_OBJECT_LEN)?;
    while !secrets.is_empty() {
        refs.push(secrets.opaque("Welcome new_member", MAX_REF_LEN)?.to_vec());
        hpke_ciphertext(&mut secrets)?;
    }
    opaque(r, "Welcome encrypted_group_info")?;
    Ok(refs)
}

/// `PreSharedKeyID` (RFC 9420 §8.4).
fn psk_id(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    match r.u8("PSK type")? {
        1 => opaque(r, "external psk_id")?,
        2 => {
            r.u8("resumption PSK usage")?;
            opaque(r, "resumption psk_group_id")?;
            r.u64("resumption psk_epoch")?;
        }
        value => {
            return Err(DecodeError::UnknownValue {
                what: "PSK type",
                value: u64::from(value),
            });
        }
    }
    opaque(r, "psk_nonce")
}

/// `Proposal` (RFC 9420 §12.1, plus mls-extensions' AppDataUpdate, AppEphemeral, SelfRemove).
fn proposal(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    let proposal_type = ProposalType::new(r.u16("proposal type")?);
    match proposal_type {
        ProposalType::ADD => key_package(r),
        ProposalType::UPDATE => leaf_node(r),
        ProposalType::REMOVE => r.u32("removed leaf").map(drop),
        ProposalType::PSK => psk_id(r),
        ProposalType::REINIT => {
            opaque(r, "reinit group_id")?;
            r.u16("reinit version")?;
            r.u16("reinit cipher suite")?;
            extensions(r)
        }
        ProposalType::EXTERNAL_INIT => r.opaque("external_init kem_output", MAX_KEY_LEN).map(drop),
        ProposalType::GROUP_CONTEXT_EXTENSIONS => extensions(r),
        ProposalType::APP_DATA_UPDATE => {
            r.u16("AppDataUpdate component_id")?;
            match r.u8("AppDataUpdate op")? {
                1 => opaque(r, "AppDataUpdate update"),
                2 => Ok(()),
                value => Err(DecodeError::UnknownValue {
                    what: "AppDataUpdate op",
                    value: u64::from(value),
                }),
            }
        }
        ProposalType::APP_EPHEMERAL => {
            r.u16("AppEphemeral component_id")?;
            opaque(r, "AppEphemeral data")
        }
        ProposalType::SELF_REMOVE => Ok(()),
        other => Err(DecodeError::UnknownValue {
            what: "proposal type",
            value: u64::from(other.value()),
        }),
    }
}

/// `Commit` (RFC 9420 §12.4).
fn commit(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    let mut proposals = r.vector("Commit proposals", MAX_MLS_OBJECT_LEN)?;
    while !proposals.is_empty() {
        match proposals.u8("ProposalOrRef type")? {
            1 => proposal(&mut proposals)?,
            2 => proposals.opaque("ProposalRef", MAX_REF_LEN).map(drop)?,
            value => {
                return Err(DecodeError::UnknownValue {
                    what: "ProposalOrRef type",
                    value: u64::from(value),
                });
            }
        }
    }
    if r.present("Commit path")? {
        leaf_node(r)?;
        let mut nodes = r.vector("UpdatePath nodes", MAX_MLS_OBJECT_LEN)?;
        while !nodes.is_empty() {
            nodes.opaque("UpdatePathNode encryption key", MAX_KEY_LEN)?;
            let mut secrets = nodes.vector("encrypted_path_secret", MAX_MLS_OBJECT_LEN)?;
            while !secrets.is_empty() {
                hpke_ciphertext(&mut secrets)?;
            }
        }
    }
    Ok(())
}

fn content_type(r: &mut Reader<'_>) -> Result<ContentType, DecodeError> {
    match r.u8("content type")? {
        1 => Ok(ContentType::Application),
        2 => Ok(ContentType::Proposal),
        3 => Ok(ContentType::Commit),
        0 => Err(DecodeError::ReservedValue {
            what: "content type",
            value: 0,
        }),
        value => Err(DecodeError::UnknownValue {
            what: "content type",
            value: u64::from(value),
        }),
    }
}

/// `PublicMessage` (RFC 9420 §6.2).
fn public_message(r: &mut Reader<'_>) -> Result<(ContentType, u64), DecodeError> {
    opaque(r, "PublicMessage group_id")?;
    let epoch = r.u64("PublicMessage epoch")?;
    let sender_type = r.u8("sender type")?;
    match sender_type {
        1 | 2 => r.u32("sender index").map(drop)?,
        3 | 4 => {}
        value => {
            return Err(DecodeError::UnknownValue {
                what: "sender type",
                value: u64::from(value),
            });
        }
    }
    opaque(r, "PublicMessage authenticated_data")?;
    let content = content_type(r)?;
    match content {
        ContentType::Application => opaque(r, "application_data")?,
        ContentType::Proposal => proposal(r)?,
        ContentType::Commit => commit(r)?,
    }
    r.opaque("PublicMessage signature", MAX_SIGNATURE_LEN)?;
    if content == ContentType::Commit {
        r.opaque("confirmation_tag", MAX_SIGNATURE_LEN)?;
    }
    if sender_type == 1 {
        r.opaque("membership_tag", MAX_SIGNATURE_LEN)?;
    }
    Ok((content, epoch))
}

/// `PrivateMessage` (RFC 9420 §6.3).
fn private_message(r: &mut Reader<'_>) -> Result<(ContentType, u64), DecodeError> {
    opaque(r, "PrivateMessage group_id")?;
    let epoch = r.u64("PrivateMessage epoch")?;
    let content = content_type(r)?;
    opaque(r, "PrivateMessage authenticated_data")?;
    opaque(r, "PrivateMessage encrypted_sender_data")?;
    opaque(r, "PrivateMessage ciphertext")?;
    Ok((content, epoch))
}

/// `MLSMessage` (RFC 9420 §6).
pub(crate) fn mls_message(r: &mut Reader<'_>) -> Result<MessageFacts, DecodeError> {
    version(r, "MLSMessage")?;
    let wire_format = WireFormat::new(r.u16("wire format")?);
    let (content_type, epoch) = match wire_format {
        WireFormat::PUBLIC_MESSAGE => {
            let (c, e) = public_message(r)?;
            (Some(c), Some(e))
        }
        WireFormat::PRIVATE_MESSAGE => {
            let (c, e) = private_message(r)?;
            (Some(c), Some(e))
        }
        WireFormat::WELCOME => {
            welcome(r)?;
            (None, None)
        }
        WireFormat::GROUP_INFO => {
            group_info(r)?;
            (None, None)
        }
        WireFormat::KEY_PACKAGE => {
            key_package(r)?;
            (None, None)
        }
        other => {
            return Err(DecodeError::UnknownValue {
                what: "wire format",
                value: u64::from(other.value()),
            });
        }
    };
    Ok(MessageFacts {
        wire_format,
        content_type,
        epoch,
    })
}
