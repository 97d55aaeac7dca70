//! Bots and logging clients: `logging_policy` and `bot_policy` (`readings.rs`, "Bots and logging
//! clients"), for added clients, self-joiners, policy changes under members, and sending.

use crate::common::*;
use mimi_room::ClientKind;

const HOMEPAGE: &str = "https://bots.example/standup";

fn logger(client: &str, user: &str) -> MemberChange {
    MemberChange::with_kind(c(client), u(user), ClientKind::Logger)
}

fn bot_kind(name: &str, homepage: &str) -> ClientKind {
    ClientKind::Bot {
        name: name.into(),
        homepage: homepage.into(),
    }
}

fn bot(client: &str, user: &str, name: &str) -> MemberChange {
    MemberChange::with_kind(c(client), u(user), bot_kind(name, HOMEPAGE))
}

/// The cooperative room whose super_admin (Alice) also holds `canChangeOtherPolicyAttribute`.
fn admin_room() -> RoomState {
    let s = room();
    let mut roles = s.roles().clone();
    roles.roles[4]
        .role_capabilities
        .push(Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE);
    with_component(&s, &roles)
}

fn targets(listed: &[&str]) -> LoggingTargets {
    LoggingTargets {
        logging_clients: listed.iter().map(|l| Uri::new(*l).unwrap()).collect(),
        machine_readable_policy: Uri::new("https://hub.example/logging.json").unwrap(),
        human_readable_policy: Uri::new("https://hub.example/logging.html").unwrap(),
    }
}

fn standup(local: bool, role: u32) -> Bot {
    Bot {
        name: "Standup".into(),
        description: "asks everyone for their day".into(),
        homepage: Uri::new(HOMEPAGE).unwrap(),
        local_client_bot: local,
        bot_role_index: RoleIndex(role),
        can_target_message_in_group: false,
        per_user_content: false,
    }
}

/// Alice adds `member` (its user listed as `role`).
fn add(state: &RoomState, member: MemberChange, role: u32) -> Result<RoomState, Denied> {
    let mut commit = by(ALICE_PHONE, ALICE);
    commit
        .component_changes
        .push(plu(&[], &[], &[(member.user.to_string().as_str(), role)]));
    commit.added.push(member);
    authorize_commit(state, &commit).map(|s| s.into_state())
}

/// Alice replaces a policy component.
fn set<T: StateComponent>(state: &RoomState, value: &T) -> Result<RoomState, Denied> {
    let mut commit = by(ALICE_PHONE, ALICE);
    commit
        .component_changes
        .push(ComponentChange::update(T::ID, value.encode()));
    authorize_commit(state, &commit).map(|s| s.into_state())
}

#[test]
fn a_room_forbidding_logging_refuses_logging_clients_and_a_listed_logger_gets_in() {
    let s = admin_room();
    // Without logging_policy a logging client is any client; so is a person's device with one.
    assert!(add(&s, logger(DAVE_PC, DAVE), 2).is_ok());
    let forbidden = with_component(&s, &LoggingPolicy::Forbidden);
    assert_eq!(
        add(&forbidden, logger(DAVE_PC, DAVE), 2).unwrap_err(),
        Denied::LoggingForbidden { client: c(DAVE_PC) }
    );
    let next = add(&forbidden, m(DAVE_PC, DAVE), 2).unwrap();
    assert!(next.kind_of(&c(DAVE_PC)).is_person());
    // Optional: listed by client URI or by user URI, else refused.
    for listed in [DAVE_PC, DAVE] {
        let optional = with_component(&s, &LoggingPolicy::Optional(targets(&[listed])));
        let next = add(&optional, logger(DAVE_PC, DAVE), 2).unwrap();
        assert_eq!(next.kind_of(&c(DAVE_PC)), &ClientKind::Logger);
    }
    let other = with_component(&s, &LoggingPolicy::Optional(targets(&[CATHY_TAB])));
    assert_eq!(
        add(&other, logger(DAVE_PC, DAVE), 2).unwrap_err(),
        Denied::LoggerNotListed { client: c(DAVE_PC) }
    );
    // A logger joining by itself is held to the same rules.
    let mut roles = forbidden.roles().clone();
    roles.roles[0].role_capabilities = vec![Capability::CAN_OPEN_JOIN];
    roles.roles[0].authorized_role_changes = vec![SingleSourceRoleChangeTargets::new(0, &[2])];
    let open = with_component(&forbidden, &roles);
    let mut joining = join(DAVE_PC, DAVE, 2);
    joining.added = vec![logger(DAVE_PC, DAVE)];
    assert_eq!(
        denied(&open, &joining),
        Denied::LoggingForbidden { client: c(DAVE_PC) }
    );
    assert!(authorize_commit(&open, &join(DAVE_PC, DAVE, 2)).is_ok());
}

