//! Shared fixtures for the integration tests: sample values of every component.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use mimi_room::components::*;
use mimi_room::presets;
use mimi_types::codepoints::{ComponentId, CredentialType};
use mimi_types::{Domain, UserUri};

pub(crate) fn user(s: &str) -> UserUri {
    s.parse().unwrap()
}

pub(crate) fn participant_list() -> ParticipantList {
    ParticipantList {
        participants: vec![
            UserRolePair::new(user("mimi://hub.example/u/alice"), RoleIndex(4)),
            UserRolePair::new(user("mimi://b.example/u/bob"), RoleIndex(2)),
            UserRolePair::new(user("mimi://c.example/u/cathy"), RoleIndex(1)),
        ],
    }
}

pub(crate) fn participant_list_update() -> ParticipantListUpdate {
    // The example of protocol-06 §4.3.2, on the list above.
    ParticipantListUpdate {
        changed_role_participants: vec![UserIndexRolePair {
            user_index: 2,
            role_index: RoleIndex(1),
        }],
        removed_indices: vec![1],
        added_participants: vec![
            UserRolePair::new(user("mimi://d.example/u/diana"), RoleIndex(4)),
            UserRolePair::new(user("mimi://e.example/u/eric"), RoleIndex(3)),
        ],
    }
}

pub(crate) fn room_metadata() -> RoomMetadata {
    RoomMetadata {
        room_uri: Uri::new("mimi://hub.example/r/clubhouse").unwrap(),
        room_name: "Clubhouse".to_owned(),
        room_descriptions: vec![
            RichDescription {
                media_type: String::new(),
                language_tag: "en".to_owned(),
                description_content: b"Where we meet".to_vec(),
            },
            RichDescription {
                media_type: "text/markdown;variant=GFM-MIMI".to_owned(),
                language_tag: "fr".to_owned(),
                description_content: "O\u{f9} l'on se retrouve".as_bytes().to_vec(),
            },
        ],
        room_avatar: Uri::new("https://hub.example/avatars/clubhouse.png").unwrap(),
        room_subject: "Weekly sync".to_owned(),
        room_mood: "\u{1f389}".to_owned(),
    }
}

pub(crate) fn preauth() -> PreAuthData {
    let mut target = Role::new(3, "group_admin", "");
    target.role_capabilities = vec![mimi_room::Capability::CAN_KICK];
    PreAuthData {
        preauthorized_entries: vec![
            PreAuthRoleEntry {
                claimset: vec![
                    Claim::new(CredentialType::X509, &[0x55, 0x04, 0x0a], b"Example Org"),
                    Claim::new(CredentialType::X509, &[0x55, 0x04, 0x0b], b"Ops"),
                ],
                target_role: target,
            },
            PreAuthRoleEntry {
                claimset: vec![Claim::new(CredentialType::BASIC, b"domain", b"b.example")],
                target_role: Role::new(2, "ordinary_user", ""),
            },
        ],
    }
}

pub(crate) fn base_policy() -> BaseRoomPolicy {
    BaseRoomPolicy {
        fixed_membership: false,
        parent_dependant: true,
        parent_room: vec![Uri::new("mimi://hub.example/r/parent").unwrap()],
        multi_device: false,
        max_clients: Some(500),
        max_users: None,
        pseudonyms_allowed: true,
        persistent_room: true,
        discoverable: false,
        policy_component_ids: vec![ComponentId::ROLES_LIST, ComponentId::PREAUTH_LIST],
    }
}

pub(crate) fn status_policy() -> StatusNotificationPolicy {
    StatusNotificationPolicy {
        delivery_notifications: Optionality::Required,
        read_receipts: Optionality::Optional,
    }
}

pub(crate) fn join_link_policy() -> JoinLinkPolicy {
    JoinLinkPolicy {
        on_request: true,
        join_link: Uri::new("https://hub.example/join").unwrap(),
        multiuser: false,
        expiration: 86_400,
    }
}

pub(crate) fn join_code_terms() -> JoinCodeTerms {
    JoinCodeTerms {
        code_digest: (0u8..32).collect(),
        role_index: RoleIndex(2),
        not_after: 1_800_000_000,
        uses_left: 3,
    }
}

pub(crate) fn hub_retracted_messages() -> HubRetractedMessages {
    HubRetractedMessages {
        hub_retracted_timestamp: 1_800_000_000_123,
        remover_uri: user("mimi://hub.example/u/_policy-enforcer"),
        reason_code: Some(2),
        retracted_messages: vec![
            [0x01; 32],
            (0u8..32).collect::<Vec<_>>().try_into().unwrap(),
        ],
    }
}

