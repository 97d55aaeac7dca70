//! Issue 18, "every way in" and "commands for every policy change", through three real
//! providers: a room's admin changes the base policy, a role definition and the chat-history
//! policy; a rogue member's attempts are refused with the capability they lack; users of a
//! preauthorized provider (and one preauthorized user) join without an invite or link while
//! others are refused; the provider's room directory lists exactly the discoverable rooms it
//! hosts. After every refusal a sentinel message still reaches the members.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{THREE, alice_bob_carol, federation, member, providers, settle, texts, user};
use mimi_room::Capability;
use mimi_room::components::{Claim, HistoryPolicy, RoleIndex};
use mimi_sdk::{Device, PolicySetting, Preset, RoleEdit, RoomOptions, SdkError};
use mimi_types::RoomUri;

async fn sentinel(alice: &mut Device, bob: &mut Device, room: &RoomUri, text: &str) {
    alice.send_text(room, text).await.unwrap();
    settle(&mut [alice, bob], |d| {
        d.iter()
            .all(|d| texts(d, room).last().map(String::as_str) == Some(text))
    })
    .await;
}

fn lacks(result: Result<(), SdkError>, capability: &str) {
    let err = result.expect_err("the change must be refused");
    assert!(err.to_string().contains(capability), "{err}");
}

fn refused_by_hub(result: Result<(), SdkError>) {
    match result {
        Err(SdkError::Protocol { reason, .. }) => {
            assert!(reason.contains("NotAuthorized"), "{reason}");
        }
        other => panic!("expected the hub's notAuthorized, got {other:?}"),
    }
}

fn settings(texts: &[&str]) -> Vec<PolicySetting> {
    texts.iter().map(|t| t.parse().unwrap()).collect()
}

