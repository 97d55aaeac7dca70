//! External proposals (RFC 9420 §12.1.8) built here rather than by openmls: openmls 0.9.2
//! always writes an empty `authenticated_data`, which a group that uses Safe AAD (every
//! franked room, mls-extensions §4.9) refuses, since there every message's
//! `authenticated_data` starts with a `SafeAAD` struct. This writes the same PublicMessage
//! with the `authenticated_data` the group needs: an empty `SafeAAD` (`00`) in such a group,
//! nothing otherwise. Byte for byte, the latter is what openmls writes (checked by a test).
//!
//! ```text
//! MLSMessage    = version(1) wire_format(public_message = 1) PublicMessage
//! PublicMessage = FramedContent FramedContentAuthData   (no membership_tag: external sender)
//! FramedContent = group_id<V> epoch(u64) Sender(external = 2, sender_index u32)
//!                 authenticated_data<V> content_type(proposal = 2) Proposal
//! signature     = SignWithLabel(key, "FramedContentTBS",
//!                               version wire_format FramedContent)   (no GroupContext)
//! ```

use tls_codec::{Serialize as _, VLBytes};

use crate::error::MlsError;
use crate::identity::SigningKey;

const VERSION_MLS10: u16 = 1;
const WIRE_FORMAT_PUBLIC: u16 = 1;
const SENDER_EXTERNAL: u8 = 2;
const CONTENT_PROPOSAL: u8 = 2;
const PROPOSAL_REMOVE: u16 = 3;
const PROPOSAL_APP_EPHEMERAL: u16 = 0x0009;
const FRAMED_CONTENT_TBS: &str = "FramedContentTBS";

fn vl(bytes: &[u8]) -> Result<Vec<u8>, MlsError> {
    VLBytes::new(bytes.to_vec())
        .tls_serialize_detached()
        .map_err(MlsError::mls)
}

/// The `authenticated_data` of a message of a group that does (`safe_aad`) or does not use
/// Safe AAD: an empty `SafeAAD` struct, or nothing.
pub(crate) fn empty_authenticated_data(safe_aad: bool) -> Vec<u8> {
    if safe_aad { vec![0x00] } else { Vec::new() }
}

/// A signed external Remove proposal of `removed` (a leaf index) as an `MLSMessage`.
pub(crate) fn remove(
    group_id: &[u8],
    epoch: u64,
    sender_index: u32,
    authenticated_data: &[u8],
    removed: u32,
    key: &SigningKey,
) -> Result<Vec<u8>, MlsError> {
    let mut proposal = PROPOSAL_REMOVE.to_be_bytes().to_vec();
    proposal.extend_from_slice(&removed.to_be_bytes());
    framed(
        group_id,
        epoch,
        sender_index,
        authenticated_data,
        &proposal,
        key,
    )
}

/// A signed external AppEphemeral proposal (mls-extensions §5.x: `ComponentID component_id;
/// opaque data<V>;`, proposal type 0x0009) as an `MLSMessage`.
pub(crate) fn app_ephemeral(
    group_id: &[u8],
    epoch: u64,
    sender_index: u32,
    authenticated_data: &[u8],
    component_id: u16,
    data: &[u8],
    key: &SigningKey,
) -> Result<Vec<u8>, MlsError> {
    let mut proposal = PROPOSAL_APP_EPHEMERAL.to_be_bytes().to_vec();
    proposal.extend_from_slice(&component_id.to_be_bytes());
    proposal.extend(vl(data)?);
    framed(
        group_id,
        epoch,
        sender_index,
        authenticated_data,
        &proposal,
        key,
    )
}

fn framed(
    group_id: &[u8],
    epoch: u64,
    sender_index: u32,
    authenticated_data: &[u8],
    proposal: &[u8],
    key: &SigningKey,
) -> Result<Vec<u8>, MlsError> {
    let mut content = vl(group_id)?;
    content.extend_from_slice(&epoch.to_be_bytes());
    content.push(SENDER_EXTERNAL);
    content.extend_from_slice(&sender_index.to_be_bytes());
    content.extend(vl(authenticated_data)?);
    content.push(CONTENT_PROPOSAL);
    content.extend_from_slice(proposal);
    let mut header = VERSION_MLS10.to_be_bytes().to_vec();
    header.extend_from_slice(&WIRE_FORMAT_PUBLIC.to_be_bytes());
    let mut tbs = header.clone();
    tbs.extend_from_slice(&content);
    let signature = crate::sign::sign_with_label(key, FRAMED_CONTENT_TBS, &tbs)
        .map_err(|e| MlsError::Misuse(e.to_string()))?;
    let mut message = header;
    message.extend(content);
    message.extend(vl(&signature)?);
    Ok(message)
}

