//! The authorization matrix: every hub-enforceable capability (as a scenario that exercises it)
//! × every role of the four presets × six actor origins × two constraint states, checked against
//! an independent, table-driven oracle written here. The oracle reads only the tables below
//! (which restate the presets' hub-enforceable capabilities, role changes and constraints) and
//! never calls the authorizer; the test demands 100% agreement, refusals included, reason for
//! reason.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use mimi_room::components::*;
use mimi_room::presets::Preset;
use mimi_room::{
    Actor, Capability, CommitSummary, ComponentChange, Denied, MemberChange, RoomState,
    authorize_commit,
};
use mimi_types::codepoints::{ComponentId, CredentialType};
use mimi_types::{ClientUri, Domain, UserUri};

// ---- the independent tables -------------------------------------------------------------------
//
// `index name | capabilities | role changes (from>to,to) | min max min_active max_active`
// Capability abbreviations: see `cap()`. ENF = the policy enforcer's set.

const ENF: &str = "rmp kick cur ban unban roles preauth mls";

const COOPERATIVE: &str = "
0 no_role | | | 0 - 0 0
1 banned | | | 0 - 0 0
2 ordinary_user | add rmp aoc roc self send recv name avatar subject mood | 0>2 2>0 | 0 - 0 -
3 group_admin | add rmp aoc roc self send recv name avatar subject mood ban unban kick cur desc | 0>1,2,3 1>0,2,3 2>0,1,3 3>0,1,2 | 1 - 0 -
4 super_admin | add rmp aoc roc self send recv name avatar subject mood ban unban kick cur desc style preauth | 0>1,2,3,4 1>0,2,3,4 2>0,1,3,4 3>0,1,2,4 4>0,1,2,3 | 0 - 0 -
5 policy_enforcer | ENF | 0>1 1>0 2>0,1 3>0,1 4>0,1 | 1 2 0 0
";

const STRICT: &str = "
0 no_role | code | 0>2 | 0 - 0 0
1 banned | | | 0 - 0 0
2 ordinary_user | aoc pre roc self cor send recv | 0>2 2>0 | 0 - 0 -
3 group_admin | aoc pre roc self cor send recv add rmp ban unban kick cur desc name avatar subject mood | 0>1,2,3 1>0,2,3 2>0,1,3 3>0,1,2 | 1 - 0 -
4 super_admin | aoc pre roc self cor send recv add rmp ban unban kick cur desc name avatar subject mood style roles preauth | 0>1,2,3,4 1>0,2,3,4 2>0,1,3,4 3>0,1,2,4 4>0,1,2,3 | 0 - 0 -
5 policy_enforcer | ENF | 0>1 1>0 2>0,1 3>0,1 4>0,1 | 1 2 0 0
";

const MODERATED: &str = "
0 no_role | code | 0>2,3 | 0 - 0 -
1 banned | | | 0 - 0 0
2 guest | self recv | 0>2 2>0 | 0 - 0 -
3 attendee | self recv aoc pre roc cor | 0>3 3>0 | 0 - 0 -
4 speaker | self recv aoc pre roc cor send | 0>4 4>0 | 0 - 0 -
5 moderator | self recv aoc pre roc cor send add rmp ban unban kick cur name avatar subject mood | 0>1,2,3,4,5 1>0,2,3,4,5 2>0,1,3,4,5 3>0,1,2,4,5 4>0,1,2,3,5 5>0,1,2,3,4 | 1 - 0 -
6 super_admin | self recv aoc pre roc cor send add rmp ban unban kick cur name avatar subject mood desc style roles preauth | 0>1,2,3,4,5,6 1>0,2,3,4,5,6 2>0,1,3,4,5,6 3>0,1,2,4,5,6 4>0,1,2,3,5,6 5>0,1,2,3,4,6 6>0,1,2,3,4,5 | 0 - 0 -
7 policy_enforcer | ENF | 0>1 1>0 2>0,1 3>0,1 4>0,1 5>0,1 6>0,1 | 1 2 0 0
";

const MULTI_ORG: &str = "
0 no_role | | | 0 - 0 0
1 banned | | | 0 - 0 0
2 org_a_user | self aoc roc send recv cor pre | 0>2 2>0 | 0 - 0 -
3 org_b_user | self aoc roc send recv | 0>3 3>0 | 0 - 0 -
4 org_c_user | self aoc roc send recv | 0>4 4>0 | 0 - 0 -
5 org_a_admin | self aoc roc send recv add rmp ban kick cur cor pre | 0>2,5 2>0,1,5 5>0,1,2 | 0 - 0 -
6 org_b_admin | self aoc roc send recv add rmp ban kick cur | 0>3,6 3>0,1,6 6>0,1,3 | 1 3 1 -
7 org_c_admin | self aoc roc send recv add rmp ban kick cur | 0>4,7 4>0,1,7 7>0,1,4 | 1 3 1 -
8 super_admin | self aoc roc send recv add rmp ban kick cur cor pre unban desc name avatar subject mood style roles preauth | 0>1,2,3,4,5,6,7,8 1>0,2,3,4,5,6,7,8 2>0,1,5,8 3>0,1,6 4>0,1,7 5>0,1,2,8 6>0,1,3 7>0,1,4 8>0,1,2,5 | 1 - 1 -
9 policy_enforcer | ENF | 0>1 1>0 3>0,1 4>0,1 5>0,1 6>0,1 7>0,1 8>0,1 | 1 2 0 0
";

