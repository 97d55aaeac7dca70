//! Provider-issued X.509 credentials and the trust store that checks them.
//!
//! Our reading of draft-mahy-mimi-identity-05 "single combined cert" (digest §6.2,
//! ARCHITECTURE §4): each provider runs a CA for its own domain; every client gets one
//! certificate whose subject public key is the client's MLS signature key and whose
//! subjectAltNames are exactly two URIs, the client URI (`mimi://x/d/...`) and the user URI
//! (`mimi://x/u/...`), both on the issuer's domain. A server (the hub as an MLS external
//! sender) gets a certificate with one URI SAN, its provider URI (`mimi://x`). A bot's or a
//! logging client's certificate also carries the provider's marker saying so
//! ([`crate::client_kind`]).
//!
//! Peers trust a CA only for the domain it is pinned to in their [`TrustStore`]: a provider
//! can vouch only for its own users.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DistinguishedName, DnType, IsCa, Issuer,
    KeyPair, KeyUsagePurpose, PKCS_ED25519, PublicKeyData, SanType, SignatureAlgorithm,
};
use tls_codec::{Deserialize as _, Serialize as _, VLBytes};
use x509_parser::certificate::{Validity as CertValidity, X509Certificate};
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::time::ASN1Time;

use mimi_room::ClientKind;
use mimi_types::{ClientUri, Domain, MimiUri, ProviderUri, UserUri};

use crate::cert_cache::{self, DerDigest, ParsedLeaf, der_digest};
use crate::client_kind;
use crate::error::CredentialError;

/// An X.509 MLS credential: the DER certificate chain, leaf first (RFC 9420 §5.3
/// `Certificate certificates<V>`). Ours carry the leaf only; the issuing CA is pinned, not sent.
///
/// On the wire (RFC 9420 §5.3, §2.1.2 variable-length vectors):
///
/// ```text
/// struct { opaque cert_data<V>; } Certificate;
/// struct { CredentialType credential_type; /* 2 = x509 */ Certificate certificates<V>; } Credential;
/// ```
///
/// so one certificate reads `00 02 | len(list) | len(cert) | 30 82 ...`.
#[derive(Clone, PartialEq, Eq)]
pub struct X509Credential {
    chain: Vec<Vec<u8>>,
}

impl fmt::Debug for X509Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X509Credential")
            .field("certificates", &self.chain.len())
            .finish()
    }
}

/// The first byte of every DER certificate (a SEQUENCE).
const DER_SEQUENCE: u8 = 0x30;

impl X509Credential {
    /// A credential from a DER chain, leaf first.
    pub fn from_chain(chain: Vec<Vec<u8>>) -> Self {
        Self { chain }
    }

    /// The DER certificates, leaf first.
    pub fn chain(&self) -> &[Vec<u8>] {
        &self.chain
    }

    /// The leaf certificate's DER, if any.
    pub fn leaf_der(&self) -> Option<&[u8]> {
        self.chain.first().map(Vec::as_slice)
    }

    /// The body of the `certificates<V>` vector: each `Certificate { opaque cert_data<V>; }`
    /// in order, without the vector's own length (which the MLS `Credential` encoding,
    /// openmls's `serialized_content`, adds once).
    pub fn encode_content(&self) -> Result<Vec<u8>, CredentialError> {
        let mut out = Vec::new();
        for cert in &self.chain {
            VLBytes::from(cert.clone())
                .tls_serialize(&mut out)
                .map_err(|e| CredentialError::Encoding(e.to_string()))?;
        }
        Ok(out)
    }

