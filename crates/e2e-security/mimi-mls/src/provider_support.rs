//! What a provider's server needs from MLS objects it stores or relays but never uses itself:
//! uploaded KeyPackages, credentials in signed requests, and HPKE for the GroupInfo exchange
//! (draft-ietf-mimi-protocol-06 §5.2, §5.6).

use openmls::prelude::{Credential, OpenMlsProvider as _};
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::crypto::OpenMlsCrypto as _;
use openmls_traits::random::OpenMlsRand as _;
use openmls_traits::types::HpkeCiphertext;
use tls_codec::{Deserialize as _, Serialize as _, VLBytes};
use zeroize::Zeroizing;

use crate::client::parse_key_package;
use crate::config::CIPHERSUITE;
use crate::credential::{TrustStore, VerifiedIdentity};
use crate::error::{CredentialError, MlsError};
use crate::identity::{PublishedKeyPackage, x509_of};
use crate::inspect::validate_leaf;

/// What kind of client a KeyPackage's credential says it is (a person's device, a bot, a
/// logging client), read without a trust decision: the commit that adds it validates it in
/// full. For an adder choosing the role an allowed bot must hold.
pub fn key_package_kind(message: &[u8]) -> Result<mimi_room::ClientKind, MlsError> {
    let provider = OpenMlsRustCrypto::default();
    let key_package = parse_key_package(message, &provider)?;
    Ok(crate::inspect::member_of_credential(key_package.leaf_node().credential())?.kind)
}

/// Checks a KeyPackage `MLSMessage` a device uploads (signature, credential of a client of a
/// trusted domain at `now`, our cipher suite) and returns the facts its provider stores with
/// it, and whom its credential names.
pub fn inspect_key_package(
    message: &[u8],
    trust: &TrustStore,
    now: u64,
) -> Result<(PublishedKeyPackage, VerifiedIdentity), MlsError> {
    let provider = OpenMlsRustCrypto::default();
    let key_package = parse_key_package(message, &provider)?;
    if key_package.ciphersuite() != CIPHERSUITE {
        return Err(MlsError::Unexpected(format!(
            "KeyPackage for cipher suite {:?}; this provider uses {CIPHERSUITE:?}",
            key_package.ciphersuite()
        )));
    }
    let identity = validate_leaf(key_package.leaf_node(), trust, now, "client")?;
    let not_after = key_package.life_time().not_after();
    if not_after <= now {
        return Err(MlsError::Unexpected("the KeyPackage has expired".into()));
    }
    let reference = key_package
        .hash_ref(provider.crypto())
        .map_err(MlsError::mls)?
        .as_slice()
        .to_vec();
    Ok((
        PublishedKeyPackage {
            message: message.to_vec(),
            reference,
            last_resort: key_package.last_resort(),
            not_after,
        },
        identity,
    ))
}

/// Validates an MLS `Credential` (TLS-encoded, as carried in signed MIMI requests) whose leaf
/// certifies `signature_key`: chain to the CA pinned for its domain, validity at `now`.
pub fn verify_credential(
    credential: &[u8],
    signature_key: &[u8],
    trust: &TrustStore,
    now: u64,
) -> Result<VerifiedIdentity, MlsError> {
    let credential = Credential::tls_deserialize_exact(credential)
        .map_err(|e| CredentialError::Malformed(format!("MLS credential: {e}")))?;
    Ok(trust.validate(&x509_of(&credential)?, signature_key, now)?)
}

/// An HPKE key pair of the cipher suite (the joiner's `groupInfoPublicKey`).
pub struct HpkeKeyPair {
    /// The public key, sent in the request.
    pub public: Vec<u8>,
    /// The private key, kept to open the answer.
    pub private: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for HpkeKeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HpkeKeyPair")
            .field("public_len", &self.public.len())
            .finish_non_exhaustive()
    }
}

/// A fresh HPKE key pair.
pub fn hpke_key_pair() -> Result<HpkeKeyPair, MlsError> {
    let provider = OpenMlsRustCrypto::default();
    let ikm = Zeroizing::new(
        provider
            .rand()
            .random_vec(32)
            .map_err(|e| MlsError::Internal(format!("randomness: {e:?}")))?,
    );
    let pair = provider
        .crypto()
        .derive_hpke_keypair(CIPHERSUITE.hpke_config(), &ikm)
        .map_err(|e| MlsError::Internal(format!("HPKE key pair: {e:?}")))?;
    Ok(HpkeKeyPair {
        public: pair.public,
        private: Zeroizing::new(pair.private.to_vec()),
    })
}

/// The HPKE key pair of the cipher suite derived from `ikm` (RFC 9180 `DeriveKeyPair`): the
/// same secret always gives the same pair, so a device can hold a long-lived HPKE key without
/// storing it (mimi-client-core derives its history key this way). `ikm` must be secret and
/// at least 32 bytes.
pub fn hpke_key_pair_from_seed(ikm: &[u8]) -> Result<HpkeKeyPair, MlsError> {
    if ikm.len() < 32 {
        return Err(MlsError::Internal(format!(
            "an HPKE seed of {} bytes is too short (32 at least)",
            ikm.len()
        )));
    }
    let pair = OpenMlsRustCrypto::default()
        .crypto()
        .derive_hpke_keypair(CIPHERSUITE.hpke_config(), ikm)
        .map_err(|e| MlsError::Internal(format!("HPKE key pair: {e:?}")))?;
    Ok(HpkeKeyPair {
        public: pair.public,
        private: Zeroizing::new(pair.private.to_vec()),
    })
}

