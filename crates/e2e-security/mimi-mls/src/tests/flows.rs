//! The six flows of digest §3.1 across three providers and the hub view.

use super::*;
use crate::{Actor, MemberChange};
use mimi_room::presets::Preset;

fn member(net: &Net, device: &str) -> MemberChange {
    let c = &net.clients[device];
    MemberChange::new(c.client().clone(), c.user().clone())
}

#[test]
fn six_flows_of_the_protocol_draft() {
    let mut net = Net::new();
    for (d, u, dev) in [
        ("a.example", "alice", "alice1"),
        ("a.example", "alice", "alice2"),
        ("b.example", "bob", "bob1"),
        ("b.example", "bob", "bob2"),
        ("c.example", "cathy", "cathy1"),
        ("c.example", "cathy", "cathy2"),
    ] {
        net.add_client(d, u, dev);
    }

    // 1. Create: alice1 creates the group; Alice's other client joins provider-locally.
    net.create("alice1", Preset::Cooperative);
    assert_eq!(net.hub().group_id(), b"mimi://a.example/g/clubhouse");
    let kp = net.kp("alice2");
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[], &[kp], &[], net.now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["alice2"]);
    net.assert_consistent();
    net.message("alice2", "hello from alice2");

    // 2. Alice adds Bob: participant-list update + Adds of both his clients in one commit.
    let kps = vec![net.kp("bob1"), net.kp("bob2")];
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob"])], &kps, &[], net.now)
        .unwrap();
    assert_eq!(
        out.summary.added,
        vec![member(&net, "bob1"), member(&net, "bob2")]
    );
    assert_eq!(out.summary.component_changes, vec![pl_add(&["bob"])]);
    assert!(out.group_info.is_some() && out.welcome.is_some());
    net.deliver_commit("alice1", &out, &["bob1", "bob2"]);
    net.assert_consistent();
    assert_eq!(net.hub().room().role_of(&user("bob")), RoleIndex(2));

    // 3. Bob adds Cathy (a follower's client commits).
    let kp = net.kp("cathy1");
    let out = net
        .groups
        .get_mut("bob1")
        .unwrap()
        .commit(&[pl_add(&["cathy"])], &[kp], &[], net.now)
        .unwrap();
    net.deliver_commit("bob1", &out, &["cathy1"]);
    net.assert_consistent();

    // 4. Cathy sends a message; everyone decrypts it (with the frank_aad in SafeAAD).
    net.message("cathy1", "hi all, cathy here");
    net.message("bob2", "welcome cathy");

    // 5. Bob leaves: participant-list removal + SelfRemove for each of his clients, as
    // proposals the hub caches; Cathy's next commit must include them.
    let leave_pl = net.pl_remove(&["bob"]);
    let props = net
        .groups
        .get_mut("bob1")
        .unwrap()
        .propose_components(&[leave_pl])
        .unwrap();
    for p in &props {
        net.deliver_proposal("bob1", p);
    }
    let p = net.groups.get_mut("bob1").unwrap().propose_leave().unwrap();
    net.deliver_proposal("bob1", &p);
    let p = net.groups.get_mut("bob2").unwrap().propose_leave().unwrap();
    net.deliver_proposal("bob2", &p);
    assert_eq!(net.hub().pending_proposals().len(), 3);
    let out = net
        .groups
        .get_mut("cathy1")
        .unwrap()
        .commit(&[], &[], &[], net.now)
        .unwrap();
    assert_eq!(
        out.summary.self_removed,
        vec![member(&net, "bob1"), member(&net, "bob2")]
    );
    let results = net.deliver_commit("cathy1", &out, &[]);
    for bob in ["bob1", "bob2"] {
        match &results[bob] {
            Incoming::Commit { removed_me, .. } => assert!(removed_me, "{bob} removed"),
            other => panic!("{other:?}"),
        }
        assert!(!net.groups[bob].is_active());
    }
    assert!(net.hub().pending_proposals().is_empty());
    net.assert_consistent();
    assert_eq!(net.hub().room().participants().participants.len(), 2);
    assert_eq!(net.hub().room().role_of(&user("bob")), RoleIndex::NO_ROLE);
    net.message("alice1", "bye bob");

    // 6. Cathy's new device joins by external commit from the hub's GroupInfo.
    let gi = net.hub().group_info().unwrap().to_vec();
    let tree = net.hub().ratchet_tree().unwrap();
    let pending: Vec<Vec<u8>> = net
        .hub()
        .pending_proposals()
        .into_iter()
        .map(|p| p.0)
        .collect();
    let (g, out) = ClientGroup::join_external(
        &net.clients["cathy2"],
        &gi,
        &tree,
        &pending,
        net.trust.clone(),
        net.now,
    )
    .unwrap();
    assert!(out.summary.external_join);
    let staged = net.hub().process(&out.commit, net.now).unwrap();
    assert!(staged.summary().external_join);
    assert_eq!(staged.summary().added, vec![member(&net, "cathy2")]);
    assert_eq!(
        staged.summary().actor,
        Actor::Client {
            client: member(&net, "cathy2").client,
            user: member(&net, "cathy2").user
        }
    );
    let now = net.now;
    net.hub_mut()
        .merge(staged, out.group_info.as_deref(), now)
        .unwrap();
    for name in net.active() {
        let r = net
            .groups
            .get_mut(&name)
            .unwrap()
            .process(&out.commit, now)
            .unwrap();
        assert!(matches!(r, Incoming::Commit { .. }));
    }
    net.groups.insert("cathy2".into(), g);
    net.assert_consistent();
    net.message("cathy2", "my new phone");

    // 7. Removal: Alice removes Cathy (both clients) with the participant-list change.
    let kick_pl = net.pl_remove(&["cathy"]);
    let remove = vec![member(&net, "cathy1").client, member(&net, "cathy2").client];
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[kick_pl], &[], &remove, net.now)
        .unwrap();
    assert_eq!(out.summary.removed.len(), 2);
    let results = net.deliver_commit("alice1", &out, &[]);
    for c in ["cathy1", "cathy2"] {
        assert!(matches!(
            results[c],
            Incoming::Commit {
                removed_me: true,
                ..
            }
        ));
    }
    net.assert_consistent();
    assert_eq!(
        net.active(),
        vec!["alice1".to_string(), "alice2".to_string()]
    );
    net.message("alice1", "just us now");

    // The hub refuses Cathy's application messages from now on.
    let err = net
        .hub()
        .check_application(&[0u8; 3], &member(&net, "cathy1").user);
    assert!(err.is_err());
}

