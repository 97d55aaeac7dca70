//! Negative tests: every top-level request and response refuses trailing bytes, truncation,
//! non-minimal lengths, oversize vectors and unknown enumeration values with the specific error;
//! and each MUST the codecs enforce is refused with its own error.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use mimi_federation_api::codec::Writer;
use mimi_federation_api::consent::{ConsentAction, ConsentEntry};
use mimi_federation_api::key_material::{
    ClientKeyMaterial, ClientMaterial, KeyMaterialRequest, KeyMaterialResponse, KeyMaterialUserCode,
};
use mimi_federation_api::limits::{MAX_MLS_OBJECT_LEN, MAX_TEXT_LEN, MAX_URI_LEN};
use mimi_federation_api::mls::{MlsMessage, Welcome};
use mimi_federation_api::notify::{FanoutContent, FanoutMessage, NotifyRequest};
use mimi_federation_api::report_abuse::{AbuseReport, AbuseType};
use mimi_federation_api::request_consent::RequestConsentRequest;
use mimi_federation_api::submit_message::SubmitMessageRequest;
use mimi_federation_api::update::{ProposalBundle, UpdateRequest};
use mimi_federation_api::update_consent::UpdateConsentRequest;
use mimi_federation_api::{AppDataDictionary, DecodeError, Encode, EncodeError, decode_exact};

/// Where, in each top-level sample, a vector length and an enumeration sit.
struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    decode: Decoder,
    /// Offset of a vector length prefix, and the cap of that vector.
    vector: (usize, usize),
    /// Offset and width of a closed enumeration, an unknown value, and the enum's name.
    enumeration: Option<(usize, usize, u64, &'static str)>,
}

fn case<T: mimi_federation_api::Decode + Encode>(
    name: &'static str,
    value: &T,
    vector: (usize, usize),
    enumeration: Option<(usize, usize, u64, &'static str)>,
) -> Case {
    Case {
        name,
        bytes: value.encode().unwrap(),
        decode: decoder::<T>,
        vector,
        enumeration,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "KeyMaterialRequest",
            &key_material_request(),
            (1, MAX_URI_LEN),
            Some((0, 1, 2, "Protocol")),
        ),
        case(
            "KeyMaterialResponse",
            &key_material_response(),
            (2, MAX_URI_LEN),
            Some((1, 1, 8, "KeyMaterialUserCode")),
        ),
        case(
            "UpdateRequest",
            &commit_update_request(),
            (4, MAX_MLS_OBJECT_LEN),
            Some((2, 2, 9, "wire format")),
        ),
        case(
            "UpdateRoomResponse",
            &update_room_response(),
            (1, MAX_TEXT_LEN),
            Some((0, 1, 4, "UpdateResponseCode")),
        ),
        case(
            "SubmitMessageRequest",
            &submit_message_request(),
            (5, MAX_MLS_OBJECT_LEN),
            Some((0, 1, 2, "Protocol")),
        ),
        case(
            "SubmitMessageResponse",
            &submit_message_response(),
            (45, 8192),
            Some((1, 1, 3, "SubmitResponseCode")),
        ),
        case(
            "NotifyRequest",
            &notify_request(),
            (12, MAX_MLS_OBJECT_LEN),
            Some((10, 2, 6, "wire format")),
        ),
        case(
            "GroupInfoRequest",
            &group_info_request(),
            (3, 4096),
            Some((0, 1, 9, "Protocol")),
        ),
        case(
            "GroupInfoResponse",
            &group_info_response(),
            (1, MAX_URI_LEN),
            Some((30, 1, 4, "GroupInfoCode")),
        ),
        case(
            "RequestConsentRequest",
            &request_consent(),
            (1, MAX_URI_LEN),
            Some((0, 1, 4, "ConsentOperation")),
        ),
        case(
            "UpdateConsentRequest",
            &update_consent(),
            (1, MAX_URI_LEN),
            Some((0, 1, 7, "ConsentOperation")),
        ),
        case(
            "IdentifierRequest",
            &identifier_request(),
            (0, MAX_MLS_OBJECT_LEN),
            Some((1, 1, 9, "SearchIdentifierType")),
        ),
        case(
            "IdentifierResponse",
            &identifier_response(),
            (1, MAX_MLS_OBJECT_LEN),
            Some((0, 1, 5, "IdentifierQueryCode")),
        ),
        // The plaintext a joiner decrypts from the hub's GroupInfo answer.
        case(
            "GroupInfoRatchetTreeTbe",
            &group_info_tbe(),
            (4, MAX_MLS_OBJECT_LEN),
            Some((group_info_bytes(8).len(), 1, 5, "RatchetTreeRepresentation")),
        ),
        // AbuseType is open (reading D15): no closed enumeration at the top level.
        case("AbuseReport", &abuse_report(), (0, MAX_URI_LEN), None),
    ]
}

