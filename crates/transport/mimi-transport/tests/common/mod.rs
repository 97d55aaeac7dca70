//! Test PKI and servers for the transport tests: real certificates, real TLS on 127.0.0.1.

#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use mimi_transport::server::{ServerConfig, serve};
use mimi_transport::{PeerTable, TlsIdentity, TrustStore};
use mimi_types::Domain;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub fn domain(s: &str) -> Domain {
    Domain::parse(s).unwrap()
}

/// A CA for one provider domain.
pub struct TestCa {
    pub cert: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("{name} provider CA"));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Self {
            cert: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server-and-client TLS certificate naming `dns_name`.
    pub fn issue(&self, dns_name: &str) -> TlsIdentity {
        let mut params = CertificateParams::new(vec![dns_name.to_owned()]).unwrap();
        params.distinguished_name.push(DnType::CommonName, dns_name);
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        TlsIdentity {
            cert_chain: vec![cert.der().clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

/// Three providers' CAs and a rogue one nobody trusts.
pub struct Federation {
    pub x: TestCa,
    pub y: TestCa,
    pub z: TestCa,
    pub rogue: TestCa,
}

impl Federation {
    pub fn new() -> Self {
        Self {
            x: TestCa::new("x.example"),
            y: TestCa::new("y.example"),
            z: TestCa::new("z.example"),
            rogue: TestCa::new("rogue"),
        }
    }

    pub fn trust(&self) -> TrustStore {
        let mut trust = TrustStore::new();
        trust.pin(domain("x.example"), self.x.cert.clone());
        trust.pin(domain("y.example"), self.y.cert.clone());
        trust.pin(domain("z.example"), self.z.cert.clone());
        trust
    }
}

/// A running test server and what its handler saw.
pub struct TestServer {
    pub addr: SocketAddr,
    pub handled: Arc<Mutex<Vec<String>>>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts `config` with a router whose `POST /echo` records the peer domain and the body length,
/// and answers with the peer domain.
pub async fn start_echo(config: ServerConfig) -> TestServer {
    let handled = Arc::new(Mutex::new(Vec::new()));
    let seen = handled.clone();
    let router = axum::Router::new().route(
        "/echo",
        axum::routing::post(
            move |axum::Extension(peer): axum::Extension<mimi_transport::PeerDomain>,
                  body: axum::body::Bytes| {
                let seen = seen.clone();
                async move {
                    seen.lock()
                        .unwrap()
                        .push(format!("{} {}", peer.0, body.len()));
                    peer.0.to_string()
                }
            },
        ),
    );
    let mut server = start(config, router).await;
    server.handled = handled;
    server
}

/// Starts `config` serving `router`.
pub async fn start(config: ServerConfig, router: axum::Router) -> TestServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        serve(listener, config, router, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    TestServer {
        addr,
        handled: Arc::new(Mutex::new(Vec::new())),
        stop: Some(stop),
    }
}

pub fn peers(entries: &[(&str, SocketAddr)]) -> PeerTable {
    let mut table = PeerTable::new();
    for (name, addr) in entries {
        table.insert(domain(name), *addr);
    }
    table
}

/// A raw HTTPS client towards `y.example` at `addr`, presenting `identity` (or nothing), for
/// requests the federation client would never send.
pub fn raw_client(
    identity: Option<&TlsIdentity>,
    server_ca: &TestCa,
    addr: SocketAddr,
) -> reqwest::Client {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(server_ca.cert.clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let tls = match identity {
        Some(id) => builder
            .with_client_auth_cert(id.cert_chain.clone(), id.key.clone_key())
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .resolve("y.example", addr)
        .build()
        .unwrap()
}
