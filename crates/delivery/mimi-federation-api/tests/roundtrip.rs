//! Property tests: `decode(encode(x)) == x` for every wire type, through this crate's codec and
//! through the `tls_codec` traits.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::fmt::Debug;

use common::*;
use mimi_federation_api::common::{AppDataDictionary, IdentifierUri};
use mimi_federation_api::consent::{ConsentAction, ConsentEntry, ConsentScope};
use mimi_federation_api::franking::{Frank, FrankingIntegrityTbs, ServerFrankingContext};
use mimi_federation_api::group_info::{
    GroupInfoOutcome, GroupInfoRatchetTreeTbe, GroupInfoRequest, GroupInfoRequestTbs,
    GroupInfoResponse, GroupInfoSuccess, PendingProposal,
};
use mimi_federation_api::identifier_query::{
    FieldSource, IdentifierQueryCode, IdentifierRequest, IdentifierResponse, ProfileField,
    QueryElement, SearchKind, UserProfile,
};
use mimi_federation_api::key_material::{
    ClientKeyMaterial, ClientMaterial, KeyMaterialRequest, KeyMaterialRequestTbs,
    KeyMaterialResponse, KeyMaterialUserCode,
};
use mimi_federation_api::mls::{
    Capabilities, Credential, Extension, ExternalSender, GroupInfo, HpkeCiphertext, HpkePublicKey,
    MlsMessage, ProposalRef, RatchetTree, RequiredCapabilities, Signature, SignaturePublicKey,
    Welcome,
};
use mimi_federation_api::notify::{FanoutContent, FanoutMessage, NotifyRequest};
use mimi_federation_api::ratchet_tree::{
    GroupInfoOption, PartialGroupInfo, RatchetTreeOption, RatchetTreePresence,
};
use mimi_federation_api::report_abuse::{AbuseReport, AbuseType, AbusiveMessage};
use mimi_federation_api::request_consent::RequestConsentRequest;
use mimi_federation_api::submit_message::{
    SubmitMessageRequest, SubmitMessageResponse, SubmitOutcome,
};
use mimi_federation_api::update::{
    CommitBundle, HandshakeBundle, ProposalBundle, UpdateOutcome, UpdateRequest, UpdateRoomResponse,
};
use mimi_federation_api::update_consent::UpdateConsentRequest;
use mimi_federation_api::{Decode, Encode, decode_exact};
use mimi_types::codepoints::{Ciphersuite, ComponentId, ExtensionType};
use proptest::collection::vec;
use proptest::prelude::*;
use tls_codec::{DeserializeBytes, Serialize};

fn round_trip<T: Encode + Decode + Serialize + DeserializeBytes + PartialEq + Debug>(value: &T) {
    let bytes = value.encode().unwrap();
    assert_eq!(&decode_exact::<T>(&bytes).unwrap(), value);
    assert_eq!(value.tls_serialize_detached().unwrap(), bytes);
    assert_eq!(&T::tls_deserialize_exact_bytes(&bytes).unwrap(), value);
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..max)
}

fn text() -> impl Strategy<Value = String> {
    "[ -~é€]{0,24}"
}

fn id_uri() -> impl Strategy<Value = IdentifierUri> {
    "[a-z0-9:/._%-]{0,40}".prop_map(|s| IdentifierUri::from_string(s).unwrap())
}

fn suite() -> impl Strategy<Value = Ciphersuite> {
    any::<u16>().prop_map(Ciphersuite::new)
}

fn signature() -> impl Strategy<Value = Signature> {
    bytes(130).prop_map(|b| Signature::from_bytes(b).unwrap())
}

fn private_msg() -> impl Strategy<Value = MlsMessage> {
    (any::<u64>(), bytes(80))
        .prop_map(|(e, c)| MlsMessage::from_bytes(private_message_bytes(e, &c)).unwrap())
}

fn public_proposal() -> impl Strategy<Value = MlsMessage> {
    (any::<u64>(), any::<u32>()).prop_map(|(e, l)| proposal(e, l))
}

fn public_commit() -> impl Strategy<Value = MlsMessage> {
    any::<u64>().prop_map(commit)
}

fn frank_s() -> impl Strategy<Value = Frank> {
    (any::<[u8; 32]>(), suite(), signature()).prop_map(|(f, s, g)| Frank::new(f, s, g))
}

fn context() -> impl Strategy<Value = ServerFrankingContext> {
    (id_uri(), id_uri(), any::<u64>()).prop_map(|(a, b, t)| ServerFrankingContext::new(a, b, t))
}

