//! The content rules the clients apply (`content_rules.rs`, `assets.rs`): which capability a
//! topic act, a link, a preview and a download need, the link preview policy, and which hosts
//! the asset policy's upload domains allow for each upload location.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mimi_room::components::*;
use mimi_room::presets::{Preset, RoomCreation};
use mimi_room::{Capability, Denied, MemberChange, RoomState, TopicAct};
use mimi_types::UserUri;
use mimi_types::codepoints::ComponentId;

fn u(s: &str) -> UserUri {
    s.parse().unwrap()
}

const ALICE: &str = "mimi://hub.example/u/alice";
const BOB: &str = "mimi://b.example/u/bob";

/// A cooperative room of Alice (hub.example, super admin) and Bob (b.example, ordinary user,
/// role 2), with the `extra` components set.
fn room(extra: Vec<(ComponentId, Vec<u8>)>) -> RoomState {
    let creation = RoomCreation::new(
        Preset::Cooperative,
        "mimi://hub.example/r/room".parse().unwrap(),
        u(ALICE),
    );
    let state = creation.initial_state().unwrap();
    let mut comps = state.components();
    let mut list = state.participants().clone();
    list.participants
        .push(UserRolePair::new(u(BOB), RoleIndex(2)));
    comps.insert(ComponentId::PARTICIPANT_LIST, list.encode());
    comps.extend(extra);
    RoomState::from_components(comps)
        .unwrap()
        .with_members([
            MemberChange::new("mimi://hub.example/d/alice/a".parse().unwrap(), u(ALICE)),
            MemberChange::new("mimi://b.example/d/bob/b".parse().unwrap(), u(BOB)),
        ])
        .unwrap()
}

fn without(capabilities: &[Capability]) -> RoomState {
    let mut roles = Preset::Cooperative.roles();
    for role in &mut roles.roles {
        if role.role_index == RoleIndex(2) {
            role.role_capabilities.retain(|c| !capabilities.contains(c));
        }
    }
    room(vec![(ComponentId::ROLES_LIST, roles.encode())])
}

fn lacks(r: Result<(), Denied>) -> Capability {
    match r {
        Err(Denied::MissingCapability { capability, .. }) => capability,
        other => panic!("not a missing capability: {other:?}"),
    }
}

#[test]
fn each_content_act_needs_its_own_capability() {
    let all = room(Vec::new());
    for act in [TopicAct::Start, TopicAct::Reply] {
        all.may_topic(&u(BOB), act).unwrap();
    }
    all.may_send_link(&u(BOB)).unwrap();
    all.may_send_link_preview(&u(BOB)).unwrap();
    for t in ["image/png", "audio/ogg", "video/mp4", "application/pdf", ""] {
        all.may_download(&u(BOB), t).unwrap();
    }
    // An unlisted user holds nothing.
    assert!(matches!(
        all.may_send_link(&u("mimi://c.example/u/cathy")),
        Err(Denied::NotParticipant { .. })
    ));

    let s = without(&[Capability::CAN_START_TOPIC]);
    assert_eq!(
        lacks(s.may_topic(&u(BOB), TopicAct::Start)),
        Capability::CAN_START_TOPIC
    );
    s.may_topic(&u(BOB), TopicAct::Reply).unwrap();
    let s = without(&[Capability::CAN_REPLY_IN_TOPIC]);
    assert_eq!(
        lacks(s.may_topic(&u(BOB), TopicAct::Reply)),
        Capability::CAN_REPLY_IN_TOPIC
    );
    s.may_topic(&u(BOB), TopicAct::Start).unwrap();
    let s = without(&[Capability::CAN_SEND_LINK]);
    assert_eq!(lacks(s.may_send_link(&u(BOB))), Capability::CAN_SEND_LINK);
    s.may_send_link_preview(&u(BOB)).unwrap();
    let s = without(&[Capability::CAN_SEND_LINK_PREVIEW]);
    assert_eq!(
        lacks(s.may_send_link_preview(&u(BOB))),
        Capability::CAN_SEND_LINK_PREVIEW
    );
    s.may_send_link(&u(BOB)).unwrap();
    for (capability, media) in [
        (Capability::CAN_DOWNLOAD_IMAGE, "image/png"),
        (Capability::CAN_DOWNLOAD_AUDIO, "audio/ogg"),
        (Capability::CAN_DOWNLOAD_VIDEO, "video/mp4"),
        (Capability::CAN_DOWNLOAD_ATTACHMENT, "application/pdf"),
    ] {
        let s = without(&[capability]);
        assert_eq!(lacks(s.may_download(&u(BOB), media)), capability, "{media}");
        let other = if media == "image/png" {
            "video/mp4"
        } else {
            "image/png"
        };
        s.may_download(&u(BOB), other).unwrap();
    }
}