    /// Parses the body of a `certificates<V>` vector (what [`X509Credential::encode_content`]
    /// writes): `Certificate` structs up to the end of the input, each `cert_data` a DER
    /// certificate (a SEQUENCE). The whole input must be consumed.
    ///
    /// Credentials from mimi-rs before the RFC 9420 fix carried one more length prefix (the
    /// list's, twice); those are refused with [`CredentialError::LegacyLayout`], which says
    /// how to get a new one.
    pub fn decode_content(bytes: &[u8]) -> Result<Self, CredentialError> {
        let chain = certificate_list(bytes)
            .map_err(|e| CredentialError::Malformed(format!("certificate chain: {e}")))?;
        if let Some(bad) = chain.iter().find(|c| c.first() != Some(&DER_SEQUENCE)) {
            if chain.len() == 1
                && certificate_list(bad).is_ok_and(|inner| {
                    !inner.is_empty() && inner.iter().all(|c| c.first() == Some(&DER_SEQUENCE))
                })
            {
                return Err(CredentialError::LegacyLayout);
            }
            return Err(CredentialError::Malformed(
                "cert_data is not a DER certificate".into(),
            ));
        }
        Ok(Self { chain })
    }
}

/// `Certificate` structs (`opaque cert_data<V>`) up to the end of `bytes`.
fn certificate_list(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, tls_codec::Error> {
    let mut chain = Vec::new();
    while !bytes.is_empty() {
        let cert = VLBytes::tls_deserialize(&mut bytes)?;
        chain.push(cert.as_slice().to_vec());
    }
    Ok(chain)
}

/// Who a validated credential names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifiedIdentity {
    /// A client certificate: the client, the user it belongs to, and whether its provider
    /// marks it a bot or a logging client.
    Client {
        /// The client (device) URI.
        client: ClientUri,
        /// The user URI.
        user: UserUri,
        /// A person's device, a bot or a logging client (the certificate's marker).
        kind: ClientKind,
    },
    /// A server certificate (hub or follower as MLS external sender).
    Server(Domain),
}

impl VerifiedIdentity {
    /// The domain that issued the credential (and that every URI in it is on).
    pub fn domain(&self) -> &Domain {
        match self {
            Self::Client { client, .. } => client.domain(),
            Self::Server(d) => d,
        }
    }
}

/// Key material of an Ed25519 MLS signature key, as rcgen needs it to certify it.
struct RawEd25519<'a>(&'a [u8]);

impl PublicKeyData for RawEd25519<'_> {
    fn der_bytes(&self) -> &[u8] {
        self.0
    }
    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ED25519
    }
}

/// Validity window of an issued certificate, in seconds since the UNIX epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    /// First second of validity.
    pub not_before: u64,
    /// Last second of validity.
    pub not_after: u64,
}

impl Validity {
    /// From `now` for `seconds`.
    pub fn starting(now: u64, seconds: u64) -> Self {
        Self {
            not_before: now,
            not_after: now.saturating_add(seconds),
        }
    }
}

fn asn1_time(secs: u64) -> Result<ASN1Time, CredentialError> {
    let secs =
        i64::try_from(secs).map_err(|_| CredentialError::Issue("time out of range".into()))?;
    ASN1Time::from_timestamp(secs).map_err(|e| CredentialError::Issue(format!("time: {e}")))
}

fn ca_params(domain: &Domain, validity: Validity) -> Result<CertificateParams, CredentialError> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(
        DnType::CommonName,
        format!("MIMI provider CA {}", domain.as_str()),
    );
    dn.push(DnType::OrganizationName, domain.as_str());
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.subject_alt_names = vec![SanType::URI(
        ProviderUri::new(domain.clone())
            .to_string()
            .try_into()
            .map_err(|e| CredentialError::Issue(format!("provider URI as IA5: {e}")))?,
    )];
    params.not_before = asn1_time(validity.not_before)?.to_datetime();
    params.not_after = asn1_time(validity.not_after)?.to_datetime();
    Ok(params)
}

/// A provider's certificate authority: issues the provider's client and server credentials.
///
/// The key is Ed25519. Keep [`ProviderCa::to_record`] secret: it holds the CA private key.
pub struct ProviderCa {
    domain: Domain,
    key: KeyPair,
    params: CertificateParams,
    cert_der: Vec<u8>,
    validity: Validity,
}