pub(crate) fn hub_retracted_range() -> HubRetractedRange {
    HubRetractedRange {
        hub_retracted_timestamp: 1_800_000_000_123,
        remover_uri: user("mimi://hub.example/u/_policy-enforcer"),
        reason_code: None,
        abusive_sender_uri: user("mimi://b.example/u/mallory"),
        starting_timestamp: Some(1_799_999_000_000),
    }
}

pub(crate) fn join_links() -> JoinLinks {
    JoinLinks {
        links: vec![
            JoinLink {
                join_link: b"https://hub.example/j/abc".to_vec(),
            },
            JoinLink {
                join_link: b"code-1".to_vec(),
            },
        ],
    }
}

pub(crate) fn join_links_update() -> JoinLinksUpdate {
    JoinLinksUpdate {
        removed_indices: vec![0],
        added_links: vec![JoinLink {
            join_link: b"code-2".to_vec(),
        }],
    }
}

pub(crate) fn link_preview_policy() -> LinkPreviewPolicy {
    LinkPreviewPolicy {
        autodetect_hyperlinks_in_text: Optionality::Optional,
        send_link_previews: Optionality::Required,
        automatic_link_previews: Optionality::Forbidden,
        link_preview_proxy: LinkPreviewProxy::Required(vec![
            Uri::new("https://proxy.hub.example/preview").unwrap(),
        ]),
    }
}

pub(crate) fn media(t: &str, params: &[(&str, &str)]) -> MediaType {
    MediaType {
        media_type: t.to_owned(),
        parameters: params
            .iter()
            .map(|(n, v)| Parameter {
                parameter_name: (*n).to_owned(),
                parameter_value: (*v).to_owned(),
            })
            .collect(),
    }
}

pub(crate) fn asset_policy() -> AssetPolicy {
    let d = |s: &str| DomainName {
        domain: Domain::parse(s).unwrap(),
    };
    AssetPolicy {
        asset_upload_location: AssetUploadLocation::LocalProvider,
        upload_domains: vec![ProviderAssetUploadDomains {
            provider: d("b.example"),
            asset_upload_destinations: vec![d("cdn.b.example")],
        }],
        download_privacy: DownloadPrivacy {
            allowed_download_types: vec![DownloadPrivacyType::HubProxy, DownloadPrivacyType::Ohttp],
            forbidden_download_types: vec![DownloadPrivacyType::Direct],
            default_download_type: DownloadPrivacyType::HubProxy,
        },
        max_image: 10_000_000,
        max_audio: 20_000_000,
        max_video: 100_000_000,
        max_attachment: 50_000_000,
        forbidden_media_types: vec![media("application/x-msdownload", &[])],
        permitted_media_types: Some(vec![
            media("image/png", &[]),
            media("text/plain", &[("charset", "utf-8")]),
        ]),
    }
}

pub(crate) fn logging_policy() -> LoggingPolicy {
    LoggingPolicy::Required(LoggingTargets {
        logging_clients: vec![Uri::new("mimi://hub.example/d/archiver").unwrap()],
        machine_readable_policy: Uri::new("https://hub.example/policy.json").unwrap(),
        human_readable_policy: Uri::new("https://hub.example/policy.html").unwrap(),
    })
}

pub(crate) fn history_policy() -> HistoryPolicy {
    HistoryPolicy::Optional(HistorySharing {
        roles_that_can_share: vec![RoleIndex(3), RoleIndex(4)],
        automatically_share: true,
        max_time_period: 604_800,
    })
}

pub(crate) fn bot_policy() -> BotPolicy {
    BotPolicy {
        allowed_bots: vec![Bot {
            name: "Reminder".to_owned(),
            description: "Posts reminders".to_owned(),
            homepage: Uri::new("https://bots.example/reminder").unwrap(),
            local_client_bot: false,
            bot_role_index: RoleIndex(2),
            can_target_message_in_group: true,
            per_user_content: false,
        }],
    }
}

pub(crate) fn message_expiration() -> MessageExpiration {
    MessageExpiration::Required(ExpirationRange {
        min_expiration_duration: 60,
        max_expiration_duration: 86_400,
        default_expiration_duration: Some(3_600),
    })
}

