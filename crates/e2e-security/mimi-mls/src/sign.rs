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
    use openmls_basic_credential::SignatureKeyPair;
    use tls_codec::Deserialize as _;

    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    /// Golden vectors: Ed25519 is deterministic, so a pinned key, label and TBS give a pinned
    /// signature. The file is written once if missing (and the test then fails, asking to
    /// commit it).
    #[test]
    fn golden_sign_with_label_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../testing/vectors/mls/sign_with_label.txt"
        );
        let labels = [
            KEY_MATERIAL_REQUEST,
            GROUP_INFO_REQUEST,
            GROUP_INFO_RESPONSE,
            FRANKING_INTEGRITY,
            PSEUDONYMOUS_CREDENTIAL,
        ];
        let Ok(text) = std::fs::read_to_string(path) else {
            let k = SigningKey::generate().unwrap();
            let mut out = String::from(
                "# SignWithLabel golden vectors (RFC 9420 §5.1.2, Ed25519).\n\
                 # key <TLS-encoded openmls SignatureKeyPair>; then <label> <tbs> <signature> (hex)\n",
            );
            out.push_str(&format!(
                "key {}\n",
                hex(&k.pair.tls_serialize_detached().unwrap())
            ));
            for (i, l) in labels.iter().enumerate() {
                let tbs: Vec<u8> = (0..=(i as u8) * 7).collect();
                let sig = sign_with_label(&k, l, &tbs).unwrap();
                out.push_str(&format!("{l} {} {}\n", hex(&tbs), hex(&sig)));
            }
            std::fs::create_dir_all(std::path::Path::new(path).parent().unwrap()).unwrap();
            std::fs::write(path, out).unwrap();
            panic!("wrote {path}; commit it and run the test again");
        };
        let mut key = None;
        let mut checked = 0;
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            let parts: Vec<&str> = line.split(' ').collect();
            if parts[0] == "key" {
                let pair = SignatureKeyPair::tls_deserialize_exact(unhex(parts[1])).unwrap();
                key = Some(SigningKey { pair });
                continue;
            }
            let k = key.as_ref().unwrap();
            let (label, tbs, sig) = (parts[0], unhex(parts[1]), unhex(parts[2]));
            assert_eq!(sign_with_label(k, label, &tbs).unwrap(), sig, "{label}");
            verify_with_label(k.public(), label, &tbs, &sig).unwrap();
            checked += 1;
        }
        assert_eq!(checked, labels.len());
    }

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
