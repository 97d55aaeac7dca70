//! Strict decoders: trailing bytes, truncation, non-minimal lengths, unknown values, URIs,
//! text and structural rules are refused.

use crate::common::*;
use mimi_room::components::*;
use mimi_room::{DecodeError, presets};
use mimi_types::codepoints::ComponentId;

#[test]
fn every_decoder_refuses_trailing_bytes_and_truncation() {
    for (name, bytes, codec) in samples() {
        let mut long = bytes.clone();
        long.push(0);
        assert!(
            matches!(
                codec(&long),
                Err(DecodeError::TrailingBytes { extra: 1, .. })
            ),
            "{name} accepted a trailing byte"
        );
        for cut in [1, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                matches!(codec(&bytes[..cut]), Err(DecodeError::Malformed { .. })),
                "{name} accepted {cut} of {} bytes",
                bytes.len()
            );
        }
    }
}

#[test]
fn non_minimal_vector_lengths_are_refused() {
    // An empty participant list with its length as a two-byte varint (0x4000).
    assert!(matches!(
        ParticipantList::decode(&[0x40, 0x00]),
        Err(DecodeError::Malformed { .. })
    ));
    assert_eq!(
        ParticipantList::decode(&[0x00]).unwrap(),
        ParticipantList::default()
    );
    // A length longer than the input.
    assert!(matches!(
        ParticipantList::decode(&[0x05, 0x01]),
        Err(DecodeError::Malformed { .. })
    ));
    // A length that cuts an entry in half.
    let mut bytes = participant_list().encode();
    bytes[0] -= 1;
    assert!(ParticipantList::decode(&bytes).is_err());
}

#[test]
fn closed_enums_and_bools_refuse_unknown_values() {
    let mut status = status_policy().encode();
    status[0] = 3;
    assert!(matches!(
        StatusNotificationPolicy::decode(&status),
        Err(DecodeError::Malformed { .. })
    ));
    let mut base = BaseRoomPolicy::default().encode();
    base[0] = 2; // fixed_membership
    assert!(matches!(
        BaseRoomPolicy::decode(&base),
        Err(DecodeError::Malformed { .. })
    ));
    let mut logging = LoggingPolicy::Forbidden.encode();
    logging[0] = 7;
    assert!(LoggingPolicy::decode(&logging).is_err());
    let mut asset = asset_policy().encode();
    asset[0] = 3; // AssetUploadLocation
    assert!(AssetPolicy::decode(&asset).is_err());
}

#[test]
fn optional_presence_byte_must_be_zero_or_one() {
    let policy = BaseRoomPolicy::default();
    let bytes = policy.encode();
    // fixed, parent_dependant, parent_room<V>=0, multi_device, then max_clients presence.
    let mut bad = bytes.clone();
    assert_eq!(bad[4], 0);
    bad[4] = 2;
    assert!(BaseRoomPolicy::decode(&bad).is_err());
}

#[test]
fn user_uris_must_be_canonical_mimi_user_uris() {
    let encode = |uri: &str| {
        let mut entry = vec![uri.len() as u8];
        entry.extend_from_slice(uri.as_bytes());
        entry.extend_from_slice(&[0, 0, 0, 2]);
        let mut out = vec![entry.len() as u8];
        out.extend(entry);
        out
    };
    assert!(ParticipantList::decode(&encode("mimi://a.example/u/al")).is_ok());
    for bad in [
        "mimi://A.example/u/al",
        "mimi://a.example/d/al",
        "https://a.example/u/al",
        "not a uri",
    ] {
        assert!(
            matches!(
                ParticipantList::decode(&encode(bad)),
                Err(DecodeError::Malformed { .. })
            ),
            "{bad} accepted"
        );
    }
}

#[test]
fn text_must_be_utf8_without_nul() {
    let mut meta = RoomMetadata::default();
    meta.room_name = "ok".to_owned();
    let good = meta.encode();
    // room_uri<V>=0, then room_name: len 2, "ok".
    let mut bad = good.clone();
    bad[2] = 0xff;
    assert!(RoomMetadata::decode(&bad).is_err());
    bad[2] = 0;
    assert!(RoomMetadata::decode(&bad).is_err());
}

