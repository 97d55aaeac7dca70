//! `mimi room bots list|add|remove|clear`: the bots a room admits (its `bot_policy`). Wiring of
//! mimi-sdk and presentation only; mimi-room decides who may change the list
//! (`canChangeOtherPolicyAttribute`) and which bots a room takes.

use clap::{Args, Subcommand};
use mimi_sdk::BotEntry;

use super::args::{Common, RoomOnly};
use super::rooms::role;
use super::*;

/// `room bots`.
#[derive(Debug, Args)]
pub(crate) struct BotsArgs {
    #[command(subcommand)]
    pub(crate) command: BotsCommand,
}

/// The room's allowed bots: a bot device (`mimi account register --bot NAME --homepage URI`)
/// gets in only if listed here by that name and homepage, with the listed role.
#[derive(Debug, Subcommand)]
pub(crate) enum BotsCommand {
    /// List the allowed bots ("any" where the room has no bot policy).
    List(RoomOnly),
    /// Allow a bot.
    Add(BotAddArgs),
    /// Stop allowing a bot (refused while that bot is in the room).
    Remove(BotRemoveArgs),
    /// Remove the room's bot policy altogether: any bot may then be added, as any client is
    /// (unlike removing the last entry, which leaves a list that admits no bot).
    Clear(RoomOnly),
}

/// `room bots add`.
#[derive(Debug, Args)]
pub(crate) struct BotAddArgs {
    /// The room.
    pub(crate) room: String,
    /// The bot's name, as its device was registered.
    pub(crate) name: String,
    /// The bot's homepage URI, as its device was registered.
    pub(crate) homepage: String,
    /// The role the bot's user gets (name or index).
    #[arg(long)]
    pub(crate) role: String,
    /// What the bot does.
    #[arg(long, default_value = "")]
    pub(crate) description: String,
    /// The bot runs as a device of a member, with that member's role.
    #[arg(long)]
    pub(crate) local: bool,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// `room bots remove`.
#[derive(Debug, Args)]
pub(crate) struct BotRemoveArgs {
    /// The room.
    pub(crate) room: String,
    /// The bot's name.
    pub(crate) name: String,
    #[command(flatten)]
    pub(crate) common: Common,
}

pub(super) async fn bots_command(command: BotsCommand) -> anyhow::Result<()> {
    match command {
        BotsCommand::List(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let bots = d.allowed_bots(&r)?;
            let lines: Vec<String> = match &bots {
                None => vec!["any (the room has no bot policy)".into()],
                Some(list) => list
                    .iter()
                    .map(|b| {
                        format!(
                            "{} <{}> role {}{}",
                            b.name,
                            b.homepage,
                            b.bot_role_index.0,
                            if b.local_client_bot { " (local)" } else { "" }
                        )
                    })
                    .collect(),
            };
            let value = match &bots {
                None => json!("any"),
                Some(list) => json!(
                    list.iter()
                        .map(|b| json!({
                            "name": b.name,
                            "homepage": b.homepage.as_str(),
                            "role": b.bot_role_index.0,
                            "local": b.local_client_bot,
                        }))
                        .collect::<Vec<_>>()
                ),
            };
            out.listing("bots", &r, value, &lines);
            Ok(())
        }
        BotsCommand::Add(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let index = role(&d, &r, &a.role)?;
            let entry = BotEntry {
                name: a.name.clone(),
                homepage: a.homepage.clone(),
                description: a.description.clone(),
                role: index,
                local: a.local,
            };
            d.allow_bot(&r, &entry).await?;
            out.done("bot allowed", &r, json!({"name": a.name, "role": index.0}));
            Ok(())
        }
        BotsCommand::Remove(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            d.disallow_bot(&r, &a.name).await?;
            out.done("bot removed", &r, json!({"name": a.name}));
            Ok(())
        }
        BotsCommand::Clear(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            d.clear_bots(&r).await?;
            out.done(
                "bot policy removed (any bot may be added)",
                &r,
                json!({"bots": "any"}),
            );
            Ok(())
        }
    }
}