/// (table, creator role, enforcer role) per preset.
fn table_of(preset: Preset) -> (&'static str, u32, u32) {
    match preset {
        Preset::Cooperative => (COOPERATIVE, 4, 5),
        Preset::StrictlyAdministered => (STRICT, 4, 5),
        Preset::Moderated => (MODERATED, 6, 7),
        Preset::MultiOrganization => (MULTI_ORG, 8, 9),
        _ => unreachable!(),
    }
}

fn cap(abbrev: &str) -> Capability {
    match abbrev {
        "add" => Capability::CAN_ADD_PARTICIPANT,
        "rmp" => Capability::CAN_REMOVE_PARTICIPANT,
        "aoc" => Capability::CAN_ADD_OWN_CLIENT,
        "roc" => Capability::CAN_REMOVE_OWN_CLIENT,
        "open" => Capability::CAN_OPEN_JOIN,
        "pre" => Capability::CAN_JOIN_IF_PREAUTHORIZED,
        "self" => Capability::CAN_REMOVE_SELF,
        "code" => Capability::CAN_USE_JOIN_CODE,
        "ban" => Capability::CAN_BAN,
        "unban" => Capability::CAN_UN_BAN,
        "kick" => Capability::CAN_KICK,
        "cur" => Capability::CAN_CHANGE_USER_ROLE,
        "cor" => Capability::CAN_CHANGE_OWN_ROLE,
        "name" => Capability::CAN_CHANGE_ROOM_NAME,
        "desc" => Capability::CAN_CHANGE_ROOM_DESCRIPTION,
        "avatar" => Capability::CAN_CHANGE_ROOM_AVATAR,
        "subject" => Capability::CAN_CHANGE_ROOM_SUBJECT,
        "mood" => Capability::CAN_CHANGE_ROOM_MOOD,
        "roles" => Capability::CAN_CHANGE_ROLE_DEFINITIONS,
        "preauth" => Capability::CAN_CHANGE_PREAUTHORIZED_USER_LIST,
        "style" => Capability::CAN_CHANGE_ROOM_MEMBERSHIP_STYLE,
        "other" => Capability::CAN_CHANGE_OTHER_POLICY_ATTRIBUTE,
        "mls" => Capability::CAN_CHANGE_MLS_OPERATIONAL_POLICIES,
        "send" => Capability::CAN_SEND_MESSAGE,
        "recv" => Capability::CAN_RECEIVE_MESSAGE,
        other => panic!("unknown abbreviation {other}"),
    }
}

/// The capabilities the hub (or the committing client) can enforce: those the tables track.
const ENFORCEABLE: &[&str] = &[
    "add", "rmp", "aoc", "roc", "open", "pre", "self", "code", "ban", "unban", "kick", "cur",
    "cor", "name", "desc", "avatar", "subject", "mood", "roles", "preauth", "style", "other",
    "mls", "send", "recv",
];

#[derive(Clone, Debug)]
struct Row {
    name: String,
    caps: BTreeSet<&'static str>,
    arcs: BTreeMap<u32, BTreeSet<u32>>,
    min: u32,
    max: Option<u32>,
    amin: u32,
    amax: Option<u32>,
}

fn parse_table(text: &'static str) -> BTreeMap<u32, Row> {
    let num = |s: &str| {
        if s == "-" {
            None
        } else {
            Some(s.parse::<u32>().unwrap())
        }
    };
    let mut out = BTreeMap::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parts: Vec<&'static str> = line.split('|').map(str::trim).collect();
        let (idx, name) = parts[0].split_once(' ').unwrap();
        let caps_text = if parts[1] == "ENF" { ENF } else { parts[1] };
        let caps = caps_text.split_whitespace().collect();
        let mut arcs = BTreeMap::new();
        for arc in parts[2].split_whitespace() {
            let (from, to) = arc.split_once('>').unwrap();
            arcs.insert(
                from.parse().unwrap(),
                to.split(',').map(|t| t.parse().unwrap()).collect(),
            );
        }
        let lim: Vec<&str> = parts[3].split_whitespace().collect();
        out.insert(
            idx.parse().unwrap(),
            Row {
                name: name.to_owned(),
                caps,
                arcs,
                min: num(lim[0]).unwrap(),
                max: num(lim[1]),
                amin: num(lim[2]).unwrap(),
                amax: num(lim[3]),
            },
        );
    }
    out
}

#[test]
fn the_tables_restate_the_presets() {
    for preset in Preset::ALL {
        let (text, creator, enforcer) = table_of(preset);
        let table = parse_table(text);
        let roles = preset.roles();
        assert_eq!(roles.roles.len(), table.len(), "{preset:?}");
        assert_eq!(preset.creator_role(), RoleIndex(creator));
        assert_eq!(preset.policy_enforcer_role(), RoleIndex(enforcer));
        for role in &roles.roles {
            let row = &table[&role.role_index.0];
            assert_eq!(role.role_name, row.name);
            for a in ENFORCEABLE {
                assert_eq!(
                    role.has(cap(a)),
                    row.caps.contains(a),
                    "{preset:?} role {} capability {a}",
                    row.name
                );
            }
            let arcs: BTreeMap<u32, BTreeSet<u32>> = role
                .authorized_role_changes
                .iter()
                .map(|e| {
                    (
                        e.from_role_index.0,
                        e.target_role_indexes.iter().map(|r| r.0).collect(),
                    )
                })
                .collect();
            assert_eq!(arcs, row.arcs, "{preset:?} role {} arcs", row.name);
            assert_eq!(role.minimum_participants_constraint, row.min);
            assert_eq!(role.maximum_participants_constraint, row.max);
            assert_eq!(role.minimum_active_participants_constraint, row.amin);
            assert_eq!(role.maximum_active_participants_constraint, row.amax);
        }
    }
}

