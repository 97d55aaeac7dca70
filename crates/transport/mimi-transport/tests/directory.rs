//! The directory is served to authenticated peers without a From check, and the client
//! resolves endpoint paths from it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Federation, domain, peers, start};
use mimi_federation_api::http::{ENDPOINTS, NOTIFY};
use mimi_transport::TransportError;
use mimi_transport::client::FederationClient;
use mimi_transport::server::{ServerConfig, directory_router};
use mimi_types::RoomUri;

#[tokio::test]
async fn peers_find_endpoints_through_the_directory() {
    let fed = Federation::new();
    let router = directory_router("https://y.example/v1", ENDPOINTS).unwrap();
    let server = start(
        ServerConfig::new(domain("y.example"), fed.y.issue("y.example"), fed.trust()),
        router,
    )
    .await;
    let x = FederationClient::new(
        domain("x.example"),
        fed.x.issue("x.example"),
        fed.trust(),
        peers(&[("y.example", server.addr)]),
    );
    let room = RoomUri::parse("mimi://y.example/r/clubhouse").unwrap();
    let path = x
        .endpoint_path(&domain("y.example"), &NOTIFY, &room)
        .await
        .unwrap();
    assert_eq!(path, "/v1/notify/mimi%3A%2F%2Fy.example%2Fr%2Fclubhouse");

    // A peer we have no address for.
    let err = x
        .endpoint_path(&domain("z.example"), &NOTIFY, &room)
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::UnknownPeer(_)), "{err}");
}
