//! Hub retraction of abusive messages (hub-retracted-messages-00): the hub signs an
//! AppEphemeral proposal as external sender and fans it out; members verify it themselves
//! (openmls 0.9.2 does not process external AppEphemeral proposals) and authorize it against
//! the room; a room whose policy gives the hub no role, a tampered proposal and one from a
//! server that is not the group's external sender are refused. Real MLS clients (mimi-mls).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use mimi_ds::Effect;
use mimi_ds::RequestError;
use mimi_federation_api::notify::{FanoutContent, FanoutMessage};
use mimi_mls::Incoming;
use mimi_room::components::{HubRetractedMessages, HubRetractedRange, HubRetraction};

fn fanouts(effects: &[Effect]) -> Vec<(&Domain, &FanoutMessage)> {
    effects
        .iter()
        .map(|e| match e {
            Effect::Notify { to, message, .. } => (to, message),
        })
        .collect()
}

fn by_ids(remover: &str) -> HubRetraction {
    HubRetraction::Messages(HubRetractedMessages {
        hub_retracted_timestamp: 1_800_000_000_000,
        remover_uri: remover.parse().unwrap(),
        reason_code: Some(2),
        retracted_messages: vec![[9; 32]],
    })
}

const ENFORCER: &str = "mimi://a.example/u/_policy-enforcer";

#[test]
fn the_hub_retracts_and_members_verify_and_authorize_it() {
    let mut room = room_with(true);
    let epoch = room.hub.group().epoch();
    let seq = room.hub.next_seq();
    let retraction = by_ids(ENFORCER);
    let out = room
        .hub
        .retract(room.now * 1000, &room.hub_id, &retraction)
        .unwrap();
    assert!(out.changed && !out.state_changed, "no MLS state changes");
    assert_eq!(out.log.len(), 1, "the proposal is in the room's log");
    assert_eq!(room.hub.next_seq(), seq + 1);
    assert_eq!(room.hub.group().epoch(), epoch);
    assert!(
        room.hub.group().pending_proposals().is_empty(),
        "no commit has to include it"
    );
    let sent = fanouts(&out.effects);
    let to: Vec<&Domain> = sent.iter().map(|(to, _)| *to).collect();
    assert_eq!(to, [&domain("a.example"), &domain("b.example")]);
    let FanoutContent::Proposal { message, .. } = &sent[0].1.content else {
        panic!("expected a proposal fan-out");
    };
    for member in [&mut room.alice, &mut room.bob] {
        let Incoming::AppEphemeral {
            actor,
            component,
            data,
        } = member.process(message.as_bytes(), room.now).unwrap()
        else {
            panic!("expected an AppEphemeral proposal");
        };
        assert_eq!(actor, mimi_room::Actor::Server(domain("a.example")));
        assert_eq!(component, retraction.component_id());
        let got = HubRetraction::decode(component, &data).unwrap().unwrap();
        assert_eq!(got, retraction);
        mimi_room::authorize_hub_retraction(member.room(), &actor, &got, false).unwrap();
    }

    // A member commits afterwards without it: accepted (nothing pending).
    let commit = room.alice.self_update(room.now).unwrap();
    let answer = room
        .hub
        .handle_update(
            room.now * 1000,
            &domain("a.example"),
            commit_request(&commit, full(commit.group_info.as_deref().unwrap())),
        )
        .unwrap();
    assert!(matches!(
        answer.response.outcome,
        UpdateOutcome::Success { .. }
    ));
}

#[test]
fn the_range_form_goes_out_too() {
    let mut room = room_with(true);
    let range = HubRetraction::Range(HubRetractedRange {
        hub_retracted_timestamp: 1_800_000_000_000,
        remover_uri: ENFORCER.parse().unwrap(),
        reason_code: None,
        abusive_sender_uri: room.bob.me().user.clone(),
        starting_timestamp: Some(5),
    });
    let out = room
        .hub
        .retract(room.now * 1000, &room.hub_id, &range)
        .unwrap();
    let sent = fanouts(&out.effects);
    let FanoutContent::Proposal { message, .. } = &sent[0].1.content else {
        panic!("expected a proposal fan-out");
    };
    let Incoming::AppEphemeral {
        data, component, ..
    } = room.alice.process(message.as_bytes(), room.now).unwrap()
    else {
        panic!("expected an AppEphemeral proposal");
    };
    assert_eq!(
        HubRetraction::decode(component, &data).unwrap().unwrap(),
        range
    );
}

#[test]
fn a_room_without_the_enforcer_refuses_the_hubs_retraction() {
    let mut room = room_with(false);
    let seq = room.hub.next_seq();
    let err = room
        .hub
        .retract(room.now * 1000, &room.hub_id, &by_ids(ENFORCER))
        .unwrap_err();
    assert!(
        matches!(&err, RequestError::PolicyRefused(m) if m.contains("no role")),
        "{err:?}"
    );
    assert_eq!(room.hub.next_seq(), seq, "nothing logged");

    // Signed all the same (a hub ignoring its own policy): members refuse it.
    let bytes = room
        .hub
        .group()
        .propose_app_ephemeral(
            &room.hub_id,
            mimi_types::codepoints::ComponentId::HUB_RETRACTED_MESSAGES,
            &by_ids(ENFORCER).encode(),
        )
        .unwrap();
    let Incoming::AppEphemeral { actor, .. } = room.alice.process(&bytes, room.now).unwrap() else {
        panic!("expected an AppEphemeral proposal");
    };
    assert!(matches!(
        mimi_room::authorize_hub_retraction(room.alice.room(), &actor, &by_ids(ENFORCER), false),
        Err(mimi_room::Denied::NoServerRole { .. })
    ));
}

#[test]
fn a_tampered_or_foreign_retraction_is_refused() {
    let mut room = room_with(true);
    let epoch = room.alice.epoch();
    let genuine = room
        .hub
        .group()
        .propose_app_ephemeral(
            &room.hub_id,
            mimi_types::codepoints::ComponentId::HUB_RETRACTED_MESSAGES,
            &by_ids(ENFORCER).encode(),
        )
        .unwrap();
    // A relaying provider changes the retracted message ID (the last data octet, before the
    // signature: a two-octet length and 64 octets of Ed25519).
    let mut tampered = genuine.clone();
    let at = tampered.len() - 2 - 64 - 1;
    tampered[at] ^= 1;
    let err = room.alice.process(&tampered, room.now).unwrap_err();
    assert!(err.to_string().contains("not signed"), "{err}");

    // Another provider's server identity is no external sender of the group.
    let rogue = ServerIdentity::new(&room.ca_b, Validity::starting(room.now - 3600, YEAR)).unwrap();
    let err = room
        .hub
        .group()
        .propose_app_ephemeral(
            &rogue,
            mimi_types::codepoints::ComponentId::HUB_RETRACTED_MESSAGES,
            &by_ids("mimi://b.example/u/_policy-enforcer").encode(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("not an external sender"), "{err}");
    // Extra bytes after the signature.
    let mut long = genuine.clone();
    long.push(0);
    assert!(room.alice.process(&long, room.now).is_err());
    // The genuine one still verifies, and nothing changed the epoch.
    assert!(matches!(
        room.alice.process(&genuine, room.now).unwrap(),
        Incoming::AppEphemeral { .. }
    ));
    assert_eq!(room.alice.epoch(), epoch);
}
