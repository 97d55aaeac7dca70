//! Bots and logging clients in the matrix: `logging_policy` (absent, forbidden, optional,
//! required) × how `logging_clients` names the client (by client, by user, not at all) × what
//! the client is; `bot_policy` (absent, an empty list, the bot's entry, an entry of the same
//! name at another homepage, another bot's entry) × `local_client_bot` × the entry's role ×
//! the role the bot's user holds; each by two paths (the client added under the policy, the
//! policy set under the client already in) and two committers (on the hub's provider, on a
//! follower). The oracle restates `readings.rs` ("Bots and logging clients") and never calls
//! the authorizer; the runner builds the real state and commit and asks `authorize_commit`,
//! then, where the commit passed, whether a member may send (a required logger).

use crate::common::*;
use crate::scenarios::{FOLLOWER, HUB};
use mimi_room::ClientKind;

const HOMEPAGE: &str = "https://bots.example/standup";
const OTHER_HOMEPAGE: &str = "https://bots.example/other";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Logging {
    Absent,
    Forbidden,
    Optional,
    Required,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    ByClient,
    ByUser,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BotRule {
    Absent,
    EmptyList,
    Entry,
    EntryOtherHomepage,
    OtherBot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Path {
    /// The committer adds the client (its user listed with the case's role).
    Added,
    /// The client is in already; the committer sets the policy.
    PolicySetUnder,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Logger,
    Bot,
    Person,
}

#[derive(Debug, Clone, Copy)]
enum Policy {
    Logging(Logging, Listing),
    Bots {
        rule: BotRule,
        local: bool,
        entry_role: u32,
    },
}

#[derive(Debug, Clone, Copy)]
struct AgentCase {
    policy: Policy,
    who: Who,
    /// The role the client's user holds.
    role: u32,
    path: Path,
    committer_domain: &'static str,
}

fn agent_user() -> UserUri {
    user(FOLLOWER, "agent")
}
fn agent_client() -> ClientUri {
    client(FOLLOWER, "agent", "1")
}
fn admin(domain: &str) -> (UserUri, ClientUri) {
    (user(domain, "admin"), client(domain, "admin", "1"))
}

// ---- the oracle: the readings, restated ------------------------------------------------------

/// What the commit must come to.
fn oracle_commit(c: &AgentCase) -> Result<(), Denied> {
    match (c.policy, c.who) {
        (Policy::Logging(logging, listing), Who::Logger) => match logging {
            Logging::Absent => Ok(()),
            Logging::Forbidden => Err(Denied::LoggingForbidden {
                client: agent_client(),
            }),
            Logging::Optional | Logging::Required => match listing {
                Listing::ByClient | Listing::ByUser => Ok(()),
                Listing::Other => Err(Denied::LoggerNotListed {
                    client: agent_client(),
                }),
            },
        },
        (
            Policy::Bots {
                rule,
                local,
                entry_role,
            },
            Who::Bot,
        ) => match rule {
            BotRule::Absent => Ok(()),
            BotRule::EmptyList | BotRule::EntryOtherHomepage | BotRule::OtherBot => {
                Err(Denied::BotNotAllowed {
                    client: agent_client(),
                    bot: format!("\"Standup\" <{HOMEPAGE}>"),
                })
            }
            BotRule::Entry if local || c.role == entry_role => Ok(()),
            BotRule::Entry => Err(Denied::BotRole {
                user: agent_user(),
                required: RoleIndex(entry_role),
                held: RoleIndex(c.role),
            }),
        },
        // A person's device is no bot or logger; a logger is any client to a bot policy and a
        // bot any client to a logging policy.
        _ => Ok(()),
    }
}

/// Where the commit passed: whether the committer may then send.
fn oracle_send(c: &AgentCase) -> Result<(), Denied> {
    match c.policy {
        Policy::Logging(Logging::Required, listing) => {
            if c.who == Who::Logger && listing != Listing::Other {
                Ok(())
            } else {
                Err(Denied::LoggerRequired)
            }
        }
        _ => Ok(()),
    }
}

// ---- the runner: the real state and commit ---------------------------------------------------

fn kind(who: Who) -> ClientKind {
    match who {
        Who::Logger => ClientKind::Logger,
        Who::Bot => ClientKind::Bot {
            name: "Standup".into(),
            homepage: HOMEPAGE.into(),
        },
        Who::Person => ClientKind::Person,
    }
}

fn policy_component(p: Policy) -> Option<(ComponentId, Vec<u8>)> {
    match p {
        Policy::Logging(Logging::Absent, _)
        | Policy::Bots {
            rule: BotRule::Absent,
            ..
        } => None,
        Policy::Logging(Logging::Forbidden, _) => Some((
            ComponentId::LOGGING_POLICY,
            LoggingPolicy::Forbidden.encode(),
        )),
        Policy::Logging(l, listing) => {
            let listed = match listing {
                Listing::ByClient => agent_client().to_string(),
                Listing::ByUser => agent_user().to_string(),
                Listing::Other => client(FOLLOWER, "someone", "1").to_string(),
            };
            let targets = LoggingTargets {
                logging_clients: vec![Uri::new(listed.as_str()).unwrap()],
                machine_readable_policy: Uri::new("https://hub.example/logging.json").unwrap(),
                human_readable_policy: Uri::new("https://hub.example/logging.html").unwrap(),
            };
            let policy = if l == Logging::Required {
                LoggingPolicy::Required(targets)
            } else {
                LoggingPolicy::Optional(targets)
            };
            Some((ComponentId::LOGGING_POLICY, policy.encode()))
        }
        Policy::Bots {
            rule,
            local,
            entry_role,
        } => {
            let entry = |name: &str, homepage: &str| Bot {
                name: name.into(),
                description: "asks everyone for their day".into(),
                homepage: Uri::new(homepage).unwrap(),
                local_client_bot: local,
                bot_role_index: RoleIndex(entry_role),
                can_target_message_in_group: false,
                per_user_content: false,
            };
            let allowed_bots = match rule {
                BotRule::EmptyList => vec![],
                BotRule::Entry => vec![entry("Poller", HOMEPAGE), entry("Standup", HOMEPAGE)],
                BotRule::EntryOtherHomepage => vec![entry("Standup", OTHER_HOMEPAGE)],
                _ => vec![entry("Poller", HOMEPAGE)],
            };
            Some((ComponentId::BOT_POLICY, BotPolicy { allowed_bots }.encode()))
        }
    }
}

/// A cooperative room of the committer (super_admin, which here may also change policies)
/// and a member on the hub's provider; the client under test is in already where the policy
/// is set under it, and the policy is in already where the client is added.
fn initial_state(c: &AgentCase) -> RoomState {
    let (committer, committer_client) = admin(c.committer_domain);
    let mut roles = Preset::Cooperative.roles();
    roles.roles[4]
        .role_capabilities
        .push(Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE);
    let member = user(HUB, "m");
    let mut participants = vec![
        UserRolePair::new(committer.clone(), RoleIndex(4)),
        UserRolePair::new(member.clone(), RoleIndex(2)),
    ];
    let mut members = vec![
        MemberChange::new(committer_client, committer),
        MemberChange::new(client(HUB, "m", "1"), member),
    ];
    let mut comps = BTreeMap::new();
    match c.path {
        Path::Added => comps.extend(policy_component(c.policy)),
        Path::PolicySetUnder => {
            participants.push(UserRolePair::new(agent_user(), RoleIndex(c.role)));
            members.push(MemberChange::with_kind(
                agent_client(),
                agent_user(),
                kind(c.who),
            ));
        }
    }
    comps.insert(
        ComponentId::PARTICIPANT_LIST,
        ParticipantList { participants }.encode(),
    );
    comps.insert(ComponentId::ROLES_LIST, roles.encode());
    RoomState::from_components(comps)
        .unwrap()
        .with_members(members)
        .unwrap()
}

fn run_case(c: &AgentCase) -> (Result<(), Denied>, Option<Result<(), Denied>>) {
    let state = initial_state(c);
    let (committer, committer_client) = admin(c.committer_domain);
    let mut commit = CommitSummary::new(Actor::Client {
        client: committer_client,
        user: committer.clone(),
    });
    match c.path {
        Path::Added => {
            let update = ParticipantListUpdate {
                added_participants: vec![UserRolePair::new(agent_user(), RoleIndex(c.role))],
                ..Default::default()
            };
            commit.component_changes.push(ComponentChange::update(
                ComponentId::PARTICIPANT_LIST,
                update.encode(),
            ));
            commit.added.push(MemberChange::with_kind(
                agent_client(),
                agent_user(),
                kind(c.who),
            ));
        }
        Path::PolicySetUnder => {
            if let Some((id, data)) = policy_component(c.policy) {
                commit
                    .component_changes
                    .push(ComponentChange::update(id, data));
            }
        }
    }
    match authorize_commit(&state, &commit) {
        Ok(staged) => (Ok(()), Some(staged.into_state().may_send(&committer))),
        Err(e) => (Err(e), None),
    }
}

// ---- the cases -------------------------------------------------------------------------------

fn cases() -> Vec<AgentCase> {
    let mut policies = Vec::new();
    for logging in [
        Logging::Absent,
        Logging::Forbidden,
        Logging::Optional,
        Logging::Required,
    ] {
        for listing in [Listing::ByClient, Listing::ByUser, Listing::Other] {
            policies.push(Policy::Logging(logging, listing));
        }
    }
    for rule in [
        BotRule::Absent,
        BotRule::EmptyList,
        BotRule::Entry,
        BotRule::EntryOtherHomepage,
        BotRule::OtherBot,
    ] {
        for local in [false, true] {
            for entry_role in [2, 3] {
                policies.push(Policy::Bots {
                    rule,
                    local,
                    entry_role,
                });
            }
        }
    }
    let mut out = Vec::new();
    for policy in policies {
        for who in [Who::Logger, Who::Bot, Who::Person] {
            for role in [2, 3] {
                for path in [Path::Added, Path::PolicySetUnder] {
                    for committer_domain in [HUB, FOLLOWER] {
                        out.push(AgentCase {
                            policy,
                            who,
                            role,
                            path,
                            committer_domain,
                        });
                    }
                }
            }
        }
    }
    out
}

#[test]
fn bots_and_loggers_agree_with_the_oracle() {
    let mut disagreements = Vec::new();
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let (mut checked, mut allowed) = (0usize, 0usize);
    for case in cases() {
        let expected = oracle_commit(&case);
        let (got, send) = run_case(&case);
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
            disagreements.push(format!("{case:?}: authorizer {got:?}, oracle {expected:?}"));
            continue;
        }
        if let Some(send) = send {
            let expected = oracle_send(&case);
            if let Err(e) = &send {
                let name = format!("{e:?}");
                *reasons.entry(name).or_default() += 1;
            }
            if send != expected {
                disagreements.push(format!(
                    "{case:?} then a send: authorizer {send:?}, oracle {expected:?}"
                ));
            }
        }
    }
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
    assert!(allowed > 100, "only {allowed} allowed cases");
    for reason in [
        "LoggingForbidden",
        "LoggerNotListed",
        "LoggerRequired",
        "BotNotAllowed",
        "BotRole",
    ] {
        assert!(
            reasons.contains_key(reason),
            "no case refused with {reason}: {reasons:?}"
        );
    }
    eprintln!("agents matrix: {checked} cases, {allowed} allowed, refusals {reasons:?}");
}

/// The oracle against plain reading of a few cases, written by hand.
#[test]
fn agent_spot_checks_written_by_hand() {
    let case = |policy, who, role| AgentCase {
        policy,
        who,
        role,
        path: Path::Added,
        committer_domain: HUB,
    };
    let standup = |rule, local| Policy::Bots {
        rule,
        local,
        entry_role: 3,
    };
    // A local_client_bot acts with its user's role: any role will do.
    let c = case(standup(BotRule::Entry, true), Who::Bot, 2);
    assert_eq!(run_case(&c).0, Ok(()));
    // Not local: the user must hold the entry's role.
    let c = case(standup(BotRule::Entry, false), Who::Bot, 2);
    assert_eq!(
        run_case(&c).0,
        Err(Denied::BotRole {
            user: agent_user(),
            required: RoleIndex(3),
            held: RoleIndex(2),
        })
    );
    // An empty list admits no bot, but any person.
    let c = case(standup(BotRule::EmptyList, false), Who::Bot, 3);
    assert!(matches!(run_case(&c).0, Err(Denied::BotNotAllowed { .. })));
    let c = case(standup(BotRule::EmptyList, false), Who::Person, 3);
    assert_eq!(run_case(&c).0, Ok(()));
    // A logger listed by its user's URI gets into a room that requires logging, and then
    // members may send; without it they may not.
    let c = case(
        Policy::Logging(Logging::Required, Listing::ByUser),
        Who::Logger,
        2,
    );
    assert_eq!(run_case(&c), (Ok(()), Some(Ok(()))));
    let c = case(
        Policy::Logging(Logging::Required, Listing::ByUser),
        Who::Person,
        2,
    );
    assert_eq!(run_case(&c), (Ok(()), Some(Err(Denied::LoggerRequired))));
}
