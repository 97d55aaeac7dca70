//! The client's own refusals of a bad bot-policy or logging-policy change (`allow_bot`,
//! `disallow_bot`, `logging-clients=`): each refused with a message that says why, before
//! anything is committed, and the good changes after them still go through.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod harness;

use harness::Fed;
use mimi_client_core::{BotEntry, ClientError, PolicySetting};
use mimi_mls::ComponentChange;
use mimi_room::Capability;
use mimi_room::components::{Component as _, RoleIndex};
use mimi_room::presets::Preset;
use mimi_types::codepoints::ComponentId;

fn refused(result: Result<impl std::fmt::Debug, ClientError>, says: &str) {
    let err = result.unwrap_err();
    assert!(
        err.to_string().contains(says),
        "{err} does not say {says:?}"
    );
}

#[test]
fn bad_bot_and_logging_changes_are_refused_by_the_client_and_good_ones_go_through() {
    let mut fed = Fed::new(&["x.example"]);
    let alice = fed.device("mimi://x.example/u/alice", "phone");
    let preset = Preset::StrictlyAdministered;
    let room = fed.create_room(&alice, "mimi://x.example/r/bots", preset);
    let now = fed.now();
    // The creator's role may change the policy components.
    let mut roles = preset.roles();
    for role in &mut roles.roles {
        if role.role_index == preset.creator_role() {
            role.role_capabilities
                .push(Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE);
        }
    }
    let change = ComponentChange::update(ComponentId::ROLES_LIST, roles.encode());
    fed.c(&alice)
        .update_components(now, &room, &[change])
        .unwrap();
    fed.pump();
    let helper = BotEntry {
        name: "helper".into(),
        homepage: "https://bots.example/helper".into(),
        description: String::new(),
        role: RoleIndex(2),
        local: false,
    };

    let bad = [
        (
            BotEntry {
                homepage: "no scheme here".into(),
                ..helper.clone()
            },
            "is not a homepage URI",
        ),
        (
            BotEntry {
                name: String::new(),
                ..helper.clone()
            },
            "a bot needs a name",
        ),
        (
            BotEntry {
                role: RoleIndex(99),
                ..helper.clone()
            },
            "defines no role",
        ),
    ];
    for (entry, says) in &bad {
        refused(fed.c(&alice).allow_bot(now, &room, entry), says);
    }
    refused(
        fed.c(&alice).disallow_bot(now, &room, "helper"),
        "allows no bot named",
    );
    let clients: PolicySetting = "logging-clients=mimi://x.example/u/logger".parse().unwrap();
    refused(
        fed.c(&alice).set_policy(now, &room, &[clients]),
        "set logging=optional or logging=required first",
    );
    fed.pump();
    assert!(fed.refusals().is_empty(), "{:?}", fed.refusals());
    assert_eq!(
        fed.c(&alice).allowed_bots(&room).unwrap(),
        None,
        "nothing refused was committed"
    );

    // The good change goes through; a second entry of the same name is refused.
    fed.c(&alice).allow_bot(now, &room, &helper).unwrap();
    fed.pump();
    let allowed = fed.c(&alice).allowed_bots(&room).unwrap().unwrap();
    assert_eq!(
        allowed.iter().map(|b| b.name.as_str()).collect::<Vec<_>>(),
        ["helper"]
    );
    refused(
        fed.c(&alice).allow_bot(now, &room, &helper),
        "allows a bot named \"helper\" already",
    );
    refused(
        fed.c(&alice).disallow_bot(now, &room, "someone"),
        "allows no bot named \"someone\"",
    );
    fed.c(&alice).disallow_bot(now, &room, "helper").unwrap();
    fed.pump();
    assert_eq!(fed.c(&alice).allowed_bots(&room).unwrap(), Some(Vec::new()));
}