impl fmt::Debug for ProviderCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderCa")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl ProviderCa {
    /// Creates a new CA for `domain` with a fresh key, self-signed, valid for `validity`.
    pub fn generate(domain: Domain, validity: Validity) -> Result<Self, CredentialError> {
        let key = KeyPair::generate_for(&PKCS_ED25519)
            .map_err(|e| CredentialError::Issue(format!("CA key: {e}")))?;
        Self::from_key(domain, key, validity)
    }

    fn from_key(domain: Domain, key: KeyPair, validity: Validity) -> Result<Self, CredentialError> {
        let params = ca_params(&domain, validity)?;
        let cert = params
            .self_signed(&key)
            .map_err(|e| CredentialError::Issue(format!("CA certificate: {e}")))?;
        Ok(Self {
            domain,
            key,
            params,
            cert_der: cert.der().to_vec(),
            validity,
        })
    }

    /// The domain this CA vouches for.
    pub fn domain(&self) -> &Domain {
        &self.domain
    }

    /// The CA certificate (DER), to pin in peers' [`TrustStore`]s.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// Issues a client credential naming `client` and `user` for the Ed25519 MLS signature
    /// public key `signature_key` (32 bytes). Both URIs must be on this CA's domain.
    pub fn issue_client(
        &self,
        client: &ClientUri,
        user: &UserUri,
        signature_key: &[u8],
        validity: Validity,
    ) -> Result<X509Credential, CredentialError> {
        self.issue_client_as(client, user, &ClientKind::Person, signature_key, validity)
    }

    /// Issues a client credential as [`ProviderCa::issue_client`] does, marking the client a
    /// bot or a logging client (`kind`; a person's device carries no marker).
    pub fn issue_client_as(
        &self,
        client: &ClientUri,
        user: &UserUri,
        kind: &ClientKind,
        signature_key: &[u8],
        validity: Validity,
    ) -> Result<X509Credential, CredentialError> {
        if client.domain() != &self.domain {
            return Err(CredentialError::ClientDomainMismatch {
                uri: client.to_string(),
                issuer: self.domain.to_string(),
            });
        }
        if user.domain() != &self.domain {
            return Err(CredentialError::UserDomainMismatch {
                uri: user.to_string(),
                issuer: self.domain.to_string(),
            });
        }
        let marker = client_kind::encode(kind)?
            .map(|der| CustomExtension::from_oid_content(client_kind::CLIENT_KIND_OID, der));
        self.issue_certificate(
            &[client.to_string(), user.to_string()],
            marker.into_iter().collect(),
            signature_key,
            validity,
        )
    }

    /// Issues this provider's server credential (one URI SAN, the provider URI), used as the
    /// hub's (or a follower's) MLS external-sender credential.
    pub fn issue_server(
        &self,
        signature_key: &[u8],
        validity: Validity,
    ) -> Result<X509Credential, CredentialError> {
        let uri = ProviderUri::new(self.domain.clone()).to_string();
        self.issue_with_uri_sans(&[uri], signature_key, validity)
    }

    /// Issues a certificate with exactly the given URI SANs, without checking them.
    ///
    /// For tests and tooling that need malformed credentials: validation in
    /// [`TrustStore::validate`] refuses what is inconsistent.
    pub fn issue_with_uri_sans(
        &self,
        uris: &[String],
        signature_key: &[u8],
        validity: Validity,
    ) -> Result<X509Credential, CredentialError> {
        self.issue_certificate(uris, Vec::new(), signature_key, validity)
    }

    /// Issues a certificate with exactly the given URI SANs and marker bytes as the client
    /// kind extension, without checking them (tests of what validation refuses; only with
    /// the `test-support` feature).
    #[cfg(any(test, feature = "test-support"))]
    pub fn issue_with_raw_marker(
        &self,
        uris: &[String],
        marker: Vec<u8>,
        signature_key: &[u8],
        validity: Validity,
    ) -> Result<X509Credential, CredentialError> {
        self.issue_with_raw_markers(uris, vec![marker], signature_key, validity)
    }

    /// Like [`ProviderCa::issue_with_raw_marker`] with one client kind extension per marker
    /// (several make a certificate validation refuses; only with the `test-support` feature).
    #[cfg(any(test, feature = "test-support"))]
    pub fn issue_with_raw_markers(
        &self,
        uris: &[String],
        markers: Vec<Vec<u8>>,
        signature_key: &[u8],
        validity: Validity,
    ) -> Result<X509Credential, CredentialError> {
        let extensions = markers
            .into_iter()
            .map(|m| CustomExtension::from_oid_content(client_kind::CLIENT_KIND_OID, m))
            .collect();
        self.issue_certificate(uris, extensions, signature_key, validity)
    }

    fn issue_certificate(
        &self,
        uris: &[String],
        extensions: Vec<CustomExtension>,
        signature_key: &[u8],
        validity: Validity,
    ) -> Result<X509Credential, CredentialError> {
        if signature_key.len() != 32 {
            return Err(CredentialError::Issue(format!(
                "an Ed25519 signature key is 32 bytes, got {}",
                signature_key.len()
            )));
        }
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        if let Some(first) = uris.first() {
            dn.push(DnType::CommonName, first.as_str());
        }
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.use_authority_key_identifier_extension = true;
        params.custom_extensions = extensions;
        params.subject_alt_names = uris
            .iter()
            .map(|u| {
                u.clone()
                    .try_into()
                    .map(SanType::URI)
                    .map_err(|e| CredentialError::Issue(format!("URI SAN {u}: {e}")))
            })
            .collect::<Result<_, _>>()?;
        params.not_before = asn1_time(validity.not_before)?.to_datetime();
        params.not_after = asn1_time(validity.not_after)?.to_datetime();
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params
            .signed_by(&RawEd25519(signature_key), &issuer)
            .map_err(|e| CredentialError::Issue(format!("client certificate: {e}")))?;
        Ok(X509Credential::from_chain(vec![cert.der().to_vec()]))
    }

    /// The CA as a secret record (domain, validity, PKCS#8 key) to store and restore.
    pub fn to_record(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let d = self.domain.as_str().as_bytes();
        out.extend_from_slice(&(d.len() as u32).to_be_bytes());
        out.extend_from_slice(d);
        out.extend_from_slice(&self.validity.not_before.to_be_bytes());
        out.extend_from_slice(&self.validity.not_after.to_be_bytes());
        out.extend_from_slice(&self.key.serialize_der());
        out
    }

    /// Restores a CA from [`ProviderCa::to_record`]; the certificate is re-derived.
    pub fn from_record(record: &[u8]) -> Result<Self, CredentialError> {
        let bad = |what: &str| CredentialError::Malformed(format!("CA record: {what}"));
        let (len, rest) = record
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("too short"))?;
        let len = u32::from_be_bytes(*len) as usize;
        if rest.len() < len {
            return Err(bad("domain truncated"));
        }
        let (domain, rest) = rest.split_at(len);
        let domain: Domain = std::str::from_utf8(domain)
            .map_err(|_| bad("domain not UTF-8"))?
            .parse()
            .map_err(|_| bad("domain invalid"))?;
        let (nb, rest) = rest
            .split_first_chunk::<8>()
            .ok_or_else(|| bad("validity"))?;
        let (na, key) = rest
            .split_first_chunk::<8>()
            .ok_or_else(|| bad("validity"))?;
        let validity = Validity {
            not_before: u64::from_be_bytes(*nb),
            not_after: u64::from_be_bytes(*na),
        };
        let key = KeyPair::try_from(key).map_err(|e| bad(&format!("key: {e}")))?;
        Self::from_key(domain, key, validity)
    }
}

