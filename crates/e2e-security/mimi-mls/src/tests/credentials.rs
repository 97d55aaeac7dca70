//! Credential issuance and validation, one negative test per refused rule.

use super::*;
use crate::CredentialError;
use crate::credential::VerifiedIdentity;

fn key() -> crate::SigningKey {
    crate::SigningKey::generate().unwrap()
}

#[test]
fn client_credential_validates_and_names_both_uris() {
    let net = Net::new();
    let k = key();
    let ca = &net.providers["a.example"].ca;
    let client: ClientUri = "mimi://a.example/d/alice/phone".parse().unwrap();
    let user: UserUri = "mimi://a.example/u/alice".parse().unwrap();
    let cred = ca
        .issue_client(
            &client,
            &user,
            k.public(),
            Validity::starting(net.now, YEAR),
        )
        .unwrap();
    let id = net.trust.validate(&cred, k.public(), net.now).unwrap();
    assert_eq!(
        id,
        VerifiedIdentity::Client {
            client,
            user,
            kind: crate::ClientKind::Person
        }
    );
    // MLS content round trip.
    let enc = cred.encode_content().unwrap();
    assert_eq!(crate::X509Credential::decode_content(&enc).unwrap(), cred);
    let mut longer = enc.clone();
    longer.push(0);
    assert!(crate::X509Credential::decode_content(&longer).is_err());
}

#[test]
fn each_rule_has_its_error() {
    let net = Net::new();
    let k = key();
    let a = &net.providers["a.example"].ca;
    let b = &net.providers["b.example"].ca;
    let v = Validity::starting(net.now, YEAR);
    let sans = |c: &str, u: &str| vec![c.to_string(), u.to_string()];

    // Another domain's CA vouching for a.example.
    let cred = b
        .issue_with_uri_sans(
            &sans("mimi://a.example/d/x", "mimi://a.example/u/x"),
            k.public(),
            v,
        )
        .unwrap();
    assert_eq!(
        net.trust.validate(&cred, k.public(), net.now),
        Err(CredentialError::IssuerNotPinned {
            domain: "a.example".into()
        })
    );
    // User URI on another domain than the issuer's.
    let cred = a
        .issue_with_uri_sans(
            &sans("mimi://a.example/d/x", "mimi://b.example/u/x"),
            k.public(),
            v,
        )
        .unwrap();
    assert!(matches!(
        net.trust.validate(&cred, k.public(), net.now),
        Err(CredentialError::UserDomainMismatch { .. })
    ));
    // The CA refuses to issue that in the first place.
    assert!(matches!(
        a.issue_client(
            &"mimi://a.example/d/x".parse().unwrap(),
            &"mimi://b.example/u/x".parse().unwrap(),
            k.public(),
            v
        ),
        Err(CredentialError::UserDomainMismatch { .. })
    ));
    assert!(matches!(
        a.issue_client(
            &"mimi://b.example/d/x".parse().unwrap(),
            &"mimi://a.example/u/x".parse().unwrap(),
            k.public(),
            v
        ),
        Err(CredentialError::ClientDomainMismatch { .. })
    ));
    // Missing user URI.
    let cred = a
        .issue_with_uri_sans(&["mimi://a.example/d/x".to_string()], k.public(), v)
        .unwrap();
    assert_eq!(
        net.trust.validate(&cred, k.public(), net.now),
        Err(CredentialError::MissingSan)
    );
    // Two client URIs.
    let cred = a
        .issue_with_uri_sans(
            &sans("mimi://a.example/d/x", "mimi://a.example/d/y"),
            k.public(),
            v,
        )
        .unwrap();
    assert!(matches!(
        net.trust.validate(&cred, k.public(), net.now),
        Err(CredentialError::DuplicateSan(_))
    ));
    // A room URI is not an identity.
    let cred = a
        .issue_with_uri_sans(
            &sans("mimi://a.example/d/x", "mimi://a.example/r/x"),
            k.public(),
            v,
        )
        .unwrap();
    assert!(matches!(
        net.trust.validate(&cred, k.public(), net.now),
        Err(CredentialError::BadUri { .. })
    ));
    // Expired and not yet valid.
    let good = a
        .issue_with_uri_sans(
            &sans("mimi://a.example/d/x", "mimi://a.example/u/x"),
            k.public(),
            v,
        )
        .unwrap();
    assert_eq!(
        net.trust.validate(&good, k.public(), net.now + 2 * YEAR),
        Err(CredentialError::Expired)
    );
    assert_eq!(
        net.trust.validate(&good, k.public(), net.now - 10),
        Err(CredentialError::Expired)
    );
    // Another key than the certified one.
    assert_eq!(
        net.trust.validate(&good, key().public(), net.now),
        Err(CredentialError::KeyMismatch)
    );
    // Unknown domain.
    let d = ProviderCa::generate(domain("d.example"), v).unwrap();
    let cred = d
        .issue_with_uri_sans(
            &sans("mimi://d.example/d/x", "mimi://d.example/u/x"),
            k.public(),
            v,
        )
        .unwrap();
    assert_eq!(
        net.trust.validate(&cred, k.public(), net.now),
        Err(CredentialError::UntrustedDomain("d.example".into()))
    );
    // Empty chain, garbage certificate.
    assert_eq!(
        net.trust.validate(
            &crate::X509Credential::from_chain(vec![]),
            k.public(),
            net.now
        ),
        Err(CredentialError::EmptyChain)
    );
    assert!(matches!(
        net.trust.validate(
            &crate::X509Credential::from_chain(vec![vec![1, 2, 3]]),
            k.public(),
            net.now
        ),
        Err(CredentialError::Malformed(_))
    ));
    // Pinning: a leaf is not a CA; a CA for another domain is refused.
    let mut t = TrustStore::new();
    assert!(matches!(
        t.pin(domain("a.example"), good.leaf_der().unwrap()),
        Err(CredentialError::NotACa(_))
    ));
    assert!(matches!(
        t.pin(domain("a.example"), b.certificate_der()),
        Err(CredentialError::CaDomainMismatch { .. })
    ));
}

