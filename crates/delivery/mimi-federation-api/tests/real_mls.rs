//! Real MLS objects (produced once by openmls 0.9.2 through mimi-mls, pinned under
//! `testing/vectors/federation/openmls/`) pass the structural MLS walker, keep their cleartext
//! facts, and ride inside every federation body that carries them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use mimi_federation_api::key_material::{
    ClientKeyMaterial, ClientMaterial, KeyMaterialResponse, KeyMaterialUserCode,
};
use mimi_federation_api::mls::{
    ContentType, Credential, GroupInfo, KeyPackage, MlsMessage, RatchetTree, Welcome,
};
use mimi_federation_api::notify::{FanoutContent, FanoutMessage, NotifyRequest};
use mimi_federation_api::ratchet_tree::{GroupInfoOption, RatchetTreeOption};
use mimi_federation_api::submit_message::SubmitMessageRequest;
use mimi_federation_api::update::{CommitBundle, HandshakeBundle, ProposalBundle, UpdateRequest};
use mimi_federation_api::{Encode, IdentifierUri, decode_exact};
use mimi_types::codepoints::WireFormat;

const OBJECTS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../testing/vectors/federation/openmls/openmls-0.9.2-objects.txt"
));

fn objects() -> BTreeMap<&'static str, Vec<u8>> {
    OBJECTS
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, hex) = l.split_once(' ').unwrap();
            (name, hex::decode(hex).unwrap())
        })
        .collect()
}

fn message(o: &BTreeMap<&str, Vec<u8>>, name: &str) -> MlsMessage {
    MlsMessage::from_bytes(o[name].clone()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The bare struct inside an MLSMessage (after `version` and `wire_format`).
fn inner(o: &BTreeMap<&str, Vec<u8>>, name: &str) -> Vec<u8> {
    o[name][4..].to_vec()
}

#[test]
fn every_real_object_has_the_expected_shape() {
    let o = objects();
    let kp = message(&o, "key_package_message");
    assert_eq!(kp.wire_format(), WireFormat::KEY_PACKAGE);
    KeyPackage::from_bytes(inner(&o, "key_package_message")).unwrap();
    Credential::from_bytes(o["credential"].clone()).unwrap();
    for name in ["created_group_info_message", "add_group_info_message"] {
        assert_eq!(message(&o, name).wire_format(), WireFormat::GROUP_INFO);
        GroupInfo::from_bytes(inner(&o, name)).unwrap();
    }
    for name in ["created_ratchet_tree", "add_ratchet_tree"] {
        decode_exact::<RatchetTree>(&o[name]).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for name in ["add_commit", "self_update_commit"] {
        let m = message(&o, name);
        assert_eq!(m.wire_format(), WireFormat::PUBLIC_MESSAGE, "{name}");
        assert_eq!(m.content_type(), Some(ContentType::Commit), "{name}");
    }
    let welcome = message(&o, "add_welcome_message");
    assert_eq!(welcome.wire_format(), WireFormat::WELCOME);
    let bare = Welcome::from_bytes(inner(&o, "add_welcome_message")).unwrap();
    assert_eq!(bare.new_members().len(), 1);
    assert_eq!(
        bare.new_members()[0].as_bytes(),
        o["key_package_ref"].as_slice()
    );
    let app = message(&o, "application_message");
    assert_eq!(app.wire_format(), WireFormat::PRIVATE_MESSAGE);
    assert_eq!(app.content_type(), Some(ContentType::Application));
    let leave = message(&o, "self_remove_proposal");
    assert_eq!(leave.wire_format(), WireFormat::PUBLIC_MESSAGE);
    assert_eq!(leave.content_type(), Some(ContentType::Proposal));
}

#[test]
fn bare_structs_and_mls_messages_convert_both_ways() {
    let o = objects();
    let welcome = message(&o, "add_welcome_message");
    let bare = welcome.to_welcome().unwrap();
    assert_eq!(bare.as_bytes(), inner(&o, "add_welcome_message").as_slice());
    assert_eq!(bare.to_mls_message().unwrap(), welcome);
    let gi = message(&o, "add_group_info_message");
    assert_eq!(gi.to_group_info().unwrap().to_mls_message().unwrap(), gi);
    let kp = message(&o, "key_package_message");
    assert_eq!(kp.to_key_package().unwrap().to_mls_message().unwrap(), kp);
    assert!(matches!(
        kp.to_welcome(),
        Err(mimi_federation_api::DecodeError::WrongMlsMessage { .. })
    ));
}

#[test]
fn real_objects_ride_in_federation_bodies() {
    let o = objects();
    let tree =
        RatchetTreeOption::Full(decode_exact::<RatchetTree>(&o["add_ratchet_tree"]).unwrap());
    let update = UpdateRequest::new(HandshakeBundle::Commit(
        CommitBundle::new(
            message(&o, "add_commit"),
            Some(Welcome::from_bytes(inner(&o, "add_welcome_message")).unwrap()),
            GroupInfoOption::Full(
                GroupInfo::from_bytes(inner(&o, "add_group_info_message")).unwrap(),
            ),
            tree.clone(),
        )
        .unwrap(),
    ));
    let bytes = update.encode().unwrap();
    assert_eq!(decode_exact::<UpdateRequest>(&bytes).unwrap(), update);

    let leave = UpdateRequest::new(HandshakeBundle::Proposals(
        ProposalBundle::new(message(&o, "self_remove_proposal"), vec![]).unwrap(),
    ));
    assert_eq!(
        decode_exact::<UpdateRequest>(&leave.encode().unwrap()).unwrap(),
        leave
    );

    let sender = IdentifierUri::from_string("mimi://a.example/u/alice").unwrap();
    let submit = SubmitMessageRequest::new(message(&o, "application_message"), sender).unwrap();
    assert_eq!(
        decode_exact::<SubmitMessageRequest>(&submit.encode().unwrap()).unwrap(),
        submit
    );

    let notify = NotifyRequest::new(vec![
        FanoutMessage::new(
            1,
            FanoutContent::Commit {
                message: message(&o, "add_commit"),
                external_proposals: vec![],
            },
        ),
        FanoutMessage::new(
            2,
            FanoutContent::Welcome {
                message: message(&o, "add_welcome_message"),
                ratchet_tree_option: tree,
            },
        ),
        FanoutMessage::new(
            3,
            FanoutContent::Application {
                message: message(&o, "application_message"),
                frank: None,
            },
        ),
        FanoutMessage::new(
            4,
            FanoutContent::Proposal {
                message: message(&o, "self_remove_proposal"),
                more_proposals: vec![],
            },
        ),
    ]);
    assert_eq!(
        decode_exact::<NotifyRequest>(&notify.encode().unwrap()).unwrap(),
        notify
    );

    let response = KeyMaterialResponse::new(
        KeyMaterialUserCode::Success,
        IdentifierUri::from_string("mimi://b.example/u/bob").unwrap(),
        vec![ClientKeyMaterial::new(
            IdentifierUri::from_string("mimi://b.example/d/bob/phone").unwrap(),
            ClientMaterial::Success(
                KeyPackage::from_bytes(inner(&o, "key_package_message")).unwrap(),
            ),
        )],
    );
    assert_eq!(
        decode_exact::<KeyMaterialResponse>(&response.encode().unwrap()).unwrap(),
        response
    );
}