/// A pinned CA for one domain.
#[derive(Clone)]
struct Anchor {
    cert_der: Vec<u8>,
    /// SHA-256 of `cert_der`: what the process-wide cache records an issuer check under.
    digest: DerDigest,
    /// The CA certificate's validity window (read when pinned).
    validity: CertValidity,
}

/// The CAs a party trusts, each pinned to the one domain it may vouch for.
#[derive(Clone, Default)]
pub struct TrustStore {
    anchors: BTreeMap<Domain, Anchor>,
}

impl fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.anchors.keys()).finish()
    }
}

impl X509Credential {
    /// How long its leaf certificate is valid, in seconds (`notAfter - notBefore`), for
    /// `mls_operational_policy`'s `max_credential_lifetime`.
    pub(crate) fn validity_period_s(&self) -> Result<u64, CredentialError> {
        let der = self
            .leaf_der()
            .ok_or_else(|| CredentialError::Malformed("an empty certificate chain".into()))?;
        Ok(parsed_leaf(der)?.1.facts.validity_s)
    }
}

/// What a leaf certificate says, its digest, and whether it came from the [`cert_cache`]
/// (else it was parsed now and is not kept: only [`TrustStore::validate_leaf`] keeps a leaf,
/// once a pinned CA is found to have issued it, so certificates nobody trusts cannot crowd
/// the cache).
fn parsed_leaf(der: &[u8]) -> Result<(DerDigest, Arc<ParsedLeaf>, bool), CredentialError> {
    let digest = der_digest(der);
    if let Some(parsed) = cert_cache::leaf(&digest) {
        return Ok((digest, parsed, true));
    }
    let cert = parse_cert(der)?;
    let facts = LeafFacts {
        identity: identity_of(&cert)?,
        validity_s: validity_s(&cert),
    };
    Ok((digest, Arc::new(ParsedLeaf::of(&cert, facts)), false))
}

