//! `canReceiveMessage` per device (issue 18 item 5), through three real providers: the hub
//! (x.example) names, with each application message it fans out, the member devices there
//! whose users may not receive it, and each follower withholds it from them (our `notify`
//! extension, federation-api reading D32). Bob and Carol share y.example; Erin shares the hub's
//! own provider with Alice. With canReceiveMessage taken from Carol's and Erin's role, Bob gets
//! Alice's message and neither Carol nor Erin does: not in their timelines, not in their
//! providers' stored feeds; given back, they get the next ones. A notify naming withheld
//! devices from a provider that is not the room's hub, one naming another provider's device,
//! and a malformed list are refused; a sentinel still reaches everyone after them. Typing
//! indicators follow the same rule: while revoked, Bob sees Alice typing and Carol and Erin
//! do not (they did before, so their live streams were open).
//!
//! A follower that ignores the list (another implementation, or a rogue) can only hand its
//! own users what the hub sent it: the hub withholds from providers where nobody may receive.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{THREE, member, providers, settle, texts, user};
use mimi_client_api::Event;
use mimi_federation_api::notify::{FanoutContent, FanoutMessage, NotifyRequest};
use mimi_federation_api::path::encode_param;
use mimi_federation_api::withheld::WITHHELD_HEADER;
use mimi_room::Capability;
use mimi_room::components::RoleIndex;
use mimi_sdk::{ClientEvent, Device, Preset, RoleEdit, RoomOptions};
use mimi_server::Config;
use mimi_transport::client::FederationClient;
use mimi_types::RoomUri;

/// Every stored event of `device` in `room`, decoded, in feed order.
async fn stored_feed(device: &Device, room: &RoomUri) -> Vec<FanoutMessage> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let events: Vec<Event> = device.peek_events(after, 0).await.unwrap();
        let Some(last) = events.last() else {
            return out;
        };
        after = last.seq;
        for event in events {
            if event.room == room.to_string() && !event.ephemeral {
                out.push(mimi_federation_api::decode_exact(&event.payload).unwrap());
            }
        }
    }
}

fn is_application(m: &FanoutMessage) -> bool {
    matches!(m.content, FanoutContent::Application { .. })
}

/// A federation client speaking as `from` to `to` (its certificate, the peer pinned).
fn client_as(from: &Config, to: &Config) -> FederationClient {
    mimi_server::local::federation_client_as(from, to).unwrap()
}

/// A notify body with one made-up application message (never delivered: every use is
/// refused before the inbox).
fn made_up_notify() -> Vec<u8> {
    use mimi_federation_api::codec::Writer;
    let mut w = Writer::new();
    w.u16(1); // version mls10
    w.u16(2); // PrivateMessage
    w.opaque("group_id", usize::MAX, b"g").unwrap();
    w.u64(1); // epoch
    w.u8(1); // content type: application
    w.opaque("authenticated_data", usize::MAX, b"").unwrap();
    w.opaque("encrypted_sender_data", usize::MAX, b"s").unwrap();
    w.opaque("ciphertext", usize::MAX, b"c").unwrap();
    let message = mimi_federation_api::mls::MlsMessage::from_bytes(w.into_bytes()).unwrap();
    let fanout = FanoutMessage::new(
        1,
        FanoutContent::Application {
            message,
            frank: None,
        },
    );
    mimi_federation_api::Encode::encode(&NotifyRequest::new(vec![fanout])).unwrap()
}

/// How many application messages `device`'s stored feed holds between its last two commits
/// (the one taking canReceiveMessage from group admins and the one giving it back).
async fn applications_while_revoked(device: &Device, room: &RoomUri) -> usize {
    let feed = stored_feed(device, room).await;
    let commits: Vec<usize> = feed
        .iter()
        .enumerate()
        .filter(|(_, m)| matches!(m.content, FanoutContent::Commit { .. }))
        .map(|(i, _)| i)
        .collect();
    let [.., revoked, restored] = commits[..] else {
        panic!("{}: fewer than two commits", device.client_uri());
    };
    feed[revoked..restored]
        .iter()
        .filter(|m| is_application(m))
        .count()
}

/// Listens on `device` for `rounds` × 200 ms: whether it shows `from` typing in `room`.
async fn sees_typing(device: &mut Device, room: &RoomUri, from: &Device, rounds: usize) -> bool {
    for _ in 0..rounds {
        for event in device.listen(200).await.unwrap() {
            if let ClientEvent::Typing(t) = event
                && &t.room == room
                && &t.user == from.user()
                && t.active
            {
                return true;
            }
        }
    }
    false
}

fn role_3_receives(device: &Device, room: &RoomUri) -> Option<bool> {
    let view = device.engine().room(room)?;
    let role = view.state().roles().role(RoleIndex(3))?;
    Some(role.has(Capability::CAN_RECEIVE_MESSAGE))
}

