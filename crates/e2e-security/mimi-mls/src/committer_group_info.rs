//! The hub's check of a committer's GroupInfo (issue 20: no wedged rooms).
//!
//! The hub holds only a public group: it cannot recompute a commit's confirmation tag, so a
//! commit whose tag was altered (by the committer, or by a provider in transit) would be
//! accepted, fanned out and refused by every member, who would then stay behind while the hub
//! moves on. The committer's GroupInfo for the new epoch carries the same confirmation tag under
//! the committer's signature, so the hub requires it and checks that it is signed by the
//! committer's leaf of the new epoch (at the committer's leaf index) and that its tag equals
//! the commit's. A provider that flips a byte of the tag can no longer forge a matching
//! GroupInfo. (A committer can still sign a GroupInfo with a wrong tag: members then report the
//! commit and recover by an external join; see the clients.)
//!
//! The GroupInfo is read from its encoding (RFC 9420 §12.4.3): `GroupInfoTBS` is
//! `GroupContext group_context; Extension extensions<V>; MAC confirmation_tag; uint32 signer;`
//! followed by `opaque signature<V>`, signed with `SignWithLabel(., "GroupInfoTBS", .)`.

use tls_codec::{Deserialize as _, VLBytes};

use crate::error::MlsError;
use crate::sign::verify_with_label;

/// RFC 9420 `GroupInfo` signature label.
const GROUP_INFO_LABEL: &str = "GroupInfoTBS";
/// `WireFormat` of an `MLSMessage` carrying a GroupInfo.
const WIRE_FORMAT_GROUP_INFO: u16 = 4;

/// Who must have signed the GroupInfo: the committer's leaf in the new epoch.
#[derive(Clone, Debug)]
pub(crate) struct ExpectedSigner {
    /// The committer's leaf index in the new epoch.
    pub(crate) leaf: u32,
    /// The signature key of that leaf in the new epoch.
    pub(crate) signature_key: Vec<u8>,
}

/// The parts of an encoded GroupInfo the check needs.
struct RawGroupInfo<'a> {
    tbs: &'a [u8],
    confirmation_tag: Vec<u8>,
    signer: u32,
    signature: Vec<u8>,
}

fn read_group_info(bytes: &[u8]) -> Result<RawGroupInfo<'_>, MlsError> {
    let bad = |e: tls_codec::Error| MlsError::Malformed(format!("GroupInfo: {e}"));
    let mut b = bytes;
    let _version = u16::tls_deserialize(&mut b).map_err(bad)?;
    let wire_format = u16::tls_deserialize(&mut b).map_err(bad)?;
    if wire_format != WIRE_FORMAT_GROUP_INFO {
        return Err(MlsError::Unexpected(format!(
            "expected a GroupInfo message (wire format 4), got {wire_format}"
        )));
    }
    let start = bytes.len() - b.len();
    // GroupContext: version, cipher suite, group_id<V>, epoch, tree_hash<V>,
    // confirmed_transcript_hash<V>, extensions<V>.
    let _ = u16::tls_deserialize(&mut b).map_err(bad)?;
    let _ = u16::tls_deserialize(&mut b).map_err(bad)?;
    let _ = VLBytes::tls_deserialize(&mut b).map_err(bad)?;
    let _ = u64::tls_deserialize(&mut b).map_err(bad)?;
    let _ = VLBytes::tls_deserialize(&mut b).map_err(bad)?;
    let _ = VLBytes::tls_deserialize(&mut b).map_err(bad)?;
    let _ = VLBytes::tls_deserialize(&mut b).map_err(bad)?;
    // GroupInfo extensions<V>, confirmation_tag (MAC = opaque<V>), signer.
    let _ = VLBytes::tls_deserialize(&mut b).map_err(bad)?;
    let confirmation_tag = VLBytes::tls_deserialize(&mut b).map_err(bad)?;
    let signer = u32::tls_deserialize(&mut b).map_err(bad)?;
    let end = bytes.len() - b.len();
    let signature = VLBytes::tls_deserialize(&mut b).map_err(bad)?;
    if !b.is_empty() {
        return Err(MlsError::Malformed(format!(
            "GroupInfo: {} trailing byte(s)",
            b.len()
        )));
    }
    Ok(RawGroupInfo {
        tbs: &bytes[start..end],
        confirmation_tag: confirmation_tag.as_slice().to_vec(),
        signer,
        signature: signature.as_slice().to_vec(),
    })
}

/// Checks that `group_info` is signed by `signer` and carries `commit_tag` (the commit's
/// confirmation tag, the MAC's bytes). The group ID, epoch and GroupContext are checked by the
/// caller against the staged commit.
pub(crate) fn check_committer_group_info(
    group_info: &[u8],
    signer: &ExpectedSigner,
    commit_tag: &[u8],
) -> Result<(), MlsError> {
    let raw = read_group_info(group_info)?;
    if raw.signer != signer.leaf {
        return Err(MlsError::GroupInfoSigner {
            expected: signer.leaf,
            got: raw.signer,
        });
    }
    verify_with_label(
        &signer.signature_key,
        GROUP_INFO_LABEL,
        raw.tbs,
        &raw.signature,
    )
    .map_err(|_| MlsError::GroupInfoSignature)?;
    if raw.confirmation_tag != commit_tag {
        return Err(MlsError::ConfirmationTagMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncated_or_padded_group_infos_are_malformed() {
        let signer = ExpectedSigner {
            leaf: 0,
            signature_key: vec![0; 32],
        };
        assert!(matches!(
            check_committer_group_info(&[0, 1, 0, 4, 0], &signer, &[]),
            Err(MlsError::Malformed(_))
        ));
        assert!(matches!(
            check_committer_group_info(&[0, 1, 0, 1], &signer, &[]),
            Err(MlsError::Unexpected(_))
        ));
    }
}