/// Reads the minimal varint at `at`: (value, its width).
fn varint_at(bytes: &[u8], at: usize) -> (usize, usize) {
    let first = bytes[at];
    let width = 1 << (first >> 6);
    let mut value = usize::from(first & 0x3f);
    for b in &bytes[at + 1..at + width] {
        value = (value << 8) | usize::from(*b);
    }
    (value, width)
}

fn splice(bytes: &[u8], at: usize, old_width: usize, prefix: &[u8]) -> Vec<u8> {
    [&bytes[..at], prefix, &bytes[at + old_width..]].concat()
}

#[test]
fn trailing_bytes_are_refused() {
    for c in cases() {
        assert!((c.decode)(&c.bytes).is_ok(), "{}", c.name);
        let mut longer = c.bytes.clone();
        longer.push(0);
        let err = (c.decode)(&longer).unwrap_err();
        if c.name == "NotifyRequest" {
            // A notify body is a sequence: the extra byte starts a truncated FanoutMessage.
            assert!(
                matches!(
                    err,
                    DecodeError::Truncated {
                        what: "timestamp",
                        ..
                    }
                ),
                "{err}"
            );
        } else {
            assert_eq!(
                err,
                DecodeError::TrailingBytes {
                    what: "message",
                    count: 1
                },
                "{}",
                c.name
            );
        }
    }
}

#[test]
fn every_truncation_is_refused() {
    // A notify body is a sequence: cutting it between two messages leaves a shorter valid body.
    let mut boundaries = vec![];
    let mut end = 0;
    for message in notify_request().messages {
        end += message.encode().unwrap().len();
        boundaries.push(end);
    }
    for c in cases() {
        for len in 0..c.bytes.len() {
            let result = (c.decode)(&c.bytes[..len]);
            let boundary = c.name == "NotifyRequest" && boundaries.contains(&len);
            assert_eq!(
                result.is_ok(),
                boundary,
                "{} on a prefix of {len} bytes",
                c.name
            );
        }
        let err = (c.decode)(&c.bytes[..c.bytes.len() - 1]).unwrap_err();
        assert!(
            matches!(err, DecodeError::Truncated { .. }),
            "{}: {err}",
            c.name
        );
    }
}

#[test]
fn non_minimal_lengths_are_refused() {
    for c in cases() {
        let (value, width) = varint_at(&c.bytes, c.vector.0);
        let wider = match width {
            1 => vec![0x40, value as u8],
            2 => (0x8000_0000u32 | value as u32).to_be_bytes().to_vec(),
            _ => panic!("{}: unexpected width", c.name),
        };
        let err = (c.decode)(&splice(&c.bytes, c.vector.0, width, &wider)).unwrap_err();
        assert!(
            matches!(err, DecodeError::NonMinimalLength { value: v, .. } if v == value),
            "{}: {err}",
            c.name
        );
        // The 0b11 prefix is never valid in MLS.
        let err = (c.decode)(&splice(
            &c.bytes,
            c.vector.0,
            width,
            &[0xc0, 0, 0, 0, 0, 0, 0, 1],
        ))
        .unwrap_err();
        assert!(
            matches!(err, DecodeError::InvalidLengthPrefix { .. }),
            "{}: {err}",
            c.name
        );
    }
}

#[test]
fn oversize_vectors_are_refused_before_reading() {
    for c in cases() {
        let (_, width) = varint_at(&c.bytes, c.vector.0);
        let len = c.vector.1 + 1;
        let mut w = Writer::new();
        w.vector("x", usize::MAX, |w| {
            w.raw(&vec![0; len]);
            Ok(())
        })
        .unwrap();
        let encoded = w.into_bytes();
        let prefix_width = encoded.len() - len;
        let err = (c.decode)(&splice(
            &c.bytes,
            c.vector.0,
            width,
            &encoded[..prefix_width],
        ))
        .unwrap_err();
        assert!(
            matches!(err, DecodeError::TooLong { len: l, max, .. } if l == len && max == c.vector.1),
            "{}: {err}",
            c.name
        );
    }
    let huge = vec![0u8; mimi_federation_api::limits::MAX_BODY_LEN + 1];
    assert!(matches!(
        decode_exact::<NotifyRequest>(&huge),
        Err(DecodeError::TooLong {
            what: "message body",
            ..
        })
    ));
}

