//! Consent books and the peer requests queued with them.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn consent_write(user: &UserUri, expected_version: u64, state: &str) -> ConsentWrite {
    ConsentWrite {
        user: user.clone(),
        expected_version,
        state: state.as_bytes().to_vec(),
    }
}

fn peer_request(to: &str, kind: PeerRequestKind, body: &str) -> NewPeerRequest {
    NewPeerRequest {
        to: domain(to),
        kind,
        body: body.as_bytes().to_vec(),
    }
}

/// Consent books are versioned like room records; several books and their peer requests
/// are written in one transaction, and a stale version anywhere writes nothing.
pub async fn consent_books_and_their_requests_are_one_transaction<S: DsStore>(store: &S) {
    let diana = UserUri::parse("mimi://z.example/u/diana").unwrap();
    let fay = UserUri::parse("mimi://z.example/u/fay").unwrap();
    assert_eq!(store.load_consent(&diana).await.unwrap(), None);
    store
        .save_consent(
            vec![consent_write(&diana, 0, "d1")],
            vec![peer_request(
                "y.example",
                PeerRequestKind::UpdateConsent,
                "grant",
            )],
        )
        .await
        .unwrap();
    let stored = store.load_consent(&diana).await.unwrap().unwrap();
    assert_eq!(
        (stored.version, stored.state.as_slice()),
        (1, b"d1".as_slice())
    );
    // Two books at once; one is stale: nothing is written, no request queued.
    let stale = store
        .save_consent(
            vec![
                consent_write(&fay, 0, "f1"),
                consent_write(&diana, 0, "d-lost"),
            ],
            vec![peer_request(
                "y.example",
                PeerRequestKind::RequestConsent,
                "lost",
            )],
        )
        .await;
    assert!(matches!(stale, Err(StoreError::Conflict { .. })));
    assert_eq!(store.load_consent(&fay).await.unwrap(), None);
    assert_eq!(
        store.load_consent(&diana).await.unwrap().unwrap().state,
        b"d1"
    );
    let queued = store
        .pending_peer_requests(&domain("y.example"), 10)
        .await
        .unwrap();
    assert_eq!(queued.len(), 1, "the refused save queued nothing");
    // Both, at the right versions.
    store
        .save_consent(
            vec![consent_write(&fay, 0, "f1"), consent_write(&diana, 1, "d2")],
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(store.load_consent(&fay).await.unwrap().unwrap().version, 1);
    let d = store.load_consent(&diana).await.unwrap().unwrap();
    assert_eq!((d.version, d.state.as_slice()), (2, b"d2".as_slice()));
    // A version no book can have conflicts.
    assert!(matches!(
        store
            .save_consent(vec![consent_write(&diana, u64::MAX, "x")], vec![])
            .await,
        Err(StoreError::Conflict { .. })
    ));
}

/// Peer requests come back per destination in queue order with their kind, and are gone
/// once acknowledged.
pub async fn peer_requests_are_ordered_per_destination<S: DsStore>(store: &S) {
    let user = UserUri::parse("mimi://z.example/u/diana").unwrap();
    store
        .save_consent(
            vec![consent_write(&user, 0, "b")],
            vec![
                peer_request("y.example", PeerRequestKind::RequestConsent, "1"),
                peer_request("x.example", PeerRequestKind::UpdateConsent, "2"),
                peer_request("y.example", PeerRequestKind::UpdateConsent, "3"),
            ],
        )
        .await
        .unwrap();
    let y = store
        .pending_peer_requests(&domain("y.example"), 10)
        .await
        .unwrap();
    let seen: Vec<(PeerRequestKind, &[u8])> =
        y.iter().map(|r| (r.kind, r.body.as_slice())).collect();
    assert_eq!(
        seen,
        [
            (PeerRequestKind::RequestConsent, b"1".as_slice()),
            (PeerRequestKind::UpdateConsent, b"3".as_slice())
        ]
    );
    assert!(y[0].id < y[1].id);
    assert!(y.iter().all(|r| r.to == domain("y.example")));
    assert_eq!(
        store
            .pending_peer_requests(&domain("y.example"), 1)
            .await
            .unwrap()
            .len(),
        1
    );
    store.ack_peer_request(y[0].id).await.unwrap();
    store.ack_peer_request(y[0].id).await.unwrap();
    let rest = store
        .pending_peer_requests(&domain("y.example"), 10)
        .await
        .unwrap();
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].body, b"3");
    assert_eq!(
        store
            .pending_peer_requests(&domain("x.example"), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}
