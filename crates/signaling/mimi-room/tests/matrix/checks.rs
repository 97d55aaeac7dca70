//! The matrix itself: the authorizer against the oracle for every case, and spot checks of the
//! oracle written by hand.

use crate::common::*;
use crate::oracle::*;
use crate::runner::*;
use crate::scenarios::*;
use crate::tables::*;

#[test]
fn authorization_matrix_agrees_with_the_oracle() {
    let mut checked = 0usize;
    let mut allowed = 0usize;
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let mut disagreements = Vec::new();
    let mut covered: BTreeSet<&str> = BTreeSet::new();
    for preset in Preset::ALL {
        let roles: Vec<u32> = preset
            .roles()
            .roles
            .iter()
            .map(|r| r.role_index.0)
            .collect();
        for &scenario in SCENARIOS {
            covered.insert(scenario.capability());
            for &role in &roles {
                for &origin in ORIGINS {
                    for at_limit in [false, true] {
                        let case = Case {
                            preset,
                            scenario,
                            role,
                            origin,
                            at_limit,
                        };
                        let Some(expected) = oracle(&case) else {
                            continue;
                        };
                        let state = state_for(&case, &model_for(&case));
                        let got = run(&case, &state);
                        checked += 1;
                        match &got {
                            Ok(()) => allowed += 1,
                            Err(e) => {
                                let name = format!("{e:?}");
                                let variant = name.split([' ', '(', '{']).next().unwrap();
                                *reasons.entry(variant.to_owned()).or_default() += 1;
                            }
                        }
                        if got != expected {
                            disagreements.push(format!(
                                "{preset:?} {scenario:?} role {role} {origin:?} at_limit={at_limit}: \
                                 authorizer {got:?}, oracle {expected:?}"
                            ));
                        }
                    }
                }
            }
        }
    }
    let all: BTreeSet<&str> = ENFORCEABLE.iter().copied().collect();
    assert_eq!(covered, all, "every enforceable capability has a scenario");
    assert!(
        disagreements.is_empty(),
        "{} of {checked} cases disagree:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    // The matrix must exercise both outcomes and the whole range of refusals.
    assert!(allowed > 500, "only {allowed} allowed cases");
    for reason in [
        "MissingCapability",
        "RoleChangeNotAuthorized",
        "ClientNotOfUser",
        "ActorBlocked",
        "ServerCannotJoin",
        "ServerCannotSend",
        "ForeignUser",
        "NoServerRole",
        "NotPreauthorized",
        "UserBanned",
        "NotParticipant",
        "ClientForNonParticipant",
        "MaxUsersExceeded",
        "MaxClientsExceeded",
        "RoleMinParticipants",
        "RoleMaxParticipants",
        "RoleMinActive",
    ] {
        assert!(
            reasons.contains_key(reason),
            "no case refused with {reason}: {reasons:?}"
        );
    }
    eprintln!("matrix: {checked} cases, {allowed} allowed, refusals {reasons:?}");
}

/// Hand-written expectations for a few cases, so the oracle itself is checked against plain
/// reading of the presets.
#[test]
fn spot_checks_written_by_hand() {
    let check = |preset, scenario, role, origin, at_limit, expected: Result<(), Denied>| {
        let case = Case {
            preset,
            scenario,
            role,
            origin,
            at_limit,
        };
        let state = state_for(&case, &model_for(&case));
        assert_eq!(
            run(&case, &state),
            expected,
            "{preset:?} {scenario:?} {role} {origin:?}"
        );
        assert_eq!(oracle(&case), Some(expected));
    };
    use Origin::*;
    use Preset::*;
    check(
        Cooperative,
        S::AddParticipant,
        2,
        LocalClient,
        false,
        Ok(()),
    );
    check(
        StrictlyAdministered,
        S::AddParticipant,
        2,
        FollowerClient,
        false,
        Err(missing("add", 2)),
    );
    check(
        Cooperative,
        S::AddParticipant,
        4,
        HubServer,
        false,
        Err(missing("add", 5)),
    );
    check(Cooperative, S::Ban, 3, FollowerClient, false, Ok(()));
    check(
        Cooperative,
        S::Ban,
        3,
        LocalClient,
        true,
        Err(Denied::RoleMinParticipants {
            role: RoleIndex(2),
            limit: 1,
        }),
    );
    check(
        Moderated,
        S::OpenJoin,
        2,
        LocalClient,
        false,
        Err(missing("open", 0)),
    );
    check(Moderated, S::UseJoinCode, 2, LocalClient, false, Ok(()));
    check(Moderated, S::UseJoinCode, 3, FollowerClient, false, Ok(()));
    check(
        Moderated,
        S::UseJoinCode,
        4,
        LocalClient,
        false,
        Err(rcna(0, 4)),
    );
    check(
        StrictlyAdministered,
        S::UseJoinCode,
        2,
        FollowerClient,
        false,
        Ok(()),
    );
    check(
        StrictlyAdministered,
        S::UseJoinCode,
        2,
        FollowerClient,
        true,
        Err(Denied::MaxUsersExceeded { limit: 3 }),
    );
    check(
        Cooperative,
        S::UseJoinCode,
        2,
        LocalClient,
        false,
        Err(missing("code", 0)),
    );
    check(Moderated, S::ChangeOwnRole, 3, LocalClient, false, Ok(()));
    check(
        Moderated,
        S::JoinIfPreauthorized,
        4,
        LocalClient,
        false,
        Ok(()),
    );
    check(
        Moderated,
        S::JoinIfPreauthorized,
        2,
        LocalClient,
        false,
        Err(missing("pre", 2)),
    );
    check(MultiOrganization, S::Ban, 5, FollowerClient, false, Ok(()));
    check(
        MultiOrganization,
        S::Ban,
        6,
        FollowerClient,
        false,
        Err(rcna(2, 1)),
    );
    check(
        MultiOrganization,
        S::UnBan,
        5,
        LocalClient,
        false,
        Err(missing("unban", 5)),
    );
    check(MultiOrganization, S::UnBan, 8, LocalClient, false, Ok(()));
    check(Cooperative, S::UnBan, 5, HubServer, false, Err(rcna(1, 2)));
    check(Cooperative, S::Kick, 2, FollowerServer, false, Ok(()));
    check(
        Cooperative,
        S::RemoveParticipant,
        2,
        FollowerServerForThirdProvider,
        false,
        Ok(()),
    );
    check(
        Cooperative,
        S::ChangeRoomName,
        2,
        FollowerServer,
        false,
        Err(Denied::NoServerRole {
            domain: dom(FOLLOWER),
        }),
    );
    check(
        Cooperative,
        S::AddOwnClient,
        2,
        FollowerServerForThirdProvider,
        false,
        Err(Denied::ForeignUser {
            actor: dom(FOLLOWER),
            user: user(THIRD, "a"),
        }),
    );
    check(
        Cooperative,
        S::SendMessage,
        1,
        LocalClient,
        false,
        Err(Denied::UserBanned {
            user: user(HUB, "a"),
        }),
    );
    check(
        Cooperative,
        S::AddOwnClient,
        2,
        ClientClaimingThirdProvider,
        false,
        Err(Denied::ClientNotOfUser {
            client: client(FOLLOWER, "a", "1"),
            user: user(THIRD, "a"),
        }),
    );
    check(
        Cooperative,
        S::ChangeRoleDefinitions,
        4,
        LocalClient,
        false,
        Err(missing("roles", 4)),
    );
    check(
        StrictlyAdministered,
        S::ChangeRoleDefinitions,
        4,
        LocalClient,
        false,
        Ok(()),
    );
    check(
        Cooperative,
        S::ChangeRoleDefinitions,
        5,
        HubServer,
        false,
        Ok(()),
    );
    check(
        Cooperative,
        S::ChangeMlsOperationalPolicies,
        2,
        HubServer,
        false,
        Ok(()),
    );
    check(
        Cooperative,
        S::ChangeMlsOperationalPolicies,
        4,
        LocalClient,
        false,
        Err(missing("mls", 4)),
    );
    // Content (room-policy A.3, A.4): a moderated room's guest may download images, audio and
    // video but not other files, and may not reply in a topic; an organization's user may
    // reply in a topic but not start one; a banned user may do none of it.
    check(
        Moderated,
        S::DownloadVideo,
        2,
        FollowerClient,
        false,
        Ok(()),
    );
    check(
        Moderated,
        S::DownloadAttachment,
        2,
        FollowerClient,
        false,
        Err(missing("datt", 2)),
    );
    check(
        Moderated,
        S::ReplyInTopic,
        2,
        LocalClient,
        false,
        Err(missing("rit", 2)),
    );
    check(Moderated, S::SendLinkPreview, 4, LocalClient, false, Ok(()));
    check(
        Moderated,
        S::SendLink,
        3,
        LocalClient,
        false,
        Err(missing("link", 3)),
    );
    check(
        MultiOrganization,
        S::ReplyInTopic,
        3,
        FollowerClient,
        false,
        Ok(()),
    );
    check(
        MultiOrganization,
        S::StartTopic,
        3,
        FollowerClient,
        false,
        Err(missing("topic", 3)),
    );
    check(
        Cooperative,
        S::SendLink,
        1,
        LocalClient,
        false,
        Err(Denied::UserBanned {
            user: user(HUB, "a"),
        }),
    );
}
