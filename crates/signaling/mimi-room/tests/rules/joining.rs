//! Joining: open join, join codes and links, preauthorization, external joins, fixed rooms.

use crate::common::*;

// ---- 7. joining: open join, join codes, preauthorization ------------------------------------

/// The cooperative room opened: role 0 holds canOpenJoin with `(0, [2])`.
fn open_room() -> RoomState {
    let s = room();
    let mut roles = s.roles().clone();
    roles.roles[0].role_capabilities = vec![Capability::CAN_OPEN_JOIN];
    roles.roles[0].authorized_role_changes = vec![SingleSourceRoleChangeTargets::new(0, &[2])];
    with_component(&s, &roles)
}

#[test]
fn open_join() {
    let s = open_room();
    let next = authorize_commit(&s, &join(DAVE_PC, DAVE, 2))
        .unwrap()
        .into_state();
    assert_eq!(next.role_of(&u(DAVE)), RoleIndex(2));
    assert_eq!(
        denied(&s, &join(DAVE_PC, DAVE, 3)),
        Denied::RoleChangeNotAuthorized {
            from: RoleIndex(0),
            to: RoleIndex(3)
        }
    );
    let s = room();
    assert_eq!(
        denied(&s, &join(DAVE_PC, DAVE, 2)),
        missing(Capability::CAN_OPEN_JOIN, 0)
    );
    // Without the list entry the joiner's client has no participant.
    let s = open_room();
    let mut bare = by(DAVE_PC, DAVE);
    bare.external_join = true;
    bare.added.push(m(DAVE_PC, DAVE));
    assert_eq!(
        denied(&s, &bare),
        Denied::ClientForNonParticipant {
            client: c(DAVE_PC),
            user: u(DAVE)
        }
    );
}

#[test]
fn join_codes() {
    let s = room_with(Preset::StrictlyAdministered, 2, 3);
    let links = JoinLinks {
        links: vec![JoinLink {
            join_link: b"code-1".to_vec(),
        }],
    };
    let s = with_component(&s, &links);
    let mut commit = join(DAVE_PC, DAVE, 2);
    assert_eq!(denied(&s, &commit), missing(Capability::CAN_OPEN_JOIN, 0));
    commit.join_code = Some(b"code-2".to_vec());
    assert_eq!(denied(&s, &commit), Denied::InvalidJoinCode);
    commit.join_code = Some(b"code-1".to_vec());
    authorize_commit(&s, &commit).unwrap();
    let mut as_admin = join(DAVE_PC, DAVE, 3);
    as_admin.join_code = Some(b"code-1".to_vec());
    assert_eq!(
        denied(&s, &as_admin),
        Denied::RoleChangeNotAuthorized {
            from: RoleIndex(0),
            to: RoleIndex(3)
        }
    );
    // The cooperative preset does not let codes in.
    let s = with_component(&room(), &links);
    assert_eq!(
        denied(&s, &commit),
        missing(Capability::CAN_USE_JOIN_CODE, 0)
    );
}

fn terms(role: u32, not_after: u64, uses_left: u32) -> JoinCodeTerms {
    JoinCodeTerms {
        code_digest: vec![7; JOIN_CODE_DIGEST_LEN],
        role_index: RoleIndex(role),
        not_after,
        uses_left,
    }
}

/// A strictly administered room whose `join_links` hold an opaque link and `t` (index 1).
fn room_with_terms(t: &JoinCodeTerms) -> RoomState {
    let s = room_with(Preset::StrictlyAdministered, 2, 3);
    let links = JoinLinks {
        links: vec![
            JoinLink {
                join_link: b"opaque".to_vec(),
            },
            t.to_link(),
        ],
    };
    with_component(&s, &links)
}

fn consume(update: JoinLinksUpdate) -> ComponentChange {
    ComponentChange::update(ComponentId::JOIN_LINKS, update.encode())
}

