//! Delivery and read receipts between SDK devices on three providers (x.example hosts the
//! room): delivery is reported automatically after each sync page, `mark_read` reports read,
//! the per-device opt-out of read receipts is honoured and kept in the profile (except where the
//! room requires read receipts), reports never cause more reports, and the conversation
//! continues after them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;

use common::{THREE, member, providers, settle, texts, user};
use mimi_content::MessageId;
use mimi_content::status::MessageStatus;
use mimi_room::Capability;
use mimi_room::components::RoleIndex;
use mimi_sdk::{Device, PolicySetting, Preset, RoomOptions};
use mimi_types::{RoomUri, UserUri};

fn delivered_to(d: &Device, room: &RoomUri, id: &MessageId) -> BTreeSet<UserUri> {
    d.engine()
        .room(room)
        .and_then(|v| v.message(id))
        .map(|m| m.delivered_to.clone())
        .unwrap_or_default()
}

fn read_by(d: &Device, room: &RoomUri, id: &MessageId) -> BTreeSet<UserUri> {
    d.engine()
        .room(room)
        .and_then(|v| v.message(id))
        .map(|m| m.read_by.clone())
        .unwrap_or_default()
}

#[test]
fn delivered_then_read_with_a_read_receipt_opt_out() {
    let p = providers(&THREE);
    let (nodes, profiles) = (&p.nodes, &p.profiles);
    p.runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut bob = user(&nodes[1], &profiles.join("bob"), "bob").await;
        let mut charlie = user(&nodes[2], &profiles.join("charlie"), "charlie").await;
        assert!(
            bob.read_receipts() && bob.delivery_reports(),
            "on by default"
        );
        let room = alice.room_uri("receipts").unwrap();
        // Alice's super_admin role may also change the receipts policy (no preset grants it).
        let options = RoomOptions {
            grants: vec![(RoleIndex(4), Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE)],
            discoverable: false,
        };
        alice
            .create_room_with(&room, Preset::Cooperative, &options)
            .await
            .unwrap();
        alice
            .invite(&room, &[bob.user().clone(), charlie.user().clone()])
            .await
            .unwrap();
        settle(&mut [&mut alice, &mut bob, &mut charlie], |d| {
            member(d[1], &room) && member(d[2], &room)
        })
        .await;
        let (b, c) = (bob.user().clone(), charlie.user().clone());

        // Delivered: Bob's and Charlie's devices report it on their own after syncing.
        let hello = alice.send_text(&room, "hello").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut charlie], |d| {
            delivered_to(d[0], &room, &hello) == BTreeSet::from([b.clone(), c.clone()])
        })
        .await;
        assert!(read_by(&alice, &room, &hello).is_empty());

        // Read: Bob marks the room read; Alice sees it.
        assert_eq!(bob.mark_read(&room).await.unwrap(), 1);
        settle(&mut [&mut alice, &mut bob, &mut charlie], |d| {
            read_by(d[0], &room, &hello) == BTreeSet::from([b.clone()])
        })
        .await;
        assert_eq!(
            bob.mark_read(&room).await.unwrap(),
            0,
            "nothing left unread"
        );

        // Charlie turns read receipts off (kept in the profile across a reopen): his read is
        // not sent, his delivery reports still are.
        charlie.set_read_receipts(false).await.unwrap();
        let charlie_file = charlie.path().to_owned();
        drop(charlie);
        let mut charlie = Device::open(&charlie_file).await.unwrap();
        assert!(!charlie.read_receipts() && charlie.delivery_reports());
        assert_eq!(charlie.mark_read(&room).await.unwrap(), 0);
        let second = alice.send_text(&room, "second").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut charlie], |d| {
            delivered_to(d[0], &room, &second) == BTreeSet::from([b.clone(), c.clone()])
        })
        .await;
        assert_eq!(charlie.mark_read(&room).await.unwrap(), 0);

        // Reports never cause reports: once settled, the feeds stay still.
        for d in [&mut alice, &mut bob, &mut charlie] {
            d.sync(300).await.unwrap();
        }
        let cursors = [alice.cursor(), bob.cursor(), charlie.cursor()];
        for d in [&mut alice, &mut bob, &mut charlie] {
            d.sync(500).await.unwrap();
        }
        assert_eq!(cursors, [alice.cursor(), bob.cursor(), charlie.cursor()]);
        assert_eq!(read_by(&alice, &room, &hello), BTreeSet::from([b.clone()]));
        assert!(read_by(&alice, &room, &second).is_empty());

        // A room that requires read receipts gets Charlie's although he turned them off.
        let required: PolicySetting = "read-receipts=required".parse().unwrap();
        alice.set_policy(&room, &[required]).await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut charlie], |d| {
            d[2].engine().status_required(&room, MessageStatus::READ)
        })
        .await;
        assert!(!charlie.read_receipts());
        assert_eq!(charlie.mark_read(&room).await.unwrap(), 2);
        settle(&mut [&mut alice, &mut bob, &mut charlie], |d| {
            read_by(d[0], &room, &second) == BTreeSet::from([c.clone()])
        })
        .await;

        // A sentinel message still arrives everywhere; no report shows as a message.
        charlie.send_text(&room, "sentinel").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut charlie], |d| {
            d.iter().all(|d| texts(d, &room).len() == 3)
        })
        .await;
        for d in [&alice, &bob, &charlie] {
            assert_eq!(texts(d, &room), ["hello", "second", "sentinel"]);
        }
    });
}