fn parse_cert(der: &[u8]) -> Result<X509Certificate<'_>, CredentialError> {
    let (rest, cert) = X509Certificate::from_der(der)
        .map_err(|e| CredentialError::Malformed(format!("certificate DER: {e}")))?;
    if !rest.is_empty() {
        return Err(CredentialError::Malformed(
            "trailing bytes after the certificate".into(),
        ));
    }
    Ok(cert)
}

fn uri_sans(cert: &X509Certificate<'_>) -> Result<Vec<String>, CredentialError> {
    let mut out = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
            for name in &san.general_names {
                match name {
                    GeneralName::URI(u) => out.push((*u).to_string()),
                    other => {
                        return Err(CredentialError::UnexpectedSan(format!("{other:?}")));
                    }
                }
            }
        }
    }
    Ok(out)
}

impl TrustStore {
    /// An empty store (trusts nobody).
    pub fn new() -> Self {
        Self::default()
    }

    /// Pins `ca_cert_der` as the CA of `domain`, replacing an earlier pin. The certificate
    /// must parse, be a CA and name `domain` in a provider URI SAN (as [`ProviderCa`] does).
    pub fn pin(&mut self, domain: Domain, ca_cert_der: &[u8]) -> Result<(), CredentialError> {
        let cert = parse_cert(ca_cert_der)?;
        if !cert.is_ca() {
            return Err(CredentialError::NotACa(domain.to_string()));
        }
        let sans = uri_sans(&cert)?;
        let expected = ProviderUri::new(domain.clone()).to_string();
        if !sans.contains(&expected) {
            return Err(CredentialError::CaDomainMismatch {
                domain: domain.to_string(),
            });
        }
        self.anchors.insert(
            domain,
            Anchor {
                cert_der: ca_cert_der.to_vec(),
                digest: der_digest(ca_cert_der),
                validity: cert.validity().clone(),
            },
        );
        Ok(())
    }

