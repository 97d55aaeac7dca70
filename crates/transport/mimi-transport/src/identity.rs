//! Our TLS identity and the CAs we pin for each peer domain.

use std::collections::BTreeMap;
use std::path::Path;

use mimi_types::Domain;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::TransportError;

/// Our provider's TLS certificate chain and private key. The same certificate serves as server
/// certificate and, towards other providers, as client certificate.
#[derive(Debug)]
pub struct TlsIdentity {
    /// End-entity certificate first, then intermediates.
    pub cert_chain: Vec<CertificateDer<'static>>,
    /// The private key of the end-entity certificate.
    pub key: PrivateKeyDer<'static>,
}

impl Clone for TlsIdentity {
    fn clone(&self) -> Self {
        Self {
            cert_chain: self.cert_chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl TlsIdentity {
    /// Reads a PEM certificate chain and a PEM private key.
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, TransportError> {
        let cert_chain = rustls_pemfile::certs(&mut &cert_pem[..])
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| pem_error("certificate chain", e))?;
        if cert_chain.is_empty() {
            return Err(pem_error("certificate chain", "no CERTIFICATE block found"));
        }
        let key = rustls_pemfile::private_key(&mut &key_pem[..])
            .map_err(|e| pem_error("private key", e))?
            .ok_or_else(|| pem_error("private key", "no PRIVATE KEY block found"))?;
        Ok(Self { cert_chain, key })
    }

    /// Reads the PEM files at `cert` and `key`.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TransportError> {
        let cert_pem = std::fs::read(cert).map_err(|e| pem_error(cert.display(), e))?;
        let key_pem = std::fs::read(key).map_err(|e| pem_error(key.display(), e))?;
        Self::from_pem(&cert_pem, &key_pem)
    }
}

/// The CA certificate pinned for each provider domain we federate with (our own included).
///
/// A CA is trusted for its own domain only: a certificate naming `x.example` is accepted only if
/// it chains to the CA pinned for `x.example`.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    cas: BTreeMap<Domain, CertificateDer<'static>>,
}

impl TrustStore {
    /// An empty trust store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Pins `ca` (DER) for `domain`, replacing any earlier pin.
    pub fn pin(&mut self, domain: Domain, ca: CertificateDer<'static>) {
        self.cas.insert(domain, ca);
    }

    /// Pins the first certificate of a PEM file for `domain`.
    pub fn pin_pem(&mut self, domain: Domain, ca_pem: &[u8]) -> Result<(), TransportError> {
        let ca = rustls_pemfile::certs(&mut &ca_pem[..])
            .next()
            .ok_or_else(|| pem_error(format!("CA of {domain}"), "no CERTIFICATE block found"))?
            .map_err(|e| pem_error(format!("CA of {domain}"), e))?;
        self.pin(domain, ca);
        Ok(())
    }

    /// The CA pinned for `domain`.
    pub fn ca_for(&self, domain: &Domain) -> Option<&CertificateDer<'static>> {
        self.cas.get(domain)
    }

    /// Every pinned domain and its CA, in domain order.
    pub fn iter(&self) -> impl Iterator<Item = (&Domain, &CertificateDer<'static>)> {
        self.cas.iter()
    }

    /// Whether nothing is pinned.
    pub fn is_empty(&self) -> bool {
        self.cas.is_empty()
    }
}

fn pem_error(what: impl std::fmt::Display, reason: impl std::fmt::Display) -> TransportError {
    TransportError::Pem {
        what: what.to_string(),
        reason: reason.to_string(),
    }
}
