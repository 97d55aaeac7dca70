//! The oracle: a model of the room built only from the tables, and its answer for a case. It
//! never calls the authorizer.

use crate::common::*;
use crate::scenarios::*;
use crate::tables::*;

// ---- the oracle's model -----------------------------------------------------------------------

#[derive(Clone, Debug)]
pub(crate) struct Member {
    pub(crate) user: UserUri,
    pub(crate) role: u32, // 0 = unlisted
    pub(crate) clients: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct Model {
    pub(crate) table: BTreeMap<u32, Row>,
    pub(crate) members: Vec<Member>,
    pub(crate) max_users: Option<u32>,
    pub(crate) max_clients: Option<u32>,
}

impl Model {
    pub(crate) fn has(&self, role: u32, c: &str) -> bool {
        self.table.get(&role).is_some_and(|r| r.caps.contains(c))
    }
    pub(crate) fn arc(&self, role: u32, from: u32, to: u32) -> bool {
        self.table
            .get(&role)
            .and_then(|r| r.arcs.get(&from))
            .is_some_and(|t| t.contains(&to))
    }
    pub(crate) fn member_mut(&mut self, u: &UserUri) -> &mut Member {
        if !self.members.iter().any(|m| &m.user == u) {
            self.members.push(Member {
                user: u.clone(),
                role: 0,
                clients: 0,
            });
        }
        self.members.iter_mut().find(|m| &m.user == u).unwrap()
    }
    pub(crate) fn users(&self) -> u32 {
        self.members
            .iter()
            .filter(|m| m.role != 0 && m.role != 1)
            .count() as u32
    }
    pub(crate) fn clients(&self) -> u32 {
        self.members.iter().map(|m| m.clients).sum()
    }
    pub(crate) fn count(&self, role: u32) -> (u32, u32) {
        let listed = self.members.iter().filter(|m| m.role == role && role != 0);
        let all = listed.clone().count() as u32;
        let active = listed.filter(|m| m.clients > 0).count() as u32;
        (all, active)
    }
}

pub(crate) fn missing(c: &str, role: u32) -> Denied {
    Denied::MissingCapability {
        capability: cap(c),
        role: RoleIndex(role),
    }
}
pub(crate) fn rcna(from: u32, to: u32) -> Denied {
    Denied::RoleChangeNotAuthorized {
        from: RoleIndex(from),
        to: RoleIndex(to),
    }
}

/// The limit checks, in the documented order, on the model before and after.
pub(crate) fn oracle_limits(before: &Model, after: &Model) -> Result<(), Denied> {
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

/// Builds the model of the room for a case (before the commit).
pub(crate) fn model_for(c: &Case) -> Model {
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
pub(crate) fn oracle(c: &Case) -> Option<Result<(), Denied>> {
    let r = c.role;
    if r == 0 && (c.scenario.is_join() || matches!(c.scenario, S::RemoveSelf | S::ChangeOwnRole)) {
        return None;
    }
    let before = model_for(c);
    let a = actor_user(c.origin);

    // Messages are not commits. Receiving and what a message carries are judged on the
    // acting user alone, whoever presents it.
    if c.scenario.is_user_act() {
        let cap = c.scenario.capability();
        return Some(match r {
            0 => Err(Denied::NotParticipant { user: a }),
            1 => Err(Denied::UserBanned { user: a }),
            _ if before.has(r, cap) => Ok(()),
            _ => Err(missing(cap, r)),
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
        // Ending the room (`room_ended`, ours) in the acting user's own name.
        S::DestroyRoom => room_cap("destroy"),
        S::SendMessage => unreachable!(),
        s => unreachable!("{s:?} is judged without a commit"),
    };
    Some(result.and_then(|()| oracle_limits(&before, &after)))
}