#[test]
fn join_code_terms_role_expiry_and_uses() {
    let t = terms(2, 1_000, 2);
    let s = room_with_terms(&t);
    let code_join = |role: u32| {
        let mut commit = join(DAVE_PC, DAVE, role);
        commit.join_code = Some(t.code_digest.clone());
        commit
    };
    let one_fewer = JoinLinksUpdate {
        removed_indices: vec![1],
        added_links: vec![terms(2, 1_000, 1).to_link()],
    };

    // A limited code must be consumed in the joining commit.
    assert_eq!(denied(&s, &code_join(2)), Denied::JoinCodeNotConsumed);
    let mut wrong = code_join(2);
    wrong.component_changes.push(consume(JoinLinksUpdate {
        removed_indices: vec![1],
        added_links: vec![terms(2, 1_000, 5).to_link()],
    }));
    assert_eq!(denied(&s, &wrong), Denied::JoinCodeNotConsumed);
    let mut ok = code_join(2);
    ok.component_changes.push(consume(one_fewer.clone()));
    let next = authorize_commit(&s, &ok).unwrap().into_state();
    assert_eq!(next.role_of(&u(DAVE)), RoleIndex(2));
    let left = next.join_links().unwrap().find(&t.code_digest).unwrap();
    assert_eq!(left.terms.unwrap().uses_left, 1);

    // The code names its role.
    let mut other_role = code_join(3);
    other_role
        .component_changes
        .push(consume(one_fewer.clone()));
    assert_eq!(
        denied(&s, &other_role),
        Denied::JoinCodeRole {
            granted: RoleIndex(2),
            requested: RoleIndex(3)
        }
    );

    // Expiry is checked where a time is given (the hub), not otherwise.
    let mut late = ok.clone();
    late.now_s = Some(1_001);
    assert_eq!(
        denied(&s, &late),
        Denied::JoinCodeExpired { not_after: 1_000 }
    );
    late.now_s = Some(1_000);
    authorize_commit(&s, &late).unwrap();

    // The last use removes the link; then the code opens nothing (used up).
    let last = terms(2, 0, 1);
    let s = room_with_terms(&last);
    let mut final_use = join(DAVE_PC, DAVE, 2);
    final_use.join_code = Some(last.code_digest.clone());
    final_use.component_changes.push(consume(JoinLinksUpdate {
        removed_indices: vec![1],
        added_links: vec![],
    }));
    let next = authorize_commit(&s, &final_use).unwrap().into_state();
    assert!(next.join_links().unwrap().find(&last.code_digest).is_none());
    let mut again = join(EVE_PC, EVE, 2);
    again.join_code = Some(last.code_digest.clone());
    assert_eq!(denied(&next, &again), Denied::InvalidJoinCode);
    assert_eq!(
        next.check_join_code(&last.code_digest, Some(0))
            .unwrap_err(),
        Denied::InvalidJoinCode
    );
}

fn link_policy(multiuser: bool, expiration: u32) -> JoinLinkPolicy {
    JoinLinkPolicy {
        on_request: false,
        join_link: Uri::default(),
        multiuser,
        expiration,
    }
}

/// A commit by Alice (who may change the membership style) adding one link.
fn adding_link(not_after: u64, uses_left: u32, now_s: Option<u64>) -> CommitSummary {
    let link = JoinCodeTerms {
        code_digest: vec![9; JOIN_CODE_DIGEST_LEN],
        ..terms(2, not_after, uses_left)
    };
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(consume(JoinLinksUpdate {
        removed_indices: vec![],
        added_links: vec![link.to_link()],
    }));
    commit.now_s = now_s;
    commit
}