// ---- the matrix dimensions --------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scenario {
    AddParticipant,
    RemoveParticipant,
    AddOwnClient,
    RemoveOwnClient,
    OpenJoin,
    JoinIfPreauthorized,
    UseJoinCode,
    RemoveSelf,
    Ban,
    UnBan,
    Kick,
    ChangeUserRole,
    ChangeOwnRole,
    ChangeRoomName,
    ChangeRoomDescription,
    ChangeRoomAvatar,
    ChangeRoomSubject,
    ChangeRoomMood,
    ChangeRoleDefinitions,
    ChangePreauthorizedUserList,
    ChangeRoomMembershipStyle,
    ChangeServerPolicy,
    ChangeOtherPolicyAttribute,
    ChangeMlsOperationalPolicies,
    SendMessage,
    ReceiveMessage,
}

use Scenario as S;

const SCENARIOS: &[Scenario] = &[
    S::AddParticipant,
    S::RemoveParticipant,
    S::AddOwnClient,
    S::RemoveOwnClient,
    S::OpenJoin,
    S::JoinIfPreauthorized,
    S::UseJoinCode,
    S::RemoveSelf,
    S::Ban,
    S::UnBan,
    S::Kick,
    S::ChangeUserRole,
    S::ChangeOwnRole,
    S::ChangeRoomName,
    S::ChangeRoomDescription,
    S::ChangeRoomAvatar,
    S::ChangeRoomSubject,
    S::ChangeRoomMood,
    S::ChangeRoleDefinitions,
    S::ChangePreauthorizedUserList,
    S::ChangeRoomMembershipStyle,
    S::ChangeServerPolicy,
    S::ChangeOtherPolicyAttribute,
    S::ChangeMlsOperationalPolicies,
    S::SendMessage,
    S::ReceiveMessage,
];

impl Scenario {
    fn is_join(self) -> bool {
        matches!(self, S::OpenJoin | S::JoinIfPreauthorized | S::UseJoinCode)
    }

    /// The capability whose scenario this is (every enforceable capability appears).
    fn capability(self) -> &'static str {
        match self {
            S::AddParticipant => "add",
            S::RemoveParticipant => "rmp",
            S::AddOwnClient => "aoc",
            S::RemoveOwnClient => "roc",
            S::OpenJoin => "open",
            S::JoinIfPreauthorized => "pre",
            S::UseJoinCode => "code",
            S::RemoveSelf => "self",
            S::Ban => "ban",
            S::UnBan => "unban",
            S::Kick => "kick",
            S::ChangeUserRole => "cur",
            S::ChangeOwnRole => "cor",
            S::ChangeRoomName => "name",
            S::ChangeRoomDescription => "desc",
            S::ChangeRoomAvatar => "avatar",
            S::ChangeRoomSubject => "subject",
            S::ChangeRoomMood => "mood",
            S::ChangeRoleDefinitions => "roles",
            S::ChangePreauthorizedUserList => "preauth",
            S::ChangeRoomMembershipStyle | S::ChangeServerPolicy => "style",
            S::ChangeOtherPolicyAttribute => "other",
            S::ChangeMlsOperationalPolicies => "mls",
            S::SendMessage => "send",
            S::ReceiveMessage => "recv",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Origin {
    /// A client of a user of the hub's provider.
    LocalClient,
    /// A client of a user of a follower.
    FollowerClient,
    /// A follower's client claiming to be a user of a third provider.
    ClientClaimingThirdProvider,
    /// The hub as external sender (it holds the policy enforcer role), for a hub user.
    HubServer,
    /// A follower as external sender, for its own user.
    FollowerServer,
    /// A follower as external sender, for a user of a third provider.
    FollowerServerForThirdProvider,
}

const ORIGINS: &[Origin] = &[
    Origin::LocalClient,
    Origin::FollowerClient,
    Origin::ClientClaimingThirdProvider,
    Origin::HubServer,
    Origin::FollowerServer,
    Origin::FollowerServerForThirdProvider,
];

const HUB: &str = "hub.example";
const FOLLOWER: &str = "f.example";
const THIRD: &str = "x.example";

impl Origin {
    fn actor_user_domain(self) -> &'static str {
        match self {
            Origin::LocalClient | Origin::HubServer => HUB,
            Origin::FollowerClient | Origin::FollowerServer => FOLLOWER,
            Origin::ClientClaimingThirdProvider | Origin::FollowerServerForThirdProvider => THIRD,
        }
    }

    fn server(self) -> Option<&'static str> {
        match self {
            Origin::HubServer => Some(HUB),
            Origin::FollowerServer | Origin::FollowerServerForThirdProvider => Some(FOLLOWER),
            _ => None,
        }
    }
}

// ---- names ------------------------------------------------------------------------------------

fn user(domain: &str, id: &str) -> UserUri {
    format!("mimi://{domain}/u/{id}").parse().unwrap()
}
fn client(domain: &str, user: &str, id: &str) -> ClientUri {
    format!("mimi://{domain}/d/{user}/{id}").parse().unwrap()
}
fn dom(d: &str) -> Domain {
    Domain::parse(d).unwrap()
}

