//! KeyPackage pools: claimed once, the last resort kept, removals.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use super::*;

fn key_package(n: u32, last_resort: bool) -> KeyPackageEntry {
    KeyPackageEntry {
        key_package: n.to_be_bytes().to_vec(),
        reference: format!("ref-{n}").into_bytes(),
        last_resort,
        not_after: 4_000_000_000,
    }
}

/// 100 concurrent claims on a device with 60 fresh KeyPackages: 60 distinct KeyPackages, 40
/// exhausted, never one twice; each claim is recorded for Welcome routing.
pub async fn key_packages_are_claimed_once_under_concurrency<S: DsStore>(store: &S) {
    let phone = device("phone");
    store
        .add_key_packages(&phone, (0..60).map(|n| key_package(n, false)).collect())
        .await
        .unwrap();
    store
        .add_key_packages(&phone, vec![key_package(0, false)])
        .await
        .unwrap();
    assert_eq!(store.fresh_key_packages(&phone, 0).await.unwrap(), 60);
    let claims = join_all((0..100).map(|_| store.claim_key_package(&phone, 0))).await;
    let mut seen = std::collections::BTreeSet::new();
    let mut exhausted = 0;
    for claim in claims {
        match claim.unwrap() {
            Claim::Fresh(entry) => {
                assert!(
                    seen.insert(entry.reference.clone()),
                    "a KeyPackage was handed out twice"
                );
                assert_eq!(
                    store.claimed_by(&entry.reference).await.unwrap(),
                    Some(phone.clone())
                );
            }
            Claim::Exhausted => exhausted += 1,
            other => panic!("unexpected claim {other:?}"),
        }
    }
    assert_eq!((seen.len(), exhausted), (60, 40));
    assert_eq!(store.fresh_key_packages(&phone, 0).await.unwrap(), 0);
    assert_eq!(store.claimed_by(b"unknown").await.unwrap(), None);
}

/// A last-resort KeyPackage is handed out after the fresh ones, and stays.
pub async fn last_resort_key_package_is_kept<S: DsStore>(store: &S) {
    let laptop = device("laptop");
    store
        .add_key_packages(&laptop, vec![key_package(1, false), key_package(2, true)])
        .await
        .unwrap();
    assert!(matches!(
        store.claim_key_package(&laptop, 0).await.unwrap(),
        Claim::Fresh(_)
    ));
    for _ in 0..2 {
        match store.claim_key_package(&laptop, 0).await.unwrap() {
            Claim::LastResort(entry) => assert_eq!(entry.reference, b"ref-2"),
            other => panic!("expected the last-resort KeyPackage, got {other:?}"),
        }
    }
    // Expired: nothing.
    assert_eq!(
        store
            .claim_key_package(&laptop, 4_000_000_000_000)
            .await
            .unwrap(),
        Claim::Exhausted
    );
}

/// Removing a device's KeyPackages (a re-issued credential) leaves no fresh or last-resort one
/// to claim and touches no other device; recorded claims stay.
pub async fn removed_key_packages_are_gone<S: DsStore>(store: &S) {
    let (phone, laptop) = (device("phone"), device("laptop"));
    store
        .add_key_packages(&phone, vec![key_package(1, false), key_package(2, true)])
        .await
        .unwrap();
    store
        .add_key_packages(&laptop, vec![key_package(3, false)])
        .await
        .unwrap();
    assert!(matches!(
        store.claim_key_package(&phone, 0).await.unwrap(),
        Claim::Fresh(_)
    ));
    assert_eq!(store.remove_key_packages(&phone).await.unwrap(), 1);
    assert_eq!(
        store.claim_key_package(&phone, 0).await.unwrap(),
        Claim::Exhausted
    );
    assert_eq!(store.remove_key_packages(&phone).await.unwrap(), 0);
    assert_eq!(store.fresh_key_packages(&laptop, 0).await.unwrap(), 1);
    assert_eq!(
        store.claimed_by(b"ref-1").await.unwrap(),
        Some(phone.clone()),
        "the recorded claim stays for Welcome routing"
    );
}
