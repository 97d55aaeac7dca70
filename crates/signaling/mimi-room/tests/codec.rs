//! Golden encodings, round trips and strict-decoder refusals for every component.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![allow(clippy::field_reassign_with_default)]

mod common;

use std::path::PathBuf;

use common::*;
use mimi_room::components::*;
use mimi_room::{DecodeError, RoomState, presets};
use mimi_types::codepoints::ComponentId;
use proptest::prelude::*;

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../testing/vectors/room")
}

/// Compares `bytes` with the pinned vector `name`; writes it (and fails) if it is missing.
fn golden(name: &str, bytes: &[u8]) -> Vec<u8> {
    let path = vectors_dir().join(format!("{name}.hex"));
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let pinned = hex::decode(text.trim()).expect("vector file is hex");
            assert_eq!(
                hex::encode(bytes),
                hex::encode(&pinned),
                "encoding of {name} differs from the pinned vector {}",
                path.display()
            );
            pinned
        }
        Err(_) => {
            std::fs::create_dir_all(vectors_dir()).unwrap();
            std::fs::write(&path, format!("{}\n", hex::encode(bytes))).unwrap();
            panic!(
                "golden vector {} was missing and has been written; check it in and rerun",
                path.display()
            );
        }
    }
}

#[test]
fn every_component_matches_its_pinned_vector_and_round_trips() {
    let mut missing = Vec::new();
    for (name, bytes, codec) in samples() {
        let Ok(pinned) = std::panic::catch_unwind(|| golden(name, &bytes)) else {
            missing.push(name);
            continue;
        };
        assert_eq!(
            codec(&pinned).unwrap(),
            pinned,
            "{name} re-encodes differently"
        );
    }
    assert!(
        missing.is_empty(),
        "vectors written or mismatched: {missing:?}"
    );
}

#[test]
fn participant_list_vector_is_the_documented_layout() {
    // varint vector length, then per entry: varint-length user URI, uint32 role.
    let list = ParticipantList {
        participants: vec![UserRolePair::new(
            user("mimi://a.example/u/al"),
            RoleIndex(2),
        )],
    };
    let uri = b"mimi://a.example/u/al";
    let mut expected = vec![(1 + uri.len() + 4) as u8, uri.len() as u8];
    expected.extend_from_slice(uri);
    expected.extend_from_slice(&[0, 0, 0, 2]);
    assert_eq!(list.encode(), expected);
}

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
fn room_state_round_trips_through_the_dictionary() {
    let mut components = vec![
        (ComponentId::PARTICIPANT_LIST, participant_list().encode()),
        (ComponentId::ROLES_LIST, presets::cooperative().encode()),
        (ComponentId::ROOM_METADATA, room_metadata().encode()),
        (ComponentId::PREAUTH_LIST, preauth().encode()),
        (ComponentId::BASE_ROOM_POLICY, base_policy().encode()),
        (
            ComponentId::STATUS_NOTIFICATION_POLICY,
            status_policy().encode(),
        ),
        (ComponentId::JOIN_LINK_POLICY, join_link_policy().encode()),
        (
            ComponentId::LINK_PREVIEW_POLICY,
            link_preview_policy().encode(),
        ),
        (ComponentId::ASSET_POLICY, asset_policy().encode()),
        (ComponentId::LOGGING_POLICY, logging_policy().encode()),
        (ComponentId::CHAT_HISTORY_POLICY, history_policy().encode()),
        (ComponentId::BOT_POLICY, bot_policy().encode()),
        (
            ComponentId::MESSAGE_EXPIRATION_POLICY,
            message_expiration().encode(),
        ),
        (
            ComponentId::MLS_OPERATIONAL_POLICY,
            operational_policy().encode(),
        ),
        (ComponentId::APP_COMPONENTS, vec![0x02, 0x00, 0x22]),
    ];
    let mut links = join_links();
    links.links.truncate(1); // join links on request: at most one
    components.push((ComponentId::JOIN_LINKS, links.encode()));
    let state = RoomState::from_components(components.clone()).unwrap();
    let out = state.components();
    assert_eq!(out.len(), components.len());
    for (id, bytes) in components {
        assert_eq!(out.get(&id), Some(&bytes), "{id}");
    }
    assert_eq!(RoomState::from_components(out).unwrap(), state);
}

