//! A client's (or server's) MLS signing identity, its credential and its KeyPackages.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use openmls::prelude::{
    Credential, CredentialType, CredentialWithKey, KeyPackage, KeyPackageBundle, Lifetime,
    OpenMlsProvider, SignaturePublicKey,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::storage::StorageProvider as _;
use openmls_traits::types::SignatureScheme;
use tls_codec::{Deserialize as _, Serialize as _};

use mimi_room::ClientKind;
use mimi_types::{ClientUri, Domain, UserUri};

use crate::config::{CIPHERSUITE, leaf_capabilities};
use crate::credential::{ProviderCa, Validity, VerifiedIdentity, X509Credential};
use crate::error::{CredentialError, MlsError};
use crate::persist::{Reader, Writer};
use crate::store::StoreProvider;

const RECORD_TAG_DEVICE: u8 = 4;
const RECORD_TAG_SERVER: u8 = 5;

/// An Ed25519 signing key for MLS (and for the MIMI `SignWithLabel` signatures).
pub struct SigningKey {
    pub(crate) pair: SignatureKeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &hex_short(self.pair.public()))
            .finish_non_exhaustive()
    }
}

fn hex_short(b: &[u8]) -> String {
    b.iter().take(6).map(|x| format!("{x:02x}")).collect()
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, MlsError> {
        SignatureKeyPair::new(SignatureScheme::ED25519)
            .map(|pair| Self { pair })
            .map_err(MlsError::mls)
    }

    /// The 32-byte public key.
    pub fn public(&self) -> &[u8] {
        self.pair.public()
    }

    pub(crate) fn encode(&self, w: &mut Writer) -> Result<(), MlsError> {
        let b = self.pair.tls_serialize_detached().map_err(MlsError::mls)?;
        w.bytes(&b);
        Ok(())
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, MlsError> {
        let pair = SignatureKeyPair::tls_deserialize_exact(r.bytes()?)
            .map_err(|e| MlsError::Record(format!("signing key: {e}")))?;
        Ok(Self { pair })
    }

    /// A copy of the key (records and groups each hold one).
    pub(crate) fn duplicate(&self) -> Result<Self, MlsError> {
        let b = self.pair.tls_serialize_detached().map_err(MlsError::mls)?;
        let pair = SignatureKeyPair::tls_deserialize_exact(&b).map_err(MlsError::mls)?;
        Ok(Self { pair })
    }
}

/// A client device: its URIs, signing key and X.509 credential, plus the private halves of
/// the KeyPackages it has published.
pub struct ClientIdentity {
    client: ClientUri,
    user: UserUri,
    key: SigningKey,
    credential: X509Credential,
    /// Holds KeyPackage private keys until a Welcome consumes them.
    pub(crate) provider: StoreProvider,
    /// Counts changes of the record (KeyPackages made or consumed): see
    /// [`ClientIdentity::revision`].
    revision: AtomicU64,
    /// Restored from a record of an older format (see [`ClientIdentity::is_current_format`]).
    older_format: bool,
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("client", &self.client)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A KeyPackage ready to publish, with what the provider needs to route it.
#[derive(Clone, Debug)]
pub struct PublishedKeyPackage {
    /// The `MLSMessage` (wire format key_package) bytes.
    pub message: Vec<u8>,
    /// The KeyPackageRef (RFC 9420 §5.2), which a Welcome names.
    pub reference: Vec<u8>,
    /// Whether it is a last-resort KeyPackage (may be used more than once).
    pub last_resort: bool,
    /// `not_after` of the leaf lifetime (seconds since the UNIX epoch).
    pub not_after: u64,
}

impl ClientIdentity {
    /// A new device for `user` with a fresh signing key, certified by its provider's CA.
    pub fn new(
        ca: &ProviderCa,
        client: ClientUri,
        user: UserUri,
        validity: Validity,
    ) -> Result<Self, MlsError> {
        Self::new_as(ca, client, user, &ClientKind::Person, validity)
    }

    /// A new device as [`ClientIdentity::new`] makes, certified as a bot or a logging client
    /// (`kind`).
    pub fn new_as(
        ca: &ProviderCa,
        client: ClientUri,
        user: UserUri,
        kind: &ClientKind,
        validity: Validity,
    ) -> Result<Self, MlsError> {
        let key = SigningKey::generate()?;
        let credential = ca.issue_client_as(&client, &user, kind, key.public(), validity)?;
        Ok(Self::from_parts(client, user, key, credential))
    }

    /// Assembles an identity from a key and a credential issued elsewhere.
    pub fn from_parts(
        client: ClientUri,
        user: UserUri,
        key: SigningKey,
        credential: X509Credential,
    ) -> Self {
        Self {
            client,
            user,
            key,
            credential,
            provider: StoreProvider::default(),
            revision: AtomicU64::new(0),
            older_format: false,
        }
    }

    /// The client URI.
    pub fn client(&self) -> &ClientUri {
        &self.client
    }

    /// The user URI.
    pub fn user(&self) -> &UserUri {
        &self.user
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The X.509 credential.
    pub fn credential(&self) -> &X509Credential {
        &self.credential
    }

    /// What its credential says it is: a person's device, a bot or a logging client (a person's
    /// device where the credential cannot be read, which its peers would refuse anyway).
    pub fn kind(&self) -> ClientKind {
        match crate::credential::claimed_identity(&self.credential) {
            Ok(VerifiedIdentity::Client { kind, .. }) => kind,
            _ => ClientKind::Person,
        }
    }

    /// The MLS `Credential` bytes (TLS-encoded), as carried in KeyMaterialRequest and
    /// GroupInfoRequest.
    pub fn mls_credential_bytes(&self) -> Result<Vec<u8>, MlsError> {
        mls_credential(&self.credential)?
            .tls_serialize_detached()
            .map_err(MlsError::mls)
    }

    pub(crate) fn credential_with_key(&self) -> Result<CredentialWithKey, MlsError> {
        Ok(CredentialWithKey {
            credential: mls_credential(&self.credential)?,
            signature_key: SignaturePublicKey::from(self.key.public().to_vec()),
        })
    }

    /// Generates a KeyPackage valid from `now` for `lifetime_secs`, optionally marked
    /// last-resort (mls-extensions `last_resort_key_package`). Its private keys stay here until
    /// a Welcome uses it.
    pub fn key_package(
        &self,
        now: u64,
        lifetime_secs: u64,
        last_resort: bool,
    ) -> Result<PublishedKeyPackage, MlsError> {
        let not_after = now.saturating_add(lifetime_secs);
        let mut builder = KeyPackage::builder()
            .key_package_lifetime(Lifetime::init(now, not_after))
            .leaf_node_capabilities(leaf_capabilities());
        if last_resort {
            builder = builder.mark_as_last_resort();
        }
        let bundle = builder
            .build(
                CIPHERSUITE,
                &self.provider,
                &self.key.pair,
                self.credential_with_key()?,
            )
            .map_err(MlsError::mls)?;
        self.changed();
        let kp = bundle.key_package();
        let reference = kp
            .hash_ref(self.provider.crypto())
            .map_err(MlsError::mls)?
            .as_slice()
            .to_vec();
        let message = openmls::prelude::MlsMessageOut::from(kp.clone())
            .to_bytes()
            .map_err(MlsError::mls)?;
        Ok(PublishedKeyPackage {
            message,
            reference,
            last_resort,
            not_after,
        })
    }

    /// Takes (or, if last-resort, copies) the KeyPackage bundle a Welcome names.
    pub(crate) fn take_key_package(
        &self,
        reference: &openmls::prelude::KeyPackageRef,
    ) -> Result<Option<KeyPackageBundle>, MlsError> {
        let storage = self.provider.storage();
        let bundle: Option<KeyPackageBundle> =
            storage.key_package(reference).map_err(MlsError::mls)?;
        if let Some(b) = &bundle
            && !b.key_package().last_resort()
        {
            self.changed();
            storage
                .delete_key_package(reference)
                .map_err(MlsError::mls)?;
        }
        Ok(bundle)
    }

    /// Counts the changes of [`ClientIdentity::to_record`] since this value was made or
    /// restored (a KeyPackage generated or consumed): the record needs storing again only
    /// when this moved.
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::SeqCst)
    }

    /// Whether this value was made here or restored from a record of the current format: if
    /// not, store [`ClientIdentity::to_record`] again (a record of the current format) even
    /// though [`ClientIdentity::revision`] did not move. Its openmls values keep the codec they
    /// were stored in until openmls reads them (an unused KeyPackage until a Welcome uses it):
    /// values of an older codec still read.
    pub fn is_current_format(&self) -> bool {
        !self.older_format
    }

    fn changed(&self) {
        self.revision.fetch_add(1, Ordering::SeqCst);
    }

    /// The device as a secret record (URIs, key, credential, unused KeyPackages).
    pub fn to_record(&self) -> Result<Vec<u8>, MlsError> {
        let mut w = Writer::default();
        w.header(RECORD_TAG_DEVICE);
        w.str(&self.client.to_string());
        w.str(&self.user.to_string());
        self.key.encode(&mut w)?;
        w.list(self.credential.chain());
        crate::persist::write_storage(&mut w, self.provider.storage())?;
        Ok(w.finish_sealed())
    }

    /// Restores a device from [`ClientIdentity::to_record`].
    pub fn from_record(record: &[u8]) -> Result<Self, MlsError> {
        let mut r = Reader::new(crate::persist::open_sealed(record)?);
        let format = r.header(RECORD_TAG_DEVICE)?;
        let client = r.parse::<ClientUri>()?;
        let user = r.parse::<UserUri>()?;
        let key = SigningKey::decode(&mut r)?;
        let chain = r.list()?;
        let provider = StoreProvider::default();
        crate::persist::read_storage(&mut r, provider.storage(), format)?;
        r.end()?;
        Ok(Self {
            client,
            user,
            key,
            credential: X509Credential::from_chain(chain),
            provider,
            revision: AtomicU64::new(0),
            older_format: format != crate::persist::Format::Current,
        })
    }
}

/// A server's MLS external-sender identity (the hub's key and credential in the group's
/// `external_senders`).
pub struct ServerIdentity {
    domain: Domain,
    key: SigningKey,
    credential: X509Credential,
}

impl fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerIdentity")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl ServerIdentity {
    /// A new server identity with a fresh key, certified by the provider's CA.
    pub fn new(ca: &ProviderCa, validity: Validity) -> Result<Self, MlsError> {
        let key = SigningKey::generate()?;
        let credential = ca.issue_server(key.public(), validity)?;
        Ok(Self {
            domain: ca.domain().clone(),
            key,
            credential,
        })
    }

    /// The provider domain.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The signing key.
    pub fn signing_key(&self) -> &SigningKey {
        &self.key
    }

    /// The X.509 credential.
    pub fn credential(&self) -> &X509Credential {
        &self.credential
    }

    /// The TLS-encoded MLS `Credential` (x509) of the server, as an `ExternalSender` carries it.
    pub fn mls_credential_bytes(&self) -> Result<Vec<u8>, MlsError> {
        mls_credential(&self.credential)?
            .tls_serialize_detached()
            .map_err(MlsError::mls)
    }

    /// This server as an `ExternalSender` for group creation.
    pub fn external_sender(&self) -> ExternalSenderInfo {
        ExternalSenderInfo {
            signature_key: self.key.public().to_vec(),
            credential: self.credential.clone(),
        }
    }

    /// The server as a secret record.
    pub fn to_record(&self) -> Result<Vec<u8>, MlsError> {
        let mut w = Writer::default();
        w.header(RECORD_TAG_SERVER);
        w.str(self.domain.as_str());
        self.key.encode(&mut w)?;
        w.list(self.credential.chain());
        Ok(w.finish())
    }

    /// Restores a server identity from [`ServerIdentity::to_record`].
    pub fn from_record(record: &[u8]) -> Result<Self, MlsError> {
        let mut r = Reader::new(record);
        r.header_without_mls_state(RECORD_TAG_SERVER)?;
        let domain = r.parse::<Domain>()?;
        let key = SigningKey::decode(&mut r)?;
        let chain = r.list()?;
        r.end()?;
        Ok(Self {
            domain,
            key,
            credential: X509Credential::from_chain(chain),
        })
    }
}

