//! Franking (draft-ietf-mimi-protocol-06 §5.4.1, digest §3.4.1): the MACs and the franking
//! agent a room's group carries.
//!
//! * The sender puts `franking_tag = HMAC_SHA256(salt, application_data)` in the `frank_aad`
//!   Safe AAD item of its PrivateMessage.
//! * The hub answers with `server_frank = HMAC_SHA256(hub_key, franking_tag || context)` and a
//!   signature over it with its franking key: the key of the room's `franking_signature_key`
//!   component (`FrankingAgentData`), which is the hub's external-sender key and credential.
//! * A receiver checks the signature and the tag, and keeps the frank; a report later hands
//!   the plaintext and the frank to the hub, which recomputes `server_frank` with `hub_key`.
//!
//! `hub_key` is derived from the hub's signing key (so a provider needs no second secret to
//! keep): HMAC-SHA256 keyed with the serialized key pair over a fixed label. A hub that
//! changes its signing key can no longer verify franks it issued before.

use hmac::{Hmac, Mac as _};
use openmls::prelude::{Credential, ExternalSender, SignaturePublicKey};
use sha2::Sha256;
use tls_codec::{Deserialize as _, Serialize as _};
use zeroize::Zeroizing;

use crate::credential::{TrustStore, VerifiedIdentity};
use crate::error::MlsError;
use crate::identity::{ExternalSenderInfo, ServerIdentity, SigningKey, mls_credential, x509_of};

/// Length of `franking_tag` and `server_frank`.
pub const FRANK_LEN: usize = 32;

/// The label `hub_key` is derived under.
const HUB_KEY_LABEL: &[u8] = b"mimi-rs franking hub_key v1";

fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> Result<[u8; FRANK_LEN], MlsError> {
    // HMAC takes keys of any length; the error is for fixed-size MACs only.
    let mut mac = Hmac::<Sha256>::new_from_slice(key)
        .map_err(|e| MlsError::Misuse(format!("HMAC key: {e}")))?;
    for p in parts {
        mac.update(p);
    }
    Ok(mac.finalize().into_bytes().into())
}

/// `franking_tag = HMAC_SHA256(key = salt, msg = application_data)`.
pub fn franking_tag(salt: &[u8], application_data: &[u8]) -> Result<[u8; FRANK_LEN], MlsError> {
    hmac_sha256(salt, &[application_data])
}

/// Whether two MACs are equal, in time independent of where they differ.
pub fn macs_equal(a: &[u8; FRANK_LEN], b: &[u8; FRANK_LEN]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `safe_aad` component listing `frank_aad` only (`ComponentsList { component_ids<V> }`).
pub fn safe_aad_component() -> Vec<u8> {
    let id = mimi_types::codepoints::ComponentId::FRANK_AAD
        .value()
        .to_be_bytes();
    vec![0x02, id[0], id[1]]
}

/// Whether a `safe_aad` component (`ComponentsList`) lists `frank_aad`.
pub fn lists_frank_aad(safe_aad: &[u8]) -> bool {
    let Ok(list) = tls_codec::VLBytes::tls_deserialize_exact(safe_aad) else {
        return false;
    };
    let ids = list.as_slice();
    ids.len() % 2 == 0
        && ids.chunks_exact(2).any(|c| {
            u16::from_be_bytes([c[0], c[1]])
                == mimi_types::codepoints::ComponentId::FRANK_AAD.value()
        })
}

/// The hub's private franking MAC key (`hub_key`).
pub struct HubFrankingKey(Zeroizing<[u8; FRANK_LEN]>);

impl std::fmt::Debug for HubFrankingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HubFrankingKey(..)")
    }
}

impl HubFrankingKey {
    /// `server_frank = HMAC_SHA256(hub_key, franking_tag || context)`, `context` being the
    /// TLS-encoded `ServerFrankingContext`.
    pub fn server_frank(
        &self,
        franking_tag: &[u8; FRANK_LEN],
        context: &[u8],
    ) -> Result<[u8; FRANK_LEN], MlsError> {
        hmac_sha256(self.0.as_slice(), &[franking_tag, context])
    }
}

/// What a hub franks with: its `hub_key` and its signing key (the franking agent's key of
/// the rooms it hosts).
#[derive(Debug)]
pub struct Franker {
    mac: HubFrankingKey,
    key: SigningKey,
}

impl Franker {
    /// The franking signature public key (the hub's external-sender key).
    pub fn public_key(&self) -> &[u8] {
        self.key.public()
    }