fn keeper() -> UserUri {
    user(HUB, "keeper")
}
fn enforcer() -> UserUri {
    user(HUB, "enforcer")
}
fn target() -> UserUri {
    user(FOLLOWER, "t")
}
fn banned_user() -> UserUri {
    user(FOLLOWER, "b")
}
fn newcomer() -> UserUri {
    user(FOLLOWER, "n")
}
fn actor_user(o: Origin) -> UserUri {
    user(o.actor_user_domain(), "a")
}
fn actor_client(o: Origin, n: &str) -> ClientUri {
    client(o.actor_user_domain(), "a", n)
}
/// The client the actor presents (a follower client for the claiming origin).
fn presented_client(o: Origin) -> ClientUri {
    match o {
        Origin::ClientClaimingThirdProvider => client(FOLLOWER, "a", "1"),
        _ => actor_client(o, "1"),
    }
}

fn claim() -> Claim {
    Claim::new(CredentialType::BASIC, b"org", b"friends")
}

fn own_role_target(r: u32) -> u32 {
    if r == 3 { 2 } else { 3 }
}

// ---- the oracle's model -----------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Member {
    user: UserUri,
    role: u32, // 0 = unlisted
    clients: u32,
}

#[derive(Clone, Debug)]
struct Model {
    table: BTreeMap<u32, Row>,
    members: Vec<Member>,
    max_users: Option<u32>,
    max_clients: Option<u32>,
}

impl Model {
    fn has(&self, role: u32, c: &str) -> bool {
        self.table.get(&role).is_some_and(|r| r.caps.contains(c))
    }
    fn arc(&self, role: u32, from: u32, to: u32) -> bool {
        self.table
            .get(&role)
            .and_then(|r| r.arcs.get(&from))
            .is_some_and(|t| t.contains(&to))
    }
    fn member_mut(&mut self, u: &UserUri) -> &mut Member {
        if !self.members.iter().any(|m| &m.user == u) {
            self.members.push(Member {
                user: u.clone(),
                role: 0,
                clients: 0,
            });
        }
        self.members.iter_mut().find(|m| &m.user == u).unwrap()
    }
    fn users(&self) -> u32 {
        self.members
            .iter()
            .filter(|m| m.role != 0 && m.role != 1)
            .count() as u32
    }
    fn clients(&self) -> u32 {
        self.members.iter().map(|m| m.clients).sum()
    }
    fn count(&self, role: u32) -> (u32, u32) {
        let listed = self.members.iter().filter(|m| m.role == role && role != 0);
        let all = listed.clone().count() as u32;
        let active = listed.filter(|m| m.clients > 0).count() as u32;
        (all, active)
    }
}

fn missing(c: &str, role: u32) -> Denied {
    Denied::MissingCapability {
        capability: cap(c),
        role: RoleIndex(role),
    }
}
fn rcna(from: u32, to: u32) -> Denied {
    Denied::RoleChangeNotAuthorized {
        from: RoleIndex(from),
        to: RoleIndex(to),
    }
}

/// The limit checks, in the documented order, on the model before and after.
fn oracle_limits(before: &Model, after: &Model) -> Result<(), Denied> {
    if let Some(limit) = after.max_clients
        && after.clients() > limit
        && after.clients() > before.clients()
    {
        return Err(Denied::MaxClientsExceeded { limit });
    }
    if let Some(limit) = after.max_users
        && after.users() > limit
        && after.users() > before.users()
    {
        return Err(Denied::MaxUsersExceeded { limit });
    }
    for (idx, row) in &after.table {
        let (b, ba) = before.count(*idx);
        let (a, aa) = after.count(*idx);
        let role = RoleIndex(*idx);
        if let Some(limit) = row.max
            && a > limit
            && a > b
        {
            return Err(Denied::RoleMaxParticipants { role, limit });
        }
        if a < row.min && a < b {
            return Err(Denied::RoleMinParticipants {
                role,
                limit: row.min,
            });
        }
        if let Some(limit) = row.amax
            && aa > limit
            && aa > ba
        {
            return Err(Denied::RoleMaxActive { role, limit });
        }
        if aa < row.amin && aa < ba {
            return Err(Denied::RoleMinActive {
                role,
                limit: row.amin,
            });
        }
    }
    Ok(())
}

struct Case {
    preset: Preset,
    scenario: Scenario,
    role: u32,
    origin: Origin,
    at_limit: bool,
}

/// Builds the model of the room for a case (before the commit).
fn model_for(c: &Case) -> Model {
    let (text, creator, er) = table_of(c.preset);
    let mut table = parse_table(text);
    let a = actor_user(c.origin);
    let mut members = vec![
        Member {
            user: keeper(),
            role: creator,
            clients: 1,
        },
        Member {
            user: enforcer(),
            role: er,
            clients: 0,
        },
    ];
    if !c.scenario.is_join() {
        members.push(Member {
            user: a.clone(),
            role: c.role,
            clients: if c.scenario == S::RemoveOwnClient {
                2
            } else {
                1
            },
        });
    }
    members.push(Member {
        user: target(),
        role: 2,
        clients: 1,
    });
    members.push(Member {
        user: banned_user(),
        role: 1,
        clients: 0,
    });
    let mut model = Model {
        table: BTreeMap::new(),
        members,
        max_users: None,
        max_clients: None,
    };
    if c.at_limit {
        let count = |m: &Model, r: u32| m.count(r).0;
        match c.scenario {
            S::AddOwnClient | S::RemoveOwnClient => model.max_clients = Some(model.clients()),
            S::RemoveParticipant | S::Ban => {
                table.get_mut(&2).unwrap().min = count(&model, 2);
            }
            S::RemoveSelf => {
                table.get_mut(&c.role).unwrap().min = count(&model, c.role);
            }
            // A role filled to its maximum (lowering its minimum if that sat above the count,
            // so the role definition stays valid).
            S::ChangeUserRole | S::ChangeOwnRole => {
                let p = if c.scenario == S::ChangeUserRole {
                    3
                } else {
                    own_role_target(c.role)
                };
                let n = count(&model, p);
                let row = table.get_mut(&p).unwrap();
                row.max = Some(n);
                row.min = row.min.min(n);
            }
            S::Kick => {
                table.get_mut(&2).unwrap().amin = model.count(2).1;
            }
            _ => model.max_users = Some(model.users()),
        }
    }
    model.table = table;
    model
}

