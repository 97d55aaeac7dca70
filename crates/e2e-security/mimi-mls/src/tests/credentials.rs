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
