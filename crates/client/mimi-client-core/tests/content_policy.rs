//! The room policy on what a message's content carries (`content_policy.rs`), through the real
//! engines: topics (`canStartTopic`, `canReplyInTopic`), links (`canSendLink`), link previews
//! (`canSendLinkPreview`, `link_preview_policy`), the hosts attachments are stored at
//! (`asset_policy` upload domains) and downloads (`canDownload…`, `asset_policy` download
//! privacy). x.example (Alice, Bob:
//! ordinary members), y.example (the hub: Charlie, the super admin). The sender refuses what
//! its role or the room's policy does not allow, with nothing queued; every receiver refuses
//! (does not show) what a client sends anyway; a sentinel still arrives.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use harness::{Fed, user};
use mimi_client_core::{ClientError, FileInfo, PolicySetting, Rejection};
use mimi_content::{ContentBuilder, Disposition, NestedPart, seal_attachment};
use mimi_mls::ComponentChange;
use mimi_room::components::{
    AssetPolicy, AssetUploadLocation, Component as _, DomainName, DownloadPrivacy,
    DownloadPrivacyType, LinkPreviewPolicy, LinkPreviewProxy, Optionality,
    ProviderAssetUploadDomains,
};
use mimi_room::presets::Preset;
use mimi_room::{Capability, Denied};
use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, RoomUri};

const ALICE: &str = "mimi://x.example/u/alice";
const BOB: &str = "mimi://x.example/u/bob";

struct Room {
    fed: Fed,
    alice: ClientUri,
    bob: ClientUri,
    charlie: ClientUri,
    room: RoomUri,
}

/// The room, with `taken` taken from every role but Charlie's, and Charlie's role given
/// `canChangeOtherPolicyAttribute` (for the policy components).
fn room_without(name: &str, taken: &[Capability]) -> Room {
    let mut fed = Fed::new(&["x.example", "y.example"]);
    let alice = fed.device(ALICE, "phone");
    let bob = fed.device(BOB, "laptop");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    let preset = Preset::StrictlyAdministered;
    let room = fed.create_room(&charlie, &format!("mimi://y.example/r/{name}"), preset);
    fed.invite(&charlie, &room, &[ALICE, BOB]).unwrap();
    let mut roles = preset.roles();
    for role in &mut roles.roles {
        if role.role_index == preset.creator_role() {
            role.role_capabilities
                .push(Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE);
        } else {
            role.role_capabilities.retain(|c| !taken.contains(c));
        }
    }
    let change = ComponentChange::update(ComponentId::ROLES_LIST, roles.encode());
    let now = fed.now();
    fed.c(&charlie)
        .update_components(now, &room, &[change])
        .unwrap();
    fed.pump();
    assert!(fed.refusals().is_empty(), "{:?}", fed.refusals());
    Room {
        fed,
        alice,
        bob,
        charlie,
        room,
    }
}

impl Room {
    fn set(&mut self, change: ComponentChange) {
        let now = self.fed.now();
        self.fed
            .c(&self.charlie)
            .update_components(now, &self.room, &[change])
            .unwrap();
        self.fed.pump();
        assert!(self.fed.refusals().is_empty(), "{:?}", self.fed.refusals());
    }

    /// The texts Alice's and Charlie's views show, which must agree.
    fn shown(&self) -> Vec<String> {
        let mut shown = Vec::new();
        for d in [&self.alice, &self.charlie] {
            let view = self.fed.client(d).room(&self.room).unwrap();
            let texts: Vec<String> = view
                .messages()
                .iter()
                .map(|m| format!("{}{}", m.body.text, "📎".repeat(m.body.attachments.len())))
                .collect();
            if d == &self.alice {
                shown = texts;
            } else {
                assert_eq!(texts, shown, "Alice's and Charlie's views agree");
            }
        }
        shown
    }

    /// What Alice's and Charlie's views refused of Bob, each.
    fn refused_of_bob(&self) -> [Vec<Denied>; 2] {
        [&self.alice, &self.charlie].map(|d| {
            self.fed
                .client(d)
                .room(&self.room)
                .unwrap()
                .rejections()
                .iter()
                .filter_map(|r| match r {
                    Rejection::NotAllowed { sender, denied } if *sender == user(BOB) => {
                        Some(denied.clone())
                    }
                    _ => None,
                })
                .collect()
        })
    }

    fn assert_nothing_queued(&mut self) {
        assert!(
            self.fed.c(&self.alice).poll_request().is_none(),
            "nothing was queued"
        );
    }
}

fn missing(err: &ClientError) -> Capability {
    match err {
        ClientError::NotAllowed {
            denied: Denied::MissingCapability { capability, .. },
            ..
        } => *capability,
        other => panic!("not a missing capability: {other}"),
    }
}