#[test]
fn join_link_policy_holds_new_links_to_single_use_and_its_lifetime() {
    let existing = terms(2, 0, 3);
    let s = with_component(&room_with_terms(&existing), &link_policy(false, 3_600));

    // Not multiuser: a new link allows exactly one use.
    for uses in [0, 3] {
        assert_eq!(
            denied(&s, &adding_link(2_000, uses, None)),
            Denied::JoinLinkNotSingleUse { uses_left: uses }
        );
    }
    // A lifetime: a link that never expires is refused everywhere; one that expires too late
    // only where the authorizer has a clock (the hub), with some slack for the creator's.
    assert_eq!(
        denied(&s, &adding_link(0, 1, None)),
        Denied::JoinLinkLifetime {
            not_after: 0,
            expiration: 3_600
        }
    );
    authorize_commit(&s, &adding_link(5_000, 1, None)).unwrap();
    assert_eq!(
        denied(&s, &adding_link(5_000, 1, Some(1_000))),
        Denied::JoinLinkLifetime {
            not_after: 5_000,
            expiration: 3_600
        }
    );
    authorize_commit(&s, &adding_link(1_000 + 3_600 + 300, 1, Some(1_000))).unwrap();
    authorize_commit(&s, &adding_link(5_000, 1, Some(1_400))).unwrap();

    // A joiner consuming a link made before the policy is not held to it.
    let mut join_with_code = join(DAVE_PC, DAVE, 2);
    join_with_code.join_code = Some(existing.code_digest.clone());
    join_with_code
        .component_changes
        .push(consume(JoinLinksUpdate {
            removed_indices: vec![1],
            added_links: vec![terms(2, 0, 2).to_link()],
        }));
    authorize_commit(&s, &join_with_code).unwrap();

    // The policy the commit itself sets is the one its new links keep.
    let mut relax = adding_link(0, 0, Some(1_000));
    relax.component_changes.insert(
        0,
        ComponentChange::update(ComponentId::JOIN_LINK_POLICY, link_policy(true, 0).encode()),
    );
    authorize_commit(&s, &relax).unwrap();
    // Without a policy, anything goes.
    authorize_commit(&room_with_terms(&existing), &adding_link(0, 0, Some(1_000))).unwrap();
}

#[test]
fn only_the_joiner_may_consume_a_code_without_a_capability() {
    let t = terms(2, 0, 3);
    let s = room_with_terms(&t);
    // Bob (ordinary user) commits exactly the consumption update himself: refused.
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.component_changes.push(consume(JoinLinksUpdate {
        removed_indices: vec![1],
        added_links: vec![terms(2, 0, 2).to_link()],
    }));
    assert_eq!(
        denied(&s, &commit),
        missing(Capability::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE, 2)
    );
    // A joiner may not remove other links under cover of its own consumption.
    let mut greedy = join(DAVE_PC, DAVE, 2);
    greedy.join_code = Some(t.code_digest.clone());
    greedy.component_changes.push(consume(JoinLinksUpdate {
        removed_indices: vec![0, 1],
        added_links: vec![terms(2, 0, 2).to_link()],
    }));
    assert_eq!(denied(&s, &greedy), Denied::JoinCodeNotConsumed);
}

#[test]
fn join_code_terms_are_checked_when_decoded() {
    let mut t = terms(2, 0, 0);
    t.code_digest.pop();
    assert!(JoinCodeTerms::decode(&t.encode()).is_err());
    assert!(JoinCodeTerms::decode(&terms(1, 0, 0).encode()).is_err());
    assert!(JoinCodeTerms::decode(&terms(0, 0, 0).encode()).is_err());
    let good = terms(2, 5, 0);
    assert_eq!(JoinCodeTerms::decode(&good.encode()).unwrap(), good);
    // Unlimited codes need no consumption.
    let s = room_with_terms(&good);
    let mut commit = join(DAVE_PC, DAVE, 2);
    commit.join_code = Some(good.code_digest.clone());
    authorize_commit(&s, &commit).unwrap();
}