#[test]
fn unknown_enum_values_are_refused() {
    for c in cases() {
        let Some((at, width, value, what)) = c.enumeration else {
            continue;
        };
        let mut bytes = c.bytes.clone();
        let be = value.to_be_bytes();
        bytes[at..at + width].copy_from_slice(&be[8 - width..]);
        let err = (c.decode)(&bytes).unwrap_err();
        assert_eq!(err, DecodeError::UnknownValue { what, value }, "{}", c.name);
    }
}

#[test]
fn reserved_enum_values_are_refused() {
    let mut bytes = key_material_request().encode().unwrap();
    bytes[0] = 0;
    assert_eq!(
        decode_exact::<KeyMaterialRequest>(&bytes),
        Err(DecodeError::ReservedValue {
            what: "Protocol",
            value: 0
        })
    );
    let mut bytes = group_info_response().encode().unwrap();
    bytes[30] = 0;
    assert!(matches!(
        (decoder::<mimi_federation_api::group_info::GroupInfoResponse>)(&bytes),
        Err(DecodeError::ReservedValue {
            what: "GroupInfoCode",
            value: 0
        })
    ));
}

#[test]
fn abuse_type_is_open() {
    let mut report = abuse_report();
    report.reason_code = AbuseType::new(0x7f);
    let back: AbuseReport = decode_exact(&report.encode().unwrap()).unwrap();
    assert_eq!(back.reason_code.value(), 0x7f);
}

#[test]
fn clients_must_be_empty_for_failure_codes() {
    let mut response = key_material_response();
    response.user_status = KeyMaterialUserCode::NoConsent;
    assert!(matches!(
        response.encode(),
        Err(EncodeError::Invalid { .. })
    ));
    let mut bytes = key_material_response().encode().unwrap();
    bytes[1] = KeyMaterialUserCode::UserUnknown.value();
    assert_eq!(
        decode_exact::<KeyMaterialResponse>(&bytes),
        Err(DecodeError::ClientsNotAllowed {
            user_status: "userUnknown"
        })
    );
    let ok = KeyMaterialResponse::new(
        KeyMaterialUserCode::NoCompatibleMaterial,
        uri("mimi://b.example/u/bob"),
        vec![ClientKeyMaterial::new(
            uri("mimi://b.example/d/bob/1"),
            ClientMaterial::NothingCompatible(None),
        )],
    );
    assert!(decode_exact::<KeyMaterialResponse>(&ok.encode().unwrap()).is_ok());
}

#[test]
fn acceptable_ciphersuites_must_not_be_empty() {
    let mut tbs = key_material_request_tbs();
    tbs.acceptable_ciphersuites.clear();
    assert_eq!(
        tbs.clone().sign(sig(1)).encode(),
        Err(EncodeError::EmptyList {
            what: "acceptableCiphersuites"
        })
    );
    // Hand-build the same request with an empty list.
    let good = key_material_request().encode().unwrap();
    // protocol(1) + three URIs, then the ciphersuite list `04 0001 0003`.
    let at = 1 + 25 + 23 + 29;
    assert_eq!(&good[at..at + 5], &[4, 0, 1, 0, 3]);
    let bad = [&good[..at], &[0][..], &good[at + 5..]].concat();
    assert_eq!(
        decode_exact::<KeyMaterialRequest>(&bad),
        Err(DecodeError::EmptyList {
            what: "acceptableCiphersuites"
        })
    );
}

#[test]
fn submit_message_requires_a_private_application_message() {
    let err =
        SubmitMessageRequest::new(proposal(1, 1), uri("mimi://c.example/u/cathy")).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::WrongMlsMessage {
                what: "appMessage",
                ..
            }
        ),
        "{err}"
    );
    let mut bytes = vec![1];
    bytes.extend(public_proposal_bytes(1, 1));
    bytes.extend(uri("mimi://c.example/u/cathy").encode().unwrap());
    assert!(matches!(
        decode_exact::<SubmitMessageRequest>(&bytes),
        Err(DecodeError::WrongMlsMessage {
            what: "appMessage",
            ..
        })
    ));
}