#[test]
fn application_messages_reach_only_the_devices_of_users_who_may_receive_them() {
    let p = providers(&THREE);
    let (nodes, profiles) = (&p.nodes, &p.profiles);
    p.runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut erin = user(&nodes[0], &profiles.join("erin"), "erin").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let mut carol = user(&nodes[1], &profiles.join("carol"), "carol").await;
        let room = alice.room_uri("quiet").unwrap();
        let options = RoomOptions {
            grants: vec![(RoleIndex(4), Capability::CAN_CHANGE_ROLE_DEFINITIONS)],
            discoverable: false,
        };
        alice
            .create_room_with(&room, Preset::Cooperative, &options)
            .await
            .unwrap();
        let invited = [
            bob.user().clone(),
            carol.user().clone(),
            erin.user().clone(),
        ];
        alice.invite(&room, &invited).await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol, &mut erin], |d| {
            d.iter().all(|d| member(d, &room))
        })
        .await;

        // Everyone sees Alice typing (and every live stream is open).
        alice.typing(&room, true).await.unwrap();
        for device in [&mut bob, &mut carol, &mut erin] {
            assert!(
                sees_typing(device, &room, &alice, 50).await,
                "{} sees alice typing",
                device.client_uri()
            );
        }
        alice.typing(&room, false).await.unwrap();

        // Carol and Erin become group admins, and group admins may not receive messages.
        alice
            .set_role(&room, &carol.user().clone(), RoleIndex(3))
            .await
            .unwrap();
        alice
            .set_role(&room, &erin.user().clone(), RoleIndex(3))
            .await
            .unwrap();
        let revoke = RoleEdit {
            grant: Vec::new(),
            revoke: vec![Capability::CAN_RECEIVE_MESSAGE],
        };
        alice.edit_role(&room, RoleIndex(3), &revoke).await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol, &mut erin], |d| {
            d.iter().all(|d| role_3_receives(d, &room) == Some(false))
        })
        .await;
        let carol_before = stored_feed(&carol, &room).await.len();
        let erin_before = stored_feed(&erin, &room).await.len();

        alice
            .send_text(&room, "not for group admins")
            .await
            .unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            texts(d[1], &room).last().map(String::as_str) == Some("not for group admins")
        })
        .await;

        // Nor does the indicator: Bob sees Alice typing; by then y.example has handed it to its
        // streams (Carol's among them) and x.example to Erin's, and neither shows it.
        alice.typing(&room, true).await.unwrap();
        assert!(sees_typing(&mut bob, &room, &alice, 50).await);
        for device in [&mut carol, &mut erin] {
            assert!(
                !sees_typing(device, &room, &alice, 5).await,
                "{} sees alice typing though it may not receive",
                device.client_uri()
            );
        }

        // Given back: the next message reaches everyone (and shows that both followers
        // handled everything before it).
        let grant = RoleEdit {
            grant: vec![Capability::CAN_RECEIVE_MESSAGE],
            revoke: Vec::new(),
        };
        alice.edit_role(&room, RoleIndex(3), &grant).await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol, &mut erin], |d| {
            d.iter().all(|d| role_3_receives(d, &room) == Some(true))
        })
        .await;
        alice.send_text(&room, "for everyone again").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol, &mut erin], |d| {
            d.iter()
                .all(|d| texts(d, &room).last().map(String::as_str) == Some("for everyone again"))
        })
        .await;
        assert!(texts(&bob, &room).contains(&"not for group admins".to_owned()));
        // In the stored feeds, between the commit that took the capability and the one that
        // gave it back: Alice's message (and Bob's receipts) for Bob, nothing for the others.
        assert!(applications_while_revoked(&bob, &room).await > 0);
        for device in [&carol, &erin] {
            let shown = texts(device, &room);
            assert!(
                !shown.contains(&"not for group admins".to_owned()),
                "{}: {shown:?}",
                device.client_uri()
            );
            assert_eq!(
                applications_while_revoked(device, &room).await,
                0,
                "{}",
                device.client_uri()
            );
        }
        assert!(
            stored_feed(&carol, &room).await[carol_before..]
                .iter()
                .any(is_application),
            "the later ones arrive"
        );
        assert!(
            stored_feed(&erin, &room).await[erin_before..]
                .iter()
                .any(is_application)
        );

        // Rogue notifies naming withheld devices, all refused before anything is delivered.
        let path = format!("/notify/{}", encode_param(&room.to_string()));
        let y = nodes[1].domain.clone();
        let carol_device = carol.client_uri().to_string();
        // From z.example, which is not the room's hub.
        let z_to_y = client_as(&nodes[2].config, &nodes[1].config);
        let r = z_to_y
            .post_with(
                &y,
                &path,
                made_up_notify(),
                &[(WITHHELD_HEADER, &carol_device)],
            )
            .await
            .unwrap();
        assert_eq!(r.status, 403, "{}", String::from_utf8_lossy(&r.body));
        // As the hub, naming a device of another provider, or something that is no device.
        let x_to_y = client_as(&nodes[0].config, &nodes[1].config);
        for (value, says) in [
            ("mimi://z.example/d/zed/phone", "another provider"),
            ("carol", "not a device"),
            ("", "names no device"),
        ] {
            let r = x_to_y
                .post_with(&y, &path, made_up_notify(), &[(WITHHELD_HEADER, value)])
                .await
                .unwrap();
            let body = String::from_utf8_lossy(&r.body);
            assert_eq!(r.status, 400, "{value:?}: {body}");
            assert!(body.contains(says), "{value:?}: {body}");
        }
        alice.send_text(&room, "after the rogues").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol, &mut erin], |d| {
            d.iter()
                .all(|d| texts(d, &room).last().map(String::as_str) == Some("after the rogues"))
        })
        .await;
    });
    // The runtime stops before the providers (the field order of `Providers`).
    drop(p);
}