#[test]
fn self_update_and_export_restore_mid_conversation() {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    net.create("alice1", Preset::Cooperative);
    let kp = net.kp("bob1");
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob"])], &[kp], &[], net.now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["bob1"]);
    net.message("alice1", "one");

    // Export both sides and the hub, restore, and carry on.
    let rec = net.groups["bob1"].to_record().unwrap();
    let restored = ClientGroup::from_record(&rec, net.trust.clone()).unwrap();
    assert_eq!(
        restored.to_record().unwrap(),
        rec,
        "records are deterministic"
    );
    net.groups.insert("bob1".into(), restored);
    let rec = net.groups["alice1"].to_record().unwrap();
    net.groups.insert(
        "alice1".into(),
        ClientGroup::from_record(&rec, net.trust.clone()).unwrap(),
    );
    let hub_rec = net.hub().to_record().unwrap();
    net.hub = Some(HubGroup::from_record(&hub_rec, net.trust.clone()).unwrap());
    net.assert_consistent();

    net.message("bob1", "two");
    let out = net
        .groups
        .get_mut("bob1")
        .unwrap()
        .self_update(net.now)
        .unwrap();
    net.deliver_commit("bob1", &out, &[]);
    net.assert_consistent();
    net.message("alice1", "three");

    // Truncated or foreign records are refused.
    assert!(ClientGroup::from_record(&rec[..rec.len() - 1], net.trust.clone()).is_err());
    assert!(HubGroup::from_record(&rec, net.trust.clone()).is_err());
}

#[test]
fn device_record_keeps_unused_key_packages() {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    net.create("alice1", Preset::Cooperative);
    let kp = net.kp("bob1");
    // Bob's device is saved and restored between publishing and the Welcome.
    let rec = net.clients["bob1"].to_record().unwrap();
    net.clients
        .insert("bob1".into(), ClientIdentity::from_record(&rec).unwrap());
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob"])], &[kp], &[], net.now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["bob1"]);
    net.assert_consistent();
}

