//! The independent tables: the presets' enforceable capabilities (hub, committer and the content
//! ones every client checks), role changes and constraints restated by hand, and the test that
//! they match the presets.

use crate::common::*;

// ---- the independent tables -------------------------------------------------------------------
//
// `index name | capabilities | role changes (from>to,to) | min max min_active max_active`
// Capability abbreviations: see `cap()`. ENF = the policy enforcer's set.

pub(crate) const ENF: &str = "rmp kick cur ban unban roles preauth mls destroy";

pub(crate) const COOPERATIVE: &str = "
0 no_role | | | 0 - 0 0
1 banned | | | 0 - 0 0
2 ordinary_user | add rmp aoc roc self send recv name avatar subject mood topic rit link preview dimg daud dvid datt | 0>2 2>0 | 0 - 0 -
3 group_admin | add rmp aoc roc self send recv name avatar subject mood ban unban kick cur desc topic rit link preview dimg daud dvid datt | 0>1,2,3 1>0,2,3 2>0,1,3 3>0,1,2 | 1 - 0 -
4 super_admin | add rmp aoc roc self send recv name avatar subject mood ban unban kick cur desc style preauth destroy topic rit link preview dimg daud dvid datt | 0>1,2,3,4 1>0,2,3,4 2>0,1,3,4 3>0,1,2,4 4>0,1,2,3 | 0 - 0 -
5 policy_enforcer | ENF | 0>1 1>0 2>0,1 3>0,1 4>0,1 | 1 2 0 0
";

pub(crate) const STRICT: &str = "
0 no_role | code | 0>2 | 0 - 0 0
1 banned | | | 0 - 0 0
2 ordinary_user | aoc pre roc self cor send recv topic rit link preview dimg daud dvid datt | 0>2 2>0 | 0 - 0 -
3 group_admin | aoc pre roc self cor send recv add rmp ban unban kick cur desc name avatar subject mood topic rit link preview dimg daud dvid datt | 0>1,2,3 1>0,2,3 2>0,1,3 3>0,1,2 | 1 - 0 -
4 super_admin | aoc pre roc self cor send recv add rmp ban unban kick cur desc name avatar subject mood style roles preauth destroy topic rit link preview dimg daud dvid datt | 0>1,2,3,4 1>0,2,3,4 2>0,1,3,4 3>0,1,2,4 4>0,1,2,3 | 0 - 0 -
5 policy_enforcer | ENF | 0>1 1>0 2>0,1 3>0,1 4>0,1 | 1 2 0 0
";

pub(crate) const MODERATED: &str = "
0 no_role | code | 0>2,3 | 0 - 0 -
1 banned | | | 0 - 0 0
2 guest | self recv dimg daud dvid | 0>2 2>0 | 0 - 0 -
3 attendee | self recv aoc pre roc cor dimg daud dvid rit datt | 0>3 3>0 | 0 - 0 -
4 speaker | self recv aoc pre roc cor send topic rit link preview dimg daud dvid datt | 0>4 4>0 | 0 - 0 -
5 moderator | self recv aoc pre roc cor send add rmp ban unban kick cur name avatar subject mood topic rit link preview dimg daud dvid datt | 0>1,2,3,4,5 1>0,2,3,4,5 2>0,1,3,4,5 3>0,1,2,4,5 4>0,1,2,3,5 5>0,1,2,3,4 | 1 - 0 -
6 super_admin | self recv aoc pre roc cor send add rmp ban unban kick cur name avatar subject mood desc style roles preauth destroy topic rit link preview dimg daud dvid datt | 0>1,2,3,4,5,6 1>0,2,3,4,5,6 2>0,1,3,4,5,6 3>0,1,2,4,5,6 4>0,1,2,3,5,6 5>0,1,2,3,4,6 6>0,1,2,3,4,5 | 0 - 0 -
7 policy_enforcer | ENF | 0>1 1>0 2>0,1 3>0,1 4>0,1 5>0,1 6>0,1 | 1 2 0 0
";