    /// Whether a CA is pinned for `domain`.
    pub fn trusts(&self, domain: &Domain) -> bool {
        self.anchors.contains_key(domain)
    }

    /// The pinned domains.
    pub fn domains(&self) -> impl Iterator<Item = &Domain> {
        self.anchors.keys()
    }

    /// Validates an X.509 MLS credential whose leaf must certify `signature_key` at `now`
    /// (seconds since the UNIX epoch): chain to the CA pinned for the URIs' domain, every URI
    /// on that domain, validity dates, key usage digitalSignature, not a CA. Returns whom it
    /// names.
    pub fn validate(
        &self,
        credential: &X509Credential,
        signature_key: &[u8],
        now: u64,
    ) -> Result<VerifiedIdentity, CredentialError> {
        Ok(self.validate_leaf(credential, signature_key, now)?.identity)
    }

    /// [`TrustStore::validate`], also returning the validity period read in the same parse.
    ///
    /// The certificate is parsed, and its issuer name and signature checked against the
    /// pinned CA, once per process ([`cert_cache`]: keyed by the leaf's and the CA's DER);
    /// every other check (the CA pinned for its domain, both validity windows at `now`, CA
    /// flag, key usage, certified key) is made on every call, in the same order.
    pub(crate) fn validate_leaf(
        &self,
        credential: &X509Credential,
        signature_key: &[u8],
        now: u64,
    ) -> Result<LeafFacts, CredentialError> {
        let leaf_der = credential.leaf_der().ok_or(CredentialError::EmptyChain)?;
        let (digest, leaf, cached) = parsed_leaf(leaf_der)?;
        let domain = leaf.facts.identity.domain();
        let anchor = self
            .anchors
            .get(domain)
            .ok_or_else(|| CredentialError::UntrustedDomain(domain.to_string()))?;
        if !cert_cache::issued_by(&digest, &anchor.digest) {
            check_issuer(leaf_der, &anchor.cert_der).map_err(|()| {
                CredentialError::IssuerNotPinned {
                    domain: domain.to_string(),
                }
            })?;
            cert_cache::remember_issued(digest, anchor.digest);
        }
        if !cached {
            cert_cache::remember_leaf(digest, leaf.clone());
        }
        let now_t = asn1_time(now).map_err(|_| CredentialError::Expired)?;
        if !leaf.validity.is_valid_at(now_t) {
            return Err(CredentialError::Expired);
        }
        if !anchor.validity.is_valid_at(now_t) {
            return Err(CredentialError::CaExpired(domain.to_string()));
        }
        if leaf.is_ca {
            return Err(CredentialError::LeafIsCa);
        }
        if !leaf.digital_signature {
            return Err(CredentialError::KeyUsage);
        }
        if leaf.key.as_slice() != signature_key {
            return Err(CredentialError::KeyMismatch);
        }
        Ok(leaf.facts.clone())
    }
}

/// Whether the CA certificate `ca_der` issued the certificate `leaf_der`: its subject is the
/// leaf's issuer and its key verifies the leaf's signature.
fn check_issuer(leaf_der: &[u8], ca_der: &[u8]) -> Result<(), ()> {
    let leaf = parse_cert(leaf_der).map_err(|_| ())?;
    let ca = parse_cert(ca_der).map_err(|_| ())?;
    if leaf.issuer() != ca.subject() {
        return Err(());
    }
    leaf.verify_signature(Some(ca.public_key())).map_err(|_| ())
}