#[test]
fn a_policy_cannot_be_tightened_under_a_logger_or_a_bot_that_stays() {
    let s = admin_room();
    let with_logger = add(&s, logger(DAVE_PC, DAVE), 2).unwrap();
    assert_eq!(
        set(&with_logger, &LoggingPolicy::Forbidden).unwrap_err(),
        Denied::LoggingForbidden { client: c(DAVE_PC) }
    );
    assert_eq!(
        set(
            &with_logger,
            &LoggingPolicy::Required(targets(&[CATHY_TAB]))
        )
        .unwrap_err(),
        Denied::LoggerNotListed { client: c(DAVE_PC) }
    );
    // The same commit may remove the logger (user and client) and forbid logging.
    let mut commit = by(ALICE_PHONE, ALICE);
    commit
        .component_changes
        .push(plu(&[], &[idx(&with_logger, DAVE)], &[]));
    commit.component_changes.push(ComponentChange::update(
        ComponentId::LOGGING_POLICY,
        LoggingPolicy::Forbidden.encode(),
    ));
    commit.removed.push(logger(DAVE_PC, DAVE));
    let next = authorize_commit(&with_logger, &commit)
        .unwrap()
        .into_state();
    assert!(next.agents().is_empty());
    // A bot whose entry goes away, or whose user's role changes, is refused the same way.
    let policy = BotPolicy {
        allowed_bots: vec![standup(false, 2)],
    };
    let with_bot = add(
        &with_component(&s, &policy),
        bot(DAVE_PC, DAVE, "Standup"),
        2,
    )
    .unwrap();
    assert!(matches!(
        set(&with_bot, &BotPolicy::default()).unwrap_err(),
        Denied::BotNotAllowed { .. }
    ));
    let mut promote = by(ALICE_PHONE, ALICE);
    promote
        .component_changes
        .push(plu(&[(idx(&with_bot, DAVE), 3)], &[], &[]));
    assert_eq!(
        denied(&with_bot, &promote),
        Denied::BotRole {
            user: u(DAVE),
            required: RoleIndex(2),
            held: RoleIndex(3)
        }
    );
}

#[test]
fn a_required_logger_must_be_a_member_before_anyone_sends() {
    let s = admin_room();
    let alice = Actor::Client {
        client: c(ALICE_PHONE),
        user: u(ALICE),
    };
    assert!(s.may_send(&u(ALICE)).is_ok());
    // The policy may be set before the logger joins; from then on nothing may be sent.
    let required = set(&s, &LoggingPolicy::Required(targets(&[DAVE]))).unwrap();
    assert_eq!(required.may_send(&u(ALICE)), Err(Denied::LoggerRequired));
    assert_eq!(
        required.authorize_message(&alice),
        Err(Denied::LoggerRequired)
    );
    // A person's device of the listed user is not a logger.
    let person = add(&required, m(DAVE_PC, DAVE), 2).unwrap();
    assert_eq!(person.may_send(&u(ALICE)), Err(Denied::LoggerRequired));
    let logged = add(&required, logger(DAVE_PC, DAVE), 2).unwrap();
    assert!(logged.may_send(&u(ALICE)).is_ok());
    assert!(logged.authorize_message(&alice).is_ok());
    // Capability refusals still come first.
    let optional = set(&s, &LoggingPolicy::Optional(targets(&[DAVE]))).unwrap();
    assert!(optional.may_send(&u(ALICE)).is_ok());
}

#[test]
fn bots_need_their_allowed_bots_entry_and_its_role() {
    let s = admin_room();
    // Without bot_policy a bot is any client.
    assert!(add(&s, bot(DAVE_PC, DAVE, "Anything"), 3).is_ok());
    let policy = BotPolicy {
        allowed_bots: vec![standup(false, 2)],
    };
    let s = with_component(&s, &policy);
    assert_eq!(
        s.bot_role(&bot_kind("Standup", HOMEPAGE)),
        Some(RoleIndex(2))
    );
    let next = add(&s, bot(DAVE_PC, DAVE, "Standup"), 2).unwrap();
    assert_eq!(next.role_of(&u(DAVE)), RoleIndex(2));
    assert_eq!(next.kind_of(&c(DAVE_PC)), &bot_kind("Standup", HOMEPAGE));
    assert_eq!(
        add(&s, bot(DAVE_PC, DAVE, "Standup"), 3).unwrap_err(),
        Denied::BotRole {
            user: u(DAVE),
            required: RoleIndex(2),
            held: RoleIndex(3)
        }
    );
    assert_eq!(
        add(&s, bot(DAVE_PC, DAVE, "Poller"), 2).unwrap_err(),
        Denied::BotNotAllowed {
            client: c(DAVE_PC),
            bot: format!("\"Poller\" <{HOMEPAGE}>")
        }
    );
    // Name and homepage must both match.
    let elsewhere = MemberChange::with_kind(
        c(DAVE_PC),
        u(DAVE),
        bot_kind("Standup", "https://other.example/standup"),
    );
    assert!(matches!(
        add(&s, elsewhere, 2).unwrap_err(),
        Denied::BotNotAllowed { .. }
    ));
    assert_eq!(s.bot_role(&bot_kind("Poller", HOMEPAGE)), None);
    // An empty list admits no bot; people are unchanged.
    let none = with_component(&s, &BotPolicy::default());
    assert!(matches!(
        add(&none, bot(DAVE_PC, DAVE, "Standup"), 2).unwrap_err(),
        Denied::BotNotAllowed { .. }
    ));
    assert!(add(&none, m(DAVE_PC, DAVE), 3).is_ok());
}

#[test]
fn a_local_client_bot_runs_under_its_users_own_role() {
    let s = admin_room();
    let local = with_component(
        &s,
        &BotPolicy {
            allowed_bots: vec![standup(true, 3)],
        },
    );
    assert_eq!(local.bot_role(&bot_kind("Standup", HOMEPAGE)), None);
    // Bob (role 2) adds a bot client of his own; bot_role_index 3 does not apply.
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.added.push(bot(BOB_PHONE, BOB, "Standup"));
    let next = authorize_commit(&local, &commit).unwrap().into_state();
    assert_eq!(next.role_of(&u(BOB)), RoleIndex(2));
    // An unlisted local bot is still refused.
    let mut commit = by(BOB_LAPTOP, BOB);
    commit.added.push(bot(BOB_PHONE, BOB, "Poller"));
    assert!(matches!(
        denied(&local, &commit),
        Denied::BotNotAllowed { .. }
    ));
}
