//! Newcomers joining by join code and by open join: the code rides in the external commit, the
//! hub and every member check it against `join_links`, and a limited code is used up.

use mimi_room::components::{
    Component, JOIN_CODE_DIGEST_LEN, JoinCodeTerms, JoinLinksUpdate, RoleIndex,
    SingleSourceRoleChangeTargets,
};
use mimi_room::presets::Preset;
use mimi_room::{Capability, Denied};
use mimi_types::codepoints::ComponentId;

use super::{Net, user};
use crate::{ClientGroup, ComponentChange, Incoming, MlsError, join_code_digest};

fn add_link(net: &mut Net, terms: &JoinCodeTerms) {
    let update = JoinLinksUpdate {
        removed_indices: vec![],
        added_links: vec![terms.to_link()],
    };
    let change = ComponentChange::update(ComponentId::JOIN_LINKS, update.encode());
    let now = net.now;
    let out = net
        .groups
        .get_mut("alice1")
        .unwrap()
        .commit(&[change], &[], &[], now)
        .unwrap();
    net.deliver_commit("alice1", &out, &[]);
}

fn join_info(net: &Net) -> (Vec<u8>, Vec<u8>) {
    (
        net.hub().group_info().unwrap().to_vec(),
        net.hub().ratchet_tree().unwrap(),
    )
}

fn newcomer(
    net: &Net,
    device: &str,
    code: Option<&[u8]>,
    now: u64,
) -> Result<(ClientGroup, crate::OutgoingCommit), MlsError> {
    let (gi, tree) = join_info(net);
    ClientGroup::join_as_newcomer(
        &net.clients[device],
        &gi,
        &tree,
        &[],
        code,
        net.trust.clone(),
        now,
    )
}

fn denied(e: MlsError) -> Denied {
    match e {
        MlsError::Denied(d) => d,
        other => panic!("expected a room-policy refusal, got {other:?}"),
    }
}

#[test]
fn a_limited_code_lets_newcomers_in_until_it_is_used_up() {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("c.example", "dave", "dave1");
    net.add_client("c.example", "erin", "erin1");
    net.create("alice1", Preset::StrictlyAdministered);
    let code = b"correct horse battery staple";
    let terms = JoinCodeTerms {
        code_digest: join_code_digest(code),
        role_index: RoleIndex(2),
        not_after: 0,
        uses_left: 1,
    };
    add_link(&mut net, &terms);

    // A wrong code is refused before anything is sent.
    assert_eq!(
        denied(newcomer(&net, "dave1", Some(b"wrong"), net.now).unwrap_err()),
        Denied::InvalidJoinCode
    );
    // Without a code the strict room takes nobody (role 0 lacks canOpenJoin).
    assert_eq!(
        denied(newcomer(&net, "dave1", None, net.now).unwrap_err()),
        Denied::MissingCapability {
            capability: Capability::CAN_OPEN_JOIN,
            role: RoleIndex::NO_ROLE
        }
    );

    let (g, out) = newcomer(&net, "dave1", Some(code), net.now).unwrap();
    assert_eq!(
        out.summary.join_code.as_deref(),
        Some(&terms.code_digest[..])
    );
    let now = net.now;
    let staged = net.hub().process(&out.commit, now).unwrap();
    assert_eq!(
        staged.summary().join_code,
        out.summary.join_code,
        "the hub reads the code"
    );
    net.hub_mut()
        .merge(staged, out.group_info.as_deref(), now)
        .unwrap();
    // The member checks the code itself.
    match net
        .groups
        .get_mut("alice1")
        .unwrap()
        .process(&out.commit, now)
        .unwrap()
    {
        Incoming::Commit { summary, .. } => {
            assert_eq!(summary.join_code.as_deref(), Some(&terms.code_digest[..]))
        }
        other => panic!("{other:?}"),
    }
    net.groups.insert("dave1".into(), g);
    net.assert_consistent();
    assert_eq!(net.hub().room().role_of(&user("dave")), RoleIndex(2));
    // The one use is gone: the link is no longer in the room.
    assert!(
        net.hub()
            .room()
            .join_links()
            .unwrap()
            .find(&terms.code_digest)
            .is_none()
    );
    assert_eq!(
        denied(newcomer(&net, "erin1", Some(code), net.now).unwrap_err()),
        Denied::InvalidJoinCode
    );
    net.message("dave1", "in by link");
}

#[test]
fn the_hub_refuses_an_expired_code_by_its_own_clock() {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("c.example", "dave", "dave1");
    net.create("alice1", Preset::StrictlyAdministered);
    let code = b"short-lived";
    let terms = JoinCodeTerms {
        code_digest: join_code_digest(code),
        role_index: RoleIndex(2),
        not_after: net.now + 60,
        uses_left: 0,
    };
    assert_eq!(terms.code_digest.len(), JOIN_CODE_DIGEST_LEN);
    add_link(&mut net, &terms);
    // The joiner's clock says it is still valid; the hub's says it expired.
    let (_, out) = newcomer(&net, "dave1", Some(code), net.now).unwrap();
    let err = net.hub().process(&out.commit, net.now + 61).unwrap_err();
    assert_eq!(
        denied(err),
        Denied::JoinCodeExpired {
            not_after: net.now + 60
        }
    );
    // The joiner itself refuses an expired code.
    assert_eq!(
        denied(newcomer(&net, "dave1", Some(code), net.now + 61).unwrap_err()),
        Denied::JoinCodeExpired {
            not_after: net.now + 60
        }
    );
}

#[test]
fn open_join_takes_the_first_role_role_zero_hands_out() {
    let mut net = Net::new();
    net.add_client("a.example", "alice", "alice1");
    net.add_client("c.example", "dave", "dave1");
    // An open room: role 0 holds canOpenJoin with (0 -> [2]).
    let room = super::initial_room(Preset::Cooperative, &net.room, "alice");
    let mut roles = room.roles().clone();
    roles.roles[0].role_capabilities = vec![Capability::CAN_OPEN_JOIN];
    roles.roles[0].authorized_role_changes = vec![SingleSourceRoleChangeTargets::new(0, &[2])];
    let mut comps = room.components();
    comps.insert(ComponentId::ROLES_LIST, roles.encode());
    net.create_with(
        "alice1",
        mimi_room::RoomState::from_components(comps).unwrap(),
    );
    let now = net.now;

    let (g, out) = newcomer(&net, "dave1", None, now).unwrap();
    assert_eq!(out.summary.join_code, None);
    let staged = net.hub().process(&out.commit, now).unwrap();
    net.hub_mut()
        .merge(staged, out.group_info.as_deref(), now)
        .unwrap();
    net.groups
        .get_mut("alice1")
        .unwrap()
        .process(&out.commit, now)
        .unwrap();
    net.groups.insert("dave1".into(), g);
    net.assert_consistent();
    assert_eq!(net.hub().room().role_of(&user("dave")), RoleIndex(2));
    net.message("dave1", "in by open join");
}
