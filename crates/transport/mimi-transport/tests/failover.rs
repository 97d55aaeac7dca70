//! A provider that runs several processes is listed with several addresses: the client tries
//! them in order and takes the next when a connection fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::{SocketAddr, TcpListener};

use common::{Federation, domain, start_echo};
use mimi_transport::client::FederationClient;
use mimi_transport::server::ServerConfig;
use mimi_transport::{PeerTable, TransportError};

/// A loopback address nothing listens on (bound, then released).
fn closed_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[tokio::test]
async fn the_next_address_is_tried_when_a_connection_fails() {
    let fed = Federation::new();
    let y2 = start_echo(ServerConfig::new(
        domain("y.example"),
        fed.y.issue("y.example"),
        fed.trust(),
    ))
    .await;
    let mut table = PeerTable::new();
    // The first process of y is down; the second answers.
    table.insert_all(domain("y.example"), vec![closed_addr(), y2.addr]);
    assert_eq!(table.addrs(&domain("y.example")).len(), 2);
    let x = FederationClient::new(
        domain("x.example"),
        fed.x.issue("x.example"),
        fed.trust(),
        table,
    );
    for _ in 0..3 {
        let answer = x
            .post(&domain("y.example"), "/echo", b"hello".to_vec())
            .await
            .unwrap();
        assert!(answer.is_success(), "{}", answer.status);
        assert_eq!(answer.body, b"x.example");
    }
    assert_eq!(y2.handled.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn all_addresses_down_is_an_error_and_an_empty_list_is_no_peer() {
    let fed = Federation::new();
    let mut table = PeerTable::new();
    table.insert_all(domain("y.example"), vec![closed_addr(), closed_addr()]);
    table.insert_all(domain("z.example"), Vec::new());
    let x = FederationClient::new(
        domain("x.example"),
        fed.x.issue("x.example"),
        fed.trust(),
        table,
    );
    let err = x
        .post(&domain("y.example"), "/echo", Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::Http { .. }), "{err}");
    let err = x
        .post(&domain("z.example"), "/echo", Vec::new())
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::UnknownPeer(_)), "{err}");
}