/// The oracle's answer for a case, or `None` if the case cannot be built.
/// The digest of the matrix's join code.
const CODE_DIGEST: [u8; JOIN_CODE_DIGEST_LEN] = [0x5a; JOIN_CODE_DIGEST_LEN];

/// The terms of the matrix's join code for `role`, where a code may grant it (not 0 or 1).
fn code_terms(role: u32) -> Option<JoinCodeTerms> {
    (role > 1).then(|| JoinCodeTerms {
        code_digest: CODE_DIGEST.to_vec(),
        role_index: RoleIndex(role),
        not_after: 0,
        uses_left: 2,
    })
}

fn oracle(c: &Case) -> Option<Result<(), Denied>> {
    let r = c.role;
    if r == 0 && (c.scenario.is_join() || matches!(c.scenario, S::RemoveSelf | S::ChangeOwnRole)) {
        return None;
    }
    let before = model_for(c);
    let a = actor_user(c.origin);

    // Messages are not commits.
    if c.scenario == S::ReceiveMessage {
        return Some(match r {
            0 => Err(Denied::NotParticipant { user: a }),
            1 => Err(Denied::UserBanned { user: a }),
            _ if before.has(r, "recv") => Ok(()),
            _ => Err(missing("recv", r)),
        });
    }
    if c.scenario == S::SendMessage {
        return Some(match c.origin.server() {
            Some(d) => Err(Denied::ServerCannotSend { domain: dom(d) }),
            None if c.origin == Origin::ClientClaimingThirdProvider => {
                Err(Denied::ClientNotOfUser {
                    client: presented_client(c.origin),
                    user: a,
                })
            }
            None => match r {
                0 => Err(Denied::NotParticipant { user: a }),
                1 => Err(Denied::UserBanned { user: a }),
                _ if before.has(r, "send") => Ok(()),
                _ => Err(missing("send", r)),
            },
        });
    }

    // The actor.
    if c.origin == Origin::ClientClaimingThirdProvider {
        return Some(Err(Denied::ClientNotOfUser {
            client: presented_client(c.origin),
            user: a,
        }));
    }
    if c.scenario.is_join() {
        if let Some(d) = c.origin.server() {
            return Some(Err(Denied::ServerCannotJoin { domain: dom(d) }));
        }
    } else if c.origin.server().is_none() && (r == 0 || r == 1) && c.scenario != S::RemoveOwnClient
    {
        return Some(Err(Denied::ActorBlocked {
            user: a,
            role: RoleIndex(r),
        }));
    }

    // Who the actor is: (user, role) it acts as on others, if any.
    // A server acts as its listed clientless service user, else (when the commit carries the
    // claims, as in ChangeOwnRole) as the role the preauthorization list grants those claims.
    let persona: Option<(Option<UserUri>, u32)> = match c.origin.server() {
        None => Some((Some(a.clone()), if c.scenario.is_join() { 0 } else { r })),
        Some(d) => before
            .members
            .iter()
            .find(|m| {
                m.user.domain().as_str() == d && m.role > 1 && before.table[&m.role].amax == Some(0)
            })
            .map(|m| (Some(m.user.clone()), m.role))
            .or(match c.scenario {
                S::ChangeOwnRole => Some((None, own_role_target(r))),
                _ => None,
            }),
    };
    let on = |tgt: &UserUri,
              own: &dyn Fn() -> Result<(), Denied>,
              other: &dyn Fn(u32) -> Result<(), Denied>|
     -> Result<(), Denied> {
        match c.origin.server() {
            None => {
                if tgt == &a {
                    own()
                } else {
                    other(persona.as_ref().unwrap().1)
                }
            }
            Some(d) => {
                if persona
                    .as_ref()
                    .is_some_and(|(u, _)| u.as_ref() == Some(tgt))
                {
                    return own();
                }
                if tgt.domain().as_str() == d {
                    match (own(), &persona) {
                        (Ok(()), _) => Ok(()),
                        (Err(e), None) => Err(e),
                        (Err(_), Some((_, p))) => other(*p),
                    }
                } else if let Some((_, p)) = &persona {
                    other(*p)
                } else {
                    Err(Denied::ForeignUser {
                        actor: dom(d),
                        user: tgt.clone(),
                    })
                }
            }
        }
    };
    let room_cap = |name: &str| -> Result<(), Denied> {
        match (&persona, c.origin.server()) {
            (Some((_, p)), _) if before.has(*p, name) => Ok(()),
            (Some((_, p)), _) => Err(missing(name, *p)),
            (None, Some(d)) => Err(Denied::NoServerRole { domain: dom(d) }),
            (None, None) => unreachable!(),
        }
    };
    let open_join = |role: u32| -> Result<(), Denied> {
        if !before.has(0, "open") {
            return Err(missing("open", 0));
        }
        if !before.arc(0, 0, role) {
            return Err(rcna(0, role));
        }
        Ok(())
    };
    // A listed user moving itself: canChangeOwnRole and a preauthorization naming the target.
    let own_change = |from: u32, to: u32, pre: Option<u32>| -> Result<(), Denied> {
        if !before.has(from, "cor") {
            return Err(missing("cor", from));
        }
        if pre == Some(to) {
            Ok(())
        } else {
            Err(Denied::NotPreauthorized {
                role: RoleIndex(to),
            })
        }
    };
    let other_change = |q: u32, from: u32, to: u32| -> Result<(), Denied> {
        let needed = if to == 1 {
            "ban"
        } else if from == 1 {
            "unban"
        } else {
            "cur"
        };
        if !before.has(q, needed) {
            return Err(missing(needed, q));
        }
        if !before.arc(q, from, to) {
            return Err(rcna(from, to));
        }
        Ok(())
    };

    let mut after = before.clone();
    let t = target();
    let result: Result<(), Denied> = match c.scenario {
        S::AddParticipant => {
            let n = newcomer();
            on(&n, &|| open_join(2), &|q| {
                if !before.has(q, "add") {
                    return Err(missing("add", q));
                }
                if !before.arc(q, 0, 2) {
                    return Err(rcna(0, 2));
                }
                Ok(())
            })
            .map(|()| {
                let m = after.member_mut(&n);
                m.role = 2;
                m.clients = 1;
            })
        }
        S::RemoveParticipant => on(
            &t,
            &|| {
                if !before.has(2, "self") {
                    return Err(missing("self", 2));
                }
                if !before.arc(2, 2, 0) {
                    return Err(rcna(2, 0));
                }
                Ok(())
            },
            &|q| {
                if !before.has(q, "rmp") {
                    return Err(missing("rmp", q));
                }
                if !before.arc(q, 2, 0) {
                    return Err(rcna(2, 0));
                }
                Ok(())
            },
        )
        .map(|()| {
            let m = after.member_mut(&t);
            m.role = 0;
            m.clients = 0;
        }),
        S::AddOwnClient => {
            let res = match r {
                0 => Err(Denied::ClientForNonParticipant {
                    client: actor_client(c.origin, "2"),
                    user: a.clone(),
                }),
                1 => Err(Denied::UserBanned { user: a.clone() }),
                _ => on(
                    &a,
                    &|| {
                        if before.has(r, "aoc") {
                            Ok(())
                        } else {
                            Err(missing("aoc", r))
                        }
                    },
                    &|q| {
                        if before.has(q, "add") {
                            Ok(())
                        } else {
                            Err(missing("add", q))
                        }
                    },
                ),
            };
            res.map(|()| after.member_mut(&a).clients += 1)
        }
        S::RemoveOwnClient => {
            let res = if r == 0 || r == 1 {
                Ok(())
            } else {
                on(
                    &a,
                    &|| {
                        if before.has(r, "roc") {
                            Ok(())
                        } else {
                            Err(missing("roc", r))
                        }
                    },
                    &|q| {
                        if before.has(q, "kick") {
                            Ok(())
                        } else {
                            Err(missing("kick", q))
                        }
                    },
                )
            };
            res.map(|()| after.member_mut(&a).clients -= 1)
        }
        S::OpenJoin | S::JoinIfPreauthorized | S::UseJoinCode => {
            let res = match c.scenario {
                S::OpenJoin => open_join(r),
                S::JoinIfPreauthorized => {
                    if before.has(r, "pre") {
                        Ok(())
                    } else {
                        Err(missing("pre", r))
                    }
                }
                _ => {
                    if !before.has(0, "code") {
                        Err(missing("code", 0))
                    } else if !before.arc(0, 0, r) {
                        Err(rcna(0, r))
                    } else {
                        Ok(())
                    }
                }
            };
            res.map(|()| {
                let m = after.member_mut(&a);
                m.role = r;
                m.clients = 1;
            })
        }
        S::RemoveSelf => on(
            &a,
            &|| {
                if !before.has(r, "self") {
                    return Err(missing("self", r));
                }
                if !before.arc(r, r, 0) {
                    return Err(rcna(r, 0));
                }
                Ok(())
            },
            &|q| {
                if !before.has(q, "rmp") {
                    return Err(missing("rmp", q));
                }
                if !before.arc(q, r, 0) {
                    return Err(rcna(r, 0));
                }
                Ok(())
            },
        )
        .map(|()| {
            let m = after.member_mut(&a);
            m.role = 0;
            m.clients = 0;
        }),
        S::Ban => on(&t, &|| own_change(2, 1, None), &|q| other_change(q, 2, 1)).map(|()| {
            let m = after.member_mut(&t);
            m.role = 1;
            m.clients = 0;
        }),
        S::UnBan => {
            let b = banned_user();
            on(&b, &|| own_change(1, 2, None), &|q| other_change(q, 1, 2))
                .map(|()| after.member_mut(&b).role = 2)
        }
        S::Kick => on(
            &t,
            &|| {
                if before.has(2, "roc") {
                    Ok(())
                } else {
                    Err(missing("roc", 2))
                }
            },
            &|q| {
                if before.has(q, "kick") {
                    Ok(())
                } else {
                    Err(missing("kick", q))
                }
            },
        )
        .map(|()| after.member_mut(&t).clients = 0),
        S::ChangeUserRole => on(&t, &|| own_change(2, 3, None), &|q| other_change(q, 2, 3))
            .map(|()| after.member_mut(&t).role = 3),
        S::ChangeOwnRole => {
            let p = own_role_target(r);
            on(&a, &|| own_change(r, p, Some(p)), &|q| {
                other_change(q, r, p)
            })
            .map(|()| after.member_mut(&a).role = p)
        }
        S::ChangeRoomName => room_cap("name"),
        S::ChangeRoomDescription => room_cap("desc"),
        S::ChangeRoomAvatar => room_cap("avatar"),
        S::ChangeRoomSubject => room_cap("subject"),
        S::ChangeRoomMood => room_cap("mood"),
        S::ChangeRoleDefinitions => room_cap("roles"),
        S::ChangePreauthorizedUserList => room_cap("preauth"),
        // Our server access list (`server_policy`) is a membership-style change too.
        S::ChangeRoomMembershipStyle | S::ChangeServerPolicy => room_cap("style"),
        S::ChangeOtherPolicyAttribute => room_cap("other"),
        S::ChangeMlsOperationalPolicies => room_cap("mls"),
        S::SendMessage | S::ReceiveMessage => unreachable!(),
    };
    Some(result.and_then(|()| oracle_limits(&before, &after)))
}