fn dictionary_s() -> impl Strategy<Value = AppDataDictionary> {
    proptest::collection::btree_map(any::<u16>(), bytes(20), 0..4).prop_map(|m| {
        let mut d = AppDataDictionary::new();
        d.components = m
            .into_iter()
            .map(|(k, v)| (ComponentId::new(k), v))
            .collect::<BTreeMap<_, _>>();
        d
    })
}

fn tree_option() -> impl Strategy<Value = RatchetTreeOption> {
    prop_oneof![
        bytes(60).prop_map(|b| RatchetTreeOption::Full(RatchetTree::from_bytes(b).unwrap())),
        ("https://[a-z./]{1,20}", signature()).prop_map(|(url, tree_signature)| {
            RatchetTreeOption::HttpsUri {
                url,
                tree_signature,
            }
        }),
        signature().prop_map(|tree_signature| RatchetTreeOption::OutOfBand { tree_signature }),
        Just(RatchetTreeOption::DistributionService),
    ]
}

fn partial() -> impl Strategy<Value = PartialGroupInfo> {
    (
        prop::sample::select(RatchetTreePresence::ALL.to_vec()),
        vec((any::<u16>(), bytes(20)), 0..3),
        signature(),
    )
        .prop_map(|(p, e, s)| {
            let ext = e
                .into_iter()
                .map(|(t, d)| Extension::new(ExtensionType::new(t), d))
                .collect();
            PartialGroupInfo::new(p, ext, s)
        })
}

fn gi_option() -> impl Strategy<Value = GroupInfoOption> {
    prop_oneof![
        any::<u64>().prop_map(|e| GroupInfoOption::Full(
            GroupInfo::from_bytes(group_info_bytes(e)).unwrap()
        )),
        partial().prop_map(GroupInfoOption::Partial),
    ]
}

fn update_request() -> impl Strategy<Value = UpdateRequest> {
    prop_oneof![
        (public_commit(), any::<bool>(), gi_option(), tree_option()).prop_map(|(c, w, g, t)| {
            let welcome = w.then(|| Welcome::from_bytes(welcome_bytes(&[&[1; 32]])).unwrap());
            UpdateRequest::new(HandshakeBundle::Commit(
                CommitBundle::new(c, welcome, g, t).unwrap(),
            ))
        }),
        (public_proposal(), vec(public_proposal(), 0..3)).prop_map(|(p, m)| {
            UpdateRequest::new(HandshakeBundle::Proposals(
                ProposalBundle::new(p, m).unwrap(),
            ))
        }),
    ]
}

fn update_response() -> impl Strategy<Value = UpdateRoomResponse> {
    let outcome = prop_oneof![
        any::<u64>().prop_map(|accepted_timestamp| UpdateOutcome::Success { accepted_timestamp }),
        any::<u64>().prop_map(|current_epoch| UpdateOutcome::WrongEpoch { current_epoch }),
        Just(UpdateOutcome::NotAllowed),
        vec(bytes(40), 0..3).prop_map(|r| UpdateOutcome::InvalidProposal {
            invalid_proposals: r
                .into_iter()
                .map(|b| ProposalRef::from_bytes(b).unwrap())
                .collect()
        }),
    ];
    (outcome, text()).prop_map(|(o, t)| UpdateRoomResponse::new(o, t))
}

fn submit_response() -> impl Strategy<Value = SubmitMessageResponse> {
    prop_oneof![
        (any::<u64>(), proptest::option::of(frank_s())).prop_map(|(t, f)| {
            SubmitOutcome::Accepted {
                accepted_timestamp: t,
                frank: f,
            }
        }),
        Just(SubmitOutcome::NotAllowed),
        any::<u64>().prop_map(|current_epoch| SubmitOutcome::EpochTooOld { current_epoch }),
    ]
    .prop_map(SubmitMessageResponse::new)
}

fn fanout() -> impl Strategy<Value = FanoutMessage> {
    let content = prop_oneof![
        (private_msg(), proptest::option::of(frank_s()))
            .prop_map(|(message, frank)| FanoutContent::Application { message, frank }),
        tree_option().prop_map(|ratchet_tree_option| FanoutContent::Welcome {
            message: MlsMessage::from_bytes(mls_welcome_bytes()).unwrap(),
            ratchet_tree_option,
        }),
        (public_proposal(), vec(public_proposal(), 0..2)).prop_map(|(message, more_proposals)| {
            FanoutContent::Proposal {
                message,
                more_proposals,
            }
        }),
        (public_commit(), vec(public_proposal(), 0..2)).prop_map(
            |(message, external_proposals)| FanoutContent::Commit {
                message,
                external_proposals
            }
        ),
    ];
    (any::<u64>(), content).prop_map(|(t, c)| FanoutMessage::new(t, c))
}

