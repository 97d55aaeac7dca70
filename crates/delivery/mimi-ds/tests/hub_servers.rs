//! The room's server access list at the hub (issue 18 item 3): Alice (a.example, the hub's
//! provider) keeps c.example out and makes b.example, where Bob is, read-only. The hub then
//! gives no GroupInfo to c.example's users, relays no key material from Bob or to c.example,
//! and refuses Bob's messages; Alice's next message still reaches both member providers.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::{commit_request, domain, full, room};
use mimi_ds::{Effect, RequestError};
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::mls::MlsMessage;
use mimi_federation_api::submit_message::{SubmitMessageRequest, SubmitOutcome};
use mimi_federation_api::update::UpdateOutcome;
use mimi_mls::ComponentChange;
use mimi_room::Denied;
use mimi_room::components::{Component as _, ServerCapabilities, ServerPolicy, ServerPolicyMode};
use mimi_types::codepoints::ComponentId;
use mimi_types::{ClientUri, Domain, UserUri};

fn destinations(effects: &[Effect]) -> BTreeSet<Domain> {
    effects
        .iter()
        .map(|e| match e {
            Effect::Notify { to, .. } => to.clone(),
        })
        .collect()
}

fn restricted_room() -> common::Room {
    let mut r = room();
    let policy = ServerPolicy {
        mode: ServerPolicyMode::DenyListed,
        entries: Vec::new(),
    }
    .with_entry(&domain("b.example"), ServerCapabilities::JOIN)
    .with_entry(&domain("c.example"), ServerCapabilities::NONE);
    let change = ComponentChange::update(ComponentId::SERVER_POLICY, policy.encode());
    let out = r.alice.commit(&[change], &[], &[], r.now).unwrap();
    let answer = r
        .hub
        .handle_update(
            r.now * 1000,
            &domain("a.example"),
            commit_request(&out, full(out.group_info.as_deref().unwrap())),
        )
        .unwrap();
    assert!(matches!(
        answer.response.outcome,
        UpdateOutcome::Success { .. }
    ));
    r.alice.merge_pending_commit().unwrap();
    r
}

fn submit(r: &mut common::Room, from: &str, text: &[u8]) -> (SubmitOutcome, BTreeSet<Domain>) {
    let group = if from == "alice" {
        &mut r.alice
    } else {
        &mut r.bob
    };
    let bytes = group.protect(text, &BTreeMap::new()).unwrap();
    let sender = group.me().user.clone();
    let uri = IdentifierUri::from_string(sender.to_string()).unwrap();
    let request = SubmitMessageRequest::new(MlsMessage::from_bytes(bytes).unwrap(), uri).unwrap();
    let out = r
        .hub
        .handle_submit(r.now * 1000, sender.domain(), request, None)
        .unwrap();
    (out.response.outcome, destinations(&out.effects))
}

fn not_allowed(domain_name: &str, capability: ServerCapabilities) -> Denied {
    Denied::ProviderNotAllowed {
        domain: domain(domain_name),
        capability,
    }
}

#[test]
fn a_denied_provider_gets_no_group_info_and_its_newcomers_are_refused_first() {
    let r = restricted_room();
    let cathy: UserUri = "mimi://c.example/u/cathy".parse().unwrap();
    let cathy_tab: ClientUri = "mimi://c.example/d/cathy/tab".parse().unwrap();
    assert_eq!(
        r.hub.may_join(&cathy_tab, &cathy, None, r.now).unwrap_err(),
        not_allowed("c.example", ServerCapabilities::JOIN)
    );
    // A newcomer of a provider the list does not name is judged by the room's join rules.
    let dave: UserUri = "mimi://d.example/u/dave".parse().unwrap();
    let dave_pc: ClientUri = "mimi://d.example/d/dave/pc".parse().unwrap();
    assert!(matches!(
        r.hub.may_join(&dave_pc, &dave, None, r.now).unwrap_err(),
        Denied::MissingCapability { .. }
    ));
    // Bob's provider keeps `join`: his new device may still get what it needs.
    let bob: UserUri = "mimi://b.example/u/bob".parse().unwrap();
    r.hub.may_join_new_device(&bob).unwrap();
}

#[test]
fn key_material_is_relayed_only_between_providers_the_room_allows() {
    let r = restricted_room();
    let alice: UserUri = "mimi://a.example/u/alice".parse().unwrap();
    let bob: UserUri = "mimi://b.example/u/bob".parse().unwrap();
    let cathy: UserUri = "mimi://c.example/u/cathy".parse().unwrap();
    let dave: UserUri = "mimi://d.example/u/dave".parse().unwrap();
    // Bob's provider has no `keyMaterial`: his requests are not relayed.
    let err = r.hub.check_key_material_requester(&bob).unwrap_err();
    assert_eq!(
        err,
        RequestError::ServerNotAllowed(not_allowed("b.example", ServerCapabilities::KEY_MATERIAL))
    );
    assert_eq!(err.http_status(), 403);
    // Nothing is claimed at c.example.
    assert_eq!(
        r.hub.check_key_material_target(&cathy).unwrap_err(),
        RequestError::ServerNotAllowed(not_allowed("c.example", ServerCapabilities::JOIN))
    );
    // Nor at b.example (no `keyMaterial`), while d.example, unnamed, is open.
    assert_eq!(
        r.hub.check_key_material_target(&bob).unwrap_err(),
        RequestError::ServerNotAllowed(not_allowed("b.example", ServerCapabilities::KEY_MATERIAL))
    );
    r.hub.check_key_material_requester(&alice).unwrap();
    r.hub.check_key_material_target(&dave).unwrap();
}

#[test]
fn submits_from_a_provider_without_submit_are_refused_and_others_still_fan_out() {
    let mut r = restricted_room();
    let (outcome, to) = submit(&mut r, "bob", b"let me speak");
    assert_eq!(outcome, SubmitOutcome::NotAllowed);
    assert!(to.is_empty(), "nothing fanned out");
    // The sentinel: Alice's message reaches both member providers, Bob's read-only one too.
    let (outcome, to) = submit(&mut r, "alice", b"sentinel");
    assert!(
        matches!(outcome, SubmitOutcome::Accepted { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        to,
        ["a.example", "b.example"]
            .iter()
            .map(|d| domain(d))
            .collect::<BTreeSet<Domain>>()
    );
}