/// Reads the identity out of a certificate's URI SANs (no trust decision).
fn identity_from_sans(sans: &[String]) -> Result<VerifiedIdentity, CredentialError> {
    let mut client = None;
    let mut user = None;
    let mut provider = None;
    for s in sans {
        let uri = MimiUri::parse(s).map_err(|e| CredentialError::BadUri {
            uri: s.clone(),
            reason: e.to_string(),
        })?;
        let slot_taken = match uri {
            MimiUri::Client(c) => client.replace(c).is_some(),
            MimiUri::User(u) => user.replace(u).is_some(),
            MimiUri::Provider(p) => provider.replace(p).is_some(),
            other => {
                return Err(CredentialError::BadUri {
                    uri: other.to_string(),
                    reason: "a credential names a client, a user or a provider only".into(),
                });
            }
        };
        if slot_taken {
            return Err(CredentialError::DuplicateSan(s.clone()));
        }
    }
    match (client, user, provider) {
        (Some(client), Some(user), None) => {
            if user.domain() != client.domain() {
                return Err(CredentialError::UserDomainMismatch {
                    uri: user.to_string(),
                    issuer: client.domain().to_string(),
                });
            }
            Ok(VerifiedIdentity::Client {
                client,
                user,
                kind: ClientKind::Person,
            })
        }
        (None, None, Some(p)) => Ok(VerifiedIdentity::Server(p.domain().clone())),
        _ => Err(CredentialError::MissingSan),
    }
}

/// Reads the identity a credential claims without validating it (for display and for leaves
/// already validated when they joined).
pub(crate) fn claimed_identity(
    credential: &X509Credential,
) -> Result<VerifiedIdentity, CredentialError> {
    Ok(claimed_leaf(credential)?.identity)
}

/// What one parse of a credential's leaf certificate tells: whom it names and how long it is
/// valid. An added member's certificate is parsed once per commit for both.
#[derive(Debug, Clone)]
pub(crate) struct LeafFacts {
    /// Whom the certificate names.
    pub(crate) identity: VerifiedIdentity,
    /// `notAfter - notBefore`, in seconds (`mls_operational_policy`'s
    /// `max_credential_lifetime`).
    pub(crate) validity_s: u64,
}

/// [`LeafFacts`] of a credential, without validating it.
pub(crate) fn claimed_leaf(credential: &X509Credential) -> Result<LeafFacts, CredentialError> {
    let leaf_der = credential.leaf_der().ok_or(CredentialError::EmptyChain)?;
    Ok(parsed_leaf(leaf_der)?.1.facts.clone())
}

/// How long `cert` is valid, in seconds (`notAfter - notBefore`; 0 if reversed).
fn validity_s(cert: &X509Certificate<'_>) -> u64 {
    let validity = cert.validity();
    let seconds = validity
        .not_after
        .timestamp()
        .saturating_sub(validity.not_before.timestamp());
    u64::try_from(seconds).unwrap_or(0)
}

/// The identity a certificate names: its URI SANs and, for a client, its kind marker (a
/// server's certificate carries none).
fn identity_of(cert: &X509Certificate<'_>) -> Result<VerifiedIdentity, CredentialError> {
    let marker = cert
        .get_extension_unique(&client_kind::CLIENT_KIND_OID_DER)
        .map_err(|e| CredentialError::Malformed(format!("client kind extension: {e}")))?
        .map(|ext| ext.value);
    match identity_from_sans(&uri_sans(cert)?)? {
        VerifiedIdentity::Client { client, user, .. } => {
            let kind = match marker {
                Some(der) => client_kind::decode(der)?,
                None => ClientKind::Person,
            };
            Ok(VerifiedIdentity::Client { client, user, kind })
        }
        VerifiedIdentity::Server(_) if marker.is_some() => Err(CredentialError::Malformed(
            "a server certificate carries no client kind".into(),
        )),
        server => Ok(server),
    }
}

/// The public key a credential's leaf certificate certifies.
pub(crate) fn certified_key(credential: &X509Credential) -> Result<Vec<u8>, CredentialError> {
    let leaf_der = credential.leaf_der().ok_or(CredentialError::EmptyChain)?;
    Ok(parsed_leaf(leaf_der)?.1.key.clone())
}
