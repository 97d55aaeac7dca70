//! Authenticating a peer provider from its TLS client certificate.
//!
//! The handshake accepts a client certificate only if it chains to the CA pinned for one of the
//! DNS names it carries ([`PinnedClientVerifier`]); that name is the connection's
//! [`PeerDomain`]. A CA that issues a certificate for somebody else's domain gains nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use mimi_types::Domain;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme,
};

use crate::error::TransportError;
use crate::identity::TrustStore;

/// The provider domain authenticated by a connection's client certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerDomain(pub Domain);

/// Why a peer certificate does not authenticate a provider.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerAuthError {
    /// No client certificate was presented.
    #[error("no client certificate: MIMI requires mutually authenticated TLS")]
    NoCertificate,
    /// The certificate could not be parsed.
    #[error("the client certificate is malformed")]
    Malformed,
    /// The certificate names no domain we have a CA for.
    #[error("the client certificate names no domain we federate with ({0})")]
    UnknownDomain(String),
    /// The certificate does not chain to the CA pinned for any domain it names.
    #[error("the client certificate for {domains} is not issued by the CA pinned for that domain")]
    WrongIssuer {
        /// The domains the certificate names.
        domains: String,
    },
}

/// The DNS names of a certificate's subjectAltName, as domains (invalid ones skipped).
fn dns_names(cert: &CertificateDer<'_>) -> Result<Vec<Domain>, PeerAuthError> {
    let (_, parsed) =
        x509_parser::parse_x509_certificate(cert).map_err(|_| PeerAuthError::Malformed)?;
    let san = parsed
        .subject_alternative_name()
        .map_err(|_| PeerAuthError::Malformed)?;
    let names = san
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    x509_parser::extensions::GeneralName::DNSName(dns) => Domain::parse(dns).ok(),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(names)
}

/// Verifies client certificates against the CA pinned for the domain they name.
pub(crate) struct PinnedClientVerifier {
    per_domain: BTreeMap<Domain, Arc<dyn ClientCertVerifier>>,
    hints: Vec<DistinguishedName>,
    signatures: Arc<dyn ClientCertVerifier>,
}

impl fmt::Debug for PinnedClientVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PinnedClientVerifier")
            .field("domains", &self.per_domain.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl PinnedClientVerifier {
    pub(crate) fn new(trust: &TrustStore) -> Result<Self, TransportError> {
        let provider = crate::crypto_provider();
        let mut per_domain = BTreeMap::new();
        let mut all = RootCertStore::empty();
        for (domain, ca) in trust.iter() {
            let mut roots = RootCertStore::empty();
            roots.add(ca.clone())?;
            all.add(ca.clone())?;
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| rustls::Error::General(e.to_string()))?;
            per_domain.insert(domain.clone(), verifier);
        }
        if per_domain.is_empty() {
            return Err(rustls::Error::General(
                "the trust store is empty: pin at least one provider CA".into(),
            )
            .into());
        }
        let hints = all.subjects();
        let signatures = WebPkiClientVerifier::builder_with_provider(Arc::new(all), provider)
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))?;
        Ok(Self {
            per_domain,
            hints,
            signatures,
        })
    }

    /// The domain `end_entity` authenticates, checking the chain against that domain's CA.
    pub(crate) fn authenticate(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<Domain, PeerAuthError> {
        let names = dns_names(end_entity)?;
        let mut known = false;
        for name in &names {
            if let Some(verifier) = self.per_domain.get(name) {
                known = true;
                if verifier
                    .verify_client_cert(end_entity, intermediates, now)
                    .is_ok()
                {
                    return Ok(name.clone());
                }
            }
        }
        let list = names
            .iter()
            .map(Domain::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        if known {
            Err(PeerAuthError::WrongIssuer { domains: list })
        } else {
            Err(PeerAuthError::UnknownDomain(list))
        }
    }
}

impl ClientCertVerifier for PinnedClientVerifier {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &self.hints
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        match self.authenticate(end_entity, intermediates, now) {
            Ok(_) => Ok(ClientCertVerified::assertion()),
            Err(PeerAuthError::Malformed) => Err(rustls::Error::InvalidCertificate(
                CertificateError::BadEncoding,
            )),
            // The reason travels in the handshake error, so the listener logs it.
            Err(err) => Err(rustls::Error::InvalidCertificate(CertificateError::Other(
                rustls::OtherError(Arc::new(err)),
            ))),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.signatures.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.signatures.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.signatures.supported_verify_schemes()
    }
}