#[test]
fn server_credential_and_ca_record() {
    let net = Net::new();
    let id = &net.hub_id;
    let v = net
        .trust
        .validate(id.credential(), id.signing_key().public(), net.now)
        .unwrap();
    assert_eq!(v, VerifiedIdentity::Server(domain("a.example")));
    let ca = &net.providers["a.example"].ca;
    let rec = ca.to_record();
    let back = ProviderCa::from_record(&rec).unwrap();
    // The restored CA issues credentials the original pin accepts.
    let k = key();
    let cred = back
        .issue_client(
            &"mimi://a.example/d/alice/x".parse().unwrap(),
            &"mimi://a.example/u/alice".parse().unwrap(),
            k.public(),
            Validity::starting(net.now, YEAR),
        )
        .unwrap();
    net.trust.validate(&cred, k.public(), net.now).unwrap();
    assert!(ProviderCa::from_record(&rec[..10]).is_err());
    let srec = id.to_record().unwrap();
    let sback = ServerIdentity::from_record(&srec).unwrap();
    assert_eq!(sback.signing_key().public(), id.signing_key().public());
}

/// A certificate no pinned CA issued is not kept in the process-wide cache (`cert_cache.rs`),
/// however often it is read: certificates nobody trusts cannot crowd it or grow it.
#[test]
fn an_untrusted_certificate_is_not_cached() {
    let net = Net::new();
    let k = key();
    let now = net.now;
    let stranger =
        ProviderCa::generate(domain("a.example"), Validity::starting(now - 60, YEAR)).unwrap();
    let forged = stranger
        .issue_client(
            &"mimi://a.example/d/forged/x".parse().unwrap(),
            &"mimi://a.example/u/forged".parse().unwrap(),
            k.public(),
            Validity::starting(now, YEAR),
        )
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            net.trust.validate(&forged, k.public(), now),
            Err(CredentialError::IssuerNotPinned {
                domain: "a.example".into()
            })
        );
        // Read without a trust decision, as a received Add's summary does.
        assert!(crate::credential::claimed_leaf(&forged).is_ok());
    }
    let leaf = crate::cert_cache::der_digest(forged.leaf_der().unwrap());
    assert!(
        crate::cert_cache::leaf(&leaf).is_none(),
        "a certificate no pinned CA issued was kept"
    );
}