#[test]
fn update_requires_public_handshakes() {
    let mut bytes = private_message_bytes(1, b"x");
    bytes.extend(Writer::new().into_bytes());
    bytes.push(0);
    let err = decode_exact::<UpdateRequest>(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::WrongMlsMessage {
                what: "proposalOrCommit",
                ..
            }
        ),
        "{err}"
    );
    let err = ProposalBundle::new(proposal(1, 1), vec![commit(1)]).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::WrongMlsMessage {
                what: "moreProposals",
                ..
            }
        ),
        "{err}"
    );
    // A commit-shaped bundle whose commit is a proposal cannot be sent.
    let mut request = commit_update_request();
    if let mimi_federation_api::update::HandshakeBundle::Commit(bundle) = &mut request.bundle {
        bundle.commit = proposal(1, 1);
    }
    assert!(matches!(request.encode(), Err(EncodeError::Invalid { .. })));
}

#[test]
fn notify_refuses_empty_bodies_and_misfiled_messages() {
    assert_eq!(
        decode_exact::<NotifyRequest>(&[]),
        Err(DecodeError::EmptyBody {
            what: "notify body"
        })
    );
    assert_eq!(
        NotifyRequest::new(vec![]).encode(),
        Err(EncodeError::EmptyList {
            what: "notify body"
        })
    );
    // A bare KeyPackage MLSMessage cannot be fanned out.
    let mut bytes = 5u64.to_be_bytes().to_vec();
    bytes.extend([0, 1, 0, 5]);
    bytes.extend(key_package_bytes(1));
    let err = decode_exact::<NotifyRequest>(&bytes).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::WrongMlsMessage {
                what: "FanoutMessage.message",
                ..
            }
        ),
        "{err}"
    );
    // A variant that does not match its message cannot be sent.
    let wrong = NotifyRequest::new(vec![FanoutMessage::new(
        1,
        FanoutContent::Application {
            message: commit(1),
            frank: None,
        },
    )]);
    assert!(matches!(wrong.encode(), Err(EncodeError::Invalid { .. })));
}

#[test]
fn consent_endpoints_take_only_their_operations() {
    let grant = ConsentEntry::new(ConsentAction::Revoke, consent_scope());
    assert_eq!(
        RequestConsentRequest::new(grant.clone()).unwrap_err(),
        DecodeError::WrongConsentOperation {
            endpoint: "requestConsent",
            operation: "revoke"
        }
    );
    assert_eq!(
        decode_exact::<RequestConsentRequest>(&grant.encode().unwrap()).unwrap_err(),
        DecodeError::WrongConsentOperation {
            endpoint: "requestConsent",
            operation: "revoke"
        }
    );
    let request = ConsentEntry::new(ConsentAction::Request, consent_scope());
    assert_eq!(
        decode_exact::<UpdateConsentRequest>(&request.encode().unwrap()).unwrap_err(),
        DecodeError::WrongConsentOperation {
            endpoint: "updateConsent",
            operation: "request"
        }
    );
}

