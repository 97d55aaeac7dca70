//! X.509 credentials on the wire exactly as RFC 9420 §5.3 defines them, checked against bytes
//! built here from the RFC's struct definitions (not through openmls or `tls_codec`), and the
//! refusal of the older mimi-rs layout (one extra length prefix) with what to do about it.

use openmls::prelude::{
    Credential, CredentialType, CredentialWithKey, KeyPackage, Lifetime, MlsMessageOut,
};
use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use super::*;
use crate::config::{CIPHERSUITE, leaf_capabilities};
use crate::{CredentialError, MlsError, X509Credential};

/// A vector length as RFC 9420 §2.1.2 encodes it (1, 2 or 4 bytes; the top two bits say which).
fn varint(n: usize) -> Vec<u8> {
    if n < 1 << 6 {
        vec![n as u8]
    } else if n < 1 << 14 {
        (n as u16 | 0x4000).to_be_bytes().to_vec()
    } else {
        assert!(n < 1 << 30, "vector too long for a test");
        (n as u32 | 0x8000_0000).to_be_bytes().to_vec()
    }
}

/// `opaque x<V>` / `T x<V>`: the length, then the bytes.
fn vector(body: &[u8]) -> Vec<u8> {
    [varint(body.len()), body.to_vec()].concat()
}

/// RFC 9420 §5.3, written out:
///
/// ```text
/// struct { opaque cert_data<V>; } Certificate;
/// struct {
///     CredentialType credential_type;          // x509(2)
///     select (Credential.credential_type) {
///         case x509: Certificate certificates<V>;
///     };
/// } Credential;
/// ```
fn rfc_x509_credential(certificates: &[Vec<u8>]) -> Vec<u8> {
    let list: Vec<u8> = certificates.iter().flat_map(|c| vector(c)).collect();
    [vec![0x00, 0x02], vector(&list)].concat()
}

/// Reads one RFC 9420 §2.1.2 length: (value, rest).
fn read_varint(b: &[u8]) -> (usize, &[u8]) {
    match b[0] >> 6 {
        0 => (usize::from(b[0]), &b[1..]),
        1 => (
            usize::from(u16::from_be_bytes([b[0] & 0x3f, b[1]])),
            &b[2..],
        ),
        2 => (
            u32::from_be_bytes([b[0] & 0x3f, b[1], b[2], b[3]]) as usize,
            &b[4..],
        ),
        _ => panic!("8-byte lengths are not used for credentials"),
    }
}

/// The first `cert_data` of a TLS-encoded x509 `Credential`, read by the RFC's layout.
fn first_cert_data(credential: &[u8]) -> &[u8] {
    assert_eq!(&credential[..2], &[0x00, 0x02], "credential_type x509");
    let (list_len, list) = read_varint(&credential[2..]);
    assert_eq!(list.len(), list_len, "certificates<V> spans the rest");
    let (cert_len, cert) = read_varint(list);
    &cert[..cert_len]
}

