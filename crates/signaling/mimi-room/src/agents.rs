//! Bots and logging clients (room-policy-03 `bot_policy`, `logging_policy`): which of them a
//! room admits, with which role, and what a room that requires logging asks before anyone
//! sends. What a client is comes from its credential ([`ClientKind`], `readings.rs`, "Bots and
//! logging clients"); a room without these components treats bots and loggers as any client.

use std::fmt;

use mimi_types::{ClientUri, UserUri};

use crate::components::{Bot, LoggingPolicy, LoggingTargets, RoleIndex};
use crate::denied::Denied;
use crate::state::RoomState;
use crate::summary::ClientKind;

impl RoomState {
    /// Checks every bot and logging client of the (next) group against the room's policy
    /// components, so that a commit can neither add one the room refuses nor change the
    /// policy (or a bot's role) under one already in: a logging client needs a room that does
    /// not forbid logging and, where the policy lists `logging_clients`, to be listed; a bot
    /// needs an `allowed_bots` entry of its name and homepage and, unless that entry is a
    /// `local_client_bot`, its user must hold the entry's `bot_role_index`.
    pub(crate) fn check_agents(&self) -> Result<(), Denied> {
        // `member_kinds` holds bots and logging clients only: a person's device is never in it.
        for (client, kind) in &self.member_kinds {
            let Some(user) = self.members.get(client) else {
                continue;
            };
            // Every kind named: a new one does not compile until it is decided here.
            match kind {
                ClientKind::Bot { name, homepage } => {
                    self.check_bot(client, user, name, homepage)?
                }
                ClientKind::Logger => self.check_logger(client, user)?,
                ClientKind::Person => {}
            }
        }
        Ok(())
    }

    fn check_logger(&self, client: &ClientUri, user: &UserUri) -> Result<(), Denied> {
        match &self.logging_policy {
            None => Ok(()),
            Some(LoggingPolicy::Forbidden) => Err(Denied::LoggingForbidden {
                client: client.clone(),
            }),
            Some(LoggingPolicy::Optional(t) | LoggingPolicy::Required(t)) => {
                if lists_logger(t, client, user) {
                    Ok(())
                } else {
                    Err(Denied::LoggerNotListed {
                        client: client.clone(),
                    })
                }
            }
        }
    }

    fn check_bot(
        &self,
        client: &ClientUri,
        user: &UserUri,
        name: &str,
        homepage: &str,
    ) -> Result<(), Denied> {
        let Some(policy) = &self.bot_policy else {
            return Ok(());
        };
        let entry = allowed_bot(&policy.allowed_bots, name, homepage).ok_or_else(|| {
            Denied::BotNotAllowed {
                client: client.clone(),
                bot: format!("{name:?} <{homepage}>"),
            }
        })?;
        if entry.local_client_bot {
            return Ok(());
        }
        let held = self.role_of(user);
        if held == entry.bot_role_index {
            Ok(())
        } else {
            Err(Denied::BotRole {
                user: user.clone(),
                required: entry.bot_role_index,
                held,
            })
        }
    }

    /// The role a bot's user must be given (the `bot_role_index` of its `allowed_bots` entry),
    /// or `None` where the room has no bot policy, does not allow the bot, or the entry is a
    /// `local_client_bot` (which acts with its user's own role). For the client that adds a
    /// bot: it lists the bot's user with this role.
    pub fn bot_role(&self, kind: &ClientKind) -> Option<RoleIndex> {
        let ClientKind::Bot { name, homepage } = kind else {
            return None;
        };
        let entry = allowed_bot(&self.bot_policy.as_ref()?.allowed_bots, name, homepage)?;
        (!entry.local_client_bot).then_some(entry.bot_role_index)
    }

    /// In a room whose `logging_policy` requires logging: whether one of its listed logging
    /// clients is a member. Until one is, nothing may be sent ([`Denied::LoggerRequired`]):
    /// the sender refuses, the hub refuses the submit, receivers refuse the message.
    pub fn check_required_logger(&self) -> Result<(), Denied> {
        let Some(LoggingPolicy::Required(targets)) = &self.logging_policy else {
            return Ok(());
        };
        let present = self.member_kinds.iter().any(|(client, kind)| {
            *kind == ClientKind::Logger
                && self
                    .members
                    .get(client)
                    .is_some_and(|user| lists_logger(targets, client, user))
        });
        if present {
            Ok(())
        } else {
            Err(Denied::LoggerRequired)
        }
    }
}

/// Whether `logging_clients` names the client, or its user (all of that user's logging
/// clients), octet for octet.
/// (Asked on every send in a room that requires logging: compares without writing the URIs
/// out.)
fn lists_logger(targets: &LoggingTargets, client: &ClientUri, user: &UserUri) -> bool {
    targets
        .logging_clients
        .iter()
        .any(|u| displays_as(client, u.as_str()) || displays_as(user, u.as_str()))
}

/// Whether `value` displays as exactly `expected`, without allocating.
fn displays_as(value: &impl fmt::Display, expected: &str) -> bool {
    /// Consumes `rest` while what is written matches it; fails at the first difference.
    struct Match<'a> {
        rest: &'a str,
    }
    impl fmt::Write for Match<'_> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            match self.rest.strip_prefix(s) {
                Some(rest) => {
                    self.rest = rest;
                    Ok(())
                }
                None => Err(fmt::Error),
            }
        }
    }
    let mut m = Match { rest: expected };
    fmt::write(&mut m, format_args!("{value}")).is_ok() && m.rest.is_empty()
}

/// The first `allowed_bots` entry with this name and homepage (both octet for octet).
fn allowed_bot<'a>(bots: &'a [Bot], name: &str, homepage: &str) -> Option<&'a Bot> {
    bots.iter()
        .find(|b| b.name == name && b.homepage.as_str() == homepage)
}

#[cfg(test)]
mod tests {
    use super::displays_as;

    #[test]
    fn displays_as_matches_exactly() {
        let client: mimi_types::ClientUri = "mimi://a.example/d/lou/1".parse().unwrap();
        assert!(displays_as(&client, "mimi://a.example/d/lou/1"));
        assert!(!displays_as(&client, "mimi://a.example/d/lou/12"));
        assert!(!displays_as(&client, "mimi://a.example/d/lou/"));
        assert!(!displays_as(&client, "mimi://a.example/d/lou/2"));
        assert!(!displays_as(&client, ""));
    }
}