// ---- building the real state and commit from the same case ----------------------------------

fn state_for(c: &Case, model: &Model) -> RoomState {
    let mut roles = c.preset.roles();
    for role in &mut roles.roles {
        let row = &model.table[&role.role_index.0];
        role.minimum_participants_constraint = row.min;
        role.maximum_participants_constraint = row.max;
        role.minimum_active_participants_constraint = row.amin;
        role.maximum_active_participants_constraint = row.amax;
    }
    let list = ParticipantList {
        participants: model
            .members
            .iter()
            .filter(|m| m.role != 0)
            .map(|m| UserRolePair::new(m.user.clone(), RoleIndex(m.role)))
            .collect(),
    };
    let mut comps = BTreeMap::new();
    comps.insert(ComponentId::PARTICIPANT_LIST, list.encode());
    comps.insert(ComponentId::ROLES_LIST, roles.encode());
    let meta = RoomMetadata {
        room_uri: Uri::new("mimi://hub.example/r/matrix").unwrap(),
        room_name: "Matrix".to_owned(),
        ..RoomMetadata::default()
    };
    comps.insert(ComponentId::ROOM_METADATA, meta.encode());
    let policy = BaseRoomPolicy {
        max_users: model.max_users,
        max_clients: model.max_clients,
        ..BaseRoomPolicy::default()
    };
    comps.insert(ComponentId::BASE_ROOM_POLICY, policy.encode());
    let granted = match c.scenario {
        S::JoinIfPreauthorized => Some(c.role),
        S::ChangeOwnRole => Some(own_role_target(c.role)),
        _ => None,
    };
    if let Some(g) = granted {
        let pre = PreAuthData {
            preauthorized_entries: vec![PreAuthRoleEntry {
                claimset: vec![claim()],
                target_role: Role::new(g, "", ""),
            }],
        };
        comps.insert(ComponentId::PREAUTH_LIST, pre.encode());
    }
    if c.scenario == S::UseJoinCode {
        // An opaque link first, then the code: with our terms (the requested role, two uses
        // left) where a role may be granted, else an opaque link equal to the code's digest.
        let mut links = vec![JoinLink {
            join_link: b"another code".to_vec(),
        }];
        links.push(match code_terms(c.role) {
            Some(t) => t.to_link(),
            None => JoinLink {
                join_link: CODE_DIGEST.to_vec(),
            },
        });
        comps.insert(ComponentId::JOIN_LINKS, JoinLinks { links }.encode());
    }
    let mut members = Vec::new();
    for m in &model.members {
        let (d, id) = (m.user.domain().as_str().to_owned(), m.user.id().to_string());
        for n in 1..=m.clients {
            members.push(MemberChange::new(
                client(&d, &id, &n.to_string()),
                m.user.clone(),
            ));
        }
    }
    RoomState::from_components(comps)
        .unwrap()
        .with_members(members)
        .unwrap()
}