fn lacks(denied: &Denied) -> Option<Capability> {
    match denied {
        Denied::MissingCapability { capability, .. } => Some(*capability),
        _ => None,
    }
}

#[test]
fn topics_need_can_start_topic_then_can_reply_in_topic_at_sender_and_receivers() {
    let taken = [Capability::CAN_START_TOPIC, Capability::CAN_REPLY_IN_TOPIC];
    let mut r = room_without("topics", &taken);
    let mut rng = r.fed.rng.clone();
    let room = r.room.clone();

    // Charlie's role holds both: he starts the topic "plans" and replies in it.
    let c = r.fed.c(&r.charlie);
    c.send_in_topic(&mut rng, &room, b"plans", "first in plans")
        .unwrap();
    r.fed.pump();
    let c = r.fed.c(&r.charlie);
    c.send_in_topic(&mut rng, &room, b"plans", "second in plans")
        .unwrap();
    r.fed.pump();

    // Alice may neither start a topic nor reply in one; plain messages stay allowed.
    let a = r.fed.c(&r.alice);
    assert!(a.room(&room).unwrap().knows_topic(b"plans"));
    assert!(!a.room(&room).unwrap().knows_topic(b"news"));
    let refused = [
        missing(
            &a.send_in_topic(&mut rng, &room, b"news", "start")
                .unwrap_err(),
        ),
        missing(
            &a.send_in_topic(&mut rng, &room, b"plans", "reply")
                .unwrap_err(),
        ),
    ];
    assert_eq!(refused, taken);
    assert!(matches!(
        a.send_in_topic(&mut rng, &room, b"", "no topic"),
        Err(ClientError::Misuse(_))
    ));
    r.assert_nothing_queued();

    // Bob's client sends both anyway: every receiver refuses each, naming the capability.
    for topic in [&b"news"[..], b"plans"] {
        let content = ContentBuilder::new(NestedPart::text("rogue")).topic(topic.to_vec());
        r.fed
            .c(&r.bob)
            .send_content(&mut rng, &room, content)
            .unwrap();
    }
    r.fed
        .c(&r.bob)
        .send_text(&mut rng, &room, "sentinel")
        .unwrap();
    r.fed.pump();
    assert_eq!(r.shown(), ["first in plans", "second in plans", "sentinel"]);
    let view = r.fed.client(&r.alice).room(&room).unwrap();
    assert_eq!(view.messages()[0].topic, b"plans");
    assert!(!view.knows_topic(b"news"), "a refused start starts nothing");
    for refused in r.refused_of_bob() {
        let refused: Vec<_> = refused.iter().filter_map(lacks).collect();
        assert_eq!(refused, taken);
    }
}

#[test]
fn links_and_previews_need_their_capabilities_and_the_link_preview_policy() {
    let taken = [Capability::CAN_SEND_LINK, Capability::CAN_SEND_LINK_PREVIEW];
    let mut r = room_without("links", &taken);
    let mut rng = r.fed.rng.clone();
    let room = r.room.clone();

    // Alice may not send a link in text, Markdown (a mention is a link too) or an edit.
    let (_, plain) = r
        .fed
        .c(&r.alice)
        .send_text(&mut rng, &room, "example.com is no link")
        .unwrap();
    r.fed.pump();
    let a = r.fed.c(&r.alice);
    let refused = [
        a.send_text(&mut rng, &room, "see https://example.com/x")
            .unwrap_err(),
        a.send_markdown(&mut rng, &room, "hi [Bob](mimi://x.example/u/bob)")
            .unwrap_err(),
        a.edit(&mut rng, &room, plain, "now HTTP://example.com")
            .unwrap_err(),
    ];
    for e in &refused {
        assert_eq!(missing(e), Capability::CAN_SEND_LINK, "{e}");
    }
    r.assert_nothing_queued();

    // Bob's client sends a link and a preview anyway: every receiver refuses both.
    let preview = NestedPart::single(Disposition::PREVIEW, "text/plain", "Example Domain");
    let rogue = [
        ContentBuilder::new(NestedPart::text("https://example.com")),
        ContentBuilder::new(preview.clone()),
    ];
    for content in rogue {
        r.fed
            .c(&r.bob)
            .send_content(&mut rng, &room, content)
            .unwrap();
    }
    r.fed
        .c(&r.bob)
        .send_text(&mut rng, &room, "sentinel")
        .unwrap();
    r.fed.pump();
    for refused in r.refused_of_bob() {
        let refused: Vec<_> = refused.iter().filter_map(lacks).collect();
        assert_eq!(refused, taken);
    }

    // Charlie holds both; a link and a preview of his are shown.
    let c = r.fed.c(&r.charlie);
    c.send_text(&mut rng, &room, "https://example.com").unwrap();
    c.send_content(&mut rng, &room, ContentBuilder::new(preview.clone()))
        .unwrap();
    r.fed.pump();
    // The room forbids sending previews: now every receiver refuses even his.
    let policy = LinkPreviewPolicy {
        autodetect_hyperlinks_in_text: Optionality::Optional,
        send_link_previews: Optionality::Forbidden,
        automatic_link_previews: Optionality::Forbidden,
        link_preview_proxy: LinkPreviewProxy::Forbidden,
    };
    r.set(ComponentChange::update(
        ComponentId::LINK_PREVIEW_POLICY,
        policy.encode(),
    ));
    let c = r.fed.c(&r.charlie);
    c.send_content(&mut rng, &room, ContentBuilder::new(preview))
        .unwrap();
    c.send_text(&mut rng, &room, "after the policy").unwrap();
    r.fed.pump();
    assert_eq!(
        r.shown(),
        [
            "example.com is no link",
            "sentinel",
            "https://example.com",
            "Example Domain",
            "after the policy"
        ]
    );
    for d in [&r.alice, &r.bob] {
        let rejections = r.fed.client(d).room(&room).unwrap().rejections();
        assert!(
            rejections.iter().any(|x| matches!(x,
                Rejection::NotAllowed { sender, denied: Denied::LinkPreviewsForbidden }
                    if sender.to_string() == "mimi://y.example/u/charlie")),
            "{d}: {rejections:?}"
        );
    }
}