#[test]
fn room_state_refuses_unknown_missing_and_inconsistent_components() {
    let base = || {
        vec![
            (ComponentId::PARTICIPANT_LIST, participant_list().encode()),
            (ComponentId::ROLES_LIST, presets::cooperative().encode()),
        ]
    };
    // GREASE entries are ignored but kept, so the dictionary round-trips.
    let mut c = base();
    c.push((ComponentId::new(0x3a3a), vec![1, 2, 3]));
    let greased = RoomState::from_components(c).unwrap();
    assert_eq!(
        greased.components().get(&ComponentId::new(0x3a3a)),
        Some(&vec![1, 2, 3])
    );
    let mut c = base();
    c.push((ComponentId::new(0x7000), vec![]));
    assert_eq!(
        RoomState::from_components(c).unwrap_err(),
        DecodeError::UnknownComponent(ComponentId::new(0x7000))
    );
    assert_eq!(
        RoomState::from_components(base().into_iter().skip(1)).unwrap_err(),
        DecodeError::MissingComponent(ComponentId::PARTICIPANT_LIST)
    );
    assert_eq!(
        RoomState::from_components(base().into_iter().take(1)).unwrap_err(),
        DecodeError::MissingComponent(ComponentId::ROLES_LIST)
    );
    // A participant in role 9, which the cooperative preset does not define.
    let mut list = participant_list();
    list.participants[0].role_index = RoleIndex(9);
    let c = vec![
        (ComponentId::PARTICIPANT_LIST, list.encode()),
        (ComponentId::ROLES_LIST, presets::cooperative().encode()),
    ];
    assert!(matches!(
        RoomState::from_components(c),
        Err(DecodeError::Invalid { .. })
    ));
    // Fixed membership with a role that may add participants.
    let mut c = base();
    let fixed = BaseRoomPolicy {
        fixed_membership: true,
        ..BaseRoomPolicy::default()
    };
    c.push((ComponentId::BASE_ROOM_POLICY, fixed.encode()));
    assert!(matches!(
        RoomState::from_components(c),
        Err(DecodeError::Invalid { .. })
    ));
    // Join links on request with two persisted links.
    let mut c = base();
    c.push((ComponentId::JOIN_LINK_POLICY, join_link_policy().encode()));
    c.push((ComponentId::JOIN_LINKS, join_links().encode()));
    assert!(matches!(
        RoomState::from_components(c),
        Err(DecodeError::Invalid { .. })
    ));
    // History sharing by the clientless policy enforcer (role 5), or by an undefined role.
    for role in [5, 42] {
        let mut c = base();
        let hist = HistoryPolicy::Optional(HistorySharing {
            roles_that_can_share: vec![RoleIndex(role)],
            automatically_share: false,
            max_time_period: 1,
        });
        c.push((ComponentId::CHAT_HISTORY_POLICY, hist.encode()));
        assert!(matches!(
            RoomState::from_components(c),
            Err(DecodeError::Invalid { .. })
        ));
    }
    // A bot with an undefined role.
    let mut c = base();
    let mut bots = bot_policy();
    bots.allowed_bots[0].bot_role_index = RoleIndex(42);
    c.push((ComponentId::BOT_POLICY, bots.encode()));
    assert!(matches!(
        RoomState::from_components(c),
        Err(DecodeError::Invalid { .. })
    ));
    // Preauth naming an undefined role.
    let mut c = base();
    let mut pre = preauth();
    pre.preauthorized_entries[0].target_role.role_index = RoleIndex(42);
    c.push((ComponentId::PREAUTH_LIST, pre.encode()));
    assert!(matches!(
        RoomState::from_components(c),
        Err(DecodeError::Invalid { .. })
    ));
}

// ---- property tests ------------------------------------------------------------------------

fn arb_user() -> impl Strategy<Value = mimi_types::UserUri> {
    ("[a-c]", "[a-z][a-z0-9._~-]{0,10}")
        .prop_map(|(d, id)| user(&format!("mimi://{d}.example/u/{id}")))
}

