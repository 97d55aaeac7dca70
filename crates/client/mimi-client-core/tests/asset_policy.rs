//! The upload capabilities (`canUploadImage/Audio/Video/Attachment`) and the room's
//! `asset_policy` (media types, sizes) through the real engines: x.example (Alice, Bob,
//! ordinary members), y.example (the hub: Charlie, the super admin). The sender refuses an
//! attachment its role or the policy does not allow; every receiver refuses (does not show,
//! so never fetches) one sent anyway.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use harness::{Fed, user};
use mimi_client_core::{ClientError, FileInfo, PolicySetting, Rejection};
use mimi_content::{ContentBuilder, Disposition, NestedPart, seal_attachment};
use mimi_mls::ComponentChange;
use mimi_room::components::Component as _;
use mimi_room::presets::Preset;
use mimi_room::{Capability, Denied};
use mimi_types::codepoints::ComponentId;

const ALICE: &str = "mimi://x.example/u/alice";
const BOB: &str = "mimi://x.example/u/bob";

fn info(content_type: &str) -> FileInfo {
    FileInfo {
        filename: "file".into(),
        content_type: content_type.into(),
        description: String::new(),
    }
}

fn url(hash: &[u8]) -> String {
    format!("https://x.example/v1/blobs/{}", hash.len())
}

#[test]
fn uploads_need_their_capability_and_keep_the_asset_policy_at_sender_and_receivers() {
    let mut fed = Fed::new(&["x.example", "y.example"]);
    let alice = fed.device(ALICE, "phone");
    let bob = fed.device(BOB, "laptop");
    let charlie = fed.device("mimi://y.example/u/charlie", "desk");
    let preset = Preset::StrictlyAdministered;
    let room = fed.create_room(&charlie, "mimi://y.example/r/text-mostly", preset);
    fed.invite(&charlie, &room, &[ALICE, BOB]).unwrap();
    let now = fed.now();
    let mut rng = fed.rng.clone();

    // Charlie's role may change the other policy attributes; nobody else may upload video.
    let mut roles = preset.roles();
    for role in &mut roles.roles {
        if role.role_index == preset.creator_role() {
            role.role_capabilities
                .push(Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE);
        } else {
            role.role_capabilities
                .retain(|c| *c != Capability::CAN_UPLOAD_VIDEO);
        }
    }
    let change = ComponentChange::update(ComponentId::ROLES_LIST, roles.encode());
    fed.c(&charlie)
        .update_components(now, &room, &[change])
        .unwrap();
    fed.pump();
    // Images up to 1000 bytes (as stored, encrypted); no executables: set as an admin does
    // (`mimi room policy ROOM max-image=1000 media-forbidden=application/x-msdownload`).
    let settings: Vec<PolicySetting> =
        ["max-image=1000", "media-forbidden=application/x-msdownload"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
    fed.c(&charlie).set_policy(now, &room, &settings).unwrap();
    fed.pump();
    let policy = fed
        .client(&alice)
        .room(&room)
        .unwrap()
        .state()
        .asset_policy()
        .cloned()
        .unwrap();
    assert_eq!(
        mimi_client_core::describe_asset_policy(&policy),
        "max-image=1000 max-audio=any max-video=any max-attachment=any \
         media-forbidden=application/x-msdownload media-permitted=any \
         upload-location=local-provider upload-domains=any downloads=any"
    );
    assert!("media-permitted=image".parse::<PolicySetting>().is_err());
    assert!(fed.refusals().is_empty(), "{:?}", fed.refusals());

    // What the sender refuses, with nothing queued.
    let refusals = [
        (vec![0u8; 2000], "image/png"),
        (vec![0u8; 10], "video/mp4"),
        (vec![0u8; 10], "application/x-msdownload"),
    ];
    for (file, content_type) in &refusals {
        let err = fed
            .c(&alice)
            .send_attachment(&mut rng, &room, file, &info(content_type), url)
            .unwrap_err();
        let ClientError::NotAllowed { denied, .. } = &err else {
            panic!("{content_type}: {err}");
        };
        match *content_type {
            "image/png" => assert!(
                matches!(
                    denied,
                    Denied::AssetTooLarge {
                        kind: "image",
                        max: 1000,
                        ..
                    }
                ),
                "{err}"
            ),
            "video/mp4" => assert!(
                matches!(denied, Denied::MissingCapability { capability, .. }
                    if *capability == Capability::CAN_UPLOAD_VIDEO),
                "{err}"
            ),
            _ => assert!(
                matches!(denied, Denied::MediaTypeNotPermitted { .. }),
                "{err}"
            ),
        }
        assert!(fed.c(&alice).poll_request().is_none(), "nothing was queued");
    }
    // What it allows: a small image, and a large PDF (attachments have no limit here).
    fed.c(&alice)
        .send_attachment(&mut rng, &room, &[1u8; 100], &info("image/png"), url)
        .unwrap();
    fed.c(&alice)
        .send_attachment(&mut rng, &room, &[2u8; 5000], &info("application/pdf"), url)
        .unwrap();
    fed.pump();

    // Bob's client sends the same three anyway: every receiver refuses each.
    for (file, content_type) in &refusals {
        let sealed = seal_attachment(&mut rng, file, &[]).unwrap();
        let part = sealed.external_part(url(&sealed.content_hash), *content_type, "f", "");
        let body = NestedPart::external(Disposition::ATTACHMENT, part);
        fed.c(&bob)
            .send_content(&mut rng, &room, ContentBuilder::new(body))
            .unwrap();
    }
    // The sentinel.
    fed.c(&bob).send_text(&mut rng, &room, "sentinel").unwrap();
    fed.pump();
    for d in [&alice, &charlie] {
        let view = fed.client(d).room(&room).unwrap();
        let shown: Vec<(String, usize)> = view
            .messages()
            .iter()
            .map(|m| (m.body.text.clone(), m.body.attachments.len()))
            .collect();
        assert_eq!(
            shown,
            [
                (String::new(), 1),
                (String::new(), 1),
                ("sentinel".to_string(), 0)
            ],
            "{d}"
        );
        let refused = view
            .rejections()
            .iter()
            .filter(|r| {
                matches!(r, Rejection::NotAllowed { sender, denied }
                if *sender == user(BOB) && matches!(denied,
                    Denied::AssetTooLarge { .. }
                    | Denied::MissingCapability { .. }
                    | Denied::MediaTypeNotPermitted { .. }))
            })
            .count();
        assert_eq!(refused, 3, "{d}: {:?}", view.rejections());
    }
}
