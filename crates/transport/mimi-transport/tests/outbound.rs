//! Ordered per-peer queues: retries until 2xx with Retry-After, order kept, a dead peer does not
//! hold up the others, a permanent refusal is reported.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use common::{Federation, domain, peers, start};
use mimi_transport::backoff::Backoff;
use mimi_transport::client::FederationClient;
use mimi_transport::outbound::{Outbound, OutboundEvent, OutboundRequest};
use mimi_transport::server::ServerConfig;

#[tokio::test]
async fn queues_retry_in_order_and_peers_do_not_block_each_other() {
    let fed = Federation::new();

    // x.example answers 503 + Retry-After to the first two attempts, then records bodies in order.
    let failures = Arc::new(AtomicU32::new(2));
    let received = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
    let router = {
        let failures = failures.clone();
        let received = received.clone();
        axum::Router::new()
            .route(
                "/notify",
                axum::routing::post(move |body: axum::body::Bytes| {
                    let failures = failures.clone();
                    let received = received.clone();
                    async move {
                        if failures
                            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                            .is_ok()
                        {
                            return (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "0")])
                                .into_response();
                        }
                        received.lock().unwrap().push(body.to_vec());
                        StatusCode::CREATED.into_response()
                    }
                }),
            )
            .route(
                "/refuse",
                axum::routing::post(|| async { StatusCode::BAD_REQUEST }),
            )
    };
    let x_server = start(
        ServerConfig::new(domain("x.example"), fed.x.issue("x.example"), fed.trust()),
        router,
    )
    .await;

    // z.example is down: nothing listens at its address.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap();
    drop(dead);

    let client = FederationClient::new(
        domain("y.example"),
        fed.y.issue("y.example"),
        fed.trust(),
        peers(&[("x.example", x_server.addr), ("z.example", dead_addr)]),
    );
    let backoff = Backoff {
        initial: Duration::from_millis(10),
        max: Duration::from_millis(100),
    };
    let (outbound, mut events) = Outbound::new(client, backoff);

    let z = domain("z.example");
    let x = domain("x.example");
    outbound.enqueue(
        &z,
        OutboundRequest {
            id: 100,
            path: "/notify".into(),
            body: b"lost".to_vec(),
        },
    );
    for id in 0..5u64 {
        outbound.enqueue(
            &x,
            OutboundRequest {
                id,
                path: "/notify".into(),
                body: format!("message {id}").into_bytes(),
            },
        );
    }
    outbound.enqueue(
        &x,
        OutboundRequest {
            id: 5,
            path: "/refuse".into(),
            body: Vec::new(),
        },
    );

    let mut delivered = Vec::new();
    let mut rejected = Vec::new();
    while delivered.len() + rejected.len() < 6 {
        let event = tokio::time::timeout(Duration::from_secs(20), events.recv())
            .await
            .expect("x's queue must drain although z is down")
            .unwrap();
        match event {
            OutboundEvent::Delivered {
                peer,
                id,
                response,
                attempts,
            } => {
                assert_eq!(peer, x);
                assert_eq!(response.status, 201);
                delivered.push((id, attempts));
            }
            OutboundEvent::Rejected { peer, id, response } => {
                assert_eq!(peer, x);
                assert_eq!(response.status, 400);
                rejected.push(id);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(delivered, [(0, 3), (1, 1), (2, 1), (3, 1), (4, 1)]);
    assert_eq!(rejected, [5]);
    let bodies: Vec<String> = received
        .lock()
        .unwrap()
        .iter()
        .map(|b| String::from_utf8(b.clone()).unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            "message 0",
            "message 1",
            "message 2",
            "message 3",
            "message 4"
        ]
    );
    assert_eq!(outbound.depth(&x), 0);
    assert_eq!(
        outbound.depth(&z),
        1,
        "z's request waits for z to come back"
    );
}