fn km_tbs() -> impl Strategy<Value = KeyMaterialRequestTbs> {
    (id_uri(), id_uri(), id_uri(), vec(suite(), 1..4), bytes(40)).prop_map(|(a, b, r, s, k)| {
        KeyMaterialRequestTbs::new(
            a,
            b,
            r,
            s,
            RequiredCapabilities::from_bytes(required_capabilities_bytes()).unwrap(),
            SignaturePublicKey::from_bytes(k).unwrap(),
            Credential::from_bytes(credential_bytes(b"mimi://a.example/d/alice/1")).unwrap(),
        )
    })
}

fn km_response() -> impl Strategy<Value = KeyMaterialResponse> {
    let client = (id_uri(), 0..4u8, any::<u8>()).prop_map(|(u, k, seed)| {
        let material = match k {
            0 => ClientMaterial::Success(key_package(seed)),
            1 => ClientMaterial::KeyMaterialExhausted,
            2 => ClientMaterial::NothingCompatible(None),
            _ => ClientMaterial::NothingCompatible(Some(
                Capabilities::from_bytes(capabilities_bytes()).unwrap(),
            )),
        };
        ClientKeyMaterial::new(u, material)
    });
    (
        prop::sample::select(KeyMaterialUserCode::ALL.to_vec()),
        id_uri(),
        vec(client, 0..4),
    )
        .prop_map(|(code, user, clients)| {
            let clients = if code.may_list_clients() {
                clients
            } else {
                vec![]
            };
            KeyMaterialResponse::new(code, user, clients)
        })
}

fn gi_tbs() -> impl Strategy<Value = GroupInfoRequestTbs> {
    (
        suite(),
        bytes(40),
        bytes(40),
        proptest::option::of(bytes(20)),
    )
        .prop_map(|(s, k, h, c)| {
            GroupInfoRequestTbs::new(
                s,
                SignaturePublicKey::from_bytes(k).unwrap(),
                Credential::from_bytes(credential_bytes(b"mimi://c.example/d/cathy/3")).unwrap(),
                HpkePublicKey::from_bytes(h).unwrap(),
                c,
            )
        })
}

fn gi_response() -> impl Strategy<Value = GroupInfoResponse> {
    let outcome = prop_oneof![
        (suite(), 0..300usize, signature()).prop_map(|(s, n, g)| GroupInfoOutcome::Success(
            GroupInfoSuccess::new(
                s,
                ExternalSender::from_bytes(external_sender_bytes()).unwrap(),
                HpkeCiphertext::from_bytes(hpke_ciphertext_bytes(n)).unwrap(),
                g,
            )
        )),
        Just(GroupInfoOutcome::NotAuthorized),
        Just(GroupInfoOutcome::NoSuchRoom),
    ];
    (id_uri(), outcome).prop_map(|(r, o)| GroupInfoResponse::new(r, o))
}

fn scope() -> impl Strategy<Value = ConsentScope> {
    (id_uri(), id_uri(), proptest::option::of(id_uri()))
        .prop_map(|(a, b, r)| ConsentScope::new(a, b, r))
}

fn entry(actions: Vec<u8>) -> impl Strategy<Value = ConsentEntry> {
    (
        prop::sample::select(actions),
        0..3usize,
        scope(),
        dictionary_s(),
    )
        .prop_map(|(a, n, s, d)| {
            let action = match a {
                0 => ConsentAction::Cancel,
                1 => ConsentAction::Request,
                2 => ConsentAction::Grant {
                    client_key_packages: (0..n as u8).map(key_package).collect(),
                },
                _ => ConsentAction::Revoke,
            };
            let mut e = ConsentEntry::new(action, s);
            e.consent_extensions = d;
            e
        })
}

fn query_element() -> impl Strategy<Value = QueryElement> {
    let kind = prop_oneof![
        Just(SearchKind::Handle),
        Just(SearchKind::Nick),
        Just(SearchKind::Email),
        Just(SearchKind::Phone),
        Just(SearchKind::PartialName),
        Just(SearchKind::WholeProfile),
        text().prop_map(|claim_name| SearchKind::OidcStdClaim { claim_name }),
        text().prop_map(|property_name| SearchKind::VcardField { property_name }),
    ];
    (kind, text()).prop_map(|(k, v)| QueryElement::new(k, v))
}