#[test]
fn preauthorized_join() {
    let claim = Claim::new(CredentialType::BASIC, b"org", b"d.example");
    let pre = |role: u32| PreAuthData {
        preauthorized_entries: vec![PreAuthRoleEntry {
            claimset: vec![claim.clone()],
            target_role: Role::new(role, "", ""),
        }],
    };
    let strict = room_with(Preset::StrictlyAdministered, 2, 3);
    let s = with_component(&strict, &pre(3));
    let mut commit = join(DAVE_PC, DAVE, 3);
    assert_eq!(denied(&s, &commit), missing(Capability::CAN_OPEN_JOIN, 0));
    commit.actor_claims.push(claim.clone());
    authorize_commit(&s, &commit).unwrap();
    let mut other_role = join(DAVE_PC, DAVE, 2);
    other_role.actor_claims.push(claim.clone());
    assert_eq!(
        denied(&s, &other_role),
        Denied::NotPreauthorized { role: RoleIndex(2) }
    );
    // No role of the cooperative example holds canJoinIfPreauthorized.
    let s = with_component(&room(), &pre(3));
    let mut commit = join(DAVE_PC, DAVE, 3);
    commit.actor_claims.push(claim);
    assert_eq!(
        denied(&s, &commit),
        missing(Capability::CAN_JOIN_IF_PREAUTHORIZED, 3)
    );
}

#[test]
fn x509_claims_preauthorize_a_provider_or_one_user() {
    let dave = u(DAVE);
    let dave_pc = c(DAVE_PC);
    let claims = Claim::of_x509_client(&dave_pc, &dave);
    assert_eq!(claims.len(), 3);
    assert!(claims.contains(&Claim::x509_subject_uri(DAVE)));
    assert!(claims.contains(&Claim::x509_subject_uri(DAVE_PC)));
    let provider: Domain = dave.domain().clone();
    assert!(claims.contains(&Claim::x509_issuer(&provider)));
    let entry = |claim: Claim, role: u32| PreAuthRoleEntry {
        claimset: vec![claim],
        target_role: Role::new(role, "", ""),
    };
    // A cooperative room whose ordinary users (2) may join preauthorized.
    let mut creation = RoomCreation::new(
        Preset::Cooperative,
        "mimi://hub.example/r/room".parse().unwrap(),
        u(ALICE),
    );
    creation.grants = vec![(RoleIndex(2), Capability::CAN_JOIN_IF_PREAUTHORIZED)];
    let base = creation
        .initial_state()
        .unwrap()
        .with_members([m(ALICE_PHONE, ALICE)])
        .unwrap();
    assert!(
        base.roles()
            .role(RoleIndex(2))
            .unwrap()
            .has(Capability::CAN_JOIN_IF_PREAUTHORIZED)
    );
    for claim in [Claim::x509_issuer(&provider), Claim::x509_subject_uri(DAVE)] {
        let data = PreAuthData {
            preauthorized_entries: vec![entry(claim, 2)],
        };
        assert!(data.names_provider(&provider));
        assert!(!data.names_provider(&"e.example".parse().unwrap()));
        let s = with_component(&base, &data);
        assert_eq!(s.may_join_preauthorized(&claims).unwrap(), RoleIndex(2));
        let mut commit = join(DAVE_PC, DAVE, 2);
        commit.actor_claims = claims.clone();
        authorize_commit(&s, &commit).unwrap();
        // Another provider's user makes none of these claims.
        let other = Claim::of_x509_client(
            &c("mimi://e.example/d/erin/pc"),
            &u("mimi://e.example/u/erin"),
        );
        assert_eq!(
            s.may_join_preauthorized(&other),
            Err(Denied::NotPreauthorized {
                role: RoleIndex::NO_ROLE
            })
        );
        let mut commit = join("mimi://e.example/d/erin/pc", "mimi://e.example/u/erin", 2);
        commit.actor_claims = other;
        assert_eq!(denied(&s, &commit), missing(Capability::CAN_OPEN_JOIN, 0));
    }
    // In the cooperative example no role holds canJoinIfPreauthorized: the entry's role may
    // not be joined by preauthorization.
    let s = with_component(
        &room(),
        &PreAuthData {
            preauthorized_entries: vec![entry(Claim::x509_issuer(&provider), 2)],
        },
    );
    assert_eq!(
        s.may_join_preauthorized(&claims),
        Err(Denied::MissingCapability {
            capability: Capability::CAN_JOIN_IF_PREAUTHORIZED,
            role: RoleIndex(2)
        })
    );
    // A grant to a role the preset lacks is refused at creation.
    let mut bad = RoomCreation::new(
        Preset::Cooperative,
        "mimi://a.example/r/r".parse().unwrap(),
        u(ALICE),
    );
    bad.grants = vec![(RoleIndex(42), Capability::CAN_KICK)];
    assert!(bad.initial_state().is_err());
}