fn arb_text() -> impl Strategy<Value = String> {
    "[^\u{0}]{0,12}"
}

fn arb_uri() -> impl Strategy<Value = Uri> {
    prop_oneof![
        Just(Uri::empty()),
        "[a-z][a-z0-9+.-]{0,5}:[!-~]{0,16}".prop_map(|s| Uri::new(s).unwrap()),
    ]
}

fn arb_role_index() -> impl Strategy<Value = RoleIndex> {
    (1u32..20).prop_map(RoleIndex)
}

fn arb_participant_list() -> impl Strategy<Value = ParticipantList> {
    proptest::collection::btree_map(arb_user(), arb_role_index(), 0..8).prop_map(|m| {
        ParticipantList {
            participants: m
                .into_iter()
                .map(|(u, r)| UserRolePair::new(u, r))
                .collect(),
        }
    })
}

fn arb_update() -> impl Strategy<Value = ParticipantListUpdate> {
    (
        proptest::collection::vec((any::<u32>(), arb_role_index()), 0..4),
        proptest::collection::vec(any::<u32>(), 0..4),
        proptest::collection::vec((arb_user(), arb_role_index()), 0..4),
    )
        .prop_map(|(c, r, a)| ParticipantListUpdate {
            changed_role_participants: c
                .into_iter()
                .map(|(user_index, role_index)| UserIndexRolePair {
                    user_index,
                    role_index,
                })
                .collect(),
            removed_indices: r,
            added_participants: a
                .into_iter()
                .map(|(u, r)| UserRolePair::new(u, r))
                .collect(),
        })
}

fn arb_role(index: u32) -> impl Strategy<Value = Role> {
    (
        arb_text(),
        arb_text(),
        proptest::collection::btree_set(0u16..0x0700, 0..10),
        0u32..3,
        proptest::option::of(3u32..10),
        0u32..3,
        proptest::option::of(3u32..10),
        proptest::collection::btree_map(0u32..8, proptest::collection::vec(0u32..8, 0..4), 0..4),
    )
        .prop_map(move |(name, desc, caps, min, max, amin, amax, changes)| {
            let mut role = Role::new(index, &name, &desc);
            role.role_capabilities = caps
                .into_iter()
                .map(mimi_room::Capability::new)
                .filter(|c| index == 0 || *c != mimi_room::Capability::CAN_OPEN_JOIN)
                .collect();
            role.minimum_participants_constraint = min;
            role.maximum_participants_constraint = max;
            role.minimum_active_participants_constraint = amin;
            role.maximum_active_participants_constraint = amax;
            role.authorized_role_changes = changes
                .into_iter()
                .map(|(f, t)| SingleSourceRoleChangeTargets::new(f, &t))
                .collect();
            role
        })
}

fn arb_roles() -> impl Strategy<Value = RoleData> {
    proptest::collection::btree_set(0u32..8, 0..5)
        .prop_flat_map(|idx| idx.into_iter().map(arb_role).collect::<Vec<_>>())
        .prop_map(|roles| RoleData { roles })
}

fn arb_optionality() -> impl Strategy<Value = Optionality> {
    prop_oneof![
        Just(Optionality::Optional),
        Just(Optionality::Required),
        Just(Optionality::Forbidden)
    ]
}

fn arb_base_policy() -> impl Strategy<Value = BaseRoomPolicy> {
    (
        any::<[bool; 6]>(),
        proptest::option::of(any::<u32>()),
        proptest::option::of(any::<u32>()),
        proptest::collection::btree_set(any::<u16>(), 0..4),
    )
        .prop_map(|(b, max_clients, max_users, ids)| BaseRoomPolicy {
            fixed_membership: b[0],
            parent_dependant: b[1],
            parent_room: if b[1] {
                vec![Uri::new("mimi://hub.example/r/parent").unwrap()]
            } else {
                vec![]
            },
            multi_device: b[2],
            max_clients,
            max_users,
            pseudonyms_allowed: b[3],
            persistent_room: b[4],
            discoverable: b[5],
            policy_component_ids: ids.into_iter().map(ComponentId::new).collect(),
        })
}

