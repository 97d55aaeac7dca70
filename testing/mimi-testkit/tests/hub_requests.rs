//! keyMaterial, groupInfo and reportAbuse: who may ask, and what a forged request gets.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Room, domain, user};
use mimi_ds::RequestError;
use mimi_ds::hub::AbuseReportOutcome;
use mimi_federation_api::common::IdentifierUri;
use mimi_federation_api::group_info::GroupInfoOutcome;
use mimi_federation_api::key_material::{ClientMaterial, KeyMaterialUserCode};
use mimi_federation_api::mls::Signature;
use mimi_federation_api::report_abuse::{AbuseReport, AbuseType};
use mimi_testkit::SimError;
use mimi_types::ClientUri;

fn room() -> Room {
    common::room(5, "requests")
}

#[test]
fn group_info_is_served_only_to_participants_with_valid_signed_requests() {
    let Room {
        mut net,
        room,
        diana,
        mallory,
        ..
    } = room();
    // A new device of a participant: success.
    let tablet = net
        .add_device(&user("mimi://z.example/u/diana"), "tablet")
        .unwrap();
    let (request, _) = net.group_info_request(&tablet).unwrap();
    let answer = net
        .hub_group_info(&domain("z.example"), &room, &request)
        .unwrap();
    assert!(matches!(answer.outcome, GroupInfoOutcome::Success(_)));
    // A device of a non-participant.
    let (request, _) = net.group_info_request(&mallory).unwrap();
    let answer = net
        .hub_group_info(&domain("x.example"), &room, &request)
        .unwrap();
    assert_eq!(answer.outcome, GroupInfoOutcome::NotAuthorized);
    // A forged signature.
    let (mut request, _) = net.group_info_request(&tablet).unwrap();
    request.signature = Signature::from_bytes(vec![7; 64]).unwrap();
    let answer = net
        .hub_group_info(&domain("z.example"), &room, &request)
        .unwrap();
    assert_eq!(answer.outcome, GroupInfoOutcome::NotAuthorized);
    // x.example asking for z.example's device.
    let (request, _) = net.group_info_request(&diana).unwrap();
    let err = net
        .hub_group_info(&domain("x.example"), &room, &request)
        .unwrap_err();
    assert!(
        matches!(
            err,
            SimError::Refused(RequestError::ActingForForeignUser { .. })
        ),
        "{err}"
    );
    // The external join by the participant's new device goes through.
    net.join_external(&tablet, &room).unwrap();
    net.settle(1_000).unwrap();
    assert!(net.device(&tablet).unwrap().is_member(&room));
}

#[test]
fn key_material_requests_are_authenticated_and_scoped() {
    let Room {
        mut net,
        room,
        alice,
        charlie,
        ..
    } = room();
    let evelyn = user("mimi://z.example/u/evelyn");
    net.add_device_without_last_resort(&evelyn, "tablet")
        .unwrap();
    let hub = domain("y.example");

    // Genuine, relayed by the hub: one KeyPackage.
    let request = net.key_material_request(&charlie, &evelyn, &room).unwrap();
    let grant = net.target_key_material(&hub, &request).unwrap();
    assert_eq!(grant.response.user_status, KeyMaterialUserCode::Success);
    assert!(matches!(
        grant.response.clients[0].material,
        ClientMaterial::Success(_)
    ));
    assert_eq!(grant.claimed.len(), 1);

    // A forged signature.
    let mut forged = net.key_material_request(&charlie, &evelyn, &room).unwrap();
    forged.key_material_request_signature = Signature::from_bytes(vec![1; 64]).unwrap();
    let err = net.target_key_material(&hub, &forged).unwrap_err();
    assert!(
        matches!(err, SimError::Refused(RequestError::Unauthenticated(_))),
        "{err}"
    );

    // Alice's credential claiming to request as Charlie.
    let mut impostor = net.key_material_request(&alice, &evelyn, &room).unwrap();
    impostor.tbs.requesting_user =
        IdentifierUri::from_string("mimi://y.example/u/charlie").unwrap();
    let err = net.target_key_material(&hub, &impostor).unwrap_err();
    assert!(
        matches!(err, SimError::Refused(RequestError::Unauthenticated(_))),
        "{err}"
    );

    // x.example relaying Charlie's request: neither his provider nor the room's hub.
    let request = net.key_material_request(&charlie, &evelyn, &room).unwrap();
    let err = net
        .target_key_material(&domain("x.example"), &request)
        .unwrap_err();
    assert!(
        matches!(
            err,
            SimError::Refused(RequestError::ActingForForeignUser { .. })
        ),
        "{err}"
    );

    // An unknown user of the target provider.
    let request = net
        .key_material_request(&charlie, &user("mimi://z.example/u/nobody"), &room)
        .unwrap();
    let grant = net.target_key_material(&hub, &request).unwrap();
    assert_eq!(grant.response.user_status, KeyMaterialUserCode::UserUnknown);
    assert!(grant.response.clients.is_empty());

    // Evelyn's pool runs dry: keyMaterialExhausted, never a KeyPackage twice.
    let mut seen = std::collections::BTreeSet::new();
    for (reference, _) in &grant.claimed {
        seen.insert(reference.clone());
    }
    let mut exhausted = false;
    for _ in 0..10 {
        let request = net.key_material_request(&charlie, &evelyn, &room).unwrap();
        let grant = net.target_key_material(&hub, &request).unwrap();
        for (reference, _) in &grant.claimed {
            assert!(
                seen.insert(reference.clone()),
                "a KeyPackage was handed out twice"
            );
        }
        if grant.response.user_status == KeyMaterialUserCode::NoCompatibleMaterial {
            assert!(matches!(
                grant.response.clients[0].material,
                ClientMaterial::KeyMaterialExhausted
            ));
            exhausted = true;
            break;
        }
    }
    assert!(exhausted, "four KeyPackages per device, then exhausted");
}

#[test]
fn abuse_reports_come_from_participants_through_their_own_provider() {
    let Room {
        net,
        room,
        alice,
        mallory,
        ..
    } = room();
    let report = |reporter: &ClientUri| {
        AbuseReport::new(
            IdentifierUri::from_string(reporter.user_hint().unwrap().to_string()).unwrap(),
            IdentifierUri::from_string("mimi://z.example/u/diana").unwrap(),
            AbuseType::new(0),
            "spam",
            Vec::new(),
        )
    };
    let accepted = net
        .hub_report_abuse(&domain("x.example"), &room, &report(&alice))
        .unwrap();
    assert_eq!(
        accepted,
        AbuseReportOutcome::Accepted {
            room: room.clone(),
            report: report(&alice)
        },
        "an accepted report comes back to be kept for the operators"
    );
    assert_eq!(
        net.hub_report_abuse(&domain("x.example"), &room, &report(&mallory))
            .unwrap(),
        AbuseReportOutcome::NotAllowed
    );
    let err = net
        .hub_report_abuse(&domain("z.example"), &room, &report(&alice))
        .unwrap_err();
    assert!(
        matches!(
            err,
            SimError::Refused(RequestError::ActingForForeignUser { .. })
        ),
        "{err}"
    );
}