fn preview_policy(send: Optionality) -> LinkPreviewPolicy {
    LinkPreviewPolicy {
        autodetect_hyperlinks_in_text: Optionality::Optional,
        send_link_previews: send,
        automatic_link_previews: Optionality::Optional,
        link_preview_proxy: LinkPreviewProxy::Forbidden,
    }
}

#[test]
fn a_link_preview_policy_forbidding_previews_refuses_them_whatever_the_role() {
    for (send, allowed) in [
        (Optionality::Optional, true),
        (Optionality::Required, true),
        (Optionality::Forbidden, false),
    ] {
        let s = room(vec![(
            ComponentId::LINK_PREVIEW_POLICY,
            preview_policy(send).encode(),
        )]);
        for user in [ALICE, BOB] {
            let r = s.may_send_link_preview(&u(user));
            assert_eq!(r.is_ok(), allowed, "{send:?} {user}");
            if !allowed {
                assert_eq!(r, Err(Denied::LinkPreviewsForbidden));
            }
        }
        // Links themselves are not previews.
        s.may_send_link(&u(BOB)).unwrap();
    }
}

fn d(s: &str) -> DomainName {
    DomainName {
        domain: s.parse().unwrap(),
    }
}

fn assets(location: AssetUploadLocation, domains: &[(&str, &str)]) -> AssetPolicy {
    AssetPolicy {
        asset_upload_location: location,
        upload_domains: domains
            .iter()
            .map(|(p, host)| ProviderAssetUploadDomains {
                provider: d(p),
                asset_upload_destinations: vec![d(host)],
            })
            .collect(),
        download_privacy: DownloadPrivacy {
            allowed_download_types: Vec::new(),
            forbidden_download_types: Vec::new(),
            default_download_type: DownloadPrivacyType::HubProxy,
        },
        max_image: 0,
        max_audio: 0,
        max_video: 0,
        max_attachment: 0,
        forbidden_media_types: Vec::new(),
        permitted_media_types: None,
    }
}