    /// `server_frank` over a tag and the encoded `ServerFrankingContext`.
    pub fn server_frank(
        &self,
        franking_tag: &[u8; FRANK_LEN],
        context: &[u8],
    ) -> Result<[u8; FRANK_LEN], MlsError> {
        self.mac.server_frank(franking_tag, context)
    }

    /// `SignWithLabel(franking key, "FrankingIntegrityTBS", tbs)`.
    pub fn sign(&self, tbs: &[u8]) -> Result<Vec<u8>, MlsError> {
        crate::sign::sign_with_label(&self.key, crate::sign::FRANKING_INTEGRITY, tbs)
            .map_err(|e| MlsError::Misuse(e.to_string()))
    }
}

impl ServerIdentity {
    /// What this server franks with as a hub.
    pub fn franker(&self) -> Result<Franker, MlsError> {
        Ok(Franker {
            mac: self.franking_key()?,
            key: self.signing_key().duplicate()?,
        })
    }

    /// This server's `hub_key`, derived from its signing key.
    pub fn franking_key(&self) -> Result<HubFrankingKey, MlsError> {
        let secret = Zeroizing::new(
            self.signing_key()
                .pair
                .tls_serialize_detached()
                .map_err(MlsError::mls)?,
        );
        Ok(HubFrankingKey(Zeroizing::new(hmac_sha256(
            &secret,
            &[HUB_KEY_LABEL],
        )?)))
    }
}

/// `FrankingAgentData { SignaturePublicKey franking_signature_key; Credential credential; }`
/// (component `franking_signature_key`) for a hub: its external-sender key and credential.
pub fn franking_agent_data(hub: &ExternalSenderInfo) -> Result<Vec<u8>, MlsError> {
    // The same layout as an ExternalSender: a signature key, then a credential.
    ExternalSender::new(
        SignaturePublicKey::from(hub.signature_key.clone()),
        mls_credential(&hub.credential)?,
    )
    .tls_serialize_detached()
    .map_err(MlsError::mls)
}

/// The signature key of `FrankingAgentData`, without validating its credential (for the hub,
/// which compares it with its own key).
pub fn agent_signature_key(data: &[u8]) -> Option<Vec<u8>> {
    let mut rest = data;
    SignaturePublicKey::tls_deserialize(&mut rest)
        .ok()
        .map(|k| k.as_slice().to_vec())
}

/// The `frank_aad` item of a PrivateMessage's `authenticated_data` (a SafeAAD), if it carries
/// one of the right length.
pub fn frank_aad_of(authenticated_data: &[u8]) -> Option<[u8; FRANK_LEN]> {
    if authenticated_data.is_empty() {
        return None;
    }
    let aad = openmls::prelude::SafeAad::tls_deserialize_exact(authenticated_data).ok()?;
    aad.items()
        .iter()
        .find(|i| i.component_id() == mimi_types::codepoints::ComponentId::FRANK_AAD.value())
        .and_then(|i| <[u8; FRANK_LEN]>::try_from(i.data()).ok())
}

/// A room's franking agent, read from its `franking_signature_key` component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrankingAgent {
    /// The franking signature public key.
    pub signature_key: Vec<u8>,
    /// The domain its credential names (a server credential).
    pub domain: mimi_types::Domain,
}

impl FrankingAgent {
    /// Decodes `FrankingAgentData` (the whole input) and validates its credential: a server
    /// credential chaining to `trust`, for the key it carries.
    pub fn decode(data: &[u8], trust: &TrustStore, now: u64) -> Result<Self, MlsError> {
        let malformed = |e: tls_codec::Error| MlsError::Malformed(format!("franking agent: {e}"));
        let mut rest = data;
        let key = SignaturePublicKey::tls_deserialize(&mut rest).map_err(malformed)?;
        let credential = Credential::tls_deserialize(&mut rest).map_err(malformed)?;
        if !rest.is_empty() {
            return Err(MlsError::Malformed(
                "franking agent: trailing bytes after the credential".into(),
            ));
        }
        let key = key.as_slice().to_vec();
        match trust.validate(&x509_of(&credential)?, &key, now)? {
            VerifiedIdentity::Server(domain) => Ok(Self {
                signature_key: key,
                domain,
            }),
            VerifiedIdentity::Client { .. } => {
                Err(crate::error::CredentialError::WrongKind { expected: "server" }.into())
            }
        }
    }
}