/// A certificate validated once (so the process-wide cache holds it, `cert_cache.rs`) is
/// refused afterwards exactly where a fresh validation refuses it: outside its validity
/// window or its CA's, by a store that pins another CA or none for its domain, or with
/// another key.
#[test]
fn a_cached_validation_refuses_what_a_fresh_one_would() {
    let net = Net::new();
    let k = key();
    let now = net.now;
    let a = &net.providers["a.example"].ca;
    let good = a
        .issue_client(
            &"mimi://a.example/d/cached/x".parse().unwrap(),
            &"mimi://a.example/u/cached".parse().unwrap(),
            k.public(),
            Validity::starting(now, YEAR),
        )
        .unwrap();
    let first = net.trust.validate(&good, k.public(), now).unwrap();
    let leaf = crate::cert_cache::der_digest(good.leaf_der().unwrap());
    let ca = crate::cert_cache::der_digest(a.certificate_der());
    assert!(crate::cert_cache::leaf(&leaf).is_some(), "parsed once");
    assert!(
        crate::cert_cache::issued_by(&leaf, &ca),
        "issuer checked once"
    );
    assert_eq!(net.trust.validate(&good, k.public(), now), Ok(first));
    // Time is checked on every call.
    for t in [now + 2 * YEAR, now - 10] {
        assert_eq!(
            net.trust.validate(&good, k.public(), t),
            Err(CredentialError::Expired)
        );
    }
    // So is the key.
    assert_eq!(
        net.trust.validate(&good, key().public(), now),
        Err(CredentialError::KeyMismatch)
    );
    // A store that pins another CA for a.example, or none.
    let other =
        ProviderCa::generate(domain("a.example"), Validity::starting(now - 60, YEAR)).unwrap();
    let mut elsewhere = TrustStore::new();
    elsewhere
        .pin(domain("a.example"), other.certificate_der())
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            elsewhere.validate(&good, k.public(), now),
            Err(CredentialError::IssuerNotPinned {
                domain: "a.example".into()
            })
        );
    }
    let mut nobody = TrustStore::new();
    nobody
        .pin(
            domain("b.example"),
            net.providers["b.example"].ca.certificate_der(),
        )
        .unwrap();
    assert_eq!(
        nobody.validate(&good, k.public(), now),
        Err(CredentialError::UntrustedDomain("a.example".into()))
    );
    // The same certificate bytes under a CA whose own validity ends first: the CA's window
    // is checked on every call too.
    let short =
        ProviderCa::generate(domain("e.example"), Validity::starting(now - 60, 100)).unwrap();
    let mut store = TrustStore::new();
    store
        .pin(domain("e.example"), short.certificate_der())
        .unwrap();
    let e = short
        .issue_client(
            &"mimi://e.example/d/cached/x".parse().unwrap(),
            &"mimi://e.example/u/cached".parse().unwrap(),
            k.public(),
            Validity::starting(now - 60, YEAR),
        )
        .unwrap();
    store.validate(&e, k.public(), now).unwrap();
    assert_eq!(
        store.validate(&e, k.public(), now + 200),
        Err(CredentialError::CaExpired("e.example".into()))
    );
    // A refusal is not remembered as a success: the wrong issuer stays refused after the
    // right store accepted the bytes.
    assert!(!crate::cert_cache::issued_by(
        &leaf,
        &crate::cert_cache::der_digest(other.certificate_der())
    ));
}

/// A joiner checks every member of the Welcome's tree against its own trust store and at its
/// own `now`, even when other parties of the process (the committer, here) validated the
/// same certificates before.
#[test]
fn a_joiner_validates_members_with_its_own_trust_and_time() {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    net.add_client("c.example", "carol", "carol1");
    net.create("alice1", Preset::Cooperative);
    let kps = [net.kp("bob1"), net.kp("carol1")];
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob", "carol"])], &kps, &[], now)
        .unwrap();
    net.groups
        .get_mut("alice1")
        .unwrap()
        .merge_pending_commit()
        .unwrap();
    let welcome = out.welcome.clone().unwrap();
    let carol = net.clients["carol1"].to_record().unwrap();
    let join = |trust: TrustStore, at: u64| {
        ClientGroup::join_from_welcome(
            &ClientIdentity::from_record(&carol).unwrap(),
            &welcome,
            &out.ratchet_tree,
            trust,
            at,
        )
    };
    // Without b.example pinned: bob's credential (leaf 1) is refused.
    let mut no_b = TrustStore::new();
    for d in ["a.example", "c.example"] {
        no_b.pin(domain(d), net.providers[d].ca.certificate_der())
            .unwrap();
    }
    assert!(matches!(
        join(no_b, now),
        Err(crate::MlsError::Credential(CredentialError::UntrustedDomain(d))) if d == "b.example"
    ));
    // Another CA pinned for b.example.
    let mut forged = net.trust.clone();
    let other =
        ProviderCa::generate(domain("b.example"), Validity::starting(now - 60, YEAR)).unwrap();
    forged
        .pin(domain("b.example"), other.certificate_der())
        .unwrap();
    assert!(matches!(
        join(forged, now),
        Err(crate::MlsError::Credential(CredentialError::IssuerNotPinned { domain }))
            if domain == "b.example"
    ));
    // Past the members' certificates (one year).
    assert!(matches!(
        join(net.trust.clone(), now + 2 * YEAR),
        Err(crate::MlsError::Credential(CredentialError::Expired))
    ));
    // With the room's trust, at `now`: joined, the members read from their credentials.
    let g = join(net.trust.clone(), now).unwrap();
    assert_eq!(g.members(), net.groups["alice1"].members());
    assert_eq!(g.members().len(), 3);
}
