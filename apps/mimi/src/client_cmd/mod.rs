//! The client commands (`mimi account|device|room|user|send|reply|react|unreact|edit|delete|
//! send-file|download|typing|contacts|history|listen`): wiring of mimi-sdk and presentation,
//! nothing more.

mod accounts;
mod args;
mod bots;
mod dm;
mod links;
mod output;
mod policy;
mod rooms;
mod servers;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use mimi_content::MessageId;
use mimi_room::components::RoleIndex;
use mimi_sdk::{Credentials, Device, FileInfo, Preset, SetProfile, devices_in};
use mimi_types::{RoomUri, UserUri};
use serde_json::json;

pub(crate) use args::{ClientCommand, Common};
use args::{ContactsCommand, SettingsCommand, Switch, UserCommand};
use output::Out;
pub(crate) use rooms::preset;

/// Runs one client command.
pub(crate) fn run(command: ClientCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(dispatch(command))
}

/// The per-user data directory: `$MIMI_PROFILE`, else `$XDG_DATA_HOME/mimi`, else
/// `~/.local/share/mimi`.
fn default_profile() -> PathBuf {
    if let Some(dir) = std::env::var_os("MIMI_PROFILE") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME") {
        return PathBuf::from(dir).join("mimi");
    }
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home).join(".local/share/mimi");
    }
    PathBuf::from(".mimi")
}

impl Common {
    fn profile_dir(&self) -> PathBuf {
        self.profile.clone().unwrap_or_else(default_profile)
    }

    fn out(&self) -> Out {
        Out { json: self.json }
    }

    /// Opens the profile's device (the one named by `--device` if there are several) and
    /// brings it up to date with its event feed.
    async fn open(&self) -> anyhow::Result<Device> {
        let mut device = self.open_offline().await?;
        catch_up(&mut device).await?;
        Ok(device)
    }

    /// Opens the profile's device without talking to its provider.
    async fn open_offline(&self) -> anyhow::Result<Device> {
        Ok(Device::open(&self.device_file()?).await?)
    }

    /// The file of the profile's device (the one named by `--device` if there are several).
    pub(crate) fn device_file(&self) -> anyhow::Result<PathBuf> {
        let dir = self.profile_dir();
        let files = devices_in(&dir);
        let file = match (&self.device, files.as_slice()) {
            (_, []) => bail!(
                "no device in profile {}: run `mimi account register` or `mimi account login` \
                 first (or pass --profile DIR)",
                dir.display()
            ),
            (None, [one]) => one.clone(),
            (None, many) => bail!(
                "profile {} has {} devices; pick one with --device DEVICE_ID ({})",
                dir.display(),
                many.len(),
                names(many)
            ),
            (Some(name), many) => many
                .iter()
                .find(|f| f.file_stem().is_some_and(|s| s == name.as_str()))
                .cloned()
                .ok_or_else(|| {
                    anyhow!(
                        "no device {name:?} in profile {} ({})",
                        dir.display(),
                        names(many)
                    )
                })?,
        };
        Ok(file)
    }

    /// Like [`Common::open`], but when the provider cannot be reached, says so on standard
    /// error and goes on with what the device has stored (for commands that only read).
    async fn open_to_read(&self) -> anyhow::Result<Device> {
        let mut device = self.open_offline().await?;
        if let Err(e) = catch_up(&mut device).await {
            eprintln!("warning: showing what this device had stored: {e:#}");
        }
        Ok(device)
    }
}

