//! A roster followed from the fanned-out handshakes alone matches the hub's ratchet tree after
//! every commit: adds, leaves by reference, an external join, removals, and a leaf reused; the
//! hub's tree, written from its nodes (`tree_wire.rs`), is the octets openmls's export encodes to.

use super::*;
use crate::{Roster, external_joiner};

fn client(net: &Net, device: &str) -> ClientUri {
    net.clients[device].client().clone()
}

/// The roster agrees leaf by leaf with the hub's tree, and survives its record.
fn same_as_hub(net: &Net, roster: &Roster) {
    let encoded = net.hub().ratchet_tree().unwrap();
    assert_eq!(encoded, net.hub().ratchet_tree_by_openmls());
    assert!(encoded.ends_with(&net.hub().ratchet_tree_nodes().unwrap()));
    let tree = Roster::from_tree(&encoded).unwrap();
    assert_eq!(roster.leaves(), tree.leaves());
    assert_eq!(&Roster::from_record(&roster.to_record()).unwrap(), roster);
}

#[test]
fn a_roster_follows_the_hub_through_every_membership_change() {
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
    net.create("alice1", Preset::Cooperative);
    let mut roster = Roster::from_tree(&net.hub().ratchet_tree().unwrap()).unwrap();
    assert_eq!(roster.leaves(), &[Some(client(&net, "alice1"))]);

    // Adds by value, in one commit.
    let kps = vec![net.kp("alice2"), net.kp("bob1"), net.kp("bob2")];
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob"])], &kps, &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["alice2", "bob1", "bob2"]);
    let change = roster.observe(&out.commit).unwrap();
    assert_eq!(
        change.joined,
        vec![
            client(&net, "alice2"),
            client(&net, "bob1"),
            client(&net, "bob2")
        ]
    );
    assert!(change.left.is_empty());
    same_as_hub(&net, &roster);

    let kp = net.kp("cathy1");
    let out = net
        .groups
        .get_mut("bob1")
        .unwrap()
        .commit(&[pl_add(&["cathy"])], &[kp], &[], now)
        .unwrap();
    net.deliver_commit("bob1", &out, &["cathy1"]);
    roster.observe(&out.commit).unwrap();
    same_as_hub(&net, &roster);
    assert_eq!(roster.leaf_of(&client(&net, "cathy1")), Some(4));

    // Bob leaves: his proposals are fanned out first, the commit names them by reference.
    let leave_pl = net.pl_remove(&["bob"]);
    let mut proposals = net
        .groups
        .get_mut("bob1")
        .unwrap()
        .propose_components(&[leave_pl])
        .unwrap();
    proposals.push(net.groups.get_mut("bob1").unwrap().propose_leave().unwrap());
    for p in &proposals {
        net.deliver_proposal("bob1", p);
        assert_eq!(roster.observe(p).unwrap(), crate::RosterChange::default());
    }
    let p = net.groups.get_mut("bob2").unwrap().propose_leave().unwrap();
    net.deliver_proposal("bob2", &p);
    roster.observe(&p).unwrap();
    let out = net
        .groups
        .get_mut("cathy1")
        .unwrap()
        .commit(&[], &[], &[], now)
        .unwrap();
    net.deliver_commit("cathy1", &out, &[]);
    let change = roster.observe(&out.commit).unwrap();
    // In the commit's order of proposals, which follows their references (random): compare
    // as sets.
    let left: std::collections::BTreeSet<_> = change.left.iter().cloned().collect();
    assert_eq!(
        left,
        [client(&net, "bob1"), client(&net, "bob2")].into(),
        "{:?}",
        change.left
    );
    assert_eq!(change.left.len(), 2);
    assert_eq!(change.unresolved, 0);
    assert!(!roster.contains(&client(&net, "bob1")));
    same_as_hub(&net, &roster);

    // Cathy's second device joins by external commit: it takes the leftmost blank leaf.
    let gi = net.hub().group_info().unwrap().to_vec();
    let tree = net.hub().ratchet_tree().unwrap();
    let (g, out) = ClientGroup::join_external(
        &net.clients["cathy2"],
        &gi,
        &tree,
        &[],
        net.trust.clone(),
        now,
    )
    .unwrap();
    let staged = net.hub().process(&out.commit, now).unwrap();
    net.hub_mut()
        .merge(staged, out.group_info.as_deref(), now)
        .unwrap();
    for name in net.active() {
        net.groups
            .get_mut(&name)
            .unwrap()
            .process(&out.commit, now)
            .unwrap();
    }
    net.groups.insert("cathy2".into(), g);
    assert_eq!(
        external_joiner(&out.commit).unwrap(),
        Some(client(&net, "cathy2"))
    );
    let change = roster.observe(&out.commit).unwrap();
    assert_eq!(change.joined, vec![client(&net, "cathy2")]);
    same_as_hub(&net, &roster);
    assert_eq!(roster.leaf_of(&client(&net, "cathy2")), Some(2));

    // Alice removes both of Cathy's devices by value.
    let kick_pl = net.pl_remove(&["cathy"]);
    let remove = vec![client(&net, "cathy1"), client(&net, "cathy2")];
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[kick_pl], &[], &remove, now)
        .unwrap();
    assert_eq!(external_joiner(&out.commit).unwrap(), None);
    net.deliver_commit("alice1", &out, &[]);
    let change = roster.observe(&out.commit).unwrap();
    assert_eq!(change.left.len(), 2);
    assert!(roster.contains(&client(&net, "alice2")));
    assert!(!roster.contains(&client(&net, "cathy2")));
    same_as_hub(&net, &roster);

    // A later add reuses the leftmost blank leaf.
    let kp = net.kp("bob1");
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob"])], &[kp], &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["bob1"]);
    roster.observe(&out.commit).unwrap();
    same_as_hub(&net, &roster);
    assert_eq!(roster.leaf_of(&client(&net, "bob1")), Some(2));

    // Garbage is refused, not misread.
    assert!(roster.observe(&out.commit[..out.commit.len() - 1]).is_err());
    assert!(Roster::from_tree(&[0xff]).is_err());
}

#[test]
fn an_external_join_takes_the_leaf_a_committed_leave_frees() {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    net.add_client("c.example", "cathy", "cathy1");
    net.add_client("c.example", "cathy", "cathy2");
    net.create("alice1", Preset::Cooperative);
    let mut roster = Roster::from_tree(&net.hub().ratchet_tree().unwrap()).unwrap();
    let kps = vec![net.kp("bob1"), net.kp("cathy1")];
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["bob", "cathy"])], &kps, &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &["bob1", "cathy1"]);
    roster.observe(&out.commit).unwrap();

    let p = net.groups.get_mut("bob1").unwrap().propose_leave().unwrap();
    net.deliver_proposal("bob1", &p);
    roster.observe(&p).unwrap();
    let pending: Vec<Vec<u8>> = net
        .hub()
        .pending_proposals()
        .into_iter()
        .map(|p| p.0)
        .collect();
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
    net.hub_mut()
        .merge(staged, out.group_info.as_deref(), now)
        .unwrap();
    net.groups.insert("cathy2".into(), g);
    let change = roster.observe(&out.commit).unwrap();
    assert_eq!(change.left, vec![client(&net, "bob1")]);
    assert_eq!(change.joined, vec![client(&net, "cathy2")]);
    assert_eq!(roster.leaf_of(&client(&net, "cathy2")), Some(1));
    same_as_hub(&net, &roster);
}