#[test]
fn last_resort_key_package_is_reusable() {
    let net = Net::new();
    let mut net = net;
    net.add_client("b.example", "bob", "bob1");
    let kp = net.clients["bob1"]
        .key_package(net.now, KP_LIFETIME, true)
        .unwrap();
    assert!(kp.last_resort);
    assert_eq!(kp.not_after, net.now + KP_LIFETIME);
    assert_eq!(kp.reference.len(), 32);
}

#[test]
fn role_and_metadata_changes() {
    use mimi_room::components::{
        Component, ParticipantListUpdate, RoomMetadata, UserIndexRolePair,
    };

    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    net.create("alice1", Preset::Cooperative);
    let kp = net.kp("bob1");
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob"])], &[kp], &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["bob1"]);

    // Alice promotes Bob to group admin.
    let promote = ParticipantListUpdate {
        changed_role_participants: vec![UserIndexRolePair {
            user_index: 1,
            role_index: RoleIndex(3),
        }],
        ..Default::default()
    };
    let change = ComponentChange::update(PL, promote.encode());
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[change], &[], &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &[]);
    net.assert_consistent();
    assert_eq!(net.hub().room().role_of(&user("bob")), RoleIndex(3));

    // Bob renames the room (a whole-component update of room_metadata).
    let mut meta: RoomMetadata = net.hub().room().metadata().cloned().unwrap();
    meta.room_name = "The Clubhouse".into();
    let change = ComponentChange::update(ComponentId::ROOM_METADATA, meta.encode());
    let out = net
        .groups
        .get_mut("bob1")
        .unwrap()
        .commit(&[change], &[], &[], now)
        .unwrap();
    net.deliver_commit("bob1", &out, &[]);
    net.assert_consistent();
    assert_eq!(
        net.groups["alice1"].room().metadata().unwrap().room_name,
        "The Clubhouse"
    );
    net.message("bob1", "renamed");
}

#[test]
fn external_join_commits_the_pending_proposals() {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    net.add_client("c.example", "cathy", "cathy1");
    net.add_client("c.example", "cathy", "cathy2");
    net.create("alice1", Preset::Cooperative);
    let kps = vec![net.kp("bob1"), net.kp("cathy1")];
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob", "cathy"])], &kps, &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["bob1", "cathy1"]);

    // Bob leaves: the hub caches his proposals; Cathy's new device joins before anyone commits.
    let leave_pl = net.pl_remove(&["bob"]);
    for p in net
        .groups
        .get_mut("bob1")
        .unwrap()
        .propose_components(&[leave_pl])
        .unwrap()
    {
        net.deliver_proposal("bob1", &p);
    }
    let p = net.groups.get_mut("bob1").unwrap().propose_leave().unwrap();
    net.deliver_proposal("bob1", &p);
    let pending: Vec<Vec<u8>> = net
        .hub()
        .pending_proposals()
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(pending.len(), 2);
    let gi = net.hub().group_info().unwrap().to_vec();
    let tree = net.hub().ratchet_tree().unwrap();
    let (g, out) = ClientGroup::join_external(
        &net.clients["cathy2"],
        &gi,
        &tree,
        &pending,
        net.trust.clone(),
        now,
    )
    .unwrap();
    let staged = net.hub().process(&out.commit, now).unwrap();
    assert!(staged.summary().external_join);
    // Only the SelfRemove rides along; Bob's participant-list removal dies with the epoch
    // and must be proposed again.
    assert_eq!(staged.summary().self_removed.len(), 1);
    assert!(staged.summary().component_changes.is_empty());
    net.hub_mut()
        .merge(staged, out.group_info.as_deref(), now)
        .unwrap();
    for name in net.active() {
        let r = net
            .groups
            .get_mut(&name)
            .unwrap()
            .process(&out.commit, now)
            .unwrap();
        assert!(matches!(r, Incoming::Commit { .. }));
    }
    net.groups.insert("cathy2".into(), g);
    net.assert_consistent();
    assert_eq!(net.active(), vec!["alice1", "cathy1", "cathy2"]);
    net.message("cathy2", "joined while bob left");
    assert_eq!(net.hub().room().role_of(&user("bob")), RoleIndex(2));
    assert!(net.hub().pending_proposals().is_empty());
}
