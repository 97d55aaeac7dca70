//! Shared fixtures: hand-built MLS objects (structurally valid per RFC 9420) and one sample
//! value of every wire type.
#![allow(dead_code, unreachable_pub)]

use mimi_federation_api::codec::Writer;
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
    KeyPackage, MlsMessage, ProposalRef, RatchetTree, RequiredCapabilities, Signature,
    SignaturePublicKey, Welcome,
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
use mimi_federation_api::{DecodeError, Encode, decode_exact};
use mimi_types::codepoints::{Ciphersuite, ComponentId, ExtensionType};

pub const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_ED25519;

/// Builds bytes with the crate's writer.
pub fn build(f: impl FnOnce(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new();
    f(&mut w);
    w.into_bytes()
}

pub fn v(w: &mut Writer, bytes: &[u8]) {
    w.opaque("fixture", usize::MAX, bytes).unwrap();
}

pub fn credential_bytes(identity: &[u8]) -> Vec<u8> {
    build(|w| {
        w.u16(1);
        v(w, identity);
    })
}

pub fn capabilities_bytes() -> Vec<u8> {
    build(|w| {
        v(w, &[0, 1]); // versions: mls10
        v(w, &[0, 1]); // suites
        v(w, &[]); // extensions
        v(w, &[0, 8]); // proposals: app_data_update
        v(w, &[0, 1]); // credentials: basic
    })
}

fn leaf_node(w: &mut Writer, seed: u8) {
    v(w, &[seed; 32]); // encryption key
    v(w, &[seed ^ 1; 32]); // signature key
    w.raw(&credential_bytes(b"mimi://b.example/d/bob/phone"));
    w.raw(&capabilities_bytes());
    w.u8(1); // key_package source
    w.u64(1_700_000_000);
    w.u64(1_800_000_000);
    v(w, &[]); // extensions
    v(w, &[seed ^ 2; 64]); // signature
}

pub fn key_package_bytes(seed: u8) -> Vec<u8> {
    build(|w| {
        w.u16(1);
        w.u16(1);
        v(w, &[seed ^ 3; 32]); // init key
        leaf_node(w, seed);
        v(w, &[]); // extensions
        v(w, &[seed ^ 4; 64]); // signature
    })
}

pub fn group_info_bytes(epoch: u64) -> Vec<u8> {
    build(|w| {
        w.u16(1);
        w.u16(1);
        v(w, b"mimi://a.example/g/clubhouse");
        w.u64(epoch);
        v(w, &[7; 32]); // tree hash
        v(w, &[8; 32]); // confirmed transcript hash
        v(w, &[]); // GroupContext extensions
        build_into(w, |w| {
            // GroupInfo extensions: external_pub
            w.vector("ext", usize::MAX, |w| {
                w.u16(4);
                w.opaque("d", usize::MAX, &[9; 32])
            })
            .unwrap();
        });
        v(w, &[10; 32]); // confirmation tag
        w.u32(0);
        v(w, &[11; 64]); // signature
    })
}

fn build_into(w: &mut Writer, f: impl FnOnce(&mut Writer)) {
    f(w);
}

pub fn welcome_bytes(refs: &[&[u8]]) -> Vec<u8> {
    build(|w| {
        w.u16(1);
        w.vector("secrets", usize::MAX, |w| {
            for r in refs {
                w.opaque("ref", usize::MAX, r)?;
                w.opaque("kem", usize::MAX, &[1; 32])?;
                w.opaque("ct", usize::MAX, &[2; 48])?;
            }
            Ok(())
        })
        .unwrap();
        v(w, &[3; 100]); // encrypted group info
    })
}

pub fn private_message_bytes(epoch: u64, ciphertext: &[u8]) -> Vec<u8> {
    build(|w| {
        w.u16(1);
        w.u16(2);
        v(w, b"mimi://a.example/g/clubhouse");
        w.u64(epoch);
        w.u8(1); // application
        v(w, &[0, 0x20, 0x22, 0x21]); // authenticated data (a SafeAAD-ish blob)
        v(w, &[5; 16]); // encrypted sender data
        v(w, ciphertext);
    })
}

/// A PublicMessage proposal from a member: Remove(leaf).
pub fn public_proposal_bytes(epoch: u64, leaf: u32) -> Vec<u8> {
    build(|w| {
        w.u16(1);
        w.u16(1);
        v(w, b"mimi://a.example/g/clubhouse");
        w.u64(epoch);
        w.u8(1); // member
        w.u32(2);
        v(w, &[]); // authenticated data
        w.u8(2); // proposal
        w.u16(3); // remove
        w.u32(leaf);
        v(w, &[12; 64]); // signature
        v(w, &[13; 32]); // membership tag
    })
}

/// A PublicMessage commit from an external sender-less new member: AppDataUpdate + a reference,
/// with an UpdatePath.
pub fn public_commit_bytes(epoch: u64) -> Vec<u8> {
    build(|w| {
        w.u16(1);
        w.u16(1);
        v(w, b"mimi://a.example/g/clubhouse");
        w.u64(epoch);
        w.u8(1); // member
        w.u32(0);
        v(w, &[]);
        w.u8(3); // commit
        w.vector("proposals", usize::MAX, |w| {
            w.u8(1);
            w.u16(8); // AppDataUpdate
            w.u16(0x0022);
            w.u8(1);
            w.opaque("update", usize::MAX, b"participant list patch")?;
            w.u8(2);
            w.opaque("ref", usize::MAX, &[14; 32])
        })
        .unwrap();
        w.u8(1); // path present
        leaf_node(w, 20);
        w.vector("nodes", usize::MAX, |w| {
            w.opaque("key", usize::MAX, &[15; 32])?;
            w.vector("secrets", usize::MAX, |w| {
                w.opaque("kem", usize::MAX, &[16; 32])?;
                w.opaque("ct", usize::MAX, &[17; 48])
            })
        })
        .unwrap();
        v(w, &[18; 64]); // signature
        v(w, &[19; 32]); // confirmation tag
        v(w, &[20; 32]); // membership tag
    })
}

pub fn mls_welcome_bytes() -> Vec<u8> {
    build(|w| {
        w.u16(1);
        w.u16(3);
        w.raw(&welcome_bytes(&[&[0xab; 32]]));
    })
}

pub fn required_capabilities_bytes() -> Vec<u8> {
    build(|w| {
        v(w, &[]);
        v(w, &[0, 8]);
        v(w, &[0, 1]);
    })
}

pub fn external_sender_bytes() -> Vec<u8> {
    build(|w| {
        v(w, &[21; 32]);
        w.raw(&credential_bytes(b"a.example"));
    })
}

pub fn hpke_ciphertext_bytes(len: usize) -> Vec<u8> {
    build(|w| {
        v(w, &[22; 32]);
        v(w, &vec![23; len]);
    })
}

pub fn uri(s: &str) -> IdentifierUri {
    IdentifierUri::from_string(s).unwrap()
}

pub fn sig(b: u8) -> Signature {
    Signature::from_bytes(vec![b; 64]).unwrap()
}

pub fn private_message(epoch: u64) -> MlsMessage {
    MlsMessage::from_bytes(private_message_bytes(epoch, b"ciphertext")).unwrap()
}

pub fn proposal(epoch: u64, leaf: u32) -> MlsMessage {
    MlsMessage::from_bytes(public_proposal_bytes(epoch, leaf)).unwrap()
}

pub fn commit(epoch: u64) -> MlsMessage {
    MlsMessage::from_bytes(public_commit_bytes(epoch)).unwrap()
}

pub fn key_package(seed: u8) -> KeyPackage {
    KeyPackage::from_bytes(key_package_bytes(seed)).unwrap()
}

pub fn frank() -> Frank {
    Frank::new([0x5a; 32], SUITE, sig(0x33))
}

pub fn franking_context() -> ServerFrankingContext {
    ServerFrankingContext::new(
        uri("mimi://c.example/u/cathy"),
        uri("mimi://a.example/r/clubhouse"),
        1_700_000_000_123,
    )
}

pub fn dictionary() -> AppDataDictionary {
    let mut d = AppDataDictionary::new();
    d.components
        .insert(ComponentId::new(0x8001), b"vendor".to_vec());
    d.components.insert(ComponentId::new(0x0002), vec![]);
    d
}

pub fn key_material_request_tbs() -> KeyMaterialRequestTbs {
    KeyMaterialRequestTbs::new(
        uri("mimi://a.example/u/alice"),
        uri("mimi://b.example/u/bob"),
        uri("mimi://a.example/r/clubhouse"),
        vec![SUITE, Ciphersuite::new(0x0003)],
        RequiredCapabilities::from_bytes(required_capabilities_bytes()).unwrap(),
        SignaturePublicKey::from_bytes(vec![1; 32]).unwrap(),
        Credential::from_bytes(credential_bytes(b"mimi://a.example/d/alice/1")).unwrap(),
    )
}

pub fn key_material_request() -> KeyMaterialRequest {
    key_material_request_tbs().sign(sig(2))
}

pub fn key_material_response() -> KeyMaterialResponse {
    KeyMaterialResponse::new(
        KeyMaterialUserCode::PartialSuccess,
        uri("mimi://b.example/u/bob"),
        vec![
            ClientKeyMaterial::new(
                uri("mimi://b.example/d/bob/phone"),
                ClientMaterial::Success(key_package(1)),
            ),
            ClientKeyMaterial::new(
                uri("mimi://b.example/d/bob/laptop"),
                ClientMaterial::KeyMaterialExhausted,
            ),
            ClientKeyMaterial::new(
                uri("mimi://b.example/d/bob/watch"),
                ClientMaterial::NothingCompatible(Some(
                    Capabilities::from_bytes(capabilities_bytes()).unwrap(),
                )),
            ),
            ClientKeyMaterial::new(
                uri("mimi://b.example/d/bob/tv"),
                ClientMaterial::NothingCompatible(None),
            ),
        ],
    )
}

pub fn ratchet_tree_full() -> RatchetTreeOption {
    RatchetTreeOption::Full(RatchetTree::from_bytes(vec![1, 2, 3, 4]).unwrap())
}

pub fn ratchet_tree_https() -> RatchetTreeOption {
    RatchetTreeOption::HttpsUri {
        url: "https://a.example/trees/1".to_owned(),
        tree_signature: sig(4),
    }
}

pub fn partial_group_info() -> PartialGroupInfo {
    PartialGroupInfo::new(
        RatchetTreePresence::Added,
        vec![Extension::new(ExtensionType::EXTERNAL_PUB, vec![9; 32])],
        sig(5),
    )
}

pub fn commit_update_request() -> UpdateRequest {
    UpdateRequest::new(HandshakeBundle::Commit(
        CommitBundle::new(
            commit(7),
            Some(Welcome::from_bytes(welcome_bytes(&[&[0xab; 32], &[0xcd; 32]])).unwrap()),
            GroupInfoOption::Full(GroupInfo::from_bytes(group_info_bytes(8)).unwrap()),
            ratchet_tree_full(),
        )
        .unwrap(),
    ))
}

pub fn partial_commit_update_request() -> UpdateRequest {
    UpdateRequest::new(HandshakeBundle::Commit(
        CommitBundle::new(
            commit(7),
            None,
            GroupInfoOption::Partial(partial_group_info()),
            RatchetTreeOption::DistributionService,
        )
        .unwrap(),
    ))
}

pub fn proposal_update_request() -> UpdateRequest {
    UpdateRequest::new(HandshakeBundle::Proposals(
        ProposalBundle::new(proposal(7, 1), vec![proposal(7, 2), proposal(7, 3)]).unwrap(),
    ))
}

pub fn update_room_response() -> UpdateRoomResponse {
    UpdateRoomResponse::new(
        UpdateOutcome::InvalidProposal {
            invalid_proposals: vec![ProposalRef::from_bytes(vec![6; 32]).unwrap()],
        },
        "proposal 1 removes a participant you may not remove",
    )
}

pub fn submit_message_request() -> SubmitMessageRequest {
    SubmitMessageRequest::new(private_message(7), uri("mimi://c.example/u/cathy")).unwrap()
}

pub fn submit_message_response() -> SubmitMessageResponse {
    SubmitMessageResponse::new(SubmitOutcome::Accepted {
        accepted_timestamp: 1_700_000_000_123,
        frank: Some(frank()),
    })
}

pub fn notify_request() -> NotifyRequest {
    NotifyRequest::new(vec![
        FanoutMessage::new(
            1_700_000_000_001,
            FanoutContent::Commit {
                message: commit(7),
                external_proposals: vec![proposal(8, 4)],
            },
        ),
        FanoutMessage::new(
            1_700_000_000_002,
            FanoutContent::Welcome {
                message: MlsMessage::from_bytes(mls_welcome_bytes()).unwrap(),
                ratchet_tree_option: ratchet_tree_https(),
            },
        ),
        FanoutMessage::new(
            1_700_000_000_003,
            FanoutContent::Proposal {
                message: proposal(8, 5),
                more_proposals: vec![],
            },
        ),
        FanoutMessage::new(
            1_700_000_000_004,
            FanoutContent::Application {
                message: private_message(8),
                frank: Some(frank()),
            },
        ),
    ])
}

pub fn group_info_request_tbs(code: Option<Vec<u8>>) -> GroupInfoRequestTbs {
    GroupInfoRequestTbs::new(
        SUITE,
        SignaturePublicKey::from_bytes(vec![24; 32]).unwrap(),
        Credential::from_bytes(credential_bytes(b"mimi://c.example/d/cathy/3")).unwrap(),
        HpkePublicKey::from_bytes(vec![25; 32]).unwrap(),
        code,
    )
}

pub fn group_info_request() -> GroupInfoRequest {
    group_info_request_tbs(Some(b"join-1234".to_vec())).sign(sig(26))
}

pub fn group_info_response() -> GroupInfoResponse {
    GroupInfoResponse::new(
        uri("mimi://a.example/r/clubhouse"),
        GroupInfoOutcome::Success(GroupInfoSuccess::new(
            SUITE,
            ExternalSender::from_bytes(external_sender_bytes()).unwrap(),
            HpkeCiphertext::from_bytes(hpke_ciphertext_bytes(200)).unwrap(),
            sig(27),
        )),
    )
}

pub fn group_info_tbe() -> GroupInfoRatchetTreeTbe {
    GroupInfoRatchetTreeTbe::new(
        GroupInfo::from_bytes(group_info_bytes(8)).unwrap(),
        ratchet_tree_full(),
        vec![PendingProposal::new(proposal(8, 6), 1_700_000_000_005)],
    )
}

pub fn consent_scope() -> ConsentScope {
    ConsentScope::new(
        uri("mimi://a.example/u/alice"),
        uri("mimi://b.example/u/bob"),
        Some(uri("mimi://a.example/r/clubhouse")),
    )
}

pub fn request_consent() -> RequestConsentRequest {
    RequestConsentRequest::new(ConsentEntry::new(ConsentAction::Request, consent_scope())).unwrap()
}

pub fn update_consent() -> UpdateConsentRequest {
    let mut entry = ConsentEntry::new(
        ConsentAction::Grant {
            client_key_packages: vec![key_package(2), key_package(3)],
        },
        ConsentScope::new(
            uri("mimi://a.example/u/alice"),
            uri("mimi://b.example/u/bob"),
            None,
        ),
    );
    entry.consent_extensions = dictionary();
    UpdateConsentRequest::new(entry).unwrap()
}

pub fn identifier_request() -> IdentifierRequest {
    IdentifierRequest::new(vec![
        QueryElement::new(SearchKind::Handle, "im:alice.smith@a.example"),
        QueryElement::new(
            SearchKind::OidcStdClaim {
                claim_name: "family_name".into(),
            },
            "Smith",
        ),
        QueryElement::new(
            SearchKind::VcardField {
                property_name: "TEL".into(),
            },
            "+15551234567",
        ),
    ])
}

pub fn identifier_response() -> IdentifierResponse {
    IdentifierResponse::new(
        IdentifierQueryCode::Success,
        vec![uri("mimi://a.example/u/alice")],
        vec![UserProfile::new(
            uri("mimi://a.example/u/alice"),
            vec![ProfileField::new(
                FieldSource::OidcStdClaim,
                "name",
                b"Alice Smith".to_vec(),
            )],
        )],
    )
}

pub fn abuse_report() -> AbuseReport {
    AbuseReport::new(
        uri("mimi://b.example/u/bob"),
        uri("mimi://c.example/u/cathy"),
        AbuseType::UNSPECIFIED,
        "spam",
        vec![AbusiveMessage::new(
            b"mimi content bytes".to_vec(),
            frank(),
            1_700_000_000_123,
        )],
    )
}

/// A decoder that re-encodes what it decoded, so callers can check canonical round trips.
pub type Decoder = fn(&[u8]) -> Result<Vec<u8>, DecodeError>;

pub fn decoder<T: mimi_federation_api::Decode + Encode>(
    bytes: &[u8],
) -> Result<Vec<u8>, DecodeError> {
    let value: T = decode_exact(bytes)?;
    Ok(value.encode().unwrap())
}

/// One sample of a wire type: its vector file name, its encoding and its decoder.
pub struct Sample {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub decode: Decoder,
}

fn sample<T: mimi_federation_api::Decode + Encode>(name: &'static str, value: &T) -> Sample {
    Sample {
        name,
        bytes: value.encode().unwrap(),
        decode: decoder::<T>,
    }
}

/// Every wire type, with a representative value.
pub fn samples() -> Vec<Sample> {
    vec![
        // top-level requests and responses
        sample("key_material_request", &key_material_request()),
        sample("key_material_response", &key_material_response()),
        sample("update_request_commit", &commit_update_request()),
        sample(
            "update_request_partial_commit",
            &partial_commit_update_request(),
        ),
        sample("update_request_proposals", &proposal_update_request()),
        sample("update_room_response", &update_room_response()),
        sample("submit_message_request", &submit_message_request()),
        sample("submit_message_response", &submit_message_response()),
        sample("notify_request", &notify_request()),
        sample("group_info_request", &group_info_request()),
        sample("group_info_response", &group_info_response()),
        sample("request_consent", &request_consent()),
        sample("update_consent", &update_consent()),
        sample("identifier_request", &identifier_request()),
        sample("identifier_response", &identifier_response()),
        sample("abuse_report", &abuse_report()),
        // signed and encrypted structs
        sample("key_material_request_tbs", &key_material_request_tbs()),
        sample("group_info_request_tbs", &group_info_request_tbs(None)),
        sample(
            "group_info_response_tbs",
            &group_info_response().tbs().unwrap(),
        ),
        sample("group_info_ratchet_tree_tbe", &group_info_tbe()),
        sample("server_franking_context", &franking_context()),
        sample(
            "franking_integrity_tbs",
            &FrankingIntegrityTbs::new([0x5a; 32], SUITE, franking_context()),
        ),
        // building blocks
        sample("frank", &frank()),
        sample("app_data_dictionary", &dictionary()),
        sample("consent_scope", &consent_scope()),
        sample(
            "consent_entry_cancel",
            &ConsentEntry::new(ConsentAction::Cancel, consent_scope()),
        ),
        sample(
            "consent_entry_revoke",
            &ConsentEntry::new(ConsentAction::Revoke, consent_scope()),
        ),
        sample("fanout_message", &notify_request().messages[0]),
        sample("ratchet_tree_option_full", &ratchet_tree_full()),
        sample("ratchet_tree_option_https_uri", &ratchet_tree_https()),
        sample(
            "ratchet_tree_option_out_of_band",
            &RatchetTreeOption::OutOfBand {
                tree_signature: sig(28),
            },
        ),
        sample(
            "ratchet_tree_option_distribution_service",
            &RatchetTreeOption::DistributionService,
        ),
        sample("partial_group_info", &partial_group_info()),
        sample(
            "group_info_option_full",
            &GroupInfoOption::Full(GroupInfo::from_bytes(group_info_bytes(3)).unwrap()),
        ),
        sample(
            "group_info_option_partial",
            &GroupInfoOption::Partial(partial_group_info()),
        ),
        sample(
            "pending_proposal",
            &PendingProposal::new(proposal(8, 6), 1_700_000_000_005),
        ),
        sample("query_element", &identifier_request().query_elements[1]),
        sample("user_profile", &identifier_response().found_profiles[0]),
        sample(
            "profile_field",
            &identifier_response().found_profiles[0].fields[0],
        ),
        sample("abusive_message", &abuse_report().messages[0]),
        sample(
            "update_room_response_success",
            &UpdateRoomResponse::new(
                UpdateOutcome::Success {
                    accepted_timestamp: 1_700_000_000_000,
                },
                "",
            ),
        ),
        sample(
            "submit_message_response_epoch_too_old",
            &SubmitMessageResponse::new(SubmitOutcome::EpochTooOld { current_epoch: 9 }),
        ),
        sample(
            "group_info_response_not_authorized",
            &GroupInfoResponse::new(
                uri("mimi://a.example/r/clubhouse"),
                GroupInfoOutcome::NotAuthorized,
            ),
        ),
        sample(
            "key_material_response_no_consent",
            &KeyMaterialResponse::new(
                KeyMaterialUserCode::NoConsent,
                uri("mimi://b.example/u/bob"),
                vec![],
            ),
        ),
    ]
}