pub(crate) const MULTI_ORG: &str = "
0 no_role | | | 0 - 0 0
1 banned | | | 0 - 0 0
2 org_a_user | self aoc roc send recv cor pre rit link preview dimg daud dvid datt | 0>2 2>0 | 0 - 0 -
3 org_b_user | self aoc roc send recv rit link preview dimg daud dvid datt | 0>3 3>0 | 0 - 0 -
4 org_c_user | self aoc roc send recv rit link preview dimg daud dvid datt | 0>4 4>0 | 0 - 0 -
5 org_a_admin | self aoc roc send recv add rmp ban kick cur cor pre topic rit link preview dimg daud dvid datt | 0>2,5 2>0,1,5 5>0,1,2 | 0 - 0 -
6 org_b_admin | self aoc roc send recv add rmp ban kick cur topic rit link preview dimg daud dvid datt | 0>3,6 3>0,1,6 6>0,1,3 | 1 3 1 -
7 org_c_admin | self aoc roc send recv add rmp ban kick cur topic rit link preview dimg daud dvid datt | 0>4,7 4>0,1,7 7>0,1,4 | 1 3 1 -
8 super_admin | self aoc roc send recv add rmp ban kick cur cor pre unban desc name avatar subject mood style roles preauth destroy topic rit link preview dimg daud dvid datt | 0>1,2,3,4,5,6,7,8 1>0,2,3,4,5,6,7,8 2>0,1,5,8 3>0,1,6 4>0,1,7 5>0,1,2,8 6>0,1,3 7>0,1,4 8>0,1,2,5 | 1 - 1 -
9 policy_enforcer | ENF | 0>1 1>0 3>0,1 4>0,1 5>0,1 6>0,1 7>0,1 8>0,1 | 1 2 0 0
";

/// (table, creator role, enforcer role) per preset.
pub(crate) fn table_of(preset: Preset) -> (&'static str, u32, u32) {
    match preset {
        Preset::Cooperative => (COOPERATIVE, 4, 5),
        Preset::StrictlyAdministered => (STRICT, 4, 5),
        Preset::Moderated => (MODERATED, 6, 7),
        Preset::MultiOrganization => (MULTI_ORG, 8, 9),
        _ => unreachable!(),
    }
}

pub(crate) fn cap(abbrev: &str) -> Capability {
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
        "destroy" => Capability::CAN_DESTROY_ROOM,
        "send" => Capability::CAN_SEND_MESSAGE,
        "recv" => Capability::CAN_RECEIVE_MESSAGE,
        "topic" => Capability::CAN_START_TOPIC,
        "rit" => Capability::CAN_REPLY_IN_TOPIC,
        "link" => Capability::CAN_SEND_LINK,
        "preview" => Capability::CAN_SEND_LINK_PREVIEW,
        "dimg" => Capability::CAN_DOWNLOAD_IMAGE,
        "daud" => Capability::CAN_DOWNLOAD_AUDIO,
        "dvid" => Capability::CAN_DOWNLOAD_VIDEO,
        "datt" => Capability::CAN_DOWNLOAD_ATTACHMENT,
        other => panic!("unknown abbreviation {other}"),
    }
}

/// The capabilities the tables track: those the hub (or the committing client) enforces, and
/// the content ones every client enforces on what a message carries.
pub(crate) const ENFORCEABLE: &[&str] = &[
    "add", "rmp", "aoc", "roc", "open", "pre", "self", "code", "ban", "unban", "kick", "cur",
    "cor", "name", "desc", "avatar", "subject", "mood", "roles", "preauth", "style", "other",
    "mls", "destroy", "send", "recv", "topic", "rit", "link", "preview", "dimg", "daud", "dvid",
    "datt",
];

#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) name: String,
    pub(crate) caps: BTreeSet<&'static str>,
    pub(crate) arcs: BTreeMap<u32, BTreeSet<u32>>,
    pub(crate) min: u32,
    pub(crate) max: Option<u32>,
    pub(crate) amin: u32,
    pub(crate) amax: Option<u32>,
}

pub(crate) fn parse_table(text: &'static str) -> BTreeMap<u32, Row> {
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
pub(crate) fn the_tables_restate_the_presets() {
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