fn assert_der_certificate(cert_data: &[u8]) {
    let (rest, _) = X509Certificate::from_der(cert_data).expect("cert_data parses as DER");
    assert!(rest.is_empty(), "cert_data is exactly one certificate");
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// What mimi-rs sent before: the whole `certificates<V>` vector wrapped in one more length.
fn legacy_content(c: &X509Credential) -> Vec<u8> {
    vector(&c.encode_content().unwrap())
}

fn legacy_mls_credential(c: &X509Credential) -> Vec<u8> {
    [vec![0x00, 0x02], vector(&legacy_content(c))].concat()
}

fn net_with_clients() -> Net {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    net
}

#[test]
fn x509_credentials_are_byte_for_byte_the_rfc_9420_layout() {
    let net = net_with_clients();
    for (who, chain, ours) in [
        (
            "client",
            net.clients["alice1"].credential().chain().to_vec(),
            net.clients["alice1"].mls_credential_bytes().unwrap(),
        ),
        (
            "hub",
            net.hub_id.credential().chain().to_vec(),
            net.hub_id.mls_credential_bytes().unwrap(),
        ),
    ] {
        assert_eq!(chain.len(), 1, "{who}: the leaf only");
        let expected = rfc_x509_credential(&chain);
        assert_eq!(ours, expected, "{who}");
        // One certificate: 00 02 | len(list) | len(cert) | 30 82 ...
        let cert_len = chain[0].len();
        assert!(
            (64..16384).contains(&(cert_len + 2)),
            "{who}: 2-byte lengths"
        );
        assert_eq!(ours[2..4], varint(cert_len + 2)[..], "{who}: list length");
        assert_eq!(ours[4..6], varint(cert_len)[..], "{who}: cert_data length");
        assert_eq!(ours[6..8], [0x30, 0x82], "{who}: a DER SEQUENCE follows");
        // And it decodes back to the same chain.
        assert_eq!(
            X509Credential::decode_content(&ours[4..]).unwrap().chain(),
            chain.as_slice()
        );
    }
}

#[test]
fn credentials_inside_key_packages_and_group_info_use_the_rfc_layout() {
    let mut net = net_with_clients();
    let kp = net.kp("bob1");
    let bob = rfc_x509_credential(net.clients["bob1"].credential().chain());
    assert!(
        contains(&kp, &bob),
        "the KeyPackage leaf carries the RFC bytes"
    );
    assert!(!contains(
        &kp,
        &legacy_mls_credential(net.clients["bob1"].credential())
    ));

    let (_, created) = ClientGroup::create(
        &net.clients["alice1"],
        &net.group_uri(),
        &net.hub_id.external_sender(),
        &initial_room(Preset::Cooperative, &net.room, "alice"),
        net.trust.clone(),
        net.now,
    )
    .unwrap();
    let hub = rfc_x509_credential(net.hub_id.credential().chain());
    assert!(
        contains(&created.group_info, &hub),
        "external_senders carries the hub's RFC bytes"
    );
    let alice = rfc_x509_credential(net.clients["alice1"].credential().chain());
    assert!(contains(&created.ratchet_tree, &alice));
    net.create("alice1", Preset::Cooperative);
}

#[test]
fn the_first_cert_data_of_every_issued_credential_is_der() {
    let net = net_with_clients();
    let issued = [
        net.clients["alice1"].mls_credential_bytes().unwrap(),
        net.clients["bob1"].mls_credential_bytes().unwrap(),
        net.hub_id.mls_credential_bytes().unwrap(),
        ServerIdentity::new(
            &net.providers["c.example"].ca,
            Validity::starting(net.now, YEAR),
        )
        .unwrap()
        .mls_credential_bytes()
        .unwrap(),
    ];
    for credential in &issued {
        assert_der_certificate(first_cert_data(credential));
    }
}

#[test]
fn the_old_layout_is_refused_with_what_to_do() {
    let net = net_with_clients();
    let alice = &net.clients["alice1"];
    // The bytes the issue quotes: 00 02 41 d3 41 d1 41 cf 30 82 ... for a 0x1cf-byte leaf.
    let old = legacy_mls_credential(alice.credential());
    let len = alice.credential().chain()[0].len();
    assert_eq!(old[..2], [0x00, 0x02]);
    assert_eq!(old[2..4], varint(len + 4)[..]);
    assert_eq!(old[4..6], varint(len + 2)[..]);
    assert_eq!(old[6..8], varint(len)[..]);
    assert_eq!(old[8..10], [0x30, 0x82]);

    assert_eq!(
        X509Credential::decode_content(&legacy_content(alice.credential())),
        Err(CredentialError::LegacyLayout)
    );
    assert_eq!(
        crate::claimed_identity_of_mls_credential(&old),
        Err(CredentialError::LegacyLayout)
    );
    let err = crate::verify_credential(&old, alice.signing_key().public(), &net.trust, net.now)
        .unwrap_err();
    assert!(
        matches!(err, MlsError::Credential(CredentialError::LegacyLayout)),
        "{err}"
    );
    assert!(
        err.to_string().contains("re-issue the device credential"),
        "{err}"
    );
    // Sentinel: the same credential in the RFC layout passes.
    crate::verify_credential(
        &alice.mls_credential_bytes().unwrap(),
        alice.signing_key().public(),
        &net.trust,
        net.now,
    )
    .unwrap();
}

#[test]
fn a_cert_data_that_is_not_der_is_malformed_not_legacy() {
    // A certificate must be a DER SEQUENCE.
    let content = vector(&[0x04, 0x01, 0x00]);
    assert!(matches!(
        X509Credential::decode_content(&content),
        Err(CredentialError::Malformed(_))
    ));
    // An empty cert_data is no old-layout list either.
    assert!(matches!(
        X509Credential::decode_content(&vector(&[])),
        Err(CredentialError::Malformed(_))
    ));
    // Trailing bytes after the last Certificate.
    let mut content = vector(&[0x30, 0x00]);
    content.push(0x05);
    assert!(matches!(
        X509Credential::decode_content(&content),
        Err(CredentialError::Malformed(_))
    ));
}

/// A KeyPackage whose leaf carries `credential` as its raw x509 content.
fn key_package_with_content(net: &Net, device: &str, content: Vec<u8>) -> Vec<u8> {
    let id = &net.clients[device];
    let bundle = KeyPackage::builder()
        .key_package_lifetime(Lifetime::init(net.now, net.now + KP_LIFETIME))
        .leaf_node_capabilities(leaf_capabilities())
        .build(
            CIPHERSUITE,
            &id.provider,
            &id.signing_key().pair,
            CredentialWithKey {
                credential: Credential::new(CredentialType::X509, content),
                signature_key: id.signing_key().public().to_vec().into(),
            },
        )
        .unwrap();
    MlsMessageOut::from(bundle.key_package().clone())
        .to_bytes()
        .unwrap()
}

#[test]
fn an_old_layout_key_package_is_refused_by_provider_and_committer() {
    let mut net = net_with_clients();
    let old = key_package_with_content(
        &net,
        "bob1",
        legacy_content(net.clients["bob1"].credential()),
    );
    let err = crate::inspect_key_package(&old, &net.trust, net.now).unwrap_err();
    assert!(
        matches!(err, MlsError::Credential(CredentialError::LegacyLayout)),
        "{err}"
    );

    net.create("alice1", Preset::Cooperative);
    let alice = net.groups.get_mut("alice1").unwrap();
    let err = alice
        .commit(&[pl_add(&["bob"])], &[old], &[], net.now)
        .unwrap_err();
    assert!(
        matches!(err, MlsError::Credential(CredentialError::LegacyLayout)),
        "{err}"
    );

    // Sentinel: a KeyPackage in the RFC layout is accepted and Bob joins.
    let kp = net.kp("bob1");
    crate::inspect_key_package(&kp, &net.trust, net.now).unwrap();
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob"])], &[kp], &[], net.now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["bob1"]);
    net.message("bob1", "still here");
}

/// `record` rewritten as format 1 (resealed when it carries a checksum).
fn as_format_1(record: &[u8], sealed: bool) -> Vec<u8> {
    let mut body = if sealed {
        record[..record.len() - 32].to_vec()
    } else {
        record.to_vec()
    };
    assert_eq!(body[1], 3, "records are written in format 3");
    body[1] = 1;
    if sealed {
        let digest = Sha256::digest(&body);
        body.extend_from_slice(&digest);
    }
    body
}

#[test]
fn records_of_the_old_format_are_refused_with_what_to_do() {
    let mut net = net_with_clients();
    net.create("alice1", Preset::Cooperative);
    let advice = |e: MlsError| {
        let text = e.to_string();
        assert!(text.contains("re-issue the device credential"), "{text}");
        assert!(text.contains("pre-RFC 9420"), "{text}");
    };
    let device = net.clients["bob1"].to_record().unwrap();
    advice(ClientIdentity::from_record(&as_format_1(&device, true)).unwrap_err());
    let group = net.groups["alice1"].to_record().unwrap();
    advice(ClientGroup::from_record(&as_format_1(&group, true), net.trust.clone()).unwrap_err());
    let hub = net.hub().to_record().unwrap();
    advice(HubGroup::from_record(&as_format_1(&hub, true), net.trust.clone()).unwrap_err());

    // Sentinels: the current format restores; a server identity holds only DER certificates
    // (the same in both layouts), so its format 1 record still restores.
    ClientIdentity::from_record(&device).unwrap();
    ClientGroup::from_record(&group, net.trust.clone()).unwrap();
    HubGroup::from_record(&hub, net.trust.clone()).unwrap();
    let server = net.hub_id.to_record().unwrap();
    let restored = ServerIdentity::from_record(&as_format_1(&server, false)).unwrap();
    assert_eq!(restored.credential(), net.hub_id.credential());
}

/// The pinned openmls objects (`testing/vectors/federation/openmls/`) carry RFC 9420
/// credentials: the standalone one and the one inside the pinned KeyPackage.
#[test]
fn pinned_openmls_objects_carry_rfc_credentials() {
    let objects = vectors::pinned();
    let credential = &objects["credential"];
    let cert = first_cert_data(credential);
    assert_der_certificate(cert);
    assert_eq!(credential, &rfc_x509_credential(&[cert.to_vec()]));
    crate::claimed_identity_of_mls_credential(credential).unwrap();
    assert!(contains(&objects["key_package_message"], credential));
}
