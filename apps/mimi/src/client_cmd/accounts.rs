//! `mimi account` and `mimi device`: registering, logging in and out, re-issuing and adding
//! devices, listing and removing them. Wiring of mimi-sdk and presentation only.

use mimi_sdk::DeviceKind;

use super::args::{AccountCommand, DeviceCommand, Login};
use super::*;

/// A bot (`--bot NAME --homepage URI`) or a logging client (`--logger`); else a person's.
fn device_kind(a: &Login) -> Option<DeviceKind> {
    match (&a.bot, &a.homepage) {
        (Some(name), Some(homepage)) => Some(DeviceKind::Bot {
            name: name.clone(),
            homepage: homepage.clone(),
        }),
        _ if a.logger => Some(DeviceKind::Logger),
        _ => None,
    }
}

pub(super) async fn account(command: AccountCommand) -> anyhow::Result<()> {
    match command {
        AccountCommand::Register(a) => {
            let password = password(a.password.as_ref())?;
            let cert = server_cert(a.server_cert.as_ref())?;
            let user =
                Device::register_account_pinned(&a.server, cert.as_deref(), &a.user, &password)
                    .await?;
            let kind = device_kind(&a);
            let device = Device::register_device_as(
                &a.common.profile_dir(),
                &Credentials {
                    server: a.server.clone(),
                    user_id: a.user.clone(),
                    password,
                    device_id: a.device_id.clone(),
                    server_cert: cert,
                },
                kind,
            )
            .await?;
            a.common
                .out()
                .registered("account registered", &user, &device);
            Ok(())
        }
        AccountCommand::Login(a) => {
            let password = password(a.password.as_ref())?;
            let device = Device::register_device_as(
                &a.common.profile_dir(),
                &Credentials {
                    server: a.server.clone(),
                    user_id: a.user.clone(),
                    password,
                    device_id: a.device_id.clone(),
                    server_cert: server_cert(a.server_cert.as_ref())?,
                },
                device_kind(&a),
            )
            .await?;
            let user = device.user().clone();
            a.common.out().registered("device added", &user, &device);
            Ok(())
        }
        AccountCommand::Logout(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let left = d.logout().await?;
            let rooms: Vec<String> = left.iter().map(ToString::to_string).collect();
            if out.json {
                println!(
                    "{}",
                    json!({"ok": "logged out", "client": d.client_uri().to_string(), "left": rooms})
                );
            } else {
                println!(
                    "{} logged out: its token is revoked; it proposed leaving {} room(s) \
                     (another member's device commits it)",
                    d.client_uri(),
                    rooms.len()
                );
            }
            Ok(())
        }
    }
}

