//! The room's server access list (`server_policy`, issue 18 item 3) where MLS meets the room:
//! the hub and every member refuse a commit that adds a user of a denied provider, even when a
//! rogue client builds it anyway, and the hub refuses messages from a provider without
//! `submit`; an allowed member's message still goes through afterwards.

use mimi_room::Denied;
use mimi_room::components::{Component, ServerCapabilities, ServerPolicy, ServerPolicyMode};
use mimi_room::presets::Preset;

use super::*;
use crate::MlsError;

/// Alice (a.example, the hub's provider, super_admin) and Bob (b.example) in a cooperative
/// room; Cathy (c.example) waits outside.
fn coop_room() -> Net {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("b.example", "bob", "bob1");
    net.add_client("c.example", "cathy", "cathy1");
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
    net
}

/// Alice sets a deny-list giving `domain` only `caps`; the hub and Bob accept it.
fn restrict(net: &mut Net, domain: &str, caps: ServerCapabilities) {
    let policy = ServerPolicy {
        mode: ServerPolicyMode::DenyListed,
        entries: Vec::new(),
    }
    .with_entry(&super::domain(domain), caps);
    let change = ComponentChange::update(ComponentId::SERVER_POLICY, policy.encode());
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[change], &[], &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &[]);
    net.assert_consistent();
}

fn provider_not_allowed(e: &MlsError, domain: &str, capability: ServerCapabilities) -> bool {
    matches!(e, MlsError::Denied(Denied::ProviderNotAllowed { domain: d, capability: c })
        if d.as_str() == domain && *c == capability)
}

#[test]
fn a_denied_providers_user_is_refused_by_the_sender_the_hub_and_every_member() {
    let mut net = coop_room();
    restrict(&mut net, "c.example", ServerCapabilities::NONE);
    let kp = net.kp("cathy1");
    let now = net.now;
    // Alice's own client refuses to build it...
    let err = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[pl_add(&["cathy"])], std::slice::from_ref(&kp), &[], now)
        .unwrap_err();
    assert!(
        provider_not_allowed(&err, "c.example", ServerCapabilities::JOIN),
        "{err:?}"
    );
    // ... the hub refuses it when a client builds it anyway, without a state change...
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit_unchecked(&[pl_add(&["cathy"])], &[kp], true, now)
        .unwrap();
    let before = net.hub().to_record().unwrap();
    let err = net.hub().process(&out.commit, now).unwrap_err();
    assert!(
        provider_not_allowed(&err, "c.example", ServerCapabilities::JOIN),
        "{err:?}"
    );
    assert_eq!(net.hub().to_record().unwrap(), before);
    // ... and so does Bob's client, so a rogue hub cannot slip it past the members.
    let bob = net.groups.get_mut("bob1").unwrap();
    let before = bob.to_record().unwrap();
    let err = bob.process(&out.commit, now).unwrap_err();
    assert!(
        provider_not_allowed(&err, "c.example", ServerCapabilities::JOIN),
        "{err:?}"
    );
    assert_eq!(bob.to_record().unwrap(), before);
    // The sentinel: Alice drops her rogue commit and her message still reaches Bob.
    net.groups
        .get_mut("alice1")
        .unwrap()
        .discard_pending_commit()
        .unwrap();
    net.message("alice1", "still here");
}

#[test]
fn the_hub_refuses_messages_from_a_provider_without_submit() {
    let mut net = coop_room();
    restrict(&mut net, "b.example", ServerCapabilities::JOIN);
    let bob = net.groups.get_mut("bob1").unwrap();
    let me = bob.me().clone();
    let ct = bob.protect(b"let me in", &BTreeMap::new()).unwrap();
    let err = net.hub().check_application(&ct, &me.user).unwrap_err();
    assert!(
        provider_not_allowed(&err, "b.example", ServerCapabilities::SUBMIT),
        "{err:?}"
    );
    // Bob, read-only now, still gets Alice's messages.
    net.message("alice1", "you may still read");
}