#[test]
fn admins_change_policy_roles_and_preauthorization_and_others_cannot() {
    let p = providers(&THREE);
    let (nodes, profiles) = (&p.nodes, &p.profiles);
    p.runtime.block_on(async {
        let (mut alice, mut bob, mut carol) = alice_bob_carol(&p).await;
        let mut erin = user(&nodes[2], &profiles.join("erin"), "erin").await;
        let mut dave = user(&nodes[1], &profiles.join("dave"), "dave").await;
        let mut frank = user(&nodes[1], &profiles.join("frank"), "frank").await;
        // Alice's room: cooperative, her super_admin role may also change role definitions,
        // and ordinary users are the role preauthorized users join as.
        let room = alice.room_uri("club").unwrap();
        let options = RoomOptions {
            grants: vec![
                (RoleIndex(4), Capability::CAN_CHANGE_ROLE_DEFINITIONS),
                (RoleIndex(4), Capability::CAN_CHANGE_MLS_OPERATIONAL_POLICIES),
                (RoleIndex(2), Capability::CAN_JOIN_IF_PREAUTHORIZED),
            ],
            discoverable: false,
        };
        alice
            .create_room_with(&room, Preset::Cooperative, &options)
            .await
            .unwrap();
        let bob_user = bob.user().clone();
        alice.invite(&room, &[bob_user]).await.unwrap();
        settle(&mut [&mut alice, &mut bob], |d| member(d[1], &room)).await;

        // Base policy: the admin may; every member's view follows.
        alice
            .set_policy(&room, &settings(&["discoverable=on", "max-users=10"]))
            .await
            .unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            let base = d[1].engine().room(&room).unwrap().state().base_policy();
            base.discoverable && base.max_users == Some(10)
        })
        .await;
        // Nothing to change is said before anything is sent.
        let err = alice
            .set_policy(&room, &settings(&["discoverable=on"]))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("nothing to change"), "{err}");

        // A rogue member: Bob (ordinary_user) may neither change the membership style nor
        // role definitions.
        lacks(
            bob.set_policy(&room, &settings(&["max-users=2"])).await,
            "canChangeRoomMembershipStyle",
        );
        let escalate = RoleEdit {
            grant: vec![Capability::CAN_CHANGE_ROLE_DEFINITIONS],
            revoke: Vec::new(),
        };
        lacks(
            bob.edit_role(&room, RoleIndex(2), &escalate).await,
            "canChangeRoleDefinitions",
        );
        sentinel(&mut alice, &mut bob, &room, "after bob's attempts").await;
        assert_eq!(
            alice
                .engine()
                .room(&room)
                .unwrap()
                .state()
                .base_policy()
                .max_users,
            Some(10)
        );

        // The other policy components need canChangeOtherPolicyAttribute, which no example
        // role set grants: Alice grants it to her role, then sets the history policy.
        lacks(
            alice.set_policy(&room, &settings(&["history=optional"])).await,
            "canChangeOtherPolicyAttribute",
        );
        let grant = RoleEdit {
            grant: vec![Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE],
            revoke: Vec::new(),
        };
        alice.edit_role(&room, RoleIndex(4), &grant).await.unwrap();
        alice
            .set_policy(
                &room,
                &settings(&["history=optional", "history-roles=2,4", "history-auto=on"]),
            )
            .await
            .unwrap();
        settle(&mut [&mut alice, &mut bob], |d| {
            matches!(
                d[1].engine().room(&room).unwrap().state().history_policy(),
                Some(HistoryPolicy::Optional(h))
                    if h.automatically_share && h.roles_that_can_share == [RoleIndex(2), RoleIndex(4)]
            )
        })
        .await;
        sentinel(&mut alice, &mut bob, &room, "history policy set").await;

        // Preauthorization: every user of z.example, and frank@y.example, as ordinary users.
        alice
            .add_preauth(
                &room,
                vec![Claim::x509_issuer(&"z.example".parse().unwrap())],
                RoleIndex(2),
            )
            .await
            .unwrap();
        alice
            .add_preauth(
                &room,
                vec![Claim::x509_subject_uri(&frank.user().to_string())],
                RoleIndex(2),
            )
            .await
            .unwrap();
        assert_eq!(alice.preauth(&room).unwrap().len(), 2);
        carol.join_as_newcomer(&room, None).await.unwrap();
        frank.join_as_newcomer(&room, None).await.unwrap();
        let (carol_user, frank_user) = (carol.user().clone(), frank.user().clone());
        settle(&mut [&mut alice, &mut bob, &mut carol, &mut frank], |d| {
            let state = d[0].engine().room(&room).unwrap().state().clone();
            member(d[2], &room)
                && member(d[3], &room)
                && state.role_of(&carol_user) == RoleIndex(2)
                && state.role_of(&frank_user) == RoleIndex(2)
        })
        .await;
        carol.send_text(&room, "in by preauthorization").await.unwrap();
        settle(&mut [&mut alice, &mut bob, &mut carol], |d| {
            d.iter()
                .all(|d| texts(d, &room).last().map(String::as_str) == Some("in by preauthorization"))
        })
        .await;

        // Dave (y.example, not preauthorized; no open join) is refused by the hub.
        refused_by_hub(dave.join_as_newcomer(&room, None).await);
        sentinel(&mut alice, &mut bob, &room, "after dave's attempt").await;
        assert!(!member(&dave, &room));

        // The provider entry removed, Erin (z.example) is refused too.
        alice.remove_preauth(&room, 0).await.unwrap();
        assert_eq!(alice.preauth(&room).unwrap().len(), 1);
        refused_by_hub(erin.join_as_newcomer(&room, None).await);
        sentinel(&mut alice, &mut bob, &room, "after erin's attempt").await;
        erin.sync(50).await.unwrap();
        assert!(!member(&erin, &room));
        assert!(texts(&erin, &room).is_empty());

        // Bob may not change the preauthorization list.
        lacks(
            bob.remove_preauth(&room, 0).await,
            "canChangePreauthorizedUserList",
        );
        sentinel(&mut alice, &mut bob, &room, "after bob's preauth attempt").await;

        // External commits off (mls_operational_policy): even a preauthorized user cannot
        // join by one; Bob may not turn them back on.
        alice
            .add_preauth(
                &room,
                vec![Claim::x509_subject_uri(&erin.user().to_string())],
                RoleIndex(2),
            )
            .await
            .unwrap();
        alice
            .set_policy(&room, &settings(&["external-commits=off"]))
            .await
            .unwrap();
        refused_by_hub(erin.join_as_newcomer(&room, None).await);
        sentinel(&mut alice, &mut bob, &room, "after erin's second attempt").await;
        assert!(!member(&erin, &room));
        lacks(
            bob.set_policy(&room, &settings(&["external-commits=on"])).await,
            "canChangeMlsOperationalPolicies",
        );
        sentinel(&mut alice, &mut bob, &room, "after bob's operational attempt").await;
        // Turned on again, Erin gets in.
        alice
            .set_policy(&room, &settings(&["external-commits=on"]))
            .await
            .unwrap();
        erin.join_as_newcomer(&room, None).await.unwrap();
        settle(&mut [&mut alice, &mut erin], |d| member(d[1], &room)).await;
    });
}

