//! Proptest strategies: an arbitrary value of every component.

use crate::common::*;
use mimi_room::components::*;
use mimi_types::codepoints::ComponentId;
use proptest::prelude::*;

// ---- property tests ------------------------------------------------------------------------

pub(crate) fn arb_user() -> impl Strategy<Value = mimi_types::UserUri> {
    ("[a-c]", "[a-z][a-z0-9._~-]{0,10}")
        .prop_map(|(d, id)| user(&format!("mimi://{d}.example/u/{id}")))
}

pub(crate) fn arb_text() -> impl Strategy<Value = String> {
    "[^\u{0}]{0,12}"
}

pub(crate) fn arb_uri() -> impl Strategy<Value = Uri> {
    prop_oneof![
        Just(Uri::empty()),
        "[a-z][a-z0-9+.-]{0,5}:[!-~]{0,16}".prop_map(|s| Uri::new(s).unwrap()),
    ]
}

pub(crate) fn arb_role_index() -> impl Strategy<Value = RoleIndex> {
    (1u32..20).prop_map(RoleIndex)
}

pub(crate) fn arb_participant_list() -> impl Strategy<Value = ParticipantList> {
    proptest::collection::btree_map(arb_user(), arb_role_index(), 0..8).prop_map(|m| {
        ParticipantList {
            participants: m
                .into_iter()
                .map(|(u, r)| UserRolePair::new(u, r))
                .collect(),
        }
    })
}

pub(crate) fn arb_update() -> impl Strategy<Value = ParticipantListUpdate> {
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

pub(crate) fn arb_role(index: u32) -> impl Strategy<Value = Role> {
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

pub(crate) fn arb_roles() -> impl Strategy<Value = RoleData> {
    proptest::collection::btree_set(0u32..8, 0..5)
        .prop_flat_map(|idx| idx.into_iter().map(arb_role).collect::<Vec<_>>())
        .prop_map(|roles| RoleData { roles })
}

pub(crate) fn arb_optionality() -> impl Strategy<Value = Optionality> {
    prop_oneof![
        Just(Optionality::Optional),
        Just(Optionality::Required),
        Just(Optionality::Forbidden)
    ]
}

pub(crate) fn arb_base_policy() -> impl Strategy<Value = BaseRoomPolicy> {
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

pub(crate) fn arb_metadata() -> impl Strategy<Value = RoomMetadata> {
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

pub(crate) fn arb_expiration() -> impl Strategy<Value = MessageExpiration> {
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

pub(crate) fn arb_preauth() -> impl Strategy<Value = PreAuthData> {
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

pub(crate) fn arb_link_preview() -> impl Strategy<Value = LinkPreviewPolicy> {
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

pub(crate) fn arb_join_links_update() -> impl Strategy<Value = JoinLinksUpdate> {
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

pub(crate) fn arb_status() -> impl Strategy<Value = StatusNotificationPolicy> {
    (arb_optionality(), arb_optionality()).prop_map(|(d, r)| StatusNotificationPolicy {
        delivery_notifications: d,
        read_receipts: r,
    })
}

pub(crate) fn arb_server_policy() -> impl Strategy<Value = ServerPolicy> {
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

pub(crate) fn arb_retracted_messages() -> impl Strategy<Value = HubRetractedMessages> {
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

pub(crate) fn arb_retracted_range() -> impl Strategy<Value = HubRetractedRange> {
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

pub(crate) fn arb_media() -> impl Strategy<Value = MediaType> {
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

pub(crate) fn arb_domain() -> impl Strategy<Value = DomainName> {
    "[a-z]{1,8}\\.example".prop_map(|d| DomainName {
        domain: mimi_types::Domain::parse(&d).unwrap(),
    })
}

pub(crate) fn arb_asset() -> impl Strategy<Value = AssetPolicy> {
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

pub(crate) fn arb_logging() -> impl Strategy<Value = LoggingPolicy> {
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

pub(crate) fn arb_history() -> impl Strategy<Value = HistoryPolicy> {
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

pub(crate) fn arb_bots() -> impl Strategy<Value = BotPolicy> {
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

pub(crate) fn arb_join_link_policy() -> impl Strategy<Value = JoinLinkPolicy> {
    (any::<bool>(), arb_uri(), any::<bool>(), any::<u32>()).prop_map(|(o, l, m, e)| {
        JoinLinkPolicy {
            on_request: o,
            join_link: l,
            multiuser: m,
            expiration: e,
        }
    })
}

pub(crate) fn arb_join_links() -> impl Strategy<Value = JoinLinks> {
    proptest::collection::btree_set(proptest::collection::vec(any::<u8>(), 1..8), 0..4).prop_map(
        |links| JoinLinks {
            links: links
                .into_iter()
                .map(|join_link| JoinLink { join_link })
                .collect(),
        },
    )
}

pub(crate) fn arb_ext_caps() -> impl Strategy<Value = ExtendedCapabilities> {
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

pub(crate) fn arb_operational() -> impl Strategy<Value = OperationalParameters> {
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
