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
    let mut content = vl(group_id)?;
    content.extend_from_slice(&epoch.to_be_bytes());
    content.push(SENDER_EXTERNAL);
    content.extend_from_slice(&sender_index.to_be_bytes());
    content.extend(vl(authenticated_data)?);
    content.push(CONTENT_PROPOSAL);
    content.extend(proposal);
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