#[test]
fn upload_domains_follow_the_upload_location() {
    let hosts = [
        ("hub.example", "cdn.hub.example"),
        ("b.example", "cdn.b.example"),
    ];
    let at = |host: &str| format!("https://{host}/v1/blobs/1");
    let allowed = |location, user: &str, host: &str| {
        let policy = assets(location, &hosts);
        let s = room(vec![(ComponentId::ASSET_POLICY, policy.encode())]);
        s.may_host_asset(&u(user), &at(host))
    };
    use AssetUploadLocation::{Hub, LocalProvider, Unspecified};
    // localProvider: the sender's own provider's hosts only.
    allowed(LocalProvider, BOB, "cdn.b.example").unwrap();
    allowed(LocalProvider, ALICE, "cdn.hub.example").unwrap();
    let refused = allowed(LocalProvider, BOB, "cdn.hub.example").unwrap_err();
    assert_eq!(
        refused,
        Denied::AssetHostNotAllowed {
            url: at("cdn.hub.example"),
            allowed: vec!["cdn.b.example".into()],
        }
    );
    assert!(refused.to_string().contains("cdn.b.example"), "{refused}");
    // hub: the hub's hosts for everyone.
    allowed(Hub, BOB, "cdn.hub.example").unwrap();
    allowed(Hub, BOB, "cdn.b.example").unwrap_err();
    // unspecified: any listed host.
    allowed(Unspecified, BOB, "cdn.hub.example").unwrap();
    allowed(Unspecified, ALICE, "cdn.b.example").unwrap();
    allowed(Unspecified, ALICE, "elsewhere.example").unwrap_err();
    // Hosts compare in canonical form, ports aside; URLs without a domain host are refused.
    allowed(LocalProvider, BOB, "CDN.b.example:8443").unwrap();
    allowed(LocalProvider, BOB, "me@cdn.b.example").unwrap_err();
    allowed(LocalProvider, BOB, "127.0.0.1").unwrap_err();
    // No listed domains (or no policy): every host.
    let s = room(vec![(
        ComponentId::ASSET_POLICY,
        assets(LocalProvider, &[]).encode(),
    )]);
    s.may_host_asset(&u(BOB), "https://anywhere.example/x")
        .unwrap();
    room(Vec::new()).may_host_asset(&u(BOB), "blob:x").unwrap();
}

#[test]
fn downloads_by_proxy_follow_the_download_privacy() {
    use DownloadPrivacyType::{Direct, HubProxy, Ohttp};
    let with = |allowed: &[DownloadPrivacyType], forbidden: &[DownloadPrivacyType], default| {
        let mut policy = assets(AssetUploadLocation::LocalProvider, &[]);
        policy.download_privacy = DownloadPrivacy {
            allowed_download_types: allowed.to_vec(),
            forbidden_download_types: forbidden.to_vec(),
            default_download_type: default,
        };
        room(vec![(ComponentId::ASSET_POLICY, policy.encode())]).may_download_by_proxy()
    };
    assert_eq!(mimi_room::PROVIDER_DOWNLOAD, HubProxy);
    // No asset policy, or one that allows every type not forbidden, or names hubProxy.
    room(Vec::new()).may_download_by_proxy().unwrap();
    with(&[], &[], HubProxy).unwrap();
    with(&[], &[Direct], Ohttp).unwrap();
    with(&[HubProxy, Ohttp], &[Direct], Ohttp).unwrap();
    // The default is a preference only: an allowed hubProxy serves whatever the default.
    with(&[], &[], Direct).unwrap();
    // hubProxy forbidden, or left out of an allowed list: refused, naming what is allowed.
    assert_eq!(
        with(&[], &[HubProxy], Ohttp),
        Err(Denied::DownloadTypeNotAllowed {
            allowed: vec!["direct", "ohttp"],
        })
    );
    let refused = with(&[Ohttp], &[], Ohttp).unwrap_err();
    assert_eq!(
        refused,
        Denied::DownloadTypeNotAllowed {
            allowed: vec!["ohttp"],
        }
    );
    assert!(refused.to_string().contains("hubProxy"), "{refused}");
    with(&[Direct], &[HubProxy, Ohttp], Direct).unwrap_err();
    // The role's download capability is a separate question, asked separately.
    let s = without(&[Capability::CAN_DOWNLOAD_IMAGE]);
    s.may_download_by_proxy().unwrap();
    assert_eq!(
        lacks(s.may_download(&u(BOB), "image/png")),
        Capability::CAN_DOWNLOAD_IMAGE
    );
}

#[test]
fn download_types_are_named_as_the_draft_names_them() {
    for t in DownloadPrivacyType::ALL {
        assert_eq!(DownloadPrivacyType::from_name(t.name()), Some(t));
    }
    assert_eq!(
        DownloadPrivacyType::from_name("HUBPROXY"),
        Some(DownloadPrivacyType::HubProxy)
    );
    assert_eq!(DownloadPrivacyType::from_name("proxy"), None);
}