#[test]
fn the_directory_lists_exactly_the_discoverable_rooms_of_its_provider() {
    let dir = tempfile::tempdir().unwrap();
    let nodes = federation(&dir.path().join("servers"), &["x.example", "y.example"]);
    let profiles = dir.path().join("profiles");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut alice = user(&nodes[0], &profiles.join("alice"), "alice").await;
        let mut xavier = user(&nodes[0], &profiles.join("xavier"), "xavier").await;
        let bob = user(&nodes[1], &profiles.join("bob"), "bob").await;

        let open = RoomOptions {
            grants: Vec::new(),
            discoverable: true,
        };
        let club = alice.room_uri("club").unwrap();
        alice
            .create_room_with(&club, Preset::Cooperative, &open)
            .await
            .unwrap();
        alice.rename(&club, "Chess club").await.unwrap();
        alice.set_topic(&club, "Openings, Thursdays").await.unwrap();
        let secret = alice.room_uri("secret").unwrap();
        alice
            .create_room(&secret, Preset::Cooperative)
            .await
            .unwrap();

        let listed = xavier.room_directory(None).await.unwrap();
        assert_eq!(listed.rooms.len(), 1, "{listed:?}");
        let entry = &listed.rooms[0];
        assert_eq!(entry.room, club.to_string());
        assert_eq!(entry.name, "Chess club");
        assert_eq!(entry.topic, "Openings, Thursdays");
        assert_eq!(entry.participants, 1);
        assert!(
            !entry.open,
            "role 0 of a cooperative room may not open-join"
        );
        // Search by name, topic and URI, case-insensitively; `%` is a character, not a
        // wildcard.
        for q in ["CHESS", "thursdays", "r/club"] {
            assert_eq!(
                xavier.room_directory(Some(q)).await.unwrap().rooms.len(),
                1,
                "{q}"
            );
        }
        for q in ["secret", "%", "checkers"] {
            assert!(
                xavier
                    .room_directory(Some(q))
                    .await
                    .unwrap()
                    .rooms
                    .is_empty(),
                "{q}"
            );
        }
        // Another provider's directory lists only its own rooms.
        assert!(bob.room_directory(None).await.unwrap().rooms.is_empty());

        // Taken off the directory, the room is gone from it; listed again, it is back.
        alice
            .set_policy(&club, &[PolicySetting::Discoverable(false)])
            .await
            .unwrap();
        assert!(xavier.room_directory(None).await.unwrap().rooms.is_empty());
        alice
            .set_policy(&secret, &[PolicySetting::Discoverable(true)])
            .await
            .unwrap();
        let listed = xavier.room_directory(None).await.unwrap();
        assert_eq!(listed.rooms.len(), 1);
        assert_eq!(listed.rooms[0].room, secret.to_string());

        // The directory is for the provider's users: no token, no answer.
        let anonymous = reqwest::get(format!("{}/v1/directory", nodes[0].base_url()))
            .await
            .unwrap();
        assert_eq!(anonymous.status(), reqwest::StatusCode::UNAUTHORIZED);
        xavier.sync(10).await.unwrap();
    });
}