/// `EncryptContext { opaque label<V> = "MLS 1.0 " + label; opaque context<V>; }`
fn encrypt_context(label: &str, context: &[u8]) -> Result<Vec<u8>, MlsError> {
    let label = VLBytes::new(format!("MLS 1.0 {label}").into_bytes());
    let context = VLBytes::new(context.to_vec());
    let mut out = label.tls_serialize_detached().map_err(MlsError::mls)?;
    out.extend(context.tls_serialize_detached().map_err(MlsError::mls)?);
    Ok(out)
}

/// `EncryptWithLabel(public_key, label, context, plaintext)` (RFC 9420 §5.1.3): returns
/// `(kem_output, ciphertext)`.
pub fn encrypt_with_label(
    public_key: &[u8],
    label: &str,
    context: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, Vec<u8>), MlsError> {
    let info = encrypt_context(label, context)?;
    let sealed = OpenMlsRustCrypto::default()
        .crypto()
        .hpke_seal(CIPHERSUITE.hpke_config(), public_key, &info, &[], plaintext)
        .map_err(|e| MlsError::Unexpected(format!("HPKE seal: {e:?}")))?;
    Ok((
        sealed.kem_output.as_slice().to_vec(),
        sealed.ciphertext.as_slice().to_vec(),
    ))
}

/// `DecryptWithLabel(private_key, label, context, kem_output, ciphertext)`.
pub fn decrypt_with_label(
    private_key: &[u8],
    label: &str,
    context: &[u8],
    kem_output: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, MlsError> {
    let info = encrypt_context(label, context)?;
    let input = HpkeCiphertext {
        kem_output: kem_output.to_vec().into(),
        ciphertext: ciphertext.to_vec().into(),
    };
    OpenMlsRustCrypto::default()
        .crypto()
        .hpke_open(CIPHERSUITE.hpke_config(), &input, private_key, &info, &[])
        .map(Zeroizing::new)
        .map_err(|_| MlsError::Unexpected("HPKE open failed: wrong key or corrupted data".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tests::{Net, domain};

    #[test]
    fn a_seeded_hpke_key_pair_is_the_same_for_the_same_seed_only() {
        let a = hpke_key_pair_from_seed(&[7; 64]).unwrap();
        let b = hpke_key_pair_from_seed(&[7; 64]).unwrap();
        let c = hpke_key_pair_from_seed(&[8; 64]).unwrap();
        assert_eq!(a.public, b.public);
        assert_ne!(a.public, c.public);
        let (kem, ct) = encrypt_with_label(&a.public, "L", b"", b"secret").unwrap();
        assert_eq!(
            decrypt_with_label(&b.private, "L", b"", &kem, &ct)
                .unwrap()
                .as_slice(),
            b"secret"
        );
        assert!(hpke_key_pair_from_seed(&[7; 31]).is_err());
    }

    #[test]
    fn hpke_round_trip_binds_label_and_context() {
        let pair = hpke_key_pair().unwrap();
        let (kem, ct) = encrypt_with_label(&pair.public, "L", b"room", b"secret").unwrap();
        let opened = decrypt_with_label(&pair.private, "L", b"room", &kem, &ct).unwrap();
        assert_eq!(opened.as_slice(), b"secret");
        assert!(decrypt_with_label(&pair.private, "L", b"other room", &kem, &ct).is_err());
        assert!(decrypt_with_label(&pair.private, "M", b"room", &kem, &ct).is_err());
        let stranger = hpke_key_pair().unwrap();
        assert!(decrypt_with_label(&stranger.private, "L", b"room", &kem, &ct).is_err());
    }

    #[test]
    fn uploaded_key_packages_are_checked_and_described() {
        let mut net = Net::new();
        net.add_client("a.example", "alice", "alice1");
        let published = net.clients["alice1"]
            .key_package(net.now, 3600, true)
            .unwrap();
        let (facts, who) = inspect_key_package(&published.message, &net.trust, net.now).unwrap();
        assert_eq!(facts.reference, published.reference);
        assert!(facts.last_resort);
        assert_eq!(facts.not_after, published.not_after);
        assert!(matches!(who, VerifiedIdentity::Client { .. }));
        // Expired at a later time; refused by a trust store without alice's CA.
        assert!(inspect_key_package(&published.message, &net.trust, net.now + 7200).is_err());
        assert!(inspect_key_package(&published.message, &TrustStore::new(), net.now).is_err());
        let mut corrupted = published.message.clone();
        let last = corrupted.len() - 1;
        corrupted[last] ^= 1;
        assert!(inspect_key_package(&corrupted, &net.trust, net.now).is_err());
    }

    #[test]
    fn request_credentials_are_validated_against_the_pinned_ca() {
        let mut net = Net::new();
        net.add_client("b.example", "bob", "bob1");
        let bob = &net.clients["bob1"];
        let credential = bob.mls_credential_bytes().unwrap();
        let key = bob.signing_key().public().to_vec();
        let who = verify_credential(&credential, &key, &net.trust, net.now).unwrap();
        assert_eq!(who.domain(), &domain("b.example"));
        let other_key = crate::SigningKey::generate().unwrap();
        assert!(verify_credential(&credential, other_key.public(), &net.trust, net.now).is_err());
        assert!(verify_credential(&credential[1..], &key, &net.trust, net.now).is_err());
    }
}