#[test]
fn external_join_shape() {
    // Moderated: attendees (3) may add their own clients.
    let s = room_with(Preset::Moderated, 3, 3);
    let mut no_joiner = join(DAVE_PC, DAVE, 2);
    no_joiner.added.clear();
    assert_eq!(denied(&s, &no_joiner), Denied::ExternalJoinWithoutJoiner);
    let mut others = join(DAVE_PC, DAVE, 2);
    others.added.push(m("mimi://d.example/d/dave/two", DAVE));
    assert_eq!(
        denied(&s, &others),
        Denied::ExternalJoinAddsOthers {
            client: c("mimi://d.example/d/dave/two")
        }
    );
    // A listed user rejoining with a new device needs canAddOwnClient only.
    let mut rejoin = by(BOB_PHONE, BOB);
    rejoin.external_join = true;
    rejoin.added.push(m(BOB_PHONE, BOB));
    authorize_commit(&s, &rejoin).unwrap();
}

#[test]
fn fixed_membership_rooms() {
    let s = room_with(Preset::StrictlyAdministered, 2, 2);
    let mut roles = s.roles().clone();
    for r in &mut roles.roles {
        r.role_capabilities
            .retain(|c| *c != Capability::CAN_ADD_PARTICIPANT);
    }
    let s = with_component(&s, &roles);
    let s = with_policy(&s, |p| p.fixed_membership = true);
    let mut leave = by(BOB_LAPTOP, BOB);
    leave.component_changes.push(plu(&[], &[idx(&s, BOB)], &[]));
    leave.self_removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(denied(&s, &leave), Denied::FixedMembership);
    let mut remove = by(ALICE_PHONE, ALICE);
    remove
        .component_changes
        .push(plu(&[], &[idx(&s, BOB)], &[]));
    remove.removed.push(m(BOB_LAPTOP, BOB));
    assert_eq!(denied(&s, &remove), Denied::FixedMembership);
    // Giving a role canAddParticipant in a fixed room is refused as an invalid state.
    let mut roles = s.roles().clone();
    roles.roles[2]
        .role_capabilities
        .push(Capability::CAN_ADD_PARTICIPANT);
    let mut commit = by(ALICE_PHONE, ALICE);
    commit.component_changes.push(ComponentChange::update(
        ComponentId::ROLES_LIST,
        roles.encode(),
    ));
    assert!(matches!(
        denied(&s, &commit),
        Denied::InvalidResultingState(_)
    ));
}

#[test]
fn only_listed_unbanned_users_may_join_a_new_device() {
    let state = room_with(Preset::Cooperative, 2, 1);
    assert_eq!(state.may_join_new_device(&u(BOB)), Ok(()));
    assert_eq!(
        state.may_join_new_device(&u(CATHY)),
        Err(Denied::UserBanned { user: u(CATHY) })
    );
    assert_eq!(
        state.may_join_new_device(&u(DAVE)),
        Err(Denied::NotParticipant { user: u(DAVE) })
    );
}