fn arb_metadata() -> impl Strategy<Value = RoomMetadata> {
    (
        arb_text(),
        proptest::collection::vec(
            (
                arb_text(),
                arb_text(),
                proptest::collection::vec(any::<u8>(), 0..16),
            ),
            0..3,
        ),
        arb_uri(),
        arb_text(),
        arb_text(),
    )
        .prop_map(|(name, descs, avatar, subject, mood)| RoomMetadata {
            room_uri: Uri::new("mimi://hub.example/r/room").unwrap(),
            room_name: name,
            room_descriptions: descs
                .into_iter()
                .map(|(m, l, c)| RichDescription {
                    media_type: m,
                    language_tag: l,
                    description_content: c,
                })
                .collect(),
            room_avatar: avatar,
            room_subject: subject,
            room_mood: mood,
        })
}

fn arb_expiration() -> impl Strategy<Value = MessageExpiration> {
    (
        0u32..100,
        0u32..100,
        proptest::option::of(0u32..100),
        0u8..3,
    )
        .prop_map(|(a, b, d, k)| {
            let (min, max) = (a.min(b), a.max(b));
            let range = ExpirationRange {
                min_expiration_duration: min,
                max_expiration_duration: max,
                default_expiration_duration: d.map(|d| d.clamp(min, max)),
            };
            match k {
                0 => MessageExpiration::Optional(range),
                1 => MessageExpiration::Required(range),
                _ => MessageExpiration::Forbidden,
            }
        })
}

fn arb_preauth() -> impl Strategy<Value = PreAuthData> {
    proptest::collection::vec(
        (
            proptest::collection::vec(
                (
                    any::<u16>(),
                    proptest::collection::vec(any::<u8>(), 0..6),
                    proptest::collection::vec(any::<u8>(), 0..6),
                ),
                1..3,
            ),
            arb_role(2),
        ),
        0..3,
    )
    .prop_map(|entries| PreAuthData {
        preauthorized_entries: entries
            .into_iter()
            .map(|(claims, role)| PreAuthRoleEntry {
                claimset: claims
                    .into_iter()
                    .map(|(t, id, v)| {
                        Claim::new(mimi_types::codepoints::CredentialType::new(t), &id, &v)
                    })
                    .collect(),
                target_role: role,
            })
            .collect(),
    })
}

fn arb_link_preview() -> impl Strategy<Value = LinkPreviewPolicy> {
    (
        prop_oneof![Just(Optionality::Optional), Just(Optionality::Forbidden)],
        arb_optionality(),
        arb_optionality(),
        0u8..3,
    )
        .prop_map(|(a, s, auto, k)| {
            let proxies = vec![Uri::new("https://p.example/x").unwrap()];
            LinkPreviewPolicy {
                autodetect_hyperlinks_in_text: a,
                send_link_previews: s,
                automatic_link_previews: auto,
                link_preview_proxy: match k {
                    0 => LinkPreviewProxy::Optional(proxies),
                    1 => LinkPreviewProxy::Required(proxies),
                    _ => LinkPreviewProxy::Forbidden,
                },
            }
        })
}

fn arb_join_links_update() -> impl Strategy<Value = JoinLinksUpdate> {
    (
        proptest::collection::vec(any::<u32>(), 0..4),
        proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..8), 0..4),
    )
        .prop_map(|(r, a)| JoinLinksUpdate {
            removed_indices: r,
            added_links: a
                .into_iter()
                .map(|join_link| JoinLink { join_link })
                .collect(),
        })
}

fn arb_status() -> impl Strategy<Value = StatusNotificationPolicy> {
    (arb_optionality(), arb_optionality()).prop_map(|(d, r)| StatusNotificationPolicy {
        delivery_notifications: d,
        read_receipts: r,
    })
}

fn check<T: Component + PartialEq + std::fmt::Debug>(value: &T) -> Result<(), TestCaseError> {
    let bytes = value.encode();
    prop_assert_eq!(&T::decode(&bytes).unwrap(), value);
    Ok(())
}