fn list_update(
    changes: &[(u32, u32)],
    removes: &[u32],
    adds: &[(UserUri, u32)],
) -> ComponentChange {
    let update = ParticipantListUpdate {
        changed_role_participants: changes
            .iter()
            .map(|(i, r)| UserIndexRolePair {
                user_index: *i,
                role_index: RoleIndex(*r),
            })
            .collect(),
        removed_indices: removes.to_vec(),
        added_participants: adds
            .iter()
            .map(|(u, r)| UserRolePair::new(u.clone(), RoleIndex(*r)))
            .collect(),
    };
    ComponentChange::update(ComponentId::PARTICIPANT_LIST, update.encode())
}

fn run(c: &Case, state: &RoomState) -> Result<(), Denied> {
    let a = actor_user(c.origin);
    let actor = match c.origin.server() {
        Some(d) => Actor::Server(dom(d)),
        None => Actor::Client {
            client: presented_client(c.origin),
            user: a.clone(),
        },
    };
    match c.scenario {
        S::SendMessage => return state.authorize_message(&actor),
        S::ReceiveMessage => return state.may_receive(&a),
        _ => {}
    }
    let idx = |u: &UserUri| state.participants().index_of(u).unwrap() as u32;
    let mut commit = CommitSummary::new(actor);
    let t = target();
    let m = |client: ClientUri, user: &UserUri| MemberChange::new(client, user.clone());
    let t1 = client(FOLLOWER, "t", "1");
    let meta = |f: &dyn Fn(&mut RoomMetadata)| {
        let mut meta = state.metadata().unwrap().clone();
        f(&mut meta);
        ComponentChange::update(ComponentId::ROOM_METADATA, meta.encode())
    };
    match c.scenario {
        S::AddParticipant => {
            commit
                .component_changes
                .push(list_update(&[], &[], &[(newcomer(), 2)]));
            commit
                .added
                .push(m(client(FOLLOWER, "n", "1"), &newcomer()));
        }
        S::RemoveParticipant => {
            commit
                .component_changes
                .push(list_update(&[], &[idx(&t)], &[]));
            commit.removed.push(m(t1, &t));
        }
        S::AddOwnClient => commit.added.push(m(actor_client(c.origin, "2"), &a)),
        S::RemoveOwnClient => commit.removed.push(m(actor_client(c.origin, "2"), &a)),
        S::OpenJoin | S::JoinIfPreauthorized | S::UseJoinCode => {
            commit.external_join = true;
            commit
                .component_changes
                .push(list_update(&[], &[], &[(a.clone(), c.role)]));
            commit.added.push(m(presented_client(c.origin), &a));
            if c.scenario == S::JoinIfPreauthorized {
                commit.actor_claims.push(claim());
            }
            if c.scenario == S::UseJoinCode {
                commit.join_code = Some(CODE_DIGEST.to_vec());
                if let Some(t) = code_terms(c.role) {
                    // The joining commit consumes one of the link's uses.
                    let consume = JoinLinksUpdate {
                        removed_indices: vec![1],
                        added_links: vec![JoinCodeTerms { uses_left: 1, ..t }.to_link()],
                    };
                    commit.component_changes.push(ComponentChange::update(
                        ComponentId::JOIN_LINKS,
                        consume.encode(),
                    ));
                }
            }
        }
        S::RemoveSelf => {
            commit
                .component_changes
                .push(list_update(&[], &[idx(&a)], &[]));
            commit.self_removed.push(m(actor_client(c.origin, "1"), &a));
        }
        S::Ban => {
            commit
                .component_changes
                .push(list_update(&[(idx(&t), 1)], &[], &[]));
            commit.removed.push(m(t1, &t));
        }
        S::UnBan => {
            let b = banned_user();
            commit
                .component_changes
                .push(list_update(&[(idx(&b), 2)], &[], &[]));
        }
        S::Kick => commit.removed.push(m(t1, &t)),
        S::ChangeUserRole => {
            commit
                .component_changes
                .push(list_update(&[(idx(&t), 3)], &[], &[]));
        }
        S::ChangeOwnRole => {
            let p = own_role_target(c.role);
            commit
                .component_changes
                .push(list_update(&[(idx(&a), p)], &[], &[]));
            commit.actor_claims.push(claim());
        }
        S::ChangeRoomName => commit
            .component_changes
            .push(meta(&|m| m.room_name = "Renamed".to_owned())),
        S::ChangeRoomDescription => commit.component_changes.push(meta(&|m| {
            m.room_descriptions.push(RichDescription {
                media_type: String::new(),
                language_tag: "en".to_owned(),
                description_content: b"about".to_vec(),
            })
        })),
        S::ChangeRoomAvatar => commit.component_changes.push(meta(&|m| {
            m.room_avatar = Uri::new("https://hub.example/a.png").unwrap()
        })),
        S::ChangeRoomSubject => commit
            .component_changes
            .push(meta(&|m| m.room_subject = "Topic".to_owned())),
        S::ChangeRoomMood => commit
            .component_changes
            .push(meta(&|m| m.room_mood = "calm".to_owned())),
        S::ChangeRoleDefinitions => {
            let mut roles = state.roles().clone();
            roles.roles[2].role_description = "changed".to_owned();
            commit.component_changes.push(ComponentChange::update(
                ComponentId::ROLES_LIST,
                roles.encode(),
            ));
        }
        S::ChangePreauthorizedUserList => {
            let pre = PreAuthData {
                preauthorized_entries: vec![PreAuthRoleEntry {
                    claimset: vec![Claim::new(CredentialType::BASIC, b"org", b"other")],
                    target_role: Role::new(2, "", ""),
                }],
            };
            commit.component_changes.push(ComponentChange::update(
                ComponentId::PREAUTH_LIST,
                pre.encode(),
            ));
        }
        S::ChangeRoomMembershipStyle => {
            let mut policy = state.base_policy();
            policy.discoverable = !policy.discoverable;
            commit.component_changes.push(ComponentChange::update(
                ComponentId::BASE_ROOM_POLICY,
                policy.encode(),
            ));
        }
        S::ChangeServerPolicy => {
            // Deny a provider nobody in the room is of.
            let policy = ServerPolicy {
                mode: ServerPolicyMode::DenyListed,
                entries: Vec::new(),
            }
            .with_entry(&dom("z.example"), ServerCapabilities::NONE);
            commit.component_changes.push(ComponentChange::update(
                ComponentId::SERVER_POLICY,
                policy.encode(),
            ));
        }
        S::ChangeOtherPolicyAttribute => {
            let status = StatusNotificationPolicy {
                delivery_notifications: Optionality::Optional,
                read_receipts: Optionality::Forbidden,
            };
            commit.component_changes.push(ComponentChange::update(
                ComponentId::STATUS_NOTIFICATION_POLICY,
                status.encode(),
            ));
        }
        S::ChangeMlsOperationalPolicies => {
            // app_components: the list of components in use.
            commit.component_changes.push(ComponentChange::update(
                ComponentId::APP_COMPONENTS,
                vec![0x04, 0x00, 0x22, 0x00, 0x23],
            ));
        }
        S::SendMessage | S::ReceiveMessage => unreachable!(),
    }
    authorize_commit(state, &commit).map(drop)
}

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
}