/// An external sender as it appears in a group's `external_senders` extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalSenderInfo {
    /// The sender's signature public key.
    pub signature_key: Vec<u8>,
    /// The sender's X.509 credential.
    pub credential: X509Credential,
}

/// Wraps an X.509 credential as an MLS `Credential`.
pub(crate) fn mls_credential(c: &X509Credential) -> Result<Credential, MlsError> {
    Ok(Credential::new(CredentialType::X509, c.encode_content()?))
}

/// Reads an MLS credential as X.509.
pub(crate) fn x509_of(c: &Credential) -> Result<X509Credential, CredentialError> {
    if c.credential_type() != CredentialType::X509 {
        return Err(CredentialError::WrongType(u16::from(c.credential_type())));
    }
    X509Credential::decode_content(c.serialized_content())
}

/// Decodes a TLS-encoded MLS `Credential` (from a MIMI request) and reads who it claims to
/// be, without validating it.
pub fn claimed_identity_of_mls_credential(
    bytes: &[u8],
) -> Result<VerifiedIdentity, CredentialError> {
    let mut b = bytes;
    let c = Credential::tls_deserialize(&mut b)
        .map_err(|e| CredentialError::Malformed(format!("MLS credential: {e}")))?;
    if !b.is_empty() {
        return Err(CredentialError::Malformed(
            "trailing bytes after the MLS credential".into(),
        ));
    }
    crate::credential::claimed_identity(&x509_of(&c)?)
}