fn names(files: &[PathBuf]) -> String {
    files
        .iter()
        .filter_map(|f| f.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Applies every event waiting in the feed.
async fn catch_up(device: &mut Device) -> anyhow::Result<()> {
    let result = async {
        device.resume().await?;
        for _ in 0..100 {
            if device.sync(0).await? == 0 {
                break;
            }
        }
        Ok::<(), mimi_sdk::SdkError>(())
    }
    .await;
    for notice in device.take_notices() {
        eprintln!("note: {notice}");
    }
    Ok(result?)
}

/// `bob@y.example`, `mimi://y.example/u/bob`, or `bob` (same provider as this device).
fn user(device: &Device, text: &str) -> anyhow::Result<UserUri> {
    let uri = if text.starts_with("mimi://") {
        text.to_owned()
    } else if let Some((id, domain)) = text.split_once('@') {
        format!("mimi://{domain}/u/{id}")
    } else {
        format!("mimi://{}/u/{text}", device.domain())
    };
    // Providers know users by their canonical account names (`ALICE` is `alice`).
    UserUri::parse(&uri)
        .map(|u| u.canonical())
        .map_err(|e| anyhow!("{text:?} is not a user (use user@domain): {e}"))
}

/// A room URI, or the name of one of this device's rooms (else a room on its provider).
/// Each of `texts` as a user URI ([`user`]).
pub(crate) fn users(device: &Device, texts: &[String]) -> anyhow::Result<Vec<UserUri>> {
    texts.iter().map(|u| user(device, u)).collect()
}

fn room(device: &Device, text: &str) -> anyhow::Result<RoomUri> {
    if !text.starts_with("mimi://") {
        let known: Vec<&RoomUri> = device
            .engine()
            .rooms()
            .filter(|r| r.id().as_str() == text)
            .collect();
        match known.as_slice() {
            [one] => return Ok((*one).clone()),
            [] => {}
            many => bail!(
                "{text:?} names several of your rooms: use the URI ({})",
                many.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
    Ok(device.room_uri(text)?)
}

/// A message by its full hex ID or a unique prefix of it (at least 4 hex digits).
fn message(device: &Device, room: &RoomUri, text: &str) -> anyhow::Result<MessageId> {
    let text = text.to_ascii_lowercase();
    if text.len() == 64 {
        let mut id = [0u8; 32];
        for (i, byte) in id.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
                .map_err(|_| anyhow!("{text:?} is not a hex message ID"))?;
        }
        return Ok(MessageId(id));
    }
    if text.len() < 4 || !text.chars().all(|c| c.is_ascii_hexdigit()) {
        bail!("{text:?} is not a message ID: give at least 4 hex digits (see `mimi history`)");
    }
    let view = device.history(room)?;
    let found: Vec<MessageId> = view
        .messages()
        .iter()
        .map(|m| m.id)
        .filter(|id| id.to_string().starts_with(&text))
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => bail!("no message {text} in {room} (see `mimi history {room}`)"),
        _ => bail!("{text} matches several messages in {room}: give more digits"),
    }
}

async fn contacts_command(command: ContactsCommand) -> anyhow::Result<()> {
    match command {
        ContactsCommand::List(a) => {
            let d = a.common.open_offline().await?;
            a.common.out().contacts(&d.contacts().await?, false);
            Ok(())
        }
        ContactsCommand::Requests(a) => {
            let d = a.common.open_offline().await?;
            a.common.out().contacts(&d.contacts().await?, true);
            Ok(())
        }
        ContactsCommand::Accept(a) => {
            let d = a.common.open_offline().await?;
            let u = user(&d, &a.user)?;
            let r = a.room.as_deref().map(|r| room(&d, r)).transpose()?;
            let after = d.accept_contact(&u, r.as_ref()).await?;
            a.common.out().contact_done("accepted", &u, &after);
            Ok(())
        }
        ContactsCommand::Block(a) => {
            let d = a.common.open_offline().await?;
            let u = user(&d, &a.user)?;
            let after = d.block_contact(&u).await?;
            a.common.out().contact_done("blocked", &u, &after);
            Ok(())
        }
        ContactsCommand::Request(a) => {
            let d = a.common.open_offline().await?;
            let u = user(&d, &a.user)?;
            let r = a.room.as_deref().map(|r| room(&d, r)).transpose()?;
            let after = d.request_consent(&u, r.as_ref()).await?;
            a.common.out().contact_done("asked for consent", &u, &after);
            Ok(())
        }
        ContactsCommand::Policy(a) => {
            let d = a.common.open_offline().await?;
            let policy = match (a.policy.as_str(), a.providers.as_deref()) {
                ("default", None) => None,
                ("providers", Some(list)) => Some(format!("providers:{list}")),
                ("providers", None) => {
                    bail!("name the providers: mimi contacts policy providers a.example,b.example")
                }
                (p @ ("anyone" | "contacts"), None) => Some(p.to_owned()),
                (other, _) => bail!(
                    "unknown policy {other:?}: use anyone, contacts, providers a.example,b.example \
                     or default"
                ),
            };
            let after = d.set_contact_policy(policy.as_deref()).await?;
            a.common.out().contacts(&after, false);
            Ok(())
        }
    }
}

async fn dispatch(command: ClientCommand) -> anyhow::Result<()> {
    match command {
        ClientCommand::Account(args) => accounts::account(args.command).await,
        ClientCommand::Device(args) => accounts::device_command(args.command).await,
        ClientCommand::Room(args) => rooms::room_command(args.command).await,
        ClientCommand::Dm(a) => dm::dm_command(a).await,
        ClientCommand::User(args) => user_command(args.command).await,
        ClientCommand::Contacts(args) => contacts_command(args.command).await,
        ClientCommand::Send(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let id = if let Some(topic) = &a.topic {
                d.send_in_topic(&r, topic.as_bytes(), &a.text).await?
            } else if let Some(seconds) = a.expires_in {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let at = u32::try_from(now.saturating_add(seconds)).map_err(|_| {
                    anyhow!("--expires-in {seconds} ends after 2106, past what MIMI content holds")
                })?;
                d.send_expiring(&r, &a.text, at).await?
            } else if a.markdown {
                d.send_markdown(&r, &a.text).await?
            } else {
                d.send_text(&r, &a.text).await?
            };
            out.sent("sent", &r, &id);
            Ok(())
        }
        ClientCommand::Reply(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let to = message(&d, &r, &a.message)?;
            let id = d.reply(&r, to, &a.text).await?;
            out.sent("replied", &r, &id);
            Ok(())
        }
        ClientCommand::React(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let to = message(&d, &r, &a.message)?;
            let id = d.react(&r, to, &a.reaction).await?;
            out.sent("reacted (unreact with this ID)", &r, &id);
            Ok(())
        }
        ClientCommand::Unreact(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let reaction = message(&d, &r, &a.reaction)?;
            let id = d.unreact(&r, reaction).await?;
            out.sent("reaction withdrawn", &r, &id);
            Ok(())
        }
        ClientCommand::Edit(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let target = message(&d, &r, &a.message)?;
            let id = d.edit(&r, target, &a.text).await?;
            out.sent("edited", &r, &id);
            Ok(())
        }
        ClientCommand::Delete(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let target = message(&d, &r, &a.message)?;
            let id = d.delete(&r, target).await?;
            out.sent("deleted", &r, &id);
            Ok(())
        }
        ClientCommand::Report(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let mut ids = Vec::with_capacity(a.messages.len());
            for m in &a.messages {
                ids.push(message(&d, &r, m)?);
            }
            let reported = d.report_abuse(&r, &ids, &a.note).await?;
            out.done(
                &format!(
                    "reported {} message(s) of {reported} to the hub's operators",
                    ids.len()
                ),
                &r,
                json!({"reported": reported.to_string(), "messages": ids.len()}),
            );
            Ok(())
        }
        ClientCommand::SendFile(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let bytes = std::fs::read(&a.file)
                .with_context(|| format!("cannot read {}", a.file.display()))?;
            let info = FileInfo {
                filename: file_name(&a.file),
                content_type: a
                    .content_type
                    .clone()
                    .unwrap_or_else(|| "application/octet-stream".into()),
                description: a.description.clone().unwrap_or_default(),
            };
            let id = d.send_file(&r, &bytes, &info).await?;
            out.sent("file sent", &r, &id);
            Ok(())
        }
        ClientCommand::Download(a) => {
            let out = a.common.out();
            let d = a.common.open_to_read().await?;
            let r = room(&d, &a.room)?;
            let id = message(&d, &r, &a.message)?;
            let attachment = d
                .history(&r)?
                .message(&id)
                .and_then(|m| m.body.attachments.get(a.index))
                .ok_or_else(|| {
                    anyhow!(
                        "message {id} has no attachment {} (see `mimi history {r}`)",
                        a.index
                    )
                })?;
            let path = a
                .output
                .clone()
                .unwrap_or_else(|| PathBuf::from(safe_file_name(&attachment.filename)));
            if path.exists() && !a.force {
                bail!(
                    "{} exists already: pass --force to overwrite it, or --output PATH",
                    path.display()
                );
            }
            let bytes = d.download(&r, id, a.index).await?;
            write_file(&path, &bytes, a.force)?;
            out.done(
                "downloaded",
                &r,
                json!({"file": path.display().to_string(), "bytes": bytes.len()}),
            );
            Ok(())
        }
        ClientCommand::Typing(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            d.typing(&r, !a.stop).await?;
            out.done(
                if a.stop { "stopped typing" } else { "typing" },
                &r,
                json!({}),
            );
            Ok(())
        }
        ClientCommand::History(a) => {
            let out = a.common.out();
            let d = a.common.open_to_read().await?;
            let r = room(&d, &a.room)?;
            out.history(d.history(&r)?, d.user());
            Ok(())
        }
        ClientCommand::Read(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let r = room(&d, &a.room)?;
            let count = d.mark_read(&r).await?;
            let what = if count > 0 {
                "marked read"
            } else if d.read_receipts() {
                "nothing unread"
            } else {
                "read receipts are off: nothing sent"
            };
            out.done(what, &r, json!({"messages": count}));
            Ok(())
        }
        ClientCommand::Settings(a) => {
            let (common, change) = match &a.command {
                SettingsCommand::Show(s) => (&s.common, None),
                SettingsCommand::Receipts(s) => (&s.common, Some((true, s.value == Switch::On))),
                SettingsCommand::DeliveryReports(s) => {
                    (&s.common, Some((false, s.value == Switch::On)))
                }
            };
            let out = common.out();
            let mut d = common.open_offline().await?;
            match change {
                Some((true, on)) => d.set_read_receipts(on).await?,
                Some((false, on)) => d.set_delivery_reports(on).await?,
                None => {}
            }
            out.settings(&d);
            Ok(())
        }
        ClientCommand::Listen(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let deadline = a
                .seconds
                .map(|s| tokio::time::Instant::now() + Duration::from_secs(s));
            out.listening(&d);
            if let Some(since) = &a.since {
                // Everything applied so far is in the views: show what follows `since` from
                // there, not the catch-up events (they would show it twice).
                d.take_events();
                for event in backlog_since(&d, since)? {
                    out.event(&d, &event);
                }
            }
            loop {
                let wait = match deadline {
                    Some(end) => {
                        let left = end.saturating_duration_since(tokio::time::Instant::now());
                        if left.is_zero() {
                            return Ok(());
                        }
                        u64::try_from(left.as_millis())
                            .unwrap_or(25_000)
                            .min(25_000)
                    }
                    None => 25_000,
                };
                for event in d.listen(wait).await? {
                    out.event(&d, &event);
                }
            }
        }
    }
}

/// A name from a message, made safe to use in the current directory (no separators, no
/// leading dots).
fn safe_file_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        "download".into()
    } else {
        cleaned.to_owned()
    }
}

/// Writes `bytes` to `path`; without `force`, fails if the file exists (checked atomically).
fn write_file(path: &Path, bytes: &[u8], force: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut file = options.open(path).with_context(|| {
        if path.exists() && !force {
            format!(
                "{} exists already: pass --force to overwrite it",
                path.display()
            )
        } else {
            format!("cannot write {}", path.display())
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The messages after `since` (a full hex ID or a unique prefix) in the room that holds it, as
/// timeline events in the view's (hub) order.
fn backlog_since(device: &Device, since: &str) -> anyhow::Result<Vec<mimi_sdk::ClientEvent>> {
    let since = since.to_ascii_lowercase();
    for view in device.rooms() {
        let messages = view.messages();
        let found: Vec<usize> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.id.to_string().starts_with(&since))
            .map(|(i, _)| i)
            .collect();
        match found.as_slice() {
            [] => continue,
            [at] => {
                return Ok(messages[at + 1..]
                    .iter()
                    .map(|m| mimi_sdk::ClientEvent::Timeline {
                        room: view.room().clone(),
                        message: m.id,
                    })
                    .collect());
            }
            _ => bail!("{since} matches several messages: give more digits"),
        }
    }
    bail!("no message {since} in your rooms: pass the ID the previous `mimi listen` showed last")
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into())
}

async fn user_command(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Profile(a) => {
            let out = a.common.out();
            let d = a.common.open_offline().await?;
            let view = if a.handle.is_none() && a.display_name.is_none() && a.searchable.is_none() {
                d.profile().await?
            } else {
                let searchable = a.searchable.as_deref().map(|list| {
                    list.split(',')
                        .map(str::trim)
                        .filter(|f| !f.is_empty())
                        .map(str::to_owned)
                        .collect()
                });
                d.set_profile(&SetProfile {
                    handle: a.handle,
                    display_name: a.display_name,
                    searchable,
                })
                .await?
            };
            out.profile(&view);
            Ok(())
        }
        UserCommand::Find(a) => {
            let out = a.common.out();
            let d = a.common.open_offline().await?;
            let found = d.find_users(&a.by, &a.query, a.provider.as_deref()).await?;
            out.found(&found);
            Ok(())
        }
    }
}

fn uris(users: &[UserUri]) -> Vec<String> {
    users.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use clap::Subcommand as _;

    use super::ClientCommand;

    #[test]
    fn the_command_line_is_well_formed() {
        ClientCommand::augment_subcommands(clap::Command::new("mimi")).debug_assert();
    }
}
