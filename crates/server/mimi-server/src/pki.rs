//! The provider's TLS PKI.
//!
//! Choice: a **sibling TLS CA** next to the MLS provider CA. `mimi_mls::ProviderCa` keeps its
//! Ed25519 key private (its record format belongs to mimi-mls) and issues only certificates with
//! MIMI URI SANs, while TLS needs a DNS SAN and the serverAuth/clientAuth key purposes. So each
//! provider has two CAs, both pinned per domain by its peers: the TLS CA (ECDSA P-256, in the
//! transport trust store) and the MLS CA (in the MLS trust store and the clients' trust
//! bundle). One TLS certificate naming the domain serves as server and client certificate.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

use crate::error::ServerError;

/// A TLS CA and the certificate it issued for the provider, all PEM.
pub(crate) struct TlsFilesPem {
    pub(crate) ca_cert: String,
    pub(crate) cert: String,
    pub(crate) key: String,
}

fn issue_error(e: rcgen::Error) -> ServerError {
    ServerError::Init(format!("TLS certificate: {e}"))
}

/// A self-signed server certificate for the client API naming `domain`, `localhost` and
/// `127.0.0.1` (not a CA: devices pin it as their one trust anchor), and its key, PEM.
pub(crate) fn client_api_self_signed(domain: &str) -> Result<(String, String), ServerError> {
    let names = vec![
        domain.to_owned(),
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
    ];
    let mut params = CertificateParams::new(names).map_err(issue_error)?;
    params
        .distinguished_name
        .push(DnType::CommonName, format!("{domain} MIMI client API"));
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.not_after = rcgen::date_time_ymd(2035, 1, 1);
    let key = KeyPair::generate().map_err(issue_error)?;
    let cert = params.self_signed(&key).map_err(issue_error)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// A new TLS CA for `domain` and a server+client certificate naming `domain`.
pub(crate) fn tls_for(domain: &str) -> Result<TlsFilesPem, ServerError> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(issue_error)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("{domain} MIMI TLS CA"));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca_params.not_after = rcgen::date_time_ymd(2036, 1, 1);
    let ca_key = KeyPair::generate().map_err(issue_error)?;
    let ca_cert = ca_params.self_signed(&ca_key).map_err(issue_error)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let mut params = CertificateParams::new(vec![domain.to_owned()]).map_err(issue_error)?;
    params.distinguished_name.push(DnType::CommonName, domain);
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.not_after = rcgen::date_time_ymd(2035, 1, 1);
    let key = KeyPair::generate().map_err(issue_error)?;
    let cert = params.signed_by(&key, &issuer).map_err(issue_error)?;
    Ok(TlsFilesPem {
        ca_cert: ca_cert.pem(),
        cert: cert.pem(),
        key: key.serialize_pem(),
    })
}