proptest! {
    #[test]
    fn participant_list_round_trips(v in arb_participant_list()) { check(&v)?; }

    #[test]
    fn participant_list_update_round_trips(v in arb_update()) { check(&v)?; }

    #[test]
    fn roles_round_trip(v in arb_roles()) { check(&v)?; }

    #[test]
    fn base_policy_round_trips(v in arb_base_policy()) { check(&v)?; }

    #[test]
    fn metadata_round_trips(v in arb_metadata()) { check(&v)?; }

    #[test]
    fn expiration_round_trips(v in arb_expiration()) { check(&v)?; }

    #[test]
    fn preauth_round_trips(v in arb_preauth()) { check(&v)?; }

    #[test]
    fn link_preview_round_trips(v in arb_link_preview()) { check(&v)?; }

    #[test]
    fn join_links_update_round_trips(v in arb_join_links_update()) { check(&v)?; }

    #[test]
    fn status_round_trips(v in arb_status()) { check(&v)?; }

    #[test]
    fn hub_retracted_messages_round_trip(v in arb_retracted_messages()) { check(&v)?; }

    #[test]
    fn hub_retracted_range_round_trips(v in arb_retracted_range()) { check(&v)?; }

    #[test]
    fn server_policy_round_trips(v in arb_server_policy()) { check(&v)?; }
}

fn arb_server_policy() -> impl Strategy<Value = ServerPolicy> {
    (
        any::<bool>(),
        proptest::collection::btree_map("[a-z]{1,8}\\.example", 0u8..8, 0..5),
    )
        .prop_map(|(allow, entries)| ServerPolicy {
            mode: if allow {
                ServerPolicyMode::AllowListed
            } else {
                ServerPolicyMode::DenyListed
            },
            entries: entries
                .into_iter()
                .map(|(d, bits)| ServerEntry {
                    domain: DomainName {
                        domain: mimi_types::Domain::parse(&d).unwrap(),
                    },
                    capabilities: ServerCapabilities { bits },
                })
                .collect(),
        })
}

fn arb_retracted_messages() -> impl Strategy<Value = HubRetractedMessages> {
    (
        any::<u64>(),
        arb_user(),
        proptest::option::of(any::<u8>()),
        proptest::collection::btree_set(any::<[u8; 32]>(), 1..5),
    )
        .prop_map(|(t, remover, reason, ids)| HubRetractedMessages {
            hub_retracted_timestamp: t,
            remover_uri: remover,
            reason_code: reason,
            retracted_messages: ids.into_iter().collect(),
        })
}