fn info(content_type: &str) -> FileInfo {
    FileInfo {
        filename: "file".into(),
        content_type: content_type.into(),
        description: String::new(),
    }
}

fn domain(d: &str) -> DomainName {
    DomainName {
        domain: d.parse().unwrap(),
    }
}

#[test]
fn attachments_are_stored_only_at_the_upload_domains_the_asset_policy_lists() {
    let mut r = room_without("hosts", &[]);
    let mut rng = r.fed.rng.clone();
    let room = r.room.clone();
    // Each provider's clients upload to that provider's own asset host.
    let policy = AssetPolicy {
        asset_upload_location: AssetUploadLocation::LocalProvider,
        upload_domains: ["x.example", "y.example"]
            .map(|p| ProviderAssetUploadDomains {
                provider: domain(p),
                asset_upload_destinations: vec![domain(&format!("assets.{p}"))],
            })
            .to_vec(),
        download_privacy: DownloadPrivacy {
            allowed_download_types: vec![DownloadPrivacyType::HubProxy],
            forbidden_download_types: Vec::new(),
            default_download_type: DownloadPrivacyType::HubProxy,
        },
        max_image: 0,
        max_audio: 0,
        max_video: 0,
        max_attachment: 0,
        forbidden_media_types: Vec::new(),
        permitted_media_types: None,
    };
    r.set(ComponentChange::update(
        ComponentId::ASSET_POLICY,
        policy.encode(),
    ));

    // Alice (x.example) may store at assets.x.example, not at the hub's asset host.
    let a = r.fed.c(&r.alice);
    let at = |host: &'static str| move |_: &[u8]| format!("https://{host}/v1/blobs/1");
    let err = a
        .send_attachment(
            &mut rng,
            &room,
            b"file",
            &info("application/pdf"),
            at("assets.y.example"),
        )
        .unwrap_err();
    assert!(
        matches!(&err, ClientError::NotAllowed { denied: Denied::AssetHostNotAllowed { allowed, .. }, .. }
            if allowed == &["assets.x.example"]),
        "{err}"
    );
    assert!(err.to_string().contains("assets.x.example"), "{err}");
    r.assert_nothing_queued();
    let a = r.fed.c(&r.alice);
    a.send_attachment(
        &mut rng,
        &room,
        b"file",
        &info("application/pdf"),
        at("assets.x.example"),
    )
    .unwrap();

    // Bob's client sends one stored elsewhere anyway (and one without a host): refused.
    for url in ["https://assets.y.example/v1/blobs/1", "blob:1"] {
        let sealed = seal_attachment(&mut rng, b"file", &[]).unwrap();
        let part = sealed.external_part(url.to_owned(), "application/pdf", "f", "");
        let body = NestedPart::external(Disposition::ATTACHMENT, part);
        r.fed
            .c(&r.bob)
            .send_content(&mut rng, &room, ContentBuilder::new(body))
            .unwrap();
    }
    r.fed
        .c(&r.bob)
        .send_text(&mut rng, &room, "sentinel")
        .unwrap();
    r.fed.pump();
    assert_eq!(r.shown(), ["📎", "sentinel"]);
    for refused in r.refused_of_bob() {
        assert_eq!(refused.len(), 2, "{refused:?}");
        assert!(
            refused
                .iter()
                .all(|d| matches!(d, Denied::AssetHostNotAllowed { .. })),
            "{refused:?}"
        );
    }
}