#[test]
fn structural_rules_are_enforced_by_decoders() {
    let invalid = |r: Result<(), DecodeError>| matches!(r, Err(DecodeError::Invalid { .. }));

    let mut dup = participant_list();
    dup.participants.push(dup.participants[0].clone());
    assert!(invalid(ParticipantList::decode(&dup.encode()).map(drop)));

    let mut zero = participant_list();
    zero.participants[0].role_index = RoleIndex::NO_ROLE;
    assert!(invalid(ParticipantList::decode(&zero.encode()).map(drop)));

    let mut update = participant_list_update();
    update.changed_role_participants[0].role_index = RoleIndex::NO_ROLE;
    assert!(invalid(
        ParticipantListUpdate::decode(&update.encode()).map(drop)
    ));
    let mut update = participant_list_update();
    update.added_participants[0].role_index = RoleIndex::NO_ROLE;
    assert!(invalid(
        ParticipantListUpdate::decode(&update.encode()).map(drop)
    ));

    let mut roles = presets::cooperative();
    roles.roles[2]
        .role_capabilities
        .push(mimi_room::Capability::CAN_OPEN_JOIN);
    assert!(invalid(RoleData::decode(&roles.encode()).map(drop)));

    let mut roles = presets::cooperative();
    let twice = roles.roles[2].clone();
    roles.roles.push(twice);
    assert!(invalid(RoleData::decode(&roles.encode()).map(drop)));

    let mut roles = presets::cooperative();
    let cap = roles.roles[2].role_capabilities[0];
    roles.roles[2].role_capabilities.push(cap);
    assert!(invalid(RoleData::decode(&roles.encode()).map(drop)));

    let mut roles = presets::cooperative();
    roles.roles[2].minimum_participants_constraint = 3;
    roles.roles[2].maximum_participants_constraint = Some(2);
    assert!(invalid(RoleData::decode(&roles.encode()).map(drop)));

    let mut roles = presets::cooperative();
    roles.roles[2].minimum_active_participants_constraint = 1;
    roles.roles[2].maximum_active_participants_constraint = Some(0);
    assert!(invalid(RoleData::decode(&roles.encode()).map(drop)));

    let mut roles = presets::cooperative();
    let entry = roles.roles[3].authorized_role_changes[0].clone();
    roles.roles[3].authorized_role_changes.push(entry);
    assert!(invalid(RoleData::decode(&roles.encode()).map(drop)));

    let mut link = link_preview_policy();
    link.autodetect_hyperlinks_in_text = Optionality::Required;
    assert!(invalid(LinkPreviewPolicy::decode(&link.encode()).map(drop)));
    let mut link = link_preview_policy();
    link.link_preview_proxy = LinkPreviewProxy::Optional(vec![]);
    assert!(invalid(LinkPreviewPolicy::decode(&link.encode()).map(drop)));

    let mut base = base_policy();
    base.parent_room.clear();
    assert!(invalid(BaseRoomPolicy::decode(&base.encode()).map(drop)));
    let mut base = BaseRoomPolicy::default();
    base.parent_room = vec![Uri::new("mimi://hub.example/r/p").unwrap()];
    assert!(invalid(BaseRoomPolicy::decode(&base.encode()).map(drop)));
    let mut base = BaseRoomPolicy::default();
    base.policy_component_ids = vec![ComponentId::ROLES_LIST, ComponentId::ROLES_LIST];
    assert!(invalid(BaseRoomPolicy::decode(&base.encode()).map(drop)));

    let mut pre = preauth();
    pre.preauthorized_entries[0].claimset.clear();
    assert!(invalid(PreAuthData::decode(&pre.encode()).map(drop)));
    let mut pre = preauth();
    pre.preauthorized_entries[0].target_role.role_index = RoleIndex::NO_ROLE;
    assert!(invalid(PreAuthData::decode(&pre.encode()).map(drop)));

    let mut links = join_links();
    links.links.push(links.links[0].clone());
    assert!(invalid(JoinLinks::decode(&links.encode()).map(drop)));

    let mut hist = history_policy();
    if let HistoryPolicy::Optional(h) = &mut hist {
        h.roles_that_can_share.push(RoleIndex::BANNED);
    }
    assert!(invalid(HistoryPolicy::decode(&hist.encode()).map(drop)));

    let bad_exp = MessageExpiration::Optional(ExpirationRange {
        min_expiration_duration: 10,
        max_expiration_duration: 5,
        default_expiration_duration: None,
    });
    assert!(invalid(
        MessageExpiration::decode(&bad_exp.encode()).map(drop)
    ));
    let bad_exp = MessageExpiration::Optional(ExpirationRange {
        min_expiration_duration: 10,
        max_expiration_duration: 50,
        default_expiration_duration: Some(60),
    });
    assert!(invalid(
        MessageExpiration::decode(&bad_exp.encode()).map(drop)
    ));

    let mut asset = asset_policy();
    asset.download_privacy.default_download_type = DownloadPrivacyType::Direct;
    assert!(invalid(AssetPolicy::decode(&asset.encode()).map(drop)));

    let mut op = operational_policy();
    op.pending_proposal_policy = PendingProposalPolicy::RandomDelay {
        minimum_delay_ms: 5,
        maximum_delay_ms: 1,
    };
    assert!(invalid(
        OperationalParameters::decode(&op.encode()).map(drop)
    ));

    assert!(Uri::new("no scheme here").is_err());
    assert!(Uri::new("https://a b").is_err());
    let mut meta = room_metadata();
    meta.room_uri = Uri::new("https://hub.example/r/x").unwrap();
    assert!(invalid(RoomMetadata::decode(&meta.encode()).map(drop)));
}

#[test]
fn domain_names_must_be_canonical() {
    let mut bytes = asset_policy().encode();
    let pos = bytes.windows(9).position(|w| w == b"b.example").unwrap();
    bytes[pos] = b'B';
    assert!(AssetPolicy::decode(&bytes).is_err());
}

#[test]
fn hub_retracted_messages_refuses_an_empty_or_repeating_list() {
    let mut v = hub_retracted_messages();
    v.retracted_messages.clear();
    let err = HubRetractedMessages::decode(&v.encode()).unwrap_err();
    assert!(err.to_string().contains("names no message"), "{err}");
    v.retracted_messages = vec![[7; 32], [7; 32]];
    let err = HubRetractedMessages::decode(&v.encode()).unwrap_err();
    assert!(err.to_string().contains("twice"), "{err}");
}