pub(super) async fn device_command(command: DeviceCommand) -> anyhow::Result<()> {
    match command {
        DeviceCommand::Reissue(a) => {
            let out = a.common.out();
            let reissued = Device::reissue(&a.common.device_file()?).await?;
            let device = &reissued.device;
            out.registered("credential re-issued", &device.user().clone(), device);
            let rooms: Vec<String> = reissued.rooms.iter().map(ToString::to_string).collect();
            if out.json {
                println!(
                    "{}",
                    json!({"ok": "old rooms", "rooms": rooms, "old_file": reissued.old_file.display().to_string()})
                );
            } else {
                println!(
                    "the old device file is kept at {}",
                    reissued.old_file.display()
                );
                if !rooms.is_empty() {
                    println!(
                        "rooms of the old credential (recreate them, or ask a member to invite you \
                         again): {}",
                        rooms.join(", ")
                    );
                }
            }
            Ok(())
        }
        DeviceCommand::List(a) => {
            let out = a.common.out();
            let d = a.common.open().await?;
            let list = d.devices().await?;
            for dev in &list.devices {
                if out.json {
                    println!(
                        "{}",
                        json!({"client": dev.client, "current": dev.current, "rooms": dev.rooms})
                    );
                } else {
                    let mark = if dev.current { " (this device)" } else { "" };
                    println!("{}{mark}: {} room(s)", dev.client, dev.rooms.len());
                }
            }
            Ok(())
        }
        DeviceCommand::Remove(a) => {
            let out = a.common.out();
            let mut d = a.common.open().await?;
            let removed = d.remove_device(&a.device_id).await?;
            let rooms: Vec<String> = removed.rooms.iter().map(ToString::to_string).collect();
            if out.json {
                println!(
                    "{}",
                    json!({
                        "ok": "device removed",
                        "client": removed.client.to_string(),
                        "rooms": rooms,
                        "not_removed": removed.not_removed.iter().map(|(r, why)| json!({"room": r.to_string(), "why": why})).collect::<Vec<_>>(),
                        "key_packages_deleted": removed.key_packages_deleted,
                        "hub_removals": removed.hub_removals.iter().map(ToString::to_string).collect::<Vec<_>>(),
                    })
                );
            } else {
                println!(
                    "{} removed from {} room(s); its token is revoked and {} KeyPackage(s) deleted",
                    removed.client,
                    rooms.len(),
                    removed.key_packages_deleted
                );
                for room in &removed.hub_removals {
                    println!(
                        "  {room}: the room's hub (your provider) proposed its removal; \
                         the members' next commit takes it out"
                    );
                }
                for (room, why) in &removed.not_removed {
                    println!("  still in {room} (a member must remove it): {why}");
                }
            }
            Ok(())
        }
        DeviceCommand::Add(a) => {
            let out = a.common.out();
            let existing = a.common.open().await?;
            let password = password(a.password.as_ref())?;
            let rooms: Vec<RoomUri> = existing
                .rooms()
                .iter()
                .filter(|v| v.is_active())
                .map(|v| v.room().clone())
                .collect();
            let user_id = existing
                .user()
                .to_string()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned();
            let server = existing.server().to_owned();
            let pinned = existing.server_cert().map(str::to_owned);
            let existing_file = existing.path().to_owned();
            existing.close().await;
            let mut device = Device::register_device(
                &a.common.profile_dir(),
                &Credentials {
                    server,
                    user_id,
                    password,
                    device_id: a.new_device_id.clone(),
                    server_cert: pinned,
                },
            )
            .await?;
            let user = device.user().clone();
            out.registered("device added", &user, &device);
            let mut failed = Vec::new();
            for r in &rooms {
                match device.join_external(r).await {
                    Ok(()) => out.done("joined", r, json!({})),
                    Err(e) => {
                        eprintln!("error: {r}: the new device could not join: {e}");
                        failed.push(r.to_string());
                    }
                }
            }
            history(&out, &existing_file, &mut device).await;
            if !failed.is_empty() {
                bail!(
                    "the device was added but did not join {} room(s) ({}); retry each with \
                     `mimi room join ROOM --device {}`",
                    failed.len(),
                    failed.join(", "),
                    a.new_device_id
                );
            }
            Ok(())
        }
    }
}

/// History for the new device: it asks its siblings; the existing device of this profile
/// answers at once (others when they next sync); the new device imports what arrived. Reports
/// `history: K of N rooms received`. A failure is a warning: the device is added.
async fn history(out: &Out, existing_file: &Path, device: &mut Device) {
    let result = async {
        let asked = device.request_history().await?;
        let mut existing = Device::open(existing_file).await?;
        existing.resume().await?;
        while existing.sync(0).await? > 0 {}
        existing.exchange_history().await?;
        existing.close().await;
        let got = device.exchange_history().await?;
        anyhow::Ok((asked, got))
    }
    .await;
    let (asked, got) = match result {
        Ok(done) => done,
        Err(e) => {
            eprintln!("warning: the new device got no history from this profile's device: {e:#}");
            return;
        }
    };
    let total = asked.rooms.len();
    let received = got.imported.len();
    let messages: usize = got
        .imported
        .iter()
        .filter_map(|i| device.engine().room(&i.room))
        .map(|v| v.imported_messages())
        .sum();
    let answered = got.rooms_answered();
    if out.json {
        let not_shared: Vec<_> = got
            .not_shared
            .iter()
            .map(|(room, why)| json!({"room": room.to_string(), "reason": why}))
            .collect();
        println!(
            "{}",
            json!({"ok": "history", "rooms": total, "received": received,
                   "messages": messages, "not_shared": not_shared,
                   "waiting": total.saturating_sub(answered.len())})
        );
    } else {
        println!("history: {received} of {total} rooms received ({messages} messages)");
        for (room, why) in &got.not_shared {
            println!("  {room}: not shared: {why}");
        }
        for room in asked.rooms.iter().filter(|r| !answered.contains(*r)) {
            println!("  {room}: waiting for another of your devices to answer");
        }
    }
    for (from, why) in &got.refused {
        eprintln!("warning: a history item from {from} was refused: {why}");
    }
}

pub(super) fn password(given: Option<&String>) -> anyhow::Result<String> {
    if let Some(p) = given {
        return Ok(p.clone());
    }
    if let Ok(p) = std::env::var("MIMI_PASSWORD") {
        return Ok(p);
    }
    eprint!("password: ");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("cannot read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// The certificate `--server-cert` names, read.
pub(super) fn server_cert(path: Option<&PathBuf>) -> anyhow::Result<Option<String>> {
    path.map(|p| {
        std::fs::read_to_string(p)
            .with_context(|| format!("reading the server certificate {}", p.display()))
    })
    .transpose()
}