pub(crate) fn operational_policy() -> OperationalParameters {
    OperationalParameters {
        mandatory_capabilities: ExtendedCapabilities {
            versions: vec![1],
            cipher_suites: vec![1],
            extensions: vec![0x0006],
            proposals: vec![0x0008, 0x000a],
            credentials: vec![1, 2],
            wire_formats: vec![1, 2],
            component_ids: vec![0x0022, 0x0023],
            safe_aad_types: vec![0x0020],
            media_types: vec![media("application/mimi-content", &[])],
            content_types: vec![1, 2, 3],
        },
        default_capabilities: ExtendedCapabilities::default(),
        forbidden_capabilities: ExtendedCapabilities {
            cipher_suites: vec![2],
            ..ExtendedCapabilities::default()
        },
        handshake_formats: vec![1],
        external_proposal_allowed: true,
        external_commit_allowed: true,
        pending_proposal_policy: PendingProposalPolicy::RandomDelay {
            minimum_delay_ms: 100,
            maximum_delay_ms: 2_000,
        },
        leaf_node_update_time: MinDefaultMaxTime {
            minimum_time: 3_600,
            default_time: 86_400,
            maximum_time: 604_800,
        },
        app_message_policy: AppMessagePolicy {
            epoch_tolerance: 2,
            pad_to_size: 256,
            max_generations_skipahead: 1_000,
        },
        max_kp_lifetime: 7_776_000,
        max_credential_lifetime: 31_536_000,
        resumption_psk_lifetime: 0,
        sender_nonce_keypair_lifetime: MinDefaultMaxTime::default(),
        max_keypairs: 16,
        buffer_incoming_message_time: MinDefaultMaxTime {
            minimum_time: 0,
            default_time: 30,
            maximum_time: 300,
        },
        max_buffered_messages: 1_000,
    }
}

/// Every component sample, by vector file name, as encoded bytes plus a decode-and-reencode
/// function (so one loop can test them all).
pub(crate) type Codec = fn(&[u8]) -> Result<Vec<u8>, mimi_room::DecodeError>;

fn rt<T: Component>(bytes: &[u8]) -> Result<Vec<u8>, mimi_room::DecodeError> {
    T::decode(bytes).map(|v| v.encode())
}

pub(crate) fn server_policy() -> ServerPolicy {
    ServerPolicy {
        mode: ServerPolicyMode::DenyListed,
        entries: vec![
            ServerEntry {
                domain: DomainName {
                    domain: Domain::parse("b.example").unwrap(),
                },
                capabilities: ServerCapabilities::JOIN,
            },
            ServerEntry {
                domain: DomainName {
                    domain: Domain::parse("c.example").unwrap(),
                },
                capabilities: ServerCapabilities::NONE,
            },
        ],
    }
}

pub(crate) fn samples() -> Vec<(&'static str, Vec<u8>, Codec)> {
    let mut out: Vec<(&'static str, Vec<u8>, Codec)> = vec![
        (
            "participant_list",
            participant_list().encode(),
            rt::<ParticipantList>,
        ),
        (
            "participant_list_update",
            participant_list_update().encode(),
            rt::<ParticipantListUpdate>,
        ),
        (
            "room_metadata",
            room_metadata().encode(),
            rt::<RoomMetadata>,
        ),
        ("preauth_list", preauth().encode(), rt::<PreAuthData>),
        (
            "base_room_policy",
            base_policy().encode(),
            rt::<BaseRoomPolicy>,
        ),
        (
            "status_notification_policy",
            status_policy().encode(),
            rt::<StatusNotificationPolicy>,
        ),
        (
            "join_link_policy",
            join_link_policy().encode(),
            rt::<JoinLinkPolicy>,
        ),
        ("join_links", join_links().encode(), rt::<JoinLinks>),
        (
            "join_code_terms",
            join_code_terms().encode(),
            rt::<JoinCodeTerms>,
        ),
        (
            "hub_retracted_messages",
            hub_retracted_messages().encode(),
            rt::<HubRetractedMessages>,
        ),
        (
            "hub_retracted_range",
            hub_retracted_range().encode(),
            rt::<HubRetractedRange>,
        ),
        (
            "join_links_update",
            join_links_update().encode(),
            rt::<JoinLinksUpdate>,
        ),
        (
            "link_preview_policy",
            link_preview_policy().encode(),
            rt::<LinkPreviewPolicy>,
        ),
        ("asset_policy", asset_policy().encode(), rt::<AssetPolicy>),
        (
            "logging_policy",
            logging_policy().encode(),
            rt::<LoggingPolicy>,
        ),
        (
            "chat_history_policy",
            history_policy().encode(),
            rt::<HistoryPolicy>,
        ),
        ("bot_policy", bot_policy().encode(), rt::<BotPolicy>),
        (
            "message_expiration_policy",
            message_expiration().encode(),
            rt::<MessageExpiration>,
        ),
        (
            "mls_operational_policy",
            operational_policy().encode(),
            rt::<OperationalParameters>,
        ),
        (
            "server_policy",
            server_policy().encode(),
            rt::<ServerPolicy>,
        ),
    ];
    out.push((
        "roles_list_cooperative",
        presets::cooperative().encode(),
        rt::<RoleData>,
    ));
    out.push((
        "roles_list_strictly_administered",
        presets::strictly_administered().encode(),
        rt::<RoleData>,
    ));
    out.push((
        "roles_list_moderated",
        presets::moderated().encode(),
        rt::<RoleData>,
    ));
    out.push((
        "roles_list_multi_organization",
        presets::multi_organization().encode(),
        rt::<RoleData>,
    ));
    out
}
