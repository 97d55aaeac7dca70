//! The client API over HTTPS (`[client_tls]`, `mimi init --client-tls`) through real
//! providers: devices that pin the provider's certificate register, create a room, invite
//! across providers and send; devices without the pin or with a wrong one are refused with an
//! error that says how to pin; plain HTTP to the TLS port fails; half-open requests and idle
//! connections are closed after the request-head timeout, and the provider still serves.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use common::{Node, federation_with, member, settle, texts, user_pinned};
use mimi_sdk::{Device, Preset, SdkError};
use mimi_server::DevProvider;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};

/// A generous bound on "closed after the timeout": never a speed assertion.
const CLOSED_WITHIN: Duration = Duration::from_secs(30);

fn with_client_tls(provider: &mut DevProvider) {
    mimi_server::add_client_tls(&mut provider.config, &provider.config_path).unwrap();
}

fn cert_of(node: &Node) -> String {
    let files = node.config.client_tls.as_ref().unwrap();
    std::fs::read_to_string(node.config.resolve(&files.cert)).unwrap()
}

fn assert_untrusted(err: &SdkError) {
    assert!(matches!(err, SdkError::UntrustedServer { .. }), "{err}");
    assert!(err.to_string().contains("--server-cert"), "{err}");
}

#[test]
fn devices_pinning_the_certificate_talk_over_https_and_others_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation_with(
        &dir.path().join("servers"),
        &["x.example", "y.example"],
        |_, p| with_client_tls(p),
    );
    let profiles = dir.path().join("profiles");
    let (x_cert, y_cert) = (cert_of(&nodes[0]), cert_of(&nodes[1]));
    assert!(nodes[0].base_url().starts_with("https://"));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let x = nodes[0].base_url();
        // No pin: the public roots do not know a self-signed certificate.
        let err = Device::register_account(&x, "mallory", "mallory-password")
            .await
            .unwrap_err();
        assert_untrusted(&err);
        // A wrong pin (the other provider's certificate).
        let err = Device::register_account_pinned(&x, Some(&y_cert), "mallory", "mallory-pw")
            .await
            .unwrap_err();
        assert_untrusted(&err);
        // A pin that holds no certificate.
        let err = Device::register_account_pinned(&x, Some("not a PEM file"), "mallory", "pw")
            .await
            .unwrap_err();
        assert!(matches!(err, SdkError::Input(_)), "{err}");
        // Plain HTTP to the TLS port gets no answer.
        let plain = format!("http://{}", nodes[0].client_addr);
        let err = Device::register_account(&plain, "eve", "eve-password")
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                SdkError::Unreachable { .. } | SdkError::Protocol { .. }
            ),
            "{err}"
        );

        // Pinned: the whole flow, across two HTTPS providers.
        let mut alice =
            user_pinned(&nodes[0], Some(&x_cert), &profiles.join("alice"), "alice").await;
        let mut bob = user_pinned(&nodes[1], Some(&y_cert), &profiles.join("bob"), "bob").await;
        let room = alice.room_uri("tls").unwrap();
        alice.create_room(&room, Preset::Cooperative).await.unwrap();
        alice.invite(&room, &[bob.user().clone()]).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| member(d, &room))
        })
        .await;
        alice.send_text(&room, "over https").await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            d.iter().all(|d| texts(d, &room).len() == 1)
        })
        .await;
        assert_eq!(texts(&bob, &room), vec!["over https".to_owned()]);
        // The event feed streams over a WebSocket inside TLS (wss), verified against the pin.
        assert!(alice.is_streaming() && bob.is_streaming());

        // The pin is remembered in the device's profile.
        let path = alice.path().to_owned();
        alice.close().await;
        let mut alice = Device::open(&path).await.unwrap();
        assert_eq!(alice.server_cert(), Some(x_cert.as_str()));
        alice.sync(0).await.unwrap();
    });
}

/// Reads until the server closes the connection; panics if it is still open after
/// [`CLOSED_WITHIN`]. Returns what the server sent first.
fn read_until_closed(mut stream: impl Read) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("the connection is still open after {CLOSED_WITHIN:?}")
            }
            // Reset or closed without close_notify: closed all the same.
            Err(_) => return got,
        }
    }
}

fn tcp(addr: SocketAddr) -> TcpStream {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(CLOSED_WITHIN)).unwrap();
    tcp
}

const PARTIAL_HEAD: &[u8] = b"POST /v1/accounts HTTP/1.1\r\nHost: x.example\r\nContent-";

#[test]
fn half_open_requests_and_idle_connections_are_closed_after_the_head_timeout() {
    let dir = tempfile::tempdir().unwrap();
    // x serves HTTPS, y plain HTTP; both with a short request-head timeout.
    let nodes = federation_with(
        &dir.path().join("servers"),
        &["x.example", "y.example"],
        |i, p| {
            p.config.limits.client_header_timeout_ms = 500;
            if i == 0 {
                with_client_tls(p);
            }
        },
    );
    let x_cert = cert_of(&nodes[0]);

    // Plain HTTP: half a request head, then nothing.
    let mut half_open = tcp(nodes[1].client_addr);
    half_open.write_all(PARTIAL_HEAD).unwrap();
    read_until_closed(half_open);

    // Plain HTTP: one whole request answered, then the idle keep-alive connection is closed.
    let mut idle = tcp(nodes[1].client_addr);
    idle.write_all(b"GET /no-such-route HTTP/1.1\r\nHost: y.example\r\n\r\n")
        .unwrap();
    let answer = read_until_closed(idle);
    assert!(answer.starts_with(b"HTTP/1.1 404"), "{answer:?}");

    // HTTPS: the handshake, half a request head, then nothing.
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(x_cert.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp(nodes[0].client_addr));
    tls.write_all(PARTIAL_HEAD).unwrap();
    tls.flush().unwrap();
    read_until_closed(tls);

    // Sentinels: both providers still serve.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        Device::register_account(&nodes[1].base_url(), "sentinel", "sentinel-password")
            .await
            .unwrap();
        Device::register_account_pinned(
            &nodes[0].base_url(),
            Some(&x_cert),
            "sentinel",
            "sentinel-password",
        )
        .await
        .unwrap();
    });
}

#[test]
fn a_bad_client_api_key_stops_the_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let domain = mimi_types::Domain::parse("x.example").unwrap();
    let home = dir.path().join("x");
    let mut config = mimi_server::init(&domain, &home).unwrap();
    mimi_server::add_client_tls(&mut config, &home.join(mimi_server::CONFIG_FILE)).unwrap();
    std::fs::write(home.join(mimi_server::CLIENT_TLS_KEY), "not a key").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let err = runtime
        .block_on(mimi_server::Server::start(config.clone()))
        .unwrap_err()
        .to_string();
    assert!(err.contains(mimi_server::CLIENT_TLS_KEY), "{err}");
    assert!(err.contains("mimi init --client-tls"), "{err}");

    std::fs::remove_file(home.join(mimi_server::CLIENT_TLS_CERT)).unwrap();
    let err = runtime
        .block_on(mimi_server::Server::start(config))
        .unwrap_err()
        .to_string();
    assert!(err.contains(mimi_server::CLIENT_TLS_CERT), "{err}");
}
