//! `mimi room`: creating rooms, members and roles, leaving, joining and rejoining, metadata.
//! Wiring of mimi-sdk and presentation only.

use super::args::{RoomCommand, RoomHistoryCommand};
use super::*;

pub(super) async fn room_command(command: RoomCommand) -> anyhow::Result<()> {
    match command {
        RoomCommand::Create(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let preset = preset(&a.preset)?;
            let options = mimi_sdk::RoomOptions {
                grants: policy::grants(preset, &a.grant)?,
                discoverable: a.discoverable,
            };
            d.create_room_with(&r, preset, &options).await?;
            if let Some(name) = &a.name {
                d.rename(&r, name).await?;
            }
            out.done("room created", &r, json!({"preset": a.preset}));
            Ok(())
        }
        RoomCommand::List(a) => {
            let out = a.common.out();
            let d = a.common.open_to_read().await?;
            out.rooms(&d.rooms());
            Ok(())
        }
        RoomCommand::Info(a) => {
            let out = a.common.out();
            let d = a.common.open_to_read().await?;
            let r = room(&d, &a.room)?;
            out.info(d.history(&r)?);
            Ok(())
        }
        RoomCommand::Members(a) => {
            let out = a.common.out();
            let d = a.common.open_to_read().await?;
            let r = room(&d, &a.room)?;
            out.members(d.history(&r)?);
            Ok(())
        }
        RoomCommand::Invite(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let users = users(&d, &a.users)?;
            d.invite(&r, &users).await?;
            out.done("invited", &r, json!({"users": uris(&users)}));
            Ok(())
        }
        RoomCommand::Remove(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let users = users(&d, &a.users)?;
            d.remove(&r, &users).await?;
            out.done("removed", &r, json!({"users": uris(&users)}));
            Ok(())
        }
        RoomCommand::Ban(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let u = user(&d, &a.user)?;
            d.ban(&r, &u).await?;
            out.done("banned", &r, json!({"user": u.to_string()}));
            Ok(())
        }
        RoomCommand::Role(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let u = user(&d, &a.user)?;
            let index = role(&d, &r, &a.role)?;
            d.set_role(&r, &u, index).await?;
            out.done(
                "role changed",
                &r,
                json!({"user": u.to_string(), "role": index.0}),
            );
            Ok(())
        }
        RoomCommand::Leave(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            d.leave(&r).await?;
            out.done(
                "leave proposed (another member's device commits it)",
                &r,
                json!({}),
            );
            Ok(())
        }
        RoomCommand::Destroy(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            if !a.yes && !confirm_destroy(&r)? {
                anyhow::bail!(
                    "{r} was not ended (not confirmed); pass --yes to end it without asking"
                );
            }
            d.destroy_room(&r).await?;
            out.done(
                "room ended for everyone (nothing more can be sent, changed or joined)",
                &r,
                json!({}),
            );
            Ok(())
        }
        RoomCommand::Join(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let (r, code) = if a.link.contains("#join=") {
                mimi_client_core::parse_join_link(&a.link)?
            } else {
                (room(&d, &a.link)?, None)
            };
            d.join_as_newcomer(&r, code.as_deref()).await?;
            out.done("joined", &r, json!({"by_link": code.is_some()}));
            Ok(())
        }
        RoomCommand::Link(a) => links::link_command(a.command).await,
        RoomCommand::Knock(a) => anyhow::bail!(
            "cannot knock on {}: the MIMI drafts define no knock (room-policy-03 only reserves canKnock and canAcceptKnock, and protocol-06 lists knocks as an open issue); ask a member for an invite or an admin for a join link (`mimi room link create`)",
            a.room
        ),
        RoomCommand::Rejoin(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            d.rejoin(&r).await?;
            out.done("rejoined (history kept)", &r, json!({}));
            Ok(())
        }
        RoomCommand::Rename(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            d.rename(&r, &a.name).await?;
            out.done("renamed", &r, json!({"name": a.name}));
            Ok(())
        }
        RoomCommand::Directory(a) => {
            let out = a.common.out();
            let d = a.common.open().await?;
            let found = d.room_directory(a.text.as_deref()).await?;
            out.directory(&found.rooms);
            Ok(())
        }
        RoomCommand::ShareHistory(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let u = user(&d, &a.user)?;
            let sent = d.share_history(&r, &u).await?;
            out.done(
                "history shared",
                &r,
                json!({"user": u.to_string(), "answered": sent}),
            );
            Ok(())
        }
        RoomCommand::History(a) => match a.command {
            RoomHistoryCommand::Request(a) => {
                let out = a.common.out();
                let mut d = a.common.open().await?;
                let r = room(&d, &a.room)?;
                d.request_room_history(&r).await?;
                out.done(
                    "history requested (it arrives once a member's device that may share answers)",
                    &r,
                    json!({}),
                );
                Ok(())
            }
        },
        RoomCommand::Policy(a) => policy::policy_command(a).await,
        RoomCommand::Roles(a) => policy::roles_command(a).await,
        RoomCommand::Preauth(a) => policy::preauth_command(a.command).await,
        RoomCommand::Bots(a) => bots::bots_command(a.command).await,
        RoomCommand::Servers(a) => servers::servers_command(a.command).await,
        RoomCommand::Topic(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            d.set_topic(&r, &a.topic).await?;
            out.done("topic set", &r, json!({"topic": a.topic}));
            Ok(())
        }
    }
}

pub(super) fn role(device: &Device, room: &RoomUri, text: &str) -> anyhow::Result<RoleIndex> {
    if let Ok(n) = text.parse::<u32>() {
        return Ok(RoleIndex(n));
    }
    let view = device.history(room)?;
    view.state()
        .roles()
        .roles
        .iter()
        .find(|r| r.role_name == text)
        .map(|r| r.role_index)
        .ok_or_else(|| {
            let known: Vec<String> = view
                .state()
                .roles()
                .roles
                .iter()
                .map(|r| format!("{} ({})", r.role_name, r.role_index.0))
                .collect();
            anyhow!("no role {text:?} in {room}; roles: {}", known.join(", "))
        })
}

pub(crate) fn preset(text: &str) -> anyhow::Result<Preset> {
    Ok(match text {
        "cooperative" => Preset::Cooperative,
        "strict" | "strictly-administered" => Preset::StrictlyAdministered,
        "moderated" => Preset::Moderated,
        "multi-org" | "multi-organization" => Preset::MultiOrganization,
        other => bail!("unknown preset {other:?}: use cooperative, strict, moderated or multi-org"),
    })
}

/// Asks on the terminal whether to end `room`; anything but `yes` (or no input) is a no.
fn confirm_destroy(room: &RoomUri) -> anyhow::Result<bool> {
    use std::io::Write as _;
    eprint!("End {room} for every member, for good? Nothing can be sent there again. Type yes: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim().eq_ignore_ascii_case("yes"))
}