fn profile() -> impl Strategy<Value = UserProfile> {
    let field = (
        prop::sample::select(FieldSource::ALL.to_vec()),
        text(),
        bytes(20),
    )
        .prop_map(|(s, n, v)| ProfileField::new(s, n, v));
    (id_uri(), vec(field, 0..3)).prop_map(|(u, f)| UserProfile::new(u, f))
}

fn abuse() -> impl Strategy<Value = AbuseReport> {
    let message =
        (bytes(60), frank_s(), any::<u64>()).prop_map(|(c, f, t)| AbusiveMessage::new(c, f, t));
    (
        id_uri(),
        id_uri(),
        any::<u8>(),
        text(),
        vec(message, 0..3),
        dictionary_s(),
    )
        .prop_map(|(a, b, r, n, m, d)| {
            let mut report = AbuseReport::new(a, b, AbuseType::new(r), n, m);
            report.abuse_extensions = d;
            report
        })
}

proptest! {
    #[test]
    fn key_material(tbs in km_tbs(), s in signature(), response in km_response()) {
        round_trip(&tbs);
        round_trip(&KeyMaterialRequest::new(tbs, s));
        round_trip(&response);
    }

    #[test]
    fn update(request in update_request(), response in update_response()) {
        round_trip(&request);
        round_trip(&request.bundle);
        round_trip(&response);
    }

    #[test]
    fn submit(m in private_msg(), u in id_uri(), response in submit_response()) {
        round_trip(&SubmitMessageRequest::new(m, u).unwrap());
        round_trip(&response);
    }

    #[test]
    fn franking(f in frank_s(), c in context(), raw in any::<[u8; 32]>(), s in suite()) {
        round_trip(&f);
        round_trip(&c);
        round_trip(&FrankingIntegrityTbs::new(raw, s, c));
    }

    #[test]
    fn notify(messages in vec(fanout(), 1..4)) {
        for m in &messages {
            round_trip(m);
        }
        round_trip(&NotifyRequest::new(messages));
    }

    #[test]
    fn group_info(
        tbs in gi_tbs(),
        s in signature(),
        response in gi_response(),
        tree in tree_option(),
        pending in vec((public_proposal(), any::<u64>()), 0..3),
    ) {
        round_trip(&tbs);
        round_trip(&GroupInfoRequest::new(tbs, s));
        if let Some(response_tbs) = response.tbs() {
            round_trip(&response_tbs);
        }
        round_trip(&response);
        let pending: Vec<_> = pending.into_iter().map(|(p, t)| PendingProposal::new(p, t)).collect();
        for p in &pending {
            round_trip(p);
        }
        round_trip(&GroupInfoRatchetTreeTbe::new(
            GroupInfo::from_bytes(group_info_bytes(1)).unwrap(),
            tree,
            pending,
        ));
    }

    #[test]
    fn ratchet_tree_options(tree in tree_option(), gi in gi_option(), p in partial()) {
        round_trip(&tree);
        round_trip(&gi);
        round_trip(&p);
    }

    #[test]
    fn consent(s in scope(), request in entry(vec![0, 1]), update in entry(vec![2, 3])) {
        round_trip(&s);
        round_trip(&request);
        round_trip(&update);
        round_trip(&RequestConsentRequest::new(request).unwrap());
        round_trip(&UpdateConsentRequest::new(update).unwrap());
    }

    #[test]
    fn identifier_query(
        elements in vec(query_element(), 0..4),
        d in dictionary_s(),
        code in prop::sample::select(IdentifierQueryCode::ALL.to_vec()),
        uris in vec(id_uri(), 0..3),
        profiles in vec(profile(), 0..3),
    ) {
        for e in &elements {
            round_trip(e);
        }
        let mut request = IdentifierRequest::new(elements);
        request.id_request_extensions = d.clone();
        round_trip(&request);
        for p in &profiles {
            round_trip(p);
            for f in &p.fields {
                round_trip(f);
            }
        }
        let mut response = IdentifierResponse::new(code, uris, profiles);
        response.id_response_extensions = d.clone();
        round_trip(&response);
        round_trip(&d);
    }

    #[test]
    fn report_abuse(report in abuse()) {
        for m in &report.messages {
            round_trip(m);
        }
        round_trip(&report);
    }
}