#[test]
fn a_role_without_the_download_capability_for_a_kind_may_not_download_it() {
    let mut r = room_without("downloads", &[Capability::CAN_DOWNLOAD_VIDEO]);
    let mut rng = r.fed.rng.clone();
    let room = r.room.clone();
    let url = |_: &[u8]| "https://y.example/v1/blobs/1".to_owned();
    let c = r.fed.c(&r.charlie);
    let video = c
        .send_attachment(&mut rng, &room, b"moving", &info("video/mp4"), url)
        .unwrap();
    let image = c
        .send_attachment(&mut rng, &room, b"still", &info("image/png"), url)
        .unwrap();
    r.fed.pump();

    let a = r.fed.client(&r.alice);
    let err = a.may_download(&room, &video.message_id, 0).unwrap_err();
    assert_eq!(missing(&err), Capability::CAN_DOWNLOAD_VIDEO);
    assert!(err.to_string().contains("canDownloadVideo"), "{err}");
    let err = a
        .open_attachment(&room, &video.message_id, 0, &video.blob)
        .unwrap_err();
    assert_eq!(missing(&err), Capability::CAN_DOWNLOAD_VIDEO);
    a.may_download(&room, &image.message_id, 0).unwrap();
    let opened = a
        .open_attachment(&room, &image.message_id, 0, &image.blob)
        .unwrap();
    assert_eq!(opened.as_slice(), b"still");
    // The sender's role keeps it.
    let c = r.fed.client(&r.charlie);
    let opened = c
        .open_attachment(&room, &video.message_id, 0, &video.blob)
        .unwrap();
    assert_eq!(opened.as_slice(), b"moving");
}

#[test]
fn downloads_need_a_download_type_the_asset_policy_allows() {
    let mut r = room_without("private-downloads", &[]);
    let mut rng = r.fed.rng.clone();
    let room = r.room.clone();
    let (alice, charlie) = (r.alice.clone(), r.charlie.clone());
    let url = |_: &[u8]| "https://y.example/v1/blobs/1".to_owned();
    let image = r
        .fed
        .c(&charlie)
        .send_attachment(&mut rng, &room, b"still", &info("image/png"), url)
        .unwrap();
    r.fed.pump();
    let policy = |r: &mut Room, by: &ClientUri, setting: &str| {
        let now = r.fed.now();
        let setting: PolicySetting = setting.parse().unwrap();
        let result = r.fed.c(by).set_policy(now, &room, &[setting]);
        r.fed.pump();
        result
    };

    // The room allows OHTTP only: no client fetches, whatever its role, and none opens.
    policy(&mut r, &charlie, "downloads=ohttp").unwrap();
    assert!(r.fed.refusals().is_empty(), "{:?}", r.fed.refusals());
    for d in [&r.alice, &r.bob, &r.charlie] {
        let c = r.fed.client(d);
        for err in [
            c.may_download(&room, &image.message_id, 0).unwrap_err(),
            c.open_attachment(&room, &image.message_id, 0, &image.blob)
                .unwrap_err(),
        ] {
            assert!(
                matches!(&err, ClientError::NotAllowed { denied: Denied::DownloadTypeNotAllowed { allowed }, .. }
                    if allowed == &["ohttp"]),
                "{d}: {err}"
            );
            assert!(err.to_string().contains("hubProxy"), "{err}");
        }
    }
    // An ordinary member may not change it back: refused by his own client, nothing queued.
    let err = policy(&mut r, &alice, "downloads=any").unwrap_err();
    assert_eq!(missing(&err), Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE);
    r.assert_nothing_queued();

    // Once the room allows the provider's proxy again, the image opens everywhere.
    policy(&mut r, &charlie, "downloads=hubProxy,ohttp").unwrap();
    for d in [&r.alice, &r.bob, &r.charlie] {
        let c = r.fed.client(d);
        c.may_download(&room, &image.message_id, 0).unwrap();
        let opened = c
            .open_attachment(&room, &image.message_id, 0, &image.blob)
            .unwrap();
        assert_eq!(opened.as_slice(), b"still");
    }
    // The room goes on: a sentinel reaches every view.
    r.fed
        .c(&r.bob)
        .send_text(&mut rng, &room, "sentinel")
        .unwrap();
    r.fed.pump();
    assert_eq!(r.shown(), ["📎", "sentinel"]);
}