#[test]
fn app_data_dictionary_must_be_sorted_and_unique() {
    for ids in [[0x0005u16, 0x0002], [0x0003, 0x0003]] {
        let mut w = Writer::new();
        w.vector("d", usize::MAX, |w| {
            for id in ids {
                w.u16(id);
                w.opaque("x", 10, b"")?;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(
            decode_exact::<AppDataDictionary>(&w.into_bytes()),
            Err(DecodeError::UnsortedComponents {
                what: "AppDataDictionary",
                id: ids[1]
            })
        );
    }
}

#[test]
fn optional_presence_bytes_must_be_0_or_1() {
    let mut bytes = submit_message_response().encode().unwrap();
    bytes[10] = 2;
    assert!(matches!(
        (decoder::<mimi_federation_api::submit_message::SubmitMessageResponse>)(&bytes),
        Err(DecodeError::InvalidOptional {
            what: "frank",
            value: 2
        })
    ));
}

#[test]
fn text_fields_must_be_utf8() {
    let mut bytes = update_room_response().encode().unwrap();
    bytes[2] = 0xff;
    assert!(matches!(
        (decoder::<mimi_federation_api::update::UpdateRoomResponse>)(&bytes),
        Err(DecodeError::InvalidUtf8 {
            what: "errorDescription"
        })
    ));
    let mut bytes = key_material_request().encode().unwrap();
    bytes[2] = 0xc3; // a lone UTF-8 lead byte inside the first URI
    assert_eq!(
        decode_exact::<KeyMaterialRequest>(&bytes),
        Err(DecodeError::InvalidUtf8 {
            what: "IdentifierUri"
        })
    );
}

#[test]
fn mls_objects_refuse_unknown_layouts() {
    // Unsupported MLS version.
    let mut bytes = private_message_bytes(1, b"x");
    bytes[1] = 2;
    assert_eq!(
        MlsMessage::from_bytes(bytes),
        Err(DecodeError::UnsupportedMlsVersion {
            what: "MLSMessage",
            version: 2
        })
    );
    // Unknown proposal type (its end cannot be found).
    let mut bytes = public_proposal_bytes(1, 1);
    let at = 4 + 1 + 28 + 8 + 5 + 1 + 1;
    assert_eq!(&bytes[at..at + 2], &[0, 3]);
    bytes[at + 1] = 0x42;
    assert_eq!(
        MlsMessage::from_bytes(bytes),
        Err(DecodeError::UnknownValue {
            what: "proposal type",
            value: 0x42
        })
    );
    // Unknown credential type.
    let mut cred = credential_bytes(b"x");
    cred[1] = 9;
    assert!(matches!(
        mimi_federation_api::mls::Credential::from_bytes(cred),
        Err(DecodeError::UnknownValue {
            what: "credential type",
            value: 9
        })
    ));
    // Trailing bytes after an MLS object given to from_bytes.
    let mut kp = key_package_bytes(1);
    kp.push(0);
    assert!(matches!(
        mimi_federation_api::mls::KeyPackage::from_bytes(kp),
        Err(DecodeError::TrailingBytes { .. })
    ));
}

#[test]
fn welcome_exposes_its_key_package_refs() {
    let welcome = Welcome::from_bytes(welcome_bytes(&[&[1; 32], &[2; 32]])).unwrap();
    let refs: Vec<_> = welcome
        .new_members()
        .iter()
        .map(|r| r.as_bytes()[0])
        .collect();
    assert_eq!(refs, [1, 2]);
}

#[test]
fn item_count_caps_are_enforced_both_ways() {
    use mimi_federation_api::limits::{MAX_CLIENTS, MAX_FANOUT_MESSAGES};
    let one = FanoutMessage::new(
        1,
        FanoutContent::Application {
            message: private_message(1),
            frank: None,
        },
    );
    let too_many = NotifyRequest::new(vec![one.clone(); MAX_FANOUT_MESSAGES + 1]);
    assert!(matches!(
        too_many.encode(),
        Err(EncodeError::TooManyItems {
            what: "notify body",
            ..
        })
    ));
    let body = one.encode().unwrap().repeat(MAX_FANOUT_MESSAGES + 1);
    assert_eq!(
        decode_exact::<NotifyRequest>(&body),
        Err(DecodeError::TooManyItems {
            what: "notify body",
            max: MAX_FANOUT_MESSAGES
        })
    );
    let client = ClientKeyMaterial::new(
        uri("mimi://b.example/d/bob/1"),
        ClientMaterial::KeyMaterialExhausted,
    );
    let response = KeyMaterialResponse::new(
        KeyMaterialUserCode::PartialSuccess,
        uri("mimi://b.example/u/bob"),
        vec![client; MAX_CLIENTS + 1],
    );
    assert!(matches!(
        response.encode(),
        Err(EncodeError::TooManyItems {
            what: "clients",
            ..
        })
    ));
}

#[test]
fn oversize_values_cannot_be_built_or_sent() {
    assert!(matches!(
        mimi_federation_api::IdentifierUri::from_string("x".repeat(MAX_URI_LEN + 1)),
        Err(EncodeError::TooLong {
            what: "IdentifierUri",
            ..
        })
    ));
    assert!(matches!(
        mimi_federation_api::mls::Signature::from_bytes(vec![0; 8193]),
        Err(DecodeError::TooLong {
            what: "signature",
            ..
        })
    ));
    let long = mimi_federation_api::update::UpdateRoomResponse::new(
        mimi_federation_api::update::UpdateOutcome::NotAllowed,
        "x".repeat(MAX_TEXT_LEN + 1),
    );
    assert!(matches!(
        long.encode(),
        Err(EncodeError::TooLong {
            what: "errorDescription",
            ..
        })
    ));
}