/// An external AppEphemeral proposal read from its `MLSMessage` bytes (not yet verified).
#[derive(Debug)]
pub(crate) struct ExternalAppEphemeral {
    pub(crate) group_id: Vec<u8>,
    pub(crate) epoch: u64,
    pub(crate) sender_index: u32,
    pub(crate) component_id: u16,
    pub(crate) data: Vec<u8>,
    /// `version wire_format FramedContent`: what the signature covers.
    pub(crate) tbs: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

/// Reads `message` as an external sender's AppEphemeral proposal in a PublicMessage: `None`
/// when it is anything else (for the ordinary path); an error when it is one but malformed
/// (trailing bytes included).
pub(crate) fn read_app_ephemeral(message: &[u8]) -> Result<Option<ExternalAppEphemeral>, MlsError> {
    let mut r = Reader(message);
    let (Some(version), Some(wire)) = (r.u16(), r.u16()) else {
        return Ok(None);
    };
    if version != VERSION_MLS10 || wire != WIRE_FORMAT_PUBLIC {
        return Ok(None);
    }
    let Some(group_id) = r.vl() else {
        return Ok(None);
    };
    let (Some(epoch), Some(sender)) = (r.u64(), r.u8()) else {
        return Ok(None);
    };
    if sender != SENDER_EXTERNAL {
        return Ok(None);
    }
    let (Some(sender_index), Some(_aad), Some(content_type)) = (r.u32(), r.vl(), r.u8()) else {
        return Ok(None);
    };
    if content_type != CONTENT_PROPOSAL || r.u16() != Some(PROPOSAL_APP_EPHEMERAL) {
        return Ok(None);
    }
    let malformed = || MlsError::Malformed("external AppEphemeral proposal".into());
    let component_id = r.u16().ok_or_else(malformed)?;
    let data = r.vl().ok_or_else(malformed)?.to_vec();
    let tbs_len = message.len() - r.0.len();
    let signature = r.vl().ok_or_else(malformed)?.to_vec();
    if !r.0.is_empty() {
        return Err(MlsError::Malformed(format!(
            "external AppEphemeral proposal: {} trailing bytes",
            r.0.len()
        )));
    }
    Ok(Some(ExternalAppEphemeral {
        group_id: group_id.to_vec(),
        epoch,
        sender_index,
        component_id,
        data,
        tbs: message[..tbs_len].to_vec(),
        signature,
    }))
}

impl ExternalAppEphemeral {
    /// Verifies the signature with the external sender's public key.
    pub(crate) fn verify(&self, public_key: &[u8]) -> Result<(), MlsError> {
        crate::sign::verify_with_label(public_key, FRAMED_CONTENT_TBS, &self.tbs, &self.signature)
            .map_err(|e| {
                MlsError::Unexpected(format!(
                    "external AppEphemeral proposal: {e}: not signed by the group's external \
                     sender {}",
                    self.sender_index
                ))
            })
    }
}

/// A cursor over TLS-PL bytes (minimal variable-length vector headers, RFC 9420 §2.1.2).
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    fn u16(&mut self) -> Option<u16> {
        self.take(2)
            .and_then(|b| b.try_into().ok())
            .map(u16::from_be_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_be_bytes)
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_be_bytes)
    }
    fn vl(&mut self) -> Option<&'a [u8]> {
        let first = *self.0.first()?;
        let (len, header) = match first >> 6 {
            0 => (u64::from(first & 0x3f), 1),
            1 => {
                let b = self.0.get(..2)?;
                (u64::from(u16::from_be_bytes([b[0] & 0x3f, b[1]])), 2)
            }
            2 => {
                let b = self.0.get(..4)?;
                (
                    u64::from(u32::from_be_bytes([b[0] & 0x3f, b[1], b[2], b[3]])),
                    4,
                )
            }
            _ => return None,
        };
        // Minimal encodings only.
        let minimal = match header {
            1 => true,
            2 => len > 0x3f,
            _ => len > 0x3fff,
        };
        if !minimal {
            return None;
        }
        self.take(header)?;
        self.take(usize::try_from(len).ok()?)
    }
}