fn arb_retracted_range() -> impl Strategy<Value = HubRetractedRange> {
    (
        any::<u64>(),
        arb_user(),
        proptest::option::of(any::<u8>()),
        arb_user(),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(|(t, remover, reason, sender, from)| HubRetractedRange {
            hub_retracted_timestamp: t,
            remover_uri: remover,
            reason_code: reason,
            abusive_sender_uri: sender,
            starting_timestamp: from,
        })
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

#[test]
fn hub_retracted_range_layout_is_the_drafts() {
    // uint64 timestamp; IdentityUri remover (varint length + text); optional<uint8> absent;
    // IdentityUri sender; optional<uint64> present.
    let v = HubRetractedRange {
        hub_retracted_timestamp: 1,
        remover_uri: user("mimi://h.example/u/e"),
        reason_code: None,
        abusive_sender_uri: user("mimi://b.example/u/m"),
        starting_timestamp: Some(2),
    };
    let mut expected = 1u64.to_be_bytes().to_vec();
    expected.push(20);
    expected.extend_from_slice(b"mimi://h.example/u/e");
    expected.push(0);
    expected.push(20);
    expected.extend_from_slice(b"mimi://b.example/u/m");
    expected.push(1);
    expected.extend_from_slice(&2u64.to_be_bytes());
    assert_eq!(v.encode(), expected);
}

fn arb_media() -> impl Strategy<Value = MediaType> {
    (
        "[a-z]{1,6}/[a-z0-9.+-]{1,8}",
        proptest::collection::vec(("[a-z]{1,5}", "[ -~]{0,6}"), 0..2),
    )
        .prop_map(|(t, params)| MediaType {
            media_type: t,
            parameters: params
                .into_iter()
                .map(|(n, v)| Parameter {
                    parameter_name: n,
                    parameter_value: v,
                })
                .collect(),
        })
}

fn arb_domain() -> impl Strategy<Value = DomainName> {
    "[a-z]{1,8}\\.example".prop_map(|d| DomainName {
        domain: mimi_types::Domain::parse(&d).unwrap(),
    })
}

fn arb_asset() -> impl Strategy<Value = AssetPolicy> {
    (
        0u8..3,
        proptest::collection::vec(
            (arb_domain(), proptest::collection::vec(arb_domain(), 0..3)),
            0..3,
        ),
        any::<[u64; 4]>(),
        proptest::collection::vec(arb_media(), 0..3),
        proptest::option::of(proptest::collection::vec(arb_media(), 0..3)),
    )
        .prop_map(|(loc, domains, max, forbidden, permitted)| AssetPolicy {
            asset_upload_location: [
                AssetUploadLocation::Unspecified,
                AssetUploadLocation::LocalProvider,
                AssetUploadLocation::Hub,
            ][usize::from(loc)],
            upload_domains: domains
                .into_iter()
                .map(|(provider, dests)| ProviderAssetUploadDomains {
                    provider,
                    asset_upload_destinations: dests,
                })
                .collect(),
            download_privacy: DownloadPrivacy {
                allowed_download_types: vec![DownloadPrivacyType::Ohttp],
                forbidden_download_types: vec![DownloadPrivacyType::Direct],
                default_download_type: DownloadPrivacyType::HubProxy,
            },
            max_image: max[0],
            max_audio: max[1],
            max_video: max[2],
            max_attachment: max[3],
            forbidden_media_types: forbidden,
            permitted_media_types: permitted,
        })
}

fn arb_logging() -> impl Strategy<Value = LoggingPolicy> {
    (
        0u8..3,
        proptest::collection::vec(arb_uri(), 0..3),
        arb_uri(),
        arb_uri(),
    )
        .prop_map(|(k, clients, m, h)| {
            let t = LoggingTargets {
                logging_clients: clients,
                machine_readable_policy: m,
                human_readable_policy: h,
            };
            match k {
                0 => LoggingPolicy::Optional(t),
                1 => LoggingPolicy::Required(t),
                _ => LoggingPolicy::Forbidden,
            }
        })
}

fn arb_history() -> impl Strategy<Value = HistoryPolicy> {
    (
        0u8..3,
        proptest::collection::vec(2u32..9, 0..3),
        any::<bool>(),
        any::<u32>(),
    )
        .prop_map(|(k, roles, auto, period)| {
            let h = HistorySharing {
                roles_that_can_share: roles.into_iter().map(RoleIndex).collect(),
                automatically_share: auto,
                max_time_period: period,
            };
            match k {
                0 => HistoryPolicy::Optional(h),
                1 => HistoryPolicy::Required(h),
                _ => HistoryPolicy::Forbidden,
            }
        })
}

fn arb_bots() -> impl Strategy<Value = BotPolicy> {
    proptest::collection::vec(
        (
            arb_text(),
            arb_text(),
            arb_uri(),
            any::<[bool; 3]>(),
            any::<u32>(),
        ),
        0..3,
    )
    .prop_map(|bots| BotPolicy {
        allowed_bots: bots
            .into_iter()
            .map(|(name, description, homepage, b, role)| Bot {
                name,
                description,
                homepage,
                local_client_bot: b[0],
                bot_role_index: RoleIndex(role),
                can_target_message_in_group: b[1],
                per_user_content: b[2],
            })
            .collect(),
    })
}

fn arb_join_link_policy() -> impl Strategy<Value = JoinLinkPolicy> {
    (any::<bool>(), arb_uri(), any::<bool>(), any::<u32>()).prop_map(|(o, l, m, e)| {
        JoinLinkPolicy {
            on_request: o,
            join_link: l,
            multiuser: m,
            expiration: e,
        }
    })
}

fn arb_join_links() -> impl Strategy<Value = JoinLinks> {
    proptest::collection::btree_set(proptest::collection::vec(any::<u8>(), 1..8), 0..4).prop_map(
        |links| JoinLinks {
            links: links
                .into_iter()
                .map(|join_link| JoinLink { join_link })
                .collect(),
        },
    )
}

fn arb_ext_caps() -> impl Strategy<Value = ExtendedCapabilities> {
    (
        proptest::collection::vec(proptest::collection::vec(any::<u16>(), 0..3), 8),
        proptest::collection::vec(arb_media(), 0..2),
        proptest::collection::vec(any::<u8>(), 0..3),
    )
        .prop_map(|(v, media_types, content_types)| ExtendedCapabilities {
            versions: v[0].clone(),
            cipher_suites: v[1].clone(),
            extensions: v[2].clone(),
            proposals: v[3].clone(),
            credentials: v[4].clone(),
            wire_formats: v[5].clone(),
            component_ids: v[6].clone(),
            safe_aad_types: v[7].clone(),
            media_types,
            content_types,
        })
}

fn arb_operational() -> impl Strategy<Value = OperationalParameters> {
    (
        arb_ext_caps(),
        arb_ext_caps(),
        proptest::collection::vec(any::<u16>(), 0..3),
        any::<[bool; 2]>(),
        (0u8..3, 0u64..1000, 0u64..1000),
        any::<[u64; 12]>(),
        (any::<u8>(), any::<u16>(), any::<[u32; 3]>()),
    )
        .prop_map(|(m, f, hs, b, (k, x, y), t, (eps, pad, n))| {
            let mdm = |i: usize| MinDefaultMaxTime {
                minimum_time: t[i],
                default_time: t[i + 1],
                maximum_time: t[i + 2],
            };
            OperationalParameters {
                mandatory_capabilities: m,
                default_capabilities: ExtendedCapabilities::default(),
                forbidden_capabilities: f,
                handshake_formats: hs,
                external_proposal_allowed: b[0],
                external_commit_allowed: b[1],
                pending_proposal_policy: match k {
                    0 => PendingProposalPolicy::Unspecified,
                    1 => PendingProposalPolicy::ImmediateCommit,
                    _ => PendingProposalPolicy::RandomDelay {
                        minimum_delay_ms: x.min(y),
                        maximum_delay_ms: x.max(y),
                    },
                },
                leaf_node_update_time: mdm(0),
                app_message_policy: AppMessagePolicy {
                    epoch_tolerance: eps,
                    pad_to_size: pad,
                    max_generations_skipahead: n[0],
                },
                max_kp_lifetime: t[3],
                max_credential_lifetime: t[4],
                resumption_psk_lifetime: t[5],
                sender_nonce_keypair_lifetime: mdm(6),
                max_keypairs: n[1],
                buffer_incoming_message_time: mdm(9),
                max_buffered_messages: n[2],
            }
        })
}

proptest! {
    #[test]
    fn asset_policy_round_trips(v in arb_asset()) { check(&v)?; }

    #[test]
    fn logging_policy_round_trips(v in arb_logging()) { check(&v)?; }

    #[test]
    fn history_policy_round_trips(v in arb_history()) { check(&v)?; }

    #[test]
    fn bot_policy_round_trips(v in arb_bots()) { check(&v)?; }

    #[test]
    fn join_link_policy_round_trips(v in arb_join_link_policy()) { check(&v)?; }

    #[test]
    fn join_links_round_trip(v in arb_join_links()) { check(&v)?; }

    #[test]
    fn operational_policy_round_trips(v in arb_operational()) { check(&v)?; }
}

#[test]
fn fixed_samples_round_trip() {
    check(&join_link_policy()).unwrap();
    check(&join_links()).unwrap();
    check(&asset_policy()).unwrap();
    check(&logging_policy()).unwrap();
    check(&LoggingPolicy::Forbidden).unwrap();
    check(&history_policy()).unwrap();
    check(&HistoryPolicy::Forbidden).unwrap();
    check(&bot_policy()).unwrap();
    check(&operational_policy()).unwrap();
    for preset in presets::Preset::ALL {
        check(&preset.roles()).unwrap();
        check(&preset.base_policy()).unwrap();
    }
}
