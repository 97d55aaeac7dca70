//! MIMI signatures: RFC 9420 `SignWithLabel` / `VerifyWithLabel` over encoded TBS structs.
//!
//! The TBS structs (KeyMaterialRequestTBS, GroupInfoRequestTBS, GroupInfoResponseTBS,
//! FrankingIntegrityTBS, ...) are defined and encoded by the wire-types crate; these helpers
//! take the encoded bytes. The signed content is
//! `SignContent { opaque label<V> = "MLS 1.0 " + Label; opaque content<V> = TBS }` signed with
//! Ed25519 (our ciphersuite's signature scheme).

use openmls::prelude::SignContent;
use openmls_rust_crypto::RustCrypto;
use openmls_traits::crypto::OpenMlsCrypto as _;
use openmls_traits::signatures::Signer as _;
use openmls_traits::types::SignatureScheme;
use tls_codec::Serialize as _;

use crate::error::SignatureError;
use crate::identity::SigningKey;

/// Label of `KeyMaterialRequest` signatures (digest §3.2).
pub const KEY_MATERIAL_REQUEST: &str = "KeyMaterialRequestTBS";
/// Label of `GroupInfoRequest` signatures (digest §3.6).
pub const GROUP_INFO_REQUEST: &str = "GroupInfoRequestTBS";
/// Label of `GroupInfoResponse` signatures (digest §3.6).
pub const GROUP_INFO_RESPONSE: &str = "GroupInfoResponseTBS";
/// Label of franking integrity signatures (digest §3.4.1).
pub const FRANKING_INTEGRITY: &str = "FrankingIntegrityTBS";
/// Label of pseudonymous credential signatures (digest §3.11).
pub const PSEUDONYMOUS_CREDENTIAL: &str = "PseudonymousCredentialTBS";

fn sign_content(label: &str, tbs: &[u8]) -> Result<Vec<u8>, SignatureError> {
    SignContent::new(label, tbs.to_vec().into())
        .tls_serialize_detached()
        .map_err(|e| SignatureError::Sign(e.to_string()))
}

/// `SignWithLabel(key, label, tbs)`.
pub fn sign_with_label(
    key: &SigningKey,
    label: &str,
    tbs: &[u8],
) -> Result<Vec<u8>, SignatureError> {
    let content = sign_content(label, tbs)?;
    key.pair
        .sign(&content)
        .map_err(|e| SignatureError::Sign(format!("{e:?}")))
}

/// `VerifyWithLabel(public_key, label, tbs, signature)` for an Ed25519 public key.
pub fn verify_with_label(
    public_key: &[u8],
    label: &str,
    tbs: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let content = sign_content(label, tbs)?;
    RustCrypto::default()
        .verify_signature(SignatureScheme::ED25519, &content, public_key, signature)
        .map_err(|_| SignatureError::Invalid {
            label: label.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_roundtrip_and_label_binding() {
        let k = SigningKey::generate().unwrap();
        let sig = sign_with_label(&k, KEY_MATERIAL_REQUEST, b"tbs").unwrap();
        verify_with_label(k.public(), KEY_MATERIAL_REQUEST, b"tbs", &sig).unwrap();
        assert_eq!(
            verify_with_label(k.public(), GROUP_INFO_REQUEST, b"tbs", &sig),
            Err(SignatureError::Invalid {
                label: GROUP_INFO_REQUEST.into()
            })
        );
        assert!(verify_with_label(k.public(), KEY_MATERIAL_REQUEST, b"tbS", &sig).is_err());
    }
}
