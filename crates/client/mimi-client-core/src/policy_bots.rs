//! The bots a room admits (`bot_policy`'s `allowed_bots`; `mimi room bots
//! add|list|remove|clear`), each change one commit that needs `canChangeOtherPolicyAttribute`
//! (checked here by the room's authorization first, then by the hub and every member).
//! Removing the last entry leaves an empty list, which admits no bot; clearing removes the
//! component, and a room without it admits any bot as any client
//! (`mimi_room::readings`, "Bots and logging clients").

use mimi_room::ComponentChange;
use mimi_room::components::{Bot, BotPolicy, Component, RoleIndex, Uri};
use mimi_types::RoomUri;
use mimi_types::codepoints::ComponentId;

use crate::client::Client;
use crate::error::ClientError;
use crate::outgoing::OpId;

/// A bot to allow: what `allowed_bots` lists about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BotEntry {
    /// The name its credential gives.
    pub name: String,
    /// The homepage its credential gives.
    pub homepage: String,
    /// What it does (shown, not checked).
    pub description: String,
    /// The role its user holds (`bot_role_index`).
    pub role: RoleIndex,
    /// A bot that runs as a client of a participant, with that user's role.
    pub local: bool,
}

impl Client {
    /// The bots the room admits, in order; `None` where the room has no bot policy (any bot
    /// may be added as any client).
    pub fn allowed_bots(&mut self, room: &RoomUri) -> Result<Option<Vec<Bot>>, ClientError> {
        let r = self.active_room(room)?;
        Ok(r.group.room().bot_policy().map(|p| p.allowed_bots.clone()))
    }

    /// Admits a bot (adds its `allowed_bots` entry; one entry per name).
    pub fn allow_bot(
        &mut self,
        now: u64,
        room: &RoomUri,
        entry: &BotEntry,
    ) -> Result<OpId, ClientError> {
        let homepage = Uri::new(entry.homepage.as_str()).map_err(|e| {
            ClientError::misuse(format!("{:?} is not a homepage URI: {e}", entry.homepage))
        })?;
        if entry.name.is_empty() {
            return Err(ClientError::misuse("a bot needs a name"));
        }
        let mut policy = {
            let r = self.active_room(room)?;
            let state = r.group.room();
            if state.roles().role(entry.role).is_none() {
                return Err(ClientError::misuse(format!(
                    "{room} defines no role {}",
                    entry.role
                )));
            }
            state.bot_policy().cloned().unwrap_or_default()
        };
        if policy.allowed_bots.iter().any(|b| b.name == entry.name) {
            return Err(ClientError::misuse(format!(
                "{room} allows a bot named {:?} already; remove it first",
                entry.name
            )));
        }
        policy.allowed_bots.push(Bot {
            name: entry.name.clone(),
            description: entry.description.clone(),
            homepage,
            local_client_bot: entry.local,
            bot_role_index: entry.role,
            can_target_message_in_group: false,
            per_user_content: false,
        });
        self.replace_bots(now, room, &policy)
    }

    /// Stops admitting the bot named `name` (a member that is that bot must be removed in the
    /// same change, so this is refused while one is in the room).
    pub fn disallow_bot(
        &mut self,
        now: u64,
        room: &RoomUri,
        name: &str,
    ) -> Result<OpId, ClientError> {
        let mut policy = {
            let r = self.active_room(room)?;
            r.group.room().bot_policy().cloned().unwrap_or_default()
        };
        let before = policy.allowed_bots.len();
        policy.allowed_bots.retain(|b| b.name != name);
        if policy.allowed_bots.len() == before {
            return Err(ClientError::misuse(format!(
                "{room} allows no bot named {name:?}"
            )));
        }
        self.replace_bots(now, room, &policy)
    }

    /// Removes the room's bot policy altogether: from then on a bot joins as any client would,
    /// with whatever role its adder gives it (`mimi_room::readings`, "Bots and logging
    /// clients"). Refused where the room has no bot policy.
    pub fn clear_bots(&mut self, now: u64, room: &RoomUri) -> Result<OpId, ClientError> {
        if self.active_room(room)?.group.room().bot_policy().is_none() {
            return Err(ClientError::misuse(format!(
                "{room} has no bot policy to clear (it admits any bot already)"
            )));
        }
        let change = ComponentChange::remove(ComponentId::BOT_POLICY);
        self.commit(now, room, &[change], &[], &[])
    }

    fn replace_bots(
        &mut self,
        now: u64,
        room: &RoomUri,
        policy: &BotPolicy,
    ) -> Result<OpId, ClientError> {
        let change = ComponentChange::update(ComponentId::BOT_POLICY, policy.encode());
        self.commit(now, room, &[change], &[], &[])
    }
}
